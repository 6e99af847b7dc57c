/* Anonymous memory objects: what a VMA maps.
 *
 * An object is a sparse array of chunks indexed by object offset / chunk
 * size; each chunk is 64 KiB of the memory file, allocated on first touch, so
 * a fault maps up to 64 KiB with one platform call. Chunks carry their own
 * reference count so that a later fork can share them between two private
 * objects copy-on-write; until then every chunk has one owner.
 *
 * Private objects (MAP_PRIVATE) follow one rule that makes merging and
 * growing VMAs possible without copying: each offset is used by at most one
 * VMA, and offsets nobody uses hold no data (they are discarded as soon as
 * a VMA gives them up: unmap, DONTNEED). [lo, hi) bounds the offsets handed
 * out, so that offsets outside it are known to be free without looking at
 * any VMA (mm_take_offsets). Offsets are Linux's anonymous page offsets:
 * the address a mapping was created at, kept when it moves.
 *
 * Shared objects (MAP_SHARED|MAP_ANONYMOUS) have no such rule: every VMA
 * mapping an offset sees the same memory, and the contents live as long as
 * the object does.
 *
 * File objects (see filemap.h) carry a file: a private one is a private
 * object whose chunks start as copies of the file (file offset = object
 * offset + file_delta; pages not yet filled are read in at first touch); a
 * shared one has no chunks at all: its offsets are file offsets and its
 * pages are the file's own (struct mm_fpages).
 */
#ifndef MOAT_SENTRY_MM_MEMOBJ_H
#define MOAT_SENTRY_MM_MEMOBJ_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/mm/filemap.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/radix.h"

#define MM_CHUNK_PAGES 16
#define MM_CHUNK_SIZE  (MM_CHUNK_PAGES * MM_PAGE_SIZE)

struct mm_chunk {
    uint64_t file_off; /* MM_CHUNK_SIZE bytes of the memory file */
    uint32_t refs;     /* objects holding it; > 1 only after a copy-on-write clone */
    /* Private file objects: one bit per page holding data (the file's, or
     * writes); the others still have to be read from the file. */
    uint16_t filled;
};

struct mm_memobj {
    struct mm_memfile *mf;
    uint32_t refs; /* VMAs (of any mm) referring to it */
    bool shared;
    /* Something was ever written: until then every chunk reads as zero and
     * the object may give way to a neighbour's (Linux's anon_vma, which a
     * VMA only gets on its first write). */
    bool written;
    uint64_t lo, hi; /* private objects: see above */
    uint64_t size;   /* shared objects: like a shmem file's size, fixed at mmap */
    struct mm_radix chunks;
    uint64_t nchunks;
    struct mm_file *file; /* file objects: one reference; NULL for anonymous memory */
    uint64_t file_delta;  /* file offset = object offset + file_delta (mod 2^64) */
};

/* A new object with one reference. A private object's first VMA gets offset
 * base (choose the VMA's address: it leaves room to grow down); a shared
 * one has offsets [0, len). NULL when out of memory. */
struct mm_memobj *mm_memobj_create(struct mm_memfile *mf, bool shared, uint64_t base, uint64_t len);
/* A file object with one reference, taking a new reference to file:
 * private ones as above (file offset of base is base + delta), shared ones
 * with offsets equal to file offsets (delta 0) and no size limit of their
 * own (the file's size is checked at each fault). */
struct mm_memobj *mm_memobj_create_file(struct mm_memfile *mf, bool shared, uint64_t base,
                                        uint64_t len, struct mm_file *file, uint64_t delta);
void mm_memobj_get(struct mm_memobj *o);
void mm_memobj_put(struct mm_memobj *o);

/* The chunk holding object offset off, allocating it when missing. A write
 * marks the object written, and first copies a chunk shared with another
 * object so that this one owns it; *replaced is then set (any mapping of
 * the old chunk is stale). Returns the chunk or NULL when the memory file
 * is full. */
struct mm_chunk *mm_memobj_chunk(struct mm_memobj *o, uint64_t off, bool write, bool *replaced);
/* The chunk holding off, or NULL if it has none. Never allocates. */
struct mm_chunk *mm_memobj_lookup(const struct mm_memobj *o, uint64_t off);
/* Put c (whose reference the object takes over) at off's chunk, which
 * must be empty. -ENOMEM when the index cannot grow. */
int mm_memobj_install(struct mm_memobj *o, uint64_t off, struct mm_chunk *c);
/* A fresh zeroed chunk with one reference; dropping the last frees it. */
struct mm_chunk *mm_chunk_new(struct mm_memfile *mf);
void mm_chunk_put(struct mm_memfile *mf, struct mm_chunk *c);

/* Drops the contents of [off, off+len): whole chunks are released, partial
 * ones have their pages punched. Reads afterwards see zeros. True when a
 * partial chunk shared copy-on-write had to be replaced by a private copy
 * first: mappings of the two edge chunks are then stale. */
bool mm_memobj_discard(struct mm_memobj *o, uint64_t off, uint64_t len);

/* Zeroes [off, off+len) but keeps every chunk, so mappings of it elsewhere
 * (other VMAs, other address spaces) stay valid: for shared objects. */
void mm_memobj_zero(struct mm_memobj *o, uint64_t off, uint64_t len);

/* A VMA gave up [off, off+len) of o. Private objects discard the range and
 * shrink [lo, hi) when the range sat at an edge. Returns as discard does. */
bool mm_memobj_release(struct mm_memobj *o, uint64_t off, uint64_t len);

/* Copy-on-write clone for fork: a new private object sharing every chunk.
 * The caller must make existing writable stub mappings of o read-only. */
struct mm_memobj *mm_memobj_clone(struct mm_memobj *o);

#endif
