# The reporting cycle (SPEC §7) with the real collector, agents and glci:
# future periods, retractions through agents and by operators, missing,
# editions and --as-of. Uses the system harness (tests/support).
if(NOT TARGET glci_checker)
  if(NOT TARGET glci_testsupport)
    add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
    target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  endif()
  add_library(glci_checker STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_checker.c)
  target_include_directories(glci_checker PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(glci_checker PUBLIC glci_testsupport glci_store glci_outbox glci_index glci_common
                        PkgConfig::CMOCKA)
endif()
glci_add_test(test_cycle integration
  SOURCES integration/test_cycle.c
  LIBS glci_checker PkgConfig::JANSSON
  TIMEOUT 600)
add_dependencies(test_cycle glci glci-agent glci-collector)
