/* The overlay through the VFS, with a read-only tmpfs as the lower layer
 * and a tmpfs as the upper one: lookups, merged listings, copy-up of every
 * kind of object, whiteouts, opaque directories, rename's rules, inode
 * numbers, statfs. Every test ends by checking that the lower tree is
 * exactly as it was and that the memory file is empty again. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/overlay.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/xattr.h"

static struct mm_memfile *mf;
static struct vfs_filesystem *lowerfs;
static struct vfs_mount *lowermnt, *mnt;
static struct vfs_walk_ctx ctx, lctx;
static struct vfs_path rootp, lrootp;
static char *lower_before;

#define BIG (1024 * 1024 + 4097)

static struct vfs_cred root_cred(void)
{
    return (struct vfs_cred){.cap_dac_override = true,
                             .cap_dac_read_search = true,
                             .cap_fowner = true,
                             .cap_chown = true,
                             .cap_fsetid = true};
}

static void put_file(const struct vfs_walk_ctx *c, const char *path, const char *data, size_t n)
{
    struct vfs_file *f;
    cr_assert_eq(vfs_open(c, c->root, path, ABI_O_CREAT | ABI_O_WRONLY | ABI_O_TRUNC, 0644, &f), 0,
                 "create %s", path);
    if (n)
        cr_assert_eq(f->ops->pwrite(f, data, n, 0), (int64_t)n);
    vfs_file_put(f);
}

static void set_attr(const struct vfs_walk_ctx *c, const char *path, uint32_t mask, uint32_t mode,
                     uint32_t uid)
{
    struct vfs_setattr a = {.mask = mask, .mode = mode, .uid = uid, .gid = uid};
    a.atime = (struct abi_timespec){.tv_sec = 1000000000, .tv_nsec = 5};
    a.mtime = (struct abi_timespec){.tv_sec = 1000000001, .tv_nsec = 7};
    cr_assert_eq(vfs_setattrat(c, c->root, path, ABI_AT_SYMLINK_NOFOLLOW, &a), 0, "setattr %s",
                 path);
}

/* A text description of the whole lower tree: names, types, modes,
 * owners, sizes, times, data and link targets. */
static void describe(const char *path, char **out, size_t *len, FILE *fp)
{
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&lctx, lrootp, path, ABI_AT_SYMLINK_NOFOLLOW, &st), 0);
    fprintf(fp, "%s %o %u %u %ld %ld.%ld %ld.%ld %lu\n", path, st.st_mode, st.st_uid, st.st_gid,
            (long)st.st_size, (long)st.st_mtime_sec, (long)st.st_mtime_nsec, (long)st.st_ctime_sec,
            (long)st.st_ctime_nsec, (unsigned long)st.st_nlink);
    if ((st.st_mode & ABI_S_IFMT) == ABI_S_IFLNK) {
        char t[256] = {0};
        cr_assert(vfs_readlinkat(&lctx, lrootp, path, t, sizeof(t) - 1) > 0);
        fprintf(fp, "-> %s\n", t);
    } else if ((st.st_mode & ABI_S_IFMT) == ABI_S_IFREG) {
        struct vfs_file *f;
        cr_assert_eq(vfs_open(&lctx, lrootp, path, ABI_O_RDONLY, 0, &f), 0);
        char *buf = malloc(BIG + 16);
        int64_t n = f->ops->pread(f, buf, BIG + 16, 0);
        cr_assert_eq(n, st.st_size);
        unsigned long h = 5381;
        for (int64_t i = 0; i < n; i++)
            h = h * 33 + (unsigned char)buf[i];
        fprintf(fp, "data %lx\n", h);
        struct vfs_path xp;
        cr_assert_eq(vfs_walk(&lctx, lrootp, path, 0, &xp), 0);
        char names[256] = {0};
        int64_t xn = vfs_listxattr(&lctx.cred, true, xp, names, sizeof(names));
        vfs_path_put(xp);
        cr_assert_geq(xn, 0);
        for (int64_t i = 0; i < xn; i++)
            fputc(names[i] ? names[i] : ',', fp);
        fputc('\n', fp);
        free(buf);
        vfs_file_put(f);
    } else if ((st.st_mode & ABI_S_IFMT) == ABI_S_IFDIR) {
        struct vfs_file *f;
        cr_assert_eq(vfs_open(&lctx, lrootp, path, ABI_O_RDONLY | ABI_O_DIRECTORY, 0, &f), 0);
        char buf[4096];
        int64_t n;
        char names[64][64];
        int nn = 0;
        while ((n = f->ops->getdents64(f, buf, sizeof(buf))) > 0) {
            for (int64_t off = 0; off < n;) {
                struct abi_linux_dirent64 *d = (struct abi_linux_dirent64 *)(buf + off);
                if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
                    cr_assert(nn < 64);
                    snprintf(names[nn++], 64, "%s", d->d_name);
                }
                off += d->d_reclen;
            }
        }
        vfs_file_put(f);
        for (int i = 0; i < nn; i++) {
            char sub[4096 + 64 + 2];
            snprintf(sub, sizeof(sub), "%s%s%s", path, strcmp(path, "/") ? "/" : "", names[i]);
            describe(sub, out, len, fp);
        }
    }
}

static char *lower_snapshot(void)
{
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    describe("/", &out, &len, fp);
    fclose(fp);
    return out;
}

static void setup(void)
{
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    cr_assert_eq(tmpfs_create(mf, &(struct tmpfs_opts){.root_mode = 0755}, &lowerfs), 0);
    cr_assert_eq(vfs_mount_new_root(lowerfs, 0, &lowermnt), 0);
    lrootp = (struct vfs_path){lowermnt, lowermnt->root};
    lctx = (struct vfs_walk_ctx){.root = lrootp, .cred = root_cred()};
    static const char *const dirs[] = {"/etc",  "/dir",    "/dir/sub", "/empty",
                                       "/deep", "/deep/a", "/deep/a/b"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        cr_assert_eq(vfs_mkdirat(&lctx, lrootp, dirs[i], 0755), 0);
    put_file(&lctx, "/etc/passwd", "root:x:0:0\n", 11);
    put_file(&lctx, "/etc/hosts", "127.0.0.1 localhost\n", 20);
    put_file(&lctx, "/dir/a", "A", 1);
    put_file(&lctx, "/dir/b", "B", 1);
    put_file(&lctx, "/dir/c", "C", 1);
    put_file(&lctx, "/dir/sub/x", "X", 1);
    put_file(&lctx, "/deep/a/b/f", "deep", 4);
    put_file(&lctx, "/hard1", "shared", 6);
    cr_assert_eq(vfs_linkat(&lctx, lrootp, "/hard1", lrootp, "/hard2", 0), 0);
    cr_assert_eq(vfs_symlinkat(&lctx, "etc/passwd", lrootp, "/link"), 0);
    cr_assert_eq(vfs_mknodat(&lctx, lrootp, "/fifo", ABI_S_IFIFO | 0640, 0), 0);
    char *big = calloc(1, BIG);
    for (int i = 0; i < 4096; i++)
        big[i] = (char)('a' + i % 26);
    memcpy(big + BIG - 5, "tail!", 5); /* the middle stays a hole */
    put_file(&lctx, "/big", big, BIG);
    free(big);
    set_attr(&lctx, "/etc/passwd",
             VFS_ATTR_MODE | VFS_ATTR_UID | VFS_ATTR_GID | VFS_ATTR_ATIME | VFS_ATTR_MTIME, 0640,
             7);
    set_attr(&lctx, "/link", VFS_ATTR_UID | VFS_ATTR_GID, 0, 3);
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        set_attr(&lctx, dirs[i], VFS_ATTR_ATIME | VFS_ATTR_MTIME, 0, 0);
    set_attr(&lctx, "/", VFS_ATTR_ATIME | VFS_ATTR_MTIME, 0, 0);
    struct vfs_path hp;
    cr_assert_eq(vfs_walk(&lctx, lrootp, "/etc/hosts", 0, &hp), 0);
    cr_assert_eq(vfs_setxattr(&lctx.cred, true, hp, "user.a", "one", 3, 0), 0);
    vfs_path_put(hp);
    lowerfs->flags |= VFS_FS_RDONLY; /* nothing may write it from now on */
    lower_before = lower_snapshot();

    struct vfs_filesystem *upper, *ov;
    cr_assert_eq(tmpfs_create(mf, NULL, &upper), 0);
    lowerfs->refs++; /* one for the overlay, which takes it over */
    cr_assert_eq(overlay_create(lowerfs, upper, &ov), 0);
    cr_assert_eq(vfs_mount_new_root(ov, 0, &mnt), 0);
    vfs_fs_put(ov);
    vfs_fs_put(lowerfs); /* the creator's: the mounts hold it now */
    rootp = (struct vfs_path){mnt, mnt->root};
    ctx = (struct vfs_walk_ctx){.root = rootp, .cred = root_cred()};
}

static void teardown(void)
{
    char *after = lower_snapshot();
    cr_assert_str_eq(after, lower_before, "the lower tree changed");
    free(after);
    free(lower_before);
    vfs_mount_tree_release(mnt);
    vfs_mount_tree_release(lowermnt);
    cr_assert_eq(mm_memfile_used(mf), 0, "memory file still holds %lu bytes",
                 (unsigned long)mm_memfile_used(mf));
    mm_memfile_destroy(mf);
}

TestSuite(overlay, .init = setup, .fini = teardown);

static struct vfs_file *open_ok(const char *path, uint32_t flags)
{
    struct vfs_file *f;
    int err = vfs_open(&ctx, rootp, path, flags, 0644, &f);
    cr_assert_eq(err, 0, "open %s: %d", path, err);
    return f;
}

static struct abi_stat stat_of(const char *path)
{
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, path, ABI_AT_SYMLINK_NOFOLLOW, &st), 0, "stat %s", path);
    return st;
}

static struct abi_stat lstat_of(const char *path)
{
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&lctx, lrootp, path, ABI_AT_SYMLINK_NOFOLLOW, &st), 0);
    return st;
}

static int stat_err(const char *path)
{
    struct abi_stat st;
    return vfs_statat(&ctx, rootp, path, ABI_AT_SYMLINK_NOFOLLOW, &st);
}

static void read_is(const char *path, const char *want)
{
    struct vfs_file *f = open_ok(path, ABI_O_RDONLY);
    char buf[256] = {0};
    int64_t n = f->ops->read(f, buf, sizeof(buf) - 1);
    cr_assert_eq(n, (int64_t)strlen(want), "%s: read %ld", path, (long)n);
    cr_assert_str_eq(buf, want);
    vfs_file_put(f);
}

static void write_file(const char *path, const char *data, uint32_t flags)
{
    struct vfs_file *f = open_ok(path, ABI_O_WRONLY | flags);
    cr_assert_eq(f->ops->write(f, data, strlen(data)), (int64_t)strlen(data));
    vfs_file_put(f);
}

/* The names a directory lists (without "." and ".."), sorted, joined by
 * spaces; every d_ino is checked against stat. */
static char *listing(const char *path)
{
    struct vfs_file *f = open_ok(path, ABI_O_RDONLY | ABI_O_DIRECTORY);
    char buf[4096];
    char *names[128];
    int nn = 0, dots = 0;
    int64_t n;
    while ((n = f->ops->getdents64(f, buf, sizeof(buf))) > 0) {
        for (int64_t off = 0; off < n;) {
            struct abi_linux_dirent64 *d = (struct abi_linux_dirent64 *)(buf + off);
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) {
                dots++;
            } else {
                char sub[256];
                snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
                struct abi_stat st = stat_of(sub);
                cr_assert_eq(d->d_ino, st.st_ino, "%s: d_ino %lu, st_ino %lu", sub,
                             (unsigned long)d->d_ino, (unsigned long)st.st_ino);
                cr_assert_eq(d->d_type, (st.st_mode & ABI_S_IFMT) >> 12, "%s: d_type", sub);
                names[nn++] = strdup(d->d_name);
            }
            off += d->d_reclen;
        }
    }
    cr_assert_eq(n, 0);
    cr_assert_eq(dots, 2, "%s: . and .. listed %d times", path, dots);
    vfs_file_put(f);
    for (int i = 0; i < nn; i++)
        for (int j = i + 1; j < nn; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    static char out[4096];
    out[0] = '\0';
    for (int i = 0; i < nn; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, names[i]);
        free(names[i]);
    }
    return out;
}

Test(overlay, reads_the_lower_tree_with_its_inode_numbers)
{
    read_is("/etc/passwd", "root:x:0:0\n");
    read_is("/link", "root:x:0:0\n");
    struct abi_stat st = stat_of("/etc/passwd"), lst = lstat_of("/etc/passwd");
    cr_assert_eq(st.st_ino, lst.st_ino);
    cr_assert_eq(st.st_mode, lst.st_mode);
    cr_assert_eq(st.st_uid, 7);
    cr_assert_eq(st.st_mtime_sec, 1000000001);
    cr_assert_neq(st.st_dev, lst.st_dev, "the overlay has a device of its own");
    cr_assert_eq(stat_err("/nope"), -ABI_ENOENT);
    cr_assert_str_eq(listing("/dir"), "a b c sub");
    struct vfs_statfs sf;
    cr_assert_eq(vfs_statfsat(&ctx, rootp, "/etc", &sf), 0);
    cr_assert_eq(sf.type, OVERLAYFS_SUPER_MAGIC);
    cr_assert_eq(sf.flags & 1, 0);
}

Test(overlay, write_copies_up_keeping_inode_and_attributes)
{
    struct abi_stat before = stat_of("/etc/passwd");
    struct abi_stat dir_before = stat_of("/etc");
    write_file("/etc/passwd", "user:x:1000\n", ABI_O_APPEND);
    read_is("/etc/passwd", "root:x:0:0\nuser:x:1000\n");
    struct abi_stat after = stat_of("/etc/passwd");
    cr_assert_eq(after.st_ino, before.st_ino, "copy-up keeps the inode number");
    cr_assert_eq(after.st_dev, before.st_dev);
    cr_assert_eq(after.st_mode, before.st_mode);
    cr_assert_eq(after.st_uid, 7);
    cr_assert_eq(after.st_size, 23);
    struct abi_stat dir_after = stat_of("/etc");
    cr_assert_eq(dir_after.st_ino, dir_before.st_ino);
    cr_assert_eq(dir_after.st_mtime_sec, dir_before.st_mtime_sec,
                 "a copy-up leaves its parent's times alone");
    cr_assert_eq(dir_after.st_mode, dir_before.st_mode);
    /* O_TRUNC and ftruncate-style setattr */
    write_file("/etc/hosts", "::1\n", ABI_O_TRUNC);
    read_is("/etc/hosts", "::1\n");
    cr_assert_str_eq(listing("/etc"), "hosts passwd");
}

Test(overlay, setattr_copies_up)
{
    struct abi_stat before = stat_of("/dir/a");
    struct vfs_setattr a = {.mask = VFS_ATTR_MODE, .mode = 0600};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/dir/a", 0, &a), 0);
    struct abi_stat after = stat_of("/dir/a");
    cr_assert_eq(after.st_mode, ABI_S_IFREG | 0600);
    cr_assert_eq(after.st_ino, before.st_ino);
    cr_assert_eq(after.st_mtime_sec, before.st_mtime_sec);
    read_is("/dir/a", "A");
    struct vfs_setattr t = {.mask = VFS_ATTR_SIZE, .size = 0};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/dir/b", 0, &t), 0);
    read_is("/dir/b", "");
    struct vfs_setattr own = {.mask = VFS_ATTR_UID | VFS_ATTR_GID, .uid = 5, .gid = 6};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/deep/a/b/f", 0, &own), 0);
    cr_assert_eq(stat_of("/deep/a/b/f").st_uid, 5);
    cr_assert_eq(stat_of("/deep/a").st_mtime_sec, 1000000001, "copied-up parents keep their times");
    read_is("/deep/a/b/f", "deep");
}

Test(overlay, symlink_and_fifo_copy_up)
{
    struct abi_stat before = stat_of("/link");
    struct vfs_setattr own = {.mask = VFS_ATTR_UID, .uid = 9};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/link", ABI_AT_SYMLINK_NOFOLLOW, &own), 0);
    struct abi_stat after = stat_of("/link");
    cr_assert_eq(after.st_uid, 9);
    cr_assert_eq(after.st_ino, before.st_ino);
    cr_assert_eq(after.st_mode, before.st_mode);
    char t[64] = {0};
    cr_assert_eq(vfs_readlinkat(&ctx, rootp, "/link", t, sizeof(t)), 10);
    cr_assert_str_eq(t, "etc/passwd");
    cr_assert_eq(stat_of("/etc/passwd").st_uid, 7, "the target was not copied up");
    struct vfs_setattr m = {.mask = VFS_ATTR_MODE, .mode = 0600};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/fifo", 0, &m), 0);
    cr_assert_eq(stat_of("/fifo").st_mode, ABI_S_IFIFO | 0600);
}

Test(overlay, big_file_copy_up_streams_data_and_holes)
{
    write_file("/big", "!", ABI_O_APPEND);
    struct vfs_file *f = open_ok("/big", ABI_O_RDONLY);
    char *buf = malloc(BIG + 16);
    cr_assert_eq(f->ops->pread(f, buf, BIG + 16, 0), BIG + 1);
    for (int i = 0; i < 4096; i++)
        cr_assert_eq(buf[i], (char)('a' + i % 26));
    for (int i = 4096; i < BIG - 5; i++)
        cr_assert_eq(buf[i], 0);
    cr_assert_eq(memcmp(buf + BIG - 5, "tail!!", 6), 0);
    free(buf);
    vfs_file_put(f);
    /* the hole stayed a hole: far less than the size was allocated */
    cr_assert_lt(stat_of("/big").st_blocks * 512, BIG / 2);
}

Test(overlay, read_only_open_before_copy_up_keeps_lower_data)
{
    struct vfs_file *ro = open_ok("/dir/c", ABI_O_RDONLY);
    write_file("/dir/c", "new", ABI_O_TRUNC);
    char buf[8] = {0};
    cr_assert_eq(ro->ops->pread(ro, buf, sizeof(buf), 0), 1);
    cr_assert_str_eq(buf, "C");
    vfs_file_put(ro);
    read_is("/dir/c", "new");
}

Test(overlay, open_file_dentry_stays_the_overlays)
{
    struct vfs_file *f = open_ok("/etc/hosts", ABI_O_RDONLY);
    cr_assert_eq(f->dentry->inode->fs, mnt->fs, "f->dentry is the overlay's");
    cr_assert_eq(f->mnt, mnt);
    cr_assert_neq(vfs_file_inode(f), f->dentry->inode, "I/O goes to the lower inode");
    cr_assert_eq(vfs_file_inode(f)->fs, lowerfs);
    vfs_file_put(f);
    struct vfs_file *w = open_ok("/etc/hosts", ABI_O_RDWR);
    cr_assert_neq(vfs_file_inode(w)->fs, lowerfs, "writes go to the upper inode");
    cr_assert_eq(w->ops->write(w, "x", 1), 1);
    vfs_file_put(w);
}

Test(overlay, create_mkdir_symlink_mknod_land_in_upper)
{
    write_file("/etc/new", "n", ABI_O_CREAT);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/etc/d", 0700), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "passwd", rootp, "/etc/s"), 0);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/etc/p", ABI_S_IFIFO | 0600, 0), 0);
    write_file("/etc/d/inner", "i", ABI_O_CREAT);
    read_is("/etc/new", "n");
    read_is("/etc/s", "root:x:0:0\n");
    read_is("/etc/d/inner", "i");
    cr_assert_str_eq(listing("/etc"), "d hosts new p passwd s");
    cr_assert_eq(stat_of("/etc/d").st_mode, ABI_S_IFDIR | 0700);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/etc/passwd", 0700), -ABI_EEXIST);
    cr_assert_neq(stat_of("/etc/new").st_ino, stat_of("/etc/passwd").st_ino);
}

Test(overlay, unlink_leaves_a_hidden_whiteout)
{
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/a"), 0);
    cr_assert_eq(stat_err("/dir/a"), -ABI_ENOENT);
    cr_assert_str_eq(listing("/dir"), "b c sub");
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/a"), -ABI_ENOENT);
    /* a copied-up file removed: the lower one stays hidden */
    write_file("/dir/b", "bb", ABI_O_TRUNC);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/b"), 0);
    cr_assert_eq(stat_err("/dir/b"), -ABI_ENOENT);
    cr_assert_str_eq(listing("/dir"), "c sub");
    /* created again over the whiteout: a new file */
    uint64_t old_ino = lstat_of("/dir/a").st_ino;
    write_file("/dir/a", "again", ABI_O_CREAT);
    read_is("/dir/a", "again");
    cr_assert_neq(stat_of("/dir/a").st_ino, old_ino);
    cr_assert_str_eq(listing("/dir"), "a c sub");
    /* an upper-only file leaves no whiteout behind */
    write_file("/dir/z", "z", ABI_O_CREAT);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/z"), 0);
    cr_assert_str_eq(listing("/dir"), "a c sub");
    /* a char device 0/0 the guest makes is not a whiteout */
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/dir/cdev", ABI_S_IFCHR | 0600, 0), 0);
    cr_assert_eq(stat_of("/dir/cdev").st_mode, ABI_S_IFCHR | 0600);
    cr_assert_str_eq(listing("/dir"), "a c cdev sub");
}

Test(overlay, rmdir_merged_needs_it_empty_and_mkdir_over_it_is_opaque)
{
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/dir/sub"), -ABI_ENOTEMPTY);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/sub/x"), 0);
    cr_assert_str_eq(listing("/dir/sub"), "");
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/dir/sub"), 0);
    cr_assert_eq(stat_err("/dir/sub"), -ABI_ENOENT);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/dir/sub", 0755), 0);
    cr_assert_str_eq(listing("/dir/sub"), "", "the old lower directory does not merge back");
    cr_assert_eq(stat_err("/dir/sub/x"), -ABI_ENOENT);
    /* a lower-only empty directory */
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/empty"), 0);
    cr_assert_eq(stat_err("/empty"), -ABI_ENOENT);
    /* a whole lower tree, the way rm -rf does it */
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/deep"), -ABI_ENOTEMPTY);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/deep/a/b/f"), 0);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/deep/a/b"), 0);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/deep/a"), 0);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/deep"), 0);
    cr_assert_str_eq(listing("/"), "big dir etc fifo hard1 hard2 link");
}

Test(overlay, getdents64_stable_while_removing)
{
    for (int i = 0; i < 40; i++) {
        char p[32];
        snprintf(p, sizeof(p), "/dir/n%02d", i);
        write_file(p, "x", ABI_O_CREAT);
    }
    struct vfs_file *f = open_ok("/dir", ABI_O_RDONLY | ABI_O_DIRECTORY);
    char buf[128]; /* a few entries per call */
    int seen[64] = {0}, lower_seen = 0, total = 0;
    int64_t n;
    while ((n = f->ops->getdents64(f, buf, sizeof(buf))) > 0) {
        for (int64_t off = 0; off < n;) {
            struct abi_linux_dirent64 *d = (struct abi_linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
                continue;
            total++;
            char p[64];
            snprintf(p, sizeof(p), "/dir/%s", d->d_name);
            int i;
            if (sscanf(d->d_name, "n%d", &i) == 1)
                seen[i]++;
            else
                lower_seen++;
            if (d->d_type == ABI_DT_DIR)
                continue;
            cr_assert_eq(vfs_unlinkat(&ctx, rootp, p), 0, "unlink %s", p);
        }
    }
    cr_assert_eq(n, 0);
    vfs_file_put(f);
    for (int i = 0; i < 40; i++)
        cr_assert_eq(seen[i], 1, "n%02d seen %d times", i, seen[i]);
    cr_assert_eq(lower_seen, 4, "a b c sub");
    cr_assert_eq(total, 44);
    cr_assert_str_eq(listing("/dir"), "sub");
}

Test(overlay, rename_files_and_upper_dirs)
{
    uint64_t ino = stat_of("/dir/a").st_ino;
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir/a", rootp, "/etc/a2", 0), 0);
    read_is("/etc/a2", "A");
    cr_assert_eq(stat_of("/etc/a2").st_ino, ino);
    cr_assert_eq(stat_err("/dir/a"), -ABI_ENOENT);
    cr_assert_str_eq(listing("/dir"), "b c sub");
    /* over a lower file */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/etc/a2", rootp, "/dir/b", 0), 0);
    read_is("/dir/b", "A");
    cr_assert_str_eq(listing("/dir"), "b c sub");
    cr_assert_str_eq(listing("/etc"), "hosts passwd");
    /* back onto its whiteout */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir/b", rootp, "/dir/a", 0), 0);
    cr_assert_str_eq(listing("/dir"), "a c sub");
    /* lower and merged directories: EXDEV, as overlayfs without redirect_dir */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir/sub", rootp, "/dir/sub2", 0), -ABI_EXDEV);
    write_file("/empty/f", "f", ABI_O_CREAT);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/empty", rootp, "/e2", 0), -ABI_EXDEV);
    /* an upper-only directory moves with its contents */
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/up", 0755), 0);
    write_file("/up/f", "u", ABI_O_CREAT);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/up", rootp, "/etc/up", 0), 0);
    read_is("/etc/up/f", "u");
    cr_assert_eq(stat_err("/up"), -ABI_ENOENT);
    /* onto an empty lower directory: it must not merge with it */
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/sub/x"), 0);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/etc/up", rootp, "/dir/sub", 0), 0);
    cr_assert_str_eq(listing("/dir/sub"), "f");
    cr_assert_eq(stat_err("/dir/sub/x"), -ABI_ENOENT);
    /* onto a non-empty one */
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/up2", 0755), 0);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/up2", rootp, "/deep/a", 0), -ABI_ENOTEMPTY);
}

Test(overlay, rename_noreplace_and_exchange)
{
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir/a", rootp, "/dir/b", ABI_RENAME_NOREPLACE),
                 -ABI_EEXIST);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir/a", rootp, "/dir/q", ABI_RENAME_NOREPLACE), 0);
    cr_assert_str_eq(listing("/dir"), "b c q sub");
    uint64_t bino = stat_of("/dir/b").st_ino, cino = stat_of("/dir/c").st_ino;
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir/b", rootp, "/dir/c", ABI_RENAME_EXCHANGE), 0);
    read_is("/dir/b", "C");
    read_is("/dir/c", "B");
    cr_assert_eq(stat_of("/dir/b").st_ino, cino);
    cr_assert_eq(stat_of("/dir/c").st_ino, bino);
    cr_assert_str_eq(listing("/dir"), "b c q sub");
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir/sub", rootp, "/dir/b", ABI_RENAME_EXCHANGE),
                 -ABI_EXDEV);
}

Test(overlay, links_copy_up_and_break_lower_hard_links)
{
    cr_assert_eq(stat_of("/hard1").st_nlink, 2);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/etc/hosts", rootp, "/dir/hostlink", 0), 0);
    cr_assert_eq(stat_of("/etc/hosts").st_nlink, 2);
    cr_assert_eq(stat_of("/dir/hostlink").st_ino, stat_of("/etc/hosts").st_ino);
    write_file("/dir/hostlink", "changed", ABI_O_TRUNC);
    read_is("/etc/hosts", "changed");
    /* the lower file's two names part at copy-up (no index=on) */
    write_file("/hard1", "mine", ABI_O_TRUNC);
    read_is("/hard1", "mine");
    read_is("/hard2", "shared");
}

Test(overlay, removed_names_stay_gone_for_fresh_lookups)
{
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/etc/hosts"), 0);
    /* forget every cached dentry: lookups start again from the layers */
    vfs_dentry_prune(mnt->root);
    cr_assert_eq(stat_err("/etc/hosts"), -ABI_ENOENT);
    write_file("/etc/passwd", "p", ABI_O_TRUNC);
    uint64_t ino = stat_of("/etc/passwd").st_ino;
    vfs_dentry_prune(mnt->root);
    cr_assert_eq(stat_of("/etc/passwd").st_ino, ino);
    cr_assert_eq(stat_of("/etc/passwd").st_ino, lstat_of("/etc/passwd").st_ino);
    read_is("/etc/passwd", "p");
}

static int64_t xattr_get(const struct vfs_walk_ctx *c, const char *path, const char *name,
                         char *buf, size_t n)
{
    struct vfs_path p;
    cr_assert_eq(vfs_walk(c, c->root, path, 0, &p), 0);
    int64_t r = vfs_getxattr(&c->cred, true, p, name, buf, n);
    vfs_path_put(p);
    return r;
}

Test(overlay, xattrs_read_from_lower_and_copied_up)
{
    char buf[16] = {0};
    cr_assert_eq(xattr_get(&ctx, "/etc/hosts", "user.a", buf, sizeof(buf)), 3);
    cr_assert_str_eq(buf, "one");
    struct vfs_path p;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/etc/hosts", 0, &p), 0);
    cr_assert_eq(vfs_removexattr(&ctx.cred, true, p, "user.none"), -ABI_ENODATA);
    cr_assert_eq(vfs_setxattr(&ctx.cred, true, p, "user.b", "two", 3, 0), 0);
    vfs_path_put(p);
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(xattr_get(&ctx, "/etc/hosts", "user.a", buf, sizeof(buf)), 3,
                 "copy-up kept the lower xattr");
    cr_assert_str_eq(buf, "one");
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(xattr_get(&ctx, "/etc/hosts", "user.b", buf, sizeof(buf)), 3);
    cr_assert_str_eq(buf, "two");
    cr_assert_eq(xattr_get(&lctx, "/etc/hosts", "user.b", buf, sizeof(buf)), -ABI_ENODATA,
                 "the lower file has no new xattr");
    read_is("/etc/hosts", "127.0.0.1 localhost\n");
}
