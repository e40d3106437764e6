# metrics/: the registry, exposition, textfile writer and listen address
# parser; the catalog of families against the wire's enums, docs/METRICS.md
# and the alert rules. common/: the repeat-quiet log helper, with glci_log
# swapped at link time.
glci_add_test(test_metrics unit
  SOURCES unit/test_metrics.c
  LIBS glci_metrics_http glci_metrics glci_testsupport)

glci_add_test(test_metrics_catalog unit
  SOURCES unit/test_metrics_catalog.c
  LIBS glci_metrics glci_index glci_proto glci_testsupport)
target_compile_definitions(test_metrics_catalog PRIVATE GLCI_VERSION="${PROJECT_VERSION}")

glci_add_test(test_log_repeat unit
  SOURCES unit/test_log_repeat.c ${CMAKE_SOURCE_DIR}/common/glci_log_repeat.c)
target_include_directories(test_log_repeat PRIVATE ${CMAKE_SOURCE_DIR}/common)
