/* The character device registry. */
#include <pthread.h>
#include <stddef.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/vfs/device.h"

/* A handful of memory and tty devices: a flat table is enough. */
#define MAX_CHRDEVS 64

static const struct vfs_chrdev *chrdevs[MAX_CHRDEVS];
static int nchrdevs;
static pthread_mutex_t chrdevs_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct vfs_chrdev *find(uint32_t major, uint32_t minor)
{
    for (int i = 0; i < nchrdevs; i++) {
        if (chrdevs[i]->major == major && chrdevs[i]->minor == minor)
            return chrdevs[i];
    }
    return NULL;
}

int vfs_chrdev_register(const struct vfs_chrdev *dev)
{
    int err = 0;
    pthread_mutex_lock(&chrdevs_lock);
    const struct vfs_chrdev *old = find(dev->major, dev->minor);
    if (old)
        err = old == dev ? 0 : -ABI_EBUSY;
    else if (nchrdevs == MAX_CHRDEVS)
        err = -ABI_ENOSPC;
    else
        chrdevs[nchrdevs++] = dev;
    pthread_mutex_unlock(&chrdevs_lock);
    return err;
}

const struct vfs_chrdev *vfs_chrdev_lookup(uint32_t major, uint32_t minor)
{
    pthread_mutex_lock(&chrdevs_lock);
    const struct vfs_chrdev *dev = find(major, minor);
    pthread_mutex_unlock(&chrdevs_lock);
    return dev;
}

int vfs_device_may_open(const struct vfs_mount *mnt)
{
    return mnt && (mnt->flags & VFS_MNT_NODEV) ? -ABI_EACCES : 0;
}

int vfs_device_open(struct vfs_inode *ino, struct vfs_file *f)
{
    int err = vfs_device_may_open(f->mnt);
    if (err)
        return err;
    if ((ino->mode & ABI_S_IFMT) != ABI_S_IFCHR)
        return -ABI_ENXIO;
    const struct vfs_chrdev *dev =
        vfs_chrdev_lookup(vfs_dev_major(ino->rdev), vfs_dev_minor(ino->rdev));
    if (!dev)
        return -ABI_ENXIO;
    return dev->open(ino, f);
}
