/*
 * Process timers: alarm, setitimer/getitimer (ITIMER_REAL with reloads,
 * ITIMER_VIRTUAL and ITIMER_PROF on CPU time), and POSIX timers
 * (timer_create with the default sigevent, SIGEV_SIGNAL, SIGEV_NONE,
 * SIGEV_THREAD_ID, CPU clocks; timer_settime absolute and relative with the
 * old value; timer_gettime; overruns while the signal is blocked,
 * timer_getoverrun; timer_delete) and their argument checks. Signals are
 * caught by handlers and waited for with sigsuspend. Runs natively and in
 * moat; single process, single thread.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "tap.h"

#define NSEC_PER_SEC 1000000000LL
#define MS           1000000LL

static volatile sig_atomic_t hits[65];
static volatile int codes[65];
static volatile int last_code, last_timerid, last_overrun, overrun_in_handler, first_overrun;
static volatile long last_value;
static volatile int watched_timer = -1;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    hits[sig]++;
    last_code = si->si_code;
    if (sig > 0 && sig < 65)
        codes[sig] = si->si_code;
    if (si->si_code == SI_TIMER) {
        last_timerid = si->si_timerid;
        last_overrun = si->si_overrun;
        last_value = (long)si->si_value.sival_ptr;
        if (watched_timer >= 0) {
            /* The first delivery only: on a loaded machine the timer may
             * fire again before the test blocks the signal once more. */
            overrun_in_handler = (int)syscall(SYS_timer_getoverrun, watched_timer);
            first_overrun = si->si_overrun;
            watched_timer = -1;
        }
    }
}

static void catch (int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, c, &ts);
    return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void block(int sig, int how)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, sig);
    sigprocmask(how, &m, NULL);
}

/* Take every pending instance of the blocked signal sig off the queue. */
static void drain(int sig)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, sig);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&m, NULL, &zero) == sig)
        ;
}

/* Wait (sigsuspend with everything open) until sig was caught n times or
 * limit_ms went by; the count reached. sig stays blocked outside the
 * waits, so none is lost between test and wait. */
static int wait_hits(int sig, int n, int limit_ms)
{
    int64_t end = now_ns(CLOCK_MONOTONIC) + limit_ms * MS;
    sigset_t open;
    sigemptyset(&open);
    while (hits[sig] < n && now_ns(CLOCK_MONOTONIC) < end) {
        /* A periodic ITIMER_REAL also wakes the wait when it is not sig. */
        struct itimerval guard = {{0, 0}, {0, 20000}};
        if (sig != SIGALRM)
            setitimer(ITIMER_REAL, &guard, NULL);
        sigsuspend(&open);
    }
    if (sig != SIGALRM)
        setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 0}}, NULL);
    return hits[sig];
}

/* Sleep ms, through any interruption. */
static void nap_ms(int ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * MS};
    while (nanosleep(&left, &left) != 0)
        ;
}

/* Burn CPU until sig was caught or limit_ms of wall time went by. */
static int spin_for(int sig, int limit_ms)
{
    int64_t end = now_ns(CLOCK_MONOTONIC) + limit_ms * MS;
    volatile uint64_t x = 0;
    while (!hits[sig] && now_ns(CLOCK_MONOTONIC) < end)
        for (int i = 0; i < 100000; i++)
            x += (uint64_t)i;
    return hits[sig];
}

static void test_alarm(void)
{
    is_int(SC(SYS_alarm, 0), 0, "alarm(0) with no alarm: 0");
    is_int(SC(SYS_alarm, 10), 0, "alarm(10): no earlier alarm");
    is_int(SC(SYS_alarm, 5), 10, "alarm(5) returns the 10 s left (rounded)");
    struct itimerval v;
    is_int(SC(SYS_getitimer, ITIMER_REAL, &v), 0, "getitimer after alarm");
    ok(v.it_value.tv_sec == 4 || v.it_value.tv_sec == 5, "alarm armed ITIMER_REAL for 5 s (%ld)",
       (long)v.it_value.tv_sec);
    is_int(v.it_interval.tv_sec + v.it_interval.tv_usec, 0, "alarm has no interval");
    is_int(SC(SYS_alarm, 0), 5, "alarm(0) cancels, returns 5");
    is_int(SC(SYS_alarm, 0), 0, "nothing left after cancelling");

    /* A sub-second remainder still reports 1, never 0 (0.45 s would round
     * to 0). SIGALRM is caught and blocked first: on a host that stalls the
     * test past the timer, its default action would end the whole run. */
    catch (SIGALRM);
    block(SIGALRM, SIG_BLOCK);
    struct itimerval short_one = {{0, 0}, {0, 450000}};
    setitimer(ITIMER_REAL, &short_one, NULL);
    is_int(SC(SYS_alarm, 0), 1, "alarm(0) with 0.45 s left returns 1");
    drain(SIGALRM);

    hits[SIGALRM] = 0;
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    SC(SYS_alarm, 1);
    is_int(wait_hits(SIGALRM, 1, 5000), 1, "alarm(1) delivers SIGALRM");
    int64_t took = now_ns(CLOCK_MONOTONIC) - t0;
    ok(took >= 990 * MS && took < 4 * NSEC_PER_SEC, "after about a second (%lld ms)",
       (long long)(took / MS));
    is_int(last_code, SI_KERNEL, "alarm's SIGALRM: si_code SI_KERNEL");
    is_int(SC(SYS_alarm, 0), 0, "the alarm is spent");
}

static void test_itimer_real(void)
{
    catch (SIGALRM);
    block(SIGALRM, SIG_BLOCK);
    hits[SIGALRM] = 0;
    struct itimerval v = {{0, 20000}, {0, 20000}}, old;
    /* t0 before arming: a stall after it cannot make the periods look
     * short. */
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    is_int(SC(SYS_setitimer, ITIMER_REAL, &v, &old), 0, "setitimer REAL 20 ms, 20 ms interval");
    is_int(old.it_value.tv_sec + old.it_value.tv_usec, 0, "old value: disarmed");
    struct itimerval cur;
    is_int(SC(SYS_getitimer, ITIMER_REAL, &cur), 0, "getitimer REAL");
    ok(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 20000,
       "value left in (0, 20 ms] (%ld us)", (long)cur.it_value.tv_usec);
    ok(cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 20000, "interval 20 ms");
    is_int(wait_hits(SIGALRM, 3, 5000), 3, "three SIGALRMs from the reloads");
    ok(now_ns(CLOCK_MONOTONIC) - t0 >= 55 * MS, "three periods took at least 55 ms");
    is_int(SC(SYS_getitimer, ITIMER_REAL, &cur), 0, "getitimer while it reloads");
    ok(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 20000,
       "still armed, next expiry within a period (%ld us)", (long)cur.it_value.tv_usec);

    /* it_value 0 disarms, whatever the interval. */
    struct itimerval zero = {{1, 0}, {0, 0}};
    is_int(SC(SYS_setitimer, ITIMER_REAL, &zero, &old), 0, "setitimer value 0");
    ok(old.it_interval.tv_usec == 20000, "old interval returned");
    is_int(SC(SYS_getitimer, ITIMER_REAL, &cur), 0, "getitimer after");
    is_int(cur.it_value.tv_sec + cur.it_value.tv_usec + cur.it_interval.tv_sec +
               cur.it_interval.tv_usec,
           0, "value 0 disarmed it, interval not kept");

    /* A one-shot reads as 0 once it fired. Disarming does not take back a
     * SIGALRM the periodic timer left pending (blocked here): drain it, or
     * it would pass for the one-shot's. */
    drain(SIGALRM);
    hits[SIGALRM] = 0;
    struct itimerval once = {{0, 0}, {0, 1000}};
    setitimer(ITIMER_REAL, &once, NULL);
    wait_hits(SIGALRM, 1, 5000);
    getitimer(ITIMER_REAL, &cur);
    is_int(cur.it_value.tv_sec + cur.it_value.tv_usec, 0, "a fired one-shot reads 0");

    /* NULL new value: disarms (an old Linux misfeature). */
    struct itimerval longer = {{0, 0}, {100, 0}};
    setitimer(ITIMER_REAL, &longer, NULL);
    is_int(SC(SYS_setitimer, ITIMER_REAL, NULL, &old), 0, "setitimer NULL value");
    ok(old.it_value.tv_sec >= 99, "returned the old value");
    getitimer(ITIMER_REAL, &cur);
    is_int(cur.it_value.tv_sec + cur.it_value.tv_usec, 0, "and disarmed");
    block(SIGALRM, SIG_UNBLOCK);
}

static void test_itimer_errors(void)
{
    struct itimerval bad_usec = {{0, 0}, {0, 1000000}};
    struct itimerval bad_ival = {{0, -1}, {1, 0}};
    struct itimerval neg = {{0, 0}, {-1, 0}};
    struct itimerval ok_v = {{0, 0}, {0, 0}};
    is_int(SC(SYS_setitimer, ITIMER_REAL, &bad_usec, NULL), -EINVAL, "setitimer usec 1e6: EINVAL");
    is_int(SC(SYS_setitimer, ITIMER_REAL, &bad_ival, NULL), -EINVAL,
           "setitimer interval usec -1: EINVAL");
    is_int(SC(SYS_setitimer, ITIMER_REAL, &neg, NULL), -EINVAL, "setitimer sec -1: EINVAL");
    is_int(SC(SYS_setitimer, 3, &ok_v, NULL), -EINVAL, "setitimer which 3: EINVAL");
    is_int(SC(SYS_getitimer, 3, &ok_v), -EINVAL, "getitimer which 3: EINVAL");
    is_int(SC(SYS_getitimer, ITIMER_REAL, (void *)8), -EFAULT, "getitimer bad pointer: EFAULT");
    is_int(SC(SYS_setitimer, ITIMER_REAL, (void *)8, NULL), -EFAULT, "setitimer bad value: EFAULT");
}

static void test_itimer_cpu(void)
{
    catch (SIGPROF);
    catch (SIGVTALRM);
    hits[SIGPROF] = hits[SIGVTALRM] = 0;
    struct itimerval v = {{0, 0}, {0, 30000}}, cur;
    is_int(SC(SYS_setitimer, ITIMER_PROF, &v, NULL), 0, "setitimer PROF 30 ms of CPU");
    is_int(SC(SYS_getitimer, ITIMER_PROF, &cur), 0, "getitimer PROF");
    ok(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0, "PROF armed (%ld us)",
       (long)cur.it_value.tv_usec);
    int64_t c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    is_int(spin_for(SIGPROF, 10000), 1, "spinning earns SIGPROF");
    ok(now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 >= 25 * MS, "after about 30 ms of CPU");
    is_int(SC(SYS_setitimer, ITIMER_VIRTUAL, &v, NULL), 0, "setitimer VIRTUAL 30 ms");
    is_int(spin_for(SIGVTALRM, 10000), 1, "spinning earns SIGVTALRM");
    getitimer(ITIMER_VIRTUAL, &cur);
    is_int(cur.it_value.tv_sec + cur.it_value.tv_usec, 0, "the one-shot VIRTUAL timer is spent");
}

static int mk_timer(clockid_t clock, struct sigevent *ev)
{
    int id = -1;
    long r = SC(SYS_timer_create, clock, ev, &id);
    return r < 0 ? (int)r : id;
}

static int settime(int id, int flags, int64_t value, int64_t interval, struct itimerspec *old)
{
    struct itimerspec s = {{interval / NSEC_PER_SEC, interval % NSEC_PER_SEC},
                           {value / NSEC_PER_SEC, value % NSEC_PER_SEC}};
    return (int)SC(SYS_timer_settime, id, flags, &s, old);
}

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static void test_posix_default(void)
{
    catch (SIGALRM);
    block(SIGALRM, SIG_BLOCK);
    hits[SIGALRM] = 0;
    int id = mk_timer(CLOCK_MONOTONIC, NULL);
    ok(id >= 0, "timer_create MONOTONIC, NULL sigevent (%d)", id);
    is_int(settime(id, 0, 10 * MS, 0, NULL), 0, "timer_settime 10 ms");
    is_int(wait_hits(SIGALRM, 1, 5000), 1, "the default sigevent sends SIGALRM");
    is_int(last_code, SI_TIMER, "si_code SI_TIMER");
    is_int(last_timerid, id, "si_timerid is the id");
    is_int(last_value, id, "si_value is the timer id");
    is_int(last_overrun, 0, "si_overrun 0");
    is_int(SC(SYS_timer_delete, id), 0, "timer_delete");
    is_int(SC(SYS_timer_delete, id), -EINVAL, "timer_delete twice: EINVAL");
    block(SIGALRM, SIG_UNBLOCK);
}

static void test_posix_signal(void)
{
    int sig = SIGRTMIN + 1;
    catch (sig);
    block(sig, SIG_BLOCK);
    hits[sig] = 0;
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    ev.sigev_value.sival_ptr = (void *)0x12345678abcdL;
    int id = mk_timer(CLOCK_REALTIME, &ev);
    ok(id >= 0, "timer_create REALTIME SIGEV_SIGNAL");
    /* Far enough ahead that a loaded host cannot let it fire before the
     * gettime below looks. */
    int64_t at = now_ns(CLOCK_REALTIME) + 100 * MS;
    struct itimerspec old;
    memset(&old, 0x55, sizeof(old));
    is_int(settime(id, TIMER_ABSTIME, at, 0, &old), 0, "timer_settime TIMER_ABSTIME");
    is_int(ts_ns(&old.it_value) + ts_ns(&old.it_interval), 0, "old setting: disarmed");
    struct itimerspec cur;
    is_int(SC(SYS_timer_gettime, id, &cur), 0, "timer_gettime");
    ok(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 100 * MS,
       "gettime shows the time left, relative (%lld us)", (long long)(ts_ns(&cur.it_value) / 1000));
    is_int(wait_hits(sig, 1, 5000), 1, "the signal came");
    ok(now_ns(CLOCK_REALTIME) >= at, "not before the absolute time");
    /* Its own code: wait_hits's guard SIGALRM may have come last. */
    is_int(codes[sig], SI_TIMER, "si_code SI_TIMER");
    is_int(last_timerid, id, "si_timerid");
    ok(last_value == 0x12345678abcdL, "si_value carries sival_ptr");
    is_int(SC(SYS_timer_gettime, id, &cur), 0, "timer_gettime after it fired");
    is_int(ts_ns(&cur.it_value), 0, "a fired one-shot reads 0");

    /* An absolute time already past fires at once. */
    hits[sig] = 0;
    is_int(settime(id, TIMER_ABSTIME, 1, 0, NULL), 0, "absolute time in the past");
    is_int(wait_hits(sig, 1, 5000), 1, "fires at once");

    /* Periodic, and the old value of a running timer. */
    hits[sig] = 0;
    is_int(settime(id, 0, 10 * MS, 10 * MS, NULL), 0, "periodic 10 ms");
    /* At least three: when wait_hits's guard SIGALRM is caught too, sig's
     * handler runs nested in SIGALRM's with sig unblocked on its return
     * (as on Linux), so a period that ends inside it adds a fourth. */
    int got = wait_hits(sig, 3, 5000);
    ok(got >= 3, "three signals (%d)", got);
    is_int(settime(id, 0, 0, 0, &old), 0, "disarm");
    is_int(ts_ns(&old.it_interval), 10 * MS, "old interval 10 ms");
    ok(ts_ns(&old.it_value) > 0 && ts_ns(&old.it_value) <= 10 * MS, "old value within a period");
    SC(SYS_timer_delete, id);
    block(sig, SIG_UNBLOCK);
}

static void test_overrun(void)
{
    int sig = SIGRTMIN + 2;
    catch (sig);
    block(sig, SIG_BLOCK);
    hits[sig] = 0;
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    int id = mk_timer(CLOCK_MONOTONIC, &ev);
    ok(id >= 0, "timer_create for overruns");
    is_int(SC(SYS_timer_getoverrun, id), 0, "no overrun before it ran");
    int64_t armed_at = now_ns(CLOCK_MONOTONIC);
    settime(id, 0, 2 * MS, 2 * MS, NULL);
    nap_ms(100);
    sigset_t pend;
    sigpending(&pend);
    ok(sigismember(&pend, sig), "the blocked timer signal is pending");
    watched_timer = id;
    overrun_in_handler = -1;
    /* The handler runs with sig blocked: later expiries cannot replace the
     * signal it looks at. */
    block(sig, SIG_UNBLOCK);
    block(sig, SIG_BLOCK);
    int64_t periods = (now_ns(CLOCK_MONOTONIC) - armed_at) / (2 * MS);
    watched_timer = -1;
    ok(hits[sig] >= 1, "one signal for many expiries (%d)", (int)hits[sig]);
    ok(first_overrun >= 20 && first_overrun <= periods,
       "si_overrun counts the expiries missed (%d of at most %lld)", first_overrun,
       (long long)periods);
    is_int(overrun_in_handler, first_overrun, "timer_getoverrun in the handler agrees");
    SC(SYS_timer_delete, id);
    sigpending(&pend);
    block(sig, SIG_UNBLOCK);
}

static void test_posix_none_and_ids(void)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_NONE;
    int a = mk_timer(CLOCK_MONOTONIC, &ev);
    int b = mk_timer(CLOCK_BOOTTIME, &ev);
    ok(a >= 0 && b >= 0 && a != b, "two SIGEV_NONE timers, distinct ids (%d, %d)", a, b);
    SC(SYS_timer_delete, a);
    int c = mk_timer(CLOCK_MONOTONIC, &ev);
    ok(c >= 0 && c != a, "a deleted id is not handed out at once (%d)", c);
    /* Counting down is seen on a 10 s setting, which a slow host cannot
     * let expire before gettime; expiry on a 30 ms one. */
    is_int(settime(b, 0, 10 * NSEC_PER_SEC, 0, NULL), 0, "arm the SIGEV_NONE timer");
    struct itimerspec cur;
    SC(SYS_timer_gettime, b, &cur);
    ok(ts_ns(&cur.it_value) > 5 * NSEC_PER_SEC && ts_ns(&cur.it_value) <= 10 * NSEC_PER_SEC,
       "counting down");
    settime(b, 0, 30 * MS, 0, NULL);
    nap_ms(40);
    SC(SYS_timer_gettime, b, &cur);
    is_int(ts_ns(&cur.it_value), 0, "expired silently");
    is_int(settime(b, 0, 0, 5 * MS, NULL), 0, "value 0 with an interval");
    SC(SYS_timer_gettime, b, &cur);
    is_int(ts_ns(&cur.it_value), 0, "disarmed");
    is_int(ts_ns(&cur.it_interval), 0, "and no interval shows");
    SC(SYS_timer_delete, b);
    SC(SYS_timer_delete, c);

    /* SIGEV_THREAD_ID to the caller itself. */
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGUSR2;
    ev._sigev_un._tid = (int)syscall(SYS_gettid);
    catch (SIGUSR2);
    block(SIGUSR2, SIG_BLOCK);
    hits[SIGUSR2] = 0;
    int d = mk_timer(CLOCK_MONOTONIC, &ev);
    ok(d >= 0, "SIGEV_THREAD_ID to the calling thread");
    settime(d, 0, 5 * MS, 0, NULL);
    is_int(wait_hits(SIGUSR2, 1, 5000), 1, "the thread got it");
    is_int(last_timerid, d, "with its timer id");
    SC(SYS_timer_delete, d);
    block(SIGUSR2, SIG_UNBLOCK);
}

static void test_posix_cpu(void)
{
    catch (SIGUSR1);
    hits[SIGUSR1] = 0;
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    int id = mk_timer(CLOCK_PROCESS_CPUTIME_ID, &ev);
    ok(id >= 0, "timer_create PROCESS_CPUTIME_ID");
    settime(id, 0, 20 * MS, 0, NULL);
    is_int(spin_for(SIGUSR1, 10000), 1, "fires after CPU time is spent");
    SC(SYS_timer_delete, id);
    /* glibc's own name for the process CPU clock: pid 0, CPUCLOCK_SCHED. */
    id = mk_timer((clockid_t)-6, &ev);
    ok(id >= 0, "the pid-encoded CPU clock of the caller");
    SC(SYS_timer_delete, id);
    id = mk_timer(CLOCK_THREAD_CPUTIME_ID, &ev);
    ok(id >= 0, "timer_create THREAD_CPUTIME_ID");
    SC(SYS_timer_delete, id);
}

static void test_posix_errors(void)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    int id;
    is_int(SC(SYS_timer_create, 100, &ev, &id), -EINVAL, "timer_create clock 100: EINVAL");
    is_int(SC(SYS_timer_create, CLOCK_MONOTONIC_RAW, &ev, &id), -EOPNOTSUPP,
           "timer_create MONOTONIC_RAW: EOPNOTSUPP");
    is_int(SC(SYS_timer_create, CLOCK_REALTIME_COARSE, &ev, &id), -EOPNOTSUPP,
           "timer_create REALTIME_COARSE: EOPNOTSUPP");
    ev.sigev_signo = 0;
    is_int(SC(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id), -EINVAL, "signal 0: EINVAL");
    ev.sigev_signo = 65;
    is_int(SC(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id), -EINVAL, "signal 65: EINVAL");
    ev.sigev_signo = SIGUSR1;
    ev.sigev_notify = 99;
    is_int(SC(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id), -EINVAL, "sigev_notify 99: EINVAL");
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev._sigev_un._tid = 0x3fffffff;
    is_int(SC(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id), -EINVAL,
           "SIGEV_THREAD_ID to no thread: EINVAL");
    is_int(SC(SYS_timer_create, CLOCK_MONOTONIC, (void *)8, &id), -EFAULT,
           "bad sigevent pointer: EFAULT");
    ev.sigev_notify = SIGEV_NONE;
    is_int(SC(SYS_timer_create, CLOCK_MONOTONIC, &ev, (void *)8), -EFAULT,
           "bad timer id pointer: EFAULT");

    id = mk_timer(CLOCK_MONOTONIC, &ev);
    struct itimerspec bad = {{0, 0}, {0, NSEC_PER_SEC}};
    is_int(SC(SYS_timer_settime, id, 0, &bad, NULL), -EINVAL, "settime nsec 1e9: EINVAL");
    struct itimerspec badi = {{-1, 0}, {1, 0}};
    is_int(SC(SYS_timer_settime, id, 0, &badi, NULL), -EINVAL, "settime interval -1 s: EINVAL");
    is_int(SC(SYS_timer_settime, id, 0, NULL, NULL), -EINVAL, "settime NULL value: EINVAL");
    is_int(SC(SYS_timer_settime, id, 0, (void *)8, NULL), -EFAULT, "settime bad value: EFAULT");
    is_int(SC(SYS_timer_gettime, id, (void *)8), -EFAULT, "gettime bad pointer: EFAULT");
    struct itimerspec zero = {{0, 0}, {0, 0}}, cur;
    is_int(SC(SYS_timer_settime, 12345, 0, &zero, NULL), -EINVAL, "settime unknown id: EINVAL");
    is_int(SC(SYS_timer_gettime, 12345, &cur), -EINVAL, "gettime unknown id: EINVAL");
    is_int(SC(SYS_timer_getoverrun, 12345), -EINVAL, "getoverrun unknown id: EINVAL");
    is_int(SC(SYS_timer_delete, 12345), -EINVAL, "delete unknown id: EINVAL");
    is_int(SC(SYS_timer_delete, -1), -EINVAL, "delete id -1: EINVAL");
    SC(SYS_timer_delete, id);
}

int main(void)
{
    test_itimer_errors();
    test_alarm();
    test_itimer_real();
    test_itimer_cpu();
    test_posix_default();
    test_posix_signal();
    test_overrun();
    test_posix_none_and_ids();
    test_posix_cpu();
    test_posix_errors();
    done_testing();
}
