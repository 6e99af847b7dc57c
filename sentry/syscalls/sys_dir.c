/* Directories and names: getdents64, mkdir, rmdir, unlink, rename, link,
 * symlink, mknod, and the task's cwd, root and umask. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

/* The Sentry-side buffer one getdents64 fills at most. */
#define DIRENT_CHUNK 65536

static _Thread_local char path1[VFS_PATH_MAX];
static _Thread_local char path2[VFS_PATH_MAX];

/* Copy in a non-empty path and find where its walk starts. */
static int64_t at_path(struct task *t, int64_t dirfd, uint64_t upath, char *buf,
                       struct vfs_path *start)
{
    int64_t len = sys_path_nonempty(t, upath, buf);
    if (len < 0)
        return len;
    return task_at_start(t, (int32_t)dirfd, buf, start);
}

int64_t sys_getdents64(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = a[0] > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)a[0]);
    if (!f || (f->flags & ABI_O_PATH))
        return -ABI_EBADF;
    if (!f->ops->getdents64)
        return -ABI_ENOTDIR;
    uint32_t count = (uint32_t)a[2];
    size_t n = count < DIRENT_CHUNK ? count : DIRENT_CHUNK;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return -ABI_ENOMEM;
    /* Every filesystem's getdents64 keeps its cursor in f->pos: put it back
     * when the entries never reached the guest, so that a retry gets them,
     * as on Linux. */
    int64_t pos = f->pos;
    int64_t r = f->ops->getdents64(f, buf, n);
    if (r > 0 && mm_copy_out(t->mm, a[1], buf, (size_t)r) != 0) {
        f->pos = pos;
        r = -ABI_EFAULT;
    }
    free(buf);
    return r;
}

static int64_t do_mkdir(struct task *t, int64_t dirfd, uint64_t upath, uint64_t mode)
{
    struct vfs_path start;
    int64_t err = at_path(t, dirfd, upath, path1, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    uint32_t m = (uint32_t)mode & (ABI_S_ISVTX | 0777) & ~t->fs->umask;
    return vfs_mkdirat(&ctx, start, path1, m);
}

int64_t sys_mkdir(struct task *t, const uint64_t a[6])
{
    return do_mkdir(t, ABI_AT_FDCWD, a[0], a[1]);
}

int64_t sys_mkdirat(struct task *t, const uint64_t a[6])
{
    return do_mkdir(t, (int32_t)a[0], a[1], a[2]);
}

static int64_t do_mknod(struct task *t, int64_t dirfd, uint64_t upath, uint64_t mode, uint64_t dev)
{
    uint32_t m = (uint32_t)mode;
    uint32_t type = m & ABI_S_IFMT;
    switch (type) {
    case 0:
        type = ABI_S_IFREG;
        break;
    case ABI_S_IFREG:
    case ABI_S_IFIFO:
    case ABI_S_IFSOCK:
    case ABI_S_IFCHR:
    case ABI_S_IFBLK:
        break;
    case ABI_S_IFDIR:
        return -ABI_EPERM;
    default:
        return -ABI_EINVAL;
    }
    struct vfs_path start;
    int64_t err = at_path(t, dirfd, upath, path1, &start);
    if (err)
        return err;
    /* Device nodes need CAP_MKNOD, which only the sandbox's root holds. */
    if ((type == ABI_S_IFCHR || type == ABI_S_IFBLK) && t->creds.euid != 0)
        return -ABI_EPERM;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    uint32_t perm = m & 07777 & ~t->fs->umask;
    bool dev_node = type == ABI_S_IFCHR || type == ABI_S_IFBLK;
    return vfs_mknodat(&ctx, start, path1, type | perm, dev_node ? (uint32_t)dev : 0);
}

int64_t sys_mknod(struct task *t, const uint64_t a[6])
{
    return do_mknod(t, ABI_AT_FDCWD, a[0], a[1], a[2]);
}

int64_t sys_mknodat(struct task *t, const uint64_t a[6])
{
    return do_mknod(t, (int32_t)a[0], a[1], a[2], a[3]);
}

static int64_t do_remove(struct task *t, int64_t dirfd, uint64_t upath, bool dir)
{
    struct vfs_path start;
    int64_t err = at_path(t, dirfd, upath, path1, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    return dir ? vfs_rmdirat(&ctx, start, path1) : vfs_unlinkat(&ctx, start, path1);
}

int64_t sys_rmdir(struct task *t, const uint64_t a[6])
{
    return do_remove(t, ABI_AT_FDCWD, a[0], true);
}

int64_t sys_unlink(struct task *t, const uint64_t a[6])
{
    return do_remove(t, ABI_AT_FDCWD, a[0], false);
}

int64_t sys_unlinkat(struct task *t, const uint64_t a[6])
{
    if (a[2] & ~(uint64_t)ABI_AT_REMOVEDIR)
        return -ABI_EINVAL;
    return do_remove(t, (int32_t)a[0], a[1], a[2] & ABI_AT_REMOVEDIR);
}

static int64_t do_rename(struct task *t, int64_t olddirfd, uint64_t oldpath, int64_t newdirfd,
                         uint64_t newpath, uint64_t flags)
{
    if (flags & ~(uint64_t)(ABI_RENAME_NOREPLACE | ABI_RENAME_EXCHANGE | ABI_RENAME_WHITEOUT))
        return -ABI_EINVAL;
    if ((flags & ABI_RENAME_NOREPLACE) && (flags & ABI_RENAME_EXCHANGE))
        return -ABI_EINVAL;
    if ((flags & ABI_RENAME_WHITEOUT) && (flags & ABI_RENAME_EXCHANGE))
        return -ABI_EINVAL;
    /* Whiteouts are an overlay's business: no filesystem here makes them. */
    if (flags & ABI_RENAME_WHITEOUT)
        return -ABI_EINVAL;
    struct vfs_path oldstart, newstart;
    int64_t err = at_path(t, olddirfd, oldpath, path1, &oldstart);
    if (err)
        return err;
    err = at_path(t, newdirfd, newpath, path2, &newstart);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    return vfs_renameat(&ctx, oldstart, path1, newstart, path2, (uint32_t)flags);
}

int64_t sys_rename(struct task *t, const uint64_t a[6])
{
    return do_rename(t, ABI_AT_FDCWD, a[0], ABI_AT_FDCWD, a[1], 0);
}

int64_t sys_renameat(struct task *t, const uint64_t a[6])
{
    return do_rename(t, (int32_t)a[0], a[1], (int32_t)a[2], a[3], 0);
}

int64_t sys_renameat2(struct task *t, const uint64_t a[6])
{
    return do_rename(t, (int32_t)a[0], a[1], (int32_t)a[2], a[3], (uint32_t)a[4]);
}

static int64_t do_link(struct task *t, int64_t olddirfd, uint64_t oldpath, int64_t newdirfd,
                       uint64_t newpath, uint64_t flags)
{
    if (flags & ~(uint64_t)(ABI_AT_SYMLINK_FOLLOW | ABI_AT_EMPTY_PATH))
        return -ABI_EINVAL;
    /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH and links an fd's file,
     * which the VFS cannot name yet: an empty path stays ENOENT. */
    struct vfs_path oldstart, newstart;
    int64_t err = at_path(t, olddirfd, oldpath, path1, &oldstart);
    if (err)
        return err;
    err = at_path(t, newdirfd, newpath, path2, &newstart);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    return vfs_linkat(&ctx, oldstart, path1, newstart, path2, (int)(flags & ABI_AT_SYMLINK_FOLLOW));
}

int64_t sys_link(struct task *t, const uint64_t a[6])
{
    return do_link(t, ABI_AT_FDCWD, a[0], ABI_AT_FDCWD, a[1], 0);
}

int64_t sys_linkat(struct task *t, const uint64_t a[6])
{
    return do_link(t, (int32_t)a[0], a[1], (int32_t)a[2], a[3], a[4]);
}

static int64_t do_symlink(struct task *t, uint64_t target, int64_t newdirfd, uint64_t newpath)
{
    int64_t len = sys_path_nonempty(t, target, path2);
    if (len < 0)
        return len;
    struct vfs_path start;
    int64_t err = at_path(t, newdirfd, newpath, path1, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    return vfs_symlinkat(&ctx, path2, start, path1);
}

int64_t sys_symlink(struct task *t, const uint64_t a[6])
{
    return do_symlink(t, a[0], ABI_AT_FDCWD, a[1]);
}

int64_t sys_symlinkat(struct task *t, const uint64_t a[6])
{
    return do_symlink(t, a[0], (int32_t)a[1], a[2]);
}

/* chdir and chroot: a directory the task may search. */
static int64_t walk_dir(struct task *t, uint64_t upath, struct vfs_path *out)
{
    struct vfs_path start;
    int64_t err = at_path(t, ABI_AT_FDCWD, upath, path1, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    err = vfs_walk(&ctx, start, path1, VFS_WALK_DIRECTORY, out);
    if (err)
        return err;
    err = vfs_permission(&ctx.cred, out->dentry->inode, VFS_MAY_EXEC);
    if (err)
        vfs_path_put(*out);
    return err;
}

int64_t sys_chdir(struct task *t, const uint64_t a[6])
{
    struct vfs_path p;
    int64_t err = walk_dir(t, a[0], &p);
    if (err)
        return err;
    task_set_cwd(t, p);
    vfs_path_put(p);
    return 0;
}

int64_t sys_fchdir(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = a[0] > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)a[0]);
    if (!f)
        return -ABI_EBADF;
    if (!f->dentry || !f->mnt || !vfs_is_dir(f->dentry->inode))
        return -ABI_ENOTDIR;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    int err = vfs_permission(&ctx.cred, f->dentry->inode, VFS_MAY_EXEC);
    if (err)
        return err;
    task_set_cwd(t, (struct vfs_path){f->mnt, f->dentry});
    return 0;
}

int64_t sys_chroot(struct task *t, const uint64_t a[6])
{
    struct vfs_path p;
    int64_t err = walk_dir(t, a[0], &p);
    if (err)
        return err;
    /* CAP_SYS_CHROOT: only the sandbox's root has it. */
    if (t->creds.euid != 0)
        err = -ABI_EPERM;
    else
        task_set_root(t, p);
    vfs_path_put(p);
    return err;
}

int64_t sys_getcwd(struct task *t, const uint64_t a[6])
{
    struct vfs_dentry *d = t->fs->cwd.dentry;
    if (d->detached || d->inode->nlink == 0)
        return -ABI_ENOENT;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    bool reachable = true;
    int64_t n = vfs_path_string(&ctx, t->fs->cwd, path1, sizeof(path1), &reachable);
    if (n < 0)
        return n;
    if (!reachable)
        return -ABI_ENOENT;
    uint64_t want = (uint64_t)n + 1;
    if (a[1] < want)
        return -ABI_ERANGE;
    return mm_copy_out(t->mm, a[0], path1, want) ? -ABI_EFAULT : (int64_t)want;
}

int64_t sys_umask(struct task *t, const uint64_t a[6])
{
    uint32_t old = t->fs->umask;
    t->fs->umask = (uint32_t)a[0] & 0777;
    return old;
}
