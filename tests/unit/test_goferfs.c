/* goferfs over a real Gofer server (in a thread, over a socketpair) serving a
 * temporary tree, driven through the VFS API: results are checked against
 * the host tree, and every node id must be closed after teardown. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "gofer/client.h"
#include "gofer/server.h"
#include "sentry/fs/goferfs.h"
#include "sentry/vfs/vfs.h"
#include "sentry/vfs/xattr.h"

static char base[64], root[128];
static struct gofer_server *srv;
static struct gofer_client *cl;
static pthread_t thread;
static struct vfs_filesystem *gfs;
static struct vfs_mount *mnt;
static struct vfs_walk_ctx ctx;
static struct vfs_path rootp;
/* The Gofer's node table size for the next start(): 0, its default. */
static unsigned max_nodes;

static void host(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", root, rel);
}

static void host_write(const char *rel, const char *text)
{
    char p[256];
    host(p, sizeof(p), rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0);
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

/* The host file's contents, NUL-terminated, or "" when it cannot be read. */
static const char *host_read(const char *rel)
{
    static char buf[256];
    char p[256];
    host(p, sizeof(p), rel);
    buf[0] = '\0';
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static bool host_exists(const char *rel)
{
    char p[256];
    struct stat st;
    host(p, sizeof(p), rel);
    return lstat(p, &st) == 0;
}

static void *serve_thread(void *arg)
{
    int sock = (int)(intptr_t)arg;
    gofer_serve(srv, sock);
    close(sock);
    return NULL;
}

static void build_tree(void)
{
    char p[256];
    snprintf(base, sizeof(base), "/tmp/goferfs-test-XXXXXX");
    cr_assert(mkdtemp(base));
    snprintf(root, sizeof(root), "%s/root", base);
    cr_assert(mkdir(root, 0755) == 0);
    host(p, sizeof(p), "dir");
    cr_assert(mkdir(p, 0755) == 0);
    host(p, sizeof(p), "etc");
    cr_assert(mkdir(p, 0755) == 0);
    host_write("dir/file.txt", "hello");
    host_write("etc/passwd", "inside");
    host(p, sizeof(p), "esc");
    cr_assert(symlink("/etc/passwd", p) == 0);
    host(p, sizeof(p), "up");
    cr_assert(symlink("../../../../..", p) == 0);
    host(p, sizeof(p), "link_dir");
    cr_assert(symlink("dir", p) == 0);
}

static void start(bool server_ro, bool fs_ro)
{
    build_tree();
    int sv[2];
    int rfd = open(root, O_RDONLY | O_DIRECTORY);
    cr_assert(rfd >= 0);
    srv = gofer_server_create(rfd, server_ro, max_nodes);
    close(rfd);
    cr_assert(srv);
    cr_assert(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    cl = gofer_client_create(sv[0]);
    cr_assert(cl);
    cr_assert(pthread_create(&thread, NULL, serve_thread, (void *)(intptr_t)sv[1]) == 0);
    cr_assert_eq(goferfs_create(cl, fs_ro, &gfs), 0);
    cr_assert_eq(vfs_mount_new_root(gfs, 0, &mnt), 0);
    vfs_fs_put(gfs);
    rootp = (struct vfs_path){mnt, mnt->root};
    ctx = (struct vfs_walk_ctx){.root = rootp,
                                .cred = {.cap_dac_override = true,
                                         .cap_dac_read_search = true,
                                         .cap_fowner = true,
                                         .cap_chown = true,
                                         .cap_fsetid = true}};
}

static void setup_rw(void)
{
    start(false, false);
}

static void setup_ro(void)
{
    start(false, true);
}

static void teardown(void)
{
    if (mnt)
        vfs_mount_tree_release(mnt);
    mnt = NULL;
    /* Every inode is evicted with the mount: every id went back. */
    unsigned live = gofer_server_live_nodes(srv);
    gofer_client_destroy(cl);
    pthread_join(thread, NULL);
    gofer_server_destroy(srv);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    cr_assert(system(cmd) == 0);
    cr_assert_eq(live, 0, "%u node ids still live after unmount", live);
}

static struct vfs_file *open_ok(const char *path, uint32_t flags, uint32_t mode)
{
    struct vfs_file *f = NULL;
    int err = vfs_open(&ctx, rootp, path, flags, mode, &f);
    cr_assert_eq(err, 0, "open %s: %d", path, err);
    return f;
}

static int64_t read_all(const char *path, char *buf, size_t cap)
{
    struct vfs_file *f = open_ok(path, ABI_O_RDONLY, 0);
    int64_t n = f->ops->read(f, buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
    vfs_file_put(f);
    return n;
}

static void check_stat_matches_host(const char *path, const char *rel, int flags)
{
    struct abi_stat st;
    struct stat hs;
    char p[256];
    host(p, sizeof(p), rel);
    cr_assert_eq(lstat(p, &hs), 0);
    cr_assert_eq(vfs_statat(&ctx, rootp, path, flags, &st), 0);
    cr_assert_eq(st.st_ino, hs.st_ino, "%s ino", path);
    cr_assert_eq(st.st_mode, hs.st_mode, "%s mode", path);
    cr_assert_eq(st.st_size, (uint64_t)hs.st_size, "%s size", path);
    cr_assert_eq(st.st_nlink, hs.st_nlink, "%s nlink", path);
    cr_assert_eq(st.st_uid, hs.st_uid);
    cr_assert_eq(st.st_gid, hs.st_gid);
    cr_assert_eq(st.st_mtime_sec, (uint64_t)hs.st_mtim.tv_sec);
    cr_assert_eq(st.st_mtime_nsec, (uint64_t)hs.st_mtim.tv_nsec);
    cr_assert_eq(st.st_dev, gfs->dev, "the guest sees goferfs's device, not the host's");
}

TestSuite(goferfs, .init = setup_rw, .fini = teardown);

Test(goferfs, walk_and_stat_match_host)
{
    check_stat_matches_host("/", ".", 0);
    check_stat_matches_host("/dir", "dir", 0);
    check_stat_matches_host("/dir/file.txt", "dir/file.txt", 0);
    check_stat_matches_host("/esc", "esc", ABI_AT_SYMLINK_NOFOLLOW);
    check_stat_matches_host("/link_dir/file.txt", "dir/file.txt", 0);
    struct vfs_path p;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/nope", 0, &p), -ABI_ENOENT);
    cr_assert_eq(vfs_walk(&ctx, rootp, "/dir/file.txt/x", 0, &p), -ABI_ENOTDIR);
}

Test(goferfs, read_through_donated_fd)
{
    char buf[64];
    cr_assert_eq(read_all("/dir/file.txt", buf, sizeof(buf)), 5);
    cr_assert_str_eq(buf, "hello");
    struct vfs_file *f = open_ok("/dir/file.txt", ABI_O_RDONLY, 0);
    cr_assert_eq(f->ops->pread(f, buf, 3, 2), 3);
    cr_assert_eq(memcmp(buf, "llo", 3), 0);
    cr_assert_eq(f->ops->lseek(f, -2, ABI_SEEK_END), 3);
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), 2);
    cr_assert_eq(memcmp(buf, "lo", 2), 0);
    cr_assert_eq(f->ops->read(f, buf, sizeof(buf)), 0);
    cr_assert_eq(f->ops->write(f, "x", 1), -ABI_EBADF, "read-only host fd");
    struct abi_stat st;
    cr_assert_eq(f->ops->stat(f, &st), 0);
    cr_assert_eq(st.st_size, 5);
    vfs_file_put(f);
}

Test(goferfs, create_write_append_reaches_host)
{
    struct vfs_file *f = open_ok("/new.txt", ABI_O_CREAT | ABI_O_WRONLY | ABI_O_EXCL, 0640);
    cr_assert_eq(f->ops->write(f, "abc", 3), 3);
    cr_assert_eq(f->ops->write(f, "def", 3), 3);
    cr_assert_eq(f->ops->pwrite(f, "X", 1, 0), 1);
    vfs_file_put(f);
    cr_assert_str_eq(host_read("new.txt"), "Xbcdef");
    check_stat_matches_host("/new.txt", "new.txt", 0);
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, "/new.txt", 0, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0640);

    f = open_ok("/new.txt", ABI_O_WRONLY | ABI_O_APPEND, 0);
    cr_assert_eq(f->ops->write(f, "ghi", 3), 3);
    cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_CUR), 9);
    vfs_file_put(f);
    cr_assert_str_eq(host_read("new.txt"), "Xbcdefghi");

    /* O_TRUNC empties the host file; O_CREAT on an existing name opens it. */
    f = open_ok("/new.txt", ABI_O_CREAT | ABI_O_RDWR | ABI_O_TRUNC, 0600);
    cr_assert_eq(f->ops->write(f, "z", 1), 1);
    vfs_file_put(f);
    cr_assert_str_eq(host_read("new.txt"), "z");
    check_stat_matches_host("/new.txt", "new.txt", 0);

    /* A created file with O_APPEND appends even though its fd came from CREATE. */
    f = open_ok("/app.txt", ABI_O_CREAT | ABI_O_WRONLY | ABI_O_APPEND, 0644);
    cr_assert_eq(f->ops->pwrite(f, "12", 2, 0), 2);
    cr_assert_eq(f->ops->pwrite(f, "34", 2, 0), 2);
    vfs_file_put(f);
    cr_assert_str_eq(host_read("app.txt"), "1234");
}

Test(goferfs, fstat_refreshes_from_host_fd)
{
    struct vfs_file *f = open_ok("/dir/file.txt", ABI_O_RDWR, 0);
    cr_assert_eq(f->ops->pwrite(f, "0123456789", 10, 0), 10);
    struct abi_stat st;
    cr_assert_eq(f->ops->stat(f, &st), 0);
    cr_assert_eq(st.st_size, 10);
    /* The write marked the inode stale: statat asks again at once. */
    cr_assert_eq(vfs_statat(&ctx, rootp, "/dir/file.txt", 0, &st), 0);
    cr_assert_eq(st.st_size, 10);
    vfs_file_put(f);
}

Test(goferfs, attribute_cache_and_ttl)
{
    /* Long enough that a slow machine cannot expire it mid-test. */
    goferfs_set_attr_ttl_ms(gfs, 100000);
    struct abi_stat st;
    struct vfs_path p;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/dir/file.txt", 0, &p), 0);
    vfs_path_put(p);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/dir/file.txt", 0, &st), 0);
    cr_assert_eq(st.st_size, 5);
    /* Changed behind the Sentry's back (which cannot happen in a sandbox
     * owning its root): the cached size holds within the TTL... */
    host_write("dir/file.txt", "longer text");
    cr_assert_eq(vfs_statat(&ctx, rootp, "/dir/file.txt", 0, &st), 0);
    cr_assert_eq(st.st_size, 5);
    /* ...and a TTL of 0 asks the Gofer on every stat. */
    goferfs_set_attr_ttl_ms(gfs, 0);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/dir/file.txt", 0, &st), 0);
    cr_assert_eq(st.st_size, 11);
    /* Opening refreshes whatever the TTL. */
    goferfs_set_attr_ttl_ms(gfs, 100000);
    host_write("dir/file.txt", "ab");
    struct vfs_file *f = open_ok("/dir/file.txt", ABI_O_RDONLY, 0);
    vfs_file_put(f);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/dir/file.txt", 0, &st), 0);
    cr_assert_eq(st.st_size, 2);
}

/* Names listed in a directory, sorted, joined by ' '. */
static void list_dir(const char *path, size_t bufsize, char *out, size_t cap)
{
    struct vfs_file *f = open_ok(path, ABI_O_RDONLY | ABI_O_DIRECTORY, 0);
    char *names[64];
    int n = 0;
    char *buf = malloc(bufsize);
    int64_t got;
    while ((got = f->ops->getdents64(f, buf, bufsize)) > 0) {
        for (int64_t at = 0; at < got;) {
            struct abi_linux_dirent64 hdr;
            memcpy(&hdr, buf + at, ABI_DIRENT64_NAME_OFFSET);
            cr_assert(n < 64);
            names[n++] = strdup(buf + at + ABI_DIRENT64_NAME_OFFSET);
            at += hdr.d_reclen;
        }
    }
    cr_assert_eq(got, 0);
    free(buf);
    vfs_file_put(f);
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
        }
    }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, names[i], cap - strlen(out) - 1);
        free(names[i]);
    }
}

Test(goferfs, getdents64_lists_host_dir)
{
    char names[512];
    list_dir("/", 4096, names, sizeof(names));
    cr_assert_str_eq(names, ". .. dir esc etc link_dir up");
    /* A buffer holding about one record at a time still lists everything,
     * the file position carrying the Gofer's cookie between calls. */
    list_dir("/", 32, names, sizeof(names));
    cr_assert_str_eq(names, ". .. dir esc etc link_dir up");
    list_dir("/dir", 4096, names, sizeof(names));
    cr_assert_str_eq(names, ". .. file.txt");

    /* "." and ".." of the root are the root, not the host directory above. */
    struct vfs_file *f = open_ok("/", ABI_O_RDONLY, 0);
    char buf[4096];
    int64_t got = f->ops->getdents64(f, buf, sizeof(buf));
    cr_assert_gt(got, 0);
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, "/", 0, &st), 0);
    for (int64_t at = 0; at < got;) {
        struct abi_linux_dirent64 hdr;
        memcpy(&hdr, buf + at, ABI_DIRENT64_NAME_OFFSET);
        const char *name = buf + at + ABI_DIRENT64_NAME_OFFSET;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            cr_assert_eq(hdr.d_ino, st.st_ino, "%s", name);
        at += hdr.d_reclen;
    }
    /* Rewinding lists again. */
    cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_SET), 0);
    cr_assert_eq(f->ops->getdents64(f, buf, sizeof(buf)), got);
    cr_assert_eq(f->ops->read(f, buf, 1), -ABI_EISDIR);
    cr_assert_eq(f->ops->getdents64(f, buf, 8), 0, "at the end");
    cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_SET), 0);
    cr_assert_eq(f->ops->getdents64(f, buf, 8), -ABI_EINVAL, "no record fits");
    vfs_file_put(f);
}

Test(goferfs, mkdir_rename_unlink_rmdir)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d2", 0750), 0);
    char p[256];
    struct stat hs;
    host(p, sizeof(p), "d2");
    cr_assert_eq(stat(p, &hs), 0);
    cr_assert(S_ISDIR(hs.st_mode));
    cr_assert_eq(hs.st_mode & 07777, 0750);
    check_stat_matches_host("/d2", "d2", 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d2", 0750), -ABI_EEXIST);

    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir/file.txt", rootp, "/d2/moved", 0), 0);
    cr_assert(!host_exists("dir/file.txt"));
    cr_assert_str_eq(host_read("d2/moved"), "hello");
    char buf[64];
    cr_assert_eq(read_all("/d2/moved", buf, sizeof(buf)), 5);
    cr_assert_str_eq(buf, "hello");
    check_stat_matches_host("/d2/moved", "d2/moved", 0);

    host_write("other", "o");
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/other", rootp, "/d2/moved", ABI_RENAME_NOREPLACE),
                 -ABI_EEXIST);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/other", rootp, "/d2/moved", ABI_RENAME_EXCHANGE), 0);
    cr_assert_str_eq(host_read("other"), "hello");
    cr_assert_str_eq(host_read("d2/moved"), "o");

    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d2"), -ABI_ENOTEMPTY);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/d2/moved"), 0);
    cr_assert(!host_exists("d2/moved"));
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/d2/moved"), -ABI_ENOENT);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/d2"), 0);
    cr_assert(!host_exists("d2"));
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir"), -ABI_EISDIR);
}

Test(goferfs, symlink_readlink_link_mknod)
{
    cr_assert_eq(vfs_symlinkat(&ctx, "dir/file.txt", rootp, "/sl"), 0);
    char p[256], t[64];
    host(p, sizeof(p), "sl");
    ssize_t n = readlink(p, t, sizeof(t));
    cr_assert_eq(n, 12);
    cr_assert_eq(memcmp(t, "dir/file.txt", 12), 0);
    char buf[64];
    cr_assert_eq(vfs_readlinkat(&ctx, rootp, "/sl", buf, sizeof(buf)), 12);
    cr_assert_eq(memcmp(buf, "dir/file.txt", 12), 0);
    cr_assert_eq(vfs_readlinkat(&ctx, rootp, "/sl", buf, 3), 3, "truncated as readlink(2)");
    cr_assert_eq(read_all("/sl", buf, sizeof(buf)), 5);
    cr_assert_eq(vfs_readlinkat(&ctx, rootp, "/dir", buf, sizeof(buf)), -ABI_EINVAL);

    cr_assert_eq(vfs_linkat(&ctx, rootp, "/dir/file.txt", rootp, "/hard", 0), 0);
    struct stat a, b;
    host(p, sizeof(p), "hard");
    cr_assert_eq(stat(p, &a), 0);
    host(p, sizeof(p), "dir/file.txt");
    cr_assert_eq(stat(p, &b), 0);
    cr_assert_eq(a.st_ino, b.st_ino);
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, "/dir/file.txt", 0, &st), 0);
    cr_assert_eq(st.st_nlink, 2);
    /* The first name goes; the file stays reachable and writable through
     * the second, whose inode the VFS shares with the first. */
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/file.txt"), 0);
    struct vfs_setattr a2 = {.mask = VFS_ATTR_SIZE, .size = 1};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/hard", 0, &a2), 0);
    cr_assert_str_eq(host_read("hard"), "h");
    cr_assert_eq(read_all("/hard", buf, sizeof(buf)), 1);
    cr_assert_str_eq(buf, "h");
    goferfs_set_attr_ttl_ms(gfs, 0);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/hard", 0, &st), 0);
    cr_assert_eq(st.st_nlink, 1);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/hard", rootp, "/hard2", 0), 0);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/hard"), 0);
    cr_assert_eq(read_all("/hard2", buf, sizeof(buf)), 1);

    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/fifo", ABI_S_IFIFO | 0600, 0), 0);
    host(p, sizeof(p), "fifo");
    cr_assert_eq(lstat(p, &a), 0);
    cr_assert(S_ISFIFO(a.st_mode));
    check_stat_matches_host("/fifo", "fifo", 0);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/chr", ABI_S_IFCHR | 0600, 0x0103), -ABI_EPERM,
                 "the Gofer makes no devices");
}

Test(goferfs, setattr_mode_size_times)
{
    struct vfs_setattr a = {.mask = VFS_ATTR_MODE, .mode = 0600};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/dir/file.txt", 0, &a), 0);
    a = (struct vfs_setattr){.mask = VFS_ATTR_SIZE, .size = 2};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/dir/file.txt", 0, &a), 0);
    a = (struct vfs_setattr){
        .mask = VFS_ATTR_ATIME | VFS_ATTR_MTIME, .atime = {1000, 5}, .mtime = {2000, 7}};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/dir/file.txt", 0, &a), 0);
    char p[256];
    struct stat hs;
    host(p, sizeof(p), "dir/file.txt");
    cr_assert_eq(stat(p, &hs), 0);
    cr_assert_eq(hs.st_mode & 07777, 0600);
    cr_assert_eq(hs.st_size, 2);
    cr_assert_eq(hs.st_mtim.tv_sec, 2000);
    cr_assert_eq(hs.st_mtim.tv_nsec, 7);
    cr_assert_eq(hs.st_atim.tv_sec, 1000);
    cr_assert_str_eq(host_read("dir/file.txt"), "he");
    check_stat_matches_host("/dir/file.txt", "dir/file.txt", 0);
}

/* xattrs through the VFS reach the host file via the Gofer; fallocate too;
 * and a symlink to outside the root is refused as Linux refuses user.* on
 * links. */
Test(goferfs, xattrs_and_fallocate_reach_host)
{
    char p[256], buf[64];
    host(p, sizeof(p), "dir/file.txt");
    if (setxattr(p, "user.probe", "1", 1, 0) != 0 && errno == EOPNOTSUPP)
        cr_skip_test("no user xattrs here");
    removexattr(p, "user.probe");
    struct vfs_path fp;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/dir/file.txt", 0, &fp), 0);
    cr_assert_eq(vfs_setxattr(&ctx.cred, true, fp, "user.k", "val", 3, 0), 0);
    cr_assert_eq(getxattr(p, "user.k", buf, sizeof(buf)), 3, "on the host file");
    cr_assert_eq(vfs_getxattr(&ctx.cred, true, fp, "user.k", buf, sizeof(buf)), 3);
    cr_assert(memcmp(buf, "val", 3) == 0);
    cr_assert_eq(vfs_getxattr(&ctx.cred, true, fp, "user.k", buf, 1), -ABI_ERANGE);
    cr_assert_eq(vfs_listxattr(&ctx.cred, true, fp, buf, sizeof(buf)), 7);
    cr_assert_str_eq(buf, "user.k");
    cr_assert_eq(vfs_setxattr(&ctx.cred, true, fp, "trusted.k", "v", 1, 0), -ABI_EOPNOTSUPP,
                 "the Gofer serves user.* only");
    static char big[ABI_XATTR_SIZE_MAX];
    int err = vfs_setxattr(&ctx.cred, true, fp, "user.big", big, sizeof(big), 0);
    cr_assert(err == 0 || err == -ABI_ENOSPC || err == -ABI_E2BIG,
              "a 64 KiB value: stored, or an errno setxattr has (%d)", err);
    vfs_removexattr(&ctx.cred, true, fp, "user.big");
    cr_assert_eq(vfs_removexattr(&ctx.cred, true, fp, "user.k"), 0);
    cr_assert_eq(getxattr(p, "user.k", buf, sizeof(buf)), -1);
    vfs_path_put(fp);
    struct vfs_path lp;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/esc", VFS_WALK_NOFOLLOW, &lp), 0);
    cr_assert_eq(vfs_setxattr(&ctx.cred, true, lp, "user.k", "v", 1, 0), -ABI_EPERM);
    vfs_path_put(lp);
    struct vfs_file *f = open_ok("/dir/file.txt", ABI_O_RDWR, 0);
    cr_assert_eq(f->ops->allocate(f, 0, 0, 65536), 0);
    struct stat hs;
    cr_assert_eq(stat(p, &hs), 0);
    cr_assert_eq(hs.st_size, 65536, "fallocate grew the host file");
    /* SEEK_DATA/SEEK_HOLE are the host's answers through the donated fd
     * (allocated but unwritten blocks may count as a hole). */
    cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_DATA), 0);
    int64_t hole = f->ops->lseek(f, 0, ABI_SEEK_HOLE);
    cr_assert(hole > 0 && hole <= 65536, "hole at %ld", (long)hole);
    cr_assert_eq(f->ops->lseek(f, 65536, ABI_SEEK_DATA), -ABI_ENXIO);
    vfs_file_put(f);
}

Test(goferfs, statfs_from_host)
{
    struct vfs_statfs sf;
    struct statfs hs;
    cr_assert_eq(vfs_statfsat(&ctx, rootp, "/dir", &sf), 0);
    cr_assert_eq(statfs(root, &hs), 0);
    cr_assert_eq(sf.type, (uint64_t)hs.f_type);
    cr_assert_eq(sf.bsize, (uint64_t)hs.f_bsize);
    cr_assert_eq(sf.blocks, hs.f_blocks);
    cr_assert_eq(sf.flags & 1, 0);
}

Test(goferfs, symlinks_resolve_inside_the_root)
{
    /* /etc/passwd from the tree's symlink is the tree's, not the host's. */
    char buf[64];
    cr_assert_eq(read_all("/esc", buf, sizeof(buf)), 6);
    cr_assert_str_eq(buf, "inside");
    struct abi_stat st, root_st;
    cr_assert_eq(vfs_statat(&ctx, rootp, "/", 0, &root_st), 0);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/up", 0, &st), 0);
    cr_assert_eq(st.st_ino, root_st.st_ino, "../../.. stops at the root");
    cr_assert_eq(vfs_statat(&ctx, rootp, "/..", 0, &st), 0);
    cr_assert_eq(st.st_ino, root_st.st_ino);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/dir/../../../..", 0, &st), 0);
    cr_assert_eq(st.st_ino, root_st.st_ino);
    cr_assert_eq(read_all("/up/etc/passwd", buf, sizeof(buf)), 6);
    cr_assert_str_eq(buf, "inside");
    /* Writing through the escaping link lands inside the tree too. */
    struct vfs_file *f = open_ok("/esc", ABI_O_WRONLY | ABI_O_TRUNC, 0);
    cr_assert_eq(f->ops->write(f, "changed", 7), 7);
    vfs_file_put(f);
    cr_assert_str_eq(host_read("etc/passwd"), "changed");
}

Test(goferfs, ids_are_released_while_mounted)
{
    char buf[64];
    for (int i = 0; i < 5; i++)
        cr_assert_eq(read_all("/dir/file.txt", buf, sizeof(buf)), 5);
    /* root, dir, file.txt: the dentry cache holds one id each. */
    cr_assert_eq(gofer_server_live_nodes(srv), 3);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/file.txt"), 0);
    cr_assert_eq(gofer_server_live_nodes(srv), 2, "an unlinked inode's id is closed");
}

/* Open fds on files of the tree that are not O_PATH: the donated ones. The
 * server in this process holds O_PATH fds per node, and the test runner
 * may open fds of its own at any time, so neither is counted. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[300], target[512], info[512];
        snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(p, target, sizeof(target) - 1);
        if (len < 0)
            continue;
        target[len] = '\0';
        if (strncmp(target, root, strlen(root)) != 0)
            continue;
        snprintf(p, sizeof(p), "/proc/self/fdinfo/%s", e->d_name);
        FILE *fi = fopen(p, "r");
        if (!fi)
            continue;
        unsigned flags = 0;
        while (fgets(info, sizeof(info), fi)) {
            if (sscanf(info, "flags: %o", &flags) == 1)
                break;
        }
        fclose(fi);
        if (!(flags & O_PATH))
            n++;
    }
    closedir(d);
    return n;
}

/* open_fds() once it equals want, or its last value after a second: the
 * server thread closes its own copy of a donated fd just after sending it,
 * so a count taken right then can be one too many. */
static int settled_fds(int want)
{
    int n = open_fds();
    for (int i = 0; i < 100 && n != want; i++) {
        usleep(10000);
        n = open_fds();
    }
    return n;
}

Test(goferfs, donated_fds_are_closed)
{
    /* The server runs in this process and holds fds per node id: walk
     * everything first so that only donated fds come and go below. */
    host_write("c.txt", "c");
    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, "/dir/file.txt", 0, &st), 0);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/c.txt", 0, &st), 0);
    int before = open_fds();
    struct vfs_file *a = open_ok("/dir/file.txt", ABI_O_RDONLY, 0);
    struct vfs_file *b = open_ok("/c.txt", ABI_O_CREAT | ABI_O_RDWR, 0644);
    struct vfs_file *c = open_ok("/dir", ABI_O_RDONLY, 0);
    int during = settled_fds(before + 2);
    cr_assert_eq(during, before + 2, "a host fd per regular file, none for directories: %d -> %d",
                 before, during);
    vfs_file_put(a);
    vfs_file_put(b);
    vfs_file_put(c);
    cr_assert_eq(settled_fds(before), before);
    /* The fd a CREATE donated goes with the inode when no open takes it. */
    struct vfs_path dir;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/dir", 0, &dir), 0);
    struct vfs_inode *di = dir.dentry->inode, *out = NULL;
    cr_assert_eq(di->ops->create(di, "orphan", 0644, 0, 0, &out), 0);
    cr_assert_gt(open_fds(), before);
    vfs_inode_put(out);
    vfs_path_put(dir);
    cr_assert_eq(settled_fds(before), before);
}

Test(goferfs, unmount_closes_every_id)
{
    char buf[64];
    cr_assert_eq(read_all("/link_dir/file.txt", buf, sizeof(buf)), 5);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/x", 0755), 0);
    cr_assert_gt(gofer_server_live_nodes(srv), 3);
    vfs_mount_tree_release(mnt);
    mnt = NULL;
    cr_assert_eq(gofer_server_live_nodes(srv), 0);
}

TestSuite(goferfs_ro, .init = setup_ro, .fini = teardown);

Test(goferfs_ro, mutations_are_erofs_and_host_unchanged)
{
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/d", 0755), -ABI_EROFS);
    cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/file.txt"), -ABI_EROFS);
    cr_assert_eq(vfs_rmdirat(&ctx, rootp, "/dir"), -ABI_EROFS);
    cr_assert_eq(vfs_renameat(&ctx, rootp, "/dir", rootp, "/dir2", 0), -ABI_EROFS);
    cr_assert_eq(vfs_symlinkat(&ctx, "x", rootp, "/sl"), -ABI_EROFS);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/dir/file.txt", rootp, "/hard", 0), -ABI_EROFS);
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/fifo", ABI_S_IFIFO | 0600, 0), -ABI_EROFS);
    struct vfs_setattr a = {.mask = VFS_ATTR_MODE, .mode = 0600};
    cr_assert_eq(vfs_setattrat(&ctx, rootp, "/dir/file.txt", 0, &a), -ABI_EROFS);
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/new", ABI_O_CREAT | ABI_O_WRONLY, 0644, &f), -ABI_EROFS);
    cr_assert_eq(vfs_open(&ctx, rootp, "/dir/file.txt", ABI_O_WRONLY, 0, &f), -ABI_EROFS);
    cr_assert_eq(vfs_open(&ctx, rootp, "/dir/file.txt", ABI_O_RDONLY | ABI_O_TRUNC, 0, &f),
                 -ABI_EROFS);

    /* The filesystem itself refuses, before any message: the server here is
     * writable, so a request reaching it would change the host. */
    struct vfs_path dir;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/dir", 0, &dir), 0);
    struct vfs_inode *di = dir.dentry->inode, *out = NULL;
    cr_assert_eq(di->ops->mkdir(di, "x", 0755, 0, 0, &out), -ABI_EROFS);
    cr_assert_eq(di->ops->create(di, "x", 0644, 0, 0, &out), -ABI_EROFS);
    cr_assert_eq(di->ops->unlink(di, "file.txt"), -ABI_EROFS);
    cr_assert_eq(di->ops->rename(di, "file.txt", di, "y", 0), -ABI_EROFS);
    cr_assert_eq(di->ops->setattr(di, &a), -ABI_EROFS);
    vfs_path_put(dir);

    cr_assert(!host_exists("d"));
    cr_assert(!host_exists("new"));
    cr_assert(!host_exists("dir/x"));
    cr_assert_str_eq(host_read("dir/file.txt"), "hello");
    char p[256];
    struct stat hs;
    host(p, sizeof(p), "dir/file.txt");
    cr_assert_eq(stat(p, &hs), 0);
    cr_assert_eq(hs.st_mode & 07777, 0644);

    /* Reading still works, and statfs says read-only. */
    char buf[64];
    cr_assert_eq(read_all("/dir/file.txt", buf, sizeof(buf)), 5);
    struct vfs_statfs sf;
    cr_assert_eq(vfs_statfsat(&ctx, rootp, "/", &sf), 0);
    cr_assert_eq(sf.flags & 1, 1);
}

/* A node table of 8: the root, dir, and room for 6 more. */
static void reclaim_prune(void *arg)
{
    vfs_mount_tree_prune(arg);
}

static void setup_small(void)
{
    max_nodes = 8;
    start(false, false);
    goferfs_set_reclaim(gfs, reclaim_prune, mnt);
    char p[32];
    for (int i = 0; i < 8; i++) {
        snprintf(p, sizeof(p), "dir/f%d", i);
        host_write(p, "x");
    }
}

TestSuite(goferfs_small, .init = setup_small, .fini = teardown);

/* Fills the table with cached, unreferenced nodes: dir and six files. */
static void fill_cache(void)
{
    char p[32];
    struct abi_stat st;
    vfs_mount_tree_prune(mnt);
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof(p), "/dir/f%d", i);
        cr_assert_eq(vfs_statat(&ctx, rootp, p, 0, &st), 0);
    }
    cr_assert_eq(gofer_server_live_nodes(srv), 8, "the table is full");
}

/* A table full of cached nodes must not fail a creation: the creating
 * requests reclaim and retry as lookups do. */
Test(goferfs_small, creations_reclaim_a_full_table)
{
    fill_cache();
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/dir/newdir", 0755), 0);
    fill_cache();
    struct vfs_file *f = open_ok("/dir/newfile", ABI_O_CREAT | ABI_O_RDWR, 0644);
    vfs_file_put(f);
    fill_cache();
    cr_assert_eq(vfs_symlinkat(&ctx, "f0", rootp, "/dir/newlink"), 0);
    fill_cache();
    cr_assert_eq(vfs_mknodat(&ctx, rootp, "/dir/newfifo", ABI_S_IFIFO | 0644, 0), 0);
    fill_cache();
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/dir/f0", rootp, "/dir/newhard", 0), 0);
    cr_assert(host_exists("dir/newdir") && host_exists("dir/newfile") &&
              host_exists("dir/newlink") && host_exists("dir/newfifo") &&
              host_exists("dir/newhard"));
}

/* With every node held, the guest gets ENFILE, and a failed link leaves
 * no name behind. */
Test(goferfs_small, pinned_full_table_is_enfile)
{
    struct vfs_path held[8];
    char p[32];
    int n = 0;
    for (int i = 0; i < 8; i++) {
        snprintf(p, sizeof(p), "/dir/f%d", i);
        int err = vfs_walk(&ctx, rootp, p, 0, &held[n]);
        if (err) {
            cr_assert_eq(err, -ABI_ENFILE);
            break;
        }
        n++;
    }
    cr_assert_eq(n, 6);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/dir/newdir", 0755), -ABI_ENFILE);
    cr_assert_eq(vfs_linkat(&ctx, rootp, "/dir/f0", rootp, "/dir/newhard", 0), -ABI_ENFILE);
    cr_assert(!host_exists("dir/newdir") && !host_exists("dir/newhard"));
    for (int i = 0; i < n; i++)
        vfs_path_put(held[i]);
}

/* Every LINK hands out an id that the inode keeps for when its first name
 * goes; linking and unlinking a name of an open file in a loop must not
 * fill the Gofer's table with ids of names long gone. */
Test(goferfs, link_unlink_loop_keeps_few_ids)
{
    struct vfs_file *f = open_ok("/dir/file.txt", ABI_O_RDONLY, 0);
    for (int i = 0; i < 5000; i++) {
        cr_assert_eq(vfs_linkat(&ctx, rootp, "/dir/file.txt", rootp, "/dir/tmp", 0), 0, "link %d",
                     i);
        cr_assert_eq(vfs_unlinkat(&ctx, rootp, "/dir/tmp"), 0);
    }
    cr_assert_lt(gofer_server_live_nodes(srv), 64, "%u ids live", gofer_server_live_nodes(srv));
    vfs_file_put(f);
}
