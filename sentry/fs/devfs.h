/* devfs: the sandbox's /dev, as a container runtime lays it out, and the
 * drivers behind its character devices.
 *
 * /dev is a tmpfs (mode 0755, writable by the sandbox's root as a
 * container's /dev is) that devfs_populate fills at boot with device nodes,
 * the /proc/self/fd links and the directories other mounts go on. Nodes
 * carry only their numbers: opening one finds its driver in the VFS's
 * registry (sentry/vfs/device.h), so a node made with mknod anywhere works
 * the same way. */
#ifndef MOAT_SENTRY_FS_DEVFS_H
#define MOAT_SENTRY_FS_DEVFS_H

#include "sentry/vfs/vfs.h"

/* Registers every driver moat has; safe to call more than once. */
int devfs_register_drivers(void);

/* Creates /dev's entries in the directory dir (ctx's credentials, no umask):
 * null, zero, full, random, urandom, tty; fd, stdin, stdout, stderr links
 * into /proc/self/fd; an empty shm directory. */
int devfs_populate(const struct vfs_walk_ctx *ctx, struct vfs_path dir);

/* The drivers (dev_mem.c, dev_tty.c). */
int devfs_mem_register(void);
int devfs_tty_register(void);

#endif
