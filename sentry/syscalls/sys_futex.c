/* futex(2), futex_waitv aside, and the robust-list calls' argument checks:
 * argument decoding over sentry/kernel/futex.c. */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/kernel/futex.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

static int read_timeout(struct task *t, uint64_t addr, struct abi_timespec *out)
{
    if (mm_copy_in(t->mm, out, addr, sizeof(*out)) != 0)
        return -ABI_EFAULT;
    if (out->tv_sec < 0 || out->tv_nsec < 0 || out->tv_nsec >= 1000000000)
        return -ABI_EINVAL;
    return 0;
}

/* A timed wait interrupted by a signal that runs no handler resumes
 * through restart_syscall with what is left of its absolute deadline. */
static int64_t wait_restart(struct task *t)
{
    uint64_t addr = t->restart_data[0];
    uint32_t val = (uint32_t)t->restart_data[1];
    uint32_t bitset = (uint32_t)(t->restart_data[1] >> 32);
    bool shared = (t->restart_data[2] >> 32) & 1;
    struct kernel_deadline dl = {.clock = (clockid_t)(uint32_t)t->restart_data[2]};
    dl.at.tv_sec = (time_t)(t->restart_data[3] >> 30);
    dl.at.tv_nsec = (long)(t->restart_data[3] & ((1ULL << 30) - 1));
    int r = futex_wait(t, addr, shared, val, bitset, &dl);
    if (r == -ABI_EINTR) {
        t->restart_fn = wait_restart;
        return -ABI_ERESTART_RESTARTBLOCK;
    }
    return r;
}

static int64_t do_wait(struct task *t, uint64_t uaddr, bool shared, uint32_t val, uint64_t utime,
                       bool absolute, clockid_t clock, uint32_t bitset)
{
    struct kernel_deadline dl, *dlp = NULL;
    if (utime) {
        struct abi_timespec ts;
        int err = read_timeout(t, utime, &ts);
        if (err)
            return err;
        struct timespec v = {ts.tv_sec, ts.tv_nsec};
        if (absolute) {
            dl.clock = clock;
            dl.at = v;
        } else {
            dl = kernel_deadline_after(clock, &v);
        }
        dlp = &dl;
    }
    int r = futex_wait(t, uaddr, shared, val, bitset, dlp);
    if (r != -ABI_EINTR)
        return r;
    if (!dlp)
        return -ABI_ERESTARTSYS;
    t->restart_data[0] = uaddr;
    t->restart_data[1] = val | ((uint64_t)bitset << 32);
    t->restart_data[2] = (uint32_t)clock | ((uint64_t)shared << 32);
    t->restart_data[3] = ((uint64_t)dl.at.tv_sec << 30) | (uint64_t)dl.at.tv_nsec;
    t->restart_fn = wait_restart;
    return -ABI_ERESTART_RESTARTBLOCK;
}

/* FUTEX_WAKE_OP's operation on *uaddr2, atomic against guest threads that
 * run meanwhile; returns the old value through *old. */
static int wake_op_apply(struct task *t, uint64_t uaddr2, uint32_t encoded, uint32_t *old)
{
    uint32_t op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
    uint32_t oparg = (encoded >> 12) & 0xfff, cmparg = encoded & 0xfff;
    (void)cmp;
    (void)cmparg;
    if ((encoded >> 28) & 8) { /* FUTEX_OP_OPARG_SHIFT */
        if (oparg > 31)
            return -ABI_EINVAL;
        oparg = 1u << oparg;
    } else {
        /* A sign-extended 12-bit argument. */
        oparg = (uint32_t)((int32_t)(oparg << 20) >> 20);
    }
    uint32_t *p;
    int err = mm_user_word(t->mm, uaddr2, true, &p);
    if (err)
        return err;
    switch (op) {
    case 0: /* SET */
        *old = __atomic_exchange_n(p, oparg, __ATOMIC_SEQ_CST);
        return 0;
    case 1: /* ADD */
        *old = __atomic_fetch_add(p, oparg, __ATOMIC_SEQ_CST);
        return 0;
    case 2: /* OR */
        *old = __atomic_fetch_or(p, oparg, __ATOMIC_SEQ_CST);
        return 0;
    case 3: /* ANDN */
        *old = __atomic_fetch_and(p, ~oparg, __ATOMIC_SEQ_CST);
        return 0;
    case 4: /* XOR */
        *old = __atomic_fetch_xor(p, oparg, __ATOMIC_SEQ_CST);
        return 0;
    default:
        return -ABI_ENOSYS;
    }
}

static bool wake_op_cmp(uint32_t encoded, uint32_t oldval)
{
    uint32_t cmp = (encoded >> 24) & 15;
    int32_t cmparg = (int32_t)((encoded & 0xfff) << 20) >> 20;
    int32_t o = (int32_t)oldval;
    switch (cmp) {
    case 0:
        return o == cmparg;
    case 1:
        return o != cmparg;
    case 2:
        return o < cmparg;
    case 3:
        return o <= cmparg;
    case 4:
        return o > cmparg;
    case 5:
        return o >= cmparg;
    default:
        return false;
    }
}

int64_t sys_futex(struct task *t, const uint64_t a[6])
{
    uint64_t uaddr = a[0];
    int op = (int)a[1];
    int cmd = op & ABI_FUTEX_CMD_MASK;
    bool shared = !(op & ABI_FUTEX_PRIVATE_FLAG);
    bool realtime = (op & ABI_FUTEX_CLOCK_REALTIME) != 0;
    uint32_t val = (uint32_t)a[2];
    if (realtime && cmd != ABI_FUTEX_WAIT && cmd != ABI_FUTEX_WAIT_BITSET &&
        cmd != ABI_FUTEX_LOCK_PI2 && cmd != ABI_FUTEX_WAIT_REQUEUE_PI)
        return -ABI_ENOSYS;
    if (uaddr & 3)
        return -ABI_EINVAL;
    if (!kernel_access_ok(uaddr, sizeof(uint32_t)))
        return -ABI_EFAULT;
    clockid_t clock = realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    switch (cmd) {
    case ABI_FUTEX_WAIT:
        /* A relative timeout, measured on CLOCK_MONOTONIC unless
         * FUTEX_CLOCK_REALTIME is given. */
        return do_wait(t, uaddr, shared, val, a[3], false, clock, ABI_FUTEX_BITSET_MATCH_ANY);
    case ABI_FUTEX_WAIT_BITSET:
        if ((uint32_t)a[5] == 0)
            return -ABI_EINVAL;
        return do_wait(t, uaddr, shared, val, a[3], true, clock, (uint32_t)a[5]);
    case ABI_FUTEX_WAKE:
    case ABI_FUTEX_WAKE_BITSET: {
        uint32_t bitset = cmd == ABI_FUTEX_WAKE ? ABI_FUTEX_BITSET_MATCH_ANY : (uint32_t)a[5];
        if (bitset == 0)
            return -ABI_EINVAL;
        struct futex_key key;
        int err = futex_key_for(t, uaddr, shared, &key);
        if (err)
            return err;
        /* Linux wakes at least one: a count of 0 or less counts as 1. */
        return futex_wake_key(&key, (int32_t)val <= 0 ? 1 : (int)val, bitset);
    }
    case ABI_FUTEX_REQUEUE:
    case ABI_FUTEX_CMP_REQUEUE: {
        int32_t n = (int32_t)val, n2 = (int32_t)a[3];
        if (n < 0 || n2 < 0)
            return -ABI_EINVAL;
        if (a[4] & 3)
            return -ABI_EINVAL;
        struct futex_key from, to;
        int err = futex_key_for(t, uaddr, shared, &from);
        if (!err)
            err = futex_key_for(t, a[4], shared, &to);
        if (err)
            return err;
        if (cmd == ABI_FUTEX_CMP_REQUEUE) {
            uint32_t cur;
            if (mm_copy_in(t->mm, &cur, uaddr, sizeof(cur)) != 0)
                return -ABI_EFAULT;
            if (cur != (uint32_t)a[5])
                return -ABI_EAGAIN;
        }
        return futex_requeue(&from, &to, n, n2);
    }
    case ABI_FUTEX_WAKE_OP: {
        struct futex_key k1, k2;
        int err = futex_key_for(t, uaddr, shared, &k1);
        if (!err)
            err = futex_key_for(t, a[4], shared, &k2);
        if (err)
            return err;
        uint32_t old;
        err = wake_op_apply(t, a[4], (uint32_t)a[5], &old);
        if (err)
            return err;
        int n = futex_wake_key(&k1, (int)(val > INT32_MAX ? INT32_MAX : val),
                               ABI_FUTEX_BITSET_MATCH_ANY);
        if (wake_op_cmp((uint32_t)a[5], old))
            n += futex_wake_key(&k2, (int32_t)a[3] < 0 ? 0 : (int)(int32_t)a[3],
                                ABI_FUTEX_BITSET_MATCH_ANY);
        return n;
    }
    case ABI_FUTEX_LOCK_PI:
    case ABI_FUTEX_LOCK_PI2:
    case ABI_FUTEX_TRYLOCK_PI: {
        struct kernel_deadline dl, *dlp = NULL;
        if (cmd != ABI_FUTEX_TRYLOCK_PI && a[3]) {
            struct abi_timespec ts;
            int err = read_timeout(t, a[3], &ts);
            if (err)
                return err;
            /* LOCK_PI's absolute timeout is on CLOCK_REALTIME; LOCK_PI2
             * takes the clock flag. */
            dl.clock = (cmd == ABI_FUTEX_LOCK_PI || realtime) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
            dl.at.tv_sec = ts.tv_sec;
            dl.at.tv_nsec = ts.tv_nsec;
            dlp = &dl;
        }
        int r = futex_lock_pi(t, uaddr, shared, dlp, cmd == ABI_FUTEX_TRYLOCK_PI);
        return r == -ABI_EINTR ? -ABI_ERESTARTNOINTR : r;
    }
    case ABI_FUTEX_UNLOCK_PI:
        return futex_unlock_pi(t, uaddr, shared);
    default:
        kernel_log(t->k, "moat: futex op %d is not implemented\n", cmd);
        return -ABI_ENOSYS;
    }
}
