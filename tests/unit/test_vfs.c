/* The VFS core over tmpfs: path walk (".", "..", mounts, symlinks, trailing
 * slashes, openat2 scoping, length limits, permissions), name operations'
 * errno rules across mounts, read-only mounts, and detaching mounts.
 * Expected errnos are the ones Linux 6.x returns for the same operations.
 * Every test ends by checking the memory file is empty again. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

static struct mm_memfile *mf;
static struct vfs_mount *rootmnt, *submnt;
static struct vfs_walk_ctx ctx;
static struct vfs_path rootp;

static struct vfs_cred root_cred(void)
{
    return (struct vfs_cred){.cap_dac_override = true,
                             .cap_dac_read_search = true,
                             .cap_fowner = true,
                             .cap_chown = true,
                             .cap_fsetid = true};
}

static struct vfs_path walk_ok(const char *path, int flags)
{
    struct vfs_path p;
    int err = vfs_walk(&ctx, rootp, path, flags, &p);
    cr_assert_eq(err, 0, "walk %s: %d", path, err);
    return p;
}

static int walk_err(const struct vfs_walk_ctx *c, struct vfs_path start, const char *path,
                    int flags)
{
    struct vfs_path p;
    int err = vfs_walk(c, start, path, flags, &p);
    if (!err)
        vfs_path_put(p);
    return err;
}

static int werr(const char *path, int flags)
{
    return walk_err(&ctx, rootp, path, flags);
}

static uint64_t ino_of(const char *path, int flags)
{
    struct vfs_path p = walk_ok(path, flags);
    uint64_t ino = p.dentry->inode->ino;
    vfs_path_put(p);
    return ino;
}

static void write_file(const char *path, const char *data)
{
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, path, ABI_O_CREAT | ABI_O_WRONLY | ABI_O_TRUNC, 0644, &f),
                 0);
    cr_assert_eq(f->ops->write(f, data, strlen(data)), (int64_t)strlen(data));
    vfs_file_put(f);
}

static struct vfs_mount *mount_tmpfs(const char *at, uint32_t mflags, bool rdonly)
{
    struct vfs_filesystem *fs;
    struct tmpfs_opts o = {.rdonly = rdonly, .root_mode = 0755};
    cr_assert_eq(tmpfs_create(mf, &o, &fs), 0);
    struct vfs_path p = walk_ok(at, 0);
    struct vfs_mount *m;
    cr_assert_eq(vfs_mount_at(p, fs, mflags, &m), 0);
    vfs_path_put(p);
    vfs_fs_put(fs);
    return m;
}

/* / (tmpfs): a/b/c, a/f ("data"), mnt (a second tmpfs: sub/, g), symlinks. */
static void setup(void)
{
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    struct vfs_filesystem *fs;
    struct tmpfs_opts o = {.root_mode = 0755};
    cr_assert_eq(tmpfs_create(mf, &o, &fs), 0);
    cr_assert_eq(vfs_mount_new_root(fs, 0, &rootmnt), 0);
    vfs_fs_put(fs);
    rootp = (struct vfs_path){rootmnt, rootmnt->root};
    ctx = (struct vfs_walk_ctx){.root = rootp, .cred = root_cred()};
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/a", 0755), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/a/b", 0755), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/a/b/c", 0755), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/mnt", 0755), 0);
    write_file("/a/f", "data");
    submnt = mount_tmpfs("/mnt", 0, false);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/mnt/sub", 0755), 0);
    write_file("/mnt/g", "gee");
    cr_assert_eq(vfs_symlinkat(&ctx, "b", rootp, "/a/rel"), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "/a/b", rootp, "/abs"), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "/mnt/sub", rootp, "/a/tomnt"), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "../..", rootp, "/mnt/sub/up2"), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "/nope", rootp, "/dangling"), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "loop2", rootp, "/loop1"), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "loop1", rootp, "/loop2"), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "f", rootp, "/a/tof"), 0);
}

static void teardown(void)
{
    vfs_mount_tree_release(rootmnt);
    cr_assert_eq(mm_memfile_used(mf), 0, "memory file still holds %lu bytes",
                 (unsigned long)mm_memfile_used(mf));
    mm_memfile_destroy(mf);
}

TestSuite(vfs, .init = setup, .fini = teardown);

Test(vfs, dot_and_dotdot)
{
    uint64_t root = ino_of("/", 0);
    cr_assert_eq(ino_of("/..", 0), root);
    cr_assert_eq(ino_of("/../../..", 0), root);
    cr_assert_eq(ino_of("/a/b/../..", 0), root);
    cr_assert_eq(ino_of("/a/./b/./c/..", 0), ino_of("/a/b", 0));
    cr_assert_eq(ino_of(".", 0), root);
    cr_assert_eq(ino_of("a//b///c", 0), ino_of("/a/b/c", 0));
    /* ".." in a non-directory's place is still a lookup in a file. */
    cr_assert_eq(werr("/a/f/..", 0), -ABI_ENOTDIR);
    cr_assert_eq(werr("/a/f/.", 0), -ABI_ENOTDIR);
    cr_assert_eq(werr("/a/nope/..", 0), -ABI_ENOENT);
}

Test(vfs, mount_crossing_both_ways)
{
    struct vfs_path p = walk_ok("/mnt", 0);
    cr_assert_eq(p.mnt, submnt);
    cr_assert_eq(p.dentry, submnt->root);
    vfs_path_put(p);
    p = walk_ok("/mnt/..", 0);
    cr_assert_eq(p.mnt, rootmnt);
    cr_assert_eq(p.dentry, rootmnt->root);
    vfs_path_put(p);
    p = walk_ok("/mnt/sub/../../a", 0);
    cr_assert_eq(p.mnt, rootmnt);
    cr_assert_eq(p.dentry->inode->ino, ino_of("/a", 0));
    vfs_path_put(p);
    /* The mounted tree hides the directory underneath, and ".." from its
     * root comes back out to the covered directory's parent. */
    cr_assert_eq(werr("/mnt/g", 0), 0);
    struct vfs_path m = walk_ok("/mnt", 0);
    p = (struct vfs_path){0};
    cr_assert_eq(vfs_walk(&ctx, m, "..", 0, &p), 0);
    cr_assert_eq(p.dentry, rootmnt->root);
    vfs_path_put(p);
    vfs_path_put(m);
}

Test(vfs, dotdot_stops_at_task_root)
{
    struct vfs_path a = walk_ok("/a", 0);
    struct vfs_walk_ctx jail = {.root = a, .cred = root_cred()};
    struct vfs_path p;
    cr_assert_eq(vfs_walk(&jail, a, "../../..", 0, &p), 0);
    cr_assert_eq(p.dentry, a.dentry);
    vfs_path_put(p);
    /* Absolute paths and absolute symlinks restart at the task's root. */
    cr_assert_eq(vfs_walk(&jail, rootp, "/b/c", 0, &p), 0);
    cr_assert_eq(p.dentry->inode->ino, ino_of("/a/b/c", 0));
    vfs_path_put(p);
    cr_assert_eq(vfs_symlinkat(&ctx, "/b", rootp, "/a/jumpb"), 0);
    cr_assert_eq(vfs_walk(&jail, a, "jumpb/c", 0, &p), 0);
    cr_assert_eq(p.dentry->inode->ino, ino_of("/a/b/c", 0));
    vfs_path_put(p);
    cr_assert_eq(walk_err(&jail, a, "/mnt", 0), -ABI_ENOENT);
    vfs_path_put(a);
}

Test(vfs, symlinks)
{
    uint64_t ab = ino_of("/a/b", 0);
    cr_assert_eq(ino_of("/a/rel", 0), ab);
    cr_assert_eq(ino_of("/a/rel/c/..", 0), ab);
    cr_assert_eq(ino_of("/abs", 0), ab);
    cr_assert_eq(ino_of("/abs/c", 0), ino_of("/a/b/c", 0));
    /* Through a mount, and a relative link climbing back out of it. */
    struct vfs_path p = walk_ok("/a/tomnt", 0);
    cr_assert_eq(p.mnt, submnt);
    vfs_path_put(p);
    p = walk_ok("/mnt/sub/up2/a", 0);
    cr_assert_eq(p.mnt, rootmnt);
    cr_assert_eq(p.dentry->inode->ino, ino_of("/a", 0));
    vfs_path_put(p);
    cr_assert_eq(werr("/dangling", 0), -ABI_ENOENT);
    cr_assert_eq(werr("/dangling", VFS_WALK_NOFOLLOW), 0);
    cr_assert_eq(werr("/loop1", 0), -ABI_ELOOP);
    cr_assert_eq(werr("/loop1/x", 0), -ABI_ELOOP);
    cr_assert_eq(werr("/loop1", VFS_WALK_NOFOLLOW), 0);
    /* A link to a file used as a directory. */
    cr_assert_eq(werr("/a/tof/x", 0), -ABI_ENOTDIR);
}

Test(vfs, symlink_budget_is_40)
{
    cr_assert_eq(vfs_symlinkat(&ctx, "/a/b", rootp, "/l0"), 0);
    char name[16], target[16];
    for (int i = 1; i <= 40; i++) {
        snprintf(name, sizeof(name), "/l%d", i);
        snprintf(target, sizeof(target), "l%d", i - 1);
        cr_assert_eq(vfs_symlinkat(&ctx, target, rootp, name), 0);
    }
    /* /l39 takes 40 link traversals, /l40 takes 41. */
    cr_assert_eq(ino_of("/l39", 0), ino_of("/a/b", 0));
    cr_assert_eq(werr("/l39/c", 0), 0);
    cr_assert_eq(werr("/l40", 0), -ABI_ELOOP);
    cr_assert_eq(werr("/l40", VFS_WALK_NOFOLLOW), 0);
}

Test(vfs, nofollow_and_trailing_slash)
{
    struct vfs_path p = walk_ok("/abs", VFS_WALK_NOFOLLOW);
    cr_assert(vfs_is_symlink(p.dentry->inode));
    vfs_path_put(p);
    /* A trailing slash follows the final link even with NOFOLLOW. */
    cr_assert_eq(ino_of("/abs/", VFS_WALK_NOFOLLOW), ino_of("/a/b", 0));
    cr_assert_eq(werr("/a/f/", 0), -ABI_ENOTDIR);
    cr_assert_eq(werr("/a/b/", 0), 0);
    cr_assert_eq(werr("/a/b//", 0), 0);
    cr_assert_eq(werr("/a/f", VFS_WALK_DIRECTORY), -ABI_ENOTDIR);
    cr_assert_eq(werr("/a/tof", VFS_WALK_DIRECTORY), -ABI_ENOTDIR);
    cr_assert_eq(werr("/abs", VFS_WALK_DIRECTORY), 0);

    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/abs", ABI_O_RDONLY | ABI_O_NOFOLLOW, 0, &f), -ABI_ELOOP);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/f", ABI_O_RDONLY | ABI_O_DIRECTORY, 0, &f),
                 -ABI_ENOTDIR);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/f/", ABI_O_RDONLY, 0, &f), -ABI_ENOTDIR);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/new/", ABI_O_RDWR | ABI_O_CREAT, 0644, &f), -ABI_EISDIR);
    cr_assert_eq(vfs_open(&ctx, rootp, "/abs", ABI_O_PATH | ABI_O_NOFOLLOW, 0, &f), 0);
    cr_assert(vfs_is_symlink(f->dentry->inode));
    char c;
    cr_assert_eq(f->ops->read(f, &c, 1), -ABI_EBADF);
    vfs_file_put(f);
    /* Following a link to a file opens the file. */
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/tof", ABI_O_RDONLY, 0, &f), 0);
    char buf[8] = {0};
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), 4);
    cr_assert_str_eq(buf, "data");
    vfs_file_put(f);
}

Test(vfs, resolve_beneath_and_in_root)
{
    struct vfs_path a = walk_ok("/a", 0);
    struct vfs_path p;
    cr_assert_eq(walk_err(&ctx, a, "b/c", VFS_RESOLVE_BENEATH), 0);
    cr_assert_eq(walk_err(&ctx, a, "b/..", VFS_RESOLVE_BENEATH), 0);
    cr_assert_eq(walk_err(&ctx, a, "rel/c", VFS_RESOLVE_BENEATH), 0);
    cr_assert_eq(walk_err(&ctx, a, "..", VFS_RESOLVE_BENEATH), -ABI_EXDEV);
    cr_assert_eq(walk_err(&ctx, a, "b/../../a", VFS_RESOLVE_BENEATH), -ABI_EXDEV);
    cr_assert_eq(walk_err(&ctx, a, "/a/b", VFS_RESOLVE_BENEATH), -ABI_EXDEV);
    cr_assert_eq(walk_err(&ctx, a, "tomnt", VFS_RESOLVE_BENEATH), -ABI_EXDEV);

    /* IN_ROOT: start is the root for "/", "..", and absolute links. */
    cr_assert_eq(vfs_walk(&ctx, a, "../../b", VFS_RESOLVE_IN_ROOT, &p), 0);
    cr_assert_eq(p.dentry->inode->ino, ino_of("/a/b", 0));
    vfs_path_put(p);
    cr_assert_eq(vfs_walk(&ctx, a, "/b/c", VFS_RESOLVE_IN_ROOT, &p), 0);
    cr_assert_eq(p.dentry->inode->ino, ino_of("/a/b/c", 0));
    vfs_path_put(p);
    cr_assert_eq(vfs_symlinkat(&ctx, "/b", rootp, "/a/jb"), 0);
    cr_assert_eq(vfs_walk(&ctx, a, "jb", VFS_RESOLVE_IN_ROOT, &p), 0);
    cr_assert_eq(p.dentry->inode->ino, ino_of("/a/b", 0));
    vfs_path_put(p);
    cr_assert_eq(walk_err(&ctx, a, "tomnt", VFS_RESOLVE_IN_ROOT), -ABI_ENOENT);

    struct vfs_file *f;
    cr_assert_eq(vfs_open2(&ctx, a, "../a/f", ABI_O_RDONLY, 0, VFS_RESOLVE_BENEATH, &f),
                 -ABI_EXDEV);
    cr_assert_eq(vfs_open2(&ctx, a, "f", ABI_O_RDONLY, 0, 0x40000, &f), -ABI_EINVAL);
    vfs_path_put(a);
}

Test(vfs, resolve_no_symlinks_xdev_magiclinks)
{
    cr_assert_eq(werr("/abs", VFS_RESOLVE_NO_SYMLINKS), -ABI_ELOOP);
    cr_assert_eq(werr("/a/rel/c", VFS_RESOLVE_NO_SYMLINKS), -ABI_ELOOP);
    /* A final link not followed is not a traversal. */
    cr_assert_eq(werr("/abs", VFS_RESOLVE_NO_SYMLINKS | VFS_WALK_NOFOLLOW), 0);
    cr_assert_eq(werr("/a/b/c", VFS_RESOLVE_NO_SYMLINKS), 0);

    cr_assert_eq(werr("/mnt", VFS_RESOLVE_NO_XDEV), -ABI_EXDEV);
    cr_assert_eq(werr("/a/tomnt", VFS_RESOLVE_NO_XDEV), -ABI_EXDEV);
    cr_assert_eq(werr("/a/b", VFS_RESOLVE_NO_XDEV), 0);
    struct vfs_path m = walk_ok("/mnt/sub", 0);
    cr_assert_eq(walk_err(&ctx, m, "..", VFS_RESOLVE_NO_XDEV), 0);
    cr_assert_eq(walk_err(&ctx, m, "../..", VFS_RESOLVE_NO_XDEV), -ABI_EXDEV);
    cr_assert_eq(walk_err(&ctx, m, "/a", VFS_RESOLVE_NO_XDEV), -ABI_EXDEV);
    vfs_path_put(m);

    struct vfs_path l = walk_ok("/abs", VFS_WALK_NOFOLLOW);
    l.dentry->inode->flags |= VFS_INODE_MAGICLINK;
    cr_assert_eq(werr("/abs", VFS_RESOLVE_NO_MAGICLINKS), -ABI_ELOOP);
    cr_assert_eq(werr("/abs", 0), 0);
    l.dentry->inode->flags &= ~(uint32_t)VFS_INODE_MAGICLINK;
    cr_assert_eq(werr("/abs", VFS_RESOLVE_NO_MAGICLINKS), 0);
    vfs_path_put(l);
}

Test(vfs, length_limits)
{
    char name[300];
    memset(name, 'n', sizeof(name));
    name[0] = '/';
    name[256] = '\0'; /* a 255-byte name */
    cr_assert_eq(werr(name, 0), -ABI_ENOENT);
    name[256] = 'n';
    name[257] = '\0'; /* 256 bytes */
    cr_assert_eq(werr(name, 0), -ABI_ENAMETOOLONG);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, name, 0755), -ABI_ENAMETOOLONG);

    static char path[VFS_PATH_MAX + 8];
    path[0] = '/';
    for (int i = 1; i < VFS_PATH_MAX - 1; i += 2) {
        path[i] = '.';
        path[i + 1] = '/';
    }
    path[VFS_PATH_MAX - 1] = '\0'; /* 4095 bytes: fits */
    cr_assert_eq(werr(path, 0), 0);
    path[VFS_PATH_MAX - 1] = '.';
    path[VFS_PATH_MAX] = '\0'; /* 4096 bytes: one too many */
    cr_assert_eq(werr(path, 0), -ABI_ENAMETOOLONG);
    cr_assert_eq(werr("", 0), -ABI_ENOENT);
    cr_assert_eq(werr("/a/f/x", 0), -ABI_ENOTDIR);
    cr_assert_eq(vfs_symlinkat(&ctx, "", rootp, "/emptylink"), -ABI_ENOENT);
}

Test(vfs, permissions_for_unprivileged_caller)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/priv", 0700), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/priv/in", 0755), 0);
    write_file("/secret", "s");
    struct vfs_setattr mode600 = {.mask = VFS_ATTR_MODE, .mode = 0600};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/secret", 0, &mode600), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/tmp", 01777), 0);

    struct vfs_walk_ctx user = {.root = rootp, .cred = {.uid = 1000, .gid = 1000}};
    cr_assert_eq(walk_err(&user, rootp, "/priv/in", 0), -ABI_EACCES);
    cr_assert_eq(walk_err(&user, rootp, "/priv", 0), 0);
    cr_assert_eq(walk_err(&user, rootp, "/a/b/c", 0), 0);
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&user, rootp, "/secret", ABI_O_RDONLY, 0, &f), -ABI_EACCES);
    cr_assert_eq(vfs_open(&user, rootp, "/a/f", ABI_O_WRONLY, 0, &f), -ABI_EACCES);
    cr_assert_eq(vfs_open(&user, rootp, "/a/f", ABI_O_RDONLY, 0, &f), 0);
    vfs_file_put(f);
    cr_assert_eq(vfs_open(&user, rootp, "/a/new", ABI_O_RDWR | ABI_O_CREAT, 0644, &f), -ABI_EACCES);
    cr_assert_eq(vfs_mkdirat(&user, rootp, "/a/d", 0755), -ABI_EACCES);
    cr_assert_eq(vfs_unlinkat(&user, rootp, "/a/f"), -ABI_EACCES);
    cr_assert_eq(vfs_setattrat(&user, rootp, "/a/f", 0, &mode600), -ABI_EPERM);

    /* Sticky /tmp: creating is fine, removing someone else's file is not. */
    cr_assert_eq(vfs_open(&user, rootp, "/tmp/mine", ABI_O_RDWR | ABI_O_CREAT, 0600, &f), 0);
    cr_assert_eq(f->dentry->inode->uid, 1000);
    vfs_file_put(f);
    struct vfs_walk_ctx other = {.root = rootp, .cred = {.uid = 1001, .gid = 1001}};
    cr_assert_eq(vfs_unlinkat(&other, rootp, "/tmp/mine"), -ABI_EPERM);
    cr_assert_eq(vfs_unlinkat(&user, rootp, "/tmp/mine"), 0);

    /* Supplementary groups count, and CAP_DAC_READ_SEARCH searches anything. */
    struct vfs_setattr grp = {.mask = VFS_ATTR_GID | VFS_ATTR_MODE, .gid = 50, .mode = 0750};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/priv", 0, &grp), 0);
    uint32_t groups[] = {7, 50};
    struct vfs_walk_ctx member = {
        .root = rootp, .cred = {.uid = 1000, .gid = 1000, .groups = groups, .ngroups = 2}};
    cr_assert_eq(walk_err(&member, rootp, "/priv/in", 0), 0);
    struct vfs_walk_ctx searcher = {
        .root = rootp, .cred = {.uid = 1000, .gid = 1000, .cap_dac_read_search = true}};
    cr_assert_eq(walk_err(&searcher, rootp, "/priv/in", 0), 0);

    /* Root may execute only what someone may execute. */
    struct vfs_path p = walk_ok("/a/f", 0);
    struct vfs_cred rc = root_cred();
    cr_assert_eq(vfs_permission(&rc, p.dentry->inode, VFS_MAY_EXEC), -ABI_EACCES);
    cr_assert_eq(vfs_permission(&rc, p.dentry->inode, VFS_MAY_READ | VFS_MAY_WRITE), 0);
    vfs_path_put(p);
}

Test(vfs, mount_points_and_cross_mount_errors)
{
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/mnt"), -ABI_EBUSY);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/mnt", rootp, "/mnt2", 0), -ABI_EBUSY);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/a/f", rootp, "/mnt/f", 0), -ABI_EXDEV);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/mnt/g", rootp, "/a/g", 0), -ABI_EXDEV);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/a/f", rootp, "/mnt/f", 0), -ABI_EXDEV);
    /* The mount's root has no name in its own filesystem. */
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/mnt/."), -ABI_EINVAL);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/"), -ABI_EBUSY);
}

Test(vfs, read_only_mount)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/ro", 0755), 0);
    struct vfs_mount *ro = mount_tmpfs("/ro", VFS_MNT_RDONLY, false);
    (void)ro;
    struct vfs_file *f;
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/ro/d", 0755), -ABI_EROFS);
    cr_assert_eq(vfs_open(&ctx, rootp, "/ro/x", ABI_O_CREAT | ABI_O_WRONLY, 0644, &f), -ABI_EROFS);
    cr_assert_eq(vfs_open(&ctx, rootp, "/ro", ABI_O_RDONLY | ABI_O_DIRECTORY, 0, &f), 0);
    vfs_file_put(f);
    cr_assert_eq(vfs_open(&ctx, rootp, "/ro/.", ABI_O_RDONLY, 0, &f), 0);
    vfs_file_put(f);
    /* An existing name wins over EROFS for mkdir, EROFS wins for unlink. */
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/ro/.", 0755), -ABI_EEXIST);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/ro/nothing"), -ABI_EROFS);
    cr_assert_eq(vfs_symlinkat(&ctx, "x", rootp, "/ro/l"), -ABI_EROFS);

    /* A read-only filesystem (not just the mount) says so in statfs too. */
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/rofs", 0755), 0);
    mount_tmpfs("/rofs", 0, true);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/rofs/fifo", ABI_S_IFIFO | 0644, 0), -ABI_EROFS);
    struct vfs_statfs sf;
    cr_assert_eq(vfs_statfsat(&ctx, rootp, "/rofs", &sf), 0);
    cr_assert_eq(sf.flags & 1, 1);
    cr_assert_eq(vfs_statfsat(&ctx, rootp, "/ro", &sf), 0);
    cr_assert_eq(sf.flags & 1, 1);
    cr_assert_eq(sf.type, TMPFS_MAGIC);
}

Test(vfs, detach_keeps_open_files_working)
{
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/mnt/g", ABI_O_RDONLY, 0, &f), 0);
    cr_assert_eq(vfs_mount_detach(rootmnt), -ABI_EBUSY);
    cr_assert_eq(vfs_mount_detach(submnt), 0);
    /* The covered directory is visible again, empty. */
    cr_assert_eq(werr("/mnt/g", 0), -ABI_ENOENT);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/mnt"), 0);
    char buf[4] = {0};
    cr_assert_eq(f->ops->read(f, buf, 3), 3);
    cr_assert_str_eq(buf, "gee");
    vfs_file_put(f);
}

Test(vfs, open_create_excl_trunc)
{
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/f", ABI_O_CREAT | ABI_O_EXCL | ABI_O_WRONLY, 0644, &f),
                 -ABI_EEXIST);
    cr_assert_eq(vfs_open(&ctx, rootp, "/abs", ABI_O_CREAT | ABI_O_EXCL | ABI_O_RDWR, 0644, &f),
                 -ABI_EEXIST);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/b", ABI_O_CREAT | ABI_O_RDONLY, 0644, &f), -ABI_EISDIR);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/b", ABI_O_WRONLY, 0, &f), -ABI_EISDIR);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/nope/x", ABI_O_CREAT | ABI_O_RDWR, 0644, &f),
                 -ABI_ENOENT);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/f", ABI_O_RDWR | ABI_O_TRUNC, 0, &f), 0);
    cr_assert_eq(f->dentry->inode->size, 0);
    cr_assert_eq(f->flags & ABI_O_TRUNC, 0);
    vfs_file_put(f);
    /* Through a link that exists: O_CREAT opens the target. */
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/tof", ABI_O_CREAT | ABI_O_RDWR, 0644, &f), 0);
    cr_assert_eq(f->dentry->inode->ino, ino_of("/a/f", 0));
    vfs_file_put(f);
    /* Through a dangling link: the target is created, relative to the
     * link's directory or, for an absolute link, to the task's root. */
    cr_assert_eq(vfs_symlinkat(&ctx, "made", rootp, "/a/dl"), 0);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/dl", ABI_O_CREAT | ABI_O_RDWR, 0600, &f), 0);
    cr_assert_eq(f->dentry->inode->ino, ino_of("/a/made", 0));
    cr_assert_eq(f->dentry->inode->mode, ABI_S_IFREG | 0600);
    vfs_file_put(f);
    cr_assert_eq(vfs_symlinkat(&ctx, "/a/b/made2", rootp, "/dl2"), 0);
    cr_assert_eq(vfs_open(&ctx, rootp, "/dl2", ABI_O_CREAT | ABI_O_WRONLY, 0644, &f), 0);
    vfs_file_put(f);
    cr_assert_eq(werr("/a/b/made2", 0), 0);
    cr_assert_eq(vfs_open(&ctx, rootp, "/loop1", ABI_O_CREAT | ABI_O_WRONLY, 0644, &f), -ABI_ELOOP);
    cr_assert_eq(
        vfs_open(&ctx, rootp, "/dangling", ABI_O_CREAT | ABI_O_EXCL | ABI_O_WRONLY, 0644, &f),
        -ABI_EEXIST);
    cr_assert_eq(werr("/nope", 0), -ABI_ENOENT);
    struct vfs_path a = walk_ok("/a", 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "/escaped", rootp, "/a/esc"), 0);
    cr_assert_eq(
        vfs_open2(&ctx, a, "esc", ABI_O_CREAT | ABI_O_WRONLY, 0644, VFS_RESOLVE_BENEATH, &f),
        -ABI_EXDEV);
    cr_assert_eq(werr("/escaped", 0), -ABI_ENOENT);
    vfs_path_put(a);
    cr_assert_eq(
        vfs_open(&ctx, rootp, "/a/tof", ABI_O_CREAT | ABI_O_RDWR | ABI_O_NOFOLLOW, 0644, &f),
        -ABI_ELOOP);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/f", ABI_O_TMPFILE | ABI_O_RDWR, 0644, &f), -ABI_ENOTDIR);
    cr_assert_eq(vfs_open(&ctx, rootp, "/a", ABI_O_TMPFILE | ABI_O_RDONLY, 0644, &f), -ABI_EINVAL);
    /* O_TMPFILE: an unnamed file that linkat can name, unless O_EXCL. */
    cr_assert_eq(vfs_open(&ctx, rootp, "/a", ABI_O_TMPFILE | ABI_O_RDWR, 0600, &f), 0);
    struct vfs_inode *ti = f->dentry->inode;
    cr_assert(vfs_is_reg(ti) && ti->nlink == 0 && (ti->mode & 07777) == 0600);
    cr_assert(f->dentry->detached);
    cr_assert_eq(f->ops->write(f, "tmp", 3), 3);
    vfs_file_put(f);
}

Test(vfs, fd_table_holds_vfs_files)
{
    struct vfs_fdtable *t;
    cr_assert_eq(vfs_fdtable_create(&t), 0);
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/f", ABI_O_RDONLY, 0, &f), 0);
    cr_assert_eq(vfs_fd_install(t, 0, f, false, 1024), 0);
    cr_assert_eq(vfs_fd_install(t, 0, f, true, 1024), 1);
    vfs_file_put(f);
    /* Both fds share one offset. */
    char c;
    struct vfs_file *f0 = vfs_fd_lookup(t, 0), *f1 = vfs_fd_lookup(t, 1);
    cr_assert_eq(f0->ops->read(f0, &c, 1), 1);
    cr_assert_eq(f1->ops->read(f1, &c, 1), 1);
    cr_assert_eq(c, 'a');
    /* Unlinked while open: still readable through the fds. */
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/a/f"), 0);
    cr_assert_eq(f0->ops->pread(f0, &c, 1, 3), 1);
    cr_assert_eq(c, 'a');
    vfs_fdtable_destroy(t);
}

Test(vfs, fd_table_cloexec_lowest_free_close_range)
{
    struct vfs_fdtable *t;
    cr_assert_eq(vfs_fdtable_create(&t), 0);
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/f", ABI_O_RDONLY, 0, &f), 0);
    cr_assert_eq(vfs_fd_lowest_free(t, 0, 1024), 0);
    for (int fd = 0; fd < 5; fd++)
        cr_assert_eq(vfs_fd_install(t, 0, f, fd == 2, 1024), fd);
    cr_assert_eq(vfs_fd_install_at(t, 40, f, false), 40);
    cr_assert_eq(vfs_fd_lowest_free(t, 0, 1024), 5);
    cr_assert_eq(vfs_fd_lowest_free(t, 40, 1024), 41);
    /* Nothing free below the limit. */
    cr_assert_eq(vfs_fd_lowest_free(t, 0, 5), -ABI_EMFILE);
    cr_assert_eq(vfs_fd_install(t, 0, f, false, 5), -ABI_EMFILE);
    cr_assert_eq(vfs_fd_lowest_free(t, -1, 5), -ABI_EINVAL);
    cr_assert_eq(vfs_fd_get_cloexec(t, 2), 1);
    cr_assert_eq(vfs_fd_get_cloexec(t, 1), 0);
    cr_assert_eq(vfs_fd_get_cloexec(t, 7), -ABI_EBADF);
    cr_assert_eq(vfs_fd_set_cloexec(t, 1, true), 0);
    cr_assert_eq(vfs_fd_get_cloexec(t, 1), 1);
    cr_assert_eq(vfs_fd_set_cloexec(t, 7, true), -ABI_EBADF);
    /* CLOEXEC only marks; a plain range closes, past the table's end too. */
    vfs_fd_close_range(t, 3, 4, true);
    cr_assert_eq(vfs_fd_get_cloexec(t, 3), 1);
    cr_assert_eq(vfs_fd_get_cloexec(t, 4), 1);
    cr_assert_not_null(vfs_fd_lookup(t, 4));
    vfs_fd_close_range(t, 1, 3, false);
    cr_assert_null(vfs_fd_lookup(t, 1));
    cr_assert_null(vfs_fd_lookup(t, 3));
    cr_assert_not_null(vfs_fd_lookup(t, 0));
    cr_assert_not_null(vfs_fd_lookup(t, 4));
    vfs_fd_close_range(t, 4, ~0u, false);
    cr_assert_null(vfs_fd_lookup(t, 4));
    cr_assert_null(vfs_fd_lookup(t, 40));
    cr_assert_eq(vfs_fd_lowest_free(t, 0, 1024), 1);
    /* The file outlives its fds only through our own reference. */
    cr_assert_eq(f->refs, 2);
    vfs_file_put(f);
    vfs_fdtable_destroy(t);
}

static const char *pstr(const struct vfs_walk_ctx *c, struct vfs_path p, bool *reach)
{
    static char buf[256];
    int64_t n = vfs_path_string(c, p, buf, sizeof(buf), reach);
    cr_assert_geq(n, 0);
    cr_assert_eq((size_t)n, strlen(buf));
    return buf;
}

Test(vfs, path_to_string)
{
    bool reach = false;
    struct vfs_path p = walk_ok("/a/rel/c/", 0);
    cr_assert_str_eq(pstr(&ctx, p, &reach), "/a/b/c");
    cr_assert(reach);
    char small[6];
    cr_assert_eq(vfs_path_string(&ctx, p, small, sizeof(small), NULL), -ABI_ERANGE);
    char exact[7];
    cr_assert_eq(vfs_path_string(&ctx, p, exact, sizeof(exact), NULL), 6);
    vfs_path_put(p);
    cr_assert_str_eq(pstr(&ctx, rootp, &reach), "/");
    p = walk_ok("/mnt/sub", 0);
    cr_assert_str_eq(pstr(&ctx, p, &reach), "/mnt/sub");
    struct vfs_path m = walk_ok("/mnt", 0);
    cr_assert_str_eq(pstr(&ctx, m, &reach), "/mnt");
    vfs_path_put(m);

    /* Seen from a task rooted at /a: its own view, or unreachable. */
    struct vfs_path a = walk_ok("/a", 0);
    struct vfs_walk_ctx jail = {.root = a, .cred = root_cred()};
    reach = true;
    pstr(&jail, p, &reach);
    cr_assert_not(reach);
    vfs_path_put(p);
    p = walk_ok("/a/b", 0);
    cr_assert_str_eq(pstr(&jail, p, &reach), "/b");
    cr_assert(reach);
    cr_assert_str_eq(pstr(&jail, a, &reach), "/");
    vfs_path_put(p);
    vfs_path_put(a);

    /* Renames are followed; removed files say so. */
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/a/f", ABI_O_RDONLY, 0, &f), 0);
    struct vfs_path fp = {f->mnt, f->dentry};
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/a/f", rootp, "/a/b/g", 0), 0);
    cr_assert_str_eq(pstr(&ctx, fp, &reach), "/a/b/g");
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/a/b/g"), 0);
    cr_assert_str_eq(pstr(&ctx, fp, &reach), "/a/b/g (deleted)");
    vfs_file_put(f);
}

Test(vfs, utimes_now_needs_only_write_permission)
{
    write_file("/tmpf", "x");
    struct vfs_setattr mode = {.mask = VFS_ATTR_MODE, .mode = 0666};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/tmpf", 0, &mode), 0);
    struct vfs_walk_ctx user = {.root = rootp, .cred = {.uid = 1000, .gid = 1000}};
    struct vfs_setattr t = {
        .mask = VFS_ATTR_ATIME | VFS_ATTR_MTIME, .atime = {1, 0}, .mtime = {1, 0}};
    cr_assert_eq(vfs_setattrat(&user, rootp, "/tmpf", 0, &t), -ABI_EPERM);
    vfs_now(&t.atime);
    t.mtime = t.atime;
    t.mask |= VFS_ATTR_TIMES_NOW;
    cr_assert_eq(vfs_setattrat(&user, rootp, "/tmpf", 0, &t), 0);
    mode.mode = 0644;
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/tmpf", 0, &mode), 0);
    cr_assert_eq(vfs_setattrat(&user, rootp, "/tmpf", 0, &t), -ABI_EACCES);
    struct vfs_setattr own = {.mask = VFS_ATTR_UID, .uid = 1000};
    cr_assert_eq(vfs_setattrat(&user, rootp, "/tmpf", 0, &own), -ABI_EPERM);
    struct vfs_setattr trunc = {.mask = VFS_ATTR_SIZE, .size = 0};
    cr_assert_eq(vfs_setattrat(&user, rootp, "/tmpf", 0, &trunc), -ABI_EACCES);
}

Test(vfs, read_only_bind_mount)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/ro", 0755), 0);
    struct vfs_path at = walk_ok("/ro", 0), src = walk_ok("/a", 0);
    struct vfs_mount *b;
    cr_assert_eq(vfs_mount_bind(at, src, VFS_MNT_RDONLY, &b), 0);
    vfs_path_put(at);
    vfs_path_put(src);
    /* The same inodes, through a mount that refuses writes. */
    cr_assert_eq(ino_of("/ro/f", 0), ino_of("/a/f", 0));
    cr_assert_eq(ino_of("/ro/b/../..", 0), ino_of("/", 0));
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/ro/f", ABI_O_WRONLY, 0, &f), -ABI_EROFS);
    cr_assert_eq(vfs_open(&ctx, rootp, "/ro/f", ABI_O_RDONLY | ABI_O_TRUNC, 0, &f), -ABI_EROFS);
    cr_assert_eq(vfs_open(&ctx, rootp, "/ro/f", ABI_O_RDONLY, 0, &f), 0);
    cr_assert_eq(f->mnt, b);
    vfs_file_put(f);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/ro/f"), -ABI_EROFS);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/ro/f", rootp, "/ro/g", 0), -ABI_EROFS);
    /* Same filesystem, different mounts: still EXDEV. */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/ro/f", rootp, "/a/g", 0), -ABI_EXDEV);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/ro/f", rootp, "/a/g", 0), -ABI_EXDEV);
    struct vfs_setattr t = {.mask = VFS_ATTR_MODE, .mode = 0600};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/ro/f", 0, &t), -ABI_EROFS);
    /* Writes through the other mount show through the bind. */
    write_file("/a/new", "fresh");
    cr_assert_eq(vfs_open(&ctx, rootp, "/ro/new", ABI_O_RDONLY, 0, &f), 0);
    char buf[8] = {0};
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), 5);
    vfs_file_put(f);
    bool reach;
    struct vfs_path p = walk_ok("/ro/b/c", 0);
    cr_assert_str_eq(pstr(&ctx, p, &reach), "/ro/b/c");
    vfs_path_put(p);
    /* A directory cannot be bound on a file. */
    at = walk_ok("/a/f", 0);
    src = walk_ok("/a/b", 0);
    cr_assert_eq(vfs_mount_bind(at, src, 0, NULL), -ABI_ENOTDIR);
    vfs_path_put(at);
    vfs_path_put(src);
}

Test(vfs, chown_and_chmod_drop_set_id_bits)
{
    write_file("/suid", "x");
    struct vfs_setattr m = {.mask = VFS_ATTR_MODE, .mode = 06755};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/suid", 0, &m), 0);
    struct vfs_setattr own = {.mask = VFS_ATTR_UID | VFS_ATTR_GID, .uid = 1000, .gid = 1000};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/suid", 0, &own), 0);
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, "/suid", 0, &st), 0);
    cr_assert_eq(st.st_mode, ABI_S_IFREG | 0755);
    cr_assert_eq(st.st_uid, 1000);
    /* setgid without group execute is a locking mark and stays. */
    m.mode = 02644;
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/suid", 0, &m), 0);
    own.uid = 1001;
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/suid", 0, &own), 0);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/suid", 0, &st), 0);
    cr_assert_eq(st.st_mode, ABI_S_IFREG | 02644);
    /* The owner outside the file's group cannot set setgid. */
    struct vfs_setattr g = {.mask = VFS_ATTR_GID, .gid = 50};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/suid", 0, &g), 0);
    struct vfs_walk_ctx user = {.root = rootp, .cred = {.uid = 1001, .gid = 1001}};
    m.mode = 02755;
    cr_assert_eq(vfs_setattrat(&user, rootp, "/suid", 0, &m), 0);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/suid", 0, &st), 0);
    cr_assert_eq(st.st_mode, ABI_S_IFREG | 0755);
}

/* Pruning the dentry cache (the Gofer's node table is full) must not
 * recurse once per level: a guest can nest directories far deeper than
 * the Sentry's stack. Pruning drops unused dentries only; the files stay. */
Test(vfs, prune_deep_tree)
{
    enum { DEPTH = 300000 };
    struct vfs_path cur = walk_ok("/a", 0);
    for (int i = 0; i < DEPTH; i++) {
        cr_assert_eq(vfs_mkdirat(&ctx, cur, "d", 0755), 0, "mkdir at depth %d", i);
        struct vfs_path next;
        cr_assert_eq(vfs_walk(&ctx, cur, "d", 0, &next), 0);
        vfs_path_put(cur);
        cur = next;
    }
    vfs_path_put(cur);
    vfs_mount_tree_prune(rootmnt);
    cr_assert_null(vfs_dentry_cached(rootmnt->root, "a"), "the unused dentries went");
    struct vfs_path p = walk_ok("/a/d/d/d", 0);
    vfs_path_put(p);
    cr_assert_eq(ino_of("/a/f", 0) != 0, true, "files outlive their dentries");
}
