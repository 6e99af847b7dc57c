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
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi/signal.h"
#include "abi/regs.h"
#include "sentry/kernel/sched.h"
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
struct ipc_ns;

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
    struct thread_group *init;   /* the first guest process (pid 1) */
    struct task *tasks;          /* every live task (all_next) */
    struct thread_group *groups; /* every thread group, zombies too */
    int ntasks;
    /* Signalled when the last task ends (the boot thread waits for it). */
    pthread_cond_t idle;
    struct vfs_mount *root_mount; /* the sandbox's mount tree */
    struct gofer_client *gofer;   /* the Gofer serving the root; NULL: none */
    /* Limits the first task starts with: the Sentry's own at start-up, as a
     * child of the front end would inherit them. */
    struct abi_rlimit rlimits[ABI_RLIM_NLIMITS];
    struct kernel_host_info host;
    struct ipc_ns *ipc; /* System V IPC (sentry/kernel/ipc), made on first use */
};

struct task_creds {
    uint32_t uid, euid, suid, fsuid;
    uint32_t gid, egid, sgid, fsgid;
    uint32_t ngroups;
    uint32_t *groups; /* sorted ascending, as Linux keeps them */
    /* Capability sets, one bit per ABI_CAP_* (sentry/kernel/cred.h). */
    uint64_t cap_effective, cap_permitted, cap_inheritable, cap_bounding, cap_ambient;
    uint32_t securebits; /* ABI_SECBIT_* */
    bool no_new_privs;   /* PR_SET_NO_NEW_PRIVS: sticky, inherited, kept on exec */
    int dumpable;        /* PR_SET_DUMPABLE: ABI_SUID_DUMP_* */
};

/* Per-task settings the guest changes with setpriority, the sched_* calls,
 * personality and prctl: inherited on clone, kept on exec. All-zero is the
 * default (nice 0, SCHED_OTHER, every CPU, PER_LINUX, default slack). */
struct task_settings {
    int nice;   /* -20..19 */
    int policy; /* ABI_SCHED_* without ABI_SCHED_RESET_ON_FORK */
    int rt_priority;
    bool reset_on_fork;
    bool affinity_set;     /* false: every CPU */
    uint64_t affinity[16]; /* CPUs 0..1023 */
    uint32_t personality;
    uint64_t timerslack_ns; /* 0: ABI_DEFAULT_TIMER_SLACK_NS */
    bool thp_disable;
};

/* Signal dispositions, shared by tasks cloned with CLONE_SIGHAND. */
struct sighand {
    int refs;
    struct abi_sigaction actions[ABI_NSIG]; /* index sig-1 */
    /* Notified when a signal is queued for a task using it (signalfd). */
    struct waitq signalfd_wait;
};

/* Root, cwd and umask, shared by tasks cloned with CLONE_FS. */
struct task_fs {
    int refs;
    struct vfs_path root; /* chroot; absolute paths and ".." stop here (references held) */
    struct vfs_path cwd;
    uint32_t umask;
};

/* An address space and its stub, shared by tasks cloned with CLONE_VM. */
struct task_vm {
    int refs;
    struct mm *mm;
    struct platform_as *as;          /* NULL until the first task running it creates it */
    struct syscall_patches *patches; /* the patched syscall sites in mm (syscall_patch.c) */
};

/* Signals sent and not yet delivered. Standard signals are pending at most
 * once (their first sending's siginfo stands); real-time ones queue, each
 * sending with its own siginfo, up to RLIMIT_SIGPENDING. */
struct sigqueue_node {
    struct sigqueue_node *next;
    struct abi_siginfo info;
};
struct sigpending {
    abi_sigset_t set;
    struct sigqueue_node *head;
    int count; /* nodes on head (RLIMIT_SIGPENDING counts them) */
};

/* A process: what the threads of one thread group share. Lives until its
 * parent reaps it (or at once, when nobody will). */
struct thread_group {
    struct kernel *k;
    int pid;
    struct task *threads; /* live threads, linked by tg_next */
    int nthreads;
    struct task *leader;           /* NULL once the leader's thread has ended */
    struct thread_group *parent;   /* NULL for the sandbox's init */
    struct thread_group *children; /* linked by sibling, zombies included */
    struct thread_group *sibling;
    struct thread_group *all_next; /* every thread group of the kernel */
    int pgid, sid;
    int exit_signal; /* sent to the parent at exit (0: none) */
    struct sigpending shared;
    struct abi_rlimit rlimits[ABI_RLIM_NLIMITS];
    /* The executable (/proc/PID/exe); holds references once exec set it,
     * dentry NULL before. */
    struct vfs_path exe;
    /* exit_group(2), a fatal signal or exec's taking over: every thread
     * ends; the status is the process's. */
    bool group_exiting;
    int group_exit_status;
    bool zombie;       /* every thread has ended: waiting to be reaped */
    int exit_status;   /* wait status word, once zombie */
    uint32_t exit_uid; /* its last thread's real uid: waitid's and SIGCHLD's si_uid */
    /* Job control: stopped by a stop signal, and the events a waiting
     * parent has not yet collected (WUNTRACED, WCONTINUED). */
    bool stopped;
    int stop_signo;
    bool stop_event, cont_event;
    bool subreaper; /* PR_SET_CHILD_SUBREAPER */
    bool is_init;   /* the sandbox's first process: pid 1 of its namespace */
    bool exec_done; /* it has exec'd since fork (setpgid's EACCES) */
    /* A child changed state: wait4/waitid callers of this process sleep here. */
    struct waitq child_wait;
    /* A thread of this group ended (exec waits for the others) or the
     * group became a zombie (pidfd readers). */
    struct waitq exit_wait;
    /* CPU time of ended threads, and of reaped children (times(2)). */
    uint64_t utime_ns, stime_ns, cutime_ns, cstime_ns;
    int64_t start_ns;
    int refs; /* pidfds holding the record after it is reaped */
    bool reaped;
    /* alarm, interval and POSIX timers (sentry/kernel/timer.h); NULL until
     * the process first uses one. Not inherited by fork. */
    struct kernel_timers *timers;
};

struct task {
    struct kernel *k;
    struct thread_group *tg;
    struct task *tg_next;  /* in tg->threads */
    struct task *all_next; /* every live task of the kernel */
    int pid;               /* thread-group id, as the guest sees it (tg->pid) */
    int tid;
    struct task_creds creds;
    struct task_settings settings;
    /* The process's limits (tg->rlimits). */
    struct abi_rlimit *rlimits;
    struct task_vm *vm;
    struct mm *mm;          /* vm->mm */
    struct platform_as *as; /* vm->as */
    struct platform_ctx *ctx;
    struct vfs_fdtable *fds;
    struct sighand *sighand;
    struct task_fs *fs;
    abi_sigset_t sigmask;
    /* rt_sigsuspend, ppoll, pselect6, epoll_pwait: the mask to restore once
     * the signal that ended the wait has been delivered. */
    abi_sigset_t saved_sigmask;
    bool restore_sigmask;
    /* rt_sigtimedwait: the mask before it opened the awaited signals, which
     * still count as blocked for whether a signal is ignored. */
    abi_sigset_t real_blocked;
    struct abi_stack altstack;
    struct sigpending pending; /* sent to this thread (tkill, faults) */
    /* A syscall's -ERESTART* result, waiting for the delivery step to turn
     * it into EINTR or a restart (0 when none). */
    int64_t restart_ret;
    /* restart_syscall(2): how to resume the call that returned
     * -ERESTART_RESTARTBLOCK (NULL: restart_syscall answers EINTR). */
    int64_t (*restart_fn)(struct task *t);
    uint64_t restart_data[4];
    char comm[16];
    uint64_t clear_child_tid;
    uint64_t robust_list;
    uint64_t robust_len;
    /* Where exec put the argument and environment strings on the stack
     * (/proc/PID/cmdline and environ read them from guest memory). */
    uint64_t arg_start, arg_end, env_start, env_end;
    /* CLOCK_MONOTONIC nanoseconds when the task started (/proc/PID/stat). */
    int64_t start_ns;
    /* The thread is ending (exit(2), or its group's exit): its status. */
    bool exited;
    int exit_status;   /* wait(2) status word */
    int pdeath_signal; /* PR_SET_PDEATHSIG */
    /* A vfork child: its parent, which sleeps until the child execs or
     * exits; the parent's vfork_done then turns true. */
    struct task *vfork_parent;
    bool vfork_done;
    /* How the new task's Sentry thread starts it: registers (and FPU)
     * for its first run, and whether it must first create its address
     * space (fork) or attach to a stub thread made by its parent. */
    struct abi_ptregs start_regs;
    struct abi_fxsave start_fpu;
    bool start_new_as;
    /* CPU time: guest time between stops, Sentry time handling them. */
    uint64_t utime_ns, stime_ns;
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
    /* What /proc shows while it sleeps: 'S' (a signal wakes it) or 'D';
     * 0 while it runs. */
    char sleep_state;
    /* The guest runs (the kernel lock is not held meanwhile): set under the
     * lock before entering, cleared before taking it again on the way out,
     * so a thread holding the lock can wait for it to drop (shootdown). */
    _Atomic int in_guest;
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

/* The most tasks (threads) a sandbox runs at once, and the most processes
 * it holds, zombies included; clone answers EAGAIN beyond them, as Linux's
 * threads-max and pid_max. Each task costs the host a Sentry thread and a
 * stub thread, so a fork bomb stops here rather than at the host's limits,
 * and pids never run out (the pid allocator scans). */
#define KERNEL_TASKS_MAX 4096

/* ---- the kernel's tasks (process.c) ----
 * Lists walked under the kernel lock; a sandbox runs hundreds of tasks, not
 * millions, so lookups scan. */
/* The thread group whose pid is pid, not yet a zombie; NULL if none. */
struct thread_group *kernel_tg_lookup(struct kernel *k, int pid);
/* The same, zombies included (kill, getpgid and getsid still find them). */
struct thread_group *kernel_tg_lookup_any(struct kernel *k, int pid);
/* A live thread of the group pid (its leader while it runs), for code that
 * wants a task: /proc/PID, prlimit. NULL if none. */
struct task *kernel_task_lookup(struct kernel *k, int pid);
/* The live task whose tid is tid; NULL if none. */
struct task *kernel_tid_lookup(struct kernel *k, int tid);
/* Calls fn for each live thread group's first live thread, in pid order;
 * stops at the first non-zero return, which it returns. */
int kernel_for_each_thread_group(struct kernel *k, int (*fn)(void *arg, struct task *t), void *arg);
/* The task the calling Sentry thread runs (the caller of the syscall being
 * handled; /proc/self names it), or NULL outside task_run. */
struct task *kernel_current(void);
void kernel_set_current(struct task *t);
/* A fresh pid (-EAGAIN when every pid is taken). */
int kernel_alloc_pid(struct kernel *k);
/* The pid of t's parent process as t sees it (0 for init). */
int task_ppid(const struct task *t);
/* Add t (new) to its thread group and the kernel's lists. */
void kernel_add_task(struct task *t);
/* A new thread group for t, child of parent (NULL: the init process). */
struct thread_group *kernel_new_tg(struct kernel *k, struct thread_group *parent, int pid);

/* ---- process lifetime (process.c) ---- */
/* exit(2) of one thread with status (a wait status word). */
void task_exit(struct task *t, int status);
/* Terminate the thread group with a wait status (exit or signal): every
 * thread ends. */
void task_exit_group(struct task *t, int status);
void tg_exit_group(struct thread_group *tg, int status);
/* The thread's Sentry thread is done with it: release its resources; if it
 * was the last of its group, make the group a zombie and tell the parent.
 * Frees t. */
void task_finish(struct task *t);
/* wait4/waitid: see sys_wait.c. which: ABI_P_* selector; options ABI_W*.
 * On a reported child fills *status (wait status), *info (waitid's) and
 * *ru (rusage times) and returns its pid; 0 for WNOHANG with nothing;
 * -ECHILD, -ERESTARTSYS. */
struct abi_siginfo;
int64_t kernel_wait(struct task *t, int which, int64_t id, int options, int *status,
                    struct abi_siginfo *info, uint64_t ru_ns[2]);
/* t is done with its memory (exit, exec): release the robust futexes it
 * holds and clear and wake its clear_child_tid, in t->mm. */
void task_mm_release(struct task *t);
/* The vfork parent of t may go on (t exec'd or exits). */
void task_vfork_release(struct task *t);
/* Drop a thread group record (pidfds, reaping). */
void tg_put(struct thread_group *tg);
/* Sessions and process groups. */
int kernel_setpgid(struct task *t, int pid, int pgid);
int kernel_setsid(struct task *t);
/* Whether some process is in process group pgid. */
bool kernel_pgrp_exists(struct kernel *k, int pgid);
/* Start the Sentry thread that runs t (new, registered). */
int task_start(struct task *t);
/* A new address space: an mm and, with_stub, a stub whose first context
 * (*ctx) the calling thread traces. 0 or -errno, with nothing left. */
int task_vm_create(struct kernel *k, bool with_stub, struct task_vm **out,
                   struct platform_ctx **ctx);
/* Release shared task resources. */
void task_vm_put(struct task_vm *vm);
void task_fs_put(struct task_fs *fs);
void sighand_put(struct sighand *sh);

/* ---- tasks (task.c) ---- */
/* The sandbox's first task: a fresh address space whose stub the calling
 * thread traces, the default creds and limits, pid 1. */
int task_create(struct kernel *k, struct task **out);
/* An empty task for clone to fill in. */
struct task *task_new(struct kernel *k);
/* Ends a task that never ran (boot's failure paths). */
void task_destroy(struct task *t);
/* Let mm stop other tasks' guests before it frees memory they may map. */
void kernel_install_shootdown(struct kernel *k);
/* Runs the first task on the calling thread, which holds the kernel lock,
 * until it exits, then waits for every other task to be gone; returns
 * init's wait status. */
int task_run(struct task *t);

/* ---- clone (clone.c) ---- */
struct kernel_clone_args {
    uint64_t flags;
    int exit_signal;
    uint64_t stack, stack_size;
    uint64_t tls;
    uint64_t parent_tid, child_tid, pidfd;
};
/* clone/clone3/fork/vfork: the child's tid, or -errno. */
int64_t kernel_clone(struct task *t, const struct kernel_clone_args *args);

/* ---- signals (signal.c, sigframe.c) ---- */
/* Whether t must stop what it does and exit (SIGKILL, exit_group). */
bool task_must_exit(const struct task *t);
/* Where a synchronous fault happened, for the frame's sigcontext. */
struct signal_fault {
    uint64_t trapno, err, cr2;
};
/* Make sig (info->si_signo) pending for the thread t, unless it would be
 * ignored, and wake or kick t to act on it. */
void signal_send(struct task *t, const struct abi_siginfo *info);
/* The same for a whole process: any thread not blocking it takes it.
 * from_outside: sent from outside the sandbox's pid namespace (the front
 * end), where SIGKILL and SIGSTOP reach even init. */
void signal_send_group(struct thread_group *tg, const struct abi_siginfo *info, bool from_outside);
/* Queue info for tg (target NULL) or one of its threads, as sigqueue does:
 * -EAGAIN when RLIMIT_SIGPENDING is reached. */
int signal_queue_group(struct thread_group *tg, struct task *target,
                       const struct abi_siginfo *info);
/* kill(2)'s permission rule: may t signal the process tg? */
bool signal_may_send(const struct task *t, const struct thread_group *tg, int sig);
/* Take the first pending signal in mask for t (thread then process
 * queue) into *info; its number, or 0 when none. */
int signal_dequeue(struct task *t, abi_sigset_t mask, struct abi_siginfo *info);
/* Signals pending for t (thread and process). */
abi_sigset_t signal_pending_set(const struct task *t);
/* The disposition changed to ignore: drop sig from every pending queue of
 * the processes sharing t's sighand. */
void signal_flush_ignored(struct task *t, int sig);
/* A child's state changed: send its exit signal or SIGCHLD to the parent
 * process (CLD_* code, status as siginfo's si_status). */
void signal_notify_parent(struct thread_group *child, int code, int status);
/* Free queued siginfo. */
void sigpending_clear(struct sigpending *p);
/* Interrupt t's guest or sleep so it looks at its signals or exits. */
void task_kick(struct task *t);
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

/* execve(2) of a running task (execve.c): 0 with the task running the new
 * program, or -errno with nothing changed. */
int kernel_execve(struct task *t, const char *path, const char *const *argv,
                  const char *const *envp);
/* The registers a freshly exec'd program starts with. */
void kernel_exec_regs(struct task *t, const struct loader_result *lr);

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
