/* The fd table: fd numbers to open file descriptions, with close-on-exec. */
#include <errno.h>
#include <stdlib.h>

#include "sentry/kernel/sched.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/lock.h"
#include "sentry/vfs/vfs.h"

/* Bounds the table's growth whatever RLIMIT_NOFILE says (Linux's nr_open). */
#define FDTABLE_MAX 1048576

struct fd_slot {
    struct vfs_file *file;
    bool cloexec;
};

struct vfs_fdtable {
    struct fd_slot *slots;
    int cap;
    int refs; /* tasks sharing it (CLONE_FILES) */
};

static int grow(struct vfs_fdtable *t, int fd);

struct vfs_file *vfs_file_new(const struct vfs_file_ops *ops, uint32_t flags, void *priv)
{
    struct vfs_file *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->ops = ops;
    f->refs = 1;
    f->flags = flags;
    f->priv = priv;
    return f;
}

uint32_t vfs_file_poll(struct vfs_file *f)
{
    if (f->ops->poll)
        return f->ops->poll(f);
    return ABI_POLLIN | ABI_POLLOUT | ABI_POLLRDNORM | ABI_POLLWRNORM;
}

struct vfs_file *vfs_file_get(struct vfs_file *f)
{
    f->refs++;
    return f;
}

void vfs_file_put(struct vfs_file *f)
{
    if (!f || --f->refs > 0)
        return;
    vfs_lock_release_file(f);
    if (f->free_watchers) {
        waitq_notify(f->free_watchers, ABI_POLLFREE);
        free(f->free_watchers);
    }
    if (f->ops->release)
        f->ops->release(f);
    if (f->inode)
        vfs_inode_put(f->inode);
    if (f->dentry)
        vfs_dentry_put(f->dentry);
    if (f->mnt)
        vfs_mount_put(f->mnt);
    free(f);
}

/* An fd of t goes away: the process's record locks on its inode go too
 * (POSIX's rule: any close drops them all), then the fd's reference. */
static void fd_drop(struct vfs_fdtable *t, struct vfs_file *f)
{
    if (f && f->dentry)
        vfs_lock_release_owner(f->dentry->inode, (uintptr_t)t);
    vfs_file_put(f);
}

int vfs_fdtable_create(struct vfs_fdtable **out)
{
    struct vfs_fdtable *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->refs = 1;
    *out = t;
    return 0;
}

struct vfs_fdtable *vfs_fdtable_get(struct vfs_fdtable *t)
{
    t->refs++;
    return t;
}

void vfs_fdtable_put(struct vfs_fdtable *t)
{
    if (t && --t->refs == 0)
        vfs_fdtable_destroy(t);
}

int vfs_fdtable_clone(struct vfs_fdtable *src, struct vfs_fdtable **out)
{
    struct vfs_fdtable *t;
    int err = vfs_fdtable_create(&t);
    if (err)
        return err;
    int last = -1;
    for (int i = 0; i < src->cap; i++)
        if (src->slots[i].file)
            last = i;
    if (last >= 0) {
        err = grow(t, last);
        if (err) {
            vfs_fdtable_destroy(t);
            return err;
        }
        for (int i = 0; i <= last; i++) {
            t->slots[i] = src->slots[i];
            if (t->slots[i].file)
                vfs_file_get(t->slots[i].file);
        }
    }
    *out = t;
    return 0;
}

int vfs_fdtable_unshare(struct vfs_fdtable **tp)
{
    struct vfs_fdtable *t = *tp;
    if (t->refs == 1)
        return 0;
    struct vfs_fdtable *own;
    int err = vfs_fdtable_clone(t, &own);
    if (err)
        return err;
    vfs_fdtable_put(t);
    *tp = own;
    return 0;
}

void vfs_fdtable_exec(struct vfs_fdtable *t)
{
    for (int fd = 0; fd < t->cap; fd++)
        if (t->slots[fd].file && t->slots[fd].cloexec) {
            struct vfs_file *f = t->slots[fd].file;
            t->slots[fd].file = NULL;
            t->slots[fd].cloexec = false;
            fd_drop(t, f);
        }
}

void vfs_fdtable_destroy(struct vfs_fdtable *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->cap; i++)
        fd_drop(t, t->slots[i].file);
    free(t->slots);
    free(t);
}

static int grow(struct vfs_fdtable *t, int fd)
{
    if (fd < t->cap)
        return 0;
    if (fd >= FDTABLE_MAX)
        return -EMFILE;
    int cap = t->cap ? t->cap : 16;
    while (cap <= fd)
        cap *= 2;
    struct fd_slot *s = realloc(t->slots, (size_t)cap * sizeof(*s));
    if (!s)
        return -ENOMEM;
    for (int i = t->cap; i < cap; i++)
        s[i] = (struct fd_slot){0};
    t->slots = s;
    t->cap = cap;
    return 0;
}

struct vfs_file *vfs_fd_lookup(struct vfs_fdtable *t, int fd)
{
    if (fd < 0 || fd >= t->cap)
        return NULL;
    return t->slots[fd].file;
}

int vfs_fd_install_at(struct vfs_fdtable *t, int fd, struct vfs_file *f, bool cloexec)
{
    if (fd < 0)
        return -EBADF;
    int err = grow(t, fd);
    if (err)
        return err;
    struct vfs_file *old = t->slots[fd].file;
    t->slots[fd].file = vfs_file_get(f);
    t->slots[fd].cloexec = cloexec;
    fd_drop(t, old);
    return fd;
}

int vfs_fd_install(struct vfs_fdtable *t, int min, struct vfs_file *f, bool cloexec, uint64_t limit)
{
    if (min < 0)
        return -EINVAL;
    for (int fd = min; (uint64_t)fd < limit && fd < FDTABLE_MAX; fd++) {
        if (fd >= t->cap || !t->slots[fd].file)
            return vfs_fd_install_at(t, fd, f, cloexec);
    }
    return -EMFILE;
}

int vfs_fd_close(struct vfs_fdtable *t, int fd)
{
    if (fd < 0 || fd >= t->cap || !t->slots[fd].file)
        return -EBADF;
    struct vfs_file *f = t->slots[fd].file;
    t->slots[fd].file = NULL;
    fd_drop(t, f);
    return 0;
}

int vfs_fd_lowest_free(struct vfs_fdtable *t, int min, uint64_t limit)
{
    if (min < 0)
        return -EINVAL;
    for (int fd = min; (uint64_t)fd < limit && fd < FDTABLE_MAX; fd++) {
        if (fd >= t->cap || !t->slots[fd].file)
            return fd;
    }
    return -EMFILE;
}

int vfs_fd_get_cloexec(struct vfs_fdtable *t, int fd)
{
    if (!vfs_fd_lookup(t, fd))
        return -EBADF;
    return t->slots[fd].cloexec ? 1 : 0;
}

int vfs_fd_set_cloexec(struct vfs_fdtable *t, int fd, bool cloexec)
{
    if (!vfs_fd_lookup(t, fd))
        return -EBADF;
    t->slots[fd].cloexec = cloexec;
    return 0;
}

void vfs_fd_close_range(struct vfs_fdtable *t, unsigned first, unsigned last, bool cloexec_only)
{
    for (unsigned fd = first; fd <= last && fd < (unsigned)t->cap; fd++) {
        if (!t->slots[fd].file)
            continue;
        if (cloexec_only) {
            t->slots[fd].cloexec = true;
        } else {
            struct vfs_file *f = t->slots[fd].file;
            t->slots[fd].file = NULL;
            fd_drop(t, f);
        }
    }
}

int vfs_fd_next_open(struct vfs_fdtable *t, int from)
{
    for (int fd = from < 0 ? 0 : from; fd < t->cap; fd++) {
        if (t->slots[fd].file)
            return fd;
    }
    return -1;
}
