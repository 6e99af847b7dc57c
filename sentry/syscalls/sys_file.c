/* Opening files and managing fds: open family, dup family, fcntl's fd and
 * status flags, close_range. */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/fs/pipe.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

/* Linux's VALID_OPEN_FLAGS: every bit open(2) knows. */
#define VALID_OPEN_FLAGS                                                                           \
    (ABI_O_ACCMODE | ABI_O_CREAT | ABI_O_EXCL | ABI_O_NOCTTY | ABI_O_TRUNC | ABI_O_APPEND |        \
     ABI_O_NONBLOCK | ABI_O_SYNC_BIT | ABI_O_DSYNC | ABI_O_ASYNC | ABI_O_DIRECT |                  \
     ABI_O_LARGEFILE | ABI_O_DIRECTORY | ABI_O_NOFOLLOW | ABI_O_NOATIME | ABI_O_CLOEXEC |          \
     ABI_O_PATH | ABI_O_TMPFILE_BIT)
/* What an O_PATH open keeps. */
#define O_PATH_FLAGS (ABI_O_DIRECTORY | ABI_O_NOFOLLOW | ABI_O_PATH | ABI_O_CLOEXEC)
/* What F_SETFL may change. */
#define SETFL_MASK         (ABI_O_APPEND | ABI_O_NONBLOCK | ABI_O_ASYNC | ABI_O_DIRECT | ABI_O_NOATIME)
#define OPEN_HOW_SIZE_VER0 24
#define MODE_ALL           07777u

static uint64_t nofile_limit(struct task *t)
{
    return t->rlimits[ABI_RLIMIT_NOFILE].rlim_cur;
}

static bool will_create(uint64_t flags)
{
    return (flags & ABI_O_CREAT) || (flags & ABI_O_TMPFILE_BIT);
}

/* The common tail of every open: the fd is chosen before the walk, so a
 * full table is EMFILE whatever the path says, as on Linux. */
static int64_t do_open(struct task *t, int64_t dirfd, uint64_t upath, uint32_t flags, uint32_t mode,
                       int resolve)
{
    static _Thread_local char path[VFS_PATH_MAX];
    int64_t len = sys_path_nonempty(t, upath, path);
    if (len < 0)
        return len;
    int fd = vfs_fd_lowest_free(t->fds, 0, nofile_limit(t));
    if (fd < 0)
        return fd;
    struct vfs_path start;
    /* Scoped resolution starts at dirfd even for an absolute path: its "/"
     * is dirfd (IN_ROOT), or refused (BENEATH). */
    bool scoped = resolve & (VFS_RESOLVE_BENEATH | VFS_RESOLVE_IN_ROOT);
    int err = task_at_start(t, dirfd, scoped ? NULL : path, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    struct vfs_file *f;
    err = vfs_open2(&ctx, start, path, flags | ABI_O_LARGEFILE, mode & ~t->fs->umask & MODE_ALL,
                    resolve, &f);
    if (err)
        return err;
    int r = vfs_fd_install_at(t->fds, fd, f, flags & ABI_O_CLOEXEC);
    vfs_file_put(f);
    return r;
}

/* open and openat drop unknown flags and ignore the mode unless creating. */
static int64_t open_legacy(struct task *t, int64_t dirfd, uint64_t path, uint64_t flags,
                           uint64_t mode)
{
    uint32_t fl = (uint32_t)flags & VALID_OPEN_FLAGS;
    if (fl & ABI_O_PATH)
        fl &= O_PATH_FLAGS;
    if ((fl & ABI_O_TMPFILE_BIT) && !(fl & ABI_O_DIRECTORY))
        return -ABI_EINVAL;
    if ((fl & (ABI_O_CREAT | ABI_O_DIRECTORY)) == (ABI_O_CREAT | ABI_O_DIRECTORY))
        return -ABI_EINVAL;
    uint32_t m = will_create(fl) ? (uint32_t)mode & MODE_ALL : 0;
    return do_open(t, dirfd, path, fl, m, 0);
}

int64_t sys_open(struct task *t, const uint64_t a[6])
{
    return open_legacy(t, ABI_AT_FDCWD, a[0], a[1], a[2]);
}

int64_t sys_openat(struct task *t, const uint64_t a[6])
{
    return open_legacy(t, (int32_t)a[0], a[1], a[2], a[3]);
}

int64_t sys_creat(struct task *t, const uint64_t a[6])
{
    return open_legacy(t, ABI_AT_FDCWD, a[0], ABI_O_CREAT | ABI_O_WRONLY | ABI_O_TRUNC, a[1]);
}

/* openat2 checks every field: unknown bits are errors, not ignored. */
int64_t sys_openat2(struct task *t, const uint64_t a[6])
{
    uint64_t size = a[3];
    if (size < OPEN_HOW_SIZE_VER0)
        return -ABI_EINVAL;
    if (size > MM_PAGE_SIZE)
        return -ABI_E2BIG;
    struct abi_open_how how;
    if (mm_copy_in(t->mm, &how, a[2], sizeof(how)) != 0)
        return -ABI_EFAULT;
    /* A newer, larger struct is fine as long as what we do not know is 0. */
    for (uint64_t off = sizeof(how); off < size;) {
        unsigned char tail[256];
        size_t n = size - off < sizeof(tail) ? (size_t)(size - off) : sizeof(tail);
        if (mm_copy_in(t->mm, tail, a[2] + off, n) != 0)
            return -ABI_EFAULT;
        for (size_t i = 0; i < n; i++) {
            if (tail[i])
                return -ABI_E2BIG;
        }
        off += n;
    }
    uint64_t flags = how.flags & ~(uint64_t)ABI_O_CLOEXEC;
    if (flags & ~(uint64_t)VALID_OPEN_FLAGS)
        return -ABI_EINVAL;
    if (how.resolve & ~(uint64_t)(VFS_RESOLVE_MASK | ABI_RESOLVE_CACHED))
        return -ABI_EINVAL;
    if ((how.resolve & VFS_RESOLVE_BENEATH) && (how.resolve & VFS_RESOLVE_IN_ROOT))
        return -ABI_EINVAL;
    if (will_create(flags)) {
        if (how.mode & ~(uint64_t)MODE_ALL)
            return -ABI_EINVAL;
    } else if (how.mode) {
        return -ABI_EINVAL;
    }
    if ((flags & ABI_O_TMPFILE_BIT) && !(flags & ABI_O_DIRECTORY))
        return -ABI_EINVAL;
    if ((flags & (ABI_O_CREAT | ABI_O_DIRECTORY)) == (ABI_O_CREAT | ABI_O_DIRECTORY))
        return -ABI_EINVAL;
    if ((flags & ABI_O_PATH) && (flags & ~(uint64_t)O_PATH_FLAGS))
        return -ABI_EINVAL;
    /* Lookups here never sleep on I/O: RESOLVE_CACHED only refuses what
     * could write. */
    if ((how.resolve & ABI_RESOLVE_CACHED) &&
        (flags & (ABI_O_TRUNC | ABI_O_CREAT | ABI_O_TMPFILE_BIT)))
        return -ABI_EAGAIN;
    int resolve = (int)(how.resolve & VFS_RESOLVE_MASK);
    return do_open(t, (int32_t)a[0], a[1], (uint32_t)how.flags, (uint32_t)how.mode, resolve);
}

int64_t sys_dup(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = a[0] > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)a[0]);
    if (!f)
        return -ABI_EBADF;
    return vfs_fd_install(t->fds, 0, f, false, nofile_limit(t));
}

static int64_t do_dup3(struct task *t, uint64_t oldfd, uint64_t newfd, bool cloexec)
{
    if ((uint32_t)newfd >= nofile_limit(t) || newfd > INT32_MAX)
        return -ABI_EBADF;
    struct vfs_file *f = oldfd > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)oldfd);
    if (!f)
        return -ABI_EBADF;
    return vfs_fd_install_at(t->fds, (int)newfd, f, cloexec);
}

int64_t sys_dup2(struct task *t, const uint64_t a[6])
{
    uint32_t oldfd = (uint32_t)a[0], newfd = (uint32_t)a[1];
    if (oldfd == newfd) {
        if (oldfd > INT32_MAX || !vfs_fd_lookup(t->fds, (int)oldfd))
            return -ABI_EBADF;
        return oldfd;
    }
    return do_dup3(t, oldfd, newfd, false);
}

int64_t sys_dup3(struct task *t, const uint64_t a[6])
{
    uint32_t oldfd = (uint32_t)a[0], newfd = (uint32_t)a[1];
    if (a[2] & ~(uint64_t)ABI_O_CLOEXEC)
        return -ABI_EINVAL;
    if (oldfd == newfd)
        return -ABI_EINVAL;
    return do_dup3(t, oldfd, newfd, a[2] & ABI_O_CLOEXEC);
}

static int64_t setfl(struct task *t, struct vfs_file *f, uint32_t arg)
{
    if ((arg & ABI_O_NOATIME) && !(f->flags & ABI_O_NOATIME) && f->dentry) {
        struct vfs_walk_ctx ctx;
        task_walk_ctx(t, &ctx);
        if (ctx.cred.uid != f->dentry->inode->uid && !ctx.cred.cap_fowner)
            return -ABI_EPERM;
    }
    f->flags = (f->flags & ~(uint32_t)SETFL_MASK) | (arg & SETFL_MASK);
    return 0;
}

int64_t sys_fcntl(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = a[0] > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)a[0]);
    if (!f)
        return -ABI_EBADF;
    int fd = (int)a[0];
    uint32_t cmd = (uint32_t)a[1];
    bool opath = f->flags & ABI_O_PATH;
    switch (cmd) {
    case ABI_F_DUPFD:
    case ABI_F_DUPFD_CLOEXEC: {
        uint64_t from = (uint32_t)a[2];
        if (from >= nofile_limit(t) || from > INT32_MAX)
            return -ABI_EINVAL;
        return vfs_fd_install(t->fds, (int)from, f, cmd == ABI_F_DUPFD_CLOEXEC, nofile_limit(t));
    }
    case ABI_F_GETFD:
        return vfs_fd_get_cloexec(t->fds, fd) > 0 ? ABI_FD_CLOEXEC : 0;
    case ABI_F_SETFD:
        return vfs_fd_set_cloexec(t->fds, fd, a[2] & ABI_FD_CLOEXEC);
    case ABI_F_GETFL:
        return f->flags;
    case ABI_F_SETFL:
        if (opath)
            return -ABI_EBADF;
        return setfl(t, f, (uint32_t)a[2]);
    case ABI_F_GETLK:
    case ABI_F_SETLK:
    case ABI_F_SETLKW:
    case ABI_F_OFD_GETLK:
    case ABI_F_OFD_SETLK:
    case ABI_F_OFD_SETLKW:
        if (opath)
            return -ABI_EBADF;
        return sys_fcntl_lock(t, f, cmd, a[2]);
    case ABI_F_GETPIPE_SZ:
        return pipe_get_size(f);
    case ABI_F_SETPIPE_SZ:
        /* TODO: CAP_SYS_RESOURCE through cred_capable once creds carry
         * capabilities; root stands for it meanwhile. */
        return pipe_set_size(f, a[2], t->creds.euid == 0);
    default:
        if (opath)
            return -ABI_EBADF;
        kernel_log(t->k, "moat: fcntl command %u is not implemented\n", cmd);
        return -ABI_EINVAL;
    }
}

int64_t sys_close_range(struct task *t, const uint64_t a[6])
{
    uint32_t first = (uint32_t)a[0], last = (uint32_t)a[1];
    if (a[2] & ~(uint64_t)(ABI_CLOSE_RANGE_UNSHARE | ABI_CLOSE_RANGE_CLOEXEC))
        return -ABI_EINVAL;
    if (first > last)
        return -ABI_EINVAL;
    /* One task per table for now: UNSHARE has nothing to copy. */
    vfs_fd_close_range(t->fds, first, last, a[2] & ABI_CLOSE_RANGE_CLOEXEC);
    return 0;
}
