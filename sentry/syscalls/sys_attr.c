/* Changing file metadata: mode, owner, times, size; and flushing. */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

#define NSEC_PER_SEC 1000000000L
#define USEC_PER_SEC 1000000L
#define NO_CHANGE_ID 0xffffffffu

static _Thread_local char path[VFS_PATH_MAX];

static struct vfs_file *file_for(struct task *t, uint64_t fd)
{
    if (fd > INT32_MAX)
        return NULL;
    return vfs_fd_lookup(t->fds, (int)fd);
}

/* setattr on a path relative to dirfd; upath 0 with null_is_fd names dirfd's
 * file itself (utimensat and futimesat with a NULL path). */
static int64_t setattr_at(struct task *t, int64_t dirfd, uint64_t upath, int atflags,
                          const struct vfs_setattr *attr, bool null_is_fd)
{
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    int64_t len = 0;
    if (!upath && dirfd == ABI_AT_FDCWD)
        return -ABI_EFAULT;
    if (upath || !null_is_fd) {
        len = sys_path_in(t, upath, path);
        if (len < 0)
            return len;
        if (len == 0 && !(atflags & ABI_AT_EMPTY_PATH))
            return -ABI_ENOENT;
    }
    if (len == 0) {
        if (dirfd == ABI_AT_FDCWD)
            return vfs_setattr(&ctx, t->fs->cwd, attr);
        struct vfs_file *f = file_for(t, (uint64_t)dirfd);
        if (!f)
            return -ABI_EBADF;
        if (!f->dentry || !f->mnt)
            return -ABI_EPERM; /* host stdio: not ours to change */
        return vfs_setattr(&ctx, (struct vfs_path){f->mnt, f->dentry}, attr);
    }
    struct vfs_path start;
    int err = task_at_start(t, dirfd, path, &start);
    if (err)
        return err;
    return vfs_setattrat(&ctx, start, path, atflags & ABI_AT_SYMLINK_NOFOLLOW, attr);
}

static int64_t setattr_fd(struct task *t, uint64_t fd, const struct vfs_setattr *attr)
{
    struct vfs_file *f = file_for(t, fd);
    if (!f || (f->flags & ABI_O_PATH))
        return -ABI_EBADF;
    if (!f->dentry || !f->mnt)
        return -ABI_EPERM;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    return vfs_setattr(&ctx, (struct vfs_path){f->mnt, f->dentry}, attr);
}

static struct vfs_setattr mode_attr(uint64_t mode)
{
    return (struct vfs_setattr){.mask = VFS_ATTR_MODE, .mode = (uint32_t)mode & 07777};
}

int64_t sys_chmod(struct task *t, const uint64_t a[6])
{
    struct vfs_setattr at = mode_attr(a[1]);
    return setattr_at(t, ABI_AT_FDCWD, a[0], 0, &at, false);
}

int64_t sys_fchmod(struct task *t, const uint64_t a[6])
{
    struct vfs_setattr at = mode_attr(a[1]);
    return setattr_fd(t, a[0], &at);
}

int64_t sys_fchmodat(struct task *t, const uint64_t a[6])
{
    struct vfs_setattr at = mode_attr(a[2]);
    return setattr_at(t, (int32_t)a[0], a[1], 0, &at, false);
}

static struct vfs_setattr owner_attr(uint64_t uid, uint64_t gid)
{
    struct vfs_setattr at = {0};
    if ((uint32_t)uid != NO_CHANGE_ID) {
        at.mask |= VFS_ATTR_UID;
        at.uid = (uint32_t)uid;
    }
    if ((uint32_t)gid != NO_CHANGE_ID) {
        at.mask |= VFS_ATTR_GID;
        at.gid = (uint32_t)gid;
    }
    return at;
}

int64_t sys_chown(struct task *t, const uint64_t a[6])
{
    struct vfs_setattr at = owner_attr(a[1], a[2]);
    return setattr_at(t, ABI_AT_FDCWD, a[0], 0, &at, false);
}

int64_t sys_lchown(struct task *t, const uint64_t a[6])
{
    struct vfs_setattr at = owner_attr(a[1], a[2]);
    return setattr_at(t, ABI_AT_FDCWD, a[0], ABI_AT_SYMLINK_NOFOLLOW, &at, false);
}

int64_t sys_fchown(struct task *t, const uint64_t a[6])
{
    struct vfs_setattr at = owner_attr(a[1], a[2]);
    return setattr_fd(t, a[0], &at);
}

int64_t sys_fchownat(struct task *t, const uint64_t a[6])
{
    if (a[4] & ~(uint64_t)(ABI_AT_SYMLINK_NOFOLLOW | ABI_AT_EMPTY_PATH))
        return -ABI_EINVAL;
    struct vfs_setattr at = owner_attr(a[2], a[3]);
    return setattr_at(t, (int32_t)a[0], a[1], (int)a[4], &at, false);
}

/* Build the times part of a setattr from two timespecs (NULL: now). Only
 * explicit times need ownership; "now" needs write permission. */
static int times_attr(const struct abi_timespec *ts, struct vfs_setattr *at)
{
    struct abi_timespec now;
    vfs_now(&now);
    *at = (struct vfs_setattr){0};
    if (!ts) {
        at->mask = VFS_ATTR_ATIME | VFS_ATTR_MTIME | VFS_ATTR_TIMES_NOW;
        at->atime = at->mtime = now;
        return 0;
    }
    bool explicit = false;
    for (int i = 0; i < 2; i++) {
        int64_t ns = ts[i].tv_nsec;
        if (ns != ABI_UTIME_NOW && ns != ABI_UTIME_OMIT && (ns < 0 || ns >= NSEC_PER_SEC))
            return -ABI_EINVAL;
        if (ns == ABI_UTIME_OMIT)
            continue;
        at->mask |= i == 0 ? VFS_ATTR_ATIME : VFS_ATTR_MTIME;
        struct abi_timespec v = ns == ABI_UTIME_NOW ? now : ts[i];
        explicit |= ns != ABI_UTIME_NOW;
        if (i == 0)
            at->atime = v;
        else
            at->mtime = v;
    }
    if (!explicit)
        at->mask |= VFS_ATTR_TIMES_NOW;
    return 0;
}

int64_t sys_utimensat(struct task *t, const uint64_t a[6])
{
    struct abi_timespec ts[2];
    if (a[2]) {
        if (mm_copy_in(t->mm, ts, a[2], sizeof(ts)) != 0)
            return -ABI_EFAULT;
        /* Nothing to change: not even the path is looked at. */
        if (ts[0].tv_nsec == ABI_UTIME_OMIT && ts[1].tv_nsec == ABI_UTIME_OMIT)
            return 0;
    }
    uint64_t flags = a[3];
    if (flags & ~(uint64_t)(ABI_AT_SYMLINK_NOFOLLOW | ABI_AT_EMPTY_PATH))
        return -ABI_EINVAL;
    struct vfs_setattr at;
    int err = times_attr(a[2] ? ts : NULL, &at);
    if (err)
        return err;
    /* A NULL path names dirfd's own file, and takes no flags. */
    if (!a[1] && (int32_t)a[0] != ABI_AT_FDCWD && flags)
        return -ABI_EINVAL;
    return setattr_at(t, (int32_t)a[0], a[1], (int)flags, &at, true);
}

static int64_t do_futimesat(struct task *t, int64_t dirfd, uint64_t upath, uint64_t utv)
{
    struct abi_timespec ts[2];
    if (utv) {
        struct abi_timeval tv[2];
        if (mm_copy_in(t->mm, tv, utv, sizeof(tv)) != 0)
            return -ABI_EFAULT;
        for (int i = 0; i < 2; i++) {
            if (tv[i].tv_usec < 0 || tv[i].tv_usec >= USEC_PER_SEC)
                return -ABI_EINVAL;
            ts[i].tv_sec = tv[i].tv_sec;
            ts[i].tv_nsec = tv[i].tv_usec * 1000;
        }
    }
    struct vfs_setattr at;
    int err = times_attr(utv ? ts : NULL, &at);
    if (err)
        return err;
    return setattr_at(t, dirfd, upath, 0, &at, true);
}

int64_t sys_futimesat(struct task *t, const uint64_t a[6])
{
    return do_futimesat(t, (int32_t)a[0], a[1], a[2]);
}

int64_t sys_utimes(struct task *t, const uint64_t a[6])
{
    return do_futimesat(t, ABI_AT_FDCWD, a[0], a[1]);
}

int64_t sys_utime(struct task *t, const uint64_t a[6])
{
    struct abi_timespec ts[2];
    if (a[1]) {
        struct abi_utimbuf ub;
        if (mm_copy_in(t->mm, &ub, a[1], sizeof(ub)) != 0)
            return -ABI_EFAULT;
        ts[0] = (struct abi_timespec){ub.actime, 0};
        ts[1] = (struct abi_timespec){ub.modtime, 0};
    }
    struct vfs_setattr at;
    int err = times_attr(a[1] ? ts : NULL, &at);
    if (err)
        return err;
    return setattr_at(t, ABI_AT_FDCWD, a[0], 0, &at, false);
}

int64_t sys_truncate(struct task *t, const uint64_t a[6])
{
    int64_t len = sys_path_nonempty(t, a[0], path);
    if (len < 0)
        return len;
    if ((int64_t)a[1] < 0)
        return -ABI_EINVAL;
    struct vfs_path start, p;
    int err = task_at_start(t, ABI_AT_FDCWD, path, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    err = vfs_walk(&ctx, start, path, 0, &p);
    if (err)
        return err;
    struct vfs_inode *ino = p.dentry->inode;
    struct vfs_setattr at = {.mask = VFS_ATTR_SIZE, .size = (int64_t)a[1]};
    if (vfs_is_dir(ino))
        err = -ABI_EISDIR;
    else if (!vfs_is_reg(ino))
        err = -ABI_EINVAL;
    else if ((err = (int)sys_fsize_size_check(t, at.size, ino->size)) == 0)
        err = vfs_setattr(&ctx, p, &at);
    vfs_path_put(p);
    return err;
}

int64_t sys_ftruncate(struct task *t, const uint64_t a[6])
{
    if ((int64_t)a[1] < 0)
        return -ABI_EINVAL;
    struct vfs_file *f = file_for(t, a[0]);
    if (!f || (f->flags & ABI_O_PATH))
        return -ABI_EBADF;
    uint32_t acc = f->flags & ABI_O_ACCMODE;
    if (acc != ABI_O_WRONLY && acc != ABI_O_RDWR)
        return -ABI_EINVAL;
    if (!f->dentry || !vfs_is_reg(f->dentry->inode))
        return -ABI_EINVAL;
    /* The open for writing was the permission check. */
    struct vfs_inode *ino = f->dentry->inode;
    struct vfs_setattr at = {.mask = VFS_ATTR_SIZE, .size = (int64_t)a[1]};
    int64_t err = sys_fsize_size_check(t, at.size, ino->size);
    if (err)
        return err;
    return ino->ops->setattr ? ino->ops->setattr(ino, &at) : -ABI_EINVAL;
}

static int64_t do_fsync(struct task *t, uint64_t fd)
{
    struct vfs_file *f = file_for(t, fd);
    if (!f || (f->flags & ABI_O_PATH))
        return -ABI_EBADF;
    return f->ops->fsync ? f->ops->fsync(f) : -ABI_EINVAL;
}

int64_t sys_fsync(struct task *t, const uint64_t a[6])
{
    return do_fsync(t, a[0]);
}

int64_t sys_fdatasync(struct task *t, const uint64_t a[6])
{
    return do_fsync(t, a[0]);
}

/* The Sentry's filesystems write through (tmpfs) or via the Gofer's host
 * fds, whose durability is the host's: there is nothing to flush here. */
int64_t sys_sync(struct task *t, const uint64_t a[6])
{
    (void)t, (void)a;
    return 0;
}

int64_t sys_syncfs(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = file_for(t, a[0]);
    return f ? 0 : -ABI_EBADF;
}
