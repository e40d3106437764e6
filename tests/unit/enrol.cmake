# Enrolment: the enrolment string and messages (wire/glci_enrol.c).
glci_add_test(test_wire_enrol unit SOURCES unit/test_wire_enrol.c support/glci_forge.c
  LIBS glci_wire PkgConfig::SODIUM)
# The store's invitations, key records and refused keys on real LMDB files
# (raw LMDB to make a store as the first release left it).
glci_add_test(test_store_keys unit SOURCES unit/test_store_keys.c
  LIBS glci_store glci_mdb glci_index glci_common PkgConfig::LMDB)
# The operator's side with the real glci binary (integration).
glci_add_test(test_cli_keys integration
  SOURCES integration/test_cli_keys.c integration/test_cli_support.c
  LIBS glci_store glci_wire glci_common PkgConfig::JANSSON)
add_dependencies(test_cli_keys glci)
