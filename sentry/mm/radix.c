/* Sparse ordered map: a radix tree of 64-slot nodes. See radix.h. */
#include "sentry/mm/radix.h"

#include <stdbool.h>
#include <stdlib.h>

#include "abi/errno.h"

#define RADIX_BITS  6
#define RADIX_SLOTS (1u << RADIX_BITS)
#define RADIX_MASK  (RADIX_SLOTS - 1)

struct radix_node {
    void *slot[RADIX_SLOTS];
    unsigned count; /* non-NULL slots */
};

/* Bit position of the index within a key at a level; leaves are level 1. */
static unsigned level_shift(unsigned level)
{
    return (level - 1) * RADIX_BITS;
}

static uint64_t max_key(unsigned height)
{
    if (height * RADIX_BITS >= 64)
        return UINT64_MAX;
    return (UINT64_C(1) << (height * RADIX_BITS)) - 1;
}

void mm_radix_init(struct mm_radix *r)
{
    r->root = NULL;
    r->height = 0;
}

static void free_node(struct radix_node *n, unsigned level)
{
    if (level > 1) {
        for (unsigned i = 0; i < RADIX_SLOTS; i++)
            if (n->slot[i])
                free_node(n->slot[i], level - 1);
    }
    free(n);
}

void mm_radix_fini(struct mm_radix *r)
{
    if (r->root)
        free_node(r->root, r->height);
    mm_radix_init(r);
}

void *mm_radix_get(const struct mm_radix *r, uint64_t key)
{
    if (!r->root || key > max_key(r->height))
        return NULL;
    struct radix_node *n = r->root;
    for (unsigned level = r->height; level > 1; level--) {
        n = n->slot[(key >> level_shift(level)) & RADIX_MASK];
        if (!n)
            return NULL;
    }
    return n->slot[key & RADIX_MASK];
}

int mm_radix_set(struct mm_radix *r, uint64_t key, void *val)
{
    if (!r->root) {
        r->height = 1;
        while (key > max_key(r->height))
            r->height++;
        r->root = calloc(1, sizeof(struct radix_node));
        if (!r->root) {
            r->height = 0;
            return -ABI_ENOMEM;
        }
    }
    while (key > max_key(r->height)) {
        struct radix_node *top = calloc(1, sizeof(*top));
        if (!top)
            return -ABI_ENOMEM;
        top->slot[0] = r->root;
        top->count = 1;
        r->root = top;
        r->height++;
    }
    struct radix_node *n = r->root;
    for (unsigned level = r->height; level > 1; level--) {
        unsigned i = (key >> level_shift(level)) & RADIX_MASK;
        if (!n->slot[i]) {
            struct radix_node *child = calloc(1, sizeof(*child));
            if (!child)
                return -ABI_ENOMEM;
            n->slot[i] = child;
            n->count++;
        }
        n = n->slot[i];
    }
    unsigned i = key & RADIX_MASK;
    if (!n->slot[i])
        n->count++;
    n->slot[i] = val;
    return 0;
}

/* Visits [first, last] within the subtree of n, whose slot 0 starts at key
 * base; first >= base and last lies within the subtree. */
static int walk_node(struct radix_node *n, unsigned level, uint64_t base, uint64_t first,
                     uint64_t last, mm_radix_fn fn, void *arg)
{
    unsigned shift = level_shift(level);
    unsigned lo = (unsigned)((first - base) >> shift);
    unsigned hi = (unsigned)((last - base) >> shift);
    for (unsigned i = lo; i <= hi; i++) {
        if (!n->slot[i])
            continue;
        uint64_t k = base + ((uint64_t)i << shift);
        int r;
        if (level == 1) {
            r = fn(arg, k, &n->slot[i]);
        } else {
            uint64_t span_last = k + ((UINT64_C(1) << shift) - 1);
            struct radix_node *child = n->slot[i];
            r = walk_node(child, level - 1, k, first > k ? first : k,
                          last < span_last ? last : span_last, fn, arg);
            if (child->count == 0) {
                free(child);
                n->slot[i] = NULL;
            }
        }
        if (!n->slot[i])
            n->count--;
        if (r)
            return r;
    }
    return 0;
}

int mm_radix_walk(struct mm_radix *r, uint64_t first, uint64_t last, mm_radix_fn fn, void *arg)
{
    if (!r->root || first > last)
        return 0;
    uint64_t top = max_key(r->height);
    if (first > top)
        return 0;
    if (last > top)
        last = top;
    int ret = walk_node(r->root, r->height, 0, first, last, fn, arg);
    struct radix_node *root = r->root;
    if (root->count == 0) {
        free(root);
        mm_radix_init(r);
    }
    return ret;
}
