/*
 * timerfd: create flags and clocks, settime/gettime (relative, absolute,
 * periodic, the old value, disarming), read (the 8-byte expiry count, reset
 * by reading and by a new setting, EAGAIN, blocking, EINVAL for short
 * buffers, interrupted by a handler with and without SA_RESTART), poll
 * readiness, fstat and the /proc/self/fd link, and the argument checks.
 * Runs natively and in moat; single process.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>

#include "tap.h"

#define NSEC_PER_SEC 1000000000LL
#define MS           1000000LL

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, c, &ts);
    return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static long arm(int fd, int flags, int64_t value, int64_t interval, struct itimerspec *old)
{
    struct itimerspec s = {{interval / NSEC_PER_SEC, interval % NSEC_PER_SEC},
                           {value / NSEC_PER_SEC, value % NSEC_PER_SEC}};
    return SC(SYS_timerfd_settime, fd, flags, &s, old);
}

static void nap_ms(int ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * MS};
    while (nanosleep(&left, &left) != 0)
        ;
}

static void test_create(void)
{
    int fd = (int)SC(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    ok(fd >= 0, "timerfd_create MONOTONIC, CLOEXEC|NONBLOCK");
    is_int(fcntl(fd, F_GETFD), FD_CLOEXEC, "TFD_CLOEXEC sets FD_CLOEXEC");
    int fl = fcntl(fd, F_GETFL);
    is_int(fl & O_ACCMODE, O_RDWR, "opened read-write");
    ok(fl & O_NONBLOCK, "TFD_NONBLOCK sets O_NONBLOCK");
    struct stat st;
    is_int(fstat(fd, &st), 0, "fstat");
    is_int(st.st_mode & S_IFMT, 0, "no file type, as anon_inodefs files");
    is_int(st.st_mode & 07777, 0600, "mode 0600");
    char path[64], link[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    long n = readlink(path, link, sizeof(link) - 1);
    if (n >= 0) {
        link[n] = '\0';
        ok(strcmp(link, "anon_inode:[timerfd]") == 0, "/proc/self/fd link: %s", link);
    } else {
        skip("no /proc", "/proc/self/fd link");
    }
    struct itimerspec cur;
    memset(&cur, 0x55, sizeof(cur));
    is_int(SC(SYS_timerfd_gettime, fd, &cur), 0, "gettime of a new timerfd");
    is_int(ts_ns(&cur.it_value) + ts_ns(&cur.it_interval), 0, "disarmed");
    uint64_t count;
    is_int(read(fd, &count, sizeof(count)) == -1 ? -errno : 0, -EAGAIN,
           "read with nothing expired: EAGAIN");
    is_int(SC(SYS_write, fd, &count, sizeof(count)), -EINVAL, "write: EINVAL");
    is_int(SC(SYS_lseek, fd, 0, SEEK_SET), 0, "lseek moves nothing, answers 0");
    close(fd);

    fd = (int)SC(SYS_timerfd_create, CLOCK_REALTIME, 0);
    ok(fd >= 0, "timerfd_create REALTIME");
    is_int(fcntl(fd, F_GETFD), 0, "no FD_CLOEXEC without TFD_CLOEXEC");
    ok(!(fcntl(fd, F_GETFL) & O_NONBLOCK), "blocking without TFD_NONBLOCK");
    close(fd);
    fd = (int)SC(SYS_timerfd_create, CLOCK_BOOTTIME, 0);
    ok(fd >= 0, "timerfd_create BOOTTIME");
    close(fd);

    is_int(SC(SYS_timerfd_create, CLOCK_TAI, 0), -EINVAL, "CLOCK_TAI: EINVAL");
    is_int(SC(SYS_timerfd_create, CLOCK_PROCESS_CPUTIME_ID, 0), -EINVAL, "CPU clock: EINVAL");
    is_int(SC(SYS_timerfd_create, 100, 0), -EINVAL, "clock 100: EINVAL");
    is_int(SC(SYS_timerfd_create, CLOCK_MONOTONIC, 1), -EINVAL, "flags 1: EINVAL");
    is_int(SC(SYS_timerfd_create, CLOCK_MONOTONIC, O_RDWR), -EINVAL, "flags O_RDWR: EINVAL");
}

static void test_one_shot(void)
{
    int fd = (int)SC(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
    /* The checks before expiry look at a 10 s timer: a slow host could
     * let a short one fire before they run. */
    struct itimerspec old;
    memset(&old, 0x55, sizeof(old));
    is_int(arm(fd, 0, 10 * NSEC_PER_SEC, 0, &old), 0, "settime 10 s");
    is_int(ts_ns(&old.it_value) + ts_ns(&old.it_interval), 0, "old setting: disarmed");
    struct itimerspec cur;
    SC(SYS_timerfd_gettime, fd, &cur);
    ok(ts_ns(&cur.it_value) > 5 * NSEC_PER_SEC && ts_ns(&cur.it_value) <= 10 * NSEC_PER_SEC,
       "gettime: time left (%lld us)", (long long)(ts_ns(&cur.it_value) / 1000));
    struct pollfd p = {fd, POLLIN, 0};
    is_int(poll(&p, 1, 0), 0, "not readable before it expires");
    /* t0 before arming: a stall after it cannot make the wait look short. */
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    is_int(arm(fd, 0, 30 * MS, 0, NULL), 0, "settime 30 ms");
    uint64_t count = 0;
    is_int(read(fd, &count, sizeof(count)), 8, "a blocking read waits for the expiry");
    int64_t took = now_ns(CLOCK_MONOTONIC) - t0;
    ok(took >= 20 * MS && took < 5 * NSEC_PER_SEC, "after about 30 ms (%lld ms)",
       (long long)(took / MS));
    is_int((long)count, 1, "one expiry");
    SC(SYS_timerfd_gettime, fd, &cur);
    is_int(ts_ns(&cur.it_value), 0, "a fired one-shot reads 0");
    is_int(poll(&p, 1, 0), 0, "not readable once read");

    /* Short buffers are refused, and leave the count. */
    arm(fd, 0, 1 * MS, 0, NULL);
    p.revents = 0;
    is_int(poll(&p, 1, 5000), 1, "poll waits for the expiry");
    is_int(p.revents, POLLIN, "POLLIN");
    char small[4];
    is_int(SC(SYS_read, fd, small, sizeof(small)), -EINVAL, "read of 4 bytes: EINVAL");
    is_int(SC(SYS_read, fd, (void *)8, 8), -EFAULT, "read to a bad buffer: EFAULT");
    close(fd);
}

static void test_periodic(void)
{
    int fd = (int)SC(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    is_int(arm(fd, 0, 5 * MS, 5 * MS, NULL), 0, "periodic 5 ms");
    nap_ms(60);
    uint64_t count = 0;
    is_int(read(fd, &count, sizeof(count)), 8, "read");
    uint64_t most = (uint64_t)((now_ns(CLOCK_MONOTONIC) - t0) / (5 * MS));
    ok(count >= 8 && count <= most, "the count covers every period (%llu of at most %llu)",
       (unsigned long long)count, (unsigned long long)most);
    struct itimerspec cur;
    SC(SYS_timerfd_gettime, fd, &cur);
    is_int(ts_ns(&cur.it_interval), 5 * MS, "gettime: interval 5 ms");
    ok(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 5 * MS, "next expiry within a period");

    /* A new setting drops the count not yet read. */
    nap_ms(12);
    struct itimerspec old;
    is_int(arm(fd, 0, 10 * NSEC_PER_SEC, 0, &old), 0, "re-arm for 10 s");
    is_int(ts_ns(&old.it_interval), 5 * MS, "old interval");
    is_int(SC(SYS_read, fd, &count, sizeof(count)), -EAGAIN, "the pending count is gone");
    is_int(arm(fd, 0, 0, 0, &old), 0, "disarm");
    ok(ts_ns(&old.it_value) > 5 * NSEC_PER_SEC && ts_ns(&old.it_value) <= 10 * NSEC_PER_SEC,
       "old value: about 10 s left");
    SC(SYS_timerfd_gettime, fd, &cur);
    is_int(ts_ns(&cur.it_value), 0, "disarmed");
    is_int(arm(fd, 0, 0, 5 * MS, NULL), 0, "value 0 with an interval");
    SC(SYS_timerfd_gettime, fd, &cur);
    is_int(ts_ns(&cur.it_value), 0, "stays disarmed");
    is_int(ts_ns(&cur.it_interval), 5 * MS, "but gettime shows the interval given");
    close(fd);
}

static void test_absolute(void)
{
    int fd = (int)SC(SYS_timerfd_create, CLOCK_REALTIME, TFD_NONBLOCK);
    is_int(arm(fd, TFD_TIMER_ABSTIME, NSEC_PER_SEC, 0, NULL), 0, "absolute time long past");
    struct pollfd p = {fd, POLLIN, 0};
    is_int(poll(&p, 1, 2000), 1, "readable at once");
    uint64_t count = 0;
    is_int(read(fd, &count, sizeof(count)), 8, "read");
    is_int((long)count, 1, "one expiry");
    /* 10 s ahead for gettime, which a slow host could otherwise reach
     * after the expiry; then 20 ms ahead to see it fire. */
    int64_t at = now_ns(CLOCK_REALTIME) + 10 * NSEC_PER_SEC;
    is_int(arm(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, at, 0, NULL), 0,
           "absolute with CANCEL_ON_SET");
    struct itimerspec cur;
    SC(SYS_timerfd_gettime, fd, &cur);
    ok(ts_ns(&cur.it_value) > 5 * NSEC_PER_SEC && ts_ns(&cur.it_value) <= 10 * NSEC_PER_SEC,
       "gettime is relative even for an absolute setting");
    at = now_ns(CLOCK_REALTIME) + 20 * MS;
    arm(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, at, 0, NULL);
    is_int(poll(&p, 1, 5000), 1, "it fires");
    ok(now_ns(CLOCK_REALTIME) >= at, "not before the absolute time");
    close(fd);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void test_interrupted_read(void)
{
    int fd = (int)SC(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    arm(fd, 0, 10 * NSEC_PER_SEC, 0, NULL);
    /* Every 20 ms: one SIGALRM that a slow host lets come before the read
     * starts would leave it to the timerfd's 10 s. */
    struct itimerval every = {{0, 20000}, {0, 20000}}, off = {{0, 0}, {0, 0}};
    uint64_t count;
    alarms = 0;
    setitimer(ITIMER_REAL, &every, NULL);
    is_int(SC(SYS_read, fd, &count, sizeof(count)), -EINTR, "a handler interrupts read: EINTR");
    setitimer(ITIMER_REAL, &off, NULL);
    ok(alarms >= 1, "the handler ran");

    /* The alarm is armed first, so it is due before the timerfd however
     * late the host runs each step. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    alarms = 0;
    struct itimerval soon = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &soon, NULL);
    arm(fd, 0, 80 * MS, 0, NULL);
    count = 0;
    is_int(SC(SYS_read, fd, &count, sizeof(count)), 8, "with SA_RESTART the read goes on");
    is_int((long)count, 1, "and returns the expiry");
    /* Should the host have fired both timers at once, the alarm's signal
     * may come just after the read: wait for it before SIG_DFL. */
    for (int i = 0; i < 5000 && !alarms; i++)
        nap_ms(1);
    is_int(alarms, 1, "the handler ran");
    signal(SIGALRM, SIG_DFL);
    close(fd);
}

static void test_errors(void)
{
    int fd = (int)SC(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
    struct itimerspec zero = {{0, 0}, {0, 0}}, cur;
    struct itimerspec bad = {{0, 0}, {0, NSEC_PER_SEC}};
    struct itimerspec badi = {{0, -1}, {1, 0}};
    is_int(SC(SYS_timerfd_settime, fd, 4, &zero, NULL), -EINVAL, "settime flags 4: EINVAL");
    is_int(SC(SYS_timerfd_settime, fd, 0, &bad, NULL), -EINVAL, "settime nsec 1e9: EINVAL");
    is_int(SC(SYS_timerfd_settime, fd, 0, &badi, NULL), -EINVAL, "settime interval -1: EINVAL");
    is_int(SC(SYS_timerfd_settime, fd, 0, NULL, NULL), -EFAULT, "settime NULL value: EFAULT");
    is_int(SC(SYS_timerfd_settime, fd, 0, &zero, (void *)8), -EFAULT, "settime bad old: EFAULT");
    is_int(SC(SYS_timerfd_gettime, fd, (void *)8), -EFAULT, "gettime bad pointer: EFAULT");
    is_int(SC(SYS_timerfd_settime, 9999, 0, &zero, NULL), -EBADF, "settime bad fd: EBADF");
    is_int(SC(SYS_timerfd_gettime, 9999, &cur), -EBADF, "gettime bad fd: EBADF");
    int pfd[2];
    pipe(pfd);
    is_int(SC(SYS_timerfd_settime, pfd[0], 0, &zero, NULL), -EINVAL, "settime on a pipe: EINVAL");
    is_int(SC(SYS_timerfd_gettime, pfd[0], &cur), -EINVAL, "gettime on a pipe: EINVAL");
    close(pfd[0]);
    close(pfd[1]);
    close(fd);
}

int main(void)
{
    test_create();
    test_one_shot();
    test_periodic();
    test_absolute();
    test_interrupted_read();
    test_errors();
    done_testing();
}
