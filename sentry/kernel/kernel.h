/* The Sentry's kernel state: the sandbox-wide kernel and its tasks.
 *
 * One task is one guest thread; in this milestone a sandbox runs one thread
 * group of one task. Each task is driven by one Sentry thread, which is also
 * the ptrace tracer of the task's stub thread.
 */
#ifndef MOAT_SENTRY_KERNEL_KERNEL_H
#define MOAT_SENTRY_KERNEL_KERNEL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/signal.h"
#include "sentry/vfs/vfs.h"
#include "abi/syscall_table.h"
#include "abi/types.h"
#include "abi/flags.h"

struct platform;
struct platform_ctx;
struct platform_as;
struct mm;
struct mm_memfile;
struct vfs_fdtable;
struct gofer_client;

/* What the Sentry learns about its host before confinement, for /proc
 * (sentry/boot/host_info.c fills it). */
struct kernel_host_info {
    char *cpuinfo;         /* the host's first /proc/cpuinfo block, or NULL */
    uint64_t mem_total_kb; /* the host's MemTotal (0: unknown) */
    char boot_id[37];      /* the sandbox's own random UUID, as Linux prints it */
    int64_t boot_mono_ns;  /* CLOCK_MONOTONIC at the sandbox's boot: its uptime 0 */
    int64_t boot_real_s;   /* CLOCK_REALTIME seconds then (/proc/stat btime) */
};

/* The kernel moat claims to be (uname(2), /proc/version, osrelease): a
 * current 6.x release, since programs and test suites switch features off
 * for old ones. */
#define KERNEL_UTS_RELEASE "6.12.0-moat"
#define KERNEL_UTS_VERSION "#1 SMP PREEMPT_DYNAMIC Sun Nov 22 00:00:00 UTC 2026"

struct kernel {
    struct platform *platform;
    struct mm_memfile *memfile;
    char hostname[ABI_UTSNAME_LEN];
    char domainname[ABI_UTSNAME_LEN];
    int ncpus;   /* CPUs the sandbox reports (online and in every affinity mask) */
    bool strace; /* print every syscall */
    int log_fd;  /* where --strace and the debug log go */
    bool debug;
    int next_pid;
    /* ENOSYS reports: one per syscall number, not one per call. */
    uint8_t enosys_seen[ABI_SYSCALL_TABLE_SIZE / 8 + 1];
    bool int80_reported;
    uint64_t prctl_reported; /* prctl options below 64 already reported */
    /* A host signal the front end forwarded (SIGINT, SIGTERM, ...), pending for
     * the guest; written from the Sentry's signal handler. */
    volatile sig_atomic_t host_signal;
    struct task *init;            /* the first guest task */
    struct vfs_mount *root_mount; /* the sandbox's mount tree */
    struct gofer_client *gofer;   /* the Gofer serving the root; NULL: none */
    /* Limits the first task starts with: the Sentry's own at start-up, as a
     * child of the front end would inherit them. */
    struct abi_rlimit rlimits[ABI_RLIM_NLIMITS];
    struct kernel_host_info host;
};

struct task_creds {
    uint32_t uid, euid, suid, fsuid;
    uint32_t gid, egid, sgid, fsgid;
    uint32_t ngroups;
    uint32_t *groups;
};

struct task {
    struct kernel *k;
    int pid; /* thread-group id, as the guest sees it */
    int tid;
    int ppid; /* 0 for the sandbox's first process, as for Linux's init */
    struct task_creds creds;
    struct abi_rlimit rlimits[ABI_RLIM_NLIMITS];
    struct mm *mm;
    struct platform_as *as;
    struct platform_ctx *ctx;
    struct vfs_fdtable *fds;
    struct abi_sigaction sigactions[ABI_NSIG]; /* index sig-1 */
    abi_sigset_t sigmask;
    struct abi_stack altstack;
    /* Signals sent but not yet delivered (blocked, or waiting for the next
     * return to the guest), each with the siginfo of its first sending:
     * standard signals do not queue, and real-time ones do not yet either. */
    abi_sigset_t sigpending;
    struct abi_siginfo siginfo[ABI_NSIG]; /* index sig-1 */
    /* A syscall's -ERESTART* result, waiting for the delivery step to turn
     * it into EINTR or a restart (0 when none). */
    int64_t restart_ret;
    char comm[16];
    uint64_t clear_child_tid;
    uint64_t robust_list;
    uint64_t robust_len;
    uint32_t umask;
    struct vfs_path root; /* chroot; absolute paths and ".." stop here (references held) */
    struct vfs_path cwd;
    /* The executable (/proc/PID/exe); holds references once exec set it,
     * dentry NULL before. */
    struct vfs_path exe;
    /* Where exec put the argument and environment strings on the stack
     * (/proc/PID/cmdline and environ read them from guest memory). */
    uint64_t arg_start, arg_end, env_start, env_end;
    /* CLOCK_MONOTONIC nanoseconds when the task started (/proc/PID/stat). */
    int64_t start_ns;
    bool exited;
    int exit_status; /* wait(2) status word */
    /* The page of the last fault and how often it faulted in a row (see
     * handle_fault in task.c). */
    uint64_t fault_page;
    int fault_repeats;
    /* Sleeping (sched.c): the Sentry thread running the task, what wakes
     * it, and whether it waits in the host (task_host_poll). */
    pthread_t thread;
    pthread_cond_t wake_cond;
    bool wake_pending;
    bool host_waiting;
};

/* ---- kernel ---- */
/* Reads the host limits too: call before the Sentry's seccomp filter. */
void kernel_init(struct kernel *k, struct platform *p, struct mm_memfile *mf);
/* The sandbox's own figures, which /proc and sysinfo(2) both show: time
 * since its boot, and memory as the host's total against the memory file's
 * use (1 GiB when the host's total is unknown, rather than nothing). */
int64_t kernel_uptime_ns(const struct kernel *k);
uint64_t kernel_mem_total_bytes(const struct kernel *k);
uint64_t kernel_mem_used_bytes(const struct kernel *k);
/* Report an unimplemented syscall: once per number, with its name. */
void kernel_report_enosys(struct kernel *k, long nr);
/* printf to the debug log (stderr unless --debug-log). */
void kernel_log(struct kernel *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the kernel's tasks ----
 * The one place that knows how tasks are kept: today a sandbox runs one
 * thread group (k->init); issue 4's many tasks change only these. */
/* The thread-group leader whose pid is pid, not yet exited; NULL if none. */
struct task *kernel_task_lookup(struct kernel *k, int pid);
/* Calls fn for each live thread group's leader in pid order; stops at the
 * first non-zero return, which it returns. */
int kernel_for_each_thread_group(struct kernel *k, int (*fn)(void *arg, struct task *t), void *arg);
/* The task the calling Sentry thread runs (the caller of the syscall being
 * handled; /proc/self names it), or NULL outside task_run. */
struct task *kernel_current(void);
void kernel_set_current(struct task *t);

/* ---- tasks ---- */
/* A new task with a fresh address space and the default creds and limits. */
int task_create(struct kernel *k, struct task **out);
void task_destroy(struct task *t);
/* Runs the task until it exits; returns its wait status. */
int task_run(struct task *t);

/* ---- signals (signal.c, sigframe.c) ---- */
/* Whether t must stop what it does and exit (SIGKILL, exit_group). */
bool task_must_exit(const struct task *t);
/* Where a synchronous fault happened, for the frame's sigcontext. */
struct signal_fault {
    uint64_t trapno, err, cr2;
};
/* Make sig (info->si_signo) pending for t, unless it would be ignored. */
void signal_send(struct task *t, const struct abi_siginfo *info);
/* A fault: run the handler now, or die if the signal is blocked, ignored or
 * has no handler (Linux forces synchronous signals). */
void signal_force(struct task *t, const struct abi_siginfo *info, const struct signal_fault *f);
/* Before the guest runs again: act on pending unblocked signals and settle a
 * pending syscall restart. */
void signal_deliver_pending(struct task *t);
/* Whether sp is on the task's alternate signal stack. */
bool signal_on_altstack(const struct task *t, uint64_t sp);
/* Push the rt frame for sig and point the registers at the handler.
 * Returns 0 or -ABI_EFAULT (the stack is unusable). */
int sigframe_setup(struct task *t, int sig, const struct abi_sigaction *act,
                   const struct abi_siginfo *info, const struct signal_fault *f);
/* rt_sigreturn: restore registers, FPU, mask and alternate stack from the
 * frame at rsp. Returns 0 or -ABI_EFAULT (a bad frame). */
int sigframe_restore(struct task *t);
/* Terminate the thread group with a wait status (exit or signal). */
void task_exit_group(struct task *t, int status);

/* Linux's access_ok(): the range lies in the user half of the address space.
 * Checked first by every call that takes a user buffer, so a kernel address
 * is EFAULT even when nothing would be copied. */
#define KERNEL_TASK_SIZE_MAX 0x7ffffffff000ULL
static inline bool kernel_access_ok(uint64_t addr, uint64_t len)
{
    return len <= KERNEL_TASK_SIZE_MAX && addr <= KERNEL_TASK_SIZE_MAX - len;
}

/* ---- file mappings (file_map.c) ---- */
struct mm_file_desc;
/* Describes f for mm_mmap_file: its reads and size, its pages when shared
 * (the filesystem's mmap op), its access mode and its path as t sees it.
 * 0, VFS_MMAP_ANON (map anonymous memory instead: /dev/zero) or -errno.
 * On 0, call kernel_file_map_done after mapping (failed: the mapping was
 * refused), which frees *name and lets go of unused pages. */
int kernel_file_map_desc(struct task *t, struct vfs_file *f, bool shared, struct mm_file_desc *d,
                         char **name);
void kernel_file_map_done(struct mm_file_desc *d, char *name, bool failed);

/* ---- exec (exec.c) ---- */
struct loader_result;
struct loader_args;
/* The loader arguments an exec by t gets: its credentials, the host CPU's
 * hwcaps, the vDSO, its stack limit, a fresh layout seed. No interpreter
 * callback. */
void kernel_exec_args(struct task *t, const char *const *argv, const char *const *envp,
                      const char *execfn, struct loader_args *la);
/* Loads the program at path (resolved like execve's: from the task's cwd and
 * root, "#!" scripts through their interpreter, a dynamic ELF with its
 * interpreter) into the task's empty address space and sets its exe, comm
 * and argument ranges. -errno with *why naming what failed; the address
 * space may then hold partial mappings. */
/* What a successful load tells the task: where its argument and environment
 * strings are, and its name (comm) from execfn, the path it was run by. */
void kernel_exec_loaded(struct task *t, const struct loader_result *res, const char *execfn);
int kernel_exec_load(struct task *t, const char *path, const char *const *argv,
                     const char *const *envp, struct loader_result *res, const char **why);

/* ---- a task's view of the filesystem ---- */

/* Set the task's root and cwd (takes references). */
void task_set_root(struct task *t, struct vfs_path root);
void task_set_cwd(struct task *t, struct vfs_path cwd);
/* The walk context for the task's lookups: its root and its filesystem
 * credentials (root of the sandbox passes permission checks as Linux's root
 * does). Borrowed: valid while the task's root and creds are unchanged. */
void task_walk_ctx(struct task *t, struct vfs_walk_ctx *ctx);
/* The starting point of a *at call: the cwd for AT_FDCWD, else the open
 * directory dirfd. An absolute path ignores dirfd, as on Linux (but a bad
 * dirfd with a relative path is -EBADF, a non-directory -ENOTDIR).
 * Borrowed references. */
int task_at_start(struct task *t, int64_t dirfd, const char *path, struct vfs_path *out);

/* Wait status words, as wait4 reports them. */
static inline int kernel_wstatus_exit(int code)
{
    return (code & 0xff) << 8;
}
static inline int kernel_wstatus_signal(int sig, bool core)
{
    return (sig & 0x7f) | (core ? 0x80 : 0);
}

#endif
