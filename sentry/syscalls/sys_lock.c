/* Advisory locks: flock(2) and fcntl's record-lock commands, over
 * sentry/vfs/lock.h. */
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/lock.h"

int64_t sys_flock(struct task *t, const uint64_t a[6])
{
    struct vfs_file *f = a[0] > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)a[0]);
    if (!f || (f->flags & ABI_O_PATH))
        return -ABI_EBADF;
    uint32_t cmd = (uint32_t)a[1];
    bool nonblock = cmd & ABI_LOCK_NB;
    int op = (int)(cmd & ~(uint32_t)ABI_LOCK_NB);
    /* Linux ignores the long-gone mandatory share modes, successfully. */
    if (cmd & ABI_LOCK_MAND)
        return 0;
    if (op != ABI_LOCK_SH && op != ABI_LOCK_EX && op != ABI_LOCK_UN)
        return -ABI_EINVAL;
    if (!f->dentry)
        return -ABI_ENOLCK; /* host stdio files: no inode to hang a lock on */
    return vfs_lock_flock(f->dentry->inode, f, op, nonblock);
}

/* struct flock's range against the file's offset and size. */
static int resolve(struct vfs_file *f, const struct abi_flock *fl, struct vfs_lock_range *r)
{
    int64_t size = 0;
    if (fl->l_whence == ABI_SEEK_END) {
        struct abi_stat st;
        int err = f->ops->stat ? f->ops->stat(f, &st) : -ABI_EINVAL;
        if (err)
            return err;
        size = st.st_size;
    }
    return vfs_lock_resolve(fl->l_whence, fl->l_start, fl->l_len, f->pos, size, &r->start, &r->end);
}

int64_t sys_fcntl_lock(struct task *t, struct vfs_file *f, uint32_t cmd, uint64_t arg)
{
    struct abi_flock fl;
    if (mm_copy_in(t->mm, &fl, arg, sizeof(fl)) != 0)
        return -ABI_EFAULT;
    bool ofd = cmd == ABI_F_OFD_GETLK || cmd == ABI_F_OFD_SETLK || cmd == ABI_F_OFD_SETLKW;
    if (ofd && fl.l_pid != 0)
        return -ABI_EINVAL;
    if (!f->dentry)
        return -ABI_ENOLCK;
    struct vfs_inode *ino = f->dentry->inode;
    /* A process's locks belong to its fd table, an OFD lock to the
     * description (see sentry/vfs/lock.h). */
    uintptr_t owner = ofd ? (uintptr_t)f : (uintptr_t)t->fds;
    struct vfs_lock_range r = {.type = fl.l_type};
    if (fl.l_type != ABI_F_RDLCK && fl.l_type != ABI_F_WRLCK && fl.l_type != ABI_F_UNLCK)
        return -ABI_EINVAL;
    int err = resolve(f, &fl, &r);
    if (err)
        return err;
    if (cmd == ABI_F_GETLK || cmd == ABI_F_OFD_GETLK) {
        if (fl.l_type == ABI_F_UNLCK)
            return -ABI_EINVAL;
        vfs_lock_test(ino, owner, &r);
        fl.l_type = (int16_t)r.type;
        if (r.type != ABI_F_UNLCK) {
            fl.l_whence = ABI_SEEK_SET;
            fl.l_start = r.start;
            fl.l_len = r.end == VFS_LOCK_EOF ? 0 : r.end - r.start + 1;
            fl.l_pid = r.pid;
        }
        return mm_copy_out(t->mm, arg, &fl, sizeof(fl)) ? -ABI_EFAULT : 0;
    }
    if ((fl.l_type == ABI_F_RDLCK && !vfs_file_readable(f)) ||
        (fl.l_type == ABI_F_WRLCK && !vfs_file_writable(f)))
        return -ABI_EBADF;
    bool wait = cmd == ABI_F_SETLKW || cmd == ABI_F_OFD_SETLKW;
    return vfs_lock_set(ino, owner, ofd ? -1 : t->pid, &r, wait);
}
