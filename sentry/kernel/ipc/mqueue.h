/* POSIX message queues: the sandbox's one namespace of named queues, each
 * open as a file (mq_open's descriptor is an fd).
 *
 * The syscall layer (sentry/syscalls/sys_mqueue.c) copies names,
 * attributes and message bodies in and out, and looks the fd up; these
 * functions act on Sentry copies. All are called under the kernel lock and
 * return -errno with Linux's errno for each case.
 */
#ifndef MOAT_SENTRY_KERNEL_IPC_MQUEUE_H
#define MOAT_SENTRY_KERNEL_IPC_MQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/ipc.h"
#include "abi/signal.h"

struct task;
struct vfs_file;
struct kernel_deadline;

/* A name as the syscall receives it (glibc has removed the leading '/'). */
int mqueue_open(struct task *t, const char *name, int oflag, uint32_t mode,
                const struct abi_mq_attr *attr, struct vfs_file **out);
int mqueue_unlink(struct task *t, const char *name);

/* Whether f is a queue's descriptor. */
bool mqueue_is(const struct vfs_file *f);

/* The checks a send or receive makes before touching the message buffer:
 * the access mode (EBADF) and the size against mq_msgsize (EMSGSIZE). */
int mqueue_send_check(struct vfs_file *f, uint64_t len);
int mqueue_receive_check(struct vfs_file *f, uint64_t len);

/* Adds a copy of data at priority prio (checked by the caller), waiting
 * for room unless f is non-blocking; dl NULL: no timeout. A signal ends
 * the wait with -ERESTARTSYS. */
int mqueue_send(struct task *t, struct vfs_file *f, const void *data, uint64_t len, uint32_t prio,
                const struct kernel_deadline *dl);
/* Takes the oldest message of the highest priority, waiting for one as
 * mqueue_send waits for room. *data is malloc'd (the caller frees it);
 * returns its length. */
int64_t mqueue_receive(struct task *t, struct vfs_file *f, void **data, uint32_t *prio,
                       const struct kernel_deadline *dl);

/* mq_notify: ev NULL removes t's process's registration; otherwise
 * SIGEV_NONE or SIGEV_SIGNAL (checked by the caller) registers it. */
int mqueue_notify(struct task *t, struct vfs_file *f, const struct abi_sigevent *ev);

/* mq_getsetattr: *old gets the attributes; set (may be NULL) changes the
 * descriptor's O_NONBLOCK. */
int mqueue_getsetattr(struct vfs_file *f, const struct abi_mq_attr *set, struct abi_mq_attr *old);

/* The queue's name with its leading '/', for /proc/PID/fd links. */
const char *mqueue_name(const struct vfs_file *f);

#endif
