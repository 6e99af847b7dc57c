/* The process tree: pids, thread groups, sessions and process groups, exit,
 * zombies, reparenting and wait. Everything here runs under the kernel lock. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "platform/platform.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/ipc/ipc.h"
#include "sentry/kernel/timer.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/kernel/syscall_patch.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"

/* Linux's default pid_max, and the pids it skips when it wraps. */
#define PID_MAX      32768
#define PID_RESERVED 300
static int next_pid_hint = 1;

static bool pid_in_use(struct kernel *k, int pid)
{
    for (struct thread_group *g = k->groups; g; g = g->all_next)
        if (g->pid == pid || g->pgid == pid || g->sid == pid)
            return true;
    for (struct task *t = k->tasks; t; t = t->all_next)
        if (t->tid == pid)
            return true;
    return false;
}

int kernel_alloc_pid(struct kernel *k)
{
    int pid = next_pid_hint;
    for (int tries = 0; tries < PID_MAX; tries++) {
        if (pid >= PID_MAX)
            pid = PID_RESERVED;
        if (!pid_in_use(k, pid)) {
            next_pid_hint = pid + 1;
            return pid;
        }
        pid++;
    }
    return -ABI_EAGAIN;
}

struct thread_group *kernel_tg_lookup(struct kernel *k, int pid)
{
    for (struct thread_group *g = k->groups; g; g = g->all_next)
        if (g->pid == pid && !g->zombie && !g->reaped)
            return g;
    return NULL;
}

struct thread_group *kernel_tg_lookup_any(struct kernel *k, int pid)
{
    for (struct thread_group *g = k->groups; g; g = g->all_next)
        if (g->pid == pid && !g->reaped)
            return g;
    return NULL;
}

struct task *kernel_task_lookup(struct kernel *k, int pid)
{
    struct thread_group *g = kernel_tg_lookup(k, pid);
    if (!g)
        return NULL;
    if (g->leader && !g->leader->exited)
        return g->leader;
    for (struct task *t = g->threads; t; t = t->tg_next)
        if (!t->exited)
            return t;
    return g->threads;
}

struct task *kernel_tid_lookup(struct kernel *k, int tid)
{
    for (struct task *t = k->tasks; t; t = t->all_next)
        if (t->tid == tid)
            return t;
    return NULL;
}

int kernel_for_each_thread_group(struct kernel *k, int (*fn)(void *arg, struct task *t), void *arg)
{
    /* In pid order: the list is kept newest first, so collect and sort. */
    int n = 0;
    for (struct thread_group *g = k->groups; g; g = g->all_next)
        n++;
    struct thread_group **v = calloc((size_t)n + 1, sizeof(*v));
    if (!v)
        return 0;
    n = 0;
    for (struct thread_group *g = k->groups; g; g = g->all_next)
        if (!g->zombie && !g->reaped && g->threads)
            v[n++] = g;
    for (int i = 1; i < n; i++) {
        struct thread_group *x = v[i];
        int j = i;
        while (j > 0 && v[j - 1]->pid > x->pid) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    int r = 0;
    for (int i = 0; i < n && !r; i++) {
        struct task *t = kernel_task_lookup(k, v[i]->pid);
        if (t)
            r = fn(arg, t);
    }
    free(v);
    return r;
}

int task_ppid(const struct task *t)
{
    return t->tg->parent ? t->tg->parent->pid : 0;
}

struct thread_group *kernel_new_tg(struct kernel *k, struct thread_group *parent, int pid)
{
    struct thread_group *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->k = k;
    g->pid = pid;
    g->parent = parent;
    g->exit_signal = ABI_SIGCHLD;
    waitq_init(&g->child_wait);
    waitq_init(&g->exit_wait);
    if (parent) {
        g->pgid = parent->pgid;
        g->sid = parent->sid;
        memcpy(g->rlimits, parent->rlimits, sizeof(g->rlimits));
        g->sibling = parent->children;
        parent->children = g;
    } else {
        g->pgid = g->sid = pid;
        memcpy(g->rlimits, k->rlimits, sizeof(g->rlimits));
    }
    g->all_next = k->groups;
    k->groups = g;
    return g;
}

void kernel_add_task(struct task *t)
{
    struct kernel *k = t->k;
    t->tg_next = t->tg->threads;
    t->tg->threads = t;
    t->tg->nthreads++;
    t->all_next = k->tasks;
    k->tasks = t;
    k->ntasks++;
}

static void unlink_task(struct task *t)
{
    struct kernel *k = t->k;
    for (struct task **p = &t->tg->threads; *p; p = &(*p)->tg_next)
        if (*p == t) {
            *p = t->tg_next;
            break;
        }
    t->tg->nthreads--;
    for (struct task **p = &k->tasks; *p; p = &(*p)->all_next)
        if (*p == t) {
            *p = t->all_next;
            break;
        }
    k->ntasks--;
}

static void tg_free(struct thread_group *g)
{
    sigpending_clear(&g->shared);
    if (g->exe.dentry)
        vfs_path_put(g->exe);
    free(g);
}

/* Remove g from every list and free it (its pid is free again). */
static void tg_release(struct thread_group *g)
{
    struct kernel *k = g->k;
    if (g->parent) {
        for (struct thread_group **p = &g->parent->children; *p; p = &(*p)->sibling)
            if (*p == g) {
                *p = g->sibling;
                break;
            }
        g->parent = NULL;
    }
    for (struct thread_group **p = &k->groups; *p; p = &(*p)->all_next)
        if (*p == g) {
            *p = g->all_next;
            break;
        }
    g->reaped = true;
    /* A pidfd may still name it: it reads as "exited". */
    if (g->refs == 0)
        tg_free(g);
}

void tg_put(struct thread_group *g)
{
    if (--g->refs > 0 || !g->reaped)
        return;
    tg_free(g);
}

/* ---- exit ---- */

void task_kick(struct task *t)
{
    task_wake(t);
    if (t->ctx)
        platform_ctx_interrupt(t->ctx);
}

void task_exit(struct task *t, int status)
{
    if (t->exited)
        return;
    t->exited = true;
    t->exit_status = status;
}

void tg_exit_group(struct thread_group *g, int status)
{
    if (g->group_exiting)
        return;
    g->group_exiting = true;
    g->group_exit_status = status;
    g->stopped = false;
    for (struct task *o = g->threads; o; o = o->tg_next)
        task_kick(o);
}

void task_exit_group(struct task *t, int status)
{
    tg_exit_group(t->tg, status);
    task_exit(t, status);
}

bool task_must_exit(const struct task *t)
{
    return t->exited || t->tg->group_exiting;
}

/* Where g's children go when it dies: the nearest live subreaper above it,
 * else init. */
static struct thread_group *new_parent_for(struct thread_group *g)
{
    for (struct thread_group *a = g->parent; a; a = a->parent)
        if (a->subreaper && !a->zombie && !a->group_exiting)
            return a;
    struct thread_group *init = g->k->init;
    return init && init != g ? init : NULL;
}

/* The CLD_* code and si_status a wait status word reports. */
static int child_code(int status, int *st)
{
    if (status & 0x7f) {
        *st = status & 0x7f;
        return (status & 0x80) ? ABI_CLD_DUMPED : ABI_CLD_KILLED;
    }
    *st = (status >> 8) & 0xff;
    return ABI_CLD_EXITED;
}

static bool parent_autoreaps(const struct thread_group *g);

static void reparent_children(struct thread_group *g)
{
    struct thread_group *to = new_parent_for(g);
    while (g->children) {
        struct thread_group *c = g->children;
        g->children = c->sibling;
        /* The parent's death signal reaches every thread that asked. */
        for (struct task *ct = c->threads; ct; ct = ct->tg_next)
            if (ct->pdeath_signal) {
                struct abi_siginfo info;
                memset(&info, 0, sizeof(info));
                info.si_signo = ct->pdeath_signal;
                info.si_code = ABI_SI_USER;
                signal_send(ct, &info);
            }
        if (!to) {
            c->parent = NULL;
            c->sibling = NULL;
            if (c->zombie)
                tg_release(c);
            continue;
        }
        c->parent = to;
        c->sibling = to->children;
        to->children = c;
        /* A zombie arriving at its new parent is reported there as Linux
         * does: SIGCHLD now, or reaped at once by a parent that keeps no
         * zombies (an init ignoring SIGCHLD would collect them forever). */
        c->exit_signal = c->exit_signal ? ABI_SIGCHLD : 0;
        if (c->zombie) {
            if (parent_autoreaps(c)) {
                tg_release(c);
                continue;
            }
            int st, code = child_code(c->exit_status, &st);
            if (c->exit_signal)
                signal_notify_parent(c, code, st);
            waitq_notify(&to->child_wait, 0);
        }
    }
}

/* Whether the parent asked not to keep zombies (SIGCHLD ignored or
 * SA_NOCLDWAIT): the child is reaped at once. */
static bool parent_autoreaps(const struct thread_group *g)
{
    const struct thread_group *p = g->parent;
    if (!p || g->exit_signal != ABI_SIGCHLD)
        return false;
    const struct task *pt = p->leader ? p->leader : p->threads;
    if (!pt)
        return false;
    const struct abi_sigaction *a = &pt->sighand->actions[ABI_SIGCHLD - 1];
    return a->handler == ABI_SIG_IGN || (a->flags & ABI_SA_NOCLDWAIT);
}

/* Every thread of g has ended. */
static void tg_become_zombie(struct thread_group *g, int status)
{
    struct kernel *k = g->k;
    g->zombie = true;
    g->exit_status = status;
    g->stopped = false;
    timer_exit_group(g);
    reparent_children(g);
    waitq_notify(&g->exit_wait, ABI_POLLIN);
    if (g == k->init) {
        /* Linux's rule for a pid namespace: when init dies, everything in
         * it is killed. */
        for (struct thread_group *o = k->groups; o; o = o->all_next)
            if (o != g && !o->zombie)
                tg_exit_group(o, kernel_wstatus_signal(ABI_SIGKILL, false));
        return;
    }
    if (!g->parent) {
        tg_release(g);
        return;
    }
    int st, code = child_code(status, &st);
    struct thread_group *p = g->parent;
    bool autoreap = parent_autoreaps(g);
    if (g->exit_signal)
        signal_notify_parent(g, code, st);
    if (autoreap)
        tg_release(g);
    waitq_notify(&p->child_wait, 0);
}

void task_vfork_release(struct task *t)
{
    if (!t->vfork_parent)
        return;
    struct task *p = t->vfork_parent;
    t->vfork_parent = NULL;
    /* The parent sleeps until its vfork_done. */
    p->vfork_done = true;
    task_wake(p);
}

int task_vm_create(struct kernel *k, bool with_stub, struct task_vm **out,
                   struct platform_ctx **ctx)
{
    struct task_vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return -ABI_ENOMEM;
    vm->refs = 1;
    int err = with_stub ? platform_as_create(k->platform, &vm->as) : 0;
    if (!err)
        err = mm_create(k->memfile, k->platform, vm->as, &vm->mm);
    if (!err && with_stub)
        err = platform_ctx_create(vm->as, ctx);
    if (err) {
        if (vm->mm) {
            task_vm_put(vm); /* the stub too */
        } else {
            if (vm->as)
                platform_as_destroy(vm->as);
            free(vm);
        }
        return err;
    }
    *out = vm;
    return 0;
}

void task_vm_put(struct task_vm *vm)
{
    if (!vm || --vm->refs > 0)
        return;
    /* The stub goes first: nothing may reach guest memory once the mm has
     * released it. */
    if (vm->as)
        platform_as_destroy(vm->as);
    mm_destroy(vm->mm);
    syscall_patches_free(vm->patches);
    free(vm);
}

void task_fs_put(struct task_fs *fs)
{
    if (!fs || --fs->refs > 0)
        return;
    if (fs->cwd.dentry)
        vfs_path_put(fs->cwd);
    if (fs->root.dentry)
        vfs_path_put(fs->root);
    free(fs);
}

void sighand_put(struct sighand *sh)
{
    if (!sh || --sh->refs > 0)
        return;
    /* An epoll item on a signalfd stays on the queue of the sighand that
     * added it, which may go first (its process exits or execs while the
     * epoll file lives on elsewhere). Unhook every entry, as Linux's
     * POLLFREE does, so removing one later touches no freed memory. */
    while (sh->signalfd_wait.head)
        waitq_remove(sh->signalfd_wait.head);
    free(sh);
}

void task_mm_release(struct task *t)
{
    futex_exit_robust(t);
    /* CLONE_CHILD_CLEARTID: pthread_join's wake-up. Only while the memory
     * is still someone's. */
    if (t->clear_child_tid && t->vm && t->vm->refs > 1) {
        uint32_t zero = 0;
        if (mm_copy_out(t->mm, t->clear_child_tid, &zero, sizeof(zero)) == 0)
            futex_wake_addr(t, t->clear_child_tid, 1);
    }
    t->clear_child_tid = 0;
}

void task_finish(struct task *t)
{
    struct kernel *k = t->k;
    struct thread_group *g = t->tg;
    if (!t->exited)
        task_exit(t, g->group_exiting ? g->group_exit_status : 0);
    if (g->nthreads == 1)
        ipc_exit(t); /* the process's SEM_UNDO adjustments */
    task_mm_release(t);
    task_vfork_release(t);
    if (t->ctx)
        platform_ctx_destroy(t->ctx);
    t->ctx = NULL;
    task_vm_put(t->vm);
    t->vm = NULL;
    t->mm = NULL;
    t->as = NULL;
    vfs_fdtable_put(t->fds);
    t->fds = NULL;
    task_fs_put(t->fs);
    t->fs = NULL;
    sighand_put(t->sighand);
    t->sighand = NULL;
    sigpending_clear(&t->pending);
    g->utime_ns += t->utime_ns;
    g->stime_ns += t->stime_ns;
    g->exit_uid = t->creds.uid;
    unlink_task(t);
    if (g->leader == t)
        g->leader = NULL;
    int status = g->group_exiting ? g->group_exit_status : t->exit_status;
    waitq_notify(&g->exit_wait, 0);
    if (g->nthreads == 0)
        tg_become_zombie(g, status);
    free(t->creds.groups);
    pthread_cond_destroy(&t->wake_cond);
    free(t);
    if (k->ntasks == 0)
        pthread_cond_broadcast(&k->idle);
}

/* ---- wait ---- */

static bool wait_matches(const struct task *t, const struct thread_group *c, int which, int64_t id,
                         int options)
{
    switch (which) {
    case ABI_P_PID:
        if (c->pid != id)
            return false;
        break;
    case ABI_P_PGID:
        if (c->pgid != (id ? id : t->tg->pgid))
            return false;
        break;
    default:
        break;
    }
    /* __WCLONE picks the children that signal something other than
     * SIGCHLD; __WALL takes both. */
    if (options & ABI_WALL)
        return true;
    bool clone_child = c->exit_signal != ABI_SIGCHLD;
    return clone_child == ((options & ABI_WCLONE) != 0);
}

static void fill_info(struct abi_siginfo *info, const struct thread_group *c, int code, int st)
{
    if (!info)
        return;
    memset(info, 0, sizeof(*info));
    info->si_signo = ABI_SIGCHLD;
    info->si_code = code;
    info->u.sigchld.pid = c->pid;
    const struct task *ct = c->leader ? c->leader : c->threads;
    info->u.sigchld.uid = ct ? ct->creds.uid : c->exit_uid;
    info->u.sigchld.status = st;
}

int64_t kernel_wait(struct task *t, int which, int64_t id, int options, int *status,
                    struct abi_siginfo *info, uint64_t ru_ns[2])
{
    struct waitq_entry w;
    task_waiter_init(t, &w, 0);
    waitq_add(&t->tg->child_wait, &w);
    int64_t ret;
    for (;;) {
        bool any = false;
        ret = 0;
        for (struct thread_group *c = t->tg->children; c; c = c->sibling) {
            if (!wait_matches(t, c, which, id, options))
                continue;
            any = true;
            if (c->zombie && (options & ABI_WEXITED)) {
                int st = c->exit_status, sst;
                int code = child_code(st, &sst);
                *status = st;
                fill_info(info, c, code, sst);
                if (ru_ns) {
                    ru_ns[0] = c->utime_ns + c->cutime_ns;
                    ru_ns[1] = c->stime_ns + c->cstime_ns;
                }
                ret = c->pid;
                if (!(options & ABI_WNOWAIT)) {
                    t->tg->cutime_ns += c->utime_ns + c->cutime_ns;
                    t->tg->cstime_ns += c->stime_ns + c->cstime_ns;
                    tg_release(c);
                }
                break;
            }
            if (c->stop_event && (options & ABI_WUNTRACED)) {
                *status = 0x7f | (c->stop_signo << 8);
                fill_info(info, c, ABI_CLD_STOPPED, c->stop_signo);
                if (ru_ns)
                    ru_ns[0] = ru_ns[1] = 0;
                if (!(options & ABI_WNOWAIT))
                    c->stop_event = false;
                ret = c->pid;
                break;
            }
            if (c->cont_event && (options & ABI_WCONTINUED)) {
                *status = 0xffff;
                fill_info(info, c, ABI_CLD_CONTINUED, ABI_SIGCONT);
                if (ru_ns)
                    ru_ns[0] = ru_ns[1] = 0;
                if (!(options & ABI_WNOWAIT))
                    c->cont_event = false;
                ret = c->pid;
                break;
            }
        }
        if (ret)
            break;
        if (!any) {
            ret = -ABI_ECHILD;
            break;
        }
        if (options & ABI_WNOHANG)
            break;
        if (task_sleep(t, NULL) == -ABI_EINTR) {
            ret = -ABI_ERESTARTSYS;
            break;
        }
    }
    waitq_remove(&w);
    return ret;
}

/* ---- sessions and process groups ---- */

bool kernel_pgrp_exists(struct kernel *k, int pgid)
{
    for (struct thread_group *g = k->groups; g; g = g->all_next)
        if (!g->zombie && g->pgid == pgid)
            return true;
    return false;
}

int kernel_setpgid(struct task *t, int pid, int pgid)
{
    struct kernel *k = t->k;
    if (pgid < 0)
        return -ABI_EINVAL;
    struct thread_group *g = pid == 0 ? t->tg : kernel_tg_lookup(k, pid);
    if (!g)
        return -ABI_ESRCH;
    if (g != t->tg) {
        if (g->parent != t->tg)
            return -ABI_ESRCH;
        if (g->sid != t->tg->sid)
            return -ABI_EPERM;
        if (g->exec_done)
            return -ABI_EACCES;
    }
    if (pgid == 0)
        pgid = g->pid;
    if (g->sid == g->pid)
        return -ABI_EPERM; /* a session leader keeps its group */
    if (pgid != g->pid) {
        bool found = false;
        for (struct thread_group *o = k->groups; o; o = o->all_next)
            if (!o->zombie && o->pgid == pgid && o->sid == t->tg->sid)
                found = true;
        if (!found)
            return -ABI_EPERM;
    }
    g->pgid = pgid;
    return 0;
}

int kernel_setsid(struct task *t)
{
    struct thread_group *g = t->tg;
    if (kernel_pgrp_exists(t->k, g->pid))
        return -ABI_EPERM;
    g->sid = g->pgid = g->pid;
    return g->sid;
}
