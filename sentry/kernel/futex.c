/* Futex wait queues, requeueing, PI ownership and robust lists (futex.h). */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"

struct futex_waiter {
    struct futex_waiter *prev, *next;
    struct futex_key key;
    uint32_t bitset;
    struct task *t;
    bool woken;
    bool pi; /* waits to be handed a PI lock */
    /* Woken without the lock (its owner died): try to take it again. */
    bool retry;
};

/* Every waiter of the sandbox, in arrival order (wake-ups are FIFO). A
 * sandbox has few sleeping threads; a hash comes when that changes. */
static struct futex_waiter *head, *tail;

/* Waiters live on their sleeper's stack and always leave the list before
 * it returns; kept out of line so the compiler does not mistake that for a
 * dangling pointer. */
__attribute__((noinline)) static void enqueue(struct futex_waiter *w)
{
    w->next = NULL;
    w->prev = tail;
    if (tail)
        tail->next = w;
    else
        head = w;
    tail = w;
}

static void dequeue(struct futex_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else if (head == w)
        head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else if (tail == w)
        tail = w->prev;
    w->prev = w->next = NULL;
}

static bool key_eq(const struct futex_key *a, const struct futex_key *b)
{
    return a->obj == b->obj && a->off == b->off;
}

int futex_key_for(struct task *t, uint64_t addr, bool shared, struct futex_key *key)
{
    if (addr & 3)
        return -ABI_EINVAL;
    /* A shared key names the memory, which must be mapped (EFAULT); a
     * private one is only an address, as on Linux. */
    uint32_t v;
    if (shared && mm_copy_in(t->mm, &v, addr, sizeof(v)) != 0)
        return -ABI_EFAULT;
    uint64_t id;
    if (shared && mm_shared_id(t->mm, addr, &key->obj, &id) == 0) {
        key->off = id;
        return 0;
    }
    key->obj = t->vm;
    key->off = addr;
    return 0;
}

static void wake_one(struct futex_waiter *w)
{
    dequeue(w);
    w->woken = true;
    task_wake(w->t);
}

int futex_wait(struct task *t, uint64_t addr, bool shared, uint32_t val, uint32_t bitset,
               const struct kernel_deadline *dl)
{
    struct futex_waiter w = {.bitset = bitset, .t = t};
    int err = futex_key_for(t, addr, shared, &w.key);
    if (err)
        return err;
    uint32_t cur;
    if (mm_copy_in(t->mm, &cur, addr, sizeof(cur)) != 0)
        return -ABI_EFAULT;
    if (cur != val)
        return -ABI_EAGAIN;
    enqueue(&w);
    int r = 0;
    while (!w.woken) {
        r = task_sleep(t, dl);
        if (r != 0 && !w.woken)
            break;
    }
    if (w.woken)
        return 0;
    dequeue(&w);
    return r;
}

int futex_wake_key(const struct futex_key *key, int n, uint32_t bitset)
{
    int woken = 0;
    struct futex_waiter *w = head;
    while (w && woken < n) {
        struct futex_waiter *next = w->next;
        if (key_eq(&w->key, key) && (w->bitset & bitset) && !w->pi) {
            wake_one(w);
            woken++;
        }
        w = next;
    }
    return woken;
}

int futex_wake_addr(struct task *t, uint64_t addr, int n)
{
    struct futex_key key;
    if (futex_key_for(t, addr, true, &key) != 0)
        return 0;
    return futex_wake_key(&key, n, ABI_FUTEX_BITSET_MATCH_ANY);
}

int futex_requeue(const struct futex_key *from, const struct futex_key *to, int n, int n2)
{
    int done = 0, moved = 0;
    struct futex_waiter *w = head;
    while (w) {
        struct futex_waiter *next = w->next;
        if (key_eq(&w->key, from) && !w->pi) {
            if (done < n) {
                wake_one(w);
                done++;
            } else if (moved < n2) {
                w->key = *to;
                moved++;
            } else {
                break;
            }
        }
        w = next;
    }
    return done + moved;
}

/* ---- PI ---- */

/* Compare-and-swap on the guest word, through the Sentry's own mapping so
 * that guest threads running meanwhile see one atomic operation. */
static int word_cmpxchg(struct task *t, uint64_t addr, uint32_t old, uint32_t new, uint32_t *cur)
{
    uint32_t *p;
    int err = mm_user_word(t->mm, addr, true, &p);
    if (err)
        return err;
    uint32_t expected = old;
    __atomic_compare_exchange_n(p, &expected, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    *cur = expected;
    return 0;
}

static bool tid_alive(struct kernel *k, uint32_t tid)
{
    return tid && kernel_tid_lookup(k, (int)tid) != NULL;
}

int futex_lock_pi(struct task *t, uint64_t addr, bool shared, const struct kernel_deadline *dl,
                  bool try_only)
{
    struct futex_waiter w = {.bitset = ABI_FUTEX_BITSET_MATCH_ANY, .t = t, .pi = true};
    int err = futex_key_for(t, addr, shared, &w.key);
    if (err)
        return err;
    uint32_t me = (uint32_t)t->tid;
    for (;;) {
        uint32_t cur;
        if (mm_copy_in(t->mm, &cur, addr, sizeof(cur)) != 0)
            return -ABI_EFAULT;
        uint32_t owner = cur & ABI_FUTEX_TID_MASK;
        if (owner == me)
            return -ABI_EDEADLK;
        if (owner == 0 || !tid_alive(t->k, owner)) {
            /* Free, or its owner died without unlocking: take it, keeping
             * the waiters bit, and telling of a dead owner. */
            uint32_t want = me | (cur & (ABI_FUTEX_WAITERS | ABI_FUTEX_OWNER_DIED));
            if (owner)
                want |= ABI_FUTEX_OWNER_DIED;
            uint32_t seen;
            err = word_cmpxchg(t, addr, cur, want, &seen);
            if (err)
                return err;
            if (seen == cur)
                return 0;
            continue;
        }
        if (try_only)
            return -ABI_EAGAIN;
        if (!(cur & ABI_FUTEX_WAITERS)) {
            uint32_t seen;
            err = word_cmpxchg(t, addr, cur, cur | ABI_FUTEX_WAITERS, &seen);
            if (err)
                return err;
            if (seen != cur)
                continue;
        }
        w.woken = false;
        w.retry = false;
        enqueue(&w);
        int r = 0;
        while (!w.woken) {
            r = task_sleep(t, dl);
            if (r != 0 && !w.woken)
                break;
        }
        if (w.woken && w.retry)
            continue; /* the owner died holding it: the word says so */
        if (w.woken)
            return 0; /* the unlocker handed us the lock */
        dequeue(&w);
        return r;
    }
}

int futex_unlock_pi(struct task *t, uint64_t addr, bool shared)
{
    struct futex_key key;
    int err = futex_key_for(t, addr, shared, &key);
    if (err)
        return err;
    uint32_t cur;
    if (mm_copy_in(t->mm, &cur, addr, sizeof(cur)) != 0)
        return -ABI_EFAULT;
    if ((cur & ABI_FUTEX_TID_MASK) != (uint32_t)t->tid)
        return -ABI_EPERM;
    struct futex_waiter *next = NULL;
    bool more = false;
    for (struct futex_waiter *w = head; w; w = w->next)
        if (w->pi && key_eq(&w->key, &key)) {
            if (!next)
                next = w;
            else {
                more = true;
                break;
            }
        }
    uint32_t want = next ? ((uint32_t)next->t->tid | (more ? ABI_FUTEX_WAITERS : 0)) : 0;
    uint32_t seen;
    for (;;) {
        err = word_cmpxchg(t, addr, cur, want, &seen);
        if (err)
            return err;
        if (seen == cur)
            break;
        if ((seen & ABI_FUTEX_TID_MASK) != (uint32_t)t->tid)
            return -ABI_EPERM;
        cur = seen;
    }
    if (next)
        wake_one(next);
    return 0;
}

/* ---- robust lists ---- */

/* How many entries a robust list walk follows, as Linux's ROBUST_LIST_LIMIT:
 * a guest-made cycle must not hold the exiting thread forever. */
#define ROBUST_LIMIT 2048

static void robust_release(struct task *t, uint64_t addr, bool pending)
{
    uint32_t cur;
    if ((addr & 3) || mm_copy_in(t->mm, &cur, addr, sizeof(cur)) != 0)
        return;
    if ((cur & ABI_FUTEX_TID_MASK) != (uint32_t)t->tid) {
        (void)pending;
        return;
    }
    uint32_t want = (cur & ABI_FUTEX_WAITERS) | ABI_FUTEX_OWNER_DIED, seen;
    if (word_cmpxchg(t, addr, cur, want, &seen) != 0 || seen != cur)
        return;
    if (cur & ABI_FUTEX_WAITERS) {
        struct futex_key key;
        if (futex_key_for(t, addr, true, &key) == 0) {
            /* A PI waiter is handed nothing: it retries and finds the dead
             * owner. A plain waiter is woken. */
            for (struct futex_waiter *w = head; w; w = w->next)
                if (key_eq(&w->key, &key)) {
                    w->retry = w->pi;
                    wake_one(w);
                    break;
                }
        }
    }
}

void futex_exit_robust(struct task *t)
{
    if (!t->robust_list || !t->mm)
        return;
    struct {
        uint64_t next;
        int64_t offset;
        uint64_t pending;
    } h;
    if (mm_copy_in(t->mm, &h, t->robust_list, sizeof(h)) != 0)
        return;
    uint64_t entry = h.next;
    for (int i = 0; i < ROBUST_LIMIT && entry != t->robust_list; i++) {
        uint64_t next;
        if (mm_copy_in(t->mm, &next, entry & ~1ULL, sizeof(next)) != 0)
            break;
        if (entry != h.pending)
            robust_release(t, (entry & ~1ULL) + (uint64_t)h.offset, false);
        entry = next;
    }
    if (h.pending)
        robust_release(t, (h.pending & ~1ULL) + (uint64_t)h.offset, true);
    t->robust_list = 0;
}
