# glci-bench's own options: the real bench, collector and agents.
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
glci_add_test(test_bench_flags integration
  SOURCES integration/test_bench_flags.c integration/test_cli_support.c
  LIBS glci_testsupport glci_store glci_common PkgConfig::JANSSON)
add_dependencies(test_bench_flags glci-bench glci-collector)
