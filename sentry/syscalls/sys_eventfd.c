/* eventfd and eventfd2. */
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/eventfd.h"
#include "sentry/syscalls/syscalls.h"

static int64_t do_eventfd(struct task *t, uint32_t initval, uint64_t flags)
{
    if (flags & ~(uint64_t)(ABI_EFD_SEMAPHORE | ABI_EFD_CLOEXEC | ABI_EFD_NONBLOCK))
        return -ABI_EINVAL;
    struct vfs_file *f;
    int err = eventfd_create_file(initval, (uint32_t)flags, &f);
    if (err)
        return err;
    int fd = vfs_fd_install(t->fds, 0, f, flags & ABI_EFD_CLOEXEC,
                            t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur);
    vfs_file_put(f);
    return fd;
}

int64_t sys_eventfd(struct task *t, const uint64_t a[6])
{
    return do_eventfd(t, (uint32_t)a[0], 0);
}

int64_t sys_eventfd2(struct task *t, const uint64_t a[6])
{
    return do_eventfd(t, (uint32_t)a[0], (uint32_t)a[1]);
}
