/* Tasks and the loop that runs one: guest syscalls go to the dispatcher,
 * faults to the memory manager or become signals, host interruptions become
 * guest signals. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/sigframe.h"
#include "abi/signal.h"
#include "platform/platform.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

int task_create(struct kernel *k, struct task **out)
{
    struct task *t = calloc(1, sizeof(*t));
    if (!t)
        return -ABI_ENOMEM;
    t->k = k;
    int err = platform_as_create(k->platform, &t->as);
    if (!err)
        err = mm_create(k->memfile, k->platform, t->as, &t->mm);
    if (!err)
        err = platform_ctx_create(t->as, &t->ctx);
    if (!err)
        err = vfs_fdtable_create(&t->fds);
    if (err) {
        task_destroy(t);
        return err;
    }
    t->pid = t->tid = k->next_pid++;
    t->ppid = 0;
    t->umask = 022;
    t->altstack.ss_flags = ABI_SS_DISABLE;
    t->fault_page = UINT64_MAX;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake_cond, &ca);
    pthread_condattr_destroy(&ca);
    t->thread = pthread_self();
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    t->start_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    memcpy(t->rlimits, k->rlimits, sizeof(t->rlimits));
    mm_set_stack_limit(t->mm, t->rlimits[ABI_RLIMIT_STACK].rlim_cur);
    *out = t;
    return 0;
}

void task_destroy(struct task *t)
{
    if (!t)
        return;
    vfs_fdtable_destroy(t->fds);
    if (t->cwd.dentry)
        vfs_path_put(t->cwd);
    if (t->root.dentry)
        vfs_path_put(t->root);
    if (t->exe.dentry)
        vfs_path_put(t->exe);
    if (t->ctx)
        platform_ctx_destroy(t->ctx);
    /* The stub goes first: nothing may reach guest memory once the mm has
     * released it. */
    platform_as_destroy(t->as);
    mm_destroy(t->mm);
    free(t->creds.groups);
    pthread_cond_destroy(&t->wake_cond);
    free(t);
}

void task_set_root(struct task *t, struct vfs_path root)
{
    struct vfs_path old = t->root;
    t->root = vfs_path_get(root);
    if (old.dentry)
        vfs_path_put(old);
}

void task_set_cwd(struct task *t, struct vfs_path cwd)
{
    struct vfs_path old = t->cwd;
    t->cwd = vfs_path_get(cwd);
    if (old.dentry)
        vfs_path_put(old);
}

void task_walk_ctx(struct task *t, struct vfs_walk_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->root = t->root;
    ctx->cred.uid = t->creds.fsuid;
    ctx->cred.gid = t->creds.fsgid;
    ctx->cred.groups = t->creds.groups;
    ctx->cred.ngroups = (int)t->creds.ngroups;
    /* The capability model comes with the processes issue; until then the
     * sandbox's root holds the file capabilities Linux's root has. */
    bool root = t->creds.euid == 0;
    ctx->cred.cap_dac_override = root;
    ctx->cred.cap_dac_read_search = root;
    ctx->cred.cap_fowner = root;
    ctx->cred.cap_chown = root;
    ctx->cred.cap_fsetid = root;
}

int task_at_start(struct task *t, int64_t dirfd, const char *path, struct vfs_path *out)
{
    if (path && path[0] == '/') {
        *out = t->root;
        return 0;
    }
    if ((int32_t)dirfd == ABI_AT_FDCWD) {
        *out = t->cwd;
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

void task_exit_group(struct task *t, int status)
{
    if (t->exited)
        return;
    t->exited = true;
    t->exit_status = status;
}

/* A signal from outside the sandbox (forwarded by the front end or sent to
 * the stub): its sender has no pid in the sandbox, so si_pid is 0. */
static void task_signal_external(struct task *t, int sig)
{
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = ABI_SI_USER;
    signal_send(t, &info);
}

/* int 0x80 stops the thread just like `syscall`, but with i386 numbers and
 * argument registers. moat implements the x86-64 ABI only; a guest using the
 * 32-bit one gets ENOSYS rather than a different call of the same number. */
static bool is_int80(struct task *t, const struct abi_ptregs *r)
{
    uint8_t insn[2];
    if (r->rip < 2 || mm_copy_in(t->mm, insn, r->rip - 2, sizeof(insn)) != 0)
        return false;
    return insn[0] == 0xcd && insn[1] == 0x80;
}

static void handle_syscall(struct task *t)
{
    t->fault_page = UINT64_MAX; /* the guest made progress since its last fault */
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    if (is_int80(t, r)) {
        if (!t->k->int80_reported) {
            t->k->int80_reported = true;
            kernel_log(t->k, "moat: 32-bit syscalls (int 0x80) are not supported: "
                             "returning ENOSYS\n");
        }
        r->rax = (uint64_t)-ABI_ENOSYS;
        return;
    }
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
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        t->start_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
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

int task_run(struct task *t)
{
    struct kernel *k = t->k;
    kernel_set_current(t);
    kernel_lock();
    while (!t->exited) {
        if (k->host_signal) {
            int sig = k->host_signal;
            k->host_signal = 0;
            task_signal_external(t, sig);
        }
        signal_deliver_pending(t);
        if (t->exited)
            break;
        struct platform_event ev;
        kernel_unlock();
        int err = platform_ctx_run(t->ctx, &ev);
        kernel_lock();
        if (err) {
            kernel_log(k, "moat: lost control of the guest (%s): killing it\n",
                       abi_errno_name(-err) ? abi_errno_name(-err) : "error");
            task_exit_group(t, kernel_wstatus_signal(ABI_SIGKILL, false));
            break;
        }
        switch (ev.kind) {
        case PLATFORM_EV_SYSCALL:
            handle_syscall(t);
            break;
        case PLATFORM_EV_FAULT:
            handle_fault(t, &ev);
            break;
        case PLATFORM_EV_INTERRUPT:
            /* A kick (signo 0) only says "look at host_signal"; anything
             * else was sent to the stub from outside and is the guest's. */
            if (ev.signo != 0)
                task_signal_external(t, ev.signo);
            break;
        case PLATFORM_EV_DIED:
            task_exit_group(t, kernel_wstatus_signal(ev.signo ? ev.signo : ABI_SIGKILL, false));
            break;
        }
    }
    kernel_unlock();
    return t->exit_status;
}
