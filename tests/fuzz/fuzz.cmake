# libFuzzer targets (option GLCI_FUZZ, clang only). Configure a separate
# build directory:
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGLCI_FUZZ=ON \
#         -DGLCI_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
#   cmake --build build-fuzz --target fuzz_batch
#   build-fuzz/tests/fuzz_batch -max_len=65536 NEWDIR tests/fuzz/corpus
# ctest runs each seed once (label fuzz); the long runs are by hand.
if(GLCI_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GLCI_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang")
  endif()
  # coverage feedback for the code under test
  foreach(t glci_wire glci_proto glci_collector_core glci_index)
    target_compile_options(${t} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
  add_executable(fuzz_batch ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_batch.c)
  target_compile_options(fuzz_batch PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_batch PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_batch PRIVATE glci_collector_core glci_wire glci_index m)
  target_compile_definitions(fuzz_batch PRIVATE
    GLCI_FRAMEWORK_FILE="${GLCI_FRAMEWORK_FILE}")
  add_test(NAME fuzz_batch_corpus
    COMMAND fuzz_batch -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
  set_tests_properties(fuzz_batch_corpus PROPERTIES LABELS fuzz TIMEOUT 300)
endif()
