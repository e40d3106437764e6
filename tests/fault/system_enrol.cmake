# The enrolment and key system tests (test_system_enrol.c,
# test_system_keys.c) make enrolment strings and raw CURVE clients of their
# own: the wire codec besides the harness. system.cmake registers them.
foreach(t test_system_enrol test_system_keys)
  if(TARGET ${t})
    target_link_libraries(${t} PRIVATE glci_wire)
  endif()
endforeach()
