/* epoll_create, epoll_create1, epoll_ctl and the epoll_wait family. */
#include <stdlib.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/epoll.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/poll_common.h"
#include "sentry/syscalls/syscalls.h"

/* Linux's EP_MAX_EVENTS: what fits in an int's worth of bytes. */
#define MAX_EVENTS (INT32_MAX / (int)sizeof(struct abi_epoll_event))

static struct vfs_file *file_for(struct task *t, uint64_t fd)
{
    if (fd > INT32_MAX)
        return NULL;
    return vfs_fd_lookup(t->fds, (int)fd);
}

static int64_t create(struct task *t, bool cloexec)
{
    struct vfs_file *f;
    int err = eventpoll_create_file(&f);
    if (err)
        return err;
    int fd = vfs_fd_install(t->fds, 0, f, cloexec, t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur);
    vfs_file_put(f);
    return fd;
}

int64_t sys_epoll_create(struct task *t, const uint64_t a[6])
{
    if ((int32_t)a[0] <= 0)
        return -ABI_EINVAL;
    return create(t, false);
}

int64_t sys_epoll_create1(struct task *t, const uint64_t a[6])
{
    if ((uint32_t)a[0] & ~(uint32_t)ABI_EPOLL_CLOEXEC)
        return -ABI_EINVAL;
    return create(t, a[0] & ABI_EPOLL_CLOEXEC);
}

int64_t sys_epoll_ctl(struct task *t, const uint64_t a[6])
{
    int op = (int)a[1];
    struct abi_epoll_event ev = {0};
    if (op != ABI_EPOLL_CTL_DEL && mm_copy_in(t->mm, &ev, a[3], sizeof(ev)) != 0)
        return -ABI_EFAULT;
    struct vfs_file *ep = file_for(t, (uint32_t)a[0]);
    struct vfs_file *target = file_for(t, (uint32_t)a[2]);
    if (!ep || !target)
        return -ABI_EBADF;
    /* Files that cannot tell their readiness (regular files, directories)
     * cannot be watched. */
    if (!target->ops->poll)
        return -ABI_EPERM;
    if (ep == target || !eventpoll_is_epoll(ep))
        return -ABI_EINVAL;
    return eventpoll_ctl(ep, op, (int)(uint32_t)a[2], target, &ev);
}

/* The shared wait: collect, else sleep on the epoll's queue and retry. */
static int64_t do_wait(struct task *t, uint64_t epfd, uint64_t uevents, int64_t max,
                       const struct poll_timeout *to, struct poll_sigmask *mask)
{
    int64_t r;
    if (max <= 0 || max > MAX_EVENTS) {
        r = -ABI_EINVAL;
        goto out;
    }
    if (!kernel_access_ok(uevents, (uint64_t)max * sizeof(struct abi_epoll_event))) {
        r = -ABI_EFAULT;
        goto out;
    }
    struct vfs_file *ep = file_for(t, (uint32_t)epfd);
    if (!ep) {
        r = -ABI_EBADF;
        goto out;
    }
    if (!eventpoll_is_epoll(ep)) {
        r = -ABI_EINVAL;
        goto out;
    }
    vfs_file_get(ep);
    /* A bounded batch per call keeps the buffer small; epoll_wait may
     * always return fewer events than asked. */
    int batch = max < 1024 ? (int)max : 1024;
    struct abi_epoll_event *buf = calloc((size_t)batch, sizeof(*buf));
    if (!buf) {
        vfs_file_put(ep);
        r = -ABI_ENOMEM;
        goto out;
    }
    struct waitq_entry w;
    task_waiter_init(t, &w, 0);
    bool queued = false, timed_out = false;
    for (;;) {
        r = eventpoll_collect(ep, buf, batch);
        if (r || to->zero || timed_out)
            break;
        if (!queued) {
            waitq_add(eventpoll_queue(ep), &w);
            queued = true;
        }
        int err = task_sleep(t, poll_timeout_deadline(to));
        if (err == -ABI_EINTR) {
            r = -ABI_EINTR; /* epoll_wait is never restarted */
            break;
        }
        if (err == -ABI_ETIMEDOUT)
            timed_out = true;
    }
    waitq_remove(&w);
    if (r > 0 && mm_copy_out(t->mm, uevents, buf, (size_t)r * sizeof(*buf)) != 0)
        r = -ABI_EFAULT;
    free(buf);
    vfs_file_put(ep);
out:
    poll_sigmask_restore(t, mask, r == -ABI_EINTR);
    return r;
}

int64_t sys_epoll_wait(struct task *t, const uint64_t a[6])
{
    struct poll_timeout to;
    poll_timeout_from_ms((int32_t)a[3], &to);
    struct poll_sigmask none = {0};
    return do_wait(t, a[0], a[1], (int32_t)a[2], &to, &none);
}

int64_t sys_epoll_pwait(struct task *t, const uint64_t a[6])
{
    struct poll_timeout to;
    poll_timeout_from_ms((int32_t)a[3], &to);
    struct poll_sigmask mask;
    int err = poll_sigmask_install(t, a[4], a[5], &mask);
    if (err)
        return err;
    return do_wait(t, a[0], a[1], (int32_t)a[2], &to, &mask);
}

int64_t sys_epoll_pwait2(struct task *t, const uint64_t a[6])
{
    struct poll_timeout to = {.forever = true};
    if (a[3]) {
        struct abi_timespec ts;
        if (mm_copy_in(t->mm, &ts, a[3], sizeof(ts)) != 0)
            return -ABI_EFAULT;
        if (poll_timeout_from_ts(&ts, &to) != 0)
            return -ABI_EINVAL;
    }
    struct poll_sigmask mask;
    int err = poll_sigmask_install(t, a[4], a[5], &mask);
    if (err)
        return err;
    return do_wait(t, a[0], a[1], (int32_t)a[2], &to, &mask);
}
