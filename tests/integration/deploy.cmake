# Deployment files: the example configs against the programs' config loaders,
# and the units, man pages and maintainer scripts as generated into the build.
glci_add_test(test_deploy_config integration
  SOURCES integration/test_deploy_config.c
  LIBS glci_collector_core glci_agent_core)

add_test(NAME test_deploy_files
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/deploy_check.sh
          ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
set_tests_properties(test_deploy_files PROPERTIES LABELS integration TIMEOUT 120)
