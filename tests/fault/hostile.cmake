# The real agent against a hostile or careless spool folder (issue 20).
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
if(NOT TARGET glci_checker)
  add_library(glci_checker STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_checker.c)
  target_include_directories(glci_checker PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(glci_checker PUBLIC glci_testsupport glci_store glci_outbox glci_index
                        glci_common PkgConfig::CMOCKA)
endif()
glci_add_test(test_agent_hostile_spool fault
  SOURCES fault/test_agent_hostile_spool.c
  LIBS glci_checker
  TIMEOUT 900)
add_dependencies(test_agent_hostile_spool glci glci-agent glci-collector)

# One authenticated city flooding the real collector: another city's acks,
# the rejects log, memory after, message budgets, repeated refusals, log
# injection through a claimed city id. The flood driver is shared with
# glci-bench flood, which measures the figures.
if(NOT TARGET glci_flood)
  add_library(glci_flood STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_flood.c)
  target_include_directories(glci_flood PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(glci_flood PUBLIC glci_wire PkgConfig::ZMQ)
endif()
glci_add_test(test_collector_flood fault
  SOURCES fault/test_collector_flood.c
  LIBS glci_checker glci_flood glci_wire
  TIMEOUT 900)
add_dependencies(test_collector_flood glci glci-collector)
