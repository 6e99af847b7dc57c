/*
 * Extended attributes: user.* set/get/list/remove by path, by fd and
 * without following symlinks; XATTR_CREATE/REPLACE; size-0 queries, ERANGE,
 * ENODATA; name and value limits; namespaces (unknown prefixes, user.* on
 * symlinks, trusted.* for root). In a fresh directory under /tmp; natively
 * the host filesystem may refuse user.* (EOPNOTSUPP), and then the tests
 * are skipped; under moat /tmp must support them.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];

/* The names listxattr returned contain name exactly once. */
static int listed(const char *list, long len, const char *name)
{
    int n = 0;
    for (long off = 0; off < len; off += (long)strlen(list + off) + 1) {
        if (strcmp(list + off, name) == 0)
            n++;
    }
    return n;
}

static void test_basic(void)
{
    char buf[256];
    is_int(e(setxattr("f", "user.a", "hello", 5, 0)), 0, "setxattr user.a");
    is_int(e(getxattr("f", "user.a", NULL, 0)), 5, "size 0 asks for the length");
    memset(buf, 0, sizeof(buf));
    is_int(e(getxattr("f", "user.a", buf, sizeof(buf))), 5, "getxattr");
    ok(memcmp(buf, "hello", 5) == 0, "the value");
    is_int(e(getxattr("f", "user.a", buf, 4)), -ERANGE, "buffer too small: ERANGE");
    is_int(e(getxattr("f", "user.none", buf, sizeof(buf))), -ENODATA, "missing name: ENODATA");
    is_int(e(setxattr("f", "user.a", "x", 1, XATTR_CREATE)), -EEXIST, "XATTR_CREATE on existing");
    is_int(e(setxattr("f", "user.b", "x", 1, XATTR_REPLACE)), -ENODATA, "XATTR_REPLACE on missing");
    is_int(e(setxattr("f", "user.a", "bye", 3, XATTR_REPLACE)), 0, "XATTR_REPLACE on existing");
    is_int(e(getxattr("f", "user.a", buf, sizeof(buf))), 3, "replaced value's length");
    ok(memcmp(buf, "bye", 3) == 0, "replaced value");
    is_int(e(setxattr("f", "user.b", "", 0, XATTR_CREATE)), 0, "XATTR_CREATE, empty value");
    is_int(e(getxattr("f", "user.b", buf, sizeof(buf))), 0, "an empty value is a value");
    is_int(e(setxattr("f", "user.c", "x", 1, 4)), -EINVAL, "unknown flag: EINVAL");
    long need = e(listxattr("f", NULL, 0));
    ok(need >= 14, "listxattr size query (%ld)", need);
    char list[1024];
    long got = e(listxattr("f", list, sizeof(list)));
    is_int(got, need, "listxattr fills what the query said");
    ok(listed(list, got, "user.a") == 1 && listed(list, got, "user.b") == 1, "both names listed");
    is_int(e(listxattr("f", list, 3)), -ERANGE, "list buffer too small: ERANGE");
    is_int(e(removexattr("f", "user.a")), 0, "removexattr");
    is_int(e(removexattr("f", "user.a")), -ENODATA, "removing again: ENODATA");
    is_int(e(getxattr("f", "user.a", buf, sizeof(buf))), -ENODATA, "gone");
    got = e(listxattr("f", list, sizeof(list)));
    ok(got >= 0 && listed(list, got, "user.a") == 0 && listed(list, got, "user.b") == 1,
       "the list follows");
    is_int(e(removexattr("f", "user.b")), 0, "remove the other");
}

static void test_fd_and_links(void)
{
    char buf[64];
    int fd = (int)e(open("f", O_RDONLY));
    is_int(e(fsetxattr(fd, "user.fd", "v", 1, 0)), 0, "fsetxattr on a read-only fd");
    is_int(e(fgetxattr(fd, "user.fd", buf, sizeof(buf))), 1, "fgetxattr");
    char list[256];
    long got = e(flistxattr(fd, list, sizeof(list)));
    ok(got > 0 && listed(list, got, "user.fd") == 1, "flistxattr");
    is_int(e(fremovexattr(fd, "user.fd")), 0, "fremovexattr");
    is_int(e(fgetxattr(999, "user.fd", buf, sizeof(buf))), -EBADF, "bad fd: EBADF");
    close(fd);
    int p = (int)e(open("f", O_PATH));
    is_int(e(fgetxattr(p, "user.fd", buf, sizeof(buf))), -EBADF, "O_PATH fd: EBADF");
    close(p);
    /* Through a symlink: the plain calls reach the file, l* the link. */
    symlink("f", "l");
    is_int(e(setxattr("l", "user.via", "1", 1, 0)), 0, "setxattr follows a symlink");
    is_int(e(getxattr("f", "user.via", buf, sizeof(buf))), 1, "and set the target's");
    is_int(e(lgetxattr("l", "user.via", buf, sizeof(buf))), -ENODATA,
           "lgetxattr user.* on a symlink: ENODATA");
    is_int(e(lsetxattr("l", "user.x", "1", 1, 0)), -EPERM, "lsetxattr user.* on a symlink: EPERM");
    is_int(e(lremovexattr("l", "user.via")), -EPERM, "lremovexattr user.* on a symlink: EPERM");
    is_int(e(llistxattr("l", NULL, 0)), 0, "llistxattr on a symlink: nothing");
    is_int(e(lgetxattr("f", "user.via", buf, sizeof(buf))), 1, "lgetxattr on a file works");
    is_int(e(removexattr("l", "user.via")), 0, "removexattr follows too");
    unlink("l");
    is_int(e(getxattr("missing", "user.a", buf, sizeof(buf))), -ENOENT, "no such file: ENOENT");
    mkdir("d", 0755);
    is_int(e(setxattr("d", "user.dir", "1", 1, 0)), 0, "directories carry user.* too");
    is_int(e(removexattr("d", "user.dir")), 0, "and lose them");
    rmdir("d");
}

static void test_limits(void)
{
    char name[300], buf[16];
    memset(name, 'n', sizeof(name));
    memcpy(name, "user.", 5);
    name[255] = '\0';
    is_int(e(setxattr("f", name, "1", 1, 0)), 0, "a 255-byte name");
    is_int(e(removexattr("f", name)), 0, "removed");
    name[255] = 'n';
    name[256] = '\0';
    is_int(e(setxattr("f", name, "1", 1, 0)), -ERANGE, "a 256-byte name: ERANGE");
    is_int(e(getxattr("f", name, buf, sizeof(buf))), -ERANGE, "get with it: ERANGE");
    is_int(e(setxattr("f", "", "1", 1, 0)), -ERANGE, "an empty name: ERANGE");
    is_int(e(setxattr("f", "user.", "1", 1, 0)), -EINVAL, "a bare prefix: EINVAL");
    is_int(e(setxattr("f", "bogus.a", "1", 1, 0)), -EOPNOTSUPP, "unknown namespace: EOPNOTSUPP");
    is_int(e(getxattr("f", "bogus.a", buf, sizeof(buf))), -EOPNOTSUPP,
           "get, unknown namespace: EOPNOTSUPP");
    static char big[65537];
    is_int(e(setxattr("f", "user.big", big, sizeof(big), 0)), -E2BIG, "a value over 64 KiB: E2BIG");
    is_int(SC(SYS_setxattr, "f", "user.v", 8L, 4, 0), -EFAULT, "bad value pointer: EFAULT");
    is_int(SC(SYS_setxattr, "f", 8L, "1", 1, 0), -EFAULT, "bad name pointer: EFAULT");
    is_int(e(setxattr("f", "user.v", "1234", 4, 0)), 0, "set");
    is_int(SC(SYS_getxattr, "f", "user.v", 8L, 4), -EFAULT, "get into a bad buffer: EFAULT");
    is_int(e(removexattr("f", "user.v")), 0, "removed");
}

static void test_trusted(void)
{
    char buf[16];
    if (geteuid() != 0) {
        skip("not root", "trusted.* needs CAP_SYS_ADMIN");
        return;
    }
    long r = e(setxattr("f", "trusted.t", "1", 1, 0));
    if (r == -EOPNOTSUPP) {
        skip("no trusted.* here", "trusted.* as root");
        return;
    }
    is_int(r, 0, "root sets trusted.*");
    is_int(e(getxattr("f", "trusted.t", buf, sizeof(buf))), 1, "and reads it");
    char list[256];
    long got = e(listxattr("f", list, sizeof(list)));
    ok(got > 0 && listed(list, got, "trusted.t") == 1, "root sees trusted.* listed");
    is_int(e(removexattr("f", "trusted.t")), 0, "and removes it");
}

/* A file of the image (the Gofer's under moat): reads of user.* reach it. */
static void test_image_file(void)
{
    char self[4096], buf[64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        skip("no /proc/self/exe", "xattrs of the executable");
        return;
    }
    self[n] = '\0';
    is_int(e(getxattr(self, "user.moat-none", buf, sizeof(buf))), -ENODATA,
           "an image file: missing user.* name is ENODATA");
    ok(e(listxattr(self, NULL, 0)) >= 0, "an image file lists its attributes");
    is_int(e(getxattr(self, "bogus.x", buf, sizeof(buf))), -EOPNOTSUPP,
           "an image file: unknown namespace");
}

int main(void)
{
    strcpy(dir, "/tmp/moat-xattr-XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory: %s", strerror(errno));
        return 1;
    }
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    close(fd);
    long probe = e(setxattr("f", "user.probe", "1", 1, 0));
    if (probe == -EOPNOTSUPP) {
        skip("this filesystem has no user.* xattrs", "xattrs");
    } else {
        is_int(probe, 0, "user.* xattrs are supported");
        removexattr("f", "user.probe");
        test_basic();
        test_fd_and_links();
        test_limits();
        test_trusted();
    }
    test_image_file();
    unlink("f");
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    done_testing();
}
