# Network fault tests: the real collector and agents in network namespaces
# joined by veth pairs (tests/support/glci_lab.c), with partitions and
# packet loss and duplication from nftables and delay, reordering,
# duplication and corruption from glci-faultproxy; each ends with the
# exactly-once checker. Root only: where network namespaces cannot be made
# the test prints why and exits 77, which ctest reports as skipped.
include(${CMAKE_CURRENT_SOURCE_DIR}/support/faultlab.cmake)
if(NOT TARGET glci_checker)
  if(NOT TARGET glci_testsupport)
    add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
    target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  endif()
  add_library(glci_checker STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_checker.c)
  target_include_directories(glci_checker PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(glci_checker PUBLIC glci_testsupport glci_store glci_outbox glci_index glci_common
                        PkgConfig::CMOCKA)
endif()
add_library(glci_netsys STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_lab.c
            ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_netsys.c)
target_include_directories(glci_netsys PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(glci_netsys PUBLIC glci_checker)

file(GLOB GLCI_NET_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fault/test_net_*.c)
foreach(src ${GLCI_NET_TESTS})
  get_filename_component(t ${src} NAME_WE)
  glci_add_test(${t} fault
    SOURCES fault/${t}.c
    LIBS glci_netsys
    TIMEOUT 900)
  set_tests_properties(${t} PROPERTIES SKIP_RETURN_CODE 77)
  add_dependencies(${t} glci glci-agent glci-collector glci-faultproxy glci-nemesis)
endforeach()

# A 60 s smoke of the nemesis run (bench/nemesis): four agents, faults at
# about one a second (the full run: 1,200 an hour).
add_test(NAME nemesis_smoke COMMAND glci-nemesis --agents 4 --sites 2 --seconds 60
         --rate 3600 --values 60)
set_tests_properties(nemesis_smoke PROPERTIES LABELS fault TIMEOUT 900 SKIP_RETURN_CODE 77
  ENVIRONMENT "GLCI_BIN_DIR=${CMAKE_BINARY_DIR};GLCI_FRAMEWORK=${GLCI_FRAMEWORK_FILE}")
