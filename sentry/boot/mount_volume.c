/* --volume HOST:GUEST[:ro]: a bind mount served by a Gofer of its own. */
#include <stdio.h>
#include <string.h>

#include "abi/errno.h"
#include "gofer/client.h"
#include "sentry/boot/mounts.h"
#include "sentry/boot/sentry.h"
#include "sentry/fs/goferfs.h"
#include "sentry/kernel/kernel.h"

/* mkdir -p of path in the sandbox's tree, as root of the sandbox. */
static int make_dirs(const struct vfs_walk_ctx *ctx, const char *path)
{
    char buf[VFS_PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ABI_ENAMETOOLONG;
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        int err = vfs_mkdirat(ctx, ctx->root, buf, 0755);
        *p = c;
        if (err && err != -ABI_EEXIST)
            return err;
        if (!c)
            return 0;
        while (p[1] == '/')
            p++;
        if (!p[1])
            return 0;
    }
}

int boot_mount_volume(struct kernel *k, const struct sentry_volume *v, const char **why)
{
    static char msg[VFS_PATH_MAX + 64];
    struct vfs_walk_ctx ctx;
    boot_root_ctx(k, &ctx);

    struct gofer_client *c = gofer_client_create(v->gofer_fd);
    if (!c) {
        *why = "cannot create a volume's Gofer client";
        return -ABI_ENOMEM;
    }
    struct vfs_filesystem *fs;
    int err = goferfs_create(c, v->readonly, &fs);
    if (err) {
        gofer_client_destroy(c);
        snprintf(msg, sizeof(msg), "volume %s: cannot mount what its Gofer serves", v->guest);
        *why = msg;
        return err;
    }
    /* The client lives as long as the Sentry, like the root's; the
     * filesystem too, through its mount. */
    boot_goferfs_reclaim(k, fs);
    err = boot_mount_fs(&ctx, v->guest, fs, v->readonly ? VFS_MNT_RDONLY : 0);
    if (err == -ABI_ENOENT) {
        err = make_dirs(&ctx, v->guest);
        if (!err)
            err = boot_mount_fs(&ctx, v->guest, fs, v->readonly ? VFS_MNT_RDONLY : 0);
    }
    vfs_fs_put(fs);
    if (err) {
        snprintf(msg, sizeof(msg), "volume %s: cannot mount it there", v->guest);
        *why = msg;
    }
    return err;
}
