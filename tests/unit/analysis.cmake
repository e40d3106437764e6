# The analysis of index/glci_analysis.h: dashboard thresholds, lights,
# trends and peers (test_analysis); the sensitivity Monte Carlo against the
# engine (test_sensitivity).
glci_add_test(test_analysis unit SOURCES unit/test_analysis.c support/test_obs.c LIBS glci_index glci_common m)
target_compile_definitions(test_analysis PRIVATE GLCI_FRAMEWORK_FILE="${GLCI_FRAMEWORK_FILE}")
glci_add_test(test_sensitivity unit SOURCES unit/test_sensitivity.c support/test_obs.c
  LIBS glci_index glci_common m)
target_compile_definitions(test_sensitivity PRIVATE GLCI_FRAMEWORK_FILE="${GLCI_FRAMEWORK_FILE}")
