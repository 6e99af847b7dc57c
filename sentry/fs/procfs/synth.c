/* The synthetic-filesystem machinery behind procfs and sysfs: inodes made
 * from table entries, directories listed from a snapshot taken when reading
 * starts, and files whose text is generated at open (one snapshot per open
 * file, as Linux's seq_file: reads, preads and seeks see the same text). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/procfs/synth.h"
#include "sentry/kernel/kernel.h"

struct synth_fs {
    struct vfs_filesystem vfs; /* first: the VFS hands this back */
    struct kernel *k;
    uint64_t magic;
};

struct synth_inode {
    struct vfs_inode vfs; /* first */
    struct synth_node node;
};

/* ---- text buffers ---- */

static bool buf_reserve(struct synth_buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void synth_write(struct synth_buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void synth_printf(struct synth_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

bool synth_parse_uint(const char *s, int *out)
{
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 9)
        return false;
    int v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

/* ---- nodes ---- */

static struct synth_fs *fs_of(struct vfs_inode *ino)
{
    return (struct synth_fs *)ino->fs;
}

static struct synth_node *node_of(struct vfs_inode *ino)
{
    return &((struct synth_inode *)ino)->node;
}

/* The context of node in fs: -ENOENT once its task is gone. */
static int ctx_for(struct synth_fs *fs, struct synth_node node, struct synth_ctx *c)
{
    *c = (struct synth_ctx){.k = fs->k, .node = node, .caller = kernel_current()};
    if (node.pid) {
        c->task = kernel_task_lookup(fs->k, node.pid);
        if (!c->task)
            return -ABI_ENOENT;
        /* Under task/TID the index is the thread's tid: its files are that
         * thread's (an fd number that happens to be a tid names a thread
         * sharing the fd table, which changes nothing for fd entries). */
        for (struct task *t = c->task->tg->threads; node.idx > 0 && t; t = t->tg_next)
            if (t->tid == node.idx && !t->exited)
                c->task = t;
    }
    if (node.ent->valid && !node.ent->valid(c))
        return -ABI_ENOENT;
    return 0;
}

/* Stable numbers per node, so that two lookups of one file agree. */
static uint64_t node_ino(const struct synth_node *n, const struct synth_ent *root)
{
    if (n->ent == root && n->pid == 0)
        return 1;
    uint64_t h = 1469598103934665603ULL;
    uint64_t parts[3] = {(uint64_t)(uintptr_t)n->ent, (uint64_t)n->pid, (uint64_t)(int64_t)n->idx};
    for (int i = 0; i < 3; i++)
        h = (h ^ parts[i]) * 1099511628211ULL;
    h ^= h >> 29;
    return (h & 0xffffffffULL) | 2; /* never 0 or the root's 1 */
}

static uint32_t type_bits(const struct synth_ent *e)
{
    return e->type == SYNTH_DIR ? ABI_S_IFDIR : e->type == SYNTH_LINK ? ABI_S_IFLNK : ABI_S_IFREG;
}

static const struct vfs_inode_ops synth_inode_ops;

static void set_owner(struct vfs_inode *ino, const struct synth_ctx *c)
{
    if (c->node.ent->task_owned && c->task) {
        ino->uid = c->task->creds.euid;
        ino->gid = c->task->creds.egid;
    }
}

static int new_inode(struct synth_fs *fs, const struct synth_ctx *c, const struct synth_ent *root,
                     struct vfs_inode **out)
{
    struct synth_inode *si = calloc(1, sizeof(*si));
    if (!si)
        return -ABI_ENOMEM;
    const struct synth_ent *e = c->node.ent;
    si->node = c->node;
    struct vfs_inode *ino = &si->vfs;
    ino->ino = node_ino(&c->node, root);
    ino->mode = type_bits(e) | (e->perm_of ? e->perm_of(c) : e->perm);
    ino->nlink = e->type == SYNTH_DIR ? 2 : 1;
    ino->refs = 1;
    ino->ops = &synth_inode_ops;
    ino->fs = &fs->vfs;
    if (e->follow)
        ino->flags |= VFS_INODE_MAGICLINK;
    set_owner(ino, c);
    vfs_now(&ino->atime);
    ino->mtime = ino->ctime = ino->btime = ino->atime;
    if (e->type == SYNTH_LINK && !e->follow && e->readlink) {
        char tmp[VFS_PATH_MAX];
        int64_t n = e->readlink(c, tmp, sizeof(tmp));
        ino->size = n > 0 ? n : 0;
    }
    *out = ino;
    return 0;
}

static const struct synth_ent *root_ent_of(struct vfs_inode *ino)
{
    return node_of(ino->fs->root->inode)->ent;
}

static int synth_lookup(struct vfs_inode *dir, const char *name, struct vfs_inode **out)
{
    struct synth_fs *fs = fs_of(dir);
    struct synth_ctx c;
    int err = ctx_for(fs, *node_of(dir), &c);
    if (err)
        return err;
    const struct synth_ent *e = c.node.ent;
    struct synth_node found = {0};
    for (const struct synth_ent *k = e->kids; k && k->name; k++) {
        if (strcmp(k->name, name) == 0) {
            found = (struct synth_node){k, c.node.pid, c.node.idx};
            break;
        }
    }
    if (!found.ent) {
        if (!e->lookup || e->lookup(&c, name, &found) != 0)
            return -ABI_ENOENT;
    }
    struct synth_ctx kc;
    err = ctx_for(fs, found, &kc);
    if (err)
        return err;
    return new_inode(fs, &kc, root_ent_of(dir), out);
}

static bool synth_revalidate(struct vfs_inode *ino)
{
    struct synth_ctx c;
    return ctx_for(fs_of(ino), *node_of(ino), &c) == 0;
}

static int synth_getattr(struct vfs_inode *ino)
{
    struct synth_ctx c;
    int err = ctx_for(fs_of(ino), *node_of(ino), &c);
    if (err)
        return err;
    set_owner(ino, &c);
    /* A cached fd link may now name another open (dup2 over the fd). */
    if (c.node.ent->perm_of)
        ino->mode = type_bits(c.node.ent) | c.node.ent->perm_of(&c);
    return 0;
}

static int64_t synth_readlink(struct vfs_inode *ino, char *buf, size_t n)
{
    struct synth_ctx c;
    int err = ctx_for(fs_of(ino), *node_of(ino), &c);
    if (err)
        return err;
    return c.node.ent->readlink ? c.node.ent->readlink(&c, buf, n) : -ABI_EINVAL;
}

static int synth_follow(struct vfs_inode *ino, struct vfs_mount *mnt, struct vfs_path *out)
{
    struct synth_ctx c;
    int err = ctx_for(fs_of(ino), *node_of(ino), &c);
    if (err)
        return err;
    return c.node.ent->follow ? c.node.ent->follow(&c, mnt, out) : -ABI_EINVAL;
}

/* ---- open files ---- */

struct dir_entry {
    char *name;
    uint64_t ino;
    uint8_t type;
};

struct open_state {
    struct synth_node node;
    struct synth_fs *fs;
    struct synth_buf text;  /* files */
    struct dir_entry *ents; /* directories */
    size_t nents, cap;
    size_t charged; /* bytes counted against the snapshot budget */
};

/* Every open file holds its whole snapshot (Linux's seq_file holds a page),
 * so without a bound a guest could make the Sentry hold a multi-megabyte
 * maps or environ text once per fd, tens of thousands of times over. All
 * snapshots of the sandbox share one budget; an open beyond it fails with
 * ENOMEM, as an allocation failure would on Linux. */
#define SNAPSHOT_BUDGET (256u << 20)

static _Atomic size_t snapshot_budget = SNAPSHOT_BUDGET;
static _Atomic size_t snapshot_held;

size_t synth_set_snapshot_budget(size_t bytes)
{
    return atomic_exchange(&snapshot_budget, bytes);
}

size_t synth_snapshot_held(void)
{
    return atomic_load(&snapshot_held);
}

static size_t state_bytes(const struct open_state *s)
{
    size_t n = sizeof(*s) + s->text.cap + s->cap * sizeof(*s->ents);
    for (size_t i = 0; i < s->nents; i++)
        n += strlen(s->ents[i].name) + 1;
    return n;
}

static int charge(struct open_state *s)
{
    size_t n = state_bytes(s);
    size_t held = atomic_fetch_add(&snapshot_held, n) + n;
    if (held > atomic_load(&snapshot_budget)) {
        atomic_fetch_sub(&snapshot_held, n);
        return -ABI_ENOMEM;
    }
    s->charged = n;
    return 0;
}

static struct open_state *state_of(struct vfs_file *f)
{
    return f->priv;
}

static int64_t file_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    struct open_state *s = state_of(f);
    if (off < 0)
        return -ABI_EINVAL;
    if ((uint64_t)off >= s->text.len)
        return 0;
    size_t avail = s->text.len - (size_t)off;
    if (n > avail)
        n = avail;
    memcpy(buf, s->text.data + off, n);
    return (int64_t)n;
}

static int64_t file_read(struct vfs_file *f, void *buf, size_t n)
{
    int64_t r = file_pread(f, buf, n, f->pos);
    if (r > 0)
        f->pos += r;
    return r;
}

static int64_t file_pwrite(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    struct open_state *s = state_of(f);
    if (!s->node.ent->store)
        return s->node.ent->write_err ? s->node.ent->write_err : -ABI_EINVAL;
    if (off < 0)
        return -ABI_EINVAL;
    struct synth_ctx c;
    int err = ctx_for(s->fs, s->node, &c);
    if (err)
        return err;
    return s->node.ent->store(&c, buf, n, off);
}

static int64_t file_write(struct vfs_file *f, const void *buf, size_t n)
{
    int64_t r = file_pwrite(f, buf, n, f->pos);
    if (r > 0)
        f->pos += r;
    return r;
}

/* seq_file's rules: SEEK_SET and SEEK_CUR only, never negative. */
static int64_t any_lseek(struct vfs_file *f, int64_t off, int whence)
{
    int64_t base;
    if (whence == ABI_SEEK_SET)
        base = 0;
    else if (whence == ABI_SEEK_CUR)
        base = f->pos;
    else
        return -ABI_EINVAL;
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
        return -ABI_EINVAL;
    f->pos = base + off;
    return f->pos;
}

static int any_stat(struct vfs_file *f, struct abi_stat *st)
{
    vfs_inode_stat(f->dentry->inode, st);
    return 0;
}

static void free_listing(struct open_state *s)
{
    for (size_t i = 0; i < s->nents; i++)
        free(s->ents[i].name);
    free(s->ents);
    s->ents = NULL;
    s->nents = s->cap = 0;
}

static void any_release(struct vfs_file *f)
{
    struct open_state *s = state_of(f);
    if (!s)
        return;
    atomic_fetch_sub(&snapshot_held, s->charged);
    free(s->text.data);
    free_listing(s);
    free(s);
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

static int list_now(struct vfs_file *f);

static int64_t dir_getdents64(struct vfs_file *f, void *vbuf, size_t n)
{
    struct open_state *s = state_of(f);
    /* The listing is taken when reading starts (or restarts after a rewind),
     * as Linux generates it at getdents time: /proc/self/fd shows the fd
     * being read, and a rewinddir sees fds opened since. */
    if (f->pos == 0) {
        int err = list_now(f);
        if (err)
            return err;
    }
    char *buf = vbuf;
    size_t used = 0;
    while (f->pos >= 0 && (size_t)f->pos < s->nents) {
        const struct dir_entry *e = &s->ents[f->pos];
        if (!vfs_dirent_emit(buf, n, &used, e->ino, f->pos + 1, e->type, e->name))
            return used ? (int64_t)used : -ABI_EINVAL;
        f->pos++;
    }
    return (int64_t)used;
}

static const struct vfs_file_ops synth_file_ops = {
    .read = file_read,
    .write = file_write,
    .pread = file_pread,
    .pwrite = file_pwrite,
    .lseek = any_lseek,
    .stat = any_stat,
    .release = any_release,
};

static const struct vfs_file_ops synth_dir_ops = {
    .read = dir_read,
    .pread = dir_pread,
    .lseek = any_lseek,
    .stat = any_stat,
    .release = any_release,
    .getdents64 = dir_getdents64,
};

struct list_arg {
    struct open_state *s;
    const struct synth_ent *root;
    int err;
};

static int add_entry(void *varg, const char *name, struct synth_node node)
{
    struct list_arg *a = varg;
    struct open_state *s = a->s;
    if (s->nents == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct dir_entry *n = realloc(s->ents, cap * sizeof(*n));
        if (!n)
            return a->err = -ABI_ENOMEM;
        s->ents = n;
        s->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return a->err = -ABI_ENOMEM;
    s->ents[s->nents++] = (struct dir_entry){
        .name = copy,
        .ino = node_ino(&node, a->root),
        .type = (uint8_t)(type_bits(node.ent) >> 12),
    };
    return 0;
}

static int open_dir(const struct synth_ctx *c, struct vfs_inode *ino, struct open_state *s)
{
    struct list_arg a = {.s = s, .root = root_ent_of(ino)};
    struct synth_node self = c->node;
    /* ".." is listed with the directory's own number: entries do not know
     * their parent (only the root's "..", which is itself, is exact). */
    if (add_entry(&a, ".", self) || add_entry(&a, "..", self))
        return a.err;
    for (const struct synth_ent *k = c->node.ent->kids; k && k->name; k++) {
        if (add_entry(&a, k->name, (struct synth_node){k, c->node.pid, c->node.idx}))
            return a.err;
    }
    if (c->node.ent->list) {
        int err = c->node.ent->list(c, add_entry, &a);
        if (a.err)
            return a.err;
        if (err)
            return err;
    }
    return 0;
}

/* (Re)takes a directory's listing, within the snapshot budget. */
static int list_now(struct vfs_file *f)
{
    struct open_state *s = state_of(f);
    struct synth_ctx c;
    int err = ctx_for(s->fs, s->node, &c);
    if (err)
        return err;
    atomic_fetch_sub(&snapshot_held, s->charged);
    s->charged = 0;
    free_listing(s);
    err = open_dir(&c, f->dentry->inode, s);
    if (!err)
        err = charge(s);
    if (err)
        free_listing(s);
    return err;
}

static int synth_open(struct vfs_inode *ino, struct vfs_file *f)
{
    struct synth_fs *fs = fs_of(ino);
    struct synth_ctx c;
    int err = ctx_for(fs, *node_of(ino), &c);
    if (err)
        return err;
    const struct synth_ent *e = c.node.ent;
    uint32_t acc = f->flags & ABI_O_ACCMODE;
    bool wants_write = acc == ABI_O_WRONLY || acc == ABI_O_RDWR;
    if (wants_write && e->open_wr_eacces)
        return -ABI_EACCES;
    struct open_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -ABI_ENOMEM;
    s->node = c.node;
    s->fs = fs;
    f->priv = s;
    f->positional = true;
    if (e->type == SYNTH_DIR) {
        f->ops = &synth_dir_ops; /* listed at the first getdents */
    } else {
        f->ops = &synth_file_ops;
        f->fault_mode = VFS_FAULT_SHORT;
        /* A write-only open of a writable file needs no snapshot. */
        err = (e->gen && !(acc == ABI_O_WRONLY && e->store)) ? e->gen(&c, &s->text) : 0;
        if (!err && s->text.oom)
            err = -ABI_ENOMEM;
    }
    if (!err)
        err = charge(s);
    if (err) {
        /* The VFS puts the file, whose release frees s. */
        return err;
    }
    return 0;
}

static void synth_evict(struct vfs_inode *ino)
{
    free(ino);
}

static const struct vfs_inode_ops synth_inode_ops = {
    .lookup = synth_lookup,
    .readlink = synth_readlink,
    .getattr = synth_getattr,
    .open = synth_open,
    .evict = synth_evict,
    .follow_link = synth_follow,
    .revalidate = synth_revalidate,
};

/* ---- the filesystem ---- */

static int synth_statfs(struct vfs_filesystem *vfs, struct vfs_statfs *out)
{
    struct synth_fs *fs = (struct synth_fs *)vfs;
    *out = (struct vfs_statfs){.type = fs->magic, .bsize = 4096, .namelen = 255};
    return 0;
}

static void synth_release(struct vfs_filesystem *vfs)
{
    free(vfs);
}

static const struct vfs_filesystem_ops synth_fs_ops = {
    .statfs = synth_statfs,
    .release = synth_release,
};

int synth_fs_create(struct kernel *k, const char *name, uint64_t magic,
                    const struct synth_ent *root, bool rdonly, struct vfs_filesystem **out)
{
    struct synth_fs *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return -ABI_ENOMEM;
    fs->k = k;
    fs->magic = magic;
    struct synth_ctx c = {.k = k, .node = {root, 0, -1}};
    struct vfs_inode *ino;
    int err = new_inode(fs, &c, root, &ino);
    if (err) {
        free(fs);
        return err;
    }
    vfs_fs_init(&fs->vfs, name, rdonly ? VFS_FS_RDONLY : 0, &synth_fs_ops, ino);
    if (!fs->vfs.root) {
        free(ino);
        free(fs);
        return -ABI_ENOMEM;
    }
    *out = &fs->vfs;
    return 0;
}
