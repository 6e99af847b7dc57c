/* The memory devices of major 1: null, zero, full, random and urandom.
 *
 * null and zero swallow writes without reading the buffer (a write from
 * unmapped memory still succeeds on Linux), full refuses them with ENOSPC,
 * and random/urandom read the host's generator (getrandom, which the
 * Sentry's seccomp filter allows): both are the non-blocking urandom source
 * once the host's pool is initialised, which it is by the time moat runs.
 * Writes to random/urandom are accepted and dropped: the guest may not stir
 * the host's pool. mmap of /dev/zero is anonymous memory, as on Linux; the
 * others cannot be mapped (ENODEV). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/devfs.h"
#include "sentry/vfs/device.h"

/* RNDGETENTCNT's answer once the pool is initialised, as Linux gives it. */
#define POOL_BITS 256

static int64_t read_eof(struct vfs_file *f, void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    return 0;
}

static int64_t pread_eof(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    (void)off;
    return read_eof(f, buf, n);
}

static int64_t read_zeros(struct vfs_file *f, void *buf, size_t n)
{
    (void)f;
    memset(buf, 0, n);
    return (int64_t)n;
}

static int64_t pread_zeros(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    (void)off;
    return read_zeros(f, buf, n);
}

static int64_t write_sink(struct vfs_file *f, const void *buf, size_t n)
{
    (void)f, (void)buf;
    return (int64_t)n;
}

static int64_t pwrite_sink(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    (void)off;
    return write_sink(f, buf, n);
}

static int64_t write_full(struct vfs_file *f, const void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    return -ABI_ENOSPC;
}

static int64_t pwrite_full(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    (void)off;
    return write_full(f, buf, n);
}

static int64_t read_random(struct vfs_file *f, void *buf, size_t n)
{
    (void)f;
    size_t done = 0;
    while (done < n) {
        ssize_t r = getrandom((char *)buf + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return done ? (int64_t)done : -errno;
        }
        done += (size_t)r;
    }
    return (int64_t)done;
}

static int64_t pread_random(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    (void)off;
    return read_random(f, buf, n);
}

/* null, zero and full: every seek lands on 0. */
static int64_t lseek_zero(struct vfs_file *f, int64_t off, int whence)
{
    (void)off, (void)whence;
    f->pos = 0;
    return 0;
}

/* random and urandom: a seek changes nothing and reports the offset. */
static int64_t lseek_noop(struct vfs_file *f, int64_t off, int whence)
{
    (void)off, (void)whence;
    return f->pos;
}

static int dev_stat(struct vfs_file *f, struct abi_stat *st)
{
    vfs_inode_stat(vfs_file_inode(f), st);
    return 0;
}

/* Linux maps /dev/zero as anonymous memory: private mappings are plain
 * anonymous memory, shared ones shared anonymous memory. */
static int zero_mmap(struct vfs_file *f, bool shared, struct mm_fpages **pages)
{
    (void)f, (void)shared, (void)pages;
    return VFS_MMAP_ANON;
}

static int random_ioctl(struct vfs_file *f, uint32_t req, void *arg, size_t len)
{
    (void)f;
    if (req == ABI_RNDGETENTCNT && len == sizeof(int)) {
        int bits = POOL_BITS;
        memcpy(arg, &bits, sizeof(bits));
        return 0;
    }
    /* The random driver answers EINVAL to everything it does not know,
     * terminal requests included. */
    return -ABI_EINVAL;
}

static const struct vfs_file_ops null_ops = {
    .read = read_eof,
    .write = write_sink,
    .pread = pread_eof,
    .pwrite = pwrite_sink,
    .lseek = lseek_zero,
    .stat = dev_stat,
};

static const struct vfs_file_ops zero_ops = {
    .read = read_zeros,
    .write = write_sink,
    .pread = pread_zeros,
    .pwrite = pwrite_sink,
    .lseek = lseek_zero,
    .stat = dev_stat,
    .mmap = zero_mmap,
};

static const struct vfs_file_ops full_ops = {
    .read = read_zeros,
    .write = write_full,
    .pread = pread_zeros,
    .pwrite = pwrite_full,
    .lseek = lseek_zero,
    .stat = dev_stat,
};

static const struct vfs_file_ops random_ops = {
    .read = read_random,
    .write = write_sink,
    .pread = pread_random,
    .pwrite = pwrite_sink,
    .lseek = lseek_noop,
    .stat = dev_stat,
    .ioctl = random_ioctl,
};

static int open_with(struct vfs_file *f, const struct vfs_file_ops *ops, uint8_t fault_mode)
{
    f->ops = ops;
    f->positional = true;
    f->fault_mode = fault_mode;
    return 0;
}

static int null_open(struct vfs_inode *ino, struct vfs_file *f)
{
    (void)ino;
    return open_with(f, &null_ops, VFS_FAULT_NOREAD);
}

static int zero_open(struct vfs_inode *ino, struct vfs_file *f)
{
    (void)ino;
    return open_with(f, &zero_ops, VFS_FAULT_NOREAD);
}

static int full_open(struct vfs_inode *ino, struct vfs_file *f)
{
    (void)ino;
    return open_with(f, &full_ops, VFS_FAULT_NOREAD);
}

/* Linux copies what it can of a write to random before a fault. */
static int random_open(struct vfs_inode *ino, struct vfs_file *f)
{
    (void)ino;
    return open_with(f, &random_ops, VFS_FAULT_SHORT);
}

static const struct vfs_chrdev mem_devs[] = {
    {1, 3, "null", null_open},     {1, 5, "zero", zero_open},      {1, 7, "full", full_open},
    {1, 8, "random", random_open}, {1, 9, "urandom", random_open},
};

int devfs_mem_register(void)
{
    for (size_t i = 0; i < sizeof(mem_devs) / sizeof(mem_devs[0]); i++) {
        int err = vfs_chrdev_register(&mem_devs[i]);
        if (err)
            return err;
    }
    return 0;
}
