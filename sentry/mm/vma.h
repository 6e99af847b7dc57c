/* The VMA set of an address space: sorted, non-overlapping ranges of guest
 * memory, each with protections, flags, a name and the memory object (and
 * offset within it) that backs it.
 *
 * A sorted array of pointers: lookups are binary searches, pointers to VMAs
 * stay valid across insertions, and insert/remove move pointers only.
 * Nothing here talks to the platform; mm.c mirrors changes into the stub.
 */
#ifndef MOAT_SENTRY_MM_VMA_H
#define MOAT_SENTRY_MM_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"
#include "sentry/mm/memobj.h"

struct mm_vma {
    uint64_t start, end;
    int prot;              /* ABI_PROT_READ | ABI_PROT_WRITE | ABI_PROT_EXEC */
    int flags;             /* MM_VMA_* */
    char *name;            /* owned; NULL for plain anonymous memory */
    struct mm_memobj *obj; /* one reference, owned */
    uint64_t off;          /* object offset of start */
    bool in_stub;          /* something in the range may be mapped in the stub */
};

/* The most VMAs an address space may have: Linux's default
 * vm.max_map_count. Beyond it, calls that would add one fail with ENOMEM. */
#define MM_VMA_MAX 65530

struct mm_vma_set {
    struct mm_vma **v;
    size_t n, cap;
};

void mm_vma_set_init(struct mm_vma_set *s);
/* Frees every VMA (dropping their objects). */
void mm_vma_set_fini(struct mm_vma_set *s);

/* A new VMA taking over the caller's reference to obj; the name is copied.
 * NULL when out of memory (the reference stays with the caller). */
struct mm_vma *mm_vma_new(uint64_t start, uint64_t end, int prot, int flags, const char *name,
                          struct mm_memobj *obj, uint64_t off);
void mm_vma_free(struct mm_vma *v);

/* Index of the first VMA ending above addr (n when none). */
size_t mm_vma_index(const struct mm_vma_set *s, uint64_t addr);
/* The VMA containing addr, or NULL. */
struct mm_vma *mm_vma_find(const struct mm_vma_set *s, uint64_t addr);
/* The first VMA ending above addr (containing it or above it), or NULL. */
struct mm_vma *mm_vma_find_ge(const struct mm_vma_set *s, uint64_t addr);

/* Makes room for extra more VMAs, so that later insertions and splits
 * cannot fail for lack of array space. 0, or -ENOMEM (also when the set
 * would exceed MM_VMA_MAX). */
int mm_vma_reserve(struct mm_vma_set *s, size_t extra);
/* Adds v, which must not overlap any VMA. 0 or -ENOMEM (v not added). */
int mm_vma_insert(struct mm_vma_set *s, struct mm_vma *v);
/* Removes the VMA at index i and hands it to the caller. */
struct mm_vma *mm_vma_take(struct mm_vma_set *s, size_t i);

/* Makes addr a VMA boundary if it falls strictly inside a VMA. 0 or -ENOMEM. */
int mm_vma_split(struct mm_vma_set *s, uint64_t addr);
/* Splits at start and end; on success VMAs [*first, *last) are exactly the
 * ones inside [start, end). 0 or -ENOMEM (then nothing visible changed). */
int mm_vma_carve(struct mm_vma_set *s, uint64_t start, uint64_t end, size_t *first, size_t *last);

/* Whether b directly follows a and could be one VMA with it. */
bool mm_vma_mergeable(const struct mm_vma *a, const struct mm_vma *b);
/* Joins the VMAs at i and i + 1, which must be mergeable. (Merging VMAs of
 * different objects is mm's business: mm_merge_vma.) */
void mm_vma_join(struct mm_vma_set *s, size_t i);

/* Where a new mapping may go. VMAs flagged MM_VMA_GROWSDOWN keep `guard`
 * bytes free below them (room to grow, as Linux's stack guard gap); reserved
 * ranges are never used. */
struct mm_gap_req {
    uint64_t lo, hi; /* the mapping must fit in [lo, hi) */
    uint64_t len;
    bool topdown; /* highest fitting address, else lowest */
    uint64_t guard;
    const struct platform_range *reserved;
    size_t nreserved;
};
/* 0 with *out set, or -ENOMEM when nothing fits. */
int mm_vma_find_gap(const struct mm_vma_set *s, const struct mm_gap_req *q, uint64_t *out);
/* Whether [start, start + q->len) is free by the same rules (lo/hi ignored). */
bool mm_vma_range_free(const struct mm_vma_set *s, const struct mm_gap_req *q, uint64_t start);

#endif
