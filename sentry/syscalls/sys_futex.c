/* futex for a single-threaded sandbox: nothing else can wake a waiter, so a
 * wait ends by value mismatch, timeout or a forwarded host signal. The
 * multi-threaded futex with its wait queues comes with threads. */
#include <errno.h>
#include <time.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

static int64_t futex_wait(struct task *t, uint64_t uaddr, uint32_t val, uint64_t timeout,
                          bool absolute, bool realtime)
{
    struct timespec deadline;
    bool timed = timeout != 0;
    if (timed) {
        struct abi_timespec g;
        if (mm_copy_in(t->mm, &g, timeout, sizeof(g)) != 0)
            return -ABI_EFAULT;
        if (g.tv_sec < 0 || g.tv_nsec < 0 || g.tv_nsec >= 1000000000)
            return -ABI_EINVAL;
        deadline.tv_sec = g.tv_sec;
        deadline.tv_nsec = g.tv_nsec;
    }
    uint32_t cur;
    if (mm_copy_in(t->mm, &cur, uaddr, sizeof(cur)) != 0)
        return -ABI_EFAULT;
    if (cur != val)
        return -ABI_EAGAIN;
    clockid_t c = realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    if (timed && !absolute) {
        struct timespec now;
        clock_gettime(c, &now);
        deadline.tv_sec += now.tv_sec;
        deadline.tv_nsec += now.tv_nsec;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
    }
    for (;;) {
        int r;
        if (timed) {
            r = clock_nanosleep(c, TIMER_ABSTIME, &deadline, NULL);
            if (r == 0)
                return -ABI_ETIMEDOUT;
        } else {
            struct timespec hour = {3600, 0};
            r = clock_nanosleep(CLOCK_MONOTONIC, 0, &hour, NULL);
            if (r == 0)
                continue;
        }
        /* Interrupted by a signal for the guest: an untimed wait restarts
         * under SA_RESTART or when no handler runs, as on Linux; a timed
         * one would restart with its full relative timeout, so it reports
         * EINTR (restart_syscall(2) is not built). */
        if (r == EINTR && t->k->host_signal)
            return timed ? -ABI_ERESTART_RESTARTBLOCK : -ABI_ERESTARTSYS;
        if (r != EINTR)
            return -r;
    }
}

int64_t sys_futex(struct task *t, const uint64_t a[6])
{
    uint64_t uaddr = a[0];
    int op = (int)a[1];
    int cmd = op & ABI_FUTEX_CMD_MASK;
    bool realtime = (op & ABI_FUTEX_CLOCK_REALTIME) != 0;
    if (uaddr & 3)
        return -ABI_EINVAL;
    if (!kernel_access_ok(uaddr, sizeof(uint32_t)))
        return -ABI_EFAULT;
    switch (cmd) {
    case ABI_FUTEX_WAIT:
        /* FUTEX_WAIT's timeout is relative and measured on CLOCK_MONOTONIC
         * unless FUTEX_CLOCK_REALTIME is given. */
        return futex_wait(t, uaddr, (uint32_t)a[2], a[3], false, realtime);
    case ABI_FUTEX_WAIT_BITSET:
        if ((uint32_t)a[5] == 0)
            return -ABI_EINVAL;
        return futex_wait(t, uaddr, (uint32_t)a[2], a[3], true, realtime);
    case ABI_FUTEX_WAKE:
    case ABI_FUTEX_WAKE_BITSET:
        if (realtime)
            return -ABI_ENOSYS; /* as Linux: CLOCK_REALTIME only goes with waits */
        if (cmd == ABI_FUTEX_WAKE_BITSET && (uint32_t)a[5] == 0)
            return -ABI_EINVAL;
        /* A shared futex is keyed by its page, which must exist; a private
         * one only by its address. */
        if (!(op & ABI_FUTEX_PRIVATE_FLAG)) {
            uint32_t v;
            if (mm_copy_in(t->mm, &v, uaddr, sizeof(v)) != 0)
                return -ABI_EFAULT;
        }
        return 0; /* no other thread can be waiting */
    default:
        kernel_log(t->k, "moat: futex op %d is not implemented yet\n", cmd);
        return -ABI_ENOSYS;
    }
}
