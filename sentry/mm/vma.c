/* The VMA set: a sorted array of VMA pointers. See vma.h. */
#include "sentry/mm/vma.h"

#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"

void mm_vma_set_init(struct mm_vma_set *s)
{
    s->v = NULL;
    s->n = s->cap = 0;
}

void mm_vma_set_fini(struct mm_vma_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        mm_vma_free(s->v[i]);
    free(s->v);
    mm_vma_set_init(s);
}

struct mm_vma *mm_vma_new(uint64_t start, uint64_t end, int prot, int flags, const char *name,
                          struct mm_memobj *obj, uint64_t off)
{
    struct mm_vma *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    if (name) {
        v->name = strdup(name);
        if (!v->name) {
            free(v);
            return NULL;
        }
    }
    v->start = start;
    v->end = end;
    v->prot = prot;
    v->flags = flags;
    v->obj = obj;
    v->off = off;
    return v;
}

void mm_vma_free(struct mm_vma *v)
{
    if (!v)
        return;
    mm_memobj_put(v->obj);
    free(v->name);
    free(v);
}

size_t mm_vma_index(const struct mm_vma_set *s, uint64_t addr)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid]->end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct mm_vma *mm_vma_find_ge(const struct mm_vma_set *s, uint64_t addr)
{
    size_t i = mm_vma_index(s, addr);
    return i < s->n ? s->v[i] : NULL;
}

struct mm_vma *mm_vma_find(const struct mm_vma_set *s, uint64_t addr)
{
    struct mm_vma *v = mm_vma_find_ge(s, addr);
    return v && v->start <= addr ? v : NULL;
}

int mm_vma_reserve(struct mm_vma_set *s, size_t extra)
{
    /* Every VMA costs the Sentry memory (and a split even costs a search
     * step): the count is bounded as by Linux's vm.max_map_count. */
    if (extra > MM_VMA_MAX || s->n > MM_VMA_MAX - extra)
        return -ABI_ENOMEM;
    if (s->cap - s->n >= extra)
        return 0;
    size_t cap = s->cap ? s->cap : 32;
    while (cap - s->n < extra)
        cap *= 2;
    struct mm_vma **v = realloc(s->v, cap * sizeof(*v));
    if (!v)
        return -ABI_ENOMEM;
    s->v = v;
    s->cap = cap;
    return 0;
}

static void insert_at(struct mm_vma_set *s, size_t i, struct mm_vma *v)
{
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(s->v[0]));
    s->v[i] = v;
    s->n++;
}

int mm_vma_insert(struct mm_vma_set *s, struct mm_vma *v)
{
    if (mm_vma_reserve(s, 1))
        return -ABI_ENOMEM;
    insert_at(s, mm_vma_index(s, v->start), v);
    return 0;
}

struct mm_vma *mm_vma_take(struct mm_vma_set *s, size_t i)
{
    struct mm_vma *v = s->v[i];
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(s->v[0]));
    s->n--;
    return v;
}

int mm_vma_split(struct mm_vma_set *s, uint64_t addr)
{
    size_t i = mm_vma_index(s, addr);
    if (i == s->n || s->v[i]->start >= addr)
        return 0;
    struct mm_vma *a = s->v[i];
    if (mm_vma_reserve(s, 1))
        return -ABI_ENOMEM;
    struct mm_vma *b =
        mm_vma_new(addr, a->end, a->prot, a->flags, a->name, a->obj, a->off + (addr - a->start));
    if (!b)
        return -ABI_ENOMEM;
    mm_memobj_get(a->obj);
    b->in_stub = a->in_stub;
    a->end = addr;
    insert_at(s, i + 1, b);
    return 0;
}

static bool same_name(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool mm_vma_mergeable(const struct mm_vma *a, const struct mm_vma *b)
{
    return a->end == b->start && a->obj == b->obj && a->off + (a->end - a->start) == b->off &&
           a->prot == b->prot && a->flags == b->flags && same_name(a->name, b->name);
}

void mm_vma_join(struct mm_vma_set *s, size_t i)
{
    struct mm_vma *a = s->v[i];
    struct mm_vma *b = mm_vma_take(s, i + 1);
    a->end = b->end;
    a->in_stub |= b->in_stub;
    mm_vma_free(b);
}

int mm_vma_carve(struct mm_vma_set *s, uint64_t start, uint64_t end, size_t *first, size_t *last)
{
    int r = mm_vma_split(s, start);
    if (r)
        return r;
    r = mm_vma_split(s, end);
    if (r) {
        /* Undo the first split; joining needs no memory. */
        size_t i = mm_vma_index(s, start);
        if (i > 0 && i < s->n && mm_vma_mergeable(s->v[i - 1], s->v[i]))
            mm_vma_join(s, i - 1);
        return r;
    }
    *first = mm_vma_index(s, start);
    /* With end a boundary, the first VMA ending above it starts at or
     * above it. */
    *last = mm_vma_index(s, end);
    return 0;
}

static uint64_t vma_start_gap(const struct mm_vma *v, uint64_t guard)
{
    if (!(v->flags & MM_VMA_GROWSDOWN))
        return v->start;
    return v->start > guard ? v->start - guard : 0;
}

/* The span [*lo, *hi) covering every obstacle (VMA with its guard, or
 * reserved range) that overlaps [cs, ce). False when none does. */
static bool obstacles(const struct mm_vma_set *s, const struct mm_gap_req *q, uint64_t cs,
                      uint64_t ce, uint64_t *lo, uint64_t *hi)
{
    bool found = false;
    uint64_t l = UINT64_MAX, h = 0;
    for (size_t i = mm_vma_index(s, cs); i < s->n; i++) {
        const struct mm_vma *v = s->v[i];
        /* A guard belongs to the gap right below its VMA, as Linux's
         * vm_start_gap: past the first VMA at or above ce nothing can
         * reach back. Scanning further made every step of a search cost
         * up to a guard's worth of VMAs. */
        uint64_t vs = vma_start_gap(v, q->guard);
        if (vs < ce) {
            found = true;
            if (vs < l)
                l = vs;
            if (v->end > h)
                h = v->end;
        }
        if (v->start >= ce)
            break;
    }
    for (size_t i = 0; i < q->nreserved; i++) {
        const struct platform_range *r = &q->reserved[i];
        if (r->start < ce && r->end > cs) {
            found = true;
            if (r->start < l)
                l = r->start;
            if (r->end > h)
                h = r->end;
        }
    }
    *lo = l;
    *hi = h;
    return found;
}

int mm_vma_find_gap(const struct mm_vma_set *s, const struct mm_gap_req *q, uint64_t *out)
{
    if (q->len == 0 || q->hi < q->lo || q->hi - q->lo < q->len)
        return -ABI_ENOMEM;
    uint64_t ol, oh;
    if (q->topdown) {
        uint64_t ce = q->hi;
        /* Each step moves the candidate below at least one obstacle. */
        while (ce - q->lo >= q->len) {
            uint64_t cs = ce - q->len;
            if (!obstacles(s, q, cs, ce, &ol, &oh)) {
                *out = cs;
                return 0;
            }
            if (ol < q->lo)
                break;
            ce = ol;
            /* VMAs packed too tightly for len are stepped over here, by
             * index: each would cost obstacles() a search, and a guest
             * with many small mappings below mmap_base would make every
             * mmap cost that many searches. */
            for (size_t i = mm_vma_index(s, ce); i > 0 && ce - q->lo >= q->len; i--) {
                const struct mm_vma *p = s->v[i - 1];
                if (p->end <= ce - q->len)
                    break;
                uint64_t ns = vma_start_gap(p, q->guard);
                if (ns < q->lo + q->len)
                    return -ABI_ENOMEM;
                ce = ns < ce ? ns : ce;
            }
        }
    } else {
        uint64_t cs = q->lo;
        while (q->hi - cs >= q->len) {
            uint64_t ce = cs + q->len;
            if (!obstacles(s, q, cs, ce, &ol, &oh)) {
                *out = cs;
                return 0;
            }
            if (oh > q->hi)
                break;
            cs = oh;
        }
    }
    return -ABI_ENOMEM;
}

bool mm_vma_range_free(const struct mm_vma_set *s, const struct mm_gap_req *q, uint64_t start)
{
    uint64_t lo, hi;
    if (q->len == 0 || start + q->len < start)
        return false;
    return !obstacles(s, q, start, start + q->len, &lo, &hi);
}
