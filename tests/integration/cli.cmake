# The glci CLI: integration tests run the real binary against stores filled
# through the store API; the unit test runs commands in-process with the
# store swapped at link time.
glci_add_test(test_cli integration
  SOURCES integration/test_cli.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_cli glci)
glci_add_test(test_cli_live integration
  SOURCES integration/test_cli_live.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON m)
add_dependencies(test_cli_live glci)
glci_add_test(test_cli_tamper integration
  SOURCES integration/test_cli_tamper.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON PkgConfig::LMDB)
add_dependencies(test_cli_tamper glci)
glci_add_test(test_cli_output unit
  SOURCES integration/test_cli_output.c
  LIBS glci_cli_core PkgConfig::JANSSON m)
glci_add_test(test_cli_contract integration
  SOURCES integration/test_cli_contract.c integration/test_cli_support.c
  LIBS glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_cli_contract glci glci-report)

# The CLI and the store where the world is not as expected: outputs that
# are devices, FIFOs or links, a closed pipe, a folder the user cannot
# enter, a full file system, a key rotation that cannot finish, and the
# smaller one-line errors.
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
glci_add_test(test_cli_robust integration
  SOURCES integration/test_cli_robust.c integration/test_cli_support.c
  LIBS glci_store glci_common glci_testsupport PkgConfig::JANSSON)
add_dependencies(test_cli_robust glci glci-report)
