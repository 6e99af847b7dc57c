/* How Sentry threads share the kernel and how tasks sleep.
 *
 * Every guest task is run by a Sentry thread of its own. Kernel state (the
 * task tree, signals, the VFS and filesystems, address spaces) is guarded by
 * one lock, the kernel lock, which a Sentry thread holds while it handles a
 * syscall or fault and drops while its guest runs and while it sleeps. Guest
 * code therefore runs in parallel; syscall handling is serialised, a first
 * step that later work narrows subsystem by subsystem (docs/architecture.md).
 *
 * A task sleeps with task_sleep(): it gives up the kernel lock and wakes on
 * a notification of a wait queue it has joined, on a signal for it, or at a
 * deadline. Since waker and sleeper both hold the kernel lock while they test
 * and change state, no wake-up is lost between a test and the sleep.
 */
#ifndef MOAT_SENTRY_KERNEL_SCHED_H
#define MOAT_SENTRY_KERNEL_SCHED_H

#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct task;

/* ---- the kernel lock ---- */
void kernel_lock(void);
void kernel_unlock(void);
/* Whether the calling thread holds it (for assertions). */
bool kernel_lock_held(void);
/* Wait on c, which is signalled under the kernel lock (held on entry and
 * return). */
void kernel_cond_wait(pthread_cond_t *c);

/* ---- wait queues ----
 * An object whose state others wait on (a pipe, a futex word, a child's
 * exit) owns a waitq and notifies it with the events that happened (ABI_POLL*
 * bits for files; 0 when there is nothing more specific to say). All calls
 * under the kernel lock. */
struct waitq_entry;
struct waitq {
    struct waitq_entry *head;
};
struct waitq_entry {
    struct waitq_entry *prev, *next;
    struct waitq *q; /* NULL while on no queue */
    /* Events the entry cares about; 0: every notification. */
    uint32_t mask;
    /* Called under the kernel lock by waitq_notify. */
    void (*notify)(struct waitq_entry *e, uint32_t events);
    void *arg;
};
void waitq_init(struct waitq *q);
void waitq_add(struct waitq *q, struct waitq_entry *e);
/* Safe to call for an entry on no queue. */
void waitq_remove(struct waitq_entry *e);
/* Calls every entry whose mask meets events (events 0 reaches all);
 * entries may remove themselves from within notify. */
void waitq_notify(struct waitq *q, uint32_t events);
bool waitq_empty(const struct waitq *q);

/* ---- sleeping tasks ---- */

/* When a sleep ends on its own: an absolute time on a clock
 * (CLOCK_MONOTONIC or CLOCK_REALTIME); NULL everywhere means never. */
struct kernel_deadline {
    clockid_t clock;
    struct timespec at;
};
/* A deadline rel from now on clock. */
struct kernel_deadline kernel_deadline_after(clockid_t clock, const struct timespec *rel);
/* Time left until dl (zero when it has passed). */
struct timespec kernel_deadline_left(const struct kernel_deadline *dl);

/* Make e an entry that wakes t (mask as for waitq_entry). */
void task_waiter_init(struct task *t, struct waitq_entry *e, uint32_t mask);
/* Sleep until woken, a signal is pending for t (or t must exit), or dl.
 * Returns 0 when woken (the caller re-tests its condition: wake-ups may be
 * spurious), -ABI_EINTR when interrupted (the caller returns
 * -ABI_ERESTARTSYS, -ABI_EINTR or its restart code), -ABI_ETIMEDOUT.
 * Called with the kernel lock held; drops it while asleep. */
int task_sleep(struct task *t, const struct kernel_deadline *dl);
/* The same, ignoring signals (uninterruptible sleeps: vfork's parent waits
 * this way for nothing but SIGKILL, which still ends it). */
int task_sleep_nosignal(struct task *t, const struct kernel_deadline *dl);
/* Wake t if it sleeps (or make its next sleep return at once). */
void task_wake(struct task *t);
/* Whether a sleep of t would be interrupted now: an unblocked signal is
 * pending for it, or its thread group is exiting. */
bool task_interrupted(const struct task *t);

/* Wait for host fd to have one of events (host POLL* bits), dropping the
 * kernel lock meanwhile. Returns the host revents, -ABI_EINTR when a signal
 * for t interrupted the wait, -ABI_ETIMEDOUT, or another -errno. For files
 * backed by host fds (stdin/stdout pipes the sandbox was given). */
int task_host_poll(struct task *t, int fd, short events, const struct kernel_deadline *dl);

/* The host signal a Sentry thread gets when its task must stop waiting in
 * the host (task_host_poll). Blocked in every Sentry thread at all other
 * times, so it never interrupts anything else. */
#define KERNEL_INTERRUPT_SIGNAL (SIGRTMAX - 1)

#endif
