# A store the first release left, met by this release's programs: a
# collector that cannot start converts nothing, the conversion is said,
# and the first release's file modes are taken away once. The older store
# is made with raw LMDB (hence PkgConfig::LMDB), as test_cli_tamper does.
glci_add_test(test_upgrade integration
  SOURCES integration/test_upgrade.c
  LIBS glci_testsupport PkgConfig::LMDB
  TIMEOUT 600)
add_dependencies(test_upgrade glci glci-collector)
