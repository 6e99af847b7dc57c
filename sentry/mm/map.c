/* Building blocks of every mapping change: add anonymous memory, remove a
 * range, grow a VMA, and keep the stub's page tables in step.
 *
 * The stub is updated eagerly whenever memory goes away or loses access
 * (unmap, DONTNEED, lowered protections) and lazily when it appears or gains
 * access (the next guest fault maps it). A failed platform unmap is not
 * recoverable here: the platform must make sure a stub whose mappings it
 * cannot change never runs guest code again, because the memory behind
 * those mappings is about to be reused.
 */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm_internal.h"

void mm_stub_unmap(struct mm *mm, uint64_t start, uint64_t end)
{
    if (!mm->as || end <= start)
        return;
    if (mm->defer_unmaps)
        mm_pending_add(mm, start, end);
    else
        platform_as_unmap(mm->as, start, end - start);
}

void mm_stub_drop_chunk(struct mm *mm, struct mm_memobj *o, uint64_t chunk_off)
{
    if (!mm->as)
        return;
    /* Only VMAs of the same object can map the chunk; copy-on-write breaks
     * are rare enough that a scan is fine. */
    uint64_t ce = chunk_off + MM_CHUNK_SIZE;
    for (size_t i = 0; i < mm->vmas.n; i++) {
        struct mm_vma *v = mm->vmas.v[i];
        uint64_t vend = v->off + (v->end - v->start);
        if (v->obj != o || !v->in_stub || v->off >= ce || vend <= chunk_off)
            continue;
        uint64_t s = v->off > chunk_off ? v->off : chunk_off;
        uint64_t e = vend < ce ? vend : ce;
        mm_stub_unmap(mm, v->start + (s - v->off), v->start + (e - v->off));
    }
}

void mm_stub_drop_edges(struct mm *mm, struct mm_memobj *o, uint64_t off, uint64_t len)
{
    mm_stub_drop_chunk(mm, o, off - off % MM_CHUNK_SIZE);
    uint64_t last = off + len - 1;
    if (last / MM_CHUNK_SIZE != off / MM_CHUNK_SIZE)
        mm_stub_drop_chunk(mm, o, last - last % MM_CHUNK_SIZE);
}

int mm_unmap_range(struct mm *mm, uint64_t start, uint64_t end)
{
    size_t first, last;
    int r = mm_vma_carve(&mm->vmas, start, end, &first, &last);
    if (r)
        return r;
    while (last > first) {
        struct mm_vma *v = mm_vma_take(&mm->vmas, --last);
        if (v->in_stub)
            mm_stub_unmap(mm, v->start, v->end);
        /* The last reference frees everything anyway. */
        if (v->obj->refs > 1 && mm_memobj_release(v->obj, v->off, v->end - v->start))
            mm_stub_drop_edges(mm, v->obj, v->off, v->end - v->start);
        mm_vma_free(v);
    }
    return 0;
}

/* Whether b directly follows a, both private, with the same attributes:
 * they could be one VMA if their objects allow it. */
static bool private_alike(const struct mm_vma *a, const struct mm_vma *b)
{
    if (a->end != b->start || a->obj->shared || b->obj->shared)
        return false;
    /* File objects hold the file's data: never anyone else's offsets. */
    if (a->obj->file || b->obj->file)
        return false;
    if (a->prot != b->prot || a->flags != b->flags)
        return false;
    if (!a->name || !b->name)
        return a->name == b->name;
    return strcmp(a->name, b->name) == 0;
}

static bool unwritten_sole(const struct mm_memobj *o)
{
    return !o->shared && !o->written && o->refs == 1 && !o->file;
}

bool mm_take_offsets(struct mm *mm, struct mm_memobj *o, uint64_t off, uint64_t len)
{
    if (off + len < off)
        return false;
    if (o->shared)
        return true;
    /* Outside [lo, hi) nothing was ever handed out, or it was given back
     * and discarded; inside, some VMA may still use the offsets. Only this
     * address space's VMAs can use a private object. */
    if (off < o->hi && off + len > o->lo) {
        for (size_t i = 0; i < mm->vmas.n; i++) {
            const struct mm_vma *v = mm->vmas.v[i];
            if (v->obj == o && v->off < off + len && off < v->off + (v->end - v->start))
                return false;
        }
    }
    if (o->lo == o->hi) {
        o->lo = off;
        o->hi = off + len;
    }
    if (off < o->lo)
        o->lo = off;
    if (off + len > o->hi)
        o->hi = off + len;
    return true;
}

/* v, whose object holds nothing written and is v's alone, switches to o at
 * the same offsets. Its chunks only ever held zeros and the stub maps them
 * read-only (see mm_handle_fault): those mappings go with them. */
static void give_way(struct mm *mm, struct mm_vma *v, struct mm_memobj *o)
{
    if (v->in_stub)
        mm_stub_unmap(mm, v->start, v->end);
    v->in_stub = false;
    mm_memobj_get(o);
    mm_memobj_put(v->obj);
    v->obj = o;
}

/* Tries to make the VMAs at i and i + 1 one, under Linux's rule for
 * anonymous memory: same attributes, page offsets that line up, and the same
 * anon_vma or none on one side. Objects play the anon_vma: a side whose
 * object was never written gives way to the other's. */
static bool join_next(struct mm *mm, size_t i)
{
    struct mm_vma_set *s = &mm->vmas;
    struct mm_vma *a = s->v[i], *b = s->v[i + 1];
    if (!mm_vma_mergeable(a, b)) {
        uint64_t la = a->end - a->start, lb = b->end - b->start;
        if (!private_alike(a, b) || a->off + la != b->off)
            return false;
        if (unwritten_sole(b->obj) && mm_take_offsets(mm, a->obj, b->off, lb))
            give_way(mm, b, a->obj);
        else if (unwritten_sole(a->obj) && mm_take_offsets(mm, b->obj, a->off, la))
            give_way(mm, a, b->obj);
        else
            return false;
    }
    mm_vma_join(s, i);
    return true;
}

size_t mm_merge_vma(struct mm *mm, size_t i)
{
    if (i + 1 < mm->vmas.n)
        join_next(mm, i);
    if (i > 0 && join_next(mm, i - 1)) {
        i--;
        if (i + 1 < mm->vmas.n)
            join_next(mm, i);
    }
    return i;
}

/* Whether n could lend its anon_vma (object) to v, by Linux's
 * anon_vma_compatible(): adjacent, same flags (protections may differ),
 * page offsets that line up, and n has written memory. */
static bool lends(const struct mm_vma *v, const struct mm_vma *n)
{
    if (n->obj->shared || !n->obj->written || n->flags != v->flags || n->obj->file)
        return false;
    if (n->end == v->start)
        return n->off + (n->end - n->start) == v->off;
    return v->end == n->start && v->off + (v->end - v->start) == n->off;
}

void mm_share_anon(struct mm *mm, struct mm_vma *v)
{
    if (!unwritten_sole(v->obj))
        return;
    struct mm_vma_set *s = &mm->vmas;
    size_t i = mm_vma_index(s, v->start);
    struct mm_vma *p = i > 0 ? s->v[i - 1] : NULL;
    struct mm_vma *n = i + 1 < s->n ? s->v[i + 1] : NULL;
    uint64_t len = v->end - v->start;
    if (n && lends(v, n) && mm_take_offsets(mm, n->obj, v->off, len))
        give_way(mm, v, n->obj);
    else if (p && lends(v, p) && mm_take_offsets(mm, p->obj, v->off, len))
        give_way(mm, v, p->obj);
}

int mm_map_obj(struct mm *mm, uint64_t start, uint64_t end, int prot, int vma_flags,
               const char *name, struct mm_memobj *o, uint64_t off)
{
    struct mm_vma *v = mm_vma_new(start, end, prot, vma_flags, name, o, off);
    if (!v) {
        mm_memobj_put(o);
        return -ABI_ENOMEM;
    }
    if (mm_vma_insert(&mm->vmas, v)) {
        mm_vma_free(v);
        return -ABI_ENOMEM;
    }
    mm_merge_vma(mm, mm_vma_index(&mm->vmas, start));
    return 0;
}

int mm_map_anon(struct mm *mm, uint64_t start, uint64_t end, int prot, int vma_flags,
                const char *name, uint64_t off)
{
    bool shared = vma_flags & MM_VMA_SHARED;
    if (shared)
        off = 0;
    struct mm_memobj *o = mm_memobj_create(mm->mf, shared, off, end - start);
    if (!o)
        return -ABI_ENOMEM;
    return mm_map_obj(mm, start, end, prot, vma_flags, name, o, off);
}

int mm_grow_vma(struct mm *mm, struct mm_vma *v, uint64_t delta)
{
    uint64_t len = v->end - v->start;
    if (mm_take_offsets(mm, v->obj, v->off + len, delta)) {
        v->end += delta;
        mm_merge_vma(mm, mm_vma_index(&mm->vmas, v->start));
        return 0;
    }
    /* Another VMA holds the object's next offsets: fresh memory instead, at
     * the offsets Linux would give the grown part (for a file, the file's
     * next pages). */
    struct mm_memobj *o = v->obj;
    if (o->file) {
        struct mm_memobj *n =
            mm_memobj_create_file(mm->mf, false, v->off + len, delta, o->file, o->file_delta);
        if (!n)
            return -ABI_ENOMEM;
        return mm_map_obj(mm, v->end, v->end + delta, v->prot, v->flags, v->name, n, v->off + len);
    }
    return mm_map_anon(mm, v->end, v->end + delta, v->prot, v->flags, v->name, v->off + len);
}

int mm_populate(struct mm *mm, uint64_t start, uint64_t end, bool write)
{
    for (uint64_t a = start; a < end;) {
        struct mm_vma *v = mm_vma_find(&mm->vmas, a);
        if (!v || v->prot == ABI_PROT_NONE)
            return -ABI_ENOMEM;
        /* Only a write populate breaks copy-on-write sharing. */
        struct mm_span sp;
        int err = mm_backing(mm, v, a, write, &sp);
        if (err)
            return err == -ABI_EIO ? -ABI_EFAULT : err;
        uint64_t next = sp.end < end ? sp.end : end;
        int r = mm_memfile_populate(mm->mf, sp.mf_off + (a - sp.start), next - a);
        if (r)
            return r;
        a = next;
    }
    return 0;
}
