/*
 * Path resolution: absolute and relative paths, dirfds, "." and "..",
 * symlinks (relative, absolute, chained, dangling, loops), trailing
 * slashes, name and path length limits, bad path pointers, openat2's
 * RESOLVE_* scoping. Works inside a fresh directory under /tmp and removes
 * it at the end.
 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];

static long size_of(const char *path)
{
    struct stat st;
    long r = e(stat(path, &st));
    return r < 0 ? r : st.st_size;
}

static long openat2_(int dirfd, const char *path, unsigned long flags, unsigned long resolve)
{
    struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
    long fd = e(syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
    if (fd >= 0)
        close((int)fd);
    return fd < 0 ? fd : 0;
}

static void setup(void)
{
    mkdir("a", 0755);
    mkdir("a/b", 0755);
    int fd = open("a/b/file", O_CREAT | O_WRONLY, 0644);
    (void)!write(fd, "12345", 5);
    close(fd);
    symlink("b/file", "a/rel"); /* relative to a/ */
    symlink("../a/b", "a/up");  /* through .. */
    char abs[128];
    snprintf(abs, sizeof(abs), "%s/a/b/file", dir);
    symlink(abs, "abs");       /* absolute */
    symlink("a/rel", "chain"); /* a link to a link */
    symlink("nowhere", "dangling");
    symlink("loop2", "loop1");
    symlink("loop1", "loop2");
    symlink("/", "toroot");
}

static void test_resolution(void)
{
    is_int(size_of("a/b/file"), 5, "relative path");
    char abs[128];
    snprintf(abs, sizeof(abs), "%s/a/b/file", dir);
    is_int(size_of(abs), 5, "absolute path");
    is_int(size_of("./a/./b/../b/file"), 5, "'.' and '..' components");
    is_int(size_of("a//b///file"), 5, "repeated slashes");
    is_int(size_of("a/rel"), 5, "relative symlink");
    is_int(size_of("a/up/file"), 5, "symlink through ..");
    is_int(size_of("abs"), 5, "absolute symlink");
    is_int(size_of("chain"), 5, "chained symlinks");
    is_int(size_of("dangling"), -ENOENT, "dangling symlink is ENOENT");
    is_int(size_of("loop1"), -ELOOP, "symlink loop is ELOOP");
    is_int(size_of("loop1/x"), -ELOOP, "loop in an intermediate component is ELOOP");
    is_int(size_of("a/b/file/"), -ENOTDIR, "trailing slash on a file is ENOTDIR");
    is_int(size_of("a/b/file/x"), -ENOTDIR, "a file as a directory is ENOTDIR");
    is_int(size_of("a/missing/x"), -ENOENT, "missing intermediate is ENOENT");
    is_int(size_of("a/up/"), size_of("a/b"), "trailing slash on a link to a dir");
    struct stat st;
    is_int(e(stat("/..", &st)), 0, "/.. exists");
    struct stat root;
    stat("/", &root);
    ok(st.st_ino == root.st_ino, "/.. is /");
    is_int(e(stat("toroot/..", &st)), 0, "a link to / then ..");
    ok(st.st_ino == root.st_ino, "stays at /");

    /* Forty links are allowed, the forty-first is ELOOP. */
    char name[32], target[32];
    symlink("a/b/file", "l0");
    for (int i = 1; i <= 41; i++) {
        snprintf(name, sizeof(name), "l%d", i);
        snprintf(target, sizeof(target), "l%d", i - 1);
        symlink(target, name);
    }
    is_int(size_of("l39"), 5, "a chain of 40 links resolves");
    is_int(size_of("l40"), -ELOOP, "41 links is ELOOP");
    for (int i = 0; i <= 41; i++) {
        snprintf(name, sizeof(name), "l%d", i);
        unlink(name);
    }
}

static void test_dirfd(void)
{
    int a = (int)e(syscall(SYS_open, "a", O_RDONLY | O_DIRECTORY));
    ok(a >= 0, "open a directory");
    struct stat st;
    is_int(e(fstatat(a, "b/file", &st, 0)), 0, "fstatat relative to a dirfd");
    is_int(st.st_size, 5, "right file");
    is_int(e(fstatat(a, "rel", &st, AT_SYMLINK_NOFOLLOW)), 0, "AT_SYMLINK_NOFOLLOW");
    ok(S_ISLNK(st.st_mode), "sees the link");
    char abs[128];
    snprintf(abs, sizeof(abs), "%s/a/b/file", dir);
    is_int(e(fstatat(999, abs, &st, 0)), 0, "an absolute path ignores a bad dirfd");
    is_int(e(fstatat(999, "b/file", &st, 0)), -EBADF, "a relative path with a bad dirfd is EBADF");
    int f = (int)e(syscall(SYS_open, "a/b/file", O_RDONLY));
    is_int(e(fstatat(f, "x", &st, 0)), -ENOTDIR, "a file as dirfd is ENOTDIR");
    is_int(e(syscall(SYS_newfstatat, f, "", &st, AT_EMPTY_PATH)), 0, "AT_EMPTY_PATH on a file fd");
    is_int(st.st_size, 5, "the fd's file");
    int p = (int)e(syscall(SYS_open, "a", O_PATH | O_DIRECTORY));
    is_int(e(fstatat(p, "b/file", &st, 0)), 0, "an O_PATH dirfd works");
    int c = (int)e(syscall(SYS_openat, a, "new", O_CREAT | O_WRONLY, 0600));
    ok(c >= 0, "openat O_CREAT relative to a dirfd");
    is_int(e(stat("a/new", &st)), 0, "created in the dirfd's directory");
    unlink("a/new");
    close(c);
    close(p);
    close(f);
    close(a);
}

static void test_limits(void)
{
    char name[300];
    memset(name, 'n', 256);
    name[256] = '\0';
    is_int(e(syscall(SYS_open, name, O_CREAT | O_WRONLY, 0644)), -ENAMETOOLONG,
           "a 256-byte name is ENAMETOOLONG");
    name[255] = '\0';
    long fd = e(syscall(SYS_open, name, O_CREAT | O_WRONLY, 0644));
    ok(fd >= 0, "a 255-byte name is fine");
    if (fd >= 0)
        close((int)fd);
    unlink(name);
    static char path[5000];
    memset(path, 0, sizeof(path));
    for (size_t i = 0; i + 2 < 4096; i += 2)
        memcpy(path + i, "./", 2);
    strcpy(path + 4094, "a");
    is_int(strlen(path), 4095, "built a 4095-byte path");
    is_int(e(syscall(SYS_access, path, F_OK)), 0, "a 4095-byte path resolves");
    memset(path, 0, sizeof(path));
    for (size_t i = 0; i < 4096; i += 2)
        memcpy(path + i, "./", 2);
    is_int(e(syscall(SYS_access, path, F_OK)), -ENAMETOOLONG, "a 4096-byte path is ENAMETOOLONG");
    is_int(e(syscall(SYS_mkdir, path, 0755)), -ENAMETOOLONG, "mkdir too long is ENAMETOOLONG");
    is_int(e(syscall(SYS_unlink, path)), -ENAMETOOLONG, "unlink too long is ENAMETOOLONG");

    long pg = sysconf(_SC_PAGESIZE);
    char *m =
        mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + pg, (size_t)pg);
    memcpy(m + pg - 3, "abc", 3); /* no NUL before the unmapped page */
    is_int(e(syscall(SYS_open, m + pg - 3, O_RDONLY)), -EFAULT,
           "a path running into an unmapped page is EFAULT");
    is_int(e(syscall(SYS_mkdir, m + pg, 0755)), -EFAULT, "mkdir unmapped path is EFAULT");
    is_int(e(syscall(SYS_unlink, NULL)), -EFAULT, "unlink NULL is EFAULT");
    is_int(e(syscall(SYS_rename, "a", NULL)), -EFAULT, "rename NULL new path is EFAULT");
    is_int(e(syscall(SYS_symlink, NULL, "x")), -EFAULT, "symlink NULL target is EFAULT");
    is_int(e(syscall(SYS_readlink, (char *)0xffff800000000000UL, path, 10)), -EFAULT,
           "readlink kernel-address path is EFAULT");
    is_int(e(syscall(SYS_statx, AT_FDCWD, m + pg, 0, 0, path)), -EFAULT,
           "statx unmapped path is EFAULT");
    munmap(m, (size_t)pg);
    is_int(e(syscall(SYS_mkdir, "", 0755)), -ENOENT, "mkdir empty is ENOENT");
    is_int(e(syscall(SYS_unlink, "")), -ENOENT, "unlink empty is ENOENT");
    is_int(e(syscall(SYS_chdir, "")), -ENOENT, "chdir empty is ENOENT");
}

static void test_openat2(void)
{
    int a = (int)e(syscall(SYS_open, "a", O_RDONLY | O_DIRECTORY));
    is_int(openat2_(a, "b/file", O_RDONLY, 0), 0, "openat2 plain");
    is_int(openat2_(a, "b/file", O_RDONLY, RESOLVE_BENEATH), 0, "RESOLVE_BENEATH inside");
    is_int(openat2_(a, "../abs", O_RDONLY, RESOLVE_BENEATH), -EXDEV, "RESOLVE_BENEATH refuses ..");
    is_int(openat2_(a, "/etc", O_RDONLY, RESOLVE_BENEATH), -EXDEV,
           "RESOLVE_BENEATH refuses an absolute path");
    is_int(openat2_(a, "up/file", O_RDONLY, RESOLVE_BENEATH), -EXDEV,
           "RESOLVE_BENEATH refuses a link escaping through ..");
    is_int(openat2_(a, "rel", O_RDONLY, RESOLVE_BENEATH), 0,
           "RESOLVE_BENEATH allows a link inside");
    is_int(openat2_(a, "rel", O_RDONLY, RESOLVE_NO_SYMLINKS), -ELOOP,
           "RESOLVE_NO_SYMLINKS refuses a final link");
    is_int(openat2_(AT_FDCWD, "a/up/file", O_RDONLY, RESOLVE_NO_SYMLINKS), -ELOOP,
           "RESOLVE_NO_SYMLINKS refuses an intermediate link");
    is_int(openat2_(a, "/b/file", O_RDONLY, RESOLVE_IN_ROOT), 0,
           "RESOLVE_IN_ROOT: an absolute path starts at dirfd");
    is_int(openat2_(a, "/../../b/file", O_RDONLY, RESOLVE_IN_ROOT), 0,
           "RESOLVE_IN_ROOT: .. stops at dirfd");
    is_int(openat2_(a, "/abs", O_RDONLY, RESOLVE_IN_ROOT), -ENOENT,
           "RESOLVE_IN_ROOT: a name beside dirfd is not reachable from it");
    is_int(openat2_(a, "b/file", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT), -EINVAL,
           "BENEATH|IN_ROOT is EINVAL");
    is_int(openat2_(a, "b/file", O_RDONLY, 0x1000), -EINVAL, "unknown resolve bit is EINVAL");
    is_int(openat2_(a, "b/file", O_RDONLY | (1UL << 40), 0), -EINVAL,
           "unknown open flag is EINVAL");
    struct open_how how = {.flags = O_RDONLY, .mode = 0644};
    is_int(e(syscall(SYS_openat2, a, "b/file", &how, sizeof(how))), -EINVAL,
           "a mode without O_CREAT is EINVAL");
    how.mode = 0;
    is_int(e(syscall(SYS_openat2, a, "b/file", &how, 8)), -EINVAL, "a short struct is EINVAL");
    struct {
        struct open_how how;
        unsigned long extra;
    } big = {{.flags = O_RDONLY}, 1};
    is_int(e(syscall(SYS_openat2, a, "b/file", &big, sizeof(big))), -E2BIG,
           "a longer struct with non-zero tail is E2BIG");
    big.extra = 0;
    long fd = e(syscall(SYS_openat2, a, "b/file", &big, sizeof(big)));
    ok(fd >= 0, "a longer struct with a zero tail is accepted");
    if (fd >= 0)
        close((int)fd);
    is_int(e(syscall(SYS_openat2, a, "b/file", NULL, sizeof(how))), -EFAULT, "NULL how is EFAULT");
    how = (struct open_how){.flags = O_CREAT | O_WRONLY, .mode = 0640};
    fd = e(syscall(SYS_openat2, a, "made", &how, sizeof(how)));
    ok(fd >= 0, "openat2 O_CREAT");
    if (fd >= 0)
        close((int)fd);
    unlink("a/made");
    close(a);
}

int main(void)
{
    strcpy(dir, "/tmp/moat-paths-XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory: %s", strerror(errno));
        return 1;
    }
    setup();
    test_resolution();
    test_dirfd();
    test_limits();
    test_openat2();
    const char *links[] = {"a/rel", "a/up", "abs", "chain", "dangling", "loop1", "loop2", "toroot"};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        unlink(links[i]);
    unlink("a/b/file");
    rmdir("a/b");
    rmdir("a");
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    done_testing();
}
