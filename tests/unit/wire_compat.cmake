# Retractions decoded with the first release's schema (a copy of it, compiled
# here into the test's own build directory) and rules.
glci_protobuf_c(GLCI_V1_PROTO_SRCS ${CMAKE_CURRENT_SOURCE_DIR}/unit/glci_v1.proto)
set_source_files_properties(${GLCI_V1_PROTO_SRCS} PROPERTIES COMPILE_OPTIONS "-w")
glci_add_test(test_wire_compat unit SOURCES unit/test_wire_compat.c ${GLCI_V1_PROTO_SRCS}
  LIBS glci_wire PkgConfig::PROTOBUFC)
target_include_directories(test_wire_compat PRIVATE ${CMAKE_CURRENT_BINARY_DIR})
