# The agent's library: CSV intake, spool folder, configuration, key files,
# dead-letter file (the outbox has its own test, outbox.cmake).
glci_add_test(test_agent unit SOURCES unit/test_agent.c LIBS glci_agent_core PkgConfig::ZMQ)
# The agent's metrics file: when it is written and what it holds, over a real
# outbox, the clock passed in.
glci_add_test(test_agent_metrics unit SOURCES unit/test_agent_metrics.c
  LIBS glci_agent_core glci_testsupport)
