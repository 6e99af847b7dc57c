/* Memory-management syscalls: thin wrappers over sentry/mm. */
#include "abi/errno.h"
#include "abi/flags.h"
#include <stdlib.h>

#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

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
