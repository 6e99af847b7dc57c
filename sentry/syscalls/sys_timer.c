/* alarm, the interval timers, POSIX timers and timerfd: argument checks and
 * guest copies over sentry/kernel/timer.h and sentry/fs/timerfd.h. */
#include <string.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/fs/timerfd.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/timer.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define NSEC 1000000000LL
/* Longer than any sandbox lives; keeps expiry arithmetic from overflowing
 * (Linux saturates the same way, at KTIME_MAX). */
#define NS_MAX ((int64_t)1 << 62)

int sys_clock_cpu_normalize(struct task *t, int64_t id)
{
    int32_t c = (int32_t)id;
    if (c >= 0)
        return c;
    /* A CPU clock named by pid: ~pid in the high bits, bit 2 for a
     * thread's clock, the low two bits the kind (3 is none). */
    int pid = ~(c >> 3);
    bool thread = c & 4;
    if ((c & 3) == 3)
        return -ABI_EINVAL;
    if (thread) {
        if (pid == 0 || pid == t->tid)
            return ABI_CLOCK_THREAD_CPUTIME_ID;
        struct task *other = kernel_tid_lookup(t->k, pid);
        return other && other->tg == t->tg ? ABI_CLOCK_THREAD_CPUTIME_ID : -ABI_EINVAL;
    }
    if (pid == 0 || pid == t->tg->pid)
        return ABI_CLOCK_PROCESS_CPUTIME_ID;
    /* Another process's CPU clock: not measurable here. */
    return -ABI_EINVAL;
}

static int64_t ns_of(int64_t sec, int64_t nsec)
{
    if (sec >= NS_MAX / NSEC)
        return NS_MAX;
    return sec * NSEC + nsec;
}

static int load_itimerspec(struct task *t, uint64_t addr, int64_t *value, int64_t *interval)
{
    struct abi_itimerspec s;
    if (mm_copy_in(t->mm, &s, addr, sizeof(s)) != 0)
        return -ABI_EFAULT;
    const struct abi_timespec *ts[2] = {&s.it_value, &s.it_interval};
    for (int i = 0; i < 2; i++)
        if (ts[i]->tv_sec < 0 || ts[i]->tv_nsec < 0 || ts[i]->tv_nsec >= NSEC)
            return -ABI_EINVAL;
    *value = ns_of(s.it_value.tv_sec, s.it_value.tv_nsec);
    *interval = ns_of(s.it_interval.tv_sec, s.it_interval.tv_nsec);
    return 0;
}

static int store_itimerspec(struct task *t, uint64_t addr, const int64_t v[2])
{
    struct abi_itimerspec s = {
        .it_interval = {v[1] / NSEC, v[1] % NSEC},
        .it_value = {v[0] / NSEC, v[0] % NSEC},
    };
    return mm_copy_out(t->mm, addr, &s, sizeof(s)) ? -ABI_EFAULT : 0;
}

/* ---- alarm, setitimer, getitimer ---- */

int64_t sys_alarm(struct task *t, const uint64_t a[6])
{
    return (int64_t)timer_alarm(t, (uint32_t)a[0]);
}

static int store_itimerval(struct task *t, uint64_t addr, int64_t value, int64_t interval)
{
    struct abi_itimerval v = {
        .it_interval = {interval / NSEC, (interval % NSEC) / 1000},
        .it_value = {value / NSEC, (value % NSEC) / 1000},
    };
    return mm_copy_out(t->mm, addr, &v, sizeof(v)) ? -ABI_EFAULT : 0;
}

int64_t sys_getitimer(struct task *t, const uint64_t a[6])
{
    int64_t value, interval;
    int err = timer_getitimer(t, (int)a[0], &value, &interval);
    if (err)
        return err;
    return store_itimerval(t, a[1], value, interval);
}

int64_t sys_setitimer(struct task *t, const uint64_t a[6])
{
    int64_t value = 0, interval = 0;
    /* A NULL new value disarms: an old misfeature Linux still keeps. */
    if (a[1]) {
        struct abi_itimerval v;
        if (mm_copy_in(t->mm, &v, a[1], sizeof(v)) != 0)
            return -ABI_EFAULT;
        const struct abi_timeval *tv[2] = {&v.it_value, &v.it_interval};
        for (int i = 0; i < 2; i++)
            if (tv[i]->tv_sec < 0 || tv[i]->tv_usec < 0 || tv[i]->tv_usec >= 1000000)
                return -ABI_EINVAL;
        value = ns_of(v.it_value.tv_sec, v.it_value.tv_usec * 1000);
        interval = ns_of(v.it_interval.tv_sec, v.it_interval.tv_usec * 1000);
    }
    int64_t ov, oi;
    int err = timer_setitimer(t, (int)a[0], value, interval, &ov, &oi);
    if (err)
        return err;
    return a[2] ? store_itimerval(t, a[2], ov, oi) : 0;
}

/* ---- POSIX timers ---- */

/* The clocks a POSIX timer may run on; -EINVAL for no clock,
 * -EOPNOTSUPP for clocks that have no timers. */
static int timer_clock(struct task *t, uint64_t id)
{
    int c = sys_clock_cpu_normalize(t, (int64_t)id);
    switch (c) {
    case ABI_CLOCK_REALTIME:
    case ABI_CLOCK_MONOTONIC:
    case ABI_CLOCK_BOOTTIME:
    case ABI_CLOCK_TAI:
    case ABI_CLOCK_PROCESS_CPUTIME_ID:
    case ABI_CLOCK_THREAD_CPUTIME_ID:
        return c;
    case ABI_CLOCK_MONOTONIC_RAW:
    case ABI_CLOCK_REALTIME_COARSE:
    case ABI_CLOCK_MONOTONIC_COARSE:
    /* The alarm clocks need a wake-up RTC, which the sandbox lacks (a
     * Linux host without one answers the same). */
    case ABI_CLOCK_REALTIME_ALARM:
    case ABI_CLOCK_BOOTTIME_ALARM:
        return -ABI_EOPNOTSUPP;
    default:
        return -ABI_EINVAL;
    }
}

/* Linux's rules for a timer's sigevent: a signal number for the kinds that
 * send one, and for SIGEV_THREAD_ID a thread of the caller's process. */
static int check_sigevent(struct task *t, const struct abi_sigevent *ev, struct timer_notify *out)
{
    memset(out, 0, sizeof(*out));
    out->notify = ev->sigev_notify;
    out->signo = ev->sigev_signo;
    out->value = ev->sigev_value;
    switch (ev->sigev_notify) {
    case ABI_SIGEV_THREAD_ID: {
        struct task *th = kernel_tid_lookup(t->k, ev->un.tid);
        if (!th || th->tg != t->tg)
            return -ABI_EINVAL;
        out->tid = ev->un.tid;
    }
        /* fall through */
    case ABI_SIGEV_SIGNAL:
    case ABI_SIGEV_THREAD:
        if (ev->sigev_signo <= 0 || ev->sigev_signo > ABI_NSIG)
            return -ABI_EINVAL;
        return 0;
    case ABI_SIGEV_NONE:
        return 0;
    default:
        return -ABI_EINVAL;
    }
}

int64_t sys_timer_create(struct task *t, const uint64_t a[6])
{
    struct abi_sigevent ev;
    if (a[1] && mm_copy_in(t->mm, &ev, a[1], sizeof(ev)) != 0)
        return -ABI_EFAULT;
    int clock = timer_clock(t, a[0]);
    if (clock < 0)
        return clock;
    struct timer_notify n;
    if (a[1]) {
        int err = check_sigevent(t, &ev, &n);
        if (err)
            return err;
    }
    int id = timer_posix_create(t, clock, a[1] ? &n : NULL);
    if (id < 0)
        return id;
    int32_t out = id;
    if (mm_copy_out(t->mm, a[2], &out, sizeof(out)) != 0) {
        timer_posix_delete(t, id);
        return -ABI_EFAULT;
    }
    return 0;
}

int64_t sys_timer_settime(struct task *t, const uint64_t a[6])
{
    if (!a[2])
        return -ABI_EINVAL;
    int64_t value, interval;
    int err = load_itimerspec(t, a[2], &value, &interval);
    if (err)
        return err;
    int64_t old[2];
    err = timer_posix_settime(t, (int)a[0], (a[1] & ABI_TIMER_ABSTIME) != 0, value, interval, old);
    if (err)
        return err;
    return a[3] ? store_itimerspec(t, a[3], old) : 0;
}

int64_t sys_timer_gettime(struct task *t, const uint64_t a[6])
{
    int64_t cur[2];
    int err = timer_posix_gettime(t, (int)a[0], cur);
    if (err)
        return err;
    return store_itimerspec(t, a[1], cur);
}

int64_t sys_timer_getoverrun(struct task *t, const uint64_t a[6])
{
    return timer_posix_getoverrun(t, (int)a[0]);
}

int64_t sys_timer_delete(struct task *t, const uint64_t a[6])
{
    return timer_posix_delete(t, (int)a[0]);
}

/* ---- timerfd ---- */

int64_t sys_timerfd_create(struct task *t, const uint64_t a[6])
{
    int clock = (int32_t)a[0];
    uint64_t flags = (uint32_t)a[1];
    if (flags & ~(uint64_t)(ABI_TFD_CLOEXEC | ABI_TFD_NONBLOCK))
        return -ABI_EINVAL;
    switch (clock) {
    case ABI_CLOCK_REALTIME:
    case ABI_CLOCK_MONOTONIC:
    case ABI_CLOCK_BOOTTIME:
        break;
    case ABI_CLOCK_REALTIME_ALARM:
    case ABI_CLOCK_BOOTTIME_ALARM:
        if (!cred_capable(&t->creds, ABI_CAP_WAKE_ALARM))
            return -ABI_EPERM;
        break;
    default:
        return -ABI_EINVAL;
    }
    struct vfs_file *f = timerfd_new(clock, (flags & ABI_TFD_NONBLOCK) != 0);
    if (!f)
        return -ABI_ENOMEM;
    uint64_t limit = t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur;
    int fd = vfs_fd_install(t->fds, 0, f, (flags & ABI_TFD_CLOEXEC) != 0, limit);
    vfs_file_put(f);
    return fd;
}

/* The timerfd behind fd: -EBADF when fd is not open, -EINVAL when it is
 * another kind of file. */
static int timerfd_arg(struct task *t, uint64_t fd, struct vfs_file **out)
{
    struct vfs_file *f = (uint32_t)fd > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)fd);
    if (!f)
        return -ABI_EBADF;
    if (!timerfd_is(f))
        return -ABI_EINVAL;
    *out = f;
    return 0;
}

int64_t sys_timerfd_settime(struct task *t, const uint64_t a[6])
{
    int64_t value, interval;
    int err = load_itimerspec(t, a[2], &value, &interval);
    if (err)
        return err;
    uint32_t flags = (uint32_t)a[1];
    if (flags & ~(uint32_t)(ABI_TFD_TIMER_ABSTIME | ABI_TFD_TIMER_CANCEL_ON_SET))
        return -ABI_EINVAL;
    struct vfs_file *f;
    err = timerfd_arg(t, a[0], &f);
    if (err)
        return err;
    int64_t old[2];
    timerfd_set(f, flags, value, interval, old);
    return a[3] ? store_itimerspec(t, a[3], old) : 0;
}

int64_t sys_timerfd_gettime(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f;
    int err = timerfd_arg(t, a[0], &f);
    if (err)
        return err;
    int64_t cur[2];
    timerfd_get(f, cur);
    return store_itimerspec(t, a[1], cur);
}
