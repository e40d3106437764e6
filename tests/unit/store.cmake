# The collector's store on real LMDB files (raw LMDB access to corrupt a
# result on purpose, hence the direct LMDB link).
glci_add_test(test_store unit SOURCES unit/test_store.c
  LIBS glci_store glci_mdb glci_index glci_common PkgConfig::LMDB m pthread)
# The reporting cycle in the store (SPEC §7): retractions, corrections,
# as-of, editions, rounds, the default period, schema-1 stores (raw LMDB to
# make one and to tamper with an edition).
glci_add_test(test_store_cycle unit SOURCES unit/test_store_cycle.c
  LIBS glci_store glci_index glci_common PkgConfig::LMDB m)
