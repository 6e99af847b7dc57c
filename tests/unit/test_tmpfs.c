/* tmpfs through the VFS: file data with holes and truncation in the memory
 * file, directories and nlink, rename's rules, links, getdents64 while
 * entries go away, attributes and timestamps, symlinks, special nodes,
 * space limits. Expected errnos are Linux 6.x's. Every test ends by checking
 * the memory file is empty again. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/vfs.h"

#define PG 4096

static struct mm_memfile *mf;
static struct vfs_mount *rootmnt;
static struct vfs_walk_ctx ctx;
static struct vfs_path rootp;

static void setup(void)
{
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    struct vfs_filesystem *fs;
    cr_assert_eq(tmpfs_create(mf, NULL, &fs), 0);
    cr_assert_eq(vfs_mount_new_root(fs, 0, &rootmnt), 0);
    vfs_fs_put(fs);
    rootp = (struct vfs_path){rootmnt, rootmnt->root};
    ctx = (struct vfs_walk_ctx){.root = rootp,
                                .cred = {.cap_dac_override = true,
                                         .cap_dac_read_search = true,
                                         .cap_fowner = true,
                                         .cap_chown = true,
                                         .cap_fsetid = true}};
}

static void teardown(void)
{
    vfs_mount_tree_release(rootmnt);
    cr_assert_eq(mm_memfile_used(mf), 0, "memory file still holds %lu bytes",
                 (unsigned long)mm_memfile_used(mf));
    mm_memfile_destroy(mf);
}

TestSuite(tmpfs, .init = setup, .fini = teardown);

static struct vfs_file *open_ok(const char *path, uint32_t flags)
{
    struct vfs_file *f;
    int err = vfs_open(&ctx, rootp, path, flags, 0644, &f);
    cr_assert_eq(err, 0, "open %s: %d", path, err);
    return f;
}

static void make_file(const char *path, const char *data)
{
    struct vfs_file *f = open_ok(path, ABI_O_CREAT | ABI_O_WRONLY | ABI_O_TRUNC);
    cr_assert_eq(f->ops->write(f, data, strlen(data)), (int64_t)strlen(data));
    vfs_file_put(f);
}

static struct abi_stat stat_of(const char *path)
{
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, path, ABI_AT_SYMLINK_NOFOLLOW, &st), 0, "stat %s", path);
    return st;
}

static int64_t stat_err(const char *path)
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

Test(tmpfs, read_write_holes_truncate)
{
    struct vfs_file *f = open_ok("/f", ABI_O_CREAT | ABI_O_RDWR);
    cr_assert(f->positional);
    cr_assert_eq(f->ops->write(f, "hello", 5), 5);
    cr_assert_eq(f->pos, 5);
    char buf[16] = {0};
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), 0);
    cr_assert_eq(f->ops->lseek(f, 1, ABI_SEEK_SET), 1);
    cr_assert_eq(f->ops->read(f, buf, 3), 3);
    cr_assert_eq(memcmp(buf, "ell", 3), 0);
    cr_assert_eq(f->ops->pread(f, buf, 16, 3), 2);
    cr_assert_eq(memcmp(buf, "lo", 2), 0);
    cr_assert_eq(f->ops->lseek(f, -1, ABI_SEEK_SET), -ABI_EINVAL);
    cr_assert_eq(f->ops->lseek(f, 0, 7), -ABI_EINVAL);
    cr_assert_eq(f->ops->pread(f, buf, 1, -1), -ABI_EINVAL);

    /* A write 1 MiB in leaves a hole that reads as zeros and costs nothing. */
    cr_assert_eq(f->ops->pwrite(f, "end", 3, 1 << 20), 3);
    struct abi_stat st;
    cr_assert_eq(f->ops->stat(f, &st), 0);
    cr_assert_eq(st.st_size, (1 << 20) + 3);
    cr_assert_eq(st.st_blocks, 2 * (PG / 512));
    cr_assert_eq(mm_memfile_used(mf), 2 * PG);
    static char big[3 * PG];
    memset(big, 0x55, sizeof(big));
    cr_assert_eq(f->ops->pread(f, big, sizeof(big), 4090), (int64_t)sizeof(big));
    for (size_t i = 0; i < sizeof(big); i++)
        cr_assert_eq(big[i], 0, "byte %zu", i);
    cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_END), (1 << 20) + 3);
    cr_assert_eq(f->ops->lseek(f, 10, ABI_SEEK_DATA), 10);
    cr_assert_eq(f->ops->lseek(f, PG, ABI_SEEK_DATA), 1 << 20);
    cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_HOLE), PG);
    cr_assert_eq(f->ops->lseek(f, 1 << 20, ABI_SEEK_HOLE), (1 << 20) + 3);
    cr_assert_eq(f->ops->lseek(f, (1 << 20) + 3, ABI_SEEK_DATA), -ABI_ENXIO);

    /* Truncate gives pages back and the cut tail reads as zeros later. */
    struct vfs_setattr t = {.mask = VFS_ATTR_SIZE, .size = 3};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/f", 0, &t), 0);
    cr_assert_eq(mm_memfile_used(mf), PG);
    t.size = 10;
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/f", 0, &t), 0);
    memset(buf, 0x55, sizeof(buf));
    cr_assert_eq(f->ops->pread(f, buf, sizeof(buf), 0), 10);
    cr_assert_eq(memcmp(buf, "hel\0\0\0\0\0\0\0", 10), 0);
    t.size = -1;
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/f", 0, &t), -ABI_EINVAL);

    /* O_APPEND: writes and even pwrite land at the end. */
    struct vfs_file *a = open_ok("/f", ABI_O_WRONLY | ABI_O_APPEND);
    cr_assert_eq(a->ops->write(a, "AB", 2), 2);
    cr_assert_eq(a->ops->pwrite(a, "C", 1, 0), 1);
    cr_assert_eq(f->ops->pread(f, buf, sizeof(buf), 0), 13);
    cr_assert_eq(memcmp(buf + 10, "ABC", 3), 0);
    vfs_file_put(a);

    /* Unlinked while open: data stays until the last close. */
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/f"), 0);
    cr_assert_eq(stat_err("/f"), -ABI_ENOENT);
    cr_assert_eq(f->ops->pread(f, buf, 3, 0), 3);
    cr_assert_eq(f->ops->stat(f, &st), 0);
    cr_assert_eq(st.st_nlink, 0);
    cr_assert_eq(mm_memfile_used(mf), PG);
    vfs_file_put(f);
    cr_assert_eq(mm_memfile_used(mf), 0);
}

Test(tmpfs, large_write_crosses_pages)
{
    static char data[5 * PG + 123], back[sizeof(data)];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 7 + 1);
    struct vfs_file *f = open_ok("/big", ABI_O_CREAT | ABI_O_RDWR);
    cr_assert_eq(f->ops->pwrite(f, data, sizeof(data), 100), (int64_t)sizeof(data));
    cr_assert_eq(f->ops->pread(f, back, sizeof(back), 100), (int64_t)sizeof(back));
    cr_assert_eq(memcmp(data, back, sizeof(data)), 0);
    vfs_file_put(f);
    f = open_ok("/big", ABI_O_RDWR | ABI_O_TRUNC);
    cr_assert_eq(f->dentry->inode->size, 0);
    cr_assert_eq(mm_memfile_used(mf), 0);
    vfs_file_put(f);
}

Test(tmpfs, space_limit_gives_short_write_then_enospc)
{
    struct vfs_filesystem *fs;
    struct tmpfs_opts o = {.max_bytes = 2 * PG, .max_inodes = 3};
    cr_assert_eq(tmpfs_create(mf, &o, &fs), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/small", 0755), 0);
    struct vfs_path at;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/small", 0, &at), 0);
    cr_assert_eq(vfs_mount_at(at, fs, 0, NULL), 0);
    vfs_path_put(at);
    vfs_fs_put(fs);
    static char buf[3 * PG];
    struct vfs_file *f = open_ok("/small/x", ABI_O_CREAT | ABI_O_RDWR);
    cr_assert_eq(f->ops->write(f, buf, sizeof(buf)), 2 * PG);
    cr_assert_eq(f->ops->write(f, buf, 1), -ABI_ENOSPC);
    struct vfs_statfs sf;
    cr_assert_eq(vfs_statfsat(&ctx, rootp, "/small", &sf), 0);
    cr_assert_eq(sf.type, TMPFS_MAGIC);
    cr_assert_eq(sf.type, 0x01021994);
    cr_assert_eq(sf.blocks, 2);
    cr_assert_eq(sf.bfree, 0);
    cr_assert_eq(sf.files, 3);
    cr_assert_eq(sf.ffree, 1); /* root and x */
    cr_assert_eq(sf.namelen, 255);
    vfs_file_put(f);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/small/d", 0755), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/small/e", 0755), -ABI_ENOSPC);
}

Test(tmpfs, mkdir_rmdir_and_nlink)
{
    cr_assert_eq(stat_of("/").st_nlink, 2);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d", 0750), 0);
    struct abi_stat st = stat_of("/d");
    cr_assert_eq(st.st_mode, ABI_S_IFDIR | 0750);
    cr_assert_eq(st.st_nlink, 2);
    cr_assert_eq(st.st_size, 40); /* what ls -ld shows for an empty tmpfs dir */
    cr_assert_eq(stat_of("/").st_nlink, 3);
    cr_assert_eq(stat_of("/").st_size, 60);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d", 0755), -ABI_EEXIST);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d/", 0755), -ABI_EEXIST);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/e/", 0755), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d/sub", 0755), 0);
    cr_assert_eq(stat_of("/d").st_nlink, 3);
    make_file("/d/file", "x");
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d"), -ABI_ENOTEMPTY);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d/file"), -ABI_ENOTDIR);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/d/sub"), -ABI_EISDIR);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/d/file/"), -ABI_ENOTDIR);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/d/.."), -ABI_EISDIR);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d/sub/."), -ABI_EINVAL);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d/sub/.."), -ABI_ENOTEMPTY);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d/nope"), -ABI_ENOENT);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d/nope/x", 0755), -ABI_ENOENT);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d/file/x", 0755), -ABI_ENOTDIR);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/d/file"), 0);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d/sub/"), 0);
    cr_assert_eq(stat_of("/d").st_nlink, 2);
    /* An open directory survives rmdir and then lists nothing. */
    struct vfs_file *f = open_ok("/d", ABI_O_RDONLY | ABI_O_DIRECTORY);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d"), 0);
    cr_assert_eq(stat_of("/").st_nlink, 3);
    char buf[256];
    cr_assert_eq(f->ops->getdents64(f, buf, sizeof(buf)), 0);
    cr_assert_eq(f->ops->stat(f, &st), 0);
    cr_assert_eq(st.st_nlink, 0);
    struct vfs_file *g;
    cr_assert_eq(vfs_open(&ctx, f->dentry == NULL ? rootp : (struct vfs_path){f->mnt, f->dentry},
                          "x", ABI_O_CREAT | ABI_O_RDWR, 0644, &g),
                 -ABI_ENOENT);
    vfs_file_put(f);
}

Test(tmpfs, rename_rules)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d1", 0755), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d2", 0755), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/full", 0755), 0);
    make_file("/full/x", "x");
    make_file("/f1", "one");
    make_file("/f2", "two");
    uint64_t d1 = stat_of("/d1").st_ino;

    /* Directory over an empty directory: fine, over a non-empty one: not. */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/d1", rootp, "/d2", 0), 0);
    cr_assert_eq(stat_of("/d2").st_ino, d1);
    cr_assert_eq(stat_err("/d1"), -ABI_ENOENT);
    cr_assert_eq(stat_of("/").st_nlink, 4); /* ., .., d2, full */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/d2", rootp, "/full", 0), -ABI_ENOTEMPTY);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1", rootp, "/d2", 0), -ABI_EISDIR);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/d2", rootp, "/f1", 0), -ABI_ENOTDIR);
    /* Into its own subtree, or onto an ancestor. */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/full", rootp, "/full/x2", 0), -ABI_EINVAL);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/full/in", 0755), 0);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/full", rootp, "/full/in/deeper", 0), -ABI_EINVAL);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/full/in", rootp, "/full", 0), -ABI_ENOTEMPTY);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/full/x", rootp, "/full/x/y", 0), -ABI_ENOTDIR);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1/", rootp, "/f3", 0), -ABI_ENOTDIR);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1", rootp, "/f3/", 0), -ABI_ENOTDIR);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/nope", rootp, "/f3", 0), -ABI_ENOENT);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/full/.", rootp, "/f3", 0), -ABI_EBUSY);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1", rootp, "/", 0), -ABI_EBUSY);

    /* NOREPLACE and EXCHANGE. */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1", rootp, "/f2", ABI_RENAME_NOREPLACE), -ABI_EEXIST);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1", rootp, "/f3", ABI_RENAME_EXCHANGE), -ABI_ENOENT);
    cr_assert_eq(
        vfs_renameat(&ctx, rootp, "/f1", rootp, "/f2", ABI_RENAME_EXCHANGE | ABI_RENAME_NOREPLACE),
        -ABI_EINVAL);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1", rootp, "/f2", 8), -ABI_EINVAL);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1", rootp, "/f2", ABI_RENAME_EXCHANGE), 0);
    read_is("/f1", "two");
    read_is("/f2", "one");
    /* Exchanging a file and a directory in different parents moves "..". */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f1", rootp, "/full/in", ABI_RENAME_EXCHANGE), 0);
    cr_assert(stat_of("/f1").st_mode & ABI_S_IFDIR);
    read_is("/full/in", "two");
    cr_assert_eq(stat_of("/full").st_nlink, 2);
    cr_assert_eq(stat_of("/").st_nlink, 5);

    /* Plain moves, across directories, replacing a file; same file is a no-op. */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/f2", rootp, "/d2/moved", ABI_RENAME_NOREPLACE), 0);
    read_is("/d2/moved", "one");
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/d2/moved", rootp, "/full/x", 0), 0);
    read_is("/full/x", "one");
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/full/x", rootp, "/hard", 0), 0);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/hard", rootp, "/full/x", 0), 0);
    cr_assert_eq(stat_of("/hard").st_nlink, 2);
    /* A moved directory's cached children follow it. */
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/full", rootp, "/d2/full2", 0), 0);
    read_is("/d2/full2/x", "one");
    cr_assert_eq(stat_err("/full/x"), -ABI_ENOENT);
}

Test(tmpfs, link_unlink_nlink)
{
    make_file("/f", "abc");
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/f", rootp, "/g", 0), 0);
    cr_assert_eq(stat_of("/f").st_nlink, 2);
    cr_assert_eq(stat_of("/g").st_ino, stat_of("/f").st_ino);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/f", rootp, "/g", 0), -ABI_EEXIST);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d", 0755), 0);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/d", rootp, "/d2", 0), -ABI_EPERM);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/nope", rootp, "/x", 0), -ABI_ENOENT);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/f", rootp, "/x/", 0), -ABI_ENOENT);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/f", rootp, "/x", 0x1000), -ABI_EINVAL);
    /* Links to a symlink: the link itself, or its target with FOLLOW. */
    cr_assert_eq(vfs_symlinkat(&ctx, "f", rootp, "/l"), 0);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/l", rootp, "/l2", 0), 0);
    cr_assert(stat_of("/l2").st_mode & ABI_S_IFLNK);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/l", rootp, "/f3", ABI_AT_SYMLINK_FOLLOW), 0);
    cr_assert_eq(stat_of("/f").st_nlink, 3);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/f"), 0);
    cr_assert_eq(stat_of("/g").st_nlink, 2);
    read_is("/g", "abc");
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/g"), 0);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/f3"), 0);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/f3"), -ABI_ENOENT);
    cr_assert_eq(mm_memfile_used(mf), 0);
}

struct seen {
    int count[64];
    int dot, dotdot;
    int other;
};

static void parse(char *buf, int64_t n, struct seen *s, struct vfs_inode *dir)
{
    int64_t off = 0;
    while (off < n) {
        struct abi_linux_dirent64 *d = (struct abi_linux_dirent64 *)(buf + off);
        cr_assert_eq(d->d_reclen % 8, 0);
        cr_assert(d->d_reclen >= ABI_DIRENT64_NAME_OFFSET + strlen(d->d_name) + 1);
        int i;
        if (strcmp(d->d_name, ".") == 0) {
            s->dot++;
            cr_assert_eq(d->d_ino, dir->ino);
            cr_assert_eq(d->d_type, ABI_DT_DIR);
        } else if (strcmp(d->d_name, "..") == 0) {
            s->dotdot++;
        } else if (sscanf(d->d_name, "e%d", &i) == 1 && i >= 0 && i < 64) {
            s->count[i]++;
            cr_assert_eq(d->d_type, i == 7 ? ABI_DT_LNK : ABI_DT_REG);
        } else {
            s->other++;
        }
        off += d->d_reclen;
    }
}

Test(tmpfs, getdents64_stable_while_removing)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d", 0755), 0);
    char name[32];
    for (int i = 0; i < 64; i++) {
        snprintf(name, sizeof(name), "/d/e%d", i);
        if (i == 7)
            cr_assert_eq(vfs_symlinkat(&ctx, "x", rootp, name), 0);
        else
            make_file(name, "");
    }
    struct vfs_file *f = open_ok("/d", ABI_O_RDONLY | ABI_O_DIRECTORY);
    struct seen s = {0};
    /* Small buffers: several calls, each resuming at the returned cookie. */
    char buf[128];
    cr_assert_eq(f->ops->getdents64(f, buf, 10), -ABI_EINVAL);
    int64_t n = f->ops->getdents64(f, buf, sizeof(buf));
    cr_assert_gt(n, 0);
    parse(buf, n, &s, f->dentry->inode);
    cr_assert_eq(s.dot, 1);
    cr_assert_eq(s.dotdot, 1);
    int first = 0;
    for (int i = 0; i < 64; i++)
        first += s.count[i];
    cr_assert_gt(first, 0);
    cr_assert_lt(first, 32);
    /* Remove every even entry (some already listed, most not) and add one. */
    for (int i = 0; i < 64; i += 2) {
        snprintf(name, sizeof(name), "/d/e%d", i);
        cr_assert_eq(vfs_unlinkat(&ctx, rootp, name), 0);
    }
    make_file("/d/late", "");
    while ((n = f->ops->getdents64(f, buf, sizeof(buf))) > 0)
        parse(buf, n, &s, f->dentry->inode);
    cr_assert_eq(n, 0);
    for (int i = 0; i < 64; i++) {
        if (i < first)
            cr_assert_eq(s.count[i], 1, "e%d listed before removal", i);
        else
            cr_assert_eq(s.count[i], i % 2 ? 1 : 0, "e%d", i);
    }
    cr_assert_eq(s.other, 1, "entries created during iteration appear once");
    cr_assert_eq(s.dot, 1);
    /* Rewinding lists the current contents. */
    cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_SET), 0);
    struct seen again = {0};
    while ((n = f->ops->getdents64(f, buf, sizeof(buf))) > 0)
        parse(buf, n, &again, f->dentry->inode);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(again.count[i], i % 2);
    cr_assert_eq(f->ops->read(f, buf, 1), -ABI_EISDIR);
    vfs_file_put(f);
    struct vfs_file *r = open_ok("/d/e1", ABI_O_RDONLY);
    cr_assert_null(r->ops->getdents64);
    vfs_file_put(r);
}

static int64_t ts_ns(uint64_t s, uint64_t ns)
{
    return (int64_t)(s * 1000000000ULL + ns);
}

Test(tmpfs, stat_fields_and_timestamps)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d", 0755), 0);
    struct vfs_setattr old = {
        .mask = VFS_ATTR_ATIME | VFS_ATTR_MTIME, .atime = {100, 5}, .mtime = {200, 6}};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/d", 0, &old), 0);
    struct abi_stat st = stat_of("/d");
    cr_assert_eq(st.st_atime_sec, 100);
    cr_assert_eq(st.st_atime_nsec, 5);
    cr_assert_eq(st.st_mtime_sec, 200);
    cr_assert_gt(st.st_ctime_sec, 200);
    /* Creating in a directory updates its mtime and ctime. */
    make_file("/d/f", "12345");
    st = stat_of("/d");
    cr_assert_gt(st.st_mtime_sec, 200);
    st = stat_of("/d/f");
    cr_assert_eq(st.st_mode, ABI_S_IFREG | 0644);
    cr_assert_eq(st.st_size, 5);
    cr_assert_eq(st.st_nlink, 1);
    cr_assert_eq(st.st_uid, 0);
    cr_assert_eq(st.st_blksize, 4096);
    cr_assert_eq(st.st_blocks, 8);
    cr_assert_neq(st.st_ino, stat_of("/d").st_ino);
    cr_assert_eq(st.st_dev, stat_of("/d").st_dev);

    /* Writing updates mtime and ctime; chmod only ctime. */
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/d/f", 0, &old), 0);
    struct vfs_file *f = open_ok("/d/f", ABI_O_WRONLY);
    cr_assert_eq(f->ops->write(f, "x", 1), 1);
    vfs_file_put(f);
    st = stat_of("/d/f");
    cr_assert_gt(st.st_mtime_sec, 200);
    cr_assert_eq(st.st_atime_sec, 100);
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/d/f", 0, &old), 0);
    struct vfs_setattr ch = {.mask = VFS_ATTR_MODE | VFS_ATTR_UID | VFS_ATTR_GID,
                             .mode = ABI_S_IFDIR | 04711, /* the type bits are ignored */
                             .uid = 7,
                             .gid = 8};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/d/f", 0, &ch), 0);
    st = stat_of("/d/f");
    cr_assert_eq(st.st_mode, ABI_S_IFREG | 04711);
    cr_assert_eq(st.st_uid, 7);
    cr_assert_eq(st.st_gid, 8);
    cr_assert_eq(st.st_mtime_sec, 200);
    cr_assert_gt(ts_ns(st.st_ctime_sec, st.st_ctime_nsec), ts_ns(200, 6));

    struct vfs_path p;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/d/f", 0, &p), 0);
    struct abi_statx sx;
    vfs_inode_statx(p.dentry->inode, &sx);
    cr_assert_eq(sx.stx_mode, ABI_S_IFREG | 04711);
    cr_assert_eq(sx.stx_size, 5);
    cr_assert_eq(sx.stx_mtime.tv_sec, 200);
    cr_assert_eq(sx.stx_ino, st.st_ino);
    cr_assert_eq(sx.stx_mask, 0xfff);
    cr_assert_leq(sx.stx_btime.tv_sec, (int64_t)st.st_ctime_sec);
    cr_assert_gt(sx.stx_btime.tv_sec, 200);
    vfs_path_put(p);
    struct vfs_setattr sz = {.mask = VFS_ATTR_SIZE, .size = 0};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/d", 0, &sz), -ABI_EISDIR);
}

Test(tmpfs, symlinks_and_readlink)
{
    cr_assert_eq(vfs_symlinkat(&ctx, "some/where/far", rootp, "/l"), 0);
    cr_assert_eq(vfs_symlinkat(&ctx, "x", rootp, "/l"), -ABI_EEXIST);
    char buf[64] = {0};
    cr_assert_eq(vfs_readlinkat(&ctx, rootp, "/l", buf, sizeof(buf)), 14);
    cr_assert_str_eq(buf, "some/where/far");
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(vfs_readlinkat(&ctx, rootp, "/l", buf, 4), 4);
    cr_assert_str_eq(buf, "some");
    struct abi_stat st = stat_of("/l");
    cr_assert_eq(st.st_mode, ABI_S_IFLNK | 0777);
    cr_assert_eq(st.st_size, 14);
    make_file("/f", "");
    cr_assert_eq(vfs_readlinkat(&ctx, rootp, "/f", buf, sizeof(buf)), -ABI_EINVAL);
    cr_assert_eq(vfs_readlinkat(&ctx, rootp, "/nope", buf, sizeof(buf)), -ABI_ENOENT);
    /* stat follows unless told not to. */
    cr_assert_eq(vfs_symlinkat(&ctx, "f", rootp, "/lf"), 0);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/lf", 0, &st), 0);
    cr_assert_eq(st.st_mode & ABI_S_IFMT, ABI_S_IFREG);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/l", 0, &st), -ABI_ENOENT);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/l"), 0);
}

Test(tmpfs, special_nodes)
{
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/fifo", ABI_S_IFIFO | 0600, 0), 0);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/sock", ABI_S_IFSOCK | 0600, 0), 0);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/null", ABI_S_IFCHR | 0666, (1 << 8) | 3), 0);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/plain", 0640, 0), 0);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/dir", ABI_S_IFDIR | 0755, 0), -ABI_EPERM);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/bad", 0170000, 0), -ABI_EINVAL);
    cr_assert_eq(stat_of("/fifo").st_mode, ABI_S_IFIFO | 0600);
    cr_assert_eq(stat_of("/null").st_rdev, (1 << 8) | 3);
    cr_assert_eq(stat_of("/plain").st_mode, ABI_S_IFREG | 0640);
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/sock", ABI_O_RDWR, 0, &f), -ABI_ENXIO);
    cr_assert_eq(vfs_open(&ctx, rootp, "/null", ABI_O_RDWR, 0, &f), -ABI_ENXIO);
    cr_assert_eq(vfs_open(&ctx, rootp, "/fifo", ABI_O_PATH, 0, &f), 0);
    vfs_file_put(f);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/fifo"), 0);
}

Test(tmpfs, many_entries)
{
    enum { N = 3000 };
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d", 0755), 0);
    char name[32], other[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "/d/n%d", i);
        if (i % 3 == 0)
            cr_assert_eq(vfs_mkdirat(&ctx, rootp, name, 0755), 0);
        else
            cr_assert_eq(vfs_mknodat(&ctx, rootp, name, ABI_S_IFREG | 0644, 0), 0);
    }
    cr_assert_eq(stat_of("/d").st_nlink, 2 + (N + 2) / 3);
    for (int i = 0; i < N; i += 2) {
        snprintf(name, sizeof(name), "/d/n%d", i);
        snprintf(other, sizeof(other), "/d/m%d", i);
        cr_assert_eq(vfs_renameat(&ctx, rootp, name, rootp, other, 0), 0);
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "/d/n%d", i);
        snprintf(other, sizeof(other), "/d/m%d", i);
        cr_assert_eq(stat_err(name), i % 2 ? 0 : -ABI_ENOENT, "%s", name);
        cr_assert_eq(stat_err(other), i % 2 ? -ABI_ENOENT : 0, "%s", other);
        const char *live = i % 2 ? name : other;
        cr_assert_eq(i % 3 ? vfs_unlinkat(&ctx, rootp, live) : vfs_rmdirat(&ctx, rootp, live), 0);
    }
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d"), 0);
    cr_assert_eq(stat_of("/").st_nlink, 2);
}

Test(tmpfs, relatime_and_noatime)
{
    make_file("/f", "abc");
    struct vfs_setattr old = {
        .mask = VFS_ATTR_ATIME | VFS_ATTR_MTIME, .atime = {100, 0}, .mtime = {200, 0}};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/f", 0, &old), 0);
    /* O_NOATIME leaves atime alone. */
    struct vfs_file *f = open_ok("/f", ABI_O_RDONLY | ABI_O_NOATIME);
    char buf[4];
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), 3);
    vfs_file_put(f);
    cr_assert_eq(stat_of("/f").st_atime_sec, 100);
    /* An atime older than mtime is updated by the next read... */
    f = open_ok("/f", ABI_O_RDONLY);
    cr_assert_eq(f->ops->pread(f, buf, sizeof(buf), 0), 3);
    struct abi_stat st = stat_of("/f");
    cr_assert_gt(st.st_atime_sec, 200);
    /* ...but a recent one newer than mtime and ctime is not. */
    struct vfs_setattr recent = {.mask = VFS_ATTR_ATIME, .atime = {0, 0}};
    vfs_now(&recent.atime);
    recent.atime.tv_sec += 10;
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/f", 0, &recent), 0);
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), 3);
    cr_assert_eq(stat_of("/f").st_atime_sec, (uint64_t)recent.atime.tv_sec);
    vfs_file_put(f);
    /* Only the owner may ask for O_NOATIME. */
    struct vfs_walk_ctx user = {.root = rootp, .cred = {.uid = 1000, .gid = 1000}};
    cr_assert_eq(vfs_open(&user, rootp, "/f", ABI_O_RDONLY | ABI_O_NOATIME, 0, &f), -ABI_EPERM);
}
