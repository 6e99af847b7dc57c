/* System V IPC syscalls: argument copies around sentry/kernel/ipc. */
#include <stdlib.h>
#include <time.h>

#include "abi/errno.h"
#include "abi/ipc.h"
#include "abi/types.h"
#include "sentry/kernel/ipc/ipc.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

static int copy_out(struct task *t, uint64_t dst, const void *src, size_t n)
{
    return mm_copy_out(t->mm, dst, src, n) ? -ABI_EFAULT : 0;
}

static int copy_in(struct task *t, void *dst, uint64_t src, size_t n)
{
    return mm_copy_in(t->mm, dst, src, n) ? -ABI_EFAULT : 0;
}

/* ---- shared memory ---- */

int64_t sys_shmget(struct task *t, const uint64_t a[6])
{
    return ipc_shmget(t, (int32_t)a[0], a[1], (int)a[2]);
}

int64_t sys_shmat(struct task *t, const uint64_t a[6])
{
    return ipc_shmat(t, (int)a[0], a[1], (int)a[2]);
}

int64_t sys_shmdt(struct task *t, const uint64_t a[6])
{
    return ipc_shmdt(t, a[0]);
}

int64_t sys_shmctl(struct task *t, const uint64_t a[6])
{
    int id = (int)a[0], cmd = (int)a[1];
    uint64_t buf = a[2];
    if (cmd < 0 || id < 0)
        return -ABI_EINVAL;
    switch (cmd) {
    case ABI_IPC_INFO:
    case ABI_SHM_INFO: {
        struct abi_shminfo64 info;
        struct abi_shm_info sinfo;
        int64_t r = ipc_shm_info(t, cmd, &info, &sinfo);
        if (r < 0)
            return r;
        int err = cmd == ABI_IPC_INFO ? copy_out(t, buf, &info, sizeof(info))
                                      : copy_out(t, buf, &sinfo, sizeof(sinfo));
        return err ? err : r;
    }
    case ABI_IPC_STAT:
    case ABI_SHM_STAT:
    case ABI_SHM_STAT_ANY: {
        struct abi_shmid64_ds ds;
        int64_t r = ipc_shm_stat(t, id, cmd, &ds);
        if (r < 0)
            return r;
        int err = copy_out(t, buf, &ds, sizeof(ds));
        return err ? err : r;
    }
    case ABI_IPC_SET: {
        struct abi_shmid64_ds ds;
        int err = copy_in(t, &ds, buf, sizeof(ds));
        return err ? err : ipc_shm_set(t, id, &ds);
    }
    case ABI_IPC_RMID:
        return ipc_shm_rmid(t, id);
    case ABI_SHM_LOCK:
    case ABI_SHM_UNLOCK:
        return ipc_shm_lock(t, id, cmd == ABI_SHM_LOCK);
    default:
        return -ABI_EINVAL;
    }
}

/* ---- semaphores ---- */

int64_t sys_semget(struct task *t, const uint64_t a[6])
{
    return ipc_semget(t, (int32_t)a[0], (int)a[1], (int)a[2]);
}

int64_t sys_semtimedop(struct task *t, const uint64_t a[6])
{
    int id = (int)a[0];
    unsigned nsops = (unsigned)a[2];
    if (nsops < 1 || id < 0)
        return -ABI_EINVAL;
    if (nsops > ABI_SEMOPM)
        return -ABI_E2BIG;
    struct abi_sembuf *sops = malloc(nsops * sizeof(*sops));
    if (!sops)
        return -ABI_ENOMEM;
    int64_t r = copy_in(t, sops, a[1], nsops * sizeof(*sops));
    struct kernel_deadline dl;
    bool timed = a[3] != 0;
    if (!r && timed) {
        struct abi_timespec g;
        r = copy_in(t, &g, a[3], sizeof(g));
        if (!r && (g.tv_sec < 0 || g.tv_nsec < 0 || g.tv_nsec >= 1000000000))
            r = -ABI_EINVAL;
        if (!r) {
            struct timespec rel = {g.tv_sec, g.tv_nsec};
            dl = kernel_deadline_after(CLOCK_MONOTONIC, &rel);
        }
    }
    if (!r)
        r = ipc_semop(t, id, sops, nsops, timed ? &dl : NULL);
    free(sops);
    return r;
}

int64_t sys_semop(struct task *t, const uint64_t a[6])
{
    const uint64_t b[6] = {a[0], a[1], a[2], 0, 0, 0};
    return sys_semtimedop(t, b);
}

static int64_t semctl_all(struct task *t, int id, int cmd, uint64_t arg)
{
    int64_t n = ipc_sem_nsems(t, id, cmd == ABI_SETALL);
    if (n < 0)
        return n;
    uint16_t *vals = malloc((size_t)n * sizeof(*vals));
    if (!vals)
        return -ABI_ENOMEM;
    int64_t r;
    if (cmd == ABI_GETALL) {
        r = ipc_sem_getall(t, id, vals, (int)n);
        if (!r)
            r = copy_out(t, arg, vals, (size_t)n * sizeof(*vals));
    } else {
        r = copy_in(t, vals, arg, (size_t)n * sizeof(*vals));
        if (!r)
            r = ipc_sem_setall(t, id, vals, (int)n);
    }
    free(vals);
    return r;
}

int64_t sys_semctl(struct task *t, const uint64_t a[6])
{
    int id = (int)a[0], semnum = (int)a[1], cmd = (int)a[2];
    uint64_t arg = a[3]; /* union semun, passed by value */
    if (id < 0)
        return -ABI_EINVAL;
    switch (cmd) {
    case ABI_IPC_INFO:
    case ABI_SEM_INFO: {
        struct abi_seminfo info;
        int64_t r = ipc_sem_info(t, cmd, &info);
        if (r < 0)
            return r;
        int err = copy_out(t, arg, &info, sizeof(info));
        return err ? err : r;
    }
    case ABI_IPC_STAT:
    case ABI_SEM_STAT:
    case ABI_SEM_STAT_ANY: {
        struct abi_semid64_ds ds;
        int64_t r = ipc_sem_stat(t, id, cmd, &ds);
        if (r < 0)
            return r;
        int err = copy_out(t, arg, &ds, sizeof(ds));
        return err ? err : r;
    }
    case ABI_IPC_SET: {
        struct abi_semid64_ds ds;
        int err = copy_in(t, &ds, arg, sizeof(ds));
        return err ? err : ipc_sem_set(t, id, &ds);
    }
    case ABI_IPC_RMID:
        return ipc_sem_rmid(t, id);
    case ABI_GETVAL:
    case ABI_GETPID:
    case ABI_GETNCNT:
    case ABI_GETZCNT:
        return ipc_sem_get1(t, id, semnum, cmd);
    case ABI_SETVAL:
        return ipc_sem_setval(t, id, semnum, (int)(uint32_t)arg);
    case ABI_GETALL:
    case ABI_SETALL:
        return semctl_all(t, id, cmd, arg);
    default:
        return -ABI_EINVAL;
    }
}

/* ---- message queues ---- */

int64_t sys_msgget(struct task *t, const uint64_t a[6])
{
    return ipc_msgget(t, (int32_t)a[0], (int)a[1]);
}

int64_t sys_msgsnd(struct task *t, const uint64_t a[6])
{
    int id = (int)a[0];
    uint64_t msgp = a[1], len = a[2];
    int flg = (int)a[3];
    /* The type is read first, then the size judged, then the text read. */
    int64_t mtype;
    int err = copy_in(t, &mtype, msgp, sizeof(mtype));
    if (err)
        return err;
    if (len > ABI_MSGMAX || id < 0 || mtype < 1)
        return -ABI_EINVAL;
    void *text = malloc(len ? len : 1);
    if (!text)
        return -ABI_ENOMEM;
    int64_t r = copy_in(t, text, msgp + sizeof(mtype), len);
    if (!r)
        r = ipc_msgsnd(t, id, mtype, text, len, flg);
    free(text);
    return r;
}

int64_t sys_msgrcv(struct task *t, const uint64_t a[6])
{
    uint64_t msgp = a[1];
    int64_t mtype;
    void *text = NULL;
    int64_t r = ipc_msgrcv(t, (int)a[0], a[2], (int64_t)a[3], (int)a[4], &mtype, &text);
    if (r < 0)
        return r;
    /* The message is gone from the queue whether or not this works, as on
     * Linux. */
    int err = copy_out(t, msgp, &mtype, sizeof(mtype));
    if (!err)
        err = copy_out(t, msgp + sizeof(mtype), text, (size_t)r);
    free(text);
    return err ? err : r;
}

int64_t sys_msgctl(struct task *t, const uint64_t a[6])
{
    int id = (int)a[0], cmd = (int)a[1];
    uint64_t buf = a[2];
    if (cmd < 0 || id < 0)
        return -ABI_EINVAL;
    switch (cmd) {
    case ABI_IPC_INFO:
    case ABI_MSG_INFO: {
        struct abi_msginfo info;
        int64_t r = ipc_msg_info(t, cmd, &info);
        if (r < 0)
            return r;
        int err = copy_out(t, buf, &info, sizeof(info));
        return err ? err : r;
    }
    case ABI_IPC_STAT:
    case ABI_MSG_STAT:
    case ABI_MSG_STAT_ANY: {
        struct abi_msqid64_ds ds;
        int64_t r = ipc_msg_stat(t, id, cmd, &ds);
        if (r < 0)
            return r;
        int err = copy_out(t, buf, &ds, sizeof(ds));
        return err ? err : r;
    }
    case ABI_IPC_SET: {
        struct abi_msqid64_ds ds;
        int err = copy_in(t, &ds, buf, sizeof(ds));
        return err ? err : ipc_msg_set(t, id, &ds);
    }
    case ABI_IPC_RMID:
        return ipc_msg_rmid(t, id);
    default:
        return -ABI_EINVAL;
    }
}
