/* overlay: copy-up, which gives a lower object an upper twin before its
 * first change.
 *
 * The parents come first (as directories with their lower modes, owners and
 * times), then the object itself: a regular file's data streamed through a
 * bounded buffer (all-zero blocks stay holes), a symlink's target, a special
 * file's device number. The parent directory keeps its times, and the copy
 * keeps the lower inode number, so a guest sees the same file before and
 * after.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/overlay_priv.h"

#define COPY_CHUNK (64 * 1024)

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int copy_data(struct vfs_inode *lower, struct vfs_inode *upper)
{
    struct vfs_file *in, *out;
    int err = overlay_open_real(lower, ABI_O_RDONLY, &in);
    if (err)
        return err;
    err = overlay_open_real(upper, ABI_O_WRONLY, &out);
    if (err) {
        vfs_file_put(in);
        return err;
    }
    unsigned char *buf = malloc(COPY_CHUNK);
    int64_t off = 0;
    if (!buf)
        err = -ABI_ENOMEM;
    while (!err) {
        int64_t n = in->ops->pread(in, buf, COPY_CHUNK, off);
        if (n < 0)
            err = (int)n;
        if (n <= 0)
            break;
        bool hole = all_zero(buf, (size_t)n);
        for (int64_t done = 0; !err && !hole && done < n;) {
            int64_t w = out->ops->pwrite(out, buf + done, (size_t)(n - done), off + done);
            if (w < 0)
                err = (int)w;
            else if (w == 0)
                err = -ABI_EIO;
            else
                done += w;
        }
        off += n;
    }
    free(buf);
    vfs_file_put(out);
    vfs_file_put(in);
    if (!err && upper->size != off) {
        struct vfs_setattr a = {.mask = VFS_ATTR_SIZE, .size = off};
        err = upper->ops->setattr(upper, &a);
    }
    return err;
}

/* Every extended attribute the lower object has (a lower filesystem
 * without them has none). */
static int copy_xattrs(struct vfs_inode *l, struct vfs_inode *u)
{
    if (!l->ops->listxattr || !l->ops->getxattr)
        return 0;
    int64_t n = l->ops->listxattr(l, NULL, 0);
    if (n == -ABI_EOPNOTSUPP || n == 0)
        return 0;
    if (n < 0)
        return (int)n;
    if (!u->ops->setxattr)
        return -ABI_EOPNOTSUPP;
    char *names = malloc((size_t)n), *value = malloc(ABI_XATTR_SIZE_MAX);
    int err = (names && value) ? 0 : -ABI_ENOMEM;
    if (!err) {
        n = l->ops->listxattr(l, names, (size_t)n);
        if (n < 0)
            err = (int)n;
    }
    for (int64_t at = 0; !err && at < n; at += (int64_t)strlen(names + at) + 1) {
        int64_t v = l->ops->getxattr(l, names + at, value, ABI_XATTR_SIZE_MAX);
        if (v == -ABI_ENODATA)
            continue;
        if (v < 0)
            err = (int)v;
        else
            err = u->ops->setxattr(u, names + at, value, (size_t)v, 0);
    }
    free(names);
    free(value);
    return err;
}

/* The new upper object under name in udir, with the lower one's type. */
static int make_twin(struct vfs_inode *udir, const char *name, struct vfs_inode *l,
                     struct vfs_inode **u)
{
    uint32_t perm = l->mode & 07777;
    switch (l->mode & ABI_S_IFMT) {
    case ABI_S_IFDIR:
        return udir->ops->mkdir(udir, name, perm, l->uid, l->gid, u);
    case ABI_S_IFREG: {
        int err = udir->ops->create(udir, name, ABI_S_IFREG | perm, l->uid, l->gid, u);
        if (err)
            return err;
        err = copy_data(l, *u);
        if (err) {
            vfs_inode_put(*u);
            udir->ops->unlink(udir, name);
        }
        return err;
    }
    case ABI_S_IFLNK: {
        char *target = malloc(VFS_PATH_MAX);
        if (!target)
            return -ABI_ENOMEM;
        int64_t n = l->ops->readlink(l, target, VFS_PATH_MAX - 1);
        int err = n < 0 ? (int)n : 0;
        if (!err) {
            target[n] = '\0';
            err = udir->ops->symlink(udir, name, target, l->uid, l->gid, u);
        }
        free(target);
        return err;
    }
    default:
        return udir->ops->mknod(udir, name, l->mode, l->rdev, l->uid, l->gid, u);
    }
}

int overlay_copy_up(struct overlay_node *o)
{
    if (o->upper)
        return 0;
    if (o->removed || !o->parent)
        return -ABI_ENOENT;
    int err = overlay_copy_up(o->parent);
    if (err)
        return err;
    struct overlay_fs *fs = overlay_fs_of(o);
    struct vfs_inode *udir = o->parent->upper, *l = o->lower, *u;
    struct abi_timespec patime = udir->atime, pmtime = udir->mtime;
    if (l->ops->getattr && (err = l->ops->getattr(l)))
        return err;
    err = make_twin(udir, o->name, l, &u);
    if (err)
        return err;
    struct vfs_setattr a = {
        .mask = VFS_ATTR_MODE | VFS_ATTR_UID | VFS_ATTR_GID | VFS_ATTR_ATIME | VFS_ATTR_MTIME,
        .mode = l->mode & 07777,
        .uid = l->uid,
        .gid = l->gid,
        .atime = l->atime,
        .mtime = l->mtime,
    };
    err = copy_xattrs(l, u);
    if (!err)
        err = u->ops->setattr(u, &a);
    if (!err)
        err = overlay_mark_set(fs, u->ino, OVERLAY_MARK_ORIGIN, l->ino);
    if (err) {
        vfs_inode_put(u);
        if (vfs_is_dir(l))
            udir->ops->rmdir(udir, o->name);
        else
            udir->ops->unlink(udir, o->name);
        return err;
    }
    struct vfs_setattr pa = {
        .mask = VFS_ATTR_ATIME | VFS_ATTR_MTIME, .atime = patime, .mtime = pmtime};
    udir->ops->setattr(udir, &pa);
    o->upper = u;
    /* A directory stays merged with its lower part; a file is the copy now. */
    if (!vfs_is_dir(l)) {
        o->lower = NULL;
        vfs_inode_put(l);
    }
    overlay_sync_attrs(o);
    overlay_sync_attrs(o->parent);
    return 0;
}
