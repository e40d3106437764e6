# glci_protobuf_c(OUT_VAR schema.proto): compile a schema with protoc-c into the
# build directory. The custom command DEPENDS on the schema, so editing it
# regenerates the C code on the next build.
function(glci_protobuf_c out_var proto)
  get_filename_component(abs ${proto} ABSOLUTE)
  get_filename_component(dir ${abs} DIRECTORY)
  get_filename_component(stem ${abs} NAME_WE)
  set(c ${CMAKE_CURRENT_BINARY_DIR}/${stem}.pb-c.c)
  set(h ${CMAKE_CURRENT_BINARY_DIR}/${stem}.pb-c.h)
  add_custom_command(
    OUTPUT ${c} ${h}
    COMMAND ${PROTOC_C} --proto_path=${dir} --c_out=${CMAKE_CURRENT_BINARY_DIR} ${abs}
    DEPENDS ${abs}
    COMMENT "protoc-c ${stem}.proto"
    VERBATIM)
  set(${out_var} ${c} ${h} PARENT_SCOPE)
endfunction()
