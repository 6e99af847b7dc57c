/* Futexes: guest threads waiting on words of guest memory.
 *
 * A waiter is keyed by what its word is: a private futex by its address in
 * its address space, a shared one by the memory behind it, so processes
 * mapping the same shared memory at different addresses meet. All under the
 * kernel lock; a waiter sleeps with task_sleep. */
#ifndef MOAT_SENTRY_KERNEL_FUTEX_H
#define MOAT_SENTRY_KERNEL_FUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/kernel/sched.h"

struct task;

struct futex_key {
    const void *obj;
    uint64_t off;
};

/* The key of the word at addr (aligned) for t; -EFAULT when unmapped. */
int futex_key_for(struct task *t, uint64_t addr, bool shared, struct futex_key *key);

/* FUTEX_WAIT(_BITSET): sleep while *addr == val, until woken with a
 * matching bitset, dl, or a signal. 0, -EAGAIN, -ETIMEDOUT, -EINTR. */
int futex_wait(struct task *t, uint64_t addr, bool shared, uint32_t val, uint32_t bitset,
               const struct kernel_deadline *dl);
/* Wake up to n waiters of key whose bitset meets bitset; the count. */
int futex_wake_key(const struct futex_key *key, int n, uint32_t bitset);
/* Wake up to n waiters on addr (shared key rules: clear_child_tid). */
int futex_wake_addr(struct task *t, uint64_t addr, int n);
/* Wake n on from, move up to n2 of the rest to to; wakes + moves. */
int futex_requeue(const struct futex_key *from, const struct futex_key *to, int n, int n2);

/* PI futexes (ownership by tid in the word; no priority boosting: moat's
 * tasks run on host threads of equal priority). */
int futex_lock_pi(struct task *t, uint64_t addr, bool shared, const struct kernel_deadline *dl,
                  bool try_only);
int futex_unlock_pi(struct task *t, uint64_t addr, bool shared);

/* A thread is exiting: walk its robust list, marking the futexes it holds
 * FUTEX_OWNER_DIED and waking one waiter of each. */
void futex_exit_robust(struct task *t);

#endif
