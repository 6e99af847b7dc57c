/*
 * Directories and names: getdents64, mkdir/rmdir, unlink, rename with its
 * flags, link, symlink/readlink, mknod, chdir/fchdir/getcwd. Works inside a
 * fresh directory under /tmp and removes it at the end.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];

static void touch(const char *name, const char *data)
{
    int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) {
        if (data)
            (void)!write(fd, data, strlen(data));
        close(fd);
    }
}

struct linux_dirent64 {
    unsigned long d_ino;
    long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Bit i set when names[i] was listed with type types[i]; -1 on error. */
static long list_dir(const char *path, const char *const *names, const unsigned char *types, int n,
                     int *others, size_t bufsize)
{
    int fd = (int)e(syscall(SYS_open, path, O_RDONLY | O_DIRECTORY));
    if (fd < 0)
        return fd;
    char buf[4096];
    long seen = 0;
    *others = 0;
    for (;;) {
        long r = e(syscall(SYS_getdents64, fd, buf, bufsize));
        if (r <= 0) {
            close(fd);
            return r < 0 ? r : seen;
        }
        for (long off = 0; off < r;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            int found = 0;
            for (int i = 0; i < n; i++) {
                if (strcmp(d->d_name, names[i]) == 0 && d->d_type == types[i]) {
                    seen |= 1L << i;
                    found = 1;
                }
            }
            if (!found)
                (*others)++;
            off += d->d_reclen;
        }
    }
}

static void test_getdents(void)
{
    mkdir("ls", 0755);
    touch("ls/a", "x");
    mkdir("ls/sub", 0755);
    symlink("a", "ls/ln");
    mkfifo("ls/fifo", 0644);
    const char *const names[] = {".", "..", "a", "sub", "ln", "fifo"};
    const unsigned char types[] = {DT_DIR, DT_DIR, DT_REG, DT_DIR, DT_LNK, DT_FIFO};
    int others;
    is_int(list_dir("ls", names, types, 6, &others, 4096), 0x3f,
           "getdents64 lists ., .., a file, a dir, a link and a fifo with types");
    is_int(others, 0, "and nothing else");
    is_int(list_dir("ls", names, types, 6, &others, 40), 0x3f,
           "getdents64 with a one-record buffer lists the same");
    int fd = (int)e(syscall(SYS_open, "ls", O_RDONLY | O_DIRECTORY));
    char buf[16];
    is_int(e(syscall(SYS_getdents64, fd, buf, sizeof(buf))), -EINVAL,
           "a buffer too small for one record is EINVAL");
    is_int(e(syscall(SYS_getdents64, fd, NULL, 4096)), -EFAULT, "a NULL buffer is EFAULT");
    {
        char all[4096];
        long r = e(syscall(SYS_getdents64, fd, all, sizeof(all))), count = 0;
        for (long off = 0; off < r; off += ((struct linux_dirent64 *)(all + off))->d_reclen)
            count++;
        is_int(count, 6, "after EFAULT the same fd still lists every entry");
    }
    close(fd);
    fd = (int)e(syscall(SYS_open, "ls/a", O_RDONLY));
    char big[256];
    is_int(e(syscall(SYS_getdents64, fd, big, sizeof(big))), -ENOTDIR,
           "getdents64 on a file is ENOTDIR");
    close(fd);
    is_int(e(syscall(SYS_getdents64, 999, big, sizeof(big))), -EBADF,
           "getdents64 on a closed fd is EBADF");
    fd = (int)e(syscall(SYS_open, "ls", O_PATH));
    is_int(e(syscall(SYS_getdents64, fd, big, sizeof(big))), -EBADF,
           "getdents64 on O_PATH is EBADF");
    close(fd);
    unlink("ls/a");
    unlink("ls/ln");
    unlink("ls/fifo");
    rmdir("ls/sub");
    rmdir("ls");
}

static void test_mkdir_rmdir_unlink(void)
{
    struct stat st;
    is_int(e(mkdir("d", 0755)), 0, "mkdir");
    is_int(e(mkdir("d", 0755)), -EEXIST, "mkdir existing is EEXIST");
    is_int(e(stat("d", &st)), 0, "stat the new dir");
    is_int(st.st_nlink, 2, "a new dir has two links");
    is_int(e(syscall(SYS_mkdirat, AT_FDCWD, "d/e", 0755)), 0, "mkdirat");
    stat("d", &st);
    is_int(st.st_nlink, 3, "a subdirectory adds a link");
    is_int(e(mkdir("nope/x", 0755)), -ENOENT, "mkdir under a missing dir is ENOENT");
    is_int(e(rmdir("d")), -ENOTEMPTY, "rmdir non-empty is ENOTEMPTY");
    is_int(e(unlink("d")), -EISDIR, "unlink a directory is EISDIR");
    is_int(e(rmdir("d/e/.")), -EINVAL, "rmdir . is EINVAL");
    touch("d/file", NULL);
    is_int(e(rmdir("d/file")), -ENOTDIR, "rmdir a file is ENOTDIR");
    is_int(e(unlinkat(AT_FDCWD, "d/file", 0x1)), -EINVAL, "unlinkat bad flags is EINVAL");
    is_int(e(unlinkat(AT_FDCWD, "d/file", 0)), 0, "unlinkat a file");
    is_int(e(unlink("d/file")), -ENOENT, "unlink again is ENOENT");
    int dfd = (int)e(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    is_int(e(unlinkat(dfd, "e", AT_REMOVEDIR)), 0, "unlinkat AT_REMOVEDIR relative to a dirfd");
    close(dfd);
    is_int(e(rmdir("d")), 0, "rmdir");
    is_int(e(stat("d", &st)), -ENOENT, "gone");
    is_int(e(mknod("fifo", S_IFIFO | 0600, 0)), 0, "mknod a fifo");
    stat("fifo", &st);
    ok(S_ISFIFO(st.st_mode), "it is a fifo");
    is_int(e(mknod("reg", 0600, 0)), 0, "mknod type 0 makes a regular file");
    stat("reg", &st);
    ok(S_ISREG(st.st_mode), "it is a regular file");
    is_int(e(mknod("dd", S_IFDIR | 0600, 0)), -EPERM, "mknod S_IFDIR is EPERM");
    is_int(e(syscall(SYS_mknodat, AT_FDCWD, "fifo", S_IFIFO | 0600, 0)), -EEXIST,
           "mknodat existing is EEXIST");
    unlink("fifo");
    unlink("reg");
}

static void test_rename_link(void)
{
    struct stat st;
    touch("a", "aaa");
    touch("b", "bb");
    is_int(e(rename("a", "c")), 0, "rename");
    is_int(e(stat("a", &st)), -ENOENT, "old name gone");
    is_int(e(stat("c", &st)), 0, "new name there");
    is_int(st.st_size, 3, "same file");
    is_int(e(rename("c", "b")), 0, "rename over a file");
    stat("b", &st);
    is_int(st.st_size, 3, "replaced");
    touch("c", "c");
    is_int(e(syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", RENAME_NOREPLACE)), -EEXIST,
           "RENAME_NOREPLACE over an existing name is EEXIST");
    is_int(e(syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", RENAME_EXCHANGE)), 0,
           "RENAME_EXCHANGE");
    stat("b", &st);
    is_int(st.st_size, 1, "b is the old c");
    stat("c", &st);
    is_int(st.st_size, 3, "c is the old b");
    is_int(e(syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "zz", RENAME_EXCHANGE)), -ENOENT,
           "RENAME_EXCHANGE with a missing target is ENOENT");
    is_int(
        e(syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", RENAME_EXCHANGE | RENAME_NOREPLACE)),
        -EINVAL, "EXCHANGE|NOREPLACE is EINVAL");
    is_int(e(syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", 0x100)), -EINVAL,
           "unknown rename flag is EINVAL");
    mkdir("dd", 0755);
    mkdir("dd/sub", 0755);
    is_int(e(rename("dd", "dd/sub/x")), -EINVAL, "rename a dir into itself is EINVAL");
    is_int(e(rename("b", "dd")), -EISDIR, "rename a file over a dir is EISDIR");
    is_int(e(rename("dd", "b")), -ENOTDIR, "rename a dir over a file is ENOTDIR");
    mkdir("ee", 0755);
    is_int(e(rename("ee", "dd")), -ENOTEMPTY, "rename over a non-empty dir is ENOTEMPTY");
    is_int(e(rename("dd/sub", "ee")), 0, "rename a dir over an empty dir");
    is_int(e(rename("missing", "x")), -ENOENT, "rename a missing name is ENOENT");
    rmdir("ee");
    rmdir("dd");

    is_int(e(link("b", "b2")), 0, "link");
    stat("b", &st);
    is_int(st.st_nlink, 2, "two links");
    is_int(e(link("b", "c")), -EEXIST, "link over an existing name is EEXIST");
    mkdir("ld", 0755);
    is_int(e(link("ld", "ld2")), -EPERM, "link a directory is EPERM");
    rmdir("ld");
    unlink("b2");
    stat("b", &st);
    is_int(st.st_nlink, 1, "unlink drops a link");
    is_int(e(symlink("b", "sb")), 0, "symlink");
    is_int(e(symlink("b", "sb")), -EEXIST, "symlink over an existing name is EEXIST");
    is_int(e(syscall(SYS_symlink, "", "se")), -ENOENT, "symlink to an empty target is ENOENT");
    char buf[64];
    memset(buf, 0, sizeof(buf));
    is_int(e(readlink("sb", buf, sizeof(buf))), 1, "readlink");
    ok(strcmp(buf, "b") == 0, "readlink target");
    is_int(e(syscall(SYS_readlink, "b", buf, sizeof(buf))), -EINVAL,
           "readlink on a file is EINVAL");
    is_int(e(syscall(SYS_readlink, "sb", buf, 0)), -EINVAL, "readlink size 0 is EINVAL");
    symlink("a-longer-target", "long");
    memset(buf, 0, sizeof(buf));
    is_int(e(readlink("long", buf, 3)), 3, "readlink truncates");
    ok(strcmp(buf, "a-l") == 0, "truncated without a NUL");
    is_int(e(syscall(SYS_readlinkat, AT_FDCWD, "sb", NULL, 10)), -EFAULT,
           "readlink NULL buffer is EFAULT");
    is_int(e(linkat(AT_FDCWD, "sb", AT_FDCWD, "sb2", 0)), 0, "linkat a symlink itself");
    struct stat lst;
    lstat("sb2", &lst);
    ok(S_ISLNK(lst.st_mode), "linkat without AT_SYMLINK_FOLLOW links the link");
    is_int(e(linkat(AT_FDCWD, "sb", AT_FDCWD, "sb3", AT_SYMLINK_FOLLOW)), 0,
           "linkat AT_SYMLINK_FOLLOW");
    lstat("sb3", &lst);
    ok(S_ISREG(lst.st_mode), "AT_SYMLINK_FOLLOW links the target");
    is_int(e(linkat(AT_FDCWD, "sb", AT_FDCWD, "sb4", 0x1)), -EINVAL, "linkat bad flags is EINVAL");
    unlink("sb");
    unlink("sb2");
    unlink("sb3");
    unlink("long");
    unlink("b");
    unlink("c");
}

static void test_cwd(void)
{
    char buf[4096];
    is_int(e(syscall(SYS_getcwd, buf, sizeof(buf))), (long)strlen(dir) + 1,
           "getcwd returns the length with the NUL");
    ok(strcmp(buf, dir) == 0, "getcwd is the test directory");
    is_int(e(syscall(SYS_getcwd, buf, 3)), -ERANGE, "getcwd small buffer is ERANGE");
    is_int(e(syscall(SYS_getcwd, NULL, sizeof(buf))), -EFAULT, "getcwd NULL is EFAULT");
    mkdir("w", 0755);
    is_int(e(chdir("w")), 0, "chdir");
    getcwd(buf, sizeof(buf));
    ok(strlen(buf) == strlen(dir) + 2 && strcmp(buf + strlen(dir), "/w") == 0, "getcwd follows");
    is_int(e(chdir("..")), 0, "chdir ..");
    getcwd(buf, sizeof(buf));
    ok(strcmp(buf, dir) == 0, "back");
    touch("f", NULL);
    is_int(e(chdir("f")), -ENOTDIR, "chdir to a file is ENOTDIR");
    is_int(e(chdir("none")), -ENOENT, "chdir to a missing dir is ENOENT");
    is_int(e(syscall(SYS_chdir, NULL)), -EFAULT, "chdir NULL is EFAULT");
    int fd = (int)e(syscall(SYS_open, "w", O_RDONLY | O_DIRECTORY));
    is_int(e(fchdir(fd)), 0, "fchdir");
    getcwd(buf, sizeof(buf));
    ok(strcmp(buf + strlen(dir), "/w") == 0, "fchdir moved");
    close(fd);
    fd = (int)e(syscall(SYS_open, "../f", O_RDONLY));
    is_int(e(fchdir(fd)), -ENOTDIR, "fchdir to a file is ENOTDIR");
    close(fd);
    is_int(e(fchdir(999)), -EBADF, "fchdir on a closed fd is EBADF");
    chdir("..");
    rmdir("w");
    unlink("f");
    mkdir("gone", 0755);
    chdir("gone");
    rmdir("../gone");
    is_int(e(syscall(SYS_getcwd, buf, sizeof(buf))), -ENOENT, "getcwd of a removed dir is ENOENT");
    is_int(e(open("new", O_CREAT | O_WRONLY, 0644)), -ENOENT,
           "creating in a removed dir is ENOENT");
    chdir(dir);
}

int main(void)
{
    strcpy(dir, "/tmp/moat-dirs-XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory: %s", strerror(errno));
        return 1;
    }
    test_getdents();
    test_mkdir_rmdir_unlink();
    test_rename_link();
    test_cwd();
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    done_testing();
}
