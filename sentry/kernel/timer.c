/* The timer service (see timer.h).
 *
 * Armed timers are kept on one unsorted list: a sandbox arms tens of
 * timers, not thousands, and a scan per wake-up is cheaper than keeping
 * order on every re-arm. The service thread's own mutex and condition
 * variable only carry "the list changed" from the kernel-lock holders to the
 * sleeping thread; the list itself is kernel-lock state. Lock order: kernel
 * lock, then the service mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "platform/platform.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/kernel/timer.h"

#define NSEC 1000000000LL
/* How often an armed CPU-clock timer is looked at, at most and at least:
 * Linux checks them at its tick (4 ms at HZ=250). */
#define CPU_POLL_MIN_NS 1000000LL
#define CPU_POLL_MAX_NS (NSEC / 4)
/* The shortest wait between two firings of a periodic timer: a guest asking
 * for a 1 ns period would otherwise keep this thread spinning. No expiry is
 * lost: a late firing counts every period that went by. */
#define MIN_PERIOD_NS 100000LL

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint64_t gen; /* bumped on every change of the armed list */
    bool cond_ready, started;
    struct ktimer *armed;
} svc = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * NSEC + ts->tv_nsec;
}

static int64_t host_clock_ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        return 0;
    return ts_ns(&ts);
}

/* Linux's id for the CPU clock of a whole host process (CPUCLOCK_SCHED). */
static clockid_t host_process_cpu_clock(int pid)
{
    return (clockid_t)((~(unsigned)pid << 3) | 2u);
}

static struct task *any_thread(const struct thread_group *tg)
{
    if (!tg)
        return NULL;
    if (tg->leader)
        return tg->leader;
    return tg->threads;
}

int64_t timer_process_cpu_ns(const struct thread_group *tg)
{
    struct task *t = any_thread(tg);
    if (!t || !t->as)
        return 0;
    return host_clock_ns(host_process_cpu_clock(platform_as_host_pid(t->as)));
}

int64_t timer_clock_now(const struct ktimer *kt)
{
    if (kt->clock == TIMER_CLOCK_CPU)
        return timer_process_cpu_ns(kt->tg);
    return host_clock_ns((clockid_t)kt->clock);
}

void timer_init(struct ktimer *kt, int clock, struct thread_group *tg, ktimer_fire_fn fire,
                void *arg)
{
    memset(kt, 0, sizeof(*kt));
    kt->clock = clock;
    kt->tg = tg;
    kt->fire = fire;
    kt->arg = arg;
}

static void *service_main(void *arg);

/* The thread starts with the first armed timer, so a sandbox that never
 * uses one never has it. Every host signal is blocked in it: forwarded
 * signals and task interrupts are for the task threads. */
static void service_start(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (!svc.cond_ready) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&svc.cond, &ca);
        pthread_condattr_destroy(&ca);
        svc.cond_ready = true;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, service_main, NULL) == 0) {
        pthread_detach(th);
        svc.started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void service_poke(void)
{
    if (!svc.started)
        service_start();
    if (!svc.started)
        return; /* no thread (the host refused one): timers stay silent */
    pthread_mutex_lock(&svc.mu);
    svc.gen++;
    pthread_cond_signal(&svc.cond);
    pthread_mutex_unlock(&svc.mu);
}

static void list_remove(struct ktimer *kt)
{
    if (kt->prev)
        kt->prev->next = kt->next;
    else
        svc.armed = kt->next;
    if (kt->next)
        kt->next->prev = kt->prev;
    kt->prev = kt->next = NULL;
}

void timer_arm(struct ktimer *kt, int64_t expires, int64_t interval)
{
    if (!kt->armed) {
        kt->prev = NULL;
        kt->next = svc.armed;
        if (svc.armed)
            svc.armed->prev = kt;
        svc.armed = kt;
        kt->armed = true;
    }
    kt->expires = expires;
    kt->interval = interval > 0 ? interval : 0;
    service_poke();
}

void timer_disarm(struct ktimer *kt)
{
    if (!kt->armed)
        return;
    list_remove(kt);
    kt->armed = false;
    /* No poke: the service waking for a timer that is gone finds nothing
     * to do, which costs less than waking it now. */
}

int64_t timer_left(const struct ktimer *kt)
{
    if (!kt->armed)
        return 0;
    int64_t left = kt->expires - timer_clock_now(kt);
    return left > 0 ? left : 1;
}

/* Fire the first expired timer found; whether there was one. Each firing
 * may change the list (callbacks re-arm, disarm, free), so the caller scans
 * again from the start. */
static bool fire_one(void)
{
    for (struct ktimer *kt = svc.armed; kt; kt = kt->next) {
        int64_t now = timer_clock_now(kt);
        if (now < kt->expires)
            continue;
        uint64_t periods = 1;
        if (kt->interval) {
            periods += (uint64_t)((now - kt->expires) / kt->interval);
            kt->expires += (int64_t)periods * kt->interval;
        } else {
            list_remove(kt);
            kt->armed = false;
        }
        kt->fire(kt, periods);
        return true;
    }
    return false;
}

static int count_threads(const struct thread_group *tg)
{
    return tg && tg->nthreads > 0 ? tg->nthreads : 1;
}

/* When the service must look again, on CLOCK_MONOTONIC; false if no timer
 * is armed. Wall clocks other than CLOCK_MONOTONIC convert through their
 * current distance from it (the sandbox cannot set the host's clocks). A
 * CPU clock cannot advance faster than its threads run, so its next check
 * is its time left spread over them, within the poll bounds. */
static bool next_wake(int64_t *wake)
{
    int64_t mono = host_clock_ns(CLOCK_MONOTONIC);
    bool any = false;
    for (struct ktimer *kt = svc.armed; kt; kt = kt->next) {
        int64_t left = kt->expires - timer_clock_now(kt);
        if (kt->clock == TIMER_CLOCK_CPU) {
            left /= count_threads(kt->tg);
            if (left < CPU_POLL_MIN_NS)
                left = CPU_POLL_MIN_NS;
            if (left > CPU_POLL_MAX_NS)
                left = CPU_POLL_MAX_NS;
        }
        if (kt->interval && kt->interval < MIN_PERIOD_NS && left < MIN_PERIOD_NS)
            left = MIN_PERIOD_NS;
        if (left < 0)
            left = 0;
        int64_t at = mono + left;
        if (!any || at < *wake)
            *wake = at;
        any = true;
    }
    return any;
}

static void *service_main(void *arg)
{
    (void)arg;
    kernel_lock();
    for (;;) {
        while (fire_one())
            ;
        int64_t wake = 0;
        bool timed = next_wake(&wake);
        /* The generation is read before the kernel lock goes, so a change
         * made after this scan is never missed. */
        pthread_mutex_lock(&svc.mu);
        uint64_t gen = svc.gen;
        kernel_unlock();
        while (gen == svc.gen) {
            if (!timed) {
                pthread_cond_wait(&svc.cond, &svc.mu);
                continue;
            }
            struct timespec at = {wake / NSEC, wake % NSEC};
            if (pthread_cond_clockwait(&svc.cond, &svc.mu, CLOCK_MONOTONIC, &at) == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&svc.mu);
        kernel_lock();
    }
    return NULL;
}
