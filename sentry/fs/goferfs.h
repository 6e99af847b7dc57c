/* goferfs: a filesystem whose inodes are nodes of a Gofer (gofer/client.h).
 *
 * Names, attributes and directory listings come from the Gofer; file data
 * never does: opening a regular file asks the Gofer for a host fd, and reads
 * and writes go straight to it. See sentry/fs/README.md for the attribute
 * caching and revalidation policy.
 */
#ifndef MOAT_SENTRY_FS_GOFERFS_H
#define MOAT_SENTRY_FS_GOFERFS_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/vfs/vfs.h"

struct gofer_client;

/* How long attributes from the Gofer are trusted without asking again. */
#define GOFERFS_ATTR_TTL_MS 1000u

/* MOUNTs the Gofer's root and returns a filesystem with one reference for the
 * caller (vfs_fs_put it). The client stays the caller's: it must outlive the
 * filesystem, and nobody else may use it concurrently (the VFS serialises).
 * A read-only goferfs answers every mutation with EROFS without asking the
 * Gofer. */
int goferfs_create(struct gofer_client *c, bool readonly, struct vfs_filesystem **out);

/* Changes how long cached attributes are trusted (0: every stat asks the
 * Gofer). fs must be a goferfs. */
void goferfs_set_attr_ttl_ms(struct vfs_filesystem *fs, uint32_t ms);

/* The Gofer holds one node per inode goferfs has, and its table is bounded.
 * When it is full, its client calls reclaim (which should free unused cached
 * dentries: vfs_mount_tree_prune) and retries once. */
void goferfs_set_reclaim(struct vfs_filesystem *fs, void (*reclaim)(void *arg), void *arg);

#endif
