/* Sandbox-wide kernel state and diagnostics. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "abi/syscall_table.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"

void kernel_init(struct kernel *k, struct platform *p, struct mm_memfile *mf)
{
    memset(k, 0, sizeof(*k));
    k->platform = p;
    k->memfile = mf;
    strcpy(k->hostname, "moat");
    strcpy(k->domainname, "(none)");
    k->ncpus = 1;
    k->log_fd = 2;
    k->next_pid = 1;
    pthread_cond_init(&k->idle, NULL);
    for (int r = 0; r < ABI_RLIM_NLIMITS; r++) {
        struct rlimit hl;
        if (getrlimit(r, &hl) == 0) {
            k->rlimits[r].rlim_cur = hl.rlim_cur;
            k->rlimits[r].rlim_max = hl.rlim_max;
        } else {
            k->rlimits[r].rlim_cur = k->rlimits[r].rlim_max = ABI_RLIM_INFINITY;
        }
    }
}

void kernel_log(struct kernel *k, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    /* One write per line keeps lines whole when several writers share the fd. */
    while (len > 0) {
        ssize_t w = write(k->log_fd, buf, len);
        if (w <= 0)
            return;
        memmove(buf, buf + w, len - (size_t)w);
        len -= (size_t)w;
    }
}

void kernel_report_enosys(struct kernel *k, long nr)
{
    if (nr < 0 || nr >= ABI_SYSCALL_TABLE_SIZE) {
        /* Numbers outside the table are not syscalls at all: report once. */
        nr = ABI_SYSCALL_TABLE_SIZE;
    }
    uint8_t bit = (uint8_t)(1u << (nr % 8));
    if (k->enosys_seen[nr / 8] & bit)
        return;
    k->enosys_seen[nr / 8] |= bit;
    const char *name = abi_syscall_name(nr);
    if (name)
        kernel_log(k, "moat: unsupported syscall %s (%ld): returning ENOSYS\n", name, nr);
    else
        kernel_log(k, "moat: unknown syscall number: returning ENOSYS\n");
}

static _Thread_local struct task *current_task;

struct task *kernel_current(void)
{
    return current_task;
}

void kernel_set_current(struct task *t)
{
    current_task = t;
}

int64_t kernel_uptime_ns(const struct kernel *k)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - k->host.boot_mono_ns;
    return ns > 0 ? ns : 0;
}

uint64_t kernel_mem_total_bytes(const struct kernel *k)
{
    return k->host.mem_total_kb ? k->host.mem_total_kb * 1024 : 1ULL << 30;
}

uint64_t kernel_mem_used_bytes(const struct kernel *k)
{
    return k->memfile ? mm_memfile_used(k->memfile) : 0;
}
