/* Signal dispositions, masks, alternate stacks, sending and sigreturn, with
 * Linux's validation rules; queueing and delivery are sentry/kernel's
 * (signal.c, sigframe.c). */
#include <string.h>

#include "abi/errno.h"
#include "abi/signal.h"
#include "platform/platform.h"
#include "sentry/fs/signalfd.h"
#include "sentry/kernel/pidfd.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"
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
    struct abi_sigaction old = t->sighand->actions[sig - 1];
    if (a[1]) {
        /* Linux keeps only the flags it knows (UAPI_SA_FLAGS on x86-64), so
         * a caller can probe for support. */
        act.flags &= ABI_SA_NOCLDSTOP | ABI_SA_NOCLDWAIT | ABI_SA_SIGINFO | ABI_SA_ONSTACK |
                     ABI_SA_RESTART | ABI_SA_NODEFER | ABI_SA_RESETHAND | ABI_SA_RESTORER |
                     ABI_SA_EXPOSE_TAGBITS;
        act.mask &= ~UNBLOCKABLE;
        t->sighand->actions[sig - 1] = act;
        /* A signal made ignored is discarded even while pending. */
        if (act.handler == ABI_SIG_IGN ||
            (act.handler == ABI_SIG_DFL && abi_signal_default((int)sig) == ABI_SIGDFL_IGN))
            signal_flush_ignored(t, (int)sig);
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
    abi_sigset_t set = signal_pending_set(t) & t->sigmask;
    if (mm_copy_out(t->mm, a[0], &set, a[1]) != 0)
        return -ABI_EFAULT;
    return 0;
}

int64_t sys_rt_sigreturn(struct task *t, const uint64_t a[6])
{
    (void)a;
    /* A handler ran: a later restart_syscall must not resume a call from
     * before it (Linux resets the restart block here too). */
    t->restart_fn = NULL;
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

static void user_info(struct task *t, struct abi_siginfo *info, int sig, int code)
{
    memset(info, 0, sizeof(*info));
    info->si_signo = sig;
    info->si_code = code;
    info->u.kill.pid = t->pid;
    info->u.kill.uid = t->creds.uid;
}

/* Send to one process: ESRCH when gone, EPERM when not allowed; sig 0
 * only checks. */
static int send_to_tg(struct task *t, struct thread_group *g, const struct abi_siginfo *info,
                      int sig)
{
    if (!g || g->zombie)
        return g ? 0 : -ABI_ESRCH; /* a zombie takes (and drops) signals */
    if (!signal_may_send(t, g, sig))
        return -ABI_EPERM;
    if (sig == 0)
        return 0;
    return signal_queue_group(g, NULL, info);
}

/* kill(2) to several processes: success if any got it, else the first
 * error seen (EPERM before ESRCH). */
static int64_t send_many(struct task *t, int pgid, bool all, const struct abi_siginfo *info,
                         int sig)
{
    bool found = false, sent = false;
    int err = -ABI_ESRCH;
    for (struct thread_group *g = t->k->groups; g; g = g->all_next) {
        if (g->zombie || g->reaped)
            continue;
        if (all ? (g == t->tg || g->is_init) : g->pgid != pgid)
            continue;
        found = true;
        int r = send_to_tg(t, g, info, sig);
        if (r == 0)
            sent = true;
        else
            err = r;
    }
    if (sent)
        return 0;
    return found ? err : -ABI_ESRCH;
}

int64_t sys_kill(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    int64_t sig = (int32_t)a[1];
    if (sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    struct abi_siginfo info;
    user_info(t, &info, (int)sig, ABI_SI_USER);
    if (pid > 0)
        return send_to_tg(t, kernel_tg_lookup_any(t->k, pid), &info, (int)sig);
    if (pid == 0)
        return send_many(t, t->tg->pgid, false, &info, (int)sig);
    if (pid == -1)
        return send_many(t, 0, true, &info, (int)sig);
    if (pid == INT32_MIN)
        return -ABI_ESRCH;
    return send_many(t, -pid, false, &info, (int)sig);
}

static int64_t send_thread(struct task *t, int tgid, int tid, const struct abi_siginfo *info,
                           int sig)
{
    struct task *o = kernel_tid_lookup(t->k, tid);
    if (!o || o->exited || (tgid > 0 && o->tg->pid != tgid))
        return -ABI_ESRCH;
    if (!signal_may_send(t, o->tg, sig))
        return -ABI_EPERM;
    if (sig == 0)
        return 0;
    return signal_queue_group(o->tg, o, info);
}

int64_t sys_tkill(struct task *t, const uint64_t a[6])
{
    int32_t tid = (int32_t)a[0];
    int64_t sig = (int32_t)a[1];
    if (tid <= 0 || sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    struct abi_siginfo info;
    user_info(t, &info, (int)sig, ABI_SI_TKILL);
    return send_thread(t, 0, tid, &info, (int)sig);
}

int64_t sys_tgkill(struct task *t, const uint64_t a[6])
{
    int32_t tgid = (int32_t)a[0], tid = (int32_t)a[1];
    int64_t sig = (int32_t)a[2];
    if (tgid <= 0 || tid <= 0 || sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    struct abi_siginfo info;
    user_info(t, &info, (int)sig, ABI_SI_TKILL);
    return send_thread(t, tgid, tid, &info, (int)sig);
}

/* sigqueue's siginfo comes from the caller, who may not pretend to be the
 * kernel or kill(2) when signalling someone else. */
static int64_t queued_info(struct task *t, uint64_t uinfo, int sig, bool self,
                           struct abi_siginfo *info)
{
    if (mm_copy_in(t->mm, info, uinfo, sizeof(*info)) != 0)
        return -ABI_EFAULT;
    if (!self && (info->si_code >= 0 || info->si_code == ABI_SI_TKILL))
        return -ABI_EPERM;
    info->si_signo = sig;
    return 0;
}

int64_t sys_rt_sigqueueinfo(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    int64_t sig = (int32_t)a[1];
    if (sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    struct abi_siginfo info;
    int64_t err = queued_info(t, a[2], (int)sig, pid == t->pid, &info);
    if (err)
        return err;
    return send_to_tg(t, kernel_tg_lookup_any(t->k, pid), &info, (int)sig);
}

int64_t sys_rt_tgsigqueueinfo(struct task *t, const uint64_t a[6])
{
    int32_t tgid = (int32_t)a[0], tid = (int32_t)a[1];
    int64_t sig = (int32_t)a[2];
    if (tgid <= 0 || tid <= 0 || sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    struct abi_siginfo info;
    int64_t err = queued_info(t, a[3], (int)sig, tgid == t->pid, &info);
    if (err)
        return err;
    return send_thread(t, tgid, tid, &info, (int)sig);
}

int64_t sys_rt_sigsuspend(struct task *t, const uint64_t a[6])
{
    if (a[1] != sizeof(abi_sigset_t))
        return -ABI_EINVAL;
    abi_sigset_t set;
    if (mm_copy_in(t->mm, &set, a[0], sizeof(set)) != 0)
        return -ABI_EFAULT;
    t->saved_sigmask = t->sigmask;
    t->restore_sigmask = true;
    t->sigmask = set & ~UNBLOCKABLE;
    while (task_sleep(t, NULL) != -ABI_EINTR) {
    }
    /* A handler makes it EINTR; otherwise it suspends again. */
    return -ABI_ERESTARTNOHAND;
}

int64_t sys_rt_sigtimedwait(struct task *t, const uint64_t a[6])
{
    if (a[3] != sizeof(abi_sigset_t))
        return -ABI_EINVAL;
    abi_sigset_t set;
    if (mm_copy_in(t->mm, &set, a[0], sizeof(set)) != 0)
        return -ABI_EFAULT;
    set &= ~UNBLOCKABLE;
    struct kernel_deadline dl, *dlp = NULL;
    if (a[2]) {
        struct abi_timespec ts;
        if (mm_copy_in(t->mm, &ts, a[2], sizeof(ts)) != 0)
            return -ABI_EFAULT;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
            return -ABI_EINVAL;
        struct timespec rel = {ts.tv_sec, ts.tv_nsec};
        dl = kernel_deadline_after(CLOCK_MONOTONIC, &rel);
        dlp = &dl;
    }
    struct abi_siginfo info;
    int sig = signal_dequeue(t, set, &info);
    if (!sig) {
        /* The awaited signals count as deliverable while we sleep, so
         * their arrival ends the sleep. */
        abi_sigset_t saved = t->sigmask;
        t->real_blocked = saved;
        t->sigmask &= ~set;
        int r = 0;
        while (r == 0 && !(signal_pending_set(t) & set))
            r = task_sleep(t, dlp);
        t->sigmask = saved;
        t->real_blocked = 0;
        sig = signal_dequeue(t, set, &info);
        if (!sig)
            return r == -ABI_ETIMEDOUT ? -ABI_EAGAIN : -ABI_EINTR;
    }
    if (a[1] && mm_copy_out(t->mm, a[1], &info, sizeof(info)) != 0)
        return -ABI_EFAULT;
    return sig;
}

int64_t sys_restart_syscall(struct task *t, const uint64_t a[6])
{
    (void)a;
    int64_t (*fn)(struct task *) = t->restart_fn;
    t->restart_fn = NULL;
    return fn ? fn(t) : -ABI_EINTR;
}

int64_t sys_pidfd_send_signal(struct task *t, const uint64_t a[6])
{
    int64_t sig = (int32_t)a[1];
    if (a[3] != 0)
        return -ABI_EINVAL;
    if (sig < 0 || sig > ABI_NSIG)
        return -ABI_EINVAL;
    struct vfs_file *f = vfs_fd_lookup(t->fds, (int)a[0]);
    if (!f || (int64_t)a[0] < 0)
        return -ABI_EBADF;
    struct thread_group *g = kernel_pidfd_tg(f);
    if (!g)
        return -ABI_EBADF;
    /* A zombie still takes (and drops) signals; only a reaped one is gone. */
    if (g->reaped)
        return -ABI_ESRCH;
    struct abi_siginfo info;
    if (a[2]) {
        int64_t err = queued_info(t, a[2], (int)sig, g == t->tg, &info);
        if (err)
            return err;
    } else {
        user_info(t, &info, (int)sig, ABI_SI_USER);
    }
    return send_to_tg(t, g, &info, (int)sig);
}

int64_t sys_pause(struct task *t, const uint64_t a[6])
{
    (void)a;
    while (task_sleep(t, NULL) != -ABI_EINTR) {
    }
    return -ABI_ERESTARTNOHAND;
}

static int64_t do_signalfd(struct task *t, int64_t fd, uint64_t umask, uint64_t size,
                           uint64_t flags)
{
    if (flags & ~(uint64_t)(ABI_O_NONBLOCK | ABI_O_CLOEXEC))
        return -ABI_EINVAL;
    if (size != sizeof(abi_sigset_t))
        return -ABI_EINVAL;
    abi_sigset_t mask;
    if (mm_copy_in(t->mm, &mask, umask, sizeof(mask)) != 0)
        return -ABI_EFAULT;
    if ((int32_t)fd != -1) {
        struct vfs_file *f = (int32_t)fd >= 0 ? vfs_fd_lookup(t->fds, (int32_t)fd) : NULL;
        if (!f)
            return -ABI_EBADF;
        if (!signalfd_is(f))
            return -ABI_EINVAL;
        signalfd_set_mask(f, mask);
        return (int32_t)fd;
    }
    struct vfs_file *f = signalfd_new(t, mask, (uint32_t)flags);
    if (!f)
        return -ABI_ENOMEM;
    int r = vfs_fd_install(t->fds, 0, f, (flags & ABI_O_CLOEXEC) != 0,
                           t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur);
    vfs_file_put(f);
    return r;
}

int64_t sys_signalfd(struct task *t, const uint64_t a[6])
{
    return do_signalfd(t, (int64_t)a[0], a[1], a[2], 0);
}

int64_t sys_signalfd4(struct task *t, const uint64_t a[6])
{
    return do_signalfd(t, (int64_t)a[0], a[1], a[2], a[3]);
}
