/* fork(2)'s copy of an address space: VMAs duplicated, private memory
 * shared copy-on-write chunk by chunk, shared memory simply shared.
 *
 * Nothing is copied here: a private object becomes two objects holding the
 * same chunks (mm_memobj_clone), and whichever side writes a chunk first
 * copies it (mm_memobj_chunk). The child has no stub yet; the parent's stub
 * may hold writable mappings of chunks that are now shared, which are made
 * read-only before the parent runs again.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm_internal.h"

/* Parent object -> child object for the private objects of one fork (several
 * VMAs of one object must share the clone, as they share offsets): open
 * addressing on the pointer. The table holds one reference to each clone. */
struct clone_map {
    struct clone_slot {
        struct mm_memobj *from, *to;
    } * slot;
    size_t mask;
};

static int clone_map_init(struct clone_map *m, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    m->slot = calloc(cap, sizeof(*m->slot));
    m->mask = cap - 1;
    return m->slot ? 0 : -ABI_ENOMEM;
}

static void clone_map_fini(struct clone_map *m)
{
    for (size_t i = 0; m->slot && i <= m->mask; i++)
        mm_memobj_put(m->slot[i].to);
    free(m->slot);
}

static struct clone_slot *clone_map_slot(struct clone_map *m, const struct mm_memobj *from)
{
    uint64_t h = (uint64_t)(uintptr_t)from * 0x9e3779b97f4a7c15ULL;
    for (size_t i = (size_t)(h >> 32) & m->mask;; i = (i + 1) & m->mask)
        if (!m->slot[i].from || m->slot[i].from == from)
            return &m->slot[i];
}

/* The child's object for parent VMA v, with one reference for the child's
 * VMA. NULL when out of memory. */
static struct mm_memobj *child_obj(struct clone_map *m, const struct mm_vma *v)
{
    struct mm_memobj *o = v->obj;
    if (o->shared) {
        mm_memobj_get(o);
        return o;
    }
    if (v->flags & MM_VMA_WIPEONFORK)
        return mm_memobj_create(o->mf, false, v->off, v->end - v->start);
    struct clone_slot *s = clone_map_slot(m, o);
    if (!s->to) {
        s->to = mm_memobj_clone(o);
        if (!s->to)
            return NULL;
        s->from = o;
    }
    mm_memobj_get(s->to);
    return s->to;
}

static struct mm *child_new(const struct mm *p)
{
    struct mm *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (p->nreserved) {
        c->reserved = malloc(p->nreserved * sizeof(*c->reserved));
        if (!c->reserved) {
            free(c);
            return NULL;
        }
        memcpy(c->reserved, p->reserved, p->nreserved * sizeof(*c->reserved));
        c->nreserved = p->nreserved;
    }
    c->mf = p->mf;
    c->min_addr = p->min_addr;
    c->max_addr = p->max_addr;
    c->mmap_base = p->mmap_base;
    c->brk_start = p->brk_start;
    c->brk = p->brk;
    c->stack_limit = p->stack_limit;
    mm_vma_set_init(&c->vmas);
    mm_registry_add(c);
    return c;
}

/* Makes the parent's stub mappings of v's chunks that are now shared
 * read-only, one platform call per run of adjacent shared chunks. */
struct protect_run {
    struct mm *mm;
    const struct mm_vma *v;
    int pprot;
    uint64_t first, end; /* chunk keys of the pending run; first == end: none */
};

static void protect_flush(struct protect_run *r)
{
    if (r->first == r->end)
        return;
    const struct mm_vma *v = r->v;
    uint64_t vend = v->off + (v->end - v->start);
    uint64_t s = r->first * MM_CHUNK_SIZE, e = r->end * MM_CHUNK_SIZE;
    s = s > v->off ? s : v->off;
    e = e < vend ? e : vend;
    uint64_t start = v->start + (s - v->off), end = v->start + (e - v->off);
    /* A run the stub maps only in part makes protect fail at the first
     * hole: dropping the run's mappings is as safe, only slower later. */
    if (platform_as_protect(r->mm->as, start, end - start, r->pprot))
        mm_stub_unmap(r->mm, start, end);
    r->first = r->end;
}

static int protect_cb(void *arg, uint64_t key, void **slot)
{
    struct protect_run *r = arg;
    const struct mm_chunk *c = *slot;
    if (c->refs < 2)
        return 0; /* not shared (a discarded range's edge): stays writable */
    if (r->first != r->end && key == r->end) {
        r->end++;
        return 0;
    }
    protect_flush(r);
    r->first = key;
    r->end = key + 1;
    return 0;
}

static void protect_parent(struct mm *p, const struct mm_vma *v)
{
    const struct mm_memobj *o = v->obj;
    /* Unwritten objects and shared chunks were mapped read-only anyway. */
    if (!p->as || !v->in_stub || !(v->prot & ABI_PROT_WRITE) || !o->written)
        return;
    struct protect_run r = {.mm = p, .v = v};
    r.pprot = PLATFORM_PROT_READ | (v->prot & ABI_PROT_EXEC ? PLATFORM_PROT_EXEC : 0);
    uint64_t last = v->off + (v->end - v->start) - 1;
    mm_radix_walk(&v->obj->chunks, v->off / MM_CHUNK_SIZE, last / MM_CHUNK_SIZE, protect_cb, &r);
    protect_flush(&r);
}

static bool carried_cow(const struct mm_vma *v)
{
    return !v->obj->shared && !(v->flags & (MM_VMA_DONTFORK | MM_VMA_WIPEONFORK));
}

int mm_fork(struct mm *parent, struct mm **out)
{
    struct mm *c = child_new(parent);
    if (!c)
        return -ABI_ENOMEM;
    struct clone_map m = {0};
    int err = c->unregistered ? -ABI_ENOMEM : 0;
    if (!err)
        err = mm_vma_reserve(&c->vmas, parent->vmas.n);
    if (!err)
        err = clone_map_init(&m, parent->vmas.n);
    for (size_t i = 0; !err && i < parent->vmas.n; i++) {
        const struct mm_vma *v = parent->vmas.v[i];
        if (v->flags & MM_VMA_DONTFORK)
            continue;
        struct mm_memobj *o = child_obj(&m, v);
        if (!o) {
            err = -ABI_ENOMEM;
            break;
        }
        struct mm_vma *n = mm_vma_new(v->start, v->end, v->prot, v->flags, v->name, o, v->off);
        if (!n) {
            mm_memobj_put(o);
            err = -ABI_ENOMEM;
            break;
        }
        /* Room was reserved: this cannot fail. */
        (void)mm_vma_insert(&c->vmas, n);
    }
    if (err) {
        clone_map_fini(&m);
        mm_destroy(c);
        return err;
    }
    /* A clone holds the whole object, but offsets of VMAs the child did
     * not get (DONTFORK) or got empty (WIPEONFORK) must hold nothing there:
     * a later growth into them would show the parent's data. */
    for (size_t i = 0; i < parent->vmas.n; i++) {
        const struct mm_vma *v = parent->vmas.v[i];
        if (v->obj->shared || carried_cow(v))
            continue;
        struct clone_slot *s = clone_map_slot(&m, v->obj);
        if (s->to)
            (void)mm_memobj_release(s->to, v->off, v->end - v->start);
    }
    clone_map_fini(&m);
    for (size_t i = 0; i < parent->vmas.n; i++)
        if (carried_cow(parent->vmas.v[i]))
            protect_parent(parent, parent->vmas.v[i]);
    *out = c;
    return 0;
}

void mm_set_as(struct mm *mm, struct platform_as *as)
{
    /* Nothing can be mapped in a stub the mm never had. */
    mm_pending_clear(mm);
    mm->as = as;
}
