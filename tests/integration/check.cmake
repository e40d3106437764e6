# glci-collector --check-config and glci-agent check: every problem each
# looks for, with its message, against a real store, key files and a running
# collector (the system harness, defined by integration/e2e.cmake).
glci_add_test(test_check_config integration
  SOURCES integration/test_check_config.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_check_config glci glci-agent glci-collector)
