/* The tables the files of sentry/fs/procfs share: each file owns one part
 * of the tree and its generators. */
#ifndef MOAT_SENTRY_FS_PROCFS_PROC_INTERNAL_H
#define MOAT_SENTRY_FS_PROCFS_PROC_INTERNAL_H

#include "sentry/fs/procfs/synth.h"

/* /proc/PID (proc_pid.c). */
extern const struct synth_ent procfs_pid_dir;
/* /proc/sys's entries (proc_sys.c). */
extern const struct synth_ent procfs_sys_kids[];

/* /proc/sysvipc, and the IPC limits of /proc/sys/kernel (proc_sysvipc.c). */
extern const struct synth_ent procfs_sysvipc_kids[];
int procfs_gen_shmmax(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_shmall(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_shmmni(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_sem(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_msgmax(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_msgmnb(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_msgmni(const struct synth_ctx *c, struct synth_buf *b);

/* The system-wide files (proc_info.c). */
int procfs_gen_meminfo(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_cpuinfo(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_stat(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_uptime(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_loadavg(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_version(const struct synth_ctx *c, struct synth_buf *b);
int procfs_gen_filesystems(const struct synth_ctx *c, struct synth_buf *b);

/* Nanoseconds since the sandbox booted (CLOCK_MONOTONIC). */

/* fd links to files without a path (proc_fdfile.c): a path to an
 * anonymous inode whose open forwards to f. */
struct task;
struct vfs_file;
int procfs_anon_file_path(struct task *t, struct vfs_file *f, struct vfs_mount *mnt,
                          struct vfs_path *out);
/* The file a description opened through such a path stands for; f itself
 * otherwise. */
struct vfs_file *procfs_anon_original(struct vfs_file *f);

/* readlink's copy: at most n bytes of s, no NUL; the count. */
int64_t procfs_link_text(char *buf, size_t n, const char *s);

#endif
