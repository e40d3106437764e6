# metrics/ against real clients: the HTTP server in-process with curl and
# raw sockets. glci_prom (tests/support/glci_prom.h) is the HTTP client and
# the real-Prometheus harness that metrics tests link.
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
add_library(glci_prom STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_prom.c)
target_include_directories(glci_prom PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(glci_prom PUBLIC glci_testsupport PkgConfig::JANSSON)

glci_add_test(test_metrics_http integration
  SOURCES integration/test_metrics_http.c
  LIBS glci_metrics_http glci_metrics glci_prom)

# deploy/prometheus/: the rules and the scrape config as promtool reads them,
# and the rules' unit tests (series in, alerts out).
find_program(GLCI_PROMTOOL promtool REQUIRED)
set(GLCI_PROM_DIR ${CMAKE_SOURCE_DIR}/deploy/prometheus)
add_test(NAME test_prometheus_rules
  COMMAND ${GLCI_PROMTOOL} check rules ${GLCI_PROM_DIR}/glci-rules.yml)
add_test(NAME test_prometheus_config
  COMMAND ${GLCI_PROMTOOL} check config ${GLCI_PROM_DIR}/prometheus.yml)
add_test(NAME test_prometheus_rules_unit
  COMMAND ${GLCI_PROMTOOL} test rules glci-rules.test.yml
  WORKING_DIRECTORY ${GLCI_PROM_DIR})
set_tests_properties(test_prometheus_rules test_prometheus_config test_prometheus_rules_unit
  PROPERTIES LABELS integration TIMEOUT 300)
