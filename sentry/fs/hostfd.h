/* Files backed by a host fd the front end handed over (the guest's stdio). */
#ifndef MOAT_SENTRY_FS_HOSTFD_H
#define MOAT_SENTRY_FS_HOSTFD_H

#include "sentry/vfs/file.h"

/* Takes ownership of host_fd. flags are the guest-visible O_ status flags. */
struct vfs_file *hostfd_file_new(int host_fd, uint32_t flags);

#endif
