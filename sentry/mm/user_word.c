/* Single guest words for futexes: a Sentry pointer that atomic operations
 * can use while guest threads run, and the identity of shared memory that
 * processes mapping it at different addresses have in common. */
#include "abi/errno.h"
#include "sentry/mm/mm_internal.h"

int mm_user_word(struct mm *mm, uint64_t addr, bool write, uint32_t **out)
{
    if ((addr & 3) || addr >= mm->max_addr)
        return -ABI_EFAULT;
    struct mm_vma *v = mm_vma_for_access(mm, addr);
    if (!v || !mm_prot_allows(v->prot, write, false))
        return -ABI_EFAULT;
    struct mm_span sp;
    int err = mm_backing(mm, v, addr, write, &sp);
    if (err)
        return err == -ABI_EIO ? -ABI_EFAULT : err;
    *out = mm_memfile_ptr(mm->mf, sp.mf_off + (addr - sp.start));
    return 0;
}

int mm_shared_id(struct mm *mm, uint64_t addr, const void **obj, uint64_t *off)
{
    struct mm_vma *v = mm_vma_find(&mm->vmas, addr);
    if (!v || addr < v->start || !(v->flags & MM_VMA_SHARED) || !v->obj)
        return -ABI_ENOENT;
    uint64_t o = v->off + (addr - v->start);
    /* A shared file mapping: the file's pages are the identity, whichever
     * object maps them; shared anonymous memory: its object. */
    if (v->obj->file && v->obj->file->pages) {
        *obj = v->obj->file->pages;
        *off = o + v->obj->file_delta;
    } else {
        *obj = v->obj;
        *off = o;
    }
    return 0;
}
