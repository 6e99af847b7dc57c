/* pidfds: files that name a process (pidfd_open, CLONE_PIDFD). */
#ifndef MOAT_SENTRY_KERNEL_PIDFD_H
#define MOAT_SENTRY_KERNEL_PIDFD_H

#include <stdint.h>

struct task;
struct thread_group;
struct vfs_file;

/* A new pidfd for tg in t's fd table (close-on-exec, as Linux always makes
 * it; flags: ABI_O_NONBLOCK). The fd or -errno. */
int kernel_pidfd_install(struct task *t, struct thread_group *tg, uint32_t flags);
/* The process a pidfd names (possibly reaped), or NULL when f is no pidfd. */
struct thread_group *kernel_pidfd_tg(struct vfs_file *f);

#endif
