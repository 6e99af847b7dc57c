/* POSIX message queue syscalls: argument copies and checks around
 * sentry/kernel/ipc/mqueue.c, in the order Linux makes them (so a call
 * wrong in two ways fails as it would there). */
#include <stdlib.h>
#include <time.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/ipc.h"
#include "abi/signal.h"
#include "abi/types.h"
#include "sentry/kernel/ipc/mqueue.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

/* The bytes of cookie mq_notify reads for SIGEV_THREAD (glibc's
 * NOTIFY_COOKIE_LEN). */
#define NOTIFY_COOKIE_LEN 32

static int copy_in(struct task *t, void *dst, uint64_t src, size_t n)
{
    return mm_copy_in(t->mm, dst, src, n) ? -ABI_EFAULT : 0;
}

static int copy_out(struct task *t, uint64_t dst, const void *src, size_t n)
{
    return mm_copy_out(t->mm, dst, src, n) ? -ABI_EFAULT : 0;
}

/* The queue behind fd, referenced (the caller puts it): a sleeping call
 * keeps its queue even when another thread closes the fd. */
static int queue_fd(struct task *t, int fd, struct vfs_file **out)
{
    struct vfs_file *f = fd < 0 ? NULL : vfs_fd_lookup(t->fds, fd);
    if (!f || !mqueue_is(f))
        return -ABI_EBADF;
    *out = vfs_file_get(f);
    return 0;
}

/* The absolute CLOCK_REALTIME timeout of the timed calls, checked before
 * anything else as Linux does. */
static int timeout_in(struct task *t, uint64_t addr, struct kernel_deadline *dl, bool *timed)
{
    *timed = addr != 0;
    if (!addr)
        return 0;
    struct abi_timespec ts;
    int err = copy_in(t, &ts, addr, sizeof(ts));
    if (err)
        return err;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
        return -ABI_EINVAL;
    dl->clock = CLOCK_REALTIME;
    dl->at.tv_sec = (time_t)ts.tv_sec;
    dl->at.tv_nsec = (long)ts.tv_nsec;
    return 0;
}

int64_t sys_mq_open(struct task *t, const uint64_t a[6])
{
    int oflag = (int)a[1];
    struct abi_mq_attr attr;
    if (a[3]) {
        int err = copy_in(t, &attr, a[3], sizeof(attr));
        if (err)
            return err;
    }
    char name[VFS_PATH_MAX];
    int64_t len = sys_path_nonempty(t, a[0], name);
    if (len < 0)
        return len;
    uint64_t limit = t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur;
    int fd = vfs_fd_lowest_free(t->fds, 0, limit);
    if (fd < 0)
        return fd;
    uint32_t mode = (uint32_t)a[2] & 0777 & ~t->fs->umask;
    struct vfs_file *f;
    int err = mqueue_open(t, name, oflag, mode, a[3] ? &attr : NULL, &f);
    if (err)
        return err;
    /* Queue descriptors are always close-on-exec on Linux. */
    fd = vfs_fd_install(t->fds, 0, f, true, limit);
    vfs_file_put(f);
    return fd;
}

int64_t sys_mq_unlink(struct task *t, const uint64_t a[6])
{
    char name[VFS_PATH_MAX];
    int64_t len = sys_path_nonempty(t, a[0], name);
    if (len < 0)
        return len;
    return mqueue_unlink(t, name);
}

int64_t sys_mq_timedsend(struct task *t, const uint64_t a[6])
{
    uint64_t len = a[2];
    uint32_t prio = (uint32_t)a[3];
    struct kernel_deadline dl;
    bool timed;
    int err = timeout_in(t, a[4], &dl, &timed);
    if (err)
        return err;
    if (prio >= ABI_MQ_PRIO_MAX)
        return -ABI_EINVAL;
    struct vfs_file *f;
    err = queue_fd(t, (int)a[0], &f);
    if (err)
        return err;
    err = mqueue_send_check(f, len);
    void *buf = NULL;
    if (!err) {
        buf = malloc(len ? len : 1);
        if (!buf)
            err = -ABI_ENOMEM;
    }
    if (!err)
        err = copy_in(t, buf, a[1], len);
    if (!err)
        err = mqueue_send(t, f, buf, len, prio, timed ? &dl : NULL);
    free(buf);
    vfs_file_put(f);
    return err;
}

int64_t sys_mq_timedreceive(struct task *t, const uint64_t a[6])
{
    struct kernel_deadline dl;
    bool timed;
    int err = timeout_in(t, a[4], &dl, &timed);
    if (err)
        return err;
    struct vfs_file *f;
    err = queue_fd(t, (int)a[0], &f);
    if (err)
        return err;
    int64_t r = mqueue_receive_check(f, a[2]);
    void *data = NULL;
    uint32_t prio = 0;
    if (!r)
        r = mqueue_receive(t, f, &data, &prio, timed ? &dl : NULL);
    vfs_file_put(f);
    /* The message is gone from the queue even when it cannot be stored
     * (Linux loses it too). */
    if (r >= 0 &&
        ((a[3] && copy_out(t, a[3], &prio, sizeof(prio))) || copy_out(t, a[1], data, (size_t)r)))
        r = -ABI_EFAULT;
    free(data);
    return r;
}

/* SIGEV_THREAD needs a netlink socket (glibc makes one for its helper
 * thread), which moat does not have: the call fails as Linux's does for
 * the descriptor given in sigev_signo when it names no netlink socket. */
static int thread_notify_check(struct task *t, const struct abi_sigevent *ev)
{
    char cookie[NOTIFY_COOKIE_LEN];
    int err = copy_in(t, cookie, ev->sigev_value.sival_ptr, sizeof(cookie));
    if (err)
        return err;
    struct vfs_file *sock = ev->sigev_signo < 0 ? NULL : vfs_fd_lookup(t->fds, ev->sigev_signo);
    if (!sock)
        return -ABI_EBADF;
    struct abi_stat st;
    if (!sock->ops->stat || sock->ops->stat(sock, &st) != 0 ||
        (st.st_mode & ABI_S_IFMT) != ABI_S_IFSOCK)
        return -ABI_ENOTSOCK;
    return -ABI_EINVAL;
}

int64_t sys_mq_notify(struct task *t, const uint64_t a[6])
{
    struct abi_sigevent ev;
    if (a[1]) {
        int err = copy_in(t, &ev, a[1], sizeof(ev));
        if (err)
            return err;
        switch (ev.sigev_notify) {
        case ABI_SIGEV_NONE:
            break;
        case ABI_SIGEV_SIGNAL:
            if (ev.sigev_signo < 0 || ev.sigev_signo > ABI_NSIG)
                return -ABI_EINVAL;
            break;
        case ABI_SIGEV_THREAD:
            return thread_notify_check(t, &ev);
        default:
            return -ABI_EINVAL;
        }
    }
    struct vfs_file *f;
    int err = queue_fd(t, (int)a[0], &f);
    if (err)
        return err;
    err = mqueue_notify(t, f, a[1] ? &ev : NULL);
    vfs_file_put(f);
    return err;
}

int64_t sys_mq_getsetattr(struct task *t, const uint64_t a[6])
{
    struct abi_mq_attr set, old;
    if (a[1]) {
        int err = copy_in(t, &set, a[1], sizeof(set));
        if (err)
            return err;
        if (set.mq_flags & ~(int64_t)ABI_O_NONBLOCK)
            return -ABI_EINVAL;
    }
    struct vfs_file *f;
    int err = queue_fd(t, (int)a[0], &f);
    if (err)
        return err;
    err = mqueue_getsetattr(f, a[1] ? &set : NULL, &old);
    vfs_file_put(f);
    if (!err && a[2])
        err = copy_out(t, a[2], &old, sizeof(old));
    return err;
}
