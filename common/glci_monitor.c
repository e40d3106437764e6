/* Reading a ZeroMQ socket monitor: see glci_monitor.h. */
#include "glci_monitor.h"

#include <string.h>
#include <zmq.h>

int glci_monitor_read(void *monitor, uint16_t *event, uint32_t *value)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return 0;
    }
    uint32_t v = 0;
    *event = 0;
    if (zmq_msg_size(&m) >= 6) {
        memcpy(event, zmq_msg_data(&m), sizeof *event);
        memcpy(&v, (const char *)zmq_msg_data(&m) + 2, sizeof v);
    }
    if (value)
        *value = v;
    int more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    while (more) {                     /* the endpoint's frame */
        zmq_msg_init(&m);
        more = zmq_msg_recv(&m, monitor, 0) >= 0 && zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return 1;
}
