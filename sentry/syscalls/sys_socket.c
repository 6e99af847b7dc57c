/* The socket calls: socket, socketpair, bind, listen, accept(4), connect,
 * getsockname, getpeername, send/recv families, shutdown and socket
 * options. Guest memory and fds are handled here (addresses, msghdr,
 * iovecs, control messages, SCM_RIGHTS fds); sentry/net does the rest. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/socket.h"
#include "sentry/kernel/cred.h"
#include "sentry/mm/mm.h"
#include "sentry/net/socket.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

#define MAX_RW_COUNT 0x7ffff000ULL
/* net.core.optmem_max: the most control data one sendmsg may carry. */
#define OPTMEM_MAX 20480

static uint64_t nofile_limit(struct task *t)
{
    return t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur;
}

/* The socket behind fd: EBADF, or ENOTSOCK for another kind of file. */
static int sock_lookup(struct task *t, uint64_t fd, struct vfs_file **f, struct net_socket **s)
{
    struct vfs_file *file = fd > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)fd);
    if (!file || (file->flags & ABI_O_PATH))
        return -ABI_EBADF;
    struct net_socket *sock = net_socket_of(file);
    if (!sock)
        return -ABI_ENOTSOCK;
    if (f)
        *f = file;
    *s = sock;
    return 0;
}

/* Linux's move_addr_to_kernel. */
static int addr_in(struct task *t, uint64_t uaddr, uint64_t len, uint8_t *buf)
{
    if ((int32_t)len < 0 || len > ABI_SOCKADDR_MAX)
        return -ABI_EINVAL;
    if (len && mm_copy_in(t->mm, buf, uaddr, len) != 0)
        return -ABI_EFAULT;
    return 0;
}

/* Linux's move_addr_to_user: at most *ulen bytes of the address, and its
 * whole length into *ulen. */
static int addr_out(struct task *t, const void *addr, size_t len, uint64_t uaddr, uint64_t ulenp)
{
    int32_t ulen;
    if (mm_copy_in(t->mm, &ulen, ulenp, sizeof(ulen)) != 0)
        return -ABI_EFAULT;
    if (ulen < 0)
        return -ABI_EINVAL;
    size_t n = len < (size_t)ulen ? len : (size_t)ulen;
    if (n && mm_copy_out(t->mm, uaddr, addr, n) != 0)
        return -ABI_EFAULT;
    int32_t full = (int32_t)len;
    return mm_copy_out(t->mm, ulenp, &full, sizeof(full)) != 0 ? -ABI_EFAULT : 0;
}

static bool check_type_flags(uint64_t type)
{
    return ((uint32_t)type & ~(uint32_t)ABI_SOCK_TYPE_MASK &
            ~(uint32_t)(ABI_SOCK_NONBLOCK | ABI_SOCK_CLOEXEC)) == 0;
}

int64_t sys_socket(struct task *t, const uint64_t a[6])
{
    int family = (int)a[0], type = (int)a[1], protocol = (int)a[2];
    if (!check_type_flags((uint32_t)type))
        return -ABI_EINVAL;
    int base = type & ABI_SOCK_TYPE_MASK;
    if (family < 0 || family >= ABI_AF_MAX)
        return -ABI_EAFNOSUPPORT;
    if (base >= 11)
        return -ABI_EINVAL;
    struct vfs_file *f;
    int err = net_socket_create(t, family, base, protocol, (uint32_t)type & ABI_SOCK_NONBLOCK, &f);
    if (err)
        return err;
    int fd = vfs_fd_install(t->fds, 0, f, type & ABI_SOCK_CLOEXEC, nofile_limit(t));
    vfs_file_put(f);
    return fd;
}

int64_t sys_socketpair(struct task *t, const uint64_t a[6])
{
    int family = (int)a[0], type = (int)a[1], protocol = (int)a[2];
    if (!check_type_flags((uint32_t)type))
        return -ABI_EINVAL;
    int base = type & ABI_SOCK_TYPE_MASK;
    if (family < 0 || family >= ABI_AF_MAX)
        return -ABI_EAFNOSUPPORT;
    if (base >= 11)
        return -ABI_EINVAL;
    struct vfs_file *fa, *fb;
    int err =
        net_socketpair(t, family, base, protocol, (uint32_t)type & ABI_SOCK_NONBLOCK, &fa, &fb);
    if (err)
        return err;
    bool cloexec = type & ABI_SOCK_CLOEXEC;
    int fds[2];
    fds[0] = vfs_fd_install(t->fds, 0, fa, cloexec, nofile_limit(t));
    fds[1] = fds[0] < 0 ? fds[0] : vfs_fd_install(t->fds, 0, fb, cloexec, nofile_limit(t));
    vfs_file_put(fa);
    vfs_file_put(fb);
    if (fds[1] < 0) {
        if (fds[0] >= 0)
            vfs_fd_close(t->fds, fds[0]);
        return fds[1];
    }
    if (mm_copy_out(t->mm, a[3], fds, sizeof(fds)) != 0) {
        vfs_fd_close(t->fds, fds[0]);
        vfs_fd_close(t->fds, fds[1]);
        return -ABI_EFAULT;
    }
    return 0;
}

int64_t sys_bind(struct task *t, const uint64_t a[6])
{
    struct net_socket *s;
    int err = sock_lookup(t, a[0], NULL, &s);
    if (err)
        return err;
    uint8_t addr[ABI_SOCKADDR_MAX];
    if ((err = addr_in(t, a[1], a[2], addr)))
        return err;
    return s->ops->bind(s, t, addr, (size_t)(uint32_t)a[2]);
}

int64_t sys_listen(struct task *t, const uint64_t a[6])
{
    struct net_socket *s;
    int err = sock_lookup(t, a[0], NULL, &s);
    if (err)
        return err;
    /* Clamped as unsigned: a negative backlog is the most. */
    uint32_t backlog = (uint32_t)a[1];
    if (backlog > ABI_SOMAXCONN)
        backlog = ABI_SOMAXCONN;
    return s->ops->listen(s, t, (int)backlog);
}

static int64_t do_accept(struct task *t, const uint64_t a[6], uint32_t flags)
{
    if (flags & ~(uint32_t)(ABI_SOCK_NONBLOCK | ABI_SOCK_CLOEXEC))
        return -ABI_EINVAL;
    struct vfs_file *lf;
    struct net_socket *s;
    int err = sock_lookup(t, a[0], &lf, &s);
    if (err)
        return err;
    /* A full table fails before any wait. */
    int fd = vfs_fd_lowest_free(t->fds, 0, nofile_limit(t));
    if (fd < 0)
        return fd;
    struct net_socket *ns;
    if ((err = s->ops->accept(s, t, lf->flags & ABI_O_NONBLOCK, &ns)))
        return err;
    struct vfs_file *nf;
    if ((err = net_socket_file(ns, flags & ABI_SOCK_NONBLOCK, &nf)))
        return err;
    if (a[1]) {
        uint8_t addr[ABI_SOCKADDR_MAX];
        int len = ns->ops->getname(ns, true, addr);
        if (len < 0)
            len = 0;
        if ((err = addr_out(t, addr, (size_t)len, a[1], a[2]))) {
            vfs_file_put(nf);
            return err;
        }
    }
    /* Another thread of the process may have taken that fd while accept
     * slept: the lowest free one now. */
    int r = vfs_fd_install(t->fds, 0, nf, flags & ABI_SOCK_CLOEXEC, nofile_limit(t));
    vfs_file_put(nf);
    return r;
}

int64_t sys_accept(struct task *t, const uint64_t a[6])
{
    return do_accept(t, a, 0);
}

int64_t sys_accept4(struct task *t, const uint64_t a[6])
{
    return do_accept(t, a, (uint32_t)a[3]);
}

int64_t sys_connect(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f;
    struct net_socket *s;
    int err = sock_lookup(t, a[0], &f, &s);
    if (err)
        return err;
    uint8_t addr[ABI_SOCKADDR_MAX];
    if ((err = addr_in(t, a[1], a[2], addr)))
        return err;
    return s->ops->connect(s, t, addr, (size_t)(uint32_t)a[2], f->flags & ABI_O_NONBLOCK);
}

static int64_t get_name(struct task *t, const uint64_t a[6], bool peer)
{
    struct net_socket *s;
    int err = sock_lookup(t, a[0], NULL, &s);
    if (err)
        return err;
    uint8_t addr[ABI_SOCKADDR_MAX];
    int len = s->ops->getname(s, peer, addr);
    if (len < 0)
        return len;
    return addr_out(t, addr, (size_t)len, a[1], a[2]);
}

int64_t sys_getsockname(struct task *t, const uint64_t a[6])
{
    return get_name(t, a, false);
}

int64_t sys_getpeername(struct task *t, const uint64_t a[6])
{
    return get_name(t, a, true);
}

int64_t sys_shutdown(struct task *t, const uint64_t a[6])
{
    struct net_socket *s;
    int err = sock_lookup(t, a[0], NULL, &s);
    if (err)
        return err;
    return s->ops->shutdown(s, (int)a[1]);
}

/* ---- payloads in guest memory ---- */

/* A guest iovec as a net_io; remembers where the last transfer ended,
 * since transfers walk forward. */
struct guest_io {
    struct net_io io;
    struct task *t;
    const struct abi_iovec *vec;
    uint64_t cnt;
    bool to_guest;
    uint64_t i;  /* the segment ... */
    size_t base; /* ... and the payload offset it starts at */
};

static int guest_xfer(struct net_io *io, size_t off, void *buf, size_t n)
{
    struct guest_io *g = (struct guest_io *)io;
    if (off < g->base) {
        g->i = 0;
        g->base = 0;
    }
    char *p = buf;
    while (n) {
        if (g->i >= g->cnt)
            return -ABI_EFAULT;
        const struct abi_iovec *v = &g->vec[g->i];
        if (off >= g->base + v->iov_len) {
            g->base += v->iov_len;
            g->i++;
            continue;
        }
        size_t in = off - g->base, take = v->iov_len - in;
        if (take > n)
            take = n;
        int err = g->to_guest ? mm_copy_out(g->t->mm, v->iov_base + in, p, take)
                              : mm_copy_in(g->t->mm, p, v->iov_base + in, take);
        if (err)
            return -ABI_EFAULT;
        p += take;
        off += take;
        n -= take;
    }
    return 0;
}

/* Linux's import_iovec: at most UIO_MAXIOV segments (EMSGSIZE from msghdr
 * callers), bases in user space, the total capped at MAX_RW_COUNT. vec is
 * malloc'ed. */
static int64_t load_iov(struct task *t, uint64_t uiov, uint64_t cnt, struct abi_iovec **vec)
{
    *vec = NULL;
    if (cnt > ABI_UIO_MAXIOV)
        return -ABI_EMSGSIZE;
    if (!cnt)
        return 0;
    struct abi_iovec *v = malloc(sizeof(*v) * cnt);
    if (!v)
        return -ABI_ENOMEM;
    if (mm_copy_in(t->mm, v, uiov, sizeof(*v) * cnt) != 0) {
        free(v);
        return -ABI_EFAULT;
    }
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((int64_t)v[i].iov_len < 0) {
            free(v);
            return -ABI_EINVAL;
        }
        if (!kernel_access_ok(v[i].iov_base, v[i].iov_len)) {
            free(v);
            return -ABI_EFAULT;
        }
        if (v[i].iov_len > MAX_RW_COUNT - total)
            v[i].iov_len = MAX_RW_COUNT - total;
        total += v[i].iov_len;
    }
    *vec = v;
    return (int64_t)total;
}

/* ---- control messages ---- */

static void put_files(struct vfs_file **files, int n)
{
    for (int i = 0; i < n; i++)
        vfs_file_put(files[i]);
    free(files);
}

/* SCM_CREDENTIALS a sender may claim: its own ids, or any with the
 * capability (CAP_SYS_ADMIN for the pid, CAP_SETUID, CAP_SETGID). */
static int check_creds(struct task *t, const struct abi_ucred *c)
{
    const struct task_creds *cr = &t->creds;
    if (c->pid != t->pid && !cred_capable(cr, ABI_CAP_SYS_ADMIN))
        return -ABI_EPERM;
    if (c->uid != cr->uid && c->uid != cr->euid && c->uid != cr->suid &&
        !cred_capable(cr, ABI_CAP_SETUID))
        return -ABI_EPERM;
    if (c->gid != cr->gid && c->gid != cr->egid && c->gid != cr->sgid &&
        !cred_capable(cr, ABI_CAP_SETGID))
        return -ABI_EPERM;
    return 0;
}

/* Parses sendmsg's control data into m: fds become referenced files. */
static int parse_control(struct task *t, const uint8_t *ctl, size_t len, struct net_send *m,
                         struct net_cred *cred)
{
    size_t off = 0;
    while (len - off >= sizeof(struct abi_cmsghdr)) {
        struct abi_cmsghdr h;
        memcpy(&h, ctl + off, sizeof(h));
        if (h.cmsg_len < sizeof(h) || h.cmsg_len > len - off)
            return -ABI_EINVAL;
        const uint8_t *data = ctl + off + sizeof(h);
        size_t dlen = h.cmsg_len - sizeof(h);
        if (h.cmsg_level == ABI_SOL_SOCKET) {
            if (h.cmsg_type == ABI_SCM_RIGHTS) {
                int n = (int)(dlen / sizeof(int32_t));
                if (n > ABI_SCM_MAX_FD || m->nfiles + n > ABI_SCM_MAX_FD)
                    return -ABI_EINVAL;
                if (n > 0) {
                    struct vfs_file **files =
                        realloc(m->files, sizeof(*files) * (size_t)(m->nfiles + n));
                    if (!files)
                        return -ABI_ENOMEM;
                    m->files = files;
                    for (int i = 0; i < n; i++) {
                        int32_t fd;
                        memcpy(&fd, data + (size_t)i * sizeof(fd), sizeof(fd));
                        struct vfs_file *f = fd < 0 ? NULL : vfs_fd_lookup(t->fds, fd);
                        if (!f)
                            return -ABI_EBADF;
                        files[m->nfiles++] = vfs_file_get(f);
                    }
                }
            } else if (h.cmsg_type == ABI_SCM_CREDENTIALS) {
                struct abi_ucred c;
                if (h.cmsg_len != ABI_CMSG_LEN(sizeof(c)))
                    return -ABI_EINVAL;
                memcpy(&c, data, sizeof(c));
                int err = check_creds(t, &c);
                if (err)
                    return err;
                *cred = (struct net_cred){c.pid, c.uid, c.gid};
                m->cred = cred;
            } else {
                return -ABI_EINVAL;
            }
        }
        size_t step = ABI_CMSG_ALIGN(h.cmsg_len);
        if (step > len - off)
            break;
        off += step;
    }
    return 0;
}

/* Where recvmsg's control messages go: the guest buffer and the room left
 * in it, and msg_flags. */
struct cmsg_out {
    uint64_t at;
    uint64_t left;
    int *flags;
};

/* One control message, cut to the room there is (MSG_CTRUNC), as Linux's
 * put_cmsg. */
static int put_cmsg(struct task *t, struct cmsg_out *o, int type, const void *data, size_t len)
{
    if (!o->at || o->left < sizeof(struct abi_cmsghdr)) {
        *o->flags |= ABI_MSG_CTRUNC;
        return 0;
    }
    size_t cmlen = ABI_CMSG_LEN(len);
    if (o->left < cmlen) {
        *o->flags |= ABI_MSG_CTRUNC;
        cmlen = o->left;
    }
    struct abi_cmsghdr h = {cmlen, ABI_SOL_SOCKET, type};
    if (mm_copy_out(t->mm, o->at, &h, sizeof(h)) != 0 ||
        mm_copy_out(t->mm, o->at + sizeof(h), data, cmlen - sizeof(h)) != 0)
        return -ABI_EFAULT;
    size_t space = ABI_CMSG_SPACE(len);
    if (space > o->left)
        space = o->left;
    o->at += space;
    o->left -= space;
    return 0;
}

/* SCM_RIGHTS: as many fds as fit are installed, the rest are closed
 * (MSG_CTRUNC). The files array is consumed. */
static int put_rights(struct task *t, struct cmsg_out *o, struct vfs_file **files, int n,
                      bool cloexec)
{
    int max = 0;
    if (o->at && o->left > sizeof(struct abi_cmsghdr))
        max = (int)((o->left - sizeof(struct abi_cmsghdr)) / sizeof(int32_t));
    if (max > n)
        max = n;
    int done = 0, err = 0;
    for (; done < max; done++) {
        int fd = vfs_fd_install(t->fds, 0, files[done], cloexec, nofile_limit(t));
        if (fd < 0)
            break;
        int32_t v = fd;
        if (mm_copy_out(t->mm, o->at + sizeof(struct abi_cmsghdr) + (size_t)done * sizeof(v), &v,
                        sizeof(v)) != 0) {
            vfs_fd_close(t->fds, fd);
            err = -ABI_EFAULT;
            break;
        }
    }
    if (done > 0) {
        struct abi_cmsghdr h = {ABI_CMSG_LEN((size_t)done * sizeof(int32_t)), ABI_SOL_SOCKET,
                                ABI_SCM_RIGHTS};
        if (mm_copy_out(t->mm, o->at, &h, sizeof(h)) != 0)
            err = -ABI_EFAULT;
        size_t space = ABI_CMSG_SPACE((size_t)done * sizeof(int32_t));
        if (space > o->left)
            space = o->left;
        o->at += space;
        o->left -= space;
    }
    if (done < n)
        *o->flags |= ABI_MSG_CTRUNC;
    put_files(files, n);
    return err;
}

/* ---- send and receive ---- */

static int64_t do_send(struct task *t, struct vfs_file *f, struct net_socket *s,
                       const struct abi_iovec *vec, uint64_t cnt, uint64_t total,
                       const uint8_t *addr, size_t addrlen, const uint8_t *ctl, size_t ctllen,
                       int flags)
{
    struct guest_io g = {{(size_t)total, guest_xfer}, t, vec, cnt, false, 0, 0};
    struct net_send m = {
        .io = &g.io,
        .addr = addrlen ? addr : NULL,
        .addrlen = addrlen,
        .flags = flags,
        .nonblock = (f->flags & ABI_O_NONBLOCK) || (flags & ABI_MSG_DONTWAIT),
    };
    struct net_cred cred;
    int err = ctllen ? parse_control(t, ctl, ctllen, &m, &cred) : 0;
    int64_t r = err ? err : s->ops->send(s, t, &m);
    put_files(m.files, m.nfiles);
    return r;
}

static int64_t do_recv(struct task *t, struct vfs_file *f, struct net_socket *s,
                       const struct abi_iovec *vec, uint64_t cnt, uint64_t total, int flags,
                       struct net_recv *r)
{
    struct guest_io g = {{(size_t)total, guest_xfer}, t, vec, cnt, true, 0, 0};
    memset(r, 0, sizeof(*r));
    r->io = &g.io;
    r->flags = flags;
    r->nonblock = (f->flags & ABI_O_NONBLOCK) || (flags & ABI_MSG_DONTWAIT);
    return s->ops->recv(s, t, r);
}

int64_t sys_sendto(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f;
    struct net_socket *s;
    int err = sock_lookup(t, a[0], &f, &s);
    if (err)
        return err;
    uint64_t len = a[2] > INT32_MAX ? INT32_MAX : a[2];
    if (!kernel_access_ok(a[1], len))
        return -ABI_EFAULT;
    uint8_t addr[ABI_SOCKADDR_MAX];
    size_t addrlen = 0;
    if (a[4]) {
        if ((err = addr_in(t, a[4], a[5], addr)))
            return err;
        addrlen = (uint32_t)a[5];
    }
    struct abi_iovec one = {a[1], len};
    return do_send(t, f, s, &one, 1, len, addr, addrlen, NULL, 0, (int)a[3]);
}

int64_t sys_recvfrom(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f;
    struct net_socket *s;
    int err = sock_lookup(t, a[0], &f, &s);
    if (err)
        return err;
    uint64_t len = a[2] > INT32_MAX ? INT32_MAX : a[2];
    if (!kernel_access_ok(a[1], len))
        return -ABI_EFAULT;
    struct abi_iovec one = {a[1], len};
    struct net_recv r;
    int64_t n = do_recv(t, f, s, &one, 1, len, (int)a[3], &r);
    put_files(r.files, r.nfiles);
    if (n >= 0 && a[4]) {
        if ((err = addr_out(t, r.addr, r.addrlen, a[4], a[5])))
            return err;
    }
    return n;
}

static int64_t sendmsg_one(struct task *t, struct vfs_file *f, struct net_socket *s, uint64_t umsg,
                           int flags)
{
    struct abi_msghdr h;
    if (mm_copy_in(t->mm, &h, umsg, sizeof(h)) != 0)
        return -ABI_EFAULT;
    uint8_t addr[ABI_SOCKADDR_MAX];
    size_t addrlen = 0;
    int64_t err;
    if (h.msg_name && h.msg_namelen) {
        if ((err = addr_in(t, h.msg_name, h.msg_namelen, addr)))
            return err;
        addrlen = h.msg_namelen;
    }
    if (h.msg_iovlen > ABI_UIO_MAXIOV)
        return -ABI_EMSGSIZE;
    if (h.msg_controllen > INT32_MAX)
        return -ABI_ENOBUFS;
    uint8_t *ctl = NULL;
    if (h.msg_controllen) {
        if (h.msg_controllen > OPTMEM_MAX)
            return -ABI_ENOBUFS;
        ctl = malloc(h.msg_controllen);
        if (!ctl)
            return -ABI_ENOBUFS;
        if (mm_copy_in(t->mm, ctl, h.msg_control, h.msg_controllen) != 0) {
            free(ctl);
            return -ABI_EFAULT;
        }
    }
    struct abi_iovec *vec;
    int64_t total = load_iov(t, h.msg_iov, h.msg_iovlen, &vec);
    if (total < 0) {
        free(ctl);
        return total;
    }
    int64_t r = do_send(t, f, s, vec, h.msg_iovlen, (uint64_t)total, addr, addrlen, ctl,
                        h.msg_controllen, flags);
    free(vec);
    free(ctl);
    return r;
}

static int64_t recvmsg_one(struct task *t, struct vfs_file *f, struct net_socket *s, uint64_t umsg,
                           int flags)
{
    struct abi_msghdr h;
    if (mm_copy_in(t->mm, &h, umsg, sizeof(h)) != 0)
        return -ABI_EFAULT;
    if ((int32_t)h.msg_namelen < 0)
        return -ABI_EINVAL;
    uint32_t namelen = h.msg_namelen > ABI_SOCKADDR_MAX ? ABI_SOCKADDR_MAX : h.msg_namelen;
    if (h.msg_iovlen > ABI_UIO_MAXIOV)
        return -ABI_EMSGSIZE;
    struct abi_iovec *vec;
    int64_t total = load_iov(t, h.msg_iov, h.msg_iovlen, &vec);
    if (total < 0)
        return total;
    struct net_recv r;
    int64_t n = do_recv(t, f, s, vec, h.msg_iovlen, (uint64_t)total, flags, &r);
    free(vec);
    if (n < 0) {
        put_files(r.files, r.nfiles);
        return n;
    }
    int oflags = r.msg_flags;
    struct cmsg_out o = {h.msg_control, h.msg_controllen, &oflags};
    int err = 0;
    if (r.has_cred) {
        struct abi_ucred c = {r.cred.pid, r.cred.uid, r.cred.gid};
        err = put_cmsg(t, &o, ABI_SCM_CREDENTIALS, &c, sizeof(c));
    }
    if (r.nfiles) {
        int e = put_rights(t, &o, r.files, r.nfiles, flags & ABI_MSG_CMSG_CLOEXEC);
        if (!err)
            err = e;
    } else {
        free(r.files);
    }
    if (err)
        return err;
    /* What Linux writes back: the name (cut to the room given) and its
     * whole length, the control bytes used, and the flags. */
    uint32_t outlen = 0;
    if (h.msg_name && r.addrlen) {
        size_t cp = r.addrlen < namelen ? r.addrlen : namelen;
        if (mm_copy_out(t->mm, h.msg_name, r.addr, cp) != 0)
            return -ABI_EFAULT;
        outlen = (uint32_t)r.addrlen;
    }
    h.msg_namelen = outlen;
    h.msg_controllen -= o.left;
    h.msg_flags = oflags;
    if (mm_copy_out(t->mm, umsg + offsetof(struct abi_msghdr, msg_namelen), &h.msg_namelen,
                    sizeof(h.msg_namelen)) != 0 ||
        mm_copy_out(t->mm, umsg + offsetof(struct abi_msghdr, msg_controllen), &h.msg_controllen,
                    sizeof(h.msg_controllen)) != 0 ||
        mm_copy_out(t->mm, umsg + offsetof(struct abi_msghdr, msg_flags), &h.msg_flags,
                    sizeof(h.msg_flags)) != 0)
        return -ABI_EFAULT;
    return n;
}

int64_t sys_sendmsg(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f;
    struct net_socket *s;
    int err = sock_lookup(t, a[0], &f, &s);
    if (err)
        return err;
    return sendmsg_one(t, f, s, a[1], (int)a[2]);
}

int64_t sys_recvmsg(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f;
    struct net_socket *s;
    int err = sock_lookup(t, a[0], &f, &s);
    if (err)
        return err;
    return recvmsg_one(t, f, s, a[1], (int)a[2]);
}

/* sendmmsg and recvmmsg: one message after another; the count done, or
 * the first one's error. */
static int64_t mmsg(struct task *t, const uint64_t a[6], bool send)
{
    struct vfs_file *f;
    struct net_socket *s;
    int err = sock_lookup(t, a[0], &f, &s);
    if (err)
        return err;
    uint64_t vlen = (uint32_t)a[2];
    if (vlen > ABI_UIO_MAXIOV)
        vlen = ABI_UIO_MAXIOV;
    int flags = (int)a[3];
    if (!send && a[4]) {
        struct abi_timespec ts;
        if (mm_copy_in(t->mm, &ts, a[4], sizeof(ts)) != 0)
            return -ABI_EFAULT;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
            return -ABI_EINVAL;
    }
    uint64_t done = 0;
    int64_t r = 0;
    for (; done < vlen; done++) {
        uint64_t at = a[1] + done * sizeof(struct abi_mmsghdr);
        r = send ? sendmsg_one(t, f, s, at, flags & ~ABI_MSG_WAITFORONE)
                 : recvmsg_one(t, f, s, at, flags & ~ABI_MSG_WAITFORONE);
        if (r < 0)
            break;
        uint32_t n = (uint32_t)r;
        if (mm_copy_out(t->mm, at + offsetof(struct abi_mmsghdr, msg_len), &n, sizeof(n)) != 0) {
            r = -ABI_EFAULT;
            break;
        }
        if (!send && (flags & ABI_MSG_WAITFORONE))
            flags |= ABI_MSG_DONTWAIT;
    }
    if (done)
        return (int64_t)done;
    return r;
}

int64_t sys_sendmmsg(struct task *t, const uint64_t a[6])
{
    return mmsg(t, a, true);
}

int64_t sys_recvmmsg(struct task *t, const uint64_t a[6])
{
    return mmsg(t, a, false);
}

/* ---- options ---- */

int64_t sys_getsockopt(struct task *t, const uint64_t a[6])
{
    struct net_socket *s;
    int err = sock_lookup(t, a[0], NULL, &s);
    if (err)
        return err;
    int level = (int)a[1], name = (int)a[2];
    if (level != ABI_SOL_SOCKET)
        return s->ops->getsockopt(s, level, name, NULL, NULL);
    int32_t ulen;
    if (mm_copy_in(t->mm, &ulen, a[4], sizeof(ulen)) != 0)
        return -ABI_EFAULT;
    if (ulen < 0)
        return -ABI_EINVAL;
    uint8_t val[64];
    size_t len = sizeof(val);
    if ((err = s->ops->getsockopt(s, level, name, val, &len)))
        return err;
    /* Linux gives what fits, and says how much that was. */
    if ((size_t)ulen < len)
        len = (size_t)ulen;
    if (len && mm_copy_out(t->mm, a[3], val, len) != 0)
        return -ABI_EFAULT;
    int32_t out = (int32_t)len;
    return mm_copy_out(t->mm, a[4], &out, sizeof(out)) != 0 ? -ABI_EFAULT : 0;
}

int64_t sys_setsockopt(struct task *t, const uint64_t a[6])
{
    struct net_socket *s;
    int err = sock_lookup(t, a[0], NULL, &s);
    if (err)
        return err;
    int32_t len = (int32_t)a[4];
    if (len < 0)
        return -ABI_EINVAL;
    uint8_t val[16];
    size_t n = (size_t)len < sizeof(val) ? (size_t)len : sizeof(val);
    if ((int)a[1] == ABI_SOL_SOCKET && n && mm_copy_in(t->mm, val, a[3], n) != 0)
        return -ABI_EFAULT;
    return s->ops->setsockopt(s, t, (int)a[1], (int)a[2], val, (size_t)len);
}
