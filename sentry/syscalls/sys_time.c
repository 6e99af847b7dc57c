/* Clocks and sleeps for callers that trap (the vDSO answers most reads). */
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "platform/platform.h"
#include "sentry/kernel/sched.h"
#include "sentry/kernel/timer.h"
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

/* ---- sleeps ----
 * Every sleep comes down to a deadline: an absolute time on CLOCK_MONOTONIC
 * or CLOCK_REALTIME (what task_sleep waits on), or on the process's CPU
 * clock (which the timer service watches). An interrupted relative sleep
 * resumes through restart_syscall(2) towards the same deadline, and tells
 * the guest the time left in rem each time it is interrupted. */

#define NSEC         1000000000LL
#define SLEEP_NS_MAX ((int64_t)1 << 62)

static int64_t ns_of(const struct timespec *ts)
{
    if (ts->tv_sec >= SLEEP_NS_MAX / NSEC)
        return SLEEP_NS_MAX;
    return (int64_t)ts->tv_sec * NSEC + ts->tv_nsec;
}

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ns_of(&ts);
}

/* The clock a deadline is kept on: a host clock, or the process's CPU
 * time (TIMER_CLOCK_CPU). */
static int64_t deadline_clock_now(struct task *t, int clock)
{
    if (clock == TIMER_CLOCK_CPU)
        return timer_process_cpu_ns(t->tg);
    return clock_ns((clockid_t)clock);
}

static void wake_sleeper(struct ktimer *kt, uint64_t periods)
{
    (void)periods;
    task_wake(kt->arg);
}

/* Sleep until deadline on clock: 0 when it came, -EINTR when a signal
 * (or the task's end) cut the sleep short. */
static int sleep_until(struct task *t, int clock, int64_t deadline)
{
    if (clock != TIMER_CLOCK_CPU) {
        struct kernel_deadline dl = {.clock = clock, .at = {deadline / NSEC, deadline % NSEC}};
        for (;;) {
            int r = task_sleep(t, &dl);
            if (r == -ABI_ETIMEDOUT)
                return 0;
            if (r == -ABI_EINTR)
                return r;
        }
    }
    /* The timer lives on this stack frame: disarmed before it goes. */
    struct ktimer kt;
    timer_init(&kt, TIMER_CLOCK_CPU, t->tg, wake_sleeper, t);
    timer_arm(&kt, deadline, 0);
    int r = 0;
    while (timer_clock_now(&kt) < deadline) {
        if (task_sleep(t, NULL) == -ABI_EINTR) {
            r = -ABI_EINTR;
            break;
        }
    }
    timer_disarm(&kt);
    return r;
}

static int64_t sleep_restart(struct task *t);

/* The end of a relative sleep: done, or interrupted with the time left
 * written to rem and restart_syscall set to go on to the same deadline. */
static int64_t sleep_relative(struct task *t, int clock, int64_t deadline, uint64_t rem_addr)
{
    if (sleep_until(t, clock, deadline) == 0)
        return 0;
    if (rem_addr) {
        int64_t left = deadline - deadline_clock_now(t, clock);
        if (left < 0)
            left = 0;
        struct abi_timespec g = {left / NSEC, left % NSEC};
        if (mm_copy_out(t->mm, rem_addr, &g, sizeof(g)) != 0)
            return -ABI_EFAULT;
    }
    t->restart_fn = sleep_restart;
    t->restart_data[0] = (uint64_t)(int64_t)clock;
    t->restart_data[1] = (uint64_t)deadline;
    t->restart_data[2] = rem_addr;
    return -ABI_ERESTART_RESTARTBLOCK;
}

static int64_t sleep_restart(struct task *t)
{
    return sleep_relative(t, (int)(int64_t)t->restart_data[0], (int64_t)t->restart_data[1],
                          t->restart_data[2]);
}

/* An absolute deadline req on a guest clock, as a deadline on a clock
 * sleep_until waits on: BOOTTIME and TAI keep their distance from
 * MONOTONIC and REALTIME (the sandbox never suspends or sets clocks). */
static int64_t sleep_absolute(struct task *t, int clock, const struct timespec *req)
{
    int64_t at = ns_of(req);
    int wait_clock = clock;
    if (clock == CLOCK_BOOTTIME) {
        at -= clock_ns(CLOCK_BOOTTIME) - clock_ns(CLOCK_MONOTONIC);
        wait_clock = CLOCK_MONOTONIC;
    } else if (clock == CLOCK_TAI) {
        at -= clock_ns(CLOCK_TAI) - clock_ns(CLOCK_REALTIME);
        wait_clock = CLOCK_REALTIME;
    }
    return sleep_until(t, wait_clock, at) == 0 ? 0 : -ABI_ERESTARTNOHAND;
}

static int64_t do_sleep(struct task *t, int clock, bool absolute, const struct timespec *req,
                        uint64_t rem_addr)
{
    if (absolute)
        return sleep_absolute(t, clock, req);
    /* A relative sleep on a wall clock measures a duration: the monotonic
     * clock does, whatever the clock named. */
    int wait_clock = clock == TIMER_CLOCK_CPU ? TIMER_CLOCK_CPU : CLOCK_MONOTONIC;
    int64_t now = deadline_clock_now(t, wait_clock);
    int64_t len = ns_of(req);
    int64_t deadline = len >= SLEEP_NS_MAX - now ? SLEEP_NS_MAX : now + len;
    return sleep_relative(t, wait_clock, deadline, rem_addr);
}

int64_t sys_nanosleep(struct task *t, const uint64_t a[6])
{
    /* Whatever an earlier call left for restart_syscall is stale now. */
    t->restart_fn = NULL;
    struct timespec req;
    int err = load_timespec(t, a[0], &req);
    if (err)
        return err;
    return do_sleep(t, CLOCK_MONOTONIC, false, &req, a[1]);
}

int64_t sys_clock_nanosleep(struct task *t, const uint64_t a[6])
{
    t->restart_fn = NULL;
    int64_t id = (int32_t)a[0];
    int clock;
    switch (sys_clock_cpu_normalize(t, id)) {
    case ABI_CLOCK_REALTIME:
    case ABI_CLOCK_MONOTONIC:
    case ABI_CLOCK_BOOTTIME:
    case ABI_CLOCK_TAI:
        clock = (int)id;
        break;
    case ABI_CLOCK_PROCESS_CPUTIME_ID:
        /* Sleeping on the process's own CPU clock waits for its other
         * threads to use that much (forever, with none: as on Linux). */
        clock = TIMER_CLOCK_CPU;
        break;
    case ABI_CLOCK_THREAD_CPUTIME_ID:
        /* A thread's clock cannot advance while it sleeps: the numbered
         * clock has no sleep at all, a thread named by id is refused. */
        return id < 0 ? -ABI_EINVAL : -ABI_EOPNOTSUPP;
    case ABI_CLOCK_MONOTONIC_RAW:
    case ABI_CLOCK_REALTIME_COARSE:
    case ABI_CLOCK_MONOTONIC_COARSE:
    case ABI_CLOCK_REALTIME_ALARM:
    case ABI_CLOCK_BOOTTIME_ALARM:
        /* No sleep on these (the alarm ones would need a wake-up RTC). */
        return -ABI_EOPNOTSUPP;
    default:
        return -ABI_EINVAL;
    }
    struct timespec req;
    int err = load_timespec(t, a[2], &req);
    if (err)
        return err;
    bool absolute = (a[1] & ABI_TIMER_ABSTIME) != 0;
    return do_sleep(t, clock, absolute, &req, absolute ? 0 : a[3]);
}
