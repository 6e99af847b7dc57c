/* Processes: fork, vfork, clone3, execve, exit and wait statuses, zombies
 * and reparenting, process groups and sessions, pidfds, and memory across
 * fork (copy-on-write isolation, shared mappings staying shared). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static const char *self_path;

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static void test_exit_statuses(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(7);
    int st = 0;
    is_int(e(waitpid(p, &st, 0)), p, "waitpid returns the child's pid");
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 7, "exit status 7 (%#x)", st);

    p = fork();
    if (p == 0) {
        raise(SIGKILL);
        _exit(0);
    }
    waitpid(p, &st, 0);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && !WCOREDUMP(st), "killed by SIGKILL (%#x)", st);

    p = fork();
    if (p == 0) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
        _exit(0);
    }
    waitpid(p, &st, 0);
    /* The core bit depends on RLIMIT_CORE and core_pattern; not checked. */
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "SIGSEGV's default kills (%#x)", st);

    is_int(e(waitpid(-1, &st, WNOHANG)), -ECHILD, "no children left: ECHILD");
    is_int(e(waitpid(getpid(), &st, 0)), -ECHILD, "waiting for oneself: ECHILD");
}

static void test_wnohang_and_waitid(void)
{
    int pfd[2];
    ok(pipe(pfd) == 0, "pipe");
    pid_t p = fork();
    if (p == 0) {
        char c;
        close(pfd[1]);
        if (read(pfd[0], &c, 1) != 1)
            _exit(1);
        _exit(3);
    }
    close(pfd[0]);
    int st;
    is_int(e(waitpid(p, &st, WNOHANG)), 0, "WNOHANG with a running child: 0");
    siginfo_t si;
    memset(&si, 0xff, sizeof(si));
    is_int(e(waitid(P_PID, (id_t)p, &si, WEXITED | WNOHANG)), 0, "waitid WNOHANG: 0");
    is_int(si.si_pid, 0, "and si_pid 0");
    ok(write(pfd[1], "x", 1) == 1, "let the child go");
    close(pfd[1]);
    memset(&si, 0, sizeof(si));
    is_int(e(waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT)), 0, "waitid WNOWAIT");
    ok(si.si_pid == p && si.si_code == CLD_EXITED && si.si_status == 3 && si.si_signo == SIGCHLD,
       "siginfo: pid, CLD_EXITED, status 3");
    is_int(e(kill(p, 0)), 0, "kill(zombie, 0): it still exists");
    is_int(e(kill(p, SIGUSR1)), 0, "a signal to a zombie is accepted (and dropped)");
    is_int(getpgid(p), getpgrp(), "getpgid of a zombie");
    memset(&si, 0, sizeof(si));
    is_int(e(waitid(P_ALL, 0, &si, WEXITED)), 0, "the zombie is still there after WNOWAIT");
    is_int(si.si_pid, p, "same child");
    is_int(e(waitid(P_ALL, 0, &si, 0)), -EINVAL, "waitid without WEXITED etc: EINVAL");

    /* si_uid is the child's real uid, also once every thread has ended. */
    p = fork();
    if (p == 0)
        _exit(setuid(1234) == 0 ? 0 : 1);
    memset(&si, 0, sizeof(si));
    is_int(e(waitid(P_PID, (id_t)p, &si, WEXITED)), 0, "waitid of a child that set its uid");
    ok(si.si_status == 0 && si.si_uid == 1234, "si_uid is the child's uid (%u)", si.si_uid);
}

static void test_stop_continue(void)
{
    pid_t p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    int st;
    ok(kill(p, SIGSTOP) == 0, "SIGSTOP the child");
    is_int(e(waitpid(p, &st, WUNTRACED)), p, "WUNTRACED reports the stop");
    ok(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "stopped by SIGSTOP (%#x)", st);
    ok(kill(p, SIGCONT) == 0, "SIGCONT");
    is_int(e(waitpid(p, &st, WCONTINUED)), p, "WCONTINUED reports the continue");
    ok(WIFCONTINUED(st), "continued (%#x)", st);
    kill(p, SIGTERM);
    waitpid(p, &st, 0);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "then SIGTERM ends it");
}

static volatile sig_atomic_t got_chld;
static volatile int chld_code, chld_status, chld_pid;
static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    got_chld++;
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_pid = si->si_pid;
}

static void test_sigchld(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    got_chld = 0;
    pid_t p = fork();
    if (p == 0)
        _exit(5);
    sigset_t wait_set = old;
    sigdelset(&wait_set, SIGCHLD);
    while (!got_chld)
        sigsuspend(&wait_set);
    sigprocmask(SIG_SETMASK, &old, NULL);
    ok(chld_pid == p && chld_code == CLD_EXITED && chld_status == 5,
       "SIGCHLD with CLD_EXITED, pid and status (%d %d %d)", chld_pid, chld_code, chld_status);
    int st;
    waitpid(p, &st, 0);
    signal(SIGCHLD, SIG_DFL);

    /* SIGCHLD ignored: children are reaped at once, wait finds none. */
    signal(SIGCHLD, SIG_IGN);
    p = fork();
    if (p == 0)
        _exit(0);
    is_int(e(waitpid(p, &st, 0)), -ECHILD, "SIGCHLD ignored: no zombie to wait for");
    signal(SIGCHLD, SIG_DFL);
}

static void test_cow(void)
{
    char *priv = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    strcpy(priv, "before");
    *shared = 1;
    static int data_var = 10;
    int pfd[2];
    ok(pipe(pfd) == 0, "pipe");
    pid_t p = fork();
    if (p == 0) {
        char c;
        /* The parent writes first; the child must still see "before". */
        if (read(pfd[0], &c, 1) != 1)
            _exit(10);
        int bad = strcmp(priv, "before") != 0 || data_var != 10;
        strcpy(priv, "child");
        data_var = 30;
        *shared = 3;
        _exit(bad ? 11 : 0);
    }
    strcpy(priv, "parent");
    data_var = 20;
    ok(write(pfd[1], "x", 1) == 1, "parent wrote, child may look");
    int st;
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child saw the pre-fork contents (%#x)", st);
    ok(strcmp(priv, "parent") == 0 && data_var == 20, "the child's writes stay in the child");
    is_int(*shared, 3, "MAP_SHARED|MAP_ANONYMOUS stays shared across fork");
    close(pfd[0]);
    close(pfd[1]);
    munmap(priv, 8192);
    munmap(shared, 4096);

    /* A read(2) by the child into copy-on-write memory must not reach
     * the parent's copy. */
    char *buf = malloc(64);
    strcpy(buf, "parent-buf");
    ok(pipe(pfd) == 0, "pipe");
    p = fork();
    if (p == 0) {
        close(pfd[1]);
        ssize_t n = read(pfd[0], buf, 10);
        _exit(n == 10 && memcmp(buf, "child-data", 10) == 0 ? 0 : 1);
    }
    close(pfd[0]);
    ok(write(pfd[1], "child-data", 10) == 10, "feed the child");
    close(pfd[1]);
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's read landed in its copy");
    ok(strcmp(buf, "parent-buf") == 0, "and not in the parent's (%s)", buf);
    free(buf);
}

static void test_vfork(void)
{
    static volatile int flag;
    flag = 0;
    pid_t p = vfork();
    if (p == 0) {
        /* The parent is suspended until we exit: it sees our write. */
        flag = 1;
        _exit(9);
    }
    is_int(flag, 1, "vfork: the parent ran after the child's exit, sharing memory");
    int st;
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 9, "vfork child's status");
}

static void test_exec(void)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    int keep = dup(fd);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    char fdarg[16], keeparg[16];
    snprintf(fdarg, sizeof(fdarg), "%d", fd);
    snprintf(keeparg, sizeof(keeparg), "%d", keep);
    signal(SIGUSR1, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_chld; /* any handler */
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    pid_t p = fork();
    if (p == 0) {
        char *argv[] = {(char *)self_path, "exec-child", fdarg, keeparg, NULL};
        char *envp[] = {"MOAT_TEST_ENV=yes", NULL};
        execve(self_path, argv, envp);
        _exit(99);
    }
    int st;
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "exec'd child: argv and env passed, cloexec closed, dispositions reset (%#x)", st);
    close(fd);
    close(keep);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);

    p = fork();
    if (p == 0) {
        char *argv[] = {"nope", NULL};
        execve("/nonexistent/prog", argv, NULL);
        _exit(errno == ENOENT ? 0 : 1);
    }
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "execve of a missing file: ENOENT, caller goes on");

    /* A file that fails only once loading has begun (an ELF header with
     * nothing valid behind it): the caller keeps its memory and goes on. */
    char dir[] = "/tmp/moat-proc-XXXXXX";
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp");
        return;
    }
    char bad[64];
    snprintf(bad, sizeof(bad), "%s/bad", dir);
    int bfd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    static const unsigned char junk[128] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, [16] = 2, [18] = 62};
    ok(bfd >= 0 && write(bfd, junk, sizeof(junk)) == (ssize_t)sizeof(junk), "a broken ELF file");
    close(bfd);
    p = fork();
    if (p == 0) {
        static volatile int canary = 1234;
        char *argv[] = {bad, NULL};
        execve(bad, argv, NULL);
        int e1 = errno;
        _exit(e1 == ENOEXEC && canary == 1234 ? 0 : 1);
    }
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a broken ELF: ENOEXEC, the caller's memory intact");
    unlink(bad);
    rmdir(dir);
}

/* The program run by test_exec. */
static int exec_child(char **argv)
{
    int fd = atoi(argv[2]), keep = atoi(argv[3]);
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
        return 2; /* close-on-exec fd survived */
    if (fcntl(keep, F_GETFD) == -1)
        return 3; /* a plain fd was closed */
    const char *env = getenv("MOAT_TEST_ENV");
    if (!env || strcmp(env, "yes") != 0)
        return 4;
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    if (sa.sa_handler != SIG_IGN)
        return 5; /* ignored stays ignored */
    sigaction(SIGUSR2, NULL, &sa);
    if (sa.sa_handler != SIG_DFL)
        return 6; /* a handler is reset */
    return 0;
}

static void test_orphans_and_subreaper(void)
{
    /* Become a subreaper: the grandchild is reparented to us. */
    is_int(e(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)), 0, "PR_SET_CHILD_SUBREAPER");
    int pfd[2];
    ok(pipe(pfd) == 0, "pipe");
    pid_t me = getpid();
    pid_t p = fork();
    if (p == 0) {
        pid_t g = fork();
        if (g == 0) {
            char c;
            close(pfd[1]);
            if (read(pfd[0], &c, 1) != 1)
                _exit(1);
            /* Our parent is gone: the subreaper (the test) adopted us. */
            _exit(getppid() == me ? 0 : 2);
        }
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    char c = 'x';
    ok(write(pfd[1], &c, 1) == 1, "wake the orphan");
    close(pfd[0]);
    close(pfd[1]);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    is_int(e(waitid(P_ALL, 0, &si, WEXITED)), 0, "the orphaned grandchild is ours to wait for");
    ok(si.si_pid > 0 && si.si_pid != p, "a different pid than the child (%d)", si.si_pid);
    is_int(si.si_status, 0, "and getppid() named the subreaper");
    int v = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
    is_int(v, 1, "PR_GET_CHILD_SUBREAPER");
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

static void test_pgrp_session(void)
{
    pid_t me = getpid();
    is_int(getpgid(0), getpgrp(), "getpgid(0) == getpgrp()");
    pid_t p = fork();
    if (p == 0) {
        if (getpgrp() != getpgid(getppid()))
            _exit(1); /* a child starts in its parent's group */
        if (setsid() != getpid())
            _exit(2);
        if (getsid(0) != getpid() || getpgrp() != getpid())
            _exit(3);
        if (setsid() != -1 || errno != EPERM)
            _exit(4); /* a group leader cannot make a new session */
        if (setpgid(0, getppid()) != -1 || errno != EPERM)
            _exit(5); /* a session leader keeps its group */
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "setsid rules in a child (%#x)", st);

    int pfd[2];
    ok(pipe(pfd) == 0, "pipe");
    p = fork();
    if (p == 0) {
        char c;
        close(pfd[1]);
        if (read(pfd[0], &c, 1) != 1)
            _exit(1);
        _exit(getpgrp() == getpid() ? 0 : 2);
    }
    close(pfd[0]);
    is_int(e(setpgid(p, p)), 0, "setpgid(child, child): its own group");
    is_int(getpgid(p), p, "getpgid(child)");
    is_int(e(setpgid(p, 424242)), -EPERM, "setpgid into a group that does not exist: EPERM");
    is_int(e(setpgid(1 + 424242, 0)), -ESRCH, "setpgid of a stranger: ESRCH");
    is_int(e(kill(-p, 0)), 0, "kill(-pgrp, 0) finds the group");
    ok(write(pfd[1], "x", 1) == 1, "release the child");
    close(pfd[1]);
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child was leading its group");
    is_int(e(kill(-p, 0)), -ESRCH, "the group is gone with it");
    is_int(e(getpgid(424243)), -ESRCH, "getpgid of no process: ESRCH");
    (void)me;
}

/* A zombie whose parent dies goes to the subreaper like any orphan; a
 * subreaper that ignores SIGCHLD keeps no zombies, so it is reaped there at
 * once and wait ends with ECHILD rather than finding it. */
static void test_zombie_to_autoreaping_subreaper(void)
{
    pid_t s = fork();
    if (s == 0) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
            _exit(10);
        signal(SIGCHLD, SIG_IGN);
        pid_t a = fork();
        if (a == 0) {
            signal(SIGCHLD, SIG_DFL); /* keep b's zombie */
            pid_t b = fork();
            if (b == 0)
                _exit(0);
            siginfo_t si;
            /* b is a zombie (not reaped: WNOWAIT) when we exit. */
            if (waitid(P_PID, (id_t)b, &si, WEXITED | WNOWAIT) != 0)
                _exit(1);
            _exit(0);
        }
        int st;
        pid_t r = waitpid(-1, &st, 0);
        _exit(r == -1 && errno == ECHILD ? 0 : 11);
    }
    int st;
    waitpid(s, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "a zombie adopted by a subreaper ignoring SIGCHLD is reaped at once (%#x)", st);
}

static void test_pidfd(void)
{
    int pfd[2];
    ok(pipe(pfd) == 0, "pipe");
    pid_t p = fork();
    if (p == 0) {
        char c;
        close(pfd[1]);
        ssize_t n = read(pfd[0], &c, 1);
        _exit(n == 1 ? 4 : 5);
    }
    close(pfd[0]);
    int fd = (int)e(syscall(SYS_pidfd_open, p, 0));
    ok(fd >= 0, "pidfd_open (%d)", fd);
    ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "pidfds are close-on-exec");
    {
        char b[8];
        struct iovec v = {b, sizeof(b)};
        is_int(e(readv(fd, &v, 1)), -EINVAL, "readv of a pidfd: EINVAL");
        is_int(e(writev(fd, &v, 1)), -EINVAL, "writev of a pidfd: EINVAL");
    }
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    is_int(poll(&pf, 1, 0), 0, "a running process's pidfd is not readable");
    ok(write(pfd[1], "x", 1) == 1, "let it exit");
    close(pfd[1]);
    is_int(poll(&pf, 1, 5000), 1, "readable once it exited");
    is_int(e(syscall(SYS_pidfd_send_signal, fd, SIGUSR1, NULL, 0)), 0,
           "pidfd_send_signal to the zombie: accepted");
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    is_int(e(waitid(P_PIDFD, (id_t)fd, &si, WEXITED)), 0, "waitid(P_PIDFD)");
    ok(si.si_pid == p && si.si_status == 4, "for that child, status 4");
    is_int(e(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0)), -ESRCH,
           "pidfd_send_signal to a reaped process: ESRCH");
    close(fd);
    is_int(e(syscall(SYS_pidfd_open, 0, 0)), -EINVAL, "pidfd_open(0): EINVAL");

    /* A zombie still has its pid: pidfd_open works, and the pidfd reads
     * as exited. */
    p = fork();
    if (p == 0)
        _exit(6);
    siginfo_t zsi;
    waitid(P_PID, (id_t)p, &zsi, WEXITED | WNOWAIT);
    fd = (int)e(syscall(SYS_pidfd_open, p, 0));
    ok(fd >= 0, "pidfd_open of a zombie (%d)", fd);
    if (fd >= 0) {
        struct pollfd zpf = {.fd = fd, .events = POLLIN};
        is_int(poll(&zpf, 1, 0), 1, "its pidfd is readable");
        memset(&si, 0, sizeof(si));
        is_int(e(waitid(P_PIDFD, (id_t)fd, &si, WEXITED)), 0, "waitid(P_PIDFD) reaps it");
        ok(si.si_pid == p && si.si_status == 6, "status 6");
        close(fd);
    } else {
        waitpid(p, NULL, 0);
    }

    p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    fd = (int)syscall(SYS_pidfd_open, p, 0);
    is_int(e(syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0)), 0, "pidfd_send_signal");
    int st;
    waitpid(p, &st, 0);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "it killed the child");
    close(fd);
}

struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static void test_clone3(void)
{
    int pidfd = -1;
    struct clone_args_v0 ca;
    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
    ca.exit_signal = SIGCHLD;
    long p = syscall(SYS_clone3, &ca, sizeof(ca));
    if (p == 0)
        _exit(6);
    ok(p > 0, "clone3 with CLONE_PIDFD (%ld)", p);
    ok(pidfd >= 0, "and a pidfd (%d)", pidfd);
    int st;
    waitpid((pid_t)p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 6, "clone3 child's status");
    close(pidfd);
    memset(&ca, 0, sizeof(ca));
    ca.flags = CLONE_THREAD;
    is_int(e(syscall(SYS_clone3, &ca, sizeof(ca))), -EINVAL,
           "CLONE_THREAD without SIGHAND: EINVAL");
    is_int(e(syscall(SYS_clone3, &ca, 8)), -EINVAL, "a too small clone_args: EINVAL");
}

static void test_many(void)
{
    /* Many short processes: pids are reused and nothing is left behind. */
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        pid_t p = fork();
        if (p == 0)
            _exit(i & 0x7f);
        int st;
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != (i & 0x7f))
            bad++;
    }
    is_int(bad, 0, "200 fork/wait rounds");
}

/* exec releases the robust mutexes the caller holds, as its exit would:
 * the next locker learns the owner died. */
static void test_robust_exec(void)
{
    pthread_mutex_t *m =
        mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(m, &a);
    pid_t p = fork();
    if (p == 0) {
        pthread_mutex_lock(m);
        execl("/bin/true", "true", (char *)NULL);
        _exit(9);
    }
    int st;
    waitpid(p, &st, 0);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    is_int(pthread_mutex_timedlock(m, &dl), EOWNERDEAD,
           "a robust mutex held across exec: EOWNERDEAD for the next locker");
    pthread_mutex_consistent(m);
    pthread_mutex_unlock(m);
    munmap(m, sizeof(*m));
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
        return exec_child(argv);
    /* The test execs itself: it needs its own absolute path. */
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        self_path = exe;
    }
    test_exit_statuses();
    test_wnohang_and_waitid();
    test_stop_continue();
    test_sigchld();
    test_cow();
    test_vfork();
    test_exec();
    test_orphans_and_subreaper();
    test_zombie_to_autoreaping_subreaper();
    test_pgrp_session();
    test_pidfd();
    test_clone3();
    test_many();
    test_robust_exec();
    done_testing();
}
