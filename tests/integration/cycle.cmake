# The reporting cycle (SPEC §7) with the real collector, agents and glci:
# future periods, retractions through agents and by operators, missing,
# editions and --as-of. Uses the system harness (tests/support), whose
# glci_checker library tests/fault/system.cmake defines (fragments are read
# in path order: fault/ before integration/).
glci_add_test(test_cycle integration
  SOURCES integration/test_cycle.c
  LIBS glci_checker PkgConfig::JANSSON
  TIMEOUT 600)
add_dependencies(test_cycle glci glci-agent glci-collector)
