/* epoll instances (see epoll.h). */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/fs/epoll.h"
#include "sentry/kernel/sched.h"

/* Linux's EP_MAX_NESTS: how deep epoll files may watch epoll files. */
#define MAX_NESTS 4
/* Bits of an item's events that are modes, not events. */
#define MODE_BITS (ABI_EPOLLWAKEUP | ABI_EPOLLONESHOT | ABI_EPOLLET | ABI_EPOLLEXCLUSIVE)

struct epitem {
    struct eventpoll *ep;
    struct vfs_file *f; /* not referenced: the file's last close removes us */
    int fd;
    uint32_t events; /* asked events and mode bits; no events: a spent ONESHOT */
    uint64_t data;
    struct waitq_entry poll_w; /* on the file's poll queue */
    struct waitq_entry free_w; /* on the file's free_watchers */
    struct epitem *next;       /* all items */
    struct epitem *rnext;      /* ready list, while ready */
    bool ready;
};

struct eventpoll {
    struct waitq q; /* epoll_wait callers and epolls watching this one */
    struct epitem *items;
    struct epitem *rhead, *rtail;
};

static const struct vfs_file_ops epoll_ops;

static struct eventpoll *ep_of(const struct vfs_file *f)
{
    return f->priv;
}

bool eventpoll_is_epoll(const struct vfs_file *f)
{
    return f->ops == &epoll_ops;
}

struct waitq *eventpoll_queue(struct vfs_file *ep)
{
    return &ep_of(ep)->q;
}

static void ready_push(struct eventpoll *ep, struct epitem *it)
{
    if (it->ready)
        return;
    it->ready = true;
    it->rnext = NULL;
    if (ep->rtail)
        ep->rtail->rnext = it;
    else
        ep->rhead = it;
    ep->rtail = it;
}

/* Take it off the ready list (a linear walk: the list is short). */
static void ready_remove(struct eventpoll *ep, struct epitem *it)
{
    if (!it->ready)
        return;
    struct epitem *prev = NULL;
    for (struct epitem *p = ep->rhead; p; prev = p, p = p->rnext) {
        if (p != it)
            continue;
        if (prev)
            prev->rnext = p->rnext;
        else
            ep->rhead = p->rnext;
        if (ep->rtail == p)
            ep->rtail = prev;
        break;
    }
    it->ready = false;
    it->rnext = NULL;
}

static uint32_t item_revents(struct epitem *it)
{
    return vfs_file_poll(it->f) & it->events & ~(uint32_t)MODE_BITS;
}

/* The watched file's queue was notified. */
static void item_notify(struct waitq_entry *w, uint32_t events)
{
    struct epitem *it = w->arg;
    uint32_t want = it->events & ~(uint32_t)MODE_BITS;
    if (!want)
        return; /* a spent ONESHOT waits for EPOLL_CTL_MOD */
    if (events && !(events & want))
        return;
    ready_push(it->ep, it);
    waitq_notify(&it->ep->q, ABI_POLLIN | ABI_POLLRDNORM);
}

static void item_free(struct epitem *it)
{
    struct eventpoll *ep = it->ep;
    for (struct epitem **pp = &ep->items; *pp; pp = &(*pp)->next) {
        if (*pp == it) {
            *pp = it->next;
            break;
        }
    }
    ready_remove(ep, it);
    waitq_remove(&it->poll_w);
    waitq_remove(&it->free_w);
    free(it);
}

/* The watched file's last reference is going. */
static void item_file_gone(struct waitq_entry *w, uint32_t events)
{
    (void)events;
    item_free(w->arg);
}

static struct epitem *item_find(struct eventpoll *ep, struct vfs_file *f, int fd)
{
    for (struct epitem *it = ep->items; it; it = it->next) {
        if (it->f == f && it->fd == fd)
            return it;
    }
    return NULL;
}

/* Whether watching target from ep would close a loop or nest too deep:
 * the depth of epoll files below target, or -1 when ep is among them. */
static int nest_depth(struct vfs_file *target, struct eventpoll *ep, int depth)
{
    if (!eventpoll_is_epoll(target))
        return depth;
    struct eventpoll *tp = ep_of(target);
    if (tp == ep || depth > MAX_NESTS)
        return -1;
    int deepest = depth;
    for (struct epitem *it = tp->items; it; it = it->next) {
        int d = nest_depth(it->f, ep, depth + 1);
        if (d < 0)
            return -1;
        if (d > deepest)
            deepest = d;
    }
    return deepest;
}

static int item_add(struct eventpoll *ep, struct vfs_file *f, int fd, uint32_t events,
                    uint64_t data)
{
    if (eventpoll_is_epoll(f) && nest_depth(f, ep, 1) < 0)
        return -ABI_ELOOP;
    if (!f->free_watchers) {
        f->free_watchers = malloc(sizeof(*f->free_watchers));
        if (!f->free_watchers)
            return -ABI_ENOMEM;
        waitq_init(f->free_watchers);
    }
    struct epitem *it = calloc(1, sizeof(*it));
    if (!it)
        return -ABI_ENOMEM;
    it->ep = ep;
    it->f = f;
    it->fd = fd;
    it->events = events;
    it->data = data;
    it->poll_w.notify = item_notify;
    it->poll_w.arg = it;
    it->free_w.notify = item_file_gone;
    it->free_w.arg = it;
    it->free_w.mask = ABI_POLLFREE;
    struct waitq *q = f->ops->poll_queue ? f->ops->poll_queue(f) : NULL;
    if (q)
        waitq_add(q, &it->poll_w);
    waitq_add(f->free_watchers, &it->free_w);
    it->next = ep->items;
    ep->items = it;
    if (item_revents(it)) {
        ready_push(ep, it);
        waitq_notify(&ep->q, ABI_POLLIN | ABI_POLLRDNORM);
    }
    return 0;
}

int eventpoll_ctl(struct vfs_file *epf, int op, int fd, struct vfs_file *target,
                  const struct abi_epoll_event *ev)
{
    struct eventpoll *ep = ep_of(epf);
    uint32_t events = 0;
    if (op != ABI_EPOLL_CTL_DEL) {
        /* Errors and hang-ups are always reported; EPOLLWAKEUP needs
         * CAP_BLOCK_SUSPEND and is quietly dropped without it, as moat
         * has no suspend to block. */
        events = (ev->events | ABI_POLLERR | ABI_POLLHUP) & ~(uint32_t)ABI_EPOLLWAKEUP;
        if (ev->events & ABI_EPOLLEXCLUSIVE) {
            uint32_t ok = ABI_POLLIN | ABI_POLLOUT | ABI_POLLRDNORM | ABI_POLLRDBAND |
                          ABI_POLLWRNORM | ABI_POLLWRBAND | ABI_POLLERR | ABI_POLLHUP |
                          ABI_EPOLLWAKEUP | ABI_EPOLLET | ABI_EPOLLEXCLUSIVE;
            if (op == ABI_EPOLL_CTL_MOD || (ev->events & ~ok) || eventpoll_is_epoll(target))
                return -ABI_EINVAL;
        }
    }
    struct epitem *it = item_find(ep, target, fd);
    switch (op) {
    case ABI_EPOLL_CTL_ADD:
        if (it)
            return -ABI_EEXIST;
        return item_add(ep, target, fd, events, ev->data);
    case ABI_EPOLL_CTL_DEL:
        if (!it)
            return -ABI_ENOENT;
        item_free(it);
        return 0;
    case ABI_EPOLL_CTL_MOD:
        if (!it)
            return -ABI_ENOENT;
        /* An exclusive item keeps its events (Linux refuses the MOD). */
        if (it->events & ABI_EPOLLEXCLUSIVE)
            return -ABI_EINVAL;
        it->events = events;
        it->data = ev->data;
        ready_remove(ep, it);
        if (item_revents(it)) {
            ready_push(ep, it);
            waitq_notify(&ep->q, ABI_POLLIN | ABI_POLLRDNORM);
        }
        return 0;
    default:
        return -ABI_EINVAL;
    }
}

int eventpoll_collect(struct vfs_file *epf, struct abi_epoll_event *out, int max)
{
    struct eventpoll *ep = ep_of(epf);
    int n = 0;
    /* Level-triggered items found ready go back at the tail, after this
     * round, so that each call looks at every ready item once. */
    struct epitem *again = NULL, **again_tail = &again;
    while (n < max && ep->rhead) {
        struct epitem *it = ep->rhead;
        ep->rhead = it->rnext;
        if (!ep->rhead)
            ep->rtail = NULL;
        it->ready = false;
        it->rnext = NULL;
        uint32_t rev = item_revents(it);
        if (!rev)
            continue;
        out[n].events = rev;
        out[n].data = it->data;
        n++;
        if (it->events & ABI_EPOLLONESHOT)
            it->events &= MODE_BITS;
        else if (!(it->events & ABI_EPOLLET)) {
            it->ready = true;
            *again_tail = it;
            again_tail = &it->rnext;
        }
    }
    for (struct epitem *it = again; it;) {
        struct epitem *next = it->rnext;
        it->ready = false;
        ready_push(ep, it);
        it = next;
    }
    return n;
}

/* An epoll file is readable while one of its ready items has events. */
static uint32_t epoll_poll(struct vfs_file *f)
{
    struct eventpoll *ep = ep_of(f);
    for (struct epitem *it = ep->rhead; it; it = it->rnext) {
        if (item_revents(it))
            return ABI_POLLIN | ABI_POLLRDNORM;
    }
    return 0;
}

static struct waitq *epoll_poll_queue(struct vfs_file *f)
{
    return &ep_of(f)->q;
}

static int epoll_stat(struct vfs_file *f, struct abi_stat *st)
{
    (void)f;
    anon_inode_stat(st);
    return 0;
}

static void epoll_release(struct vfs_file *f)
{
    struct eventpoll *ep = ep_of(f);
    while (ep->items)
        item_free(ep->items);
    free(ep);
}

static const struct vfs_file_ops epoll_ops = {
    .lseek = anon_inode_lseek,
    .stat = epoll_stat,
    .release = epoll_release,
    .poll = epoll_poll,
    .poll_queue = epoll_poll_queue,
};

int eventpoll_create_file(struct vfs_file **out)
{
    struct eventpoll *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return -ABI_ENOMEM;
    waitq_init(&ep->q);
    struct vfs_file *f = vfs_file_new(&epoll_ops, ABI_O_RDWR, ep);
    if (!f) {
        free(ep);
        return -ABI_ENOMEM;
    }
    *out = f;
    return 0;
}
