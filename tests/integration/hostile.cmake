# Damaged and hostile input reaching the real programs (issue 20).
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()

# A truncated data.mdb: every glci command, the collector and the agent
# (truncated outbox) exit 1 with one line instead of SIGBUS.
glci_add_test(test_damaged_store integration
  SOURCES integration/test_damaged_store.c integration/test_cli_support.c
  LIBS glci_testsupport glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_damaged_store glci glci-collector glci-agent)

# Text from cities and operators in glci's CSV (formulas defused, numbers
# kept) and in city names (bidirectional overrides refused).
glci_add_test(test_hostile_output integration
  SOURCES integration/test_hostile_output.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_hostile_output glci)

# One city's values for 2100 must not move everyone's default view.
glci_add_test(test_hostile_period integration
  SOURCES integration/test_hostile_period.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_hostile_period glci)

# Key files that are FIFOs, folders or devices, config keys given twice,
# values at the edges, given to the real agent and collector.
glci_add_test(test_hostile_files integration
  SOURCES integration/test_hostile_files.c
  LIBS glci_testsupport glci_common)
add_dependencies(test_hostile_files glci-agent glci-collector)
