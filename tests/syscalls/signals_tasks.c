/* Signals between processes: kill with siginfo, real-time queueing and
 * sigqueue values, sigtimedwait, sigsuspend, interrupted and restarted
 * blocking calls, process-group kill, and default actions seen by wait. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "signaller.h"
#include "tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static void test_sigqueue_rt(void)
{
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, &old);
    for (int i = 0; i < 3; i++) {
        union sigval v = {.sival_int = 100 + i};
        sigqueue(getpid(), SIGRTMIN, v);
    }
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    int got = 0, rt = 0, inorder = 1;
    siginfo_t si;
    struct timespec zero = {0, 0};
    for (;;) {
        int sig = sigtimedwait(&s, &si, &zero);
        if (sig < 0)
            break;
        if (sig == SIGRTMIN) {
            if (si.si_value.sival_int != 100 + rt || si.si_code != SI_QUEUE)
                inorder = 0;
            rt++;
            got++;
        } else if (sig == SIGUSR1) {
            got += 10;
        }
    }
    is_int(got, 13, "3 queued SIGRTMIN, one merged SIGUSR1");
    ok(inorder, "real-time signals in order with their values, SI_QUEUE");
    struct timespec short_wait = {0, 10000000};
    is_int(e(sigtimedwait(&s, &si, &short_wait)), -EAGAIN, "sigtimedwait timeout: EAGAIN");
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static volatile sig_atomic_t hits;
static volatile int last_pid;
static void on_usr(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    hits++;
    last_pid = si->si_pid;
}

static void test_between_processes(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_usr;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, &old);
    hits = 0;
    pid_t parent = getpid();
    pid_t p = fork();
    if (p == 0) {
        kill(parent, SIGUSR2);
        _exit(0);
    }
    sigset_t w = old;
    sigdelset(&w, SIGUSR2);
    while (!hits)
        sigsuspend(&w);
    sigprocmask(SIG_SETMASK, &old, NULL);
    is_int(last_pid, p, "a child's kill arrives with its pid in si_pid");
    int st;
    waitpid(p, &st, 0);

    /* The child waits in sigsuspend for our signal and reports it. */
    sigprocmask(SIG_BLOCK, &s, &old);
    p = fork();
    if (p == 0) {
        hits = 0;
        while (!hits)
            sigsuspend(&w);
        _exit(last_pid == parent ? 0 : 1);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    usleep(50000);
    kill(p, SIGUSR2);
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "our kill ended the child's sigsuspend");
    signal(SIGUSR2, SIG_DFL);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void test_interrupted_calls(void)
{
    /* A blocking pipe read: EINTR without SA_RESTART, restarted with it. */
    for (int restart = 0; restart < 2; restart++) {
        int pfd[2], ready[2];
        if (pipe(pfd) != 0 || pipe(ready) != 0) {
            ok(0, "pipe");
            continue;
        }
        pid_t p = fork();
        if (p == 0) {
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = on_alarm;
            sa.sa_flags = restart ? SA_RESTART : 0;
            sigaction(SIGUSR1, &sa, NULL);
            /* The handler is in place before the parent's kill. */
            (void)!write(ready[1], "r", 1);
            close(pfd[1]);
            char c;
            ssize_t n = read(pfd[0], &c, 1);
            if (restart)
                _exit(n == 1 && c == 'z' ? 0 : 1);
            _exit(n == -1 && errno == EINTR ? 0 : 2);
        }
        close(pfd[0]);
        char rc;
        (void)!read(ready[0], &rc, 1);
        close(ready[0]);
        close(ready[1]);
        usleep(100000);
        int st;
        if (restart) {
            /* A signal before the read only skips the restart path. */
            kill(p, SIGUSR1);
            usleep(50000);
            (void)!write(pfd[1], "z", 1);
            waitpid(p, &st, 0);
        } else {
            st = signal_until_exit(p, SIGUSR1);
        }
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pipe read with a handler %s: %s (%#x)",
           restart ? "and SA_RESTART" : "without SA_RESTART", restart ? "restarted" : "EINTR", st);
        close(pfd[1]);
    }

    /* nanosleep: EINTR with the time left, when a handler runs. */
    int ready[2];
    if (pipe(ready) != 0)
        ready[0] = ready[1] = -1;
    pid_t p = fork();
    if (p == 0) {
        signal(SIGUSR1, on_alarm);
        (void)!write(ready[1], "r", 1);
        struct timespec req = {5, 0}, rem = {0, 0};
        int r = nanosleep(&req, &rem);
        _exit(r == -1 && errno == EINTR && rem.tv_sec >= 3 && rem.tv_sec <= 5 ? 0 : 1);
    }
    char rc;
    (void)!read(ready[0], &rc, 1);
    close(ready[0]);
    close(ready[1]);
    usleep(200000);
    int st = signal_until_exit(p, SIGUSR1);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "nanosleep interrupted by a handler: EINTR, rem");

    /* A stop and continue in the middle of a sleep: it just goes on. */
    p = fork();
    if (p == 0) {
        struct timespec req = {0, 300000000};
        _exit(nanosleep(&req, NULL) == 0 ? 0 : 1);
    }
    usleep(50000);
    kill(p, SIGSTOP);
    waitpid(p, &st, WUNTRACED);
    kill(p, SIGCONT);
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "nanosleep survives stop and continue");
}

static void test_pgrp_kill(void)
{
    int pfd[2];
    ok(pipe(pfd) == 0, "pipe");
    pid_t a = fork();
    if (a == 0) {
        setpgid(0, 0);
        pid_t b = fork();
        if (b == 0) {
            for (;;)
                pause();
        }
        (void)!write(pfd[1], "r", 1);
        int st;
        waitpid(b, &st, 0);
        _exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? 0 : 1);
    }
    char c;
    (void)!read(pfd[0], &c, 1);
    setpgid(a, a);
    usleep(50000);
    /* The group is the child and its own child; the leader ignores. */
    is_int(e(kill(-a, SIGTERM)), 0, "kill(-pgid, SIGTERM)");
    int st;
    waitpid(a, &st, 0);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "the group leader died of it (%#x)", st);
    close(pfd[0]);
    close(pfd[1]);
}

static void test_sigpipe(void)
{
    pid_t p = fork();
    if (p == 0) {
        int pfd[2];
        if (pipe(pfd) != 0)
            _exit(3);
        close(pfd[0]);
        (void)!write(pfd[1], "x", 1);
        _exit(4);
    }
    int st;
    waitpid(p, &st, 0);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE, "writing to a pipe with no reader: SIGPIPE");
}

static void test_signalfd(void)
{
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &s, &old);
    int fd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
    ok(fd >= 0, "signalfd (%d)", fd);
    struct signalfd_siginfo si[4];
    is_int(e(read(fd, si, sizeof(si))), -EAGAIN, "nothing pending: EAGAIN");
    is_int(e(read(fd, si, 100)), -EINVAL, "a buffer under 128 bytes: EINVAL");
    union sigval v = {.sival_int = 77};
    sigqueue(getpid(), SIGRTMIN + 1, v);
    kill(getpid(), SIGUSR1);
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    is_int(poll(&pf, 1, 0), 1, "poll: readable with signals pending");
    long n = e(read(fd, si, sizeof(si)));
    is_int(n, 256, "both signals in one read");
    ok(n == 256 && si[0].ssi_signo == SIGUSR1 && (pid_t)si[0].ssi_pid == getpid() &&
           si[1].ssi_signo == (uint32_t)(SIGRTMIN + 1) && si[1].ssi_int == 77 &&
           si[1].ssi_code == SI_QUEUE,
       "signal numbers, sender pid, sigqueue value and code");

    /* A blocking read woken by a signal from a child. */
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    pid_t parent = getpid();
    pid_t p = fork();
    if (p == 0) {
        usleep(100000);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    n = e(read(fd, si, sizeof(si)));
    ok(n == 128 && si[0].ssi_signo == SIGUSR1 && (pid_t)si[0].ssi_pid == p,
       "a blocking read returns the child's SIGUSR1");
    int st;
    waitpid(p, &st, 0);
    close(fd);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* kill(2) of a real-time signal past RLIMIT_SIGPENDING still makes it
 * pending, but queues no more siginfo: a flood of kills stays within the
 * limit (and sigqueue is refused once it is reached). */
static void test_kill_rt_flood(void)
{
    pid_t p = fork();
    if (p == 0) {
        struct rlimit rl = {16, 16};
        if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
            _exit(10);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGRTMIN + 2);
        sigprocmask(SIG_BLOCK, &s, NULL);
        for (int i = 0; i < 1000; i++)
            kill(getpid(), SIGRTMIN + 2);
        union sigval v = {.sival_int = 1};
        if (sigqueue(getpid(), SIGRTMIN + 2, v) == 0 || errno != EAGAIN)
            _exit(11);
        struct timespec zero = {0, 0};
        siginfo_t si;
        int n = 0;
        while (sigtimedwait(&s, &si, &zero) == SIGRTMIN + 2)
            n++;
        _exit(n >= 1 && n <= 16 ? 0 : 12);
    }
    int st = 0;
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "1000 kills of a blocked real-time signal queue no more than RLIMIT_SIGPENDING (%#x)", st);
}

/* An epoll item on a signalfd hangs on the signal state of the process
 * that added it, which may exit while the epoll file lives on in another
 * process. Polling and removing the item then must be safe. */
static void test_signalfd_epoll_outlives_adder(void)
{
    int res[2], gate[2];
    if (pipe(res) != 0 || pipe(gate) != 0) {
        ok(0, "pipes");
        return;
    }
    pid_t c = fork();
    if (c == 0) {
        close(res[0]);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        int sfd = signalfd(-1, &s, SFD_NONBLOCK);
        int ep = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1};
        if (sfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) != 0)
            _exit(1);
        if (fork() == 0) {
            /* Wait for the parent to be gone: the gate's write end
             * closes with it. */
            close(gate[1]);
            char b;
            while (read(gate[0], &b, 1) > 0) {
            }
            struct epoll_event out;
            int n = epoll_wait(ep, &out, 1, 0);
            int d = epoll_ctl(ep, EPOLL_CTL_DEL, sfd, NULL);
            close(ep);
            close(sfd);
            char r = n == 0 && d == 0 ? 'k' : 'f';
            (void)!write(res[1], &r, 1);
            _exit(0);
        }
        _exit(0);
    }
    close(res[1]);
    close(gate[0]);
    close(gate[1]);
    int st;
    waitpid(c, &st, 0);
    char r = 0;
    ssize_t n = read(res[0], &r, 1);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && n == 1 && r == 'k',
       "an epoll item on a signalfd outlives the process that added it");
    close(res[0]);
}

/* /proc/self/stat's start time (field 22), or -1. */
static long long start_time(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    long long v = -1;
    /* Fields 3 to 22 follow the command's closing parenthesis. */
    for (int field = 3; field <= 22 && p; field++) {
        p = strchr(p + 1, ' ');
        if (p && field == 22)
            v = atoll(p + 1);
    }
    return v;
}

static sigjmp_buf segv_jump;
static volatile uintptr_t unmapped_addr = 16;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(segv_jump, 1);
}

/* A fault that a handler takes changes nothing about when the process
 * started. */
static void test_fault_keeps_start_time(void)
{
    pid_t p = fork();
    if (p == 0) {
        long long before = start_time();
        usleep(50000);
        signal(SIGSEGV, on_segv);
        if (sigsetjmp(segv_jump, 1) == 0)
            *(volatile int *)unmapped_addr = 1;
        long long after = start_time();
        _exit(before >= 0 && before == after ? 0 : 1);
    }
    int st;
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "a handled SIGSEGV keeps /proc/self/stat's start time");
}

/* sigtimedwait for a signal whose disposition is the default: a child's
 * kill arrives even when this process is the sandbox's init, which ignores
 * default actions but never a signal it waits for. */
static void test_sigtimedwait_default(void)
{
    signal(SIGUSR2, SIG_DFL);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, &old);
    pid_t parent = getpid();
    pid_t p = fork();
    if (p == 0) {
        usleep(100000);
        kill(parent, SIGUSR2);
        _exit(0);
    }
    struct timespec tmo = {10, 0};
    siginfo_t si;
    int sig = sigtimedwait(&s, &si, &tmo);
    ok(sig == SIGUSR2 && si.si_pid == p, "sigtimedwait takes a child's SIGUSR2 (%d)", sig);
    int st;
    waitpid(p, &st, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
    test_sigqueue_rt();
    test_between_processes();
    test_interrupted_calls();
    test_pgrp_kill();
    test_sigpipe();
    test_signalfd();
    test_sigtimedwait_default();
    test_kill_rt_flood();
    test_signalfd_epoll_outlives_adder();
    test_fault_keeps_start_time();
    done_testing();
}
