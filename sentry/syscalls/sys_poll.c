/* poll, ppoll, select and pselect6: wait for readiness on a set of fds.
 *
 * Each asks the files for their events (vfs_file_poll) and, when none is
 * ready, sleeps on every file's poll queue at once until a notification,
 * a signal or the deadline; then asks again.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/poll_common.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

/* select's event classes, as Linux groups them. */
#define IN_SET  (ABI_POLLRDNORM | ABI_POLLRDBAND | ABI_POLLIN | ABI_POLLHUP | ABI_POLLERR)
#define OUT_SET (ABI_POLLWRBAND | ABI_POLLWRNORM | ABI_POLLOUT | ABI_POLLERR)
#define EX_SET  (ABI_POLLPRI)

struct poll_item {
    struct vfs_file *f; /* referenced; NULL: no such fd */
    uint32_t events;    /* what the caller asks for (errors always count) */
    uint32_t revents;
    struct waitq_entry w;
};

/* One pass: fill revents; the number of items with any. */
static int poll_pass(struct poll_item *it, size_t n)
{
    int ready = 0;
    for (size_t i = 0; i < n; i++) {
        if (!it[i].f) {
            it[i].revents = it[i].events & ABI_POLLNVAL;
        } else {
            uint32_t want = it[i].events | ABI_POLLERR | ABI_POLLHUP;
            it[i].revents = vfs_file_poll(it[i].f) & want;
        }
        if (it[i].revents)
            ready++;
    }
    return ready;
}

/* Waits until an item is ready or the timeout ends: the number ready (0 at
 * the timeout), or -EINTR when a signal came first. */
static int poll_wait(struct task *t, struct poll_item *it, size_t n, const struct poll_timeout *to)
{
    bool queued = false, timed_out = false;
    int ready;
    for (;;) {
        ready = poll_pass(it, n);
        if (ready || to->zero || timed_out)
            break;
        if (!queued) {
            /* The kernel lock is held from the pass to the sleep, so no
             * notification can slip between them. */
            for (size_t i = 0; i < n; i++) {
                task_waiter_init(t, &it[i].w, 0);
                struct waitq *q =
                    it[i].f && it[i].f->ops->poll_queue ? it[i].f->ops->poll_queue(it[i].f) : NULL;
                if (q)
                    waitq_add(q, &it[i].w);
            }
            queued = true;
        }
        int err = task_sleep(t, poll_timeout_deadline(to));
        if (err == -ABI_EINTR) {
            ready = -ABI_EINTR;
            break;
        }
        if (err == -ABI_ETIMEDOUT)
            timed_out = true;
    }
    if (queued) {
        for (size_t i = 0; i < n; i++)
            waitq_remove(&it[i].w);
    }
    return ready;
}

static void items_put(struct poll_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vfs_file_put(it[i].f);
    free(it);
}

static struct vfs_file *fd_get(struct task *t, int64_t fd)
{
    if (fd < 0 || fd > INT32_MAX)
        return NULL;
    struct vfs_file *f = vfs_fd_lookup(t->fds, (int)fd);
    return f ? vfs_file_get(f) : NULL;
}

/* ---- poll, ppoll ---- */

static int64_t do_poll(struct task *t, uint64_t ufds, uint64_t nfds, const struct poll_timeout *to)
{
    if (nfds > t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur || nfds > (1u << 20))
        return -ABI_EINVAL;
    struct abi_pollfd *pfd = calloc(nfds ? nfds : 1, sizeof(*pfd));
    struct poll_item *it = calloc(nfds ? nfds : 1, sizeof(*it));
    if (!pfd || !it) {
        free(pfd);
        free(it);
        return -ABI_ENOMEM;
    }
    if (nfds && mm_copy_in(t->mm, pfd, ufds, nfds * sizeof(*pfd)) != 0) {
        free(pfd);
        free(it);
        return -ABI_EFAULT;
    }
    for (size_t i = 0; i < nfds; i++) {
        /* A negative fd is skipped: no events, and revents 0. */
        if (pfd[i].fd < 0)
            continue;
        it[i].f = fd_get(t, pfd[i].fd);
        it[i].events = it[i].f ? (uint16_t)pfd[i].events : ABI_POLLNVAL;
    }
    int64_t r = poll_wait(t, it, nfds, to);
    if (r >= 0) {
        for (size_t i = 0; i < nfds; i++)
            pfd[i].revents = (int16_t)it[i].revents;
        if (nfds && mm_copy_out(t->mm, ufds, pfd, nfds * sizeof(*pfd)) != 0)
            r = -ABI_EFAULT;
    }
    items_put(it, nfds);
    free(pfd);
    return r;
}

/* restart_syscall(2) after a poll with a timeout was interrupted: the same
 * fds, until the original deadline. */
static int64_t poll_restart(struct task *t)
{
    struct poll_timeout to = {.forever = false};
    to.dl.clock = CLOCK_MONOTONIC;
    to.dl.at.tv_sec = (time_t)t->restart_data[2];
    to.dl.at.tv_nsec = (long)t->restart_data[3];
    struct timespec left = kernel_deadline_left(&to.dl);
    to.zero = left.tv_sec == 0 && left.tv_nsec == 0;
    int64_t r = do_poll(t, t->restart_data[0], t->restart_data[1], &to);
    return r == -ABI_EINTR ? -ABI_ERESTART_RESTARTBLOCK : r;
}

int64_t sys_poll(struct task *t, const uint64_t a[6])
{
    struct poll_timeout to;
    int ms = (int)a[2];
    poll_timeout_from_ms(ms, &to);
    int64_t r = do_poll(t, a[0], a[1], &to);
    if (r != -ABI_EINTR)
        return r;
    /* Without a timeout the call simply restarts unless a handler ran;
     * with one, restart_syscall resumes it with the time left. */
    if (ms < 0)
        return -ABI_ERESTARTNOHAND;
    t->restart_fn = poll_restart;
    t->restart_data[0] = a[0];
    t->restart_data[1] = a[1];
    t->restart_data[2] = (uint64_t)to.dl.at.tv_sec;
    t->restart_data[3] = (uint64_t)to.dl.at.tv_nsec;
    return -ABI_ERESTART_RESTARTBLOCK;
}

/* ppoll and pselect6 write the time left back (not after a zero timeout);
 * when that write faults they cannot be restarted: EINTR. */
static int64_t timeout_writeback(struct task *t, uint64_t addr, const struct poll_timeout *to,
                                 int64_t r, bool timeval)
{
    if (!addr || to->zero || to->forever)
        return r;
    struct timespec left = kernel_deadline_left(&to->dl);
    int err;
    if (timeval) {
        struct abi_timeval tv = {left.tv_sec, left.tv_nsec / 1000};
        err = mm_copy_out(t->mm, addr, &tv, sizeof(tv));
    } else {
        struct abi_timespec ts = {left.tv_sec, left.tv_nsec};
        err = mm_copy_out(t->mm, addr, &ts, sizeof(ts));
    }
    if (err && r == -ABI_ERESTARTNOHAND)
        return -ABI_EINTR;
    return r;
}

int64_t sys_ppoll(struct task *t, const uint64_t a[6])
{
    struct poll_timeout to = {.forever = true};
    if (a[2]) {
        struct abi_timespec ts;
        if (mm_copy_in(t->mm, &ts, a[2], sizeof(ts)) != 0)
            return -ABI_EFAULT;
        if (poll_timeout_from_ts(&ts, &to) != 0)
            return -ABI_EINVAL;
    }
    struct poll_sigmask mask;
    int err = poll_sigmask_install(t, a[3], a[4], &mask);
    if (err)
        return err;
    int64_t r = do_poll(t, a[0], a[1], &to);
    poll_sigmask_restore(t, &mask, r == -ABI_EINTR);
    if (r == -ABI_EINTR)
        r = -ABI_ERESTARTNOHAND;
    return timeout_writeback(t, a[2], &to, r, false);
}

/* ---- select, pselect6 ---- */

#define NSETS 3

/* select looks at no fd past the fd table's size (Linux clamps n to its
 * max_fds, which grows in steps from 64). */
static uint64_t table_bound(struct task *t)
{
    int hi = -1;
    for (int fd = vfs_fd_next_open(t->fds, 0); fd >= 0; fd = vfs_fd_next_open(t->fds, fd + 1))
        hi = fd;
    uint64_t bound = 64;
    while (bound <= (uint64_t)hi)
        bound *= 2;
    return bound;
}

static int64_t do_select(struct task *t, int64_t n, const uint64_t sets[NSETS],
                         const struct poll_timeout *to)
{
    if (n < 0 || n > INT32_MAX)
        return -ABI_EINVAL;
    uint64_t bound = table_bound(t);
    if ((uint64_t)n > bound)
        n = (int64_t)bound;
    size_t words = ((size_t)n + 63) / 64;
    uint64_t *in = calloc(NSETS * words + 1, sizeof(uint64_t));
    if (!in)
        return -ABI_ENOMEM;
    for (int s = 0; s < NSETS; s++) {
        if (sets[s] && words &&
            mm_copy_in(t->mm, in + s * words, sets[s], words * sizeof(uint64_t)) != 0) {
            free(in);
            return -ABI_EFAULT;
        }
    }
    /* One item per fd named in any set; a closed one is EBADF. */
    size_t count = 0;
    for (int64_t fd = 0; fd < n; fd++) {
        for (int s = 0; s < NSETS; s++) {
            if (in[s * words + fd / 64] & (1ull << (fd % 64))) {
                count++;
                break;
            }
        }
    }
    struct poll_item *it = calloc(count ? count : 1, sizeof(*it));
    int *fdof = calloc(count ? count : 1, sizeof(int));
    if (!it || !fdof) {
        free(it);
        free(fdof);
        free(in);
        return -ABI_ENOMEM;
    }
    size_t k = 0;
    int64_t r = 0;
    for (int64_t fd = 0; fd < n && r == 0; fd++) {
        uint32_t ev = 0;
        if (in[fd / 64] & (1ull << (fd % 64)))
            ev |= IN_SET;
        if (in[words + fd / 64] & (1ull << (fd % 64)))
            ev |= OUT_SET;
        if (in[2 * words + fd / 64] & (1ull << (fd % 64)))
            ev |= EX_SET;
        if (!ev)
            continue;
        it[k].f = fd_get(t, fd);
        if (!it[k].f)
            r = -ABI_EBADF;
        it[k].events = ev;
        fdof[k++] = (int)fd;
    }
    if (r == 0)
        r = poll_wait(t, it, k, to);
    if (r >= 0) {
        uint64_t *out = calloc(NSETS * words + 1, sizeof(uint64_t));
        if (!out) {
            r = -ABI_ENOMEM;
        } else {
            r = 0;
            for (size_t i = 0; i < k; i++) {
                int fd = fdof[i];
                uint32_t got = it[i].revents, ev = it[i].events;
                uint32_t cls[NSETS] = {IN_SET, OUT_SET, EX_SET};
                for (int s = 0; s < NSETS; s++) {
                    if ((ev & cls[s]) && (got & cls[s])) {
                        out[s * words + fd / 64] |= 1ull << (fd % 64);
                        r++;
                    }
                }
            }
            for (int s = 0; s < NSETS && r >= 0; s++) {
                if (sets[s] && words &&
                    mm_copy_out(t->mm, sets[s], out + s * words, words * sizeof(uint64_t)) != 0)
                    r = -ABI_EFAULT;
            }
            free(out);
        }
    }
    items_put(it, k);
    free(fdof);
    free(in);
    return r;
}

int64_t sys_select(struct task *t, const uint64_t a[6])
{
    struct poll_timeout to = {.forever = true};
    if (a[4]) {
        struct abi_timeval tv;
        if (mm_copy_in(t->mm, &tv, a[4], sizeof(tv)) != 0)
            return -ABI_EFAULT;
        /* Linux folds whole seconds of tv_usec into tv_sec first. */
        if (tv.tv_sec < 0 || tv.tv_usec < 0)
            return -ABI_EINVAL;
        struct abi_timespec ts = {tv.tv_sec + tv.tv_usec / 1000000, (tv.tv_usec % 1000000) * 1000};
        if (poll_timeout_from_ts(&ts, &to) != 0)
            return -ABI_EINVAL;
    }
    uint64_t sets[NSETS] = {a[1], a[2], a[3]};
    int64_t r = do_select(t, (int32_t)a[0], sets, &to);
    if (r == -ABI_EINTR)
        r = -ABI_ERESTARTNOHAND;
    return timeout_writeback(t, a[4], &to, r, true);
}

int64_t sys_pselect6(struct task *t, const uint64_t a[6])
{
    struct poll_timeout to = {.forever = true};
    if (a[4]) {
        struct abi_timespec ts;
        if (mm_copy_in(t->mm, &ts, a[4], sizeof(ts)) != 0)
            return -ABI_EFAULT;
        if (poll_timeout_from_ts(&ts, &to) != 0)
            return -ABI_EINVAL;
    }
    struct poll_sigmask mask = {0};
    if (a[5]) {
        /* struct { const sigset_t *ss; size_t ss_len; } */
        uint64_t ss[2];
        if (mm_copy_in(t->mm, ss, a[5], sizeof(ss)) != 0)
            return -ABI_EFAULT;
        int err = poll_sigmask_install(t, ss[0], ss[1], &mask);
        if (err)
            return err;
    }
    uint64_t sets[NSETS] = {a[1], a[2], a[3]};
    int64_t r = do_select(t, (int32_t)a[0], sets, &to);
    poll_sigmask_restore(t, &mask, r == -ABI_EINTR);
    if (r == -ABI_EINTR)
        r = -ABI_ERESTARTNOHAND;
    return timeout_writeback(t, a[4], &to, r, false);
}
