/* epoll instances: a set of watched (file, fd) pairs and the ones ready.
 *
 * An item watches its file's poll queue without holding a reference, as
 * Linux's epoll does: the file's last close removes it (its free_watchers
 * queue). Level-triggered items stay ready while the file has the events;
 * EPOLLET items are reported once per notification; EPOLLONESHOT items are
 * disabled after one report until EPOLL_CTL_MOD.
 */
#ifndef MOAT_SENTRY_FS_EPOLL_H
#define MOAT_SENTRY_FS_EPOLL_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/types.h"
#include "sentry/vfs/file.h"

struct waitq;

/* A new epoll file (O_RDWR, as Linux's). */
int eventpoll_create_file(struct vfs_file **out);
bool eventpoll_is_epoll(const struct vfs_file *f);
/* epoll_ctl on ep for (target, fd): op ABI_EPOLL_CTL_*, ev for ADD and MOD.
 * The caller has checked that ep is an epoll file. */
int eventpoll_ctl(struct vfs_file *ep, int op, int fd, struct vfs_file *target,
                  const struct abi_epoll_event *ev);
/* Take up to max ready events without waiting; their count. */
int eventpoll_collect(struct vfs_file *ep, struct abi_epoll_event *out, int max);
/* Notified when an item may have become ready. */
struct waitq *eventpoll_queue(struct vfs_file *ep);

#endif
