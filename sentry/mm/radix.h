/* A sparse map from 64-bit keys to non-NULL pointers, ordered by key.
 *
 * Memory objects use it to map chunk indices to backing. Keys of one object
 * are clustered (they come from guest addresses), so a radix tree with a
 * height that grows with the largest key keeps lookups short and lets range
 * walks skip empty subtrees: unmapping a huge, sparsely touched mapping costs
 * time in proportion to what was touched, not to its size.
 */
#ifndef MOAT_SENTRY_MM_RADIX_H
#define MOAT_SENTRY_MM_RADIX_H

#include <stdint.h>

struct mm_radix {
    void *root;
    unsigned height; /* 0: empty; h: root covers keys below 2^(6h) */
};

void mm_radix_init(struct mm_radix *r);
/* Frees the tree's nodes, not the values. */
void mm_radix_fini(struct mm_radix *r);
void *mm_radix_get(const struct mm_radix *r, uint64_t key);
/* val must not be NULL. Returns 0 or -ENOMEM. */
int mm_radix_set(struct mm_radix *r, uint64_t key, void *val);

/* Called for each present key in [first, last] in increasing order. The
 * callback may replace *slot, or clear it to NULL to remove the key (emptied
 * nodes are freed). A non-zero return stops the walk and is returned. */
typedef int (*mm_radix_fn)(void *arg, uint64_t key, void **slot);
int mm_radix_walk(struct mm_radix *r, uint64_t first, uint64_t last, mm_radix_fn fn, void *arg);

#endif
