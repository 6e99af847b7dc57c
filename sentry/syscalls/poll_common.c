/* Timeouts and wait signal masks shared by the poll family and epoll. */
#include "sentry/syscalls/poll_common.h"

#include "abi/errno.h"
#include "abi/signal.h"
#include "sentry/mm/mm.h"

int poll_timeout_from_ts(const struct abi_timespec *ts, struct poll_timeout *out)
{
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
        return -ABI_EINVAL;
    out->forever = false;
    out->zero = ts->tv_sec == 0 && ts->tv_nsec == 0;
    struct timespec rel = {.tv_sec = ts->tv_sec, .tv_nsec = ts->tv_nsec};
    out->dl = kernel_deadline_after(CLOCK_MONOTONIC, &rel);
    return 0;
}

void poll_timeout_from_ms(int64_t ms, struct poll_timeout *out)
{
    if (ms < 0) {
        out->forever = true;
        out->zero = false;
        return;
    }
    struct abi_timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    poll_timeout_from_ts(&ts, out);
}

const struct kernel_deadline *poll_timeout_deadline(const struct poll_timeout *to)
{
    return to->forever ? NULL : &to->dl;
}

int poll_sigmask_install(struct task *t, uint64_t addr, uint64_t size, struct poll_sigmask *m)
{
    m->set = false;
    if (!addr)
        return 0;
    if (size != sizeof(abi_sigset_t))
        return -ABI_EINVAL;
    abi_sigset_t set;
    if (mm_copy_in(t->mm, &set, addr, sizeof(set)) != 0)
        return -ABI_EFAULT;
    m->saved = t->sigmask;
    m->set = true;
    t->sigmask = set & ~(ABI_SIGMASK(ABI_SIGKILL) | ABI_SIGMASK(ABI_SIGSTOP));
    return 0;
}

void poll_sigmask_restore(struct task *t, struct poll_sigmask *m, bool interrupted)
{
    if (!m->set)
        return;
    m->set = false;
    if (interrupted) {
        t->saved_sigmask = m->saved;
        t->restore_sigmask = true;
    } else {
        t->sigmask = m->saved;
    }
}
