/* The Gofer server over a real tree, driven through the real client over a
 * real socketpair, with the server loop in a thread. */
#include "gofer/client.h"
#include "gofer/confine.h"
#include "gofer/protocol.h"
#include "gofer/seccomp.h"
#include "gofer/server.h"

#include <criterion/criterion.h>
#include <sched.h>
#include <sys/mount.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

static char base[64], root[128], outside[128];
static struct gofer_server *srv;
static struct gofer_client *cl;
static pthread_t thread;
static struct gofer_node rootn;

static void path(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", root, rel);
}

static void write_file(const char *rel, const char *text)
{
    char p[256];
    path(p, sizeof(p), rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0);
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void mk_symlink(const char *target, const char *rel)
{
    char p[256];
    path(p, sizeof(p), rel);
    cr_assert(symlink(target, p) == 0);
}

static void *serve_thread(void *arg)
{
    int sock = (int)(intptr_t)arg;
    gofer_serve(srv, sock);
    close(sock);
    return NULL;
}

static void start(bool readonly, unsigned max_nodes)
{
    int sv[2];
    int rfd = open(root, O_RDONLY | O_DIRECTORY);
    cr_assert(rfd >= 0);
    srv = gofer_server_create(rfd, readonly, max_nodes);
    close(rfd);
    cr_assert(srv);
    cr_assert(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    cl = gofer_client_create(sv[0]);
    cr_assert(pthread_create(&thread, NULL, serve_thread, (void *)(intptr_t)sv[1]) == 0);
    cr_assert_eq(gofer_client_mount(cl, &rootn), 0);
    cr_assert(S_ISDIR(rootn.stat.mode));
}

static void build_tree(void)
{
    char p[256];
    snprintf(base, sizeof(base), "/tmp/gofer-test-XXXXXX");
    cr_assert(mkdtemp(base));
    snprintf(root, sizeof(root), "%s/root", base);
    snprintf(outside, sizeof(outside), "%s/outside", base);
    cr_assert(mkdir(root, 0755) == 0);
    cr_assert(mkdir(outside, 0755) == 0);
    snprintf(p, sizeof(p), "%s/secret", outside);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    cr_assert(fd >= 0);
    cr_assert(write(fd, "secret", 6) == 6);
    close(fd);
    path(p, sizeof(p), "dir");
    cr_assert(mkdir(p, 0755) == 0);
    path(p, sizeof(p), "dir/sub");
    cr_assert(mkdir(p, 0755) == 0);
    write_file("dir/file.txt", "hello");
    mk_symlink("/", "link_root");
    mk_symlink("../../..", "link_up");
    mk_symlink("/proc/self/root", "link_proc");
    mk_symlink(outside, "link_outside");
    snprintf(p, sizeof(p), "%s/secret", outside);
    mk_symlink(p, "link_secret");
    mk_symlink("dir", "link_dir");
}

static void setup_rw(void)
{
    build_tree();
    start(false, 0);
}

static void setup_ro(void)
{
    build_tree();
    start(true, 0);
}

static void teardown(void)
{
    gofer_client_destroy(cl);
    pthread_join(thread, NULL);
    gofer_server_destroy(srv);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    cr_assert(system(cmd) == 0);
}

/* Walks one path of names from the root; returns the last node's id. */
static uint64_t walk(const char *const *names, uint32_t n, uint32_t *walked, uint32_t *stop,
                     struct gofer_node *out)
{
    int err = gofer_client_walk(cl, rootn.id, names, n, out, walked, stop);
    cr_assert_eq(err, 0, "walk: %d", err);
    return *walked ? out[*walked - 1].id : 0;
}

static uint64_t walk1(const char *a, const char *b)
{
    const char *names[2] = {a, b};
    struct gofer_node out[2];
    uint32_t walked, stop;
    uint64_t id = walk(names, b ? 2 : 1, &walked, &stop, out);
    cr_assert_eq(stop, GOFER_WALK_DONE);
    return id;
}

static void read_all(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);
    cr_assert(n >= 0);
    buf[n] = '\0';
}

TestSuite(gofer_server, .init = setup_rw, .fini = teardown, .timeout = 30);
TestSuite(gofer_ro, .init = setup_ro, .fini = teardown, .timeout = 30);

Test(gofer_server, walk_open_read_and_close)
{
    const char *names[] = {"dir", "file.txt"};
    struct gofer_node out[2];
    uint32_t walked, stop;
    unsigned live = gofer_server_live_nodes(srv);
    walk(names, 2, &walked, &stop, out);
    cr_assert_eq(walked, 2);
    cr_assert_eq(stop, GOFER_WALK_DONE);
    cr_assert(S_ISDIR(out[0].stat.mode));
    cr_assert(S_ISREG(out[1].stat.mode));
    cr_assert_eq(out[1].stat.size, 5);
    cr_assert_neq(out[0].id, out[1].id);
    int fd;
    cr_assert_eq(gofer_client_open(cl, out[1].id, GOFER_O_RDONLY, &fd), 0);
    char buf[16];
    read_all(fd, buf, sizeof(buf));
    cr_assert_str_eq(buf, "hello");
    cr_assert_eq(write(fd, "x", 1), -1, "read-only fd must not write");
    close(fd);
    cr_assert_eq(gofer_server_live_nodes(srv), live + 2);
    uint64_t ids[2] = {out[0].id, out[1].id};
    cr_assert_eq(gofer_client_close(cl, ids, 2), 0);
    cr_assert_eq(gofer_server_live_nodes(srv), live);
    struct gofer_stat st;
    cr_assert_eq(gofer_client_stat(cl, out[1].id, &st), -EBADF, "closed id must be dead");
    cr_assert_eq(gofer_client_close(cl, ids, 1), -EBADF);
}

Test(gofer_server, ids_are_not_reused)
{
    uint64_t a = walk1("dir", NULL);
    cr_assert_eq(gofer_client_close(cl, &a, 1), 0);
    uint64_t b = walk1("dir", NULL);
    cr_assert_neq(a, b);
    struct gofer_stat st;
    cr_assert_eq(gofer_client_stat(cl, a, &st), -EBADF);
    cr_assert_eq(gofer_client_stat(cl, b, &st), 0);
}

Test(gofer_server, bad_ids)
{
    struct gofer_stat st;
    cr_assert_eq(gofer_client_stat(cl, 0, &st), -EBADF);
    cr_assert_eq(gofer_client_stat(cl, 12345, &st), -EBADF);
    cr_assert_eq(gofer_client_stat(cl, UINT64_MAX, &st), -EBADF);
    cr_assert_eq(gofer_client_stat(cl, rootn.id + 1, &st), -EBADF);
    int fd;
    cr_assert_eq(gofer_client_open(cl, 99, 0, &fd), -EBADF);
}

Test(gofer_server, walk_stops_at_missing_and_nondir)
{
    const char *miss[] = {"dir", "nope", "x"};
    const char *nondir[] = {"dir", "file.txt", "x"};
    struct gofer_node out[3];
    uint32_t walked, stop;
    walk(miss, 3, &walked, &stop, out);
    cr_assert_eq(walked, 1);
    cr_assert_eq(stop, GOFER_WALK_MISSING);
    walk(nondir, 3, &walked, &stop, out);
    cr_assert_eq(walked, 2);
    cr_assert_eq(stop, GOFER_WALK_NOTDIR);
    uint64_t file = out[1].id;
    const char *x[] = {"x"};
    cr_assert_eq(gofer_client_walk(cl, file, x, 1, out, &walked, &stop), -ENOTDIR);
}

/* Each escaping symlink is reported as a symlink, never followed. */
Test(gofer_server, symlinks_never_followed)
{
    const char *links[] = {"link_root",    "link_up",     "link_proc",
                           "link_outside", "link_secret", "link_dir"};
    for (unsigned i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        const char *names[] = {links[i], "secret"};
        struct gofer_node out[2];
        uint32_t walked, stop;
        walk(names, 2, &walked, &stop, out);
        cr_assert_eq(walked, 1, "%s", links[i]);
        cr_assert_eq(stop, GOFER_WALK_SYMLINK, "%s", links[i]);
        cr_assert(S_ISLNK(out[0].stat.mode));
        int fd = -1;
        cr_assert_eq(gofer_client_open(cl, out[0].id, GOFER_O_RDONLY, &fd), -ELOOP, "%s", links[i]);
        const char *x[] = {"etc"};
        cr_assert_eq(gofer_client_walk(cl, out[0].id, x, 1, out + 1, &walked, &stop), -ENOTDIR);
        struct gofer_setstat a = {.mask = GOFER_SETSTAT_SIZE, .size = 0};
        cr_assert_neq(gofer_client_setstat(cl, out[0].id, &a, NULL), 0);
    }
    uint64_t l = walk1("link_root", NULL);
    char buf[64];
    int n = gofer_client_readlink(cl, l, buf, sizeof(buf));
    cr_assert_eq(n, 1);
    cr_assert_eq(buf[0], '/');
    /* The secret is intact and was never touched through the links. */
    char p[256];
    snprintf(p, sizeof(p), "%s/secret", outside);
    struct stat st;
    cr_assert(stat(p, &st) == 0 && st.st_size == 6);
}

Test(gofer_server, hostile_names_rejected)
{
    const char *bad[] = {"..", ".", "a/b", "../../etc", "/etc", ""};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *names[] = {bad[i]};
        struct gofer_node out[1];
        uint32_t walked, stop;
        cr_assert_eq(gofer_client_walk(cl, rootn.id, names, 1, out, &walked, &stop), -EINVAL,
                     "name '%s'", bad[i]);
        cr_assert_eq(gofer_client_mkdir(cl, rootn.id, bad[i], 0755, 0, 0, out), -EINVAL);
    }
    char longname[300];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    struct gofer_node nn;
    cr_assert_eq(gofer_client_mkdir(cl, rootn.id, longname, 0755, 0, 0, &nn), -ENAMETOOLONG);
    /* Bypass the client's encoder: hand-made WALK with name "..". */
    uint8_t msg[64] = {0};
    uint32_t len = 8 + 8 + 4 + 4 + 2;
    msg[0] = (uint8_t)len;
    msg[4] = GOFER_MSG_WALK;
    memcpy(msg + 8, &rootn.id, 8);
    msg[16] = 1;
    msg[20] = 2;
    msg[24] = '.';
    msg[25] = '.';
    struct gofer_msg resp;
    int fd;
    cr_assert_eq(gofer_client_call_raw(cl, msg, len, -1, &resp, &fd), -EINVAL);
    /* The same with a slash inside and with a NUL. */
    msg[24] = 'a';
    msg[25] = '/';
    cr_assert_eq(gofer_client_call_raw(cl, msg, len, -1, &resp, &fd), -EINVAL);
    msg[25] = '\0';
    cr_assert_eq(gofer_client_call_raw(cl, msg, len, -1, &resp, &fd), -EINVAL);
}

Test(gofer_server, transport_abuse)
{
    struct gofer_msg resp;
    int fd;
    /* An fd sent by the client is refused and not kept. */
    uint8_t mount[8] = {8, 0, 0, 0, GOFER_MSG_MOUNT, 0, 0, 0};
    int dfd = open("/dev/null", O_RDONLY);
    cr_assert_eq(gofer_client_call_raw(cl, mount, 8, dfd, &resp, &fd), -EINVAL);
    close(dfd);
    /* Too big for the protocol. */
    size_t big = GOFER_MAX_MSG + 100;
    uint8_t *huge = calloc(1, big);
    huge[0] = (uint8_t)big;
    huge[1] = (uint8_t)(big >> 8);
    huge[2] = (uint8_t)(big >> 16);
    huge[4] = GOFER_MSG_MOUNT;
    cr_assert_eq(gofer_client_call_raw(cl, huge, big, -1, &resp, &fd), -EMSGSIZE);
    free(huge);
    /* Unknown type, truncated header, response type sent as request. */
    uint8_t unk[8] = {8, 0, 0, 0, 200, 0, 0, 0};
    cr_assert_eq(gofer_client_call_raw(cl, unk, 8, -1, &resp, &fd), -ENOSYS);
    cr_assert_eq(gofer_client_call_raw(cl, unk, 3, -1, &resp, &fd), -EINVAL);
    uint8_t rsp[8] = {8, 0, 0, 0, GOFER_MSG_CLOSE, 0x80, 0, 0};
    cr_assert_eq(gofer_client_call_raw(cl, rsp, 8, -1, &resp, &fd), -EINVAL);
    /* STAT of the root with a trailing byte the size field covers. */
    uint8_t stat[17] = {17, 0, 0, 0, GOFER_MSG_STAT, 0, 0, 0};
    memcpy(stat + 8, &rootn.id, 8);
    cr_assert_eq(gofer_client_call_raw(cl, stat, 17, -1, &resp, &fd), -EINVAL);
    stat[0] = 16;
    cr_assert_eq(gofer_client_call_raw(cl, stat, 16, -1, &resp, &fd), 0);
    cr_assert_eq(resp.type, GOFER_MSG_STAT | GOFER_RESP_BIT);
    cr_assert_eq(resp.nodes[0].stat.ino, rootn.stat.ino);
    /* The server still answers. */
    struct gofer_stat st;
    cr_assert_eq(gofer_client_stat(cl, rootn.id, &st), 0);
}

Test(gofer_server, create_write_read_back)
{
    struct gofer_node n;
    int fd;
    cr_assert_eq(
        gofer_client_create_file(cl, rootn.id, "new.txt", GOFER_O_RDWR, 0640, 0, 0, &n, &fd), 0);
    cr_assert(S_ISREG(n.stat.mode));
    cr_assert_eq(n.stat.mode & 07777, 0640);
    cr_assert_eq(write(fd, "data!", 5), 5);
    close(fd);
    char p[256], buf[16];
    path(p, sizeof(p), "new.txt");
    int hfd = open(p, O_RDONLY);
    read_all(hfd, buf, sizeof(buf));
    close(hfd);
    cr_assert_str_eq(buf, "data!");
    cr_assert_eq(
        gofer_client_create_file(cl, rootn.id, "new.txt", GOFER_O_RDWR, 0640, 0, 0, &n, &fd),
        -EEXIST);
    /* Creating over a symlink never creates its target. */
    cr_assert_eq(
        gofer_client_create_file(cl, rootn.id, "link_secret", GOFER_O_WRONLY, 0644, 0, 0, &n, &fd),
        -EEXIST);
    /* Open for writing with truncation through the donated fd. */
    uint64_t id = walk1("new.txt", NULL);
    cr_assert_eq(gofer_client_open(cl, id, GOFER_O_WRONLY | GOFER_O_TRUNC, &fd), 0);
    cr_assert_eq(write(fd, "xy", 2), 2);
    close(fd);
    struct gofer_stat st;
    cr_assert_eq(gofer_client_stat(cl, id, &st), 0);
    cr_assert_eq(st.size, 2);
    cr_assert_eq(gofer_client_open(cl, id, 0x8000, &fd), -EINVAL);
    uint64_t dir = walk1("dir", NULL);
    cr_assert_eq(gofer_client_open(cl, dir, GOFER_O_WRONLY, &fd), -EISDIR);
}

Test(gofer_server, mkdir_getdents_rename_unlink)
{
    struct gofer_node d, f;
    int fd;
    cr_assert_eq(gofer_client_mkdir(cl, rootn.id, "d", 0750, 0, 0, &d), 0);
    cr_assert(S_ISDIR(d.stat.mode));
    cr_assert_eq(d.stat.mode & 07777, 0750);
    const char *files[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(
            gofer_client_create_file(cl, d.id, files[i], GOFER_O_WRONLY, 0644, 0, 0, &f, &fd), 0);
        close(fd);
    }
    /* Read the directory in small pieces and find every entry once. */
    uint64_t cookie = 0, next;
    unsigned seen = 0, total = 0;
    char buf[64];
    for (;;) {
        int n = gofer_client_getdents64(cl, d.id, cookie, buf, sizeof(buf), &next);
        cr_assert(n >= 0, "getdents %d", n);
        if (n == 0)
            break;
        for (int off = 0; off < n;) {
            uint16_t reclen;
            memcpy(&reclen, buf + off + 16, 2);
            const char *name = buf + off + 19;
            total++;
            for (int i = 0; i < 3; i++)
                if (strcmp(name, files[i]) == 0)
                    seen |= 1u << i;
            off += reclen;
        }
        cookie = next;
    }
    cr_assert_eq(seen, 7);
    cr_assert_eq(total, 5); /* ".", "..", a, b, c */
    /* A node stays usable after its entry is renamed through the Gofer. */
    const char *an[] = {"a"};
    struct gofer_node out[1];
    uint32_t walked, stop;
    cr_assert_eq(gofer_client_walk(cl, d.id, an, 1, out, &walked, &stop), 0);
    cr_assert_eq(gofer_client_rename(cl, d.id, "a", rootn.id, "moved", 0), 0);
    cr_assert_eq(gofer_client_open(cl, out[0].id, GOFER_O_RDONLY, &fd), 0);
    close(fd);
    cr_assert_eq(gofer_client_rename(cl, d.id, "b", d.id, "c", GOFER_RENAME_NOREPLACE), -EEXIST);
    cr_assert_eq(gofer_client_rename(cl, d.id, "b", d.id, "c", GOFER_RENAME_EXCHANGE), 0);
    cr_assert_eq(gofer_client_rename(cl, d.id, "b", d.id, "c", 3), -EINVAL);
    char p[256];
    path(p, sizeof(p), "moved");
    cr_assert(access(p, F_OK) == 0);
    /* unlink and rmdir */
    cr_assert_eq(gofer_client_unlink(cl, d.id, "d", 0), -ENOENT);
    cr_assert_eq(gofer_client_unlink(cl, rootn.id, "d", GOFER_UNLINK_REMOVEDIR), -ENOTEMPTY);
    cr_assert_eq(gofer_client_unlink(cl, d.id, "b", 0), 0);
    cr_assert_eq(gofer_client_unlink(cl, d.id, "c", 0), 0);
    cr_assert_eq(gofer_client_unlink(cl, rootn.id, "d", 0), -EISDIR);
    cr_assert_eq(gofer_client_unlink(cl, rootn.id, "d", GOFER_UNLINK_REMOVEDIR), 0);
    path(p, sizeof(p), "d");
    cr_assert(access(p, F_OK) != 0);
}

Test(gofer_server, symlink_link_readlink)
{
    struct gofer_node s, l;
    cr_assert_eq(gofer_client_symlink(cl, rootn.id, "sl", "../../etc/passwd", 0, 0, &s), 0);
    cr_assert(S_ISLNK(s.stat.mode));
    char buf[64];
    int n = gofer_client_readlink(cl, s.id, buf, sizeof(buf));
    cr_assert_eq(n, 16);
    cr_assert(memcmp(buf, "../../etc/passwd", 16) == 0);
    cr_assert_eq(gofer_client_readlink(cl, rootn.id, buf, sizeof(buf)), -EINVAL);
    uint64_t file = walk1("dir", "file.txt");
    cr_assert_eq(gofer_client_link(cl, rootn.id, "hard", file, &l), 0);
    cr_assert_eq(l.stat.nlink, 2);
    struct gofer_stat st;
    cr_assert_eq(gofer_client_stat(cl, file, &st), 0);
    cr_assert_eq(st.ino, l.stat.ino);
    uint64_t dir = walk1("dir", NULL);
    cr_assert_eq(gofer_client_link(cl, rootn.id, "hd", dir, &l), -EPERM);
}

Test(gofer_server, setstat_mode_size_times_owner)
{
    uint64_t file = walk1("dir", "file.txt");
    struct gofer_setstat a = {.mask = GOFER_SETSTAT_MODE | GOFER_SETSTAT_SIZE |
                                      GOFER_SETSTAT_ATIME | GOFER_SETSTAT_MTIME,
                              .mode = 0600,
                              .size = 2,
                              .atime_sec = 1000,
                              .atime_nsec = 5,
                              .mtime_sec = 2000,
                              .mtime_nsec = GOFER_UTIME_OMIT};
    struct gofer_stat st, before;
    cr_assert_eq(gofer_client_stat(cl, file, &before), 0);
    cr_assert_eq(gofer_client_setstat(cl, file, &a, &st), 0);
    cr_assert_eq(st.mode & 07777, 0600);
    cr_assert_eq(st.size, 2);
    cr_assert_eq(st.atime_sec, 1000);
    cr_assert_eq(st.atime_nsec, 5);
    cr_assert_neq(st.mtime_sec, 2000, "OMIT must leave mtime alone");
    a = (struct gofer_setstat){.mask = GOFER_SETSTAT_MTIME, .mtime_nsec = GOFER_UTIME_NOW};
    cr_assert_eq(gofer_client_setstat(cl, file, &a, &st), 0);
    cr_assert(st.mtime_sec > 1000);
    if (geteuid() == 0) {
        a = (struct gofer_setstat){
            .mask = GOFER_SETSTAT_UID | GOFER_SETSTAT_GID, .uid = 1234, .gid = 5678};
        cr_assert_eq(gofer_client_setstat(cl, file, &a, &st), 0);
        cr_assert_eq(st.uid, 1234);
        cr_assert_eq(st.gid, 5678);
    }
    a = (struct gofer_setstat){.mask = 0x100};
    cr_assert_eq(gofer_client_setstat(cl, file, &a, &st), -EINVAL);
    a = (struct gofer_setstat){.mask = GOFER_SETSTAT_ATIME, .atime_nsec = 1000000000};
    cr_assert_eq(gofer_client_setstat(cl, file, &a, &st), -EINVAL);
    uint64_t dir = walk1("dir", NULL);
    a = (struct gofer_setstat){.mask = GOFER_SETSTAT_SIZE};
    cr_assert_eq(gofer_client_setstat(cl, dir, &a, &st), -EISDIR);
}

Test(gofer_server, xattrs)
{
    uint64_t file = walk1("dir", "file.txt");
    int r = gofer_client_setxattr(cl, file, "user.moat", "v1", 2, 0);
    if (r == -EOPNOTSUPP)
        cr_skip_test("no user xattrs here");
    cr_assert_eq(r, 0);
    char buf[64];
    cr_assert_eq(gofer_client_getxattr(cl, file, "user.moat", NULL, 0), 2);
    cr_assert_eq(gofer_client_getxattr(cl, file, "user.moat", buf, sizeof(buf)), 2);
    cr_assert(memcmp(buf, "v1", 2) == 0);
    cr_assert_eq(gofer_client_getxattr(cl, file, "user.moat", buf, 1), -ERANGE);
    cr_assert_eq(gofer_client_setxattr(cl, file, "user.moat", "v2", 2, XATTR_CREATE), -EEXIST);
    cr_assert_eq(gofer_client_setxattr(cl, file, "trusted.x", "v", 1, 0), -EOPNOTSUPP);
    cr_assert_eq(gofer_client_getxattr(cl, file, "security.selinux", buf, 64), -EOPNOTSUPP);
    int n = gofer_client_listxattr(cl, file, buf, sizeof(buf));
    cr_assert_eq(n, 10);
    cr_assert_str_eq(buf, "user.moat");
    cr_assert_eq(gofer_client_listxattr(cl, file, NULL, 0), 10);
    cr_assert_eq(gofer_client_removexattr(cl, file, "user.moat"), 0);
    cr_assert_eq(gofer_client_getxattr(cl, file, "user.moat", buf, 64), -ENODATA);
}

/* xattr requests act on the node itself and never through a symlink: a
 * link inside the root that points outside gets EPERM (as Linux answers
 * user.* on a symlink), and the file outside keeps no trace. */
Test(gofer_server, xattrs_stay_beneath)
{
    char secret[256];
    snprintf(secret, sizeof(secret), "%s/secret", outside);
    if (setxattr(secret, "user.probe", "1", 1, 0) != 0 && errno == EOPNOTSUPP)
        cr_skip_test("no user xattrs here");
    removexattr(secret, "user.probe");
    const char *links[] = {"link_secret", "link_outside", "link_root", "link_up", "link_proc"};
    char buf[64];
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        uint64_t l = walk1(links[i], NULL);
        cr_assert_eq(gofer_client_setxattr(cl, l, "user.escape", "x", 1, 0), -EPERM, "%s",
                     links[i]);
        cr_assert_eq(gofer_client_getxattr(cl, l, "user.escape", buf, sizeof(buf)), -EPERM, "%s",
                     links[i]);
        cr_assert_eq(gofer_client_removexattr(cl, l, "user.escape"), -EPERM, "%s", links[i]);
        cr_assert_eq(gofer_client_listxattr(cl, l, buf, sizeof(buf)), 0, "%s", links[i]);
        cr_assert_eq(gofer_client_allocate(cl, l, 0, 0, 4096), -ENODEV, "%s", links[i]);
    }
    cr_assert_eq(getxattr(secret, "user.escape", buf, sizeof(buf)), -1);
    cr_assert_eq(errno, ENODATA, "the file outside the root is untouched");
    struct stat st;
    cr_assert_eq(stat(secret, &st), 0);
    cr_assert_eq(st.st_size, 6, "and keeps its size");
    /* Names are names, never paths, and only user.* passes. */
    uint64_t file = walk1("dir", "file.txt");
    cr_assert_eq(gofer_client_setxattr(cl, file, "user.", "x", 1, 0), -EINVAL);
    cr_assert_eq(gofer_client_setxattr(cl, file, "../user.x", "x", 1, 0), -EOPNOTSUPP);
    cr_assert_eq(gofer_client_setxattr(cl, file, "trusted.overlay.opaque", "y", 1, 0), -EOPNOTSUPP);
    cr_assert_eq(gofer_client_getxattr(cl, 987654321, "user.x", buf, sizeof(buf)), -EBADF,
                 "an id the Gofer never handed out");
}

Test(gofer_server, statfs_fsync_allocate_mknod)
{
    struct gofer_statfs sf;
    cr_assert_eq(gofer_client_statfs(cl, rootn.id, &sf), 0);
    cr_assert(sf.bsize > 0 && sf.namelen == 255);
    uint64_t file = walk1("dir", "file.txt");
    cr_assert_eq(gofer_client_fsync(cl, file, 0), 0);
    cr_assert_eq(gofer_client_fsync(cl, rootn.id, 1), 0);
    cr_assert_eq(gofer_client_allocate(cl, file, 0, 0, 8192), 0);
    struct gofer_stat st;
    cr_assert_eq(gofer_client_stat(cl, file, &st), 0);
    cr_assert_eq(st.size, 8192);
    cr_assert_eq(gofer_client_allocate(cl, file, 0, UINT64_MAX, 1), -EINVAL);
    cr_assert_eq(gofer_client_allocate(cl, file, 0x40, 0, 1), -EOPNOTSUPP);
    struct gofer_node n;
    cr_assert_eq(gofer_client_mknod(cl, rootn.id, "fifo", S_IFIFO | 0644, 0, 0, &n), 0);
    cr_assert(S_ISFIFO(n.stat.mode));
    int fd;
    cr_assert_eq(gofer_client_open(cl, n.id, GOFER_O_RDONLY, &fd), 0, "FIFO open never blocks");
    close(fd);
    cr_assert_eq(gofer_client_mknod(cl, rootn.id, "null", S_IFCHR | 0666, 0, 0, &n), -EPERM);
    cr_assert_eq(gofer_client_mknod(cl, rootn.id, "blk", S_IFBLK | 0666, 0, 0, &n), -EPERM);
}

Test(gofer_server, device_nodes_are_never_opened)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to make a device node");
    char p[256];
    path(p, sizeof(p), "mem");
    cr_assert(mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0); /* like /dev/null */
    uint64_t id = walk1("mem", NULL);
    int fd;
    cr_assert_eq(gofer_client_open(cl, id, GOFER_O_RDONLY, &fd), -EPERM);
    /* Renamed (through the Gofer) over a held file's name, the device is
     * still not what the file's node reopens. */
    uint64_t file = walk1("dir", "file.txt");
    uint64_t dir = walk1("dir", NULL);
    cr_assert_eq(gofer_client_rename(cl, rootn.id, "mem", dir, "file.txt", 0), 0);
    cr_assert_eq(gofer_client_open(cl, file, GOFER_O_RDONLY, &fd), -ESTALE);
    cr_assert_eq(gofer_client_open(cl, id, GOFER_O_RDONLY, &fd), -EPERM);
}

Test(gofer_server, stale_after_host_swap)
{
    uint64_t id = walk1("dir", "file.txt");
    char p[256], q[256];
    path(p, sizeof(p), "dir/file.txt");
    path(q, sizeof(q), "dir/other");
    write_file("dir/other", "other");
    cr_assert(rename(q, p) == 0);
    int fd;
    cr_assert_eq(gofer_client_open(cl, id, GOFER_O_RDONLY, &fd), -ESTALE);
}

Test(gofer_server, connect_unix_socket)
{
    char p[256];
    path(p, sizeof(p), "sock");
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    cr_assert(strlen(p) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, p, strlen(p));
    cr_assert(bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    cr_assert(listen(ls, 1) == 0);
    uint64_t id = walk1("sock", NULL);
    int fd;
    cr_assert_eq(gofer_client_connect(cl, id, SOCK_STREAM, &fd), 0);
    int as = accept(ls, NULL, NULL);
    cr_assert(as >= 0);
    cr_assert_eq(write(fd, "ping", 4), 4);
    char buf[8] = {0};
    cr_assert_eq(read(as, buf, 4), 4);
    cr_assert_str_eq(buf, "ping");
    close(as);
    close(fd);
    close(ls);
    uint64_t file = walk1("dir", "file.txt");
    cr_assert_eq(gofer_client_connect(cl, file, SOCK_STREAM, &fd), -ECONNREFUSED);
    cr_assert_eq(gofer_client_connect(cl, id, 77, &fd), -EINVAL);
}

Test(gofer_server, walk_too_many_names)
{
    const char *names[GOFER_MAX_NAMES + 1];
    for (unsigned i = 0; i <= GOFER_MAX_NAMES; i++)
        names[i] = "dir";
    struct gofer_node out[GOFER_MAX_NAMES + 1];
    uint32_t walked, stop;
    cr_assert_eq(gofer_client_walk(cl, rootn.id, names, GOFER_MAX_NAMES + 1, out, &walked, &stop),
                 -E2BIG);
}

/* A full table refuses and leaves nothing behind. */
Test(gofer_server, table_bound)
{
    gofer_client_destroy(cl);
    pthread_join(thread, NULL);
    gofer_server_destroy(srv);
    start(false, 3); /* root + 2 */
    const char *names[] = {"dir", "sub", "x"};
    struct gofer_node out[3];
    uint32_t walked, stop;
    cr_assert_eq(gofer_client_walk(cl, rootn.id, names, 2, out, &walked, &stop), 0);
    cr_assert_eq(gofer_client_close(cl, &out[1].id, 1), 0);
    cr_assert_eq(gofer_client_close(cl, &out[0].id, 1), 0);
    cr_assert_eq(gofer_server_live_nodes(srv), 1);
    names[2] = "sub";
    const char *three[] = {"dir", "sub", "x"};
    char p[256];
    path(p, sizeof(p), "dir/sub/x");
    cr_assert(mkdir(p, 0755) == 0);
    cr_assert_eq(gofer_client_walk(cl, rootn.id, three, 3, out, &walked, &stop), -ENFILE);
    cr_assert_eq(gofer_server_live_nodes(srv), 1);
}

Test(gofer_ro, every_mutation_is_erofs)
{
    uint64_t file = walk1("dir", "file.txt");
    struct gofer_node n;
    int fd;
    cr_assert_eq(gofer_client_create_file(cl, rootn.id, "x", GOFER_O_RDWR, 0644, 0, 0, &n, &fd),
                 -EROFS);
    cr_assert_eq(gofer_client_mkdir(cl, rootn.id, "x", 0755, 0, 0, &n), -EROFS);
    cr_assert_eq(gofer_client_mknod(cl, rootn.id, "x", S_IFIFO | 0644, 0, 0, &n), -EROFS);
    cr_assert_eq(gofer_client_symlink(cl, rootn.id, "x", "y", 0, 0, &n), -EROFS);
    cr_assert_eq(gofer_client_link(cl, rootn.id, "x", file, &n), -EROFS);
    cr_assert_eq(gofer_client_unlink(cl, rootn.id, "dir", GOFER_UNLINK_REMOVEDIR), -EROFS);
    cr_assert_eq(gofer_client_rename(cl, rootn.id, "dir", rootn.id, "y", 0), -EROFS);
    struct gofer_setstat a = {.mask = GOFER_SETSTAT_MODE, .mode = 0777};
    cr_assert_eq(gofer_client_setstat(cl, file, &a, NULL), -EROFS);
    cr_assert_eq(gofer_client_allocate(cl, file, 0, 0, 10), -EROFS);
    cr_assert_eq(gofer_client_setxattr(cl, file, "user.a", "b", 1, 0), -EROFS);
    cr_assert_eq(gofer_client_removexattr(cl, file, "user.a"), -EROFS);
    cr_assert_eq(gofer_client_open(cl, file, GOFER_O_WRONLY, &fd), -EROFS);
    cr_assert_eq(gofer_client_open(cl, file, GOFER_O_RDONLY | GOFER_O_TRUNC, &fd), -EROFS);
    cr_assert_eq(gofer_client_open(cl, file, GOFER_O_RDONLY, &fd), 0);
    char buf[16];
    read_all(fd, buf, sizeof(buf));
    cr_assert_str_eq(buf, "hello");
    close(fd);
    char p[256];
    path(p, sizeof(p), "dir/file.txt");
    struct stat st;
    cr_assert(stat(p, &st) == 0 && st.st_size == 5 && (st.st_mode & 0777) == 0644);
}

/* ---- confinement and the seccomp allowlist, in forked children ---- */

static bool can_confine(void)
{
    return geteuid() == 0;
}

/* Runs in the child: every failed check exits with its own code. */
static int confined_checks(void)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/secret", outside);
    int err = gofer_confine(root, false);
    if (err)
        return 10;
    if (access("/dir/file.txt", R_OK) != 0)
        return 11;
    if (access(p, F_OK) == 0 || access("/tmp", F_OK) == 0)
        return 12; /* the host's tree is gone */
    if (access("/proc/self", F_OK) == 0)
        return 13;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        return 14;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return 15;
    unsigned long long eff = data[0].effective | (unsigned long long)data[1].effective << 32;
    unsigned long long prm = data[0].permitted | (unsigned long long)data[1].permitted << 32;
    if (eff != gofer_kept_caps() || prm != gofer_kept_caps())
        return 16;
    if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
        return 17;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(53)};
    sin.sin_addr.s_addr = htonl(0x01010101);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s >= 0 && connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0)
        return 18; /* a route out exists: no empty network namespace */
    /* Symlinks that point at "/" now point at the served root anyway. */
    if (access("/link_root/dir/file.txt", R_OK) != 0)
        return 19;
    return 0;
}

static int wait_child(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died by signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

Test(gofer_confine, sees_only_its_root, .timeout = 30)
{
    if (!can_confine())
        cr_skip_test("needs root");
    build_tree();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0)
        _exit(confined_checks());
    int code = wait_child(pid);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    cr_assert(system(cmd) == 0);
    cr_assert_eq(code, 0, "confined check %d failed", code);
}

/* The whole protocol under the allowlist: a call outside it would kill the
 * child (SIGSYS), which wait_child reports. */
Test(gofer_confine, serves_under_seccomp, .timeout = 30)
{
    if (!can_confine())
        cr_skip_test("needs root");
    build_tree();
    int sv[2];
    cr_assert(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    char p[256];
    path(p, sizeof(p), "sock");
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, p, strlen(p));
    cr_assert(bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(ls, 1) == 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        if (gofer_confine(root, false))
            _exit(10);
        int rfd = open("/", O_RDONLY | O_DIRECTORY);
        srv = gofer_server_create(rfd, false, 0);
        if (!srv)
            _exit(11);
        close(rfd);
        if (gofer_seccomp_install(false))
            _exit(12);
        _exit(gofer_serve(srv, sv[1]) == 0 ? 0 : 13);
    }
    close(sv[1]);
    cl = gofer_client_create(sv[0]);
    cr_assert_eq(gofer_client_mount(cl, &rootn), 0);
    uint64_t file = walk1("dir", "file.txt");
    int fd;
    char buf[64];
    cr_assert_eq(gofer_client_open(cl, file, GOFER_O_RDONLY, &fd), 0);
    read_all(fd, buf, sizeof(buf));
    close(fd);
    cr_assert_str_eq(buf, "hello");
    struct gofer_node n;
    cr_assert_eq(gofer_client_create_file(cl, rootn.id, "n", GOFER_O_RDWR, 0600, 0, 0, &n, &fd), 0);
    close(fd);
    cr_assert_eq(gofer_client_mkdir(cl, rootn.id, "m", 0700, 0, 0, &n), 0);
    cr_assert_eq(gofer_client_mknod(cl, rootn.id, "f", S_IFIFO | 0600, 0, 0, &n), 0);
    cr_assert_eq(gofer_client_symlink(cl, rootn.id, "s", "/", 0, 0, &n), 0);
    cr_assert_eq(gofer_client_readlink(cl, n.id, buf, sizeof(buf)), 1);
    cr_assert_eq(gofer_client_link(cl, rootn.id, "h", file, &n), 0);
    cr_assert_eq(gofer_client_rename(cl, rootn.id, "h", rootn.id, "h2", 0), 0);
    cr_assert_eq(gofer_client_unlink(cl, rootn.id, "h2", 0), 0);
    uint64_t next;
    cr_assert(gofer_client_getdents64(cl, rootn.id, 0, buf, sizeof(buf), &next) > 0);
    struct gofer_setstat a = {.mask = GOFER_SETSTAT_ALL & ~(GOFER_SETSTAT_UID | GOFER_SETSTAT_GID),
                              .mode = 0644,
                              .size = 1,
                              .atime_nsec = GOFER_UTIME_NOW,
                              .mtime_nsec = GOFER_UTIME_NOW};
    cr_assert_eq(gofer_client_setstat(cl, file, &a, NULL), 0);
    struct gofer_statfs sf;
    cr_assert_eq(gofer_client_statfs(cl, file, &sf), 0);
    cr_assert_eq(gofer_client_fsync(cl, file, 0), 0);
    cr_assert_eq(gofer_client_allocate(cl, file, 0, 0, 100), 0);
    gofer_client_setxattr(cl, file, "user.a", "b", 1, 0);
    gofer_client_getxattr(cl, file, "user.a", buf, sizeof(buf));
    gofer_client_listxattr(cl, file, buf, sizeof(buf));
    gofer_client_removexattr(cl, file, "user.a");
    uint64_t sock = walk1("sock", NULL);
    cr_assert_eq(gofer_client_connect(cl, sock, SOCK_STREAM, &fd), 0);
    close(fd);
    cr_assert_eq(gofer_client_close(cl, &file, 1), 0);
    gofer_client_destroy(cl);
    close(ls);
    int code = wait_child(pid);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    cr_assert(system(cmd) == 0);
    cr_assert_eq(code, 0);
}

Test(gofer_confine, read_only_root, .timeout = 30)
{
    if (!can_confine())
        cr_skip_test("needs root");
    build_tree();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (gofer_confine(root, true))
            _exit(10);
        if (access("/dir/file.txt", R_OK) != 0)
            _exit(11);
        int fd = open("/new", O_WRONLY | O_CREAT, 0644);
        _exit(fd < 0 && errno == EROFS ? 0 : 12);
    }
    int code = wait_child(pid);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    cr_assert(system(cmd) == 0);
    cr_assert_eq(code, 0, "confined check %d failed", code);
}

/* A host mount below the served root (as /proc is below "/") does not come
 * along: the Gofer sees only the directory beneath it. */
Test(gofer_confine, host_submounts_are_not_served, .timeout = 30)
{
    if (!can_confine())
        cr_skip_test("needs root");
    build_tree();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* A private mount namespace first, so the test mount stays ours. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            _exit(20);
        char sub[300], file[320];
        snprintf(sub, sizeof(sub), "%s/dir", root);
        if (mount("hostmount", sub, "tmpfs", 0, NULL) < 0)
            _exit(21);
        snprintf(file, sizeof(file), "%s/on-the-host-mount", sub);
        int fd = open(file, O_CREAT | O_WRONLY, 0644);
        if (fd < 0)
            _exit(22);
        close(fd);
        if (gofer_confine(root, false))
            _exit(23);
        if (access("/dir/on-the-host-mount", F_OK) == 0)
            _exit(24); /* the host's submount came along */
        if (access("/dir/file.txt", F_OK) != 0)
            _exit(25); /* the directory beneath it is what is served */
        _exit(0);
    }
    int code = wait_child(pid);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    cr_assert(system(cmd) == 0);
    cr_assert_eq(code, 0, "check %d failed", code);
}
