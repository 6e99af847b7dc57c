/* /proc/sysvipc/{shm,sem,msg}: one line per System V object of the
 * sandbox's IPC namespace, in Linux's columns; and the IPC limits under
 * /proc/sys/kernel, which are Linux's defaults and fixed here. */
#include <inttypes.h>

#include "sentry/fs/procfs/proc_internal.h"
#include "sentry/kernel/ipc/ipc.h"
#include "sentry/kernel/kernel.h"

static int shm_line(void *arg, int id, const struct abi_shmid64_ds *ds, uint64_t rss)
{
    const struct abi_ipc64_perm *p = &ds->shm_perm;
    synth_printf(arg,
                 "%10d %10d  %4o %21" PRIu64 " %5d %5d  %5" PRIu64 " %5u %5u %5u %5u %10" PRId64
                 " %10" PRId64 " %10" PRId64 " %21" PRIu64 " %21u\n",
                 p->key, id, p->mode & 0xffff, ds->shm_segsz, ds->shm_cpid, ds->shm_lpid,
                 ds->shm_nattch, p->uid, p->gid, p->cuid, p->cgid, ds->shm_atime, ds->shm_dtime,
                 ds->shm_ctime, rss, 0u);
    return 0;
}

static int gen_shm(const struct synth_ctx *c, struct synth_buf *b)
{
    synth_printf(b,
                 "       key      shmid perms                  size  cpid  lpid nattch   uid   gid"
                 "  cuid  cgid      atime      dtime      ctime                   rss             "
                 "     swap\n");
    ipc_for_each_shm(c->k, shm_line, b);
    return 0;
}

static int sem_line(void *arg, int id, const struct abi_semid64_ds *ds)
{
    const struct abi_ipc64_perm *p = &ds->sem_perm;
    synth_printf(arg, "%10d %10d  %4o %10" PRIu64 " %5u %5u %5u %5u %10" PRId64 " %10" PRId64 "\n",
                 p->key, id, p->mode & 0xffff, ds->sem_nsems, p->uid, p->gid, p->cuid, p->cgid,
                 ds->sem_otime, ds->sem_ctime);
    return 0;
}

static int gen_sem(const struct synth_ctx *c, struct synth_buf *b)
{
    synth_printf(b,
                 "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      "
                 "ctime\n");
    ipc_for_each_sem(c->k, sem_line, b);
    return 0;
}

static int msg_line(void *arg, int id, const struct abi_msqid64_ds *ds)
{
    const struct abi_ipc64_perm *p = &ds->msg_perm;
    synth_printf(arg,
                 "%10d %10d  %4o  %10" PRIu64 " %10" PRIu64 " %5d %5d %5u %5u %5u %5u %10" PRId64
                 " %10" PRId64 " %10" PRId64 "\n",
                 p->key, id, p->mode & 0xffff, ds->msg_cbytes, ds->msg_qnum, ds->msg_lspid,
                 ds->msg_lrpid, p->uid, p->gid, p->cuid, p->cgid, ds->msg_stime, ds->msg_rtime,
                 ds->msg_ctime);
    return 0;
}

static int gen_msg(const struct synth_ctx *c, struct synth_buf *b)
{
    synth_printf(b,
                 "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid"
                 "  cgid      stime      rtime      ctime\n");
    ipc_for_each_msg(c->k, msg_line, b);
    return 0;
}

const struct synth_ent procfs_sysvipc_kids[] = {
    SYNTH_RO_FILE("msg", gen_msg),
    SYNTH_RO_FILE("sem", gen_sem),
    SYNTH_RO_FILE("shm", gen_shm),
    {.name = NULL},
};

/* ---- /proc/sys/kernel ---- */

int procfs_gen_shmmax(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%" PRIu64 "\n", (uint64_t)ABI_SHMMAX);
    return 0;
}

int procfs_gen_shmall(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%" PRIu64 "\n", (uint64_t)ABI_SHMALL);
    return 0;
}

int procfs_gen_shmmni(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%d\n", ABI_SHMMNI);
    return 0;
}

int procfs_gen_sem(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%d\t%d\t%d\t%d\n", ABI_SEMMSL, ABI_SEMMNS, ABI_SEMOPM, ABI_SEMMNI);
    return 0;
}

int procfs_gen_msgmax(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%d\n", ABI_MSGMAX);
    return 0;
}

int procfs_gen_msgmnb(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%d\n", ABI_MSGMNB);
    return 0;
}

int procfs_gen_msgmni(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%d\n", ABI_MSGMNI);
    return 0;
}
