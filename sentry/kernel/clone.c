/* clone(2) and its relatives: a new task sharing or copying each of its
 * parent's resources as the flags say, on a Sentry thread of its own. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "platform/platform.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/pidfd.h"
#include "sentry/kernel/syscall_patch.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"

#define NAMESPACE_FLAGS                                                                            \
    (ABI_CLONE_NEWNS | ABI_CLONE_NEWUTS | ABI_CLONE_NEWIPC | ABI_CLONE_NEWPID | ABI_CLONE_NEWNET | \
     ABI_CLONE_NEWUSER | ABI_CLONE_NEWCGROUP | ABI_CLONE_NEWTIME)

static int check_flags(struct task *t, const struct kernel_clone_args *a)
{
    uint64_t f = a->flags;
    if ((f & (ABI_CLONE_NEWNS | ABI_CLONE_FS)) == (ABI_CLONE_NEWNS | ABI_CLONE_FS))
        return -ABI_EINVAL;
    if ((f & ABI_CLONE_THREAD) && !(f & ABI_CLONE_SIGHAND))
        return -ABI_EINVAL;
    if ((f & ABI_CLONE_SIGHAND) && !(f & ABI_CLONE_VM))
        return -ABI_EINVAL;
    /* init has no parent to share with its child. */
    if ((f & ABI_CLONE_PARENT) && t->tg->is_init)
        return -ABI_EINVAL;
    if ((f & ABI_CLONE_PIDFD) && (f & ABI_CLONE_THREAD))
        return -ABI_EINVAL;
    if ((f & ABI_CLONE_CLEAR_SIGHAND) && (f & ABI_CLONE_SIGHAND))
        return -ABI_EINVAL;
    if (f & NAMESPACE_FLAGS) {
        kernel_log(t->k, "moat: clone with new namespaces is not supported: EINVAL\n");
        return -ABI_EINVAL;
    }
    return 0;
}

/* RLIMIT_NPROC: processes of the caller's real uid (CAP_SYS_RESOURCE and
 * CAP_SYS_ADMIN are exempt, as is the real root). */
static bool over_nproc(struct task *t)
{
    if (t->creds.uid == 0 || cred_capable(&t->creds, ABI_CAP_SYS_RESOURCE) ||
        cred_capable(&t->creds, ABI_CAP_SYS_ADMIN))
        return false;
    uint64_t n = 0;
    for (struct task *o = t->k->tasks; o; o = o->all_next)
        if (o->creds.uid == t->creds.uid)
            n++;
    return n >= t->rlimits[ABI_RLIMIT_NPROC].rlim_cur;
}

static int copy_fs(struct task *t, struct task *c, bool share)
{
    if (share) {
        c->fs = t->fs;
        c->fs->refs++;
        return 0;
    }
    c->fs = calloc(1, sizeof(*c->fs));
    if (!c->fs)
        return -ABI_ENOMEM;
    c->fs->refs = 1;
    c->fs->umask = t->fs->umask;
    c->fs->root = vfs_path_get(t->fs->root);
    c->fs->cwd = vfs_path_get(t->fs->cwd);
    return 0;
}

static int copy_sighand(struct task *t, struct task *c, uint64_t f)
{
    if (f & ABI_CLONE_SIGHAND) {
        c->sighand = t->sighand;
        c->sighand->refs++;
        return 0;
    }
    c->sighand = calloc(1, sizeof(*c->sighand));
    if (!c->sighand)
        return -ABI_ENOMEM;
    c->sighand->refs = 1;
    waitq_init(&c->sighand->signalfd_wait);
    memcpy(c->sighand->actions, t->sighand->actions, sizeof(c->sighand->actions));
    if (f & ABI_CLONE_CLEAR_SIGHAND)
        for (int i = 0; i < ABI_NSIG; i++)
            if (c->sighand->actions[i].handler != ABI_SIG_IGN)
                memset(&c->sighand->actions[i], 0, sizeof(c->sighand->actions[i]));
    return 0;
}

static int copy_vm(struct task *t, struct task *c, bool share)
{
    if (share) {
        c->vm = t->vm;
        c->vm->refs++;
        c->mm = c->vm->mm;
        c->as = c->vm->as;
        return platform_ctx_clone(t->ctx, &c->ctx);
    }
    c->vm = calloc(1, sizeof(*c->vm));
    if (!c->vm)
        return -ABI_ENOMEM;
    c->vm->refs = 1;
    int err = mm_fork(t->mm, &c->vm->mm);
    if (err)
        return err;
    /* The child's memory holds the parent's patched sites. */
    bool ok;
    c->vm->patches = syscall_patches_clone(t->vm->patches, &ok);
    if (!ok)
        return -ABI_ENOMEM;
    c->mm = c->vm->mm;
    c->start_new_as = true;
    return 0;
}

/* Undo a clone that failed before its task was registered. */
static void discard(struct task *c)
{
    if (c->ctx)
        platform_ctx_destroy(c->ctx);
    if (c->vm && c->vm->mm)
        task_vm_put(c->vm);
    else
        free(c->vm);
    vfs_fdtable_put(c->fds);
    task_fs_put(c->fs);
    sighand_put(c->sighand);
    free(c->creds.groups);
    pthread_cond_destroy(&c->wake_cond);
    free(c);
}

int64_t kernel_clone(struct task *t, const struct kernel_clone_args *a)
{
    struct kernel *k = t->k;
    uint64_t f = a->flags;
    int err = check_flags(t, a);
    if (err)
        return err;
    /* A task being killed makes none (Linux: a fatal signal pending ends
     * fork with ERESTARTNOINTR), and nobody does once init has ended (its
     * pid namespace is dying: ENOMEM). A child made then would escape the
     * sweep that kills every process when init ends, and the sandbox would
     * never end. */
    if (task_must_exit(t))
        return -ABI_ERESTARTNOINTR;
    if (k->init && k->init->zombie)
        return -ABI_ENOMEM;
    /* Every task costs the host a Sentry thread and a stub thread (and a
     * fork a stub process): RLIMIT_NPROC exempts root, so the sandbox as a
     * whole has a ceiling, as Linux's threads-max. */
    if (k->ntasks >= KERNEL_TASKS_MAX)
        return -ABI_EAGAIN;
    /* Processes, zombies included, have the same ceiling: a zombie keeps
     * its pid, and with every pid taken each fork would scan the whole pid
     * space under the kernel lock before failing. */
    if (!(f & ABI_CLONE_THREAD)) {
        int groups = 0;
        for (struct thread_group *g = k->groups; g; g = g->all_next)
            groups++;
        if (groups >= KERNEL_TASKS_MAX)
            return -ABI_EAGAIN;
    }
    if (!(f & ABI_CLONE_THREAD) && over_nproc(t))
        return -ABI_EAGAIN;
    struct task *c = task_new(k);
    if (!c)
        return -ABI_ENOMEM;
    if (cred_copy(&c->creds, &t->creds) != 0) {
        discard(c);
        return -ABI_ENOMEM;
    }
    c->settings = t->settings;
    /* SCHED_RESET_ON_FORK: the child starts as an ordinary task. */
    if (t->settings.reset_on_fork) {
        c->settings.reset_on_fork = false;
        c->settings.policy = ABI_SCHED_OTHER;
        c->settings.rt_priority = 0;
        if (c->settings.nice < 0)
            c->settings.nice = 0;
    }
    c->sigmask = t->sigmask;
    /* A thread sharing the address space must not share the parent's
     * alternate stack (Linux clears it for CLONE_VM without CLONE_VFORK). */
    if ((f & ABI_CLONE_VM) && !(f & ABI_CLONE_VFORK))
        c->altstack = (struct abi_stack){.ss_flags = ABI_SS_DISABLE};
    else
        c->altstack = t->altstack;
    memcpy(c->comm, t->comm, sizeof(c->comm));
    c->arg_start = t->arg_start;
    c->arg_end = t->arg_end;
    c->env_start = t->env_start;
    c->env_end = t->env_end;

    err = copy_vm(t, c, (f & ABI_CLONE_VM) != 0);
    if (!err)
        err = (f & ABI_CLONE_FILES) ? (c->fds = vfs_fdtable_get(t->fds), 0)
                                    : vfs_fdtable_clone(t->fds, &c->fds);
    if (!err)
        err = copy_fs(t, c, (f & ABI_CLONE_FS) != 0);
    if (!err)
        err = copy_sighand(t, c, f);
    int pid = err ? 0 : kernel_alloc_pid(k);
    if (!err && pid < 0)
        err = pid;
    if (err) {
        discard(c);
        return err;
    }

    /* The first registers: the parent's at the syscall, returning 0. */
    c->start_regs = *platform_ctx_regs(t->ctx);
    c->start_regs.rax = 0;
    if (a->stack)
        c->start_regs.rsp = a->stack + a->stack_size;
    if (f & ABI_CLONE_SETTLS)
        c->start_regs.fs_base = a->tls;
    if (platform_ctx_get_fpu(t->ctx, &c->start_fpu) != 0) {
        memset(&c->start_fpu, 0, sizeof(c->start_fpu));
        c->start_fpu.cwd = ABI_FPU_DEFAULT_CWD;
        c->start_fpu.mxcsr = ABI_FPU_DEFAULT_MXCSR;
    }

    if (f & ABI_CLONE_THREAD) {
        c->tg = t->tg;
    } else {
        struct thread_group *parent = (f & ABI_CLONE_PARENT) ? t->tg->parent : t->tg;
        struct thread_group *g = kernel_new_tg(k, parent, pid);
        if (!g) {
            discard(c);
            return -ABI_ENOMEM;
        }
        g->pgid = t->tg->pgid;
        g->sid = t->tg->sid;
        memcpy(g->rlimits, t->tg->rlimits, sizeof(g->rlimits));
        if (t->tg->exe.dentry)
            g->exe = vfs_path_get(t->tg->exe);
        g->exit_signal = a->exit_signal;
        g->leader = c;
        g->start_ns = c->start_ns;
        c->tg = g;
    }
    c->pid = c->tg->pid;
    c->tid = pid;
    c->rlimits = c->tg->rlimits;

    if (f & ABI_CLONE_PARENT_SETTID) {
        int32_t v = pid;
        mm_copy_out(t->mm, a->parent_tid, &v, sizeof(v));
    }
    if (f & ABI_CLONE_CHILD_SETTID) {
        int32_t v = pid;
        mm_copy_out(c->mm, a->child_tid, &v, sizeof(v));
    }
    if (f & ABI_CLONE_CHILD_CLEARTID)
        c->clear_child_tid = a->child_tid;
    kernel_add_task(c);

    if (f & ABI_CLONE_PIDFD) {
        int fd = kernel_pidfd_install(t, c->tg, 0);
        if (fd >= 0) {
            int32_t v = fd;
            mm_copy_out(t->mm, a->pidfd, &v, sizeof(v));
        }
    }
    if (f & ABI_CLONE_VFORK) {
        c->vfork_parent = t;
        t->vfork_done = false;
    }
    err = task_start(c);
    if (err) {
        /* No thread to run it: it ends here, as if killed at birth. */
        if (f & ABI_CLONE_THREAD)
            task_exit(c, kernel_wstatus_signal(ABI_SIGKILL, false));
        else
            task_exit_group(c, kernel_wstatus_signal(ABI_SIGKILL, false));
        task_finish(c);
        return err;
    }
    if (f & ABI_CLONE_VFORK) {
        /* Until the child execs or exits; only a fatal signal ends the
         * wait early, as on Linux. */
        while (!t->vfork_done && !task_must_exit(t))
            task_sleep_nosignal(t, NULL);
        /* A child still running when we give up must not wake a parent
         * that is gone. */
        if (!t->vfork_done)
            for (struct task *o = k->tasks; o; o = o->all_next)
                if (o->vfork_parent == t)
                    o->vfork_parent = NULL;
    }
    return pid;
}
