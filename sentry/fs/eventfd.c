/* eventfd files (see eventfd.h).
 *
 * A read takes the whole count (or 1 in semaphore mode) and waits while it
 * is 0; a write adds to it and waits while the sum would pass the largest
 * count, 2^64 - 2, which keeps 2^64 - 1 free as the overflow mark Linux
 * reports as POLLERR (only its in-kernel signalling can reach it).
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/fs/eventfd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"

#define COUNT_MAX UINT64_MAX

struct eventfd {
    uint64_t count;
    bool semaphore;
    struct waitq q;
};

static struct eventfd *efd_of(struct vfs_file *f)
{
    return f->priv;
}

static int efd_wait(struct eventfd *e)
{
    struct task *t = kernel_current();
    if (!t)
        return -ABI_EAGAIN;
    struct waitq_entry w;
    task_waiter_init(t, &w, 0);
    waitq_add(&e->q, &w);
    int err = task_sleep(t, NULL);
    waitq_remove(&w);
    return err == -ABI_EINTR ? -ABI_ERESTARTSYS : 0;
}

static int64_t efd_read(struct vfs_file *f, void *buf, size_t n)
{
    struct eventfd *e = efd_of(f);
    if (n < sizeof(uint64_t))
        return -ABI_EINVAL;
    while (e->count == 0) {
        if (f->flags & ABI_O_NONBLOCK)
            return -ABI_EAGAIN;
        int err = efd_wait(e);
        if (err)
            return err;
    }
    uint64_t v = e->semaphore ? 1 : e->count;
    e->count -= v;
    memcpy(buf, &v, sizeof(v));
    waitq_notify(&e->q, ABI_POLLOUT | ABI_POLLWRNORM);
    return sizeof(v);
}

static int64_t efd_write(struct vfs_file *f, const void *buf, size_t n)
{
    struct eventfd *e = efd_of(f);
    if (n < sizeof(uint64_t))
        return -ABI_EINVAL;
    uint64_t v;
    memcpy(&v, buf, sizeof(v));
    if (v == COUNT_MAX)
        return -ABI_EINVAL;
    while (COUNT_MAX - e->count <= v) {
        if (f->flags & ABI_O_NONBLOCK)
            return -ABI_EAGAIN;
        int err = efd_wait(e);
        if (err)
            return err;
    }
    e->count += v;
    if (v)
        waitq_notify(&e->q, ABI_POLLIN | ABI_POLLRDNORM);
    return sizeof(v);
}

static uint32_t efd_poll(struct vfs_file *f)
{
    struct eventfd *e = efd_of(f);
    uint32_t ev = 0;
    if (e->count > 0)
        ev |= ABI_POLLIN | ABI_POLLRDNORM;
    if (e->count == COUNT_MAX)
        ev |= ABI_POLLERR;
    if (COUNT_MAX - 1 > e->count)
        ev |= ABI_POLLOUT | ABI_POLLWRNORM;
    return ev;
}

static struct waitq *efd_poll_queue(struct vfs_file *f)
{
    return &efd_of(f)->q;
}

static int efd_stat(struct vfs_file *f, struct abi_stat *st)
{
    (void)f;
    anon_inode_stat(st);
    return 0;
}

static void efd_release(struct vfs_file *f)
{
    free(efd_of(f));
}

static const struct vfs_file_ops eventfd_ops = {
    .lseek = anon_inode_lseek,
    .read = efd_read,
    .write = efd_write,
    .stat = efd_stat,
    .release = efd_release,
    .poll = efd_poll,
    .poll_queue = efd_poll_queue,
};

bool eventfd_is_eventfd(const struct vfs_file *f)
{
    return f->ops == &eventfd_ops;
}

int eventfd_create_file(uint64_t initval, uint32_t flags, struct vfs_file **out)
{
    struct eventfd *e = calloc(1, sizeof(*e));
    if (!e)
        return -ABI_ENOMEM;
    e->count = initval;
    e->semaphore = flags & ABI_EFD_SEMAPHORE;
    waitq_init(&e->q);
    struct vfs_file *f = vfs_file_new(&eventfd_ops, ABI_O_RDWR | (flags & ABI_EFD_NONBLOCK), e);
    if (!f) {
        free(e);
        return -ABI_ENOMEM;
    }
    f->fault_mode = VFS_FAULT_WHOLE;
    *out = f;
    return 0;
}
