/* mmap, munmap, mprotect, brk and the loader's fixed mappings, with Linux's
 * argument checks in Linux's order (checked against a native 6.x kernel). */
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm_internal.h"

/* Flags mmap has always accepted; MAP_SHARED_VALIDATE rejects the rest. */
#define LEGACY_MAP_MASK                                                                            \
    ((unsigned)(ABI_MAP_SHARED | ABI_MAP_PRIVATE | ABI_MAP_FIXED | ABI_MAP_ANONYMOUS |             \
                ABI_MAP_DENYWRITE | ABI_MAP_EXECUTABLE | ABI_MAP_UNINITIALIZED |                   \
                ABI_MAP_GROWSDOWN | ABI_MAP_LOCKED | ABI_MAP_NORESERVE | ABI_MAP_POPULATE |        \
                ABI_MAP_NONBLOCK | ABI_MAP_STACK | ABI_MAP_HUGETLB | ABI_MAP_32BIT) |              \
     ((unsigned)ABI_MAP_HUGE_MASK << ABI_MAP_HUGE_SHIFT))

#define PROT_BITS (ABI_PROT_READ | ABI_PROT_WRITE | ABI_PROT_EXEC)

int64_t mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, int fd,
                uint64_t off)
{
    (void)fd;
    return mm_mmap_file(mm, addr, len, prot, flags, NULL, off);
}

/* Linux's checks of a file mapping, in its order; the VMA flags for it. */
static int file_checks(const struct mm_file_desc *file, unsigned f, int prot, uint64_t off,
                       uint64_t alen, int *vflags)
{
    /* The largest offset a regular file may have (MAX_LFS_FILESIZE). */
    const uint64_t max = INT64_MAX;
    if (off >= max || max - off < alen)
        return -ABI_EOVERFLOW;
    switch (f & ABI_MAP_TYPE) {
    case ABI_MAP_SHARED_VALIDATE:
        if (f & ~LEGACY_MAP_MASK)
            return -ABI_EOPNOTSUPP;
        /* fallthrough */
    case ABI_MAP_SHARED:
        if ((prot & ABI_PROT_WRITE) && !file->writable)
            return -ABI_EACCES;
        *vflags |= MM_VMA_SHARED;
        if (!file->writable)
            *vflags |= MM_VMA_NOMAYWRITE;
        /* fallthrough */
    case ABI_MAP_PRIVATE:
        if (!file->readable)
            return -ABI_EACCES;
        if (file->noexec) {
            if (prot & ABI_PROT_EXEC)
                return -ABI_EPERM;
            *vflags |= MM_VMA_NOMAYEXEC;
        }
        if (!file->mappable || ((*vflags & MM_VMA_SHARED) && !file->pages))
            return -ABI_ENODEV;
        if (f & ABI_MAP_GROWSDOWN)
            return -ABI_EINVAL;
        return 0;
    default:
        return -ABI_EINVAL;
    }
}

static int64_t map_file(struct mm *mm, uint64_t start, uint64_t end, int prot, unsigned f,
                        const struct mm_file_desc *file, uint64_t off)
{
    int vflags = 0;
    int r = file_checks(file, f, prot, off, end - start, &vflags);
    if (r)
        return r;
    if (mm->unregistered)
        return -ABI_ENOMEM;
    if (f & ABI_MAP_NORESERVE)
        vflags |= MM_VMA_NORESERVE;
    /* Only private writable memory is charged: shared pages are the file's. */
    if (!(vflags & MM_VMA_SHARED) && mm_overcommits(mm, end - start, prot, vflags))
        return -ABI_ENOMEM;
    struct mm_file *mf = mm_file_new(file);
    if (!mf)
        return -ABI_ENOMEM;
    bool shared = vflags & MM_VMA_SHARED;
    /* A private object's offsets are addresses, as for anonymous memory;
     * a shared one's are the file's. */
    uint64_t obj_off = shared ? off : start;
    struct mm_memobj *o =
        mm_memobj_create_file(mm->mf, shared, start, end - start, mf, off - start);
    mm_file_put(mf);
    if (!o)
        return -ABI_ENOMEM;
    if (f & ABI_MAP_FIXED) {
        r = mm_unmap_range(mm, start, end);
        if (r) {
            mm_memobj_put(o);
            return r;
        }
    }
    r = mm_map_obj(mm, start, end, prot & PROT_BITS, vflags, file->name, o, obj_off);
    if (r)
        return r;
    if ((f & ABI_MAP_POPULATE || f & ABI_MAP_LOCKED) && !(f & ABI_MAP_NONBLOCK))
        (void)mm_populate(mm, start, end, !shared && (prot & ABI_PROT_WRITE));
    return (int64_t)start;
}

int64_t mm_mmap_file(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
                     const struct mm_file_desc *file, uint64_t off)
{
    unsigned f = (unsigned)flags;
    if (off % MM_PAGE_SIZE)
        return -ABI_EINVAL;
    if (len == 0)
        return -ABI_EINVAL;
    if (f & ABI_MAP_FIXED_NOREPLACE)
        f |= ABI_MAP_FIXED;
    if (!(f & ABI_MAP_FIXED)) {
        addr = mm_page_down(addr);
        if (addr && addr < mm->min_addr)
            addr = mm->min_addr;
    }
    uint64_t alen = mm_page_up(len);
    if (alen == 0)
        return -ABI_ENOMEM;

    int64_t a = -1;
    /* A length the padding would wrap has no room anyway: ENOMEM below. */
    if (file && (f & ABI_MAP_TYPE) == ABI_MAP_PRIVATE && !(f & (ABI_MAP_FIXED | ABI_MAP_32BIT)) &&
        alen < UINT64_MAX - MM_CHUNK_SIZE && !(addr && mm_hint_usable(mm, addr, alen))) {
        /* An address congruent to the offset modulo the chunk size, so that
         * every process's mapping of the file shares its chunks (fcache.c). */
        int64_t big = mm_unmapped_area(mm, 0, alen + MM_CHUNK_SIZE - MM_PAGE_SIZE, 0);
        if (big >= 0)
            a = big + (int64_t)((off - (uint64_t)big) & (MM_CHUNK_SIZE - 1));
    }
    if (a < 0)
        a = mm_unmapped_area(mm, addr, alen, (int)(f & (ABI_MAP_FIXED | ABI_MAP_32BIT)));
    if (a < 0)
        return a;
    uint64_t start = (uint64_t)a, end = start + alen;
    if (f & ABI_MAP_FIXED_NOREPLACE) {
        struct mm_vma *v = mm_vma_find_ge(&mm->vmas, start);
        if (v && v->start < end)
            return -ABI_EEXIST;
    }

    unsigned type = f & ABI_MAP_TYPE;
    if (!(f & ABI_MAP_ANONYMOUS) && !file) {
        switch (type) {
        case ABI_MAP_SHARED_VALIDATE:
            if (f & ~LEGACY_MAP_MASK)
                return -ABI_EOPNOTSUPP;
            break;
        case ABI_MAP_SHARED:
        case ABI_MAP_PRIVATE:
            break;
        default:
            return -ABI_EINVAL;
        }
        return -ABI_ENODEV; /* the caller has no file to map */
    }
    if (!(f & ABI_MAP_ANONYMOUS))
        return map_file(mm, start, end, prot, f, file, off);

    int vflags = 0;
    switch (type) {
    case ABI_MAP_SHARED:
        if (f & ABI_MAP_GROWSDOWN)
            return -ABI_EINVAL;
        vflags |= MM_VMA_SHARED;
        break;
    case ABI_MAP_PRIVATE:
        break;
    default:
        /* MAP_SHARED_VALIDATE included: Linux takes it for files only. */
        return -ABI_EINVAL;
    }
    /* No huge page pool: Linux says ENOMEM when the pool is empty. */
    if (f & ABI_MAP_HUGETLB)
        return -ABI_ENOMEM;
    if (f & ABI_MAP_GROWSDOWN)
        vflags |= MM_VMA_GROWSDOWN;
    if (f & ABI_MAP_NORESERVE)
        vflags |= MM_VMA_NORESERVE;
    /* Before MAP_FIXED removes anything: a refused mapping leaves the old. */
    if (mm_overcommits(mm, alen, prot, vflags))
        return -ABI_ENOMEM;

    if (f & ABI_MAP_FIXED) {
        int r = mm_unmap_range(mm, start, end);
        if (r)
            return r;
    }
    int r = mm_map_anon(mm, start, end, prot & PROT_BITS, vflags, NULL, start);
    if (r)
        return r;
    /* Linux populates writable private memory for writing. Failures are
     * ignored, as by Linux. */
    if ((f & ABI_MAP_POPULATE || f & ABI_MAP_LOCKED) && !(f & ABI_MAP_NONBLOCK))
        (void)mm_populate(mm, start, end, !(vflags & MM_VMA_SHARED) && (prot & ABI_PROT_WRITE));
    return (int64_t)start;
}

int64_t mm_map_fixed(struct mm *mm, uint64_t addr, uint64_t len, int prot, int vma_flags,
                     const char *name)
{
    if (addr % MM_PAGE_SIZE || len == 0)
        return -ABI_EINVAL;
    uint64_t alen = mm_page_up(len);
    if (alen == 0 || alen > mm->max_addr || addr > mm->max_addr - alen)
        return -ABI_ENOMEM;
    if (mm_range_reserved(mm, addr, addr + alen))
        return -ABI_ENOMEM;
    int r = mm_unmap_range(mm, addr, addr + alen);
    if (!r)
        r = mm_map_anon(mm, addr, addr + alen, prot & PROT_BITS,
                        vma_flags & (MM_VMA_SHARED | MM_VMA_GROWSDOWN | MM_VMA_NORESERVE), name,
                        addr);
    return r ? r : (int64_t)addr;
}

int64_t mm_munmap(struct mm *mm, uint64_t addr, uint64_t len)
{
    if (addr % MM_PAGE_SIZE || addr > MM_TASK_SIZE || len > MM_TASK_SIZE - addr)
        return -ABI_EINVAL;
    len = mm_page_up(len);
    if (len == 0)
        return -ABI_EINVAL;
    return mm_unmap_range(mm, addr, addr + len);
}

int mm_change_vma(struct mm *mm, uint64_t start, uint64_t end, int prot, int vma_flags)
{
    struct mm_vma *v = mm_vma_find(&mm->vmas, start);
    if (v->prot == prot && v->flags == vma_flags)
        return 0;
    size_t first, last;
    int r = mm_vma_carve(&mm->vmas, start, end, &first, &last);
    if (r)
        return r;
    v = mm->vmas.v[first];
    int old = v->prot;
    v->prot = prot;
    v->flags = vma_flags;
    if (v->in_stub && mm->as && (old & ~prot)) {
        /* platform_as_protect sets protections outright, so it never gets
         * PROT_WRITE: that would make writable the pages kept read-only on
         * purpose (copy-on-write, never written). Written pages refault to
         * get it back. Write-only stays readable, as x86 has it anyway.
         * The stub maps sparsely and a host mprotect stops at the first
         * hole: a failure falls back to dropping the mappings. */
        int pp = (prot & (ABI_PROT_READ | ABI_PROT_WRITE) ? PLATFORM_PROT_READ : 0) |
                 (prot & ABI_PROT_EXEC ? PLATFORM_PROT_EXEC : 0);
        if (prot == ABI_PROT_NONE || platform_as_protect(mm->as, start, end - start, pp)) {
            mm_stub_unmap(mm, start, end);
            v->in_stub = false;
        }
    }
    mm_merge_vma(mm, first);
    return 0;
}

int64_t mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, int prot)
{
    int grows = prot & (ABI_PROT_GROWSDOWN | ABI_PROT_GROWSUP);
    prot &= ~grows;
    if (grows == (ABI_PROT_GROWSDOWN | ABI_PROT_GROWSUP))
        return -ABI_EINVAL;
    if (addr % MM_PAGE_SIZE)
        return -ABI_EINVAL;
    if (len == 0)
        return 0;
    len = mm_page_up(len);
    uint64_t end = addr + len;
    if (end <= addr)
        return -ABI_ENOMEM;
    if (prot & ~(PROT_BITS | ABI_PROT_SEM))
        return -ABI_EINVAL;
    prot &= PROT_BITS;

    struct mm_vma *v = mm_vma_find_ge(&mm->vmas, addr);
    if (!v || v->start >= end)
        return -ABI_ENOMEM;
    if (grows & ABI_PROT_GROWSDOWN) {
        addr = v->start;
        if (!(v->flags & MM_VMA_GROWSDOWN))
            return -ABI_EINVAL;
    } else {
        if (v->start > addr)
            return -ABI_ENOMEM;
        /* x86 has no upward-growing mappings. */
        if (grows & ABI_PROT_GROWSUP)
            return -ABI_EINVAL;
    }
    /* Like Linux, VMAs before a hole keep their new protections. */
    for (uint64_t cur = addr; cur < end;) {
        v = mm_vma_find(&mm->vmas, cur);
        if (!v)
            return -ABI_ENOMEM;
        uint64_t seg_end = v->end < end ? v->end : end;
        if (((prot & ABI_PROT_WRITE) && (v->flags & MM_VMA_NOMAYWRITE)) ||
            ((prot & ABI_PROT_EXEC) && (v->flags & MM_VMA_NOMAYEXEC)))
            return -ABI_EACCES;
        /* Private memory becoming writable is charged, as by Linux. */
        if (!(v->prot & ABI_PROT_WRITE) && !(v->flags & MM_VMA_SHARED) &&
            mm_overcommits(mm, seg_end - cur, prot, v->flags))
            return -ABI_ENOMEM;
        int r = mm_change_vma(mm, cur, seg_end, prot, v->flags);
        if (r)
            return r;
        cur = seg_end;
    }
    return 0;
}

int64_t mm_brk(struct mm *mm, uint64_t addr)
{
    uint64_t cur = mm->brk;
    if (addr < mm->brk_start || addr > mm->max_addr)
        return (int64_t)cur;
    uint64_t newbrk = mm_page_up(addr), oldbrk = mm_page_up(cur);
    if (newbrk == oldbrk) {
        mm->brk = addr;
        return (int64_t)addr;
    }
    if (addr <= cur) {
        if (mm_unmap_range(mm, newbrk, oldbrk))
            return (int64_t)cur;
        mm->brk = addr;
        return (int64_t)addr;
    }
    /* Linux keeps a page (and a stack's guard gap) between the break and
     * the next mapping. */
    struct mm_vma *next = mm_vma_find_ge(&mm->vmas, oldbrk);
    if (next) {
        uint64_t gap = next->start;
        if (next->flags & MM_VMA_GROWSDOWN)
            gap = gap > MM_STACK_GUARD_GAP ? gap - MM_STACK_GUARD_GAP : 0;
        if (newbrk + MM_PAGE_SIZE > gap)
            return (int64_t)cur;
    }
    if (newbrk > mm->max_addr || mm_range_reserved(mm, oldbrk, newbrk) ||
        mm_overcommits(mm, newbrk - oldbrk, ABI_PROT_READ | ABI_PROT_WRITE, 0))
        return (int64_t)cur;
    if (mm_map_anon(mm, oldbrk, newbrk, ABI_PROT_READ | ABI_PROT_WRITE, 0, "[heap]", oldbrk))
        return (int64_t)cur;
    mm->brk = addr;
    return (int64_t)addr;
}
