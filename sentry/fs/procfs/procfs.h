/* procfs: moat's /proc, generated from the Sentry's own state.
 *
 * procfs_create makes the filesystem (sentry/boot/mount_proc.c mounts it);
 * the procfs_format_* pieces print the parts whose format Linux fixes, and
 * are public so that unit tests can check them on their own.
 */
#ifndef MOAT_SENTRY_FS_PROCFS_PROCFS_H
#define MOAT_SENTRY_FS_PROCFS_PROCFS_H

#include <stdint.h>

#include "abi/types.h"
#include "sentry/fs/procfs/synth.h"
#include "sentry/vfs/vfs.h"

struct kernel;
struct mm_vma_info;

#define PROCFS_SUPER_MAGIC 0x9fa0

int procfs_create(struct kernel *k, struct vfs_filesystem **out);

/* "0-3\n" for 4 CPUs, "0\n" for one: the cpulist format of
 * /sys/devices/system/cpu/online and Cpus_allowed_list. No newline when nl
 * is false. */
void procfs_format_cpu_list(struct synth_buf *b, int ncpus, bool nl);
/* The Cpus_allowed mask: hex words of 32 bits, comma-separated. */
void procfs_format_cpu_mask(struct synth_buf *b, int ncpus);
/* s with space, tab, newline and backslash as \040, \011, \012, \134, as
 * /proc/mounts and mountinfo escape paths. */
void procfs_format_escaped(struct synth_buf *b, const char *s);
/* The source and type /proc/mounts shows for a moat filesystem name. */
void procfs_mount_names(const char *fs_name, const char **source, const char **type);
/* "rw,nosuid,nodev,noexec,relatime" for VFS_MNT_* flags. */
void procfs_format_mount_opts(struct synth_buf *b, uint32_t mnt_flags);
/* /proc/PID/limits from a task's limits. */
void procfs_format_limits(struct synth_buf *b, const struct abi_rlimit *lim);
/* One /proc/PID/maps line. */
void procfs_format_maps_line(struct synth_buf *b, const struct mm_vma_info *v);
/* /proc/cpuinfo: ncpus copies of the host's first processor block
 * (template; a minimal block when NULL), numbered 0..ncpus-1. */
void procfs_format_cpuinfo(struct synth_buf *b, const char *tmpl, int ncpus);
/* /proc/meminfo for total_kb of memory of which used_kb is in use. */
void procfs_format_meminfo(struct synth_buf *b, uint64_t total_kb, uint64_t used_kb);

#endif
