# Hostile input (issue 20) at the shared layers: text hygiene, CSV output,
# configuration and key files, number and time edges, wire strings.
glci_add_test(test_hostile_input unit SOURCES unit/test_hostile_input.c
  LIBS glci_wire glci_obs glci_output glci_common)

# The spool folder against its own users: swapped done/ and failed/, error
# floods, paused writers without leases, files that stop the agent, odd names.
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
glci_add_test(test_hostile_spool unit SOURCES unit/test_hostile_spool.c
  LIBS glci_agent_core glci_testsupport)

# The store against a city that floods it with rejected rows: the rejects log
# is bounded per city and counts what it dropped.
glci_add_test(test_store_bounds unit SOURCES unit/test_store_bounds.c
  LIBS glci_store glci_index glci_common)
target_compile_definitions(test_store_bounds PRIVATE GLCI_FRAMEWORK_FILE="${GLCI_FRAMEWORK_FILE}")
