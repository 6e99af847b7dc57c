/* timerfd: a timer read through a file descriptor.
 *
 * The file's timer runs on the timer service (sentry/kernel/timer.h); each
 * expiry adds to a count that read(2) returns and resets, and makes the file
 * readable for poll, select and epoll. Calls under the kernel lock; a read
 * blocks the calling task (kernel_current).
 */
#ifndef MOAT_SENTRY_FS_TIMERFD_H
#define MOAT_SENTRY_FS_TIMERFD_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/vfs/file.h"

/* A new timerfd file, disarmed, on clock (an ABI clock id the caller
 * validated: REALTIME, MONOTONIC, BOOTTIME or an alarm clock); nonblock
 * sets O_NONBLOCK. NULL when memory runs out. */
struct vfs_file *timerfd_new(int clock, bool nonblock);
/* Whether f is a timerfd. */
bool timerfd_is(const struct vfs_file *f);
/* timerfd_settime: value/interval in ns, value 0 disarms; flags
 * ABI_TFD_TIMER_*, checked by the caller. old: the setting replaced (ns
 * left, interval). */
void timerfd_set(struct vfs_file *f, uint32_t flags, int64_t value, int64_t interval,
                 int64_t old[2]);
/* timerfd_gettime: ns left (0: disarmed) and interval. */
void timerfd_get(struct vfs_file *f, int64_t cur[2]);

#endif
