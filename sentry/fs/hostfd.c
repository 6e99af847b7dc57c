/* Host-fd files: the guest's stdio.
 *
 * Reads and writes go to the host fd with read(2)/write(2), so they share the
 * host's file offset: when stdout is a regular file the guest continues at
 * the file's current offset (or its end, for O_APPEND) and never overwrites
 * what was there.
 *
 * A host pipe or terminal can block. Its description's O_NONBLOCK belongs
 * to whoever else shares it (the user's shell), so it is never changed:
 * instead a read or write first waits for readiness with task_host_poll,
 * which drops the kernel lock and ends early for a guest signal, and a
 * write goes out a page at a time so that it never waits in the host for
 * more room than readiness promised. For poll, select and epoll one
 * notifier thread watches every such fd that was polled in a host epoll
 * (edge-triggered) and notifies the file's wait queue under the kernel
 * lock.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/hostfd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"

/* What a host pipe or terminal promises when it is writable (a page). */
#define HOST_WRITE_CHUNK 4096

struct hostfd {
    int fd;
    bool may_block;   /* a pipe, terminal or socket, not a regular file */
    bool watched;     /* in the notifier's host epoll */
    bool unwatchable; /* the host refused: no notifications */
    uint64_t id;      /* the notifier's name for it */
    struct waitq q;   /* readiness changes */
    struct hostfd *next_watched;
};

static struct {
    pthread_once_t once;
    int epfd; /* -1: no notifier */
    uint64_t next_id;
    struct hostfd *watched; /* under the kernel lock */
} notifier = {.once = PTHREAD_ONCE_INIT, .epfd = -1, .next_id = 1};

static struct hostfd *hf(struct vfs_file *f)
{
    return f->priv;
}

static int host_fd(struct vfs_file *f)
{
    return hf(f)->fd;
}

static int64_t ret_or_errno(int64_t r)
{
    return r < 0 ? -errno : r;
}

/* The notifier: waits on the host epoll without the kernel lock, then
 * passes what it saw to the files still watched. */
static void *notifier_main(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        struct epoll_event ev[16];
        int n = epoll_wait(notifier.epfd, ev, 16, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        kernel_lock();
        for (int i = 0; i < n; i++) {
            for (struct hostfd *h = notifier.watched; h; h = h->next_watched) {
                if (h->id == ev[i].data.u64) {
                    /* Host and guest poll bits are Linux's both. */
                    waitq_notify(&h->q, ev[i].events & 0xffff);
                    break;
                }
            }
        }
        kernel_unlock();
    }
}

static void notifier_start(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return;
    notifier.epfd = ep;
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, notifier_main, NULL) != 0) {
        close(ep);
        notifier.epfd = -1;
    }
    pthread_attr_destroy(&attr);
}

/* Registers h with the notifier, started by the first file that needs it:
 * only a guest that polls a host pipe or terminal pays for the thread,
 * which is created confined, like every Sentry thread after boot. */
static void watch(struct hostfd *h)
{
    if (h->watched || h->unwatchable)
        return;
    h->unwatchable = true; /* unless it works out below */
    pthread_once(&notifier.once, notifier_start);
    if (notifier.epfd < 0)
        return;
    h->id = notifier.next_id++;
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET,
        .data.u64 = h->id,
    };
    if (epoll_ctl(notifier.epfd, EPOLL_CTL_ADD, h->fd, &ev) != 0)
        return;
    h->watched = true;
    h->unwatchable = false;
    h->next_watched = notifier.watched;
    notifier.watched = h;
}

static void unwatch(struct hostfd *h)
{
    if (!h->watched)
        return;
    /* The description may outlive this fd (the front end shares it), so
     * the registration is removed by hand. */
    epoll_ctl(notifier.epfd, EPOLL_CTL_DEL, h->fd, NULL);
    for (struct hostfd **pp = &notifier.watched; *pp; pp = &(*pp)->next_watched) {
        if (*pp == h) {
            *pp = h->next_watched;
            break;
        }
    }
    h->watched = false;
}

/* Waits until the host fd has one of events, or says why not: 0 when
 * ready, -EAGAIN for a non-blocking file, -ERESTARTSYS for a signal. */
static int wait_host(struct vfs_file *f, short events)
{
    struct pollfd p = {.fd = host_fd(f), .events = events};
    if (poll(&p, 1, 0) > 0)
        return 0;
    struct task *t = kernel_current();
    if ((f->flags & ABI_O_NONBLOCK) || !t)
        return -ABI_EAGAIN;
    int r = task_host_poll(t, host_fd(f), events, NULL);
    if (r == -ABI_EINTR)
        return -ABI_ERESTARTSYS;
    return r < 0 ? r : 0;
}

static int64_t hostfd_read(struct vfs_file *f, void *buf, size_t n)
{
    if (hf(f)->may_block) {
        int err = wait_host(f, POLLIN);
        if (err)
            return err;
    }
    return ret_or_errno(read(host_fd(f), buf, n));
}

static int64_t hostfd_write(struct vfs_file *f, const void *buf, size_t n)
{
    if (!hf(f)->may_block)
        return ret_or_errno(write(host_fd(f), buf, n));
    size_t done = 0;
    while (done < n) {
        int err = wait_host(f, POLLOUT);
        if (err)
            return done ? (int64_t)done : err;
        size_t chunk = n - done < HOST_WRITE_CHUNK ? n - done : HOST_WRITE_CHUNK;
        ssize_t w = write(host_fd(f), (const char *)buf + done, chunk);
        if (w < 0)
            return done ? (int64_t)done : -errno;
        done += (size_t)w;
    }
    return (int64_t)done;
}

static uint32_t hostfd_poll(struct vfs_file *f)
{
    struct pollfd p = {.fd = host_fd(f), .events = POLLIN | POLLOUT | POLLPRI | POLLRDHUP};
    if (poll(&p, 1, 0) < 0)
        return ABI_POLLERR;
    uint32_t ev = (uint16_t)p.revents;
    if (ev & ABI_POLLIN)
        ev |= ABI_POLLRDNORM;
    if (ev & ABI_POLLOUT)
        ev |= ABI_POLLWRNORM;
    return ev;
}

static struct waitq *hostfd_poll_queue(struct vfs_file *f)
{
    struct hostfd *h = hf(f);
    if (h->may_block)
        watch(h);
    return h->watched ? &h->q : NULL;
}

static int64_t hostfd_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    return ret_or_errno(pread(host_fd(f), buf, n, off));
}

static int64_t hostfd_pwrite(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    return ret_or_errno(pwrite(host_fd(f), buf, n, off));
}

static int64_t hostfd_lseek(struct vfs_file *f, int64_t off, int whence)
{
    return ret_or_errno(lseek(host_fd(f), off, whence));
}

static int hostfd_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct stat hs;
    if (fstat(host_fd(f), &hs) < 0)
        return -errno;
    *st = (struct abi_stat){
        .st_dev = hs.st_dev,
        .st_ino = hs.st_ino,
        .st_nlink = hs.st_nlink,
        .st_mode = hs.st_mode,
        .st_uid = hs.st_uid,
        .st_gid = hs.st_gid,
        .st_rdev = hs.st_rdev,
        .st_size = hs.st_size,
        .st_blksize = hs.st_blksize,
        .st_blocks = hs.st_blocks,
        .st_atime_sec = (uint64_t)hs.st_atim.tv_sec,
        .st_atime_nsec = (uint64_t)hs.st_atim.tv_nsec,
        .st_mtime_sec = (uint64_t)hs.st_mtim.tv_sec,
        .st_mtime_nsec = (uint64_t)hs.st_mtim.tv_nsec,
        .st_ctime_sec = (uint64_t)hs.st_ctim.tv_sec,
        .st_ctime_nsec = (uint64_t)hs.st_ctim.tv_nsec,
    };
    return 0;
}

static int hostfd_ioctl(struct vfs_file *f, uint32_t req, void *arg, size_t len)
{
    /* Only queries whose argument layout is the same for guest and host, and
     * which change nothing on the host terminal. */
    switch (req) {
    case ABI_TCGETS:
        if (len != sizeof(struct abi_termios))
            return -EINVAL;
        break;
    case ABI_TIOCGWINSZ:
        if (len != sizeof(struct abi_winsize))
            return -EINVAL;
        break;
    case ABI_FIONREAD: /* a pipe or terminal on stdin: what is waiting */
        if (len != sizeof(int))
            return -EINVAL;
        break;
    default:
        return -ENOTTY;
    }
    if (ioctl(host_fd(f), (unsigned long)req, arg) < 0)
        return -errno;
    return 0;
}

static void hostfd_release(struct vfs_file *f)
{
    struct hostfd *h = hf(f);
    unwatch(h);
    close(h->fd);
    free(h);
}

static const struct vfs_file_ops hostfd_ops = {
    .read = hostfd_read,
    .write = hostfd_write,
    .pread = hostfd_pread,
    .pwrite = hostfd_pwrite,
    .lseek = hostfd_lseek,
    .stat = hostfd_stat,
    .ioctl = hostfd_ioctl,
    .release = hostfd_release,
    .poll = hostfd_poll,
    .poll_queue = hostfd_poll_queue,
};

/* Regular files, directories, /dev/null: always ready, and (as on Linux)
 * no poll op, so epoll refuses them with EPERM. */
static const struct vfs_file_ops hostfd_plain_ops = {
    .read = hostfd_read,
    .write = hostfd_write,
    .pread = hostfd_pread,
    .pwrite = hostfd_pwrite,
    .lseek = hostfd_lseek,
    .stat = hostfd_stat,
    .ioctl = hostfd_ioctl,
    .release = hostfd_release,
};

/* /dev/null and /dev/zero: writes succeed without reading the buffer. */
static bool is_data_sink(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 &&
           (minor(st->st_rdev) == 3 || minor(st->st_rdev) == 5);
}

struct vfs_file *hostfd_file_new(int fd, uint32_t flags)
{
    struct hostfd *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->fd = fd;
    waitq_init(&h->q);
    struct stat st;
    bool have_st = fstat(fd, &st) == 0;
    /* Regular files, directories and devices other than terminals
     * (/dev/null) never block and, as on Linux, cannot be watched. */
    bool plain = have_st && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ||
                             (S_ISCHR(st.st_mode) && !isatty(fd)));
    struct vfs_file *f = vfs_file_new(plain ? &hostfd_plain_ops : &hostfd_ops, flags, h);
    if (!f) {
        free(h);
        return NULL;
    }
    f->fault_mode = VFS_FAULT_WHOLE;
    if (have_st) {
        if (S_ISREG(st.st_mode))
            f->fault_mode = VFS_FAULT_SHORT;
        else if (is_data_sink(&st))
            f->fault_mode = VFS_FAULT_NOREAD;
    }
    h->may_block = !plain;
    /* The host knows whether the description is seekable (pipes, sockets
     * and ttys are not); the guest sees the same. */
    f->positional = lseek(fd, 0, SEEK_CUR) >= 0;
    return f;
}
