/* Reading file metadata: the stat family, statx, access, readlink, statfs. */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

#define STATX_RESERVED 0x80000000u

static struct vfs_file *file_for(struct task *t, uint64_t fd)
{
    if (fd > INT32_MAX)
        return NULL;
    return vfs_fd_lookup(t->fds, (int)fd);
}

/* stat of an open fd: its inode when it has one, else the file's own op
 * (host stdio). */
static int stat_file(struct vfs_file *f, struct abi_stat *st)
{
    memset(st, 0, sizeof(*st));
    if (f->dentry) {
        struct vfs_inode *ino = f->dentry->inode;
        int err = ino->ops->getattr ? ino->ops->getattr(ino) : 0;
        if (!err)
            vfs_inode_stat(ino, st);
        return err;
    }
    return f->ops->stat ? f->ops->stat(f, st) : -ABI_EBADF;
}

static int64_t stat_fd_out(struct task *t, uint64_t fd, uint64_t buf)
{
    struct vfs_file *f = file_for(t, fd);
    if (!f)
        return -ABI_EBADF;
    struct abi_stat st;
    int err = stat_file(f, &st);
    if (err)
        return err;
    return mm_copy_out(t->mm, buf, &st, sizeof(st)) ? -ABI_EFAULT : 0;
}

static int64_t stat_path(struct task *t, int64_t dirfd, uint64_t upath, uint64_t buf, int flags)
{
    static _Thread_local char path[VFS_PATH_MAX];
    int64_t len = sys_path_in(t, upath, path);
    if (len < 0)
        return len;
    if (len == 0) {
        if (!(flags & ABI_AT_EMPTY_PATH))
            return -ABI_ENOENT;
        if ((int32_t)dirfd == ABI_AT_FDCWD) {
            path[0] = '.';
            path[1] = '\0';
        } else {
            return stat_fd_out(t, dirfd, buf);
        }
    }
    struct vfs_path start;
    int err = task_at_start(t, dirfd, path, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    struct abi_stat st;
    memset(&st, 0, sizeof(st));
    err = vfs_statat(&ctx, start, path, flags & ABI_AT_SYMLINK_NOFOLLOW, &st);
    if (err)
        return err;
    return mm_copy_out(t->mm, buf, &st, sizeof(st)) ? -ABI_EFAULT : 0;
}

int64_t sys_stat(struct task *t, const uint64_t a[6])
{
    return stat_path(t, ABI_AT_FDCWD, a[0], a[1], 0);
}

int64_t sys_lstat(struct task *t, const uint64_t a[6])
{
    return stat_path(t, ABI_AT_FDCWD, a[0], a[1], ABI_AT_SYMLINK_NOFOLLOW);
}

int64_t sys_fstat(struct task *t, const uint64_t a[6])
{
    return stat_fd_out(t, a[0], a[1]);
}

int64_t sys_newfstatat(struct task *t, const uint64_t a[6])
{
    uint64_t flags = a[3];
    if (flags & ~(uint64_t)(ABI_AT_SYMLINK_NOFOLLOW | ABI_AT_EMPTY_PATH | ABI_AT_NO_AUTOMOUNT))
        return -ABI_EINVAL;
    return stat_path(t, (int32_t)a[0], a[1], a[2], (int)flags);
}

static struct abi_statx_timestamp stx_ts(int64_t sec, int64_t nsec)
{
    return (struct abi_statx_timestamp){.tv_sec = sec, .tv_nsec = (uint32_t)nsec};
}

/* A host file's stat as statx: basic stats only, no birth time. */
static void statx_from_stat(const struct abi_stat *st, struct abi_statx *stx)
{
    memset(stx, 0, sizeof(*stx));
    stx->stx_mask = ABI_STATX_BASIC_STATS;
    stx->stx_blksize = (uint32_t)st->st_blksize;
    stx->stx_nlink = (uint32_t)st->st_nlink;
    stx->stx_uid = st->st_uid;
    stx->stx_gid = st->st_gid;
    stx->stx_mode = (uint16_t)st->st_mode;
    stx->stx_ino = st->st_ino;
    stx->stx_size = (uint64_t)st->st_size;
    stx->stx_blocks = (uint64_t)st->st_blocks;
    stx->stx_atime = stx_ts(st->st_atime_sec, st->st_atime_nsec);
    stx->stx_mtime = stx_ts(st->st_mtime_sec, st->st_mtime_nsec);
    stx->stx_ctime = stx_ts(st->st_ctime_sec, st->st_ctime_nsec);
    stx->stx_rdev_major =
        (uint32_t)(((st->st_rdev >> 32) & 0xfffff000) | ((st->st_rdev >> 8) & 0xfff));
    stx->stx_rdev_minor = (uint32_t)(((st->st_rdev >> 12) & 0xffffff00) | (st->st_rdev & 0xff));
    stx->stx_dev_major =
        (uint32_t)(((st->st_dev >> 32) & 0xfffff000) | ((st->st_dev >> 8) & 0xfff));
    stx->stx_dev_minor = (uint32_t)(((st->st_dev >> 12) & 0xffffff00) | (st->st_dev & 0xff));
}

static int statx_inode(struct vfs_path p, struct abi_statx *stx)
{
    struct vfs_inode *ino = p.dentry->inode;
    /* Attributes here are either the Sentry's own or revalidated by getattr:
     * FORCE_SYNC and DONT_SYNC both get the same answer. */
    int err = ino->ops->getattr ? ino->ops->getattr(ino) : 0;
    if (err)
        return err;
    vfs_inode_statx(ino, stx);
    stx->stx_mask |= ABI_STATX_MNT_ID;
    stx->stx_mnt_id = p.mnt->id;
    return 0;
}

int64_t sys_statx(struct task *t, const uint64_t a[6])
{
    int64_t dirfd = (int32_t)a[0];
    uint32_t flags = (uint32_t)a[2], mask = (uint32_t)a[3];
    if ((flags & ABI_AT_STATX_SYNC_TYPE) == ABI_AT_STATX_SYNC_TYPE)
        return -ABI_EINVAL;
    if (mask & STATX_RESERVED)
        return -ABI_EINVAL;
    if (flags & ~(uint32_t)(ABI_AT_SYMLINK_NOFOLLOW | ABI_AT_NO_AUTOMOUNT | ABI_AT_EMPTY_PATH |
                            ABI_AT_STATX_SYNC_TYPE))
        return -ABI_EINVAL;
    static _Thread_local char path[VFS_PATH_MAX];
    int64_t len = 0;
    /* A NULL path with AT_EMPTY_PATH means the fd itself (Linux 6.11). */
    if (a[1] || !(flags & ABI_AT_EMPTY_PATH)) {
        len = sys_path_in(t, a[1], path);
        if (len < 0)
            return len;
    }
    struct abi_statx stx;
    int err;
    if (len == 0 && !(flags & ABI_AT_EMPTY_PATH))
        return -ABI_ENOENT;
    if (len == 0 && dirfd != ABI_AT_FDCWD) {
        struct vfs_file *f = file_for(t, (uint64_t)dirfd);
        if (!f)
            return -ABI_EBADF;
        if (f->dentry && f->mnt) {
            err = statx_inode((struct vfs_path){f->mnt, f->dentry}, &stx);
        } else {
            struct abi_stat st;
            err = stat_file(f, &st);
            if (!err)
                statx_from_stat(&st, &stx);
        }
    } else {
        if (len == 0)
            strcpy(path, ".");
        struct vfs_path start, p;
        err = task_at_start(t, dirfd, path, &start);
        if (err)
            return err;
        struct vfs_walk_ctx ctx;
        task_walk_ctx(t, &ctx);
        err = vfs_walk(&ctx, start, path, (flags & ABI_AT_SYMLINK_NOFOLLOW) ? VFS_WALK_NOFOLLOW : 0,
                       &p);
        if (err)
            return err;
        err = statx_inode(p, &stx);
        vfs_path_put(p);
    }
    if (err)
        return err;
    return mm_copy_out(t->mm, a[4], &stx, sizeof(stx)) ? -ABI_EFAULT : 0;
}

/* access checks with the real ids unless AT_EACCESS, as Linux does. */
static int64_t do_access(struct task *t, int64_t dirfd, uint64_t upath, uint64_t mode,
                         uint64_t flags)
{
    if (mode & ~(uint64_t)7)
        return -ABI_EINVAL;
    if (flags & ~(uint64_t)(ABI_AT_EACCESS | ABI_AT_SYMLINK_NOFOLLOW | ABI_AT_EMPTY_PATH))
        return -ABI_EINVAL;
    static _Thread_local char path[VFS_PATH_MAX];
    int64_t len = sys_path_in(t, upath, path);
    if (len < 0)
        return len;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    if (!(flags & ABI_AT_EACCESS)) {
        bool root = t->creds.uid == 0;
        ctx.cred.uid = t->creds.uid;
        ctx.cred.gid = t->creds.gid;
        ctx.cred.cap_dac_override = root;
        ctx.cred.cap_dac_read_search = root;
    }
    struct vfs_path p;
    int err;
    if (len == 0) {
        if (!(flags & ABI_AT_EMPTY_PATH))
            return -ABI_ENOENT;
        if (dirfd == ABI_AT_FDCWD) {
            p = vfs_path_get(t->fs->cwd);
        } else {
            struct vfs_file *f = file_for(t, (uint64_t)dirfd);
            if (!f)
                return -ABI_EBADF;
            if (!f->dentry || !f->mnt)
                return 0; /* host stdio: the front end opened it for us */
            p = vfs_path_get((struct vfs_path){f->mnt, f->dentry});
        }
    } else {
        struct vfs_path start;
        err = task_at_start(t, dirfd, path, &start);
        if (err)
            return err;
        err = vfs_walk(&ctx, start, path, (flags & ABI_AT_SYMLINK_NOFOLLOW) ? VFS_WALK_NOFOLLOW : 0,
                       &p);
        if (err)
            return err;
    }
    struct vfs_inode *ino = p.dentry->inode;
    err = 0;
    if ((mode & ABI_W_OK) && vfs_mount_readonly(p.mnt) &&
        (vfs_is_reg(ino) || vfs_is_dir(ino) || vfs_is_symlink(ino)))
        err = -ABI_EROFS;
    if (!err && mode)
        err = vfs_permission(&ctx.cred, ino, (int)mode);
    vfs_path_put(p);
    return err;
}

int64_t sys_access(struct task *t, const uint64_t a[6])
{
    return do_access(t, ABI_AT_FDCWD, a[0], a[1], 0);
}

int64_t sys_faccessat(struct task *t, const uint64_t a[6])
{
    return do_access(t, (int32_t)a[0], a[1], a[2], 0);
}

int64_t sys_faccessat2(struct task *t, const uint64_t a[6])
{
    return do_access(t, (int32_t)a[0], a[1], a[2], a[3]);
}

static int64_t do_readlink(struct task *t, int64_t dirfd, uint64_t upath, uint64_t buf,
                           uint64_t size)
{
    if ((int32_t)size <= 0)
        return -ABI_EINVAL;
    static _Thread_local char path[VFS_PATH_MAX];
    static _Thread_local char target[VFS_PATH_MAX];
    int64_t len = sys_path_in(t, upath, path);
    if (len < 0)
        return len;
    int64_t n;
    if (len == 0) {
        /* An empty path reads an O_PATH fd on the link itself. */
        struct vfs_file *f = dirfd == ABI_AT_FDCWD ? NULL : file_for(t, (uint64_t)dirfd);
        if (dirfd != ABI_AT_FDCWD && !f)
            return -ABI_EBADF;
        if (!f || !f->dentry || !vfs_is_symlink(f->dentry->inode))
            return -ABI_ENOENT;
        struct vfs_inode *ino = f->dentry->inode;
        n = ino->ops->readlink ? ino->ops->readlink(ino, target, sizeof(target)) : -ABI_EINVAL;
    } else {
        struct vfs_path start;
        int err = task_at_start(t, dirfd, path, &start);
        if (err)
            return err;
        struct vfs_walk_ctx ctx;
        task_walk_ctx(t, &ctx);
        n = vfs_readlinkat(&ctx, start, path, target, sizeof(target));
    }
    if (n < 0)
        return n;
    if ((uint64_t)n > (uint32_t)size)
        n = (int64_t)(uint32_t)size;
    return mm_copy_out(t->mm, buf, target, (size_t)n) ? -ABI_EFAULT : n;
}

int64_t sys_readlink(struct task *t, const uint64_t a[6])
{
    return do_readlink(t, ABI_AT_FDCWD, a[0], a[1], a[2]);
}

int64_t sys_readlinkat(struct task *t, const uint64_t a[6])
{
    return do_readlink(t, (int32_t)a[0], a[1], a[2], a[3]);
}

static int64_t statfs_out(struct task *t, const struct vfs_statfs *s, uint64_t buf)
{
    struct abi_statfs out;
    memset(&out, 0, sizeof(out));
    out.f_type = (int64_t)s->type;
    out.f_bsize = (int64_t)s->bsize;
    out.f_blocks = s->blocks;
    out.f_bfree = s->bfree;
    out.f_bavail = s->bavail;
    out.f_files = s->files;
    out.f_ffree = s->ffree;
    out.f_namelen = (int64_t)s->namelen;
    out.f_frsize = (int64_t)s->bsize;
    out.f_flags = (int64_t)(s->flags | ABI_ST_VALID);
    return mm_copy_out(t->mm, buf, &out, sizeof(out)) ? -ABI_EFAULT : 0;
}

int64_t sys_statfs(struct task *t, const uint64_t a[6])
{
    static _Thread_local char path[VFS_PATH_MAX];
    int64_t len = sys_path_nonempty(t, a[0], path);
    if (len < 0)
        return len;
    struct vfs_path start;
    int err = task_at_start(t, ABI_AT_FDCWD, path, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    struct vfs_statfs s;
    memset(&s, 0, sizeof(s));
    err = vfs_statfsat(&ctx, start, path, &s);
    if (err)
        return err;
    return statfs_out(t, &s, a[1]);
}

int64_t sys_fstatfs(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = file_for(t, a[0]);
    if (!f)
        return -ABI_EBADF;
    if (!f->mnt)
        return -ABI_ENOSYS; /* host stdio: no filesystem of ours behind it */
    struct vfs_filesystem *fs = f->mnt->fs;
    struct vfs_statfs s;
    memset(&s, 0, sizeof(s));
    int err = fs->ops->statfs ? fs->ops->statfs(fs, &s) : -ABI_ENOSYS;
    if (err)
        return err;
    if (vfs_mount_readonly(f->mnt))
        s.flags |= ABI_ST_RDONLY;
    return statfs_out(t, &s, a[1]);
}
