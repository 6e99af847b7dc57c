/* The glue between an open file and a file mapping: what mm needs to know
 * of a vfs_file (its reads, its size, its pages for MAP_SHARED, its access
 * mode, its path for /proc/PID/maps). mmap(2) and exec both map files. */
#include <stdlib.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
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

/* Regular files of a read-only filesystem only (the sandbox's image: its
 * programs and libraries): nothing in the sandbox changes them, and a
 * change on the host shows in their stat (modification and change times,
 * size). Files the sandbox can write are left out: timestamps can be too
 * coarse to tell two writes apart, and a shared mapping can change one
 * without any. */
static uint64_t file_version(void *h)
{
    struct vfs_file *f = h;
    struct abi_stat st;
    /* The inode the file reads from (an overlay's lower one, say). */
    const struct vfs_inode *real = vfs_file_inode(f);
    if (!real || !real->fs || !(real->fs->flags & VFS_FS_RDONLY))
        return 0;
    if (!f->ops->stat || f->ops->stat(f, &st) != 0 || (st.st_mode & ABI_S_IFMT) != ABI_S_IFREG)
        return 0;
    uint64_t v = st.st_mtime_sec * 1000000007ULL + st.st_mtime_nsec;
    v = v * 0x9e3779b97f4a7c15ULL ^ (st.st_ctime_sec * 1000000007ULL + st.st_ctime_nsec);
    v = v * 0x9e3779b97f4a7c15ULL ^ (uint64_t)st.st_size;
    v = v * 0x9e3779b97f4a7c15ULL ^ (real->fs->dev << 32 ^ real->ino);
    return v ? v : 1;
}

static const struct mm_file_ops vfs_mapped_file_ops = {
    .get = file_get,
    .put = file_put,
    .read = file_read,
    .size = file_size,
    .version = file_version,
};

int kernel_file_map_desc(struct task *t, struct vfs_file *f, bool shared, struct mm_file_desc *d,
                         char **name)
{
    *name = NULL;
    *d = (struct mm_file_desc){
        .ops = &vfs_mapped_file_ops,
        .h = f,
        .readable = vfs_file_readable(f),
        .writable = vfs_file_writable(f),
        .noexec = f->mnt && (f->mnt->flags & VFS_MNT_NOEXEC),
    };
    int how = f->ops->mmap ? f->ops->mmap(f, shared, &d->pages) : -ABI_ENODEV;
    if (how == VFS_MMAP_ANON)
        return how;
    if (how == 0 && f->ops->pread)
        d->mappable = true;
    if (!d->mappable || !f->dentry)
        return 0;
    d->dev = f->dentry->inode->fs->dev;
    d->ino = f->dentry->inode->ino;
    if (!f->mnt)
        return 0;
    *name = malloc(MAPPED_NAME_MAX);
    if (!*name) {
        /* The pages may hold the file (goferfs's cache) until idle. */
        mm_fpages_idle(d->pages);
        d->pages = NULL;
        return -ABI_ENOMEM;
    }
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    bool reachable;
    struct vfs_path p = {f->mnt, f->dentry};
    if (vfs_path_string(&ctx, p, *name, MAPPED_NAME_MAX, &reachable) >= 0)
        d->name = *name;
    return 0;
}

void kernel_file_map_done(struct mm_file_desc *d, char *name, bool failed)
{
    free(name);
    if (failed && d->pages)
        mm_fpages_idle(d->pages);
    d->pages = NULL;
    d->name = NULL;
}
