/* sysinfo(2): the sandbox's view, the same figures /proc/meminfo and
 * /proc/uptime show (sentry/fs/procfs/proc_info.c): its own boot time, its
 * memory file's use against the host's memory, its own processes. */
#include <string.h>
#include <time.h>

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
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t up = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - k->host.boot_mono_ns;
    /* Linux rounds a partial second up. */
    si.uptime = up > 0 ? (up + 999999999) / 1000000000 : 0;
    uint64_t total = k->host.mem_total_kb ? k->host.mem_total_kb * 1024 : 1ULL << 30;
    uint64_t used = k->memfile ? mm_memfile_used(k->memfile) : 0;
    si.totalram = total;
    si.freeram = used < total ? total - used : 0;
    int procs = 0;
    kernel_for_each_thread_group(k, count_group, &procs);
    si.procs = (uint16_t)procs;
    si.mem_unit = 1;
    return mm_copy_out(t->mm, a[0], &si, sizeof(si)) ? -ABI_EFAULT : 0;
}
