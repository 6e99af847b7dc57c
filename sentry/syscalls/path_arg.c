/* Guest path arguments: the copy-in every path-taking syscall shares. */
#include "abi/errno.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

int64_t sys_path_in(struct task *t, uint64_t addr, char *buf)
{
    if (!kernel_access_ok(addr, 1))
        return -ABI_EFAULT;
    /* EFAULT for an unreadable string, ENAMETOOLONG when no NUL is found
     * within PATH_MAX bytes. */
    return mm_copy_in_str(t->mm, buf, addr, VFS_PATH_MAX);
}

int64_t sys_path_nonempty(struct task *t, uint64_t addr, char *buf)
{
    int64_t len = sys_path_in(t, addr, buf);
    if (len == 0)
        return -ABI_ENOENT;
    return len;
}
