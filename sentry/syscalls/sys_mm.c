/* Memory-management syscalls: thin wrappers over sentry/mm. */
#include "abi/errno.h"
#include "abi/flags.h"
#include <stdlib.h>

#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

/* ---- RLIMIT_AS and RLIMIT_DATA ----
 * Linux refuses a mapping that would take the address space past RLIMIT_AS,
 * or its private writable memory (not stacks) past RLIMIT_DATA. The totals
 * are summed from the VMAs only when a limit is set. */

struct vm_totals {
    uint64_t total, data;
    /* Pages of [skip_start, skip_end) already mapped: a MAP_FIXED mapping
     * replaces them, so they do not count twice. */
    uint64_t skip_start, skip_end, skip_total, skip_data;
};

static bool data_mapping(int prot, int vma_flags)
{
    return (prot & ABI_PROT_WRITE) && !(vma_flags & (MM_VMA_SHARED | MM_VMA_GROWSDOWN));
}

static int add_vma(void *arg, const struct mm_vma_info *v)
{
    struct vm_totals *s = arg;
    uint64_t len = v->end - v->start;
    bool data = data_mapping(v->prot, v->flags);
    s->total += len;
    if (data)
        s->data += len;
    uint64_t lo = v->start > s->skip_start ? v->start : s->skip_start;
    uint64_t hi = v->end < s->skip_end ? v->end : s->skip_end;
    if (lo < hi) {
        s->skip_total += hi - lo;
        if (data)
            s->skip_data += hi - lo;
    }
    return 0;
}

/* 0, or -ENOMEM when growing by grow bytes (data: of private writable
 * memory) passes a limit. [replace_start, replace_end) is what the new
 * mapping replaces (MAP_FIXED), empty otherwise. */
static int64_t may_expand_vm(struct task *t, uint64_t grow, bool data, uint64_t replace_start,
                             uint64_t replace_end)
{
    uint64_t as = t->rlimits[ABI_RLIMIT_AS].rlim_cur, dl = t->rlimits[ABI_RLIMIT_DATA].rlim_cur;
    if (as == ABI_RLIM_INFINITY && (dl == ABI_RLIM_INFINITY || !data))
        return 0;
    struct vm_totals s = {0, 0, replace_start, replace_end, 0, 0};
    mm_for_each_vma(t->mm, add_vma, &s);
    if (s.total - s.skip_total + grow > as)
        return -ABI_ENOMEM;
    if (data && s.data - s.skip_data + grow > dl)
        return -ABI_ENOMEM;
    return 0;
}

/* The limits' check for mmap's arguments; mm validates the rest. */
static int64_t mmap_limits(struct task *t, const uint64_t a[6])
{
    uint64_t len = (a[1] + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
    if (!a[1] || len < a[1])
        return 0;
    unsigned flags = (unsigned)a[3];
    bool fixed = flags & (ABI_MAP_FIXED | ABI_MAP_FIXED_NOREPLACE);
    int vma_flags = (flags & ABI_MAP_TYPE) == ABI_MAP_PRIVATE ? 0 : MM_VMA_SHARED;
    if (flags & ABI_MAP_GROWSDOWN)
        vma_flags |= MM_VMA_GROWSDOWN;
    uint64_t start = fixed ? a[0] : 0, end = fixed ? a[0] + len : 0;
    return may_expand_vm(t, len, data_mapping((int)a[2], vma_flags), start, end);
}

/* /dev/zero: Linux checks the file's access mode as for any file mapping,
 * then maps anonymous memory, shared or private. */
static int64_t mmap_as_anon(struct task *t, const uint64_t a[6], const struct mm_file_desc *d)
{
    int prot = (int)a[2];
    unsigned flags = (unsigned)a[3], type = flags & ABI_MAP_TYPE;
    if (type == ABI_MAP_SHARED_VALIDATE)
        type = ABI_MAP_SHARED;
    if (type == ABI_MAP_SHARED && (prot & ABI_PROT_WRITE) && !d->writable)
        return -ABI_EACCES;
    if ((type == ABI_MAP_SHARED || type == ABI_MAP_PRIVATE) && !d->readable)
        return -ABI_EACCES;
    if ((prot & ABI_PROT_EXEC) && d->noexec)
        return -ABI_EPERM;
    flags = (flags & ~(unsigned)ABI_MAP_TYPE) | type | ABI_MAP_ANONYMOUS;
    return mm_mmap(t->mm, a[0], a[1], prot, (int)flags, -1, 0);
}

static int64_t mmap_file(struct task *t, const uint64_t a[6], struct vfs_file *f)
{
    struct mm_file_desc d;
    char *name;
    bool shared = ((unsigned)a[3] & ABI_MAP_TYPE) != ABI_MAP_PRIVATE;
    int how = kernel_file_map_desc(t, f, shared, &d, &name);
    if (how == VFS_MMAP_ANON)
        return mmap_as_anon(t, a, &d);
    if (how < 0)
        return how;
    int64_t r = mm_mmap_file(t->mm, a[0], a[1], (int)a[2], (int)a[3], &d, a[5]);
    kernel_file_map_done(&d, name, r < 0);
    return r;
}

int64_t sys_mmap(struct task *t, const uint64_t a[6])
{
    /* Linux checks the offset's alignment, then the fd, before anything
     * about the mapping itself. */
    if (a[5] & (MM_PAGE_SIZE - 1))
        return -ABI_EINVAL;
    int flags = (int)a[3];
    int64_t err = mmap_limits(t, a);
    if (err)
        return err;
    if (flags & ABI_MAP_ANONYMOUS)
        return mm_mmap(t->mm, a[0], a[1], (int)a[2], flags, -1, a[5]);
    struct vfs_file *f = a[4] > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)a[4]);
    if (!f || (f->flags & ABI_O_PATH))
        return -ABI_EBADF;
    /* No hugetlbfs: MAP_HUGETLB on any other file is refused. */
    if (flags & ABI_MAP_HUGETLB)
        return -ABI_EINVAL;
    return mmap_file(t, a, f);
}

int64_t sys_munmap(struct task *t, const uint64_t a[6])
{
    return mm_munmap(t->mm, a[0], a[1]);
}

int64_t sys_mprotect(struct task *t, const uint64_t a[6])
{
    return mm_mprotect(t->mm, a[0], a[1], (int)a[2]);
}

struct vma_at {
    uint64_t addr;
    bool found, data;
};

static int find_vma(void *arg, const struct mm_vma_info *v)
{
    struct vma_at *w = arg;
    if (w->addr < v->start || w->addr >= v->end)
        return 0;
    w->found = true;
    w->data = data_mapping(v->prot, v->flags);
    return 1;
}

int64_t sys_mremap(struct task *t, const uint64_t a[6])
{
    uint64_t old_len = (a[1] + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
    uint64_t new_len = (a[2] + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
    /* Growth counts against the limits; a bad call is left to mm's errors. */
    if (new_len > old_len && new_len >= a[2] && !(a[0] & (MM_PAGE_SIZE - 1))) {
        struct vma_at w = {a[0], false, false};
        mm_for_each_vma(t->mm, find_vma, &w);
        if (w.found) {
            int64_t err = may_expand_vm(t, new_len - old_len, w.data, 0, 0);
            if (err)
                return err;
        }
    }
    return mm_mremap(t->mm, a[0], a[1], a[2], (int)a[3], a[4]);
}

int64_t sys_brk(struct task *t, const uint64_t a[6])
{
    /* A break the limits refuse stays where it is, as any refused brk. */
    int64_t cur = mm_brk(t->mm, 0);
    uint64_t want = (a[0] + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
    uint64_t have = ((uint64_t)cur + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
    if (a[0] > (uint64_t)cur && want > have && may_expand_vm(t, want - have, true, 0, 0))
        return cur;
    return mm_brk(t->mm, a[0]);
}

int64_t sys_madvise(struct task *t, const uint64_t a[6])
{
    return mm_madvise(t->mm, a[0], a[1], (int)a[2]);
}

int64_t sys_mincore(struct task *t, const uint64_t a[6])
{
    return mm_mincore(t->mm, a[0], a[1], a[2]);
}

int64_t sys_msync(struct task *t, const uint64_t a[6])
{
    return mm_msync(t->mm, a[0], a[1], (int)a[2]);
}
