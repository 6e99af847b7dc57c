/* Signal queueing and delivery for a task: what is pending, what the guest's
 * disposition makes of it, and how an interrupted syscall is restarted.
 * The frame itself is sigframe.c's. */
#include <string.h>

#include "abi/errno.h"
#include "abi/sigframe.h"
#include "platform/platform.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"

#define UNBLOCKABLE (ABI_SIGMASK(ABI_SIGKILL) | ABI_SIGMASK(ABI_SIGSTOP))

bool signal_on_altstack(const struct task *t, uint64_t sp)
{
    const struct abi_stack *s = &t->altstack;
    if ((s->ss_flags & ABI_SS_DISABLE) || !s->ss_size)
        return false;
    return sp > s->ss_sp && sp - s->ss_sp <= s->ss_size;
}

/* Would the signal do nothing at all if delivered now? */
static bool ignored(const struct task *t, int sig)
{
    uint64_t h = t->sigactions[sig - 1].handler;
    if (sig == ABI_SIGKILL || sig == ABI_SIGSTOP)
        return false;
    return h == ABI_SIG_IGN || (h == ABI_SIG_DFL && abi_signal_default(sig) == ABI_SIGDFL_IGN);
}

void signal_send(struct task *t, const struct abi_siginfo *info)
{
    int sig = info->si_signo;
    if (sig < 1 || sig > ABI_NSIG || t->exited)
        return;
    /* A blocked signal stays pending even if ignored: the guest may install
     * a handler before unblocking it. */
    bool blocked = (t->sigmask & ABI_SIGMASK(sig)) != 0;
    if (!blocked && ignored(t, sig))
        return;
    if (t->sigpending & ABI_SIGMASK(sig))
        return; /* no queueing: the first sending's siginfo stands */
    t->sigpending |= ABI_SIGMASK(sig);
    t->siginfo[sig - 1] = *info;
}

static void default_action(struct task *t, int sig)
{
    switch (abi_signal_default(sig)) {
    case ABI_SIGDFL_IGN:
        return;
    case ABI_SIGDFL_TERM:
        task_exit_group(t, kernel_wstatus_signal(sig, false));
        return;
    case ABI_SIGDFL_CORE:
        /* No core file is written; the status says one would have been. */
        task_exit_group(t, kernel_wstatus_signal(sig, true));
        return;
    case ABI_SIGDFL_STOP:
    case ABI_SIGDFL_CONT:
        kernel_log(t->k, "moat: %s: job control is not implemented yet, ignoring\n",
                   abi_signal_name(sig));
        return;
    }
}

/* A handler is about to run: settle a syscall it interrupted. Linux's
 * rules: ERESTARTNOINTR always restarts, ERESTARTSYS restarts only with
 * SA_RESTART, the others become EINTR. */
static void interrupt_syscall(struct task *t, const struct abi_sigaction *act)
{
    int64_t rr = t->restart_ret;
    if (!rr)
        return;
    t->restart_ret = 0;
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    if (rr == -ABI_ERESTARTNOINTR || (rr == -ABI_ERESTARTSYS && (act->flags & ABI_SA_RESTART))) {
        r->rax = r->orig_rax;
        r->rip -= 2; /* back onto the 2-byte `syscall` */
    } else {
        r->rax = (uint64_t)-ABI_EINTR;
    }
}

/* No handler ran: every interrupted call restarts transparently, except the
 * restart-block kind, which needs restart_syscall(2) (not yet built): it
 * reports EINTR. */
static void settle_restart(struct task *t)
{
    int64_t rr = t->restart_ret;
    if (!rr)
        return;
    t->restart_ret = 0;
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    if (rr == -ABI_ERESTART_RESTARTBLOCK) {
        r->rax = (uint64_t)-ABI_EINTR;
        return;
    }
    r->rax = r->orig_rax;
    r->rip -= 2;
}

/* Run the handler for sig, or die trying (a stack the frame cannot be
 * written to kills with SIGSEGV, as Linux's force_sigsegv does). */
static void run_handler(struct task *t, int sig, const struct abi_siginfo *info,
                        const struct signal_fault *f)
{
    struct abi_sigaction act = t->sigactions[sig - 1];
    interrupt_syscall(t, &act);
    if (sigframe_setup(t, sig, &act, info, f) != 0) {
        kernel_log(t->k, "moat: cannot push the frame for %s: killing the guest with SIGSEGV\n",
                   abi_signal_name(sig));
        task_exit_group(t, kernel_wstatus_signal(ABI_SIGSEGV, true));
        return;
    }
    t->sigmask |= act.mask;
    if (!(act.flags & ABI_SA_NODEFER))
        t->sigmask |= ABI_SIGMASK(sig);
    t->sigmask &= ~UNBLOCKABLE;
    if (act.flags & ABI_SA_RESETHAND)
        t->sigactions[sig - 1].handler = ABI_SIG_DFL;
}

void signal_force(struct task *t, const struct abi_siginfo *info, const struct signal_fault *f)
{
    int sig = info->si_signo;
    if (sig < 1 || sig > ABI_NSIG)
        return;
    uint64_t h = t->sigactions[sig - 1].handler;
    bool blocked = (t->sigmask & ABI_SIGMASK(sig)) != 0;
    if (h != ABI_SIG_DFL && h != ABI_SIG_IGN && !blocked) {
        run_handler(t, sig, info, f);
        return;
    }
    /* Blocked, ignored or default: the fault would only recur, so the
     * default action is forced, and a default of "ignore" kills too. */
    bool core = abi_signal_default(sig) != ABI_SIGDFL_TERM;
    task_exit_group(t, kernel_wstatus_signal(sig, core));
}

void signal_deliver_pending(struct task *t)
{
    while (!t->exited) {
        abi_sigset_t ready = t->sigpending & ~t->sigmask;
        if (!ready)
            break;
        /* Lowest number first, as Linux mostly does (synchronous signals
         * never wait here). */
        int sig = __builtin_ctzll(ready) + 1;
        t->sigpending &= ~ABI_SIGMASK(sig);
        struct abi_siginfo info = t->siginfo[sig - 1];
        uint64_t h = t->sigactions[sig - 1].handler;
        if (sig == ABI_SIGKILL || h == ABI_SIG_DFL) {
            default_action(t, sig);
            continue;
        }
        if (h == ABI_SIG_IGN)
            continue;
        /* Further ready signals stack their frames on this one, as on
         * Linux: the handler's mask decides what may nest. */
        run_handler(t, sig, &info, NULL);
    }
    if (!t->exited)
        settle_restart(t);
}

bool task_must_exit(const struct task *t)
{
    return t->exited;
}

bool task_interrupted(const struct task *t)
{
    return task_must_exit(t) || (t->sigpending & ~t->sigmask) != 0 || t->k->host_signal;
}
