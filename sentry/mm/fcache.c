/* The file chunk cache (fcache.h).
 *
 * Without it every exec of a compiler read the compiler's text into fresh
 * memory again, page by page at first touch. An entry is keyed by the file
 * (device, inode and a version from its stat: modification and change
 * times, size) and the file offset where the chunk starts. Entries are
 * only useful when the chunk windows of different mappings line up, which
 * mm_unmapped_area and the loader arrange: a private file mapping gets an
 * address congruent to its file offset modulo the chunk size.
 *
 * The cache holds one reference to each chunk; the objects mapping it hold
 * theirs, so a write copies it (refs > 1) and never reaches the cache. A
 * chunk only the cache holds is idle and may go at any time. */
#include "sentry/mm/fcache.h"

#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/mm/mm_internal.h"

#define BUCKETS 4096
/* Entries kept before idle ones are let go: 64 MiB of chunks. */
#define MAX_ENTRIES 1024

struct entry {
    struct entry *next;
    struct mm_memfile *mf;
    uint64_t dev, ino, version, off;
    struct mm_chunk *c;
};

static struct entry *buckets[BUCKETS];
static unsigned nentries;

static unsigned bucket(const struct mm_memfile *mf, uint64_t dev, uint64_t ino, uint64_t off)
{
    uint64_t h = (uint64_t)(uintptr_t)mf ^ dev * 0x9e3779b97f4a7c15ULL ^
                 ino * 0xc2b2ae3d27d4eb4fULL ^ (off / MM_CHUNK_SIZE) * 0x165667b19e3779f9ULL;
    return (unsigned)(h >> 40) % BUCKETS;
}

/* Drop entries of mf that only the cache holds (all of mf's when all). */
static unsigned drop(struct mm_memfile *mf, bool all)
{
    unsigned n = 0;
    for (unsigned b = 0; b < BUCKETS; b++) {
        for (struct entry **pp = &buckets[b]; *pp;) {
            struct entry *e = *pp;
            if (e->mf == mf && (all || e->c->refs == 1)) {
                *pp = e->next;
                mm_chunk_put(mf, e->c);
                free(e);
                nentries--;
                n++;
            } else {
                pp = &e->next;
            }
        }
    }
    return n;
}

/* The entry is f's window at off, in any version. */
static bool same_window(const struct entry *e, const struct mm_memfile *mf, const struct mm_file *f,
                        uint64_t off)
{
    return e->mf == mf && e->dev == f->dev && e->ino == f->ino && e->off == off;
}

uint64_t mm_fcache_version(const struct mm_file *f)
{
    if (!f->ops->version || (!f->dev && !f->ino))
        return 0;
    return f->ops->version(f->h);
}

bool mm_fcache_has(const struct mm_memfile *mf, const struct mm_file *f, uint64_t off,
                   uint64_t version)
{
    if (version == 0)
        return false;
    for (const struct entry *e = buckets[bucket(mf, f->dev, f->ino, off)]; e; e = e->next)
        if (same_window(e, mf, f, off) && e->version == version)
            return true;
    return false;
}

unsigned mm_fcache_shrink(struct mm_memfile *mf)
{
    return drop(mf, false);
}

void mm_fcache_forget(struct mm_memfile *mf)
{
    drop(mf, true);
}

/* Read the chunk's file bytes; pages past the end of the file stay zero
 * and unfilled. */
static int fill(struct mm_memfile *mf, struct mm_file *f, struct mm_chunk *c, uint64_t off,
                uint64_t size)
{
    uint64_t want = size - off < MM_CHUNK_SIZE ? size - off : MM_CHUNK_SIZE;
    unsigned char *base = mm_memfile_ptr(mf, c->file_off);
    uint64_t got = 0;
    while (got < want) {
        int64_t r = f->ops->read(f->h, base + got, want - got, off + got);
        if (r < 0)
            return -ABI_EIO;
        if (r == 0)
            break; /* shrank meanwhile: the rest stays zero */
        got += (uint64_t)r;
    }
    unsigned pages = (unsigned)((want + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE);
    c->filled = (uint16_t)(pages >= MM_CHUNK_PAGES ? 0xffff : (1u << pages) - 1);
    return 0;
}

struct mm_chunk *mm_fcache_chunk(struct mm_memfile *mf, struct mm_file *f, uint64_t off,
                                 uint64_t size, uint64_t version)
{
    if (version == 0 || off % MM_PAGE_SIZE || off >= size)
        return NULL;
    unsigned b = bucket(mf, f->dev, f->ino, off);
    for (struct entry **pp = &buckets[b]; *pp;) {
        struct entry *e = *pp;
        if (same_window(e, mf, f, off)) {
            if (e->version == version) {
                e->c->refs++;
                return e->c;
            }
            if (e->c->refs == 1) {
                /* An older version of the window nobody maps any more. */
                *pp = e->next;
                mm_chunk_put(mf, e->c);
                free(e);
                nentries--;
                continue;
            }
        }
        pp = &e->next;
    }
    if (nentries >= MAX_ENTRIES && mm_fcache_shrink(mf) == 0)
        return NULL;
    struct entry *e = malloc(sizeof(*e));
    struct mm_chunk *c = e ? mm_chunk_new(mf) : NULL;
    if (!c) {
        free(e);
        return NULL;
    }
    if (fill(mf, f, c, off, size) != 0) {
        mm_chunk_put(mf, c);
        free(e);
        return NULL;
    }
    *e = (struct entry){buckets[b], mf, f->dev, f->ino, version, off, c};
    buckets[b] = e;
    nentries++;
    c->refs++;
    return c;
}
