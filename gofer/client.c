/* Synchronous client of the Gofer protocol, used by the Sentry's goferfs.
 * The Gofer is trusted less than the Sentry's own code: its replies go
 * through the same strict decoder, and an fd arriving where none belongs is
 * closed. */
#include "gofer/client.h"
#include "gofer/transport.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct gofer_client {
    int sock;
    void (*reclaim)(void *arg); /* see gofer_client_set_reclaim */
    void *reclaim_arg;
    struct gofer_msg req, resp;
    uint8_t wbuf[GOFER_MAX_MSG];
    uint8_t rbuf[GOFER_MAX_MSG];
};

struct gofer_client *gofer_client_create(int sock)
{
    struct gofer_client *c = calloc(1, sizeof(*c));
    if (c)
        c->sock = sock;
    return c;
}

void gofer_client_destroy(struct gofer_client *c)
{
    if (!c)
        return;
    close(c->sock);
    free(c);
}

static bool carries_fd(uint16_t type)
{
    return type == GOFER_MSG_OPEN || type == GOFER_MSG_CREATE || type == GOFER_MSG_CONNECT;
}

/* Receives one reply; *fd is the first donated fd or -1 (extra ones are
 * closed). Returns its length or -errno. */
static ssize_t recv_msg(int sock, void *buf, size_t cap, int *fd)
{
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.buf,
                        .msg_controllen = sizeof(ctl.buf)};
    ssize_t n;
    do {
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    *fd = -1;
    if (n < 0)
        return -errno;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (*fd < 0)
                *fd = f;
            else
                close(f);
        }
    }
    if (n == 0)
        return -ECONNRESET;
    if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        return -EPROTO;
    return n;
}

int gofer_client_call_raw(struct gofer_client *c, const void *req, size_t len, int send_fd,
                          struct gofer_msg *resp, int *fd_out)
{
    int fd = -1;
    *fd_out = -1;
    int err = gofer_send_msg(c->sock, req, len, send_fd);
    if (err)
        return err;
    ssize_t n = recv_msg(c->sock, c->rbuf, sizeof(c->rbuf), &fd);
    if (n < 0)
        err = (int)n;
    else if (gofer_decode(c->rbuf, (size_t)n, resp) < 0)
        err = -EPROTO;
    else if (resp->type == GOFER_MSG_ERROR)
        err = -resp->err;
    if (err) {
        if (fd >= 0)
            close(fd);
        return err;
    }
    *fd_out = fd;
    return 0;
}

void gofer_client_set_reclaim(struct gofer_client *c, void (*reclaim)(void *arg), void *arg)
{
    c->reclaim = reclaim;
    c->reclaim_arg = arg;
}

/* A full node table (ENFILE): reclaim once, then send the same request
 * again. The reclaim hook may itself use the client (CLOSE of the nodes it
 * frees), which overwrites the client's buffers and its req: the encoded
 * request is resent from a copy. The Gofer undoes a creation it cannot give
 * a node, so a retried request starts from the same state. */
static int retry_after_reclaim(struct gofer_client *c, size_t len, struct gofer_msg *resp, int *fd)
{
    uint8_t *copy = malloc(len);
    if (!copy)
        return -ENFILE;
    memcpy(copy, c->wbuf, len);
    c->reclaim(c->reclaim_arg);
    int err = gofer_client_call_raw(c, copy, len, -1, resp, fd);
    free(copy);
    return err;
}

int gofer_client_call(struct gofer_client *c, const struct gofer_msg *req, struct gofer_msg *resp,
                      int *fd_out)
{
    int fd;
    uint16_t type = req->type; /* req may be the client's own, and reclaim reuses it */
    int len = gofer_encode(req, c->wbuf, sizeof(c->wbuf));
    if (len < 0)
        return len;
    int err = gofer_client_call_raw(c, c->wbuf, (size_t)len, -1, resp, &fd);
    if (err == -ENFILE && c->reclaim)
        err = retry_after_reclaim(c, (size_t)len, resp, &fd);
    if (err)
        return err;
    bool want = carries_fd(type);
    if (resp->type != (type | GOFER_RESP_BIT) || want != (fd >= 0)) {
        if (fd >= 0)
            close(fd);
        return -EPROTO;
    }
    if (fd_out)
        *fd_out = fd;
    else if (fd >= 0)
        close(fd);
    return 0;
}

/* Starts a request in the client's own message. */
static struct gofer_msg *begin(struct gofer_client *c, uint16_t type)
{
    memset(&c->req, 0, sizeof(c->req));
    c->req.type = type;
    return &c->req;
}

static struct gofer_bytes str(const char *s)
{
    return (struct gofer_bytes){(const uint8_t *)s, (uint32_t)strnlen(s, GOFER_MAX_MSG)};
}

static int call(struct gofer_client *c, int *fd)
{
    return gofer_client_call(c, &c->req, &c->resp, fd);
}

/* For replies that carry one node. */
static int call_node(struct gofer_client *c, struct gofer_node *node, int *fd)
{
    int err = call(c, fd);
    if (!err && node)
        *node = c->resp.nodes[0];
    return err;
}

int gofer_client_mount(struct gofer_client *c, struct gofer_node *root)
{
    begin(c, GOFER_MSG_MOUNT);
    return call_node(c, root, NULL);
}

int gofer_client_walk(struct gofer_client *c, uint64_t dir, const char *const *names, uint32_t n,
                      struct gofer_node *out, uint32_t *walked, uint32_t *stop)
{
    if (n > GOFER_MAX_NAMES)
        return -E2BIG;
    struct gofer_msg *m = begin(c, GOFER_MSG_WALK);
    m->num[0] = dir;
    m->nnames = n;
    for (uint32_t i = 0; i < n; i++)
        m->names[i] = str(names[i]);
    int err = call(c, NULL);
    if (err)
        return err;
    if (c->resp.nnodes > n)
        return -EPROTO;
    memcpy(out, c->resp.nodes, c->resp.nnodes * sizeof(*out));
    *walked = c->resp.nnodes;
    *stop = (uint32_t)c->resp.num[0];
    return 0;
}

int gofer_client_stat(struct gofer_client *c, uint64_t id, struct gofer_stat *st)
{
    begin(c, GOFER_MSG_STAT)->num[0] = id;
    int err = call(c, NULL);
    if (!err)
        *st = c->resp.nodes[0].stat;
    return err;
}

int gofer_client_setstat(struct gofer_client *c, uint64_t id, const struct gofer_setstat *a,
                         struct gofer_stat *st)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_SETSTAT);
    uint64_t v[10] = {id,
                      a->mask,
                      a->mode,
                      a->uid,
                      a->gid,
                      a->size,
                      (uint64_t)a->atime_sec,
                      a->atime_nsec,
                      (uint64_t)a->mtime_sec,
                      a->mtime_nsec};
    memcpy(m->num, v, sizeof(v));
    int err = call(c, NULL);
    if (!err && st)
        *st = c->resp.nodes[0].stat;
    return err;
}

int gofer_client_open(struct gofer_client *c, uint64_t id, uint32_t flags, int *fd)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_OPEN);
    m->num[0] = id;
    m->num[1] = flags;
    return call(c, fd);
}

int gofer_client_create_file(struct gofer_client *c, uint64_t dir, const char *name, uint32_t flags,
                             uint32_t mode, uint32_t uid, uint32_t gid, struct gofer_node *node,
                             int *fd)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_CREATE);
    m->num[0] = dir;
    m->str[0] = str(name);
    m->num[1] = flags;
    m->num[2] = mode;
    m->num[3] = uid;
    m->num[4] = gid;
    return call_node(c, node, fd);
}

static int make(struct gofer_client *c, uint16_t type, uint64_t dir, const char *name,
                uint32_t mode, uint32_t uid, uint32_t gid, struct gofer_node *node)
{
    struct gofer_msg *m = begin(c, type);
    m->num[0] = dir;
    m->str[0] = str(name);
    m->num[1] = mode;
    m->num[2] = uid;
    m->num[3] = gid;
    return call_node(c, node, NULL);
}

int gofer_client_mkdir(struct gofer_client *c, uint64_t dir, const char *name, uint32_t mode,
                       uint32_t uid, uint32_t gid, struct gofer_node *node)
{
    return make(c, GOFER_MSG_MKDIR, dir, name, mode, uid, gid, node);
}

int gofer_client_mknod(struct gofer_client *c, uint64_t dir, const char *name, uint32_t mode,
                       uint32_t uid, uint32_t gid, struct gofer_node *node)
{
    return make(c, GOFER_MSG_MKNOD, dir, name, mode, uid, gid, node);
}

int gofer_client_symlink(struct gofer_client *c, uint64_t dir, const char *name, const char *target,
                         uint32_t uid, uint32_t gid, struct gofer_node *node)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_SYMLINK);
    m->num[0] = dir;
    m->str[0] = str(name);
    m->str[1] = str(target);
    m->num[1] = uid;
    m->num[2] = gid;
    return call_node(c, node, NULL);
}

int gofer_client_link(struct gofer_client *c, uint64_t dir, const char *name, uint64_t target,
                      struct gofer_node *node)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_LINK);
    m->num[0] = dir;
    m->str[0] = str(name);
    m->num[1] = target;
    return call_node(c, node, NULL);
}

int gofer_client_unlink(struct gofer_client *c, uint64_t dir, const char *name, uint32_t flags)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_UNLINK);
    m->num[0] = dir;
    m->str[0] = str(name);
    m->num[1] = flags;
    return call(c, NULL);
}

int gofer_client_rename(struct gofer_client *c, uint64_t olddir, const char *oldname,
                        uint64_t newdir, const char *newname, uint32_t flags)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_RENAME);
    m->num[0] = olddir;
    m->str[0] = str(oldname);
    m->num[1] = newdir;
    m->str[1] = str(newname);
    m->num[2] = flags;
    return call(c, NULL);
}

/* Copies a returned byte string out; -ERANGE when it does not fit. */
static int copy_out(const struct gofer_bytes *b, void *buf, size_t cap)
{
    if (b->len > cap)
        return -ERANGE;
    if (b->len)
        memcpy(buf, b->ptr, b->len);
    return (int)b->len;
}

int gofer_client_readlink(struct gofer_client *c, uint64_t id, char *buf, size_t cap)
{
    begin(c, GOFER_MSG_READLINK)->num[0] = id;
    int err = call(c, NULL);
    return err ? err : copy_out(&c->resp.str[0], buf, cap);
}

int gofer_client_getdents64(struct gofer_client *c, uint64_t dir, uint64_t cookie, void *buf,
                            size_t cap, uint64_t *next)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_GETDENTS64);
    m->num[0] = dir;
    m->num[1] = cookie;
    m->num[2] = cap > UINT32_MAX ? UINT32_MAX : cap;
    int err = call(c, NULL);
    if (err)
        return err;
    *next = c->resp.num[0];
    return copy_out(&c->resp.str[0], buf, cap);
}

int gofer_client_statfs(struct gofer_client *c, uint64_t id, struct gofer_statfs *sf)
{
    begin(c, GOFER_MSG_STATFS)->num[0] = id;
    int err = call(c, NULL);
    if (err)
        return err;
    uint64_t *v = c->resp.num;
    *sf = (struct gofer_statfs){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
    return 0;
}

int gofer_client_fsync(struct gofer_client *c, uint64_t id, int datasync)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_FSYNC);
    m->num[0] = id;
    m->num[1] = datasync ? 1 : 0;
    return call(c, NULL);
}

int gofer_client_allocate(struct gofer_client *c, uint64_t id, uint32_t mode, uint64_t offset,
                          uint64_t len)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_ALLOCATE);
    m->num[0] = id;
    m->num[1] = mode;
    m->num[2] = offset;
    m->num[3] = len;
    return call(c, NULL);
}

int gofer_client_getxattr(struct gofer_client *c, uint64_t id, const char *name, void *buf,
                          size_t size)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_GETXATTR);
    m->num[0] = id;
    m->str[0] = str(name);
    m->num[1] = size > UINT32_MAX ? UINT32_MAX : size;
    int err = call(c, NULL);
    if (err)
        return err;
    if (size == 0)
        return (int)c->resp.num[0];
    return copy_out(&c->resp.str[0], buf, size);
}

int gofer_client_setxattr(struct gofer_client *c, uint64_t id, const char *name, const void *value,
                          size_t len, uint32_t flags)
{
    if (len > GOFER_MAX_MSG)
        return -E2BIG;
    struct gofer_msg *m = begin(c, GOFER_MSG_SETXATTR);
    m->num[0] = id;
    m->str[0] = str(name);
    m->str[1] = (struct gofer_bytes){value, (uint32_t)len};
    m->num[1] = flags;
    return call(c, NULL);
}

int gofer_client_listxattr(struct gofer_client *c, uint64_t id, char *buf, size_t size)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_LISTXATTR);
    m->num[0] = id;
    m->num[1] = size > UINT32_MAX ? UINT32_MAX : size;
    int err = call(c, NULL);
    if (err)
        return err;
    if (size == 0)
        return (int)c->resp.num[0];
    return copy_out(&c->resp.str[0], buf, size);
}

int gofer_client_removexattr(struct gofer_client *c, uint64_t id, const char *name)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_REMOVEXATTR);
    m->num[0] = id;
    m->str[0] = str(name);
    return call(c, NULL);
}

int gofer_client_close(struct gofer_client *c, const uint64_t *ids, uint32_t n)
{
    if (n > GOFER_MAX_NAMES)
        return -E2BIG;
    struct gofer_msg *m = begin(c, GOFER_MSG_CLOSE);
    m->nids = n;
    memcpy(m->ids, ids, n * sizeof(*ids));
    return call(c, NULL);
}

int gofer_client_connect(struct gofer_client *c, uint64_t id, int socktype, int *fd)
{
    struct gofer_msg *m = begin(c, GOFER_MSG_CONNECT);
    m->num[0] = id;
    m->num[1] = (uint64_t)socktype;
    return call(c, fd);
}
