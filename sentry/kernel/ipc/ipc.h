/* System V IPC: shared memory segments, semaphore sets and message queues
 * of the sandbox's one IPC namespace (struct kernel's ipc, made on first
 * use).
 *
 * The syscall layer (sentry/syscalls/sys_ipc.c) copies guest arguments in
 * and results out; these functions take and fill Sentry copies of the ABI
 * structs. All are called under the kernel lock and return -errno on
 * failure, with Linux's errno for each case.
 */
#ifndef MOAT_SENTRY_KERNEL_IPC_IPC_H
#define MOAT_SENTRY_KERNEL_IPC_IPC_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/ipc.h"

struct kernel;
struct task;
struct kernel_deadline;

/* A thread group is gone: its semaphore adjustments (SEM_UNDO) are applied.
 * Call once per exiting thread group, with its last task. */
void ipc_exit(struct task *t);

/* ---- shared memory (shm.c) ---- */
int64_t ipc_shmget(struct task *t, int32_t key, uint64_t size, int flg);
/* Maps the segment into t's address space; returns the address. */
int64_t ipc_shmat(struct task *t, int id, uint64_t addr, int flg);
int64_t ipc_shmdt(struct task *t, uint64_t addr);
/* IPC_STAT, SHM_STAT, SHM_STAT_ANY (id is then an index): fills ds and
 * returns 0 or, for the *_STAT forms, the object's id. */
int64_t ipc_shm_stat(struct task *t, int id, int cmd, struct abi_shmid64_ds *ds);
int64_t ipc_shm_set(struct task *t, int id, const struct abi_shmid64_ds *ds);
int64_t ipc_shm_rmid(struct task *t, int id);
int64_t ipc_shm_lock(struct task *t, int id, bool lock);
/* IPC_INFO fills info, SHM_INFO sinfo; both return the highest index in use. */
int64_t ipc_shm_info(struct task *t, int cmd, struct abi_shminfo64 *info,
                     struct abi_shm_info *sinfo);

/* ---- semaphores (sem.c) ---- */
int64_t ipc_semget(struct task *t, int32_t key, int nsems, int flg);
/* semop/semtimedop with the operations already copied in; dl NULL: no
 * timeout. */
int64_t ipc_semop(struct task *t, int id, const struct abi_sembuf *sops, unsigned nsops,
                  const struct kernel_deadline *dl);
int64_t ipc_sem_stat(struct task *t, int id, int cmd, struct abi_semid64_ds *ds);
int64_t ipc_sem_set(struct task *t, int id, const struct abi_semid64_ds *ds);
int64_t ipc_sem_rmid(struct task *t, int id);
int64_t ipc_sem_info(struct task *t, int cmd, struct abi_seminfo *info);
/* GETVAL, GETPID, GETNCNT, GETZCNT of one semaphore. */
int64_t ipc_sem_get1(struct task *t, int id, int semnum, int cmd);
int64_t ipc_sem_setval(struct task *t, int id, int semnum, int val);
/* The number of semaphores of the set (for GETALL/SETALL's buffer), after
 * the permission check for reading (write: for altering). */
int64_t ipc_sem_nsems(struct task *t, int id, bool write);
int64_t ipc_sem_getall(struct task *t, int id, uint16_t *vals, int n);
int64_t ipc_sem_setall(struct task *t, int id, const uint16_t *vals, int n);

/* ---- message queues (msg.c) ---- */
int64_t ipc_msgget(struct task *t, int32_t key, int flg);
int64_t ipc_msgsnd(struct task *t, int id, int64_t mtype, const void *text, uint64_t len, int flg);
/* Takes a message off the queue: *mtype, its text (at most max bytes,
 * malloc'd into *text, which the caller frees); returns the text's length. */
int64_t ipc_msgrcv(struct task *t, int id, uint64_t max, int64_t msgtyp, int flg, int64_t *mtype,
                   void **text);
int64_t ipc_msg_stat(struct task *t, int id, int cmd, struct abi_msqid64_ds *ds);
int64_t ipc_msg_set(struct task *t, int id, const struct abi_msqid64_ds *ds);
int64_t ipc_msg_rmid(struct task *t, int id);
int64_t ipc_msg_info(struct task *t, int cmd, struct abi_msginfo *info);

/* ---- listing (/proc/sysvipc) ----
 * Calls fn for each object in index order with its id and its *_STAT
 * view (shm: and its resident bytes); stops at the first non-zero return,
 * which it returns. */
int ipc_for_each_shm(struct kernel *k,
                     int (*fn)(void *arg, int id, const struct abi_shmid64_ds *ds, uint64_t rss),
                     void *arg);
int ipc_for_each_sem(struct kernel *k,
                     int (*fn)(void *arg, int id, const struct abi_semid64_ds *ds), void *arg);
int ipc_for_each_msg(struct kernel *k,
                     int (*fn)(void *arg, int id, const struct abi_msqid64_ds *ds), void *arg);

#endif
