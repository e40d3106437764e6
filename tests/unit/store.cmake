# The collector's store on real LMDB files (raw LMDB access to corrupt a
# result on purpose, hence the direct LMDB link).
glci_add_test(test_store unit SOURCES unit/test_store.c
  LIBS glci_store glci_mdb glci_index glci_common PkgConfig::LMDB m pthread)
