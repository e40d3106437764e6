# metrics/ against real clients and a real Prometheus: the HTTP server with
# curl and raw sockets in-process; glci-metrics-serve (the collector's
# catalog over the HTTP server) scraped by Prometheus and linted by
# promtool; the alert rules and scrape config of deploy/prometheus/ checked
# and unit-tested by promtool.
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
add_library(glci_prom STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_prom.c)
target_include_directories(glci_prom PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(glci_prom PUBLIC glci_testsupport PkgConfig::JANSSON)

add_executable(glci-metrics-serve ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_metrics_serve.c)
target_link_libraries(glci-metrics-serve PRIVATE glci_metrics_http glci_metrics)

glci_add_test(test_metrics_http integration
  SOURCES integration/test_metrics_http.c
  LIBS glci_metrics_http glci_metrics glci_prom)

glci_add_test(test_metrics_prometheus integration
  SOURCES integration/test_metrics_prometheus.c
  LIBS glci_prom glci_testsupport PkgConfig::JANSSON
  TIMEOUT 600)
add_dependencies(test_metrics_prometheus glci-metrics-serve)

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

# The real collector with metrics_listen and real agents with metrics_file,
# scraped by a real Prometheus; /health against a full store. Uses the
# system harness (glci_checker, defined by integration/e2e.cmake, which
# sorts before this file).
glci_add_test(test_collector_metrics integration
  SOURCES integration/test_collector_metrics.c
  LIBS glci_checker glci_prom PkgConfig::ZMQ
  TIMEOUT 900)
add_dependencies(test_collector_metrics glci glci-agent glci-collector)
