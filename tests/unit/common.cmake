glci_add_test(test_common unit SOURCES unit/test_common.c LIBS glci_common PkgConfig::SODIUM PkgConfig::ZMQ m)
glci_add_test(test_file unit SOURCES unit/test_file.c LIBS glci_common)
