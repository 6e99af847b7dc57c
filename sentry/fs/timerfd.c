/* timerfd files (see timerfd.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/fs/timerfd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/kernel/timer.h"

struct timerfd {
    struct ktimer kt;
    struct waitq q;
    uint64_t ticks; /* expiries not yet read */
};

static const struct vfs_file_ops timerfd_ops;

static struct timerfd *tfd_of(const struct vfs_file *f)
{
    return f->priv;
}

static void timerfd_fire(struct ktimer *kt, uint64_t periods)
{
    struct timerfd *tf = kt->arg;
    tf->ticks += periods;
    waitq_notify(&tf->q, ABI_POLLIN | ABI_POLLRDNORM);
}

static int timerfd_wait(struct timerfd *tf)
{
    struct task *t = kernel_current();
    if (!t)
        return -ABI_EAGAIN;
    struct waitq_entry e;
    task_waiter_init(t, &e, 0);
    waitq_add(&tf->q, &e);
    int err = task_sleep(t, NULL);
    waitq_remove(&e);
    return err == -ABI_EINTR ? -ABI_ERESTARTSYS : 0;
}

static int64_t timerfd_read(struct vfs_file *f, void *buf, size_t n)
{
    struct timerfd *tf = tfd_of(f);
    if (n < sizeof(uint64_t))
        return -ABI_EINVAL;
    while (!tf->ticks) {
        if (f->flags & ABI_O_NONBLOCK)
            return -ABI_EAGAIN;
        int err = timerfd_wait(tf);
        if (err)
            return err;
    }
    memcpy(buf, &tf->ticks, sizeof(tf->ticks));
    tf->ticks = 0;
    return sizeof(uint64_t);
}

static uint32_t timerfd_poll(struct vfs_file *f)
{
    return tfd_of(f)->ticks ? ABI_POLLIN | ABI_POLLRDNORM : 0;
}

static struct waitq *timerfd_poll_queue(struct vfs_file *f)
{
    return &tfd_of(f)->q;
}

/* Every timerfd is a file of anon_inodefs's one inode (anon_inode.h). */
static int timerfd_stat(struct vfs_file *f, struct abi_stat *st)
{
    (void)f;
    anon_inode_stat(st);
    return 0;
}

static void timerfd_release(struct vfs_file *f)
{
    struct timerfd *tf = tfd_of(f);
    timer_disarm(&tf->kt);
    free(tf);
}

static const struct vfs_file_ops timerfd_ops = {
    .read = timerfd_read,
    .lseek = anon_inode_lseek,
    .stat = timerfd_stat,
    .release = timerfd_release,
    .poll = timerfd_poll,
    .poll_queue = timerfd_poll_queue,
};

bool timerfd_is(const struct vfs_file *f)
{
    return f->ops == &timerfd_ops;
}

/* The host clock a timerfd clock runs on: an alarm clock is its plain
 * twin (moat never suspends, so waking the system means nothing). */
static int host_clock(int clock)
{
    switch (clock) {
    case ABI_CLOCK_REALTIME_ALARM:
        return CLOCK_REALTIME;
    case ABI_CLOCK_BOOTTIME_ALARM:
        return CLOCK_BOOTTIME;
    default:
        return clock;
    }
}

struct vfs_file *timerfd_new(int clock, bool nonblock)
{
    struct timerfd *tf = calloc(1, sizeof(*tf));
    if (!tf)
        return NULL;
    waitq_init(&tf->q);
    timer_init(&tf->kt, host_clock(clock), NULL, timerfd_fire, tf);
    struct vfs_file *f =
        vfs_file_new(&timerfd_ops, ABI_O_RDWR | (nonblock ? ABI_O_NONBLOCK : 0), tf);
    if (!f) {
        free(tf);
        return NULL;
    }
    f->fault_mode = VFS_FAULT_WHOLE;
    return f;
}

void timerfd_get(struct vfs_file *f, int64_t cur[2])
{
    struct timerfd *tf = tfd_of(f);
    cur[0] = timer_left(&tf->kt);
    cur[1] = tf->kt.interval;
}

void timerfd_set(struct vfs_file *f, uint32_t flags, int64_t value, int64_t interval,
                 int64_t old[2])
{
    struct timerfd *tf = tfd_of(f);
    timerfd_get(f, old);
    /* A new setting forgets the expiries of the old one. */
    tf->ticks = 0;
    if (!value) {
        /* Disarmed, yet gettime still shows the interval given. */
        timer_disarm(&tf->kt);
        tf->kt.interval = interval;
        return;
    }
    /* TFD_TIMER_CANCEL_ON_SET needs a settable clock; the sandbox's clocks
     * are never set, so the read it would cancel never is. */
    bool abs = flags & ABI_TFD_TIMER_ABSTIME;
    timer_arm(&tf->kt, abs ? value : timer_clock_now(&tf->kt) + value, interval);
}
