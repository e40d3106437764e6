# The agent's fault tests: real glci-agent and glci-collector processes on
# loopback over CURVE, killed and stopped at the moments that matter.
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
glci_add_test(test_agent_faults fault
  SOURCES fault/test_agent_faults.c
  LIBS glci_testsupport glci_store glci_index glci_common
  TIMEOUT 900)
add_dependencies(test_agent_faults glci-agent glci-collector)
