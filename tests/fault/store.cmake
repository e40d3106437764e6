# The store under SIGKILL at random moments: all-or-nothing batches (raw
# LMDB to look for the runs a kill between the two commits left).
glci_add_test(test_store_crash fault SOURCES fault/test_store_crash.c
  LIBS glci_store glci_index glci_common PkgConfig::LMDB TIMEOUT 600)
