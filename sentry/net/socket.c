/* The socket file: read, write, poll, fstat and ioctl on any socket, and
 * socket(2)'s dispatch by address family. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/signal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
#include "sentry/net/socket.h"
#include "sentry/net/unix.h"

/* sockfs's anonymous device, apart from pipefs's and the mounts'. */
#define SOCKFS_DEV 0x08

static const struct vfs_file_ops socket_file_ops;

static uint64_t next_ino = 1;

void net_socket_init(struct net_socket *s, const struct net_proto_ops *ops, int family, int type,
                     int protocol, struct task *t)
{
    s->ops = ops;
    s->family = family;
    s->type = type;
    s->protocol = protocol;
    s->ino = next_ino++;
    if (t) {
        s->uid = t->creds.fsuid;
        s->gid = t->creds.fsgid;
    }
    vfs_now(&s->ctime);
    waitq_init(&s->q);
}

struct net_socket *net_socket_of(const struct vfs_file *f)
{
    return f && f->ops == &socket_file_ops ? f->priv : NULL;
}

int net_socket_file(struct net_socket *s, uint32_t flags, struct vfs_file **out)
{
    struct vfs_file *f = vfs_file_new(&socket_file_ops, ABI_O_RDWR | (flags & ABI_O_NONBLOCK), s);
    if (!f) {
        s->ops->release(s);
        return -ABI_ENOMEM;
    }
    /* A send from a buffer that faults sends nothing (EFAULT). */
    f->fault_mode = VFS_FAULT_WHOLE;
    f->positional = false;
    *out = f;
    return 0;
}

/* The payload of read(2)/write(2): a Sentry buffer that sys_io filled. */
struct buf_io {
    struct net_io io;
    char *buf;
    bool to_buf;
};

static int buf_xfer(struct net_io *io, size_t off, void *p, size_t n)
{
    struct buf_io *b = (struct buf_io *)io;
    if (b->to_buf)
        memcpy(b->buf + off, p, n);
    else
        memcpy(p, b->buf + off, n);
    return 0;
}

static void drop_files(struct vfs_file **files, int n)
{
    for (int i = 0; i < n; i++)
        vfs_file_put(files[i]);
    free(files);
}

static int64_t socket_read(struct vfs_file *f, void *buf, size_t n)
{
    struct net_socket *s = f->priv;
    if (n == 0) /* read(2) of nothing is 0 before any file sees it */
        return 0;
    struct buf_io b = {{n, buf_xfer}, buf, true};
    struct net_recv m = {.io = &b.io, .nonblock = f->flags & ABI_O_NONBLOCK};
    int64_t r = s->ops->recv(s, kernel_current(), &m);
    /* read(2) has nowhere to put fds: they are closed, as Linux's. */
    drop_files(m.files, m.nfiles);
    return r;
}

static int64_t socket_write(struct vfs_file *f, const void *buf, size_t n)
{
    struct net_socket *s = f->priv;
    struct buf_io b = {{n, buf_xfer}, (char *)buf, false};
    struct net_send m = {.io = &b.io, .nonblock = f->flags & ABI_O_NONBLOCK};
    return s->ops->send(s, kernel_current(), &m);
}

static int socket_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct net_socket *s = f->priv;
    memset(st, 0, sizeof(*st));
    st->st_dev = SOCKFS_DEV;
    st->st_ino = s->ino;
    st->st_nlink = 1;
    st->st_mode = ABI_S_IFSOCK | 0777;
    st->st_uid = s->uid;
    st->st_gid = s->gid;
    st->st_blksize = 4096;
    st->st_atime_sec = st->st_mtime_sec = st->st_ctime_sec = (uint64_t)s->ctime.tv_sec;
    st->st_atime_nsec = st->st_mtime_nsec = st->st_ctime_nsec = (uint64_t)s->ctime.tv_nsec;
    return 0;
}

static int socket_ioctl(struct vfs_file *f, uint32_t req, void *arg, size_t len)
{
    struct net_socket *s = f->priv;
    (void)len;
    int32_t v = 0;
    int err = s->ops->ioctl ? s->ops->ioctl(s, req, &v) : -ABI_ENOIOCTLCMD;
    if (err == -ABI_ENOIOCTLCMD)
        return -ABI_ENOTTY;
    if (err)
        return err;
    if (len == sizeof(v)) { /* FIONREAD: sys_ioctl copies the int out */
        memcpy(arg, &v, sizeof(v));
        return 0;
    }
    /* SIOCOUTQ has no layout in sys_ioctl: arg holds the guest address. */
    struct task *t = kernel_current();
    uint64_t addr;
    memcpy(&addr, arg, sizeof(addr));
    if (!t || mm_copy_out(t->mm, addr, &v, sizeof(v)) != 0)
        return -ABI_EFAULT;
    return 0;
}

static uint32_t socket_poll(struct vfs_file *f)
{
    struct net_socket *s = f->priv;
    return s->ops->poll(s);
}

static struct waitq *socket_poll_queue(struct vfs_file *f)
{
    struct net_socket *s = f->priv;
    return &s->q;
}

static void socket_release(struct vfs_file *f)
{
    struct net_socket *s = f->priv;
    s->ops->release(s);
}

static const struct vfs_file_ops socket_file_ops = {
    .read = socket_read,
    .write = socket_write,
    .stat = socket_stat,
    .ioctl = socket_ioctl,
    .release = socket_release,
    .poll = socket_poll,
    .poll_queue = socket_poll_queue,
};

/* Families moat does not have yet: said once each, since a program that
 * probes for IPv6 or netlink does so on every start. */
static void report_family(struct task *t, int family)
{
    static uint64_t seen[(ABI_AF_MAX + 63) / 64 + 1];
    if (!t || family < 0 || family >= ABI_AF_MAX)
        return;
    uint64_t bit = 1ULL << (family % 64);
    if (seen[family / 64] & bit)
        return;
    seen[family / 64] |= bit;
    kernel_log(t->k, "moat: socket family %d is not supported yet (EAFNOSUPPORT)\n", family);
}

int net_socket_create(struct task *t, int family, int type, int protocol, uint32_t flags,
                      struct vfs_file **out)
{
    if (family < 0 || family >= ABI_AF_MAX)
        return -ABI_EAFNOSUPPORT;
    if (family != ABI_AF_UNIX) {
        report_family(t, family);
        return -ABI_EAFNOSUPPORT;
    }
    struct net_socket *s;
    int err = unix_create(t, type, protocol, &s);
    if (err)
        return err;
    return net_socket_file(s, flags, out);
}

int net_socketpair(struct task *t, int family, int type, int protocol, uint32_t flags,
                   struct vfs_file **a, struct vfs_file **b)
{
    if (family < 0 || family >= ABI_AF_MAX)
        return -ABI_EAFNOSUPPORT;
    if (family != ABI_AF_UNIX) {
        report_family(t, family);
        /* Linux's inet sockets have no socketpair. */
        return family == ABI_AF_INET || family == ABI_AF_INET6 ? -ABI_EOPNOTSUPP
                                                               : -ABI_EAFNOSUPPORT;
    }
    struct net_socket *sa, *sb;
    int err = unix_pair(t, type, protocol, &sa, &sb);
    if (err)
        return err;
    err = net_socket_file(sa, flags, a);
    if (err) {
        sb->ops->release(sb);
        return err;
    }
    err = net_socket_file(sb, flags, b);
    if (err) {
        vfs_file_put(*a);
        return err;
    }
    return 0;
}

int net_wait(struct task *t, struct waitq *q, const struct kernel_deadline *dl)
{
    if (!t)
        return -ABI_EAGAIN;
    struct waitq_entry e;
    task_waiter_init(t, &e, 0);
    waitq_add(q, &e);
    int err = task_sleep(t, dl);
    waitq_remove(&e);
    if (err == -ABI_EINTR)
        return dl ? -ABI_EINTR : -ABI_ERESTARTSYS;
    if (err == -ABI_ETIMEDOUT)
        return -ABI_EAGAIN;
    return err;
}

void net_sigpipe(struct task *t)
{
    if (!t)
        return;
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = ABI_SIGPIPE;
    info.si_code = ABI_SI_USER;
    signal_send(t, &info);
}
