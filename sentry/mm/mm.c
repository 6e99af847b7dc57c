/* Address spaces: lifetime, layout, and where new mappings go. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"

/* Linux keeps at least this much between the top of the address space and
 * mmap_base (room for an 8 MiB stack plus its randomisation). */
#define MM_MIN_STACK_GAP (128ULL << 20)
/* MAP_32BIT places mappings in [1 GiB, 2 GiB) on x86-64. */
#define MM_32BIT_LO 0x40000000ULL
#define MM_32BIT_HI 0x80000000ULL

int mm_create(struct mm_memfile *mf, struct platform *p, struct platform_as *as, struct mm **out)
{
    struct mm *mm = calloc(1, sizeof(*mm));
    if (!mm)
        return -ABI_ENOMEM;
    mm->mf = mf;
    mm->as = as;
    mm->min_addr = MM_MIN_ADDR;
    mm->max_addr = p ? mm_page_down(platform_max_addr(p)) : MM_DEFAULT_MAX_ADDR;
    if (p) {
        size_t n = platform_reserved(p, NULL, 0);
        if (n) {
            mm->reserved = calloc(n, sizeof(*mm->reserved));
            if (!mm->reserved) {
                free(mm);
                return -ABI_ENOMEM;
            }
            mm->nreserved = platform_reserved(p, mm->reserved, n);
            if (mm->nreserved > n)
                mm->nreserved = n;
        }
    }
    mm->mmap_base = mm->max_addr > MM_MIN_STACK_GAP + mm->min_addr ? mm->max_addr - MM_MIN_STACK_GAP
                                                                   : mm->max_addr;
    mm->stack_limit = MM_DEFAULT_STACK_LIMIT;
    mm_vma_set_init(&mm->vmas);
    mm_registry_add(mm);
    *out = mm;
    return 0;
}

void mm_destroy(struct mm *mm)
{
    if (!mm)
        return;
    mm_registry_remove(mm);
    mm_pending_clear(mm);
    mm_vma_set_fini(&mm->vmas);
    free(mm->reserved);
    free(mm);
}

void mm_set_mmap_base(struct mm *mm, uint64_t top)
{
    top = mm_page_down(top);
    if (top > mm->max_addr)
        top = mm->max_addr;
    mm->mmap_base = top;
}

void mm_set_brk_start(struct mm *mm, uint64_t start)
{
    mm->brk_start = mm->brk = start;
}

void mm_set_stack_limit(struct mm *mm, uint64_t bytes)
{
    mm->stack_limit = bytes;
}

uint64_t mm_max_addr(const struct mm *mm)
{
    return mm->max_addr;
}

int mm_for_each_vma(struct mm *mm, int (*fn)(void *arg, const struct mm_vma_info *v), void *arg)
{
    for (size_t i = 0; i < mm->vmas.n; i++) {
        const struct mm_vma *v = mm->vmas.v[i];
        struct mm_vma_info info = {
            .start = v->start, .end = v->end, .prot = v->prot, .flags = v->flags, .name = v->name};
        const struct mm_file *f = v->obj->file;
        if (f) {
            info.name = f->name;
            info.pgoff = v->off + v->obj->file_delta;
            info.dev = f->dev;
            info.ino = f->ino;
        }
        int r = fn(arg, &info);
        if (r)
            return r;
    }
    return 0;
}

bool mm_overcommits(const struct mm *mm, uint64_t len, int prot, int vma_flags)
{
    if (vma_flags & MM_VMA_NORESERVE)
        return false;
    if (!(vma_flags & MM_VMA_SHARED) && !(prot & ABI_PROT_WRITE))
        return false;
    return len > mm_memfile_max(mm->mf);
}

bool mm_prot_allows(int prot, bool write, bool exec)
{
    if (write && !(prot & ABI_PROT_WRITE))
        return false;
    if (exec && !(prot & ABI_PROT_EXEC))
        return false;
    return (prot & (ABI_PROT_READ | ABI_PROT_WRITE | ABI_PROT_EXEC)) != 0;
}

struct mm_gap_req mm_gap_req(const struct mm *mm, uint64_t lo, uint64_t hi, uint64_t len,
                             bool topdown)
{
    return (struct mm_gap_req){
        .lo = lo,
        .hi = hi,
        .len = len,
        .topdown = topdown,
        .guard = MM_STACK_GUARD_GAP,
        .reserved = mm->reserved,
        .nreserved = mm->nreserved,
    };
}

bool mm_range_reserved(const struct mm *mm, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < mm->nreserved; i++)
        if (mm->reserved[i].start < end && mm->reserved[i].end > start)
            return true;
    return false;
}

/* A hint is taken when the whole range is free, guard gaps included. */
bool mm_hint_usable(struct mm *mm, uint64_t hint, uint64_t len)
{
    if (hint < mm->min_addr || hint > mm->max_addr - len)
        return false;
    struct mm_gap_req q = mm_gap_req(mm, 0, 0, len, true);
    return mm_vma_range_free(&mm->vmas, &q, hint);
}

int64_t mm_unmapped_area(struct mm *mm, uint64_t hint, uint64_t len, int map_flags)
{
    if (len == 0 || len > mm->max_addr)
        return -ABI_ENOMEM;
    if (map_flags & ABI_MAP_FIXED) {
        if (hint > mm->max_addr - len)
            return -ABI_ENOMEM;
        if (hint % MM_PAGE_SIZE)
            return -ABI_EINVAL;
        if (mm_range_reserved(mm, hint, hint + len))
            return -ABI_ENOMEM;
        if (hint < mm->min_addr)
            return -ABI_EPERM;
        return (int64_t)hint;
    }
    hint = mm_page_down(hint);
    if (hint && mm_hint_usable(mm, hint, len))
        return (int64_t)hint;

    uint64_t addr;
    struct mm_gap_req q;
    if (map_flags & ABI_MAP_32BIT) {
        q = mm_gap_req(mm, MM_32BIT_LO, MM_32BIT_HI, len, false);
        if (mm_vma_find_gap(&mm->vmas, &q, &addr) == 0)
            return (int64_t)addr;
        return -ABI_ENOMEM;
    }
    uint64_t base = mm->mmap_base < mm->min_addr ? mm->min_addr : mm->mmap_base;
    q = mm_gap_req(mm, mm->min_addr, base, len, true);
    if (mm_vma_find_gap(&mm->vmas, &q, &addr) == 0)
        return (int64_t)addr;
    /* Linux falls back to a bottom-up search from a third of the space. */
    uint64_t legacy = mm_page_down(mm->max_addr / 3);
    q = mm_gap_req(mm, legacy < mm->min_addr ? mm->min_addr : legacy, mm->max_addr, len, false);
    if (mm_vma_find_gap(&mm->vmas, &q, &addr) == 0)
        return (int64_t)addr;
    return -ABI_ENOMEM;
}
