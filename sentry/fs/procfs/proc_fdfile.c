/* Following /proc/PID/fd/N to a file that has no path (the host stdio the
 * front end handed over: pipes, ttys, files the guest cannot name).
 *
 * Linux reopens such a file through its inode. moat has no host fd to
 * reopen (the Sentry may not open host paths, nor dup under its seccomp
 * filter), so the walk lands on an anonymous inode standing for the open
 * file, and opening that inode gives a new description that forwards its
 * I/O to the original one. For pipes and ttys that is what Linux gives;
 * a seekable host file shares the original's offset (documented in the
 * README). Sockets refuse the open with ENXIO, as on Linux.
 */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/pipe.h"
#include "sentry/fs/procfs/proc_internal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/vfs/file.h"

static struct vfs_file *orig(struct vfs_file *f)
{
    return f->priv;
}

static int64_t fw_read(struct vfs_file *f, void *buf, size_t n)
{
    struct vfs_file *o = orig(f);
    return o->ops->read ? o->ops->read(o, buf, n) : -ABI_EINVAL;
}

static int64_t fw_write(struct vfs_file *f, const void *buf, size_t n)
{
    struct vfs_file *o = orig(f);
    return o->ops->write ? o->ops->write(o, buf, n) : -ABI_EINVAL;
}

static int64_t fw_pread(struct vfs_file *f, void *buf, size_t n, int64_t off)
{
    struct vfs_file *o = orig(f);
    return o->ops->pread ? o->ops->pread(o, buf, n, off) : -ABI_ESPIPE;
}

static int64_t fw_pwrite(struct vfs_file *f, const void *buf, size_t n, int64_t off)
{
    struct vfs_file *o = orig(f);
    return o->ops->pwrite ? o->ops->pwrite(o, buf, n, off) : -ABI_ESPIPE;
}

static int64_t fw_lseek(struct vfs_file *f, int64_t off, int whence)
{
    struct vfs_file *o = orig(f);
    return o->ops->lseek ? o->ops->lseek(o, off, whence) : -ABI_ESPIPE;
}

static int fw_stat(struct vfs_file *f, struct abi_stat *st)
{
    struct vfs_file *o = orig(f);
    return o->ops->stat ? o->ops->stat(o, st) : -ABI_EBADF;
}

static int fw_ioctl(struct vfs_file *f, uint32_t req, void *arg, size_t len)
{
    struct vfs_file *o = orig(f);
    return o->ops->ioctl ? o->ops->ioctl(o, req, arg, len) : -ABI_ENOTTY;
}

static int fw_fsync(struct vfs_file *f)
{
    struct vfs_file *o = orig(f);
    return o->ops->fsync ? o->ops->fsync(o) : -ABI_EINVAL;
}

static uint32_t fw_poll(struct vfs_file *f)
{
    return vfs_file_poll(orig(f));
}

static struct waitq *fw_poll_queue(struct vfs_file *f)
{
    struct vfs_file *o = orig(f);
    return o->ops->poll_queue ? o->ops->poll_queue(o) : NULL;
}

static void fw_release(struct vfs_file *f)
{
    vfs_file_put(orig(f));
}

static const struct vfs_file_ops forward_ops = {
    .read = fw_read,
    .write = fw_write,
    .pread = fw_pread,
    .pwrite = fw_pwrite,
    .lseek = fw_lseek,
    .stat = fw_stat,
    .ioctl = fw_ioctl,
    .release = fw_release,
    .fsync = fw_fsync,
    .poll = fw_poll,
    .poll_queue = fw_poll_queue,
};

static int anon_open(struct vfs_inode *ino, struct vfs_file *f)
{
    struct vfs_file *o = ino->priv;
    if ((ino->mode & ABI_S_IFMT) == ABI_S_IFSOCK)
        return -ABI_ENXIO;
    if (pipe_is_pipe(o))
        return pipe_reopen(o, f);
    f->ops = &forward_ops;
    f->priv = vfs_file_get(o);
    f->positional = o->positional;
    f->fault_mode = o->fault_mode;
    return 0;
}

static void anon_evict(struct vfs_inode *ino)
{
    vfs_file_put(ino->priv);
    free(ino);
}

static const struct vfs_inode_ops anon_ops = {
    .open = anon_open,
    .evict = anon_evict,
};

int procfs_anon_file_path(struct task *t, struct vfs_file *f, struct vfs_mount *mnt,
                          struct vfs_path *out)
{
    struct abi_stat st;
    memset(&st, 0, sizeof(st));
    if (f->ops->stat)
        f->ops->stat(f, &st);
    struct vfs_inode *ino = calloc(1, sizeof(*ino));
    if (!ino)
        return -ABI_ENOMEM;
    /* The host's owner means nothing in the sandbox: the file is the
     * task's, with the access its open has. */
    uint32_t acc = f->flags & ABI_O_ACCMODE;
    uint32_t perm = (acc == ABI_O_RDONLY || acc == ABI_O_RDWR ? 0400 : 0) |
                    (acc == ABI_O_WRONLY || acc == ABI_O_RDWR ? 0200 : 0);
    uint32_t type = st.st_mode & ABI_S_IFMT;
    ino->ino = st.st_ino;
    ino->mode = (type ? type : ABI_S_IFREG) | perm;
    ino->nlink = 1;
    ino->uid = t->creds.euid;
    ino->gid = t->creds.egid;
    ino->size = (type == ABI_S_IFREG) ? (int64_t)st.st_size : 0;
    ino->rdev = st.st_rdev;
    ino->atime = (struct abi_timespec){(int64_t)st.st_atime_sec, (int64_t)st.st_atime_nsec};
    ino->mtime = (struct abi_timespec){(int64_t)st.st_mtime_sec, (int64_t)st.st_mtime_nsec};
    ino->ctime = (struct abi_timespec){(int64_t)st.st_ctime_sec, (int64_t)st.st_ctime_nsec};
    ino->btime = ino->ctime;
    ino->refs = 1;
    ino->ops = &anon_ops;
    /* Counted as procfs's (st_dev, statfs) so that no caller meets an inode
     * without a filesystem; the path's mount reference keeps it alive. */
    ino->fs = mnt->fs;
    ino->priv = vfs_file_get(f);
    struct vfs_dentry *d = vfs_dentry_new_root(ino);
    if (!d) {
        vfs_inode_put(ino);
        return -ABI_ENOMEM;
    }
    /* A parentless dentry, in no cache: it goes with the last path holding
     * it, and the inode with it. */
    *out = (struct vfs_path){vfs_mount_get(mnt), d};
    return 0;
}

struct vfs_file *procfs_anon_original(struct vfs_file *f)
{
    if (f->dentry && f->dentry->inode->ops == &anon_ops)
        return f->dentry->inode->priv;
    return f;
}
