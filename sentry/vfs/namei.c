/* Name operations: mkdir, mknod, symlink, link, unlink, rmdir, rename,
 * readlink, stat, setattr, statfs.
 *
 * The checks Linux makes for every filesystem live here, in Linux's order
 * (which error wins matters to programs that test for one): last-component
 * kind, read-only mounts, existence, file types, mount points, permissions
 * and the sticky bit. The filesystem then checks what only it knows.
 */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/vfs/vfs.h"

/* The child named by last in parent, referenced; -ENOENT when absent. */
static int lookup_last(struct vfs_path parent, const struct vfs_last *last, struct vfs_dentry **out)
{
    return vfs_dentry_lookup(parent.dentry, last->name, out);
}

/* The last component of a new name must name nothing yet: EEXIST for ".",
 * "..", "/" or an existing name; a trailing slash only for a new directory
 * (else ENOENT, as Linux). */
static int name_is_free(struct vfs_path parent, const struct vfs_last *last, bool dir)
{
    if (last->type != VFS_LAST_NORM)
        return -ABI_EEXIST;
    struct vfs_dentry *child = NULL;
    int err = lookup_last(parent, last, &child);
    if (err == 0) {
        vfs_dentry_put(child);
        return -ABI_EEXIST;
    }
    if (err != -ABI_ENOENT)
        return err;
    return last->trailing_slash && !dir ? -ABI_ENOENT : 0;
}

static int may_create(const struct vfs_walk_ctx *ctx, struct vfs_path dir)
{
    if (dir.dentry->detached || dir.dentry->inode->nlink == 0)
        return -ABI_ENOENT;
    return vfs_permission(&ctx->cred, dir.dentry->inode, VFS_MAY_WRITE | VFS_MAY_EXEC);
}

/* Removing or renaming away child from dir: write on dir and the sticky rule. */
static int may_delete(const struct vfs_walk_ctx *ctx, struct vfs_path dir, struct vfs_dentry *child)
{
    int err = vfs_permission(&ctx->cred, dir.dentry->inode, VFS_MAY_WRITE | VFS_MAY_EXEC);
    if (err)
        return err;
    const struct vfs_inode *d = dir.dentry->inode, *c = child->inode;
    if ((d->mode & ABI_S_ISVTX) && ctx->cred.uid != c->uid && ctx->cred.uid != d->uid &&
        !ctx->cred.cap_fowner)
        return -ABI_EPERM;
    return 0;
}

/* Owner and group of a new inode: setgid directories hand down their group. */
static void new_owner(const struct vfs_walk_ctx *ctx, struct vfs_path dir, uint32_t *mode,
                      uint32_t *uid, uint32_t *gid)
{
    const struct vfs_inode *d = dir.dentry->inode;
    *uid = ctx->cred.uid;
    *gid = ctx->cred.gid;
    if (d->mode & ABI_S_ISGID) {
        *gid = d->gid;
        if ((*mode & ABI_S_IFMT) == ABI_S_IFDIR)
            *mode |= ABI_S_ISGID;
    }
}

enum create_kind { CREATE_DIR, CREATE_NODE, CREATE_SYMLINK };

static int create_at(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                     enum create_kind kind, uint32_t mode, uint64_t rdev, const char *target)
{
    struct vfs_path parent;
    struct vfs_last last;
    int err = vfs_walk_parent(ctx, start, path, 0, &parent, &last);
    if (err)
        return err;
    err = name_is_free(parent, &last, kind == CREATE_DIR);
    if (err)
        goto out;
    if (vfs_mount_readonly(parent.mnt)) {
        err = -ABI_EROFS;
        goto out;
    }
    err = may_create(ctx, parent);
    if (err)
        goto out;
    struct vfs_inode *dir = parent.dentry->inode, *ino = NULL;
    uint32_t uid, gid;
    switch (kind) {
    case CREATE_DIR:
        mode = ABI_S_IFDIR | (mode & 07777);
        new_owner(ctx, parent, &mode, &uid, &gid);
        err = dir->ops->mkdir ? dir->ops->mkdir(dir, last.name, mode, uid, gid, &ino) : -ABI_EPERM;
        break;
    case CREATE_NODE:
        new_owner(ctx, parent, &mode, &uid, &gid);
        err = dir->ops->mknod ? dir->ops->mknod(dir, last.name, mode, rdev, uid, gid, &ino)
                              : -ABI_EPERM;
        break;
    case CREATE_SYMLINK:
        mode = ABI_S_IFLNK;
        new_owner(ctx, parent, &mode, &uid, &gid);
        err = dir->ops->symlink ? dir->ops->symlink(dir, last.name, target, uid, gid, &ino)
                                : -ABI_EPERM;
        break;
    }
    if (!err)
        err = vfs_dentry_add(parent.dentry, last.name, ino, NULL);
out:
    vfs_path_put(parent);
    return err;
}

int vfs_mkdirat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                uint32_t mode)
{
    return create_at(ctx, start, path, CREATE_DIR, mode, 0, NULL);
}

int vfs_mknodat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                uint32_t mode, uint64_t rdev)
{
    uint32_t type = mode & ABI_S_IFMT;
    if (type == 0)
        mode |= ABI_S_IFREG;
    else if (type == ABI_S_IFDIR)
        return -ABI_EPERM;
    else if (type != ABI_S_IFREG && type != ABI_S_IFIFO && type != ABI_S_IFSOCK &&
             type != ABI_S_IFCHR && type != ABI_S_IFBLK)
        return -ABI_EINVAL;
    return create_at(ctx, start, path, CREATE_NODE, mode, rdev, NULL);
}

int vfs_symlinkat(const struct vfs_walk_ctx *ctx, const char *target, struct vfs_path start,
                  const char *path)
{
    size_t len = strnlen(target, VFS_PATH_MAX);
    if (len == 0)
        return -ABI_ENOENT;
    if (len == VFS_PATH_MAX)
        return -ABI_ENAMETOOLONG;
    return create_at(ctx, start, path, CREATE_SYMLINK, 0, 0, target);
}

int vfs_linkat(const struct vfs_walk_ctx *ctx, struct vfs_path oldstart, const char *oldpath,
               struct vfs_path newstart, const char *newpath, int flags)
{
    if (flags & ~(ABI_AT_SYMLINK_FOLLOW))
        return -ABI_EINVAL;
    struct vfs_path old, parent;
    struct vfs_last last;
    int err = vfs_walk(ctx, oldstart, oldpath,
                       (flags & ABI_AT_SYMLINK_FOLLOW) ? 0 : VFS_WALK_NOFOLLOW, &old);
    if (err)
        return err;
    err = vfs_walk_parent(ctx, newstart, newpath, 0, &parent, &last);
    if (err) {
        vfs_path_put(old);
        return err;
    }
    err = name_is_free(parent, &last, false);
    if (err)
        goto out;
    if (old.mnt != parent.mnt) {
        err = -ABI_EXDEV;
        goto out;
    }
    if (vfs_mount_readonly(parent.mnt)) {
        err = -ABI_EROFS;
        goto out;
    }
    err = may_create(ctx, parent);
    if (err)
        goto out;
    struct vfs_inode *ino = old.dentry->inode, *dir = parent.dentry->inode;
    if (vfs_is_dir(ino)) {
        err = -ABI_EPERM;
        goto out;
    }
    /* An unlinked file stays unlinked, but for an O_TMPFILE file opened
     * without O_EXCL, which may get one name. */
    if (ino->nlink == 0 && !(ino->flags & VFS_INODE_LINKABLE)) {
        err = -ABI_ENOENT;
        goto out;
    }
    err = dir->ops->link ? dir->ops->link(dir, last.name, ino) : -ABI_EPERM;
    if (!err)
        ino->flags &= ~(uint32_t)VFS_INODE_LINKABLE;
    if (!err)
        err = vfs_dentry_add(parent.dentry, last.name, vfs_inode_get(ino), NULL);
out:
    vfs_path_put(parent);
    vfs_path_put(old);
    return err;
}

/* Walk to the parent, check the mount is writable and look the victim up. */
static int remove_prepare(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                          bool dir, struct vfs_path *parent, struct vfs_last *last,
                          struct vfs_dentry **child)
{
    int err = vfs_walk_parent(ctx, start, path, 0, parent, last);
    if (err)
        return err;
    if (last->type != VFS_LAST_NORM) {
        if (!dir)
            err = -ABI_EISDIR;
        else if (last->type == VFS_LAST_DOTDOT)
            err = -ABI_ENOTEMPTY;
        else if (last->type == VFS_LAST_DOT)
            err = -ABI_EINVAL;
        else
            err = -ABI_EBUSY;
    } else if (vfs_mount_readonly(parent->mnt)) {
        err = -ABI_EROFS;
    } else {
        err = lookup_last(*parent, last, child);
    }
    if (err)
        vfs_path_put(*parent);
    return err;
}

int vfs_unlinkat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path)
{
    struct vfs_path parent;
    struct vfs_last last;
    struct vfs_dentry *child;
    int err = remove_prepare(ctx, start, path, false, &parent, &last, &child);
    if (err)
        return err;
    if (vfs_is_dir(child->inode))
        err = -ABI_EISDIR;
    else if (last.trailing_slash)
        err = -ABI_ENOTDIR;
    else
        err = may_delete(ctx, parent, child);
    if (!err && child->mounts)
        err = -ABI_EBUSY;
    if (!err) {
        struct vfs_inode *dir = parent.dentry->inode;
        err = dir->ops->unlink ? dir->ops->unlink(dir, last.name) : -ABI_EPERM;
    }
    if (!err)
        vfs_dentry_drop(child);
    vfs_dentry_put(child);
    vfs_path_put(parent);
    return err;
}

int vfs_rmdirat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path)
{
    struct vfs_path parent;
    struct vfs_last last;
    struct vfs_dentry *child;
    int err = remove_prepare(ctx, start, path, true, &parent, &last, &child);
    if (err)
        return err;
    if (!vfs_is_dir(child->inode))
        err = -ABI_ENOTDIR;
    else
        err = may_delete(ctx, parent, child);
    if (!err && (child->mounts || child == ctx->root.dentry))
        err = -ABI_EBUSY;
    if (!err) {
        struct vfs_inode *dir = parent.dentry->inode;
        err = dir->ops->rmdir ? dir->ops->rmdir(dir, last.name) : -ABI_EPERM;
    }
    if (!err)
        vfs_dentry_drop(child);
    vfs_dentry_put(child);
    vfs_path_put(parent);
    return err;
}

static int rename_checks(const struct vfs_walk_ctx *ctx, struct vfs_path op, struct vfs_last *ol,
                         struct vfs_dentry *od, struct vfs_path np, struct vfs_last *nl,
                         struct vfs_dentry *nd, uint32_t flags)
{
    bool exchange = flags & ABI_RENAME_EXCHANGE;
    bool odir = vfs_is_dir(od->inode);
    if ((flags & ABI_RENAME_NOREPLACE) && nd)
        return -ABI_EEXIST;
    if (exchange && !nd)
        return -ABI_ENOENT;
    if (!odir && ol->trailing_slash)
        return -ABI_ENOTDIR;
    if (nl->trailing_slash && (exchange ? !vfs_is_dir(nd->inode) : !odir))
        return -ABI_ENOTDIR;
    /* Moving a directory beneath itself would cut the subtree off. */
    if (vfs_dentry_is_ancestor(od, np.dentry))
        return -ABI_EINVAL;
    if (nd && vfs_dentry_is_ancestor(nd, op.dentry))
        return exchange ? -ABI_EINVAL : -ABI_ENOTEMPTY;
    if (nd && nd->inode == od->inode)
        return 1; /* the same file: nothing to do */
    if (od->mounts || (nd && nd->mounts) || od == ctx->root.dentry ||
        (nd && nd == ctx->root.dentry))
        return -ABI_EBUSY;
    if (nd && !exchange) {
        bool ndir = vfs_is_dir(nd->inode);
        if (odir && !ndir)
            return -ABI_ENOTDIR;
        if (!odir && ndir)
            return -ABI_EISDIR;
    }
    int err = may_delete(ctx, op, od);
    if (!err)
        err = nd ? may_delete(ctx, np, nd) : may_create(ctx, np);
    /* A directory changing parents rewrites its "..". */
    if (!err && odir && op.dentry != np.dentry)
        err = vfs_permission(&ctx->cred, od->inode, VFS_MAY_WRITE);
    if (!err && exchange && nd && vfs_is_dir(nd->inode) && op.dentry != np.dentry)
        err = vfs_permission(&ctx->cred, nd->inode, VFS_MAY_WRITE);
    return err;
}

int vfs_renameat(const struct vfs_walk_ctx *ctx, struct vfs_path oldstart, const char *oldpath,
                 struct vfs_path newstart, const char *newpath, uint32_t flags)
{
    if (flags & ~(uint32_t)(ABI_RENAME_NOREPLACE | ABI_RENAME_EXCHANGE))
        return -ABI_EINVAL; /* RENAME_WHITEOUT is for overlays, which do not call this */
    if ((flags & ABI_RENAME_NOREPLACE) && (flags & ABI_RENAME_EXCHANGE))
        return -ABI_EINVAL;
    struct vfs_path op, np;
    struct vfs_last ol, nl;
    int err = vfs_walk_parent(ctx, oldstart, oldpath, 0, &op, &ol);
    if (err)
        return err;
    err = vfs_walk_parent(ctx, newstart, newpath, 0, &np, &nl);
    if (err) {
        vfs_path_put(op);
        return err;
    }
    struct vfs_dentry *od = NULL, *nd = NULL;
    if (op.mnt != np.mnt)
        err = -ABI_EXDEV;
    else if (ol.type != VFS_LAST_NORM || nl.type != VFS_LAST_NORM)
        err = -ABI_EBUSY;
    else if (vfs_mount_readonly(op.mnt))
        err = -ABI_EROFS;
    if (!err)
        err = lookup_last(op, &ol, &od);
    if (!err) {
        err = lookup_last(np, &nl, &nd);
        if (err == -ABI_ENOENT)
            err = 0;
    }
    if (!err)
        err = rename_checks(ctx, op, &ol, od, np, &nl, nd, flags);
    if (err == 0) {
        struct vfs_inode *odir = op.dentry->inode, *ndir = np.dentry->inode;
        err =
            odir->ops->rename ? odir->ops->rename(odir, ol.name, ndir, nl.name, flags) : -ABI_EPERM;
        if (!err && (flags & ABI_RENAME_EXCHANGE)) {
            vfs_dentry_move(od, np.dentry, nl.name);
            vfs_dentry_move(nd, op.dentry, ol.name);
        } else if (!err) {
            vfs_dentry_drop(nd);
            vfs_dentry_move(od, np.dentry, nl.name);
        }
    } else if (err == 1) {
        err = 0;
    }
    if (od)
        vfs_dentry_put(od);
    if (nd)
        vfs_dentry_put(nd);
    vfs_path_put(np);
    vfs_path_put(op);
    return err;
}

int64_t vfs_readlinkat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                       char *buf, size_t n)
{
    struct vfs_path p;
    int err = vfs_walk(ctx, start, path, VFS_WALK_NOFOLLOW, &p);
    if (err)
        return err;
    struct vfs_inode *ino = p.dentry->inode;
    int64_t r =
        (vfs_is_symlink(ino) && ino->ops->readlink) ? ino->ops->readlink(ino, buf, n) : -ABI_EINVAL;
    vfs_path_put(p);
    return r;
}

static int walk_flags(int atflags)
{
    return (atflags & ABI_AT_SYMLINK_NOFOLLOW) ? VFS_WALK_NOFOLLOW : 0;
}

int vfs_statat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path, int flags,
               struct abi_stat *st)
{
    struct vfs_path p;
    int err = vfs_walk(ctx, start, path, walk_flags(flags), &p);
    if (err)
        return err;
    struct vfs_inode *ino = p.dentry->inode;
    if (ino->ops->getattr)
        err = ino->ops->getattr(ino);
    if (!err)
        vfs_inode_stat(ino, st);
    vfs_path_put(p);
    return err;
}

static bool owner_or_fowner(const struct vfs_walk_ctx *ctx, const struct vfs_inode *ino)
{
    return ctx->cred.uid == ino->uid || ctx->cred.cap_fowner;
}

static bool in_groups(const struct vfs_cred *c, uint32_t gid)
{
    if (c->gid == gid)
        return true;
    for (int i = 0; i < c->ngroups; i++) {
        if (c->groups[i] == gid)
            return true;
    }
    return false;
}

/* chmod, chown, truncate and utimes permission rules. */
static int may_setattr(const struct vfs_walk_ctx *ctx, const struct vfs_inode *ino,
                       const struct vfs_setattr *a)
{
    if ((a->mask & VFS_ATTR_MODE) && !owner_or_fowner(ctx, ino))
        return -ABI_EPERM;
    if ((a->mask & VFS_ATTR_UID) && a->uid != ino->uid && !ctx->cred.cap_chown)
        return -ABI_EPERM;
    if ((a->mask & VFS_ATTR_GID) && a->gid != ino->gid && !ctx->cred.cap_chown &&
        !(ctx->cred.uid == ino->uid && in_groups(&ctx->cred, a->gid)))
        return -ABI_EPERM;
    if ((a->mask & (VFS_ATTR_ATIME | VFS_ATTR_MTIME)) && !owner_or_fowner(ctx, ino)) {
        if (!(a->mask & VFS_ATTR_TIMES_NOW))
            return -ABI_EPERM;
        int err = vfs_permission(&ctx->cred, ino, VFS_MAY_WRITE);
        if (err)
            return err;
    }
    if (a->mask & VFS_ATTR_SIZE) {
        if (vfs_is_dir(ino))
            return -ABI_EISDIR;
        return vfs_permission(&ctx->cred, ino, VFS_MAY_WRITE);
    }
    return 0;
}

int vfs_setattrat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                  int flags, const struct vfs_setattr *attr)
{
    struct vfs_path p;
    int err = vfs_walk(ctx, start, path, walk_flags(flags), &p);
    if (err)
        return err;
    err = vfs_setattr(ctx, p, attr);
    vfs_path_put(p);
    return err;
}

int vfs_setattr(const struct vfs_walk_ctx *ctx, struct vfs_path p, const struct vfs_setattr *attr)
{
    int err = 0;
    struct vfs_inode *ino = p.dentry->inode;
    if (vfs_mount_readonly(p.mnt))
        err = -ABI_EROFS;
    if (!err)
        err = may_setattr(ctx, ino, attr);
    struct vfs_setattr a = *attr;
    /* chmod by someone outside the file's group drops setgid; chown drops
     * setuid, and setgid where it means "run as group" (not a lock mark). */
    if ((a.mask & VFS_ATTR_MODE) && !ctx->cred.cap_fsetid &&
        !in_groups(&ctx->cred, (a.mask & VFS_ATTR_GID) ? a.gid : ino->gid))
        a.mode &= ~(uint32_t)ABI_S_ISGID;
    if ((a.mask & (VFS_ATTR_UID | VFS_ATTR_GID)) && !(a.mask & VFS_ATTR_MODE) && !vfs_is_dir(ino)) {
        uint32_t kill = ABI_S_ISUID | ((ino->mode & ABI_S_IXGRP) ? ABI_S_ISGID : 0);
        if (ino->mode & kill) {
            a.mask |= VFS_ATTR_MODE;
            a.mode = ino->mode & ~kill;
        }
    }
    if (!err)
        err = ino->ops->setattr ? ino->ops->setattr(ino, &a) : -ABI_EPERM;
    return err;
}

int vfs_statfsat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                 struct vfs_statfs *out)
{
    struct vfs_path p;
    int err = vfs_walk(ctx, start, path, 0, &p);
    if (err)
        return err;
    struct vfs_filesystem *fs = p.mnt->fs;
    err = fs->ops->statfs ? fs->ops->statfs(fs, out) : -ABI_ENOSYS;
    /* The mount's flags as statfs's ST_RDONLY, ST_NOSUID, ST_NODEV and
     * ST_NOEXEC, which have the same values. */
    if (!err)
        out->flags |=
            p.mnt->flags & (VFS_MNT_RDONLY | VFS_MNT_NOSUID | VFS_MNT_NODEV | VFS_MNT_NOEXEC);
    vfs_path_put(p);
    return err;
}
