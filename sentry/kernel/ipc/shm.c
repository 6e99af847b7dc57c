/* System V shared memory. A segment is an unlinked file of a tmpfs the
 * namespace keeps for them, and shmat maps that file MAP_SHARED through mm
 * like any file mapping: its pages are the file's, fork keeps them shared,
 * /proc/PID/maps names them "/SYSV<key> (deleted)" with the id as inode.
 *
 * The mapped file's references keep a segment alive: every mmap of it
 * takes one (get) and its last VMA, in whichever address space (fork
 * shares them), gives it back (put). A segment marked for removal
 * (IPC_RMID while attached) stays, keyless, until the last goes.
 * shm_nattch itself is what Linux counts: the VMAs mapping the segment in
 * every address space, so a fork or an mprotect split adds one. */
#include <stdio.h>
#include <stdlib.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/kernel/ipc/ipc.h"
#include "sentry/kernel/ipc/ipc_internal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

struct shm_seg {
    struct ipc_obj perm;
    struct ipc_ns *ns;
    uint64_t size;
    int32_t name_key; /* the key it was made with: its file's name for good */
    struct vfs_file *file;
    int64_t atime, dtime, ctime;
    int cpid, lpid;
    uint64_t maps; /* references held by mapped files (mm) */
    /* shmat in progress: the segment must outlive a failed mapping. */
    int pins;
};

static struct shm_seg *seg_of(struct ipc_obj *o)
{
    return (struct shm_seg *)o;
}

static uint64_t pages_of(uint64_t size)
{
    return (size + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE;
}

static void seg_destroy(struct shm_seg *s)
{
    ipc_ids_remove(&s->ns->shm, &s->perm);
    s->ns->shm_tot -= pages_of(s->size);
    vfs_file_put(s->file);
    free(s);
}

static void seg_maybe_destroy(struct shm_seg *s)
{
    if ((s->perm.mode & ABI_SHM_DEST) && s->maps == 0 && s->pins == 0)
        seg_destroy(s);
}

/* ---- the segment as a mapped file ---- */

static void map_get(void *h)
{
    struct shm_seg *s = h;
    s->maps++;
}

static void map_put(void *h)
{
    struct shm_seg *s = h;
    s->maps--;
    s->dtime = ipc_now();
    s->lpid = ipc_pid(kernel_current());
    seg_maybe_destroy(s);
}

static int64_t map_read(void *h, void *buf, uint64_t len, uint64_t off)
{
    struct shm_seg *s = h;
    if (off > INT64_MAX)
        return 0;
    return s->file->ops->pread(s->file, buf, len, (int64_t)off);
}

static uint64_t map_size(void *h)
{
    struct shm_seg *s = h;
    return s->size;
}

static const struct mm_file_ops seg_map_ops = {
    .get = map_get,
    .put = map_put,
    .read = map_read,
    .size = map_size,
};

/* ---- shmget ---- */

static int shm_fs_ready(struct ipc_ns *ns)
{
    if (ns->shm_mnt)
        return 0;
    /* Segments are bounded by SHMALL and the memory file, not by tmpfs. */
    struct tmpfs_opts o = {.max_bytes = 1ULL << 46, .root_mode = 01777};
    struct vfs_filesystem *fs;
    int err = tmpfs_create(ns->k->memfile, &o, &fs);
    if (err)
        return err;
    err = vfs_mount_new_root(fs, 0, &ns->shm_mnt);
    if (err) {
        vfs_fs_put(fs);
        return err;
    }
    ns->shm_fs = fs;
    return 0;
}

/* What a file not yet opened releases with: nothing. */
static const struct vfs_file_ops no_file_ops;

/* An unnamed file of size bytes in the segments' tmpfs, open read-write. */
static int seg_file(struct ipc_ns *ns, struct task *t, uint64_t size, int32_t key,
                    struct vfs_file **out)
{
    int err = shm_fs_ready(ns);
    if (err)
        return err;
    struct vfs_dentry *root = ns->shm_mnt->root;
    struct vfs_inode *ino;
    err = root->inode->ops->tmpfile(root->inode, 0600 | VFS_TMPFILE_EXCL, t->creds.euid,
                                    t->creds.egid, &ino);
    if (err)
        return err;
    char name[32];
    snprintf(name, sizeof(name), "SYSV%08x", (uint32_t)key);
    struct vfs_dentry *d;
    /* A name only for /proc/PID/fd-style listings: dropped at once, the
     * file is never reachable by a path. */
    err = vfs_dentry_add(root, name, ino, &d);
    if (err)
        return err;
    vfs_dentry_drop(d);
    struct vfs_file *f = vfs_file_new(NULL, ABI_O_RDWR, NULL);
    if (!f) {
        vfs_dentry_put(d);
        return -ABI_ENOMEM;
    }
    f->dentry = d;
    f->mnt = vfs_mount_get(ns->shm_mnt);
    err = ino->ops->open(ino, f);
    if (!err) {
        struct vfs_setattr a = {.mask = VFS_ATTR_SIZE, .size = (int64_t)size};
        err = ino->ops->setattr(ino, &a);
    }
    if (err) {
        if (!f->ops)
            f->ops = &no_file_ops;
        vfs_file_put(f);
        return err;
    }
    *out = f;
    return 0;
}

struct shmget_args {
    struct ipc_ns *ns;
    int32_t key;
    uint64_t size;
    int flg;
};

static int64_t shm_create(struct task *t, void *arg)
{
    struct shmget_args *a = arg;
    struct ipc_ns *ns = a->ns;
    if (a->size < ABI_SHMMIN || a->size > ABI_SHMMAX)
        return -ABI_EINVAL;
    uint64_t pages = pages_of(a->size);
    if (ns->shm_tot + pages < ns->shm_tot || ns->shm_tot + pages > ABI_SHMALL)
        return -ABI_ENOSPC;
    /* No huge pages: what Linux answers when none are reserved. */
    if (a->flg & ABI_SHM_HUGETLB)
        return -ABI_ENOMEM;
    struct shm_seg *s = calloc(1, sizeof(*s));
    if (!s)
        return -ABI_ENOMEM;
    ipc_obj_init(&s->perm, t, a->key, a->flg);
    int err = ipc_ids_add(&ns->shm, &s->perm, ABI_SHMMNI);
    if (!err) {
        err = seg_file(ns, t, a->size, a->key, &s->file);
        if (err)
            ipc_ids_remove(&ns->shm, &s->perm);
    }
    if (err) {
        free(s);
        return err;
    }
    s->ns = ns;
    s->size = a->size;
    s->name_key = a->key;
    s->ctime = ipc_now();
    s->cpid = ipc_pid(t);
    ns->shm_tot += pages;
    return s->perm.id;
}

static int shm_check(struct ipc_obj *o, void *arg)
{
    struct shmget_args *a = arg;
    return seg_of(o)->size < a->size ? -ABI_EINVAL : 0;
}

int64_t ipc_shmget(struct task *t, int32_t key, uint64_t size, int flg)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    struct shmget_args a = {ns, key, size, flg};
    return ipc_get(t, &ns->shm, key, flg, shm_create, shm_check, &a);
}

static struct shm_seg *seg_find(struct task *t, int id)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    struct ipc_obj *o = ns ? ipc_ids_find(&ns->shm, id) : NULL;
    return o ? seg_of(o) : NULL;
}

/* ---- shmat, shmdt ---- */

struct overlap {
    uint64_t lo, hi;
    bool found;
};

static int overlap_cb(void *arg, const struct mm_vma_info *v)
{
    struct overlap *o = arg;
    if (v->start < o->hi && v->end > o->lo) {
        o->found = true;
        return 1;
    }
    return 0;
}

int64_t ipc_shmat(struct task *t, int id, uint64_t addr, int flg)
{
    /* Linux judges the address before it looks the segment up. */
    if (id < 0)
        return -ABI_EINVAL;
    int flags = ABI_MAP_SHARED;
    if (addr) {
        if (addr & (ABI_SHMLBA - 1)) {
            if (!(flg & ABI_SHM_RND))
                return -ABI_EINVAL;
            addr &= ~(uint64_t)(ABI_SHMLBA - 1);
            if (!addr && (flg & ABI_SHM_REMAP))
                return -ABI_EINVAL;
        }
        flags |= ABI_MAP_FIXED;
    } else if (flg & ABI_SHM_REMAP) {
        return -ABI_EINVAL;
    }
    struct shm_seg *s = seg_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    bool rdonly = flg & ABI_SHM_RDONLY;
    int err =
        ipc_perm_check(t, &s->perm, (rdonly ? 0444 : 0666) | ((flg & ABI_SHM_EXEC) ? 0111 : 0));
    if (err)
        return err;
    uint64_t len = pages_of(s->size) * MM_PAGE_SIZE;
    if (addr && !(flg & ABI_SHM_REMAP)) {
        /* Without SHM_REMAP an attach never replaces what is there. */
        struct overlap o = {addr, addr + len, false};
        if (addr + len < addr)
            return -ABI_EINVAL;
        mm_for_each_vma(t->mm, overlap_cb, &o);
        if (o.found)
            return -ABI_EINVAL;
    }
    int prot =
        ABI_PROT_READ | (rdonly ? 0 : ABI_PROT_WRITE) | ((flg & ABI_SHM_EXEC) ? ABI_PROT_EXEC : 0);
    struct mm_file_desc d = {
        .ops = &seg_map_ops,
        .h = s,
        .mappable = true,
        .readable = true,
        .writable = !rdonly,
        .dev = s->ns->shm_fs->dev,
        .ino = (uint64_t)s->perm.id,
    };
    err = s->file->ops->mmap(s->file, true, &d.pages);
    if (err)
        return err;
    char name[40];
    snprintf(name, sizeof(name), "/SYSV%08x (deleted)", (uint32_t)s->name_key);
    d.name = name;
    s->pins++;
    int64_t r = mm_mmap_file(t->mm, addr, len, prot, flags, &d, 0);
    if (r < 0)
        mm_fpages_idle(d.pages);
    else {
        s->atime = ipc_now();
        s->lpid = ipc_pid(t);
    }
    s->pins--;
    seg_maybe_destroy(s);
    return r;
}

struct detach {
    struct ipc_ns *ns;
    uint64_t addr;
    uint64_t dev, ino, len;
    bool found;
    /* The ranges to unmap: VMAs of the segment mapped from addr. */
    struct {
        uint64_t start, end;
    } r[64];
    int n;
};

static int detach_find(void *arg, const struct mm_vma_info *v)
{
    struct detach *d = arg;
    if (v->start < d->addr)
        return 0;
    if (v->start > d->addr)
        return 1;
    if (v->dev == d->dev && v->pgoff == 0 && v->name) {
        struct ipc_obj *o = ipc_ids_find(&d->ns->shm, (int)v->ino);
        if (o) {
            d->found = true;
            d->ino = v->ino;
            d->len = pages_of(seg_of(o)->size) * MM_PAGE_SIZE;
        }
    }
    return 1;
}

static int detach_collect(void *arg, const struct mm_vma_info *v)
{
    struct detach *d = arg;
    if (v->end <= d->addr)
        return 0;
    if (v->start >= d->addr + d->len || d->n == (int)(sizeof(d->r) / sizeof(d->r[0])))
        return 1;
    if (v->dev == d->dev && v->ino == d->ino && v->pgoff == v->start - d->addr) {
        d->r[d->n].start = v->start;
        d->r[d->n].end = v->end;
        d->n++;
    }
    return 0;
}

int64_t ipc_shmdt(struct task *t, uint64_t addr)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns || (addr & (MM_PAGE_SIZE - 1)) || !ns->shm_fs)
        return -ABI_EINVAL;
    struct detach *d = calloc(1, sizeof(*d));
    if (!d)
        return -ABI_ENOMEM;
    d->ns = ns;
    d->addr = addr;
    d->dev = ns->shm_fs->dev;
    mm_for_each_vma(t->mm, detach_find, d);
    int64_t r = -ABI_EINVAL;
    if (d->found) {
        /* Every VMA of this attach (an mprotect may have split it), and
         * no other mapping in between. */
        mm_for_each_vma(t->mm, detach_collect, d);
        r = 0;
        for (int i = 0; i < d->n && r == 0; i++)
            r = mm_munmap(t->mm, d->r[i].start, d->r[i].end - d->r[i].start);
    }
    free(d);
    return r;
}

/* ---- shmctl ---- */

/* Counting the VMAs of a segment across address spaces; each address
 * space once, though several processes may share it (CLONE_VM). */
struct vma_count {
    uint64_t dev, ino;
    uint64_t n;
    const struct mm *seen[64];
    int nseen;
};

static int count_vma(void *arg, const struct mm_vma_info *v)
{
    struct vma_count *c = arg;
    if (v->dev == c->dev && v->ino == c->ino && v->name)
        c->n++;
    return 0;
}

static int count_in_task(void *arg, struct task *t)
{
    struct vma_count *c = arg;
    if (!t->mm)
        return 0;
    for (int i = 0; i < c->nseen; i++) {
        if (c->seen[i] == t->mm)
            return 0;
    }
    if (c->nseen < (int)(sizeof(c->seen) / sizeof(c->seen[0])))
        c->seen[c->nseen++] = t->mm;
    mm_for_each_vma(t->mm, count_vma, c);
    return 0;
}

static uint64_t seg_nattch(const struct shm_seg *s)
{
    if (s->maps == 0)
        return 0;
    struct vma_count c = {.dev = s->ns->shm_fs->dev, .ino = (uint64_t)s->perm.id};
    kernel_for_each_thread_group(s->ns->k, count_in_task, &c);
    return c.n;
}

static void fill_ds(const struct shm_seg *s, struct abi_shmid64_ds *ds)
{
    *ds = (struct abi_shmid64_ds){
        .shm_segsz = s->size,
        .shm_atime = s->atime,
        .shm_dtime = s->dtime,
        .shm_ctime = s->ctime,
        .shm_cpid = s->cpid,
        .shm_lpid = s->lpid,
        .shm_nattch = seg_nattch(s),
    };
    ipc_perm_fill(&s->perm, &ds->shm_perm);
}

int64_t ipc_shm_stat(struct task *t, int id, int cmd, struct abi_shmid64_ds *ds)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    struct ipc_obj *o = cmd == ABI_IPC_STAT ? ipc_ids_find(&ns->shm, id) : ipc_ids_at(&ns->shm, id);
    if (!o)
        return -ABI_EINVAL;
    if (cmd != ABI_SHM_STAT_ANY) {
        int err = ipc_perm_check(t, o, 0444);
        if (err)
            return err;
    }
    fill_ds(seg_of(o), ds);
    return cmd == ABI_IPC_STAT ? 0 : o->id;
}

int64_t ipc_shm_set(struct task *t, int id, const struct abi_shmid64_ds *ds)
{
    struct shm_seg *s = seg_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    int err = ipc_owner_check(t, &s->perm);
    if (err)
        return err;
    ipc_perm_set(&s->perm, &ds->shm_perm);
    s->ctime = ipc_now();
    return 0;
}

int64_t ipc_shm_rmid(struct task *t, int id)
{
    struct shm_seg *s = seg_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    int err = ipc_owner_check(t, &s->perm);
    if (err)
        return err;
    /* Keyless at once, so a shmget of the key makes a new segment; gone
     * when the last attach goes. */
    s->perm.mode |= ABI_SHM_DEST;
    s->perm.key = ABI_IPC_PRIVATE;
    seg_maybe_destroy(s);
    return 0;
}

int64_t ipc_shm_lock(struct task *t, int id, bool lock)
{
    struct shm_seg *s = seg_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    if (!ipc_capable(t, ABI_CAP_IPC_LOCK)) {
        uint32_t euid = t->creds.euid;
        if (euid != s->perm.uid && euid != s->perm.cuid)
            return -ABI_EPERM;
        if (lock && t->rlimits[ABI_RLIMIT_MEMLOCK].rlim_cur == 0)
            return -ABI_EPERM;
    }
    /* Nothing is ever swapped here: locking only shows in the mode. */
    if (lock)
        s->perm.mode |= ABI_SHM_LOCKED;
    else
        s->perm.mode &= ~(uint32_t)ABI_SHM_LOCKED;
    return 0;
}

static uint64_t seg_rss_pages(const struct shm_seg *s)
{
    struct abi_stat st;
    if (s->file->ops->stat && s->file->ops->stat(s->file, &st) == 0 && st.st_blocks > 0)
        return (uint64_t)st.st_blocks / (MM_PAGE_SIZE / 512);
    return 0;
}

int64_t ipc_shm_info(struct task *t, int cmd, struct abi_shminfo64 *info,
                     struct abi_shm_info *sinfo)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    if (cmd == ABI_IPC_INFO) {
        *info = (struct abi_shminfo64){
            .shmmax = ABI_SHMMAX,
            .shmmin = ABI_SHMMIN,
            .shmmni = ABI_SHMMNI,
            .shmseg = ABI_SHMMNI,
            .shmall = ABI_SHMALL,
        };
    } else {
        *sinfo = (struct abi_shm_info){.used_ids = ns->shm.in_use, .shm_tot = ns->shm_tot};
        for (int i = 0; i < ns->shm.cap; i++) {
            if (ns->shm.slots[i])
                sinfo->shm_rss += seg_rss_pages(seg_of(ns->shm.slots[i]));
        }
    }
    return ipc_ids_max_index(&ns->shm);
}

int ipc_for_each_shm(struct kernel *k,
                     int (*fn)(void *arg, int id, const struct abi_shmid64_ds *ds, uint64_t rss),
                     void *arg)
{
    struct ipc_ns *ns = k->ipc;
    for (int i = 0; ns && i < ns->shm.cap; i++) {
        struct ipc_obj *o = ns->shm.slots[i];
        if (!o)
            continue;
        struct abi_shmid64_ds ds;
        fill_ds(seg_of(o), &ds);
        int r = fn(arg, o->id, &ds, seg_rss_pages(seg_of(o)) * MM_PAGE_SIZE);
        if (r)
            return r;
    }
    return 0;
}
