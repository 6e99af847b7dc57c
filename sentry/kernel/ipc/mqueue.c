/* POSIX message queues (see mqueue.h).
 *
 * A queue lives while its name is linked or a descriptor is open: each
 * holds a reference. Messages sit in one list sorted by priority, highest
 * first and in arrival order within a priority. Senders and receivers
 * sleep on the queue's wait queue, which is also its files' poll queue.
 *
 * Memory is bounded three ways: each queue by its attributes; each real
 * uid by RLIMIT_MSGQUEUE, charged at creation with what Linux charges
 * (the queue's whole capacity plus its bookkeeping); and the sandbox as a
 * whole by a count of queues and a ceiling on bytes stored at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/ipc/mqueue.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

/* Queues of the sandbox, whoever asks: even a caller with
 * CAP_SYS_RESOURCE (which passes queues_max on Linux) stops here. */
#define MQ_QUEUES_HARD 4096
/* Message bytes stored over all queues at once; a send beyond it gets
 * ENOMEM, as a Linux send whose allocation fails. */
#define MQ_BYTES_HARD (64ull << 20)
/* What Linux charges per message slot and per priority in use, on top of
 * the bodies (its struct msg_msg and tree node on x86-64): the
 * RLIMIT_MSGQUEUE charge. */
#define MQ_SLOT_COST 48
#define MQ_PRIO_COST 48
/* The size fstat shows (Linux's fixed size of the status text). */
#define MQ_FILE_SIZE 80
/* The mqueue filesystem's device, apart from anon_inodefs (0xfe) and
 * pipefs (0xfd). */
#define MQUEUE_DEV 0xfc

struct mq_msg {
    struct mq_msg *next;
    uint32_t prio;
    uint64_t len;
    char data[];
};

struct mqueue {
    struct mqueue *next;         /* in the namespace, while linked */
    char name[VFS_NAME_MAX + 2]; /* with its leading '/' */
    bool linked;
    int refs; /* the name's and each open file's */
    uint32_t uid, gid, mode;
    uint64_t ino;
    int64_t maxmsg, msgsize, curmsgs;
    uint64_t bytes;  /* of the bodies stored */
    uint64_t charge; /* against charge_uid's RLIMIT_MSGQUEUE */
    uint32_t charge_uid;
    struct mq_msg *head, *tail;
    /* Notified (ABI_POLL* events) on every send and receive. */
    struct waitq q;
    int receivers; /* tasks asleep in receive */
    /* mq_notify's registration: the process (0: none) and how. */
    int notify_pid;
    int notify_kind;
    int notify_signo;
    union abi_sigval notify_value;
    struct timespec atime, mtime, ctime;
};

struct mq_charge {
    struct mq_charge *next;
    uint32_t uid;
    uint64_t bytes;
};

/* One namespace per Sentry, which is one per sandbox; the kernel lock
 * guards it. */
static struct {
    struct mqueue *named;
    int queues; /* alive: named or open */
    uint64_t bytes;
    uint64_t next_ino;
    struct mq_charge *charges;
} ns;

static struct mqueue *mq_of(const struct vfs_file *f)
{
    return f->priv;
}

static struct timespec now_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

static struct mq_charge *charge_of(uint32_t uid, bool make)
{
    for (struct mq_charge *c = ns.charges; c; c = c->next) {
        if (c->uid == uid)
            return c;
    }
    if (!make)
        return NULL;
    struct mq_charge *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->uid = uid;
    c->next = ns.charges;
    ns.charges = c;
    return c;
}

static void mq_put(struct mqueue *q)
{
    if (--q->refs > 0)
        return;
    while (q->head) {
        struct mq_msg *m = q->head;
        q->head = m->next;
        free(m);
    }
    ns.bytes -= q->bytes;
    struct mq_charge *c = charge_of(q->charge_uid, false);
    if (c)
        c->bytes -= q->charge;
    ns.queues--;
    free(q);
}

/* Linux looks the name up as one component of the mqueue root: an empty
 * name, "." and "..", and one holding a '/' are refused with EACCES. */
static int check_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
        return -ABI_EACCES;
    if (len > VFS_NAME_MAX)
        return -ABI_ENAMETOOLONG;
    return 0;
}

static struct mqueue *lookup(const char *name)
{
    for (struct mqueue *q = ns.named; q; q = q->next) {
        if (strcmp(q->name + 1, name) == 0)
            return q;
    }
    return NULL;
}

static void unlink_queue(struct mqueue *q)
{
    for (struct mqueue **p = &ns.named; *p; p = &(*p)->next) {
        if (*p == q) {
            *p = q->next;
            break;
        }
    }
    q->linked = false;
    q->ctime = now_realtime();
    mq_put(q);
}

static bool in_group(const struct task_creds *c, uint32_t gid)
{
    if (gid == c->fsgid)
        return true;
    for (uint32_t i = 0; i < c->ngroups; i++) {
        if (c->groups[i] == gid)
            return true;
    }
    return false;
}

/* want: 4 read, 2 write (may be both); the owner's, group's or others'
 * bits, then DAC_OVERRIDE (DAC_READ_SEARCH for reading), as for a file. */
static int permission(const struct task_creds *c, const struct mqueue *q, uint32_t want)
{
    uint32_t mode = q->mode;
    if (c->fsuid == q->uid)
        mode >>= 6;
    else if (in_group(c, q->gid))
        mode >>= 3;
    if ((want & ~mode & 7) == 0)
        return 0;
    if (cred_capable(c, ABI_CAP_DAC_OVERRIDE))
        return 0;
    if (want == 4 && cred_capable(c, ABI_CAP_DAC_READ_SEARCH))
        return 0;
    return -ABI_EACCES;
}

/* The attributes a new queue may have (mq_open(3)'s EINVAL cases). */
static int check_attr(struct task *t, const struct abi_mq_attr *a)
{
    if (a->mq_maxmsg <= 0 || a->mq_msgsize <= 0)
        return -ABI_EINVAL;
    if (cred_capable(&t->creds, ABI_CAP_SYS_RESOURCE)) {
        if (a->mq_maxmsg > ABI_MQ_HARD_MSGMAX || a->mq_msgsize > ABI_MQ_HARD_MSGSIZEMAX)
            return -ABI_EINVAL;
    } else if (a->mq_maxmsg > ABI_MQ_MSG_MAX || a->mq_msgsize > ABI_MQ_MSGSIZE_MAX) {
        return -ABI_EINVAL;
    }
    return 0;
}

/* ---- the descriptor's file ops ---- */

static uint32_t mq_poll(struct vfs_file *f)
{
    struct mqueue *q = mq_of(f);
    uint32_t ev = 0;
    if (q->curmsgs > 0)
        ev |= ABI_POLLIN | ABI_POLLRDNORM;
    if (q->curmsgs < q->maxmsg)
        ev |= ABI_POLLOUT | ABI_POLLWRNORM;
    return ev;
}

static struct waitq *mq_poll_queue(struct vfs_file *f)
{
    return &mq_of(f)->q;
}

/* A read of the descriptor gives the queue's status line, as Linux's. */
static int64_t status_text(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    struct mqueue *q = mq_of(f);
    char text[128];
    int len = snprintf(text, sizeof(text), "QSIZE:%-10llu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
                       (unsigned long long)q->bytes, q->notify_pid ? q->notify_kind : 0,
                       q->notify_pid && q->notify_kind == ABI_SIGEV_SIGNAL ? q->notify_signo : 0,
                       q->notify_pid);
    if (off >= len)
        return 0;
    size_t left = (size_t)(len - off);
    if (n > left)
        n = left;
    memcpy(buf, text + off, n);
    q->atime = now_realtime();
    return (int64_t)n;
}

static int64_t mq_read(struct vfs_file *f, void *buf, size_t n)
{
    int64_t r = status_text(f, buf, n, f->pos);
    if (r > 0)
        f->pos += r;
    return r;
}

static int64_t mq_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    return status_text(f, buf, n, off);
}

static int64_t mq_lseek(struct vfs_file *f, int64_t off, int whence)
{
    int64_t base = whence == ABI_SEEK_SET   ? 0
                   : whence == ABI_SEEK_CUR ? f->pos
                   : whence == ABI_SEEK_END ? MQ_FILE_SIZE
                                            : -1;
    if (base < 0 || off < -base || off > INT64_MAX - base)
        return -ABI_EINVAL;
    f->pos = base + off;
    return f->pos;
}

static int mq_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct mqueue *q = mq_of(f);
    memset(st, 0, sizeof(*st));
    st->st_dev = MQUEUE_DEV;
    st->st_ino = q->ino;
    st->st_nlink = q->linked ? 1 : 0;
    st->st_mode = ABI_S_IFREG | q->mode;
    st->st_uid = q->uid;
    st->st_gid = q->gid;
    st->st_size = MQ_FILE_SIZE;
    st->st_blksize = 4096;
    st->st_atime_sec = q->atime.tv_sec;
    st->st_atime_nsec = q->atime.tv_nsec;
    st->st_mtime_sec = q->mtime.tv_sec;
    st->st_mtime_nsec = q->mtime.tv_nsec;
    st->st_ctime_sec = q->ctime.tv_sec;
    st->st_ctime_nsec = q->ctime.tv_nsec;
    return 0;
}

static void mq_release(struct vfs_file *f)
{
    struct mqueue *q = mq_of(f);
    /* Linux drops a registration when its process closes a descriptor of
     * the queue; moat sees only the last close of each description (and
     * so every close at exit). */
    struct task *t = kernel_current();
    if (q->notify_pid && (!t || t->pid == q->notify_pid))
        q->notify_pid = 0;
    mq_put(q);
}

static const struct vfs_file_ops mqueue_ops = {
    .read = mq_read,
    .pread = mq_pread,
    .lseek = mq_lseek,
    .stat = mq_stat,
    .release = mq_release,
    .poll = mq_poll,
    .poll_queue = mq_poll_queue,
};

bool mqueue_is(const struct vfs_file *f)
{
    return f->ops == &mqueue_ops;
}

const char *mqueue_name(const struct vfs_file *f)
{
    return mq_of(f)->name;
}

/* ---- mq_open and mq_unlink ---- */

static int create(struct task *t, const char *name, uint32_t mode, const struct abi_mq_attr *attr,
                  struct mqueue **out)
{
    struct abi_mq_attr a = {.mq_maxmsg = ABI_MQ_MSG_DEFAULT, .mq_msgsize = ABI_MQ_MSGSIZE_DEFAULT};
    if (attr) {
        int err = check_attr(t, attr);
        if (err)
            return err;
        a = *attr;
    }
    if (ns.queues >= MQ_QUEUES_HARD ||
        (ns.queues >= ABI_MQ_QUEUES_MAX && !cred_capable(&t->creds, ABI_CAP_SYS_RESOURCE)))
        return -ABI_ENOSPC;
    uint64_t slots = (uint64_t)a.mq_maxmsg;
    uint64_t charge = slots * (uint64_t)a.mq_msgsize + slots * MQ_SLOT_COST +
                      (slots < ABI_MQ_PRIO_MAX ? slots : ABI_MQ_PRIO_MAX) * MQ_PRIO_COST;
    struct mq_charge *c = charge_of(t->creds.uid, true);
    if (!c)
        return -ABI_ENOMEM;
    if (c->bytes + charge > t->rlimits[ABI_RLIMIT_MSGQUEUE].rlim_cur)
        return -ABI_EMFILE;
    struct mqueue *q = calloc(1, sizeof(*q));
    if (!q)
        return -ABI_ENOMEM;
    q->name[0] = '/';
    strcpy(q->name + 1, name);
    q->linked = true;
    q->refs = 1;
    q->uid = t->creds.fsuid;
    q->gid = t->creds.fsgid;
    q->mode = mode & 07777;
    q->ino = ++ns.next_ino;
    q->maxmsg = a.mq_maxmsg;
    q->msgsize = a.mq_msgsize;
    q->charge = charge;
    q->charge_uid = t->creds.uid;
    q->atime = q->mtime = q->ctime = now_realtime();
    waitq_init(&q->q);
    c->bytes += charge;
    ns.queues++;
    q->next = ns.named;
    ns.named = q;
    *out = q;
    return 0;
}

int mqueue_open(struct task *t, const char *name, int oflag, uint32_t mode,
                const struct abi_mq_attr *attr, struct vfs_file **out)
{
    int err = check_name(name);
    if (err)
        return err;
    uint32_t acc = (uint32_t)oflag & ABI_O_ACCMODE;
    struct mqueue *q = lookup(name);
    if (!q) {
        if (!(oflag & ABI_O_CREAT))
            return -ABI_ENOENT;
        err = create(t, name, mode, attr, &q);
        if (err)
            return err;
    } else {
        if ((oflag & ABI_O_CREAT) && (oflag & ABI_O_EXCL))
            return -ABI_EEXIST;
        if (acc == ABI_O_ACCMODE)
            return -ABI_EINVAL;
        uint32_t want = acc == ABI_O_RDONLY ? 4 : acc == ABI_O_WRONLY ? 2 : 6;
        err = permission(&t->creds, q, want);
        if (err)
            return err;
    }
    q->refs++;
    struct vfs_file *f =
        vfs_file_new(&mqueue_ops, (uint32_t)oflag & (ABI_O_ACCMODE | ABI_O_NONBLOCK), q);
    if (!f) {
        /* A queue made just now keeps its name, as it would on Linux
         * once created. */
        mq_put(q);
        return -ABI_ENOMEM;
    }
    f->positional = true;
    *out = f;
    return 0;
}

int mqueue_unlink(struct task *t, const char *name)
{
    int err = check_name(name);
    if (err)
        return err;
    struct mqueue *q = lookup(name);
    if (!q)
        return -ABI_ENOENT;
    /* The mqueue root is sticky and root's: only the queue's owner, root
     * or CAP_FOWNER may remove a name from it. */
    const struct task_creds *c = &t->creds;
    if (c->fsuid != q->uid && c->fsuid != 0 && !cred_capable(c, ABI_CAP_FOWNER))
        return -ABI_EPERM;
    unlink_queue(q);
    return 0;
}

/* ---- send and receive ---- */

int mqueue_send_check(struct vfs_file *f, uint64_t len)
{
    if (!vfs_file_writable(f))
        return -ABI_EBADF;
    return len > (uint64_t)mq_of(f)->msgsize ? -ABI_EMSGSIZE : 0;
}

int mqueue_receive_check(struct vfs_file *f, uint64_t len)
{
    if (!vfs_file_readable(f))
        return -ABI_EBADF;
    return len < (uint64_t)mq_of(f)->msgsize ? -ABI_EMSGSIZE : 0;
}

/* Sleep on q for a change; receiving: counted as a blocked receiver (which
 * holds off mq_notify). Returns 0, -ERESTARTSYS or -ETIMEDOUT. */
static int wait_change(struct task *t, struct mqueue *q, bool receiving,
                       const struct kernel_deadline *dl)
{
    struct waitq_entry e;
    task_waiter_init(t, &e, 0);
    waitq_add(&q->q, &e);
    if (receiving)
        q->receivers++;
    int r = task_sleep(t, dl);
    if (receiving)
        q->receivers--;
    waitq_remove(&e);
    /* signal(7): restarted after an SA_RESTART handler. */
    return r == -ABI_EINTR ? -ABI_ERESTARTSYS : r;
}

/* The queue went from empty to not: the registered process, if any, is
 * told once, unless a receiver is already waiting for the message. */
static void notify_arrival(struct task *sender, struct mqueue *q)
{
    if (!q->notify_pid || q->curmsgs != 1 || q->receivers > 0)
        return;
    int pid = q->notify_pid;
    q->notify_pid = 0;
    if (q->notify_kind != ABI_SIGEV_SIGNAL || q->notify_signo == 0)
        return;
    struct thread_group *tg = kernel_tg_lookup(sender->k, pid);
    if (!tg)
        return;
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = q->notify_signo;
    info.si_code = ABI_SI_MESGQ;
    info.u.rt.pid = sender->pid;
    info.u.rt.uid = sender->creds.uid;
    info.u.rt.value = q->notify_value;
    /* From the kernel: no kill(2) permission check. */
    signal_send_group(tg, &info, false);
}

int mqueue_send(struct task *t, struct vfs_file *f, const void *data, uint64_t len, uint32_t prio,
                const struct kernel_deadline *dl)
{
    struct mqueue *q = mq_of(f);
    while (q->curmsgs >= q->maxmsg) {
        if (f->flags & ABI_O_NONBLOCK)
            return -ABI_EAGAIN;
        int r = wait_change(t, q, false, dl);
        if (r && q->curmsgs >= q->maxmsg)
            return r;
    }
    if (ns.bytes + len > MQ_BYTES_HARD)
        return -ABI_ENOMEM;
    struct mq_msg *m = malloc(sizeof(*m) + len);
    if (!m)
        return -ABI_ENOMEM;
    m->prio = prio;
    m->len = len;
    memcpy(m->data, data, len);
    /* After the last message of the same or a higher priority. */
    if (!q->head || q->tail->prio >= prio) {
        m->next = NULL;
        if (q->tail)
            q->tail->next = m;
        else
            q->head = m;
        q->tail = m;
    } else {
        struct mq_msg **p = &q->head;
        while ((*p)->prio >= prio)
            p = &(*p)->next;
        m->next = *p;
        *p = m;
    }
    q->curmsgs++;
    q->bytes += len;
    ns.bytes += len;
    q->atime = q->mtime = q->ctime = now_realtime();
    notify_arrival(t, q);
    waitq_notify(&q->q, ABI_POLLIN | ABI_POLLRDNORM);
    return 0;
}

int64_t mqueue_receive(struct task *t, struct vfs_file *f, void **data, uint32_t *prio,
                       const struct kernel_deadline *dl)
{
    struct mqueue *q = mq_of(f);
    while (q->curmsgs == 0) {
        if (f->flags & ABI_O_NONBLOCK)
            return -ABI_EAGAIN;
        int r = wait_change(t, q, true, dl);
        if (r && q->curmsgs == 0)
            return r;
    }
    struct mq_msg *m = q->head;
    q->head = m->next;
    if (!q->head)
        q->tail = NULL;
    q->curmsgs--;
    q->bytes -= m->len;
    ns.bytes -= m->len;
    q->atime = q->mtime = q->ctime = now_realtime();
    waitq_notify(&q->q, ABI_POLLOUT | ABI_POLLWRNORM);
    *prio = m->prio;
    int64_t len = (int64_t)m->len;
    /* The node becomes the body's buffer the caller frees. */
    memmove(m, m->data, m->len);
    *data = m;
    return len;
}

/* ---- mq_notify and mq_getsetattr ---- */

int mqueue_notify(struct task *t, struct vfs_file *f, const struct abi_sigevent *ev)
{
    struct mqueue *q = mq_of(f);
    if (!ev) {
        if (q->notify_pid == t->pid) {
            q->notify_pid = 0;
            q->atime = q->ctime = now_realtime();
        }
        return 0;
    }
    if (q->notify_pid)
        return -ABI_EBUSY;
    q->notify_pid = t->pid;
    q->notify_kind = ev->sigev_notify;
    q->notify_signo = ev->sigev_signo;
    q->notify_value = ev->sigev_value;
    q->atime = q->ctime = now_realtime();
    return 0;
}

int mqueue_getsetattr(struct vfs_file *f, const struct abi_mq_attr *set, struct abi_mq_attr *old)
{
    struct mqueue *q = mq_of(f);
    *old = (struct abi_mq_attr){
        .mq_flags = f->flags & ABI_O_NONBLOCK,
        .mq_maxmsg = q->maxmsg,
        .mq_msgsize = q->msgsize,
        .mq_curmsgs = q->curmsgs,
    };
    if (set) {
        if (set->mq_flags & ABI_O_NONBLOCK)
            f->flags |= ABI_O_NONBLOCK;
        else
            f->flags &= ~(uint32_t)ABI_O_NONBLOCK;
    }
    return 0;
}
