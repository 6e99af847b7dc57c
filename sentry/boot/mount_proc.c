/* /proc: moat's procfs (sentry/fs/procfs), mounted as container runtimes
 * mount it: read-write, nosuid, nodev, noexec. */
#include "abi/errno.h"
#include "sentry/boot/mounts.h"
#include "sentry/fs/procfs/procfs.h"

int boot_mount_proc(struct kernel *k, const struct vfs_walk_ctx *ctx, const char **why)
{
    struct vfs_filesystem *fs;
    int err = procfs_create(k, &fs);
    if (err) {
        *why = "cannot create procfs";
        return err;
    }
    err = boot_mount_fs(ctx, "/proc", fs, VFS_MNT_NOSUID | VFS_MNT_NODEV | VFS_MNT_NOEXEC);
    vfs_fs_put(fs);
    if (err == -ABI_ENOENT || err == -ABI_ENOTDIR)
        return 0;
    if (err)
        *why = "cannot mount /proc";
    return err;
}
