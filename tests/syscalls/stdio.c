/*
 * The inherited stdio descriptors: fstat/newfstatat, TCGETS/TIOCGWINSZ,
 * write/writev/pwrite64/pread64/lseek/close, and EBADF on descriptors that
 * are not open.
 *
 * stdin/stdout/stderr may be a pipe, a tty, a regular file or /dev/null
 * depending on who runs the test, so every expectation is derived from
 * what fstat says the descriptor is, never assumed.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>

#include "tests/syscalls/tap.h"

static int valid_type(mode_t m)
{
    return S_ISREG(m) || S_ISDIR(m) || S_ISCHR(m) || S_ISBLK(m) || S_ISFIFO(m) || S_ISLNK(m) ||
           S_ISSOCK(m);
}

static const char *type_name(mode_t m)
{
    if (S_ISREG(m))
        return "regular file";
    if (S_ISCHR(m))
        return "character device";
    if (S_ISFIFO(m))
        return "pipe";
    if (S_ISSOCK(m))
        return "socket";
    return "other";
}

static int is_stream(mode_t m)
{
    return S_ISFIFO(m) || S_ISSOCK(m);
}

/* Returns whether fd is open. */
static int test_fd_identity(int fd, struct stat *st, int *tty)
{
    *tty = 0;
    long r = SC(SYS_fstat, fd, st);
    if (r == -EBADF) {
        skip("not open", "fd %d", fd);
        return 0;
    }
    is_int(r, 0, "fstat(%d)", fd);
    ok(valid_type(st->st_mode), "fd %d has a file type (%s, mode %o)", fd, type_name(st->st_mode),
       st->st_mode);
    struct stat at;
    is_int(SC(SYS_newfstatat, fd, "", &at, AT_EMPTY_PATH), 0, "newfstatat(%d, \"\", EMPTY_PATH)",
           fd);
    ok(at.st_dev == st->st_dev && at.st_ino == st->st_ino && at.st_mode == st->st_mode &&
           at.st_rdev == st->st_rdev,
       "newfstatat and fstat describe the same file for fd %d", fd);
    is_int(SC(SYS_newfstatat, fd, "", &at, 0), -ENOENT, "newfstatat(%d, \"\") without EMPTY_PATH",
           fd);
    is_int(SC(SYS_newfstatat, fd, "", &at, 0x8000000), -EINVAL,
           "newfstatat with an unknown flag: EINVAL");

    struct termios t;
    long tc = SC(SYS_ioctl, fd, TCGETS, &t);
    *tty = tc == 0;
    if (*tty)
        ok(S_ISCHR(st->st_mode), "fd %d answers TCGETS, so it is a character device", fd);
    else
        is_int(tc, -ENOTTY, "fd %d is not a tty: TCGETS gives ENOTTY", fd);
    struct winsize ws;
    long wz = SC(SYS_ioctl, fd, TIOCGWINSZ, &ws);
    is_int(wz, *tty ? 0 : -ENOTTY, "TIOCGWINSZ on fd %d agrees with TCGETS", fd);
    if (!S_ISCHR(st->st_mode))
        ok(!*tty, "fd %d is not a character device, so not a tty", fd);
    return r == 0;
}

static void test_writes(const struct stat *out, int out_tty)
{
    static const char line[] = "# plain write\n";
    is_int(SC(SYS_write, 1, line, sizeof(line) - 1), sizeof(line) - 1, "write a line to stdout");
    is_int(SC(SYS_write, 1, line, 0), 0, "write of 0 bytes");

    char a[] = "# writev", b[] = " in", c[] = " pieces\n";
    struct iovec iov[5] = {{a, 8}, {NULL, 0}, {b, 3}, {c, 0}, {c, 8}};
    is_int(SC(SYS_writev, 1, iov, 5), 19, "writev of five pieces, two empty");
    is_int(SC(SYS_writev, 1, iov, 0), 0, "writev of no pieces");

    if (is_stream(out->st_mode) || out_tty) {
        is_int(SC(SYS_pwrite64, 1, line, 1, 0), -ESPIPE, "pwrite64 on a stream: ESPIPE");
        is_int(SC(SYS_lseek, 1, 0, SEEK_CUR), -ESPIPE, "lseek on a stream: ESPIPE");
        is_int(SC(SYS_lseek, 1, 0, 99), -EINVAL, "bad whence is checked first: EINVAL");
    } else if (S_ISREG(out->st_mode)) {
        long before = SC(SYS_lseek, 1, 0, SEEK_CUR);
        ok(before >= 0, "lseek(1) on a regular file works (%ld)", before);
        SC(SYS_write, 1, line, sizeof(line) - 1);
        long after = SC(SYS_lseek, 1, 0, SEEK_CUR);
        struct stat now;
        fstat(1, &now);
        ok(after >= before + (long)sizeof(line) - 1, "offset advanced by the write");
        is_int(after, now.st_size, "after writing, stdout's offset is the end of the file");
        is_int(SC(SYS_lseek, 1, 0, 99), -EINVAL, "lseek with bad whence: EINVAL");
        is_int(SC(SYS_lseek, 1, (off_t)-1, SEEK_SET), -EINVAL,
               "lseek to a negative offset: EINVAL");
    } else {
        skip("stdout is neither a stream nor a regular file", "pwrite64/lseek on stdout");
    }
}

static void test_stdin(const struct stat *in, int in_tty)
{
    char buf[4];
    if (is_stream(in->st_mode) || in_tty) {
        is_int(SC(SYS_pread64, 0, buf, 1, 0), -ESPIPE, "pread64 on a stream: ESPIPE");
        is_int(SC(SYS_lseek, 0, 0, SEEK_CUR), -ESPIPE, "lseek(0) on a stream: ESPIPE");
    } else if (S_ISCHR(in->st_mode) && in->st_rdev == makedev(1, 3)) {
        is_int(SC(SYS_read, 0, buf, sizeof(buf)), 0, "read from /dev/null is EOF");
        is_int(SC(SYS_pread64, 0, buf, sizeof(buf), 0), 0, "pread64 from /dev/null is EOF");
    } else {
        skip("stdin is not a stream or /dev/null", "stdin reads");
    }
}

static void test_bad_fds(void)
{
    char buf[8];
    struct stat st;
    struct iovec iov = {buf, 1};
    is_int(SC(SYS_write, 999, "x", 1), -EBADF, "write to fd 999: EBADF");
    is_int(SC(SYS_read, 999, buf, 1), -EBADF, "read from fd 999: EBADF");
    is_int(SC(SYS_writev, 999, &iov, 1), -EBADF, "writev to fd 999: EBADF");
    is_int(SC(SYS_readv, 999, &iov, 1), -EBADF, "readv from fd 999: EBADF");
    is_int(SC(SYS_pread64, 999, buf, 1, 0), -EBADF, "pread64 fd 999: EBADF");
    is_int(SC(SYS_pwrite64, 999, buf, 1, 0), -EBADF, "pwrite64 fd 999: EBADF");
    is_int(SC(SYS_fstat, 999, &st), -EBADF, "fstat fd 999: EBADF");
    is_int(SC(SYS_newfstatat, 999, "", &st, AT_EMPTY_PATH), -EBADF, "newfstatat fd 999: EBADF");
    is_int(SC(SYS_lseek, 999, 0, SEEK_CUR), -EBADF, "lseek fd 999: EBADF");
    is_int(SC(SYS_ioctl, 999, TCGETS, buf), -EBADF, "ioctl fd 999: EBADF");
    is_int(SC(SYS_close, 999), -EBADF, "close fd 999: EBADF");
    is_int(SC(SYS_close, -1), -EBADF, "close fd -1: EBADF");
    is_int(SC(SYS_write, -1, "x", 1), -EBADF, "write to fd -1: EBADF");
}

static void test_close_stderr(void)
{
    struct stat st;
    if (fstat(2, &st) != 0) {
        skip("stderr not open", "close(2)");
        return;
    }
    is_int(SC(SYS_close, 2), 0, "close(2)");
    is_int(SC(SYS_write, 2, "x", 1), -EBADF, "write to closed fd 2: EBADF");
    is_int(SC(SYS_fstat, 2, &st), -EBADF, "fstat on closed fd 2: EBADF");
    is_int(SC(SYS_close, 2), -EBADF, "second close(2): EBADF");
    is_int(SC(SYS_write, 1, "# stdout survives\n", 18), 18, "stdout still works after close(2)");
}

int main(void)
{
    struct stat st[3];
    int tty[3], open[3];
    for (int fd = 0; fd < 3; fd++)
        open[fd] = test_fd_identity(fd, &st[fd], &tty[fd]);
    if (open[1])
        test_writes(&st[1], tty[1]);
    if (open[0])
        test_stdin(&st[0], tty[0]);
    test_bad_fds();
    test_close_stderr();
    done_testing();
}
