/* Inode references, attributes, permissions, and the dentry cache.
 *
 * A dentry names an inode under its parent. Each cached child pins its
 * parent, so a dentry's refs count its holders plus its cached children;
 * an unreferenced dentry stays cached until it is dropped (unlink, rename
 * over it) or pruned (unmount), and a dropped dentry that is still held
 * lives on, detached, until its last holder lets go.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/vfs/vfs.h"

struct vfs_inode *vfs_inode_get(struct vfs_inode *ino)
{
    ino->refs++;
    return ino;
}

void vfs_inode_put(struct vfs_inode *ino)
{
    if (!ino || --ino->refs > 0)
        return;
    if (ino->ops->evict)
        ino->ops->evict(ino);
}

void vfs_now(struct abi_timespec *ts)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ts->tv_sec = now.tv_sec;
    ts->tv_nsec = now.tv_nsec;
}

void vfs_inode_stat(const struct vfs_inode *ino, struct abi_stat *st)
{
    *st = (struct abi_stat){
        .st_dev = ino->fs ? ino->fs->dev : 0,
        .st_ino = ino->ino,
        .st_nlink = ino->nlink,
        .st_mode = ino->mode,
        .st_uid = ino->uid,
        .st_gid = ino->gid,
        .st_rdev = ino->rdev,
        .st_size = ino->size,
        .st_blksize = 4096,
        .st_blocks = ino->blocks,
        .st_atime_sec = (uint64_t)ino->atime.tv_sec,
        .st_atime_nsec = (uint64_t)ino->atime.tv_nsec,
        .st_mtime_sec = (uint64_t)ino->mtime.tv_sec,
        .st_mtime_nsec = (uint64_t)ino->mtime.tv_nsec,
        .st_ctime_sec = (uint64_t)ino->ctime.tv_sec,
        .st_ctime_nsec = (uint64_t)ino->ctime.tv_nsec,
    };
}

static struct abi_statx_timestamp stx_time(struct abi_timespec ts)
{
    return (struct abi_statx_timestamp){.tv_sec = ts.tv_sec, .tv_nsec = (uint32_t)ts.tv_nsec};
}

/* Linux's new_encode_dev split, as statx reports device numbers. */
static uint32_t dev_major(uint64_t dev)
{
    return (uint32_t)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffULL));
}

static uint32_t dev_minor(uint64_t dev)
{
    return (uint32_t)((dev & 0xff) | ((dev >> 12) & ~0xffULL));
}

void vfs_inode_statx(const struct vfs_inode *ino, struct abi_statx *stx)
{
    uint64_t dev = ino->fs ? ino->fs->dev : 0;
    *stx = (struct abi_statx){
        .stx_mask = 0xfff, /* STATX_BASIC_STATS | STATX_BTIME */
        .stx_blksize = 4096,
        .stx_nlink = ino->nlink,
        .stx_uid = ino->uid,
        .stx_gid = ino->gid,
        .stx_mode = (uint16_t)ino->mode,
        .stx_ino = ino->ino,
        .stx_size = (uint64_t)ino->size,
        .stx_blocks = (uint64_t)ino->blocks,
        .stx_atime = stx_time(ino->atime),
        .stx_btime = stx_time(ino->btime),
        .stx_ctime = stx_time(ino->ctime),
        .stx_mtime = stx_time(ino->mtime),
        .stx_rdev_major = dev_major(ino->rdev),
        .stx_rdev_minor = dev_minor(ino->rdev),
        .stx_dev_major = dev_major(dev),
        .stx_dev_minor = dev_minor(dev),
    };
}

static bool in_group(const struct vfs_cred *cred, uint32_t gid)
{
    if (cred->gid == gid)
        return true;
    for (int i = 0; i < cred->ngroups; i++) {
        if (cred->groups[i] == gid)
            return true;
    }
    return false;
}

int vfs_permission(const struct vfs_cred *cred, const struct vfs_inode *ino, int mask)
{
    uint32_t mode = ino->mode;
    uint32_t bits;
    if (cred->uid == ino->uid)
        bits = (mode >> 6) & 7;
    else if (in_group(cred, ino->gid))
        bits = (mode >> 3) & 7;
    else
        bits = mode & 7;
    if (((uint32_t)mask & ~bits) == 0)
        return 0;
    bool dir = vfs_is_dir(ino);
    if (cred->cap_dac_override) {
        /* Root may execute a file only if someone may. */
        if (!(mask & VFS_MAY_EXEC) || dir || (mode & 0111))
            return 0;
    }
    if (cred->cap_dac_read_search) {
        if (mask == VFS_MAY_READ || (dir && !(mask & VFS_MAY_WRITE)))
            return 0;
    }
    return -ABI_EACCES;
}

/* ---- dentries ---- */

static struct vfs_dentry *dentry_alloc(const char *name, struct vfs_inode *ino)
{
    struct vfs_dentry *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->name = strdup(name);
    if (!d->name) {
        free(d);
        return NULL;
    }
    d->inode = ino;
    return d;
}

struct vfs_dentry *vfs_dentry_new_root(struct vfs_inode *ino)
{
    struct vfs_dentry *d = dentry_alloc("/", ino);
    if (d)
        d->refs = 1;
    return d;
}

struct vfs_dentry *vfs_dentry_get(struct vfs_dentry *d)
{
    d->refs++;
    return d;
}

/* The cache's index: one hash table of (parent, name) for all dentries, so
 * a walk step costs the same in a directory of ten names or of a million. */
static struct vfs_dentry **htab;
static size_t hcap, hcount;

static uint32_t name_hash(const struct vfs_dentry *parent, const char *name)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)parent;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 1099511628211ULL;
    return (uint32_t)(h ^ (h >> 32));
}

static void hash_insert_raw(struct vfs_dentry **tab, size_t cap, struct vfs_dentry *d)
{
    struct vfs_dentry **b = &tab[d->hash & (cap - 1)];
    d->hnext = *b;
    *b = d;
}

static void hash_add(struct vfs_dentry *d)
{
    if (hcount + 1 > hcap) {
        /* A failed grow only makes chains longer. */
        size_t cap = hcap ? hcap * 2 : 256;
        struct vfs_dentry **tab = calloc(cap, sizeof(*tab));
        if (tab) {
            for (size_t i = 0; i < hcap; i++) {
                for (struct vfs_dentry *e = htab[i], *n; e; e = n) {
                    n = e->hnext;
                    hash_insert_raw(tab, cap, e);
                }
            }
            free(htab);
            htab = tab;
            hcap = cap;
        }
    }
    hash_insert_raw(htab, hcap, d);
    hcount++;
}

static void hash_remove(struct vfs_dentry *d)
{
    struct vfs_dentry **pp = &htab[d->hash & (hcap - 1)];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    d->hnext = NULL;
    if (--hcount == 0) {
        free(htab);
        htab = NULL;
        hcap = 0;
    }
}

/* Enter d in dir's cache under its current name; d pins dir. */
static void attach(struct vfs_dentry *d, struct vfs_dentry *dir)
{
    d->parent = vfs_dentry_get(dir);
    d->prev = NULL;
    d->next = dir->children;
    if (dir->children)
        dir->children->prev = d;
    dir->children = d;
    d->hash = name_hash(dir, d->name);
    hash_add(d);
}

/* Take d out of its parent's cache; the pin on the parent stays. */
static void unlink_from_parent(struct vfs_dentry *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        d->parent->children = d->next;
    if (d->next)
        d->next->prev = d->prev;
    d->next = d->prev = NULL;
    hash_remove(d);
}

/* A dentry goes when its last reference does if nothing caches it. */
static bool dentry_unwanted(const struct vfs_dentry *d)
{
    return d->refs == 0 && (d->detached || !d->parent);
}

static void dentry_destroy(struct vfs_dentry *d)
{
    /* A loop, not vfs_dentry_put's recursion: a chain of detached
     * directories can be as deep as a guest made it. */
    while (d) {
        struct vfs_dentry *parent = d->parent;
        vfs_inode_put(d->inode);
        free(d->name);
        free(d);
        if (!parent)
            break;
        parent->refs--;
        d = dentry_unwanted(parent) ? parent : NULL;
    }
}

void vfs_dentry_put(struct vfs_dentry *d)
{
    if (!d || --d->refs > 0)
        return;
    /* A cached dentry stays for the next lookup; roots and dropped ones go. */
    if (dentry_unwanted(d))
        dentry_destroy(d);
}

struct vfs_dentry *vfs_dentry_cached(struct vfs_dentry *dir, const char *name)
{
    if (!htab)
        return NULL;
    uint32_t h = name_hash(dir, name);
    for (struct vfs_dentry *c = htab[h & (hcap - 1)]; c; c = c->hnext) {
        if (c->hash == h && c->parent == dir && strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

int vfs_dentry_add(struct vfs_dentry *dir, const char *name, struct vfs_inode *ino,
                   struct vfs_dentry **out)
{
    struct vfs_dentry *d = dentry_alloc(name, ino);
    if (!d) {
        vfs_inode_put(ino);
        return -ABI_ENOMEM;
    }
    attach(d, dir);
    if (out) {
        d->refs++;
        *out = d;
    }
    return 0;
}

int vfs_dentry_lookup(struct vfs_dentry *dir, const char *name, struct vfs_dentry **out)
{
    struct vfs_dentry *c = vfs_dentry_cached(dir, name);
    if (c && c->inode->ops->revalidate && !c->inode->ops->revalidate(c->inode)) {
        vfs_dentry_drop(c);
        c = NULL;
    }
    if (c) {
        *out = vfs_dentry_get(c);
        return 0;
    }
    struct vfs_inode *ino;
    if (!dir->inode->ops->lookup)
        return -ABI_ENOTDIR;
    int err = dir->inode->ops->lookup(dir->inode, name, &ino);
    if (err)
        return err;
    return vfs_dentry_add(dir, name, ino, out);
}

void vfs_dentry_drop(struct vfs_dentry *d)
{
    if (!d || d->detached || !d->parent)
        return;
    unlink_from_parent(d);
    d->detached = true;
    /* Its cached children name nothing reachable any more; the extra
     * reference keeps d alive while they let go of it. */
    d->refs++;
    vfs_dentry_prune(d);
    vfs_dentry_put(d);
}

int vfs_dentry_move(struct vfs_dentry *d, struct vfs_dentry *newdir, const char *newname)
{
    char *name = strdup(newname);
    if (!name)
        return -ABI_ENOMEM;
    struct vfs_dentry *old = d->parent;
    unlink_from_parent(d);
    free(d->name);
    d->name = name;
    attach(d, newdir);
    vfs_dentry_put(old);
    return 0;
}

void vfs_dentry_prune(struct vfs_dentry *top)
{
    /* Children before their parent, as a walk over the tree's own links
     * rather than a recursion: a guest can nest directories deeper than
     * the Sentry's stack would go. Of d's children, c and the ones after
     * it are still to do. */
    struct vfs_dentry *d = top, *c = top->children;
    for (;;) {
        if (c) {
            d = c;
            c = d->children;
            continue;
        }
        if (d == top)
            return;
        /* Read before d may go; d's going only lowers parent's count,
         * and an attached parent stays cached. */
        struct vfs_dentry *parent = d->parent, *next = d->next;
        if (d->refs == 0 && d->mounts == 0) {
            unlink_from_parent(d);
            d->detached = true;
            dentry_destroy(d);
        }
        d = parent;
        c = next;
    }
}

bool vfs_dentry_is_ancestor(const struct vfs_dentry *anc, const struct vfs_dentry *d)
{
    for (; d; d = d->parent) {
        if (d == anc)
            return true;
    }
    return false;
}
