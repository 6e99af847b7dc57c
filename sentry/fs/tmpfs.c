/* tmpfs: directories, regular files, symlinks and special nodes in memory.
 *
 * Directory entries keep their insertion order and a cookie that never
 * changes, so a getdents64 offset stays valid while other entries come and
 * go. Regular file data lives in the memory file one page at a time, in a
 * sorted page list: holes cost nothing and read as zeros, truncation gives
 * pages back. An inode lives while it has links or references.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/mem_xattr.h"
#include "sentry/fs/pipe.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/mm/mm.h"

#define PAGE ((int64_t)MM_PAGE_SIZE)
/* Largest offset a file may reach (Linux's MAX_LFS_FILESIZE). */
#define TMPFS_MAX_FILE INT64_MAX
#define TMPFS_LINK_MAX 0xffffffffu

struct tmpfs {
    struct vfs_filesystem vfs;
    struct mm_memfile *mf;
    uint64_t max_pages, used_pages;
    uint64_t max_inodes, ninodes;
    uint64_t next_ino;
    struct tnode *all; /* every inode, for teardown */
};

struct tdirent {
    char *name;
    struct tnode *node;
    uint64_t cookie;
    struct tdirent *prev, *next; /* in cookie order */
    struct tdirent *hnext;       /* in the name hash */
    uint32_t hash;
};

struct tpage {
    uint64_t idx;
    uint64_t off; /* in the memory file */
};

struct tnode {
    struct vfs_inode vfs;
    struct tnode *all_prev, *all_next;
    /* directories */
    struct tdirent *head, *tail;
    uint64_t next_cookie;
    uint64_t nentries;
    struct tdirent **htab; /* by name; hcap is a power of two */
    size_t hcap;
    struct tnode *parent; /* for ".." in getdents64 */
    /* regular files */
    struct tpage *pages;
    size_t npages, cap;
    struct mm_fpages *fpages; /* what mmap maps: the pages above; NULL until mapped */
    /* symlinks */
    char *target;
    struct mem_xattrs xattrs;
};

static const struct vfs_inode_ops tmpfs_inode_ops;

static struct tmpfs *fs_of(struct tnode *n)
{
    return (struct tmpfs *)n->vfs.fs;
}

static struct tnode *node(struct vfs_inode *ino)
{
    return (struct tnode *)ino;
}

static void touch_mc(struct tnode *n)
{
    vfs_now(&n->vfs.mtime);
    n->vfs.ctime = n->vfs.mtime;
}

static void touch_c(struct tnode *n)
{
    vfs_now(&n->vfs.ctime);
}

static bool ts_le(struct abi_timespec a, struct abi_timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

/* Linux's default relatime: a read updates atime only when it is not newer
 * than mtime or ctime, or is a day old, sparing most reads a metadata write. */
static void touch_a(struct vfs_file *f, struct tnode *n)
{
    if (f->flags & ABI_O_NOATIME)
        return;
    struct abi_timespec now;
    vfs_now(&now);
    struct abi_timespec a = n->vfs.atime;
    if (ts_le(a, n->vfs.mtime) || ts_le(a, n->vfs.ctime) || now.tv_sec - a.tv_sec >= 86400)
        n->vfs.atime = now;
}

/* ---- inodes ---- */

static int node_new(struct tmpfs *fs, uint32_t mode, uint32_t uid, uint32_t gid, struct tnode **out)
{
    if (fs->ninodes >= fs->max_inodes)
        return -ABI_ENOSPC;
    struct tnode *n = calloc(1, sizeof(*n));
    if (!n)
        return -ABI_ENOMEM;
    n->vfs.ino = fs->next_ino++;
    n->vfs.mode = mode;
    n->vfs.uid = uid;
    n->vfs.gid = gid;
    n->vfs.refs = 1;
    n->vfs.ops = &tmpfs_inode_ops;
    n->vfs.fs = &fs->vfs;
    vfs_now(&n->vfs.atime);
    n->vfs.mtime = n->vfs.ctime = n->vfs.btime = n->vfs.atime;
    n->next_cookie = 2; /* 0 and 1 are "." and ".." */
    n->all_next = fs->all;
    if (fs->all)
        fs->all->all_prev = n;
    fs->all = n;
    fs->ninodes++;
    *out = n;
    return 0;
}

static void pages_free_from(struct tnode *n, size_t i)
{
    struct tmpfs *fs = fs_of(n);
    for (size_t j = i; j < n->npages; j++)
        mm_memfile_free(fs->mf, n->pages[j].off, MM_PAGE_SIZE);
    fs->used_pages -= n->npages - i;
    n->npages = i;
    n->vfs.blocks = (int64_t)n->npages * (PAGE / 512);
}

static void node_free(struct tnode *n)
{
    struct tmpfs *fs = fs_of(n);
    pages_free_from(n, 0);
    free(n->pages);
    mm_fpages_destroy(n->fpages);
    free(n->target);
    mem_xattr_free(&n->xattrs);
    for (struct tdirent *e = n->head, *next; e; e = next) {
        next = e->next;
        free(e->name);
        free(e);
    }
    free(n->htab);
    if (n->all_prev)
        n->all_prev->all_next = n->all_next;
    else
        fs->all = n->all_next;
    if (n->all_next)
        n->all_next->all_prev = n->all_prev;
    fs->ninodes--;
    free(n);
}

static void maybe_free(struct tnode *n)
{
    if (n->vfs.nlink == 0 && n->vfs.refs == 0)
        node_free(n);
}

static void tmpfs_evict(struct vfs_inode *ino)
{
    maybe_free(node(ino));
}

/* ---- directory entries ---- */

static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h;
}

static struct tdirent *dir_find(struct tnode *dir, const char *name)
{
    if (!dir->htab)
        return NULL;
    uint32_t h = name_hash(name);
    for (struct tdirent *e = dir->htab[h & (dir->hcap - 1)]; e; e = e->hnext) {
        if (e->hash == h && strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

/* Make room for one more entry; false when even the first table cannot be had. */
static bool hash_reserve(struct tnode *dir)
{
    if (dir->nentries + 1 <= dir->hcap)
        return true;
    size_t cap = dir->hcap ? dir->hcap * 2 : 8;
    struct tdirent **tab = calloc(cap, sizeof(*tab));
    if (!tab)
        return dir->htab != NULL; /* longer chains, still correct */
    for (struct tdirent *e = dir->head; e; e = e->next) {
        struct tdirent **b = &tab[e->hash & (cap - 1)];
        e->hnext = *b;
        *b = e;
    }
    free(dir->htab);
    dir->htab = tab;
    dir->hcap = cap;
    return true;
}

/* A new entry for dir, with the hash room reserved so dir_append cannot fail. */
static struct tdirent *dirent_new(struct tnode *dir, const char *name, struct tnode *n)
{
    if (!hash_reserve(dir))
        return NULL;
    struct tdirent *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->name = strdup(name);
    if (!e->name) {
        free(e);
        return NULL;
    }
    e->node = n;
    e->hash = name_hash(name);
    return e;
}

/* Linux's tmpfs counts 20 bytes per entry, "." and ".." included. */
static int64_t dir_size(const struct tnode *dir)
{
    return (int64_t)(dir->nentries + 2) * 20;
}

static void dir_append(struct tnode *dir, struct tdirent *e)
{
    e->cookie = dir->next_cookie++;
    struct tdirent **b = &dir->htab[e->hash & (dir->hcap - 1)];
    e->hnext = *b;
    *b = e;
    e->prev = dir->tail;
    e->next = NULL;
    if (dir->tail)
        dir->tail->next = e;
    else
        dir->head = e;
    dir->tail = e;
    dir->nentries++;
    dir->vfs.size = dir_size(dir);
}

static void dir_remove(struct tnode *dir, struct tdirent *e)
{
    struct tdirent **b = &dir->htab[e->hash & (dir->hcap - 1)];
    while (*b != e)
        b = &(*b)->hnext;
    *b = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        dir->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        dir->tail = e->prev;
    dir->nentries--;
    dir->vfs.size = dir_size(dir);
    free(e->name);
    free(e);
}

static int tmpfs_lookup(struct vfs_inode *dir, const char *name, struct vfs_inode **out)
{
    struct tdirent *e = dir_find(node(dir), name);
    if (!e)
        return -ABI_ENOENT;
    *out = vfs_inode_get(&e->node->vfs);
    return 0;
}

/* Common tail of every create: link a new node of mode into dir. */
static int make_node(struct vfs_inode *vdir, const char *name, uint32_t mode, uint32_t uid,
                     uint32_t gid, struct tnode **out)
{
    struct tnode *dir = node(vdir);
    if (dir_find(dir, name))
        return -ABI_EEXIST;
    struct tnode *n;
    int err = node_new(fs_of(dir), mode, uid, gid, &n);
    if (err)
        return err;
    struct tdirent *e = dirent_new(dir, name, n);
    if (!e) {
        n->vfs.refs = 0;
        node_free(n);
        return -ABI_ENOMEM;
    }
    n->vfs.nlink = 1;
    dir_append(dir, e);
    touch_mc(dir);
    *out = n;
    return 0;
}

static int tmpfs_create_op(struct vfs_inode *dir, const char *name, uint32_t mode, uint32_t uid,
                           uint32_t gid, struct vfs_inode **out)
{
    struct tnode *n;
    int err = make_node(dir, name, ABI_S_IFREG | (mode & 07777), uid, gid, &n);
    if (!err)
        *out = &n->vfs;
    return err;
}

static int tmpfs_mkdir(struct vfs_inode *dir, const char *name, uint32_t mode, uint32_t uid,
                       uint32_t gid, struct vfs_inode **out)
{
    if (dir->nlink >= TMPFS_LINK_MAX)
        return -ABI_EMLINK;
    struct tnode *n;
    int err = make_node(dir, name, ABI_S_IFDIR | (mode & 07777), uid, gid, &n);
    if (err)
        return err;
    n->vfs.nlink = 2;
    n->vfs.size = dir_size(n);
    n->parent = node(dir);
    dir->nlink++;
    *out = &n->vfs;
    return 0;
}

static int tmpfs_mknod(struct vfs_inode *dir, const char *name, uint32_t mode, uint64_t rdev,
                       uint32_t uid, uint32_t gid, struct vfs_inode **out)
{
    uint32_t type = mode & ABI_S_IFMT;
    if (type != ABI_S_IFREG && type != ABI_S_IFIFO && type != ABI_S_IFSOCK && type != ABI_S_IFCHR &&
        type != ABI_S_IFBLK)
        return -ABI_EINVAL;
    struct tnode *n;
    int err = make_node(dir, name, type | (mode & 07777), uid, gid, &n);
    if (err)
        return err;
    if (type == ABI_S_IFCHR || type == ABI_S_IFBLK)
        n->vfs.rdev = rdev;
    *out = &n->vfs;
    return 0;
}

static int tmpfs_symlink(struct vfs_inode *dir, const char *name, const char *target, uint32_t uid,
                         uint32_t gid, struct vfs_inode **out)
{
    char *t = strdup(target);
    if (!t)
        return -ABI_ENOMEM;
    struct tnode *n;
    int err = make_node(dir, name, ABI_S_IFLNK | 0777, uid, gid, &n);
    if (err) {
        free(t);
        return err;
    }
    n->target = t;
    n->vfs.size = (int64_t)strlen(t);
    *out = &n->vfs;
    return 0;
}

static int tmpfs_link(struct vfs_inode *vdir, const char *name, struct vfs_inode *target)
{
    struct tnode *dir = node(vdir);
    if (target->nlink >= TMPFS_LINK_MAX)
        return -ABI_EMLINK;
    /* Linking an unlinked open file back in is refused, an O_TMPFILE file
     * opened without O_EXCL excepted. */
    if (target->nlink == 0 && !(target->flags & VFS_INODE_LINKABLE))
        return -ABI_ENOENT;
    target->flags &= ~(uint32_t)VFS_INODE_LINKABLE;
    if (dir_find(dir, name))
        return -ABI_EEXIST;
    struct tdirent *e = dirent_new(dir, name, node(target));
    if (!e)
        return -ABI_ENOMEM;
    dir_append(dir, e);
    target->nlink++;
    touch_c(node(target));
    touch_mc(dir);
    return 0;
}

static void drop_link(struct tnode *n)
{
    if (vfs_is_dir(&n->vfs))
        n->vfs.nlink = 0;
    else
        n->vfs.nlink--;
    touch_c(n);
    maybe_free(n);
}

static int tmpfs_unlink(struct vfs_inode *vdir, const char *name)
{
    struct tnode *dir = node(vdir);
    struct tdirent *e = dir_find(dir, name);
    if (!e)
        return -ABI_ENOENT;
    if (vfs_is_dir(&e->node->vfs))
        return -ABI_EISDIR;
    struct tnode *n = e->node;
    dir_remove(dir, e);
    touch_mc(dir);
    drop_link(n);
    return 0;
}

static int tmpfs_rmdir(struct vfs_inode *vdir, const char *name)
{
    struct tnode *dir = node(vdir);
    struct tdirent *e = dir_find(dir, name);
    if (!e)
        return -ABI_ENOENT;
    struct tnode *n = e->node;
    if (!vfs_is_dir(&n->vfs))
        return -ABI_ENOTDIR;
    if (n->nentries)
        return -ABI_ENOTEMPTY;
    dir_remove(dir, e);
    dir->vfs.nlink--;
    touch_mc(dir);
    drop_link(n);
    return 0;
}

/* A directory changing parents moves its ".." link. */
static void reparent(struct tnode *n, struct tnode *from, struct tnode *to)
{
    if (!vfs_is_dir(&n->vfs) || from == to)
        return;
    from->vfs.nlink--;
    to->vfs.nlink++;
    n->parent = to;
}

static int tmpfs_rename(struct vfs_inode *volddir, const char *oldname, struct vfs_inode *vnewdir,
                        const char *newname, uint32_t flags)
{
    struct tnode *olddir = node(volddir), *newdir = node(vnewdir);
    struct tdirent *oe = dir_find(olddir, oldname);
    if (!oe)
        return -ABI_ENOENT;
    struct tdirent *ne = dir_find(newdir, newname);
    if ((flags & ABI_RENAME_NOREPLACE) && ne)
        return -ABI_EEXIST;
    if ((flags & ABI_RENAME_EXCHANGE) && !ne)
        return -ABI_ENOENT;
    struct tnode *n = oe->node;
    if (ne && ne->node == n)
        return 0;
    if (flags & ABI_RENAME_EXCHANGE) {
        struct tnode *m = ne->node;
        oe->node = m;
        ne->node = n;
        reparent(n, olddir, newdir);
        reparent(m, newdir, olddir);
        touch_c(n);
        touch_c(m);
        touch_mc(olddir);
        touch_mc(newdir);
        return 0;
    }
    if (ne) {
        struct tnode *victim = ne->node;
        bool vdir = vfs_is_dir(&victim->vfs);
        if (vfs_is_dir(&n->vfs) && !vdir)
            return -ABI_ENOTDIR;
        if (!vfs_is_dir(&n->vfs) && vdir)
            return -ABI_EISDIR;
        if (vdir && victim->nentries)
            return -ABI_ENOTEMPTY;
        ne->node = n;
        if (vdir)
            newdir->vfs.nlink--;
        reparent(n, olddir, newdir);
        dir_remove(olddir, oe);
        drop_link(victim);
    } else {
        struct tdirent *e = dirent_new(newdir, newname, n);
        if (!e)
            return -ABI_ENOMEM;
        dir_append(newdir, e);
        reparent(n, olddir, newdir);
        dir_remove(olddir, oe);
    }
    touch_c(n);
    touch_mc(olddir);
    touch_mc(newdir);
    return 0;
}

static int64_t tmpfs_readlink(struct vfs_inode *ino, char *buf, size_t n)
{
    struct tnode *t = node(ino);
    if (!t->target)
        return -ABI_EINVAL;
    size_t len = strlen(t->target);
    if (len > n)
        len = n;
    memcpy(buf, t->target, len);
    return (int64_t)len;
}

/* ---- regular file data ---- */

/* Index of the first page >= idx. */
static size_t page_pos(const struct tnode *n, uint64_t idx)
{
    size_t lo = 0, hi = n->npages;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->pages[mid].idx < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *page_ptr(struct tnode *n, uint64_t idx)
{
    size_t i = page_pos(n, idx);
    if (i < n->npages && n->pages[i].idx == idx)
        return mm_memfile_ptr(fs_of(n)->mf, n->pages[i].off);
    return NULL;
}

static void *page_get(struct tnode *n, uint64_t idx, int *err)
{
    size_t i = page_pos(n, idx);
    if (i < n->npages && n->pages[i].idx == idx)
        return mm_memfile_ptr(fs_of(n)->mf, n->pages[i].off);
    struct tmpfs *fs = fs_of(n);
    if (fs->used_pages >= fs->max_pages) {
        *err = -ABI_ENOSPC;
        return NULL;
    }
    if (n->npages == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 8;
        struct tpage *p = realloc(n->pages, cap * sizeof(*p));
        if (!p) {
            *err = -ABI_ENOMEM;
            return NULL;
        }
        n->pages = p;
        n->cap = cap;
    }
    int64_t off = mm_memfile_alloc(fs->mf, MM_PAGE_SIZE);
    if (off < 0) {
        *err = -ABI_ENOSPC;
        return NULL;
    }
    memmove(&n->pages[i + 1], &n->pages[i], (n->npages - i) * sizeof(n->pages[0]));
    n->pages[i] = (struct tpage){.idx = idx, .off = (uint64_t)off};
    n->npages++;
    fs->used_pages++;
    n->vfs.blocks = (int64_t)n->npages * (PAGE / 512);
    return mm_memfile_ptr(fs->mf, (uint64_t)off);
}

static int64_t data_read(struct tnode *n, void *buf, size_t len, int64_t off)
{
    if (off < 0)
        return -ABI_EINVAL;
    if (off >= n->vfs.size)
        return 0;
    if ((uint64_t)(n->vfs.size - off) < len)
        len = (size_t)(n->vfs.size - off);
    size_t done = 0;
    while (done < len) {
        int64_t pos = off + (int64_t)done;
        size_t in = (size_t)(pos % PAGE);
        size_t chunk = (size_t)PAGE - in;
        if (chunk > len - done)
            chunk = len - done;
        const char *src = page_ptr(n, (uint64_t)(pos / PAGE));
        if (src)
            memcpy((char *)buf + done, src + in, chunk);
        else
            memset((char *)buf + done, 0, chunk);
        done += chunk;
    }
    return (int64_t)done;
}

static int64_t data_write(struct tnode *n, const void *buf, size_t len, int64_t off)
{
    if (off < 0)
        return -ABI_EINVAL;
    if (len == 0)
        return 0;
    if ((uint64_t)(TMPFS_MAX_FILE - off) < len) {
        if (off == TMPFS_MAX_FILE)
            return -ABI_EFBIG;
        len = (size_t)(TMPFS_MAX_FILE - off);
    }
    size_t done = 0;
    int err = 0;
    while (done < len) {
        int64_t pos = off + (int64_t)done;
        size_t in = (size_t)(pos % PAGE);
        size_t chunk = (size_t)PAGE - in;
        if (chunk > len - done)
            chunk = len - done;
        char *dst = page_get(n, (uint64_t)(pos / PAGE), &err);
        if (!dst)
            break;
        memcpy(dst + in, (const char *)buf + done, chunk);
        done += chunk;
    }
    if (done == 0)
        return err;
    if (off + (int64_t)done > n->vfs.size)
        n->vfs.size = off + (int64_t)done;
    touch_mc(n);
    return (int64_t)done;
}

static void data_truncate(struct tnode *n, int64_t size)
{
    if (size < n->vfs.size) {
        uint64_t keep = (uint64_t)((size + PAGE - 1) / PAGE);
        /* Mappings must let go of the pages before they are reused. */
        if (n->fpages)
            mm_fpages_truncate(n->fpages, (uint64_t)size);
        pages_free_from(n, page_pos(n, keep));
        /* The cut page's tail must read as zeros if the file grows again. */
        char *last = size % PAGE ? page_ptr(n, (uint64_t)(size / PAGE)) : NULL;
        if (last)
            memset(last + size % PAGE, 0, (size_t)(PAGE - size % PAGE));
    }
    n->vfs.size = size;
    touch_mc(n);
}

static int tmpfs_setattr(struct vfs_inode *ino, const struct vfs_setattr *a)
{
    struct tnode *n = node(ino);
    if (a->mask & VFS_ATTR_SIZE) {
        if (vfs_is_dir(ino))
            return -ABI_EISDIR;
        if (!vfs_is_reg(ino))
            return -ABI_EINVAL;
        if (a->size < 0)
            return -ABI_EINVAL;
        data_truncate(n, a->size);
    }
    if (a->mask & VFS_ATTR_MODE)
        ino->mode = (ino->mode & ABI_S_IFMT) | (a->mode & 07777);
    if (a->mask & VFS_ATTR_UID)
        ino->uid = a->uid;
    if (a->mask & VFS_ATTR_GID)
        ino->gid = a->gid;
    if (a->mask & VFS_ATTR_ATIME)
        ino->atime = a->atime;
    if (a->mask & VFS_ATTR_MTIME)
        ino->mtime = a->mtime;
    touch_c(n);
    return 0;
}

/* ---- open files ---- */

static struct tnode *file_node(struct vfs_file *f)
{
    return node(vfs_file_inode(f));
}

static int64_t reg_read(struct vfs_file *f, void *buf, size_t n)
{
    int64_t r = data_read(file_node(f), buf, n, f->pos);
    if (r > 0)
        f->pos += r;
    if (r >= 0)
        touch_a(f, file_node(f));
    return r;
}

static int64_t reg_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    int64_t r = data_read(file_node(f), buf, n, off);
    if (r >= 0)
        touch_a(f, file_node(f));
    return r;
}

static int64_t reg_write(struct vfs_file *f, const void *buf, size_t n)
{
    struct tnode *t = file_node(f);
    if (f->flags & ABI_O_APPEND)
        f->pos = t->vfs.size;
    int64_t r = data_write(t, buf, n, f->pos);
    if (r > 0)
        f->pos += r;
    return r;
}

static int64_t reg_pwrite(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    struct tnode *t = file_node(f);
    /* Linux appends even for pwrite on an O_APPEND file. */
    if (f->flags & ABI_O_APPEND)
        off = t->vfs.size;
    return data_write(t, buf, n, off);
}

static int64_t seek_data_hole(struct tnode *t, int64_t off, int whence)
{
    if (off < 0 || off >= t->vfs.size)
        return -ABI_ENXIO;
    uint64_t idx = (uint64_t)(off / PAGE);
    size_t i = page_pos(t, idx);
    if (whence == ABI_SEEK_DATA) {
        if (i == t->npages)
            return -ABI_ENXIO;
        int64_t at = (int64_t)t->pages[i].idx * PAGE;
        if (at < off)
            at = off;
        return at < t->vfs.size ? at : -ABI_ENXIO;
    }
    while (i < t->npages && t->pages[i].idx == idx) {
        i++;
        idx++;
    }
    int64_t at = (int64_t)idx * PAGE;
    if (at < off)
        at = off;
    return at < t->vfs.size ? at : t->vfs.size;
}

static int64_t any_lseek(struct vfs_file *f, int64_t off, int whence)
{
    struct tnode *t = file_node(f);
    int64_t base;
    switch (whence) {
    case ABI_SEEK_SET:
        base = 0;
        break;
    case ABI_SEEK_CUR:
        base = f->pos;
        break;
    case ABI_SEEK_END:
        if (vfs_is_dir(&t->vfs))
            return -ABI_EINVAL;
        base = t->vfs.size;
        break;
    case ABI_SEEK_DATA:
    case ABI_SEEK_HOLE: {
        if (vfs_is_dir(&t->vfs))
            return -ABI_EINVAL;
        int64_t r = seek_data_hole(t, off, whence);
        if (r >= 0)
            f->pos = r;
        return r;
    }
    default:
        return -ABI_EINVAL;
    }
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
        return -ABI_EINVAL;
    f->pos = base + off;
    return f->pos;
}

static int any_stat(struct vfs_file *f, struct abi_stat *st)
{
    vfs_inode_stat(vfs_file_inode(f), st);
    return 0;
}

static int any_fsync(struct vfs_file *f)
{
    (void)f;
    return 0;
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

static int64_t dir_getdents64(struct vfs_file *f, void *vbuf, size_t n)
{
    struct tnode *dir = file_node(f);
    char *buf = vbuf;
    size_t used = 0;
    /* An unlinked directory lists nothing, not even "." and "..". */
    if (dir->vfs.nlink == 0)
        return 0;
    touch_a(f, dir);
    if (f->pos == 0) {
        if (!vfs_dirent_emit(buf, n, &used, dir->vfs.ino, 1, ABI_DT_DIR, "."))
            return -ABI_EINVAL;
        f->pos = 1;
    }
    if (f->pos == 1) {
        struct tnode *up = dir->parent ? dir->parent : dir;
        if (!vfs_dirent_emit(buf, n, &used, up->vfs.ino, 2, ABI_DT_DIR, ".."))
            return used ? (int64_t)used : -ABI_EINVAL;
        f->pos = 2;
    }
    for (struct tdirent *e = dir->head; e; e = e->next) {
        if (e->cookie < (uint64_t)f->pos)
            continue;
        uint8_t type = (uint8_t)((e->node->vfs.mode & ABI_S_IFMT) >> 12);
        if (!vfs_dirent_emit(buf, n, &used, e->node->vfs.ino, (int64_t)e->cookie + 1, type,
                             e->name))
            return used ? (int64_t)used : -ABI_EINVAL;
        f->pos = (int64_t)e->cookie + 1;
    }
    return (int64_t)used;
}

/* ---- mmap: shared mappings map the file's own pages ---- */

static int64_t map_page(void *owner, struct mm_memfile *mf, uint64_t off, bool write)
{
    (void)mf; /* the Sentry has one memory file: the one the pages are in */
    (void)write;
    struct tnode *n = owner;
    if (off >= (uint64_t)n->vfs.size)
        return -ABI_EIO;
    int err = 0;
    if (!page_get(n, off / MM_PAGE_SIZE, &err))
        return err;
    return (int64_t)n->pages[page_pos(n, off / MM_PAGE_SIZE)].off;
}

static uint64_t map_size(void *owner)
{
    struct tnode *n = owner;
    return (uint64_t)n->vfs.size;
}

static const struct mm_fpages_ops tmpfs_fpages_ops = {
    .page = map_page,
    .size = map_size,
};

static int reg_mmap(struct vfs_file *f, bool shared, struct mm_fpages **pages)
{
    /* Private mappings get the pages too: truncation finds them through it. */
    (void)shared;
    struct tnode *n = file_node(f);
    if (!n->fpages && !(n->fpages = mm_fpages_create(&tmpfs_fpages_ops, n)))
        return -ABI_ENOMEM;
    *pages = n->fpages;
    return 0;
}

/* Give back page i of n's list. */
/* Frees the pages with index in [lo, hi), found by binary search: the
 * range may be far larger than the file's pages (a sparse file). */
static void pages_drop_range(struct tnode *n, uint64_t lo, uint64_t hi)
{
    size_t i0 = page_pos(n, lo), i1 = page_pos(n, hi);
    if (i0 >= i1)
        return;
    struct tmpfs *fs = fs_of(n);
    for (size_t i = i0; i < i1; i++)
        mm_memfile_free(fs->mf, n->pages[i].off, MM_PAGE_SIZE);
    memmove(&n->pages[i0], &n->pages[i1], (n->npages - i1) * sizeof(n->pages[0]));
    n->npages -= i1 - i0;
    fs->used_pages -= i1 - i0;
    n->vfs.blocks = (int64_t)n->npages * (PAGE / 512);
}

/* Zero [off, end): whole pages go back to the memory file, the partial
 * pages at either edge are cleared. */
static void punch_hole(struct tnode *n, int64_t off, int64_t end)
{
    if (end <= off)
        return;
    /* Mappings must let go of the pages before they are reused. */
    if (n->fpages)
        mm_fpages_punch(n->fpages, (uint64_t)off, (uint64_t)(end - off));
    uint64_t whole_lo = (uint64_t)(off + PAGE - 1) / PAGE, whole_hi = (uint64_t)end / PAGE;
    if (off % PAGE) {
        int64_t page_end = (off / PAGE + 1) * PAGE;
        char *p = page_ptr(n, (uint64_t)(off / PAGE));
        if (p)
            memset(p + off % PAGE, 0, (size_t)((end < page_end ? end : page_end) - off));
    }
    if (end % PAGE && (uint64_t)end / PAGE >= whole_lo) {
        char *p = page_ptr(n, (uint64_t)end / PAGE);
        if (p)
            memset(p, 0, (size_t)(end % PAGE));
    }
    if (whole_hi > whole_lo)
        pages_drop_range(n, whole_lo, whole_hi);
}

/* tmpfs allocates and punches holes, as Linux's does; other modes are not
 * supported (EOPNOTSUPP, also as on Linux). */
static int reg_allocate(struct vfs_file *f, int mode, int64_t off, int64_t len)
{
    struct tnode *n = file_node(f);
    if (mode & ~(ABI_FALLOC_FL_KEEP_SIZE | ABI_FALLOC_FL_PUNCH_HOLE))
        return -ABI_EOPNOTSUPP;
    int64_t end = off + len;
    if (mode & ABI_FALLOC_FL_PUNCH_HOLE) {
        punch_hole(n, off, end < n->vfs.size ? end : n->vfs.size);
        touch_mc(n);
        return 0;
    }
    uint64_t first = (uint64_t)(off / PAGE), last = (uint64_t)((end - 1) / PAGE);
    /* Counted from the pages the file has (sorted by index), not by walking
     * the range: a guest may ask for terabytes, which must fail at once. */
    uint64_t present = page_pos(n, last + 1) - page_pos(n, first);
    uint64_t missing = last - first + 1 - present;
    struct tmpfs *fs = fs_of(n);
    /* All or nothing: a failed fallocate leaves no pages behind. */
    if (missing > fs->max_pages - fs->used_pages)
        return -ABI_ENOSPC;
    for (uint64_t idx = first; idx <= last; idx++) {
        int err = 0;
        if (!page_get(n, idx, &err))
            return err ? err : -ABI_ENOSPC;
    }
    if (!(mode & ABI_FALLOC_FL_KEEP_SIZE) && end > n->vfs.size)
        n->vfs.size = end;
    touch_c(n);
    return 0;
}

static const struct vfs_file_ops tmpfs_reg_file_ops = {
    .allocate = reg_allocate,
    .read = reg_read,
    .write = reg_write,
    .pread = reg_pread,
    .pwrite = reg_pwrite,
    .lseek = any_lseek,
    .stat = any_stat,
    .fsync = any_fsync,
    .mmap = reg_mmap,
};

static const struct vfs_file_ops tmpfs_dir_file_ops = {
    .read = dir_read,
    .pread = dir_pread,
    .lseek = any_lseek,
    .stat = any_stat,
    .getdents64 = dir_getdents64,
    .fsync = any_fsync,
};

static int tmpfs_open(struct vfs_inode *ino, struct vfs_file *f)
{
    switch (ino->mode & ABI_S_IFMT) {
    case ABI_S_IFREG:
        f->ops = &tmpfs_reg_file_ops;
        f->positional = true;
        f->fault_mode = VFS_FAULT_SHORT;
        return 0;
    case ABI_S_IFDIR:
        f->ops = &tmpfs_dir_file_ops;
        f->positional = true;
        return 0;
    case ABI_S_IFIFO:
        return pipe_fifo_open(ino, f);
    default:
        /* sockets get their own files with later issues. */
        return -ABI_ENXIO;
    }
}

static int64_t tmpfs_getxattr(struct vfs_inode *ino, const char *name, void *buf, size_t size)
{
    return mem_xattr_get(&node(ino)->xattrs, name, buf, size);
}

/* user.*, trusted.* and security.* are stored; system.* would be POSIX
 * ACLs, which moat's tmpfs does not have. */
static int tmpfs_setxattr(struct vfs_inode *ino, const char *name, const void *value, size_t size,
                          int flags)
{
    if (strncmp(name, "system.", 7) == 0)
        return -ABI_EOPNOTSUPP;
    return mem_xattr_set(&node(ino)->xattrs, name, value, size, flags);
}

static int64_t tmpfs_listxattr(struct vfs_inode *ino, char *buf, size_t size)
{
    return mem_xattr_list(&node(ino)->xattrs, buf, size);
}

static int tmpfs_removexattr(struct vfs_inode *ino, const char *name)
{
    return mem_xattr_remove(&node(ino)->xattrs, name);
}

static int tmpfs_tmpfile(struct vfs_inode *dir, uint32_t mode, uint32_t uid, uint32_t gid,
                         struct vfs_inode **out)
{
    struct tnode *n;
    int err = node_new(fs_of(node(dir)), ABI_S_IFREG | (mode & 07777), uid, gid, &n);
    if (err)
        return err;
    if (!(mode & VFS_TMPFILE_EXCL))
        n->vfs.flags |= VFS_INODE_LINKABLE;
    *out = &n->vfs;
    return 0;
}

static const struct vfs_inode_ops tmpfs_inode_ops = {
    .getxattr = tmpfs_getxattr,
    .setxattr = tmpfs_setxattr,
    .listxattr = tmpfs_listxattr,
    .removexattr = tmpfs_removexattr,
    .tmpfile = tmpfs_tmpfile,
    .lookup = tmpfs_lookup,
    .create = tmpfs_create_op,
    .mkdir = tmpfs_mkdir,
    .mknod = tmpfs_mknod,
    .symlink = tmpfs_symlink,
    .link = tmpfs_link,
    .unlink = tmpfs_unlink,
    .rmdir = tmpfs_rmdir,
    .rename = tmpfs_rename,
    .readlink = tmpfs_readlink,
    .setattr = tmpfs_setattr,
    .open = tmpfs_open,
    .evict = tmpfs_evict,
};

/* ---- the filesystem ---- */

static int tmpfs_statfs(struct vfs_filesystem *vfs, struct vfs_statfs *out)
{
    struct tmpfs *fs = (struct tmpfs *)vfs;
    *out = (struct vfs_statfs){
        .type = TMPFS_MAGIC,
        .bsize = MM_PAGE_SIZE,
        .blocks = fs->max_pages,
        .bfree = fs->max_pages - fs->used_pages,
        .bavail = fs->max_pages - fs->used_pages,
        .files = fs->max_inodes,
        .ffree = fs->max_inodes - fs->ninodes,
        .namelen = VFS_NAME_MAX,
        .flags = (vfs->flags & VFS_FS_RDONLY) ? 1 : 0,
    };
    return 0;
}

static void tmpfs_release(struct vfs_filesystem *vfs)
{
    struct tmpfs *fs = (struct tmpfs *)vfs;
    while (fs->all)
        node_free(fs->all);
    free(fs);
}

static const struct vfs_filesystem_ops tmpfs_fs_ops = {
    .statfs = tmpfs_statfs,
    .release = tmpfs_release,
};

int tmpfs_create(struct mm_memfile *mf, const struct tmpfs_opts *opts, struct vfs_filesystem **out)
{
    struct tmpfs_opts o = opts ? *opts : (struct tmpfs_opts){0};
    struct tmpfs *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return -ABI_ENOMEM;
    fs->mf = mf;
    fs->max_pages = (o.max_bytes ? o.max_bytes : (1ULL << 30)) / MM_PAGE_SIZE;
    fs->max_inodes = o.max_inodes ? o.max_inodes : (1ULL << 20);
    fs->next_ino = 1;
    struct tnode *root;
    int err = node_new(fs, ABI_S_IFDIR | (o.root_mode ? o.root_mode & 07777 : 01777), o.root_uid,
                       o.root_gid, &root);
    if (err) {
        free(fs);
        return err;
    }
    root->vfs.nlink = 2;
    root->vfs.size = dir_size(root);
    vfs_fs_init(&fs->vfs, "tmpfs", o.rdonly ? VFS_FS_RDONLY : 0, &tmpfs_fs_ops, &root->vfs);
    if (!fs->vfs.root) {
        tmpfs_release(&fs->vfs);
        return -ABI_ENOMEM;
    }
    *out = &fs->vfs;
    return 0;
}
