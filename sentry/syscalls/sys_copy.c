/* Moving data between files and hints about it: sendfile, copy_file_range,
 * fallocate, fadvise64, readahead. The copies go through a bounce buffer
 * with the files' own pread/pwrite (the Sentry's memory, never the guest's). */
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

/* Linux caps one transfer at this many bytes (MAX_RW_COUNT). */
#define MAX_RW_COUNT 0x7ffff000ULL
#define COPY_CHUNK   65536
/* Every FALLOC_FL_* mode bit but KEEP_SIZE (Linux's FALLOC_FL_MODE_MASK,
 * with WRITE_ZEROES, 0x80). */
#define FALLOC_MODE_MASK                                                                           \
    (ABI_FALLOC_FL_PUNCH_HOLE | ABI_FALLOC_FL_COLLAPSE_RANGE | ABI_FALLOC_FL_ZERO_RANGE |          \
     ABI_FALLOC_FL_INSERT_RANGE | ABI_FALLOC_FL_UNSHARE_RANGE | 0x80)

static _Thread_local unsigned char copy_buf[COPY_CHUNK];

/* An fd that is open for I/O: O_PATH descriptions are not. */
static struct vfs_file *io_file(struct task *t, uint64_t fd)
{
    struct vfs_file *f = fd > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)fd);
    return f && !(f->flags & ABI_O_PATH) ? f : NULL;
}

/* The file's type and size as fstat reports them. */
static int file_stat(struct vfs_file *f, uint32_t *mode, int64_t *size)
{
    struct abi_stat st;
    int err = f->ops->stat ? f->ops->stat(f, &st) : -ABI_EINVAL;
    if (err)
        return err;
    *mode = st.st_mode & ABI_S_IFMT;
    *size = st.st_size;
    return 0;
}

/* Read from in (at *pos, or at its own offset when pos is NULL) and write
 * to out (at *opos, or its offset), up to count bytes; stops at the end of
 * in or a short write. The bytes moved, or -errno when none were. */
static int64_t pump(struct vfs_file *in, int64_t *pos, struct vfs_file *out, int64_t *opos,
                    uint64_t count)
{
    uint64_t done = 0;
    int64_t err = 0;
    while (done < count) {
        size_t want = count - done < COPY_CHUNK ? (size_t)(count - done) : COPY_CHUNK;
        int64_t got =
            pos ? in->ops->pread(in, copy_buf, want, *pos) : in->ops->read(in, copy_buf, want);
        if (got <= 0) {
            err = got;
            break;
        }
        int64_t put = opos ? out->ops->pwrite(out, copy_buf, (size_t)got, *opos)
                           : out->ops->write(out, copy_buf, (size_t)got);
        if (put < 0) {
            err = put;
            /* What was read but not written goes back to the reader. */
            if (!pos && in->ops->lseek)
                in->ops->lseek(in, -got, ABI_SEEK_CUR);
            break;
        }
        if (pos)
            *pos += put;
        else if (put < got && in->ops->lseek)
            in->ops->lseek(in, put - got, ABI_SEEK_CUR);
        if (opos)
            *opos += put;
        done += (uint64_t)put;
        if (put < got || (size_t)got < want)
            break;
    }
    return done ? (int64_t)done : err;
}

int64_t sys_sendfile(struct task *t, const uint64_t a[6])
{
    struct vfs_file *in = io_file(t, a[1]);
    if (!in || !vfs_file_readable(in))
        return -ABI_EBADF;
    int64_t pos = 0;
    if (a[2]) {
        if (mm_copy_in(t->mm, &pos, a[2], sizeof(pos)))
            return -ABI_EFAULT;
        if (!in->positional)
            return -ABI_ESPIPE;
        if (pos < 0)
            return -ABI_EINVAL;
    }
    /* Linux's rw_verify_area on the input: a count negative as an ssize_t,
     * or one that takes the offset past the largest, is EINVAL (before
     * the count is cut to MAX_RW_COUNT). */
    int64_t at = a[2] ? pos : in->pos;
    if (a[3] > (uint64_t)INT64_MAX || (at >= 0 && a[3] > (uint64_t)(INT64_MAX - at)))
        return -ABI_EINVAL;
    uint64_t count = a[3] > MAX_RW_COUNT ? MAX_RW_COUNT : a[3];
    struct vfs_file *out = io_file(t, a[0]);
    if (!out || !vfs_file_writable(out))
        return -ABI_EBADF;
    if (out->flags & ABI_O_APPEND)
        return -ABI_EINVAL;
    if (count == 0)
        return 0;
    if (!in->ops->read || (a[2] && !in->ops->pread) || !out->ops->write)
        return -ABI_EINVAL;
    int64_t err = sys_fsize_write_check(t, out, -1, &count);
    if (err)
        return err;
    int64_t r = pump(in, a[2] ? &pos : NULL, out, NULL, count);
    if (a[2] && r > 0 && mm_copy_out(t->mm, a[2], &pos, sizeof(pos)))
        return -ABI_EFAULT;
    return r;
}

/* The inode as the guest sees it: an overlay file's is the overlay's, the
 * one filesystem both of its layers appear as. NULL for host stdio. */
static struct vfs_inode *guest_inode(const struct vfs_file *f)
{
    return f->dentry ? f->dentry->inode : f->inode;
}

static int copy_range_pos(struct task *t, struct vfs_file *f, uint64_t addr, int64_t *pos)
{
    if (!addr) {
        *pos = f->pos;
        return 0;
    }
    return mm_copy_in(t->mm, pos, addr, sizeof(*pos)) ? -ABI_EFAULT : 0;
}

int64_t sys_copy_file_range(struct task *t, const uint64_t a[6])
{
    if (a[5] != 0)
        return -ABI_EINVAL;
    struct vfs_file *in = io_file(t, a[0]), *out = io_file(t, a[2]);
    if (!in || !out)
        return -ABI_EBADF;
    int64_t pin, pout;
    int err = copy_range_pos(t, in, a[1], &pin);
    if (!err)
        err = copy_range_pos(t, out, a[3], &pout);
    if (err)
        return err;
    uint32_t min, mout;
    int64_t size_in, size_out;
    err = file_stat(in, &min, &size_in);
    if (!err)
        err = file_stat(out, &mout, &size_out);
    if (err)
        return err;
    if (min == ABI_S_IFDIR || mout == ABI_S_IFDIR)
        return -ABI_EISDIR;
    if (min != ABI_S_IFREG || mout != ABI_S_IFREG)
        return -ABI_EINVAL;
    if (!vfs_file_readable(in) || !vfs_file_writable(out) || (out->flags & ABI_O_APPEND))
        return -ABI_EBADF;
    uint64_t len = a[4];
    /* Linux's order: offsets that wrap around as unsigned numbers are
     * EOVERFLOW (so is a negative one, unless len is small), a negative
     * offset EINVAL; a huge len is no error by itself, it is cut below. */
    if ((uint64_t)pin + len < (uint64_t)pin || (uint64_t)pout + len < (uint64_t)pout)
        return -ABI_EOVERFLOW;
    if (pin < 0 || pout < 0)
        return -ABI_EINVAL;
    /* Only what the source holds is copied, and nothing past the largest
     * offset a file can have (EFBIG from there on, even for nothing). */
    if (pin >= size_in)
        len = 0;
    else if (len > (uint64_t)(size_in - pin))
        len = (uint64_t)(size_in - pin);
    if (pout == INT64_MAX)
        return -ABI_EFBIG;
    if (len > (uint64_t)(INT64_MAX - pout))
        len = (uint64_t)(INT64_MAX - pout);
    struct vfs_inode *iin = guest_inode(in), *iout = guest_inode(out);
    if (iin && iin == iout && pout + (int64_t)len > pin && pout < pin + (int64_t)len)
        return -ABI_EINVAL;
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if (len == 0)
        return 0;
    /* No filesystem here copies across superblocks (Linux 5.19+); host
     * stdio files belong to none of the sandbox's (callers fall back to
     * read and write). */
    if (!iin || !iout || iin->fs != iout->fs)
        return -ABI_EXDEV;
    int64_t big = sys_fsize_write_check(t, out, pout, &len);
    if (big)
        return big;
    int64_t r = pump(in, &pin, out, &pout, len);
    if (r <= 0)
        return r;
    if (a[1] ? mm_copy_out(t->mm, a[1], &pin, sizeof(pin)) : (in->pos = pin, 0))
        return -ABI_EFAULT;
    if (a[3] ? mm_copy_out(t->mm, a[3], &pout, sizeof(pout)) : (out->pos = pout, 0))
        return -ABI_EFAULT;
    return r;
}

int64_t sys_fallocate(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = io_file(t, a[0]);
    if (!f)
        return -ABI_EBADF;
    int mode = (int)a[1];
    int64_t off = (int64_t)a[2], len = (int64_t)a[3];
    if (off < 0 || len <= 0)
        return -ABI_EINVAL;
    if (mode & ~(FALLOC_MODE_MASK | ABI_FALLOC_FL_KEEP_SIZE))
        return -ABI_EOPNOTSUPP;
    /* One mode at a time; KEEP_SIZE is a must for punching holes and
     * meaningless for the modes that move data. */
    switch (mode & FALLOC_MODE_MASK) {
    case 0:
    case ABI_FALLOC_FL_UNSHARE_RANGE:
    case ABI_FALLOC_FL_ZERO_RANGE:
        break;
    case ABI_FALLOC_FL_PUNCH_HOLE:
        if (!(mode & ABI_FALLOC_FL_KEEP_SIZE))
            return -ABI_EOPNOTSUPP;
        break;
    case ABI_FALLOC_FL_COLLAPSE_RANGE:
    case ABI_FALLOC_FL_INSERT_RANGE:
    case 0x80:
        if (mode & ABI_FALLOC_FL_KEEP_SIZE)
            return -ABI_EOPNOTSUPP;
        break;
    default:
        return -ABI_EOPNOTSUPP;
    }
    if (!vfs_file_writable(f))
        return -ABI_EBADF;
    uint32_t type;
    int64_t size;
    int err = file_stat(f, &type, &size);
    if (err)
        return err;
    if (type == ABI_S_IFIFO)
        return -ABI_ESPIPE;
    if (type == ABI_S_IFDIR)
        return -ABI_EISDIR;
    if (type != ABI_S_IFREG)
        return -ABI_ENODEV;
    if (off > INT64_MAX - len)
        return -ABI_EFBIG;
    if (f->mnt && vfs_mount_readonly(f->mnt))
        return -ABI_EROFS;
    if (!(mode & ABI_FALLOC_FL_KEEP_SIZE)) {
        err = (int)sys_fsize_size_check(t, off + len, size);
        if (err)
            return err;
    }
    return f->ops->allocate ? f->ops->allocate(f, mode, off, len) : -ABI_EOPNOTSUPP;
}

/* Nothing is cached behind the files' backs, so advice is only checked. */
static int64_t advise(struct vfs_file *f, int64_t len, int advice)
{
    uint32_t type;
    int64_t size;
    int err = file_stat(f, &type, &size);
    if (err)
        return err;
    if (type == ABI_S_IFIFO)
        return -ABI_ESPIPE;
    if (len < 0)
        return -ABI_EINVAL;
    if (advice < ABI_POSIX_FADV_NORMAL || advice > ABI_POSIX_FADV_NOREUSE)
        return -ABI_EINVAL;
    return 0;
}

int64_t sys_fadvise64(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = io_file(t, a[0]);
    if (!f)
        return -ABI_EBADF;
    return advise(f, (int64_t)a[2], (int)a[3]);
}

int64_t sys_readahead(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = io_file(t, a[0]);
    if (!f || !vfs_file_readable(f))
        return -ABI_EBADF;
    uint32_t type;
    int64_t size;
    int err = file_stat(f, &type, &size);
    if (err)
        return err;
    if (type != ABI_S_IFREG && type != ABI_S_IFBLK)
        return -ABI_EINVAL;
    return advise(f, (int64_t)a[2], ABI_POSIX_FADV_WILLNEED);
}
