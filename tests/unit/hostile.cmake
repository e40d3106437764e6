# Hostile input (issue 20) at the shared layers: text hygiene, CSV output,
# configuration and key files, number and time edges, wire strings.
glci_add_test(test_hostile_input unit SOURCES unit/test_hostile_input.c
  LIBS glci_wire glci_obs glci_output glci_common)

# The spool folder against its own users: swapped done/ and failed/, error
# floods, paused writers without leases, files that stop the agent, odd names.
glci_add_test(test_hostile_spool unit SOURCES unit/test_hostile_spool.c
  LIBS glci_agent_core)
