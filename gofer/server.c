/* The Gofer's request handler. Every node the Sentry holds is an O_PATH fd
 * here; every lookup is one validated name, relative to such an fd, that
 * never follows a symlink, so no request can name anything outside the root
 * the server was given. */
#include "gofer/server.h"
#include "gofer/protocol.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DEFAULT_NODES 4096u
#define MAX_NODES     65535u
#define ID_INDEX_BITS 16u
#define XATTR_PREFIX  "user."
#define XATTR_MAX     (GOFER_MAX_MSG - 64u)

struct node {
    uint64_t id; /* 0: slot free */
    int fd;      /* O_PATH, never a symlink followed */
    /* Where the node was last seen, so files can be reopened by name: the
     * parent's O_PATH fd (-1 for a root) and the name in it. */
    int parent_fd;
    dev_t dev;
    ino_t ino;
    dev_t pdev;
    ino_t pino;
    mode_t type;
    char name[GOFER_MAX_NAME + 1];
};

struct gofer_server {
    int root_fd;
    bool readonly;
    unsigned cap, live, hint;
    uint64_t seq; /* upper bits of ids: grows forever, so ids are not reused */
    struct node *nodes;
    struct gofer_msg in, out;
    uint8_t scratch[GOFER_MAX_MSG];
    char xattr_list[XATTR_MAX];
};

struct gofer_server *gofer_server_create(int root_dir_fd, bool readonly, unsigned max_nodes)
{
    if (max_nodes == 0)
        max_nodes = DEFAULT_NODES;
    if (max_nodes > MAX_NODES) {
        errno = EINVAL;
        return NULL;
    }
    struct gofer_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return NULL;
    srv->nodes = calloc(max_nodes, sizeof(*srv->nodes));
    srv->root_fd = openat(root_dir_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (!srv->nodes || srv->root_fd < 0) {
        int e = errno;
        if (srv->root_fd >= 0)
            close(srv->root_fd);
        free(srv->nodes);
        free(srv);
        errno = e;
        return NULL;
    }
    srv->cap = max_nodes;
    srv->readonly = readonly;
    umask(0);
    return srv;
}

static void node_free(struct gofer_server *srv, struct node *n)
{
    close(n->fd);
    if (n->parent_fd >= 0)
        close(n->parent_fd);
    memset(n, 0, sizeof(*n));
    srv->live--;
}

void gofer_server_destroy(struct gofer_server *srv)
{
    if (!srv)
        return;
    for (unsigned i = 0; i < srv->cap; i++)
        if (srv->nodes[i].id)
            node_free(srv, &srv->nodes[i]);
    close(srv->root_fd);
    free(srv->nodes);
    free(srv);
}

unsigned gofer_server_live_nodes(const struct gofer_server *srv)
{
    return srv->live;
}

static struct node *node_get(struct gofer_server *srv, uint64_t id)
{
    uint64_t idx = id & ((1u << ID_INDEX_BITS) - 1);
    if (id == 0 || idx == 0 || idx > srv->cap)
        return NULL;
    struct node *n = &srv->nodes[idx - 1];
    return n->id == id ? n : NULL;
}

/* Takes ownership of fd; dups parent_fd. Returns NULL (fd closed) when the
 * table is full or the dup fails. */
static struct node *node_new(struct gofer_server *srv, int fd, int parent_fd, const char *name,
                             const struct stat *st)
{
    struct node *n = NULL;
    /* Scan on from the last allocation: the table fills in order, so this
     * is usually one step. */
    for (unsigned k = 0; k < srv->cap; k++) {
        unsigned i = (srv->hint + k) % srv->cap;
        if (!srv->nodes[i].id) {
            n = &srv->nodes[i];
            srv->hint = i + 1;
            break;
        }
    }
    int pfd = -1;
    struct stat pst;
    if (n && parent_fd >= 0) {
        pfd = fcntl(parent_fd, F_DUPFD_CLOEXEC, 0);
        if (pfd < 0 || fstat(pfd, &pst) < 0)
            n = NULL;
    }
    if (!n) {
        close(fd);
        if (pfd >= 0)
            close(pfd);
        return NULL;
    }
    srv->seq++;
    n->id = (srv->seq << ID_INDEX_BITS) | (uint64_t)(n - srv->nodes + 1);
    n->fd = fd;
    n->parent_fd = pfd;
    n->dev = st->st_dev;
    n->ino = st->st_ino;
    n->type = st->st_mode & S_IFMT;
    if (pfd >= 0) {
        n->pdev = pst.st_dev;
        n->pino = pst.st_ino;
        snprintf(n->name, sizeof(n->name), "%s", name);
    }
    srv->live++;
    return n;
}

static void to_wire_stat(const struct stat *st, struct gofer_stat *s)
{
    s->dev = st->st_dev;
    s->ino = st->st_ino;
    s->nlink = st->st_nlink;
    s->rdev = st->st_rdev;
    s->size = (uint64_t)st->st_size;
    s->blocks = (uint64_t)st->st_blocks;
    s->mode = st->st_mode;
    s->uid = st->st_uid;
    s->gid = st->st_gid;
    s->blksize = (uint32_t)st->st_blksize;
    s->atime_sec = st->st_atim.tv_sec;
    s->mtime_sec = st->st_mtim.tv_sec;
    s->ctime_sec = st->st_ctim.tv_sec;
    s->atime_nsec = (uint32_t)st->st_atim.tv_nsec;
    s->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
    s->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
}

static int fd_stat(int fd, struct stat *st)
{
    return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Puts node n (with fresh attributes) into the reply. */
static int reply_node(struct node *n, struct gofer_msg *out)
{
    struct stat st;
    int err = fd_stat(n->fd, &st);
    if (err)
        return err;
    out->nnodes = 1;
    out->nodes[0].id = n->id;
    to_wire_stat(&st, &out->nodes[0].stat);
    return 0;
}

/* Copies a validated wire name into a C string. */
static void cname(struct gofer_bytes b, char out[GOFER_MAX_NAME + 1])
{
    memcpy(out, b.ptr, b.len);
    out[b.len] = '\0';
}

/* Opens one component of dirfd as O_PATH without following anything. The
 * name has no '/', so it cannot leave dirfd; openat2 says so to the kernel
 * as well, and refuses magic links and symlinks even as the last step
 * (a trailing symlink yields an fd of the link itself). */
static int open_component(int dirfd, const char *name)
{
    struct open_how how = {
        .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
    };
    long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

/* A usable (non-O_PATH) fd for a node. Directories reopen through "." of
 * their own fd. Other files reopen by name through their parent (there is
 * no openat of an O_PATH fd itself, and /proc/self/fd is a magic link we do
 * not use), then must prove to be the same inode, or the name moved under
 * us: ESTALE. Device nodes are never opened: an image could carry any. */
static int node_reopen(struct node *n, int flags)
{
    int fd;
    struct stat st;
    flags |= O_CLOEXEC | O_NOCTTY | O_NOFOLLOW;
    switch (n->type) {
    case S_IFDIR:
        if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
            return -EISDIR;
        fd = openat(n->fd, ".", flags | O_DIRECTORY);
        break;
    case S_IFREG:
    case S_IFIFO:
        if (n->parent_fd < 0)
            return -ESTALE;
        if (n->type == S_IFIFO)
            flags |= O_NONBLOCK; /* a FIFO open must not block the Gofer */
        /* Check before opening too: a device node renamed over the name
         * must not even be opened (opening some devices acts). */
        if (fstatat(n->parent_fd, n->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT ? -ESTALE : -errno;
        if (st.st_dev != n->dev || st.st_ino != n->ino)
            return -ESTALE;
        fd = openat(n->parent_fd, n->name, flags);
        break;
    case S_IFLNK:
        return -ELOOP;
    default:
        return -EPERM;
    }
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || st.st_dev != n->dev || st.st_ino != n->ino) {
        close(fd);
        return -ESTALE;
    }
    return fd;
}

static int open_flags(uint64_t gflags, bool create)
{
    uint64_t allowed = GOFER_O_ALL & (create ? ~0u : ~GOFER_O_EXCL);
    if ((gflags & ~allowed) || (gflags & GOFER_O_ACCMODE) == GOFER_O_ACCMODE)
        return -EINVAL;
    int f = (gflags & GOFER_O_ACCMODE) == GOFER_O_WRONLY ? O_WRONLY
            : (gflags & GOFER_O_ACCMODE) == GOFER_O_RDWR ? O_RDWR
                                                         : O_RDONLY;
    if (gflags & GOFER_O_TRUNC)
        f |= O_TRUNC;
    if (gflags & GOFER_O_APPEND)
        f |= O_APPEND;
    if (gflags & GOFER_O_EXCL)
        f |= O_EXCL;
    if (gflags & GOFER_O_SYNC)
        f |= O_SYNC;
    if (gflags & GOFER_O_DSYNC)
        f |= O_DSYNC;
    if (gflags & GOFER_O_DIRECT)
        f |= O_DIRECT;
    return f;
}

static bool writes(int f)
{
    return (f & O_ACCMODE) != O_RDONLY || (f & O_TRUNC);
}

/* ---- handlers: each fills out (the response body) or returns -errno ---- */

#define NEED_NODE(var, idx)                                                                        \
    struct node *var = node_get(srv, in->num[idx]);                                                \
    if (!var)                                                                                      \
    return -EBADF

#define NEED_DIR(var, idx)                                                                         \
    NEED_NODE(var, idx);                                                                           \
    if (var->type != S_IFDIR)                                                                      \
    return -ENOTDIR

static int h_mount(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                   int *fd_out)
{
    (void)in;
    (void)fd_out;
    struct stat st;
    int fd = fcntl(srv->root_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int err = fd_stat(fd, &st);
    if (err) {
        close(fd);
        return err;
    }
    struct node *n = node_new(srv, fd, -1, NULL, &st);
    if (!n)
        return -ENFILE;
    return reply_node(n, out);
}

static int h_walk(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                  int *fd_out)
{
    (void)fd_out;
    NEED_DIR(dir, 0);
    int cur = dir->fd;
    out->num[0] = GOFER_WALK_DONE;
    for (uint32_t i = 0; i < in->nnames; i++) {
        if (i > 0) {
            mode_t t = out->nodes[i - 1].stat.mode & S_IFMT;
            if (t != S_IFDIR) {
                out->num[0] = t == S_IFLNK ? GOFER_WALK_SYMLINK : GOFER_WALK_NOTDIR;
                break;
            }
        }
        char name[GOFER_MAX_NAME + 1];
        cname(in->names[i], name);
        int fd = open_component(cur, name);
        struct stat st;
        int err = fd < 0 ? fd : fd_stat(fd, &st);
        struct node *n = NULL;
        if (!err) {
            n = node_new(srv, fd, cur, name, &st);
            if (!n)
                err = -ENFILE;
        } else if (fd >= 0) {
            close(fd);
        }
        if (err == -ENOENT) {
            out->num[0] = GOFER_WALK_MISSING;
            break;
        }
        if (err) {
            /* Nothing half-walked stays allocated behind the client's back. */
            for (uint32_t j = 0; j < out->nnodes; j++)
                node_free(srv, node_get(srv, out->nodes[j].id));
            out->nnodes = 0;
            return err;
        }
        out->nodes[i].id = n->id;
        to_wire_stat(&st, &out->nodes[i].stat);
        out->nnodes = i + 1;
        cur = n->fd;
    }
    return 0;
}

static int h_stat(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                  int *fd_out)
{
    (void)fd_out;
    NEED_NODE(n, 0);
    return reply_node(n, out);
}

static int set_mode(struct node *n, mode_t mode)
{
    /* fchmodat2 with AT_EMPTY_PATH works on the O_PATH fd (Linux 6.6);
     * before that, only files we can reopen. */
    if (syscall(452 /* fchmodat2 */, n->fd, "", mode, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != ENOSYS)
        return -errno;
    int fd = node_reopen(n, O_RDONLY);
    if (fd < 0)
        return fd == -ELOOP ? -EOPNOTSUPP : fd;
    int r = fchmod(fd, mode) < 0 ? -errno : 0;
    close(fd);
    return r;
}

static int h_setstat(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                     int *fd_out)
{
    (void)fd_out;
    NEED_NODE(n, 0);
    uint64_t mask = in->num[1];
    if (mask & ~(uint64_t)GOFER_SETSTAT_ALL)
        return -EINVAL;
    if (mask && srv->readonly)
        return -EROFS;
    int err = 0;
    if (mask & (GOFER_SETSTAT_UID | GOFER_SETSTAT_GID)) {
        uid_t uid = (mask & GOFER_SETSTAT_UID) ? (uid_t)in->num[3] : (uid_t)-1;
        gid_t gid = (mask & GOFER_SETSTAT_GID) ? (gid_t)in->num[4] : (gid_t)-1;
        if (fchownat(n->fd, "", uid, gid, AT_EMPTY_PATH) < 0)
            return -errno;
    }
    if (mask & GOFER_SETSTAT_MODE) {
        if (in->num[2] & ~(uint64_t)07777)
            return -EINVAL;
        if ((err = set_mode(n, (mode_t)in->num[2])))
            return err;
    }
    if (mask & GOFER_SETSTAT_SIZE) {
        if (in->num[5] > INT64_MAX)
            return -EINVAL;
        if (n->type == S_IFDIR)
            return -EISDIR;
        if (n->type != S_IFREG)
            return -EINVAL;
        int fd = node_reopen(n, O_WRONLY);
        if (fd < 0)
            return fd;
        err = ftruncate(fd, (off_t)in->num[5]) < 0 ? -errno : 0;
        close(fd);
        if (err)
            return err;
    }
    if (mask & (GOFER_SETSTAT_ATIME | GOFER_SETSTAT_MTIME)) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
        for (int i = 0; i < 2; i++) {
            if (!(mask & (i ? GOFER_SETSTAT_MTIME : GOFER_SETSTAT_ATIME)))
                continue;
            uint64_t sec = in->num[6 + 2 * i], nsec = in->num[7 + 2 * i];
            if (nsec == GOFER_UTIME_NOW)
                ts[i].tv_nsec = UTIME_NOW;
            else if (nsec == GOFER_UTIME_OMIT)
                ts[i].tv_nsec = UTIME_OMIT;
            else if (nsec >= 1000000000u)
                return -EINVAL;
            else
                ts[i] = (struct timespec){.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
        }
        if (utimensat(n->fd, "", ts, AT_EMPTY_PATH) < 0)
            return -errno;
    }
    return reply_node(n, out);
}

static int h_open(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                  int *fd_out)
{
    (void)out;
    NEED_NODE(n, 0);
    int f = open_flags(in->num[1], false);
    if (f < 0)
        return f;
    if (srv->readonly && writes(f))
        return -EROFS;
    int fd = node_reopen(n, f);
    if (fd < 0)
        return fd;
    *fd_out = fd;
    return 0;
}

/* Gives a just-made entry its owner and a node; undoes the entry on
 * failure so a half-made file never stays behind. */
static int finish_new(struct gofer_server *srv, struct node *dir, const char *name, bool isdir,
                      uint64_t uid, uint64_t gid, struct gofer_msg *out)
{
    int fd = open_component(dir->fd, name);
    struct stat st;
    int err = fd < 0 ? fd : 0;
    if (!err && fchownat(fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH) < 0)
        err = -errno;
    if (!err)
        err = fd_stat(fd, &st);
    if (err) {
        if (fd >= 0)
            close(fd);
        unlinkat(dir->fd, name, isdir ? AT_REMOVEDIR : 0);
        return err;
    }
    struct node *n = node_new(srv, fd, dir->fd, name, &st);
    if (!n) {
        unlinkat(dir->fd, name, isdir ? AT_REMOVEDIR : 0);
        return -ENFILE;
    }
    out->nnodes = 1;
    out->nodes[0].id = n->id;
    to_wire_stat(&st, &out->nodes[0].stat);
    return 0;
}

static int h_create(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                    int *fd_out)
{
    NEED_DIR(dir, 0);
    if (srv->readonly)
        return -EROFS;
    int f = open_flags(in->num[1], true);
    if (f < 0)
        return f;
    if (in->num[2] & ~(uint64_t)07777)
        return -EINVAL;
    char name[GOFER_MAX_NAME + 1];
    cname(in->str[0], name);
    /* Always exclusive: CREATE makes a new file; an existing one is OPENed. */
    int fd = openat(dir->fd, name, f | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                    (mode_t)in->num[2]);
    if (fd < 0)
        return -errno;
    int err = finish_new(srv, dir, name, false, in->num[3], in->num[4], out);
    if (err) {
        close(fd);
        return err;
    }
    *fd_out = fd;
    return 0;
}

static int h_mkdir(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                   int *fd_out)
{
    (void)fd_out;
    NEED_DIR(dir, 0);
    if (srv->readonly)
        return -EROFS;
    if (in->num[1] & ~(uint64_t)07777)
        return -EINVAL;
    char name[GOFER_MAX_NAME + 1];
    cname(in->str[0], name);
    if (mkdirat(dir->fd, name, (mode_t)in->num[1]) < 0)
        return -errno;
    return finish_new(srv, dir, name, true, in->num[2], in->num[3], out);
}

static int h_mknod(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                   int *fd_out)
{
    (void)fd_out;
    NEED_DIR(dir, 0);
    if (srv->readonly)
        return -EROFS;
    uint64_t mode = in->num[1];
    uint64_t type = mode & S_IFMT;
    if (mode & ~(uint64_t)(S_IFMT | 07777))
        return -EINVAL;
    if (type != S_IFIFO && type != S_IFSOCK && type != S_IFREG && type != 0)
        return -EPERM; /* device nodes belong to the Sentry's devfs */
    char name[GOFER_MAX_NAME + 1];
    cname(in->str[0], name);
    if (mknodat(dir->fd, name, (mode_t)(type ? mode : mode | S_IFREG), 0) < 0)
        return -errno;
    return finish_new(srv, dir, name, false, in->num[2], in->num[3], out);
}

static int h_symlink(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                     int *fd_out)
{
    (void)fd_out;
    NEED_DIR(dir, 0);
    if (srv->readonly)
        return -EROFS;
    struct gofer_bytes t = in->str[1];
    if (t.len == 0)
        return -ENOENT;
    if (t.len >= 4096)
        return -ENAMETOOLONG;
    if (memchr(t.ptr, '\0', t.len))
        return -EINVAL;
    char target[4096];
    memcpy(target, t.ptr, t.len);
    target[t.len] = '\0';
    char name[GOFER_MAX_NAME + 1];
    cname(in->str[0], name);
    if (symlinkat(target, dir->fd, name) < 0)
        return -errno;
    return finish_new(srv, dir, name, false, in->num[1], in->num[2], out);
}

static int h_link(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                  int *fd_out)
{
    (void)fd_out;
    NEED_DIR(dir, 0);
    NEED_NODE(target, 1);
    if (srv->readonly)
        return -EROFS;
    if (target->type == S_IFDIR)
        return -EPERM;
    char name[GOFER_MAX_NAME + 1];
    cname(in->str[0], name);
    if (linkat(target->fd, "", dir->fd, name, AT_EMPTY_PATH) < 0)
        return -errno;
    /* As finish_new does: a failed LINK leaves no new name behind (the
     * client retries an ENFILE after freeing nodes). */
    int fd = open_component(dir->fd, name);
    struct stat st;
    int err = fd < 0 ? fd : fd_stat(fd, &st);
    if (err) {
        if (fd >= 0)
            close(fd);
        unlinkat(dir->fd, name, 0);
        return err;
    }
    struct node *n = node_new(srv, fd, dir->fd, name, &st);
    if (!n) {
        unlinkat(dir->fd, name, 0);
        return -ENFILE;
    }
    return reply_node(n, out);
}

static int h_unlink(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                    int *fd_out)
{
    (void)out;
    (void)fd_out;
    NEED_DIR(dir, 0);
    if (in->num[1] & ~(uint64_t)GOFER_UNLINK_REMOVEDIR)
        return -EINVAL;
    if (srv->readonly)
        return -EROFS;
    char name[GOFER_MAX_NAME + 1];
    cname(in->str[0], name);
    int flags = (in->num[1] & GOFER_UNLINK_REMOVEDIR) ? AT_REMOVEDIR : 0;
    return unlinkat(dir->fd, name, flags) < 0 ? -errno : 0;
}

/* Keeps reopen-by-name working for nodes whose entry moved. */
static void retarget(struct gofer_server *srv, const struct node *from, const char *oldname,
                     const struct node *to, const char *newname, struct node *skip)
{
    struct stat pst;
    if (fstat(to->fd, &pst) < 0)
        return;
    for (unsigned i = 0; i < srv->cap; i++) {
        struct node *n = &srv->nodes[i];
        if (!n->id || n == skip || n->parent_fd < 0 || n->pdev != from->dev ||
            n->pino != from->ino || strcmp(n->name, oldname) != 0)
            continue;
        int pfd = fcntl(to->fd, F_DUPFD_CLOEXEC, 0);
        if (pfd < 0)
            continue;
        close(n->parent_fd);
        n->parent_fd = pfd;
        n->pdev = pst.st_dev;
        n->pino = pst.st_ino;
        snprintf(n->name, sizeof(n->name), "%s", newname);
    }
}

static int h_rename(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                    int *fd_out)
{
    (void)out;
    (void)fd_out;
    NEED_DIR(from, 0);
    NEED_DIR(to, 1);
    uint64_t gf = in->num[2];
    if ((gf & ~(uint64_t)(GOFER_RENAME_NOREPLACE | GOFER_RENAME_EXCHANGE)) ||
        gf == (GOFER_RENAME_NOREPLACE | GOFER_RENAME_EXCHANGE))
        return -EINVAL;
    if (srv->readonly)
        return -EROFS;
    char oldname[GOFER_MAX_NAME + 1], newname[GOFER_MAX_NAME + 1];
    cname(in->str[0], oldname);
    cname(in->str[1], newname);
    unsigned flags = (gf & GOFER_RENAME_NOREPLACE) ? RENAME_NOREPLACE : 0;
    flags |= (gf & GOFER_RENAME_EXCHANGE) ? RENAME_EXCHANGE : 0;
    if (renameat2(from->fd, oldname, to->fd, newname, flags) < 0)
        return -errno;
    if (gf & GOFER_RENAME_EXCHANGE) {
        /* Note the new side's nodes before moving the old side's onto it.
         * Nodes beyond the array's bound keep a stale name and reopen with
         * ESTALE: safe, just not transparent. */
        struct node *moved[256];
        unsigned nm = 0;
        for (unsigned i = 0; i < srv->cap && nm < sizeof(moved) / sizeof(moved[0]); i++) {
            struct node *n = &srv->nodes[i];
            if (n->id && n->parent_fd >= 0 && n->pdev == to->dev && n->pino == to->ino &&
                strcmp(n->name, newname) == 0)
                moved[nm++] = n;
        }
        retarget(srv, from, oldname, to, newname, NULL);
        for (unsigned i = 0; i < nm; i++) {
            int pfd = fcntl(from->fd, F_DUPFD_CLOEXEC, 0);
            if (pfd < 0)
                continue;
            close(moved[i]->parent_fd);
            moved[i]->parent_fd = pfd;
            moved[i]->pdev = from->dev;
            moved[i]->pino = from->ino;
            snprintf(moved[i]->name, sizeof(moved[i]->name), "%s", oldname);
        }
    } else {
        retarget(srv, from, oldname, to, newname, NULL);
    }
    return 0;
}

static int h_readlink(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                      int *fd_out)
{
    (void)fd_out;
    NEED_NODE(n, 0);
    if (n->type != S_IFLNK)
        return -EINVAL;
    ssize_t len = readlinkat(n->fd, "", (char *)srv->scratch, 4096);
    if (len < 0)
        return -errno;
    out->str[0] = (struct gofer_bytes){srv->scratch, (uint32_t)len};
    return 0;
}

static int h_getdents(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                      int *fd_out)
{
    (void)fd_out;
    NEED_DIR(dir, 0);
    uint64_t cookie = in->num[1], max = in->num[2];
    if (cookie > INT64_MAX)
        return -EINVAL;
    if (max > GOFER_MAX_MSG - 64u)
        max = GOFER_MAX_MSG - 64u;
    int fd = node_reopen(dir, O_RDONLY);
    if (fd < 0)
        return fd;
    int err = 0;
    long got = 0;
    if (lseek(fd, (off_t)cookie, SEEK_SET) < 0)
        err = -errno;
    else if ((got = syscall(SYS_getdents64, fd, srv->scratch, (size_t)max)) < 0)
        err = -errno;
    off_t next = err ? 0 : lseek(fd, 0, SEEK_CUR);
    close(fd);
    if (err)
        return err;
    out->num[0] = next < 0 ? cookie : (uint64_t)next;
    out->str[0] = (struct gofer_bytes){srv->scratch, (uint32_t)got};
    return 0;
}

static int h_statfs(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                    int *fd_out)
{
    (void)fd_out;
    NEED_NODE(n, 0);
    struct statfs sf;
    if (fstatfs(n->fd, &sf) < 0)
        return -errno;
    uint64_t v[9] = {
        (uint64_t)sf.f_type,  (uint64_t)sf.f_bsize, sf.f_blocks, sf.f_bfree,
        sf.f_bavail,          sf.f_files,           sf.f_ffree,  (uint64_t)sf.f_namelen,
        (uint64_t)sf.f_frsize};
    memcpy(out->num, v, sizeof(v));
    return 0;
}

static int h_fsync(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                   int *fd_out)
{
    (void)out;
    (void)fd_out;
    NEED_NODE(n, 0);
    if (in->num[1] > 1)
        return -EINVAL;
    int fd = node_reopen(n, O_RDONLY);
    if (fd < 0)
        return fd;
    int r = (in->num[1] ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
    close(fd);
    return r;
}

static int h_allocate(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                      int *fd_out)
{
    (void)out;
    (void)fd_out;
    NEED_NODE(n, 0);
    /* Linux's fallocate mode values: KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE. */
    if (in->num[1] & ~(uint64_t)(0x01 | 0x02 | 0x10))
        return -EOPNOTSUPP;
    if (in->num[2] > INT64_MAX || in->num[3] > INT64_MAX || in->num[3] == 0 ||
        in->num[2] > (uint64_t)INT64_MAX - in->num[3])
        return -EINVAL;
    if (srv->readonly)
        return -EROFS;
    if (n->type != S_IFREG)
        return n->type == S_IFDIR ? -EISDIR : -ENODEV;
    int fd = node_reopen(n, O_WRONLY);
    if (fd < 0)
        return fd;
    int r = fallocate(fd, (int)in->num[1], (off_t)in->num[2], (off_t)in->num[3]) < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* Only the user.* namespace passes: trusted.* and security.* decide what
 * the host grants, and are not the guest's to read or write. */
static int xattr_name(struct gofer_bytes b, char out[GOFER_MAX_NAME + 1])
{
    size_t plen = strlen(XATTR_PREFIX);
    if (b.len > GOFER_MAX_NAME)
        return -ERANGE;
    if (b.len <= plen || memchr(b.ptr, '\0', b.len))
        return -EINVAL;
    if (memcmp(b.ptr, XATTR_PREFIX, plen) != 0)
        return -EOPNOTSUPP;
    memcpy(out, b.ptr, b.len);
    out[b.len] = '\0';
    return 0;
}

static int xattr_fd(struct node *n)
{
    if (n->type != S_IFREG && n->type != S_IFDIR)
        return -EPERM; /* as Linux does for user.* on other types */
    return node_reopen(n, O_RDONLY);
}

static int h_getxattr(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                      int *fd_out)
{
    (void)fd_out;
    NEED_NODE(n, 0);
    char name[GOFER_MAX_NAME + 1];
    int err = xattr_name(in->str[0], name);
    if (err)
        return err;
    uint64_t size = in->num[1] > XATTR_MAX ? XATTR_MAX : in->num[1];
    int fd = xattr_fd(n);
    if (fd < 0)
        return fd;
    ssize_t len = fgetxattr(fd, name, size ? srv->scratch : NULL, size);
    err = len < 0 ? -errno : 0;
    close(fd);
    if (err)
        return err;
    out->num[0] = (uint64_t)len;
    out->str[0] = (struct gofer_bytes){srv->scratch, size ? (uint32_t)len : 0};
    return 0;
}

static int h_setxattr(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                      int *fd_out)
{
    (void)out;
    (void)fd_out;
    NEED_NODE(n, 0);
    char name[GOFER_MAX_NAME + 1];
    int err = xattr_name(in->str[0], name);
    if (err)
        return err;
    if (in->num[1] & ~(uint64_t)(XATTR_CREATE | XATTR_REPLACE))
        return -EINVAL;
    if (srv->readonly)
        return -EROFS;
    int fd = xattr_fd(n);
    if (fd < 0)
        return fd;
    err = fsetxattr(fd, name, in->str[1].ptr, in->str[1].len, (int)in->num[1]) < 0 ? -errno : 0;
    close(fd);
    return err;
}

static int h_listxattr(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                       int *fd_out)
{
    (void)fd_out;
    NEED_NODE(n, 0);
    if (n->type != S_IFREG && n->type != S_IFDIR) {
        out->num[0] = 0; /* nothing of user.* can live there */
        return 0;
    }
    int fd = node_reopen(n, O_RDONLY);
    if (fd < 0)
        return fd;
    char *all = srv->xattr_list;
    ssize_t len = flistxattr(fd, all, XATTR_MAX);
    int err = len < 0 ? -errno : 0;
    close(fd);
    if (err)
        return err;
    size_t plen = strlen(XATTR_PREFIX), kept = 0;
    for (ssize_t off = 0; off < len;) {
        size_t l = strnlen(all + off, (size_t)(len - off));
        if (l > plen && memcmp(all + off, XATTR_PREFIX, plen) == 0 && l < (size_t)(len - off)) {
            memcpy(srv->scratch + kept, all + off, l + 1);
            kept += l + 1;
        }
        off += (ssize_t)l + 1;
    }
    if (in->num[1] && kept > in->num[1])
        return -ERANGE;
    out->num[0] = kept;
    out->str[0] = (struct gofer_bytes){srv->scratch, in->num[1] ? (uint32_t)kept : 0};
    return 0;
}

static int h_removexattr(struct gofer_server *srv, const struct gofer_msg *in,
                         struct gofer_msg *out, int *fd_out)
{
    (void)out;
    (void)fd_out;
    NEED_NODE(n, 0);
    char name[GOFER_MAX_NAME + 1];
    int err = xattr_name(in->str[0], name);
    if (err)
        return err;
    if (srv->readonly)
        return -EROFS;
    int fd = xattr_fd(n);
    if (fd < 0)
        return fd;
    err = fremovexattr(fd, name) < 0 ? -errno : 0;
    close(fd);
    return err;
}

static int h_close(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                   int *fd_out)
{
    (void)out;
    (void)fd_out;
    int err = 0;
    /* Close every valid id even when some are bad; report the bad ones. */
    for (uint32_t i = 0; i < in->nids; i++) {
        struct node *n = node_get(srv, in->ids[i]);
        if (n)
            node_free(srv, n);
        else
            err = -EBADF;
    }
    return err;
}

static int h_connect(struct gofer_server *srv, const struct gofer_msg *in, struct gofer_msg *out,
                     int *fd_out)
{
    (void)out;
    NEED_NODE(n, 0);
    uint64_t type = in->num[1];
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
        return -EINVAL;
    if (n->type != S_IFSOCK)
        return -ECONNREFUSED;
    if (n->parent_fd < 0)
        return -ESTALE;
    /* connect() takes a path, so it is given the bare name relative to the
     * parent as working directory; the name is first checked to still be
     * this socket and not a symlink. The server is single-threaded, so no
     * request of ours can swap it in between. */
    struct stat st;
    if (fstatat(n->parent_fd, n->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (st.st_dev != n->dev || st.st_ino != n->ino)
        return -ESTALE;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(n->name) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, n->name, strlen(n->name));
    int s = socket(AF_UNIX, (int)type | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    int err = fchdir(n->parent_fd) < 0 ? -errno : 0;
    if (!err && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        err = -errno;
    if (fchdir(srv->root_fd) < 0 && !err)
        err = -errno;
    if (err) {
        close(s);
        return err;
    }
    *fd_out = s;
    return 0;
}

typedef int (*handler_fn)(struct gofer_server *, const struct gofer_msg *, struct gofer_msg *,
                          int *);

static const handler_fn handlers[GOFER_MSG_COUNT] = {
    [GOFER_MSG_MOUNT] = h_mount,
    [GOFER_MSG_WALK] = h_walk,
    [GOFER_MSG_STAT] = h_stat,
    [GOFER_MSG_SETSTAT] = h_setstat,
    [GOFER_MSG_OPEN] = h_open,
    [GOFER_MSG_CREATE] = h_create,
    [GOFER_MSG_MKDIR] = h_mkdir,
    [GOFER_MSG_MKNOD] = h_mknod,
    [GOFER_MSG_SYMLINK] = h_symlink,
    [GOFER_MSG_LINK] = h_link,
    [GOFER_MSG_UNLINK] = h_unlink,
    [GOFER_MSG_RENAME] = h_rename,
    [GOFER_MSG_READLINK] = h_readlink,
    [GOFER_MSG_GETDENTS64] = h_getdents,
    [GOFER_MSG_STATFS] = h_statfs,
    [GOFER_MSG_FSYNC] = h_fsync,
    [GOFER_MSG_ALLOCATE] = h_allocate,
    [GOFER_MSG_GETXATTR] = h_getxattr,
    [GOFER_MSG_SETXATTR] = h_setxattr,
    [GOFER_MSG_LISTXATTR] = h_listxattr,
    [GOFER_MSG_REMOVEXATTR] = h_removexattr,
    [GOFER_MSG_CLOSE] = h_close,
    [GOFER_MSG_CONNECT] = h_connect,
};

size_t gofer_server_handle(struct gofer_server *srv, const void *msg, size_t len, void *reply,
                           int *fd_out)
{
    struct gofer_msg *in = &srv->in, *out = &srv->out;
    *fd_out = -1;
    int err = gofer_decode(msg, len, in);
    if (!err && (in->type & GOFER_RESP_BIT))
        err = -EINVAL; /* a response or an error is not a request */
    if (!err) {
        memset(out, 0, sizeof(*out));
        out->type = in->type | GOFER_RESP_BIT;
        err = handlers[in->type](srv, in, out, fd_out);
    }
    int n = err ? -1 : gofer_encode(out, reply, GOFER_MAX_MSG);
    if (n < 0) {
        if (*fd_out >= 0) {
            close(*fd_out);
            *fd_out = -1;
        }
        n = gofer_encode_error(err ? err : n, reply, GOFER_MAX_MSG);
    }
    return (size_t)n;
}
