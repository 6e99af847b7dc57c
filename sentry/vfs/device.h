/* Character devices by number: opening a device node, wherever it lives
 * (devfs, a tmpfs, the root), finds its driver by major:minor in this
 * registry, as Linux's chrdev table does, so that `mknod c 1 3` anywhere
 * gives a /dev/null. Drivers (sentry/fs/dev_*.c) register at boot. */
#ifndef MOAT_SENTRY_VFS_DEVICE_H
#define MOAT_SENTRY_VFS_DEVICE_H

#include <stdint.h>

#include "sentry/vfs/vfs.h"

/* st_rdev as userspace's makedev() encodes it (Linux's new_encode_dev):
 * the low 8 bits of the minor, 12 bits of major, the rest of the minor. */
static inline uint64_t vfs_mkdev(uint32_t major, uint32_t minor)
{
    return ((uint64_t)(minor & 0xff)) | ((uint64_t)(major & 0xfff) << 8) |
           ((uint64_t)(minor & ~0xffu) << 12) | ((uint64_t)(major & ~0xfffu) << 32);
}

static inline uint32_t vfs_dev_major(uint64_t dev)
{
    return (uint32_t)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffULL));
}

static inline uint32_t vfs_dev_minor(uint64_t dev)
{
    return (uint32_t)((dev & 0xff) | ((dev >> 12) & ~0xffULL));
}

struct vfs_chrdev {
    uint32_t major, minor;
    const char *name;
    /* Fill in f->ops (and positional, fault_mode, priv) as an inode's open
     * does; f->dentry and f->mnt are already set. */
    int (*open)(struct vfs_inode *ino, struct vfs_file *f);
};

/* Registers dev (which must outlive the Sentry). Registering the same
 * driver twice is a no-op; another driver on a taken number is -EBUSY. */
int vfs_chrdev_register(const struct vfs_chrdev *dev);
/* NULL when nothing is registered at major:minor. */
const struct vfs_chrdev *vfs_chrdev_lookup(uint32_t major, uint32_t minor);

/* Open a character or block device node found at mnt: EACCES on a nodev
 * mount, ENXIO for a number with no driver (and for every block device:
 * the sandbox has none). Called by vfs_open for S_IFCHR and S_IFBLK. */
int vfs_device_open(struct vfs_inode *ino, struct vfs_file *f);
/* Linux's may_open_dev: whether devices may be opened on mnt. */
int vfs_device_may_open(const struct vfs_mount *mnt);

#endif
