/* The Sentry's host-call allowlist (design property 4).
 *
 * Everything not listed kills the Sentry (and with it every stub). With
 * --debug a denied call raises SIGSYS instead, and the handler names the call
 * before exiting, so a missing entry is found in one run. docs/security.md
 * says why each entry is here; keep the two in step.
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "abi/syscall_table.h"
#include "sentry/boot/sentry.h"

#define SENTRY_THREAD_CLONE_FLAGS                                                                  \
    (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |            \
     CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

#define STUB_THREAD_CLONE_FLAGS                                                                    \
    (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FILES | CLONE_FS | CLONE_SYSVSEM)

/* Calls allowed with any arguments. */
static const int allow_any[] = {
    /* guest stdio and the debug log */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(lseek),
    SCMP_SYS(close),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    /* memory: the Sentry's heap, the memory file, and host calls injected into stubs */
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(ftruncate),
    /* files the Gofer donated: the guest's fsync and fdatasync on them */
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(fallocate),
    SCMP_SYS(mincore),
    /* driving stubs */
    SCMP_SYS(wait4),
    SCMP_SYS(kill),
    SCMP_SYS(tgkill),
    SCMP_SYS(pidfd_send_signal), /* systrap: only pidfds of its own stubs exist */
    SCMP_SYS(setsid),
    SCMP_SYS(close_range),
    SCMP_SYS(rseq),
    /* signals: forwarded host signals, and the stub's reset of its mask */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    /* time, randomness, scheduling: answers to the guest's own calls */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getrandom),
    SCMP_SYS(sched_yield),
    SCMP_SYS(getcpu),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(futex),
    /* waiting on host stdio pipes and terminals (sentry/fs/hostfd.c) */
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    /* Sentry threads: one per guest task, plus the signal forwarder
     * (sigwaitinfo) and the robust futex list glibc registers per thread. */
    SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
#if defined(__SANITIZE_ADDRESS__) || defined(MOAT_SANITIZERS)
    /* The sanitizer runtimes (test builds only) read their own state. */
    SCMP_SYS(prctl),
    SCMP_SYS(getrlimit),
    SCMP_SYS(prlimit64),
    SCMP_SYS(sched_getparam),
    SCMP_SYS(readlink),
    SCMP_SYS(open),
    SCMP_SYS(openat),
#endif
};

/* Calls allowed only when one argument has one exact value. */
static const struct {
    int nr;
    unsigned arg;
    scmp_datum_t value;
} allow_if[] = {
    /* The ptrace requests the platform uses; never ATTACH. A stub's initial
     * thread asks for its tracer with TRACEME; its later threads are taken
     * over by the Sentry thread that runs them with SEIZE and INTERRUPT (the
     * Sentry's pid namespace holds nothing else it could name), and let go
     * with DETACH at their exit stop. */
    {SCMP_SYS(ptrace), 0, PTRACE_TRACEME},
    {SCMP_SYS(ptrace), 0, PTRACE_SEIZE},
    {SCMP_SYS(ptrace), 0, PTRACE_INTERRUPT},
    {SCMP_SYS(ptrace), 0, PTRACE_DETACH},
    {SCMP_SYS(ptrace), 0, PTRACE_SYSEMU},
    {SCMP_SYS(ptrace), 0, PTRACE_CONT},
    {SCMP_SYS(ptrace), 0, PTRACE_GETREGS},
    {SCMP_SYS(ptrace), 0, PTRACE_SETREGS},
    {SCMP_SYS(ptrace), 0, PTRACE_GETFPREGS},
    {SCMP_SYS(ptrace), 0, PTRACE_SETFPREGS},
    {SCMP_SYS(ptrace), 0, PTRACE_GETSIGINFO},
    {SCMP_SYS(ptrace), 0, PTRACE_SETOPTIONS},
    {SCMP_SYS(ptrace), 0, PTRACE_SETSIGMASK},
    {SCMP_SYS(ptrace), 0, PTRACE_GETREGSET},
    {SCMP_SYS(ptrace), 0, PTRACE_SETREGSET},
    /* Terminal queries on the guest's stdio only, and how many bytes wait
     * on a stdin pipe or terminal (FIONREAD changes nothing). */
    {SCMP_SYS(ioctl), 1, TCGETS},
    {SCMP_SYS(ioctl), 1, TIOCGWINSZ},
    {SCMP_SYS(ioctl), 1, FIONREAD},
    /* New stubs: a plain fork-like clone, nothing shared, no namespaces. */
    {SCMP_SYS(clone), 0, SIGCHLD},
    /* New Sentry threads: exactly the flags glibc's pthread_create uses. */
    {SCMP_SYS(clone), 0, SENTRY_THREAD_CLONE_FLAGS},
    /* Host calls the ptrace platform injects into stubs, which inherit this
     * filter: a new stub thread for a guest thread, and making the stub
     * attachable by the Sentry thread that will trace it. */
    {SCMP_SYS(clone), 0, STUB_THREAD_CLONE_FLAGS},
    {SCMP_SYS(prctl), 0, PR_SET_DUMPABLE},
    /* The stub's death signal is all prctl may set. */
    {SCMP_SYS(prctl), 0, PR_SET_PDEATHSIG},
};

static void sigsys_report(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    const char *name = abi_syscall_name(si->si_syscall);
    char msg[160] = "moat: the sentry made a host call outside its seccomp allowlist: ";
    size_t n = strlen(msg);
    const char *s = name ? name : "(unknown)";
    while (*s && n < sizeof(msg) - 2)
        msg[n++] = *s++;
    msg[n++] = '\n';
    ssize_t w = write(2, msg, n);
    (void)w;
    _exit(125);
}

static int add(scmp_filter_ctx f, int nr, unsigned cnt, const struct scmp_arg_cmp *cmp)
{
    return seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, cnt, cmp);
}

int sentry_install_seccomp(bool debug, const int *gofer_fds, size_t ngofers, const char **why)
{
    if (debug) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = sigsys_report;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &sa, NULL);
    }
    scmp_filter_ctx f = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
    if (!f) {
        *why = "seccomp_init failed";
        return -ENOMEM;
    }
    int err = 0;
    for (size_t i = 0; !err && i < sizeof(allow_any) / sizeof(allow_any[0]); i++)
        err = add(f, allow_any[i], 0, NULL);
    for (size_t i = 0; !err && i < sizeof(allow_if) / sizeof(allow_if[0]); i++) {
        struct scmp_arg_cmp c = {allow_if[i].arg, SCMP_CMP_EQ, allow_if[i].value, 0};
        err = add(f, allow_if[i].nr, 1, &c);
    }
    /* Messages to the Gofers, and the fds they donate, on their sockets only. */
    for (size_t i = 0; !err && i < ngofers; i++) {
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)gofer_fds[i]);
        err = add(f, SCMP_SYS(sendmsg), 1, &c);
        if (!err)
            err = add(f, SCMP_SYS(recvmsg), 1, &c);
    }
    /* clone3's flags live in memory a filter cannot read: glibc falls back
     * to clone, whose flags it can. */
    if (!err)
        err = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (!err)
        err = seccomp_load(f);
    seccomp_release(f);
    if (err) {
        *why = "cannot install the seccomp filter";
        return err < 0 ? err : -EINVAL;
    }
    return 0;
}
