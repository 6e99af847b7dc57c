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
    /* This thread only; the process ends with its last thread. */
    task_exit(t, kernel_wstatus_exit((int)a[0]));
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
    return task_ppid(t);
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
