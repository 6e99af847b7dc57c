/* mremap: shrink, grow in place, move (by handing the memory object's
 * offsets to the new VMA, never by copying), MREMAP_FIXED, DONTUNMAP, and
 * duplicating a shared mapping with old_len 0.
 *
 * Argument checks and their order follow Linux 6.17+, including its moves of
 * several VMAs at once.
 */
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm_internal.h"

/* Moves [old_addr, old_addr + old_len), which lies in one VMA, to the free
 * range [new_addr, new_addr + new_len). */
static int64_t move_range(struct mm *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
                          uint64_t new_len, bool dontunmap)
{
    struct mm_vma_set *s = &mm->vmas;
    if (mm_vma_reserve(s, 4))
        return -ABI_ENOMEM;
    struct mm_vma *v = mm_vma_find(s, old_addr);
    struct mm_memobj *o = v->obj;
    uint64_t off = v->off + (old_addr - v->start);

    /* A private object's offsets past the moved ones may belong to another
     * VMA; then the growth gets fresh memory of its own. */
    uint64_t keep = new_len;
    if (new_len > old_len && !mm_take_offsets(mm, o, off + old_len, new_len - old_len))
        keep = old_len;

    struct mm_vma *nv = mm_vma_new(new_addr, new_addr + keep, v->prot, v->flags, v->name, o, off);
    if (!nv)
        return -ABI_ENOMEM;
    mm_memobj_get(o);
    struct mm_memobj *fresh = NULL;
    if (dontunmap && !o->shared) {
        /* A private file mapping's old range reads the file again. */
        fresh = o->file ? mm_memobj_create_file(mm->mf, false, off, old_len, o->file, o->file_delta)
                        : mm_memobj_create(mm->mf, false, off, old_len);
        if (!fresh) {
            mm_vma_free(nv);
            return -ABI_ENOMEM;
        }
    }
    if (old_len) {
        size_t first, last;
        if (mm_vma_carve(s, old_addr, old_addr + old_len, &first, &last)) {
            mm_memobj_put(fresh);
            mm_vma_free(nv);
            return -ABI_ENOMEM;
        }
        struct mm_vma *sv = s->v[first];
        if (sv->in_stub && (!dontunmap || fresh))
            mm_stub_unmap(mm, sv->start, sv->end);
        if (!dontunmap) {
            /* The offsets live on in nv: no release. */
            mm_vma_free(mm_vma_take(s, first));
        } else if (fresh) {
            /* The old range stays mapped, at the same page offsets as on
             * Linux, but its pages went with the move. */
            mm_memobj_put(sv->obj);
            sv->obj = fresh;
            sv->in_stub = false;
        }
    }
    mm_vma_insert(s, nv); /* room was reserved */
    mm_merge_vma(mm, mm_vma_index(s, new_addr));
    if (keep < new_len) {
        const struct mm_vma *cv = mm_vma_find(s, new_addr + keep - 1);
        int r;
        if (o->file) {
            /* The file's next pages, in an object of their own. */
            struct mm_memobj *n = mm_memobj_create_file(mm->mf, false, off + keep, new_len - keep,
                                                        o->file, o->file_delta);
            r = n ? mm_map_obj(mm, new_addr + keep, new_addr + new_len, cv->prot, cv->flags,
                               cv->name, n, off + keep)
                  : -ABI_ENOMEM;
        } else {
            r = mm_map_anon(mm, new_addr + keep, new_addr + new_len, cv->prot, cv->flags, cv->name,
                            off + keep);
        }
        if (r)
            return r;
    }
    return (int64_t)new_addr;
}

/* Whether v can grow by delta where it is. */
static bool expandable(struct mm *mm, const struct mm_vma *v, uint64_t delta)
{
    uint64_t end = v->end + delta;
    if (end < v->end || end > mm->max_addr || mm_range_reserved(mm, v->end, end))
        return false;
    const struct mm_vma *next = mm_vma_find_ge(&mm->vmas, v->end);
    return !next || next->start >= end;
}

/* Linux's checks on the VMA at old_addr when the call maps anything new (it
 * grows or moves): no private duplication, and the part that moves must lie
 * in that VMA (a shrink may cross VMAs: its tail is only unmapped). */
static int64_t check_vma(const struct mm_vma *v, uint64_t old_addr, uint64_t old_len,
                         uint64_t new_len, bool to)
{
    if (!to && new_len <= old_len)
        return 0;
    if (old_len == 0 && !v->obj->shared)
        return -ABI_EINVAL;
    uint64_t moved = old_len > new_len ? new_len : old_len;
    if (moved > v->end - old_addr)
        return -ABI_EFAULT;
    return 0;
}

/* MREMAP_FIXED and/or MREMAP_DONTUNMAP: the mapping goes to new_addr (a
 * hint without FIXED). */
static int64_t remap_to(struct mm *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
                        uint64_t new_len, unsigned f)
{
    if (f & ABI_MREMAP_FIXED) {
        int64_t a = mm_unmapped_area(mm, new_addr, new_len, ABI_MAP_FIXED);
        if (a < 0)
            return a;
        int r = mm_unmap_range(mm, new_addr, new_addr + new_len);
        if (r)
            return r;
    }
    if (old_len > new_len) {
        int64_t r = mm_munmap(mm, old_addr + new_len, old_len - new_len);
        if (r)
            return r;
        old_len = new_len;
    }
    if (!(f & ABI_MREMAP_FIXED)) {
        int64_t a = mm_unmapped_area(mm, new_addr, new_len, 0);
        if (a < 0)
            return a;
        new_addr = (uint64_t)a;
    }
    return move_range(mm, old_addr, old_len, new_addr, new_len, f & ABI_MREMAP_DONTUNMAP);
}

/* MREMAP_FIXED without resizing may span several VMAs (Linux 6.17): each
 * moves to the same offset from new_addr, so gaps between them are kept
 * (and the target's own mappings in those gaps stay). The range must start
 * in a VMA. */
static int64_t remap_move(struct mm *mm, uint64_t old_addr, uint64_t len, uint64_t new_addr,
                          unsigned f)
{
    uint64_t end = old_addr + len;
    bool seen = false;
    for (uint64_t cur = old_addr; cur < end;) {
        struct mm_vma *v = mm_vma_find_ge(&mm->vmas, cur);
        if (!v || v->start >= end)
            break;
        if (!seen && v->start > old_addr)
            return -ABI_EFAULT;
        uint64_t s = v->start > cur ? v->start : cur;
        uint64_t e = v->end < end ? v->end : end;
        int64_t r = remap_to(mm, s, e - s, new_addr + (s - old_addr), e - s, f);
        if (r < 0)
            return r;
        seen = true;
        cur = e;
    }
    return seen ? (int64_t)new_addr : -ABI_EFAULT;
}

int64_t mm_mremap(struct mm *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags,
                  uint64_t new_addr)
{
    unsigned f = (unsigned)flags;
    if (f & ~(unsigned)(ABI_MREMAP_MAYMOVE | ABI_MREMAP_FIXED | ABI_MREMAP_DONTUNMAP))
        return -ABI_EINVAL;
    if (old_addr % MM_PAGE_SIZE)
        return -ABI_EINVAL;
    old_len = mm_page_up(old_len);
    new_len = mm_page_up(new_len);
    if (new_len == 0 || new_len > MM_TASK_SIZE)
        return -ABI_EINVAL;
    bool to = f & (ABI_MREMAP_FIXED | ABI_MREMAP_DONTUNMAP);
    if (to) {
        if (new_addr > MM_TASK_SIZE - new_len || new_addr % MM_PAGE_SIZE)
            return -ABI_EINVAL;
        if (!(f & ABI_MREMAP_MAYMOVE))
            return -ABI_EINVAL;
        if ((f & ABI_MREMAP_DONTUNMAP) && old_len != new_len)
            return -ABI_EINVAL;
        if (old_addr + old_len > new_addr && new_addr + new_len > old_addr)
            return -ABI_EINVAL;
    }
    if ((f & ABI_MREMAP_FIXED) && old_len == new_len)
        return remap_move(mm, old_addr, old_len, new_addr, f);

    struct mm_vma *v = mm_vma_find(&mm->vmas, old_addr);
    if (!v)
        return -ABI_EFAULT;
    int64_t r = check_vma(v, old_addr, old_len, new_len, to);
    if (r)
        return r;
    /* Growth of charged memory is charged; DONTUNMAP keeps the old range,
     * so all of the new one is. A shared object's size does not grow. */
    uint64_t charge = (f & ABI_MREMAP_DONTUNMAP) ? new_len
                      : new_len > old_len        ? new_len - old_len
                                                 : 0;
    if (!v->obj->shared && mm_overcommits(mm, charge, v->prot, v->flags))
        return -ABI_ENOMEM;
    if (to)
        return remap_to(mm, old_addr, old_len, new_addr, new_len, f);

    if (old_len > new_len) {
        /* munmap's checks catch an old_len running off the address space. */
        r = mm_munmap(mm, old_addr + new_len, old_len - new_len);
        return r ? r : (int64_t)old_addr;
    }
    if (old_len == new_len)
        return (int64_t)old_addr;
    uint64_t delta = new_len - old_len;
    if (old_len == v->end - old_addr && expandable(mm, v, delta)) {
        r = mm_grow_vma(mm, v, delta);
        return r ? r : (int64_t)old_addr;
    }
    if (!(f & ABI_MREMAP_MAYMOVE))
        return -ABI_ENOMEM;
    int64_t a = mm_unmapped_area(mm, 0, new_len, 0);
    if (a < 0)
        return a;
    return move_range(mm, old_addr, old_len, (uint64_t)a, new_len, false);
}
