# glci's analysis commands (trend, peers, sensitivity) and the lights of
# show and framework: the real binary against stores filled through the
# store API.
glci_add_test(test_cli_analysis integration
  SOURCES integration/test_cli_analysis.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON m)
add_dependencies(test_cli_analysis glci)
