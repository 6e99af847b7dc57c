/* Memory-management syscalls: thin wrappers over sentry/mm. */
#include "abi/errno.h"
#include "abi/flags.h"
#include <stdlib.h>

#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

/* Room for a path as /proc/PID/maps shows it (Linux's PATH_MAX). */
#define MAPPED_NAME_MAX 4096

/* The mapped file behind a file mapping is the open file description:
 * each VMA keeps it open, as Linux's vm_file does. */
static void file_get(void *h)
{
    vfs_file_get(h);
}

static void file_put(void *h)
{
    vfs_file_put(h);
}

static int64_t file_read(void *h, void *buf, uint64_t len, uint64_t off)
{
    struct vfs_file *f = h;
    if (off > INT64_MAX)
        return 0;
    return f->ops->pread(f, buf, len, (int64_t)off);
}

static uint64_t file_size(void *h)
{
    /* The file's own stat: a goferfs inode's cached size may be stale. */
    struct vfs_file *f = h;
    struct abi_stat st;
    if (f->ops->stat && f->ops->stat(f, &st) == 0)
        return st.st_size > 0 ? (uint64_t)st.st_size : 0;
    if (f->dentry && f->dentry->inode->size > 0)
        return (uint64_t)f->dentry->inode->size;
    return 0;
}

static const struct mm_file_ops vfs_mapped_file_ops = {
    .get = file_get,
    .put = file_put,
    .read = file_read,
    .size = file_size,
};

/* /dev/zero: Linux checks the file's access mode as for any file mapping,
 * then maps anonymous memory, shared or private. */
static int64_t mmap_as_anon(struct task *t, const uint64_t a[6], const struct mm_file_desc *d)
{
    int prot = (int)a[2];
    unsigned flags = (unsigned)a[3], type = flags & ABI_MAP_TYPE;
    if (type == ABI_MAP_SHARED_VALIDATE)
        type = ABI_MAP_SHARED;
    if (type == ABI_MAP_SHARED && (prot & ABI_PROT_WRITE) && !d->writable)
        return -ABI_EACCES;
    if ((type == ABI_MAP_SHARED || type == ABI_MAP_PRIVATE) && !d->readable)
        return -ABI_EACCES;
    if ((prot & ABI_PROT_EXEC) && d->noexec)
        return -ABI_EPERM;
    flags = (flags & ~(unsigned)ABI_MAP_TYPE) | type | ABI_MAP_ANONYMOUS;
    return mm_mmap(t->mm, a[0], a[1], prot, (int)flags, -1, 0);
}

static int64_t mmap_file(struct task *t, const uint64_t a[6], struct vfs_file *f)
{
    struct mm_file_desc d = {
        .ops = &vfs_mapped_file_ops,
        .h = f,
        .readable = vfs_file_readable(f),
        .writable = vfs_file_writable(f),
        .noexec = f->mnt && (f->mnt->flags & VFS_MNT_NOEXEC),
    };
    bool shared = ((unsigned)a[3] & ABI_MAP_TYPE) != ABI_MAP_PRIVATE;
    int how = f->ops->mmap ? f->ops->mmap(f, shared, &d.pages) : -ABI_ENODEV;
    if (how == VFS_MMAP_ANON)
        return mmap_as_anon(t, a, &d);
    if (how == 0 && f->ops->pread)
        d.mappable = true;
    char *name = NULL;
    if (d.mappable && f->dentry) {
        d.dev = f->dentry->inode->fs->dev;
        d.ino = f->dentry->inode->ino;
        if (f->mnt) {
            name = malloc(MAPPED_NAME_MAX);
            if (!name) {
                /* The pages may hold the file (goferfs's cache) until idle. */
                mm_fpages_idle(d.pages);
                return -ABI_ENOMEM;
            }
            struct vfs_walk_ctx ctx;
            task_walk_ctx(t, &ctx);
            bool reachable;
            struct vfs_path p = {f->mnt, f->dentry};
            if (vfs_path_string(&ctx, p, name, MAPPED_NAME_MAX, &reachable) >= 0)
                d.name = name;
        }
    }
    int64_t r = mm_mmap_file(t->mm, a[0], a[1], (int)a[2], (int)a[3], &d, a[5]);
    free(name);
    if (r < 0 && d.pages)
        mm_fpages_idle(d.pages);
    return r;
}

int64_t sys_mmap(struct task *t, const uint64_t a[6])
{
    /* Linux checks the offset's alignment, then the fd, before anything
     * about the mapping itself. */
    if (a[5] & (MM_PAGE_SIZE - 1))
        return -ABI_EINVAL;
    int flags = (int)a[3];
    if (flags & ABI_MAP_ANONYMOUS)
        return mm_mmap(t->mm, a[0], a[1], (int)a[2], flags, -1, a[5]);
    struct vfs_file *f = a[4] > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)a[4]);
    if (!f || (f->flags & ABI_O_PATH))
        return -ABI_EBADF;
    /* No hugetlbfs: MAP_HUGETLB on any other file is refused. */
    if (flags & ABI_MAP_HUGETLB)
        return -ABI_EINVAL;
    return mmap_file(t, a, f);
}

int64_t sys_munmap(struct task *t, const uint64_t a[6])
{
    return mm_munmap(t->mm, a[0], a[1]);
}

int64_t sys_mprotect(struct task *t, const uint64_t a[6])
{
    return mm_mprotect(t->mm, a[0], a[1], (int)a[2]);
}

int64_t sys_mremap(struct task *t, const uint64_t a[6])
{
    return mm_mremap(t->mm, a[0], a[1], a[2], (int)a[3], a[4]);
}

int64_t sys_brk(struct task *t, const uint64_t a[6])
{
    return mm_brk(t->mm, a[0]);
}

int64_t sys_madvise(struct task *t, const uint64_t a[6])
{
    return mm_madvise(t->mm, a[0], a[1], (int)a[2]);
}

int64_t sys_mincore(struct task *t, const uint64_t a[6])
{
    return mm_mincore(t->mm, a[0], a[1], a[2]);
}

int64_t sys_msync(struct task *t, const uint64_t a[6])
{
    return mm_msync(t->mm, a[0], a[1], (int)a[2]);
}
