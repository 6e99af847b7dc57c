/* Path resolution: components, ".", "..", mounts, symlinks, openat2 scoping.
 *
 * The walk keeps the unresolved rest of the path in one heap buffer; a
 * followed symlink replaces the component by its target in that buffer, so
 * nesting needs no recursion and the 40-link budget covers the whole walk,
 * as on Linux.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/vfs/vfs.h"

struct walker {
    const struct vfs_walk_ctx *ctx;
    struct vfs_path root; /* where "/" and ".." stop: the task's, or start's when scoped */
    struct vfs_path cur;  /* referenced */
    int flags;
    int links;
    char *buf;
};

static bool path_eq(struct vfs_path a, struct vfs_path b)
{
    return a.mnt == b.mnt && a.dentry == b.dentry;
}

static void set_cur(struct walker *w, struct vfs_path p)
{
    struct vfs_path old = w->cur;
    w->cur = vfs_path_get(p);
    vfs_path_put(old);
}

/* Step onto whatever is mounted on cur, topmost last. */
static int cross_down(struct walker *w)
{
    struct vfs_mount *m;
    while ((m = vfs_mount_on(w->cur.mnt, w->cur.dentry))) {
        if (w->flags & VFS_RESOLVE_NO_XDEV)
            return -ABI_EXDEV;
        set_cur(w, (struct vfs_path){m, m->root});
    }
    return 0;
}

static int dotdot(struct walker *w)
{
    bool scoped = w->flags & (VFS_RESOLVE_BENEATH | VFS_RESOLVE_IN_ROOT);
    for (;;) {
        if (path_eq(w->cur, w->root)) {
            /* IN_ROOT and the task's root clamp; BENEATH refuses to leave. */
            return (w->flags & VFS_RESOLVE_BENEATH) ? -ABI_EXDEV : 0;
        }
        if (w->cur.dentry != w->cur.mnt->root)
            break;
        struct vfs_mount *m = w->cur.mnt;
        if (!m->parent) /* the top of the tree, above root: nowhere to go */
            return scoped ? -ABI_EXDEV : 0;
        if (w->flags & VFS_RESOLVE_NO_XDEV)
            return -ABI_EXDEV;
        set_cur(w, (struct vfs_path){m->parent, m->mountpoint});
    }
    if (!w->cur.dentry->parent)
        return 0;
    set_cur(w, (struct vfs_path){w->cur.mnt, w->cur.dentry->parent});
    return cross_down(w);
}

static int jump_to_root(struct walker *w)
{
    if (w->flags & VFS_RESOLVE_BENEATH)
        return -ABI_EXDEV;
    if ((w->flags & VFS_RESOLVE_NO_XDEV) && w->root.mnt != w->cur.mnt)
        return -ABI_EXDEV;
    set_cur(w, w->root);
    return 0;
}

/* Replace the component just read by the link's target; rest is the path
 * after the component (starting at its '/' or NUL). */
static int follow_link(struct walker *w, struct vfs_inode *link, const char *rest)
{
    if (w->flags & VFS_RESOLVE_NO_SYMLINKS)
        return -ABI_ELOOP;
    if ((link->flags & VFS_INODE_MAGICLINK) && (w->flags & VFS_RESOLVE_NO_MAGICLINKS))
        return -ABI_ELOOP;
    if (++w->links > VFS_MAXSYMLINKS)
        return -ABI_ELOOP;
    if (!link->ops->readlink)
        return -ABI_EINVAL;
    size_t restlen = strlen(rest);
    char *nbuf = malloc(VFS_PATH_MAX + restlen + 1);
    if (!nbuf)
        return -ABI_ENOMEM;
    int64_t n = link->ops->readlink(link, nbuf, VFS_PATH_MAX);
    if (n < 0 || n == 0 || n >= VFS_PATH_MAX) {
        free(nbuf);
        return n < 0 ? (int)n : n == 0 ? -ABI_ENOENT : -ABI_ENAMETOOLONG;
    }
    memcpy(nbuf + n, rest, restlen + 1);
    free(w->buf);
    w->buf = nbuf;
    return 0;
}

/* A magic link: the walk continues at the object itself (cur is the link's
 * dentry). Linux refuses the jump under RESOLVE_NO_MAGICLINKS (ELOOP), to
 * another mount under RESOLVE_NO_XDEV and in any scoped walk (EXDEV), since
 * the target may lie anywhere. */
static int jump_magic(struct walker *w, struct vfs_inode *link)
{
    if (w->flags & (VFS_RESOLVE_NO_SYMLINKS | VFS_RESOLVE_NO_MAGICLINKS))
        return -ABI_ELOOP;
    if (++w->links > VFS_MAXSYMLINKS)
        return -ABI_ELOOP;
    struct vfs_path target;
    int err = link->ops->follow_link(link, w->cur.mnt, &target);
    if (err)
        return err;
    if (((w->flags & VFS_RESOLVE_NO_XDEV) && target.mnt != w->cur.mnt) ||
        (w->flags & (VFS_RESOLVE_BENEATH | VFS_RESOLVE_IN_ROOT))) {
        vfs_path_put(target);
        return -ABI_EXDEV;
    }
    set_cur(w, target);
    vfs_path_put(target);
    return 0;
}

static int walk(struct walker *w, const char *path, struct vfs_last *last)
{
    size_t len = strnlen(path, VFS_PATH_MAX);
    if (len == VFS_PATH_MAX)
        return -ABI_ENAMETOOLONG;
    if (len == 0)
        return -ABI_ENOENT;
    w->buf = strdup(path);
    if (!w->buf)
        return -ABI_ENOMEM;
    const char *p = w->buf;
    bool at_start = true;
    for (;;) {
        if (at_start && *p == '/') {
            int err = jump_to_root(w);
            if (err)
                return err;
        }
        at_start = false;
        while (*p == '/')
            p++;
        if (*p == '\0') {
            /* "/" alone, or a symlink to "/": the walk ends on a directory. */
            if (last) {
                *last = (struct vfs_last){.type = VFS_LAST_ROOT};
                return 0;
            }
            break;
        }
        const char *q = p;
        while (*q && *q != '/')
            q++;
        size_t nlen = (size_t)(q - p);
        if (nlen > VFS_NAME_MAX)
            return -ABI_ENAMETOOLONG;
        const char *r = q;
        while (*r == '/')
            r++;
        bool is_last = *r == '\0';
        bool trailing = is_last && r != q;
        char name[VFS_NAME_MAX + 1];
        memcpy(name, p, nlen);
        name[nlen] = '\0';

        struct vfs_inode *dir = w->cur.dentry->inode;
        if (!vfs_is_dir(dir))
            return -ABI_ENOTDIR;
        int err = vfs_permission(&w->ctx->cred, dir, VFS_MAY_EXEC);
        if (err)
            return err;

        bool dot = strcmp(name, ".") == 0, dot2 = strcmp(name, "..") == 0;
        if (last && is_last) {
            memcpy(last->name, name, nlen + 1);
            last->type = dot ? VFS_LAST_DOT : dot2 ? VFS_LAST_DOTDOT : VFS_LAST_NORM;
            last->trailing_slash = trailing;
            return 0;
        }
        if (dot2) {
            err = dotdot(w);
        } else if (!dot) {
            struct vfs_dentry *child;
            err = vfs_dentry_lookup(w->cur.dentry, name, &child);
            if (err)
                return err;
            struct vfs_path save = vfs_path_get(w->cur);
            set_cur(w, (struct vfs_path){w->cur.mnt, child});
            vfs_dentry_put(child);
            err = cross_down(w);
            struct vfs_inode *ino = w->cur.dentry->inode;
            bool follow = !is_last || trailing || !(w->flags & VFS_WALK_NOFOLLOW);
            if (!err && vfs_is_symlink(ino) && follow && (ino->flags & VFS_INODE_MAGICLINK) &&
                ino->ops->follow_link) {
                struct vfs_inode *link = vfs_inode_get(ino);
                err = jump_magic(w, link);
                vfs_inode_put(link);
                vfs_path_put(save);
                if (err)
                    return err;
                if (trailing && !vfs_is_dir(w->cur.dentry->inode))
                    return -ABI_ENOTDIR;
                p = r;
                if (is_last)
                    break;
                continue;
            }
            if (!err && vfs_is_symlink(ino) && follow) {
                struct vfs_inode *link = vfs_inode_get(ino);
                set_cur(w, save);
                /* The rest of the path moves into a new buffer behind the
                 * target; the walk restarts at its beginning. */
                err = follow_link(w, link, q);
                vfs_inode_put(link);
                vfs_path_put(save);
                if (err)
                    return err;
                p = w->buf;
                at_start = true;
                continue;
            }
            vfs_path_put(save);
        }
        if (err)
            return err;
        p = r;
        if (is_last) {
            if (trailing && !vfs_is_dir(w->cur.dentry->inode))
                return -ABI_ENOTDIR;
            break;
        }
    }
    if ((w->flags & VFS_WALK_DIRECTORY) && !vfs_is_dir(w->cur.dentry->inode))
        return -ABI_ENOTDIR;
    return 0;
}

static int do_walk(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                   int flags, struct vfs_path *out, struct vfs_last *last)
{
    struct walker w = {.ctx = ctx, .flags = flags};
    w.root = (flags & (VFS_RESOLVE_BENEATH | VFS_RESOLVE_IN_ROOT)) ? start : ctx->root;
    w.cur = vfs_path_get(start);
    int err = walk(&w, path, last);
    free(w.buf);
    if (err) {
        vfs_path_put(w.cur);
        return err;
    }
    *out = w.cur;
    return 0;
}

int vfs_walk(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path, int flags,
             struct vfs_path *out)
{
    return do_walk(ctx, start, path, flags, out, NULL);
}

int vfs_walk_parent(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                    int flags, struct vfs_path *parent, struct vfs_last *last)
{
    return do_walk(ctx, start, path, flags, parent, last);
}
