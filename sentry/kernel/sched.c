/* The kernel lock, wait queues and task sleep (see sched.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool lock_held;

void kernel_lock(void)
{
    pthread_mutex_lock(&big_lock);
    lock_held = true;
}

void kernel_unlock(void)
{
    lock_held = false;
    pthread_mutex_unlock(&big_lock);
}

bool kernel_lock_held(void)
{
    return lock_held;
}

void kernel_cond_wait(pthread_cond_t *c)
{
    lock_held = false;
    pthread_cond_wait(c, &big_lock);
    lock_held = true;
}

/* ---- wait queues ---- */

void waitq_init(struct waitq *q)
{
    q->head = NULL;
}

void waitq_add(struct waitq *q, struct waitq_entry *e)
{
    e->q = q;
    e->prev = NULL;
    e->next = q->head;
    if (q->head)
        q->head->prev = e;
    q->head = e;
}

void waitq_remove(struct waitq_entry *e)
{
    if (!e->q)
        return;
    if (e->prev)
        e->prev->next = e->next;
    else
        e->q->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->q = NULL;
    e->prev = e->next = NULL;
}

void waitq_notify(struct waitq *q, uint32_t events)
{
    struct waitq_entry *e = q->head;
    while (e) {
        /* notify may remove e (and only e) from the queue. */
        struct waitq_entry *next = e->next;
        if (!events || !e->mask || (e->mask & events))
            e->notify(e, events);
        e = next;
    }
}

bool waitq_empty(const struct waitq *q)
{
    return q->head == NULL;
}

/* ---- deadlines ---- */

static void ts_add(struct timespec *a, const struct timespec *b)
{
    a->tv_sec += b->tv_sec;
    a->tv_nsec += b->tv_nsec;
    if (a->tv_nsec >= 1000000000) {
        a->tv_sec++;
        a->tv_nsec -= 1000000000;
    }
}

struct kernel_deadline kernel_deadline_after(clockid_t clock, const struct timespec *rel)
{
    struct kernel_deadline dl = {.clock = clock};
    clock_gettime(clock, &dl.at);
    /* Saturate rather than overflow: a deadline centuries away is never. */
    if (rel->tv_sec > (int64_t)1 << 40) {
        dl.at.tv_sec = (int64_t)1 << 41;
        return dl;
    }
    ts_add(&dl.at, rel);
    return dl;
}

struct timespec kernel_deadline_left(const struct kernel_deadline *dl)
{
    struct timespec now, left = {0, 0};
    clock_gettime(dl->clock, &now);
    if (now.tv_sec > dl->at.tv_sec ||
        (now.tv_sec == dl->at.tv_sec && now.tv_nsec >= dl->at.tv_nsec))
        return left;
    left.tv_sec = dl->at.tv_sec - now.tv_sec;
    left.tv_nsec = dl->at.tv_nsec - now.tv_nsec;
    if (left.tv_nsec < 0) {
        left.tv_sec--;
        left.tv_nsec += 1000000000;
    }
    return left;
}

static bool deadline_passed(const struct kernel_deadline *dl)
{
    struct timespec left = kernel_deadline_left(dl);
    return left.tv_sec == 0 && left.tv_nsec == 0;
}

/* ---- sleeping ---- */

static void wake_entry(struct waitq_entry *e, uint32_t events)
{
    (void)events;
    task_wake((struct task *)e->arg);
}

void task_waiter_init(struct task *t, struct waitq_entry *e, uint32_t mask)
{
    memset(e, 0, sizeof(*e));
    e->mask = mask;
    e->notify = wake_entry;
    e->arg = t;
}

void task_wake(struct task *t)
{
    t->wake_pending = true;
    pthread_cond_signal(&t->wake_cond);
    /* A task waiting in the host hears it through its Sentry thread. */
    if (t->host_waiting)
        pthread_kill(t->thread, KERNEL_INTERRUPT_SIGNAL);
}

static int sleep_common(struct task *t, const struct kernel_deadline *dl, bool signals)
{
    for (;;) {
        if (signals ? task_interrupted(t) : task_must_exit(t))
            return -ABI_EINTR;
        if (t->wake_pending) {
            t->wake_pending = false;
            return 0;
        }
        if (dl && deadline_passed(dl))
            return -ABI_ETIMEDOUT;
        lock_held = false;
        t->sleep_state = signals ? 'S' : 'D';
        if (dl)
            pthread_cond_clockwait(&t->wake_cond, &big_lock, dl->clock, &dl->at);
        else
            pthread_cond_wait(&t->wake_cond, &big_lock);
        t->sleep_state = 0;
        lock_held = true;
    }
}

int task_sleep(struct task *t, const struct kernel_deadline *dl)
{
    return sleep_common(t, dl, true);
}

int task_sleep_nosignal(struct task *t, const struct kernel_deadline *dl)
{
    return sleep_common(t, dl, false);
}

int task_host_poll(struct task *t, int fd, short events, const struct kernel_deadline *dl)
{
    for (;;) {
        if (task_interrupted(t))
            return -ABI_EINTR;
        struct timespec left, *tmo = NULL;
        if (dl) {
            left = kernel_deadline_left(dl);
            tmo = &left;
        }
        /* The interrupt signal is blocked except inside ppoll: one sent
         * before ppoll starts stays pending and ends it at once. */
        sigset_t open;
        pthread_sigmask(SIG_SETMASK, NULL, &open);
        sigdelset(&open, KERNEL_INTERRUPT_SIGNAL);
        struct pollfd p = {.fd = fd, .events = events};
        t->host_waiting = true;
        t->sleep_state = 'S';
        kernel_unlock();
        int n = ppoll(&p, 1, tmo, &open);
        int err = errno;
        kernel_lock();
        t->sleep_state = 0;
        t->host_waiting = false;
        if (n > 0)
            return p.revents;
        if (n == 0)
            return -ABI_ETIMEDOUT;
        if (err != EINTR)
            return -err;
    }
}
