/* The xattr family: set/get/list/remove, each by path (following a final
 * symlink), by path without following (l*), and by fd (f*), over
 * sentry/vfs/xattr.h. */
#include <stdlib.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/xattr.h"

enum how { BY_PATH, BY_LPATH, BY_FD };

/* Capabilities arrive with the processes issue; until then root has
 * CAP_SYS_ADMIN as it has the file capabilities (see task_walk_ctx). */
static bool admin(struct task *t)
{
    return t->creds.euid == 0;
}

/* An xattr name: 1 to XATTR_NAME_MAX bytes, else ERANGE, as Linux says. */
static int name_in(struct task *t, uint64_t addr, char name[ABI_XATTR_NAME_MAX + 1])
{
    int64_t n = mm_copy_in_str(t->mm, name, addr, ABI_XATTR_NAME_MAX + 1);
    if (n == -ABI_ENAMETOOLONG || n == 0)
        return -ABI_ERANGE;
    return n < 0 ? (int)n : 0;
}

/* The object the call is about: out holds references. */
static int target(struct task *t, enum how how, uint64_t arg, struct vfs_path *out)
{
    if (how == BY_FD) {
        struct vfs_file *f = arg > INT32_MAX ? NULL : vfs_fd_lookup(t->fds, (int)arg);
        if (!f || (f->flags & ABI_O_PATH))
            return -ABI_EBADF;
        if (!f->dentry)
            return -ABI_EOPNOTSUPP; /* host stdio: nothing to hold attributes */
        *out = vfs_path_get((struct vfs_path){f->mnt, f->dentry});
        return 0;
    }
    static _Thread_local char path[VFS_PATH_MAX];
    int64_t len = sys_path_nonempty(t, arg, path);
    if (len < 0)
        return (int)len;
    struct vfs_path start;
    int err = task_at_start(t, ABI_AT_FDCWD, path, &start);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    return vfs_walk(&ctx, start, path, how == BY_LPATH ? VFS_WALK_NOFOLLOW : 0, out);
}

static int64_t do_set(struct task *t, enum how how, const uint64_t a[6])
{
    int flags = (int)a[4];
    if (flags & ~(ABI_XATTR_CREATE | ABI_XATTR_REPLACE))
        return -ABI_EINVAL;
    char name[ABI_XATTR_NAME_MAX + 1];
    int err = name_in(t, a[1], name);
    if (err)
        return err;
    size_t size = a[3];
    if (size > ABI_XATTR_SIZE_MAX)
        return -ABI_E2BIG;
    void *value = NULL;
    if (size) {
        value = malloc(size);
        if (!value)
            return -ABI_ENOMEM;
        if (mm_copy_in(t->mm, value, a[2], size)) {
            free(value);
            return -ABI_EFAULT;
        }
    }
    struct vfs_path p;
    err = target(t, how, a[0], &p);
    if (!err) {
        struct vfs_walk_ctx ctx;
        task_walk_ctx(t, &ctx);
        err = vfs_setxattr(&ctx.cred, admin(t), p, name, value ? value : "", size, flags);
        vfs_path_put(p);
    }
    free(value);
    return err;
}

static int64_t do_get(struct task *t, enum how how, const uint64_t a[6])
{
    struct vfs_path p;
    int err = target(t, how, a[0], &p);
    if (err)
        return err;
    char name[ABI_XATTR_NAME_MAX + 1];
    err = name_in(t, a[1], name);
    size_t size = a[3] > ABI_XATTR_SIZE_MAX ? ABI_XATTR_SIZE_MAX : a[3];
    void *buf = NULL;
    if (!err && size && !(buf = malloc(size)))
        err = -ABI_ENOMEM;
    int64_t r = err;
    if (!err) {
        struct vfs_walk_ctx ctx;
        task_walk_ctx(t, &ctx);
        r = vfs_getxattr(&ctx.cred, admin(t), p, name, buf, size);
        if (r > 0 && size && mm_copy_out(t->mm, a[2], buf, (size_t)r))
            r = -ABI_EFAULT;
    }
    free(buf);
    vfs_path_put(p);
    return r;
}

static int64_t do_list(struct task *t, enum how how, const uint64_t a[6])
{
    struct vfs_path p;
    int err = target(t, how, a[0], &p);
    if (err)
        return err;
    size_t size = a[2] > ABI_XATTR_LIST_MAX ? ABI_XATTR_LIST_MAX : a[2];
    char *buf = NULL;
    int64_t r = 0;
    if (size && !(buf = malloc(size)))
        r = -ABI_ENOMEM;
    if (r == 0) {
        struct vfs_walk_ctx ctx;
        task_walk_ctx(t, &ctx);
        r = vfs_listxattr(&ctx.cred, admin(t), p, buf, size);
        if (r > 0 && size && mm_copy_out(t->mm, a[1], buf, (size_t)r))
            r = -ABI_EFAULT;
    }
    free(buf);
    vfs_path_put(p);
    return r;
}

static int64_t do_remove(struct task *t, enum how how, const uint64_t a[6])
{
    char name[ABI_XATTR_NAME_MAX + 1];
    int err = name_in(t, a[1], name);
    if (err)
        return err;
    struct vfs_path p;
    err = target(t, how, a[0], &p);
    if (err)
        return err;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    err = vfs_removexattr(&ctx.cred, admin(t), p, name);
    vfs_path_put(p);
    return err;
}

int64_t sys_setxattr(struct task *t, const uint64_t a[6])
{
    return do_set(t, BY_PATH, a);
}

int64_t sys_lsetxattr(struct task *t, const uint64_t a[6])
{
    return do_set(t, BY_LPATH, a);
}

int64_t sys_fsetxattr(struct task *t, const uint64_t a[6])
{
    return do_set(t, BY_FD, a);
}

int64_t sys_getxattr(struct task *t, const uint64_t a[6])
{
    return do_get(t, BY_PATH, a);
}

int64_t sys_lgetxattr(struct task *t, const uint64_t a[6])
{
    return do_get(t, BY_LPATH, a);
}

int64_t sys_fgetxattr(struct task *t, const uint64_t a[6])
{
    return do_get(t, BY_FD, a);
}

int64_t sys_listxattr(struct task *t, const uint64_t a[6])
{
    return do_list(t, BY_PATH, a);
}

int64_t sys_llistxattr(struct task *t, const uint64_t a[6])
{
    return do_list(t, BY_LPATH, a);
}

int64_t sys_flistxattr(struct task *t, const uint64_t a[6])
{
    return do_list(t, BY_FD, a);
}

int64_t sys_removexattr(struct task *t, const uint64_t a[6])
{
    return do_remove(t, BY_PATH, a);
}

int64_t sys_lremovexattr(struct task *t, const uint64_t a[6])
{
    return do_remove(t, BY_LPATH, a);
}

int64_t sys_fremovexattr(struct task *t, const uint64_t a[6])
{
    return do_remove(t, BY_FD, a);
}
