/* Tasks and the loop that runs one: guest syscalls go to the dispatcher,
 * faults to the memory manager or become signals, host interruptions become
 * guest signals. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/sigframe.h"
#include "abi/signal.h"
#include "platform/platform.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/sched.h"
#include "sentry/kernel/syscall_patch.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

/* A task with nothing shared yet: the caller fills in its resources. */
static struct task *task_alloc(struct kernel *k)
{
    struct task *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->k = k;
    t->altstack.ss_flags = ABI_SS_DISABLE;
    t->fault_page = UINT64_MAX;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake_cond, &ca);
    pthread_condattr_destroy(&ca);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    t->start_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    return t;
}

struct task *task_new(struct kernel *k)
{
    return task_alloc(k);
}

int task_create(struct kernel *k, struct task **out)
{
    struct task *t = task_alloc(k);
    if (!t)
        return -ABI_ENOMEM;
    t->fs = calloc(1, sizeof(*t->fs));
    t->sighand = calloc(1, sizeof(*t->sighand));
    int err = (t->fs && t->sighand) ? 0 : -ABI_ENOMEM;
    if (!err) {
        t->fs->refs = t->sighand->refs = 1;
        waitq_init(&t->sighand->signalfd_wait);
        t->fs->umask = 022;
        err = task_vm_create(k, true, &t->vm, &t->ctx);
    }
    if (!err)
        err = vfs_fdtable_create(&t->fds);
    int pid = err ? 0 : kernel_alloc_pid(k);
    if (!err && pid < 0)
        err = pid;
    struct thread_group *g = NULL;
    if (!err) {
        g = kernel_new_tg(k, NULL, pid);
        if (!g)
            err = -ABI_ENOMEM;
    }
    if (err) {
        if (t->ctx)
            platform_ctx_destroy(t->ctx);
        task_vm_put(t->vm);
        vfs_fdtable_put(t->fds);
        free(t->fs);
        free(t->sighand);
        pthread_cond_destroy(&t->wake_cond);
        free(t);
        return err;
    }
    t->mm = t->vm->mm;
    t->as = t->vm->as;
    t->tg = g;
    t->pid = t->tid = pid;
    t->rlimits = g->rlimits;
    g->leader = t;
    g->start_ns = t->start_ns;
    if (!k->init) {
        k->init = g;
        g->is_init = true;
    }
    mm_set_stack_limit(t->mm, t->rlimits[ABI_RLIMIT_STACK].rlim_cur);
    kernel_add_task(t);
    *out = t;
    return 0;
}

void task_destroy(struct task *t)
{
    if (t)
        task_finish(t);
}

void task_set_root(struct task *t, struct vfs_path root)
{
    struct vfs_path old = t->fs->root;
    t->fs->root = vfs_path_get(root);
    if (old.dentry)
        vfs_path_put(old);
}

void task_set_cwd(struct task *t, struct vfs_path cwd)
{
    struct vfs_path old = t->fs->cwd;
    t->fs->cwd = vfs_path_get(cwd);
    if (old.dentry)
        vfs_path_put(old);
}

void task_walk_ctx(struct task *t, struct vfs_walk_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->root = t->fs->root;
    ctx->cred.uid = t->creds.fsuid;
    ctx->cred.gid = t->creds.fsgid;
    ctx->cred.groups = t->creds.groups;
    ctx->cred.ngroups = (int)t->creds.ngroups;
    /* Linux's file permission checks ask the effective capabilities, which
     * follow fsuid (sentry/kernel/cred.c), not the uid itself. */
    const struct task_creds *c = &t->creds;
    ctx->cred.cap_dac_override = cred_capable(c, ABI_CAP_DAC_OVERRIDE);
    ctx->cred.cap_dac_read_search = cred_capable(c, ABI_CAP_DAC_READ_SEARCH);
    ctx->cred.cap_fowner = cred_capable(c, ABI_CAP_FOWNER);
    ctx->cred.cap_chown = cred_capable(c, ABI_CAP_CHOWN);
    ctx->cred.cap_fsetid = cred_capable(c, ABI_CAP_FSETID);
}

int task_at_start(struct task *t, int64_t dirfd, const char *path, struct vfs_path *out)
{
    if (path && path[0] == '/') {
        *out = t->fs->root;
        return 0;
    }
    if ((int32_t)dirfd == ABI_AT_FDCWD) {
        *out = t->fs->cwd;
        return 0;
    }
    if (dirfd < 0 || dirfd > INT32_MAX)
        return -ABI_EBADF;
    struct vfs_file *f = vfs_fd_lookup(t->fds, (int)dirfd);
    if (!f)
        return -ABI_EBADF;
    if (!f->dentry || !f->mnt)
        return -ABI_ENOTDIR;
    if (!vfs_is_dir(f->dentry->inode))
        return -ABI_ENOTDIR;
    out->mnt = f->mnt;
    out->dentry = f->dentry;
    return 0;
}

/* A signal from outside the sandbox (forwarded by the front end or sent to
 * the stub): its sender has no pid in the sandbox, so si_pid is 0. */
static void task_signal_external(struct task *t, int sig)
{
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = ABI_SI_USER;
    signal_send_group(t->tg, &info, true);
}

/* int 0x80 stops the thread just like `syscall`, but with i386 numbers and
 * argument registers. moat implements the x86-64 ABI only; a guest using the
 * 32-bit one gets ENOSYS rather than a different call of the same number. */
static bool is_int80(struct task *t, const struct abi_ptregs *r, const struct platform_event *ev)
{
    if (ev->abi != PLATFORM_ABI_UNKNOWN)
        return ev->abi == PLATFORM_ABI_I386;
    uint8_t insn[2];
    if (r->rip < 2 || mm_copy_in(t->mm, insn, r->rip - 2, sizeof(insn)) != 0)
        return false;
    return insn[0] == 0xcd && insn[1] == 0x80;
}

static void fault_signal(struct task *t, int sig, int code, uint64_t addr, uint64_t err);
static void run_syscall(struct task *t);

static void handle_syscall(struct task *t, const struct platform_event *ev)
{
    t->fault_page = UINT64_MAX; /* the guest made progress since its last fault */
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    if (ev->patch) {
        if (syscall_patch_entered(t, r, ev->patch) != 0) {
            /* A trampoline no site of ours uses: for the guest, a jump
             * into memory it cannot see. */
            fault_signal(t, ABI_SIGSEGV, ABI_SEGV_MAPERR, 0, ABI_PF_USER | ABI_PF_INSTR);
            return;
        }
        run_syscall(t);
        return;
    }
    if (is_int80(t, r, ev)) {
        if (!t->k->int80_reported) {
            t->k->int80_reported = true;
            kernel_log(t->k, "moat: 32-bit syscalls (int 0x80) are not supported: "
                             "returning ENOSYS\n");
        }
        r->rax = (uint64_t)-ABI_ENOSYS;
        return;
    }
    if (ev->abi == PLATFORM_ABI_X86_64)
        syscall_patch_try(t, r);
    run_syscall(t);
}

static void run_syscall(struct task *t)
{
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    long nr = (long)r->orig_rax;
    uint64_t a[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
    int64_t ret = syscalls_dispatch(t, nr, a);
    if (!t->exited && nr != ABI_NR_rt_sigreturn) {
        r = platform_ctx_regs(t->ctx);
        r->rax = (uint64_t)ret;
        /* The -ERESTART* codes never reach the guest: signal delivery
         * turns them into EINTR or a restart. */
        if (ret <= -ABI_ERESTARTSYS && ret >= -ABI_ERESTART_RESTARTBLOCK && ret != -ABI_ENOIOCTLCMD)
            t->restart_ret = ret;
    }
}

/* The x86 trap that most likely raised a fault signal: ptrace reports the
 * signal and si_code, not the trap, and sigcontext.trapno is only advisory. */
static uint64_t fault_trapno(int sig, int code)
{
    switch (sig) {
    case ABI_SIGFPE:
        return code == ABI_FPE_INTDIV || code == ABI_FPE_INTOVF ? ABI_TRAP_DE : ABI_TRAP_XF;
    case ABI_SIGILL:
        return ABI_TRAP_UD;
    case ABI_SIGTRAP:
        return code == ABI_TRAP_BRKPT || code == ABI_SI_KERNEL ? ABI_TRAP_BP : ABI_TRAP_DB;
    case ABI_SIGSEGV:
        return code == ABI_SI_KERNEL ? ABI_TRAP_GP : ABI_TRAP_PF;
    default:
        return ABI_TRAP_PF;
    }
}

static void fault_signal(struct task *t, int sig, int code, uint64_t addr, uint64_t err)
{
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = code;
    info.u.fault.addr = addr;
    struct signal_fault f = {.trapno = fault_trapno(sig, code), .err = err};
    if (f.trapno == ABI_TRAP_PF)
        f.cr2 = addr;
    signal_force(t, &info, &f);
}

/* ptrace does not say whether a fault was a read or a write. The first
 * fault on a page is served as a read; if the same page faults again at once,
 * the access must have needed more than the mapping gave: a write. A third
 * fault means even that was not enough, an access error. */
static void handle_fault(struct task *t, const struct platform_event *ev)
{
    switch (syscall_patch_fault(t, ev)) {
    case SYSCALL_PATCH_RETRY:
        return;
    case SYSCALL_PATCH_SYSCALL:
        t->fault_page = UINT64_MAX;
        run_syscall(t);
        return;
    case SYSCALL_PATCH_NONE:
        break;
    }
    /* A general-protection fault (a non-canonical address, a privileged
     * instruction) has no page to serve. */
    if (ev->signo == ABI_SIGSEGV && ev->si_code != ABI_SI_KERNEL) {
        uint64_t page = ev->addr & ~(MM_PAGE_SIZE - 1);
        if (page == t->fault_page) {
            t->fault_repeats++;
        } else {
            t->fault_page = page;
            t->fault_repeats = 0;
        }
        int code = ABI_SEGV_MAPERR;
        int err = -ABI_EFAULT;
        bool write = ev->write || t->fault_repeats > 0;
        if (t->fault_repeats < 2)
            err = mm_handle_fault(t->mm, ev->addr, write, ev->exec, &code);
        else
            code = ABI_SEGV_ACCERR;
        if (err == 0)
            return;
        t->fault_page = UINT64_MAX;
        if (err == -ABI_ENOMEM) {
            /* Linux would call the OOM killer; the sandbox's memory is spent. */
            kernel_log(t->k, "moat: out of sandbox memory at %#llx: killing the guest\n",
                       (unsigned long long)ev->addr);
            task_exit_group(t, kernel_wstatus_signal(ABI_SIGKILL, false));
            return;
        }
        uint64_t pf = ABI_PF_USER | (write ? ABI_PF_WRITE : 0) | (ev->exec ? ABI_PF_INSTR : 0) |
                      (code == ABI_SEGV_ACCERR ? ABI_PF_PROT : 0);
        if (err == -ABI_EIO) {
            /* Beyond the end of a shared mapping's memory: SIGBUS. */
            fault_signal(t, ABI_SIGBUS, ABI_BUS_ADRERR, ev->addr, pf);
            return;
        }
        fault_signal(t, ABI_SIGSEGV, code, ev->addr, pf);
        return;
    }
    fault_signal(t, ev->signo, ev->si_code, ev->addr, 0);
}

/* The shootdown hook (sentry/mm/mm.h): every thread running in mm's
 * address space leaves guest code, and none re-enters before it applied the
 * pending unmaps (which it does under the kernel lock we hold). */
static void quiesce(void *arg, struct mm *mm)
{
    struct kernel *k = arg;
    for (struct task *o = k->tasks; o; o = o->all_next) {
        if (o->mm != mm || !atomic_load(&o->in_guest))
            continue;
        platform_ctx_interrupt(o->ctx);
        while (atomic_load(&o->in_guest)) {
            struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
        }
    }
}

static const struct mm_shootdown_ops shootdown_ops = {.quiesce = quiesce};

void kernel_install_shootdown(struct kernel *k)
{
    mm_set_shootdown(&shootdown_ops, k);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* The loop of one task, on its own Sentry thread, with the kernel lock
 * held except while the guest runs. */
static void run_loop(struct task *t)
{
    struct kernel *k = t->k;
    uint64_t mark = now_ns();
    while (!task_must_exit(t)) {
        signal_deliver_pending(t);
        if (task_must_exit(t))
            break;
        struct platform_event ev;
        /* Unmaps other tasks recorded for this address space (a shared
         * file truncated elsewhere) land before the guest runs again. */
        if (mm_has_pending(t->mm))
            mm_apply_pending(t->mm);
        uint64_t entered = now_ns();
        t->stime_ns += entered - mark;
        atomic_store(&t->in_guest, 1);
        kernel_unlock();
        int err = platform_ctx_run(t->ctx, &ev);
        atomic_store(&t->in_guest, 0);
        kernel_lock();
        mark = now_ns();
        t->utime_ns += mark - entered;
        if (err) {
            kernel_log(k, "moat: lost control of the guest (%s): killing it\n",
                       abi_errno_name(-err) ? abi_errno_name(-err) : "error");
            task_exit_group(t, kernel_wstatus_signal(ABI_SIGKILL, false));
            break;
        }
        /* Killed while the guest ran (another thread's exit_group or exec,
         * SIGKILL, init's end): the syscall it made meanwhile must not run,
         * or it could fork a child that outlives the sweep, or start an
         * exec that kills the thread whose exec already won. */
        if (task_must_exit(t))
            break;
        switch (ev.kind) {
        case PLATFORM_EV_SYSCALL:
            handle_syscall(t, &ev);
            break;
        case PLATFORM_EV_FAULT:
            handle_fault(t, &ev);
            break;
        case PLATFORM_EV_INTERRUPT:
            /* A kick (signo 0) only says "look at your signals"; anything
             * else was sent to the stub from outside and is the guest's. */
            if (ev.signo != 0)
                task_signal_external(t, ev.signo);
            break;
        case PLATFORM_EV_DIED:
            task_exit_group(t, kernel_wstatus_signal(ev.signo ? ev.signo : ABI_SIGKILL, false));
            break;
        }
        if (ev.ext_signo && !task_must_exit(t))
            task_signal_external(t, ev.ext_signo);
    }
}

int task_run(struct task *t)
{
    struct kernel *k = t->k;
    struct thread_group *init = k->init;
    kernel_set_current(t);
    t->thread = pthread_self();
    run_loop(t);
    task_finish(t);
    kernel_set_current(NULL);
    /* Init's end kills the rest (process.c); wait for every task to be
     * gone, so no stub outlives the sandbox. */
    while (k->ntasks > 0)
        kernel_cond_wait(&k->idle);
    int status = init->exit_status;
    kernel_unlock();
    return status;
}

/* Bring a new task to life on its own Sentry thread: its stub thread (a
 * clone of the parent's, or the first of a fresh address space), then its
 * first registers. */
static int task_setup_ctx(struct task *t)
{
    int err;
    if (t->start_new_as) {
        err = platform_as_create(t->k->platform, &t->vm->as);
        if (err)
            return err;
        t->as = t->vm->as;
        mm_set_as(t->mm, t->as);
        err = platform_ctx_create(t->as, &t->ctx);
        if (err)
            return err;
    } else {
        err = platform_ctx_attach(t->ctx);
        if (err)
            return err;
    }
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    *r = t->start_regs;
    return platform_ctx_set_fpu(t->ctx, &t->start_fpu);
}

static void *task_thread(void *arg)
{
    struct task *t = arg;
    kernel_set_current(t);
    kernel_lock();
    int err = task_setup_ctx(t);
    if (err) {
        kernel_log(t->k, "moat: cannot start a new task's stub (%s): killing it\n",
                   abi_errno_name(-err) ? abi_errno_name(-err) : "error");
        task_exit_group(t, kernel_wstatus_signal(ABI_SIGKILL, false));
    } else {
        run_loop(t);
    }
    task_finish(t);
    kernel_set_current(NULL);
    kernel_unlock();
    return NULL;
}

int task_start(struct task *t)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* Sentry code needs little stack; thousands of tasks should fit. */
    pthread_attr_setstacksize(&attr, 1 << 20);
    int err = pthread_create(&t->thread, &attr, task_thread, t);
    pthread_attr_destroy(&attr);
    return err ? -ABI_EAGAIN : 0;
}
