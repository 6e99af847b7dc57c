/* File mappings: the mapped file behind file objects, a file's shared pages
 * and how truncation reaches every mapping of them, and filling private
 * chunks from the file.
 *
 * Truncation has to find the mappings of a file in every address space.
 * Linux keeps a tree of VMAs per file for that; here a file's mm_fpages only
 * counts its objects, and truncation walks the VMAs of every address space
 * (a short global list). Shrinking a mapped file is rare enough for that. */
#include "sentry/mm/filemap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/mm/memobj.h"
#include "sentry/mm/mm_internal.h"

struct mm_file *mm_file_new(const struct mm_file_desc *d)
{
    struct mm_file *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    if (d->name && !(f->name = strdup(d->name))) {
        free(f);
        return NULL;
    }
    f->refs = 1;
    f->ops = d->ops;
    f->h = d->h;
    f->pages = d->pages;
    f->dev = d->dev;
    f->ino = d->ino;
    f->ops->get(f->h);
    return f;
}

void mm_file_get(struct mm_file *f)
{
    f->refs++;
}

void mm_file_put(struct mm_file *f)
{
    if (!f || --f->refs > 0)
        return;
    f->ops->put(f->h);
    free(f->name);
    free(f);
}

uint64_t mm_file_size(const struct mm_file *f)
{
    if (f->pages)
        return f->pages->ops->size(f->pages->owner);
    return f->ops->size(f->h);
}

int mm_file_fill(struct mm_memobj *o, struct mm_chunk *c, uint64_t cs, unsigned first,
                 unsigned last, uint64_t size)
{
    if (c->filled == (uint16_t)((1u << MM_CHUNK_PAGES) - 1))
        return 0;
    unsigned char *base = mm_memfile_ptr(o->mf, c->file_off);
    for (unsigned p = first; p < last;) {
        uint64_t fo = cs + p * MM_PAGE_SIZE + o->file_delta;
        if ((c->filled >> p & 1) || fo >= size) {
            p++;
            continue;
        }
        /* A run of unfilled pages within the file: one read. */
        unsigned q = p + 1;
        while (q < last && !(c->filled >> q & 1) &&
               cs + q * MM_PAGE_SIZE + o->file_delta == fo + (q - p) * MM_PAGE_SIZE &&
               fo + (q - p) * MM_PAGE_SIZE < size)
            q++;
        uint64_t want = (q - p) * MM_PAGE_SIZE, got = 0;
        if (want > size - fo)
            want = size - fo; /* the rest of the last page stays zero */
        while (got < want) {
            int64_t r =
                o->file->ops->read(o->file->h, base + p * MM_PAGE_SIZE + got, want - got, fo + got);
            if (r < 0)
                return -ABI_EIO;
            if (r == 0)
                break; /* the file shrank meanwhile: the rest stays zero */
            got += (uint64_t)r;
        }
        for (unsigned k = p; k < q; k++)
            c->filled |= (uint16_t)(1u << k);
        p = q;
    }
    return 0;
}

/* ---- shared pages ---- */

struct mm_fpages *mm_fpages_create(const struct mm_fpages_ops *ops, void *owner)
{
    struct mm_fpages *fp = calloc(1, sizeof(*fp));
    if (!fp)
        return NULL;
    fp->ops = ops;
    fp->owner = owner;
    return fp;
}

void mm_fpages_destroy(struct mm_fpages *fp)
{
    free(fp);
}

void mm_fpages_idle(struct mm_fpages *fp)
{
    if (fp && fp->nobjs == 0 && fp->ops->unmapped)
        fp->ops->unmapped(fp->owner);
}

bool mm_fpages_mapped(const struct mm_fpages *fp)
{
    return fp && fp->nobjs > 0;
}

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mm **registry;
static size_t registry_n, registry_cap;

void mm_registry_add(struct mm *mm)
{
    pthread_mutex_lock(&registry_lock);
    if (registry_n == registry_cap) {
        size_t cap = registry_cap ? registry_cap * 2 : 16;
        struct mm **n = realloc(registry, cap * sizeof(*n));
        if (!n) {
            /* Without the entry truncation cannot reach this mm's stub
             * mappings; refuse file mappings instead (see mm_mmap_file). */
            mm->unregistered = true;
            pthread_mutex_unlock(&registry_lock);
            return;
        }
        registry = n;
        registry_cap = cap;
    }
    registry[registry_n++] = mm;
    pthread_mutex_unlock(&registry_lock);
}

void mm_registry_remove(struct mm *mm)
{
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_n; i++) {
        if (registry[i] == mm) {
            registry[i] = registry[--registry_n];
            break;
        }
    }
    if (registry_n == 0) {
        free(registry);
        registry = NULL;
        registry_cap = 0;
    }
    pthread_mutex_unlock(&registry_lock);
}

/* What a truncation does to one VMA mapping fp's file, in file offsets
 * [lo, hi) (page aligned): its stub mappings go, and with cows its private
 * copies there too. */
enum drop_step {
    DROP_STUB = 1,  /* take the range's stub mappings away */
    DROP_COPIES = 2 /* discard private copies (cows only) */
};

/* Applies steps to every VMA of mm mapping fp's file in [lo, hi); returns
 * the steps that found something to do. */
static int drop_mm(struct mm *mm, struct mm_fpages *fp, uint64_t lo, uint64_t hi, bool cows,
                   int steps)
{
    int found = 0;
    for (size_t i = 0; i < mm->vmas.n; i++) {
        struct mm_vma *v = mm->vmas.v[i];
        struct mm_memobj *o = v->obj;
        if (!o->file || o->file->pages != fp || (!o->shared && !cows))
            continue;
        uint64_t len = v->end - v->start;
        uint64_t fs = v->off + o->file_delta, fe = fs + len;
        uint64_t s = fs > lo ? fs : lo, e = fe < hi ? fe : hi;
        if (s >= e)
            continue;
        uint64_t start = v->start + (s - fs), end = v->start + (e - fs);
        if (v->in_stub) {
            found |= DROP_STUB;
            if (steps & DROP_STUB)
                mm_stub_unmap(mm, start, end);
        }
        if (o->shared)
            continue;
        found |= DROP_COPIES;
        /* Private copies past the end go too: if the file grows again they
         * read its new contents, as Linux's dropped pages would. */
        if ((steps & DROP_COPIES) && mm_memobj_discard(o, v->off + (s - fs), e - s))
            mm_stub_drop_edges(mm, o, v->off + (s - fs), e - s);
    }
    return found;
}

/* With the kernel's shootdown hook, address spaces with a stub get their
 * unmaps recorded and are quiesced before anything they map is freed (their
 * private copies here, the file's pages by our caller): the caller may be
 * another process's thread, which must not touch their stubs. Every mm
 * function runs under the kernel lock, which quiesce keeps held, so the
 * address spaces cannot change in between. */
static void drop_all(struct mm_fpages *fp, uint64_t lo, uint64_t hi, bool cows)
{
    if (!mm_fpages_mapped(fp) || lo >= hi)
        return;
    bool defer = mm_shootdown_enabled();
    struct mm *quiesce = NULL;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_n; i++) {
        struct mm *mm = registry[i];
        if (!defer || !mm->as) {
            drop_mm(mm, fp, lo, hi, cows, DROP_STUB | DROP_COPIES);
            continue;
        }
        mm->defer_unmaps = true;
        if (drop_mm(mm, fp, lo, hi, cows, DROP_STUB)) {
            mm->shoot_next = quiesce;
            quiesce = mm;
        }
        mm->defer_unmaps = false;
    }
    pthread_mutex_unlock(&registry_lock);
    /* The hook may sleep: no mm lock is held across it. */
    for (struct mm *mm = quiesce; mm; mm = mm->shoot_next)
        mm_shootdown_quiesce(mm);
    for (struct mm *mm = quiesce; mm; mm = mm->shoot_next) {
        mm->defer_unmaps = true;
        drop_mm(mm, fp, lo, hi, cows, DROP_COPIES);
        mm->defer_unmaps = false;
    }
}

void mm_fpages_truncate(struct mm_fpages *fp, uint64_t size)
{
    uint64_t lim = mm_page_up(size);
    if (size && !lim)
        return;
    drop_all(fp, lim, UINT64_MAX, true);
}

void mm_fpages_punch(struct mm_fpages *fp, uint64_t off, uint64_t len)
{
    /* Only whole pages are freed; partial ones are zeroed in place. */
    uint64_t lo = mm_page_up(off);
    uint64_t hi = len > UINT64_MAX - off ? UINT64_MAX : mm_page_down(off + len);
    if (off && !lo)
        return;
    drop_all(fp, lo, hi, false);
}
