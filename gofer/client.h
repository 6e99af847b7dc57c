/* The Sentry's side of the Gofer protocol: one synchronous call per
 * message over the SOCK_SEQPACKET socket. Not thread-safe: callers hold one
 * client per thread or serialise. Every function returns 0 (or a length)
 * on success and -errno on failure, the Gofer's errno or a transport one
 * (-EPROTO for a reply that does not match the request). */
#ifndef MOAT_GOFER_CLIENT_H
#define MOAT_GOFER_CLIENT_H

#include "gofer/protocol.h"

#include <stddef.h>
#include <stdint.h>

struct gofer_client;

struct gofer_setstat {
    uint32_t mask; /* GOFER_SETSTAT_* */
    uint32_t mode, uid, gid;
    uint64_t size;
    int64_t atime_sec, mtime_sec;
    uint32_t atime_nsec, mtime_nsec; /* or GOFER_UTIME_NOW / GOFER_UTIME_OMIT */
};

struct gofer_statfs {
    uint64_t type, bsize, blocks, bfree, bavail, files, ffree, namelen, frsize;
};

/* Takes ownership of sock. */
struct gofer_client *gofer_client_create(int sock);
void gofer_client_destroy(struct gofer_client *c);

/* The Gofer's node table is bounded: a request that would take one node too
 * many fails with ENFILE. With a hook set, the client then calls reclaim
 * (which should give nodes back, e.g. by forgetting cached dentries) and
 * sends the request once more. */
void gofer_client_set_reclaim(struct gofer_client *c, void (*reclaim)(void *arg), void *arg);

/* Sends a raw request and receives the raw reply (tests and fuzzing). The
 * reply is decoded into *resp, whose strings point into the client. */
int gofer_client_call(struct gofer_client *c, const struct gofer_msg *req, struct gofer_msg *resp,
                      int *fd_out);
int gofer_client_call_raw(struct gofer_client *c, const void *req, size_t len, int send_fd,
                          struct gofer_msg *resp, int *fd_out);

int gofer_client_mount(struct gofer_client *c, struct gofer_node *root);
/* Walks names from dir. out[] receives a node per walked name (*walked of
 * them, each a new id the caller must close); *stop tells why it ended. */
int gofer_client_walk(struct gofer_client *c, uint64_t dir, const char *const *names, uint32_t n,
                      struct gofer_node *out, uint32_t *walked, uint32_t *stop);
int gofer_client_stat(struct gofer_client *c, uint64_t id, struct gofer_stat *st);
int gofer_client_setstat(struct gofer_client *c, uint64_t id, const struct gofer_setstat *attr,
                         struct gofer_stat *st);
int gofer_client_open(struct gofer_client *c, uint64_t id, uint32_t flags, int *fd);
int gofer_client_create_file(struct gofer_client *c, uint64_t dir, const char *name, uint32_t flags,
                             uint32_t mode, uint32_t uid, uint32_t gid, struct gofer_node *node,
                             int *fd);
int gofer_client_mkdir(struct gofer_client *c, uint64_t dir, const char *name, uint32_t mode,
                       uint32_t uid, uint32_t gid, struct gofer_node *node);
int gofer_client_mknod(struct gofer_client *c, uint64_t dir, const char *name, uint32_t mode,
                       uint32_t uid, uint32_t gid, struct gofer_node *node);
int gofer_client_symlink(struct gofer_client *c, uint64_t dir, const char *name, const char *target,
                         uint32_t uid, uint32_t gid, struct gofer_node *node);
int gofer_client_link(struct gofer_client *c, uint64_t dir, const char *name, uint64_t target,
                      struct gofer_node *node);
int gofer_client_unlink(struct gofer_client *c, uint64_t dir, const char *name, uint32_t flags);
int gofer_client_rename(struct gofer_client *c, uint64_t olddir, const char *oldname,
                        uint64_t newdir, const char *newname, uint32_t flags);
/* Returns the target's length (not NUL-terminated) or -errno; -ERANGE when
 * cap is too small. */
int gofer_client_readlink(struct gofer_client *c, uint64_t id, char *buf, size_t cap);
/* Returns the bytes of packed linux_dirent64 records written to buf (0 at
 * the end of the directory); *next is the cookie of the following call. */
int gofer_client_getdents64(struct gofer_client *c, uint64_t dir, uint64_t cookie, void *buf,
                            size_t cap, uint64_t *next);
int gofer_client_statfs(struct gofer_client *c, uint64_t id, struct gofer_statfs *sf);
int gofer_client_fsync(struct gofer_client *c, uint64_t id, int datasync);
int gofer_client_allocate(struct gofer_client *c, uint64_t id, uint32_t mode, uint64_t offset,
                          uint64_t len);
/* size 0 asks for the value's length only, like getxattr(2). */
int gofer_client_getxattr(struct gofer_client *c, uint64_t id, const char *name, void *buf,
                          size_t size);
int gofer_client_setxattr(struct gofer_client *c, uint64_t id, const char *name, const void *value,
                          size_t len, uint32_t flags);
int gofer_client_listxattr(struct gofer_client *c, uint64_t id, char *buf, size_t size);
int gofer_client_removexattr(struct gofer_client *c, uint64_t id, const char *name);
int gofer_client_close(struct gofer_client *c, const uint64_t *ids, uint32_t n);
int gofer_client_connect(struct gofer_client *c, uint64_t id, int socktype, int *fd);

#endif
