/* overlay: merged directory listings and the overlay's directory files.
 *
 * A listing is the upper directory's names (whiteouts withheld) followed by
 * the lower directory's names the upper one does not hold or hide. A
 * directory file takes a snapshot of it when read from position 0, and
 * cookies are indices into the snapshot: they stay valid while the guest
 * removes entries as it lists them (rm -rf), as with Linux's overlayfs,
 * whose merged-directory cache is refreshed on rewind.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/types.h"
#include "sentry/fs/overlay_priv.h"

#define DIRBUF 8192

typedef int (*entry_fn)(void *arg, const char *name, uint64_t ino, uint8_t type);

/* Calls fn for every name in a real directory but "." and "..". */
static int read_real_dir(struct vfs_inode *dir, entry_fn fn, void *arg)
{
    struct vfs_file *f;
    int err = overlay_open_real(dir, ABI_O_RDONLY | ABI_O_DIRECTORY, &f);
    if (err)
        return err;
    char *buf = malloc(DIRBUF);
    if (!buf)
        err = -ABI_ENOMEM;
    while (!err) {
        int64_t got = f->ops->getdents64(f, buf, DIRBUF);
        if (got < 0)
            err = (int)got;
        if (got <= 0)
            break;
        for (size_t at = 0; !err && at + ABI_DIRENT64_NAME_OFFSET < (size_t)got;) {
            struct abi_linux_dirent64 hdr;
            memcpy(&hdr, buf + at, ABI_DIRENT64_NAME_OFFSET);
            if (hdr.d_reclen <= ABI_DIRENT64_NAME_OFFSET || at + hdr.d_reclen > (size_t)got) {
                err = -ABI_EIO;
                break;
            }
            char *name = buf + at + ABI_DIRENT64_NAME_OFFSET;
            size_t room = hdr.d_reclen - ABI_DIRENT64_NAME_OFFSET;
            size_t len = strnlen(name, room);
            if (len == room) {
                err = -ABI_EIO;
                break;
            }
            bool dots =
                (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
            if (!dots)
                err = fn(arg, name, hdr.d_ino, hdr.d_type);
            at += hdr.d_reclen;
        }
    }
    free(buf);
    vfs_file_put(f);
    return err;
}

void overlay_list_free(struct overlay_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    *l = (struct overlay_list){0};
}

/* Names seen in the upper pass, by hash, so the lower pass skips them. */
struct builder {
    struct overlay_fs *fs;
    struct overlay_list *l;
    size_t *slots; /* index + 1 into l->v; 0 is empty */
    size_t nslots;
};

static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static bool seen(const struct builder *b, const char *name)
{
    if (!b->nslots)
        return false;
    for (size_t i = str_hash(name) & (b->nslots - 1);; i = (i + 1) & (b->nslots - 1)) {
        if (!b->slots[i])
            return false;
        if (strcmp(b->l->v[b->slots[i] - 1].name, name) == 0)
            return true;
    }
}

static int remember(struct builder *b, size_t idx)
{
    if ((idx + 1) * 2 > b->nslots) {
        size_t n = b->nslots ? b->nslots * 2 : 64;
        size_t *s = calloc(n, sizeof(*s));
        if (!s)
            return -ABI_ENOMEM;
        free(b->slots);
        b->slots = s;
        b->nslots = n;
        for (size_t j = 0; j < idx; j++) {
            size_t i = str_hash(b->l->v[j].name) & (n - 1);
            while (s[i])
                i = (i + 1) & (n - 1);
            s[i] = j + 1;
        }
    }
    size_t i = str_hash(b->l->v[idx].name) & (b->nslots - 1);
    while (b->slots[i])
        i = (i + 1) & (b->nslots - 1);
    b->slots[i] = idx + 1;
    return 0;
}

static int add(struct overlay_list *l, const char *name, uint64_t ino, uint8_t type)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct overlay_dirent *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -ABI_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    char *nm = strdup(name);
    if (!nm)
        return -ABI_ENOMEM;
    l->v[l->n++] = (struct overlay_dirent){.name = nm, .ino = ino, .type = type};
    return 0;
}

static bool whiteout_entry(struct overlay_fs *fs, uint64_t ino, uint8_t type)
{
    struct overlay_mark *m = overlay_mark_find(fs, ino);
    return type == ABI_DT_CHR && m && (m->flags & OVERLAY_MARK_WHITEOUT);
}

static int upper_entry(void *arg, const char *name, uint64_t ino, uint8_t type)
{
    struct builder *b = arg;
    /* A whiteout stays in the list for now (as DT_WHT) to hide the lower
     * name; it is dropped before the guest sees the list. */
    bool wh = whiteout_entry(b->fs, ino, type);
    int err = add(b->l, name, wh ? 0 : overlay_upper_ino(b->fs, ino), wh ? ABI_DT_WHT : type);
    if (!err)
        err = remember(b, b->l->n - 1);
    return err;
}

static int lower_entry(void *arg, const char *name, uint64_t ino, uint8_t type)
{
    struct builder *b = arg;
    if (seen(b, name))
        return 0;
    return add(b->l, name, ino, type);
}

int overlay_list_dir(struct overlay_node *dir, struct overlay_list *out)
{
    struct overlay_fs *fs = overlay_fs_of(dir);
    struct builder b = {.fs = fs, .l = out};
    int err = 0;
    if (dir->upper)
        err = read_real_dir(dir->upper, upper_entry, &b);
    struct overlay_mark *m = dir->upper ? overlay_mark_find(fs, dir->upper->ino) : NULL;
    bool opaque = m && (m->flags & OVERLAY_MARK_OPAQUE);
    if (!err && dir->lower && !opaque)
        err = read_real_dir(dir->lower, lower_entry, &b);
    free(b.slots);
    if (err) {
        overlay_list_free(out);
        return err;
    }
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (out->v[i].type == ABI_DT_WHT)
            free(out->v[i].name);
        else
            out->v[k++] = out->v[i];
    }
    out->n = k;
    return 0;
}

struct whiteouts {
    struct overlay_fs *fs;
    struct overlay_list names;
};

static int collect_whiteout(void *arg, const char *name, uint64_t ino, uint8_t type)
{
    struct whiteouts *w = arg;
    return whiteout_entry(w->fs, ino, type) ? add(&w->names, name, ino, type) : 0;
}

int overlay_clear_whiteouts(struct overlay_fs *fs, struct vfs_inode *upper_dir)
{
    struct whiteouts w = {.fs = fs};
    int err = read_real_dir(upper_dir, collect_whiteout, &w);
    for (size_t i = 0; !err && i < w.names.n; i++) {
        err = upper_dir->ops->unlink(upper_dir, w.names.v[i].name);
        if (!err)
            overlay_mark_forget(fs, w.names.v[i].ino);
    }
    overlay_list_free(&w.names);
    return err;
}

static int64_t dir_getdents64(struct vfs_file *f, void *vbuf, size_t n)
{
    struct overlay_node *o = overlay_node(vfs_file_inode(f));
    struct overlay_list *l = f->priv;
    char *buf = vbuf;
    size_t used = 0;
    /* A removed directory lists nothing, not even "." and "..". */
    if (o->removed)
        return 0;
    if (f->pos == 0 || !l->v) {
        overlay_list_free(l);
        int err = overlay_list_dir(o, l);
        if (err)
            return err;
    }
    if (f->pos == 0) {
        if (!vfs_dirent_emit(buf, n, &used, o->vfs.ino, 1, ABI_DT_DIR, "."))
            return -ABI_EINVAL;
        f->pos = 1;
    }
    if (f->pos == 1) {
        uint64_t up = o->parent ? o->parent->vfs.ino : o->vfs.ino;
        if (!vfs_dirent_emit(buf, n, &used, up, 2, ABI_DT_DIR, ".."))
            return used ? (int64_t)used : -ABI_EINVAL;
        f->pos = 2;
    }
    for (size_t i = (size_t)f->pos - 2; i < l->n; i++) {
        const struct overlay_dirent *e = &l->v[i];
        if (!vfs_dirent_emit(buf, n, &used, e->ino, (int64_t)i + 3, e->type, e->name))
            return used ? (int64_t)used : -ABI_EINVAL;
        f->pos = (int64_t)i + 3;
    }
    return (int64_t)used;
}

static int64_t dir_read(struct vfs_file *f, void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    return -ABI_EISDIR;
}

static int64_t dir_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    (void)f, (void)buf, (void)n, (void)off;
    return -ABI_EISDIR;
}

static int dir_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct vfs_inode *ino = vfs_file_inode(f);
    int err = ino->ops->getattr ? ino->ops->getattr(ino) : 0;
    if (!err)
        vfs_inode_stat(ino, st);
    return err;
}

static int dir_fsync(struct vfs_file *f)
{
    (void)f;
    return 0;
}

static void dir_release(struct vfs_file *f)
{
    overlay_list_free(f->priv);
    free(f->priv);
}

const struct vfs_file_ops overlay_dir_file_ops = {
    .read = dir_read,
    .pread = dir_pread,
    .lseek = vfs_dir_lseek,
    .stat = dir_stat,
    .getdents64 = dir_getdents64,
    .release = dir_release,
    .fsync = dir_fsync,
};
