/* Advisory file locks: flock(2) locks and fcntl record locks.
 *
 * Locks hang off the inode (vfs_inode.locks) and are only advisory: I/O
 * never looks at them. flock locks belong to an open file description and
 * never conflict with record locks. Record locks belong to an owner: a
 * process's (POSIX) locks are owned by its fd table, as Linux owns them by
 * the files_struct, so that every thread sharing the table shares them and
 * closing any fd of the inode drops them all; OFD locks are owned by the
 * open file description. POSIX and OFD locks conflict with each other.
 *
 * There are no wait queues yet: a blocking request that conflicts gets
 * -EDEADLK instead of sleeping (with one task per sandbox nothing could
 * ever wake it). Like the rest of the VFS the caller serialises; with
 * several tasks a per-inode mutex guards vfs_lock_state.
 */
#ifndef MOAT_SENTRY_VFS_LOCK_H
#define MOAT_SENTRY_VFS_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/vfs/vfs.h"

/* The end of a lock that reaches "to the end of the file, however far it
 * grows" (l_len == 0). */
#define VFS_LOCK_EOF INT64_MAX

/* Record locks the whole Sentry holds at most: each is a small heap
 * block, and a guest could otherwise ask for one per byte of every file it
 * can open (Linux charges them to the caller's memory cgroup). Past it a
 * request that could add records fails with -ENOLCK. */
#define VFS_LOCK_MAX_RECORDS (1u << 18)

/* A byte range [start, end] (both inclusive) and a type: ABI_F_RDLCK,
 * ABI_F_WRLCK or ABI_F_UNLCK. */
struct vfs_lock_range {
    int type;
    int64_t start, end;
    int32_t pid; /* the holder, as F_GETLK reports it: -1 for OFD locks */
};

/* struct flock's whence/start/len, relative to the file offset pos and
 * size, as a range: -EINVAL for a bad whence or a range before offset 0,
 * -EOVERFLOW when it does not fit an off_t. */
int vfs_lock_resolve(int whence, int64_t start, int64_t len, int64_t pos, int64_t size,
                     int64_t *rstart, int64_t *rend);

/* F_GETLK: r->type becomes ABI_F_UNLCK when nothing held by another owner
 * conflicts with r, else r describes one conflicting lock. */
void vfs_lock_test(struct vfs_inode *ino, uintptr_t owner, struct vfs_lock_range *r);
/* F_SETLK: lock or unlock r for owner (pid is what F_GETLK reports: -1
 * for OFD owners), splitting and merging owner's ranges. -EAGAIN on
 * conflict, -EDEADLK when wait asked to sleep on one, -ENOLCK without
 * memory or past VFS_LOCK_MAX_RECORDS. */
int vfs_lock_set(struct vfs_inode *ino, uintptr_t owner, int32_t pid,
                 const struct vfs_lock_range *r, bool wait);
/* Drop every record lock owner holds on ino (a process closed one of the
 * inode's fds). */
void vfs_lock_release_owner(struct vfs_inode *ino, uintptr_t owner);

/* flock(2) for the description f of ino: op is ABI_LOCK_SH, ABI_LOCK_EX or
 * ABI_LOCK_UN. A conversion drops the old lock first, as Linux does. */
int vfs_lock_flock(struct vfs_inode *ino, const struct vfs_file *f, int op, bool nonblock);

/* The description's last reference is going: its flock and OFD locks go. */
void vfs_lock_release_file(struct vfs_file *f);

#endif
