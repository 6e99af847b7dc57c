/* Clocks and sleeps for callers that trap (the vDSO answers most reads). */
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "platform/platform.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* Linux's CPU clock id of a whole host process (CPUCLOCK_SCHED). Only a
 * process's own threads may read its per-thread clocks, so the Sentry reads
 * the stub's process clock: the stub runs nothing but this guest's code. */
static clockid_t host_process_cpu_clock(int pid)
{
    return (clockid_t)((~(unsigned)pid << 3) | 2u);
}

/* Map a guest clock to the host clock that measures it; -EINVAL if none. */
static int host_clock(struct task *t, uint64_t id, clockid_t *out)
{
    switch (id) {
    case ABI_CLOCK_REALTIME:
    case ABI_CLOCK_MONOTONIC:
    case ABI_CLOCK_MONOTONIC_RAW:
    case ABI_CLOCK_REALTIME_COARSE:
    case ABI_CLOCK_MONOTONIC_COARSE:
    case ABI_CLOCK_BOOTTIME:
    case ABI_CLOCK_TAI:
        *out = (clockid_t)id;
        return 0;
    case ABI_CLOCK_REALTIME_ALARM:
        *out = CLOCK_REALTIME;
        return 0;
    case ABI_CLOCK_BOOTTIME_ALARM:
        *out = CLOCK_BOOTTIME;
        return 0;
    case ABI_CLOCK_PROCESS_CPUTIME_ID:
    case ABI_CLOCK_THREAD_CPUTIME_ID:
        /* The guest's CPU time is the time its stub thread ran. */
        *out = host_process_cpu_clock(platform_as_host_pid(t->as));
        return 0;
    default:
        return -ABI_EINVAL;
    }
}

int64_t sys_clock_gettime(struct task *t, const uint64_t a[6])
{
    clockid_t c;
    int err = host_clock(t, a[0], &c);
    if (err)
        return err;
    struct timespec ts;
    if (clock_gettime(c, &ts) < 0)
        return -errno;
    struct abi_timespec g = {ts.tv_sec, ts.tv_nsec};
    return mm_copy_out(t->mm, a[1], &g, sizeof(g)) ? -ABI_EFAULT : 0;
}

int64_t sys_clock_getres(struct task *t, const uint64_t a[6])
{
    clockid_t c;
    int err = host_clock(t, a[0], &c);
    if (err)
        return err;
    if (!a[1])
        return 0;
    struct timespec ts;
    if (clock_getres(c, &ts) < 0)
        return -errno;
    struct abi_timespec g = {ts.tv_sec, ts.tv_nsec};
    return mm_copy_out(t->mm, a[1], &g, sizeof(g)) ? -ABI_EFAULT : 0;
}

int64_t sys_gettimeofday(struct task *t, const uint64_t a[6])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (a[0]) {
        struct abi_timeval tv = {ts.tv_sec, ts.tv_nsec / 1000};
        if (mm_copy_out(t->mm, a[0], &tv, sizeof(tv)) != 0)
            return -ABI_EFAULT;
    }
    if (a[1]) {
        /* The sandbox's time zone is UTC, like a kernel nobody told otherwise. */
        struct abi_timezone tz = {0, 0};
        if (mm_copy_out(t->mm, a[1], &tz, sizeof(tz)) != 0)
            return -ABI_EFAULT;
    }
    return 0;
}

int64_t sys_time(struct task *t, const uint64_t a[6])
{
    int64_t now = (int64_t)time(NULL);
    if (a[0] && mm_copy_out(t->mm, a[0], &now, sizeof(now)) != 0)
        return -ABI_EFAULT;
    return now;
}

static int load_timespec(struct task *t, uint64_t addr, struct timespec *out)
{
    struct abi_timespec g;
    if (mm_copy_in(t->mm, &g, addr, sizeof(g)) != 0)
        return -ABI_EFAULT;
    if (g.tv_sec < 0 || g.tv_nsec < 0 || g.tv_nsec >= 1000000000)
        return -ABI_EINVAL;
    out->tv_sec = g.tv_sec;
    out->tv_nsec = g.tv_nsec;
    return 0;
}

/* Sleep on the host; a forwarded host signal interrupts it (the handler is
 * installed without SA_RESTART), which the task loop then acts on. */
static int64_t do_sleep(struct task *t, clockid_t c, bool absolute, const struct timespec *req,
                        uint64_t rem_addr)
{
    struct timespec rem = {0, 0};
    int r = clock_nanosleep(c, absolute ? TIMER_ABSTIME : 0, req, &rem);
    if (r == 0)
        return 0;
    if (r != EINTR)
        return -r;
    if (!absolute && rem_addr) {
        struct abi_timespec g = {rem.tv_sec, rem.tv_nsec};
        if (mm_copy_out(t->mm, rem_addr, &g, sizeof(g)) != 0)
            return -ABI_EFAULT;
    }
    return -ABI_EINTR;
}

int64_t sys_nanosleep(struct task *t, const uint64_t a[6])
{
    struct timespec req;
    int err = load_timespec(t, a[0], &req);
    if (err)
        return err;
    return do_sleep(t, CLOCK_MONOTONIC, false, &req, a[1]);
}

int64_t sys_clock_nanosleep(struct task *t, const uint64_t a[6])
{
    uint64_t id = a[0];
    switch (id) {
    case ABI_CLOCK_REALTIME:
    case ABI_CLOCK_MONOTONIC:
    case ABI_CLOCK_BOOTTIME:
    case ABI_CLOCK_TAI:
        break;
    case ABI_CLOCK_PROCESS_CPUTIME_ID:
        kernel_log(t->k, "moat: clock_nanosleep on the process CPU clock is not implemented\n");
        return -ABI_EOPNOTSUPP;
    case ABI_CLOCK_THREAD_CPUTIME_ID:
    case ABI_CLOCK_MONOTONIC_RAW:
    case ABI_CLOCK_REALTIME_COARSE:
    case ABI_CLOCK_MONOTONIC_COARSE:
    case ABI_CLOCK_REALTIME_ALARM:
    case ABI_CLOCK_BOOTTIME_ALARM:
        /* Linux has no sleep on these clocks (the alarm ones need CAP_WAKE_ALARM). */
        return -ABI_EOPNOTSUPP;
    default:
        return -ABI_EINVAL;
    }
    struct timespec req;
    int err = load_timespec(t, a[2], &req);
    if (err)
        return err;
    return do_sleep(t, (clockid_t)id, (a[1] & ABI_TIMER_ABSTIME) != 0, &req, a[3]);
}
