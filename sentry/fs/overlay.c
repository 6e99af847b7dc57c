/* overlay: inodes, lookups and the name operations of the writable overlay.
 *
 * An overlay inode stands for one name; it holds the upper inode (once the
 * object has been created in or copied up to the upper tmpfs) and the lower
 * one (until a file is copied up; for a directory, the lower directory
 * merged into it). Every change goes to the upper filesystem, calling its
 * inode ops directly: the lower one is only looked up, read and listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/overlay_priv.h"

/* Upper-only objects get numbers the host's lower ones never reach. */
#define UPPER_INO_BIT (1ULL << 63)

/* ---- markers on upper inodes ---- */

struct overlay_mark *overlay_mark_find(struct overlay_fs *fs, uint64_t upper_ino)
{
    for (struct overlay_mark *m = fs->marks[upper_ino % OVERLAY_MARK_BUCKETS]; m; m = m->next)
        if (m->upper_ino == upper_ino)
            return m;
    return NULL;
}

int overlay_mark_set(struct overlay_fs *fs, uint64_t upper_ino, uint32_t flag, uint64_t origin)
{
    struct overlay_mark *m = overlay_mark_find(fs, upper_ino);
    if (!m) {
        m = calloc(1, sizeof(*m));
        if (!m)
            return -ABI_ENOMEM;
        m->upper_ino = upper_ino;
        m->next = fs->marks[upper_ino % OVERLAY_MARK_BUCKETS];
        fs->marks[upper_ino % OVERLAY_MARK_BUCKETS] = m;
    }
    m->flags |= flag;
    if (flag & OVERLAY_MARK_ORIGIN)
        m->origin = origin;
    return 0;
}

void overlay_mark_forget(struct overlay_fs *fs, uint64_t upper_ino)
{
    for (struct overlay_mark **p = &fs->marks[upper_ino % OVERLAY_MARK_BUCKETS]; *p;
         p = &(*p)->next) {
        if ((*p)->upper_ino == upper_ino) {
            struct overlay_mark *m = *p;
            *p = m->next;
            free(m);
            return;
        }
    }
}

static bool has_mark(struct overlay_fs *fs, const struct vfs_inode *upper, uint32_t flag)
{
    struct overlay_mark *m = overlay_mark_find(fs, upper->ino);
    return m && (m->flags & flag);
}

bool overlay_is_whiteout(struct overlay_fs *fs, const struct vfs_inode *upper)
{
    return (upper->mode & ABI_S_IFMT) == ABI_S_IFCHR && upper->rdev == 0 &&
           has_mark(fs, upper, OVERLAY_MARK_WHITEOUT);
}

uint64_t overlay_upper_ino(struct overlay_fs *fs, uint64_t upper_ino)
{
    struct overlay_mark *m = overlay_mark_find(fs, upper_ino);
    if (m && (m->flags & OVERLAY_MARK_ORIGIN))
        return m->origin;
    return upper_ino | UPPER_INO_BIT;
}

/* ---- overlay inodes ---- */

static const struct vfs_inode_ops overlay_inode_ops;

static uint32_t name_hash(const struct overlay_node *parent, const char *name)
{
    uint32_t h = (uint32_t)((uintptr_t)parent >> 4) * 2654435761u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = h * 31 + *p;
    return h % OVERLAY_NODE_BUCKETS;
}

static void node_hash(struct overlay_node *o)
{
    struct overlay_fs *fs = overlay_fs_of(o);
    uint32_t h = name_hash(o->parent, o->name);
    o->hnext = fs->nodes[h];
    fs->nodes[h] = o;
    o->hashed = true;
}

static void node_unhash(struct overlay_node *o)
{
    if (!o->hashed)
        return;
    struct overlay_fs *fs = overlay_fs_of(o);
    for (struct overlay_node **p = &fs->nodes[name_hash(o->parent, o->name)]; *p;
         p = &(*p)->hnext) {
        if (*p == o) {
            *p = o->hnext;
            break;
        }
    }
    o->hashed = false;
}

static struct overlay_node *node_cached(struct overlay_node *dir, const char *name)
{
    struct overlay_fs *fs = overlay_fs_of(dir);
    for (struct overlay_node *o = fs->nodes[name_hash(dir, name)]; o; o = o->hnext)
        if (o->parent == dir && strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

void overlay_sync_attrs(struct overlay_node *o)
{
    struct vfs_inode *r = overlay_real(o);
    struct vfs_inode *v = &o->vfs;
    v->mode = r->mode;
    v->nlink = r->nlink;
    v->uid = r->uid;
    v->gid = r->gid;
    v->size = r->size;
    v->blocks = r->blocks;
    v->rdev = r->rdev;
    v->atime = r->atime;
    v->mtime = r->mtime;
    v->ctime = r->ctime;
    v->btime = r->btime;
    v->flags = r->flags;
    /* The upper part of a merged directory counts only its own
     * subdirectories: 1 tells find(1) the count is unknown, as Linux's
     * overlayfs reports. */
    if (vfs_is_dir(v) && o->upper && o->lower)
        v->nlink = 1;
}

/* Takes over the references to upper and lower; takes one on parent. */
static struct overlay_node *node_new(struct overlay_fs *fs, struct overlay_node *parent,
                                     const char *name, struct vfs_inode *upper,
                                     struct vfs_inode *lower)
{
    struct overlay_node *o = calloc(1, sizeof(*o));
    char *nm = strdup(name);
    if (!o || !nm) {
        free(o);
        free(nm);
        vfs_inode_put(upper);
        vfs_inode_put(lower);
        return NULL;
    }
    o->upper = upper;
    o->lower = lower;
    o->name = nm;
    o->parent = parent;
    if (parent)
        vfs_inode_get(&parent->vfs);
    o->vfs.refs = 1;
    o->vfs.ops = &overlay_inode_ops;
    o->vfs.fs = &fs->vfs;
    o->vfs.ino = lower ? lower->ino : overlay_upper_ino(fs, upper->ino);
    overlay_sync_attrs(o);
    if (parent)
        node_hash(o);
    return o;
}

static void overlay_evict(struct vfs_inode *ino)
{
    struct overlay_node *o = overlay_node(ino);
    node_unhash(o);
    vfs_inode_put(o->upper);
    vfs_inode_put(o->lower);
    if (o->parent)
        vfs_inode_put(&o->parent->vfs);
    for (unsigned i = 0; i < OVERLAY_MISSING_SLOTS; i++)
        free(o->lower_missing[i]);
    free(o->name);
    free(o);
}

/* The no-op ops an internal file starts with, until the real open fills
 * them in. */
static const struct vfs_file_ops internal_file_ops = {0};

int overlay_open_real(struct vfs_inode *ino, uint32_t flags, struct vfs_file **out)
{
    if (!ino->ops->open)
        return -ABI_ENXIO;
    struct vfs_file *f = vfs_file_new(&internal_file_ops, flags, NULL);
    if (!f)
        return -ABI_ENOMEM;
    f->inode = vfs_inode_get(ino);
    int err = ino->ops->open(ino, f);
    if (err) {
        vfs_file_put(f);
        return err;
    }
    *out = f;
    return 0;
}

static bool is_opaque(struct overlay_fs *fs, const struct overlay_node *dir)
{
    return dir->upper && has_mark(fs, dir->upper, OVERLAY_MARK_OPAQUE);
}

/* name in the lower directory merged into dir, with the negative answers
 * remembered (see overlay_node.lower_missing). */
static int lower_lookup(struct overlay_node *dir, const char *name, struct vfs_inode **out)
{
    for (unsigned i = 0; i < OVERLAY_MISSING_SLOTS; i++) {
        if (dir->lower_missing[i] && strcmp(dir->lower_missing[i], name) == 0)
            return -ABI_ENOENT;
    }
    int err = dir->lower->ops->lookup(dir->lower, name, out);
    if (err == -ABI_ENOENT) {
        char *copy = strdup(name);
        if (copy) {
            unsigned slot = dir->lower_missing_next++ % OVERLAY_MISSING_SLOTS;
            free(dir->lower_missing[slot]);
            dir->lower_missing[slot] = copy;
        }
    }
    return err;
}

/* Does the lower directory merged into dir hold name? */
static int lower_has(struct overlay_node *dir, const char *name, bool *has)
{
    *has = false;
    if (!dir->lower || is_opaque(overlay_fs_of(dir), dir))
        return 0;
    struct vfs_inode *l;
    int err = lower_lookup(dir, name, &l);
    if (err == -ABI_ENOENT)
        return 0;
    if (err)
        return err;
    vfs_inode_put(l);
    *has = true;
    return 0;
}

/* What name in dir stands for: the upper object (a whiteout there means
 * nothing), else or merged with it the lower one. */
static int resolve(struct overlay_node *dir, const char *name, struct vfs_inode **up,
                   struct vfs_inode **low)
{
    struct overlay_fs *fs = overlay_fs_of(dir);
    *up = *low = NULL;
    if (dir->upper) {
        struct vfs_inode *u;
        int err = dir->upper->ops->lookup(dir->upper, name, &u);
        if (err == 0 && overlay_is_whiteout(fs, u)) {
            vfs_inode_put(u);
            return -ABI_ENOENT;
        }
        if (err == 0)
            *up = u;
        else if (err != -ABI_ENOENT)
            return err;
    }
    if (dir->lower && !is_opaque(fs, dir) && (!*up || vfs_is_dir(*up))) {
        struct vfs_inode *l;
        int err = lower_lookup(dir, name, &l);
        if (err == 0) {
            if (!*up || vfs_is_dir(l))
                *low = l;
            else
                vfs_inode_put(l);
        } else if (err != -ABI_ENOENT) {
            vfs_inode_put(*up);
            *up = NULL;
            return err;
        }
    }
    return (*up || *low) ? 0 : -ABI_ENOENT;
}

static int node_lookup(struct overlay_node *dir, const char *name, struct overlay_node **out)
{
    if (dir->removed && !dir->upper)
        return -ABI_ENOENT;
    struct overlay_node *o = node_cached(dir, name);
    if (o) {
        vfs_inode_get(&o->vfs);
        *out = o;
        return 0;
    }
    struct vfs_inode *up, *low;
    int err = resolve(dir, name, &up, &low);
    if (err)
        return err;
    o = node_new(overlay_fs_of(dir), dir, name, up, low);
    if (!o)
        return -ABI_ENOMEM;
    *out = o;
    return 0;
}

static int overlay_lookup(struct vfs_inode *dir, const char *name, struct vfs_inode **out)
{
    struct overlay_node *o;
    int err = node_lookup(overlay_node(dir), name, &o);
    if (!err)
        *out = &o->vfs;
    return err;
}

/* ---- whiteouts ---- */

static int whiteout_new(struct overlay_fs *fs, struct vfs_inode *udir, const char *name)
{
    struct vfs_inode *w;
    int err = udir->ops->mknod(udir, name, ABI_S_IFCHR, 0, 0, 0, &w);
    if (err)
        return err;
    err = overlay_mark_set(fs, w->ino, OVERLAY_MARK_WHITEOUT, 0);
    if (err)
        udir->ops->unlink(udir, name);
    vfs_inode_put(w);
    return err;
}

/* A whiteout under a name no guest object holds, renamed into place once
 * the step that could fail is done: removing a name never leaves the lower
 * object showing through. The VFS's callers are serialised, so nobody sees
 * the temporary name. */
static int whiteout_tmp(struct overlay_fs *fs, struct vfs_inode *udir, char *tmp, size_t n)
{
    for (int tries = 0; tries < 16; tries++) {
        snprintf(tmp, n, ".moat-overlay-wh.%llu", (unsigned long long)fs->tmp_seq++);
        int err = whiteout_new(fs, udir, tmp);
        if (err != -ABI_EEXIST)
            return err;
    }
    return -ABI_EEXIST;
}

static void whiteout_drop(struct overlay_fs *fs, struct vfs_inode *udir, const char *name)
{
    struct vfs_inode *w;
    if (udir->ops->lookup(udir, name, &w) != 0)
        return;
    uint64_t ino = w->ino;
    vfs_inode_put(w);
    if (udir->ops->unlink(udir, name) == 0)
        overlay_mark_forget(fs, ino);
}

/* Before a new object takes name in dir: dir gets an upper directory and
 * any whiteout there goes. *had_whiteout: the name hid a lower object. */
static int prepare_create(struct overlay_node *dir, const char *name, bool *had_whiteout)
{
    struct overlay_fs *fs = overlay_fs_of(dir);
    *had_whiteout = false;
    int err = overlay_copy_up(dir);
    if (err)
        return err;
    struct vfs_inode *u;
    err = dir->upper->ops->lookup(dir->upper, name, &u);
    if (err == -ABI_ENOENT)
        return 0;
    if (err)
        return err;
    bool wh = overlay_is_whiteout(fs, u);
    uint64_t ino = u->ino;
    vfs_inode_put(u);
    if (!wh)
        return -ABI_EEXIST;
    err = dir->upper->ops->unlink(dir->upper, name);
    if (err)
        return err;
    overlay_mark_forget(fs, ino);
    *had_whiteout = true;
    return 0;
}

/* A create failed after its whiteout went: put it back. */
static void restore_whiteout(struct overlay_node *dir, const char *name, bool had_whiteout)
{
    if (had_whiteout)
        whiteout_new(overlay_fs_of(dir), dir->upper, name);
}

static int finish_create(struct overlay_node *dir, const char *name, struct vfs_inode *u,
                         struct vfs_inode **out)
{
    struct overlay_node *o = node_new(overlay_fs_of(dir), dir, name, u, NULL);
    overlay_sync_attrs(dir);
    if (!o)
        return -ABI_ENOMEM;
    *out = &o->vfs;
    return 0;
}

static int overlay_create_op(struct vfs_inode *vdir, const char *name, uint32_t mode, uint32_t uid,
                             uint32_t gid, struct vfs_inode **out)
{
    struct overlay_node *dir = overlay_node(vdir);
    bool wh;
    int err = prepare_create(dir, name, &wh);
    if (err)
        return err;
    struct vfs_inode *u;
    err = dir->upper->ops->create(dir->upper, name, mode, uid, gid, &u);
    if (err) {
        restore_whiteout(dir, name, wh);
        return err;
    }
    return finish_create(dir, name, u, out);
}

static int overlay_mkdir(struct vfs_inode *vdir, const char *name, uint32_t mode, uint32_t uid,
                         uint32_t gid, struct vfs_inode **out)
{
    struct overlay_node *dir = overlay_node(vdir);
    bool wh;
    int err = prepare_create(dir, name, &wh);
    if (err)
        return err;
    struct vfs_inode *u;
    err = dir->upper->ops->mkdir(dir->upper, name, mode, uid, gid, &u);
    if (err) {
        restore_whiteout(dir, name, wh);
        return err;
    }
    /* Over a whiteout the old lower directory must not merge back in. */
    if (wh && overlay_mark_set(overlay_fs_of(dir), u->ino, OVERLAY_MARK_OPAQUE, 0)) {
        vfs_inode_put(u);
        dir->upper->ops->rmdir(dir->upper, name);
        restore_whiteout(dir, name, wh);
        return -ABI_ENOMEM;
    }
    return finish_create(dir, name, u, out);
}

static int overlay_mknod(struct vfs_inode *vdir, const char *name, uint32_t mode, uint64_t rdev,
                         uint32_t uid, uint32_t gid, struct vfs_inode **out)
{
    struct overlay_node *dir = overlay_node(vdir);
    bool wh;
    int err = prepare_create(dir, name, &wh);
    if (err)
        return err;
    struct vfs_inode *u;
    err = dir->upper->ops->mknod(dir->upper, name, mode, rdev, uid, gid, &u);
    if (err) {
        restore_whiteout(dir, name, wh);
        return err;
    }
    return finish_create(dir, name, u, out);
}

static int overlay_symlink(struct vfs_inode *vdir, const char *name, const char *target,
                           uint32_t uid, uint32_t gid, struct vfs_inode **out)
{
    struct overlay_node *dir = overlay_node(vdir);
    bool wh;
    int err = prepare_create(dir, name, &wh);
    if (err)
        return err;
    struct vfs_inode *u;
    err = dir->upper->ops->symlink(dir->upper, name, target, uid, gid, &u);
    if (err) {
        restore_whiteout(dir, name, wh);
        return err;
    }
    return finish_create(dir, name, u, out);
}

/* The new name shares the copied-up upper inode; a lower file with several
 * names was broken apart by its copy-up (Linux without index=on too). */
static int overlay_link(struct vfs_inode *vdir, const char *name, struct vfs_inode *vtarget)
{
    struct overlay_node *dir = overlay_node(vdir), *target = overlay_node(vtarget);
    int err = overlay_copy_up(target);
    if (err)
        return err;
    bool wh;
    err = prepare_create(dir, name, &wh);
    if (err)
        return err;
    err = dir->upper->ops->link(dir->upper, name, target->upper);
    if (err) {
        restore_whiteout(dir, name, wh);
        return err;
    }
    overlay_sync_attrs(target);
    overlay_sync_attrs(dir);
    return 0;
}

/* O_TMPFILE: a nameless upper file; linkat may name it later. */
static int overlay_tmpfile(struct vfs_inode *vdir, uint32_t mode, uint32_t uid, uint32_t gid,
                           struct vfs_inode **out)
{
    struct overlay_node *dir = overlay_node(vdir);
    int err = overlay_copy_up(dir);
    if (err)
        return err;
    if (!dir->upper->ops->tmpfile)
        return -ABI_EOPNOTSUPP;
    struct vfs_inode *u;
    err = dir->upper->ops->tmpfile(dir->upper, mode, uid, gid, &u);
    if (err)
        return err;
    struct overlay_node *o = node_new(overlay_fs_of(dir), NULL, "", u, NULL);
    if (!o)
        return -ABI_ENOMEM;
    o->removed = true;
    *out = &o->vfs;
    return 0;
}

/* The name no longer leads to the node. */
static void node_detach(struct overlay_node *o)
{
    node_unhash(o);
    o->removed = true;
}

static void forget_if_gone(struct overlay_fs *fs, struct vfs_inode *u)
{
    if (u && u->nlink == 0)
        overlay_mark_forget(fs, u->ino);
}

/* unlink and rmdir: remove the upper object, and leave a whiteout when the
 * lower directory holds the name. */
static int remove_name(struct overlay_node *dir, const char *name, bool is_dir)
{
    struct overlay_fs *fs = overlay_fs_of(dir);
    struct overlay_node *c;
    int err = node_lookup(dir, name, &c);
    if (err)
        return err;
    if (is_dir) {
        struct overlay_list l = {0};
        err = overlay_list_dir(c, &l);
        if (!err && l.n)
            err = -ABI_ENOTEMPTY;
        overlay_list_free(&l);
        if (!err && c->upper)
            err = overlay_clear_whiteouts(fs, c->upper);
    }
    bool need_wh = false;
    if (!err)
        err = lower_has(dir, name, &need_wh);
    if (!err && need_wh)
        err = overlay_copy_up(dir);
    char tmp[64];
    if (!err && need_wh)
        err = whiteout_tmp(fs, dir->upper, tmp, sizeof(tmp));
    if (err) {
        vfs_inode_put(&c->vfs);
        return err;
    }
    if (c->upper) {
        if (need_wh && !is_dir)
            err = dir->upper->ops->rename(dir->upper, tmp, dir->upper, name, 0);
        else if (is_dir)
            err = dir->upper->ops->rmdir(dir->upper, name);
        else
            err = dir->upper->ops->unlink(dir->upper, name);
        if (err) {
            if (need_wh)
                whiteout_drop(fs, dir->upper, tmp);
            vfs_inode_put(&c->vfs);
            return err;
        }
        if (need_wh && !is_dir)
            need_wh = false; /* renamed into place over the file */
        forget_if_gone(fs, c->upper);
    }
    if (need_wh) {
        err = dir->upper->ops->rename(dir->upper, tmp, dir->upper, name, 0);
        if (err)
            whiteout_drop(fs, dir->upper, tmp);
    }
    node_detach(c);
    if (c->upper)
        overlay_sync_attrs(c);
    overlay_sync_attrs(dir);
    vfs_inode_put(&c->vfs);
    return err;
}

static int overlay_unlink(struct vfs_inode *dir, const char *name)
{
    return remove_name(overlay_node(dir), name, false);
}

static int overlay_rmdir(struct vfs_inode *dir, const char *name)
{
    return remove_name(overlay_node(dir), name, true);
}

static void node_move(struct overlay_node *o, struct overlay_node *dir, const char *name)
{
    char *nm = strdup(name);
    if (!nm) {
        node_detach(o); /* it can no longer be found by name: found afresh */
        return;
    }
    node_unhash(o);
    free(o->name);
    o->name = nm;
    if (o->parent != dir) {
        vfs_inode_get(&dir->vfs);
        vfs_inode_put(&o->parent->vfs);
        o->parent = dir;
    }
    node_hash(o);
}

/* Without redirect_dir, Linux's overlayfs cannot move a directory that has
 * a lower part: EXDEV, and mv(1) copies instead. Upper-only directories
 * move, and are made opaque so no lower directory at the new name merges
 * into them. */
static int overlay_rename(struct vfs_inode *volddir, const char *oldname, struct vfs_inode *vnewdir,
                          const char *newname, uint32_t flags)
{
    struct overlay_node *od = overlay_node(volddir), *nd = overlay_node(vnewdir);
    struct overlay_fs *fs = overlay_fs_of(od);
    bool exchange = flags & ABI_RENAME_EXCHANGE;
    struct overlay_node *s = NULL, *t = NULL;
    int err = node_lookup(od, oldname, &s);
    if (err)
        return err;
    err = node_lookup(nd, newname, &t);
    if (err == -ABI_ENOENT)
        err = 0;
    bool wh_at_new = false, old_wh = false;
    char tmp[64];
    if (err)
        goto out;
    if ((vfs_is_dir(&s->vfs) && s->lower) || (exchange && t && vfs_is_dir(&t->vfs) && t->lower)) {
        err = -ABI_EXDEV;
        goto out;
    }
    if (t && (flags & ABI_RENAME_NOREPLACE)) {
        err = -ABI_EEXIST;
        goto out;
    }
    if (t && !exchange && vfs_is_dir(&t->vfs)) {
        struct overlay_list l = {0};
        err = overlay_list_dir(t, &l);
        if (!err && l.n)
            err = -ABI_ENOTEMPTY;
        overlay_list_free(&l);
        if (err)
            goto out;
    }
    err = overlay_copy_up(s);
    if (!err)
        err = overlay_copy_up(od);
    if (!err)
        err = overlay_copy_up(nd);
    if (!err && t && exchange)
        err = overlay_copy_up(t);
    if (!err && t && !exchange && t->upper && vfs_is_dir(&t->vfs))
        err = overlay_clear_whiteouts(fs, t->upper);
    if (!err && !exchange)
        err = lower_has(od, oldname, &old_wh);
    if (err)
        goto out;
    uint64_t wino = 0;
    if (!exchange && !t) {
        /* A directory cannot replace the whiteout: it goes first. */
        struct vfs_inode *u;
        if (nd->upper->ops->lookup(nd->upper, newname, &u) == 0) {
            wh_at_new = overlay_is_whiteout(fs, u);
            wino = u->ino;
            vfs_inode_put(u);
            if (wh_at_new && vfs_is_dir(&s->vfs)) {
                err = nd->upper->ops->unlink(nd->upper, newname);
                if (err)
                    goto out;
            }
        }
    }
    if (old_wh) {
        err = whiteout_tmp(fs, od->upper, tmp, sizeof(tmp));
        if (err)
            goto restore;
    }
    err = od->upper->ops->rename(od->upper, oldname, nd->upper, newname,
                                 exchange ? ABI_RENAME_EXCHANGE : 0);
    if (err) {
        if (old_wh)
            whiteout_drop(fs, od->upper, tmp);
        goto restore;
    }
    if (wh_at_new)
        overlay_mark_forget(fs, wino);
    if (old_wh && od->upper->ops->rename(od->upper, tmp, od->upper, oldname, 0))
        whiteout_drop(fs, od->upper, tmp);
    if (vfs_is_dir(&s->vfs))
        overlay_mark_set(fs, s->upper->ino, OVERLAY_MARK_OPAQUE, 0);
    if (exchange && t && vfs_is_dir(&t->vfs))
        overlay_mark_set(fs, t->upper->ino, OVERLAY_MARK_OPAQUE, 0);
    if (t && !exchange) {
        node_detach(t);
        forget_if_gone(fs, t->upper);
    }
    /* Both leave the hash before either goes back: their names swap. */
    node_unhash(s);
    if (t && exchange)
        node_unhash(t);
    node_move(s, nd, newname);
    if (t && exchange)
        node_move(t, od, oldname);
    overlay_sync_attrs(s);
    if (t && t->upper)
        overlay_sync_attrs(t);
    overlay_sync_attrs(od);
    overlay_sync_attrs(nd);
    goto out;
restore:
    if (wh_at_new && vfs_is_dir(&s->vfs)) {
        overlay_mark_forget(fs, wino);
        whiteout_new(fs, nd->upper, newname);
    }
out:
    vfs_inode_put(&s->vfs);
    if (t)
        vfs_inode_put(&t->vfs);
    return err;
}

static int64_t overlay_readlink(struct vfs_inode *ino, char *buf, size_t n)
{
    struct vfs_inode *r = overlay_real(overlay_node(ino));
    return r->ops->readlink ? r->ops->readlink(r, buf, n) : -ABI_EINVAL;
}

static int overlay_getattr(struct vfs_inode *ino)
{
    struct overlay_node *o = overlay_node(ino);
    struct vfs_inode *r = overlay_real(o);
    int err = r->ops->getattr ? r->ops->getattr(r) : 0;
    if (!err)
        overlay_sync_attrs(o);
    return err;
}

static int overlay_setattr(struct vfs_inode *ino, const struct vfs_setattr *a)
{
    struct overlay_node *o = overlay_node(ino);
    int err = overlay_copy_up(o);
    if (err)
        return err;
    err = o->upper->ops->setattr ? o->upper->ops->setattr(o->upper, a) : -ABI_EPERM;
    overlay_sync_attrs(o);
    return err;
}

/* Extended attributes: read from the real inode, changed on the upper
 * one after a copy-up. A layer without them answers EOPNOTSUPP. */
static int64_t overlay_getxattr(struct vfs_inode *ino, const char *name, void *buf, size_t size)
{
    struct vfs_inode *r = overlay_real(overlay_node(ino));
    return r->ops->getxattr ? r->ops->getxattr(r, name, buf, size) : -ABI_EOPNOTSUPP;
}

static int64_t overlay_listxattr(struct vfs_inode *ino, char *buf, size_t size)
{
    struct vfs_inode *r = overlay_real(overlay_node(ino));
    return r->ops->listxattr ? r->ops->listxattr(r, buf, size) : 0;
}

static int overlay_setxattr(struct vfs_inode *ino, const char *name, const void *value, size_t size,
                            int flags)
{
    struct overlay_node *o = overlay_node(ino);
    int err = overlay_copy_up(o);
    if (err)
        return err;
    if (!o->upper->ops->setxattr)
        return -ABI_EOPNOTSUPP;
    err = o->upper->ops->setxattr(o->upper, name, value, size, flags);
    overlay_sync_attrs(o);
    return err;
}

static int overlay_removexattr(struct vfs_inode *ino, const char *name)
{
    struct overlay_node *o = overlay_node(ino);
    struct vfs_inode *r = overlay_real(o);
    /* Nothing to remove needs no copy-up. */
    if (r->ops->getxattr && r->ops->getxattr(r, name, NULL, 0) == -ABI_ENODATA)
        return -ABI_ENODATA;
    int err = overlay_copy_up(o);
    if (err)
        return err;
    if (!o->upper->ops->removexattr)
        return -ABI_EOPNOTSUPP;
    err = o->upper->ops->removexattr(o->upper, name);
    overlay_sync_attrs(o);
    return err;
}

/* Files open on the real inode, so their ops are its filesystem's own (an
 * unmodified file reads straight from the Gofer's host fd); f->dentry and
 * f->mnt stay the overlay's. A file opened for reading before a copy-up
 * keeps reading the lower data, as Linux before 4.19 did. */
static int overlay_open(struct vfs_inode *ino, struct vfs_file *f)
{
    struct overlay_node *o = overlay_node(ino);
    if (vfs_is_dir(ino)) {
        f->priv = calloc(1, sizeof(struct overlay_list));
        if (!f->priv)
            return -ABI_ENOMEM;
        f->ops = &overlay_dir_file_ops;
        f->positional = true;
        return 0;
    }
    if (vfs_is_reg(ino) && (f->flags & ABI_O_ACCMODE) != ABI_O_RDONLY) {
        int err = overlay_copy_up(o);
        if (err)
            return err;
    }
    struct vfs_inode *r = overlay_real(o);
    if (!r->ops->open)
        return -ABI_ENXIO;
    if (f->inode)
        vfs_inode_put(f->inode);
    f->inode = vfs_inode_get(r);
    int err = r->ops->open(r, f);
    /* Opening is when programs look at the size (O_TRUNC does). */
    overlay_sync_attrs(o);
    return err;
}

static const struct vfs_inode_ops overlay_inode_ops = {
    .lookup = overlay_lookup,
    .create = overlay_create_op,
    .mkdir = overlay_mkdir,
    .mknod = overlay_mknod,
    .symlink = overlay_symlink,
    .link = overlay_link,
    .unlink = overlay_unlink,
    .rmdir = overlay_rmdir,
    .rename = overlay_rename,
    .readlink = overlay_readlink,
    .getattr = overlay_getattr,
    .setattr = overlay_setattr,
    .open = overlay_open,
    .evict = overlay_evict,
    .getxattr = overlay_getxattr,
    .setxattr = overlay_setxattr,
    .listxattr = overlay_listxattr,
    .removexattr = overlay_removexattr,
    .tmpfile = overlay_tmpfile,
};

/* ---- the filesystem ---- */

/* Space and inodes are the upper tmpfs's, where writes go; the type is
 * overlayfs's, as Linux reports it. */
static int overlay_statfs(struct vfs_filesystem *vfs, struct vfs_statfs *out)
{
    struct overlay_fs *fs = (struct overlay_fs *)vfs;
    int err = fs->upper_fs->ops->statfs(fs->upper_fs, out);
    if (err)
        return err;
    out->type = OVERLAYFS_SUPER_MAGIC;
    out->flags = 0;
    return 0;
}

static void overlay_release(struct vfs_filesystem *vfs)
{
    struct overlay_fs *fs = (struct overlay_fs *)vfs;
    for (size_t i = 0; i < OVERLAY_MARK_BUCKETS; i++) {
        while (fs->marks[i]) {
            struct overlay_mark *m = fs->marks[i];
            fs->marks[i] = m->next;
            free(m);
        }
    }
    vfs_fs_put(fs->lower_fs);
    vfs_fs_put(fs->upper_fs);
    free(fs);
}

static const struct vfs_filesystem_ops overlay_fs_ops = {
    .statfs = overlay_statfs,
    .release = overlay_release,
};

int overlay_create(struct vfs_filesystem *lower, struct vfs_filesystem *upper,
                   struct vfs_filesystem **out)
{
    struct overlay_fs *fs = calloc(1, sizeof(*fs));
    if (!fs) {
        vfs_fs_put(lower);
        vfs_fs_put(upper);
        return -ABI_ENOMEM;
    }
    fs->lower_fs = lower;
    fs->upper_fs = upper;
    /* The root is always merged; its upper takes the lower root's looks. */
    struct vfs_inode *lr = lower->root->inode, *ur = upper->root->inode;
    if (lr->ops->getattr)
        lr->ops->getattr(lr);
    struct vfs_setattr a = {
        .mask = VFS_ATTR_MODE | VFS_ATTR_UID | VFS_ATTR_GID | VFS_ATTR_ATIME | VFS_ATTR_MTIME,
        .mode = lr->mode & 07777,
        .uid = lr->uid,
        .gid = lr->gid,
        .atime = lr->atime,
        .mtime = lr->mtime,
    };
    int err = ur->ops->setattr ? ur->ops->setattr(ur, &a) : -ABI_EPERM;
    if (!err)
        err = overlay_mark_set(fs, ur->ino, OVERLAY_MARK_ORIGIN, lr->ino);
    struct overlay_node *root = NULL;
    if (!err) {
        root = node_new(fs, NULL, "/", vfs_inode_get(ur), vfs_inode_get(lr));
        if (!root)
            err = -ABI_ENOMEM;
    }
    if (err) {
        overlay_release(&fs->vfs);
        return err;
    }
    vfs_fs_init(&fs->vfs, "overlay", 0, &overlay_fs_ops, &root->vfs);
    if (!fs->vfs.root) {
        overlay_evict(&root->vfs);
        overlay_release(&fs->vfs);
        return -ABI_ENOMEM;
    }
    *out = &fs->vfs;
    return 0;
}
