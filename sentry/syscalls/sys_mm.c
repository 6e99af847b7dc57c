/* Memory-management syscalls: thin wrappers over sentry/mm. */
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"
#include "sentry/syscalls/syscalls.h"

int64_t sys_mmap(struct task *t, const uint64_t a[6])
{
    /* Linux checks the offset's alignment, then the fd, before anything
     * about the mapping itself. */
    if (a[5] & (MM_PAGE_SIZE - 1))
        return -ABI_EINVAL;
    if (!((int)a[3] & ABI_MAP_ANONYMOUS) && (a[4] > INT32_MAX || !vfs_fd_lookup(t->fds, (int)a[4])))
        return -ABI_EBADF;
    return mm_mmap(t->mm, a[0], a[1], (int)a[2], (int)a[3], (int)a[4], a[5]);
}

int64_t sys_munmap(struct task *t, const uint64_t a[6])
{
    return mm_munmap(t->mm, a[0], a[1]);
}

int64_t sys_mprotect(struct task *t, const uint64_t a[6])
{
    return mm_mprotect(t->mm, a[0], a[1], (int)a[2]);
}

int64_t sys_mremap(struct task *t, const uint64_t a[6])
{
    return mm_mremap(t->mm, a[0], a[1], a[2], (int)a[3], a[4]);
}

int64_t sys_brk(struct task *t, const uint64_t a[6])
{
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
