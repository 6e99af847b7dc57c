/* /sys: moat's minimal sysfs (sentry/fs/sysfs.h), read-only as container
 * runtimes mount it, nosuid, nodev, noexec. */
#include "abi/errno.h"
#include "sentry/boot/mounts.h"
#include "sentry/fs/sysfs.h"

int boot_mount_sys(struct kernel *k, const struct vfs_walk_ctx *ctx, const char **why)
{
    struct vfs_filesystem *fs;
    int err = sysfs_create(k, &fs);
    if (err) {
        *why = "cannot create sysfs";
        return err;
    }
    err = boot_mount_fs(ctx, "/sys", fs,
                        VFS_MNT_RDONLY | VFS_MNT_NOSUID | VFS_MNT_NODEV | VFS_MNT_NOEXEC);
    vfs_fs_put(fs);
    if (err == -ABI_ENOENT || err == -ABI_ENOTDIR)
        return 0;
    if (err)
        *why = "cannot mount /sys";
    return err;
}
