/* goferfs: inodes are Gofer nodes; names go through the Gofer, data does not.
 *
 * Every inode holds one Gofer node id, CLOSEd when the inode is evicted.
 * Attributes arrive with every node the Gofer hands out and are cached in
 * the inode; they are trusted for a TTL because the sandbox's root is ours
 * alone, so everything that changes them passes through here (mutations
 * mark what they touch stale, writes through a donated fd mark their inode
 * stale). Opening a regular file gets a host fd donated by the Gofer and the
 * file's reads and writes use it directly: the Gofer never sees file data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "gofer/client.h"
#include "sentry/fs/gofer_pagecache.h"
#include "sentry/fs/goferfs.h"
#include "sentry/fs/pipe.h"

struct goferfs {
    struct vfs_filesystem vfs;
    struct gofer_client *c;
    bool readonly;
    int64_t ttl_ns;
};

struct gnode {
    struct vfs_inode vfs;
    uint64_t id;
    int64_t fetched_ns; /* monotonic time of the last refresh; 0: stale */
    /* The fd CREATE donated, kept for the open that follows the create. */
    int created_fd;
    /* Ids of the names LINK added: the VFS keeps one inode for all names,
     * and when the name behind id is unlinked the Gofer can reopen the file
     * only through another one. */
    uint64_t *links;
    size_t nlinks;
    char *target; /* symlink target, read once: a symlink never changes */
    size_t target_len;
    bool is_root;
    /* Shared mappings' pages (gofer_pagecache.h); NULL until first mapped. */
    struct gofer_pagecache *cache;
};

/* Ids from LINK one inode keeps (see goferfs_link). */
#define GOFERFS_MAX_LINK_IDS 16

static const struct vfs_inode_ops goferfs_inode_ops;

static struct gnode *gnode(struct vfs_inode *ino)
{
    return (struct gnode *)ino;
}

static struct goferfs *fs_of(struct vfs_inode *ino)
{
    return (struct goferfs *)ino->fs;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* Never 0, which means "stale". */
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + 1;
}

static void mark_stale(struct vfs_inode *ino)
{
    gnode(ino)->fetched_ns = 0;
}

static void apply_gofer_stat(struct gnode *n, const struct gofer_stat *st)
{
    struct vfs_inode *v = &n->vfs;
    v->ino = st->ino;
    v->mode = st->mode;
    v->nlink = (uint32_t)st->nlink;
    v->uid = st->uid;
    v->gid = st->gid;
    v->size = (int64_t)st->size;
    v->blocks = (int64_t)st->blocks;
    v->rdev = st->rdev;
    v->atime = (struct abi_timespec){st->atime_sec, st->atime_nsec};
    v->mtime = (struct abi_timespec){st->mtime_sec, st->mtime_nsec};
    v->ctime = (struct abi_timespec){st->ctime_sec, st->ctime_nsec};
    n->fetched_ns = now_ns();
}

static void apply_host_stat(struct gnode *n, const struct stat *st)
{
    struct vfs_inode *v = &n->vfs;
    v->ino = st->st_ino;
    v->mode = st->st_mode;
    v->nlink = (uint32_t)st->st_nlink;
    v->uid = st->st_uid;
    v->gid = st->st_gid;
    v->size = st->st_size;
    v->blocks = st->st_blocks;
    v->rdev = st->st_rdev;
    v->atime = (struct abi_timespec){st->st_atim.tv_sec, st->st_atim.tv_nsec};
    v->mtime = (struct abi_timespec){st->st_mtim.tv_sec, st->st_mtim.tv_nsec};
    v->ctime = (struct abi_timespec){st->st_ctim.tv_sec, st->st_ctim.tv_nsec};
    n->fetched_ns = now_ns();
}

/* A new inode for a node the Gofer handed out; takes over its id. */
static struct gnode *node_new(struct goferfs *fs, const struct gofer_node *gn)
{
    struct gnode *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->id = gn->id;
    n->created_fd = -1;
    n->vfs.refs = 1;
    n->vfs.ops = &goferfs_inode_ops;
    n->vfs.fs = &fs->vfs;
    apply_gofer_stat(n, &gn->stat);
    return n;
}

static void close_id(struct goferfs *fs, uint64_t id)
{
    /* Nothing to do on failure: the id is forgotten either way, and the
     * Gofer drops every id when the connection closes. */
    (void)gofer_client_close(fs->c, &id, 1);
}

/* Wraps a node from a creating message, or CLOSEs it when memory is short. */
static int wrap_node(struct goferfs *fs, const struct gofer_node *gn, struct vfs_inode **out)
{
    struct gnode *n = node_new(fs, gn);
    if (!n) {
        close_id(fs, gn->id);
        return -ABI_ENOMEM;
    }
    *out = &n->vfs;
    return 0;
}

static void goferfs_evict(struct vfs_inode *ino)
{
    struct gnode *n = gnode(ino);
    close_id(fs_of(ino), n->id);
    for (size_t i = 0; i < n->nlinks; i++)
        close_id(fs_of(ino), n->links[i]);
    free(n->links);
    if (n->created_fd >= 0)
        close(n->created_fd);
    free(n->target);
    gofer_pagecache_free(n->cache);
    free(n);
}

/* ---- name operations ---- */

static int goferfs_lookup(struct vfs_inode *dir, const char *name, struct vfs_inode **out)
{
    if (!vfs_is_dir(dir))
        return -ABI_ENOTDIR;
    struct goferfs *fs = fs_of(dir);
    const char *names[1] = {name};
    struct gofer_node gn;
    uint32_t walked = 0, stop = 0;
    int err = gofer_client_walk(fs->c, gnode(dir)->id, names, 1, &gn, &walked, &stop);
    if (err)
        return err;
    if (walked == 0)
        return stop == GOFER_WALK_MISSING ? -ABI_ENOENT : -ABI_EPROTO;
    return wrap_node(fs, &gn, out);
}

/* Mutations are refused here too, not only by the VFS's read-only mount
 * checks, so that no caller can reach the Gofer with one. */
static int check_writable(struct vfs_inode *ino)
{
    return fs_of(ino)->readonly ? -ABI_EROFS : 0;
}

static int goferfs_create_op(struct vfs_inode *dir, const char *name, uint32_t mode, uint32_t uid,
                             uint32_t gid, struct vfs_inode **out)
{
    int err = check_writable(dir);
    if (err)
        return err;
    struct goferfs *fs = fs_of(dir);
    struct gofer_node gn;
    int fd = -1;
    /* Read-write whatever the guest asked for: the open that follows picks
     * this fd up, and a new file may be created with a mode that would
     * refuse a later reopen (0444 with O_WRONLY). */
    err = gofer_client_create_file(fs->c, gnode(dir)->id, name, GOFER_O_RDWR | GOFER_O_EXCL,
                                   mode & 07777, uid, gid, &gn, &fd);
    if (err)
        return err;
    mark_stale(dir);
    err = wrap_node(fs, &gn, out);
    if (err) {
        close(fd);
        return err;
    }
    gnode(*out)->created_fd = fd;
    return 0;
}

static int goferfs_mkdir(struct vfs_inode *dir, const char *name, uint32_t mode, uint32_t uid,
                         uint32_t gid, struct vfs_inode **out)
{
    int err = check_writable(dir);
    if (err)
        return err;
    struct goferfs *fs = fs_of(dir);
    struct gofer_node gn;
    err = gofer_client_mkdir(fs->c, gnode(dir)->id, name, mode & 07777, uid, gid, &gn);
    if (err)
        return err;
    mark_stale(dir);
    return wrap_node(fs, &gn, out);
}

static int goferfs_mknod(struct vfs_inode *dir, const char *name, uint32_t mode, uint64_t rdev,
                         uint32_t uid, uint32_t gid, struct vfs_inode **out)
{
    (void)rdev; /* the Gofer makes no device nodes */
    int err = check_writable(dir);
    if (err)
        return err;
    struct goferfs *fs = fs_of(dir);
    struct gofer_node gn;
    err = gofer_client_mknod(fs->c, gnode(dir)->id, name, mode, uid, gid, &gn);
    if (err)
        return err;
    mark_stale(dir);
    return wrap_node(fs, &gn, out);
}

static int goferfs_symlink(struct vfs_inode *dir, const char *name, const char *target,
                           uint32_t uid, uint32_t gid, struct vfs_inode **out)
{
    int err = check_writable(dir);
    if (err)
        return err;
    struct goferfs *fs = fs_of(dir);
    struct gofer_node gn;
    err = gofer_client_symlink(fs->c, gnode(dir)->id, name, target, uid, gid, &gn);
    if (err)
        return err;
    mark_stale(dir);
    return wrap_node(fs, &gn, out);
}

static int goferfs_link(struct vfs_inode *dir, const char *name, struct vfs_inode *target)
{
    int err = check_writable(dir);
    if (err)
        return err;
    struct goferfs *fs = fs_of(dir);
    struct gofer_node gn;
    err = gofer_client_link(fs->c, gnode(dir)->id, name, gnode(target)->id, &gn);
    if (err)
        return err;
    /* The VFS puts the target's inode under the new name as well; the new
     * id is kept for when the old name goes away. Only the newest few: an
     * id pins a Gofer node even after its name is unlinked, and linking
     * and unlinking a name of an open file in a loop would otherwise fill
     * the Gofer's node table for good. */
    struct gnode *t = gnode(target);
    apply_gofer_stat(t, &gn.stat);
    if (t->nlinks == GOFERFS_MAX_LINK_IDS) {
        close_id(fs, t->links[0]);
        memmove(t->links, t->links + 1, (t->nlinks - 1) * sizeof(*t->links));
        t->nlinks--;
    }
    uint64_t *links = realloc(t->links, (t->nlinks + 1) * sizeof(*links));
    if (links) {
        t->links = links;
        t->links[t->nlinks++] = gn.id;
    } else {
        close_id(fs, gn.id);
    }
    mark_stale(dir);
    return 0;
}

/* After err from a call on n->id: true when the name behind it is gone and
 * another name from LINK takes over (the caller retries). */
static bool next_link(struct gnode *n, int err)
{
    if ((err != -ABI_ENOENT && err != -ABI_ESTALE) || n->nlinks == 0)
        return false;
    close_id(fs_of(&n->vfs), n->id);
    n->id = n->links[--n->nlinks];
    return true;
}

static int remove_name(struct vfs_inode *dir, const char *name, uint32_t flags)
{
    int err = check_writable(dir);
    if (err)
        return err;
    err = gofer_client_unlink(fs_of(dir)->c, gnode(dir)->id, name, flags);
    if (!err)
        mark_stale(dir);
    return err;
}

static int goferfs_unlink(struct vfs_inode *dir, const char *name)
{
    return remove_name(dir, name, 0);
}

static int goferfs_rmdir(struct vfs_inode *dir, const char *name)
{
    return remove_name(dir, name, GOFER_UNLINK_REMOVEDIR);
}

static int goferfs_rename(struct vfs_inode *olddir, const char *oldname, struct vfs_inode *newdir,
                          const char *newname, uint32_t flags)
{
    int err = check_writable(olddir);
    if (err)
        return err;
    uint32_t gflags = 0;
    if (flags & ABI_RENAME_NOREPLACE)
        gflags |= GOFER_RENAME_NOREPLACE;
    if (flags & ABI_RENAME_EXCHANGE)
        gflags |= GOFER_RENAME_EXCHANGE;
    err = gofer_client_rename(fs_of(olddir)->c, gnode(olddir)->id, oldname, gnode(newdir)->id,
                              newname, gflags);
    if (!err) {
        mark_stale(olddir);
        mark_stale(newdir);
    }
    return err;
}

static int64_t goferfs_readlink(struct vfs_inode *ino, char *buf, size_t n)
{
    struct gnode *g = gnode(ino);
    if (!vfs_is_symlink(ino))
        return -ABI_EINVAL;
    if (!g->target) {
        char tmp[VFS_PATH_MAX];
        int len = gofer_client_readlink(fs_of(ino)->c, g->id, tmp, sizeof(tmp));
        if (len < 0)
            return len;
        char *t = malloc((size_t)len + 1);
        if (!t)
            return -ABI_ENOMEM;
        memcpy(t, tmp, (size_t)len);
        t[len] = '\0';
        g->target = t;
        g->target_len = (size_t)len;
    }
    size_t len = g->target_len < n ? g->target_len : n;
    memcpy(buf, g->target, len);
    return (int64_t)len;
}

static int refresh(struct gnode *n)
{
    struct gofer_stat st;
    int err;
    do
        err = gofer_client_stat(fs_of(&n->vfs)->c, n->id, &st);
    while (err && next_link(n, err));
    if (!err)
        apply_gofer_stat(n, &st);
    return err;
}

static int goferfs_getattr(struct vfs_inode *ino)
{
    struct gnode *n = gnode(ino);
    int64_t ttl = fs_of(ino)->ttl_ns;
    if (n->fetched_ns != 0 && now_ns() - n->fetched_ns < ttl)
        return 0;
    return refresh(n);
}

static int goferfs_setattr(struct vfs_inode *ino, const struct vfs_setattr *a)
{
    int err = check_writable(ino);
    if (err)
        return err;
    if ((a->mask & VFS_ATTR_SIZE) && a->size < 0)
        return -ABI_EINVAL;
    struct gofer_setstat s = {0};
    if (a->mask & VFS_ATTR_MODE) {
        s.mask |= GOFER_SETSTAT_MODE;
        s.mode = a->mode & 07777;
    }
    if (a->mask & VFS_ATTR_UID) {
        s.mask |= GOFER_SETSTAT_UID;
        s.uid = a->uid;
    }
    if (a->mask & VFS_ATTR_GID) {
        s.mask |= GOFER_SETSTAT_GID;
        s.gid = a->gid;
    }
    if (a->mask & VFS_ATTR_SIZE) {
        s.mask |= GOFER_SETSTAT_SIZE;
        s.size = (uint64_t)a->size;
    }
    bool now = a->mask & VFS_ATTR_TIMES_NOW;
    if (a->mask & VFS_ATTR_ATIME) {
        s.mask |= GOFER_SETSTAT_ATIME;
        s.atime_sec = a->atime.tv_sec;
        s.atime_nsec = now ? GOFER_UTIME_NOW : (uint32_t)a->atime.tv_nsec;
    }
    if (a->mask & VFS_ATTR_MTIME) {
        s.mask |= GOFER_SETSTAT_MTIME;
        s.mtime_sec = a->mtime.tv_sec;
        s.mtime_nsec = now ? GOFER_UTIME_NOW : (uint32_t)a->mtime.tv_nsec;
    }
    if (s.mask == 0)
        return 0;
    struct gofer_stat st;
    do
        err = gofer_client_setstat(fs_of(ino)->c, gnode(ino)->id, &s, &st);
    while (err && next_link(gnode(ino), err));
    if (!err)
        apply_gofer_stat(gnode(ino), &st);
    if (!err && (a->mask & VFS_ATTR_SIZE) && gnode(ino)->cache)
        gofer_pagecache_truncate(gnode(ino)->cache, (uint64_t)a->size);
    return err;
}

/* ---- open files ---- */

static int host_fd(struct vfs_file *f)
{
    return (int)(intptr_t)f->priv;
}

static int64_t host_ret(int64_t r)
{
    return r < 0 ? -errno : r;
}

/* While shared mappings cache pages of the file, those are newer than the
 * host's. */
static void cache_read(struct vfs_file *f, void *buf, int64_t r, int64_t off)
{
    struct gofer_pagecache *pc = gnode(vfs_file_inode(f))->cache;
    if (pc && r > 0)
        gofer_pagecache_read(pc, buf, (uint64_t)r, (uint64_t)off);
}

static void cache_write(struct vfs_file *f, const void *buf, int64_t r, int64_t off)
{
    struct gofer_pagecache *pc = gnode(vfs_file_inode(f))->cache;
    if (pc && r > 0)
        gofer_pagecache_write(pc, buf, (uint64_t)r, (uint64_t)off);
}

static int64_t reg_read(struct vfs_file *f, void *buf, size_t n)
{
    int64_t r = host_ret(pread(host_fd(f), buf, n, f->pos));
    cache_read(f, buf, r, f->pos);
    if (r > 0)
        f->pos += r;
    return r;
}

static int64_t reg_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    int64_t r = host_ret(pread(host_fd(f), buf, n, off));
    cache_read(f, buf, r, off);
    return r;
}

static int64_t reg_write(struct vfs_file *f, const void *buf, size_t n)
{
    int fd = host_fd(f);
    int64_t r;
    if (f->flags & ABI_O_APPEND) {
        /* The host's O_APPEND picks the end atomically; the offset follows. */
        r = host_ret(write(fd, buf, n));
        if (r >= 0) {
            off_t at = lseek(fd, 0, SEEK_CUR);
            if (at >= 0) {
                f->pos = at;
                cache_write(f, buf, r, at - r);
            }
        }
    } else {
        r = host_ret(pwrite(fd, buf, n, f->pos));
        cache_write(f, buf, r, f->pos);
        if (r > 0)
            f->pos += r;
    }
    if (r > 0)
        mark_stale(vfs_file_inode(f));
    return r;
}

static int64_t reg_pwrite(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    /* On an O_APPEND fd the host appends, as Linux does for the guest. */
    int64_t r = host_ret(pwrite(host_fd(f), buf, n, off));
    if (r > 0 && !(f->flags & ABI_O_APPEND))
        cache_write(f, buf, r, off);
    else if (r > 0 && gnode(vfs_file_inode(f))->cache) {
        off_t end = lseek(host_fd(f), 0, SEEK_END);
        if (end >= r)
            cache_write(f, buf, r, end - r);
    }
    if (r > 0)
        mark_stale(vfs_file_inode(f));
    return r;
}

static int64_t reg_lseek(struct vfs_file *f, int64_t off, int whence)
{
    int64_t at;
    switch (whence) {
    case ABI_SEEK_SET:
        at = off;
        break;
    case ABI_SEEK_CUR:
        if ((off > 0 && f->pos > INT64_MAX - off))
            return -ABI_EINVAL;
        at = f->pos + off;
        break;
    case ABI_SEEK_END:
    case ABI_SEEK_DATA:
    case ABI_SEEK_HOLE:
        /* The host knows the size and the holes. */
        at = host_ret(lseek(host_fd(f), off, whence));
        if (at < 0)
            return at;
        break;
    default:
        return -ABI_EINVAL;
    }
    if (at < 0)
        return -ABI_EINVAL;
    f->pos = at;
    return at;
}

static int reg_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct stat hs;
    if (fstat(host_fd(f), &hs) < 0)
        return -errno;
    apply_host_stat(gnode(vfs_file_inode(f)), &hs);
    vfs_inode_stat(vfs_file_inode(f), st);
    return 0;
}

static int reg_fsync(struct vfs_file *f)
{
    struct gofer_pagecache *pc = gnode(vfs_file_inode(f))->cache;
    int r = pc ? gofer_pagecache_sync(pc) : 0;
    if (r)
        return r;
    return fsync(host_fd(f)) < 0 ? -errno : 0;
}

static int reg_mmap(struct vfs_file *f, bool shared, struct mm_fpages **pages)
{
    /* Private mappings read through pread, which sees the cache. */
    *pages = NULL;
    if (!shared)
        return 0;
    struct gnode *n = gnode(vfs_file_inode(f));
    if (!n->cache && !(n->cache = gofer_pagecache_new()))
        return -ABI_ENOMEM;
    uint32_t acc = f->flags & ABI_O_ACCMODE;
    int r = gofer_pagecache_attach(n->cache, f, host_fd(f), acc == ABI_O_RDWR);
    if (r)
        return r;
    *pages = gofer_pagecache_fpages(n->cache);
    return 0;
}

static void reg_release(struct vfs_file *f)
{
    close(host_fd(f));
}

static int64_t dir_read(struct vfs_file *f, void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    return -ABI_EISDIR;
}

static int64_t dir_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    (void)off;
    return dir_read(f, buf, n);
}

static int dir_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct vfs_inode *ino = vfs_file_inode(f);
    int err = goferfs_getattr(ino);
    if (!err)
        vfs_inode_stat(ino, st);
    return err;
}

static int dir_fsync(struct vfs_file *f)
{
    struct vfs_inode *ino = vfs_file_inode(f);
    return gofer_client_fsync(fs_of(ino)->c, gnode(ino)->id, 0);
}

static int64_t dir_getdents64(struct vfs_file *f, void *vbuf, size_t n)
{
    struct vfs_inode *ino = vfs_file_inode(f);
    struct gnode *d = gnode(ino);
    uint64_t next;
    int got = gofer_client_getdents64(fs_of(ino)->c, d->id, (uint64_t)f->pos, vbuf, n, &next);
    if (got <= 0)
        return got;
    /* "." is this inode as the guest knows it; ".." of the root would show
     * the host directory above the served tree. */
    char *buf = vbuf;
    for (size_t at = 0; at + ABI_DIRENT64_NAME_OFFSET < (size_t)got;) {
        struct abi_linux_dirent64 hdr;
        memcpy(&hdr, buf + at, ABI_DIRENT64_NAME_OFFSET);
        if (hdr.d_reclen < ABI_DIRENT64_NAME_OFFSET + 1 || at + hdr.d_reclen > (size_t)got)
            return -ABI_EPROTO;
        const char *name = buf + at + ABI_DIRENT64_NAME_OFFSET;
        size_t room = hdr.d_reclen - ABI_DIRENT64_NAME_OFFSET;
        bool dot = strnlen(name, room) == 1 && name[0] == '.';
        bool dotdot = strnlen(name, room) == 2 && name[0] == '.' && name[1] == '.';
        if (dot || (dotdot && d->is_root)) {
            hdr.d_ino = ino->ino;
            memcpy(buf + at, &hdr, ABI_DIRENT64_NAME_OFFSET);
        }
        at += hdr.d_reclen;
    }
    if (next > INT64_MAX)
        return -ABI_EPROTO;
    f->pos = (int64_t)next;
    return got;
}

/* fallocate goes through the Gofer, which reopens the node for writing:
 * the Sentry's seccomp filter need not allow fallocate on donated fds. */
static int reg_allocate(struct vfs_file *f, int mode, int64_t off, int64_t len)
{
    struct vfs_inode *ino = vfs_file_inode(f);
    /* Shared mappings' pages: the host gets them first, and they are read
     * again after the host changed. */
    struct gofer_pagecache *pc = gnode(ino)->cache;
    if (pc)
        (void)gofer_pagecache_sync(pc);
    int err = gofer_client_allocate(fs_of(ino)->c, gnode(ino)->id, (uint32_t)mode, (uint64_t)off,
                                    (uint64_t)len);
    if (pc && !err)
        gofer_pagecache_refresh(pc);
    mark_stale(ino);
    return err;
}

static const struct vfs_file_ops goferfs_reg_ops = {
    .allocate = reg_allocate,
    .read = reg_read,
    .write = reg_write,
    .pread = reg_pread,
    .pwrite = reg_pwrite,
    .lseek = reg_lseek,
    .stat = reg_stat,
    .release = reg_release,
    .fsync = reg_fsync,
    .mmap = reg_mmap,
};

static const struct vfs_file_ops goferfs_dir_ops = {
    .read = dir_read,
    .pread = dir_pread,
    /* f->pos is the Gofer's cookie (the host's directory offset), so d_off
     * values and telldir/seekdir agree with it. */
    .lseek = vfs_dir_lseek,
    .stat = dir_stat,
    .getdents64 = dir_getdents64,
    .fsync = dir_fsync,
};

static uint32_t gofer_open_flags(uint32_t flags)
{
    uint32_t g;
    switch (flags & ABI_O_ACCMODE) {
    case ABI_O_WRONLY:
        g = GOFER_O_WRONLY;
        break;
    case ABI_O_RDWR:
        g = GOFER_O_RDWR;
        break;
    default:
        g = GOFER_O_RDONLY;
        break;
    }
    if (flags & ABI_O_APPEND)
        g |= GOFER_O_APPEND;
    if (flags & ABI_O_SYNC_BIT)
        g |= GOFER_O_SYNC;
    else if (flags & ABI_O_DSYNC)
        g |= GOFER_O_DSYNC;
    if (flags & ABI_O_DIRECT)
        g |= GOFER_O_DIRECT;
    return g;
}

/* The fd a CREATE donated serves the open right after it, unless the open
 * wants flags that only an open sets. */
static int take_created_fd(struct gnode *n, uint32_t flags)
{
    int fd = n->created_fd;
    n->created_fd = -1;
    if (fd < 0)
        return -1;
    if (flags & (ABI_O_SYNC_BIT | ABI_O_DSYNC | ABI_O_DIRECT)) {
        close(fd);
        return -1;
    }
    if ((flags & ABI_O_APPEND) && fcntl(fd, F_SETFL, O_APPEND) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int goferfs_open(struct vfs_inode *ino, struct vfs_file *f)
{
    struct gnode *n = gnode(ino);
    switch (ino->mode & ABI_S_IFMT) {
    case ABI_S_IFREG:
        break;
    case ABI_S_IFDIR:
        /* Listing goes through the Gofer by id: no host fd needed. */
        f->ops = &goferfs_dir_ops;
        f->positional = true;
        return 0;
    case ABI_S_IFIFO:
        /* A fifo of the served tree connects processes of the sandbox
         * only: its pipe is the Sentry's. */
        return pipe_fifo_open(ino, f);
    default:
        /* sockets get their own files with sockets. */
        return -ABI_ENXIO;
    }
    int fd = take_created_fd(n, f->flags);
    if (fd < 0) {
        uint32_t acc = f->flags & ABI_O_ACCMODE;
        if (acc != ABI_O_RDONLY && check_writable(ino))
            return -ABI_EROFS;
        int err;
        do
            err = gofer_client_open(fs_of(ino)->c, n->id, gofer_open_flags(f->flags), &fd);
        while (err && next_link(n, err));
        if (err)
            return err;
    }
    /* Opening is the moment a program expects current attributes (O_TRUNC
     * looks at the size); the fd answers without a round trip. */
    struct stat hs;
    if (fstat(fd, &hs) == 0)
        apply_host_stat(n, &hs);
    f->ops = &goferfs_reg_ops;
    f->priv = (void *)(intptr_t)fd;
    f->positional = true;
    f->fault_mode = VFS_FAULT_SHORT;
    return 0;
}

/* Extended attributes are the Gofer's, which serves user.* only (see
 * docs/security.md): the other namespaces are the host's to decide. */
static int64_t goferfs_getxattr(struct vfs_inode *ino, const char *name, void *buf, size_t size)
{
    return gofer_client_getxattr(fs_of(ino)->c, gnode(ino)->id, name, buf, size);
}

static int goferfs_setxattr(struct vfs_inode *ino, const char *name, const void *value, size_t size,
                            int flags)
{
    int err =
        gofer_client_setxattr(fs_of(ino)->c, gnode(ino)->id, name, value, size, (uint32_t)flags);
    mark_stale(ino);
    /* A value near XATTR_SIZE_MAX does not fit one Gofer message with its
     * name: no room for it, as ext4 says of a value too big for it
     * (EMSGSIZE is no errno of setxattr's). */
    return err == -ABI_EMSGSIZE ? -ABI_ENOSPC : err;
}

static int64_t goferfs_listxattr(struct vfs_inode *ino, char *buf, size_t size)
{
    return gofer_client_listxattr(fs_of(ino)->c, gnode(ino)->id, buf, size);
}

static int goferfs_removexattr(struct vfs_inode *ino, const char *name)
{
    int err = gofer_client_removexattr(fs_of(ino)->c, gnode(ino)->id, name);
    mark_stale(ino);
    return err;
}

static const struct vfs_inode_ops goferfs_inode_ops = {
    .getxattr = goferfs_getxattr,
    .setxattr = goferfs_setxattr,
    .listxattr = goferfs_listxattr,
    .removexattr = goferfs_removexattr,
    .lookup = goferfs_lookup,
    .create = goferfs_create_op,
    .mkdir = goferfs_mkdir,
    .mknod = goferfs_mknod,
    .symlink = goferfs_symlink,
    .link = goferfs_link,
    .unlink = goferfs_unlink,
    .rmdir = goferfs_rmdir,
    .rename = goferfs_rename,
    .readlink = goferfs_readlink,
    .getattr = goferfs_getattr,
    .setattr = goferfs_setattr,
    .open = goferfs_open,
    .evict = goferfs_evict,
};

/* ---- the filesystem ---- */

static int goferfs_statfs(struct vfs_filesystem *vfs, struct vfs_statfs *out)
{
    struct goferfs *fs = (struct goferfs *)vfs;
    struct gofer_statfs sf;
    int err = gofer_client_statfs(fs->c, gnode(vfs->root->inode)->id, &sf);
    if (err)
        return err;
    *out = (struct vfs_statfs){
        .type = sf.type,
        .bsize = sf.bsize,
        .blocks = sf.blocks,
        .bfree = sf.bfree,
        .bavail = sf.bavail,
        .files = sf.files,
        .ffree = sf.ffree,
        .namelen = sf.namelen,
        .flags = fs->readonly ? 1 : 0,
    };
    return 0;
}

static void goferfs_release(struct vfs_filesystem *vfs)
{
    free(vfs);
}

static const struct vfs_filesystem_ops goferfs_fs_ops = {
    .statfs = goferfs_statfs,
    .release = goferfs_release,
};

int goferfs_create(struct gofer_client *c, bool readonly, struct vfs_filesystem **out)
{
    struct goferfs *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return -ABI_ENOMEM;
    fs->c = c;
    fs->readonly = readonly;
    fs->ttl_ns = (int64_t)GOFERFS_ATTR_TTL_MS * 1000000;
    struct gofer_node gn;
    int err = gofer_client_mount(c, &gn);
    if (err) {
        free(fs);
        return err;
    }
    /* vfs_fs_init fills in fs->vfs, which the inode must point at now. */
    struct gnode *root = node_new(fs, &gn);
    if (!root) {
        close_id(fs, gn.id);
        free(fs);
        return -ABI_ENOMEM;
    }
    root->is_root = true;
    vfs_fs_init(&fs->vfs, "goferfs", readonly ? VFS_FS_RDONLY : 0, &goferfs_fs_ops, &root->vfs);
    if (!fs->vfs.root) {
        goferfs_evict(&root->vfs);
        free(fs);
        return -ABI_ENOMEM;
    }
    *out = &fs->vfs;
    return 0;
}

void goferfs_set_attr_ttl_ms(struct vfs_filesystem *fs, uint32_t ms)
{
    ((struct goferfs *)fs)->ttl_ns = (int64_t)ms * 1000000;
}

/* Every node-allocating request (WALK and the creating ones) goes through
 * the client, which reclaims and retries on ENFILE, so that a table full of
 * merely cached nodes never fails a guest's lookup or mkdir. Reclaiming
 * from inside a goferfs op is safe: callers hold references on the dentries
 * they use, and pruning frees unreferenced ones only. */
void goferfs_set_reclaim(struct vfs_filesystem *fs, void (*reclaim)(void *arg), void *arg)
{
    gofer_client_set_reclaim(((struct goferfs *)fs)->c, reclaim, arg);
}
