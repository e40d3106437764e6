glci_add_test(test_outbox unit SOURCES unit/test_outbox.c LIBS glci_outbox glci_common)
