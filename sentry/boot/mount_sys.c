/* /sys: until moat's own sysfs exists, an empty read-only tmpfs hides
 * whatever the root has there. */
#include "abi/errno.h"
#include "sentry/boot/mounts.h"

int boot_mount_sys(struct kernel *k, const struct vfs_walk_ctx *ctx, const char **why)
{
    int err = boot_mount_tmpfs(k, ctx, "/sys", 0555,
                               VFS_MNT_RDONLY | VFS_MNT_NOSUID | VFS_MNT_NODEV | VFS_MNT_NOEXEC);
    if (err == -ABI_ENOENT || err == -ABI_ENOTDIR)
        return 0;
    if (err)
        *why = "cannot mount /sys";
    return err;
}
