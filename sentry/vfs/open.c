/* open(2) on the VFS: walk or create, Linux's checks, then an open file
 * description the fd table can hold. */
#include <stdio.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/vfs/device.h"
#include "sentry/vfs/vfs.h"

static int64_t path_read(struct vfs_file *f, void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    return -ABI_EBADF;
}

static int64_t path_write(struct vfs_file *f, const void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    return -ABI_EBADF;
}

static int64_t path_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    (void)f, (void)buf, (void)n, (void)off;
    return -ABI_EBADF;
}

static int64_t path_pwrite(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    (void)f, (void)buf, (void)n, (void)off;
    return -ABI_EBADF;
}

static int64_t path_lseek(struct vfs_file *f, int64_t off, int whence)
{
    (void)f, (void)off, (void)whence;
    return -ABI_EBADF;
}

static int path_stat(struct vfs_file *f, struct abi_stat *st)
{
    vfs_inode_stat(f->dentry->inode, st);
    return 0;
}

/* O_PATH files: fstat works, I/O does not. */
static const struct vfs_file_ops path_file_ops = {
    .read = path_read,
    .write = path_write,
    .pread = path_pread,
    .pwrite = path_pwrite,
    .lseek = path_lseek,
    .stat = path_stat,
};

static int open_create(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                       uint32_t flags, uint32_t mode, int resolve, struct vfs_path *out,
                       bool *created, int links);

/* O_CREAT through a final symlink opens, or creates, its target: Linux
 * creates the file a dangling link names. Scoped resolution cannot restart
 * at the link's directory without widening the scope, so it only opens. */
static int create_through_link(const struct vfs_walk_ctx *ctx, struct vfs_path dir,
                               struct vfs_inode *link, uint32_t flags, uint32_t mode, int resolve,
                               struct vfs_path *out, bool *created, int links)
{
    if (resolve & (VFS_RESOLVE_NO_SYMLINKS | VFS_RESOLVE_BENEATH | VFS_RESOLVE_IN_ROOT))
        return (resolve & VFS_RESOLVE_NO_SYMLINKS) ? -ABI_ELOOP : -ABI_ENOENT;
    if (links >= VFS_MAXSYMLINKS)
        return -ABI_ELOOP;
    char target[VFS_PATH_MAX];
    int64_t n =
        link->ops->readlink ? link->ops->readlink(link, target, sizeof(target) - 1) : -ABI_EINVAL;
    if (n < 0)
        return (int)n;
    if (n == 0)
        return -ABI_ENOENT;
    target[n] = '\0';
    return open_create(ctx, dir, target, flags, mode, resolve, out, created, links + 1);
}

/* O_CREAT on a magic link (/dev/stdout -> /proc/self/fd/1) opens the object
 * itself, with the walk's rules for magic links (sentry/vfs/walk.c). */
static int open_magic_link(struct vfs_inode *link, struct vfs_mount *mnt, int resolve,
                           struct vfs_path *out)
{
    if (resolve & (VFS_RESOLVE_NO_SYMLINKS | VFS_RESOLVE_NO_MAGICLINKS))
        return -ABI_ELOOP;
    if (resolve & (VFS_RESOLVE_BENEATH | VFS_RESOLVE_IN_ROOT))
        return -ABI_EXDEV;
    int err = link->ops->follow_link(link, mnt, out);
    if (!err && (resolve & VFS_RESOLVE_NO_XDEV) && out->mnt != mnt) {
        vfs_path_put(*out);
        return -ABI_EXDEV;
    }
    return err;
}

/* Create last in parent, or find what is there; *created says which. */
static int open_create(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                       uint32_t flags, uint32_t mode, int resolve, struct vfs_path *out,
                       bool *created, int links)
{
    struct vfs_path parent;
    struct vfs_last last;
    int err = vfs_walk_parent(ctx, start, path, resolve, &parent, &last);
    if (err)
        return err;
    struct vfs_dentry *child = NULL;
    /* O_CREAT with a trailing slash is EISDIR before any lookup, whatever
     * (if anything) the name holds. */
    if (last.type != VFS_LAST_NORM || last.trailing_slash) {
        err = -ABI_EISDIR;
        goto out;
    }
    err = vfs_dentry_lookup(parent.dentry, last.name, &child);
    if (err == 0) {
        if (flags & ABI_O_EXCL) {
            err = -ABI_EEXIST;
            goto out;
        }
        if (vfs_is_symlink(child->inode) && !(flags & ABI_O_NOFOLLOW) &&
            (child->inode->flags & VFS_INODE_MAGICLINK) && child->inode->ops->follow_link) {
            err = open_magic_link(child->inode, parent.mnt, resolve, out);
            goto out;
        }
        if (vfs_is_symlink(child->inode) && !(flags & ABI_O_NOFOLLOW)) {
            err = create_through_link(ctx, parent, child->inode, flags, mode, resolve, out, created,
                                      links);
            if (err == -ABI_ENOENT && (resolve & (VFS_RESOLVE_BENEATH | VFS_RESOLVE_IN_ROOT)))
                err = vfs_walk(ctx, start, path, resolve, out);
            goto out;
        }
        struct vfs_path p = {parent.mnt, child};
        *out = vfs_path_get(p);
        struct vfs_mount *m;
        while ((m = vfs_mount_on(out->mnt, out->dentry))) {
            vfs_path_put(*out);
            *out = vfs_path_get((struct vfs_path){m, m->root});
        }
        goto out;
    }
    if (err != -ABI_ENOENT)
        goto out;
    if (last.trailing_slash) {
        err = -ABI_EISDIR;
        goto out;
    }
    if (vfs_mount_readonly(parent.mnt)) {
        err = -ABI_EROFS;
        goto out;
    }
    struct vfs_inode *dir = parent.dentry->inode, *ino;
    if (dir->nlink == 0 || parent.dentry->detached) {
        err = -ABI_ENOENT;
        goto out;
    }
    err = vfs_permission(&ctx->cred, dir, VFS_MAY_WRITE | VFS_MAY_EXEC);
    if (err)
        goto out;
    uint32_t gid = ctx->cred.gid;
    if (dir->mode & ABI_S_ISGID)
        gid = dir->gid;
    if (!dir->ops->create) {
        err = -ABI_EPERM;
        goto out;
    }
    err = dir->ops->create(dir, last.name, ABI_S_IFREG | (mode & 07777), ctx->cred.uid, gid, &ino);
    if (err)
        goto out;
    err = vfs_dentry_add(parent.dentry, last.name, ino, &child);
    if (err)
        goto out;
    *out = vfs_path_get((struct vfs_path){parent.mnt, child});
    *created = true;
out:
    if (child)
        vfs_dentry_put(child);
    vfs_path_put(parent);
    return err;
}

static bool is_device(const struct vfs_inode *ino)
{
    uint32_t type = ino->mode & ABI_S_IFMT;
    return type == ABI_S_IFCHR || type == ABI_S_IFBLK;
}

static int may_open(const struct vfs_walk_ctx *ctx, struct vfs_path p, uint32_t flags)
{
    struct vfs_inode *ino = p.dentry->inode;
    uint32_t acc = flags & ABI_O_ACCMODE;
    bool wants_write = acc != ABI_O_RDONLY || (flags & ABI_O_TRUNC);
    if (vfs_is_symlink(ino))
        return -ABI_ELOOP; /* O_NOFOLLOW on a final symlink */
    if (vfs_is_dir(ino) && (wants_write || (flags & ABI_O_CREAT)))
        return -ABI_EISDIR;
    if ((flags & ABI_O_DIRECTORY) && !vfs_is_dir(ino))
        return -ABI_ENOTDIR;
    if (is_device(ino)) {
        int err = vfs_device_may_open(p.mnt);
        if (err)
            return err;
    }
    if (wants_write && (vfs_is_reg(ino) || vfs_is_dir(ino)) && vfs_mount_readonly(p.mnt))
        return -ABI_EROFS;
    if ((flags & ABI_O_NOATIME) && ctx->cred.uid != ino->uid && !ctx->cred.cap_fowner)
        return -ABI_EPERM;
    int mask = 0;
    if (acc == ABI_O_RDONLY || acc == ABI_O_RDWR || acc == ABI_O_ACCMODE)
        mask |= VFS_MAY_READ;
    if (wants_write)
        mask |= VFS_MAY_WRITE;
    return vfs_permission(&ctx->cred, ino, mask);
}

/* O_TMPFILE: an unnamed regular file in the directory path names. Its
 * dentry is detached at once, so /proc shows "/dir/#ino (deleted)" as on
 * Linux, and linkat can name it unless O_EXCL said never. */
static int open_tmpfile(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                        uint32_t flags, uint32_t mode, int resolve, struct vfs_path *out)
{
    struct vfs_path dir;
    int err = vfs_walk(ctx, start, path, resolve | VFS_WALK_DIRECTORY, &dir);
    if (err)
        return err;
    struct vfs_inode *d = dir.dentry->inode, *ino;
    if (vfs_mount_readonly(dir.mnt))
        err = -ABI_EROFS;
    if (!err)
        err = vfs_permission(&ctx->cred, d, VFS_MAY_WRITE | VFS_MAY_EXEC);
    if (!err && !d->ops->tmpfile)
        err = -ABI_EOPNOTSUPP;
    uint32_t gid = (d->mode & ABI_S_ISGID) ? d->gid : ctx->cred.gid;
    uint32_t excl = (flags & ABI_O_EXCL) ? VFS_TMPFILE_EXCL : 0;
    if (!err)
        err = d->ops->tmpfile(d, (mode & 07777) | excl, ctx->cred.uid, gid, &ino);
    struct vfs_dentry *child = NULL;
    if (!err) {
        char name[32];
        snprintf(name, sizeof(name), "#%llu", (unsigned long long)ino->ino);
        err = vfs_dentry_add(dir.dentry, name, ino, &child);
    }
    if (!err) {
        vfs_dentry_drop(child);
        *out = (struct vfs_path){vfs_mount_get(dir.mnt), child};
    }
    vfs_path_put(dir);
    return err;
}

int vfs_open2(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
              uint32_t flags, uint32_t mode, int resolve, struct vfs_file **out)
{
    if (flags & ABI_O_TMPFILE_BIT) {
        uint32_t acc = flags & ABI_O_ACCMODE;
        if ((flags & (ABI_O_TMPFILE | ABI_O_CREAT)) != ABI_O_TMPFILE ||
            (acc != ABI_O_WRONLY && acc != ABI_O_RDWR) || (flags & ABI_O_PATH))
            return -ABI_EINVAL;
    }
    if (resolve & ~VFS_RESOLVE_MASK)
        return -ABI_EINVAL;
    bool opath = flags & ABI_O_PATH;
    if (opath)
        flags &= ABI_O_PATH | ABI_O_DIRECTORY | ABI_O_NOFOLLOW | ABI_O_CLOEXEC;
    struct vfs_path p;
    bool created = false;
    int err;
    if (flags & ABI_O_TMPFILE_BIT) {
        err = open_tmpfile(ctx, start, path, flags, mode, resolve, &p);
        created = true;
    } else if ((flags & ABI_O_CREAT) && !opath) {
        err = open_create(ctx, start, path, flags, mode, resolve, &p, &created, 0);
    } else {
        int wf = resolve;
        if (flags & ABI_O_NOFOLLOW)
            wf |= VFS_WALK_NOFOLLOW;
        if (flags & ABI_O_DIRECTORY)
            wf |= VFS_WALK_DIRECTORY;
        err = vfs_walk(ctx, start, path, wf, &p);
    }
    if (err)
        return err;
    struct vfs_inode *ino = p.dentry->inode;
    if (opath) {
        if ((flags & ABI_O_DIRECTORY) && !vfs_is_dir(ino))
            err = -ABI_ENOTDIR;
    } else if (!created) {
        err = may_open(ctx, p, flags);
    }
    struct vfs_file *f = NULL;
    if (!err) {
        f = vfs_file_new(&path_file_ops,
                         flags & ~(uint32_t)(ABI_O_CREAT | ABI_O_EXCL | ABI_O_NOCTTY | ABI_O_TRUNC |
                                             ABI_O_CLOEXEC),
                         NULL);
        if (!f)
            err = -ABI_ENOMEM;
    }
    if (!err) {
        f->dentry = vfs_dentry_get(p.dentry);
        f->mnt = vfs_mount_get(p.mnt);
        if (!opath)
            err = is_device(ino)   ? vfs_device_open(ino, f)
                  : ino->ops->open ? ino->ops->open(ino, f)
                                   : -ABI_ENXIO;
    }
    if (!err && !opath && (flags & ABI_O_TRUNC) && !created && vfs_is_reg(ino) && ino->size) {
        struct vfs_setattr a = {.mask = VFS_ATTR_SIZE, .size = 0};
        err = ino->ops->setattr ? ino->ops->setattr(ino, &a) : -ABI_EPERM;
    }
    vfs_path_put(p);
    if (err) {
        vfs_file_put(f);
        return err;
    }
    *out = f;
    return 0;
}

int vfs_open(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
             uint32_t flags, uint32_t mode, struct vfs_file **out)
{
    return vfs_open2(ctx, start, path, flags, mode, 0, out);
}

int vfs_open_exec(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                  struct vfs_file **out)
{
    struct vfs_path p;
    int err = vfs_walk(ctx, start, path, 0, &p);
    if (err)
        return err;
    struct vfs_inode *ino = p.dentry->inode;
    /* execve's checks: a regular file, on a mount that allows exec, with an
     * execute bit for the caller. Read permission is not needed for ELF. */
    if (!vfs_is_reg(ino) || (p.mnt->flags & VFS_MNT_NOEXEC))
        err = -ABI_EACCES;
    if (!err && ino->ops->getattr)
        err = ino->ops->getattr(ino);
    if (!err)
        err = vfs_permission(&ctx->cred, ino, VFS_MAY_EXEC);
    if (!out) {
        vfs_path_put(p);
        return err;
    }
    struct vfs_file *f = NULL;
    if (!err) {
        f = vfs_file_new(&path_file_ops, ABI_O_RDONLY, NULL);
        if (!f)
            err = -ABI_ENOMEM;
    }
    if (!err) {
        f->dentry = vfs_dentry_get(p.dentry);
        f->mnt = vfs_mount_get(p.mnt);
        err = ino->ops->open ? ino->ops->open(ino, f) : -ABI_EACCES;
    }
    vfs_path_put(p);
    if (err) {
        vfs_file_put(f);
        return err;
    }
    *out = f;
    return 0;
}
