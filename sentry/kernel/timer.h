/* Timers: the one Sentry thread that fires them, and the per-process timers
 * built on it (alarm and the interval timers, POSIX timers).
 *
 * A struct ktimer is an expiry time on one clock, with an optional reload
 * interval and a callback. Armed timers sit on a list that one service
 * thread watches: it sleeps on a condition variable until the earliest
 * expiry, then takes the kernel lock and calls each expired timer's
 * callback with the number of periods that went by. Every call here is made
 * under the kernel lock (sentry/kernel/sched.h), which also guards the list.
 *
 * Clocks: wall clocks are read from the host (CLOCK_MONOTONIC, REALTIME,
 * BOOTTIME, TAI); the CPU clocks measure the guest process's CPU time, read
 * from the host's CPU clock of the stub process that runs the process's
 * threads (as clock_gettime does in sys_time.c). That clock advances only
 * while guest code runs, so the service checks it on a coarse schedule
 * instead of sleeping until a wall-clock time.
 */
#ifndef MOAT_SENTRY_KERNEL_TIMER_H
#define MOAT_SENTRY_KERNEL_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/signal.h"

struct thread_group;
struct task;

/* The clock a ktimer runs on: a host wall clock id, or the CPU time of a
 * process (TIMER_CLOCK_CPU, with its thread group). */
#define TIMER_CLOCK_CPU (-1)

struct ktimer;
/* Called under the kernel lock from the service thread: the timer expired
 * periods times (more than 1 when the thread ran late behind a short
 * interval). The timer is already reloaded or disarmed; the callback may
 * re-arm, disarm or free it. */
typedef void (*ktimer_fire_fn)(struct ktimer *kt, uint64_t periods);

struct ktimer {
    int clock;               /* host clockid_t, or TIMER_CLOCK_CPU */
    struct thread_group *tg; /* TIMER_CLOCK_CPU: whose CPU time */
    bool armed;
    int64_t expires;  /* nanoseconds on the clock */
    int64_t interval; /* reload period in ns; 0: one-shot */
    ktimer_fire_fn fire;
    void *arg;
    struct ktimer *prev, *next; /* on the armed list */
};

void timer_init(struct ktimer *kt, int clock, struct thread_group *tg, ktimer_fire_fn fire,
                void *arg);
/* The timer's clock now, in nanoseconds. */
int64_t timer_clock_now(const struct ktimer *kt);
/* Arm at the absolute time expires on its clock (re-arming moves it). */
void timer_arm(struct ktimer *kt, int64_t expires, int64_t interval);
void timer_disarm(struct ktimer *kt);
/* Nanoseconds until the next expiry: 0 when disarmed, at least 1 when armed
 * (a timer about to fire still counts as running, as Linux reports it). */
int64_t timer_left(const struct ktimer *kt);

/* CPU time of a process in nanoseconds, as its CPU clock reads. */
int64_t timer_process_cpu_ns(const struct thread_group *tg);

/* ---- the per-process timers (process_timers.c) ---- */

/* alarm(2): arm ITIMER_REAL for seconds (0 disarms); the seconds that were
 * left, rounded as Linux rounds them. */
uint64_t timer_alarm(struct task *t, uint64_t seconds);
/* setitimer(2) / getitimer(2), values in nanoseconds (which: ABI_ITIMER_*).
 * old_* may be NULL. -EINVAL for an unknown timer. */
int timer_setitimer(struct task *t, int which, int64_t value, int64_t interval, int64_t *old_value,
                    int64_t *old_interval);
int timer_getitimer(struct task *t, int which, int64_t *value, int64_t *interval);

/* How a POSIX timer notifies (struct sigevent, checked by the syscall). */
struct timer_notify {
    int notify; /* ABI_SIGEV_SIGNAL, _NONE, _THREAD, _THREAD_ID */
    int signo;
    union abi_sigval value;
    int tid; /* ABI_SIGEV_THREAD_ID: the thread of the caller's process */
};
/* timer_create(2): a new timer of t's process on clock (an ABI clock id the
 * caller validated; ev NULL: SIGALRM to the process with the id as value).
 * The new id, or -EINVAL (bad sigevent), -EAGAIN (too many timers). */
int timer_posix_create(struct task *t, int clock, const struct timer_notify *ev);
/* timer_settime(2): value/interval in ns (value 0 disarms), absolute when
 * abs. Old setting in *old (ns left, interval). -EINVAL for an unknown id. */
int timer_posix_settime(struct task *t, int id, bool abs, int64_t value, int64_t interval,
                        int64_t old[2]);
int timer_posix_gettime(struct task *t, int id, int64_t cur[2]);
int timer_posix_getoverrun(struct task *t, int id);
int timer_posix_delete(struct task *t, int id);

/* The process becomes a zombie: every timer goes (the lead calls this). */
void timer_exit_group(struct thread_group *tg);
/* exec: POSIX timers are deleted, the interval timers and alarm persist. */
void timer_exec(struct thread_group *tg);

#endif
