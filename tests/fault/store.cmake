# The store under SIGKILL at random moments: all-or-nothing batches.
glci_add_test(test_store_crash fault SOURCES fault/test_store_crash.c
  LIBS glci_store glci_index glci_common TIMEOUT 600)
