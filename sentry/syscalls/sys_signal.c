/* Signal dispositions, masks and alternate stacks. Recorded with Linux's
 * validation rules; delivery to guest handlers comes with the processes
 * issue, until then a signal acts by its default action (sentry/kernel). */
#include "abi/errno.h"
#include "abi/signal.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define SIGBIT(s)   (1ULL << ((s)-1))
#define UNBLOCKABLE (SIGBIT(ABI_SIGKILL) | SIGBIT(ABI_SIGSTOP))

int64_t sys_rt_sigaction(struct task *t, const uint64_t a[6])
{
    int64_t sig = (int64_t)a[0];
    if (a[3] != sizeof(abi_sigset_t))
        return -ABI_EINVAL;
    if (sig < 1 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    struct abi_sigaction act;
    if (a[1]) {
        if (mm_copy_in(t->mm, &act, a[1], sizeof(act)) != 0)
            return -ABI_EFAULT;
        if (sig == ABI_SIGKILL || sig == ABI_SIGSTOP)
            return -ABI_EINVAL;
    }
    struct abi_sigaction old = t->sigactions[sig - 1];
    if (a[1]) {
        /* Linux keeps only the flags it knows (UAPI_SA_FLAGS on x86-64), so
         * a caller can probe for support. */
        act.flags &= ABI_SA_NOCLDSTOP | ABI_SA_NOCLDWAIT | ABI_SA_SIGINFO | ABI_SA_ONSTACK |
                     ABI_SA_RESTART | ABI_SA_NODEFER | ABI_SA_RESETHAND | ABI_SA_RESTORER |
                     ABI_SA_EXPOSE_TAGBITS;
        act.mask &= ~UNBLOCKABLE;
        t->sigactions[sig - 1] = act;
    }
    if (a[2] && mm_copy_out(t->mm, a[2], &old, sizeof(old)) != 0)
        return -ABI_EFAULT;
    return 0;
}

int64_t sys_rt_sigprocmask(struct task *t, const uint64_t a[6])
{
    if (a[3] != sizeof(abi_sigset_t))
        return -ABI_EINVAL;
    abi_sigset_t old = t->sigmask, set;
    if (a[1]) {
        if (mm_copy_in(t->mm, &set, a[1], sizeof(set)) != 0)
            return -ABI_EFAULT;
        set &= ~UNBLOCKABLE;
        switch (a[0]) {
        case ABI_SIG_BLOCK:
            t->sigmask |= set;
            break;
        case ABI_SIG_UNBLOCK:
            t->sigmask &= ~set;
            break;
        case ABI_SIG_SETMASK:
            t->sigmask = set;
            break;
        default:
            return -ABI_EINVAL;
        }
    }
    if (a[2] && mm_copy_out(t->mm, a[2], &old, sizeof(old)) != 0)
        return -ABI_EFAULT;
    return 0;
}

int64_t sys_sigaltstack(struct task *t, const uint64_t a[6])
{
    struct abi_stack old = t->altstack;
    if (a[0]) {
        struct abi_stack ss;
        if (mm_copy_in(t->mm, &ss, a[0], sizeof(ss)) != 0)
            return -ABI_EFAULT;
        int mode = ss.ss_flags & ~ABI_SS_AUTODISARM;
        if (mode != 0 && mode != ABI_SS_DISABLE && mode != ABI_SS_ONSTACK)
            return -ABI_EINVAL;
        if (mode == ABI_SS_DISABLE) {
            ss.ss_sp = 0;
            ss.ss_size = 0;
        } else if (ss.ss_size < ABI_MINSIGSTKSZ) {
            return -ABI_ENOMEM;
        }
        /* SS_ONSTACK is accepted as "enable" for old callers, and not kept. */
        if (mode == ABI_SS_ONSTACK)
            ss.ss_flags &= ABI_SS_AUTODISARM;
        ss.pad = 0;
        t->altstack = ss;
    }
    if (a[1]) {
        /* Handlers never run yet, so the task is never on its alternate stack. */
        if (mm_copy_out(t->mm, a[1], &old, sizeof(old)) != 0)
            return -ABI_EFAULT;
    }
    return 0;
}
