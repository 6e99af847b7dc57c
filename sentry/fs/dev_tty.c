/* /dev/tty (5:0): the opener's controlling terminal. No task in the
 * sandbox has one yet (moat's own terminals come with devpts), and Linux
 * answers an open of /dev/tty without one with ENXIO. */
#include "abi/errno.h"
#include "sentry/fs/devfs.h"
#include "sentry/vfs/device.h"

static int tty_open(struct vfs_inode *ino, struct vfs_file *f)
{
    (void)ino, (void)f;
    return -ABI_ENXIO;
}

static const struct vfs_chrdev tty_dev = {5, 0, "tty", tty_open};

/* /dev/console (5:1): no console is attached to a sandbox yet. */
static int console_open(struct vfs_inode *ino, struct vfs_file *f)
{
    (void)ino, (void)f;
    return -ABI_ENODEV;
}

static const struct vfs_chrdev console_dev = {5, 1, "console", console_open};

int devfs_tty_register(void)
{
    int err = vfs_chrdev_register(&tty_dev);
    return err ? err : vfs_chrdev_register(&console_dev);
}
