/* System V IPC as an x86-64 guest sees it: flags, commands, the *64_ds and
 * info structs of shmctl, semctl and msgctl, and the default limits. */
#ifndef MOAT_ABI_IPC_H
#define MOAT_ABI_IPC_H

#include <stdint.h>

/* get flags (with the permission bits in the low 9) */
#define ABI_IPC_PRIVATE 0
#define ABI_IPC_CREAT   01000
#define ABI_IPC_EXCL    02000
#define ABI_IPC_NOWAIT  04000

/* commands shared by the three *ctl calls */
#define ABI_IPC_RMID 0
#define ABI_IPC_SET  1
#define ABI_IPC_STAT 2
#define ABI_IPC_INFO 3
/* The old-ABI marker some libcs add to cmd; x86-64 has only the new one. */
#define ABI_IPC_64 0x100

/* shmget flags, shmat flags, shm mode bits, shmctl commands */
#define ABI_SHM_HUGETLB   04000
#define ABI_SHM_NORESERVE 010000
#define ABI_SHM_RDONLY    010000
#define ABI_SHM_RND       020000
#define ABI_SHM_REMAP     040000
#define ABI_SHM_EXEC      0100000
#define ABI_SHM_DEST      01000
#define ABI_SHM_LOCKED    02000
#define ABI_SHM_LOCK      11
#define ABI_SHM_UNLOCK    12
#define ABI_SHM_STAT      13
#define ABI_SHM_INFO      14
#define ABI_SHM_STAT_ANY  15
#define ABI_SHMLBA        4096

/* semop flag and semctl commands */
#define ABI_SEM_UNDO     0x1000
#define ABI_GETPID       11
#define ABI_GETVAL       12
#define ABI_GETALL       13
#define ABI_GETNCNT      14
#define ABI_GETZCNT      15
#define ABI_SETVAL       16
#define ABI_SETALL       17
#define ABI_SEM_STAT     18
#define ABI_SEM_INFO     19
#define ABI_SEM_STAT_ANY 20

/* msgrcv flags and msgctl commands */
#define ABI_MSG_NOERROR  010000
#define ABI_MSG_EXCEPT   020000
#define ABI_MSG_COPY     040000
#define ABI_MSG_STAT     11
#define ABI_MSG_INFO     12
#define ABI_MSG_STAT_ANY 13

/* Linux's default limits (ipcs -l on a 6.x kernel). */
#define ABI_SHMMIN 1ULL
#define ABI_SHMMAX (UINT64_MAX - (1ULL << 24))
#define ABI_SHMALL (UINT64_MAX - (1ULL << 24)) /* pages */
#define ABI_SHMMNI 4096
#define ABI_SEMMSL 32000
#define ABI_SEMMNI 32000
#define ABI_SEMMNS (ABI_SEMMNI * ABI_SEMMSL)
#define ABI_SEMOPM 500
#define ABI_SEMVMX 32767
#define ABI_SEMAEM ABI_SEMVMX
#define ABI_MSGMAX 8192
#define ABI_MSGMNB 16384
#define ABI_MSGMNI 32000
#define ABI_MSGSSZ 16
/* ids: an index in the table plus a sequence number times this */
#define ABI_IPCMNI 32768

struct abi_ipc64_perm {
    int32_t key;
    uint32_t uid, gid, cuid, cgid;
    uint32_t mode; /* only the low 16 bits are meaningful */
    uint16_t seq;
    uint16_t pad2;
    uint64_t unused1, unused2;
};
_Static_assert(sizeof(struct abi_ipc64_perm) == 48, "ipc64_perm");

struct abi_shmid64_ds {
    struct abi_ipc64_perm shm_perm;
    uint64_t shm_segsz;
    int64_t shm_atime, shm_dtime, shm_ctime;
    int32_t shm_cpid, shm_lpid;
    uint64_t shm_nattch;
    uint64_t unused4, unused5;
};
_Static_assert(sizeof(struct abi_shmid64_ds) == 112, "shmid64_ds");

struct abi_shminfo64 {
    uint64_t shmmax, shmmin, shmmni, shmseg, shmall;
    uint64_t unused1, unused2, unused3, unused4;
};
_Static_assert(sizeof(struct abi_shminfo64) == 72, "shminfo64");

struct abi_shm_info {
    int32_t used_ids;
    uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};
_Static_assert(sizeof(struct abi_shm_info) == 48, "shm_info");

struct abi_semid64_ds {
    struct abi_ipc64_perm sem_perm;
    int64_t sem_otime;
    uint64_t unused1;
    int64_t sem_ctime;
    uint64_t unused2;
    uint64_t sem_nsems;
    uint64_t unused3, unused4;
};
_Static_assert(sizeof(struct abi_semid64_ds) == 104, "semid64_ds");

struct abi_seminfo {
    int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};
_Static_assert(sizeof(struct abi_seminfo) == 40, "seminfo");

struct abi_sembuf {
    uint16_t sem_num;
    int16_t sem_op;
    int16_t sem_flg;
};
_Static_assert(sizeof(struct abi_sembuf) == 6, "sembuf");

struct abi_msqid64_ds {
    struct abi_ipc64_perm msg_perm;
    int64_t msg_stime, msg_rtime, msg_ctime;
    uint64_t msg_cbytes, msg_qnum, msg_qbytes;
    int32_t msg_lspid, msg_lrpid;
    uint64_t unused4, unused5;
};
_Static_assert(sizeof(struct abi_msqid64_ds) == 120, "msqid64_ds");

struct abi_msginfo {
    int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
    uint16_t msgseg;
};
_Static_assert(sizeof(struct abi_msginfo) == 32, "msginfo");

/* ---- POSIX message queues (mq_overview(7)) ---- */
#define ABI_MQ_PRIO_MAX 32768 /* priorities are 0 .. MQ_PRIO_MAX - 1 */
/* /proc/sys/fs/mqueue: the defaults a queue gets without attr, the limits
 * for callers without CAP_SYS_RESOURCE, and the hard ceilings for those
 * with it. */
#define ABI_MQ_MSG_DEFAULT     10
#define ABI_MQ_MSGSIZE_DEFAULT 8192
#define ABI_MQ_MSG_MAX         10
#define ABI_MQ_MSGSIZE_MAX     8192
#define ABI_MQ_QUEUES_MAX      256
#define ABI_MQ_HARD_MSGMAX     65536
#define ABI_MQ_HARD_MSGSIZEMAX (16 * 1024 * 1024)

struct abi_mq_attr {
    int64_t mq_flags; /* only O_NONBLOCK */
    int64_t mq_maxmsg;
    int64_t mq_msgsize;
    int64_t mq_curmsgs;
    int64_t reserved[4];
};
_Static_assert(sizeof(struct abi_mq_attr) == 64, "mq_attr");

#endif
