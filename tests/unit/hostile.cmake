# Hostile input (issue 20) at the shared layers: text hygiene, CSV output,
# configuration and key files, number and time edges, wire strings.
glci_add_test(test_hostile_input unit SOURCES unit/test_hostile_input.c
  LIBS glci_wire glci_obs glci_output glci_common)
