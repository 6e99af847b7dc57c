/* Guest faults: find (or grow) the VMA, check the access, give the chunk
 * backing and map it into the stub. */
#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/mm/mm_internal.h"

/* Grows the GROWSDOWN VMA at index i down to the page of addr, under Linux's
 * rules: not below mmap_min_addr, not within the guard gap above an
 * accessible mapping, not beyond the stack limit. */
static struct mm_vma *grow_stack(struct mm *mm, size_t i, uint64_t addr)
{
    struct mm_vma *v = mm->vmas.v[i];
    uint64_t start = mm_page_down(addr);
    if (start < mm->min_addr)
        return NULL;
    if (i > 0) {
        const struct mm_vma *prev = mm->vmas.v[i - 1];
        if (!(prev->flags & MM_VMA_GROWSDOWN) && prev->prot != ABI_PROT_NONE &&
            start - prev->end < MM_STACK_GUARD_GAP)
            return NULL;
    }
    if (v->end - start > mm->stack_limit)
        return NULL;
    uint64_t delta = v->start - start;
    if (delta <= v->off && mm_take_offsets(mm, v->obj, v->off - delta, delta)) {
        v->start = start;
        v->off -= delta;
        return v;
    }
    /* The offsets Linux would give the grown part, if they exist. */
    uint64_t off = v->off >= delta ? v->off - delta : start;
    if (mm_map_anon(mm, start, v->start, v->prot, v->flags, v->name, off))
        return NULL;
    return mm_vma_find(&mm->vmas, addr);
}

struct mm_vma *mm_vma_for_access(struct mm *mm, uint64_t addr)
{
    if (addr >= mm->max_addr)
        return NULL;
    size_t i = mm_vma_index(&mm->vmas, addr);
    if (i == mm->vmas.n)
        return NULL;
    struct mm_vma *v = mm->vmas.v[i];
    if (v->start <= addr)
        return v;
    if (!(v->flags & MM_VMA_GROWSDOWN))
        return NULL;
    return grow_stack(mm, i, addr);
}

struct mm_chunk *mm_backing(struct mm *mm, struct mm_vma *v, uint64_t addr, bool write, int *err)
{
    uint64_t off = v->off + (addr - v->start);
    /* As on Linux, a shared mapping grown by mremap ends where the memory
     * created by mmap ends: beyond is SIGBUS. */
    if (v->obj->shared && off >= v->obj->size) {
        *err = -ABI_EIO;
        return NULL;
    }
    if (write && !v->obj->shared && !v->obj->written)
        mm_share_anon(mm, v);
    bool replaced = false;
    /* Writes through a shared object never copy: its chunks have one owner. */
    struct mm_chunk *c = mm_memobj_chunk(v->obj, off, write && !v->obj->shared, &replaced);
    if (!c)
        *err = -ABI_ENOMEM;
    else if (replaced)
        mm_stub_drop_chunk(mm, v->obj, off - off % MM_CHUNK_SIZE);
    return c;
}

static int platform_prot(int prot)
{
    int p = 0;
    if (prot & ABI_PROT_READ)
        p |= PLATFORM_PROT_READ;
    if (prot & ABI_PROT_WRITE)
        p |= PLATFORM_PROT_WRITE;
    if (prot & ABI_PROT_EXEC)
        p |= PLATFORM_PROT_EXEC;
    return p;
}

int mm_handle_fault(struct mm *mm, uint64_t addr, bool write, bool exec, int *si_code)
{
    struct mm_vma *v = mm_vma_for_access(mm, addr);
    if (!v) {
        *si_code = ABI_SEGV_MAPERR;
        return -ABI_EFAULT;
    }
    if (!mm_prot_allows(v->prot, write, exec)) {
        *si_code = ABI_SEGV_ACCERR;
        return -ABI_EFAULT;
    }
    int err;
    struct mm_chunk *c = mm_backing(mm, v, addr, write, &err);
    if (!c) {
        if (err == -ABI_EIO)
            *si_code = ABI_BUS_ADRERR;
        return err;
    }
    if (!mm->as)
        return 0;

    /* Map the whole chunk as far as this VMA covers it: one call for up to
     * 64 KiB of neighbouring pages the guest will likely touch next. */
    uint64_t len = v->end - v->start;
    uint64_t off = v->off + (addr - v->start);
    uint64_t cs = off - off % MM_CHUNK_SIZE, ce = cs + MM_CHUNK_SIZE;
    uint64_t s = cs > v->off ? cs : v->off;
    uint64_t e = ce < v->off + len ? ce : v->off + len;
    if (v->obj->shared && e > v->obj->size)
        e = v->obj->size;
    int prot = v->prot;
    /* Copy-on-write: stay read-only until this object owns the chunk. And
     * as Linux maps its zero page, stay read-only until the object is first
     * written, so that its first write is seen (mm_share_anon). */
    if ((prot & ABI_PROT_WRITE) && (c->refs > 1 || (!v->obj->shared && !v->obj->written)))
        prot = (prot & ~ABI_PROT_WRITE) | ABI_PROT_READ; /* x86: writable means readable */
    int r = platform_as_map(mm->as, v->start + (s - v->off), e - s, platform_prot(prot),
                            c->file_off + (s - cs));
    if (r)
        return r;
    v->in_stub = true;
    return 0;
}
