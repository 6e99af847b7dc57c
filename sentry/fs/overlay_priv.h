/* The overlay's own structures, shared by overlay.c (inodes and name
 * operations), overlay_copyup.c and overlay_dir.c (merged listings). Not for
 * use outside sentry/fs/overlay*.c. */
#ifndef MOAT_SENTRY_FS_OVERLAY_PRIV_H
#define MOAT_SENTRY_FS_OVERLAY_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentry/fs/overlay.h"

/* What the overlay knows about an upper inode, by its inode number (the
 * upper tmpfs never reuses one). Kept here rather than in the upper tree so
 * that no marker can ever be seen, or forged, by the guest. */
#define OVERLAY_MARK_WHITEOUT 0x1 /* this char 0/0 node hides the lower name */
#define OVERLAY_MARK_OPAQUE   0x2 /* this directory hides the lower one */
#define OVERLAY_MARK_ORIGIN   0x4 /* copied up from the lower inode `origin` */

struct overlay_mark {
    uint64_t upper_ino;
    uint64_t origin;
    uint32_t flags;
    struct overlay_mark *next;
};

#define OVERLAY_MARK_BUCKETS 1024
#define OVERLAY_NODE_BUCKETS 4096

struct overlay_node;

struct overlay_fs {
    struct vfs_filesystem vfs;
    struct vfs_filesystem *lower_fs, *upper_fs;
    struct overlay_mark *marks[OVERLAY_MARK_BUCKETS];
    /* Live overlay inodes by (parent, name): one inode per name. */
    struct overlay_node *nodes[OVERLAY_NODE_BUCKETS];
    uint64_t tmp_seq;
};

/* An overlay inode. Its attributes mirror the real inode's (upper if any,
 * else lower); its number is the lower inode's, kept across copy-up. */
#define OVERLAY_MISSING_SLOTS 8

struct overlay_node {
    struct vfs_inode vfs;
    struct vfs_inode *upper;     /* referenced; NULL until copied up */
    struct vfs_inode *lower;     /* referenced; for a directory, the one merged in */
    struct overlay_node *parent; /* referenced; NULL for the root */
    char *name;
    struct overlay_node *hnext;
    bool hashed;
    bool removed; /* unlinked or renamed over: no name to copy up under */
    /* Directories: names recently found missing in the lower directory. The
     * lower layer is read-only and changes under nobody's hand, so the
     * answer stays true; it saves the Gofer round trips a new name costs
     * (the walk's lookup, then create and unlink asking again). A small
     * ring, so it stays cheap however many names a program tries. */
    char *lower_missing[OVERLAY_MISSING_SLOTS];
    unsigned lower_missing_next;
};

static inline struct overlay_node *overlay_node(struct vfs_inode *ino)
{
    return (struct overlay_node *)ino;
}

static inline struct overlay_fs *overlay_fs_of(struct overlay_node *o)
{
    return (struct overlay_fs *)o->vfs.fs;
}

static inline struct vfs_inode *overlay_real(struct overlay_node *o)
{
    return o->upper ? o->upper : o->lower;
}

/* ---- overlay.c ---- */
struct overlay_mark *overlay_mark_find(struct overlay_fs *fs, uint64_t upper_ino);
int overlay_mark_set(struct overlay_fs *fs, uint64_t upper_ino, uint32_t flag, uint64_t origin);
void overlay_mark_forget(struct overlay_fs *fs, uint64_t upper_ino);
bool overlay_is_whiteout(struct overlay_fs *fs, const struct vfs_inode *upper);
/* The inode number the guest sees for an upper-only object. */
uint64_t overlay_upper_ino(struct overlay_fs *fs, uint64_t upper_ino);
/* Copy the real inode's attributes into the overlay inode. */
void overlay_sync_attrs(struct overlay_node *o);
/* An internal open of a real inode (no path), for reading or writing. */
int overlay_open_real(struct vfs_inode *ino, uint32_t flags, struct vfs_file **out);

/* ---- overlay_copyup.c ---- */
/* Give o an upper inode, copying it (and its parents) from the lower one. */
int overlay_copy_up(struct overlay_node *o);

/* ---- overlay_dir.c ---- */
struct overlay_dirent {
    char *name;
    uint64_t ino;
    uint8_t type;
};

struct overlay_list {
    struct overlay_dirent *v;
    size_t n, cap;
};

/* The merged listing of a directory, without "." and "..". */
int overlay_list_dir(struct overlay_node *dir, struct overlay_list *out);
void overlay_list_free(struct overlay_list *l);
/* Remove every whiteout from an upper directory (before it is removed or
 * replaced, once it is known to be logically empty). */
int overlay_clear_whiteouts(struct overlay_fs *fs, struct vfs_inode *upper_dir);
extern const struct vfs_file_ops overlay_dir_file_ops;

#endif
