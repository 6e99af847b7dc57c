/* AF_UNIX sockets inside the Sentry: stream, datagram and seqpacket, with
 * names in the filesystem (S_IFSOCK nodes made by bind), in the abstract
 * namespace ("\0name") or given by autobind, and SCM_RIGHTS /
 * SCM_CREDENTIALS control messages. Linux's semantics (unix(7)). */
#ifndef MOAT_SENTRY_NET_UNIX_H
#define MOAT_SENTRY_NET_UNIX_H

#include "sentry/net/socket.h"

/* Linux's defaults (net.core.wmem_default, rmem_default) and the most
 * setsockopt may ask without CAP_NET_ADMIN (wmem_max, rmem_max). */
#define UNIX_DEFAULT_BUF 212992
#define UNIX_MAX_BUF     212992
/* net.unix.max_dgram_qlen: datagrams queued for a receiver that is not
 * connected back to the sender. */
#define UNIX_MAX_DGRAM_QLEN 512

/* A new unbound socket of type (ABI_SOCK_STREAM, DGRAM or SEQPACKET). */
int unix_create(struct task *t, int type, int protocol, struct net_socket **out);
/* socketpair(2): two sockets connected to each other. */
int unix_pair(struct task *t, int type, int protocol, struct net_socket **a, struct net_socket **b);

#endif
