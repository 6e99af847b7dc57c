/* Credentials: user and group ids, supplementary groups and the capability
 * model (effective, permitted, inheritable, bounding and ambient sets,
 * securebits), with Linux's rules for changing them.
 *
 * Everything here works on a struct task_creds alone: no task, no guest
 * memory. The syscalls (sentry/syscalls/sys_cred.c, sys_prctl.c) copy
 * arguments in and call these; other subsystems ask cred_capable().
 */
#ifndef MOAT_SENTRY_KERNEL_CRED_H
#define MOAT_SENTRY_KERNEL_CRED_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/cred.h"
#include "sentry/kernel/kernel.h"

/* An id argument meaning "leave unchanged" (setreuid, setresuid, ...). */
#define CRED_KEEP_ID 0xffffffffu

/* The capabilities a container's root gets by default (Docker's and runc's
 * default set): bounding, permitted and effective of the sandbox's first
 * process. docs/security.md lists them. */
#define CRED_DEFAULT_CAPS                                                                          \
    (ABI_CAP_BIT(ABI_CAP_CHOWN) | ABI_CAP_BIT(ABI_CAP_DAC_OVERRIDE) |                              \
     ABI_CAP_BIT(ABI_CAP_FSETID) | ABI_CAP_BIT(ABI_CAP_FOWNER) | ABI_CAP_BIT(ABI_CAP_MKNOD) |      \
     ABI_CAP_BIT(ABI_CAP_NET_RAW) | ABI_CAP_BIT(ABI_CAP_SETGID) | ABI_CAP_BIT(ABI_CAP_SETUID) |    \
     ABI_CAP_BIT(ABI_CAP_SETFCAP) | ABI_CAP_BIT(ABI_CAP_SETPCAP) |                                 \
     ABI_CAP_BIT(ABI_CAP_NET_BIND_SERVICE) | ABI_CAP_BIT(ABI_CAP_SYS_CHROOT) |                     \
     ABI_CAP_BIT(ABI_CAP_KILL) | ABI_CAP_BIT(ABI_CAP_AUDIT_WRITE))

/* The capabilities that follow the filesystem uid: dropped from the
 * effective set when fsuid leaves 0, raised again (from permitted) when it
 * returns. */
#define CRED_FS_CAPS                                                                               \
    (ABI_CAP_BIT(ABI_CAP_CHOWN) | ABI_CAP_BIT(ABI_CAP_MKNOD) | ABI_CAP_BIT(ABI_CAP_DAC_OVERRIDE) | \
     ABI_CAP_BIT(ABI_CAP_DAC_READ_SEARCH) | ABI_CAP_BIT(ABI_CAP_FOWNER) |                          \
     ABI_CAP_BIT(ABI_CAP_FSETID) | ABI_CAP_BIT(ABI_CAP_MAC_OVERRIDE) |                             \
     ABI_CAP_BIT(ABI_CAP_LINUX_IMMUTABLE))

/* The sandbox's first process: uid and gid 0, no supplementary groups,
 * CRED_DEFAULT_CAPS as bounding, permitted and effective set, dumpable. */
void cred_init_root(struct task_creds *c);
/* Whether c holds cap in its effective set. */
bool cred_capable(const struct task_creds *c, int cap);
/* execve of a file without set-id bits or file capabilities: root (real or
 * effective, unless SECBIT_NOROOT) gets bounding | inheritable as its
 * permitted set (and effective, if the effective uid is 0); everyone else
 * keeps only the ambient set. Saved and fs ids follow the effective ones,
 * KEEP_CAPS is cleared. The exec path must call it once the new program is
 * committed to. */
void cred_exec(struct task_creds *c);
/* A copy of src for a new task (clone): the group list is duplicated.
 * 0 or -ENOMEM. */
int cred_copy(struct task_creds *dst, const struct task_creds *src);
/* Free what cred_copy or cred_set_groups allocated. */
void cred_release(struct task_creds *c);

/* ---- id changes: 0 or -EPERM / -EINVAL, Linux's rules ---- */
int cred_setuid(struct task_creds *c, uint32_t uid);
int cred_setreuid(struct task_creds *c, uint32_t ruid, uint32_t euid);
int cred_setresuid(struct task_creds *c, uint32_t ruid, uint32_t euid, uint32_t suid);
/* Returns the previous fsuid whether or not the change was allowed. */
uint32_t cred_setfsuid(struct task_creds *c, uint32_t fsuid);
int cred_setgid(struct task_creds *c, uint32_t gid);
int cred_setregid(struct task_creds *c, uint32_t rgid, uint32_t egid);
int cred_setresgid(struct task_creds *c, uint32_t rgid, uint32_t egid, uint32_t sgid);
uint32_t cred_setfsgid(struct task_creds *c, uint32_t fsgid);
/* Replace the supplementary groups (copied and sorted); needs CAP_SETGID. */
int cred_set_groups(struct task_creds *c, const uint32_t *groups, uint32_t n);

/* ---- capabilities ---- */
/* capset's checks and effect. */
int cred_capset(struct task_creds *c, uint64_t effective, uint64_t permitted, uint64_t inheritable);
/* PR_CAPBSET_DROP. */
int cred_capbset_drop(struct task_creds *c, int cap);
/* PR_CAP_AMBIENT with its sub-operation and arguments: the value for the
 * guest (IS_SET: 0/1) or -errno. */
int cred_ambient(struct task_creds *c, uint64_t op, uint64_t cap, uint64_t a4, uint64_t a5);
/* PR_SET_SECUREBITS and PR_SET_KEEPCAPS. */
int cred_set_securebits(struct task_creds *c, uint64_t bits);
int cred_set_keepcaps(struct task_creds *c, uint64_t on);

/* ---- questions other subsystems ask ---- */
/* Whether c is in group gid (its fsgid or a supplementary group). */
bool cred_in_group(const struct task_creds *c, uint32_t gid);
/* Whether the caller c may act on target (setpriority, sched_setaffinity,
 * prlimit: Linux's same-owner rule): target's real or effective uid is
 * c's effective uid, or c holds cap. */
bool cred_same_owner(const struct task_creds *c, const struct task_creds *target, int cap);

#endif
