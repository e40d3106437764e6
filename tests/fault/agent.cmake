# The agent's fault tests: real glci-agent and glci-collector processes on
# loopback over CURVE, killed and stopped at the moments that matter.
if(NOT TARGET glci_testsupport)
  add_library(glci_testsupport STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_testsupport.c)
  target_include_directories(glci_testsupport PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
endif()
glci_add_test(test_agent_faults fault
  SOURCES fault/test_agent_faults.c
  LIBS glci_testsupport glci_store glci_outbox glci_index glci_common
  TIMEOUT 900)
add_dependencies(test_agent_faults glci-agent glci-collector)

# The collector's store restored from an older backup under a running agent:
# within the retention window the agent resends its retained batches and the
# store ends as before the loss; beyond it, or with retention off, it moves
# its outbox onto a new stream (glci_outbox_rebase) and reports the lost
# batches. Uses the system harness and exactly-once checker.
if(NOT TARGET glci_checker)
  add_library(glci_checker STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/glci_checker.c)
  target_include_directories(glci_checker PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
  target_link_libraries(glci_checker PUBLIC glci_testsupport glci_store glci_outbox glci_index glci_common
                        PkgConfig::CMOCKA)
endif()
glci_add_test(test_agent_restore fault
  SOURCES fault/test_agent_restore.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_restore glci glci-agent glci-collector)

# A cloned outbox: two agents of one city with copies of one outbox queue
# different values under the same numbers; the one that delivers second
# moves onto a new stream (glci_outbox_restream) and both deliver exactly once.
glci_add_test(test_agent_clone fault
  SOURCES fault/test_agent_clone.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_clone glci glci-agent glci-collector)

# A MALFORMED batch is dead-lettered and quarantined; delivery goes on.
glci_add_test(test_agent_malformed fault
  SOURCES fault/test_agent_malformed.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_malformed glci glci-agent glci-collector)

# Rejected observations of an applied batch are kept in the outbox while
# rejected.csv cannot be written, and reach it later (also across a kill -9).
glci_add_test(test_agent_deadletter fault
  SOURCES fault/test_agent_deadletter.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_deadletter glci glci-agent glci-collector)

# A city writing for another: the batch applied with every observation
# rejected as "wrong city", dead-lettered by the agent, one alarm, nothing
# retried; revocation still refused.
glci_add_test(test_agent_wrong_city fault
  SOURCES fault/test_agent_wrong_city.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_wrong_city glci glci-agent glci-collector)

# An outbox belongs to one city: a copy under another city's config is
# refused by push, check and run (nothing stored as that city), enrol and a
# reload refuse to point another city at it.
glci_add_test(test_agent_city_outbox fault
  SOURCES fault/test_agent_city_outbox.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_city_outbox glci glci-agent glci-collector)

# The spool folder moved aside or removed and made anew while run runs:
# the new folder is taken up (and watched) without a restart.
glci_add_test(test_agent_spool_replaced fault
  SOURCES fault/test_agent_spool_replaced.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_spool_replaced glci glci-agent glci-collector)

# A collector stopped by SIGSTOP (TCP accepted, no greeting) shows as
# disconnected, not as a handshake failure (a wrong collector_key).
glci_add_test(test_agent_stalled_collector fault
  SOURCES fault/test_agent_stalled_collector.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_stalled_collector glci glci-agent glci-collector)

# A collector whose max_message is below the agent's batch drops every
# connection that carries it: the agent waits between dials (1 s doubling
# to 10 s, one line per wait naming the likely cause) instead of dialling
# ten times a second, and delivers once the limit is raised.
glci_add_test(test_agent_dropped fault
  SOURCES fault/test_agent_dropped.c
  LIBS glci_checker
  TIMEOUT 600)
add_dependencies(test_agent_dropped glci glci-agent glci-collector)
