/* What shm.c, sem.c and msg.c share: the namespace, the id tables, and
 * the permission rules of struct ipc_perm. */
#ifndef MOAT_SENTRY_KERNEL_IPC_IPC_INTERNAL_H
#define MOAT_SENTRY_KERNEL_IPC_IPC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/ipc.h"

struct kernel;
struct task;
struct vfs_filesystem;
struct vfs_mount;
struct sem_undo;

/* The permission part every object starts with (Linux's kern_ipc_perm). */
struct ipc_obj {
    int id; /* seq * ABI_IPCMNI + index */
    int32_t key;
    uint32_t uid, gid, cuid, cgid;
    uint32_t mode; /* permission bits, and SHM_DEST / SHM_LOCKED for shm */
    uint16_t seq;
};

/* One kind of object: a table indexed by the low part of the id. */
struct ipc_ids {
    struct ipc_obj **slots;
    int cap;
    int in_use;
    uint16_t next_seq;
};

struct ipc_ns {
    struct kernel *k;
    struct ipc_ids shm, sem, msg;
    /* Segments are unlinked files of a tmpfs of their own. */
    struct vfs_filesystem *shm_fs;
    struct vfs_mount *shm_mnt;
    uint64_t shm_tot; /* pages of all segments (against SHMALL) */
    uint64_t sem_tot; /* semaphores of all sets (against SEMMNS) */
    struct sem_undo *undos;
    uint64_t msg_bytes, msg_count; /* of all queues (MSG_INFO) */
};

/* The kernel's namespace, made on first use; NULL when out of memory. */
struct ipc_ns *ipc_ns_of(struct kernel *k);

/* Adds o under a fresh id (o->id, o->seq set); -ENOSPC beyond max objects. */
int ipc_ids_add(struct ipc_ids *ids, struct ipc_obj *o, int max);
void ipc_ids_remove(struct ipc_ids *ids, struct ipc_obj *o);
/* The object with this id, NULL when none (EINVAL for the caller). */
struct ipc_obj *ipc_ids_find(struct ipc_ids *ids, int id);
struct ipc_obj *ipc_ids_find_key(struct ipc_ids *ids, int32_t key);
/* The object at index idx (the *_STAT commands), or NULL. */
struct ipc_obj *ipc_ids_at(struct ipc_ids *ids, int idx);
/* The highest index in use, 0 when none (what the INFO commands return). */
int ipc_ids_max_index(const struct ipc_ids *ids);

/* The get calls' common rules: an existing key, IPC_CREAT, IPC_EXCL and
 * the permission check. Returns the id of the existing object, or calls
 * create (which returns the new id or -errno) when there is none and the
 * flags allow. check: the kind's own test of an existing object
 * (a size or count too large: -EINVAL), NULL for none. */
int64_t ipc_get(struct task *t, struct ipc_ids *ids, int32_t key, int flg,
                int64_t (*create)(struct task *t, void *arg),
                int (*check)(struct ipc_obj *o, void *arg), void *arg);

/* A new object's permissions: key, owner and creator from t's creds, the
 * low 9 bits of flg. */
void ipc_obj_init(struct ipc_obj *o, struct task *t, int32_t key, int flg);
/* Linux's ipcperms: requested is an rwx triple of S_IRUGO/S_IWUGO bits
 * (0444, 0222). 0 or -EACCES. */
int ipc_perm_check(struct task *t, const struct ipc_obj *o, int requested);
/* IPC_SET and IPC_RMID: the owner or creator, or a privileged caller.
 * 0 or -EPERM. */
int ipc_owner_check(struct task *t, const struct ipc_obj *o);
/* Capabilities: the sandbox has no capability sets yet, so a euid of 0
 * stands for all of them (cred_capable later). */
bool ipc_capable(struct task *t, int cap);
void ipc_perm_fill(const struct ipc_obj *o, struct abi_ipc64_perm *p);
/* IPC_SET's part of the permissions: uid, gid and the permission bits. */
void ipc_perm_set(struct ipc_obj *o, const struct abi_ipc64_perm *p);
/* CLOCK_REALTIME seconds, for the *time fields. */
int64_t ipc_now(void);
/* The pid t's process is (0 for none). */
int ipc_pid(const struct task *t);

#endif
