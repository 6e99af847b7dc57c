/*
 * Files through the VFS: open flags, I/O and offsets, dup and fcntl, close_range,
 * stat/statx, umask, chmod/chown/utimensat/truncate and access. Works inside a
 * fresh directory under /tmp (the host's natively, the sandbox's tmpfs under
 * moat) and removes it at the end.
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];

static void test_open_flags(void)
{
    int fd = (int)e(syscall(SYS_open, "f", O_CREAT | O_EXCL | O_RDWR, 0644));
    ok(fd >= 3, "open O_CREAT|O_EXCL creates (fd %d)", fd);
    is_int(e(syscall(SYS_open, "f", O_CREAT | O_EXCL | O_RDWR, 0644)), -EEXIST,
           "O_CREAT|O_EXCL on an existing file is EEXIST");
    is_int(e(write(fd, "hello world", 11)), 11, "write 11 bytes");
    is_int(e(lseek(fd, 0, SEEK_CUR)), 11, "offset follows the write");
    is_int(e(lseek(fd, 0, SEEK_END)), 11, "SEEK_END is the size");
    is_int(e(lseek(fd, -1, SEEK_SET)), -EINVAL, "negative offset is EINVAL");
    char buf[32] = {0};
    is_int(e(pread(fd, buf, sizeof(buf), 6)), 5, "pread from 6 reads 5");
    ok(memcmp(buf, "world", 5) == 0, "pread data");
    is_int(e(lseek(fd, 0, SEEK_CUR)), 11, "pread leaves the offset");
    is_int(e(pwrite(fd, "W", 1, 6)), 1, "pwrite");
    is_int(e(lseek(fd, 0, SEEK_SET)), 0, "rewind");
    memset(buf, 0, sizeof(buf));
    is_int(e(read(fd, buf, sizeof(buf))), 11, "read the whole file");
    ok(strcmp(buf, "hello World") == 0, "data as written");
    is_int(e(read(fd, buf, sizeof(buf))), 0, "read at EOF is 0");
    close(fd);

    fd = (int)e(syscall(SYS_open, "f", O_WRONLY | O_APPEND));
    is_int(e(write(fd, "!", 1)), 1, "O_APPEND write");
    is_int(e(lseek(fd, 0, SEEK_CUR)), 12, "O_APPEND writes at the end");
    is_int(e(read(fd, buf, 1)), -EBADF, "read on O_WRONLY is EBADF");
    close(fd);

    fd = (int)e(syscall(SYS_open, "f", O_RDONLY));
    is_int(e(write(fd, "x", 1)), -EBADF, "write on O_RDONLY is EBADF");
    close(fd);

    fd = (int)e(syscall(SYS_open, "f", O_RDWR | O_TRUNC));
    struct stat st;
    is_int(e(fstat(fd, &st)), 0, "fstat");
    is_int(st.st_size, 0, "O_TRUNC empties the file");
    close(fd);

    is_int(e(syscall(SYS_open, "missing", O_RDONLY)), -ENOENT, "open of a missing file is ENOENT");
    is_int(e(syscall(SYS_open, "f", O_RDONLY | O_DIRECTORY)), -ENOTDIR,
           "O_DIRECTORY on a file is ENOTDIR");
    is_int(e(syscall(SYS_open, ".", O_WRONLY)), -EISDIR, "opening a directory for write is EISDIR");
    is_int(e(symlink("f", "lnk")), 0, "symlink");
    is_int(e(syscall(SYS_open, "lnk", O_RDONLY | O_NOFOLLOW)), -ELOOP,
           "O_NOFOLLOW on a symlink is ELOOP");
    fd = (int)e(syscall(SYS_open, "lnk", O_PATH | O_NOFOLLOW));
    ok(fd >= 0, "O_PATH|O_NOFOLLOW opens the link itself");
    is_int(e(fstat(fd, &st)), 0, "fstat on O_PATH");
    ok(S_ISLNK(st.st_mode), "O_PATH fd is the symlink");
    is_int(e(read(fd, buf, 1)), -EBADF, "read on O_PATH is EBADF");
    is_int(e(fcntl(fd, F_GETFL)) & O_PATH, O_PATH, "F_GETFL shows O_PATH");
    is_int(e(fcntl(fd, F_SETFL, O_NONBLOCK)), -EBADF, "F_SETFL on O_PATH is EBADF");
    close(fd);
    fd = (int)e(syscall(SYS_open, "lnk", O_RDONLY | O_CLOEXEC));
    ok(fd >= 0, "open through a symlink");
    is_int(e(fcntl(fd, F_GETFD)), FD_CLOEXEC, "O_CLOEXEC sets FD_CLOEXEC");
    close(fd);
    fd = (int)e(syscall(SYS_creat, "c", 0600));
    ok(fd >= 0, "creat");
    is_int(e(fcntl(fd, F_GETFL)) & O_ACCMODE, O_WRONLY, "creat opens write-only");
    close(fd);
    is_int(e(syscall(SYS_open, NULL, O_RDONLY)), -EFAULT, "NULL path is EFAULT");
    is_int(e(syscall(SYS_open, (char *)0xffff800000000000UL, O_RDONLY)), -EFAULT,
           "kernel address path is EFAULT");
    is_int(e(syscall(SYS_open, "", O_RDONLY)), -ENOENT, "empty path is ENOENT");
    is_int(e(syscall(SYS_open, "f/", O_CREAT | O_WRONLY, 0644)), -EISDIR,
           "O_CREAT with a trailing slash on a file is EISDIR");
    is_int(e(syscall(SYS_open, "new/", O_CREAT | O_WRONLY, 0644)), -EISDIR,
           "O_CREAT with a trailing slash on a new name is EISDIR");
    is_int(e(syscall(SYS_open, "f", O_CREAT | O_DIRECTORY | O_RDONLY, 0644)), -EINVAL,
           "O_CREAT|O_DIRECTORY is EINVAL");
    unlink("c");
    unlink("lnk");
}

/* A full table is EMFILE, before the path is even looked at. */
static void test_emfile(void)
{
    struct rlimit old, rl;
    getrlimit(RLIMIT_NOFILE, &old);
    int lowest = dup(0);
    close(lowest);
    rl = old;
    rl.rlim_cur = (rlim_t)lowest + 1;
    is_int(e(setrlimit(RLIMIT_NOFILE, &rl)), 0, "lower RLIMIT_NOFILE to %d", lowest + 1);
    int fd = (int)e(syscall(SYS_open, "f", O_RDONLY));
    is_int(fd, lowest, "the last fd below the limit opens");
    is_int(e(syscall(SYS_open, "f", O_RDONLY)), -EMFILE, "then open is EMFILE");
    is_int(e(syscall(SYS_open, "missing", O_RDONLY)), -EMFILE, "EMFILE comes before ENOENT");
    is_int(e(dup(0)), -EMFILE, "dup is EMFILE");
    is_int(e(fcntl(0, F_DUPFD, 0)), -EMFILE, "F_DUPFD is EMFILE");
    close(fd);
    setrlimit(RLIMIT_NOFILE, &old);
}

static void test_dup_fcntl(void)
{
    int fd = (int)e(syscall(SYS_open, "f", O_RDWR));
    int d = (int)e(dup(fd));
    ok(d > fd, "dup gives a new fd");
    is_int(e(write(fd, "abc", 3)), 3, "write through the first");
    is_int(e(lseek(d, 0, SEEK_CUR)), 3, "dup shares the offset");
    is_int(e(fcntl(d, F_GETFD)), 0, "dup clears close-on-exec");
    is_int(e(syscall(SYS_dup2, fd, 100)), 100, "dup2 to 100");
    is_int(e(syscall(SYS_dup2, fd, fd)), fd, "dup2 to itself");
    is_int(e(syscall(SYS_dup2, 999, 101)), -EBADF, "dup2 of a closed fd is EBADF");
    is_int(e(syscall(SYS_dup3, fd, fd, 0)), -EINVAL, "dup3 to itself is EINVAL");
    is_int(e(syscall(SYS_dup3, fd, 101, 1)), -EINVAL, "dup3 bad flags is EINVAL");
    is_int(e(syscall(SYS_dup3, fd, 101, O_CLOEXEC)), 101, "dup3 O_CLOEXEC");
    is_int(e(fcntl(101, F_GETFD)), FD_CLOEXEC, "dup3 sets FD_CLOEXEC");
    is_int(e(fcntl(fd, F_DUPFD, 50)), 50, "F_DUPFD to the lowest free >= 50");
    is_int(e(fcntl(fd, F_DUPFD_CLOEXEC, 50)), 51, "F_DUPFD_CLOEXEC next");
    is_int(e(fcntl(51, F_GETFD)), FD_CLOEXEC, "F_DUPFD_CLOEXEC sets the flag");
    is_int(e(fcntl(51, F_SETFD, 0)), 0, "F_SETFD 0");
    is_int(e(fcntl(51, F_GETFD)), 0, "F_GETFD after clearing");
    is_int(e(fcntl(fd, F_GETFL)) & (O_ACCMODE | O_APPEND), O_RDWR, "F_GETFL access mode");
    is_int(e(fcntl(fd, F_SETFL, O_APPEND | O_RDONLY)), 0, "F_SETFL O_APPEND");
    is_int(e(fcntl(d, F_GETFL)) & (O_ACCMODE | O_APPEND), O_RDWR | O_APPEND,
           "status flags are shared by dup and keep the access mode");
    is_int(e(fcntl(999, F_GETFD)), -EBADF, "fcntl on a closed fd is EBADF");
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    is_int(e(fcntl(fd, F_DUPFD, (long)rl.rlim_cur)), -EINVAL, "F_DUPFD at RLIMIT_NOFILE is EINVAL");
    is_int(e(syscall(SYS_dup2, fd, (long)rl.rlim_cur)), -EBADF, "dup2 at RLIMIT_NOFILE is EBADF");
    is_int(e(syscall(SYS_close_range, 60, 50, 0)), -EINVAL, "close_range first > last is EINVAL");
    is_int(e(syscall(SYS_close_range, 50, 60, 0x80)), -EINVAL, "close_range bad flags is EINVAL");
    is_int(e(syscall(SYS_close_range, 100, 101, CLOSE_RANGE_CLOEXEC)), 0,
           "close_range CLOSE_RANGE_CLOEXEC");
    is_int(e(fcntl(100, F_GETFD)), FD_CLOEXEC, "close_range marked 100 close-on-exec");
    is_int(e(syscall(SYS_close_range, 50, ~0U, 0)), 0, "close_range to the end");
    is_int(e(fcntl(50, F_GETFD)), -EBADF, "50 is closed");
    is_int(e(fcntl(101, F_GETFD)), -EBADF, "101 is closed");
    is_int(e(close(d)), 0, "close");
    is_int(e(close(d)), -EBADF, "close twice is EBADF");
    close(fd);
}

static void test_stat(void)
{
    struct stat st;
    is_int(e(stat("f", &st)), 0, "stat");
    ok(S_ISREG(st.st_mode), "regular file");
    is_int(st.st_nlink, 1, "one link");
    is_int(st.st_size, 3, "size 3");
    is_int(e(stat(".", &st)), 0, "stat .");
    ok(S_ISDIR(st.st_mode), "directory");
    is_int(e(stat("nope", &st)), -ENOENT, "stat missing is ENOENT");
    is_int(e(stat("f/x", &st)), -ENOTDIR, "stat through a file is ENOTDIR");
    is_int(e(syscall(SYS_stat, NULL, &st)), -EFAULT, "stat NULL path is EFAULT");
    is_int(e(syscall(SYS_stat, "f", NULL)), -EFAULT, "stat NULL buffer is EFAULT");
    symlink("f", "sl");
    is_int(e(lstat("sl", &st)), 0, "lstat");
    ok(S_ISLNK(st.st_mode), "lstat sees the link");
    is_int(st.st_size, 1, "a link's size is its target's length");
    is_int(e(syscall(SYS_newfstatat, AT_FDCWD, "sl", &st, 0)), 0, "newfstatat follows");
    ok(S_ISREG(st.st_mode), "newfstatat reaches the file");
    is_int(e(syscall(SYS_newfstatat, AT_FDCWD, "", &st, 0)), -ENOENT,
           "newfstatat empty path is ENOENT");
    is_int(e(syscall(SYS_newfstatat, AT_FDCWD, "", &st, AT_EMPTY_PATH)), 0,
           "newfstatat AT_EMPTY_PATH on AT_FDCWD");
    ok(S_ISDIR(st.st_mode), "AT_EMPTY_PATH on AT_FDCWD is the cwd");
    is_int(e(syscall(SYS_newfstatat, AT_FDCWD, "f", &st, 0x40000)), -EINVAL,
           "newfstatat bad flags is EINVAL");
    int fd = (int)e(syscall(SYS_open, "f", O_RDONLY));
    struct statx sx;
    unsigned all_flags[] = {0,
                            AT_SYMLINK_NOFOLLOW,
                            AT_NO_AUTOMOUNT,
                            AT_STATX_DONT_SYNC,
                            AT_STATX_FORCE_SYNC,
                            AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC | AT_SYMLINK_NOFOLLOW};
    for (size_t i = 0; i < sizeof(all_flags) / sizeof(all_flags[0]); i++) {
        memset(&sx, 0, sizeof(sx));
        is_int(e(syscall(SYS_statx, AT_FDCWD, "f", all_flags[i], STATX_ALL, &sx)), 0,
               "statx flags %#x", all_flags[i]);
        ok((sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS && sx.stx_size == 3 &&
               S_ISREG(sx.stx_mode) && sx.stx_nlink == 1,
           "statx flags %#x: basic stats", all_flags[i]);
    }
    is_int(e(syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx)), 0,
           "statx AT_EMPTY_PATH on an fd");
    is_int((long)sx.stx_size, 3, "statx of the fd");
    is_int(e(syscall(SYS_statx, AT_FDCWD, "sl", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx)), 0,
           "statx AT_SYMLINK_NOFOLLOW");
    ok(S_ISLNK(sx.stx_mode), "statx sees the link");
    is_int(e(syscall(SYS_statx, AT_FDCWD, "f", AT_STATX_DONT_SYNC | AT_STATX_FORCE_SYNC, 0, &sx)),
           -EINVAL, "statx with both sync flags is EINVAL");
    is_int(e(syscall(SYS_statx, AT_FDCWD, "f", 0, 0x80000000U, &sx)), -EINVAL,
           "statx reserved mask bit is EINVAL");
    is_int(e(syscall(SYS_statx, AT_FDCWD, "f", 0x1, 0, &sx)), -EINVAL,
           "statx unknown flag is EINVAL");
    is_int(e(syscall(SYS_statx, AT_FDCWD, "", 0, 0, &sx)), -ENOENT, "statx empty path is ENOENT");
    is_int(e(syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_ALL, NULL)), -EFAULT,
           "statx NULL buffer is EFAULT");
    is_int(e(fstat(fd, &st)), 0, "fstat on a VFS file");
    is_int(st.st_size, 3, "fstat size");
    struct statfs_buf {
        long f_type, f_bsize;
        unsigned long b[5];
        int fsid[2];
        long namelen, frsize, flags, spare[4];
    } sfs;
    is_int(e(syscall(SYS_statfs, ".", &sfs)), 0, "statfs");
    ok(sfs.namelen == 255 && sfs.f_bsize > 0, "statfs namelen 255");
    is_int(e(syscall(SYS_fstatfs, fd, &sfs)), 0, "fstatfs");
    close(fd);
    unlink("sl");
}

static void test_umask_attrs(void)
{
    mode_t old = umask(027);
    is_int(e(syscall(SYS_umask, 027)), 027, "umask returns the previous mask");
    int fd = (int)e(syscall(SYS_open, "m", O_CREAT | O_WRONLY, 0777));
    struct stat st;
    fstat(fd, &st);
    is_int(st.st_mode & 07777, 0750, "umask applies to O_CREAT");
    close(fd);
    mkdir("md", 0777);
    stat("md", &st);
    is_int(st.st_mode & 07777, 0750, "umask applies to mkdir");
    rmdir("md");
    umask(old);
    is_int(e(chmod("m", 0604)), 0, "chmod");
    stat("m", &st);
    is_int(st.st_mode & 07777, 0604, "chmod sets the mode");
    fd = (int)e(syscall(SYS_open, "m", O_RDONLY));
    is_int(e(fchmod(fd, 0640)), 0, "fchmod");
    fstat(fd, &st);
    is_int(st.st_mode & 07777, 0640, "fchmod sets the mode");
    is_int(e(syscall(SYS_fchmodat, AT_FDCWD, "m", 0600)), 0, "fchmodat");
    stat("m", &st);
    is_int(st.st_mode & 07777, 0600, "fchmodat sets the mode");
    is_int(e(chown("m", geteuid(), getegid())), 0, "chown to own ids");
    is_int(e(fchown(fd, -1, -1)), 0, "fchown no change");
    is_int(e(syscall(SYS_fchownat, AT_FDCWD, "m", -1, -1, 0x1)), -EINVAL,
           "fchownat bad flags is EINVAL");
    is_int(e(lchown("m", geteuid(), -1)), 0, "lchown");
    struct timespec ts[2] = {{1000, 5}, {2000, 7}};
    is_int(e(utimensat(AT_FDCWD, "m", ts, 0)), 0, "utimensat explicit times");
    stat("m", &st);
    ok(st.st_atim.tv_sec == 1000 && st.st_atim.tv_nsec == 5 && st.st_mtim.tv_sec == 2000 &&
           st.st_mtim.tv_nsec == 7,
       "utimensat set atime and mtime");
    struct timespec omit[2] = {{0, UTIME_OMIT}, {3000, 0}};
    is_int(e(utimensat(AT_FDCWD, "m", omit, 0)), 0, "utimensat UTIME_OMIT");
    stat("m", &st);
    ok(st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 3000, "UTIME_OMIT keeps atime");
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    is_int(e(utimensat(AT_FDCWD, "m", bad, 0)), -EINVAL, "bad tv_nsec is EINVAL");
    is_int(e(utimensat(AT_FDCWD, "m", NULL, 0)), 0, "utimensat NULL: now");
    stat("m", &st);
    ok(st.st_mtim.tv_sec > 3000, "now is later");
    is_int(e(syscall(SYS_utimensat, fd, NULL, ts, 0)), 0, "utimensat NULL path on an fd");
    fstat(fd, &st);
    is_int(st.st_mtim.tv_sec, 2000, "utimensat on the fd");
    is_int(e(truncate("m", 100)), 0, "truncate grows");
    stat("m", &st);
    is_int(st.st_size, 100, "truncate size");
    is_int(e(truncate("m", -1)), -EINVAL, "negative truncate is EINVAL");
    is_int(e(truncate(".", 0)), -EISDIR, "truncate a directory is EISDIR");
    is_int(e(ftruncate(fd, 10)), -EINVAL, "ftruncate on O_RDONLY is EINVAL");
    close(fd);
    fd = (int)e(syscall(SYS_open, "m", O_RDWR));
    is_int(e(ftruncate(fd, 10)), 0, "ftruncate");
    fstat(fd, &st);
    is_int(st.st_size, 10, "ftruncate size");
    is_int(e(fsync(fd)), 0, "fsync");
    is_int(e(fdatasync(fd)), 0, "fdatasync");
    is_int(e(syscall(SYS_syncfs, fd)), 0, "syncfs");
    sync();
    close(fd);

    is_int(e(access("m", F_OK)), 0, "access F_OK");
    is_int(e(access("m", R_OK | W_OK)), 0, "access R_OK|W_OK by the owner");
    is_int(e(access("m", X_OK)), -EACCES, "access X_OK without any x bit is EACCES");
    is_int(e(access("nope", F_OK)), -ENOENT, "access of a missing file is ENOENT");
    is_int(e(access("m", 8)), -EINVAL, "access bad mode is EINVAL");
    is_int(e(syscall(SYS_faccessat2, AT_FDCWD, "m", R_OK, AT_EACCESS)), 0, "faccessat2 AT_EACCESS");
    is_int(e(syscall(SYS_faccessat2, AT_FDCWD, "m", R_OK, 0x1)), -EINVAL,
           "faccessat2 bad flags is EINVAL");
    is_int(e(syscall(SYS_faccessat, AT_FDCWD, NULL, R_OK)), -EFAULT, "faccessat NULL is EFAULT");
    chmod("m", 0);
    if (geteuid() == 0) {
        is_int(e(access("m", R_OK | W_OK)), 0, "root may read and write a mode-0 file");
    } else {
        is_int(e(access("m", R_OK)), -EACCES, "mode 0 denies reading");
    }
    unlink("m");
}

int main(void)
{
    strcpy(dir, "/tmp/moat-files-XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory: %s", strerror(errno));
        return 1;
    }
    test_open_flags();
    test_dup_fcntl();
    test_stat();
    test_umask_attrs();
    test_emfile();
    unlink("f");
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    done_testing();
}
