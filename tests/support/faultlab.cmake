# The fault lab's programs, shared by the network fault tests
# (tests/fault/netfault.cmake) and the nemesis run (bench/nemesis), which is
# built even when tests are off: included from both, defined once.
include_guard(GLOBAL)

# glci-faultproxy: the fault-injecting TCP proxy (tests/support/glci_faultproxy.c).
# Built into build/tests/support, where the harness looks for it.
add_executable(glci-faultproxy ${CMAKE_SOURCE_DIR}/tests/support/glci_faultproxy.c)
target_link_libraries(glci-faultproxy PRIVATE glci_common PkgConfig::INIH PkgConfig::SYSTEMD)
set_target_properties(glci-faultproxy PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/support)
