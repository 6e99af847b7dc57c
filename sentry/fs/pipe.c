/* Pipes and FIFOs (see pipe.h).
 *
 * The data lives in a ring of slots, each at most one page, like Linux's
 * pipe_buffer ring: a write first tops up the last slot when its whole
 * remainder below a page fits there, then takes a fresh slot per page. That
 * is what makes the capacity (slots, not bytes), PIPE_BUF atomicity and
 * packet mode (a slot per packet, read one at a time) come out as Linux's.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/fs/pipe.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/vfs/vfs.h"

#define PAGE 4096u
/* pipefs's anonymous device, apart from the counted ones of mounts. */
#define PIPEFS_DEV 0xfd

struct slot {
    char *page; /* allocated when the slot is first filled */
    uint32_t off, len;
    bool packet;    /* written in O_DIRECT mode: read as one message */
    bool can_merge; /* a later small write may append to it */
};

struct pipe {
    struct waitq q;
    struct slot *slots;
    uint32_t nslots;     /* capacity in slots (a power of two) */
    uint32_t head, used; /* first slot with data; slots holding data */
    int readers, writers;
    /* Openings so far of each kind: a FIFO opener waits for the other
     * kind's count to move, and a reader remembers the writers' count to
     * tell "no writer yet" from "the writers left" (POLLHUP). */
    uint32_t r_counter, w_counter;
    uint64_t ino;
    uint32_t uid, gid;
    struct abi_timespec ctime;
    /* FIFOs: the inode that owns the pipe while it is open. */
    struct vfs_filesystem *fifo_fs;
    uint64_t fifo_ino;
    struct pipe *next_fifo;
};

/* What one open end holds. */
struct pipe_end {
    struct pipe *p;
    uint32_t w_counter_seen;
};

static uint64_t next_pipe_ino = 1;
static struct pipe *fifos;

static const struct vfs_file_ops pipe_ops;

static struct pipe_end *end_of(const struct vfs_file *f)
{
    return f->priv;
}

static struct pipe *pipe_of(const struct vfs_file *f)
{
    return end_of(f)->p;
}

static struct pipe *pipe_new(void)
{
    struct pipe *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->nslots = PIPE_DEFAULT_SIZE / PAGE;
    p->slots = calloc(p->nslots, sizeof(*p->slots));
    if (!p->slots) {
        free(p);
        return NULL;
    }
    waitq_init(&p->q);
    p->ino = next_pipe_ino++;
    /* As Linux's get_pipe_inode: an anonymous pipe's ends never wait for a
     * partner, and its reader sees POLLHUP once the writer is gone. */
    p->r_counter = p->w_counter = 1;
    struct task *t = kernel_current();
    if (t) {
        p->uid = t->creds.fsuid;
        p->gid = t->creds.fsgid;
    }
    vfs_now(&p->ctime);
    return p;
}

static void pipe_free(struct pipe *p)
{
    for (uint32_t i = 0; i < p->nslots; i++)
        free(p->slots[i].page);
    free(p->slots);
    free(p);
}

static bool pipe_full(const struct pipe *p)
{
    return p->used >= p->nslots;
}

static struct slot *slot_at(struct pipe *p, uint32_t i)
{
    return &p->slots[(p->head + i) & (p->nslots - 1)];
}

static uint64_t pipe_bytes(struct pipe *p)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < p->used; i++)
        n += slot_at(p, i)->len;
    return n;
}

/* Wait on the pipe's queue until woken; 0 to re-test, or the interrupted
 * call's result. A call from outside any task (unit tests) cannot wait. */
static int pipe_wait(struct pipe *p)
{
    struct task *t = kernel_current();
    if (!t)
        return -ABI_EAGAIN;
    struct waitq_entry e;
    task_waiter_init(t, &e, 0);
    waitq_add(&p->q, &e);
    int err = task_sleep(t, NULL);
    waitq_remove(&e);
    return err == -ABI_EINTR ? -ABI_ERESTARTSYS : 0;
}

static int64_t pipe_read(struct vfs_file *f, void *buf, size_t n)
{
    struct pipe *p = pipe_of(f);
    if (n == 0)
        return 0;
    size_t done = 0;
    for (;;) {
        bool freed = false;
        while (p->used && done < n) {
            struct slot *s = slot_at(p, 0);
            size_t take = s->len < n - done ? s->len : n - done;
            memcpy((char *)buf + done, s->page + s->off, take);
            done += take;
            s->off += (uint32_t)take;
            s->len -= (uint32_t)take;
            /* A packet is read whole or its rest is dropped, and a read
             * never spans two packets. */
            bool stop = s->packet;
            if (s->packet)
                s->len = 0;
            if (s->len == 0) {
                s->off = 0;
                s->packet = s->can_merge = false;
                p->head = (p->head + 1) & (p->nslots - 1);
                p->used--;
                freed = true;
            }
            if (stop)
                break;
        }
        if (freed)
            waitq_notify(&p->q, ABI_POLLOUT | ABI_POLLWRNORM);
        if (done)
            return (int64_t)done;
        if (!p->writers)
            return 0;
        if (f->flags & ABI_O_NONBLOCK)
            return -ABI_EAGAIN;
        int err = pipe_wait(p);
        if (err)
            return err;
    }
}

/* A write with no reader left: SIGPIPE for the writing thread, as Linux's
 * send_sig(SIGPIPE, current, 0): si_code SI_USER, sent by the writer
 * itself (its pid and real uid). */
static int64_t broken_pipe(void)
{
    struct task *t = kernel_current();
    if (t) {
        struct abi_siginfo info;
        memset(&info, 0, sizeof(info));
        info.si_signo = ABI_SIGPIPE;
        info.si_code = ABI_SI_USER;
        info.u.kill.pid = t->pid;
        info.u.kill.uid = t->creds.uid;
        signal_send(t, &info);
    }
    return -ABI_EPIPE;
}

static int64_t pipe_write(struct vfs_file *f, const void *buf, size_t n)
{
    struct pipe *p = pipe_of(f);
    if (n == 0)
        return 0;
    if (!p->readers)
        return broken_pipe();
    bool packet = f->flags & ABI_O_DIRECT;
    size_t done = 0;
    /* The part below a page joins the last slot if it all fits there. */
    size_t small = n & (PAGE - 1);
    if (small && p->used) {
        struct slot *last = slot_at(p, p->used - 1);
        if (last->can_merge && last->off + last->len + small <= PAGE) {
            memcpy(last->page + last->off + last->len, buf, small);
            last->len += (uint32_t)small;
            done = small;
            waitq_notify(&p->q, ABI_POLLIN | ABI_POLLRDNORM);
            if (done == n)
                return (int64_t)done;
        }
    }
    for (;;) {
        if (!p->readers) {
            int64_t r = broken_pipe();
            return done ? (int64_t)done : r;
        }
        bool wrote = false;
        while (!pipe_full(p) && done < n) {
            struct slot *s = slot_at(p, p->used);
            if (!s->page && !(s->page = malloc(PAGE)))
                return done ? (int64_t)done : -ABI_ENOMEM;
            size_t take = n - done < PAGE ? n - done : PAGE;
            memcpy(s->page, (const char *)buf + done, take);
            s->off = 0;
            s->len = (uint32_t)take;
            s->packet = packet;
            s->can_merge = !packet;
            p->used++;
            done += take;
            wrote = true;
        }
        if (wrote)
            waitq_notify(&p->q, ABI_POLLIN | ABI_POLLRDNORM);
        if (done == n)
            return (int64_t)done;
        if (f->flags & ABI_O_NONBLOCK)
            return done ? (int64_t)done : -ABI_EAGAIN;
        int err = pipe_wait(p);
        if (err)
            return done ? (int64_t)done : err;
    }
}

static uint32_t pipe_poll(struct vfs_file *f)
{
    struct pipe *p = pipe_of(f);
    uint32_t ev = 0;
    if (vfs_file_readable(f)) {
        if (p->used)
            ev |= ABI_POLLIN | ABI_POLLRDNORM;
        if (!p->writers && end_of(f)->w_counter_seen != p->w_counter)
            ev |= ABI_POLLHUP;
    }
    if (vfs_file_writable(f)) {
        if (!pipe_full(p))
            ev |= ABI_POLLOUT | ABI_POLLWRNORM;
        if (!p->readers)
            ev |= ABI_POLLERR;
    }
    return ev;
}

static struct waitq *pipe_poll_queue(struct vfs_file *f)
{
    return &pipe_of(f)->q;
}

static int pipe_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct pipe *p = pipe_of(f);
    memset(st, 0, sizeof(*st));
    st->st_dev = PIPEFS_DEV;
    st->st_ino = p->ino;
    st->st_nlink = 1;
    st->st_mode = ABI_S_IFIFO | 0600;
    st->st_uid = p->uid;
    st->st_gid = p->gid;
    st->st_blksize = PAGE;
    st->st_atime_sec = st->st_mtime_sec = st->st_ctime_sec = (uint64_t)p->ctime.tv_sec;
    st->st_atime_nsec = st->st_mtime_nsec = st->st_ctime_nsec = (uint64_t)p->ctime.tv_nsec;
    return 0;
}

static int pipe_ioctl(struct vfs_file *f, uint32_t req, void *arg, size_t len)
{
    if (req != ABI_FIONREAD)
        return -ABI_ENOTTY;
    if (len != sizeof(int32_t))
        return -ABI_EINVAL;
    uint64_t n = pipe_bytes(pipe_of(f));
    int32_t v = (int32_t)n;
    memcpy(arg, &v, sizeof(v));
    return 0;
}

static void fifo_forget(struct pipe *p)
{
    for (struct pipe **pp = &fifos; *pp; pp = &(*pp)->next_fifo) {
        if (*pp == p) {
            *pp = p->next_fifo;
            return;
        }
    }
}

/* An end goes away: its counts go, the other side hears of it, and the
 * pipe goes with its last end. */
static void end_drop(struct pipe *p, bool reader, bool writer)
{
    if (reader)
        p->readers--;
    if (writer)
        p->writers--;
    if (!p->readers && !p->writers) {
        if (p->fifo_fs)
            fifo_forget(p);
        pipe_free(p);
        return;
    }
    uint32_t ev = 0;
    if (reader && !p->readers)
        ev |= ABI_POLLERR | ABI_POLLOUT | ABI_POLLWRNORM;
    if (writer && !p->writers)
        ev |= ABI_POLLHUP | ABI_POLLIN | ABI_POLLRDNORM;
    if (ev)
        waitq_notify(&p->q, ev);
}

static void pipe_release(struct vfs_file *f)
{
    struct pipe_end *e = end_of(f);
    end_drop(e->p, vfs_file_readable(f), vfs_file_writable(f));
    free(e);
}

static const struct vfs_file_ops pipe_ops = {
    .read = pipe_read,
    .write = pipe_write,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
    .poll = pipe_poll,
    .poll_queue = pipe_poll_queue,
};

bool pipe_is_pipe(const struct vfs_file *f)
{
    return f->ops == &pipe_ops;
}

static struct vfs_file *end_new(struct pipe *p, uint32_t flags)
{
    struct pipe_end *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->p = p;
    struct vfs_file *f = vfs_file_new(&pipe_ops, flags, e);
    if (!f) {
        free(e);
        return NULL;
    }
    f->fault_mode = VFS_FAULT_WHOLE;
    return f;
}

int pipe_create(uint32_t flags, struct vfs_file **rd, struct vfs_file **wr)
{
    flags &= ABI_O_NONBLOCK | ABI_O_DIRECT;
    struct pipe *p = pipe_new();
    if (!p)
        return -ABI_ENFILE;
    struct vfs_file *r = end_new(p, ABI_O_RDONLY | flags);
    struct vfs_file *w = r ? end_new(p, ABI_O_WRONLY | flags) : NULL;
    if (!w) {
        if (r) {
            free(r->priv);
            free(r);
        }
        pipe_free(p);
        return -ABI_ENFILE;
    }
    p->readers = p->writers = 1;
    *rd = r;
    *wr = w;
    return 0;
}

/* ---- FIFOs ---- */

static struct pipe *fifo_pipe(struct vfs_inode *ino)
{
    for (struct pipe *p = fifos; p; p = p->next_fifo) {
        if (p->fifo_fs == ino->fs && p->fifo_ino == ino->ino)
            return p;
    }
    struct pipe *p = pipe_new();
    if (!p)
        return NULL;
    p->r_counter = p->w_counter = 0;
    p->fifo_fs = ino->fs;
    p->fifo_ino = ino->ino;
    p->next_fifo = fifos;
    fifos = p;
    return p;
}

/* Wait until the other kind of opener has come (*counter moved). */
static int wait_partner(struct pipe *p, const uint32_t *counter)
{
    uint32_t seen = *counter;
    while (*counter == seen) {
        int err = pipe_wait(p);
        if (err)
            return err == -ABI_EAGAIN ? -ABI_ERESTARTSYS : err;
    }
    return 0;
}

/* Connects f to p with the FIFO open rules, as a new end. */
static int open_end(struct pipe *p, struct vfs_file *f)
{
    struct pipe_end *e = calloc(1, sizeof(*e));
    if (!e) {
        if (!p->readers && !p->writers) {
            fifo_forget(p);
            pipe_free(p);
        }
        return -ABI_ENOMEM;
    }
    e->p = p;
    bool nonblock = f->flags & ABI_O_NONBLOCK;
    bool rd = vfs_file_readable(f), wr = vfs_file_writable(f);
    int err = 0;
    if (rd && !wr) {
        p->r_counter++;
        if (p->readers++ == 0)
            waitq_notify(&p->q, 0);
        /* Without a writer yet, POLLHUP waits for one to come and go. */
        e->w_counter_seen = p->w_counter;
        if (!p->writers && !nonblock)
            err = wait_partner(p, &p->w_counter);
    } else if (wr && !rd) {
        if (nonblock && !p->readers) {
            err = -ABI_ENXIO;
            wr = false;
        } else {
            p->w_counter++;
            if (p->writers++ == 0)
                waitq_notify(&p->q, 0);
            if (!p->readers)
                err = wait_partner(p, &p->r_counter);
        }
    } else if (rd && wr) {
        /* O_RDWR: one end that is both, never waiting (Linux allows it,
         * POSIX leaves it undefined). */
        p->r_counter++;
        p->w_counter++;
        p->readers++;
        p->writers++;
        e->w_counter_seen = p->w_counter;
        waitq_notify(&p->q, 0);
    } else {
        err = -ABI_EINVAL;
    }
    if (err) {
        free(e);
        if (!rd && !wr) {
            if (!p->readers && !p->writers) {
                if (p->fifo_fs)
                    fifo_forget(p);
                pipe_free(p);
            }
        } else {
            end_drop(p, rd, wr);
        }
        return err;
    }
    f->ops = &pipe_ops;
    f->priv = e;
    f->positional = false;
    f->fault_mode = VFS_FAULT_WHOLE;
    return 0;
}

int pipe_fifo_open(struct vfs_inode *ino, struct vfs_file *f)
{
    struct pipe *p = fifo_pipe(ino);
    if (!p)
        return -ABI_ENOMEM;
    return open_end(p, f);
}

int pipe_reopen(struct vfs_file *orig, struct vfs_file *f)
{
    return open_end(pipe_of(orig), f);
}

/* ---- capacity ---- */

int64_t pipe_get_size(struct vfs_file *f)
{
    if (!pipe_is_pipe(f))
        return -ABI_EBADF;
    return (int64_t)pipe_of(f)->nslots * PAGE;
}

int64_t pipe_set_size(struct vfs_file *f, uint64_t size, bool privileged)
{
    if (!pipe_is_pipe(f))
        return -ABI_EBADF;
    struct pipe *p = pipe_of(f);
    /* Linux's round_pipe_size: at least a page, a power of two, and no
     * more than 2 GiB (fcntl's argument is an unsigned int). */
    size &= 0xffffffffu;
    if (size > (1u << 31))
        return -ABI_EINVAL;
    uint64_t bytes = PAGE;
    while (bytes < size)
        bytes <<= 1;
    if (bytes > PIPE_MAX_SIZE && !privileged)
        return -ABI_EPERM;
    uint32_t nslots = (uint32_t)(bytes / PAGE);
    if (nslots == p->nslots)
        return (int64_t)bytes;
    if (p->used > nslots)
        return -ABI_EBUSY;
    struct slot *ns = calloc(nslots, sizeof(*ns));
    if (!ns)
        return -ABI_ENOMEM;
    /* The data slots move to the front of the new ring; the pages of
     * empty slots are freed rather than carried over. */
    for (uint32_t i = 0; i < p->used; i++) {
        ns[i] = *slot_at(p, i);
        slot_at(p, i)->page = NULL;
    }
    for (uint32_t i = 0; i < p->nslots; i++)
        free(p->slots[i].page);
    free(p->slots);
    p->slots = ns;
    p->nslots = nslots;
    p->head = 0;
    waitq_notify(&p->q, ABI_POLLOUT | ABI_POLLWRNORM);
    return (int64_t)bytes;
}
