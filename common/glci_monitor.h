/* Reading a ZeroMQ socket monitor (zmq_socket_monitor): each event is two
 * frames, the first holding the event number (16 bits) and its value (32
 * bits, what libzmq documents for that event: a descriptor, an errno, a
 * ZAP status code), the second the endpoint. The collector's meter and the
 * agent's check read their monitors with it. */
#ifndef GLCI_MONITOR_H
#define GLCI_MONITOR_H

#include <stdint.h>

/* Takes one event from the monitor's PAIR socket without waiting: 1 with
 * *event and *value (value may be NULL) filled, 0 when none is waiting.
 * Both frames are consumed; a first frame too short for an event reads as
 * event 0. */
int glci_monitor_read(void *monitor, uint16_t *event, uint32_t *value);

#endif
