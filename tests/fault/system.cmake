# System-level fault tests: a collector and several agents on loopback over
# CURVE, killed, stopped, starved of map space and backed up under load;
# each ends with the exactly-once checker (tests/support/glci_checker.c)
# and `glci verify`. The checker library is shared with the end-to-end
# suite (tests/integration/e2e.cmake).
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
if(NOT TARGET glci_checker)
  add_library(glci_checker STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_checker.c)
  target_include_directories(glci_checker PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(glci_checker PUBLIC glci_testsupport glci_store glci_outbox glci_index glci_common
                        PkgConfig::CMOCKA)
endif()

file(GLOB GLCI_SYSTEM_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fault/test_system_*.c)
foreach(src ${GLCI_SYSTEM_TESTS})
  get_filename_component(t ${src} NAME_WE)
  glci_add_test(${t} fault
    SOURCES fault/${t}.c
    LIBS glci_checker
    TIMEOUT 600)
  add_dependencies(${t} glci glci-agent glci-collector)
endforeach()
# Where user namespaces cannot be made, reported as skipped, never passed.
set_tests_properties(test_system_unwatched PROPERTIES SKIP_RETURN_CODE 77)
