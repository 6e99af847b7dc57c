/*
 * Clocks and sleeps: clock_gettime/clock_getres/gettimeofday/time through
 * both the trapping syscall and libc's vDSO path, nanosleep and
 * clock_nanosleep (relative and TIMER_ABSTIME), and their argument checks.
 *
 * Timing assertions are one-sided where the scheduler could delay us (a
 * sleep lasts at least its duration) and use generous bounds otherwise, so
 * a loaded machine or a slow platform cannot make them flaky.
 */
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "tests/syscalls/tap.h"

#define NSEC_PER_SEC 1000000000LL

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static int64_t vdso_now(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        return -1;
    return ns_of(&ts);
}

static int64_t sys_now(clockid_t clk)
{
    struct timespec ts;
    if (syscall(SYS_clock_gettime, clk, &ts) != 0)
        return -1;
    return ns_of(&ts);
}

static const struct {
    clockid_t id;
    const char *name;
} clocks[] = {
    {CLOCK_REALTIME, "REALTIME"},
    {CLOCK_MONOTONIC, "MONOTONIC"},
    {CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID"},
    {CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID"},
    {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"},
    {CLOCK_REALTIME_COARSE, "REALTIME_COARSE"},
    {CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE"},
    {CLOCK_BOOTTIME, "BOOTTIME"},
};

#define NCLOCKS (sizeof(clocks) / sizeof(clocks[0]))

static void test_each_clock(void)
{
    for (size_t i = 0; i < NCLOCKS; i++) {
        struct timespec a = {-1, -1}, b = {-1, -1};
        is_int(SC(SYS_clock_gettime, clocks[i].id, &a), 0, "syscall clock_gettime %s",
               clocks[i].name);
        ok(a.tv_sec >= 0 && a.tv_nsec >= 0 && a.tv_nsec < NSEC_PER_SEC,
           "%s (syscall) is normalised: %ld.%09ld", clocks[i].name, (long)a.tv_sec,
           (long)a.tv_nsec);
        is_int(clock_gettime(clocks[i].id, &b), 0, "libc clock_gettime %s", clocks[i].name);
        ok(b.tv_sec >= 0 && b.tv_nsec >= 0 && b.tv_nsec < NSEC_PER_SEC, "%s (libc) is normalised",
           clocks[i].name);

        struct timespec res = {-1, -1};
        is_int(SC(SYS_clock_getres, clocks[i].id, &res), 0, "clock_getres %s", clocks[i].name);
        int64_t r = ns_of(&res);
        /*
         * Coarse clocks tick at HZ (>= 100); the others are usually 1 ns but
         * fall back to the tick on hosts without high-resolution timers.
         */
        int64_t limit = NSEC_PER_SEC / 100;
        ok(r > 0 && r <= limit, "%s resolution %lld ns is in (0, %lld]", clocks[i].name,
           (long long)r, (long long)limit);
        struct timespec lres = {-1, -1};
        clock_getres(clocks[i].id, &lres);
        ok(ns_of(&lres) == r, "libc clock_getres %s agrees", clocks[i].name);
        is_int(SC(SYS_clock_getres, clocks[i].id, NULL), 0, "clock_getres %s with NULL res",
               clocks[i].name);
    }
}

/* The vDSO and the trapping syscall must read the same clock. */
static void test_paths_agree(void)
{
    static const clockid_t ordered[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME};
    static const char *names[] = {"MONOTONIC", "MONOTONIC_RAW", "BOOTTIME"};
    for (size_t i = 0; i < 3; i++) {
        int64_t v1 = vdso_now(ordered[i]);
        int64_t s = sys_now(ordered[i]);
        int64_t v2 = vdso_now(ordered[i]);
        ok(v1 <= s && s <= v2, "%s: vDSO %lld <= syscall %lld <= vDSO %lld", names[i],
           (long long)v1, (long long)s, (long long)v2);
    }

    int64_t v = vdso_now(CLOCK_REALTIME), s = sys_now(CLOCK_REALTIME);
    ok(llabs(s - v) < NSEC_PER_SEC, "REALTIME: vDSO and syscall within 1 s");

    int64_t fine = vdso_now(CLOCK_MONOTONIC);
    int64_t coarse = sys_now(CLOCK_MONOTONIC_COARSE);
    ok(coarse <= fine + NSEC_PER_SEC / 100 && fine - coarse < NSEC_PER_SEC,
       "MONOTONIC_COARSE lags MONOTONIC by less than 1 s");
    fine = vdso_now(CLOCK_REALTIME);
    coarse = vdso_now(CLOCK_REALTIME_COARSE);
    ok(llabs(fine - coarse) < NSEC_PER_SEC, "REALTIME_COARSE is within 1 s of REALTIME");

    int64_t mono = sys_now(CLOCK_MONOTONIC), boot = sys_now(CLOCK_BOOTTIME);
    ok(boot >= mono, "BOOTTIME >= MONOTONIC (includes suspend)");
}

static void test_monotonic(void)
{
    int64_t prev = vdso_now(CLOCK_MONOTONIC);
    int backwards = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t now = (i & 1) ? sys_now(CLOCK_MONOTONIC) : vdso_now(CLOCK_MONOTONIC);
        if (now < prev)
            backwards++;
        prev = now;
    }
    is_int(backwards, 0, "MONOTONIC never goes backwards over 1000 mixed reads");

    prev = sys_now(CLOCK_MONOTONIC_RAW);
    backwards = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t now = sys_now(CLOCK_MONOTONIC_RAW);
        if (now < prev)
            backwards++;
        prev = now;
    }
    is_int(backwards, 0, "MONOTONIC_RAW never goes backwards over 1000 reads");

    int64_t start = vdso_now(CLOCK_MONOTONIC);
    int64_t t;
    long spins = 0;
    do
        t = vdso_now(CLOCK_MONOTONIC);
    while (t == start && ++spins < 100000000L);
    ok(t > start, "MONOTONIC advances");
}

static void test_cpu_clocks(void)
{
    int64_t p0 = sys_now(CLOCK_PROCESS_CPUTIME_ID);
    int64_t t0 = sys_now(CLOCK_THREAD_CPUTIME_ID);
    int64_t w0 = sys_now(CLOCK_MONOTONIC);
    volatile uint64_t x = 1;
    while (sys_now(CLOCK_MONOTONIC) - w0 < 30 * 1000000LL)
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ULL + 1;
    int64_t p1 = sys_now(CLOCK_PROCESS_CPUTIME_ID);
    int64_t t1 = sys_now(CLOCK_THREAD_CPUTIME_ID);
    ok(p1 > p0, "PROCESS_CPUTIME advances while spinning (+%lld ns)", (long long)(p1 - p0));
    ok(t1 > t0, "THREAD_CPUTIME advances while spinning (+%lld ns)", (long long)(t1 - t0));
    int64_t w1 = sys_now(CLOCK_MONOTONIC);
    ok(p1 - p0 <= (w1 - w0) + 50 * 1000000LL, "CPU time used is not more than wall time");
}

static void test_wall_clock(void)
{
    struct timeval tv;
    is_int(SC(SYS_gettimeofday, &tv, NULL), 0, "syscall gettimeofday");
    ok(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec is normalised (%ld)", (long)tv.tv_usec);
    int64_t rt = sys_now(CLOCK_REALTIME);
    int64_t g = (int64_t)tv.tv_sec * NSEC_PER_SEC + tv.tv_usec * 1000LL;
    ok(llabs(rt - g) < 2 * NSEC_PER_SEC, "REALTIME within 2 s of gettimeofday");
    ok(rt > 1600000000LL * NSEC_PER_SEC, "REALTIME is after 2020");

    struct timeval lv;
    is_int(gettimeofday(&lv, NULL), 0, "libc gettimeofday");
    ok(llabs(((int64_t)lv.tv_sec - tv.tv_sec)) <= 2, "libc and syscall gettimeofday agree");
    struct timezone tz;
    is_int(SC(SYS_gettimeofday, &tv, &tz), 0, "gettimeofday with a timezone");
    is_int(SC(SYS_gettimeofday, NULL, NULL), 0, "gettimeofday with neither argument");

    time_t out = 0;
    long t = SC(SYS_time, &out);
    ok(t > 1600000000L && t == (long)out, "syscall time returns and stores the same value");
    ok(labs(t - (long)(rt / NSEC_PER_SEC)) <= 2, "time() within 2 s of REALTIME");
    ok(labs((long)time(NULL) - t) <= 2, "libc time() agrees");
}

static void test_invalid_clocks(void)
{
    struct timespec ts;
    is_int(SC(SYS_clock_gettime, 100, &ts), -EINVAL, "clock_gettime clock 100: EINVAL");
    is_int(SC(SYS_clock_gettime, 16, &ts), -EINVAL, "clock_gettime clock 16: EINVAL");
    is_int(SC(SYS_clock_getres, 100, &ts), -EINVAL, "clock_getres clock 100: EINVAL");
    is_int(SC(SYS_clock_getres, 100, NULL), -EINVAL, "clock_getres clock 100, NULL: EINVAL");
    is_int(clock_gettime(100, &ts) == -1 && errno == EINVAL, 1,
           "libc clock_gettime clock 100 fails with EINVAL");
    is_int(SC(SYS_clock_nanosleep, 100, 0, &(struct timespec){0, 1}, NULL), -EINVAL,
           "clock_nanosleep clock 100: EINVAL");
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &(struct timespec){0, 1}, NULL),
           -EOPNOTSUPP, "clock_nanosleep on MONOTONIC_RAW: EOPNOTSUPP");
    is_int(SC(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){0, 1}, NULL),
           -EOPNOTSUPP, "clock_nanosleep on THREAD_CPUTIME_ID: EOPNOTSUPP");
}

static void test_sleeps(void)
{
    struct timespec req = {0, 20 * 1000000L}, rem = {77, 77};
    int64_t t0 = sys_now(CLOCK_MONOTONIC);
    is_int(SC(SYS_nanosleep, &req, &rem), 0, "nanosleep 20 ms");
    int64_t slept = sys_now(CLOCK_MONOTONIC) - t0;
    ok(slept >= 20 * 1000000LL, "nanosleep slept at least 20 ms (%lld us)",
       (long long)(slept / 1000));
    ok(slept < 5 * NSEC_PER_SEC, "nanosleep 20 ms returned within 5 s");

    t0 = sys_now(CLOCK_MONOTONIC);
    is_int(SC(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &(struct timespec){0, 10000000L}, NULL), 0,
           "clock_nanosleep REALTIME relative 10 ms");
    ok(sys_now(CLOCK_MONOTONIC) - t0 >= 10000000LL, "slept at least 10 ms");

    t0 = sys_now(CLOCK_MONOTONIC);
    is_int(SC(SYS_clock_nanosleep, CLOCK_BOOTTIME, 0, &(struct timespec){0, 10000000L}, NULL), 0,
           "clock_nanosleep BOOTTIME relative 10 ms");
    ok(sys_now(CLOCK_MONOTONIC) - t0 >= 10000000LL, "slept at least 10 ms");

    int64_t target = sys_now(CLOCK_MONOTONIC) + 20 * 1000000LL;
    struct timespec abs = {(time_t)(target / NSEC_PER_SEC), (long)(target % NSEC_PER_SEC)};
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL), 0,
           "clock_nanosleep MONOTONIC TIMER_ABSTIME");
    int64_t after = sys_now(CLOCK_MONOTONIC);
    ok(after >= target, "woke at or after the absolute deadline (+%lld us)",
       (long long)((after - target) / 1000));

    int64_t rtarget = sys_now(CLOCK_REALTIME) + 10 * 1000000LL;
    struct timespec rabs = {(time_t)(rtarget / NSEC_PER_SEC), (long)(rtarget % NSEC_PER_SEC)};
    is_int(SC(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &rabs, NULL), 0,
           "clock_nanosleep REALTIME TIMER_ABSTIME");
    ok(sys_now(CLOCK_REALTIME) >= rtarget, "REALTIME deadline reached");

    t0 = sys_now(CLOCK_MONOTONIC);
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &(struct timespec){0, 0}, NULL),
           0, "absolute deadline in the past returns at once");
    is_int(SC(SYS_nanosleep, &(struct timespec){0, 0}, NULL), 0, "nanosleep of zero");
    ok(sys_now(CLOCK_MONOTONIC) - t0 < NSEC_PER_SEC, "past deadline and zero sleep were quick");

    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0x100, &(struct timespec){0, 1000}, NULL), 0,
           "clock_nanosleep ignores unknown flag bits");
}

static void test_bad_sleeps(void)
{
    struct timespec big = {0, NSEC_PER_SEC};
    struct timespec negns = {0, -1};
    struct timespec negs = {-1, 0};
    is_int(SC(SYS_nanosleep, &big, NULL), -EINVAL, "nanosleep tv_nsec 1e9: EINVAL");
    is_int(SC(SYS_nanosleep, &negns, NULL), -EINVAL, "nanosleep tv_nsec -1: EINVAL");
    is_int(SC(SYS_nanosleep, &negs, NULL), -EINVAL, "nanosleep tv_sec -1: EINVAL");
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &big, NULL), -EINVAL,
           "clock_nanosleep tv_nsec 1e9: EINVAL");
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &big, NULL), -EINVAL,
           "clock_nanosleep absolute tv_nsec 1e9: EINVAL");
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &negs, NULL), -EINVAL,
           "clock_nanosleep tv_sec -1: EINVAL");
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &negs, NULL), -EINVAL,
           "clock_nanosleep absolute tv_sec -1: EINVAL");
}

static void test_bad_pointers(void)
{
    void *kernel = (void *)0xffff800000000000UL;
    void *low = (void *)8;
    is_int(SC(SYS_clock_gettime, CLOCK_MONOTONIC, NULL), -EFAULT,
           "syscall clock_gettime NULL: EFAULT");
    is_int(SC(SYS_clock_gettime, CLOCK_REALTIME, kernel), -EFAULT,
           "syscall clock_gettime kernel address: EFAULT");
    is_int(SC(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, low), -EFAULT,
           "syscall clock_gettime CPU clock, bad pointer: EFAULT");
    is_int(SC(SYS_clock_getres, CLOCK_MONOTONIC, kernel), -EFAULT,
           "clock_getres kernel address: EFAULT");
    is_int(SC(SYS_gettimeofday, low, NULL), -EFAULT, "gettimeofday bad tv: EFAULT");
    is_int(SC(SYS_gettimeofday, NULL, low), -EFAULT, "gettimeofday bad tz: EFAULT");
    is_int(SC(SYS_time, kernel), -EFAULT, "time bad pointer: EFAULT");
    long t = SC(SYS_time, NULL);
    ok(t > 1600000000L, "time(NULL) returns the time");
    is_int(SC(SYS_nanosleep, NULL, NULL), -EFAULT, "nanosleep NULL req: EFAULT");
    is_int(SC(SYS_nanosleep, kernel, NULL), -EFAULT, "nanosleep kernel req: EFAULT");
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, NULL, NULL), -EFAULT,
           "clock_nanosleep NULL req: EFAULT");
    is_int(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, low, NULL), -EFAULT,
           "clock_nanosleep absolute bad req: EFAULT");
}

int main(void)
{
    test_each_clock();
    test_paths_agree();
    test_monotonic();
    test_cpu_clocks();
    test_wall_clock();
    test_invalid_clocks();
    test_sleeps();
    test_bad_sleeps();
    test_bad_pointers();
    done_testing();
}
