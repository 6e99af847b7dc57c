/* A process's own timers: alarm and the three interval timers, and its
 * POSIX timers (see timer.h). They live in the thread group's
 * struct kernel_timers, made on first use.
 *
 * Overruns: a POSIX timer's signal is queued at most once. When the timer
 * fires again while that signal still waits in a queue, the expiry is
 * counted into the queued siginfo's si_overrun instead, so the handler sees
 * it. The count of the last delivered signal (timer_getoverrun) is settled
 * lazily: once the signal is no longer queued, the count last written into
 * it is the one it was delivered with.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/timer.h"

#define NSEC 1000000000LL

struct posix_timer {
    struct posix_timer *next;
    struct kernel_timers *owner;
    int id;
    struct ktimer kt;
    struct timer_notify ev;
    bool in_flight;   /* a signal was sent and not yet settled */
    int sent_overrun; /* the si_overrun last written into it */
    int overrun_last; /* timer_getoverrun's answer */
};

struct kernel_timers {
    struct thread_group *tg;
    struct ktimer itimer[3]; /* ABI_ITIMER_REAL, _VIRTUAL, _PROF */
    struct posix_timer *posix;
    int nposix;
    int next_id;
};

static const int itimer_signal[3] = {ABI_SIGALRM, ABI_SIGVTALRM, ABI_SIGPROF};

static void itimer_fire(struct ktimer *kt, uint64_t periods)
{
    (void)periods;
    struct kernel_timers *kts = kt->arg;
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = itimer_signal[kt - kts->itimer];
    info.si_code = ABI_SI_KERNEL;
    signal_send_group(kts->tg, &info, false);
}

static struct kernel_timers *timers_of(struct thread_group *tg)
{
    if (tg->timers)
        return tg->timers;
    struct kernel_timers *kts = calloc(1, sizeof(*kts));
    if (!kts)
        return NULL;
    kts->tg = tg;
    /* ITIMER_REAL runs on the monotonic clock; the other two on the
     * process's CPU time (user time alone is not told apart from system
     * time: the stub's CPU clock measures both). */
    timer_init(&kts->itimer[ABI_ITIMER_REAL], CLOCK_MONOTONIC, tg, itimer_fire, kts);
    timer_init(&kts->itimer[ABI_ITIMER_VIRTUAL], TIMER_CLOCK_CPU, tg, itimer_fire, kts);
    timer_init(&kts->itimer[ABI_ITIMER_PROF], TIMER_CLOCK_CPU, tg, itimer_fire, kts);
    tg->timers = kts;
    return kts;
}

/* ---- alarm, setitimer, getitimer ---- */

int timer_getitimer(struct task *t, int which, int64_t *value, int64_t *interval)
{
    if (which < ABI_ITIMER_REAL || which > ABI_ITIMER_PROF)
        return -ABI_EINVAL;
    struct kernel_timers *kts = t->tg->timers;
    *value = *interval = 0;
    if (kts && kts->itimer[which].armed) {
        /* An armed timer whose time is up but whose firing has not been
         * handled yet reads as 1 us, as on Linux: in microseconds, the
         * 1 ns timer_left gives would read as disarmed. */
        *value = timer_left(&kts->itimer[which]);
        if (*value < 1000)
            *value = 1000;
        *interval = kts->itimer[which].interval;
    }
    return 0;
}

int timer_setitimer(struct task *t, int which, int64_t value, int64_t interval, int64_t *old_value,
                    int64_t *old_interval)
{
    int64_t ov, oi;
    int err = timer_getitimer(t, which, &ov, &oi);
    if (err)
        return err;
    if (old_value)
        *old_value = ov;
    if (old_interval)
        *old_interval = oi;
    if (!value && !t->tg->timers)
        return 0;
    struct kernel_timers *kts = timers_of(t->tg);
    if (!kts)
        return -ABI_ENOMEM;
    struct ktimer *kt = &kts->itimer[which];
    /* A zero value disarms, whatever the interval says. */
    if (!value) {
        timer_disarm(kt);
        return 0;
    }
    timer_arm(kt, timer_clock_now(kt) + value, interval);
    return 0;
}

uint64_t timer_alarm(struct task *t, uint64_t seconds)
{
    int64_t old = 0;
    timer_setitimer(t, ABI_ITIMER_REAL, (int64_t)seconds * NSEC, 0, &old, NULL);
    /* Linux reports the time left as whole seconds from the microseconds
     * getitimer would show: rounded to nearest, and never 0 while the
     * alarm still runs. */
    uint64_t secs = (uint64_t)(old / NSEC);
    int64_t usec = (old % NSEC) / 1000;
    if ((!secs && usec) || usec >= 500000)
        secs++;
    return secs;
}

/* ---- POSIX timers ---- */

static struct posix_timer *posix_find(struct task *t, int id)
{
    struct kernel_timers *kts = t->tg->timers;
    if (!kts)
        return NULL;
    for (struct posix_timer *pt = kts->posix; pt; pt = pt->next)
        if (pt->id == id)
            return pt;
    return NULL;
}

static struct abi_siginfo *queued_in(struct sigpending *p, const struct posix_timer *pt)
{
    for (struct sigqueue_node *n = p->head; n; n = n->next) {
        if (n->info.si_code == ABI_SI_TIMER && n->info.si_signo == pt->ev.signo &&
            n->info.u.timer.tid == pt->id)
            return &n->info;
    }
    return NULL;
}

/* The siginfo of this timer's signal while it waits in a queue of its
 * process, or NULL. */
static struct abi_siginfo *queued_signal(const struct posix_timer *pt)
{
    struct thread_group *tg = pt->owner->tg;
    struct abi_siginfo *info = queued_in(&tg->shared, pt);
    for (struct task *th = tg->threads; th && !info; th = th->tg_next)
        info = queued_in(&th->pending, pt);
    return info;
}

static void overrun_settle(struct posix_timer *pt)
{
    if (pt->in_flight && !queued_signal(pt)) {
        pt->overrun_last = pt->sent_overrun;
        pt->in_flight = false;
    }
}

static int overrun_add(int64_t have, uint64_t more)
{
    if (more >= ABI_DELAYTIMER_MAX || have + (int64_t)more >= ABI_DELAYTIMER_MAX)
        return ABI_DELAYTIMER_MAX;
    return (int)(have + (int64_t)more);
}

static void posix_fire(struct ktimer *kt, uint64_t periods)
{
    struct posix_timer *pt = kt->arg;
    if (pt->ev.notify == ABI_SIGEV_NONE)
        return;
    struct abi_siginfo *queued = queued_signal(pt);
    if (queued) {
        queued->u.timer.overrun = overrun_add(queued->u.timer.overrun, periods);
        pt->sent_overrun = queued->u.timer.overrun;
        return;
    }
    overrun_settle(pt);
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = pt->ev.signo;
    info.si_code = ABI_SI_TIMER;
    info.u.timer.tid = pt->id;
    info.u.timer.overrun = overrun_add(0, periods - 1);
    info.u.timer.value = pt->ev.value;
    struct thread_group *tg = pt->owner->tg;
    if (pt->ev.notify == ABI_SIGEV_THREAD_ID) {
        /* The thread may have ended since: the signal goes nowhere. */
        struct task *th = kernel_tid_lookup(tg->k, pt->ev.tid);
        if (!th || th->tg != tg)
            return;
        signal_send(th, &info);
    } else {
        signal_send_group(tg, &info, false);
    }
    pt->in_flight = true;
    pt->sent_overrun = info.u.timer.overrun;
}

static int host_clock_of(int clock)
{
    switch (clock) {
    case ABI_CLOCK_PROCESS_CPUTIME_ID:
    case ABI_CLOCK_THREAD_CPUTIME_ID:
        /* A thread's CPU clock is measured as its process's (coarse). */
        return TIMER_CLOCK_CPU;
    default:
        return clock;
    }
}

static bool id_taken(const struct kernel_timers *kts, int id)
{
    for (struct posix_timer *pt = kts->posix; pt; pt = pt->next)
        if (pt->id == id)
            return true;
    return false;
}

int timer_posix_create(struct task *t, int clock, const struct timer_notify *ev)
{
    struct kernel_timers *kts = timers_of(t->tg);
    if (!kts)
        return -ABI_ENOMEM;
    /* Each timer holds a preallocated signal, counted against
     * RLIMIT_SIGPENDING as Linux counts it. */
    if ((uint64_t)kts->nposix >= t->rlimits[ABI_RLIMIT_SIGPENDING].rlim_cur)
        return -ABI_EAGAIN;
    struct posix_timer *pt = calloc(1, sizeof(*pt));
    if (!pt)
        return -ABI_ENOMEM;
    /* Ids count up from 0 per process and are not reused until they wrap. */
    while (id_taken(kts, kts->next_id))
        kts->next_id = kts->next_id == ABI_DELAYTIMER_MAX ? 0 : kts->next_id + 1;
    pt->id = kts->next_id;
    kts->next_id = kts->next_id == ABI_DELAYTIMER_MAX ? 0 : kts->next_id + 1;
    pt->owner = kts;
    if (ev) {
        pt->ev = *ev;
    } else {
        pt->ev.notify = ABI_SIGEV_SIGNAL;
        pt->ev.signo = ABI_SIGALRM;
        pt->ev.value.sival_ptr = 0;
        pt->ev.value.sival_int = pt->id;
    }
    timer_init(&pt->kt, host_clock_of(clock), t->tg, posix_fire, pt);
    pt->next = kts->posix;
    kts->posix = pt;
    kts->nposix++;
    return pt->id;
}

int timer_posix_gettime(struct task *t, int id, int64_t cur[2])
{
    struct posix_timer *pt = posix_find(t, id);
    if (!pt)
        return -ABI_EINVAL;
    cur[0] = timer_left(&pt->kt);
    cur[1] = pt->kt.interval;
    return 0;
}

int timer_posix_settime(struct task *t, int id, bool abs, int64_t value, int64_t interval,
                        int64_t old[2])
{
    struct posix_timer *pt = posix_find(t, id);
    if (!pt)
        return -ABI_EINVAL;
    timer_posix_gettime(t, id, old);
    /* A new setting starts a new overrun count: the signal of the old one
     * no longer speaks for the timer. */
    pt->in_flight = false;
    pt->overrun_last = 0;
    if (!value) {
        timer_disarm(&pt->kt);
        pt->kt.interval = 0;
        return 0;
    }
    timer_arm(&pt->kt, abs ? value : timer_clock_now(&pt->kt) + value, interval);
    return 0;
}

int timer_posix_getoverrun(struct task *t, int id)
{
    struct posix_timer *pt = posix_find(t, id);
    if (!pt)
        return -ABI_EINVAL;
    overrun_settle(pt);
    return pt->overrun_last;
}

static void posix_free(struct kernel_timers *kts, struct posix_timer *pt)
{
    for (struct posix_timer **pp = &kts->posix; *pp; pp = &(*pp)->next) {
        if (*pp == pt) {
            *pp = pt->next;
            break;
        }
    }
    timer_disarm(&pt->kt);
    kts->nposix--;
    free(pt);
}

int timer_posix_delete(struct task *t, int id)
{
    struct posix_timer *pt = posix_find(t, id);
    if (!pt)
        return -ABI_EINVAL;
    posix_free(t->tg->timers, pt);
    return 0;
}

void timer_exec(struct thread_group *tg)
{
    struct kernel_timers *kts = tg->timers;
    while (kts && kts->posix)
        posix_free(kts, kts->posix);
}

void timer_exit_group(struct thread_group *tg)
{
    struct kernel_timers *kts = tg->timers;
    if (!kts)
        return;
    timer_exec(tg);
    for (int i = 0; i < 3; i++)
        timer_disarm(&kts->itimer[i]);
    free(kts);
    tg->timers = NULL;
}
