/* POSIX message queues: names and open flags, attributes and their
 * limits, permissions, priority order, non-blocking and timed calls,
 * signals interrupting a wait, poll readiness, mq_notify, unlink while
 * open, and processes blocking on each other.
 *
 * Natively (as root) the test first moves into an IPC namespace of its
 * own when it can, names every queue "/moat-test-<pid>-<x>" and unlinks
 * them all at exit, so no host state is left behind. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/syscalls/default_caps.h"
#include "tests/syscalls/signaller.h"
#include "tests/syscalls/tap.h"

static char names[24][64];
static int nnames;

static void cleanup(void)
{
    for (int i = 0; i < nnames; i++)
        mq_unlink(names[i]);
    nnames = 0;
}

/* A fresh queue name, remembered for removal at exit. */
static const char *qname(char x)
{
    char *n = names[nnames++];
    snprintf(n, sizeof(names[0]), "/moat-test-%d-%c", (int)getpid(), x);
    return n;
}

static struct timespec abs_after_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int child_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static long err_of(long r)
{
    return r < 0 ? -errno : r;
}

static mqd_t open_attr(const char *n, int flags, long maxmsg, long msgsize)
{
    struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
    return mq_open(n, flags | O_CREAT | O_EXCL, 0600, &a);
}

static void on_signal(int sig)
{
    (void)sig;
}

static void test_names_and_flags(bool normal)
{
    const char *n = qname('a');
    mqd_t q = mq_open(n, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
    ok(q >= 0, "mq_open O_CREAT|O_EXCL");
    struct mq_attr a;
    ok(mq_getattr(q, &a) == 0 && a.mq_maxmsg == 10 && a.mq_msgsize == 8192 && a.mq_curmsgs == 0 &&
           a.mq_flags == 0,
       "default attributes 10 x 8192");
    is_int(fcntl(q, F_GETFD), FD_CLOEXEC, "queue descriptors are close-on-exec");
    is_int(err_of(mq_open(n, O_CREAT | O_EXCL | O_RDWR, 0600, NULL)), -EEXIST, "O_EXCL: EEXIST");
    mqd_t q2 = mq_open(n, O_CREAT | O_RDONLY, 0600, NULL);
    ok(q2 >= 0 && q2 != q, "O_CREAT of an existing queue opens it");
    close(q2);
    is_int(err_of(mq_open(qname('z'), O_RDWR)), -ENOENT, "missing queue: ENOENT");
    nnames--;
    is_int(err_of(mq_open("noslash", O_RDWR | O_CREAT, 0600, NULL)), -EINVAL,
           "glibc: a name without '/': EINVAL");
    is_int(SC(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, NULL), -EACCES,
           "raw: '/' inside: EACCES");
    is_int(SC(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, NULL), -ENOENT, "raw: empty name: ENOENT");
    is_int(SC(SYS_mq_open, "..", O_RDWR | O_CREAT, 0600, NULL), -EACCES, "raw: '..': EACCES");
    char longname[300];
    memset(longname, 'x', sizeof(longname));
    longname[256] = '\0';
    is_int(SC(SYS_mq_open, longname, O_RDWR | O_CREAT, 0600, NULL), -ENAMETOOLONG,
           "raw: 256-byte name: ENAMETOOLONG");
    is_int(SC(SYS_mq_open, (void *)8, O_RDWR, 0, NULL), -EFAULT, "raw: bad name: EFAULT");
    is_int(SC(SYS_mq_open, n + 1, O_RDWR, 0, (void *)8), -EFAULT, "raw: bad attr: EFAULT");
    is_int(SC(SYS_mq_open, n + 1, O_ACCMODE, 0, NULL), -EINVAL, "existing, O_ACCMODE: EINVAL");

    struct stat st;
    ok(fstat(q, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 &&
           st.st_uid == geteuid(),
       "fstat: a regular file, mode 0600, ours");
    mode_t old = umask(022);
    const char *n2 = qname('u');
    mqd_t qu = mq_open(n2, O_CREAT | O_EXCL | O_RDWR, 0666, NULL);
    umask(old);
    ok(qu >= 0 && fstat(qu, &st) == 0 && (st.st_mode & 0777) == 0644, "umask applies to the mode");
    close(qu);

    /* attributes */
    is_int(err_of(open_attr(qname('b'), O_RDWR, 0, 16)), -EINVAL, "mq_maxmsg 0: EINVAL");
    is_int(err_of(open_attr(qname('c'), O_RDWR, 4, -1)), -EINVAL, "mq_msgsize -1: EINVAL");
    if (normal) {
        long max = 0;
        FILE *fp = fopen("/proc/sys/fs/mqueue/msg_max", "r");
        ok(fp && fscanf(fp, "%ld", &max) == 1 && max > 0, "/proc/sys/fs/mqueue/msg_max");
        if (fp)
            fclose(fp);
        is_int(err_of(open_attr(qname('d'), O_RDWR, max + 1, 16)), -EINVAL,
               "mq_maxmsg above msg_max without CAP_SYS_RESOURCE: EINVAL");
        is_int(err_of(open_attr(qname('e'), O_RDWR, 4, 8193)), -EINVAL,
               "mq_msgsize above msgsize_max: EINVAL");
    } else {
        skip("not root with the default capabilities", "msg_max limit");
        skip("not root with the default capabilities", "msg_max limit");
        skip("not root with the default capabilities", "msgsize_max limit");
    }
    mqd_t q3 = open_attr(qname('f'), O_RDWR, 3, 16);
    ok(q3 >= 0 && mq_getattr(q3, &a) == 0 && a.mq_maxmsg == 3 && a.mq_msgsize == 16,
       "attributes 3 x 16");

    /* access modes and the sizes */
    mqd_t ro = mq_open(names[nnames - 1], O_RDONLY), wo = mq_open(names[nnames - 1], O_WRONLY);
    ok(ro >= 0 && wo >= 0, "opened read-only and write-only");
    is_int(err_of(mq_send(ro, "x", 1, 0)), -EBADF, "send on a read-only descriptor: EBADF");
    char buf[64];
    is_int(err_of(mq_receive(wo, buf, sizeof(buf), NULL)), -EBADF,
           "receive on a write-only descriptor: EBADF");
    is_int(err_of(mq_send(1, "x", 1, 0)), -EBADF, "send on a non-queue fd: EBADF");
    is_int(err_of(mq_send(q3, buf, 17, 0)), -EMSGSIZE, "message above mq_msgsize: EMSGSIZE");
    is_int(err_of(mq_receive(q3, buf, 15, NULL)), -EMSGSIZE, "buffer below mq_msgsize: EMSGSIZE");
    is_int(err_of(mq_send(q3, "x", 1, 32768)), -EINVAL, "priority 32768: EINVAL");
    is_int(SC(SYS_mq_timedsend, q3, (void *)8, 4, 0, NULL), -EFAULT,
           "send from a bad buffer: EFAULT");
    ok(mq_send(q3, "lost", 4, 0) == 0, "send");
    is_int(SC(SYS_mq_timedreceive, q3, (void *)8, 64, NULL, NULL), -EFAULT,
           "receive into a bad buffer: EFAULT");
    ok(mq_getattr(q3, &a) == 0 && a.mq_curmsgs == 0, "the message is gone all the same");
    close(ro);
    close(wo);
    close(q3);
    close(q);
}

static void test_priorities(void)
{
    mqd_t q = open_attr(qname('p'), O_RDWR, 8, 32);
    struct {
        const char *text;
        unsigned prio;
    } in[] = {{"a1", 1}, {"b5", 5}, {"c1", 1}, {"d5", 5}, {"e0", 0}, {"f31", 31}, {"g5", 5}};
    int sent = 0;
    for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        sent += mq_send(q, in[i].text, strlen(in[i].text), in[i].prio) == 0;
    is_int(sent, 7, "seven messages sent");
    const char *want[] = {"f31", "b5", "d5", "g5", "a1", "c1", "e0"};
    unsigned want_prio[] = {31, 5, 5, 5, 1, 1, 0};
    int right = 0;
    for (int i = 0; i < 7; i++) {
        char buf[32];
        unsigned prio = 99;
        ssize_t n = mq_receive(q, buf, sizeof(buf), &prio);
        if (n == (ssize_t)strlen(want[i]) && memcmp(buf, want[i], (size_t)n) == 0 &&
            prio == want_prio[i])
            right++;
        else
            diag("message %d: got %zd bytes, prio %u", i, n, prio);
    }
    is_int(right, 7, "highest priority first, FIFO within one");
    ok(mq_send(q, "", 0, 0) == 0, "an empty message");
    char buf[32];
    is_int(mq_receive(q, buf, sizeof(buf), NULL), 0, "received with length 0");
    close(q);
}

static void test_nonblocking_and_poll(void)
{
    mqd_t q = open_attr(qname('n'), O_RDWR | O_NONBLOCK, 2, 16);
    struct mq_attr a;
    ok(mq_getattr(q, &a) == 0 && a.mq_flags == O_NONBLOCK, "mq_flags shows O_NONBLOCK");
    char buf[16];
    is_int(err_of(mq_receive(q, buf, sizeof(buf), NULL)), -EAGAIN, "empty, non-blocking: EAGAIN");
    struct pollfd p = {q, POLLIN | POLLOUT, 0};
    ok(poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "empty: POLLOUT only");
    ok(mq_send(q, "1", 1, 0) == 0 && mq_send(q, "2", 1, 0) == 0, "filled");
    p.revents = 0;
    ok(poll(&p, 1, 0) == 1 && p.revents == POLLIN, "full: POLLIN only");
    is_int(err_of(mq_send(q, "3", 1, 0)), -EAGAIN, "full, non-blocking: EAGAIN");
    struct mq_attr set = {.mq_flags = 0}, old;
    ok(mq_setattr(q, &set, &old) == 0 && old.mq_flags == O_NONBLOCK && old.mq_curmsgs == 2,
       "mq_setattr returns the old attributes");
    ok(mq_getattr(q, &a) == 0 && a.mq_flags == 0 && a.mq_maxmsg == 2, "O_NONBLOCK cleared");
    struct mq_attr bad = {.mq_flags = O_NONBLOCK | O_APPEND};
    is_int(SC(SYS_mq_getsetattr, q, &bad, NULL), -EINVAL, "other mq_flags: EINVAL");
    is_int(SC(SYS_mq_getsetattr, q, NULL, (void *)8), -EFAULT, "bad old attr: EFAULT");

    /* timeouts, on the full queue and then an empty one; t0 is taken
     * before each deadline is computed, so that a stall between the two
     * cannot make the full wait look short */
    struct timespec t0, ts;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts = abs_after_ms(100);
    is_int(err_of(mq_timedsend(q, "3", 1, 0, &ts)), -ETIMEDOUT, "timed send on a full queue");
    ok(elapsed_ms(&t0) >= 90, "after the timeout");
    struct timespec past = {1, 0};
    is_int(err_of(mq_timedsend(q, "3", 1, 0, &past)), -ETIMEDOUT, "a past deadline: ETIMEDOUT");
    struct timespec badts = {0, 1000000000};
    is_int(SC(SYS_mq_timedsend, q, "3", 1, 0, &badts), -EINVAL, "tv_nsec 1e9: EINVAL");
    is_int(SC(SYS_mq_timedreceive, q, buf, sizeof(buf), NULL, &badts), -EINVAL,
           "an invalid timeout is refused even with a message there");
    is_int(SC(SYS_mq_timedreceive, q, buf, sizeof(buf), NULL, (void *)8), -EFAULT,
           "bad timeout: EFAULT");
    mq_receive(q, buf, sizeof(buf), NULL);
    mq_receive(q, buf, sizeof(buf), NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts = abs_after_ms(100);
    is_int(err_of(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts)), -ETIMEDOUT,
           "timed receive on an empty queue");
    ok(elapsed_ms(&t0) >= 90, "after the timeout");

    /* A signal ends the wait: EINTR without SA_RESTART, a restart with it. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGALRM, &sa, NULL);
    /* Every 50 ms: one SIGALRM that a slow host lets come before the
     * receive starts would leave it to its timeout. */
    struct itimerval every = {{0, 50000}, {0, 50000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &every, NULL);
    ts = abs_after_ms(5000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    is_int(err_of(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts)), -EINTR,
           "a handler without SA_RESTART: EINTR");
    ok(elapsed_ms(&t0) < 4000, "well before the timeout");
    setitimer(ITIMER_REAL, &off, NULL);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts = abs_after_ms(300);
    is_int(err_of(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts)), -ETIMEDOUT,
           "with SA_RESTART the wait goes on to its deadline");
    ok(elapsed_ms(&t0) >= 280, "the whole timeout");
    signal(SIGALRM, SIG_DFL);

    /* the descriptor reads as the queue's status line */
    ok(mq_send(q, "hello", 5, 3) == 0, "send 5 bytes");
    char text[128] = {0};
    ssize_t n = read(q, text, sizeof(text) - 1);
    ok(n > 0 && strncmp(text, "QSIZE:5 ", 8) == 0 && strstr(text, "NOTIFY:0 ") != NULL,
       "read: QSIZE (bytes queued) and NOTIFY");
    close(q);
}

static volatile sig_atomic_t got_sig;
static siginfo_t got_info;

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_info = *si;
}

static int wait_info(int sig, long ms)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    return sigtimedwait(&set, &got_info, &ts);
}

static void test_notify(void)
{
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    /* A handler, though sigtimedwait takes the signals: in the sandbox
     * this process is init, which drops signals it has no handler for. */
    struct sigaction sa = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO};
    sigaction(SIGUSR1, &sa, NULL);

    mqd_t q = open_attr(qname('s'), O_RDWR, 4, 16);
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    ev.sigev_value.sival_int = 42;
    ok(mq_notify(q, &ev) == 0, "mq_notify SIGEV_SIGNAL");
    is_int(err_of(mq_notify(q, &ev)), -EBUSY, "a second registration: EBUSY");
    char text[128] = {0};
    ok(read(q, text, sizeof(text) - 1) > 0 && strstr(text, "NOTIFY:0 ") &&
           strstr(text, "SIGNO:10 "),
       "read shows the registration");
    ok(mq_send(q, "m", 1, 0) == 0, "send to the empty queue");
    ok(wait_info(SIGUSR1, 1000) == SIGUSR1, "SIGUSR1 arrived");
    ok(got_info.si_code == SI_MESGQ && got_info.si_value.sival_int == 42 &&
           got_info.si_pid == getpid() && got_info.si_uid == getuid(),
       "si_code SI_MESGQ, si_value, si_pid and si_uid of the sender");
    char buf[16];
    mq_receive(q, buf, sizeof(buf), NULL);
    mq_send(q, "m", 1, 0);
    is_int(wait_info(SIGUSR1, 0), -1, "one-shot: no second signal");
    ok(mq_notify(q, &ev) == 0, "registered again");
    mq_send(q, "m", 1, 0);
    is_int(wait_info(SIGUSR1, 0), -1, "no signal while the queue is not empty");
    ok(mq_notify(q, NULL) == 0 && mq_notify(q, &ev) == 0, "unregister, register");
    mq_notify(q, NULL);
    mq_receive(q, buf, sizeof(buf), NULL);
    mq_receive(q, buf, sizeof(buf), NULL);
    mq_send(q, "m", 1, 0);
    is_int(wait_info(SIGUSR1, 0), -1, "no signal after unregistering");
    mq_receive(q, buf, sizeof(buf), NULL);

    struct sigevent none = {.sigev_notify = SIGEV_NONE};
    ok(mq_notify(q, &none) == 0, "SIGEV_NONE");
    mq_send(q, "m", 1, 0);
    ok(mq_notify(q, &ev) == 0, "consumed by the arrival: registering again works");
    mq_notify(q, NULL);
    mq_receive(q, buf, sizeof(buf), NULL);

    struct sigevent bad = {.sigev_notify = 99};
    is_int(SC(SYS_mq_notify, q, &bad), -EINVAL, "unknown sigev_notify: EINVAL");
    bad = (struct sigevent){.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 65};
    is_int(SC(SYS_mq_notify, q, &bad), -EINVAL, "signal 65: EINVAL");
    is_int(SC(SYS_mq_notify, q, (void *)8), -EFAULT, "bad sigevent: EFAULT");
    is_int(SC(SYS_mq_notify, 1, NULL), -EBADF, "not a queue: EBADF");
    /* SIGEV_THREAD goes to the kernel with a netlink socket in
     * sigev_signo; other descriptors are refused. */
    char cookie[32] = {0};
    int pfd[2];
    ok(pipe(pfd) == 0, "pipe");
    struct sigevent th = {.sigev_notify = SIGEV_THREAD, .sigev_signo = pfd[0]};
    th.sigev_value.sival_ptr = cookie;
    is_int(SC(SYS_mq_notify, q, &th), -ENOTSOCK, "raw SIGEV_THREAD with a pipe: ENOTSOCK");
    int sv[2];
    ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    th.sigev_signo = sv[0];
    is_int(SC(SYS_mq_notify, q, &th), -EINVAL, "raw SIGEV_THREAD with a unix socket: EINVAL");
    th.sigev_signo = 999;
    is_int(SC(SYS_mq_notify, q, &th), -EBADF, "raw SIGEV_THREAD with no fd: EBADF");
    close(pfd[0]);
    close(pfd[1]);
    close(sv[0]);
    close(sv[1]);

    /* A sender in another process: si_pid is the child's. */
    ok(mq_notify(q, &ev) == 0, "registered for a child's send");
    pid_t pid = fork();
    if (pid == 0) {
        _exit(mq_send(q, "c", 1, 0) == 0 ? 0 : 1);
    }
    int w = wait_info(SIGUSR1, 5000);
    if (!ok(w == SIGUSR1 && got_info.si_pid == pid, "the signal names the child as sender"))
        diag("sigtimedwait %d, si_pid %d, child %d", w, (int)got_info.si_pid, (int)pid);
    is_int(child_status(pid), 0, "child sent");
    mq_receive(q, buf, sizeof(buf), NULL);

    /* With a handler, the signal interrupts nothing else and arrives. */
    got_sig = 0;
    ok(mq_notify(q, &ev) == 0, "registered");
    mq_send(q, "m", 1, 0);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    ok(got_sig == SIGUSR1 && got_info.si_code == SI_MESGQ, "delivered to a handler");
    signal(SIGUSR1, SIG_DFL);
    close(q);
}

static void test_processes(void)
{
    const char *n = qname('w');
    mqd_t q = open_attr(n, O_RDWR, 1, 16);
    pid_t pid = fork();
    if (pid == 0) {
        mqd_t c = mq_open(n, O_RDONLY);
        char buf[16];
        unsigned prio;
        ssize_t r = mq_receive(c, buf, sizeof(buf), &prio);
        _exit(r == 4 && memcmp(buf, "ping", 4) == 0 && prio == 7 ? 0 : 1);
    }
    pause_ms(100);
    ok(mq_send(q, "ping", 4, 7) == 0, "send to a blocked receiver");
    is_int(child_status(pid), 0, "the child received it");

    /* a sender blocked on a full queue, woken by a receive */
    ok(mq_send(q, "one", 3, 0) == 0, "queue full");
    pid = fork();
    if (pid == 0)
        _exit(mq_send(q, "two", 3, 0) == 0 ? 0 : 1);
    pause_ms(100);
    char buf[16];
    ok(mq_receive(q, buf, sizeof(buf), NULL) == 3 && memcmp(buf, "one", 3) == 0, "received one");
    is_int(child_status(pid), 0, "the blocked sender went on");
    ok(mq_receive(q, buf, sizeof(buf), NULL) == 3 && memcmp(buf, "two", 3) == 0,
       "and its message arrived");

    /* A blocked receiver interrupted by a signal from its parent. */
    struct sigaction sa = {.sa_handler = on_signal}, old_sa;
    sigaction(SIGUSR2, &sa, &old_sa);
    pid = fork();
    if (pid == 0) {
        long r = err_of(mq_receive(q, buf, sizeof(buf), NULL));
        _exit(r == -EINTR ? 0 : 1);
    }
    sigaction(SIGUSR2, &old_sa, NULL);
    int receiver = signal_until_exit(pid, SIGUSR2);
    ok(WIFEXITED(receiver) && WEXITSTATUS(receiver) == 0,
       "the child's receive ended with EINTR (%#x)", receiver);

    /* Permissions, checked by an unprivileged child. */
    const char *pn = qname('m');
    mqd_t pq = mq_open(pn, O_CREAT | O_EXCL | O_RDWR, 0644, NULL);
    ok(pq >= 0, "a queue with mode 0644");
    pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
            setresuid(65534, 65534, 65534) != 0)
            _exit(2);
        int bad = 0;
        mqd_t r = mq_open(pn, O_RDONLY);
        bad |= r < 0;
        bad |= (err_of(mq_open(pn, O_WRONLY)) != -EACCES) << 1;
        bad |= (err_of(mq_open(pn, O_RDWR)) != -EACCES) << 2;
        bad |= (SC(SYS_mq_unlink, pn + 1) != -EPERM) << 3;
        bad |= (err_of(mq_unlink(pn)) != -EACCES) << 4;
        _exit(bad ? 10 + bad : 0);
    }
    int st = child_status(pid);
    if (st == 2)
        skip("cannot drop to nobody", "permissions");
    else
        is_int(st, 0, "nobody: read allowed, write EACCES, unlink EPERM (glibc: EACCES)");
    close(pq);
    close(q);
}

static void test_unlink_while_open(void)
{
    const char *n = qname('x');
    mqd_t q = open_attr(n, O_RDWR, 4, 16);
    char link[64], target[256];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", (int)q);
    ssize_t len = readlink(link, target, sizeof(target) - 1);
    target[len > 0 ? len : 0] = '\0';
    ok(strcmp(target, n) == 0, "its /proc/self/fd link names the queue (%s)", target);
    ok(mq_send(q, "kept", 4, 0) == 0, "send");
    ok(mq_unlink(n) == 0, "mq_unlink");
    is_int(err_of(mq_unlink(n)), -ENOENT, "a second unlink: ENOENT");
    is_int(err_of(mq_open(n, O_RDWR)), -ENOENT, "the name is gone");
    char buf[16];
    ok(mq_receive(q, buf, sizeof(buf), NULL) == 4 && memcmp(buf, "kept", 4) == 0,
       "the open queue still works");
    mqd_t q2 = mq_open(n, O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
    ok(q2 >= 0, "a new queue under the old name");
    mq_send(q, "old", 3, 0);
    struct mq_attr a;
    ok(mq_getattr(q2, &a) == 0 && a.mq_curmsgs == 0 && a.mq_maxmsg == 10, "and a different one");
    close(q);
    close(q2);
}

/* RLIMIT_MSGQUEUE bounds what a user's queues may hold; queues_max the
 * number of queues (for callers without CAP_SYS_RESOURCE). */
static void test_limits(bool normal)
{
    const char *n1 = qname('1'), *n2 = qname('2'), *n3 = qname('3');
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {100000, 100000};
        if (setrlimit(RLIMIT_MSGQUEUE, &rl) != 0)
            _exit(2);
        int bad = 0;
        mqd_t a = mq_open(n1, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
        bad |= a < 0;
        bad |= (err_of(mq_open(n2, O_CREAT | O_EXCL | O_RDWR, 0600, NULL)) != -EMFILE) << 1;
        bad |= (open_attr(n3, O_RDWR, 4, 16) < 0) << 2;
        mq_unlink(n1);
        mq_unlink(n3);
        _exit(bad ? 10 + bad : 0);
    }
    is_int(child_status(pid), 0, "RLIMIT_MSGQUEUE 100000: one default queue, not two: EMFILE");
    if (!normal) {
        skip("not root with the default capabilities", "queues_max");
        return;
    }
    int made = 0;
    long err = 0;
    char n[64];
    for (int i = 0; i < 300; i++) {
        snprintf(n, sizeof(n), "/moat-test-%d-L%d", (int)getpid(), i);
        mqd_t q = open_attr(n, O_RDWR, 1, 1);
        if (q < 0) {
            err = -errno;
            break;
        }
        close(q);
        made++;
    }
    ok(err == -ENOSPC && made > 200 && made <= 256, "queues_max: ENOSPC after %d more queues",
       made);
    for (int i = 0; i < made; i++) {
        snprintf(n, sizeof(n), "/moat-test-%d-L%d", (int)getpid(), i);
        mq_unlink(n);
    }
}

int main(void)
{
    /* Natively, a namespace of our own keeps the host's queues out of
     * reach; in the sandbox the call may fail, which is fine. */
    unshare(CLONE_NEWIPC);
    bool normal = caps_normalize();
    atexit(cleanup);
    /* First, while this user has no other queue charged. */
    test_limits(normal);
    test_names_and_flags(normal);
    test_priorities();
    test_nonblocking_and_poll();
    test_notify();
    test_processes();
    test_unlink_while_open();
    cleanup();
    done_testing();
}
