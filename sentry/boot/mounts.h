/* The sandbox's mount tree, built once at start-up (mounts.c), with one file
 * per special filesystem so that each can grow on its own. */
#ifndef MOAT_SENTRY_BOOT_MOUNTS_H
#define MOAT_SENTRY_BOOT_MOUNTS_H

#include <stdint.h>

#include "sentry/vfs/vfs.h"

struct kernel;

/* Builds k->root_mount: the root (served by the Gofer at gofer_fd, or an
 * empty tmpfs when gofer_fd < 0), then /dev, /proc, /sys and /tmp. *why
 * names the step that failed. */
int boot_build_mounts(struct kernel *k, int gofer_fd, const char **why);

/* The walk context boot builds the tree with: the sandbox's root, with the
 * permissions of its root user. */
void boot_root_ctx(const struct kernel *k, struct vfs_walk_ctx *ctx);

/* Mount fs on the directory at path (resolved from ctx->root). Takes no
 * reference from the caller. -ENOENT / -ENOTDIR when the root lacks it. */
int boot_mount_fs(const struct vfs_walk_ctx *ctx, const char *path, struct vfs_filesystem *fs,
                  uint32_t mnt_flags);
/* Mount a fresh tmpfs (root directory mode `mode`) on the directory at path. */
int boot_mount_tmpfs(struct kernel *k, const struct vfs_walk_ctx *ctx, const char *path,
                     uint32_t mode, uint32_t mnt_flags);

/* A --volume: the tree its Gofer serves, mounted at v->guest, whose
 * missing directories are created first (in the writable root), as runc
 * creates mount points. The destination is resolved in the sandbox's own
 * tree, so a symlink there can only lead elsewhere inside the sandbox. */
struct sentry_volume;
int boot_mount_volume(struct kernel *k, const struct sentry_volume *v, const char **why);

/* Registers a goferfs so that a full Gofer node table makes the Sentry drop
 * unused cached dentries (of every mount, and of fs itself) and retry. fs
 * must live as long as the Sentry. */
void boot_goferfs_reclaim(struct kernel *k, struct vfs_filesystem *fs);

/* The special filesystems (mount_dev.c, mount_proc.c, mount_sys.c). Each
 * returns 0 when the root has no such directory. */
int boot_mount_dev(struct kernel *k, const struct vfs_walk_ctx *ctx, const char **why);
int boot_mount_proc(struct kernel *k, const struct vfs_walk_ctx *ctx, const char **why);
int boot_mount_sys(struct kernel *k, const struct vfs_walk_ctx *ctx, const char **why);

#endif
