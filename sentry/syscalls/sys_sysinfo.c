/* sysinfo(2): the sandbox's view, the same figures /proc/meminfo and
 * /proc/uptime show (sentry/fs/procfs/proc_info.c): its own boot time, its
 * memory file's use against the host's memory, its own processes. */
#include <string.h>

#include "abi/errno.h"
#include "abi/types.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

static int count_group(void *arg, struct task *t)
{
    (void)t;
    (*(int *)arg)++;
    return 0;
}

int64_t sys_sysinfo(struct task *t, const uint64_t a[6])
{
    struct kernel *k = t->k;
    struct abi_sysinfo si;
    memset(&si, 0, sizeof(si));
    /* Linux rounds a partial second up. */
    si.uptime = (kernel_uptime_ns(k) + 999999999) / 1000000000;
    uint64_t total = kernel_mem_total_bytes(k), used = kernel_mem_used_bytes(k);
    si.totalram = total;
    si.freeram = used < total ? total - used : 0;
    int procs = 0;
    kernel_for_each_thread_group(k, count_group, &procs);
    si.procs = (uint16_t)procs;
    si.mem_unit = 1;
    return mm_copy_out(t->mm, a[0], &si, sizeof(si)) ? -ABI_EFAULT : 0;
}
