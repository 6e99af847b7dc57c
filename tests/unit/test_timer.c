/* The timer service (sentry/kernel/timer.c): one-shot and periodic expiry
 * on the monotonic and realtime clocks, the period count a late firing
 * reports, re-arming, disarming, timer_left, and what getitimer reads. Fire
 * callbacks run on the service thread under the kernel lock; the test takes
 * the same lock to look at what they recorded. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abi/flags.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/kernel/timer.h"

#define MS 1000000LL

struct record {
    int fired;
    uint64_t periods;
};

static void on_fire(struct ktimer *kt, uint64_t periods)
{
    struct record *r = kt->arg;
    r->fired++;
    r->periods += periods;
}

static struct record snapshot(const struct record *r)
{
    kernel_lock();
    struct record copy = *r;
    kernel_unlock();
    return copy;
}

static void nap_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

/* Waits (up to 2 s: a loaded machine may hold the service back) until
 * at least n firings were recorded; the record then. */
static struct record wait_fired(struct record *r, int n)
{
    struct record s = snapshot(r);
    for (int i = 0; i < 2000 && s.fired < n; i++) {
        nap_ms(1);
        s = snapshot(r);
    }
    return s;
}

Test(timer, one_shot_fires_once_and_disarms)
{
    struct record r = {0};
    struct ktimer kt;
    kernel_lock();
    timer_init(&kt, CLOCK_MONOTONIC, NULL, on_fire, &r);
    timer_arm(&kt, timer_clock_now(&kt) + 20 * MS, 0);
    int64_t left = timer_left(&kt);
    kernel_unlock();
    cr_assert(left > 0 && left <= 20 * MS, "time left within the request");
    nap_ms(5);
    cr_assert_eq(snapshot(&r).fired, 0, "not before its time");
    wait_fired(&r, 1);
    nap_ms(40);
    struct record s = snapshot(&r);
    cr_assert_eq(s.fired, 1);
    cr_assert_eq(s.periods, 1);
    kernel_lock();
    cr_assert(!kt.armed, "a one-shot disarms itself");
    cr_assert_eq(timer_left(&kt), 0);
    kernel_unlock();
}

Test(timer, periodic_counts_every_period)
{
    struct record r = {0};
    struct ktimer kt;
    kernel_lock();
    timer_init(&kt, CLOCK_MONOTONIC, NULL, on_fire, &r);
    int64_t t0 = timer_clock_now(&kt);
    timer_arm(&kt, t0 + 5 * MS, 5 * MS);
    kernel_unlock();
    nap_ms(60);
    /* Every period counts, however late the service ran. */
    struct record s = snapshot(&r);
    for (int i = 0; i < 2000 && s.periods < 9; i++) {
        nap_ms(1);
        s = snapshot(&r);
    }
    kernel_lock();
    timer_disarm(&kt);
    s = r;
    int64_t elapsed = timer_clock_now(&kt) - t0;
    kernel_unlock();
    cr_assert(s.periods >= 9 && (int64_t)s.periods <= elapsed / (5 * MS) + 1,
              "periods %llu over %lld ms of 5 ms", (unsigned long long)s.periods,
              (long long)(elapsed / MS));
    nap_ms(20);
    cr_assert_eq(snapshot(&r).periods, s.periods, "nothing after disarming");
}

Test(timer, late_firing_reports_missed_periods)
{
    struct record r = {0};
    struct ktimer kt;
    /* Holding the kernel lock keeps the service from firing: when it gets
     * the lock, many periods have gone by at once. */
    kernel_lock();
    timer_init(&kt, CLOCK_MONOTONIC, NULL, on_fire, &r);
    timer_arm(&kt, timer_clock_now(&kt) + 1 * MS, 1 * MS);
    nap_ms(30);
    kernel_unlock();
    /* Until the service has had the lock once (a loaded machine may keep
     * it from running for a while). */
    struct record s = {0};
    for (int i = 0; i < 2000; i++) {
        nap_ms(1);
        kernel_lock();
        s = r;
        kernel_unlock();
        if (s.fired > 0)
            break;
    }
    kernel_lock();
    timer_disarm(&kt);
    kernel_unlock();
    cr_assert(s.fired < (int)s.periods, "fewer firings (%d) than periods (%llu)", s.fired,
              (unsigned long long)s.periods);
    cr_assert(s.periods >= 28, "every period counted (%llu)", (unsigned long long)s.periods);
}

Test(timer, realtime_and_rearm)
{
    struct record r = {0};
    struct ktimer kt;
    kernel_lock();
    timer_init(&kt, CLOCK_REALTIME, NULL, on_fire, &r);
    timer_arm(&kt, timer_clock_now(&kt) + 10 * 1000 * MS, 0);
    /* Moving it closer must wake the service, which sleeps for the old time. */
    timer_arm(&kt, timer_clock_now(&kt) + 10 * MS, 0);
    kernel_unlock();
    cr_assert_eq(wait_fired(&r, 1).fired, 1, "the re-armed time counts");
}

/* An interval timer whose time is up but whose firing the service has not
 * handled yet (it waits for the kernel lock held here) still reads as
 * armed: 1 us left, the least getitimer can show, as on Linux. */
Test(timer, itimer_due_but_not_fired_reads_one_microsecond)
{
    struct thread_group tg;
    memset(&tg, 0, sizeof(tg));
    struct task t;
    memset(&t, 0, sizeof(t));
    t.tg = &tg;
    kernel_lock();
    cr_assert_eq(timer_setitimer(&t, ABI_ITIMER_REAL, 1000, 0, NULL, NULL), 0);
    nap_ms(3);
    int64_t value = -1, interval = -1;
    cr_assert_eq(timer_getitimer(&t, ABI_ITIMER_REAL, &value, &interval), 0);
    cr_assert_eq(value, 1000, "due, not yet fired: 1 us (%lld ns)", (long long)value);
    cr_assert_eq(interval, 0);
    timer_exit_group(&tg);
    cr_assert_eq(timer_getitimer(&t, ABI_ITIMER_REAL, &value, &interval), 0);
    cr_assert_eq(value, 0, "disarmed: 0");
    kernel_unlock();
}
