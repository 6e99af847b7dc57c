/*
 * poll, ppoll, select and pselect6 in one process: readiness of pipes
 * (data, room, hang-up, error), FIFOs before and after a writer, regular
 * files, /dev/null, eventfd; POLLNVAL, EBADF, EINVAL and EFAULT rules;
 * timeouts and their write-back; the wait's signal mask. Waits that another
 * process or thread ends: poll_fork.c.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static short revents(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    long r = e(poll(&p, 1, 0));
    return r < 0 ? (short)r : p.revents;
}

static void test_poll_pipe(void)
{
    int p[2];
    pipe(p);
    is_int(revents(p[0], POLLIN), 0, "empty read end: nothing");
    is_int(revents(p[1], POLLOUT), POLLOUT, "write end with room: POLLOUT");
    is_int(revents(p[1], POLLOUT | POLLWRNORM), POLLOUT | POLLWRNORM, "and POLLWRNORM");
    write(p[1], "x", 1);
    is_int(revents(p[0], POLLIN | POLLRDNORM), POLLIN | POLLRDNORM, "data: POLLIN|POLLRDNORM");
    is_int(revents(p[0], 0), 0, "events 0: nothing reported");
    close(p[1]);
    is_int(revents(p[0], POLLIN), POLLIN | POLLHUP, "writer gone with data: POLLIN|POLLHUP");
    is_int(revents(p[0], 0), POLLHUP, "POLLHUP even when not asked");
    char c;
    read(p[0], &c, 1);
    is_int(revents(p[0], POLLIN), POLLHUP, "writer gone, drained: POLLHUP");
    close(p[0]);

    pipe(p);
    close(p[0]);
    is_int(revents(p[1], POLLOUT), POLLOUT | POLLERR, "reader gone: POLLOUT|POLLERR");
    close(p[1]);

    pipe2(p, O_NONBLOCK);
    static char big[70000];
    write(p[1], big, sizeof(big));
    is_int(revents(p[1], POLLOUT), 0, "full pipe: no POLLOUT");
    close(p[0]);
    close(p[1]);
}

static void test_poll_rules(void)
{
    int p[2];
    pipe(p);
    write(p[1], "x", 1);
    struct pollfd fds[4] = {
        {.fd = p[0], .events = POLLIN},
        {.fd = -1, .events = POLLIN, .revents = 0x7f},
        {.fd = 999, .events = POLLIN},
        {.fd = p[1], .events = POLLOUT},
    };
    is_int(e(poll(fds, 4, 0)), 3, "poll counts the fds with events");
    is_int(fds[1].revents, 0, "a negative fd is skipped, revents cleared");
    is_int(fds[2].revents, POLLNVAL, "a closed fd is POLLNVAL");
    is_int(e(poll(NULL, 0, 0)), 0, "no fds, no wait");
    is_int(e(syscall(SYS_poll, (void *)8, 1, 0)), -EFAULT, "a bad array is EFAULT");
    struct rlimit old, rl;
    getrlimit(RLIMIT_NOFILE, &old);
    rl = old;
    rl.rlim_cur = 64;
    setrlimit(RLIMIT_NOFILE, &rl);
    static struct pollfd many[65];
    for (int i = 0; i < 65; i++)
        many[i].fd = -1;
    is_int(e(poll(many, 65, 0)), -EINVAL, "nfds above RLIMIT_NOFILE is EINVAL");
    is_int(e(poll(many, 64, 0)), 0, "nfds at the limit is fine");
    setrlimit(RLIMIT_NOFILE, &old);

    long t0 = now_ms();
    struct pollfd one = {.fd = p[1], .events = POLLIN};
    is_int(e(poll(&one, 1, 60)), 0, "a timeout with nothing ready is 0");
    long el = now_ms() - t0;
    ok(el >= 50 && el < 2000, "after the timeout (%ld ms)", el);

    int f = open("/proc/self/exe", O_RDONLY);
    is_int(revents(f, POLLIN | POLLOUT), POLLIN | POLLOUT, "a regular file is always ready");
    close(f);
    int n = open("/dev/null", O_RDWR);
    is_int(revents(n, POLLIN | POLLOUT), POLLIN | POLLOUT, "/dev/null is always ready");
    close(n);
    int ev = eventfd(0, 0);
    is_int(revents(ev, POLLIN | POLLOUT), POLLOUT, "eventfd at 0: writable only");
    close(ev);
    close(p[0]);
    close(p[1]);
}

static void test_fifo_hup(void)
{
    char dir[] = "/tmp/moat-poll-XXXXXX";
    if (!mkdtemp(dir)) {
        skip("no /tmp", "fifo poll");
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "%s/f", dir);
    mknod(path, S_IFIFO | 0600, 0);
    int r = open(path, O_RDONLY | O_NONBLOCK);
    is_int(revents(r, POLLIN), 0, "fifo reader before any writer: no POLLHUP");
    int w = open(path, O_WRONLY | O_NONBLOCK);
    write(w, "z", 1);
    is_int(revents(r, POLLIN), POLLIN, "with a writer and data: POLLIN");
    close(w);
    is_int(revents(r, POLLIN), POLLIN | POLLHUP, "after the writer left: POLLHUP");
    close(r);
    unlink(path);
    rmdir(dir);
}

static void test_ppoll(void)
{
    int p[2];
    pipe(p);
    struct pollfd fd = {.fd = p[1], .events = POLLOUT};
    struct timespec ts = {1, 0};
    is_int(e(syscall(SYS_ppoll, &fd, 1, &ts, NULL, 8)), 1, "ppoll ready at once");
    ok(ts.tv_sec == 0 && ts.tv_nsec > 500000000, "the time left is written back (%ld.%09ld)",
       (long)ts.tv_sec, ts.tv_nsec);
    struct timespec bad = {0, 1000000000};
    is_int(e(syscall(SYS_ppoll, &fd, 1, &bad, NULL, 8)), -EINVAL, "tv_nsec of 1e9 is EINVAL");
    struct timespec neg = {-1, 0};
    is_int(e(syscall(SYS_ppoll, &fd, 1, &neg, NULL, 8)), -EINVAL, "a negative timeout is EINVAL");
    sigset_t set;
    sigemptyset(&set);
    is_int(e(syscall(SYS_ppoll, &fd, 1, NULL, &set, 4)), -EINVAL, "sigsetsize 4 is EINVAL");
    is_int(e(syscall(SYS_ppoll, &fd, 1, NULL, &set, 8)), 1, "with a mask");
    struct timespec zero = {0, 0};
    fd.events = POLLIN;
    is_int(e(syscall(SYS_ppoll, &fd, 1, &zero, NULL, 8)), 0, "zero timeout: one look");
    close(p[0]);
    close(p[1]);
}

static void test_select(void)
{
    int p[2];
    pipe(p);
    fd_set r, w, x;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    FD_SET(p[0], &x);
    struct timeval tv = {0, 0};
    is_int(e(select(p[1] + 1, &r, &w, &x, &tv)), 1, "select: only the write end is ready");
    ok(!FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w) && !FD_ISSET(p[0], &x), "sets say which");
    write(p[1], "x", 1);
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    is_int(e(select(p[1] + 1, &r, &w, NULL, NULL)), 2, "both ready: 2");
    ok(FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w), "both set");

    FD_ZERO(&r);
    FD_SET(p[1], &r);
    tv = (struct timeval){0, 50000};
    long t0 = now_ms();
    is_int(e(syscall(SYS_select, p[1] + 1, &r, NULL, NULL, &tv)), 0, "a timeout is 0");
    ok(now_ms() - t0 >= 40, "after the timeout");
    ok(tv.tv_sec == 0 && tv.tv_usec == 0, "the timeval is updated to 0");
    ok(!FD_ISSET(p[1], &r), "the set is cleared");

    FD_ZERO(&w);
    FD_SET(p[1], &w);
    tv = (struct timeval){0, 2500000};
    is_int(e(syscall(SYS_select, p[1] + 1, NULL, &w, NULL, &tv)), 1,
           "tv_usec above a second is folded, not EINVAL");
    tv = (struct timeval){0, -1};
    is_int(e(syscall(SYS_select, p[1] + 1, NULL, &w, NULL, &tv)), -EINVAL,
           "a negative tv_usec is EINVAL");
    is_int(e(syscall(SYS_select, -1, NULL, NULL, NULL, NULL)), -EINVAL, "negative nfds is EINVAL");

    int closed = p[1] + 5;
    close(closed);
    FD_ZERO(&r);
    FD_SET(closed, &r);
    tv = (struct timeval){0, 0};
    is_int(e(select(closed + 1, &r, NULL, NULL, &tv)), -EBADF, "a closed fd in a set is EBADF");
    is_int(e(syscall(SYS_select, p[1] + 1, (void *)8, NULL, NULL, &tv)), -EFAULT,
           "a bad set is EFAULT");

    FD_ZERO(&w);
    FD_SET(p[1], &w);
    struct timespec ts = {0, 0};
    struct {
        const sigset_t *ss;
        size_t len;
    } sm = {NULL, 8};
    is_int(e(syscall(SYS_pselect6, p[1] + 1, NULL, &w, NULL, &ts, &sm)), 1, "pselect6");
    sigset_t set;
    sigemptyset(&set);
    sm.ss = &set;
    sm.len = 4;
    is_int(e(syscall(SYS_pselect6, p[1] + 1, NULL, &w, NULL, &ts, &sm)), -EINVAL,
           "pselect6 with a sigset size of 4 is EINVAL");
    close(p[0]);
    close(p[1]);
}

static volatile int got_usr1;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1++;
}

/* A signal blocked outside the wait but let through by its mask ends the
 * wait with EINTR, and its handler runs before the old mask is back. */
static void test_wait_mask(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, old, open;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    kill(getpid(), SIGUSR1);
    is_int(got_usr1, 0, "SIGUSR1 pending while blocked");
    sigemptyset(&open);
    int p[2];
    pipe(p);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    is_int(e(pselect(p[0] + 1, &r, NULL, NULL, NULL, &open)), -EINTR,
           "pselect with a mask that lets it through: EINTR");
    is_int(got_usr1, 1, "and the handler ran");
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    ok(sigismember(&now, SIGUSR1), "the old mask is back");

    kill(getpid(), SIGUSR1);
    struct pollfd fd = {.fd = p[0], .events = POLLIN};
    is_int(e(ppoll(&fd, 1, NULL, &open)), -EINTR, "ppoll likewise");
    is_int(got_usr1, 2, "handler ran");
    struct timespec ts = {0, 0};
    kill(getpid(), SIGUSR1);
    is_int(e(ppoll(&fd, 1, &ts, &block)), 0, "a mask that blocks it: no interruption");
    is_int(got_usr1, 2, "handler did not run");
    sigprocmask(SIG_SETMASK, &old, NULL);
    is_int(got_usr1, 3, "it runs once unblocked");
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    test_poll_pipe();
    test_poll_rules();
    test_fifo_hup();
    test_ppoll();
    test_select();
    test_wait_mask();
    done_testing();
}
