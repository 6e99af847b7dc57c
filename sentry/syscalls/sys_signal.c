/* Signal dispositions, masks, alternate stacks, sending and sigreturn, with
 * Linux's validation rules; queueing and delivery are sentry/kernel's
 * (signal.c, sigframe.c). */
#include <string.h>

#include "abi/errno.h"
#include "abi/signal.h"
#include "platform/platform.h"
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
        /* A signal made ignored is discarded even while pending. */
        if (act.handler == ABI_SIG_IGN ||
            (act.handler == ABI_SIG_DFL && abi_signal_default((int)sig) == ABI_SIGDFL_IGN))
            t->sigpending &= ~SIGBIT(sig);
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
    bool on_stack = signal_on_altstack(t, platform_ctx_regs(t->ctx)->rsp);
    if (on_stack)
        old.ss_flags = ABI_SS_ONSTACK;
    if (a[0]) {
        struct abi_stack ss;
        if (mm_copy_in(t->mm, &ss, a[0], sizeof(ss)) != 0)
            return -ABI_EFAULT;
        /* The stack in use cannot be changed under the running handler. */
        if (on_stack)
            return -ABI_EPERM;
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
        if (mm_copy_out(t->mm, a[1], &old, sizeof(old)) != 0)
            return -ABI_EFAULT;
    }
    return 0;
}

int64_t sys_rt_sigpending(struct task *t, const uint64_t a[6])
{
    if (a[1] > sizeof(abi_sigset_t))
        return -ABI_EINVAL;
    /* Pending means sent and blocked: an unblocked one was delivered. */
    abi_sigset_t set = t->sigpending & t->sigmask;
    if (mm_copy_out(t->mm, a[0], &set, a[1]) != 0)
        return -ABI_EFAULT;
    return 0;
}

int64_t sys_rt_sigreturn(struct task *t, const uint64_t a[6])
{
    (void)a;
    if (sigframe_restore(t) != 0) {
        /* A frame the guest damaged or never had: Linux answers SIGSEGV. */
        struct abi_siginfo info;
        memset(&info, 0, sizeof(info));
        info.si_signo = ABI_SIGSEGV;
        info.si_code = ABI_SI_KERNEL;
        signal_force(t, &info, NULL);
    }
    return 0; /* the restored rax stands (the task loop leaves it alone) */
}

/* Send sig from t to t itself, the one task there is to send to. sig 0
 * only checks that the target exists. */
static int64_t send_self(struct task *t, int64_t sig, int code)
{
    if (sig == 0)
        return 0;
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = (int32_t)sig;
    info.si_code = code;
    info.u.kill.pid = t->pid;
    info.u.kill.uid = t->creds.uid;
    signal_send(t, &info);
    return 0;
}

int64_t sys_kill(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    int64_t sig = (int32_t)a[1];
    if (sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    /* The task is alone in its process group (it leads its own session);
     * kill(-1) reaches every process but the caller: none. */
    if (pid == t->pid || pid == 0 || (pid < -1 && -(int64_t)pid == t->pid))
        return send_self(t, sig, ABI_SI_USER);
    return -ABI_ESRCH;
}

int64_t sys_tkill(struct task *t, const uint64_t a[6])
{
    int32_t tid = (int32_t)a[0];
    int64_t sig = (int32_t)a[1];
    if (tid <= 0 || sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    if (tid != t->tid)
        return -ABI_ESRCH;
    return send_self(t, sig, ABI_SI_TKILL);
}

int64_t sys_tgkill(struct task *t, const uint64_t a[6])
{
    int32_t tgid = (int32_t)a[0], tid = (int32_t)a[1];
    int64_t sig = (int32_t)a[2];
    if (tgid <= 0 || tid <= 0 || sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    if (tgid != t->pid || tid != t->tid)
        return -ABI_ESRCH;
    return send_self(t, sig, ABI_SI_TKILL);
}
