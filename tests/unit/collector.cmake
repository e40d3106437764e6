# Unit tests of the wire helpers (common/glci_wire) and of the collector's
# configuration and batch path (no sockets).
glci_add_test(test_wire unit SOURCES unit/test_wire.c LIBS glci_wire m)
glci_add_test(test_collector_config unit SOURCES unit/test_collector_config.c
  LIBS glci_collector_core glci_testsupport)
glci_add_test(test_collector_conns unit SOURCES unit/test_collector_conns.c
  LIBS glci_collector_core)
# The daemon's summary line, singular and plural.
glci_add_test(test_collector_daemon unit SOURCES unit/test_collector_daemon.c
  LIBS glci_collector_core)
# The enrolment handler's refusal log with the test's clock (no store:
# the refusals tested come before it).
glci_add_test(test_collector_enrol_log unit SOURCES unit/test_collector_enrol_log.c
  LIBS glci_collector_core)
# The quiet log of many kinds in bounded slots (common/glci_log_kinds.c).
glci_add_test(test_log_kinds unit SOURCES unit/test_log_kinds.c LIBS glci_common)
# The key log's gate before each of its store writes (the early one when
# its table of used keys is full, the periodic one, a failing one), on a
# real store in a temporary folder.
glci_add_test(test_collector_keylog unit SOURCES unit/test_collector_keylog.c
  LIBS glci_collector_core glci_testsupport)
# The memory policy with glibc's allocator, in threads as the store
# thread meets it: a commit's allocations do not fault again, a flood's
# memory comes back after the idle trim.
glci_add_test(test_collector_memory unit SOURCES unit/test_collector_memory.c
  LIBS glci_collector_core)
