# The agent sender's pure rules (backoff).
glci_add_test(test_agent_sender unit SOURCES unit/test_agent_sender.c
  LIBS glci_agent_core PkgConfig::ZMQ)
