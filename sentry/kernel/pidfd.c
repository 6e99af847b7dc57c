/* pidfd files: readable (POLLIN) once the process has exited. */
#include "sentry/kernel/pidfd.h"

#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/types.h"
#include "sentry/kernel/kernel.h"
#include "sentry/vfs/file.h"

static void pidfd_release(struct vfs_file *f)
{
    tg_put(f->priv);
}

static uint32_t pidfd_poll(struct vfs_file *f)
{
    struct thread_group *g = f->priv;
    return (g->zombie || g->reaped) ? ABI_POLLIN | ABI_POLLRDNORM : 0;
}

static struct waitq *pidfd_queue(struct vfs_file *f)
{
    struct thread_group *g = f->priv;
    return &g->exit_wait;
}

static int pidfd_stat(struct vfs_file *f, struct abi_stat *st)
{
    (void)f;
    memset(st, 0, sizeof(*st));
    st->st_mode = 0600; /* an anonymous inode: no file type bits */
    st->st_nlink = 1;
    st->st_blksize = 4096;
    return 0;
}

static const struct vfs_file_ops pidfd_ops = {
    .release = pidfd_release,
    .poll = pidfd_poll,
    .poll_queue = pidfd_queue,
    .stat = pidfd_stat,
};

int kernel_pidfd_install(struct task *t, struct thread_group *g, uint32_t flags)
{
    struct vfs_file *f = vfs_file_new(&pidfd_ops, ABI_O_RDWR | (flags & ABI_O_NONBLOCK), g);
    if (!f)
        return -ABI_ENOMEM;
    g->refs++;
    int fd = vfs_fd_install(t->fds, 0, f, true, t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur);
    vfs_file_put(f);
    return fd;
}

struct thread_group *kernel_pidfd_tg(struct vfs_file *f)
{
    return f->ops == &pidfd_ops ? f->priv : NULL;
}
