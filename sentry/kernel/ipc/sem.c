/* System V semaphores: sets of counters that semop changes atomically,
 * sleeping until every operation of a call can proceed, and the per-process
 * adjustments (SEM_UNDO) applied when the process exits.
 *
 * A blocked semop sleeps on its set's wait queue and tries its whole
 * operation list again after every change to the set; it never holds a
 * partial result. Sleepers hold a reference so that IPC_RMID, which frees
 * the set's table entry at once, can still tell them it is gone (EIDRM). */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/kernel/ipc/ipc.h"
#include "sentry/kernel/ipc/ipc_internal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"

struct sem_waiter {
    struct sem_waiter *next;
    int semnum;
    bool zero; /* waits for zero (GETZCNT), else for an increase (GETNCNT) */
};

struct sem_set {
    struct ipc_obj perm;
    struct ipc_ns *ns;
    int nsems;
    int *vals;
    int *pids;
    int64_t otime, ctime;
    struct waitq q;
    struct sem_waiter *waiters;
    int refs; /* the table's and each sleeper's */
    bool removed;
};

/* One process's adjustments for one set (Linux's sem_undo): what its
 * SEM_UNDO operations did, undone when it exits. */
struct sem_undo {
    struct sem_undo *next;
    int pid;
    struct sem_set *set;
    int adj[];
};

static struct sem_set *set_of(struct ipc_obj *o)
{
    return (struct sem_set *)o;
}

static void set_put(struct sem_set *s)
{
    if (--s->refs > 0)
        return;
    free(s->vals);
    free(s->pids);
    free(s);
}

static struct sem_set *set_find(struct task *t, int id)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    struct ipc_obj *o = ns ? ipc_ids_find(&ns->sem, id) : NULL;
    return o ? set_of(o) : NULL;
}

/* ---- semget ---- */

struct semget_args {
    struct ipc_ns *ns;
    int32_t key;
    int nsems;
    int flg;
};

static int64_t sem_create(struct task *t, void *arg)
{
    struct semget_args *a = arg;
    struct ipc_ns *ns = a->ns;
    if (a->nsems == 0)
        return -ABI_EINVAL;
    if (ns->sem_tot + (uint64_t)a->nsems > (uint64_t)ABI_SEMMNS)
        return -ABI_ENOSPC;
    struct sem_set *s = calloc(1, sizeof(*s));
    if (!s)
        return -ABI_ENOMEM;
    s->vals = calloc((size_t)a->nsems, sizeof(int));
    s->pids = calloc((size_t)a->nsems, sizeof(int));
    int err = s->vals && s->pids ? 0 : -ABI_ENOMEM;
    ipc_obj_init(&s->perm, t, a->key, a->flg);
    if (!err)
        err = ipc_ids_add(&ns->sem, &s->perm, ABI_SEMMNI);
    if (err) {
        free(s->vals);
        free(s->pids);
        free(s);
        return err;
    }
    s->ns = ns;
    s->nsems = a->nsems;
    s->ctime = ipc_now();
    s->refs = 1;
    waitq_init(&s->q);
    ns->sem_tot += (uint64_t)a->nsems;
    return s->perm.id;
}

static int sem_check(struct ipc_obj *o, void *arg)
{
    struct semget_args *a = arg;
    return a->nsems > set_of(o)->nsems ? -ABI_EINVAL : 0;
}

int64_t ipc_semget(struct task *t, int32_t key, int nsems, int flg)
{
    if (nsems < 0 || nsems > ABI_SEMMSL)
        return -ABI_EINVAL;
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    struct semget_args a = {ns, key, nsems, flg};
    return ipc_get(t, &ns->sem, key, flg, sem_create, sem_check, &a);
}

/* ---- undo lists ---- */

static struct sem_undo *undo_find(struct ipc_ns *ns, int pid, struct sem_set *s)
{
    for (struct sem_undo *u = ns->undos; u; u = u->next) {
        if (u->pid == pid && u->set == s)
            return u;
    }
    return NULL;
}

static struct sem_undo *undo_get(struct ipc_ns *ns, int pid, struct sem_set *s)
{
    struct sem_undo *u = undo_find(ns, pid, s);
    if (u)
        return u;
    u = calloc(1, sizeof(*u) + (size_t)s->nsems * sizeof(int));
    if (!u)
        return NULL;
    u->pid = pid;
    u->set = s;
    u->next = ns->undos;
    ns->undos = u;
    return u;
}

/* SETVAL and SETALL make every process's adjustment of the semaphores
 * they set meaningless: cleared (semnum -1: all). */
static void undo_clear(struct ipc_ns *ns, struct sem_set *s, int semnum)
{
    for (struct sem_undo *u = ns->undos; u; u = u->next) {
        if (u->set != s)
            continue;
        if (semnum < 0)
            memset(u->adj, 0, (size_t)s->nsems * sizeof(int));
        else
            u->adj[semnum] = 0;
    }
}

void ipc_exit(struct task *t)
{
    struct ipc_ns *ns = t->k->ipc;
    if (!ns)
        return;
    int pid = t->pid;
    int64_t now = ipc_now();
    for (struct sem_undo **p = &ns->undos; *p;) {
        struct sem_undo *u = *p;
        if (u->pid != pid) {
            p = &u->next;
            continue;
        }
        *p = u->next;
        struct sem_set *s = u->set;
        bool changed = false;
        for (int i = 0; i < s->nsems; i++) {
            if (!u->adj[i])
                continue;
            /* Linux clamps rather than fails: the process is gone. */
            int v = s->vals[i] + u->adj[i];
            s->vals[i] = v < 0 ? 0 : v > ABI_SEMVMX ? ABI_SEMVMX : v;
            s->pids[i] = pid;
            changed = true;
        }
        if (changed) {
            s->otime = now;
            waitq_notify(&s->q, 0);
        }
        free(u);
    }
}

/* ---- semop ---- */

/* Tries the whole list. 0 when done; 1 when operation *blocked_at must
 * wait; -ERANGE, -EAGAIN (that operation has IPC_NOWAIT). */
static int try_ops(struct sem_set *s, const struct abi_sembuf *sops, unsigned n, struct sem_undo *u,
                   int pid, unsigned *blocked_at)
{
    int *tmp = malloc((size_t)s->nsems * sizeof(int));
    if (!tmp)
        return -ABI_ENOMEM;
    memcpy(tmp, s->vals, (size_t)s->nsems * sizeof(int));
    for (unsigned i = 0; i < n; i++) {
        const struct abi_sembuf *op = &sops[i];
        int v = tmp[op->sem_num];
        bool wait = op->sem_op == 0 ? v != 0 : v + op->sem_op < 0;
        if (wait) {
            free(tmp);
            *blocked_at = i;
            return (op->sem_flg & ABI_IPC_NOWAIT) ? -ABI_EAGAIN : 1;
        }
        v += op->sem_op;
        if (v > ABI_SEMVMX) {
            free(tmp);
            return -ABI_ERANGE;
        }
        if (op->sem_op && (op->sem_flg & ABI_SEM_UNDO)) {
            int adj = u->adj[op->sem_num] - op->sem_op;
            if (adj < -ABI_SEMAEM - 1 || adj > ABI_SEMAEM) {
                free(tmp);
                return -ABI_ERANGE;
            }
        }
        tmp[op->sem_num] = v;
    }
    bool altered = false;
    for (unsigned i = 0; i < n; i++) {
        const struct abi_sembuf *op = &sops[i];
        s->pids[op->sem_num] = pid;
        if (op->sem_op && (op->sem_flg & ABI_SEM_UNDO))
            u->adj[op->sem_num] -= op->sem_op;
        altered |= op->sem_op != 0;
    }
    memcpy(s->vals, tmp, (size_t)s->nsems * sizeof(int));
    free(tmp);
    s->otime = ipc_now();
    if (altered)
        waitq_notify(&s->q, 0);
    return 0;
}

static void waiter_unlink(struct sem_set *s, struct sem_waiter *w)
{
    for (struct sem_waiter **p = &s->waiters; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            return;
        }
    }
}

int64_t ipc_semop(struct task *t, int id, const struct abi_sembuf *sops, unsigned nsops,
                  const struct kernel_deadline *dl)
{
    unsigned max = 0;
    bool undo = false, alter = false;
    for (unsigned i = 0; i < nsops; i++) {
        if (sops[i].sem_num > max)
            max = sops[i].sem_num;
        undo |= (sops[i].sem_flg & ABI_SEM_UNDO) != 0;
        alter |= sops[i].sem_op != 0;
    }
    struct sem_set *s = set_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    if (max >= (unsigned)s->nsems)
        return -ABI_EFBIG;
    int err = ipc_perm_check(t, &s->perm, alter ? 0222 : 0444);
    if (err)
        return err;
    struct ipc_ns *ns = s->ns;
    int pid = ipc_pid(t);
    struct sem_undo *u = NULL;
    if (undo && !(u = undo_get(ns, pid, s)))
        return -ABI_ENOMEM;
    unsigned at;
    int r = try_ops(s, sops, nsops, u, pid, &at);
    if (r <= 0)
        return r;
    struct sem_waiter w = {.semnum = sops[at].sem_num, .zero = sops[at].sem_op == 0};
    w.next = s->waiters;
    s->waiters = &w;
    struct waitq_entry e;
    task_waiter_init(t, &e, 0);
    waitq_add(&s->q, &e);
    s->refs++;
    for (;;) {
        int sr = task_sleep(t, dl);
        if (s->removed) {
            r = -ABI_EIDRM;
            break;
        }
        /* The undo entry goes only with the set or the process. */
        u = undo ? undo_find(ns, pid, s) : NULL;
        if (undo && !u) {
            r = -ABI_EIDRM;
            break;
        }
        r = try_ops(s, sops, nsops, u, pid, &at);
        if (r <= 0)
            break;
        w.semnum = sops[at].sem_num;
        w.zero = sops[at].sem_op == 0;
        /* semop is never restarted (signal(7)); a timeout is EAGAIN. */
        if (sr == -ABI_EINTR) {
            r = -ABI_EINTR;
            break;
        }
        if (sr == -ABI_ETIMEDOUT) {
            r = -ABI_EAGAIN;
            break;
        }
    }
    waitq_remove(&e);
    waiter_unlink(s, &w);
    set_put(s);
    return r;
}

/* ---- semctl ---- */

static void fill_ds(const struct sem_set *s, struct abi_semid64_ds *ds)
{
    *ds = (struct abi_semid64_ds){
        .sem_otime = s->otime,
        .sem_ctime = s->ctime,
        .sem_nsems = (uint64_t)s->nsems,
    };
    ipc_perm_fill(&s->perm, &ds->sem_perm);
}

int64_t ipc_sem_stat(struct task *t, int id, int cmd, struct abi_semid64_ds *ds)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    struct ipc_obj *o = cmd == ABI_IPC_STAT ? ipc_ids_find(&ns->sem, id) : ipc_ids_at(&ns->sem, id);
    if (!o)
        return -ABI_EINVAL;
    if (cmd != ABI_SEM_STAT_ANY) {
        int err = ipc_perm_check(t, o, 0444);
        if (err)
            return err;
    }
    fill_ds(set_of(o), ds);
    return cmd == ABI_IPC_STAT ? 0 : o->id;
}

int64_t ipc_sem_set(struct task *t, int id, const struct abi_semid64_ds *ds)
{
    struct sem_set *s = set_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    int err = ipc_owner_check(t, &s->perm);
    if (err)
        return err;
    ipc_perm_set(&s->perm, &ds->sem_perm);
    s->ctime = ipc_now();
    return 0;
}

int64_t ipc_sem_rmid(struct task *t, int id)
{
    struct sem_set *s = set_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    int err = ipc_owner_check(t, &s->perm);
    if (err)
        return err;
    struct ipc_ns *ns = s->ns;
    for (struct sem_undo **p = &ns->undos; *p;) {
        struct sem_undo *u = *p;
        if (u->set == s) {
            *p = u->next;
            free(u);
        } else {
            p = &u->next;
        }
    }
    ipc_ids_remove(&ns->sem, &s->perm);
    ns->sem_tot -= (uint64_t)s->nsems;
    s->removed = true;
    waitq_notify(&s->q, 0);
    set_put(s);
    return 0;
}

int64_t ipc_sem_info(struct task *t, int cmd, struct abi_seminfo *info)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    bool usage = cmd == ABI_SEM_INFO;
    *info = (struct abi_seminfo){
        .semmap = ABI_SEMMNS,
        .semmni = ABI_SEMMNI,
        .semmns = ABI_SEMMNS,
        .semmnu = ABI_SEMMNS,
        .semmsl = ABI_SEMMSL,
        .semopm = ABI_SEMOPM,
        .semume = ABI_SEMOPM,
        /* SEM_INFO puts the use where IPC_INFO has two limits. */
        .semusz = usage ? ns->sem.in_use : 20,
        .semvmx = ABI_SEMVMX,
        .semaem = usage ? (int32_t)ns->sem_tot : ABI_SEMAEM,
    };
    return ipc_ids_max_index(&ns->sem);
}

int64_t ipc_sem_get1(struct task *t, int id, int semnum, int cmd)
{
    struct sem_set *s = set_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    int err = ipc_perm_check(t, &s->perm, 0444);
    if (err)
        return err;
    if (semnum < 0 || semnum >= s->nsems)
        return -ABI_EINVAL;
    switch (cmd) {
    case ABI_GETVAL:
        return s->vals[semnum];
    case ABI_GETPID:
        return s->pids[semnum];
    default: {
        int n = 0;
        for (struct sem_waiter *w = s->waiters; w; w = w->next)
            n += w->semnum == semnum && w->zero == (cmd == ABI_GETZCNT);
        return n;
    }
    }
}

int64_t ipc_sem_setval(struct task *t, int id, int semnum, int val)
{
    if (val < 0 || val > ABI_SEMVMX)
        return -ABI_ERANGE;
    struct sem_set *s = set_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    if (semnum < 0 || semnum >= s->nsems)
        return -ABI_EINVAL;
    int err = ipc_perm_check(t, &s->perm, 0222);
    if (err)
        return err;
    undo_clear(s->ns, s, semnum);
    s->vals[semnum] = val;
    s->pids[semnum] = ipc_pid(t);
    s->ctime = ipc_now();
    waitq_notify(&s->q, 0);
    return 0;
}

int64_t ipc_sem_nsems(struct task *t, int id, bool write)
{
    struct sem_set *s = set_find(t, id);
    if (!s)
        return -ABI_EINVAL;
    int err = ipc_perm_check(t, &s->perm, write ? 0222 : 0444);
    return err ? err : s->nsems;
}

int64_t ipc_sem_getall(struct task *t, int id, uint16_t *vals, int n)
{
    struct sem_set *s = set_find(t, id);
    if (!s || n != s->nsems)
        return -ABI_EINVAL;
    for (int i = 0; i < n; i++)
        vals[i] = (uint16_t)s->vals[i];
    return 0;
}

int64_t ipc_sem_setall(struct task *t, int id, const uint16_t *vals, int n)
{
    struct sem_set *s = set_find(t, id);
    if (!s || n != s->nsems)
        return -ABI_EINVAL;
    for (int i = 0; i < n; i++) {
        if (vals[i] > ABI_SEMVMX)
            return -ABI_ERANGE;
    }
    int pid = ipc_pid(t);
    for (int i = 0; i < n; i++) {
        s->vals[i] = vals[i];
        s->pids[i] = pid;
    }
    undo_clear(s->ns, s, -1);
    s->ctime = ipc_now();
    waitq_notify(&s->q, 0);
    return 0;
}

int ipc_for_each_sem(struct kernel *k,
                     int (*fn)(void *arg, int id, const struct abi_semid64_ds *ds), void *arg)
{
    struct ipc_ns *ns = k->ipc;
    for (int i = 0; ns && i < ns->sem.cap; i++) {
        struct ipc_obj *o = ns->sem.slots[i];
        if (!o)
            continue;
        struct abi_semid64_ds ds;
        fill_ds(set_of(o), &ds);
        int r = fn(arg, o->id, &ds);
        if (r)
            return r;
    }
    return 0;
}
