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
