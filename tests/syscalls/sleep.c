/*
 * Interrupted sleeps: nanosleep and clock_nanosleep cut short by a signal
 * handler return EINTR with the time left in rem (SA_RESTART or not: a
 * sleep never restarts after a handler), an absolute sleep leaves rem
 * alone, a blocked or ignored signal does not interrupt, an unwritable rem
 * turns EINTR into EFAULT; sleeps on CPU clocks. Single process; the
 * restart through restart_syscall after a stop is in sleep_fork.c.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "tap.h"

#define NSEC_PER_SEC 1000000000LL
#define MS           1000000LL

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void handle_alarm(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

static void alarm_in_ms(int ms)
{
    struct itimerval v = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &v, NULL);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static void test_interrupted(int flags, const char *how)
{
    handle_alarm(flags);
    struct timespec req = {2, 0}, rem = {77, 77};
    alarms = 0;
    alarm_in_ms(50);
    int64_t t0 = now_ns();
    is_int(SC(SYS_nanosleep, &req, &rem), -EINTR, "%s: nanosleep interrupted: EINTR", how);
    int64_t took = now_ns() - t0;
    is_int(alarms, 1, "%s: the handler ran", how);
    ok(took >= 40 * MS && took < NSEC_PER_SEC, "%s: returned early (%lld ms)", how,
       (long long)(took / MS));
    /* The alarm counts from its arming, not from the sleep's start, and a
     * loaded host may let milliseconds pass in between: rem is only known
     * to be short of the request, and to add up with the time taken. */
    int64_t left = ts_ns(&rem);
    ok(left > NSEC_PER_SEC && left < 2 * NSEC_PER_SEC, "%s: rem holds the time left (%lld ms)", how,
       (long long)(left / MS));
    ok(left + took >= 2 * NSEC_PER_SEC - 20 * MS && left + took <= 3 * NSEC_PER_SEC,
       "%s: slept + rem adds up to the request", how);

    rem = (struct timespec){77, 77};
    alarm_in_ms(30);
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem), -EINTR,
           "%s: clock_nanosleep relative: EINTR", how);
    ok(ts_ns(&rem) > NSEC_PER_SEC && ts_ns(&rem) < 2 * NSEC_PER_SEC, "%s: with rem", how);

    rem = (struct timespec){77, 77};
    alarm_in_ms(30);
    is_int(SC(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &req, &rem), -EINTR,
           "%s: clock_nanosleep REALTIME relative: EINTR", how);
    ok(ts_ns(&rem) > NSEC_PER_SEC && ts_ns(&rem) < 2 * NSEC_PER_SEC, "%s: with rem", how);

    struct timespec abs;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 2;
    rem = (struct timespec){77, 77};
    alarm_in_ms(30);
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, &rem), -EINTR,
           "%s: clock_nanosleep TIMER_ABSTIME: EINTR", how);
    ok(rem.tv_sec == 77 && rem.tv_nsec == 77, "%s: rem untouched by an absolute sleep", how);

    alarm_in_ms(30);
    is_int(SC(SYS_nanosleep, &req, NULL), -EINTR, "%s: without rem: EINTR", how);
}

/* Whether sig became pending within limit_ms. */
static bool wait_pending(int sig, int limit_ms)
{
    int64_t end = now_ns() + limit_ms * MS;
    sigset_t p;
    do {
        sigpending(&p);
        if (sigismember(&p, sig))
            return true;
        struct timespec nap = {0, MS};
        nanosleep(&nap, NULL);
    } while (now_ns() < end);
    return false;
}

static void test_not_interrupted(void)
{
    handle_alarm(0);
    sigset_t m, old;
    sigemptyset(&m);
    sigaddset(&m, SIGALRM);
    sigprocmask(SIG_BLOCK, &m, &old);
    alarms = 0;
    alarm_in_ms(10);
    struct timespec req = {0, 80 * MS};
    int64_t t0 = now_ns();
    is_int(SC(SYS_nanosleep, &req, NULL), 0, "a blocked signal does not interrupt");
    ok(now_ns() - t0 >= 80 * MS, "the whole time was slept");
    is_int(alarms, 0, "no handler yet");
    /* A loaded host may fire the 10 ms alarm later than the 80 ms sleep
     * ends: the unblocking below needs it pending. */
    ok(wait_pending(SIGALRM, 5000), "the alarm is pending");
    sigprocmask(SIG_SETMASK, &old, NULL);
    is_int(alarms, 1, "the handler runs once unblocked");

    signal(SIGALRM, SIG_IGN);
    alarm_in_ms(10);
    t0 = now_ns();
    is_int(SC(SYS_nanosleep, &req, NULL), 0, "an ignored signal does not interrupt");
    ok(now_ns() - t0 >= 80 * MS, "the whole time was slept");
    signal(SIGALRM, SIG_DFL);
}

static void test_bad_rem(void)
{
    handle_alarm(0);
    struct timespec req = {2, 0};
    alarm_in_ms(30);
    is_int(SC(SYS_nanosleep, &req, (void *)8), -EFAULT,
           "interrupted with an unwritable rem: EFAULT");
    alarm_in_ms(30);
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &(struct timespec){1L << 40, 0},
              (void *)8),
           -EINTR, "an absolute sleep never writes rem: EINTR");
    signal(SIGALRM, SIG_DFL);
}

static void test_cpu_clocks(void)
{
    is_int(SC(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME,
              &(struct timespec){0, 0}, NULL),
           0, "process CPU clock, absolute time passed: at once");
    is_int(SC(SYS_clock_nanosleep, (clockid_t)-6, TIMER_ABSTIME, &(struct timespec){0, 1}, NULL), 0,
           "the pid-encoded process CPU clock (glibc's) sleeps too");
    is_int(SC(SYS_clock_nanosleep, (clockid_t)-2, 0, &(struct timespec){0, 1}, NULL), -EINVAL,
           "the calling thread's own CPU clock by id: EINVAL");
    is_int(SC(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &(struct timespec){0, -1}, NULL),
           -EINVAL, "process CPU clock, bad nsec: EINVAL");
}

static void test_restart_syscall(void)
{
    /* With no interrupted call to resume, restart_syscall says EINTR. */
    is_int(SC(SYS_restart_syscall), -EINTR, "restart_syscall with nothing to restart: EINTR");
}

int main(void)
{
    test_interrupted(0, "no SA_RESTART");
    test_interrupted(SA_RESTART, "SA_RESTART");
    test_not_interrupted();
    test_bad_rem();
    test_cpu_clocks();
    test_restart_syscall();
    done_testing();
}
