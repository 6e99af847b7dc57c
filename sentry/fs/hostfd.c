/* Host-fd files: the guest's stdio.
 *
 * Reads and writes go to the host fd with read(2)/write(2), so they share the
 * host's file offset: when stdout is a regular file the guest continues at
 * the file's current offset (or its end, for O_APPEND) and never overwrites
 * what was there.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "abi/flags.h"
#include "sentry/fs/hostfd.h"

static int host_fd(struct vfs_file *f)
{
    return (int)(intptr_t)f->priv;
}

static int64_t ret_or_errno(int64_t r)
{
    return r < 0 ? -errno : r;
}

static int64_t hostfd_read(struct vfs_file *f, void *buf, size_t n)
{
    return ret_or_errno(read(host_fd(f), buf, n));
}

static int64_t hostfd_write(struct vfs_file *f, const void *buf, size_t n)
{
    return ret_or_errno(write(host_fd(f), buf, n));
}

static int64_t hostfd_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    return ret_or_errno(pread(host_fd(f), buf, n, off));
}

static int64_t hostfd_pwrite(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    return ret_or_errno(pwrite(host_fd(f), buf, n, off));
}

static int64_t hostfd_lseek(struct vfs_file *f, int64_t off, int whence)
{
    return ret_or_errno(lseek(host_fd(f), off, whence));
}

static int hostfd_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct stat hs;
    if (fstat(host_fd(f), &hs) < 0)
        return -errno;
    *st = (struct abi_stat){
        .st_dev = hs.st_dev,
        .st_ino = hs.st_ino,
        .st_nlink = hs.st_nlink,
        .st_mode = hs.st_mode,
        .st_uid = hs.st_uid,
        .st_gid = hs.st_gid,
        .st_rdev = hs.st_rdev,
        .st_size = hs.st_size,
        .st_blksize = hs.st_blksize,
        .st_blocks = hs.st_blocks,
        .st_atime_sec = (uint64_t)hs.st_atim.tv_sec,
        .st_atime_nsec = (uint64_t)hs.st_atim.tv_nsec,
        .st_mtime_sec = (uint64_t)hs.st_mtim.tv_sec,
        .st_mtime_nsec = (uint64_t)hs.st_mtim.tv_nsec,
        .st_ctime_sec = (uint64_t)hs.st_ctim.tv_sec,
        .st_ctime_nsec = (uint64_t)hs.st_ctim.tv_nsec,
    };
    return 0;
}

static int hostfd_ioctl(struct vfs_file *f, uint32_t req, void *arg, size_t len)
{
    /* Only queries whose argument layout is the same for guest and host, and
     * which change nothing on the host terminal. */
    switch (req) {
    case ABI_TCGETS:
        if (len != sizeof(struct abi_termios))
            return -EINVAL;
        break;
    case ABI_TIOCGWINSZ:
        if (len != sizeof(struct abi_winsize))
            return -EINVAL;
        break;
    case ABI_FIONREAD: /* a pipe or terminal on stdin: what is waiting */
        if (len != sizeof(int))
            return -EINVAL;
        break;
    default:
        return -ENOTTY;
    }
    if (ioctl(host_fd(f), (unsigned long)req, arg) < 0)
        return -errno;
    return 0;
}

static void hostfd_release(struct vfs_file *f)
{
    close(host_fd(f));
}

static const struct vfs_file_ops hostfd_ops = {
    .read = hostfd_read,
    .write = hostfd_write,
    .pread = hostfd_pread,
    .pwrite = hostfd_pwrite,
    .lseek = hostfd_lseek,
    .stat = hostfd_stat,
    .ioctl = hostfd_ioctl,
    .release = hostfd_release,
};

/* /dev/null and /dev/zero: writes succeed without reading the buffer. */
static bool is_data_sink(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 &&
           (minor(st->st_rdev) == 3 || minor(st->st_rdev) == 5);
}

struct vfs_file *hostfd_file_new(int fd, uint32_t flags)
{
    struct vfs_file *f = vfs_file_new(&hostfd_ops, flags, (void *)(intptr_t)fd);
    if (!f)
        return NULL;
    struct stat st;
    f->fault_mode = VFS_FAULT_WHOLE;
    if (fstat(fd, &st) == 0) {
        if (S_ISREG(st.st_mode))
            f->fault_mode = VFS_FAULT_SHORT;
        else if (is_data_sink(&st))
            f->fault_mode = VFS_FAULT_NOREAD;
    }
    /* The host knows whether the description is seekable (pipes, sockets
     * and ttys are not); the guest sees the same. */
    f->positional = lseek(fd, 0, SEEK_CUR) >= 0;
    return f;
}
