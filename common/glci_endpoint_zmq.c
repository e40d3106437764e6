/* The socket side of the endpoint rules (glci_endpoint.h): in an object
 * of its own, so that glci, which parses endpoints but opens no ZeroMQ
 * socket, does not load libzmq at its start. */
#include "glci_endpoint.h"

#include <zmq.h>

int glci_endpoint_zmq_family(void *sock, const char *endpoint)
{
    int ipv6 = glci_endpoint_ipv6(endpoint);
    return zmq_setsockopt(sock, ZMQ_IPV6, &ipv6, sizeof ipv6) == 0 ? 0 : -1;
}
