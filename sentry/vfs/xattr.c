/* Extended attributes: the checks Linux makes before a filesystem sees an
 * xattr request (fs/xattr.c's rules, written from the man pages and
 * observed behaviour). */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/vfs/xattr.h"

enum ns { NS_USER, NS_TRUSTED, NS_SECURITY, NS_SYSTEM, NS_UNKNOWN };

static const struct {
    const char *prefix;
    enum ns ns;
} prefixes[] = {
    {"user.", NS_USER},
    {"trusted.", NS_TRUSTED},
    {"security.", NS_SECURITY},
    {"system.", NS_SYSTEM},
};

static enum ns ns_of(const char *name, bool *bare)
{
    *bare = false;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i].prefix);
        if (strncmp(name, prefixes[i].prefix, n) == 0) {
            *bare = name[n] == '\0';
            return prefixes[i].ns;
        }
    }
    return NS_UNKNOWN;
}

static bool owner_or_capable(const struct vfs_cred *cred, const struct vfs_inode *ino)
{
    return cred->uid == ino->uid || cred->cap_fowner;
}

/* Linux's xattr_permission: who may read (write false) or change a name. */
static int permission(const struct vfs_cred *cred, bool admin, const struct vfs_inode *ino,
                      const char *name, bool write)
{
    bool bare;
    enum ns ns = ns_of(name, &bare);
    if (ns == NS_SECURITY || ns == NS_SYSTEM)
        return 0;
    if (ns == NS_TRUSTED) {
        if (!admin)
            return write ? -ABI_EPERM : -ABI_ENODATA;
        return 0;
    }
    if (ns == NS_USER) {
        if (!vfs_is_reg(ino) && !vfs_is_dir(ino))
            return write ? -ABI_EPERM : -ABI_ENODATA;
        if (write && vfs_is_dir(ino) && (ino->mode & ABI_S_ISVTX) && !owner_or_capable(cred, ino))
            return -ABI_EPERM;
    }
    return vfs_permission(cred, ino, write ? VFS_MAY_WRITE : VFS_MAY_READ);
}

/* The namespace exists and the name has something after its prefix. */
static int known_name(const char *name)
{
    bool bare;
    if (ns_of(name, &bare) == NS_UNKNOWN)
        return -ABI_EOPNOTSUPP;
    return bare ? -ABI_EINVAL : 0;
}

static int refresh(struct vfs_inode *ino)
{
    return ino->ops->getattr ? ino->ops->getattr(ino) : 0;
}

int64_t vfs_getxattr(const struct vfs_cred *cred, bool admin, struct vfs_path p, const char *name,
                     void *buf, size_t size)
{
    struct vfs_inode *ino = p.dentry->inode;
    int err = refresh(ino);
    if (!err)
        err = permission(cred, admin, ino, name, false);
    if (!err)
        err = known_name(name);
    if (err)
        return err;
    if (size > ABI_XATTR_SIZE_MAX)
        size = ABI_XATTR_SIZE_MAX;
    if (!ino->ops->getxattr)
        return -ABI_EOPNOTSUPP;
    int64_t r = ino->ops->getxattr(ino, name, buf, size);
    if (r == -ABI_ERANGE && size >= ABI_XATTR_SIZE_MAX)
        return -ABI_E2BIG;
    return r;
}

/* What setxattr and removexattr both check, in Linux's order. */
static int may_change(const struct vfs_cred *cred, bool admin, struct vfs_path p, const char *name)
{
    struct vfs_inode *ino = p.dentry->inode;
    if (vfs_mount_readonly(p.mnt))
        return -ABI_EROFS;
    int err = refresh(ino);
    if (!err)
        err = permission(cred, admin, ino, name, true);
    if (!err)
        err = known_name(name);
    if (err)
        return err;
    bool bare;
    /* The LSM rule (cap_inode_setxattr): security.* is root's to write. */
    if (ns_of(name, &bare) == NS_SECURITY && !admin)
        return -ABI_EPERM;
    return 0;
}

int vfs_setxattr(const struct vfs_cred *cred, bool admin, struct vfs_path p, const char *name,
                 const void *value, size_t size, int flags)
{
    struct vfs_inode *ino = p.dentry->inode;
    if (flags & ~(ABI_XATTR_CREATE | ABI_XATTR_REPLACE))
        return -ABI_EINVAL;
    if (size > ABI_XATTR_SIZE_MAX)
        return -ABI_E2BIG;
    int err = may_change(cred, admin, p, name);
    if (err)
        return err;
    if (!ino->ops->setxattr)
        return -ABI_EOPNOTSUPP;
    err = ino->ops->setxattr(ino, name, value, size, flags);
    if (!err)
        vfs_now(&ino->ctime);
    return err;
}

int vfs_removexattr(const struct vfs_cred *cred, bool admin, struct vfs_path p, const char *name)
{
    struct vfs_inode *ino = p.dentry->inode;
    int err = may_change(cred, admin, p, name);
    if (err)
        return err;
    if (!ino->ops->removexattr)
        return -ABI_EOPNOTSUPP;
    err = ino->ops->removexattr(ino, name);
    if (!err)
        vfs_now(&ino->ctime);
    return err;
}

int64_t vfs_listxattr(const struct vfs_cred *cred, bool admin, struct vfs_path p, char *buf,
                      size_t size)
{
    (void)cred;
    struct vfs_inode *ino = p.dentry->inode;
    if (!ino->ops->listxattr)
        return 0; /* nothing stored, nothing listed: not an error for list */
    if (size > ABI_XATTR_LIST_MAX)
        size = ABI_XATTR_LIST_MAX;
    char *all = malloc(ABI_XATTR_LIST_MAX);
    if (!all)
        return -ABI_ENOMEM;
    int64_t n = ino->ops->listxattr(ino, all, ABI_XATTR_LIST_MAX);
    if (n == -ABI_ERANGE)
        n = -ABI_E2BIG;
    /* trusted.* names are not listed for the unprivileged. */
    size_t kept = 0;
    for (int64_t off = 0; n > 0 && off < n;) {
        size_t l = strnlen(all + off, (size_t)(n - off));
        bool bare;
        if (admin || ns_of(all + off, &bare) != NS_TRUSTED) {
            memmove(all + kept, all + off, l + 1 <= (size_t)(n - off) ? l + 1 : l);
            kept += l + 1;
        }
        off += (int64_t)l + 1;
    }
    int64_t r = n < 0 ? n : (int64_t)kept;
    if (r >= 0 && size) {
        if ((size_t)r > size)
            r = size >= ABI_XATTR_LIST_MAX ? -ABI_E2BIG : -ABI_ERANGE;
        else
            memcpy(buf, all, (size_t)r);
    }
    free(all);
    return r;
}
