# glci-bench's own options: the real bench, collector and agents.
glci_add_test(test_bench_flags integration
  SOURCES integration/test_bench_flags.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_bench_flags glci-bench glci-collector)
