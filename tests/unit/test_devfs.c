/* devfs: the character device registry, /dev's layout as devfs_populate
 * makes it, and the memory and tty drivers opened through the VFS, from
 * /dev and from nodes made with mknod elsewhere (nodev mounts refuse them). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/devfs.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/device.h"
#include "sentry/vfs/vfs.h"

static struct mm_memfile *mf;
static struct vfs_mount *rootmnt;
static struct vfs_walk_ctx ctx;
static struct vfs_path rootp;

static void setup(void)
{
    cr_assert_eq(devfs_register_drivers(), 0);
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
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "dev", 0755), 0);
    struct vfs_path dev;
    cr_assert_eq(vfs_walk(&ctx, rootp, "dev", VFS_WALK_DIRECTORY, &dev), 0);
    cr_assert_eq(devfs_populate(&ctx, dev), 0);
    vfs_path_put(dev);
}

static void teardown(void)
{
    vfs_mount_tree_release(rootmnt);
    mm_memfile_destroy(mf);
}

TestSuite(devfs, .init = setup, .fini = teardown);

static struct vfs_file *open_ok(const char *path, uint32_t flags)
{
    struct vfs_file *f = NULL;
    int err = vfs_open(&ctx, rootp, path, flags, 0, &f);
    cr_assert_eq(err, 0, "open %s: %d", path, err);
    return f;
}

static int open_err(const char *path, uint32_t flags)
{
    struct vfs_file *f = NULL;
    int err = vfs_open(&ctx, rootp, path, flags, 0, &f);
    if (!err)
        vfs_file_put(f);
    return err;
}

Test(devfs, numbers_encode_as_makedev)
{
    const uint32_t pairs[][2] = {{1, 3}, {5, 0}, {136, 7}, {0x1234, 0x12345}, {0xfffff, 0xffffff}};
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        uint64_t d = vfs_mkdev(pairs[i][0], pairs[i][1]);
        cr_assert_eq(d, (uint64_t)makedev(pairs[i][0], pairs[i][1]), "%u:%u", pairs[i][0],
                     pairs[i][1]);
        cr_assert_eq(vfs_dev_major(d), pairs[i][0]);
        cr_assert_eq(vfs_dev_minor(d), pairs[i][1]);
    }
}

static int fake_open(struct vfs_inode *ino, struct vfs_file *f)
{
    (void)ino, (void)f;
    return -ABI_EIO;
}

static const struct vfs_chrdev fake = {240, 1, "fake", fake_open};
static const struct vfs_chrdev fake_other = {240, 1, "other", fake_open};

Test(devfs, registry)
{
    cr_assert_null(vfs_chrdev_lookup(240, 2));
    cr_assert_eq(vfs_chrdev_register(&fake), 0);
    cr_assert_eq(vfs_chrdev_register(&fake), 0, "registering again is a no-op");
    cr_assert_eq(vfs_chrdev_register(&fake_other), -ABI_EBUSY);
    cr_assert_eq(vfs_chrdev_lookup(240, 1), &fake);
    cr_assert_null(vfs_chrdev_lookup(240, 2));
    cr_assert_str_eq(vfs_chrdev_lookup(1, 3)->name, "null");
    cr_assert_str_eq(vfs_chrdev_lookup(1, 9)->name, "urandom");
    cr_assert_str_eq(vfs_chrdev_lookup(5, 0)->name, "tty");
    /* The driver's own answer reaches the opener. */
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "fake", ABI_S_IFCHR | 0600, vfs_mkdev(240, 1)), 0);
    cr_assert_eq(open_err("fake", ABI_O_RDONLY), -ABI_EIO);
}

Test(devfs, layout)
{
    static const struct {
        const char *path;
        uint32_t major, minor;
    } nodes[] = {{"dev/null", 1, 3},   {"dev/zero", 1, 5},    {"dev/full", 1, 7},
                 {"dev/random", 1, 8}, {"dev/urandom", 1, 9}, {"dev/tty", 5, 0}};
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        struct abi_stat st;
        cr_assert_eq(vfs_statat(&ctx, rootp, nodes[i].path, ABI_AT_SYMLINK_NOFOLLOW, &st), 0);
        cr_assert_eq(st.st_mode, ABI_S_IFCHR | 0666, "%s mode %o", nodes[i].path, st.st_mode);
        cr_assert_eq(st.st_rdev, vfs_mkdev(nodes[i].major, nodes[i].minor), "%s", nodes[i].path);
        cr_assert_eq(st.st_uid, 0);
        cr_assert_eq(st.st_gid, 0);
    }
    static const char *const links[][2] = {{"dev/fd", "/proc/self/fd"},
                                           {"dev/stdin", "/proc/self/fd/0"},
                                           {"dev/stdout", "/proc/self/fd/1"},
                                           {"dev/stderr", "/proc/self/fd/2"}};
    for (size_t i = 0; i < 4; i++) {
        char buf[64] = {0};
        int64_t n = vfs_readlinkat(&ctx, rootp, links[i][0], buf, sizeof(buf) - 1);
        cr_assert_eq(n, (int64_t)strlen(links[i][1]), "%s", links[i][0]);
        cr_assert_str_eq(buf, links[i][1]);
    }
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, "dev/shm", 0, &st), 0);
    cr_assert_eq(st.st_mode, ABI_S_IFDIR | 01777);
    cr_assert_eq(vfs_statat(&ctx, rootp, "dev/console", 0, &st), 0);
    cr_assert_eq(st.st_mode, ABI_S_IFCHR | 0600);
    cr_assert_eq(st.st_rdev, vfs_mkdev(5, 1));
    struct vfs_file *f = NULL;
    cr_assert_eq(vfs_open(&ctx, rootp, "dev/console", ABI_O_RDWR, 0, &f), -ABI_ENODEV,
                 "no console is attached to the sandbox");
    cr_assert_eq(vfs_statat(&ctx, rootp, "dev/ptmx", 0, &st), -ABI_ENOENT);
}

Test(devfs, null)
{
    struct vfs_file *f = open_ok("dev/null", ABI_O_RDWR);
    char buf[8] = "xxxxxxx";
    cr_assert_eq(f->fault_mode, VFS_FAULT_NOREAD);
    cr_assert(f->positional);
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), 0);
    cr_assert_eq(f->ops->pread(f, buf, sizeof(buf), 5), 0);
    cr_assert_eq(f->ops->write(f, buf, 5), 5);
    cr_assert_eq(f->ops->pwrite(f, buf, 5, 100), 5);
    cr_assert_eq(f->ops->lseek(f, 100, ABI_SEEK_SET), 0);
    cr_assert_eq(f->ops->lseek(f, 7, ABI_SEEK_CUR), 0);
    cr_assert_null(f->ops->ioctl, "/dev/null answers every ioctl with ENOTTY");
    cr_assert_null(f->ops->mmap, "/dev/null cannot be mapped");
    struct abi_stat st;
    cr_assert_eq(f->ops->stat(f, &st), 0);
    cr_assert_eq(st.st_rdev, vfs_mkdev(1, 3));
    vfs_file_put(f);
}

Test(devfs, zero_and_full)
{
    char buf[64];
    struct vfs_file *f = open_ok("dev/zero", ABI_O_RDWR);
    memset(buf, 'x', sizeof(buf));
    cr_assert_eq(f->fault_mode, VFS_FAULT_NOREAD);
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), (int64_t)sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], 0);
    cr_assert_eq(f->ops->write(f, buf, 3), 3);
    cr_assert_eq(f->ops->lseek(f, 9, ABI_SEEK_SET), 0);
    cr_assert_eq(f->ops->mmap(f, true, NULL), VFS_MMAP_ANON, "mapped as anonymous memory");
    vfs_file_put(f);

    f = open_ok("dev/full", ABI_O_RDWR);
    memset(buf, 'x', sizeof(buf));
    cr_assert_eq(f->ops->read(f, buf, 16), 16);
    cr_assert_eq(buf[0], 0);
    cr_assert_eq(buf[15], 0);
    cr_assert_eq(buf[16], 'x');
    cr_assert_eq(f->ops->write(f, buf, 3), -ABI_ENOSPC);
    cr_assert_eq(f->ops->pwrite(f, buf, 3, 0), -ABI_ENOSPC);
    vfs_file_put(f);
}

Test(devfs, random)
{
    const char *paths[] = {"dev/random", "dev/urandom"};
    for (int i = 0; i < 2; i++) {
        unsigned char a[256] = {0}, b[256] = {0};
        struct vfs_file *f = open_ok(paths[i], ABI_O_RDWR);
        cr_assert_eq(f->ops->read(f, a, sizeof(a)), (int64_t)sizeof(a));
        cr_assert_eq(f->ops->read(f, b, sizeof(b)), (int64_t)sizeof(b));
        cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
        cr_assert_eq(f->ops->write(f, a, 10), 10);
        int32_t bits = 0;
        cr_assert_eq(f->ops->ioctl(f, ABI_RNDGETENTCNT, &bits, sizeof(bits)), 0);
        cr_assert_eq(bits, 256);
        uint64_t raw = 0;
        cr_assert_eq(f->ops->ioctl(f, ABI_TCGETS, &raw, 0), -ABI_EINVAL);
        f->pos = 42;
        cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_SET), 42, "seeking changes nothing");
        vfs_file_put(f);
    }
}

Test(devfs, tty_without_a_controlling_terminal)
{
    cr_assert_eq(open_err("dev/tty", ABI_O_RDWR), -ABI_ENXIO);
}

Test(devfs, mknod_anywhere)
{
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "mynull", ABI_S_IFCHR | 0666, vfs_mkdev(1, 3)), 0);
    struct vfs_file *f = open_ok("mynull", ABI_O_WRONLY);
    cr_assert_eq(f->ops->write(f, "abc", 3), 3);
    vfs_file_put(f);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "nodrv", ABI_S_IFCHR | 0666, vfs_mkdev(250, 250)), 0);
    cr_assert_eq(open_err("nodrv", ABI_O_RDONLY), -ABI_ENXIO);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "blk", ABI_S_IFBLK | 0666, vfs_mkdev(1, 3)), 0);
    cr_assert_eq(open_err("blk", ABI_O_RDONLY), -ABI_ENXIO, "the sandbox has no block devices");
}

Test(devfs, nodev_mount)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "nd", 0755), 0);
    struct vfs_filesystem *fs;
    cr_assert_eq(tmpfs_create(mf, NULL, &fs), 0);
    struct vfs_path at;
    cr_assert_eq(vfs_walk(&ctx, rootp, "nd", VFS_WALK_DIRECTORY, &at), 0);
    struct vfs_mount *m;
    cr_assert_eq(vfs_mount_at(at, fs, VFS_MNT_NODEV, &m), 0);
    vfs_path_put(at);
    vfs_fs_put(fs);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "nd/null", ABI_S_IFCHR | 0666, vfs_mkdev(1, 3)), 0);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "nd/blk", ABI_S_IFBLK | 0666, vfs_mkdev(7, 0)), 0);
    cr_assert_eq(open_err("nd/null", ABI_O_RDWR), -ABI_EACCES);
    cr_assert_eq(open_err("nd/blk", ABI_O_RDONLY), -ABI_EACCES);
    cr_assert_eq(open_err("nd/null", ABI_O_RDWR | ABI_O_CREAT), -ABI_EACCES);
    cr_assert_eq(open_err("nd/null", ABI_O_PATH), 0, "O_PATH does not open the device");
    cr_assert_eq(open_err("nd/nothing", ABI_O_RDWR), -ABI_ENOENT);
}
