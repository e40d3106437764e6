# Enrolment: the enrolment string and messages (wire/glci_enrol.c).
glci_add_test(test_wire_enrol unit SOURCES unit/test_wire_enrol.c LIBS glci_wire)
