/* overlay: a writable filesystem stacked on a read-only one. The lower
 * filesystem (the root the Gofer serves) is only ever read; every change
 * lands in the upper one (a tmpfs private to the overlay), with Linux
 * overlayfs's rules for copy-up, whiteouts and merged directories. */
#ifndef MOAT_SENTRY_FS_OVERLAY_H
#define MOAT_SENTRY_FS_OVERLAY_H

#include "sentry/vfs/vfs.h"

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* A new overlay of upper over lower, with one reference for the caller.
 * Takes over the caller's reference to both filesystems, also on failure.
 * upper must be empty and never mounted anywhere else: the overlay keeps
 * private markers in it. */
int overlay_create(struct vfs_filesystem *lower, struct vfs_filesystem *upper,
                   struct vfs_filesystem **out);

#endif
