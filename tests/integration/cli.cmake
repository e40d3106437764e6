# The glci CLI: integration tests run the real binary against stores filled
# through the store API; the unit test runs commands in-process with the
# store swapped at link time.
glci_add_test(test_cli integration
  SOURCES integration/test_cli.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_cli glci)
glci_add_test(test_cli_live integration
  SOURCES integration/test_cli_live.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON m)
add_dependencies(test_cli_live glci)
glci_add_test(test_cli_tamper integration
  SOURCES integration/test_cli_tamper.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON PkgConfig::LMDB)
add_dependencies(test_cli_tamper glci)
glci_add_test(test_cli_output unit
  SOURCES integration/test_cli_output.c
  LIBS glci_cli_core PkgConfig::JANSSON m)
glci_add_test(test_cli_contract integration
  SOURCES integration/test_cli_contract.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_cli_contract glci glci-report)
