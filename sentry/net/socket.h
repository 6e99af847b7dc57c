/* Sockets: the file every socket is, and the operations an address family
 * implements behind it.
 *
 * A socket is a vfs_file whose priv is a struct net_socket. The syscall
 * layer (sentry/syscalls/sys_socket.c) copies addresses, options and
 * control messages in and out of guest memory and turns fds into files and
 * back; the family (unix.c) keeps the state and moves the bytes, which it
 * reads and writes through a struct net_io so that no bounce buffer limits
 * a message's size. Blocking calls sleep on the task they are given
 * (sentry/kernel/sched.h) and return -ERESTARTSYS when a signal interrupts
 * them. All calls run under the kernel lock.
 */
#ifndef MOAT_SENTRY_NET_SOCKET_H
#define MOAT_SENTRY_NET_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/socket.h"
#include "sentry/kernel/sched.h"
#include "sentry/vfs/file.h"

struct task;
struct net_socket;

/* The payload of one send or receive: len bytes, moved by xfer between
 * offset off of the payload and Sentry memory (from the payload for a
 * send, into it for a receive). 0 or -EFAULT. */
struct net_io {
    size_t len;
    int (*xfer)(struct net_io *io, size_t off, void *buf, size_t n);
};

/* Credentials as SCM_CREDENTIALS and SO_PEERCRED carry them. */
struct net_cred {
    int32_t pid;
    uint32_t uid, gid;
};

struct net_send {
    struct net_io *io;
    const void *addr; /* destination (sendto, sendmsg's msg_name); NULL: none */
    size_t addrlen;
    /* SCM_RIGHTS: referenced files, which the message takes over on
     * success (the caller drops them otherwise). */
    struct vfs_file **files;
    int nfiles;
    const struct net_cred *cred; /* explicit SCM_CREDENTIALS, checked; or NULL */
    int flags;                   /* ABI_MSG_* */
    bool nonblock;
};

struct net_recv {
    struct net_io *io;
    int flags; /* ABI_MSG_* */
    bool nonblock;
    /* Filled in: the sender's address (addrlen 0: none), the files that came
     * with the data (a malloc'ed array of references the caller installs or
     * drops), the sender's credentials when the socket asked for them
     * (SO_PASSCRED), and msg_flags (MSG_TRUNC, ...). */
    uint8_t addr[sizeof(struct abi_sockaddr_un)];
    size_t addrlen;
    struct vfs_file **files;
    int nfiles;
    bool has_cred;
    struct net_cred cred;
    int msg_flags;
};

/* What a family implements. Addresses come validated for length only
 * (at most ABI_SOCKADDR_MAX bytes); every op returns a result or -errno. */
struct net_proto_ops {
    int (*bind)(struct net_socket *s, struct task *t, const void *addr, size_t len);
    int (*listen)(struct net_socket *s, struct task *t, int backlog);
    /* The accepted connection, referenced. */
    int (*accept)(struct net_socket *s, struct task *t, bool nonblock, struct net_socket **out);
    int (*connect)(struct net_socket *s, struct task *t, const void *addr, size_t len,
                   bool nonblock);
    int64_t (*send)(struct net_socket *s, struct task *t, struct net_send *m);
    int64_t (*recv)(struct net_socket *s, struct task *t, struct net_recv *m);
    int (*shutdown)(struct net_socket *s, int how);
    /* The socket's own address (peer false) or its peer's into addr
     * (ABI_SOCKADDR_MAX bytes); the length. */
    int (*getname)(struct net_socket *s, bool peer, void *addr);
    /* SOL_SOCKET and the family's levels; *len in: the room in val, out:
     * the bytes the option took (setsockopt: len bytes in val). */
    int (*getsockopt)(struct net_socket *s, int level, int name, void *val, size_t *len);
    int (*setsockopt)(struct net_socket *s, struct task *t, int level, int name, const void *val,
                      size_t len);
    uint32_t (*poll)(struct net_socket *s);
    /* FIONREAD/SIOCINQ and SIOCOUTQ: *val; -ENOIOCTLCMD for others. */
    int (*ioctl)(struct net_socket *s, uint32_t req, int32_t *val);
    /* The last file of the socket was closed. */
    void (*release)(struct net_socket *s);
};

struct net_socket {
    const struct net_proto_ops *ops;
    int family, type, protocol;
    uint64_t ino;      /* sockfs inode number: fstat, /proc/PID/fd's socket:[ino] */
    uint32_t uid, gid; /* the creator's (fstat) */
    struct abi_timespec ctime;
    struct waitq q; /* notified with ABI_POLL* events on every change */
};

/* Fills in the generic part of a family's new socket. */
void net_socket_init(struct net_socket *s, const struct net_proto_ops *ops, int family, int type,
                     int protocol, struct task *t);
/* A new file for s (which it takes over); flags: ABI_O_NONBLOCK. */
int net_socket_file(struct net_socket *s, uint32_t flags, struct vfs_file **out);
/* The socket behind f, or NULL when f is no socket. */
struct net_socket *net_socket_of(const struct vfs_file *f);

/* socket(2): a new socket file of family, type (ABI_SOCK_* without the
 * flag bits) and protocol. -EAFNOSUPPORT for the families moat does not
 * have (logged once per family). */
int net_socket_create(struct task *t, int family, int type, int protocol, uint32_t flags,
                      struct vfs_file **out);
/* socketpair(2): two connected sockets. */
int net_socketpair(struct task *t, int family, int type, int protocol, uint32_t flags,
                   struct vfs_file **a, struct vfs_file **b);

/* Sleeps t on s's queue until a notification, a signal or dl. 0 to
 * re-test; -ERESTARTSYS (signal, no deadline), -EINTR (signal, deadline:
 * SO_RCVTIMEO/SO_SNDTIMEO calls are not restarted) or -EAGAIN (dl passed). */
int net_wait(struct task *t, struct waitq *q, const struct kernel_deadline *dl);

/* SIGPIPE for t, as a write on a broken connection sends it. */
void net_sigpipe(struct task *t);

#endif
