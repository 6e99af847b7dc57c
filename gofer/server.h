/* The Gofer's request handler and serve loop: the only code of a sandbox
 * that touches the host filesystem. */
#ifndef MOAT_GOFER_SERVER_H
#define MOAT_GOFER_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct gofer_server;

/* Serves the tree under root_dir_fd (any fd of a directory; the server keeps
 * its own O_PATH duplicate). max_nodes bounds the id table (0: a default of
 * 4096; at most 65535). Sets the process umask to 0: the Sentry sends modes
 * with the guest's umask already applied. Returns NULL with errno set. */
struct gofer_server *gofer_server_create(int root_dir_fd, bool readonly, unsigned max_nodes);
void gofer_server_destroy(struct gofer_server *srv);

/* Handles one request message and writes the reply (always a whole message,
 * an error reply for anything malformed) into reply, which must hold
 * GOFER_MAX_MSG bytes. *fd_out is -1 or an fd to donate with the reply,
 * which the caller owns. Returns the reply's length. */
size_t gofer_server_handle(struct gofer_server *srv, const void *msg, size_t len, void *reply,
                           int *fd_out);

/* Number of live node ids (for tests and leak checks). */
unsigned gofer_server_live_nodes(const struct gofer_server *srv);

/* Answers requests on a SOCK_SEQPACKET socket until the peer closes it.
 * Returns 0 at a clean close, -errno on a transport failure. */
int gofer_serve(struct gofer_server *srv, int sock);

#endif
