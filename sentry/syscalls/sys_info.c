/* System identity and scheduling queries. */
#include <sched.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* One definition (sentry/kernel/kernel.h) for uname and /proc. */
#define MOAT_UTS_RELEASE KERNEL_UTS_RELEASE
#define MOAT_UTS_VERSION KERNEL_UTS_VERSION

int64_t sys_uname(struct task *t, const uint64_t a[6])
{
    struct abi_utsname u;
    memset(&u, 0, sizeof(u));
    strcpy(u.sysname, "Linux");
    memcpy(u.nodename, t->k->hostname, sizeof(u.nodename));
    strcpy(u.release, MOAT_UTS_RELEASE);
    strcpy(u.version, MOAT_UTS_VERSION);
    strcpy(u.machine, "x86_64");
    memcpy(u.domainname, t->k->domainname, sizeof(u.domainname));
    return mm_copy_out(t->mm, a[0], &u, sizeof(u)) ? -ABI_EFAULT : 0;
}

int64_t sys_getrandom(struct task *t, const uint64_t a[6])
{
    uint64_t flags = a[2];
    if (flags & ~(uint64_t)(ABI_GRND_NONBLOCK | ABI_GRND_RANDOM | ABI_GRND_INSECURE))
        return -ABI_EINVAL;
    if ((flags & ABI_GRND_RANDOM) && (flags & ABI_GRND_INSECURE))
        return -ABI_EINVAL;
    uint64_t n = a[1] > 0x7ffff000ULL ? 0x7ffff000ULL : a[1];
    unsigned char buf[4096];
    uint64_t done = 0;
    while (done < n) {
        size_t chunk = n - done > sizeof(buf) ? sizeof(buf) : (size_t)(n - done);
        /* The host pool is initialised long before a sandbox starts, so the
         * guest's flags need no host equivalent. */
        ssize_t r = getrandom(buf, chunk, 0);
        if (r <= 0)
            return done ? (int64_t)done : -ABI_EAGAIN;
        if (mm_copy_out(t->mm, a[0] + done, buf, (size_t)r) != 0)
            return done ? (int64_t)done : -ABI_EFAULT;
        done += (uint64_t)r;
    }
    return (int64_t)done;
}

int64_t sys_sched_yield(struct task *t, const uint64_t a[6])
{
    (void)t;
    (void)a;
    sched_yield();
    return 0;
}

int64_t sys_sched_getaffinity(struct task *t, const uint64_t a[6])
{
    if (a[0] != 0 && (int32_t)a[0] != t->tid)
        return -ABI_ESRCH;
    /* The sandbox reports CPUs 0..ncpus-1, all of them allowed. */
    uint64_t ncpus = (uint64_t)t->k->ncpus;
    uint64_t size = ((ncpus + 63) / 64) * 8;
    uint64_t len = a[1];
    if (len * 8 < ncpus || (len & 7))
        return -ABI_EINVAL;
    unsigned char mask[128];
    if (size > sizeof(mask))
        size = sizeof(mask);
    memset(mask, 0, sizeof(mask));
    for (uint64_t c = 0; c < ncpus && c < sizeof(mask) * 8; c++) {
        /* Only the CPUs sched_setaffinity left (sys_sched.c). */
        if (!t->settings.affinity_set || (t->settings.affinity[c / 64] & (1ULL << (c % 64))))
            mask[c / 8] |= (unsigned char)(1u << (c % 8));
    }
    if (mm_copy_out(t->mm, a[2], mask, (size_t)size) != 0)
        return -ABI_EFAULT;
    return (int64_t)size;
}

int64_t sys_getcpu(struct task *t, const uint64_t a[6])
{
    unsigned int cpu = 0, node = 0;
    syscall(SYS_getcpu, &cpu, &node, NULL);
    cpu %= (unsigned int)t->k->ncpus;
    uint32_t c = cpu, n = 0;
    if (a[0] && mm_copy_out(t->mm, a[0], &c, sizeof(c)) != 0)
        return -ABI_EFAULT;
    if (a[1] && mm_copy_out(t->mm, a[1], &n, sizeof(n)) != 0)
        return -ABI_EFAULT;
    return 0;
}
