/* Filesystem lifetime and the mount tree.
 *
 * A mount attached to a tree holds one reference on itself for the tree, one
 * on its filesystem, on its root dentry and on the dentry it covers. Holders
 * of paths and open files hold references on both the mount and the dentry,
 * so a detached mount stays usable (for them, like Linux's lazy unmount)
 * until its last user is gone.
 */
#include <stdlib.h>

#include "abi/errno.h"
#include "sentry/vfs/vfs.h"

static uint64_t next_dev = 1;
static uint64_t next_mount_id = 1;

void vfs_fs_init(struct vfs_filesystem *fs, const char *name, uint32_t flags,
                 const struct vfs_filesystem_ops *ops, struct vfs_inode *root)
{
    fs->name = name;
    fs->flags = flags;
    fs->ops = ops;
    /* Anonymous devices: major 0, minors counted, as Linux numbers tmpfs. */
    fs->dev = next_dev++;
    fs->refs = 1;
    fs->root = vfs_dentry_new_root(root);
}

void vfs_fs_put(struct vfs_filesystem *fs)
{
    if (!fs || --fs->refs > 0)
        return;
    if (fs->root) {
        vfs_dentry_prune(fs->root);
        vfs_dentry_put(fs->root);
        fs->root = NULL;
    }
    fs->ops->release(fs);
}

struct vfs_mount *vfs_mount_get(struct vfs_mount *m)
{
    m->refs++;
    return m;
}

void vfs_mount_put(struct vfs_mount *m)
{
    if (!m || --m->refs > 0)
        return;
    vfs_dentry_put(m->root);
    vfs_fs_put(m->fs);
    free(m);
}

bool vfs_mount_readonly(const struct vfs_mount *m)
{
    return (m->flags & VFS_MNT_RDONLY) || (m->fs->flags & VFS_FS_RDONLY);
}

struct vfs_path vfs_path_get(struct vfs_path p)
{
    vfs_mount_get(p.mnt);
    vfs_dentry_get(p.dentry);
    return p;
}

void vfs_path_put(struct vfs_path p)
{
    if (p.dentry)
        vfs_dentry_put(p.dentry);
    if (p.mnt)
        vfs_mount_put(p.mnt);
}

static struct vfs_mount *mount_alloc(struct vfs_filesystem *fs, struct vfs_dentry *root,
                                     uint32_t flags)
{
    if (!root)
        return NULL;
    struct vfs_mount *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    fs->refs++;
    m->fs = fs;
    m->root = vfs_dentry_get(root);
    m->flags = flags;
    m->id = next_mount_id++;
    m->refs = 1;
    return m;
}

int vfs_mount_new_root(struct vfs_filesystem *fs, uint32_t flags, struct vfs_mount **out)
{
    struct vfs_mount *m = mount_alloc(fs, fs->root, flags);
    if (!m)
        return -ABI_ENOMEM;
    *out = m;
    return 0;
}

static int attach_at(struct vfs_path at, struct vfs_filesystem *fs, struct vfs_dentry *root,
                     uint32_t flags, struct vfs_mount **out)
{
    if (at.mnt->detached || at.dentry->detached)
        return -ABI_ENOENT;
    struct vfs_mount *m = mount_alloc(fs, root, flags);
    if (!m)
        return -ABI_ENOMEM;
    m->parent = at.mnt;
    m->mountpoint = vfs_dentry_get(at.dentry);
    at.dentry->mounts++;
    m->next_sibling = at.mnt->children;
    at.mnt->children = m;
    if (out)
        *out = m;
    return 0;
}

int vfs_mount_at(struct vfs_path at, struct vfs_filesystem *fs, uint32_t flags,
                 struct vfs_mount **out)
{
    if (!vfs_is_dir(at.dentry->inode))
        return -ABI_ENOTDIR;
    return attach_at(at, fs, fs->root, flags, out);
}

int vfs_mount_bind(struct vfs_path at, struct vfs_path src, uint32_t flags, struct vfs_mount **out)
{
    /* Linux lets files be bound on files and directories on directories. */
    if (vfs_is_dir(at.dentry->inode) != vfs_is_dir(src.dentry->inode))
        return vfs_is_dir(src.dentry->inode) ? -ABI_ENOTDIR : -ABI_EISDIR;
    if (src.dentry->detached)
        return -ABI_ENOENT;
    return attach_at(at, src.mnt->fs, src.dentry, flags, out);
}

struct vfs_mount *vfs_mount_on(struct vfs_mount *mnt, struct vfs_dentry *d)
{
    if (d->mounts == 0)
        return NULL;
    /* Newest first, so the topmost of stacked mounts wins. */
    for (struct vfs_mount *c = mnt->children; c; c = c->next_sibling) {
        if (c->mountpoint == d)
            return c;
    }
    return NULL;
}

int vfs_mount_detach(struct vfs_mount *m)
{
    if (m->children)
        return -ABI_EBUSY;
    if (m->detached)
        return -ABI_EINVAL;
    m->detached = true;
    if (m->parent) {
        struct vfs_mount **pp = &m->parent->children;
        while (*pp != m)
            pp = &(*pp)->next_sibling;
        *pp = m->next_sibling;
        m->mountpoint->mounts--;
        vfs_dentry_put(m->mountpoint);
        m->mountpoint = NULL;
        m->parent = NULL;
    }
    vfs_mount_put(m);
    return 0;
}

void vfs_mount_tree_release(struct vfs_mount *m)
{
    while (m->children)
        vfs_mount_tree_release(m->children);
    vfs_mount_detach(m);
}

void vfs_mount_tree_prune(struct vfs_mount *m)
{
    vfs_dentry_prune(m->root);
    for (struct vfs_mount *c = m->children; c; c = c->next_sibling)
        vfs_mount_tree_prune(c);
}
