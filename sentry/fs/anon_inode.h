/* The one inode Linux's anon_inodefs gives eventfd, epoll (and later
 * signalfd, timerfd...) files: what fstat and /proc/PID/fd show of them. */
#ifndef MOAT_SENTRY_FS_ANON_INODE_H
#define MOAT_SENTRY_FS_ANON_INODE_H

#include "abi/types.h"
#include "sentry/vfs/file.h"

/* fstat of such a file: mode 0600 with no file type, as Linux shows it. */
void anon_inode_stat(struct abi_stat *st);
/* lseek on such a file: nothing moves, the answer is 0 (noop_llseek). */
int64_t anon_inode_lseek(struct vfs_file *f, int64_t off, int whence);
/* The file's kind for its /proc/PID/fd link ("anon_inode:[eventfd]"), or
 * NULL when f is not an anon_inodefs file. */
const char *anon_inode_kind(const struct vfs_file *f);

#endif
