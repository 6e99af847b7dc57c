/* read, write and friends on the fd table's files. */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

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

static bool readable(const struct vfs_file *f)
{
    uint32_t acc = f->flags & ABI_O_ACCMODE;
    return acc == ABI_O_RDONLY || acc == ABI_O_RDWR;
}

static bool writable(const struct vfs_file *f)
{
    uint32_t acc = f->flags & ABI_O_ACCMODE;
    return acc == ABI_O_WRONLY || acc == ABI_O_RDWR;
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
    uint64_t done = 0, i = 0, in = 0, budget = MAX_RW_COUNT;
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

/* One read from the file into the bounce buffer, scattered over the guest's
 * iovec. A single host read per call: reads from pipes and terminals must
 * return what is there, not wait for more. */
static int64_t read_vec(struct task *t, struct vfs_file *f, const struct abi_iovec *vec,
                        uint64_t cnt, int64_t off)
{
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt && total < IO_CHUNK; i++)
        total += vec[i].iov_len;
    size_t want = total > IO_CHUNK ? IO_CHUNK : (size_t)total;
    int64_t r = off < 0 ? f->ops->read(f, io_buf, want) : f->ops->pread(f, io_buf, want, off);
    if (r <= 0)
        return r;
    size_t put = 0;
    for (uint64_t i = 0; i < cnt && put < (size_t)r; i++) {
        size_t take = (size_t)r - put;
        if (take > vec[i].iov_len)
            take = (size_t)vec[i].iov_len;
        size_t got = copy_out_prefix(t, vec[i].iov_base, io_buf + put, take);
        put += got;
        if (got < take)
            break;
    }
    return put ? (int64_t)put : -ABI_EFAULT;
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
    if (!(write ? writable(f) : readable(f)))
        return -ABI_EBADF;
    if (write ? !f->ops->write : !f->ops->read)
        return -ABI_EINVAL;
    uint64_t n = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2];
    if (!kernel_access_ok(a[1], n))
        return -ABI_EFAULT;
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
    if (!f || !(write ? writable(f) : readable(f)))
        return -ABI_EBADF;
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

int64_t sys_ioctl(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = file_for(t, a[0]);
    if (!f)
        return -ABI_EBADF;
    uint32_t req = (uint32_t)a[1];
    union {
        struct abi_termios tio;
        struct abi_winsize ws;
    } arg;
    size_t len;
    switch (req) {
    case ABI_TCGETS:
        len = sizeof(arg.tio);
        break;
    case ABI_TIOCGWINSZ:
        len = sizeof(arg.ws);
        break;
    default:
        kernel_log(t->k, "moat: ioctl request %#x is not implemented\n", req);
        return -ABI_ENOTTY;
    }
    if (!f->ops->ioctl)
        return -ABI_ENOTTY;
    memset(&arg, 0, sizeof(arg));
    int err = f->ops->ioctl(f, req, &arg, len);
    if (err)
        return err;
    if (mm_copy_out(t->mm, a[2], &arg, len) != 0)
        return -ABI_EFAULT;
    return 0;
}
