# The repeat-quiet log helper of common/, with glci_log swapped at link time.
glci_add_test(test_log_repeat unit
  SOURCES unit/test_log_repeat.c ${CMAKE_SOURCE_DIR}/common/glci_log_repeat.c)
target_include_directories(test_log_repeat PRIVATE ${CMAKE_SOURCE_DIR}/common)
