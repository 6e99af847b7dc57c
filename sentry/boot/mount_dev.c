/* /dev: a tmpfs that devfs fills with the nodes a container runtime
 * provides (sentry/fs/devfs.h), with a tmpfs of its own on /dev/shm as on
 * Linux. Mount flags as runc's: /dev nosuid; /dev/shm nosuid, nodev,
 * noexec. */
#include "abi/errno.h"
#include "sentry/boot/mounts.h"
#include "sentry/fs/devfs.h"

int boot_mount_dev(struct kernel *k, const struct vfs_walk_ctx *ctx, const char **why)
{
    int err = devfs_register_drivers();
    if (err) {
        *why = "cannot register the device drivers";
        return err;
    }
    err = boot_mount_tmpfs(k, ctx, "/dev", 0755, VFS_MNT_NOSUID);
    if (err == -ABI_ENOENT || err == -ABI_ENOTDIR)
        return 0;
    if (err) {
        *why = "cannot mount /dev";
        return err;
    }
    struct vfs_path dev;
    err = vfs_walk(ctx, ctx->root, "/dev", VFS_WALK_DIRECTORY, &dev);
    if (!err) {
        err = devfs_populate(ctx, dev);
        vfs_path_put(dev);
    }
    if (err) {
        *why = "cannot populate /dev";
        return err;
    }
    err = boot_mount_tmpfs(k, ctx, "/dev/shm", 01777,
                           VFS_MNT_NOSUID | VFS_MNT_NODEV | VFS_MNT_NOEXEC);
    if (err)
        *why = "cannot mount /dev/shm";
    return err;
}
