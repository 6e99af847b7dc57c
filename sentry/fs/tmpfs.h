/* tmpfs: a filesystem held entirely in the Sentry, file data in the memory
 * file (so that it can later be mapped into guests without copies). */
#ifndef MOAT_SENTRY_FS_TMPFS_H
#define MOAT_SENTRY_FS_TMPFS_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/vfs/vfs.h"

#define TMPFS_MAGIC 0x01021994

struct mm_memfile;

struct tmpfs_opts {
    uint64_t max_bytes;  /* file data limit (size=); 0: half the memory file's worth, 1 GiB */
    uint64_t max_inodes; /* nr_inodes=; 0: 1 << 20 */
    uint32_t root_mode;  /* permission bits of the root; 0: 01777 */
    uint32_t root_uid, root_gid;
    bool rdonly;
};

/* A new tmpfs with one reference for the caller (vfs_fs_put it). */
int tmpfs_create(struct mm_memfile *mf, const struct tmpfs_opts *opts, struct vfs_filesystem **out);

#endif
