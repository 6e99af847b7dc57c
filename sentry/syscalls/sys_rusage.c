/* CPU time accounting as the guest reads it: times(2) and getrusage(2),
 * from the per-thread counters the run loop keeps and the per-process
 * totals of ended threads and reaped children. Memory and I/O counters
 * read 0: moat does not count faults, context switches or block I/O, and
 * ru_maxrss has no resident-size estimate to come from yet. */
#include <string.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "abi/types.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* The process's own CPU time: its ended threads plus its live ones. */
static void process_times(const struct task *t, uint64_t *utime, uint64_t *stime)
{
    const struct thread_group *tg = t->tg;
    *utime = tg->utime_ns;
    *stime = tg->stime_ns;
    for (const struct task *p = tg->threads; p; p = p->tg_next) {
        *utime += p->utime_ns;
        *stime += p->stime_ns;
    }
}

static struct abi_timeval to_timeval(uint64_t ns)
{
    return (struct abi_timeval){(int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000 / 1000)};
}

static int64_t to_ticks(uint64_t ns)
{
    return (int64_t)(ns / (1000000000 / ABI_USER_HZ));
}

int64_t sys_getrusage(struct task *t, const uint64_t a[6])
{
    uint64_t utime, stime;
    switch ((int32_t)a[0]) {
    case ABI_RUSAGE_SELF:
        process_times(t, &utime, &stime);
        break;
    case ABI_RUSAGE_THREAD:
        utime = t->utime_ns;
        stime = t->stime_ns;
        break;
    case ABI_RUSAGE_CHILDREN:
        utime = t->tg->cutime_ns;
        stime = t->tg->cstime_ns;
        break;
    default:
        return -ABI_EINVAL;
    }
    struct abi_rusage ru;
    memset(&ru, 0, sizeof(ru));
    ru.ru_utime = to_timeval(utime);
    ru.ru_stime = to_timeval(stime);
    return mm_copy_out(t->mm, a[1], &ru, sizeof(ru)) ? -ABI_EFAULT : 0;
}

int64_t sys_times(struct task *t, const uint64_t a[6])
{
    if (a[0]) {
        uint64_t utime, stime;
        process_times(t, &utime, &stime);
        struct abi_tms tms = {to_ticks(utime), to_ticks(stime), to_ticks(t->tg->cutime_ns),
                              to_ticks(t->tg->cstime_ns)};
        if (mm_copy_out(t->mm, a[0], &tms, sizeof(tms)) != 0)
            return -ABI_EFAULT;
    }
    /* Ticks since the sandbox booted: callers only take differences. */
    return to_ticks((uint64_t)kernel_uptime_ns(t->k));
}
