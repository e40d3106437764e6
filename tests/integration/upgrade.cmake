# A store the first release left, met by this release's programs: a
# collector that cannot start converts nothing, the conversion is said,
# and the first release's file modes are taken away once. The older store
# is made with raw LMDB (hence PkgConfig::LMDB), as test_cli_tamper does;
# the CLI's writable open is called in the test's own process (glci_cli_core)
# to look at the lock it holds.
glci_add_test(test_upgrade integration
  SOURCES integration/test_upgrade.c
  LIBS glci_testsupport glci_cli_core PkgConfig::LMDB
  TIMEOUT 600)
add_dependencies(test_upgrade glci glci-collector)
