# Which config file glci-agent reads by default: --config, $GLCI_AGENT_CONFIG,
# /etc/glci/agent.conf; the real binary, every command.
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
glci_add_test(test_agent_config_path integration
  SOURCES integration/test_agent_config_path.c
  LIBS glci_testsupport glci_agent_core
  TIMEOUT 300)
add_dependencies(test_agent_config_path glci-agent)
# glci-agent's own options (push) and lost output; the real binary.
glci_add_test(test_agent_cli integration
  SOURCES integration/test_agent_cli.c support/glci_forge.c
  LIBS glci_testsupport PkgConfig::SODIUM
  TIMEOUT 300)
add_dependencies(test_agent_cli glci-agent)
