/* The sandbox's mount tree. */
#include <string.h>

#include "abi/errno.h"
#include "gofer/client.h"
#include "sentry/boot/mounts.h"
#include "sentry/boot/sentry.h"
#include "sentry/fs/goferfs.h"
#include "sentry/fs/overlay.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/kernel/kernel.h"

int boot_mount_fs(const struct vfs_walk_ctx *ctx, const char *path, struct vfs_filesystem *fs,
                  uint32_t mnt_flags)
{
    struct vfs_path at;
    int err = vfs_walk(ctx, ctx->root, path, VFS_WALK_DIRECTORY, &at);
    if (err)
        return err;
    struct vfs_mount *m;
    err = vfs_mount_at(at, fs, mnt_flags, &m);
    vfs_path_put(at);
    return err;
}

int boot_mount_tmpfs(struct kernel *k, const struct vfs_walk_ctx *ctx, const char *path,
                     uint32_t mode, uint32_t mnt_flags)
{
    struct vfs_filesystem *fs;
    struct tmpfs_opts o = {.root_mode = mode, .rdonly = (mnt_flags & VFS_MNT_RDONLY) != 0};
    int err = tmpfs_create(k->memfile, &o, &fs);
    if (err)
        return err;
    err = boot_mount_fs(ctx, path, fs, mnt_flags);
    vfs_fs_put(fs);
    return err;
}

/* The Gofer-served filesystems, whose lower dentry trees (below an overlay)
 * are not part of the mount tree and are pruned on their own. */
static struct vfs_filesystem *served[1 + SENTRY_MAX_VOLUMES];
static size_t nserved;

static void reclaim(void *arg)
{
    struct kernel *k = arg;
    /* The mounted trees first: their inodes may hold served ones. */
    if (k->root_mount)
        vfs_mount_tree_prune(k->root_mount);
    for (size_t i = 0; i < nserved; i++)
        vfs_dentry_prune(served[i]->root);
}

void boot_goferfs_reclaim(struct kernel *k, struct vfs_filesystem *fs)
{
    if (nserved < sizeof(served) / sizeof(served[0]))
        served[nserved++] = fs;
    goferfs_set_reclaim(fs, reclaim, k);
}

void boot_root_ctx(const struct kernel *k, struct vfs_walk_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->root.mnt = k->root_mount;
    ctx->root.dentry = k->root_mount->root;
    ctx->cred.cap_dac_override = ctx->cred.cap_fowner = true;
}

static bool missing(int err)
{
    return err == -ABI_ENOENT || err == -ABI_ENOTDIR;
}

/* The root filesystem. With a Gofer, the tree it serves, read-only, under
 * a writable overlay whose upper layer is a tmpfs in the memory file: the
 * guest's changes vanish with the sandbox and the host tree never changes.
 * Without a Gofer, an empty tmpfs with the directories programs expect. */
static int make_root(struct kernel *k, int gofer_fd, struct vfs_filesystem **rootfs,
                     uint32_t *mnt_flags, const char **why)
{
    int err;
    if (gofer_fd >= 0) {
        struct gofer_client *c = gofer_client_create(gofer_fd);
        if (!c) {
            *why = "cannot create the Gofer client";
            return -ABI_ENOMEM;
        }
        err = goferfs_create(c, true, rootfs);
        if (err) {
            gofer_client_destroy(c);
            *why = "cannot mount the root the Gofer serves";
            return err;
        }
        k->gofer = c; /* outlives the filesystem: the Sentry's whole life */
        boot_goferfs_reclaim(k, *rootfs);
        struct vfs_filesystem *upper;
        struct tmpfs_opts uo = {.root_mode = 0755};
        err = tmpfs_create(k->memfile, &uo, &upper);
        if (err) {
            vfs_fs_put(*rootfs);
            *why = "cannot create the root overlay's upper tmpfs";
            return err;
        }
        err = overlay_create(*rootfs, upper, rootfs);
        if (err) {
            *why = "cannot create the root overlay";
            return err;
        }
        *mnt_flags = 0;
        return 0;
    }
    struct tmpfs_opts o = {.root_mode = 0755};
    err = tmpfs_create(k->memfile, &o, rootfs);
    if (err)
        *why = "cannot create the root tmpfs";
    *mnt_flags = 0;
    return err;
}

int boot_build_mounts(struct kernel *k, int gofer_fd, const char **why)
{
    struct vfs_filesystem *rootfs;
    uint32_t mnt_flags;
    int err = make_root(k, gofer_fd, &rootfs, &mnt_flags, why);
    if (err)
        return err;
    err = vfs_mount_new_root(rootfs, mnt_flags, &k->root_mount);
    vfs_fs_put(rootfs);
    if (err) {
        *why = "cannot mount the root";
        return err;
    }
    struct vfs_walk_ctx ctx;
    boot_root_ctx(k, &ctx);
    if (gofer_fd < 0) {
        static const char *const dirs[] = {"tmp", "dev",  "proc", "sys",
                                           "etc", "home", "root", "run"};
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
            err = vfs_mkdirat(&ctx, ctx.root, dirs[i], strcmp(dirs[i], "root") == 0 ? 0700 : 0755);
            if (err) {
                *why = "cannot create the root's directories";
                return err;
            }
        }
    }
    err = boot_mount_dev(k, &ctx, why);
    if (!err)
        err = boot_mount_proc(k, &ctx, why);
    if (!err)
        err = boot_mount_sys(k, &ctx, why);
    if (err)
        return err;
    /* A writable root (the overlay, or the --no-gofer tmpfs) holds /tmp as
     * it is, as a container's does: programs run from the host's /tmp keep
     * working, and writes there land in the overlay's memory. A read-only
     * root gets a tmpfs there so that programs have somewhere to write. */
    if (!(mnt_flags & VFS_MNT_RDONLY))
        return 0;
    err = boot_mount_tmpfs(k, &ctx, "/tmp", 01777, VFS_MNT_NOSUID | VFS_MNT_NODEV);
    if (missing(err))
        return 0; /* a root without /tmp keeps it that way */
    if (err)
        *why = "cannot mount /tmp";
    return err;
}
