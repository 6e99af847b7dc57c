/* System V message queues: typed messages in arrival order, bounded by
 * the queue's byte limit (msg_qbytes), with senders sleeping while it is
 * full and receivers while nothing matches. */
#include <stdlib.h>
#include <string.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "sentry/kernel/ipc/ipc.h"
#include "sentry/kernel/ipc/ipc_internal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"

struct msg {
    struct msg *next;
    int64_t mtype;
    uint64_t len;
    char text[];
};

struct msg_queue {
    struct ipc_obj perm;
    struct ipc_ns *ns;
    struct msg *head, **tail;
    uint64_t cbytes, qnum, qbytes;
    int64_t stime, rtime, ctime;
    int lspid, lrpid;
    /* Notified on every send, receive and change of limit. */
    struct waitq q;
    int refs; /* the table's and each sleeper's */
    bool removed;
};

static struct msg_queue *queue_of(struct ipc_obj *o)
{
    return (struct msg_queue *)o;
}

static void queue_put(struct msg_queue *q)
{
    if (--q->refs > 0)
        return;
    while (q->head) {
        struct msg *m = q->head;
        q->head = m->next;
        free(m);
    }
    free(q);
}

static struct msg_queue *queue_find(struct task *t, int id)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    struct ipc_obj *o = ns ? ipc_ids_find(&ns->msg, id) : NULL;
    return o ? queue_of(o) : NULL;
}

/* ---- msgget ---- */

struct msgget_args {
    struct ipc_ns *ns;
    int32_t key;
    int flg;
};

static int64_t msg_create(struct task *t, void *arg)
{
    struct msgget_args *a = arg;
    struct msg_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return -ABI_ENOMEM;
    ipc_obj_init(&q->perm, t, a->key, a->flg);
    int err = ipc_ids_add(&a->ns->msg, &q->perm, ABI_MSGMNI);
    if (err) {
        free(q);
        return err;
    }
    q->ns = a->ns;
    q->tail = &q->head;
    q->qbytes = ABI_MSGMNB;
    q->ctime = ipc_now();
    q->refs = 1;
    waitq_init(&q->q);
    return q->perm.id;
}

int64_t ipc_msgget(struct task *t, int32_t key, int flg)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    struct msgget_args a = {ns, key, flg};
    return ipc_get(t, &ns->msg, key, flg, msg_create, NULL, &a);
}

/* ---- send and receive ---- */

/* Sleep on q until notified; the caller holds a reference. Returns
 * task_sleep's result, or -EIDRM when the queue went meanwhile. */
static int queue_wait(struct task *t, struct msg_queue *q)
{
    struct waitq_entry e;
    task_waiter_init(t, &e, 0);
    waitq_add(&q->q, &e);
    int r = task_sleep(t, NULL);
    waitq_remove(&e);
    if (q->removed)
        return -ABI_EIDRM;
    /* msgsnd and msgrcv are never restarted after a handler (signal(7)),
     * but are when the signal had none (a stop and continue). */
    return r == -ABI_EINTR ? -ABI_ERESTARTNOHAND : r;
}

int64_t ipc_msgsnd(struct task *t, int id, int64_t mtype, const void *text, uint64_t len, int flg)
{
    if (len > ABI_MSGMAX || id < 0)
        return -ABI_EINVAL;
    if (mtype < 1)
        return -ABI_EINVAL;
    struct msg *m = malloc(sizeof(*m) + len);
    if (!m)
        return -ABI_ENOMEM;
    m->next = NULL;
    m->mtype = mtype;
    m->len = len;
    memcpy(m->text, text, len);
    struct msg_queue *q = queue_find(t, id);
    if (!q) {
        free(m);
        return -ABI_EINVAL;
    }
    q->refs++;
    int64_t r = 0;
    for (;;) {
        r = ipc_perm_check(t, &q->perm, 0222);
        if (r)
            break;
        /* Linux bounds the message count by qbytes too, so zero-length
         * messages cannot grow a queue without end. */
        if (q->cbytes + len <= q->qbytes && q->qnum + 1 <= q->qbytes)
            break;
        if (flg & ABI_IPC_NOWAIT) {
            r = -ABI_EAGAIN;
            break;
        }
        r = queue_wait(t, q);
        if (r == -ABI_EIDRM || r == -ABI_ERESTARTNOHAND)
            break;
        r = 0;
    }
    if (r == 0) {
        *q->tail = m;
        q->tail = &m->next;
        q->cbytes += len;
        q->qnum++;
        q->lspid = ipc_pid(t);
        q->stime = ipc_now();
        q->ns->msg_bytes += len;
        q->ns->msg_count++;
        waitq_notify(&q->q, 0);
        m = NULL;
    }
    free(m);
    queue_put(q);
    return r;
}

/* The link to the message msgtyp selects, NULL when none does. */
static struct msg **pick(struct msg_queue *q, int64_t msgtyp, bool except)
{
    struct msg **best = NULL;
    for (struct msg **p = &q->head; *p; p = &(*p)->next) {
        int64_t ty = (*p)->mtype;
        if (msgtyp == 0)
            return p;
        if (msgtyp > 0) {
            if (except ? ty != msgtyp : ty == msgtyp)
                return p;
        } else if (ty <= -msgtyp && (!best || ty < (*best)->mtype)) {
            /* The lowest type not above |msgtyp|; the first of equals. */
            best = p;
        }
    }
    return best;
}

int64_t ipc_msgrcv(struct task *t, int id, uint64_t max, int64_t msgtyp, int flg, int64_t *mtype,
                   void **text)
{
    if (id < 0 || (int64_t)max < 0)
        return -ABI_EINVAL;
    if (flg & ABI_MSG_COPY) {
        if ((flg & ABI_MSG_EXCEPT) || !(flg & ABI_IPC_NOWAIT))
            return -ABI_EINVAL;
        /* Checkpoint/restore's peek: not offered (as a Linux built
         * without CONFIG_CHECKPOINT_RESTORE). */
        return -ABI_ENOSYS;
    }
    if (msgtyp == INT64_MIN)
        msgtyp = -INT64_MAX; /* its absolute value would overflow: the same set */
    struct msg_queue *q = queue_find(t, id);
    if (!q)
        return -ABI_EINVAL;
    q->refs++;
    int64_t r;
    struct msg *m = NULL;
    for (;;) {
        r = ipc_perm_check(t, &q->perm, 0444);
        if (r)
            break;
        struct msg **p = pick(q, msgtyp, flg & ABI_MSG_EXCEPT);
        if (p) {
            if ((*p)->len > max && !(flg & ABI_MSG_NOERROR)) {
                r = -ABI_E2BIG;
                break;
            }
            m = *p;
            *p = m->next;
            if (q->tail == &m->next)
                q->tail = p;
            break;
        }
        if (flg & ABI_IPC_NOWAIT) {
            r = -ABI_ENOMSG;
            break;
        }
        r = queue_wait(t, q);
        if (r == -ABI_EIDRM || r == -ABI_ERESTARTNOHAND)
            break;
    }
    if (m) {
        q->cbytes -= m->len;
        q->qnum--;
        q->lrpid = ipc_pid(t);
        q->rtime = ipc_now();
        q->ns->msg_bytes -= m->len;
        q->ns->msg_count--;
        waitq_notify(&q->q, 0);
        *mtype = m->mtype;
        uint64_t n = m->len < max ? m->len : max;
        /* The message struct becomes the text buffer the caller frees. */
        memmove(m, m->text, n);
        *text = m;
        r = (int64_t)n;
    }
    queue_put(q);
    return r;
}

/* ---- msgctl ---- */

static void fill_ds(const struct msg_queue *q, struct abi_msqid64_ds *ds)
{
    *ds = (struct abi_msqid64_ds){
        .msg_stime = q->stime,
        .msg_rtime = q->rtime,
        .msg_ctime = q->ctime,
        .msg_cbytes = q->cbytes,
        .msg_qnum = q->qnum,
        .msg_qbytes = q->qbytes,
        .msg_lspid = q->lspid,
        .msg_lrpid = q->lrpid,
    };
    ipc_perm_fill(&q->perm, &ds->msg_perm);
}

int64_t ipc_msg_stat(struct task *t, int id, int cmd, struct abi_msqid64_ds *ds)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    struct ipc_obj *o = cmd == ABI_IPC_STAT ? ipc_ids_find(&ns->msg, id) : ipc_ids_at(&ns->msg, id);
    if (!o)
        return -ABI_EINVAL;
    if (cmd != ABI_MSG_STAT_ANY) {
        int err = ipc_perm_check(t, o, 0444);
        if (err)
            return err;
    }
    fill_ds(queue_of(o), ds);
    return cmd == ABI_IPC_STAT ? 0 : o->id;
}

int64_t ipc_msg_set(struct task *t, int id, const struct abi_msqid64_ds *ds)
{
    struct msg_queue *q = queue_find(t, id);
    if (!q)
        return -ABI_EINVAL;
    int err = ipc_owner_check(t, &q->perm);
    if (err)
        return err;
    if (ds->msg_qbytes > ABI_MSGMNB && !ipc_capable(t, ABI_CAP_SYS_RESOURCE))
        return -ABI_EPERM;
    q->qbytes = ds->msg_qbytes;
    ipc_perm_set(&q->perm, &ds->msg_perm);
    q->ctime = ipc_now();
    /* A larger limit may let a sender in. */
    waitq_notify(&q->q, 0);
    return 0;
}

int64_t ipc_msg_rmid(struct task *t, int id)
{
    struct msg_queue *q = queue_find(t, id);
    if (!q)
        return -ABI_EINVAL;
    int err = ipc_owner_check(t, &q->perm);
    if (err)
        return err;
    ipc_ids_remove(&q->ns->msg, &q->perm);
    q->ns->msg_bytes -= q->cbytes;
    q->ns->msg_count -= q->qnum;
    q->removed = true;
    waitq_notify(&q->q, 0);
    queue_put(q);
    return 0;
}

int64_t ipc_msg_info(struct task *t, int cmd, struct abi_msginfo *info)
{
    struct ipc_ns *ns = ipc_ns_of(t->k);
    if (!ns)
        return -ABI_ENOMEM;
    bool usage = cmd == ABI_MSG_INFO;
    /* MSG_INFO puts the use where IPC_INFO has three limits. */
    *info = (struct abi_msginfo){
        .msgpool = usage ? ns->msg.in_use : ABI_MSGMNI * ABI_MSGMNB / 1024,
        .msgmap = usage ? (int32_t)ns->msg_count : ABI_MSGMNB,
        .msgmax = ABI_MSGMAX,
        .msgmnb = ABI_MSGMNB,
        .msgmni = ABI_MSGMNI,
        .msgssz = ABI_MSGSSZ,
        .msgtql = usage ? (int32_t)ns->msg_bytes : ABI_MSGMNB,
        .msgseg = 0xffff,
    };
    return ipc_ids_max_index(&ns->msg);
}

int ipc_for_each_msg(struct kernel *k,
                     int (*fn)(void *arg, int id, const struct abi_msqid64_ds *ds), void *arg)
{
    struct ipc_ns *ns = k->ipc;
    for (int i = 0; ns && i < ns->msg.cap; i++) {
        struct ipc_obj *o = ns->msg.slots[i];
        if (!o)
            continue;
        struct abi_msqid64_ds ds;
        fill_ds(queue_of(o), &ds);
        int r = fn(arg, o->id, &ds);
        if (r)
            return r;
    }
    return 0;
}
