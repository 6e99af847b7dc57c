/* Signal queueing and delivery: thread and process queues, the choice of a
 * thread for a process-wide signal, default actions including job-control
 * stops, and how an interrupted syscall is restarted. The frame itself is
 * sigframe.c's. Everything runs under the kernel lock. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/sigframe.h"
#include "platform/platform.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"

#define UNBLOCKABLE (ABI_SIGMASK(ABI_SIGKILL) | ABI_SIGMASK(ABI_SIGSTOP))
#define STOP_SIGNALS                                                                               \
    (ABI_SIGMASK(ABI_SIGSTOP) | ABI_SIGMASK(ABI_SIGTSTP) | ABI_SIGMASK(ABI_SIGTTIN) |              \
     ABI_SIGMASK(ABI_SIGTTOU))
/* Synchronous signals go first when several are ready, as Linux does. */
#define SYNC_SIGNALS                                                                               \
    (ABI_SIGMASK(ABI_SIGSEGV) | ABI_SIGMASK(ABI_SIGBUS) | ABI_SIGMASK(ABI_SIGILL) |                \
     ABI_SIGMASK(ABI_SIGTRAP) | ABI_SIGMASK(ABI_SIGFPE) | ABI_SIGMASK(ABI_SIGSYS))

bool signal_on_altstack(const struct task *t, uint64_t sp)
{
    const struct abi_stack *s = &t->altstack;
    if ((s->ss_flags & ABI_SS_DISABLE) || !s->ss_size)
        return false;
    return sp > s->ss_sp && sp - s->ss_sp <= s->ss_size;
}

/* ---- pending sets ---- */

/* Siginfo records queued in the whole sandbox. RLIMIT_SIGPENDING bounds a
 * process, but a guest root may raise it to infinity and many processes
 * each queue up to it: this bounds the Sentry memory they take together
 * (about 10 MiB), as Linux's memory accounting would. */
#define SIGQUEUE_MAX 65536
static int queued_total;

static int queued_count(const struct thread_group *g)
{
    int n = g->shared.count;
    for (const struct task *t = g->threads; t; t = t->tg_next)
        n += t->pending.count;
    return n;
}

static void node_free(struct sigpending *p, struct sigqueue_node *n)
{
    p->count--;
    queued_total--;
    free(n);
}

/* Queue info on p. A standard signal already pending is not queued again.
 * Past RLIMIT_SIGPENDING (or the sandbox's cap) a real-time signal from
 * sigqueue and friends fails with EAGAIN; any other signal is still made
 * pending, without its siginfo, as Linux does: kill(2) cannot be refused,
 * and it must not queue without bound either. */
static int pend_add(struct thread_group *g, struct sigpending *p, const struct abi_siginfo *info)
{
    int sig = info->si_signo;
    bool rt = sig >= ABI_SIGRTMIN;
    if (!rt && (p->set & ABI_SIGMASK(sig)))
        return 0;
    bool full = queued_total >= SIGQUEUE_MAX ||
                (rt && (uint64_t)queued_count(g) >= g->rlimits[ABI_RLIMIT_SIGPENDING].rlim_cur);
    struct sigqueue_node *n = full ? NULL : calloc(1, sizeof(*n));
    if (!n) {
        if (rt && info->si_code != ABI_SI_KERNEL && info->si_code != ABI_SI_USER)
            return -ABI_EAGAIN;
        p->set |= ABI_SIGMASK(sig);
        return 0;
    }
    n->info = *info;
    struct sigqueue_node **tail = &p->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = n;
    p->count++;
    queued_total++;
    p->set |= ABI_SIGMASK(sig);
    return 0;
}

/* Take the first queued sig from p. */
static bool pend_take(struct sigpending *p, int sig, struct abi_siginfo *info)
{
    if (!(p->set & ABI_SIGMASK(sig)))
        return false;
    bool found = false, more = false;
    for (struct sigqueue_node **q = &p->head; *q;) {
        if ((*q)->info.si_signo != sig) {
            q = &(*q)->next;
            continue;
        }
        if (found) {
            more = true;
            break;
        }
        struct sigqueue_node *n = *q;
        *info = n->info;
        *q = n->next;
        node_free(p, n);
        found = true;
    }
    if (!more)
        p->set &= ~ABI_SIGMASK(sig);
    if (!found) {
        memset(info, 0, sizeof(*info));
        info->si_signo = sig;
    }
    return true;
}

static void pend_discard(struct sigpending *p, abi_sigset_t which)
{
    for (struct sigqueue_node **q = &p->head; *q;) {
        if (which & ABI_SIGMASK((*q)->info.si_signo)) {
            struct sigqueue_node *n = *q;
            *q = n->next;
            node_free(p, n);
        } else {
            q = &(*q)->next;
        }
    }
    p->set &= ~which;
}

/* Drop the signals of which from the process's queue and every thread's. */
static void discard_group(struct thread_group *g, abi_sigset_t which)
{
    pend_discard(&g->shared, which);
    for (struct task *t = g->threads; t; t = t->tg_next)
        pend_discard(&t->pending, which);
}

void sigpending_clear(struct sigpending *p)
{
    pend_discard(p, ~0ULL);
}

abi_sigset_t signal_pending_set(const struct task *t)
{
    return t->pending.set | t->tg->shared.set;
}

int signal_dequeue(struct task *t, abi_sigset_t mask, struct abi_siginfo *info)
{
    abi_sigset_t ready = t->pending.set & mask;
    struct sigpending *p = &t->pending;
    if (!ready) {
        ready = t->tg->shared.set & mask;
        p = &t->tg->shared;
    }
    if (!ready)
        return 0;
    abi_sigset_t sync = ready & SYNC_SIGNALS;
    int sig = __builtin_ctzll(sync ? sync : ready) + 1;
    pend_take(p, sig, info);
    return sig;
}

bool task_interrupted(const struct task *t)
{
    return task_must_exit(t) || (signal_pending_set(t) & ~t->sigmask) != 0;
}

/* ---- sending ---- */

static const struct task *any_thread(const struct thread_group *g)
{
    return g->leader ? g->leader : g->threads;
}

static uint64_t handler_of(const struct thread_group *g, int sig)
{
    const struct task *t = any_thread(g);
    return t && t->sighand ? t->sighand->actions[sig - 1].handler : ABI_SIG_DFL;
}

/* Would the signal do nothing at all if delivered now? */
static bool ignored_by(const struct thread_group *g, int sig)
{
    if (sig == ABI_SIGKILL || sig == ABI_SIGSTOP)
        return false;
    uint64_t h = handler_of(g, sig);
    return h == ABI_SIG_IGN || (h == ABI_SIG_DFL && abi_signal_default(sig) == ABI_SIGDFL_IGN);
}

static void wake_all(struct thread_group *g)
{
    for (struct task *t = g->threads; t; t = t->tg_next)
        task_kick(t);
}

/* What a signal does the moment it is sent, whatever the mask: SIGCONT
 * resumes a stopped process and cancels pending stops; a stop signal
 * cancels a pending SIGCONT. */
static void prepare(struct thread_group *g, int sig)
{
    if (sig == ABI_SIGCONT) {
        discard_group(g, STOP_SIGNALS);
        if (g->stopped) {
            g->stopped = false;
            g->stop_event = false;
            g->cont_event = true;
            signal_notify_parent(g, ABI_CLD_CONTINUED, ABI_SIGCONT);
            wake_all(g);
        }
    } else if (ABI_SIGMASK(sig) & STOP_SIGNALS) {
        discard_group(g, ABI_SIGMASK(ABI_SIGCONT));
    }
}

/* The sandbox's init ignores what it has no handler for, unless SIGKILL or
 * SIGSTOP come from outside the sandbox (Linux's SIGNAL_UNKILLABLE). */
static bool init_protected(const struct thread_group *g, int sig, bool from_outside)
{
    if (!g->is_init)
        return false;
    if (handler_of(g, sig) != ABI_SIG_DFL)
        return false;
    return !(from_outside && (sig == ABI_SIGKILL || sig == ABI_SIGSTOP));
}

static int send_common(struct thread_group *g, struct task *target, const struct abi_siginfo *info,
                       bool from_outside)
{
    int sig = info->si_signo;
    if (sig < 1 || sig > ABI_NSIG || g->zombie || g->reaped || g->group_exiting)
        return 0;
    /* A blocked signal is never ignored: the guest may install a handler
     * before unblocking it (and sigwait may take it). */
    bool blocked =
        target ? ((target->sigmask | target->real_blocked) & ABI_SIGMASK(sig)) != 0 : true;
    if (!target)
        for (struct task *t = g->threads; t; t = t->tg_next)
            if (!((t->sigmask | t->real_blocked) & ABI_SIGMASK(sig)))
                blocked = false;
    if (sig == ABI_SIGKILL || sig == ABI_SIGSTOP)
        blocked = false;
    if (!blocked && init_protected(g, sig, from_outside))
        return 0;
    prepare(g, sig);
    if (sig == ABI_SIGKILL) {
        tg_exit_group(g, kernel_wstatus_signal(ABI_SIGKILL, false));
        return 0;
    }
    if (!blocked && ignored_by(g, sig))
        return 0;
    int err = pend_add(g, target ? &target->pending : &g->shared, info);
    if (err)
        return err;
    for (struct task *t = g->threads; t; t = t->tg_next)
        if (t->sighand)
            waitq_notify(&t->sighand->signalfd_wait, ABI_POLLIN);
    if (target) {
        if (!(target->sigmask & ABI_SIGMASK(sig)))
            task_kick(target);
        return 0;
    }
    /* Any thread that does not block it will do; prefer the caller. */
    struct task *cur = kernel_current();
    if (cur && cur->tg == g && !(cur->sigmask & ABI_SIGMASK(sig)))
        return 0;
    for (struct task *t = g->threads; t; t = t->tg_next)
        if (!t->exited && !(t->sigmask & ABI_SIGMASK(sig))) {
            task_kick(t);
            break;
        }
    return 0;
}

void signal_send(struct task *t, const struct abi_siginfo *info)
{
    send_common(t->tg, t, info, false);
}

void signal_send_group(struct thread_group *g, const struct abi_siginfo *info, bool from_outside)
{
    send_common(g, NULL, info, from_outside);
}

int signal_queue_group(struct thread_group *g, struct task *target, const struct abi_siginfo *info)
{
    return send_common(g, target, info, false);
}

bool signal_may_send(const struct task *t, const struct thread_group *g, int sig)
{
    const struct task *o = any_thread(g);
    if (!o || t->tg == g)
        return true;
    if (sig == ABI_SIGCONT && o->tg->sid == t->tg->sid)
        return true;
    if (cred_capable(&t->creds, ABI_CAP_KILL))
        return true;
    uint32_t e = t->creds.euid, r = t->creds.uid;
    return e == o->creds.suid || e == o->creds.uid || r == o->creds.suid || r == o->creds.uid;
}

void signal_flush_ignored(struct task *t, int sig)
{
    discard_group(t->tg, ABI_SIGMASK(sig));
}

void signal_notify_parent(struct thread_group *c, int code, int status)
{
    struct thread_group *p = c->parent;
    if (!p)
        return;
    waitq_notify(&p->child_wait, 0);
    int sig = code == ABI_CLD_STOPPED || code == ABI_CLD_CONTINUED ? ABI_SIGCHLD : c->exit_signal;
    if (!sig)
        return;
    const struct task *pt = any_thread(p);
    if (!pt || !pt->sighand)
        return;
    const struct abi_sigaction *a = &pt->sighand->actions[ABI_SIGCHLD - 1];
    if ((code == ABI_CLD_STOPPED || code == ABI_CLD_CONTINUED) && (a->flags & ABI_SA_NOCLDSTOP))
        return;
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = code;
    info.u.sigchld.pid = c->pid;
    const struct task *ct = any_thread(c);
    info.u.sigchld.uid = ct ? ct->creds.uid : c->exit_uid;
    info.u.sigchld.status = status;
    info.u.sigchld.utime = (int64_t)(c->utime_ns / 10000000);
    info.u.sigchld.stime = (int64_t)(c->stime_ns / 10000000);
    signal_send_group(p, &info, false);
}

/* ---- delivery ---- */

/* A process group is orphaned when no member has a parent in another group
 * of the same session: nobody is left to continue it, so terminal stop
 * signals are discarded for it. */
static bool pgrp_orphaned(struct kernel *k, int pgid)
{
    for (struct thread_group *g = k->groups; g; g = g->all_next) {
        if (g->zombie || g->pgid != pgid)
            continue;
        struct thread_group *p = g->parent;
        if (p && !p->zombie && p->pgid != pgid && p->sid == g->sid)
            return false;
    }
    return true;
}

static void group_stop(struct task *t, int sig)
{
    struct thread_group *g = t->tg;
    if (g->stopped || g->group_exiting)
        return;
    g->stopped = true;
    g->stop_signo = sig;
    g->stop_event = true;
    g->cont_event = false;
    signal_notify_parent(g, ABI_CLD_STOPPED, sig);
    wake_all(g);
}

static void default_action(struct task *t, int sig)
{
    switch (abi_signal_default(sig)) {
    case ABI_SIGDFL_IGN:
    case ABI_SIGDFL_CONT:
        return;
    case ABI_SIGDFL_TERM:
        task_exit_group(t, kernel_wstatus_signal(sig, false));
        return;
    case ABI_SIGDFL_CORE:
        /* moat writes no core file, so the status does not claim one (as
         * Linux with RLIMIT_CORE 0, the usual container setting). */
        task_exit_group(t, kernel_wstatus_signal(sig, false));
        return;
    case ABI_SIGDFL_STOP:
        if (sig != ABI_SIGSTOP && pgrp_orphaned(t->k, t->tg->pgid))
            return;
        group_stop(t, sig);
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

/* No handler ran: every interrupted call restarts transparently; the
 * restart-block kind through restart_syscall(2), which continues it. */
static void settle_restart(struct task *t)
{
    int64_t rr = t->restart_ret;
    if (!rr)
        return;
    t->restart_ret = 0;
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    if (rr == -ABI_ERESTART_RESTARTBLOCK) {
        r->rax = ABI_NR_restart_syscall;
        r->rip -= 2;
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
    struct abi_sigaction act = t->sighand->actions[sig - 1];
    interrupt_syscall(t, &act);
    if (sigframe_setup(t, sig, &act, info, f) != 0) {
        kernel_log(t->k, "moat: cannot push the frame for %s: killing the guest with SIGSEGV\n",
                   abi_signal_name(sig));
        task_exit_group(t, kernel_wstatus_signal(ABI_SIGSEGV, false));
        return;
    }
    t->restore_sigmask = false;
    t->sigmask |= act.mask;
    if (!(act.flags & ABI_SA_NODEFER))
        t->sigmask |= ABI_SIGMASK(sig);
    t->sigmask &= ~UNBLOCKABLE;
    if (act.flags & ABI_SA_RESETHAND)
        t->sighand->actions[sig - 1].handler = ABI_SIG_DFL;
}

void signal_force(struct task *t, const struct abi_siginfo *info, const struct signal_fault *f)
{
    int sig = info->si_signo;
    if (sig < 1 || sig > ABI_NSIG)
        return;
    uint64_t h = t->sighand->actions[sig - 1].handler;
    bool blocked = (t->sigmask & ABI_SIGMASK(sig)) != 0;
    if (h != ABI_SIG_DFL && h != ABI_SIG_IGN && !blocked) {
        run_handler(t, sig, info, f);
        return;
    }
    /* Blocked, ignored or default: the fault would only recur, so the
     * default action is forced, and a default of "ignore" kills too. */
    task_exit_group(t, kernel_wstatus_signal(sig, false));
}

void signal_deliver_pending(struct task *t)
{
    while (!task_must_exit(t)) {
        if (t->tg->stopped) {
            /* Stopped with the rest of the process until SIGCONT or
             * SIGKILL. */
            task_sleep_nosignal(t, NULL);
            continue;
        }
        struct abi_siginfo info;
        int sig = signal_dequeue(t, ~t->sigmask, &info);
        if (!sig)
            break;
        uint64_t h = t->sighand->actions[sig - 1].handler;
        /* init's default actions do nothing, but for the two signals only
         * the outside can send it (SIGNAL_UNKILLABLE). */
        if (h == ABI_SIG_DFL && t->tg->is_init && sig != ABI_SIGKILL && sig != ABI_SIGSTOP)
            continue;
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
    if (task_must_exit(t))
        return;
    settle_restart(t);
    if (t->restore_sigmask) {
        t->restore_sigmask = false;
        t->sigmask = t->saved_sigmask;
    }
}
