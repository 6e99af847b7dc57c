/* What poll, select and epoll_wait share: timeouts as deadlines and the
 * signal mask a ppoll, pselect6 or epoll_pwait installs for its wait. */
#ifndef MOAT_SENTRY_SYSCALLS_POLL_COMMON_H
#define MOAT_SENTRY_SYSCALLS_POLL_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"

/* A wait's end: never (no timeout), now (a zero timeout: test once), or
 * a deadline on CLOCK_MONOTONIC. */
struct poll_timeout {
    bool forever;
    bool zero;
    struct kernel_deadline dl;
};

/* From a relative timespec; -EINVAL when it is not a valid one. */
int poll_timeout_from_ts(const struct abi_timespec *ts, struct poll_timeout *out);
/* From milliseconds, negative meaning forever (poll, epoll_wait). */
void poll_timeout_from_ms(int64_t ms, struct poll_timeout *out);
/* The deadline to sleep until, or NULL for forever. */
const struct kernel_deadline *poll_timeout_deadline(const struct poll_timeout *to);

/* The mask a p-variant waits with. addr 0: none. Installs it and saves the
 * old one; -EINVAL for a size other than 8, -EFAULT. */
struct poll_sigmask {
    bool set;
    abi_sigset_t saved;
};
int poll_sigmask_install(struct task *t, uint64_t addr, uint64_t size, struct poll_sigmask *m);
/* Put the task's own mask back after the wait. When a signal ended it
 * (interrupted), the wait's mask stays until that signal's handler has been
 * set up, as Linux's restore_saved_sigmask_unless: a signal only the wait's
 * mask lets through still runs its handler. */
void poll_sigmask_restore(struct task *t, struct poll_sigmask *m, bool interrupted);

#endif
