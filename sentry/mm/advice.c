/* madvise, mincore and msync: calls that inspect or advise on existing
 * mappings. Argument checks and errors follow Linux 6.x, including its habit
 * of acting on the mapped parts of a range before reporting ENOMEM for the
 * holes. */
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm_internal.h"

static bool advice_known(int advice)
{
    switch (advice) {
    case ABI_MADV_NORMAL:
    case ABI_MADV_RANDOM:
    case ABI_MADV_SEQUENTIAL:
    case ABI_MADV_WILLNEED:
    case ABI_MADV_DONTNEED:
    case ABI_MADV_FREE:
    case ABI_MADV_REMOVE:
    case ABI_MADV_DONTFORK:
    case ABI_MADV_DOFORK:
    case ABI_MADV_MERGEABLE:
    case ABI_MADV_UNMERGEABLE:
    case ABI_MADV_HUGEPAGE:
    case ABI_MADV_NOHUGEPAGE:
    case ABI_MADV_DONTDUMP:
    case ABI_MADV_DODUMP:
    case ABI_MADV_WIPEONFORK:
    case ABI_MADV_KEEPONFORK:
    case ABI_MADV_COLD:
    case ABI_MADV_PAGEOUT:
    case ABI_MADV_POPULATE_READ:
    case ABI_MADV_POPULATE_WRITE:
    case ABI_MADV_DONTNEED_LOCKED:
    case ABI_MADV_COLLAPSE:
    case ABI_MADV_HWPOISON:
    case ABI_MADV_SOFT_OFFLINE:
        return true;
    default:
        return false;
    }
}

/* The pages of [start, end) in v are no longer needed: private memory reads
 * as zero from now on; shared memory keeps its contents (Linux only drops
 * the page table entries, which refill from the shared pages). */
static void drop_pages(struct mm *mm, struct mm_vma *v, uint64_t start, uint64_t end)
{
    if (v->obj->shared)
        return;
    /* Before the chunks go back to the memory file. */
    if (v->in_stub)
        mm_stub_unmap(mm, start, end);
    uint64_t off = v->off + (start - v->start);
    if (mm_memobj_discard(v->obj, off, end - start))
        mm_stub_drop_edges(mm, v->obj, off, end - start);
}

static int set_flag(struct mm *mm, struct mm_vma *v, uint64_t start, uint64_t end, int flag,
                    bool on)
{
    int flags = on ? v->flags | flag : v->flags & ~flag;
    return mm_change_vma(mm, start, end, v->prot, flags);
}

/* Applies advice to [start, end), which lies inside v. */
static int advise(struct mm *mm, struct mm_vma *v, uint64_t start, uint64_t end, int advice)
{
    bool shared = v->obj->shared;
    switch (advice) {
    case ABI_MADV_DONTNEED:
    case ABI_MADV_DONTNEED_LOCKED:
        drop_pages(mm, v, start, end);
        return 0;
    case ABI_MADV_FREE:
        /* Lazy freeing may keep or zero the pages; zeroing is simplest.
         * Linux takes it for anonymous memory only. */
        if (shared || v->obj->file)
            return -ABI_EINVAL;
        drop_pages(mm, v, start, end);
        return 0;
    case ABI_MADV_REMOVE:
        /* Linux wants a shared mapping that may be written: anonymous shared
         * memory always may, whatever its current protections. */
        if (!shared)
            return -ABI_EINVAL;
        /* Punching holes in a mapped file is not supported (Linux says so
         * for filesystems without FALLOC_FL_PUNCH_HOLE). */
        if (v->obj->file)
            return -ABI_EOPNOTSUPP;
        /* Every mapper sees zeros; chunks stay, as other VMAs map them. */
        mm_memobj_zero(v->obj, v->off + (start - v->start), end - start);
        return 0;
    case ABI_MADV_DONTFORK:
    case ABI_MADV_DOFORK:
        return set_flag(mm, v, start, end, MM_VMA_DONTFORK, advice == ABI_MADV_DONTFORK);
    case ABI_MADV_WIPEONFORK:
        /* Private anonymous memory only, as on Linux: a file mapping would
         * have to show the file again, not zeros. */
        if (shared || v->obj->file)
            return -ABI_EINVAL;
        return set_flag(mm, v, start, end, MM_VMA_WIPEONFORK, true);
    case ABI_MADV_KEEPONFORK:
        return set_flag(mm, v, start, end, MM_VMA_WIPEONFORK, false);
    case ABI_MADV_DONTDUMP:
    case ABI_MADV_DODUMP:
        return set_flag(mm, v, start, end, MM_VMA_DONTDUMP, advice == ABI_MADV_DONTDUMP);
    case ABI_MADV_POPULATE_READ:
        /* The VMA must say readable: x86's "writable implies readable"
         * does not count here. */
        if (!(v->prot & ABI_PROT_READ))
            return -ABI_EINVAL;
        return mm_populate(mm, start, end, false);
    case ABI_MADV_POPULATE_WRITE:
        if (!(v->prot & ABI_PROT_WRITE))
            return -ABI_EINVAL;
        return mm_populate(mm, start, end, true);
    case ABI_MADV_COLLAPSE:
        /* There are no huge pages to collapse into. */
        return -ABI_EINVAL;
    default:
        /* Paging and huge page hints: there is nothing to tune. */
        return 0;
    }
}

int64_t mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice)
{
    if (!advice_known(advice))
        return -ABI_EINVAL;
    if (addr % MM_PAGE_SIZE)
        return -ABI_EINVAL;
    uint64_t alen = mm_page_up(len);
    if (len && !alen)
        return -ABI_EINVAL;
    uint64_t end = addr + alen;
    if (end < addr)
        return -ABI_EINVAL;
    if (end == addr)
        return 0;
    /* Memory failure injection needs CAP_SYS_ADMIN, which guests lack. */
    if (advice == ABI_MADV_HWPOISON || advice == ABI_MADV_SOFT_OFFLINE)
        return -ABI_EPERM;

    bool hole = false;
    for (uint64_t cur = addr; cur < end;) {
        struct mm_vma *v = mm_vma_find_ge(&mm->vmas, cur);
        if (!v || v->start >= end) {
            hole = true;
            break;
        }
        if (v->start > cur) {
            /* Populating stops at the first hole, the others skip it. */
            if (advice == ABI_MADV_POPULATE_READ || advice == ABI_MADV_POPULATE_WRITE)
                return -ABI_ENOMEM;
            hole = true;
            cur = v->start;
        }
        uint64_t seg_end = v->end < end ? v->end : end;
        int r = advise(mm, v, cur, seg_end, advice);
        if (r)
            return r;
        cur = seg_end;
    }
    return hole ? -ABI_ENOMEM : 0;
}

/* Residency of n pages of v from addr, one byte each. */
static void residency(struct mm *mm, const struct mm_vma *v, uint64_t addr, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n;) {
        uint64_t off = v->off + (addr + i * MM_PAGE_SIZE - v->start);
        size_t run = (size_t)((MM_CHUNK_SIZE - off % MM_CHUNK_SIZE) / MM_PAGE_SIZE);
        if (run > n - i)
            run = n - i;
        const struct mm_chunk *c = mm_memobj_lookup(v->obj, off);
        if (!c || mm_memfile_resident(mm->mf, c->file_off + off % MM_CHUNK_SIZE, run * MM_PAGE_SIZE,
                                      out + i)) {
            for (size_t k = 0; k < run; k++)
                out[i + k] = 0;
        }
        i += run;
    }
}

int64_t mm_mincore(struct mm *mm, uint64_t addr, uint64_t len, uint64_t vec)
{
    if (addr % MM_PAGE_SIZE)
        return -ABI_EINVAL;
    if (addr > MM_TASK_SIZE || len > MM_TASK_SIZE - addr)
        return -ABI_ENOMEM;
    uint64_t pages = len / MM_PAGE_SIZE + (len % MM_PAGE_SIZE != 0);
    if (vec > MM_TASK_SIZE || pages > MM_TASK_SIZE - vec)
        return -ABI_EFAULT;
    uint8_t buf[512];
    while (pages) {
        const struct mm_vma *v = mm_vma_find(&mm->vmas, addr);
        if (!v)
            return -ABI_ENOMEM;
        uint64_t n = (v->end - addr) / MM_PAGE_SIZE;
        if (n > pages)
            n = pages;
        if (n > sizeof(buf))
            n = sizeof(buf);
        residency(mm, v, addr, (size_t)n, buf);
        int r = mm_copy_out(mm, vec, buf, (size_t)n);
        if (r)
            return r;
        pages -= n;
        vec += n;
        addr += n * MM_PAGE_SIZE;
    }
    return 0;
}

/* Writes back what [start, end) of v, a shared file mapping, dirtied. */
static int sync_range(const struct mm_vma *v, uint64_t start, uint64_t end)
{
    const struct mm_memobj *o = v->obj;
    if (!o->file || !o->shared || !o->file->pages || !o->file->pages->ops->sync)
        return 0;
    const struct mm_fpages *fp = o->file->pages;
    int r = fp->ops->sync(fp->owner, v->off + (start - v->start), end - start);
    return r < 0 ? -ABI_EIO : 0;
}

int64_t mm_msync(struct mm *mm, uint64_t addr, uint64_t len, int flags)
{
    if (flags & ~(ABI_MS_ASYNC | ABI_MS_INVALIDATE | ABI_MS_SYNC))
        return -ABI_EINVAL;
    if (addr % MM_PAGE_SIZE)
        return -ABI_EINVAL;
    if ((flags & ABI_MS_ASYNC) && (flags & ABI_MS_SYNC))
        return -ABI_EINVAL;
    uint64_t end = addr + mm_page_up(len);
    if (end < addr)
        return -ABI_ENOMEM;
    if (end == addr)
        return 0;
    /* Anonymous memory has nothing to write back, and mappings are always
     * coherent with the file (MS_INVALIDATE has nothing to do): MS_SYNC
     * writes back what shared file mappings dirtied (MS_ASYNC too: Linux
     * only starts the writeback, done at once here), then only holes
     * matter. */
    bool hole = false;
    int err = 0;
    for (uint64_t cur = addr;;) {
        const struct mm_vma *v = mm_vma_find_ge(&mm->vmas, cur);
        if (!v)
            return -ABI_ENOMEM;
        if (cur < v->start) {
            if (flags == ABI_MS_ASYNC)
                return -ABI_ENOMEM;
            cur = v->start;
            if (cur >= end)
                return -ABI_ENOMEM;
            hole = true;
        }
        uint64_t seg_end = v->end < end ? v->end : end;
        if (flags & (ABI_MS_SYNC | ABI_MS_ASYNC)) {
            int r = sync_range(v, cur, seg_end);
            if (r && !err)
                err = r;
        }
        cur = v->end;
        if (cur >= end)
            return hole ? -ABI_ENOMEM : err;
    }
}
