# Unit tests of the wire helpers (common/glci_wire) and of the collector's
# configuration and batch path (no sockets).
glci_add_test(test_wire unit SOURCES unit/test_wire.c LIBS glci_wire m)
glci_add_test(test_collector_config unit SOURCES unit/test_collector_config.c
  LIBS glci_collector_core glci_testsupport)
glci_add_test(test_collector_conns unit SOURCES unit/test_collector_conns.c
  LIBS glci_collector_core)
