# The agent sender's pure rules (the delivery decision table, backoff),
# built from their one source file alone: no ZeroMQ, no outbox.
glci_add_test(test_agent_sender unit SOURCES unit/test_agent_sender.c
  ${CMAKE_SOURCE_DIR}/agent/glci_agent_delivery.c LIBS glci_obs)
target_include_directories(test_agent_sender PRIVATE ${CMAKE_SOURCE_DIR}/agent)
