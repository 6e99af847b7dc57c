/* Sending one protocol message, with at most one fd, on the SOCK_SEQPACKET
 * socket: the same for the Sentry's requests and the Gofer's replies. */
#ifndef MOAT_GOFER_TRANSPORT_H
#define MOAT_GOFER_TRANSPORT_H

#include <stddef.h>

/* fd < 0: no fd. Retries on EINTR; never raises SIGPIPE. Returns 0 or -errno. */
int gofer_send_msg(int sock, const void *buf, size_t len, int fd);

#endif
