/* Memory-management syscalls: thin wrappers over sentry/mm. */
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

int64_t sys_mmap(struct task *t, const uint64_t a[6])
{
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
