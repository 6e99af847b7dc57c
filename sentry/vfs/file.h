/* Open file descriptions and the per-task fd table.
 *
 * A vfs_file is an open file description: shared by dup'ed fds, carrying
 * status flags and the file's operations. Files come from the host stdio fds
 * the front end hands over (sentry/fs/hostfd.c) and from vfs_open
 * (sentry/vfs/vfs.h) on the mounted filesystems.
 */
#ifndef MOAT_SENTRY_VFS_FILE_H
#define MOAT_SENTRY_VFS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/flags.h"
#include "abi/types.h"

struct waitq;

struct vfs_file;
struct vfs_dentry;
struct vfs_mount;
struct mm_fpages;

/* Every op returns a count or -errno. Buffers are Sentry memory: syscall
 * handlers do the guest copies. */
struct vfs_file_ops {
    int64_t (*read)(struct vfs_file *f, void *buf, size_t n);
    int64_t (*write)(struct vfs_file *f, const void *buf, size_t n);
    int64_t (*pread)(struct vfs_file *f, void *buf, size_t n, int64_t off);
    int64_t (*pwrite)(struct vfs_file *f, const void *buf, size_t n, int64_t off);
    int64_t (*lseek)(struct vfs_file *f, int64_t off, int whence);
    int (*stat)(struct vfs_file *f, struct abi_stat *st);
    /* arg points at a Sentry copy of the request's argument struct, in and
     * out; len 0: a request sys_ioctl has no layout for, arg holds the raw
     * argument as a uint64_t. Unknown requests get the driver's refusal
     * (ENOTTY, or EINVAL as some Linux drivers answer). */
    int (*ioctl)(struct vfs_file *f, uint32_t req, void *arg, size_t len);
    void (*release)(struct vfs_file *f);
    /* Fills buf with struct abi_linux_dirent64 records; returns the bytes
     * used, 0 at the end, -EINVAL when not even one record fits. */
    int64_t (*getdents64)(struct vfs_file *f, void *buf, size_t n);
    int (*fsync)(struct vfs_file *f);
    /* fallocate(2) (optional; absent: EOPNOTSUPP): mode holds ABI_FALLOC_FL_*
     * bits the syscall has checked for consistency; len > 0. */
    int (*allocate)(struct vfs_file *f, int mode, int64_t off, int64_t len);
    /* mmap(2) of the file, before mm checks the request. 0 when it can be
     * mapped: private mappings read it through pread; *pages is set to the
     * file's pages (see sentry/mm/mm.h, struct mm_fpages; the inode owns
     * them): required for shared, optional for private mappings (it lets
     * truncation reach them), NULL when there are none. A NULL op, or
     * -ENODEV: no mmap at all. VFS_MMAP_ANON: the mapping is anonymous
     * memory instead, shared or private as asked (/dev/zero). */
    int (*mmap)(struct vfs_file *f, bool shared, struct mm_fpages **pages);
    /* Readiness for poll, select and epoll: the ABI_POLL* events the file
     * has now. NULL: always readable and writable, as a regular file. */
    uint32_t (*poll)(struct vfs_file *f);
    /* The wait queue (sentry/kernel/sched.h) notified, with the ABI_POLL*
     * events that arrived, whenever poll's answer may change. NULL when it
     * never changes. */
    struct waitq *(*poll_queue)(struct vfs_file *f);
};

/* f's readiness (ops->poll, or readable and writable when it has none). */
uint32_t vfs_file_poll(struct vfs_file *f);

#define VFS_MMAP_ANON 1

/* What a write does when its buffer faults partway, which Linux decides per
 * kind of file. */
enum vfs_fault_mode {
    VFS_FAULT_SHORT,  /* regular files: the readable prefix is written */
    VFS_FAULT_WHOLE,  /* pipes, sockets, ttys: EFAULT, nothing written */
    VFS_FAULT_NOREAD, /* /dev/null, /dev/zero: the buffer is never read */
};

struct vfs_file {
    const struct vfs_file_ops *ops;
    int refs;
    uint32_t flags;     /* O_ status flags (access mode, O_APPEND, O_NONBLOCK) */
    bool positional;    /* pread/pwrite allowed (FMODE_PREAD/PWRITE), else ESPIPE */
    uint8_t fault_mode; /* enum vfs_fault_mode */
    void *priv;
    /* Set for files opened through the VFS (sentry/vfs/open.c): the file
     * holds a reference to both, dropped when the last fd goes away. */
    struct vfs_dentry *dentry;
    struct vfs_mount *mnt;
    /* Set when a stacking filesystem (the overlay) opened another
     * filesystem's inode for this file: the file's ops act on that inode
     * (vfs_file_inode), while dentry and mnt stay the path the guest
     * opened. Referenced; NULL otherwise. */
    struct vfs_inode *inode;
    int64_t pos; /* the file offset, for files that keep their own */
    /* Notified with ABI_POLLFREE when the last reference goes, before the
     * release op, for watchers that hold no reference (epoll); allocated
     * by the first of them, NULL while there is none. */
    struct waitq *free_watchers;
};

/* The access mode allows read(2) / write(2). (O_ACCMODE itself allows
 * neither, as Linux's FMODE bits.) */
static inline bool vfs_file_readable(const struct vfs_file *f)
{
    uint32_t acc = f->flags & ABI_O_ACCMODE;
    return acc == ABI_O_RDONLY || acc == ABI_O_RDWR;
}
static inline bool vfs_file_writable(const struct vfs_file *f)
{
    uint32_t acc = f->flags & ABI_O_ACCMODE;
    return acc == ABI_O_WRONLY || acc == ABI_O_RDWR;
}

struct vfs_file *vfs_file_new(const struct vfs_file_ops *ops, uint32_t flags, void *priv);
struct vfs_file *vfs_file_get(struct vfs_file *f);
void vfs_file_put(struct vfs_file *f);

/* ---- fd table ---- */

struct vfs_fdtable;

int vfs_fdtable_create(struct vfs_fdtable **out);
void vfs_fdtable_destroy(struct vfs_fdtable *t);
/* Sharing (CLONE_FILES): a table lives until its last user puts it. */
struct vfs_fdtable *vfs_fdtable_get(struct vfs_fdtable *t);
void vfs_fdtable_put(struct vfs_fdtable *t);
/* fork's copy: the same open files at the same fds, flags included. */
int vfs_fdtable_clone(struct vfs_fdtable *src, struct vfs_fdtable **out);
/* Make *t a table of its own (a copy when shared). */
int vfs_fdtable_unshare(struct vfs_fdtable **t);
/* exec: close every close-on-exec fd. */
void vfs_fdtable_exec(struct vfs_fdtable *t);
/* Borrowed reference, valid until the fd is closed; NULL if fd is not open. */
struct vfs_file *vfs_fd_lookup(struct vfs_fdtable *t, int fd);
/* Install f at exactly fd (replacing what is there); takes a reference. */
int vfs_fd_install_at(struct vfs_fdtable *t, int fd, struct vfs_file *f, bool cloexec);
/* Install f at the lowest free fd >= min; returns it or -EMFILE. */
int vfs_fd_install(struct vfs_fdtable *t, int min, struct vfs_file *f, bool cloexec,
                   uint64_t limit);
int vfs_fd_close(struct vfs_fdtable *t, int fd);
/* The lowest free fd >= min below limit, or -EMFILE; nothing is reserved. */
int vfs_fd_lowest_free(struct vfs_fdtable *t, int min, uint64_t limit);
/* 1 or 0, or -EBADF when fd is not open. */
int vfs_fd_get_cloexec(struct vfs_fdtable *t, int fd);
int vfs_fd_set_cloexec(struct vfs_fdtable *t, int fd, bool cloexec);
/* close_range: close, or only mark close-on-exec, the open fds in
 * [first, last]. */
void vfs_fd_close_range(struct vfs_fdtable *t, unsigned first, unsigned last, bool cloexec_only);
/* The lowest open fd >= from, or -1 (listing /proc/PID/fd). */
int vfs_fd_next_open(struct vfs_fdtable *t, int from);

#endif
