/* The Sentry's VFS: inodes, dentries, mounts, path walk and name operations.
 *
 * A filesystem (tmpfs, later goferfs, procfs...) provides inodes and their
 * operations; the VFS caches the names it has looked up as dentries, stacks
 * filesystems into a mount tree and resolves guest paths against it with
 * Linux's rules. Everything returns -errno with ABI_E* values. The VFS is not
 * yet safe against concurrent callers: the caller serialises.
 */
#ifndef MOAT_SENTRY_VFS_VFS_H
#define MOAT_SENTRY_VFS_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/types.h"
#include "sentry/vfs/file.h"

#define VFS_NAME_MAX    255
#define VFS_PATH_MAX    4096 /* including the NUL, as Linux's PATH_MAX */
#define VFS_MAXSYMLINKS 40

/* openat2's RESOLVE_* bits (same values as Linux). */
#define VFS_RESOLVE_NO_XDEV       0x01
#define VFS_RESOLVE_NO_MAGICLINKS 0x02
#define VFS_RESOLVE_NO_SYMLINKS   0x04
#define VFS_RESOLVE_BENEATH       0x08
#define VFS_RESOLVE_IN_ROOT       0x10
#define VFS_RESOLVE_MASK          0x1f

/* Walk flags: the RESOLVE_* bits above plus these. */
#define VFS_WALK_NOFOLLOW  0x100 /* do not follow a final symlink */
#define VFS_WALK_DIRECTORY 0x200 /* the result must be a directory */

struct vfs_inode;
struct vfs_dentry;
struct vfs_mount;
struct vfs_filesystem;
struct vfs_path;

/* Which attributes a setattr changes. */
#define VFS_ATTR_MODE  0x01
#define VFS_ATTR_UID   0x02
#define VFS_ATTR_GID   0x04
#define VFS_ATTR_SIZE  0x08
#define VFS_ATTR_ATIME 0x10
#define VFS_ATTR_MTIME 0x20
/* With ATIME/MTIME: both are the current time (utimensat with NULL or
 * UTIME_NOW), which write permission allows without owning the file. */
#define VFS_ATTR_TIMES_NOW 0x40

struct vfs_setattr {
    uint32_t mask;
    uint32_t mode; /* permission bits only; the file type never changes */
    uint32_t uid, gid;
    int64_t size;
    struct abi_timespec atime, mtime;
};

struct vfs_statfs {
    uint64_t type; /* f_type: the filesystem's magic */
    uint64_t bsize;
    uint64_t blocks, bfree, bavail;
    uint64_t files, ffree;
    uint64_t namelen;
    uint64_t flags; /* ST_RDONLY (1) and friends */
};

/* Inode operations. Inodes handed out (lookup, create...) carry a
 * reference the caller owns. Directory operations get names that are
 * already checked: not ".", "..", empty, containing '/' or longer than
 * VFS_NAME_MAX; the VFS has checked the file types and permissions Linux
 * checks generically, the filesystem checks the rest (emptiness, space). */
struct vfs_inode_ops {
    int (*lookup)(struct vfs_inode *dir, const char *name, struct vfs_inode **out);
    int (*create)(struct vfs_inode *dir, const char *name, uint32_t mode, uint32_t uid,
                  uint32_t gid, struct vfs_inode **out);
    int (*mkdir)(struct vfs_inode *dir, const char *name, uint32_t mode, uint32_t uid, uint32_t gid,
                 struct vfs_inode **out);
    /* mode carries the file type (S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK, S_IFREG). */
    int (*mknod)(struct vfs_inode *dir, const char *name, uint32_t mode, uint64_t rdev,
                 uint32_t uid, uint32_t gid, struct vfs_inode **out);
    int (*symlink)(struct vfs_inode *dir, const char *name, const char *target, uint32_t uid,
                   uint32_t gid, struct vfs_inode **out);
    int (*link)(struct vfs_inode *dir, const char *name, struct vfs_inode *target);
    int (*unlink)(struct vfs_inode *dir, const char *name);
    int (*rmdir)(struct vfs_inode *dir, const char *name);
    /* flags: ABI_RENAME_NOREPLACE / ABI_RENAME_EXCHANGE. */
    int (*rename)(struct vfs_inode *olddir, const char *oldname, struct vfs_inode *newdir,
                  const char *newname, uint32_t flags);
    /* Copies at most n bytes (no NUL); returns the length. */
    int64_t (*readlink)(struct vfs_inode *ino, char *buf, size_t n);
    /* Optional: refresh the cached attributes (remote filesystems). */
    int (*getattr)(struct vfs_inode *ino);
    int (*setattr)(struct vfs_inode *ino, const struct vfs_setattr *attr);
    /* Fill in f->ops (and f->positional, f->priv) for an open of this inode. */
    int (*open)(struct vfs_inode *ino, struct vfs_file *f);
    /* The last reference went away. */
    void (*evict)(struct vfs_inode *ino);
    /* Extended attributes (optional; absent: EOPNOTSUPP). The VFS has
     * checked the name, namespace, permissions and sizes (sentry/vfs/xattr.c).
     * get and list return the length; size 0 asks only for it; a buffer too
     * small is -ERANGE. flags: ABI_XATTR_CREATE / ABI_XATTR_REPLACE. */
    int64_t (*getxattr)(struct vfs_inode *ino, const char *name, void *buf, size_t size);
    int (*setxattr)(struct vfs_inode *ino, const char *name, const void *value, size_t size,
                    int flags);
    int64_t (*listxattr)(struct vfs_inode *ino, char *buf, size_t size);
    int (*removexattr)(struct vfs_inode *ino, const char *name);
    /* O_TMPFILE (optional; absent: EOPNOTSUPP): a regular file with no name
     * (nlink 0) in dir's filesystem, flagged VFS_INODE_LINKABLE so that
     * linkat may give it one later unless mode carries VFS_TMPFILE_EXCL
     * (O_EXCL). Stacking filesystems pass mode through unchanged. */
    int (*tmpfile)(struct vfs_inode *dir, uint32_t mode, uint32_t uid, uint32_t gid,
                   struct vfs_inode **out);
    /* Magic links (VFS_INODE_MAGICLINK: procfs's /proc/PID/fd/N, cwd, exe):
     * the object the link stands for, referenced, so that the walk jumps to
     * it instead of resolving the readlink text, which may be stale or not a
     * path at all ("pipe:[7]"). mnt is the link's own mount. */
    int (*follow_link)(struct vfs_inode *link, struct vfs_mount *mnt, struct vfs_path *out);
    /* Optional: false when a cached dentry of this inode no longer names
     * anything (a /proc/PID directory whose task exited, a closed fd): the
     * next lookup drops it and asks the filesystem again. */
    bool (*revalidate)(struct vfs_inode *ino);
};

#define VFS_INODE_MAGICLINK 0x1 /* procfs-style link: RESOLVE_NO_MAGICLINKS refuses it */
/* An O_TMPFILE inode opened without O_EXCL: linkat may name it once. */
#define VFS_INODE_LINKABLE 0x2
/* In tmpfile's mode: O_EXCL, the file may never be linked. */
#define VFS_TMPFILE_EXCL 0x10000

struct vfs_inode {
    uint64_t ino;
    uint32_t mode;
    uint32_t nlink;
    uint32_t uid, gid;
    int64_t size;
    int64_t blocks; /* 512-byte units */
    uint64_t rdev;
    struct abi_timespec atime, mtime, ctime, btime;
    int refs;
    uint32_t flags;
    const struct vfs_inode_ops *ops;
    struct vfs_filesystem *fs;
    void *priv;
    /* flock and record locks (sentry/vfs/lock.h); NULL when there are none. */
    struct vfs_lock_state *locks;
};

struct vfs_filesystem_ops {
    int (*statfs)(struct vfs_filesystem *fs, struct vfs_statfs *out);
    /* Every dentry is gone: free the filesystem and its inodes. */
    void (*release)(struct vfs_filesystem *fs);
};

#define VFS_FS_RDONLY 0x1

struct vfs_filesystem {
    const char *name; /* "tmpfs" */
    uint32_t flags;
    uint64_t dev; /* st_dev of its inodes */
    struct vfs_dentry *root;
    const struct vfs_filesystem_ops *ops;
    int refs; /* mounts of it */
    void *priv;
};

struct vfs_dentry {
    char *name;                /* "/" for a filesystem root */
    struct vfs_dentry *parent; /* NULL for a filesystem root; pinned */
    struct vfs_inode *inode;
    struct vfs_dentry *children;    /* cached positive children */
    struct vfs_dentry *next, *prev; /* siblings in the parent's cache */
    struct vfs_dentry *hnext;       /* chain in the cache's (parent, name) hash */
    uint32_t hash;
    int refs;      /* holders + cached children */
    int mounts;    /* mounts stacked on this dentry */
    bool detached; /* removed from its parent's cache (unlinked, moved over) */
};

#define VFS_MNT_RDONLY 0x1
#define VFS_MNT_NOSUID 0x2
#define VFS_MNT_NODEV  0x4
#define VFS_MNT_NOEXEC 0x8

struct vfs_mount {
    struct vfs_filesystem *fs;
    struct vfs_dentry *root;
    struct vfs_mount *parent;       /* NULL for the root of a mount tree */
    struct vfs_dentry *mountpoint;  /* in parent */
    struct vfs_mount *children;     /* mounts on dentries of this one */
    struct vfs_mount *next_sibling; /* in parent->children, newest first */
    uint32_t flags;
    uint64_t id;
    int refs;
    bool detached;
};

struct vfs_path {
    struct vfs_mount *mnt;
    struct vfs_dentry *dentry;
};

struct vfs_cred {
    uint32_t uid, gid; /* filesystem ids */
    const uint32_t *groups;
    int ngroups;
    bool cap_dac_override;
    bool cap_dac_read_search;
    bool cap_fowner;
    bool cap_chown;
    bool cap_fsetid;
};

struct vfs_walk_ctx {
    struct vfs_path root; /* the task's root: absolute paths and ".." stop here */
    struct vfs_cred cred;
};

/* ---- inodes (dentry.c) ---- */

struct vfs_inode *vfs_inode_get(struct vfs_inode *ino);
void vfs_inode_put(struct vfs_inode *ino);
void vfs_inode_stat(const struct vfs_inode *ino, struct abi_stat *st);
void vfs_inode_statx(const struct vfs_inode *ino, struct abi_statx *stx);
void vfs_now(struct abi_timespec *ts);
/* MAY_READ 4, MAY_WRITE 2, MAY_EXEC 1: 0 or -EACCES. */
#define VFS_MAY_EXEC  1
#define VFS_MAY_WRITE 2
#define VFS_MAY_READ  4
int vfs_permission(const struct vfs_cred *cred, const struct vfs_inode *ino, int mask);
static inline bool vfs_is_dir(const struct vfs_inode *ino)
{
    return (ino->mode & 0170000) == 0040000;
}
static inline bool vfs_is_symlink(const struct vfs_inode *ino)
{
    return (ino->mode & 0170000) == 0120000;
}
static inline bool vfs_is_reg(const struct vfs_inode *ino)
{
    return (ino->mode & 0170000) == 0100000;
}

/* The inode a file's ops work on: the one a stacking filesystem opened on
 * the file's behalf, else the opened path's; NULL for a file with neither
 * (host stdio, pipes). File ops use this, never f->dentry->inode. */
static inline struct vfs_inode *vfs_file_inode(const struct vfs_file *f)
{
    if (f->inode)
        return f->inode;
    return f->dentry ? f->dentry->inode : NULL;
}

/* ---- dentries (dentry.c) ---- */

/* A new filesystem root dentry owning one reference to ino; refs = 1. */
struct vfs_dentry *vfs_dentry_new_root(struct vfs_inode *ino);
struct vfs_dentry *vfs_dentry_get(struct vfs_dentry *d);
void vfs_dentry_put(struct vfs_dentry *d);
/* Child by name from the cache, else from the filesystem; referenced. */
int vfs_dentry_lookup(struct vfs_dentry *dir, const char *name, struct vfs_dentry **out);
/* The cached child, unreferenced, or NULL. */
struct vfs_dentry *vfs_dentry_cached(struct vfs_dentry *dir, const char *name);
/* Cache a freshly created inode under dir; takes over the inode reference. */
int vfs_dentry_add(struct vfs_dentry *dir, const char *name, struct vfs_inode *ino,
                   struct vfs_dentry **out);
/* Forget a cached child (after unlink / rmdir / being renamed over). */
void vfs_dentry_drop(struct vfs_dentry *d);
/* Move a cached child to newdir under newname (after rename). */
int vfs_dentry_move(struct vfs_dentry *d, struct vfs_dentry *newdir, const char *newname);
/* Free every unreferenced cached dentry under d. */
void vfs_dentry_prune(struct vfs_dentry *d);
bool vfs_dentry_is_ancestor(const struct vfs_dentry *anc, const struct vfs_dentry *d);

/* ---- filesystems and mounts (mount.c) ---- */

/* Called by a filesystem's constructor: fs->refs = 1 for the caller. */
void vfs_fs_init(struct vfs_filesystem *fs, const char *name, uint32_t flags,
                 const struct vfs_filesystem_ops *ops, struct vfs_inode *root);
void vfs_fs_put(struct vfs_filesystem *fs);

/* A new tree whose root is fs (takes no fs reference from the caller). */
int vfs_mount_new_root(struct vfs_filesystem *fs, uint32_t flags, struct vfs_mount **out);
/* Mount fs on the directory at, which must be a directory. */
int vfs_mount_at(struct vfs_path at, struct vfs_filesystem *fs, uint32_t flags,
                 struct vfs_mount **out);
/* Bind mount: src's subtree (same filesystem) appears at at as well. */
int vfs_mount_bind(struct vfs_path at, struct vfs_path src, uint32_t flags, struct vfs_mount **out);
/* The topmost mount stacked on d in mnt, or NULL. */
struct vfs_mount *vfs_mount_on(struct vfs_mount *mnt, struct vfs_dentry *d);
/* Remove m (which must have no child mounts: else -EBUSY) from its tree. */
int vfs_mount_detach(struct vfs_mount *m);
/* Detach the whole tree under m (m included) and drop the tree's reference. */
void vfs_mount_tree_release(struct vfs_mount *m);
struct vfs_mount *vfs_mount_get(struct vfs_mount *m);
void vfs_mount_put(struct vfs_mount *m);
bool vfs_mount_readonly(const struct vfs_mount *m);
/* Frees every unused cached dentry of every mount in the tree under m (m
 * included): what a filesystem short of inodes asks for. */
void vfs_mount_tree_prune(struct vfs_mount *m);

struct vfs_path vfs_path_get(struct vfs_path p);
void vfs_path_put(struct vfs_path p);

/* The path of p as the task sees it from ctx->root, into buf (n bytes with
 * the NUL); returns its length. -ERANGE when buf is too small. *reachable
 * is false when p is not under the task's root (getcwd then fails with
 * ENOENT, /proc shows it anyway); a removed file gets " (deleted)"
 * appended, as /proc/PID/fd shows it. */
int64_t vfs_path_string(const struct vfs_walk_ctx *ctx, struct vfs_path p, char *buf, size_t n,
                        bool *reachable);

/* ---- path walk (walk.c) ---- */

enum vfs_last_type { VFS_LAST_NORM, VFS_LAST_DOT, VFS_LAST_DOTDOT, VFS_LAST_ROOT };

struct vfs_last {
    char name[VFS_NAME_MAX + 1];
    enum vfs_last_type type;
    bool trailing_slash;
};

/* Resolve path from start (the dirfd's or cwd's path; absolute paths start at
 * ctx->root). out holds references: vfs_path_put it. An empty path is
 * -ENOENT: AT_EMPTY_PATH is the caller's. */
int vfs_walk(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path, int flags,
             struct vfs_path *out);
/* Resolve all but the last component, which is returned unresolved in last
 * (for create, unlink, rename). */
int vfs_walk_parent(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                    int flags, struct vfs_path *parent, struct vfs_last *last);

/* ---- name operations (namei.c) ---- */

int vfs_mkdirat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                uint32_t mode);
int vfs_mknodat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                uint32_t mode, uint64_t rdev);
int vfs_symlinkat(const struct vfs_walk_ctx *ctx, const char *target, struct vfs_path start,
                  const char *path);
/* flags: ABI_AT_SYMLINK_FOLLOW for the old path. */
int vfs_linkat(const struct vfs_walk_ctx *ctx, struct vfs_path oldstart, const char *oldpath,
               struct vfs_path newstart, const char *newpath, int flags);
int vfs_unlinkat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path);
int vfs_rmdirat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path);
int vfs_renameat(const struct vfs_walk_ctx *ctx, struct vfs_path oldstart, const char *oldpath,
                 struct vfs_path newstart, const char *newpath, uint32_t flags);
int64_t vfs_readlinkat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                       char *buf, size_t n);
/* flags: ABI_AT_SYMLINK_NOFOLLOW. */
int vfs_statat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path, int flags,
               struct abi_stat *st);
int vfs_setattrat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                  int flags, const struct vfs_setattr *attr);
/* setattr on an already resolved path (the f* calls on an open file). */
int vfs_setattr(const struct vfs_walk_ctx *ctx, struct vfs_path p, const struct vfs_setattr *attr);
int vfs_statfsat(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                 struct vfs_statfs *out);

/* ---- directory files (dirent.c) ---- */

/* Appends one linux_dirent64 record (d_off = next) at buf + *used if it fits
 * in n bytes; false when it does not. */
bool vfs_dirent_emit(char *buf, size_t n, size_t *used, uint64_t ino, int64_t next, uint8_t type,
                     const char *name);
/* lseek on a directory whose f->pos is a cookie: SEEK_SET and SEEK_CUR to
 * any non-negative position; everything else EINVAL. */
int64_t vfs_dir_lseek(struct vfs_file *f, int64_t off, int whence);

/* ---- open (open.c) ---- */

/* open(2) semantics for flags (ABI_O_*) and mode (umask already applied). */
int vfs_open(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
             uint32_t flags, uint32_t mode, struct vfs_file **out);
/* openat2: resolve holds VFS_RESOLVE_* bits. */
int vfs_open2(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
              uint32_t flags, uint32_t mode, int resolve, struct vfs_file **out);
/* Opens a program for execve: a regular file with execute permission on a
 * mount without noexec (-EACCES otherwise), read-only, without needing read
 * permission. out NULL: only the checks (a PATH search), nothing opened. */
int vfs_open_exec(const struct vfs_walk_ctx *ctx, struct vfs_path start, const char *path,
                  struct vfs_file **out);

#endif
