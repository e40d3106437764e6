# The agent's library: CSV intake, spool folder, configuration, key files,
# dead-letter file (the outbox has its own test, outbox.cmake).
glci_add_test(test_agent unit SOURCES unit/test_agent.c LIBS glci_agent_core PkgConfig::ZMQ)
