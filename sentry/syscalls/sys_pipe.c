/* pipe and pipe2: a new pipe's two ends in the fd table. */
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/pipe.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

static int64_t do_pipe2(struct task *t, uint64_t addr, uint64_t flags)
{
    /* O_NOTIFICATION_PIPE (O_EXCL) needs watch queues, which moat lacks:
     * EINVAL, as a kernel built without CONFIG_WATCH_QUEUE answers. */
    if (flags & ~(uint64_t)(ABI_O_CLOEXEC | ABI_O_NONBLOCK | ABI_O_DIRECT))
        return -ABI_EINVAL;
    struct vfs_file *rd, *wr;
    int err = pipe_create((uint32_t)flags, &rd, &wr);
    if (err)
        return err;
    uint64_t limit = t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur;
    bool cloexec = flags & ABI_O_CLOEXEC;
    int fds[2] = {-1, -1};
    fds[0] = vfs_fd_install(t->fds, 0, rd, cloexec, limit);
    if (fds[0] >= 0)
        fds[1] = vfs_fd_install(t->fds, 0, wr, cloexec, limit);
    /* The table holds its own references now (or failed to take them). */
    vfs_file_put(rd);
    vfs_file_put(wr);
    if (fds[1] < 0) {
        err = fds[0] < 0 ? fds[0] : fds[1];
        if (fds[0] >= 0)
            vfs_fd_close(t->fds, fds[0]);
        return err;
    }
    /* Linux copies the fds out before installing them: a bad address
     * leaves no fd behind. */
    if (mm_copy_out(t->mm, addr, fds, sizeof(fds)) != 0) {
        vfs_fd_close(t->fds, fds[1]);
        vfs_fd_close(t->fds, fds[0]);
        return -ABI_EFAULT;
    }
    return 0;
}

int64_t sys_pipe(struct task *t, const uint64_t a[6])
{
    return do_pipe2(t, a[0], 0);
}

int64_t sys_pipe2(struct task *t, const uint64_t a[6])
{
    return do_pipe2(t, a[0], a[1]);
}
