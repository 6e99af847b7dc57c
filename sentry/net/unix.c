/* AF_UNIX sockets (see unix.h).
 *
 * Each socket owns a receive queue of messages; a send builds a message
 * and queues it on the receiving socket. A message remembers its sender
 * (referenced) and is charged to the sender's send buffer until it is
 * read, which is how a writer is held back, as Linux accounts sk_wmem_alloc:
 * reading frees the charge and wakes the sender. Stream reads join messages
 * into one byte stream; datagram and seqpacket reads take one message.
 *
 * A connection to a listening socket makes the server's end at once (an
 * "embryo" on the listener's accept queue, already connected to the client)
 * so the client can write before accept, as on Linux; the backlog bounds
 * that queue. Names live in one table: filesystem names by the S_IFSOCK
 * inode bind made (its filesystem and inode number), abstract names by
 * their bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/kernel.h"
#include "sentry/net/unix.h"

#define RCV_SHUTDOWN  1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3

/* Linux's SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF on x86-64. */
#define MIN_SNDBUF 4608
#define MIN_RCVBUF 2304
/* What a queued message costs its sender beyond its bytes (an skb's
 * overhead): keeps a flood of empty datagrams bounded. */
#define MSG_OVERHEAD 512

enum ustate { U_UNCONNECTED, U_LISTENING, U_CONNECTED };

struct uname {
    size_t len; /* 0: unbound; else the sockaddr's bytes, family included */
    uint8_t bytes[sizeof(struct abi_sockaddr_un)];
};

struct umsg {
    struct umsg *next;
    struct usock *sender; /* referenced */
    size_t len, off;      /* bytes, and those a stream read consumed */
    size_t charge;
    struct vfs_file **files;
    int nfiles;
    struct net_cred cred;
    struct uname from;
    char data[];
};

struct usock {
    struct net_socket base;
    int refs;
    bool dead; /* its last file is closed */
    enum ustate state;
    int shut;
    int err; /* SO_ERROR */
    struct usock *peer;
    struct uname name;
    /* A filesystem name: the socket inode (referenced), matched by its
     * filesystem and number. */
    struct vfs_inode *inode;
    struct usock *next_bound;
    /* Listening: the accept queue of connected server ends. */
    int backlog;
    struct usock *acc_head, *acc_tail, *acc_next;
    int nacc;
    /* The receive queue. */
    struct umsg *rq_head, *rq_tail;
    size_t rq_bytes;
    int rq_count;
    /* Charged bytes of its messages not yet read, and their payload. */
    size_t wcharge, wbytes;
    int sndbuf, rcvbuf;
    bool passcred;
    uint32_t bools; /* SO_REUSEADDR and friends, one bit per option number */
    int rcvlowat, priority;
    struct abi_linger linger;
    struct abi_timeval rcvtimeo, sndtimeo;
    bool has_peercred;
    struct net_cred peercred;
};

static const struct net_proto_ops unix_ops;
static struct usock *bound;
static unsigned next_autobind;

static struct usock *us(struct net_socket *s)
{
    return (struct usock *)s;
}

static struct usock *usock_get(struct usock *u)
{
    u->refs++;
    return u;
}

static void usock_close(struct usock *u, bool embryo);

/* Files travelling in messages, sandbox-wide. A guest can make a socket
 * that holds the only reference to itself in its own queue (nothing here
 * collects such cycles, as Linux's unix_gc does), so what can travel at once
 * is bounded instead: a send beyond it fails with ETOOMANYREFS, Linux's
 * answer when a user has too many fds in flight. */
#define UNIX_INFLIGHT_MAX 65536
static int inflight;

static int inflight_check(int n)
{
    return n > UNIX_INFLIGHT_MAX - inflight ? -ABI_ETOOMANYREFS : 0;
}

static void msg_free(struct umsg *m, bool drop_files)
{
    inflight -= m->nfiles;
    if (drop_files) {
        for (int i = 0; i < m->nfiles; i++)
            vfs_file_put(m->files[i]);
    }
    free(m->files);
    free(m);
}

static void usock_put(struct usock *u)
{
    if (--u->refs > 0)
        return;
    free(u);
}

static void notify(struct usock *u, uint32_t events)
{
    waitq_notify(&u->base.q, events);
}

static struct net_cred task_cred(struct task *t, bool effective)
{
    struct net_cred c = {0, 65534, 65534};
    if (t) {
        c.pid = t->pid;
        c.uid = effective ? t->creds.euid : t->creds.uid;
        c.gid = effective ? t->creds.egid : t->creds.gid;
    }
    return c;
}

static struct usock *usock_new(struct task *t, int type)
{
    struct usock *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    net_socket_init(&u->base, &unix_ops, ABI_AF_UNIX, type, 0, t);
    u->refs = 1;
    u->sndbuf = UNIX_DEFAULT_BUF;
    u->rcvbuf = UNIX_DEFAULT_BUF;
    u->rcvlowat = 1;
    return u;
}

static bool connection_type(const struct usock *u)
{
    return u->base.type != ABI_SOCK_DGRAM;
}

/* ---- messages ---- */

/* The message leaves the queue: its charge is the sender's again. */
static void uncharge(struct umsg *m)
{
    struct usock *s = m->sender;
    s->wcharge -= m->charge;
    s->wbytes -= m->len;
    notify(s, ABI_POLLOUT | ABI_POLLWRNORM | ABI_POLLWRBAND);
    usock_put(s);
    m->sender = NULL;
}

static struct umsg *dequeue(struct usock *u)
{
    struct umsg *m = u->rq_head;
    u->rq_head = m->next;
    if (!u->rq_head)
        u->rq_tail = NULL;
    u->rq_bytes -= m->len - m->off;
    u->rq_count--;
    uncharge(m);
    return m;
}

static void enqueue(struct usock *to, struct umsg *m)
{
    m->next = NULL;
    if (to->rq_tail)
        to->rq_tail->next = m;
    else
        to->rq_head = m;
    to->rq_tail = m;
    to->rq_bytes += m->len;
    to->rq_count++;
    notify(to, ABI_POLLIN | ABI_POLLRDNORM);
}

/* Drops every queued message; their files are closed, which may close
 * other sockets: the queue is detached first. */
static void flush(struct usock *u)
{
    struct umsg *m = u->rq_head;
    u->rq_head = u->rq_tail = NULL;
    u->rq_bytes = 0;
    u->rq_count = 0;
    while (m) {
        struct umsg *next = m->next;
        uncharge(m);
        msg_free(m, true);
        m = next;
    }
}

/* A message of n bytes from s, copied from io at off. */
static int msg_build(struct usock *s, struct task *t, struct net_io *io, size_t off, size_t n,
                     const struct net_cred *cred, struct umsg **out)
{
    struct umsg *m = calloc(1, sizeof(*m) + n);
    if (!m)
        return -ABI_ENOMEM;
    if (n && io->xfer(io, off, m->data, n) != 0) {
        free(m);
        return -ABI_EFAULT;
    }
    m->len = n;
    m->charge = n + MSG_OVERHEAD;
    m->cred = cred ? *cred : task_cred(t, false);
    m->from = s->name;
    m->sender = usock_get(s);
    s->wcharge += m->charge;
    s->wbytes += n;
    *out = m;
    return 0;
}

/* The files of m for a reader: moved out, or duplicated for MSG_PEEK. */
static int take_files(struct umsg *m, struct net_recv *r, bool peek)
{
    if (!m->nfiles)
        return 0;
    struct vfs_file **files = malloc(sizeof(*files) * (size_t)m->nfiles);
    if (!files)
        return -ABI_ENOMEM;
    for (int i = 0; i < m->nfiles; i++)
        files[i] = peek ? vfs_file_get(m->files[i]) : m->files[i];
    r->files = files;
    r->nfiles = m->nfiles;
    if (!peek) {
        inflight -= m->nfiles;
        free(m->files);
        m->files = NULL;
        m->nfiles = 0;
    }
    return 0;
}

/* ---- names ---- */

static bool name_eq(const struct uname *a, const struct uname *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static void bind_insert(struct usock *u)
{
    u->next_bound = bound;
    bound = u;
}

static void unbind(struct usock *u)
{
    for (struct usock **p = &bound; *p; p = &(*p)->next_bound) {
        if (*p == u) {
            *p = u->next_bound;
            break;
        }
    }
    if (u->inode) {
        vfs_inode_put(u->inode);
        u->inode = NULL;
    }
}

static struct usock *find_abstract(const struct uname *n)
{
    for (struct usock *u = bound; u; u = u->next_bound) {
        if (!u->inode && name_eq(&u->name, n))
            return u;
    }
    return NULL;
}

static struct usock *find_inode(const struct vfs_inode *ino)
{
    for (struct usock *u = bound; u; u = u->next_bound) {
        if (u->inode && u->inode->fs == ino->fs && u->inode->ino == ino->ino)
            return u;
    }
    return NULL;
}

/* Linux's unix_validate_addr: more than the family, at most a
 * sockaddr_un, family AF_UNIX. */
static int check_addr(const void *addr, size_t len)
{
    uint16_t family;
    if (len <= ABI_SUN_PATH_OFFSET || len > sizeof(struct abi_sockaddr_un))
        return -ABI_EINVAL;
    memcpy(&family, addr, sizeof(family));
    return family == ABI_AF_UNIX ? 0 : -ABI_EINVAL;
}

/* The filesystem path of an address (sun_path up to its first NUL), or ""
 * for an abstract one. */
static void addr_path(const void *addr, size_t len, char *path)
{
    size_t n = len - ABI_SUN_PATH_OFFSET;
    memcpy(path, (const char *)addr + ABI_SUN_PATH_OFFSET, n);
    path[n] = '\0';
}

static int autobind(struct usock *u)
{
    if (u->name.len)
        return 0;
    struct uname n;
    for (unsigned tries = 0; tries < 0x100000; tries++) {
        unsigned id = next_autobind++ & 0xfffff;
        uint16_t family = ABI_AF_UNIX;
        memset(&n, 0, sizeof(n));
        memcpy(n.bytes, &family, sizeof(family));
        char hex[8];
        snprintf(hex, sizeof(hex), "%05x", id);
        memcpy(n.bytes + ABI_SUN_PATH_OFFSET + 1, hex, 5);
        n.len = ABI_SUN_PATH_OFFSET + 6;
        if (!find_abstract(&n)) {
            u->name = n;
            bind_insert(u);
            return 0;
        }
    }
    return -ABI_ENOSPC;
}

/* The socket an address names, referenced. */
static int lookup(struct task *t, const void *addr, size_t len, int type, struct usock **out)
{
    int err = check_addr(addr, len);
    if (err)
        return err;
    struct usock *u;
    char path[sizeof(struct abi_sockaddr_un)];
    addr_path(addr, len, path);
    if (path[0]) {
        struct vfs_path start, p;
        if ((err = task_at_start(t, ABI_AT_FDCWD, path, &start)))
            return err;
        struct vfs_walk_ctx ctx;
        task_walk_ctx(t, &ctx);
        if ((err = vfs_walk(&ctx, start, path, 0, &p)))
            return err;
        struct vfs_inode *ino = p.dentry->inode;
        if ((ino->mode & ABI_S_IFMT) != ABI_S_IFSOCK)
            err = -ABI_ECONNREFUSED;
        else
            err = vfs_permission(&ctx.cred, ino, VFS_MAY_WRITE);
        u = err ? NULL : find_inode(ino);
        vfs_path_put(p);
        if (err)
            return err;
    } else {
        struct uname n = {len, {0}};
        memcpy(n.bytes, addr, len);
        u = find_abstract(&n);
    }
    if (!u)
        return -ABI_ECONNREFUSED;
    if (u->base.type != type)
        return -ABI_EPROTOTYPE;
    *out = usock_get(u);
    return 0;
}

static int unix_bind(struct net_socket *s, struct task *t, const void *addr, size_t len)
{
    struct usock *u = us(s);
    uint16_t family = 0;
    if (len >= sizeof(family))
        memcpy(&family, addr, sizeof(family));
    if (len == ABI_SUN_PATH_OFFSET && family == ABI_AF_UNIX)
        return autobind(u);
    int err = check_addr(addr, len);
    if (err)
        return err;
    char path[sizeof(struct abi_sockaddr_un)];
    addr_path(addr, len, path);
    struct uname n;
    memset(&n, 0, sizeof(n));
    if (!path[0]) {
        if (u->name.len)
            return -ABI_EINVAL;
        n.len = len;
        memcpy(n.bytes, addr, len);
        if (find_abstract(&n))
            return -ABI_EADDRINUSE;
        u->name = n;
        bind_insert(u);
        return 0;
    }
    /* The node first, as Linux: an existing name is EADDRINUSE even for a
     * socket that is already bound. */
    struct vfs_path start, p;
    struct vfs_walk_ctx ctx;
    if ((err = task_at_start(t, ABI_AT_FDCWD, path, &start)))
        return err;
    task_walk_ctx(t, &ctx);
    err = vfs_mknodat(&ctx, start, path, ABI_S_IFSOCK | (0777 & ~t->fs->umask), 0);
    if (err)
        return err == -ABI_EEXIST ? -ABI_EADDRINUSE : err;
    if (u->name.len) {
        vfs_unlinkat(&ctx, start, path);
        return -ABI_EINVAL;
    }
    if ((err = vfs_walk(&ctx, start, path, VFS_WALK_NOFOLLOW, &p)))
        return err;
    u->inode = vfs_inode_get(p.dentry->inode);
    vfs_path_put(p);
    n.len = ABI_SUN_PATH_OFFSET + strlen(path) + 1;
    memcpy(n.bytes, addr, n.len - 1);
    u->name = n;
    bind_insert(u);
    return 0;
}

/* ---- connections ---- */

static int listen_op(struct net_socket *s, struct task *t, int backlog)
{
    struct usock *u = us(s);
    if (!connection_type(u))
        return -ABI_EOPNOTSUPP;
    if (!u->name.len || (u->state != U_UNCONNECTED && u->state != U_LISTENING))
        return -ABI_EINVAL;
    if (backlog > u->backlog)
        notify(u, 0); /* room for connectors that wait */
    u->backlog = backlog;
    u->state = U_LISTENING;
    u->has_peercred = true;
    u->peercred = task_cred(t, true);
    return 0;
}

static struct kernel_deadline *deadline(const struct abi_timeval *tv, struct kernel_deadline *dl)
{
    if (tv->tv_sec == 0 && tv->tv_usec == 0)
        return NULL;
    struct timespec rel = {tv->tv_sec < 0 ? 0 : tv->tv_sec,
                           tv->tv_sec < 0 ? 0 : tv->tv_usec * 1000};
    *dl = kernel_deadline_after(CLOCK_MONOTONIC, &rel);
    return dl;
}

static int stream_connect(struct usock *u, struct task *t, const void *addr, size_t len,
                          bool nonblock)
{
    int err = check_addr(addr, len);
    if (err)
        return err;
    if (u->passcred && (err = autobind(u)))
        return err;
    struct kernel_deadline dlbuf, *dl = deadline(&u->sndtimeo, &dlbuf);
    for (;;) {
        struct usock *l;
        if ((err = lookup(t, addr, len, u->base.type, &l)))
            return err;
        if (l->state != U_LISTENING || l->dead) {
            usock_put(l);
            return -ABI_ECONNREFUSED;
        }
        if (l->nacc > l->backlog) {
            err = nonblock ? -ABI_EAGAIN : net_wait(t, &l->base.q, dl);
            usock_put(l);
            if (err)
                return err;
            continue;
        }
        /* Our own state only now, as Linux: a full backlog is EAGAIN even
         * for a socket that is already connected. */
        if (u->state != U_UNCONNECTED) {
            usock_put(l);
            return u->state == U_CONNECTED ? -ABI_EISCONN : -ABI_EINVAL;
        }
        struct usock *e = usock_new(t, u->base.type);
        if (!e) {
            usock_put(l);
            return -ABI_ENOMEM;
        }
        e->state = U_CONNECTED;
        e->name = l->name;
        e->sndbuf = l->sndbuf;
        e->rcvbuf = l->rcvbuf;
        e->has_peercred = true;
        e->peercred = task_cred(t, true);
        e->peer = usock_get(u);
        u->peer = usock_get(e);
        u->state = U_CONNECTED;
        u->has_peercred = true;
        u->peercred = l->peercred;
        /* The queue holds the reference usock_new gave. */
        if (l->acc_tail)
            l->acc_tail->acc_next = e;
        else
            l->acc_head = e;
        l->acc_tail = e;
        l->nacc++;
        notify(l, ABI_POLLIN | ABI_POLLRDNORM);
        notify(u, ABI_POLLOUT | ABI_POLLWRNORM);
        usock_put(l);
        return 0;
    }
}

static void dgram_disconnect(struct usock *u)
{
    if (u->peer) {
        usock_put(u->peer);
        u->peer = NULL;
    }
    u->state = U_UNCONNECTED;
}

static int unix_connect(struct net_socket *s, struct task *t, const void *addr, size_t len,
                        bool nonblock)
{
    struct usock *u = us(s);
    if (connection_type(u))
        return stream_connect(u, t, addr, len, nonblock);
    uint16_t family = 0;
    if (len >= sizeof(family))
        memcpy(&family, addr, sizeof(family));
    if (len >= sizeof(family) && family == ABI_AF_UNSPEC) {
        dgram_disconnect(u);
        return 0;
    }
    int err;
    if (u->passcred && (err = autobind(u)))
        return err;
    struct usock *o;
    if ((err = lookup(t, addr, len, u->base.type, &o)))
        return err;
    if (o->peer && o->peer != u) {
        usock_put(o);
        return -ABI_EPERM;
    }
    dgram_disconnect(u);
    u->peer = o;
    u->state = U_CONNECTED;
    notify(u, ABI_POLLOUT | ABI_POLLWRNORM);
    return 0;
}

static int unix_accept(struct net_socket *s, struct task *t, bool nonblock, struct net_socket **out)
{
    struct usock *u = us(s);
    if (!connection_type(u))
        return -ABI_EOPNOTSUPP;
    if (u->state != U_LISTENING)
        return -ABI_EINVAL;
    struct kernel_deadline dlbuf, *dl = deadline(&u->rcvtimeo, &dlbuf);
    while (!u->acc_head) {
        if (nonblock)
            return -ABI_EAGAIN;
        int err = net_wait(t, &u->base.q, dl);
        if (err)
            return err;
        if (u->state != U_LISTENING)
            return -ABI_EINVAL;
    }
    struct usock *e = u->acc_head;
    u->acc_head = e->acc_next;
    if (!u->acc_head)
        u->acc_tail = NULL;
    e->acc_next = NULL;
    u->nacc--;
    e->passcred = u->passcred;
    notify(u, 0); /* a connector waiting for room */
    *out = &e->base;
    return 0;
}

/* ---- sending ---- */

static int64_t pipe_error(struct task *t, int flags)
{
    if (!(flags & ABI_MSG_NOSIGNAL))
        net_sigpipe(t);
    return -ABI_EPIPE;
}

static int64_t stream_send(struct usock *u, struct task *t, struct net_send *m)
{
    if (m->addr)
        return u->state == U_CONNECTED ? -ABI_EISCONN : -ABI_EOPNOTSUPP;
    if (u->state != U_CONNECTED || !u->peer)
        return -ABI_ENOTCONN;
    if (u->shut & SEND_SHUTDOWN)
        return pipe_error(t, m->flags);
    struct kernel_deadline dlbuf, *dl = deadline(&u->sndtimeo, &dlbuf);
    size_t len = m->io->len, sent = 0;
    while (sent < len) {
        struct usock *o = u->peer;
        if (!o || o->dead || (o->shut & RCV_SHUTDOWN) || (u->shut & SEND_SHUTDOWN)) {
            if (sent)
                return (int64_t)sent;
            return pipe_error(t, m->flags);
        }
        if (u->wcharge >= (size_t)u->sndbuf) {
            int err = m->nonblock ? -ABI_EAGAIN : net_wait(t, &u->base.q, dl);
            if (err)
                return sent ? (int64_t)sent : err;
            continue;
        }
        size_t chunk = len - sent, most = (size_t)u->sndbuf / 2 - 64;
        if (chunk > most)
            chunk = most;
        struct umsg *msg;
        if (sent == 0 && m->nfiles && inflight_check(m->nfiles))
            return -ABI_ETOOMANYREFS;
        int err = msg_build(u, t, m->io, sent, chunk, m->cred, &msg);
        if (err)
            return sent ? (int64_t)sent : err;
        /* The fds go with the first part only. */
        if (sent == 0 && m->nfiles) {
            inflight += m->nfiles;
            msg->files = m->files;
            msg->nfiles = m->nfiles;
            m->files = NULL;
            m->nfiles = 0;
        }
        enqueue(o, msg);
        sent += chunk;
    }
    return (int64_t)sent;
}

static bool recvq_full(const struct usock *o)
{
    return o->rq_count > UNIX_MAX_DGRAM_QLEN;
}

static int64_t dgram_send(struct usock *u, struct task *t, struct net_send *m)
{
    bool seq = u->base.type == ABI_SOCK_SEQPACKET;
    size_t len = m->io->len;
    int err;
    struct usock *o = NULL;
    if (seq) {
        if (u->state != U_CONNECTED)
            return -ABI_ENOTCONN;
    } else if (m->addr) {
        if ((err = check_addr(m->addr, m->addrlen)))
            return err;
    } else if (!u->peer) {
        return -ABI_ENOTCONN;
    }
    if (len > (size_t)u->sndbuf - 32)
        return -ABI_EMSGSIZE;
    if (u->passcred && (err = autobind(u)))
        return err;
    if (!seq && m->addr) {
        if ((err = lookup(t, m->addr, m->addrlen, u->base.type, &o)))
            return err;
    } else {
        o = u->peer ? usock_get(u->peer) : NULL;
    }
    struct kernel_deadline dlbuf, *dl = deadline(&u->sndtimeo, &dlbuf);
    for (;;) {
        /* Datagram and seqpacket sockets never raise SIGPIPE. */
        if (u->shut & SEND_SHUTDOWN) {
            err = -ABI_EPIPE;
            break;
        }
        if (!o || o->dead) {
            if (seq) {
                err = -ABI_EPIPE;
            } else {
                if (o && u->peer == o)
                    dgram_disconnect(u);
                err = o ? -ABI_ECONNREFUSED : -ABI_ENOTCONN;
            }
            break;
        }
        if (!seq && o->peer && o->peer != u) {
            err = -ABI_EPERM;
            break;
        }
        if (o->shut & RCV_SHUTDOWN) {
            err = -ABI_EPIPE;
            break;
        }
        bool room = u->wcharge < (size_t)u->sndbuf;
        if (!room || (o->peer != u && recvq_full(o))) {
            if (m->nonblock) {
                err = -ABI_EAGAIN;
                break;
            }
            /* Woken by our own messages being read, or o's queue
             * draining. */
            struct waitq_entry e;
            task_waiter_init(t, &e, 0);
            waitq_add(&o->base.q, &e);
            err = net_wait(t, &u->base.q, dl);
            waitq_remove(&e);
            if (err)
                break;
            continue;
        }
        struct umsg *msg;
        if ((err = inflight_check(m->nfiles)))
            break;
        if ((err = msg_build(u, t, m->io, 0, len, m->cred, &msg)))
            break;
        inflight += m->nfiles;
        msg->files = m->files;
        msg->nfiles = m->nfiles;
        m->files = NULL;
        m->nfiles = 0;
        enqueue(o, msg);
        usock_put(o);
        return (int64_t)len;
    }
    if (o)
        usock_put(o);
    return err;
}

static int64_t unix_send(struct net_socket *s, struct task *t, struct net_send *m)
{
    struct usock *u = us(s);
    if (m->flags & ABI_MSG_OOB)
        return -ABI_EOPNOTSUPP;
    if (u->base.type == ABI_SOCK_STREAM)
        return stream_send(u, t, m);
    return dgram_send(u, t, m);
}

/* ---- receiving ---- */

static void set_from(struct net_recv *r, const struct umsg *m)
{
    r->addrlen = m->from.len;
    memcpy(r->addr, m->from.bytes, m->from.len);
}

static bool cred_eq(const struct net_cred *a, const struct net_cred *b)
{
    return a->pid == b->pid && a->uid == b->uid && a->gid == b->gid;
}

/* Waits for the queue to change; 0 to look again, or the call's error
 * (SO_ERROR first, then EOF, as POSIX orders them). *eof is set at the
 * end of the stream. */
static int wait_data(struct usock *u, struct task *t, struct net_recv *r,
                     const struct kernel_deadline *dl, bool *eof)
{
    if (u->err) {
        int err = -u->err;
        u->err = 0;
        return err;
    }
    if (u->shut & RCV_SHUTDOWN) {
        *eof = true;
        return 0;
    }
    if (r->nonblock)
        return -ABI_EAGAIN;
    return net_wait(t, &u->base.q, dl);
}

static int64_t stream_recv(struct usock *u, struct task *t, struct net_recv *r)
{
    if (u->state != U_CONNECTED)
        return -ABI_EINVAL;
    bool peek = r->flags & ABI_MSG_PEEK;
    size_t len = r->io->len, copied = 0;
    size_t target = (r->flags & ABI_MSG_WAITALL) ? len : (size_t)u->rcvlowat;
    if (target > len)
        target = len;
    if (target == 0)
        target = 1;
    struct kernel_deadline dlbuf, *dl = deadline(&u->rcvtimeo, &dlbuf);
    bool have_cred = false;
    struct net_cred cred = {0, 0, 0};
    struct umsg *pm = NULL; /* MSG_PEEK's position */
    size_t skip = 0;
    int err = 0;
    /* An empty read still waits for data to be there, as Linux's. */
    while (len == 0 && !u->rq_head) {
        bool eof = false;
        if ((err = wait_data(u, t, r, dl, &eof)) || eof)
            return err;
    }
    while (copied < len) {
        struct umsg *m = peek ? (pm ? pm : u->rq_head) : u->rq_head;
        if (peek && pm && skip >= pm->len - pm->off) {
            m = pm->next;
            skip = 0;
        }
        if (!m) {
            /* A peek does not wait for more once it has something: what
             * it looked at may be gone by then. */
            if (copied >= target || (peek && copied))
                break;
            bool eof = false;
            err = wait_data(u, t, r, dl, &eof);
            if (err || eof)
                break;
            pm = NULL;
            skip = 0;
            continue;
        }
        /* Never join what different writers sent, when the reader asks
         * whose it is. */
        if (u->passcred) {
            if (have_cred && !cred_eq(&cred, &m->cred))
                break;
            cred = m->cred;
            have_cred = true;
        }
        if (copied == 0)
            set_from(r, m);
        size_t avail = m->len - m->off - skip, chunk = len - copied;
        if (chunk > avail)
            chunk = avail;
        if (chunk && r->io->xfer(r->io, copied, m->data + m->off + skip, chunk) != 0) {
            err = -ABI_EFAULT;
            break;
        }
        copied += chunk;
        bool files = m->nfiles > 0;
        if (files && (err = take_files(m, r, peek)))
            break;
        if (peek) {
            pm = m;
            skip += chunk;
        } else {
            m->off += chunk;
            u->rq_bytes -= chunk;
            if (m->off == m->len)
                msg_free(dequeue(u), true);
        }
        if (files)
            break;
    }
    if (have_cred) {
        r->has_cred = true;
        r->cred = cred;
    }
    return copied ? (int64_t)copied : err;
}

static int64_t dgram_recv(struct usock *u, struct task *t, struct net_recv *r)
{
    if (u->base.type == ABI_SOCK_SEQPACKET && u->state != U_CONNECTED)
        return -ABI_ENOTCONN;
    bool peek = r->flags & ABI_MSG_PEEK;
    struct kernel_deadline dlbuf, *dl = deadline(&u->rcvtimeo, &dlbuf);
    while (!u->rq_head) {
        bool eof = false;
        int err = wait_data(u, t, r, dl, &eof);
        if (err)
            return err;
        if (eof)
            return 0;
    }
    struct umsg *m = u->rq_head;
    size_t len = r->io->len, n = m->len < len ? m->len : len;
    if (m->len > len)
        r->msg_flags |= ABI_MSG_TRUNC;
    set_from(r, m);
    if (u->passcred) {
        r->has_cred = true;
        r->cred = m->cred;
    }
    int err = n ? r->io->xfer(r->io, 0, m->data, n) : 0;
    if (!err)
        err = take_files(m, r, peek);
    size_t whole = m->len;
    if (!peek)
        msg_free(dequeue(u), true);
    if (err)
        return err;
    return (r->flags & ABI_MSG_TRUNC) ? (int64_t)whole : (int64_t)n;
}

static int64_t unix_recv(struct net_socket *s, struct task *t, struct net_recv *r)
{
    struct usock *u = us(s);
    if (r->flags & ABI_MSG_OOB)
        return -ABI_EOPNOTSUPP;
    if (u->base.type == ABI_SOCK_STREAM)
        return stream_recv(u, t, r);
    return dgram_recv(u, t, r);
}

/* ---- the rest ---- */

static int unix_shutdown(struct net_socket *s, int how)
{
    struct usock *u = us(s);
    if (how < ABI_SHUT_RD || how > ABI_SHUT_RDWR)
        return -ABI_EINVAL;
    int mode = how + 1; /* SHUT_RD -> RCV_SHUTDOWN, ... */
    u->shut |= mode;
    notify(u, ABI_POLLIN | ABI_POLLOUT | ABI_POLLRDHUP | ABI_POLLHUP);
    struct usock *o = u->peer;
    if (o && connection_type(u)) {
        int pm = ((mode & RCV_SHUTDOWN) ? SEND_SHUTDOWN : 0) |
                 ((mode & SEND_SHUTDOWN) ? RCV_SHUTDOWN : 0);
        o->shut |= pm;
        notify(o, ABI_POLLIN | ABI_POLLOUT | ABI_POLLRDHUP | ABI_POLLHUP);
    }
    return 0;
}

static int unix_getname(struct net_socket *s, bool peer, void *addr)
{
    struct usock *u = us(s);
    const struct usock *n = u;
    if (peer) {
        if (!u->peer || (connection_type(u) && u->state != U_CONNECTED))
            return -ABI_ENOTCONN;
        n = u->peer;
    }
    if (!n->name.len) {
        uint16_t family = ABI_AF_UNIX;
        memcpy(addr, &family, sizeof(family));
        return (int)sizeof(family);
    }
    memcpy(addr, n->name.bytes, n->name.len);
    return (int)n->name.len;
}

/* Options that only hold a value for getsockopt to give back. */
static bool is_bool_option(int name)
{
    return name == ABI_SO_REUSEADDR || name == ABI_SO_KEEPALIVE || name == ABI_SO_BROADCAST ||
           name == ABI_SO_DEBUG || name == ABI_SO_DONTROUTE || name == ABI_SO_OOBINLINE ||
           name == ABI_SO_REUSEPORT;
}

static int unix_getsockopt(struct net_socket *s, int level, int name, void *val, size_t *len)
{
    struct usock *u = us(s);
    if (level != ABI_SOL_SOCKET)
        return -ABI_EOPNOTSUPP;
    int32_t v;
    switch (name) {
    case ABI_SO_TYPE:
        v = u->base.type;
        break;
    case ABI_SO_DOMAIN:
        v = ABI_AF_UNIX;
        break;
    case ABI_SO_PROTOCOL:
        v = u->base.protocol;
        break;
    case ABI_SO_ERROR:
        v = u->err;
        u->err = 0;
        break;
    case ABI_SO_SNDBUF:
        v = u->sndbuf;
        break;
    case ABI_SO_RCVBUF:
        v = u->rcvbuf;
        break;
    case ABI_SO_PASSCRED:
        v = u->passcred;
        break;
    case ABI_SO_ACCEPTCONN:
        v = u->state == U_LISTENING;
        break;
    case ABI_SO_RCVLOWAT:
        v = u->rcvlowat;
        break;
    case ABI_SO_SNDLOWAT:
        v = 1;
        break;
    case ABI_SO_PRIORITY:
        v = u->priority;
        break;
    case ABI_SO_PEERCRED: {
        struct abi_ucred c = {0, (uint32_t)-1, (uint32_t)-1};
        if (u->has_peercred)
            c = (struct abi_ucred){u->peercred.pid, u->peercred.uid, u->peercred.gid};
        memcpy(val, &c, sizeof(c));
        *len = sizeof(c);
        return 0;
    }
    case ABI_SO_LINGER:
        memcpy(val, &u->linger, sizeof(u->linger));
        *len = sizeof(u->linger);
        return 0;
    case ABI_SO_RCVTIMEO:
    case ABI_SO_SNDTIMEO:
        memcpy(val, name == ABI_SO_RCVTIMEO ? &u->rcvtimeo : &u->sndtimeo,
               sizeof(struct abi_timeval));
        *len = sizeof(struct abi_timeval);
        return 0;
    default:
        if (!is_bool_option(name))
            return -ABI_ENOPROTOOPT;
        v = (u->bools >> name) & 1;
        break;
    }
    memcpy(val, &v, sizeof(v));
    *len = sizeof(v);
    return 0;
}

static int set_buf(struct usock *u, int name, int32_t v, struct task *t)
{
    bool force = name == ABI_SO_SNDBUFFORCE || name == ABI_SO_RCVBUFFORCE;
    bool snd = name == ABI_SO_SNDBUF || name == ABI_SO_SNDBUFFORCE;
    int64_t want;
    if (force) {
        if (!t || !cred_capable(&t->creds, ABI_CAP_NET_ADMIN))
            return -ABI_EPERM;
        want = v < 0 ? 0 : (int64_t)v;
    } else {
        /* Linux takes the value as unsigned: a negative one is the most. */
        uint32_t uv = (uint32_t)v;
        want = uv > UNIX_MAX_BUF ? UNIX_MAX_BUF : uv;
    }
    want *= 2;
    int64_t min = snd ? MIN_SNDBUF : MIN_RCVBUF;
    if (want < min)
        want = min;
    if (want > INT32_MAX)
        want = INT32_MAX;
    if (snd) {
        u->sndbuf = (int)want;
        notify(u, ABI_POLLOUT | ABI_POLLWRNORM);
    } else {
        u->rcvbuf = (int)want;
    }
    return 0;
}

static int unix_setsockopt(struct net_socket *s, struct task *t, int level, int name,
                           const void *val, size_t len)
{
    struct usock *u = us(s);
    if (level != ABI_SOL_SOCKET)
        return -ABI_EOPNOTSUPP;
    if (name == ABI_SO_RCVTIMEO || name == ABI_SO_SNDTIMEO) {
        struct abi_timeval tv;
        if (len < sizeof(tv))
            return -ABI_EINVAL;
        memcpy(&tv, val, sizeof(tv));
        if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
            return -ABI_EDOM;
        if (tv.tv_sec < 0)
            tv = (struct abi_timeval){0, 0};
        *(name == ABI_SO_RCVTIMEO ? &u->rcvtimeo : &u->sndtimeo) = tv;
        return 0;
    }
    if (name == ABI_SO_LINGER) {
        if (len < sizeof(u->linger))
            return -ABI_EINVAL;
        memcpy(&u->linger, val, sizeof(u->linger));
        u->linger.l_onoff = u->linger.l_onoff != 0;
        return 0;
    }
    if (len < sizeof(int32_t))
        return -ABI_EINVAL;
    int32_t v;
    memcpy(&v, val, sizeof(v));
    switch (name) {
    case ABI_SO_SNDBUF:
    case ABI_SO_RCVBUF:
    case ABI_SO_SNDBUFFORCE:
    case ABI_SO_RCVBUFFORCE:
        return set_buf(u, name, v, t);
    case ABI_SO_PASSCRED:
        u->passcred = v != 0;
        return 0;
    case ABI_SO_RCVLOWAT:
        u->rcvlowat = v < 0 ? INT32_MAX : (v ? v : 1);
        return 0;
    case ABI_SO_PRIORITY:
        if ((v < 0 || v > 6) && !(t && cred_capable(&t->creds, ABI_CAP_NET_ADMIN)))
            return -ABI_EPERM;
        u->priority = v;
        return 0;
    default:
        if (!is_bool_option(name))
            return -ABI_ENOPROTOOPT;
        if (v)
            u->bools |= 1u << name;
        else
            u->bools &= ~(1u << name);
        return 0;
    }
}

static bool writable(const struct usock *u)
{
    return u->state != U_LISTENING && u->wcharge * 4 <= (size_t)u->sndbuf;
}

static uint32_t unix_poll(struct net_socket *s)
{
    struct usock *u = us(s);
    uint32_t mask = 0;
    if (u->err)
        mask |= ABI_POLLERR;
    if (u->shut == SHUTDOWN_MASK)
        mask |= ABI_POLLHUP;
    if (u->shut & RCV_SHUTDOWN)
        mask |= ABI_POLLRDHUP | ABI_POLLIN | ABI_POLLRDNORM;
    if (u->rq_head || u->acc_head)
        mask |= ABI_POLLIN | ABI_POLLRDNORM;
    if (connection_type(u) && u->state == U_UNCONNECTED)
        mask |= ABI_POLLHUP;
    bool w = writable(u);
    if (w && !connection_type(u) && u->peer && u->peer->peer != u && recvq_full(u->peer))
        w = false;
    if (w)
        mask |= ABI_POLLOUT | ABI_POLLWRNORM | ABI_POLLWRBAND;
    return mask;
}

static int unix_ioctl(struct net_socket *s, uint32_t req, int32_t *val)
{
    struct usock *u = us(s);
    if (req == ABI_SIOCINQ) {
        if (u->state == U_LISTENING)
            return -ABI_EINVAL;
        size_t n =
            u->base.type == ABI_SOCK_STREAM ? u->rq_bytes : (u->rq_head ? u->rq_head->len : 0);
        *val = n > INT32_MAX ? INT32_MAX : (int32_t)n;
        return 0;
    }
    if (req == ABI_SIOCOUTQ) {
        *val = u->wbytes > INT32_MAX ? INT32_MAX : (int32_t)u->wbytes;
        return 0;
    }
    return -ABI_ENOIOCTLCMD;
}

/* The socket goes away: its name, its connection (the peer sees the end of
 * the stream, and ECONNRESET if this end left data unread or was never
 * accepted), its queue and the connections waiting on it. */
static void usock_close(struct usock *u, bool embryo)
{
    u->dead = true;
    unbind(u);
    while (u->acc_head) {
        struct usock *e = u->acc_head;
        u->acc_head = e->acc_next;
        e->acc_next = NULL;
        usock_close(e, true);
        usock_put(e);
    }
    u->acc_tail = NULL;
    u->nacc = 0;
    struct usock *o = u->peer;
    u->peer = NULL;
    if (o) {
        if (connection_type(u)) {
            o->shut = SHUTDOWN_MASK;
            if (u->rq_head || embryo)
                o->err = ABI_ECONNRESET;
            notify(o, ABI_POLLIN | ABI_POLLOUT | ABI_POLLHUP | ABI_POLLRDHUP |
                          (o->err ? ABI_POLLERR : 0));
        } else {
            /* Datagram senders blocked on this receiver look again. */
            notify(o, 0);
        }
        usock_put(o);
    }
    flush(u);
    u->state = U_UNCONNECTED;
    notify(u, 0);
}

static void unix_release(struct net_socket *s)
{
    struct usock *u = us(s);
    usock_close(u, false);
    usock_put(u);
}

static const struct net_proto_ops unix_ops = {
    .bind = unix_bind,
    .listen = listen_op,
    .accept = unix_accept,
    .connect = unix_connect,
    .send = unix_send,
    .recv = unix_recv,
    .shutdown = unix_shutdown,
    .getname = unix_getname,
    .getsockopt = unix_getsockopt,
    .setsockopt = unix_setsockopt,
    .poll = unix_poll,
    .ioctl = unix_ioctl,
    .release = unix_release,
};

static int check_type(int type, int protocol)
{
    if (protocol != 0 && protocol != ABI_AF_UNIX)
        return -ABI_EPROTONOSUPPORT;
    switch (type) {
    case ABI_SOCK_STREAM:
    case ABI_SOCK_DGRAM:
    case ABI_SOCK_SEQPACKET:
        return 0;
    case ABI_SOCK_RAW: /* Linux's unix_create takes it for datagrams */
        return 0;
    default:
        return -ABI_ESOCKTNOSUPPORT;
    }
}

int unix_create(struct task *t, int type, int protocol, struct net_socket **out)
{
    int err = check_type(type, protocol);
    if (err)
        return err;
    if (type == ABI_SOCK_RAW)
        type = ABI_SOCK_DGRAM;
    struct usock *u = usock_new(t, type);
    if (!u)
        return -ABI_ENOMEM;
    *out = &u->base;
    return 0;
}

int unix_pair(struct task *t, int type, int protocol, struct net_socket **a, struct net_socket **b)
{
    struct net_socket *sa, *sb;
    int err = unix_create(t, type, protocol, &sa);
    if (err)
        return err;
    if ((err = unix_create(t, type, protocol, &sb))) {
        unix_release(sa);
        return err;
    }
    struct usock *ua = us(sa), *ub = us(sb);
    ua->peer = usock_get(ub);
    ub->peer = usock_get(ua);
    ua->state = ub->state = U_CONNECTED;
    ua->has_peercred = ub->has_peercred = true;
    ua->peercred = ub->peercred = task_cred(t, true);
    *a = sa;
    *b = sb;
    return 0;
}
