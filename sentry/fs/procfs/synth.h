/* Synthetic filesystems (procfs, sysfs): trees described by static tables
 * of entries, whose files are generated when opened.
 *
 * Internal to sentry/fs/procfs and sentry/fs/sysfs.c. A node is an entry
 * plus the pid and index it is about (/proc/42/fd/3: the fd-link entry, pid
 * 42, index 3); inodes are made per lookup and hold only that, so nothing
 * goes stale when a task exits or closes an fd: every operation looks the
 * task up again.
 */
#ifndef MOAT_SENTRY_FS_PROCFS_SYNTH_H
#define MOAT_SENTRY_FS_PROCFS_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/errno.h"
#include "sentry/vfs/vfs.h"

struct kernel;
struct task;
struct synth_ent;

/* A growing text buffer; a failed allocation sets oom and drops the rest. */
struct synth_buf {
    char *data;
    size_t len, cap;
    bool oom;
};

void synth_printf(struct synth_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void synth_write(struct synth_buf *b, const void *p, size_t n);

struct synth_node {
    const struct synth_ent *ent;
    int pid; /* 0: not about a task */
    int idx; /* the fd, cpu number...; -1: none */
};

/* What a generator gets: the node, the task it is about (looked up again,
 * NULL when pid is 0) and the task asking (NULL outside a syscall). */
struct synth_ctx {
    struct kernel *k;
    struct synth_node node;
    struct task *task;
    struct task *caller;
};

typedef int (*synth_emit_fn)(void *arg, const char *name, struct synth_node node);

enum synth_type { SYNTH_DIR, SYNTH_FILE, SYNTH_LINK };

struct synth_ent {
    const char *name; /* NULL ends a table */
    uint8_t type;
    uint16_t perm;
    bool task_owned; /* owned by the task's euid/egid, as /proc/PID's files */
    /* Files: the contents, generated at open. */
    int (*gen)(const struct synth_ctx *c, struct synth_buf *b);
    /* Files: what a write of n bytes at offset off does (NULL:
     * write_err); write(2) advances the file offset by what it returns. */
    int64_t (*store)(const struct synth_ctx *c, const char *data, size_t n, int64_t off);
    int write_err;       /* write(2) on a file without store: -EIO, -EINVAL */
    bool open_wr_eacces; /* an open for writing fails with EACCES (proc sys) */
    /* Links: the text, and for magic links the object itself. */
    int64_t (*readlink)(const struct synth_ctx *c, char *buf, size_t n);
    int (*follow)(const struct synth_ctx *c, struct vfs_mount *mnt, struct vfs_path *out);
    /* Directories: static children, then dynamic ones. */
    const struct synth_ent *kids;
    int (*list)(const struct synth_ctx *c, synth_emit_fn emit, void *arg);
    int (*lookup)(const struct synth_ctx *c, const char *name, struct synth_node *out);
    /* Optional: the permission bits when they depend on the node (an fd
     * link shows its file's access mode). */
    uint16_t (*perm_of)(const struct synth_ctx *c);
    /* Dynamic nodes: still there? (an fd still open). */
    bool (*valid)(const struct synth_ctx *c);
};

/* A read-only generated file, as /proc's system files and sysfs's are: a
 * write is EIO. */
#define SYNTH_RO_FILE(n, g)                                                                        \
    {                                                                                              \
        .name = n, .type = SYNTH_FILE, .perm = 0444, .gen = g, .write_err = -ABI_EIO               \
    }

/* A filesystem named name (the type /proc/mounts shows) whose root
 * directory is root; magic is statfs's f_type. procfs is read-write as on
 * Linux (its files refuse writes themselves), sysfs read-only. */
int synth_fs_create(struct kernel *k, const char *name, uint64_t magic,
                    const struct synth_ent *root, bool rdonly, struct vfs_filesystem **out);

/* The bytes all open synthetic files may hold in their snapshots together
 * (opens beyond it fail with ENOMEM): sets it and returns the old value,
 * for tests. synth_snapshot_held says what is held now. */
size_t synth_set_snapshot_budget(size_t bytes);
size_t synth_snapshot_held(void);

/* Parses a decimal without sign or leading zeros ("0" itself is fine). */
bool synth_parse_uint(const char *s, int *out);

#endif
