# libFuzzer targets (option GLCI_FUZZ, clang only), one per decoder of
# outside input: tests/fuzz/fuzz_NAME.c builds fuzz_NAME, seeded from
# tests/fuzz/corpus/NAME/ with tests/fuzz/NAME.dict when there is one. A
# new target is one new fuzz_NAME.c (and its seeds); nothing here changes
# unless its decoder lives in a library missing from GLCI_FUZZ_LIBS.
# Configure a separate build directory:
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGLCI_FUZZ=ON \
#         -DGLCI_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   cmake --build build-fuzz --target fuzz
#   tests/fuzz/run.sh build-fuzz 60        # every target, 60 s, two at a time
# ctest runs each target's seeds once (label fuzz); see tests/fuzz/README.md.
if(GLCI_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GLCI_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang")
  endif()
  # What the targets link: the decoders' libraries and what they need.
  set(GLCI_FUZZ_LIBS glci_collector_core glci_agent_core glci_index glci_wire glci_common m)
  # Coverage feedback for the code under test.
  foreach(t glci_common glci_obs glci_wire glci_proto glci_index glci_collector_core
            glci_agent_core glci_metrics)
    target_compile_options(${t} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()

  set(GLCI_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
  add_library(glci_fuzz_support STATIC ${GLCI_FUZZ_DIR}/glci_fuzz.c)
  target_include_directories(glci_fuzz_support PUBLIC ${GLCI_FUZZ_DIR})
  target_link_libraries(glci_fuzz_support PUBLIC glci_common)

  file(GLOB GLCI_FUZZ_SRCS CONFIGURE_DEPENDS ${GLCI_FUZZ_DIR}/fuzz_*.c)
  list(SORT GLCI_FUZZ_SRCS)
  set(GLCI_FUZZ_TARGETS "")
  set(GLCI_FUZZ_LIST "")
  foreach(src ${GLCI_FUZZ_SRCS})
    get_filename_component(t ${src} NAME_WE)          # fuzz_NAME
    string(REGEX REPLACE "^fuzz_" "" name ${t})
    add_executable(${t} ${src})
    target_compile_options(${t} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${t} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${t} PRIVATE glci_fuzz_support ${GLCI_FUZZ_LIBS})
    target_compile_definitions(${t} PRIVATE GLCI_FRAMEWORK_FILE="${GLCI_FRAMEWORK_FILE}")
    list(APPEND GLCI_FUZZ_TARGETS ${t})

    set(corpus ${GLCI_FUZZ_DIR}/corpus/${name})
    set(dict ${GLCI_FUZZ_DIR}/${name}.dict)
    if(NOT EXISTS ${dict})
      set(dict "")
    endif()
    # every seed once; a target without seeds yet runs the empty input
    if(EXISTS ${corpus})
      add_test(NAME ${t}_corpus COMMAND ${t} -runs=0 ${corpus})
    else()
      add_test(NAME ${t}_corpus COMMAND ${t} -runs=1)
    endif()
    set_tests_properties(${t}_corpus PROPERTIES LABELS fuzz TIMEOUT 300
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
    # name, binary, seeds, dictionary: what tests/fuzz/run.sh reads
    string(APPEND GLCI_FUZZ_LIST "${name}\t$<TARGET_FILE:${t}>\t${corpus}\t${dict}\n")
  endforeach()
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/fuzz-targets.tsv CONTENT "${GLCI_FUZZ_LIST}")
  add_custom_target(fuzz DEPENDS ${GLCI_FUZZ_TARGETS})
endif()
