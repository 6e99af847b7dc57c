/* The Gofer's transport loop: one SOCK_SEQPACKET message in, one out, a
 * donated fd riding on the reply. */
#include "gofer/protocol.h"
#include "gofer/server.h"
#include "gofer/transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CMSG_FDS 8 /* room to see (and close) fds a client should not send */

/* Closes any fds that arrived with a request: a client has no business
 * sending them, and they must not pile up in the Gofer. */
static bool drop_fds(struct msghdr *mh)
{
    bool any = false;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            close(fd);
        }
        any = true;
    }
    return any;
}

int gofer_serve(struct gofer_server *srv, int sock)
{
    uint8_t *req = malloc(GOFER_MAX_MSG), *rep = malloc(GOFER_MAX_MSG);
    int ret = 0;
    if (!req || !rep) {
        ret = -ENOMEM;
        goto out;
    }
    for (;;) {
        union {
            char buf[CMSG_SPACE(CMSG_FDS * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = req, .iov_len = GOFER_MAX_MSG};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = -errno;
            break;
        }
        if (n == 0 && !(mh.msg_flags & MSG_TRUNC))
            break; /* the Sentry closed its end */
        size_t len;
        int fd = -1;
        bool fds = drop_fds(&mh);
        if (mh.msg_flags & MSG_TRUNC)
            len = (size_t)gofer_encode_error(EMSGSIZE, rep, GOFER_MAX_MSG);
        else if (fds || (mh.msg_flags & MSG_CTRUNC))
            len = (size_t)gofer_encode_error(EINVAL, rep, GOFER_MAX_MSG);
        else
            len = gofer_server_handle(srv, req, (size_t)n, rep, &fd);
        ret = gofer_send_msg(sock, rep, len, fd);
        if (fd >= 0)
            close(fd);
        if (ret < 0)
            break;
    }
out:
    free(req);
    free(rep);
    return ret;
}
