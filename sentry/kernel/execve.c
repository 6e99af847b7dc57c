/* execve(2) for a running task: load the program into a fresh address
 * space, and only once that worked (the point of no return) end the other
 * threads, drop the old address space and reset what Linux resets. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "platform/platform.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/timer.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"

void kernel_exec_regs(struct task *t, const struct loader_result *lr)
{
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    struct abi_ptregs fresh = *r;
    /* A fresh exec: everything zero but the segment selectors the kernel
     * set up, the entry point and the stack. */
    memset(r, 0, sizeof(*r));
    r->cs = fresh.cs;
    r->ss = fresh.ss;
    r->ds = fresh.ds;
    r->es = fresh.es;
    r->eflags = 0x202; /* IF, and the always-one bit */
    r->rip = lr->entry;
    r->rsp = lr->sp;
    r->orig_rax = (uint64_t)-1;
}

/* End every other thread of t's group and wait until they are gone; t
 * becomes the leader, with the process's pid as its tid. */
static void de_thread(struct task *t)
{
    struct thread_group *g = t->tg;
    for (struct task *o = g->threads; o; o = o->tg_next)
        if (o != t) {
            task_exit(o, kernel_wstatus_signal(ABI_SIGKILL, false));
            task_kick(o);
        }
    struct waitq_entry w;
    task_waiter_init(t, &w, 0);
    waitq_add(&g->exit_wait, &w);
    while (g->nthreads > 1 && !task_must_exit(t))
        task_sleep_nosignal(t, NULL);
    waitq_remove(&w);
    /* Killed meanwhile (SIGKILL, exit_group, another thread's exec): t
     * ends without running the new program, and must not take the pid
     * from a leader that may still run. */
    if (g->nthreads > 1)
        return;
    g->leader = t;
    t->tid = g->pid;
}

static void reset_signals(struct task *t)
{
    if (t->sighand->refs > 1) {
        struct sighand *sh = calloc(1, sizeof(*sh));
        if (sh) {
            sh->refs = 1;
            waitq_init(&sh->signalfd_wait);
            memcpy(sh->actions, t->sighand->actions, sizeof(sh->actions));
            sighand_put(t->sighand);
            t->sighand = sh;
        }
    }
    /* Handlers are code of the old program: back to the default, but an
     * ignored signal stays ignored. */
    for (int i = 0; i < ABI_NSIG; i++) {
        struct abi_sigaction *a = &t->sighand->actions[i];
        uint64_t h = a->handler;
        memset(a, 0, sizeof(*a));
        if (h == ABI_SIG_IGN)
            a->handler = ABI_SIG_IGN;
    }
    t->altstack = (struct abi_stack){.ss_flags = ABI_SS_DISABLE};
}

/* The stub process the old address space ran in, emptied for the new
 * program: one injected munmap instead of forking a new stub. */
static int empty_stub(struct task *t)
{
    uint64_t top = platform_max_addr(t->k->platform);
    return platform_as_unmap(t->as, 0, top);
}

int kernel_execve(struct task *t, const char *path, const char *const *argv,
                  const char *const *envp)
{
    struct kernel *k = t->k;
    /* An address space nobody else uses (no thread, no vfork parent) keeps
     * its stub: the program is loaded into a new mm with no stub, which
     * touches no stub at all, and the stub is emptied only once the load
     * worked. A shared one (vfork, threads) needs a stub of its own. */
    bool reuse = t->vm->refs == 1 && t->tg->nthreads == 1;
    struct task_vm *vm;
    struct platform_ctx *ctx = NULL;
    int err = task_vm_create(k, !reuse, &vm, &ctx);
    if (err)
        return err;
    mm_set_stack_limit(vm->mm, t->rlimits[ABI_RLIMIT_STACK].rlim_cur);

    /* Load with the new address space in place, the old one kept aside
     * until the load has worked. */
    struct mm *old_mm = t->mm;
    struct platform_as *old_as = t->as;
    struct platform_ctx *old_ctx = t->ctx;
    t->mm = vm->mm;
    t->as = vm->as;
    if (!reuse)
        t->ctx = ctx;
    struct loader_result lr;
    const char *why = NULL;
    err = kernel_exec_load(t, path, argv, envp, &lr, &why);
    if (err) {
        t->mm = old_mm;
        t->as = old_as;
        t->ctx = old_ctx;
        if (ctx)
            platform_ctx_destroy(ctx);
        task_vm_put(vm);
        if (why && k->debug)
            kernel_log(k, "moat: execve %s: %s\n", path, why);
        return err;
    }

    /* The point of no return. */
    struct task_vm *old_vm = t->vm;
    t->mm = old_mm; /* the old memory, for task_mm_release */
    t->as = old_as;
    de_thread(t);
    /* Robust futexes and clear_child_tid are let go of as at exit (Linux's
     * exec_mm_release): the new program knows nothing of them. */
    task_mm_release(t);
    if (reuse && empty_stub(t) == 0) {
        /* The old mm lets go of memory the emptied stub no longer maps. */
        vm->as = old_vm->as;
        old_vm->as = NULL;
        mm_set_as(vm->mm, vm->as);
    } else if (reuse) {
        /* The stub could not be emptied: it is marked broken and never
         * runs again; the program gets a fresh one. */
        int e2 = platform_as_create(k->platform, &vm->as);
        if (!e2)
            e2 = platform_ctx_create(vm->as, &ctx);
        if (e2) {
            kernel_log(k, "moat: execve: no address space for the new program: killing it\n");
            task_vm_put(vm);
            task_exit_group(t, kernel_wstatus_signal(ABI_SIGKILL, false));
            return 0;
        }
        mm_set_as(vm->mm, vm->as);
    }
    t->mm = vm->mm;
    t->as = vm->as;
    t->vm = vm;
    if (ctx) {
        platform_ctx_destroy(old_ctx);
        t->ctx = ctx;
    }
    task_vm_put(old_vm);
    task_vfork_release(t);

    /* fds shared with another process are unshared first (best effort:
     * out of memory leaves them shared). */
    vfs_fdtable_unshare(&t->fds);
    vfs_fdtable_exec(t->fds);
    reset_signals(t);
    cred_exec(&t->creds);
    timer_exec(t->tg);
    t->tg->exec_done = true;
    kernel_exec_regs(t, &lr);
    platform_ctx_reset_fpu(t->ctx);
    return 0;
}
