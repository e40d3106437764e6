# End to end: several agents and a collector over CURVE, push and spool
# intake, scores read back through `glci ... --format json` and compared
# with SPEC §3 computed in the test. Uses the system harness and checker
# (tests/support/glci_checker.c), which tests/fault/system.cmake defines.
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
glci_add_test(test_e2e integration
  SOURCES integration/test_e2e.c
  LIBS glci_checker PkgConfig::JANSSON m
  TIMEOUT 300)
add_dependencies(test_e2e glci glci-agent glci-collector)

# The checker checked: stores with a known duplicate, lost value, unexpected
# value, reordering and seq gap, built through the store API.
glci_add_test(test_checker integration
  SOURCES integration/test_checker.c
  LIBS glci_checker
  TIMEOUT 120)
add_dependencies(test_checker glci)

# The harness's insecure mode: collector and agents both without CURVE.
glci_add_test(test_insecure integration
  SOURCES integration/test_insecure.c
  LIBS glci_checker
  TIMEOUT 300)
add_dependencies(test_insecure glci glci-agent glci-collector)

# IPv6 endpoints with the real programs, in a network namespace the test
# makes (so [::1] is its own): CURVE and --insecure on [::1], metrics on
# [::1], and [::] reached over both families. Skipped (77) without root.
glci_add_test(test_collector_ipv6 integration
  SOURCES integration/test_collector_ipv6.c
  LIBS glci_checker glci_prom
  TIMEOUT 300)
set_tests_properties(test_collector_ipv6 PROPERTIES SKIP_RETURN_CODE 77)
add_dependencies(test_collector_ipv6 glci glci-agent glci-collector)
