/* read, write and friends on the fd table's files. */
#include <pthread.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

/* Linux caps one read or write at this many bytes (MAX_RW_COUNT). */
#define MAX_RW_COUNT 0x7ffff000ULL
#define UIO_MAXIOV   1024
/* The bounce buffer between guest memory and host fds. */
#define IO_CHUNK 65536

static _Thread_local unsigned char io_buf[IO_CHUNK];

static struct vfs_file *file_for(struct task *t, uint64_t fd)
{
    if (fd > INT32_MAX)
        return NULL;
    return vfs_fd_lookup(t->fds, (int)fd);
}

/* Copy as much of the guest range as is accessible, a page at a time once a
 * fault is seen: a write from a buffer that runs into unmapped memory writes
 * the readable part, as on Linux, and a read fills what it can. Returns the
 * bytes copied. */
static size_t copy_prefix(struct task *t, uint64_t guest, void *buf, size_t n, bool to_guest)
{
    size_t done = 0;
    while (done < n) {
        /* The whole rest first; page by page only after a fault. */
        size_t step = n - done;
        if (done > 0 || (to_guest ? mm_copy_out(t->mm, guest, buf, n)
                                  : mm_copy_in(t->mm, buf, guest, n)) != 0) {
            step = MM_PAGE_SIZE - ((guest + done) & (MM_PAGE_SIZE - 1));
            if (step > n - done)
                step = n - done;
            int err = to_guest ? mm_copy_out(t->mm, guest + done, (char *)buf + done, step)
                               : mm_copy_in(t->mm, (char *)buf + done, guest + done, step);
            if (err)
                break;
        }
        done += step;
    }
    return done;
}

static size_t copy_in_prefix(struct task *t, void *dst, uint64_t src, size_t n)
{
    return copy_prefix(t, src, dst, n, false);
}

static size_t copy_out_prefix(struct task *t, uint64_t dst, const void *src, size_t n)
{
    return copy_prefix(t, dst, (void *)src, n, true);
}

/* Gather a guest iovec into the bounce buffer and write it, chunk by chunk,
 * with the file's fault rule (enum vfs_fault_mode). off < 0: the file's own
 * offset. vec must already have passed load_iov's checks. */
static int64_t write_vec(struct task *t, struct vfs_file *f, const struct abi_iovec *vec,
                         uint64_t cnt, int64_t off)
{
    uint64_t budget = 0;
    for (uint64_t k = 0; k < cnt && budget < MAX_RW_COUNT; k++)
        budget += vec[k].iov_len;
    if (budget > MAX_RW_COUNT)
        budget = MAX_RW_COUNT;
    int64_t err = sys_fsize_write_check(t, f, off, &budget);
    if (err)
        return err;
    uint64_t done = 0, i = 0, in = 0;
    while (i < cnt && budget) {
        size_t fill = 0;
        bool fault = false;
        while (fill < IO_CHUNK && i < cnt && budget) {
            uint64_t left = vec[i].iov_len - in;
            size_t take = left < IO_CHUNK - fill ? (size_t)left : IO_CHUNK - fill;
            if (take > budget)
                take = (size_t)budget;
            size_t got = take;
            if (f->fault_mode == VFS_FAULT_NOREAD)
                memset(io_buf + fill, 0, take);
            else if (f->fault_mode == VFS_FAULT_SHORT)
                got = copy_in_prefix(t, io_buf + fill, vec[i].iov_base + in, take);
            else if (take && mm_copy_in(t->mm, io_buf + fill, vec[i].iov_base + in, take) != 0)
                got = 0;
            fill += got;
            budget -= got;
            in += got;
            if (got < take) {
                fault = true;
                break;
            }
            if (in == vec[i].iov_len) {
                i++;
                in = 0;
            }
        }
        if (fault && f->fault_mode == VFS_FAULT_WHOLE)
            return done ? (int64_t)done : -ABI_EFAULT;
        if (fill) {
            int64_t r = off < 0 ? f->ops->write(f, io_buf, fill)
                                : f->ops->pwrite(f, io_buf, fill, off + (int64_t)done);
            if (r < 0)
                return done ? (int64_t)done : r;
            done += (uint64_t)r;
            if ((size_t)r < fill)
                return (int64_t)done;
        }
        if (fault)
            return done ? (int64_t)done : -ABI_EFAULT;
    }
    return (int64_t)done;
}

/* Reads from the file into the bounce buffer, scattered over the guest's
 * iovec. Files that can block (pipes, terminals, sockets: not positional)
 * get a single read per call: it must return what is there, not wait for
 * more. Positional files (regular files, /dev/zero) are read chunk after
 * chunk until the request is met, as Linux fills a 1 MiB read of them. */
static int64_t read_vec(struct task *t, struct vfs_file *f, const struct abi_iovec *vec,
                        uint64_t cnt, int64_t off)
{
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt && total < MAX_RW_COUNT; i++)
        total += vec[i].iov_len;
    if (total > MAX_RW_COUNT)
        total = MAX_RW_COUNT;
    uint64_t done = 0, i = 0, in = 0;
    for (;;) {
        size_t want = total - done > IO_CHUNK ? IO_CHUNK : (size_t)(total - done);
        int64_t r = off < 0 ? f->ops->read(f, io_buf, want)
                            : f->ops->pread(f, io_buf, want, off + (int64_t)done);
        if (r <= 0)
            return done ? (int64_t)done : r;
        size_t put = 0;
        while (put < (size_t)r && i < cnt) {
            uint64_t left = vec[i].iov_len - in;
            size_t take = (size_t)r - put;
            if (take > left)
                take = (size_t)left;
            size_t got = copy_out_prefix(t, vec[i].iov_base + in, io_buf + put, take);
            put += got;
            in += got;
            if (got < take)
                return done + put ? (int64_t)(done + put) : -ABI_EFAULT;
            if (in == vec[i].iov_len) {
                i++;
                in = 0;
            }
        }
        done += put;
        if (!f->positional || (size_t)r < want || done >= total)
            return (int64_t)done;
    }
}

/* read, write, pread64, pwrite64: one buffer, Linux's order of checks:
 * ESPIPE, then EBADF for the access mode, then access_ok. */
static int64_t rw_one(struct task *t, const uint64_t a[6], bool write, bool positional)
{
    struct vfs_file *f = file_for(t, a[0]);
    if (positional && (int64_t)a[3] < 0)
        return -ABI_EINVAL;
    if (!f)
        return -ABI_EBADF;
    if (positional && !f->positional)
        return -ABI_ESPIPE;
    if (!(write ? vfs_file_writable(f) : vfs_file_readable(f)))
        return -ABI_EBADF;
    if (write ? !f->ops->write : !f->ops->read)
        return -ABI_EINVAL;
    uint64_t n = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2];
    if (!kernel_access_ok(a[1], n))
        return -ABI_EFAULT;
    /* Linux's rw_verify_area: the range may not run past the largest
     * offset (and the chunked I/O below must not overflow it). */
    if (positional && (a[2] > INT64_MAX || a[3] + a[2] > INT64_MAX))
        return -ABI_EINVAL;
    struct abi_iovec one = {a[1], n};
    int64_t off = positional ? (int64_t)a[3] : -1;
    return write ? write_vec(t, f, &one, 1, off) : read_vec(t, f, &one, 1, off);
}

int64_t sys_read(struct task *t, const uint64_t a[6])
{
    return rw_one(t, a, false, false);
}

int64_t sys_write(struct task *t, const uint64_t a[6])
{
    return rw_one(t, a, true, false);
}

int64_t sys_pread64(struct task *t, const uint64_t a[6])
{
    return rw_one(t, a, false, true);
}

int64_t sys_pwrite64(struct task *t, const uint64_t a[6])
{
    return rw_one(t, a, true, true);
}

/* Copy in and validate an iovec array the way Linux does: count limits,
 * EFAULT for the array itself or any base outside user space, EINVAL when
 * the lengths overflow. */
static int64_t load_iov(struct task *t, uint64_t iov, uint64_t cnt, struct abi_iovec *out)
{
    if ((int64_t)cnt < 0 || cnt > UIO_MAXIOV)
        return -ABI_EINVAL;
    if (cnt && mm_copy_in(t->mm, out, iov, cnt * sizeof(*out)) != 0)
        return -ABI_EFAULT;
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((int64_t)out[i].iov_len < 0)
            return -ABI_EINVAL;
        total += out[i].iov_len;
        if ((int64_t)total < 0)
            return -ABI_EINVAL;
    }
    for (uint64_t i = 0; i < cnt; i++) {
        if (!kernel_access_ok(out[i].iov_base, out[i].iov_len))
            return -ABI_EFAULT;
    }
    return (int64_t)total;
}

static int64_t do_vector(struct task *t, uint64_t fd, uint64_t iov, uint64_t cnt, bool write)
{
    struct vfs_file *f = file_for(t, fd);
    if (!f || !(write ? vfs_file_writable(f) : vfs_file_readable(f)))
        return -ABI_EBADF;
    /* A file with no read (write) at all, a pidfd or an epoll: EINVAL, as
     * read(2) answers, before the vector is even looked at. */
    if (write ? !f->ops->write : !f->ops->read)
        return -ABI_EINVAL;
    static _Thread_local struct abi_iovec vec[UIO_MAXIOV];
    int64_t total = load_iov(t, iov, cnt, vec);
    if (total < 0)
        return total;
    return write ? write_vec(t, f, vec, cnt, -1) : read_vec(t, f, vec, cnt, -1);
}

int64_t sys_readv(struct task *t, const uint64_t a[6])
{
    return do_vector(t, a[0], a[1], a[2], false);
}

int64_t sys_writev(struct task *t, const uint64_t a[6])
{
    return do_vector(t, a[0], a[1], a[2], true);
}

int64_t sys_close(struct task *t, const uint64_t a[6])
{
    if (a[0] > INT32_MAX)
        return -ABI_EBADF;
    return vfs_fd_close(t->fds, (int)a[0]);
}

int64_t sys_lseek(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = file_for(t, a[0]);
    if (!f)
        return -ABI_EBADF;
    if (a[2] > ABI_SEEK_HOLE)
        return -ABI_EINVAL;
    if (!f->ops->lseek)
        return -ABI_ESPIPE;
    return f->ops->lseek(f, (int64_t)a[1], (int)a[2]);
}

/* ---- ioctl ---- */

/* How a request's argument travels: the size of what it points to and which
 * way it is copied. Requests not listed reach the file with their raw
 * argument value (len 0), which is all a driver needs to refuse them. */
enum ioctl_dir { IOC_VALUE, IOC_IN, IOC_OUT };

struct ioctl_arg {
    uint32_t req;
    uint8_t dir;
    uint8_t len;
};

static const struct ioctl_arg ioctl_args[] = {
    {ABI_TCGETS, IOC_OUT, sizeof(struct abi_termios)},
    {ABI_TCSETS, IOC_IN, sizeof(struct abi_termios)},
    {ABI_TCSETSW, IOC_IN, sizeof(struct abi_termios)},
    {ABI_TCSETSF, IOC_IN, sizeof(struct abi_termios)},
    {ABI_TIOCGWINSZ, IOC_OUT, sizeof(struct abi_winsize)},
    {ABI_TIOCSWINSZ, IOC_IN, sizeof(struct abi_winsize)},
    {ABI_TIOCGPGRP, IOC_OUT, sizeof(int32_t)},
    {ABI_TIOCSPGRP, IOC_IN, sizeof(int32_t)},
    {ABI_TIOCGSID, IOC_OUT, sizeof(int32_t)},
    {ABI_TIOCOUTQ, IOC_OUT, sizeof(int32_t)},
    {ABI_FIONREAD, IOC_OUT, sizeof(int32_t)},
    {ABI_TIOCGETD, IOC_OUT, sizeof(int32_t)},
    {ABI_TIOCSETD, IOC_IN, sizeof(int32_t)},
    {ABI_TIOCMGET, IOC_OUT, sizeof(int32_t)},
    {ABI_TIOCMSET, IOC_IN, sizeof(int32_t)},
    {ABI_TIOCMBIS, IOC_IN, sizeof(int32_t)},
    {ABI_TIOCMBIC, IOC_IN, sizeof(int32_t)},
    {ABI_TIOCPKT, IOC_IN, sizeof(int32_t)},
    {ABI_TIOCGPTN, IOC_OUT, sizeof(uint32_t)},
    {ABI_TIOCSPTLCK, IOC_IN, sizeof(int32_t)},
    {ABI_TIOCGPTLCK, IOC_OUT, sizeof(int32_t)},
    {ABI_TIOCGPKT, IOC_OUT, sizeof(int32_t)},
    {ABI_TIOCGEXCL, IOC_OUT, sizeof(int32_t)},
    {ABI_TIOCGDEV, IOC_OUT, sizeof(uint32_t)},
    {ABI_RNDGETENTCNT, IOC_OUT, sizeof(int32_t)},
    /* Argument-less or by-value terminal requests. */
    {ABI_TCSBRK, IOC_VALUE, 0},
    {ABI_TCSBRKP, IOC_VALUE, 0},
    {ABI_TCXONC, IOC_VALUE, 0},
    {ABI_TCFLSH, IOC_VALUE, 0},
    {ABI_TIOCEXCL, IOC_VALUE, 0},
    {ABI_TIOCNXCL, IOC_VALUE, 0},
    {ABI_TIOCSCTTY, IOC_VALUE, 0},
    {ABI_TIOCNOTTY, IOC_VALUE, 0},
    {ABI_TIOCSBRK, IOC_VALUE, 0},
    {ABI_TIOCCBRK, IOC_VALUE, 0},
    {ABI_TIOCGPTPEER, IOC_VALUE, 0},
};

static const struct ioctl_arg *ioctl_arg_of(uint32_t req)
{
    for (size_t i = 0; i < sizeof(ioctl_args) / sizeof(ioctl_args[0]); i++) {
        if (ioctl_args[i].req == req)
            return &ioctl_args[i];
    }
    return NULL;
}

/* Say once per request number that moat does not know it, so that a
 * program probing the same request in a loop does not flood the log. */
static void log_unknown_ioctl(struct task *t, uint32_t req)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static uint32_t seen[64];
    static size_t nseen;
    bool first = true;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nseen; i++) {
        if (seen[i] == req)
            first = false;
    }
    if (first && nseen < sizeof(seen) / sizeof(seen[0]))
        seen[nseen++] = req;
    pthread_mutex_unlock(&lock);
    if (first)
        kernel_log(t->k, "moat: ioctl request %#x is not implemented\n", req);
}

static int file_stat(struct vfs_file *f, struct abi_stat *st)
{
    if (f->ops->stat)
        return f->ops->stat(f, st);
    if (f->dentry) {
        vfs_inode_stat(vfs_file_inode(f), st);
        return 0;
    }
    return -ABI_ENOTTY;
}

static bool stat_is(const struct abi_stat *st, uint32_t type)
{
    return (st->st_mode & ABI_S_IFMT) == type;
}

static int64_t put_int(struct task *t, uint64_t addr, int32_t v)
{
    return mm_copy_out(t->mm, addr, &v, sizeof(v)) != 0 ? -ABI_EFAULT : 0;
}

static int64_t get_int(struct task *t, uint64_t addr, int32_t *v)
{
    return mm_copy_in(t->mm, v, addr, sizeof(*v)) != 0 ? -ABI_EFAULT : 0;
}

/* FICLONE / FICLONERANGE (cp's reflink attempt): no moat filesystem shares
 * extents between files, so after Linux's checks the answer is the one a
 * filesystem without reflink gives, and cp falls back to copying. */
static int64_t clone_range(struct task *t, struct vfs_file *dst, uint32_t req, uint64_t argp)
{
    uint64_t srcfd = argp;
    if (req == ABI_FICLONERANGE) {
        int64_t fd; /* struct file_clone_range starts with the source fd */
        if (mm_copy_in(t->mm, &fd, argp, sizeof(fd)) != 0)
            return -ABI_EFAULT;
        srcfd = (uint64_t)fd;
    }
    /* Linux looks the fd up as an unsigned int: only the low 32 bits count. */
    uint32_t fd32 = (uint32_t)srcfd;
    struct vfs_file *src = fd32 > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)fd32);
    if (!src || (src->flags & ABI_O_PATH))
        return -ABI_EBADF;
    if (src->mnt != dst->mnt)
        return -ABI_EXDEV;
    struct vfs_inode *si = vfs_file_inode(src), *di = vfs_file_inode(dst);
    if (!si || !di)
        return -ABI_EINVAL;
    if (vfs_is_dir(si) || vfs_is_dir(di))
        return -ABI_EISDIR;
    if (!vfs_is_reg(si) || !vfs_is_reg(di))
        return -ABI_EINVAL;
    if (!vfs_file_readable(src) || !vfs_file_writable(dst) || (dst->flags & ABI_O_APPEND))
        return -ABI_EBADF;
    return -ABI_EOPNOTSUPP;
}

/* The requests Linux answers for every file before its driver sees them
 * (do_vfs_ioctl). Returns 1 when the request is not one of them. */
static int64_t generic_ioctl(struct task *t, int fd, struct vfs_file *f, uint32_t req,
                             uint64_t argp)
{
    struct abi_stat st;
    int32_t on;
    int64_t err;
    switch (req) {
    case ABI_FIOCLEX:
    case ABI_FIONCLEX:
        return vfs_fd_set_cloexec(t->fds, fd, req == ABI_FIOCLEX);
    case ABI_FIONBIO:
        if ((err = get_int(t, argp, &on)))
            return err;
        if (on)
            f->flags |= ABI_O_NONBLOCK;
        else
            f->flags &= ~(uint32_t)ABI_O_NONBLOCK;
        return 0;
    case ABI_FIOASYNC:
        if ((err = get_int(t, argp, &on)))
            return err;
        /* Turning O_ASYNC on or off needs the file's SIGIO support, which
         * no moat file has yet: Linux's answer for such a file. Asking for
         * the state the file is already in succeeds. */
        if (!on != !(f->flags & ABI_O_ASYNC))
            return -ABI_ENOTTY;
        return 0;
    case ABI_FIOQSIZE: {
        if ((err = file_stat(f, &st)))
            return err;
        if (!stat_is(&st, ABI_S_IFREG) && !stat_is(&st, ABI_S_IFDIR) && !stat_is(&st, ABI_S_IFLNK))
            return -ABI_ENOTTY;
        int64_t bytes = st.st_blocks * 512;
        return mm_copy_out(t->mm, argp, &bytes, sizeof(bytes)) != 0 ? -ABI_EFAULT : 0;
    }
    case ABI_FIGETBSZ:
        if ((err = file_stat(f, &st)))
            return err;
        return put_int(t, argp, (int32_t)st.st_blksize);
    case ABI_FICLONE:
    case ABI_FICLONERANGE:
        return clone_range(t, f, req, argp);
    case ABI_FIONREAD: {
        if (file_stat(f, &st) != 0 || !stat_is(&st, ABI_S_IFREG))
            return 1; /* the file's own answer: pipes, sockets, ttys */
        int64_t pos = f->ops->lseek ? f->ops->lseek(f, 0, ABI_SEEK_CUR) : f->pos;
        if (pos < 0)
            return pos;
        /* Linux stores the difference in an int, truncating as it goes. */
        return put_int(t, argp, (int32_t)(st.st_size - pos));
    }
    default:
        return 1;
    }
}

int64_t sys_ioctl(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = file_for(t, a[0]);
    /* O_PATH descriptors are not open for ioctl. */
    if (!f || (f->flags & ABI_O_PATH))
        return -ABI_EBADF;
    uint32_t req = (uint32_t)a[1];
    int64_t r = generic_ioctl(t, (int)a[0], f, req, a[2]);
    if (r <= 0)
        return r;
    const struct ioctl_arg *how = ioctl_arg_of(req);
    if (!how)
        log_unknown_ioctl(t, req);
    /* A file without an ioctl op answers ENOTTY before its argument is
     * looked at, as Linux's vfs_ioctl does. */
    if (!f->ops->ioctl)
        return -ABI_ENOTTY;
    union {
        struct abi_termios tio;
        struct abi_winsize ws;
        int32_t i;
        uint64_t value;
    } arg;
    memset(&arg, 0, sizeof(arg));
    size_t len = how ? how->len : 0;
    if (!how || how->dir == IOC_VALUE)
        arg.value = a[2];
    else if (how->dir == IOC_IN && mm_copy_in(t->mm, &arg, a[2], len) != 0) {
        /* Linux's drivers copy the argument in themselves, so a file that is
         * no terminal (a host pipe or file on stdio) refuses these terminal
         * requests with ENOTTY before the pointer is looked at. */
        struct abi_stat st;
        if (file_stat(f, &st) == 0 && !stat_is(&st, ABI_S_IFCHR))
            return -ABI_ENOTTY;
        return -ABI_EFAULT;
    }
    int err = f->ops->ioctl(f, req, &arg, len);
    if (err)
        return err;
    if (how && how->dir == IOC_OUT && mm_copy_out(t->mm, a[2], &arg, len) != 0)
        return -ABI_EFAULT;
    return 0;
}
