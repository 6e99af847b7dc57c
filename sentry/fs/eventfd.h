/* eventfd: a 64-bit counter behind a file (eventfd(2)). */
#ifndef MOAT_SENTRY_FS_EVENTFD_H
#define MOAT_SENTRY_FS_EVENTFD_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/vfs/file.h"

/* A new eventfd file holding initval; flags: ABI_EFD_SEMAPHORE and
 * ABI_EFD_NONBLOCK (checked by the caller). */
int eventfd_create_file(uint64_t initval, uint32_t flags, struct vfs_file **out);
bool eventfd_is_eventfd(const struct vfs_file *f);

#endif
