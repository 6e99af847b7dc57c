/* Copying between the Sentry and guest memory through the Sentry's own
 * mapping of the memory file: per chunk, a VMA lookup and a memcpy, no host
 * call. Pages are checked and populated as the guest's own access would. */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm_internal.h"

enum access {
    ACCESS_READ,
    ACCESS_WRITE,
    ACCESS_FORCE, /* the loader: write whatever the protections */
};

/* The Sentry's pointer for guest address addr and how many bytes from it
 * are contiguous (within one chunk and one VMA, at most max). NULL with *err
 * set when the guest could not make this access. */
static unsigned char *translate(struct mm *mm, uint64_t addr, uint64_t max, enum access acc,
                                uint64_t *len, int *err)
{
    struct mm_vma *v = mm_vma_for_access(mm, addr);
    if (!v) {
        *err = -ABI_EFAULT;
        return NULL;
    }
    if ((acc == ACCESS_READ && !mm_prot_allows(v->prot, false, false)) ||
        (acc == ACCESS_WRITE && !mm_prot_allows(v->prot, true, false))) {
        *err = -ABI_EFAULT;
        return NULL;
    }
    struct mm_span sp;
    *err = mm_backing(mm, v, addr, acc != ACCESS_READ, &sp);
    if (*err) {
        if (*err == -ABI_EIO)
            *err = -ABI_EFAULT;
        return NULL;
    }
    uint64_t n = sp.end - addr;
    if (n > max)
        n = max;
    *len = n;
    return mm_memfile_ptr(mm->mf, sp.mf_off + (addr - sp.start));
}

/* Whether [addr, addr + n) lies below max_addr without wrapping. */
static bool range_ok(const struct mm *mm, uint64_t addr, size_t n)
{
    return addr < mm->max_addr && n <= mm->max_addr - addr;
}

int mm_copy_in(struct mm *mm, void *dst, uint64_t src, size_t n)
{
    if (n == 0)
        return 0;
    if (!range_ok(mm, src, n))
        return -ABI_EFAULT;
    unsigned char *d = dst;
    while (n) {
        uint64_t len;
        int err;
        const unsigned char *p = translate(mm, src, n, ACCESS_READ, &len, &err);
        if (!p)
            return err;
        memcpy(d, p, len);
        d += len;
        src += len;
        n -= len;
    }
    return 0;
}

static int copy_out(struct mm *mm, uint64_t dst, const void *src, size_t n, enum access acc)
{
    if (n == 0)
        return 0;
    if (!range_ok(mm, dst, n))
        return -ABI_EFAULT;
    const unsigned char *s = src;
    while (n) {
        uint64_t len;
        int err;
        unsigned char *p = translate(mm, dst, n, acc, &len, &err);
        if (!p)
            return err;
        if (s) {
            memcpy(p, s, len);
            s += len;
        } else {
            memset(p, 0, len);
        }
        dst += len;
        n -= len;
    }
    return 0;
}

int mm_copy_out(struct mm *mm, uint64_t dst, const void *src, size_t n)
{
    return copy_out(mm, dst, src, n, ACCESS_WRITE);
}

int mm_copy_out_force(struct mm *mm, uint64_t dst, const void *src, size_t n)
{
    return copy_out(mm, dst, src, n, ACCESS_FORCE);
}

bool mm_code_patchable(struct mm *mm, uint64_t addr, uint64_t len)
{
    if (!range_ok(mm, addr, len))
        return false;
    size_t i = mm_vma_index(&mm->vmas, addr); /* no stack growth: a lookup only */
    if (i == mm->vmas.n)
        return false;
    const struct mm_vma *v = mm->vmas.v[i];
    return v->start <= addr && addr + len <= v->end && !(v->flags & MM_VMA_SHARED) && v->obj &&
           v->obj->file && !v->obj->shared && (v->prot & ABI_PROT_EXEC) &&
           !(v->prot & ABI_PROT_WRITE);
}

int mm_zero(struct mm *mm, uint64_t dst, size_t n)
{
    return copy_out(mm, dst, NULL, n, ACCESS_WRITE);
}

int64_t mm_copy_in_str(struct mm *mm, char *dst, uint64_t src, size_t max)
{
    size_t done = 0;
    while (done < max) {
        uint64_t addr = src + done;
        if (addr < src || addr >= mm->max_addr)
            return -ABI_EFAULT;
        uint64_t len;
        int err;
        const unsigned char *p = translate(mm, addr, max - done, ACCESS_READ, &len, &err);
        if (!p)
            return err;
        const unsigned char *nul = memchr(p, 0, len);
        if (nul) {
            memcpy(dst + done, p, (size_t)(nul - p) + 1);
            return (int64_t)(done + (size_t)(nul - p));
        }
        memcpy(dst + done, p, len);
        done += len;
    }
    return -ABI_ENAMETOOLONG;
}
