/* anon_inodefs's shared inode (see anon_inode.h). */
#include <string.h>

#include "sentry/fs/anon_inode.h"
#include "sentry/fs/epoll.h"
#include "sentry/fs/eventfd.h"
#include "sentry/fs/signalfd.h"
#include "sentry/fs/timerfd.h"

/* anon_inodefs's device, apart from the counted ones of mounts, and the
 * inode all its files share. */
#define ANON_INODE_DEV 0xfe
#define ANON_INODE_INO 1

void anon_inode_stat(struct abi_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = ANON_INODE_DEV;
    st->st_ino = ANON_INODE_INO;
    st->st_nlink = 1;
    st->st_mode = 0600;
    st->st_blksize = 4096;
}

int64_t anon_inode_lseek(struct vfs_file *f, int64_t off, int whence)
{
    (void)off, (void)whence;
    return f->pos;
}

const char *anon_inode_kind(const struct vfs_file *f)
{
    if (eventfd_is_eventfd(f))
        return "eventfd";
    if (eventpoll_is_epoll(f))
        return "eventpoll";
    if (timerfd_is(f))
        return "timerfd";
    if (signalfd_is(f))
        return "signalfd";
    return NULL;
}
