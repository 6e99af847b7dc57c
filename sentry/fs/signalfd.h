/* signalfd: a file from which a task reads the signals it has pending. */
#ifndef MOAT_SENTRY_FS_SIGNALFD_H
#define MOAT_SENTRY_FS_SIGNALFD_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/signal.h"

struct task;
struct vfs_file;

/* A new signalfd for mask (flags: ABI_O_NONBLOCK); NULL when out of memory. */
struct vfs_file *signalfd_new(struct task *t, abi_sigset_t mask, uint32_t flags);
bool signalfd_is(const struct vfs_file *f);
void signalfd_set_mask(struct vfs_file *f, abi_sigset_t mask);

#endif
