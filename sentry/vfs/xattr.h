/* Extended attributes on the VFS: Linux's generic checks (namespaces,
 * which file types may carry user.*, permissions, read-only mounts, size
 * limits) in front of the filesystems' xattr inode ops. */
#ifndef MOAT_SENTRY_VFS_XATTR_H
#define MOAT_SENTRY_VFS_XATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentry/vfs/vfs.h"

/* admin: the caller holds CAP_SYS_ADMIN (trusted.*, security.* writes).
 * Names are NUL-terminated, 1 to ABI_XATTR_NAME_MAX bytes (the syscall
 * layer copies them in and says ERANGE otherwise). size 0 asks get and
 * list for the length only. */
int64_t vfs_getxattr(const struct vfs_cred *cred, bool admin, struct vfs_path p, const char *name,
                     void *buf, size_t size);
int vfs_setxattr(const struct vfs_cred *cred, bool admin, struct vfs_path p, const char *name,
                 const void *value, size_t size, int flags);
int64_t vfs_listxattr(const struct vfs_cred *cred, bool admin, struct vfs_path p, char *buf,
                      size_t size);
int vfs_removexattr(const struct vfs_cred *cred, bool admin, struct vfs_path p, const char *name);

#endif
