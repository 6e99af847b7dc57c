/* sysfs: the minimal /sys programs read to learn the machine's shape (the
 * CPUs the sandbox has), generated from the kernel's state. */
#ifndef MOAT_SENTRY_FS_SYSFS_H
#define MOAT_SENTRY_FS_SYSFS_H

#include "sentry/vfs/vfs.h"

struct kernel;

#define SYSFS_MAGIC 0x62656572

int sysfs_create(struct kernel *k, struct vfs_filesystem **out);

#endif
