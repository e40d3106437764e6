# libFuzzer target for the enrolment decoders (wire/glci_enrol.c), built
# like fuzz_batch (fuzz.cmake) with GLCI_FUZZ and clang:
#   cmake --build build-fuzz --target fuzz_enrol
#   build-fuzz/tests/fuzz_enrol -max_len=2048 NEWDIR tests/fuzz/corpus-enrol
# ctest runs each seed once (label fuzz).
if(GLCI_FUZZ)
  target_compile_options(glci_wire PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(fuzz_enrol ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_enrol.c)
  target_compile_options(fuzz_enrol PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_enrol PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_enrol PRIVATE glci_wire)
  add_test(NAME fuzz_enrol_corpus
    COMMAND fuzz_enrol -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus-enrol)
  set_tests_properties(fuzz_enrol_corpus PROPERTIES LABELS fuzz TIMEOUT 300)
endif()
