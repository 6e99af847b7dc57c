/* Pipes and FIFOs: a bounded buffer between reader and writer files.
 *
 * A pipe holds its data in page-sized slots, as Linux's pipe ring does, so
 * capacity, atomicity of writes up to PIPE_BUF and packet mode (O_DIRECT)
 * behave as on Linux. pipe(2) makes an anonymous pipe with a read and a
 * write file; opening a FIFO inode (mknod S_IFIFO) connects to the one pipe
 * that inode has while any of its files is open. Reads and writes block the
 * calling task (kernel_current) on the pipe's wait queue.
 */
#ifndef MOAT_SENTRY_FS_PIPE_H
#define MOAT_SENTRY_FS_PIPE_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/vfs/file.h"

struct vfs_inode;

/* PIPE_BUF: writes up to this size are atomic. */
#define PIPE_BUF_SIZE 4096
/* The default capacity, and what an unprivileged F_SETPIPE_SZ may reach
 * (/proc/sys/fs/pipe-max-size). */
#define PIPE_DEFAULT_SIZE 65536
#define PIPE_MAX_SIZE     1048576

/* A new anonymous pipe; flags may hold ABI_O_NONBLOCK and ABI_O_DIRECT
 * (packet mode), set on both files. */
int pipe_create(uint32_t flags, struct vfs_file **rd, struct vfs_file **wr);
/* Opens a FIFO inode into f (f->flags holds the open flags), with Linux's
 * rules: O_RDONLY waits for a writer unless O_NONBLOCK, O_WRONLY waits for
 * a reader or with O_NONBLOCK fails with ENXIO, O_RDWR never waits. */
int pipe_fifo_open(struct vfs_inode *ino, struct vfs_file *f);
/* Opening /proc/PID/fd/N of a pipe end orig: a new end of the same pipe
 * for f, with the FIFO rules, as Linux reopens a pipe through its inode. */
int pipe_reopen(struct vfs_file *orig, struct vfs_file *f);
/* Whether f is an end of a pipe or FIFO. */
bool pipe_is_pipe(const struct vfs_file *f);
/* F_GETPIPE_SZ and F_SETPIPE_SZ: the capacity in bytes, or -errno
 * (-EBADF for a file that is no pipe). privileged: CAP_SYS_RESOURCE, which
 * lifts the pipe-max-size limit. */
int64_t pipe_get_size(struct vfs_file *f);
int64_t pipe_set_size(struct vfs_file *f, uint64_t size, bool privileged);

#endif
