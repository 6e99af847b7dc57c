/* signalfd files. A read takes signals from the pending queues of the task
 * reading (its thread queue, then its process's), as Linux does: which
 * signals a signalfd sees depends on who reads it, not on who made it. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/fs/signalfd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/vfs/file.h"

/* struct signalfd_siginfo: 128 bytes. */
struct sfd_info {
    uint32_t signo;
    int32_t err;
    int32_t code;
    uint32_t pid, uid;
    int32_t fd;
    uint32_t tid, band, overrun, trapno;
    int32_t status, int_;
    uint64_t ptr, utime, stime, addr;
    uint16_t addr_lsb, pad2;
    int32_t syscall;
    uint64_t call_addr;
    uint32_t arch;
    uint8_t pad[28];
};
_Static_assert(sizeof(struct sfd_info) == 128, "signalfd_siginfo is 128 bytes");

struct sfd {
    abi_sigset_t mask;
};

#define UNBLOCKABLE (ABI_SIGMASK(ABI_SIGKILL) | ABI_SIGMASK(ABI_SIGSTOP))

static void convert(const struct abi_siginfo *si, struct sfd_info *o)
{
    memset(o, 0, sizeof(*o));
    o->signo = (uint32_t)si->si_signo;
    o->err = si->si_errno;
    o->code = si->si_code;
    switch (si->si_signo) {
    case ABI_SIGCHLD:
        o->pid = (uint32_t)si->u.sigchld.pid;
        o->uid = si->u.sigchld.uid;
        o->status = si->u.sigchld.status;
        o->utime = (uint64_t)si->u.sigchld.utime;
        o->stime = (uint64_t)si->u.sigchld.stime;
        return;
    case ABI_SIGSEGV:
    case ABI_SIGBUS:
    case ABI_SIGILL:
    case ABI_SIGFPE:
    case ABI_SIGTRAP:
        if (si->si_code > 0) {
            o->addr = si->u.fault.addr;
            return;
        }
        break;
    default:
        break;
    }
    if (si->si_code == ABI_SI_TIMER) {
        o->tid = (uint32_t)si->u.timer.tid;
        o->overrun = (uint32_t)si->u.timer.overrun;
        o->int_ = si->u.timer.value.sival_int;
        o->ptr = si->u.timer.value.sival_ptr;
        return;
    }
    /* kill, tkill, sigqueue: pid and uid, and sigqueue's value. */
    o->pid = (uint32_t)si->u.rt.pid;
    o->uid = si->u.rt.uid;
    o->int_ = si->u.rt.value.sival_int;
    o->ptr = si->u.rt.value.sival_ptr;
}

static int64_t sfd_read(struct vfs_file *f, void *buf, size_t n)
{
    struct sfd *s = f->priv;
    struct task *t = kernel_current();
    if (n < sizeof(struct sfd_info))
        return -ABI_EINVAL;
    if (!t)
        return -ABI_EAGAIN;
    size_t done = 0;
    struct waitq_entry w;
    task_waiter_init(t, &w, 0);
    bool waiting = false;
    while (done + sizeof(struct sfd_info) <= n) {
        struct abi_siginfo si;
        int sig = signal_dequeue(t, s->mask, &si);
        if (sig) {
            struct sfd_info o;
            convert(&si, &o);
            memcpy((char *)buf + done, &o, sizeof(o));
            done += sizeof(o);
            continue;
        }
        if (done || (f->flags & ABI_O_NONBLOCK))
            break;
        if (!waiting) {
            waitq_add(&t->sighand->signalfd_wait, &w);
            waiting = true;
        }
        if (task_sleep(t, NULL) == -ABI_EINTR) {
            /* Only a signal outside the mask interrupts: those in it are
             * what we read. */
            if (signal_pending_set(t) & s->mask)
                continue;
            waitq_remove(&w);
            return -ABI_ERESTARTSYS;
        }
    }
    if (waiting)
        waitq_remove(&w);
    return done ? (int64_t)done : -ABI_EAGAIN;
}

static uint32_t sfd_poll(struct vfs_file *f)
{
    struct sfd *s = f->priv;
    struct task *t = kernel_current();
    if (t && (signal_pending_set(t) & s->mask))
        return ABI_POLLIN | ABI_POLLRDNORM;
    return 0;
}

static struct waitq *sfd_queue(struct vfs_file *f)
{
    (void)f;
    struct task *t = kernel_current();
    return t ? &t->sighand->signalfd_wait : NULL;
}

static int sfd_stat(struct vfs_file *f, struct abi_stat *st)
{
    (void)f;
    anon_inode_stat(st);
    return 0;
}

static void sfd_release(struct vfs_file *f)
{
    free(f->priv);
}

static const struct vfs_file_ops sfd_ops = {
    .read = sfd_read,
    .stat = sfd_stat,
    .lseek = anon_inode_lseek,
    .release = sfd_release,
    .poll = sfd_poll,
    .poll_queue = sfd_queue,
};

struct vfs_file *signalfd_new(struct task *t, abi_sigset_t mask, uint32_t flags)
{
    (void)t;
    struct sfd *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->mask = mask & ~UNBLOCKABLE;
    struct vfs_file *f = vfs_file_new(&sfd_ops, ABI_O_RDWR | (flags & ABI_O_NONBLOCK), s);
    if (!f)
        free(s);
    else
        f->fault_mode = VFS_FAULT_WHOLE;
    return f;
}

bool signalfd_is(const struct vfs_file *f)
{
    return f->ops == &sfd_ops;
}

void signalfd_set_mask(struct vfs_file *f, abi_sigset_t mask)
{
    ((struct sfd *)f->priv)->mask = mask & ~UNBLOCKABLE;
}
