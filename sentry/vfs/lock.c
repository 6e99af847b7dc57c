/* Advisory locks: the range arithmetic of record locks and flock's
 * per-description locks, kept per inode. */
#include <stdlib.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/vfs/lock.h"

struct record {
    struct record *next;
    uintptr_t owner;
    int32_t pid;
    int type;
    int64_t start, end;
};

struct whole {
    struct whole *next;
    const struct vfs_file *owner;
    int type; /* ABI_LOCK_SH or ABI_LOCK_EX */
};

struct vfs_lock_state {
    struct record *records;
    struct whole *wholes;
};

/* Record locks alive in the whole Sentry, against VFS_LOCK_MAX_RECORDS.
 * The VFS's callers serialise, as for the lock lists themselves. */
static size_t nrecords;

static void record_free(struct record *l)
{
    nrecords--;
    free(l);
}

int vfs_lock_resolve(int whence, int64_t start, int64_t len, int64_t pos, int64_t size,
                     int64_t *rstart, int64_t *rend)
{
    int64_t base;
    switch (whence) {
    case ABI_SEEK_SET:
        base = 0;
        break;
    case ABI_SEEK_CUR:
        base = pos;
        break;
    case ABI_SEEK_END:
        base = size;
        break;
    default:
        return -ABI_EINVAL;
    }
    if (start > INT64_MAX - base)
        return -ABI_EOVERFLOW;
    int64_t s = base + start;
    if (s < 0)
        return -ABI_EINVAL;
    int64_t e;
    if (len > 0) {
        if (len - 1 > INT64_MAX - s)
            return -ABI_EOVERFLOW;
        e = s + (len - 1);
    } else if (len < 0) {
        /* The bytes before start: [start + len, start - 1]. */
        if (s + len < 0)
            return -ABI_EINVAL;
        e = s - 1;
        s += len;
    } else {
        e = VFS_LOCK_EOF;
    }
    *rstart = s;
    *rend = e;
    return 0;
}

static bool overlaps(int64_t s1, int64_t e1, int64_t s2, int64_t e2)
{
    return s1 <= e2 && s2 <= e1;
}

/* [s1, e1] ends right before [s2, e2] starts. */
static bool adjoins(int64_t e1, int64_t s2)
{
    return e1 != VFS_LOCK_EOF && e1 + 1 == s2;
}

static bool conflicts(const struct record *l, uintptr_t owner, const struct vfs_lock_range *r)
{
    return l->owner != owner && overlaps(l->start, l->end, r->start, r->end) &&
           (l->type == ABI_F_WRLCK || r->type == ABI_F_WRLCK);
}

static void maybe_free_state(struct vfs_inode *ino)
{
    struct vfs_lock_state *s = ino->locks;
    if (s && !s->records && !s->wholes) {
        free(s);
        ino->locks = NULL;
    }
}

static struct vfs_lock_state *state_of(struct vfs_inode *ino)
{
    if (!ino->locks)
        ino->locks = calloc(1, sizeof(*ino->locks));
    return ino->locks;
}

void vfs_lock_test(struct vfs_inode *ino, uintptr_t owner, struct vfs_lock_range *r)
{
    struct vfs_lock_state *s = ino->locks;
    for (struct record *l = s ? s->records : NULL; l; l = l->next) {
        if (conflicts(l, owner, r)) {
            r->type = l->type;
            r->start = l->start;
            r->end = l->end;
            r->pid = l->pid;
            return;
        }
    }
    r->type = ABI_F_UNLCK;
}

int vfs_lock_set(struct vfs_inode *ino, uintptr_t owner, int32_t pid,
                 const struct vfs_lock_range *r, bool wait)
{
    bool unlock = r->type == ABI_F_UNLCK;
    if (unlock && !ino->locks)
        return 0;
    struct vfs_lock_state *s = state_of(ino);
    if (!s)
        return -ABI_ENOLCK;
    if (!unlock) {
        for (struct record *l = s->records; l; l = l->next) {
            if (conflicts(l, owner, r))
                return wait ? -ABI_EDEADLK : -ABI_EAGAIN;
        }
    }
    /* At most one of owner's locks gets split in two, and the request may
     * become a lock of its own: two spare records cover every outcome, so
     * nothing can fail once the list starts changing. Against the cap only
     * what this request really adds counts (unlocking every other byte of
     * one big lock would otherwise make a record per byte), so that an
     * unlock that splits nothing always succeeds. */
    size_t need = unlock ? 0 : 1;
    for (struct record *l = s->records; l; l = l->next) {
        if (l->owner == owner && l->start < r->start && l->end > r->end &&
            (unlock || l->type != r->type)) {
            need++;
            break;
        }
    }
    if (nrecords + need > VFS_LOCK_MAX_RECORDS) {
        maybe_free_state(ino);
        return -ABI_ENOLCK;
    }
    struct record *spare[2] = {malloc(sizeof(struct record)), malloc(sizeof(struct record))};
    if (!spare[0] || !spare[1]) {
        free(spare[0]);
        free(spare[1]);
        maybe_free_state(ino);
        return -ABI_ENOLCK;
    }
    int nspare = 2;
    int64_t start = r->start, end = r->end;
    for (struct record **pp = &s->records, *l; (l = *pp);) {
        if (l->owner != owner) {
            pp = &l->next;
            continue;
        }
        bool touch = overlaps(l->start, l->end, start, end) || adjoins(l->end, start) ||
                     adjoins(end, l->start);
        if (!touch) {
            pp = &l->next;
            continue;
        }
        if (!unlock && l->type == r->type) {
            /* Same type, overlapping or adjacent: one lock covers both. */
            if (l->start < start)
                start = l->start;
            if (l->end > end)
                end = l->end;
            *pp = l->next;
            record_free(l);
            continue;
        }
        if (!overlaps(l->start, l->end, r->start, r->end)) {
            pp = &l->next;
            continue;
        }
        /* Keep the parts of l outside the request. */
        if (l->start < r->start && l->end > r->end) {
            struct record *right = spare[--nspare];
            *right = *l;
            right->start = r->end + 1;
            l->end = r->start - 1;
            right->next = l->next;
            l->next = right;
            nrecords++;
            pp = &right->next;
        } else if (l->start < r->start) {
            l->end = r->start - 1;
            pp = &l->next;
        } else if (l->end > r->end) {
            l->start = r->end + 1;
            pp = &l->next;
        } else {
            *pp = l->next;
            record_free(l);
        }
    }
    if (!unlock) {
        struct record *n = spare[--nspare];
        *n = (struct record){.next = s->records,
                             .owner = owner,
                             .pid = pid,
                             .type = r->type,
                             .start = start,
                             .end = end};
        s->records = n;
        nrecords++;
    }
    while (nspare > 0)
        free(spare[--nspare]);
    maybe_free_state(ino);
    return 0;
}

void vfs_lock_release_owner(struct vfs_inode *ino, uintptr_t owner)
{
    struct vfs_lock_state *s = ino->locks;
    if (!s)
        return;
    for (struct record **pp = &s->records, *l; (l = *pp);) {
        if (l->owner == owner) {
            *pp = l->next;
            record_free(l);
        } else {
            pp = &l->next;
        }
    }
    maybe_free_state(ino);
}

int vfs_lock_flock(struct vfs_inode *ino, const struct vfs_file *f, int op, bool nonblock)
{
    if (op == ABI_LOCK_UN && !ino->locks)
        return 0;
    struct vfs_lock_state *s = state_of(ino);
    if (!s)
        return -ABI_ENOLCK;
    struct whole *mine = NULL;
    for (struct whole **pp = &s->wholes, *w; (w = *pp); pp = &w->next) {
        if (w->owner != f)
            continue;
        if (w->type == op)
            return 0;
        /* A conversion is not atomic: the old lock goes first, and stays
         * gone when the new one cannot be had. */
        *pp = w->next;
        mine = w;
        break;
    }
    if (op == ABI_LOCK_UN) {
        free(mine);
        maybe_free_state(ino);
        return 0;
    }
    for (struct whole *w = s->wholes; w; w = w->next) {
        if (w->type == ABI_LOCK_EX || op == ABI_LOCK_EX) {
            free(mine);
            maybe_free_state(ino);
            return nonblock ? -ABI_EWOULDBLOCK : -ABI_EDEADLK;
        }
    }
    if (!mine)
        mine = malloc(sizeof(*mine));
    if (!mine) {
        maybe_free_state(ino);
        return -ABI_ENOLCK;
    }
    *mine = (struct whole){.next = s->wholes, .owner = f, .type = op};
    s->wholes = mine;
    return 0;
}

void vfs_lock_release_file(struct vfs_file *f)
{
    struct vfs_inode *ino = f->dentry ? f->dentry->inode : NULL;
    struct vfs_lock_state *s = ino ? ino->locks : NULL;
    if (!s)
        return;
    for (struct whole **pp = &s->wholes, *w; (w = *pp);) {
        if (w->owner == f) {
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
    vfs_lock_release_owner(ino, (uintptr_t)f);
}
