/* Identity, exit, limits and per-task settings. */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/regs.h"
#include "platform/platform.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

int64_t sys_exit(struct task *t, const uint64_t a[6])
{
    /* The only thread: its exit ends the thread group. */
    task_exit_group(t, kernel_wstatus_exit((int)a[0]));
    return 0;
}

int64_t sys_exit_group(struct task *t, const uint64_t a[6])
{
    task_exit_group(t, kernel_wstatus_exit((int)a[0]));
    return 0;
}

int64_t sys_getpid(struct task *t, const uint64_t a[6])
{
    (void)a;
    return t->pid;
}

int64_t sys_gettid(struct task *t, const uint64_t a[6])
{
    (void)a;
    return t->tid;
}

int64_t sys_getppid(struct task *t, const uint64_t a[6])
{
    (void)a;
    return t->ppid;
}

int64_t sys_getuid(struct task *t, const uint64_t a[6])
{
    (void)a;
    return t->creds.uid;
}

int64_t sys_geteuid(struct task *t, const uint64_t a[6])
{
    (void)a;
    return t->creds.euid;
}

int64_t sys_getgid(struct task *t, const uint64_t a[6])
{
    (void)a;
    return t->creds.gid;
}

int64_t sys_getegid(struct task *t, const uint64_t a[6])
{
    (void)a;
    return t->creds.egid;
}

int64_t sys_getgroups(struct task *t, const uint64_t a[6])
{
    int64_t size = (int32_t)a[0];
    uint32_t n = t->creds.ngroups;
    if (size < 0)
        return -ABI_EINVAL;
    if (size == 0)
        return n;
    if ((uint64_t)size < n)
        return -ABI_EINVAL;
    if (n && mm_copy_out(t->mm, a[1], t->creds.groups, n * sizeof(uint32_t)) != 0)
        return -ABI_EFAULT;
    return n;
}

int64_t sys_set_tid_address(struct task *t, const uint64_t a[6])
{
    t->clear_child_tid = a[0];
    return t->tid;
}

int64_t sys_set_robust_list(struct task *t, const uint64_t a[6])
{
    if (a[1] != sizeof(struct abi_robust_list_head))
        return -ABI_EINVAL;
    t->robust_list = a[0];
    t->robust_len = a[1];
    return 0;
}

int64_t sys_get_robust_list(struct task *t, const uint64_t a[6])
{
    /* Only the calling thread exists (pid 0 or our own tid). */
    if (a[0] != 0 && (int32_t)a[0] != t->tid)
        return -ABI_ESRCH;
    uint64_t len = sizeof(struct abi_robust_list_head);
    if (mm_copy_out(t->mm, a[1], &t->robust_list, sizeof(uint64_t)) != 0 ||
        mm_copy_out(t->mm, a[2], &len, sizeof(len)) != 0)
        return -ABI_EFAULT;
    return 0;
}

/* Linux accepts only canonical user addresses as FS/GS bases. */
static bool canonical_user(uint64_t addr)
{
    return addr < 0x800000000000ULL;
}

int64_t sys_arch_prctl(struct task *t, const uint64_t a[6])
{
    struct abi_ptregs *regs = platform_ctx_regs(t->ctx);
    switch (a[0]) {
    case ABI_ARCH_SET_FS:
        if (!canonical_user(a[1]))
            return -ABI_EPERM;
        regs->fs_base = a[1];
        regs->fs = 0;
        return 0;
    case ABI_ARCH_SET_GS:
        if (!canonical_user(a[1]))
            return -ABI_EPERM;
        regs->gs_base = a[1];
        regs->gs = 0;
        return 0;
    case ABI_ARCH_GET_FS:
        return mm_copy_out(t->mm, a[1], &regs->fs_base, sizeof(uint64_t)) ? -ABI_EFAULT : 0;
    case ABI_ARCH_GET_GS:
        return mm_copy_out(t->mm, a[1], &regs->gs_base, sizeof(uint64_t)) ? -ABI_EFAULT : 0;
    case ABI_ARCH_GET_CPUID:
        return 1; /* cpuid does not fault: moat does not emulate CPUID faulting */
    case ABI_ARCH_SET_CPUID:
        return a[1] ? 0 : -ABI_ENODEV;
    default:
        return -ABI_EINVAL;
    }
}

int64_t sys_prctl(struct task *t, const uint64_t a[6])
{
    char name[ABI_TASK_COMM_LEN];
    switch (a[0]) {
    case ABI_PR_SET_NAME: {
        /* Linux copies up to 16 bytes and always NUL-terminates at 15. */
        memset(name, 0, sizeof(name));
        int64_t n = mm_copy_in_str(t->mm, name, a[1], sizeof(name));
        if (n == -ABI_EFAULT)
            return -ABI_EFAULT;
        name[sizeof(name) - 1] = '\0';
        memcpy(t->comm, name, sizeof(t->comm));
        return 0;
    }
    case ABI_PR_GET_NAME:
        memcpy(name, t->comm, sizeof(name));
        name[sizeof(name) - 1] = '\0';
        return mm_copy_out(t->mm, a[1], name, sizeof(name)) ? -ABI_EFAULT : 0;
    default:
        /* Linux answers EINVAL for options it does not know; an option it
         * knows and moat does not implement yet is reported, once. */
        if (a[0] < 64 && !(t->k->prctl_reported & (1ULL << a[0]))) {
            t->k->prctl_reported |= 1ULL << a[0];
            kernel_log(t->k, "moat: prctl option %llu is not implemented: returning EINVAL\n",
                       (unsigned long long)a[0]);
        }
        return -ABI_EINVAL;
    }
}

static int64_t do_prlimit(struct task *t, uint64_t res, uint64_t new_addr, uint64_t old_addr)
{
    if (res >= ABI_RLIM_NLIMITS)
        return -ABI_EINVAL;
    struct abi_rlimit nl;
    if (new_addr) {
        if (mm_copy_in(t->mm, &nl, new_addr, sizeof(nl)) != 0)
            return -ABI_EFAULT;
        if (nl.rlim_cur > nl.rlim_max)
            return -ABI_EINVAL;
        /* Raising a hard limit needs CAP_SYS_RESOURCE, which the sandbox's
         * root holds; an unprivileged guest user may not. */
        if (nl.rlim_max > t->rlimits[res].rlim_max && t->creds.euid != 0)
            return -ABI_EPERM;
        if (res == ABI_RLIMIT_NOFILE && nl.rlim_max > 1048576)
            return -ABI_EPERM;
    }
    struct abi_rlimit old = t->rlimits[res];
    if (old_addr && mm_copy_out(t->mm, old_addr, &old, sizeof(old)) != 0)
        return -ABI_EFAULT;
    if (new_addr) {
        t->rlimits[res] = nl;
        if (res == ABI_RLIMIT_STACK)
            mm_set_stack_limit(t->mm, nl.rlim_cur);
    }
    return 0;
}

int64_t sys_prlimit64(struct task *t, const uint64_t a[6])
{
    /* Only this sandbox's own process exists. */
    if (a[0] != 0 && (int32_t)a[0] != t->pid)
        return -ABI_ESRCH;
    return do_prlimit(t, a[1], a[2], a[3]);
}

/* Unlike prlimit64, a NULL pointer here is an EFAULT, not "skip". */
int64_t sys_getrlimit(struct task *t, const uint64_t a[6])
{
    if (a[0] < ABI_RLIM_NLIMITS && !a[1])
        return -ABI_EFAULT;
    return do_prlimit(t, a[0], 0, a[1]);
}

int64_t sys_setrlimit(struct task *t, const uint64_t a[6])
{
    if (a[0] < ABI_RLIM_NLIMITS && !a[1])
        return -ABI_EFAULT;
    return do_prlimit(t, a[0], a[1], 0);
}
