/* Anonymous memory objects: chunks of the memory file behind VMAs. See
 * memobj.h for the rules private and shared objects follow. */
#include "sentry/mm/memobj.h"
#include "sentry/mm/fcache.h"

#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/mm/mm_internal.h"

struct mm_memobj *mm_memobj_create(struct mm_memfile *mf, bool shared, uint64_t base, uint64_t len)
{
    struct mm_memobj *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->mf = mf;
    o->refs = 1;
    o->shared = shared;
    o->lo = base;
    o->hi = base + len;
    o->size = shared ? len : 0;
    mm_radix_init(&o->chunks);
    return o;
}

struct mm_memobj *mm_memobj_create_file(struct mm_memfile *mf, bool shared, uint64_t base,
                                        uint64_t len, struct mm_file *file, uint64_t delta)
{
    struct mm_memobj *o = mm_memobj_create(mf, shared, shared ? 0 : base, len);
    if (!o)
        return NULL;
    if (shared)
        o->size = UINT64_MAX;
    /* Its contents are not zeros: it never gives way to a neighbour's
     * object, and the stub may map it writable at once. */
    o->written = true;
    o->file = file;
    o->file_delta = shared ? 0 : delta;
    mm_file_get(file);
    if (file->pages)
        file->pages->nobjs++;
    return o;
}

static void file_obj_gone(struct mm_file *file)
{
    struct mm_fpages *fp = file->pages;
    if (fp && --fp->nobjs == 0) {
        /* The last mapping went: dirty pages reach the file now. */
        if (fp->ops->sync)
            (void)fp->ops->sync(fp->owner, 0, UINT64_MAX);
        if (fp->ops->unmapped)
            fp->ops->unmapped(fp->owner);
    }
    mm_file_put(file);
}

void mm_memobj_get(struct mm_memobj *o)
{
    o->refs++;
}

void mm_chunk_put(struct mm_memfile *mf, struct mm_chunk *c)
{
    if (--c->refs == 0) {
        mm_memfile_free(mf, c->file_off, MM_CHUNK_SIZE);
        free(c);
    }
}

static int put_chunk_cb(void *arg, uint64_t key, void **slot)
{
    (void)key;
    struct mm_memobj *o = arg;
    mm_chunk_put(o->mf, *slot);
    *slot = NULL;
    o->nchunks--;
    return 0;
}

void mm_memobj_put(struct mm_memobj *o)
{
    if (!o || --o->refs > 0)
        return;
    mm_radix_walk(&o->chunks, 0, UINT64_MAX, put_chunk_cb, o);
    mm_radix_fini(&o->chunks);
    if (o->file)
        file_obj_gone(o->file);
    free(o);
}

struct mm_chunk *mm_chunk_new(struct mm_memfile *mf)
{
    struct mm_chunk *c = malloc(sizeof(*c));
    if (!c)
        return NULL;
    int64_t off = mm_memfile_alloc(mf, MM_CHUNK_SIZE);
    /* Memory held only by the file chunk cache gives way first. */
    if (off < 0 && mm_fcache_shrink(mf) > 0)
        off = mm_memfile_alloc(mf, MM_CHUNK_SIZE);
    if (off < 0) {
        free(c);
        return NULL;
    }
    c->file_off = (uint64_t)off;
    c->refs = 1;
    c->filled = 0;
    return c;
}

/* A private copy of a chunk shared copy-on-write; drops one reference to the
 * original. */
static struct mm_chunk *chunk_unshare(struct mm_memfile *mf, struct mm_chunk *c)
{
    struct mm_chunk *n = mm_chunk_new(mf);
    if (!n)
        return NULL;
    memcpy(mm_memfile_ptr(mf, n->file_off), mm_memfile_ptr(mf, c->file_off), MM_CHUNK_SIZE);
    n->filled = c->filled;
    mm_chunk_put(mf, c);
    return n;
}

int mm_memobj_install(struct mm_memobj *o, uint64_t off, struct mm_chunk *c)
{
    if (mm_radix_set(&o->chunks, off / MM_CHUNK_SIZE, c))
        return -ABI_ENOMEM;
    o->nchunks++;
    return 0;
}

struct mm_chunk *mm_memobj_lookup(const struct mm_memobj *o, uint64_t off)
{
    return mm_radix_get(&o->chunks, off / MM_CHUNK_SIZE);
}

struct mm_chunk *mm_memobj_chunk(struct mm_memobj *o, uint64_t off, bool write, bool *replaced)
{
    uint64_t idx = off / MM_CHUNK_SIZE;
    struct mm_chunk *c = mm_radix_get(&o->chunks, idx);
    if (write)
        o->written = true;
    if (c && (!write || c->refs == 1))
        return c;
    if (c) {
        struct mm_chunk *n = chunk_unshare(o->mf, c);
        if (!n)
            return NULL;
        /* The slot exists, so this cannot fail. */
        mm_radix_set(&o->chunks, idx, n);
        if (replaced)
            *replaced = true;
        return n;
    }
    c = mm_chunk_new(o->mf);
    if (!c)
        return NULL;
    if (mm_radix_set(&o->chunks, idx, c)) {
        mm_chunk_put(o->mf, c);
        return NULL;
    }
    o->nchunks++;
    return c;
}

struct discard_args {
    struct mm_memobj *o;
    uint64_t start, end; /* object offsets */
    bool keep_chunks;
    bool replaced;
};

static int discard_cb(void *arg, uint64_t key, void **slot)
{
    struct discard_args *a = arg;
    struct mm_memobj *o = a->o;
    struct mm_chunk *c = *slot;
    uint64_t cs = key * MM_CHUNK_SIZE, ce = cs + MM_CHUNK_SIZE;
    uint64_t s = a->start > cs ? a->start : cs;
    uint64_t e = a->end < ce ? a->end : ce;
    if (s == cs && e == ce && !a->keep_chunks) {
        mm_chunk_put(o->mf, c);
        *slot = NULL;
        o->nchunks--;
        return 0;
    }
    if (c->refs > 1) {
        /* The other owner keeps its copy of the discarded pages. */
        struct mm_chunk *n = chunk_unshare(o->mf, c);
        if (!n)
            return 0; /* keeps the old contents: allowed for a hint */
        *slot = c = n;
        a->replaced = true;
    }
    mm_memfile_punch(o->mf, c->file_off + (s - cs), e - s);
    /* A private file object reads the punched pages from the file again. */
    for (uint64_t p = (s - cs) / MM_PAGE_SIZE; p < (e - cs) / MM_PAGE_SIZE; p++)
        c->filled &= (uint16_t) ~(1u << p);
    return 0;
}

bool mm_memobj_discard(struct mm_memobj *o, uint64_t off, uint64_t len)
{
    if (len == 0)
        return false;
    struct discard_args a = {o, off, off + len, false, false};
    mm_radix_walk(&o->chunks, off / MM_CHUNK_SIZE, (off + len - 1) / MM_CHUNK_SIZE, discard_cb, &a);
    return a.replaced;
}

void mm_memobj_zero(struct mm_memobj *o, uint64_t off, uint64_t len)
{
    if (len == 0)
        return;
    struct discard_args a = {o, off, off + len, true, false};
    mm_radix_walk(&o->chunks, off / MM_CHUNK_SIZE, (off + len - 1) / MM_CHUNK_SIZE, discard_cb, &a);
}

bool mm_memobj_release(struct mm_memobj *o, uint64_t off, uint64_t len)
{
    if (o->shared || len == 0)
        return false;
    bool replaced = mm_memobj_discard(o, off, len);
    if (off <= o->lo && off + len >= o->hi)
        o->lo = o->hi = off;
    else if (off + len == o->hi)
        o->hi = off;
    else if (off == o->lo)
        o->lo = off + len;
    else
        return replaced;
    /* Chunks emptied piece by piece at the edges go back to the file. */
    struct discard_args a = {o, 0, UINT64_MAX, false, false};
    uint64_t lo_key = o->lo / MM_CHUNK_SIZE;
    uint64_t hi_key = (o->hi + MM_CHUNK_SIZE - 1) / MM_CHUNK_SIZE;
    if (o->lo == o->hi)
        lo_key = hi_key = 0;
    if (lo_key > 0)
        mm_radix_walk(&o->chunks, 0, lo_key - 1, discard_cb, &a);
    mm_radix_walk(&o->chunks, hi_key, UINT64_MAX, discard_cb, &a);
    return replaced;
}

static int clone_cb(void *arg, uint64_t key, void **slot)
{
    struct mm_memobj *n = arg;
    struct mm_chunk *c = *slot;
    if (mm_radix_set(&n->chunks, key, c))
        return -ABI_ENOMEM;
    c->refs++;
    n->nchunks++;
    return 0;
}

struct mm_memobj *mm_memobj_clone(struct mm_memobj *o)
{
    struct mm_memobj *n = mm_memobj_create(o->mf, false, o->lo, o->hi - o->lo);
    if (!n)
        return NULL;
    n->written = o->written;
    if (o->file) {
        n->file = o->file;
        n->file_delta = o->file_delta;
        mm_file_get(o->file);
        if (o->file->pages)
            o->file->pages->nobjs++;
    }
    if (mm_radix_walk(&o->chunks, 0, UINT64_MAX, clone_cb, n)) {
        mm_memobj_put(n);
        return NULL;
    }
    return n;
}
