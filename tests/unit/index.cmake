glci_add_test(test_framework unit SOURCES unit/test_framework.c LIBS glci_index glci_common)
glci_add_test(test_engine unit SOURCES unit/test_engine.c LIBS glci_index glci_common m)
glci_add_test(test_index_property unit SOURCES unit/test_index_property.c LIBS glci_index glci_common m
  TIMEOUT 600)
target_compile_definitions(test_framework PRIVATE GLCI_FRAMEWORK_FILE="${GLCI_FRAMEWORK_FILE}")
