# The collector's integration tests, and the process/temp-dir helper library
# that every integration and fault test may link (tests/support/).
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()

# CURVE DEALERs of a test talking to a real collector, and the store and
# keys they need (the overlap and pipeline tests').
add_library(glci_peer STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_peer.c)
target_include_directories(glci_peer PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(glci_peer PUBLIC glci_testsupport glci_wire glci_store glci_common
                      PkgConfig::ZMQ PkgConfig::CMOCKA)

glci_add_test(test_collector integration
  SOURCES integration/test_collector.c
  LIBS glci_testsupport glci_wire glci_store glci_index glci_common PkgConfig::ZMQ m
  TIMEOUT 600)
add_dependencies(test_collector glci-collector)

# The store thread beside the loop: every ingest made slow by the
# collector's test hook (GLCI_COLLECTOR_TEST_INGEST_DELAY_MS), and the key
# log's early write made with a few keys by another
# (GLCI_COLLECTOR_TEST_KEYLOG_USES_MAX).
glci_add_test(test_collector_overlap integration
  SOURCES integration/test_collector_overlap.c
  LIBS glci_peer glci_testsupport glci_wire glci_store glci_index glci_common PkgConfig::ZMQ m
  TIMEOUT 300)
add_dependencies(test_collector_overlap glci-collector)

# The two group buffers under strain, with the same hook: an ingest that
# fails (the store's map_max) while the next group is staged, and the
# staged group's budget as it refills over several rounds, read off
# /metrics (glci_prom is defined by integration/metrics.cmake).
glci_add_test(test_collector_pipeline integration
  SOURCES integration/test_collector_pipeline.c
  LIBS glci_peer glci_testsupport glci_prom glci_wire glci_store glci_index glci_common PkgConfig::ZMQ m
  TIMEOUT 300)
add_dependencies(test_collector_pipeline glci-collector)
