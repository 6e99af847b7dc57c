/* The system-wide files of /proc: meminfo, cpuinfo, stat, uptime, loadavg,
 * version, filesystems. The sandbox's view: its own CPUs (k->ncpus), its
 * memory file's use against the host's memory, its own boot time. */
#include <inttypes.h>

#include "sentry/fs/procfs/proc_internal.h"
#include "sentry/fs/procfs/procfs.h"
#include "sentry/kernel/kernel.h"

int procfs_gen_meminfo(const struct synth_ctx *c, struct synth_buf *b)
{
    procfs_format_meminfo(b, kernel_mem_total_bytes(c->k) / 1024,
                          kernel_mem_used_bytes(c->k) / 1024);
    return 0;
}

int procfs_gen_cpuinfo(const struct synth_ctx *c, struct synth_buf *b)
{
    procfs_format_cpuinfo(b, c->k->host.cpuinfo, c->k->ncpus);
    return 0;
}

int procfs_gen_stat(const struct synth_ctx *c, struct synth_buf *b)
{
    /* CPU time is not accounted yet: every CPU has been idle since boot. */
    uint64_t idle = (uint64_t)kernel_uptime_ns(c->k) / 10000000u;
    synth_printf(b, "cpu  0 0 0 %" PRIu64 " 0 0 0 0 0 0\n", idle * (uint64_t)c->k->ncpus);
    for (int i = 0; i < c->k->ncpus; i++)
        synth_printf(b, "cpu%d 0 0 0 %" PRIu64 " 0 0 0 0 0 0\n", i, idle);
    synth_printf(b,
                 "intr 0\nctxt 0\nbtime %" PRId64 "\nprocesses %d\nprocs_running 1\n"
                 "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
                 c->k->host.boot_real_s, c->k->next_pid - 1);
    return 0;
}

int procfs_gen_uptime(const struct synth_ctx *c, struct synth_buf *b)
{
    uint64_t cs = (uint64_t)kernel_uptime_ns(c->k) / 10000000u;
    uint64_t idle = cs * (uint64_t)c->k->ncpus;
    synth_printf(b, "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 "\n", cs / 100, cs % 100,
                 idle / 100, idle % 100);
    return 0;
}

struct count {
    int n;
};

static int count_one(void *arg, struct task *t)
{
    (void)t;
    ((struct count *)arg)->n++;
    return 0;
}

int procfs_gen_loadavg(const struct synth_ctx *c, struct synth_buf *b)
{
    struct count n = {0};
    kernel_for_each_thread_group(c->k, count_one, &n);
    synth_printf(b, "0.00 0.00 0.00 1/%d %d\n", n.n, c->k->next_pid - 1);
    return 0;
}

int procfs_gen_version(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "Linux version %s (moat@moat) (moat) %s\n", KERNEL_UTS_RELEASE,
                 KERNEL_UTS_VERSION);
    return 0;
}

int procfs_gen_filesystems(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\t9p\n");
    return 0;
}
