/*
 * /dev as a container sees it: the memory devices' reads, writes, seeks and
 * errors, their modes and numbers, /dev/tty without a controlling terminal,
 * /dev/shm; the generic file ioctls (FIONREAD, FIOCLEX, FIONBIO, FIOASYNC,
 * FIOQSIZE) and terminal requests on files that are not terminals; a device
 * node made with mknod in a fresh directory under /tmp. The /proc/self/fd
 * links come last: they need /proc.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "tests/syscalls/tap.h"

#define TMPFS_MAGIC_  0x01021994
#define RNDGETENTCNT_ 0x80045200

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];

/* An address in user space with nothing mapped at it. */
static void *unmapped(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, 4096);
    return p;
}

struct dev {
    const char *path;
    unsigned major, minor;
};

static const struct dev devs[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static void test_nodes(void)
{
    struct stat st;
    for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
        const struct dev *d = &devs[i];
        is_int(e(lstat(d->path, &st)), 0, "lstat %s", d->path);
        is_int(st.st_mode, S_IFCHR | 0666, "%s is crw-rw-rw-", d->path);
        ok(major(st.st_rdev) == d->major && minor(st.st_rdev) == d->minor, "%s is %u, %u", d->path,
           d->major, d->minor);
        /* A host in a user namespace may show a node bind-mounted from
         * outside it with the overflow ids. */
        if (st.st_uid == 65534)
            skip("the host's node belongs to the overflow uid", "%s belongs to root", d->path);
        else
            ok(st.st_uid == 0 && st.st_gid == 0, "%s belongs to root:root", d->path);
    }
    is_int(e(stat("/dev", &st)), 0, "stat /dev");
    ok(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755, "/dev is a 0755 directory (%o)",
       st.st_mode);
    is_int(e(stat("/dev/shm", &st)), 0, "stat /dev/shm");
    ok(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777, "/dev/shm is 1777 (%o)", st.st_mode);
    struct statfs sf;
    is_int(e(statfs("/dev/shm", &sf)), 0, "statfs /dev/shm");
    is_hex((unsigned long)sf.f_type, TMPFS_MAGIC_, "/dev/shm is a tmpfs");
    /* A container's /dev/console is the console device (5, 1) or, with a
     * terminal, a pts; some runtimes leave it out. */
    long r = e(lstat("/dev/console", &st));
    ok(r == -ENOENT || (r == 0 && S_ISCHR(st.st_mode)), "/dev/console is absent or a device");
    if (r == 0 && major(st.st_rdev) == 5 && minor(st.st_rdev) == 1)
        ok((st.st_mode & 0777) == 0600, "/dev/console is private to root (%o)", st.st_mode & 0777);
}

static void test_null(void)
{
    char buf[16];
    int fd = (int)e(open("/dev/null", O_RDWR));
    ok(fd >= 0, "open /dev/null");
    is_int(e(read(fd, buf, sizeof(buf))), 0, "read /dev/null is EOF");
    is_int(e(write(fd, "abc", 3)), 3, "write /dev/null swallows everything");
    is_int(e(write(fd, unmapped(), 100)), 100, "write /dev/null never reads the buffer");
    is_int(e(pread(fd, buf, sizeof(buf), 10)), 0, "pread /dev/null is EOF");
    is_int(e(pwrite(fd, "abc", 3, 7)), 3, "pwrite /dev/null");
    is_int(e(lseek(fd, 100, SEEK_SET)), 0, "lseek /dev/null is 0");
    is_int(e(lseek(fd, 5, SEEK_CUR)), 0, "lseek SEEK_CUR /dev/null is 0");
    is_int(e(lseek(fd, 0, 99)), -EINVAL, "lseek with a bad whence is EINVAL");
    struct stat st;
    is_int(e(fstat(fd, &st)), 0, "fstat /dev/null");
    ok(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3), "fstat shows st_rdev 1, 3");
    close(fd);
}

static void test_zero_full(void)
{
    char buf[4096];
    memset(buf, 'x', sizeof(buf));
    int fd = (int)e(open("/dev/zero", O_RDWR));
    ok(fd >= 0, "open /dev/zero");
    is_int(e(read(fd, buf, sizeof(buf))), sizeof(buf), "read /dev/zero fills the buffer");
    int zeros = 1;
    for (size_t i = 0; i < sizeof(buf); i++)
        zeros &= buf[i] == 0;
    ok(zeros, "with zeros");
    is_int(e(write(fd, unmapped(), 64)), 64, "write /dev/zero never reads the buffer");
    is_int(e(read(fd, unmapped(), 64)), -EFAULT, "read /dev/zero into unmapped memory is EFAULT");
    static char big[1 << 20];
    is_int(e(read(fd, big, sizeof(big))), sizeof(big), "a 1 MiB read of /dev/zero is whole");
    is_int(e(lseek(fd, 12, SEEK_SET)), 0, "lseek /dev/zero is 0");
    /* An offset plus count past the largest offset is EINVAL, before the
     * device is asked (and before the Sentry's chunked read overflows). */
    is_int(e(pread(fd, big, sizeof(big), INT64_MAX - 10)), -EINVAL,
           "pread /dev/zero running past the largest offset is EINVAL");
    is_int(e(pwrite(fd, big, sizeof(big), INT64_MAX - 10)), -EINVAL,
           "pwrite /dev/zero running past the largest offset is EINVAL");
    is_int(e(pread(fd, big, sizeof(big), INT64_MAX / 2)), sizeof(big),
           "pread /dev/zero at a large offset that fits is whole");
    close(fd);

    fd = (int)e(open("/dev/full", O_RDWR));
    ok(fd >= 0, "open /dev/full");
    memset(buf, 'x', 16);
    is_int(e(read(fd, buf, 16)), 16, "read /dev/full gives zeros");
    ok(buf[0] == 0 && buf[15] == 0, "zeros from /dev/full");
    is_int(e(write(fd, "a", 1)), -ENOSPC, "write /dev/full is ENOSPC");
    is_int(e(pwrite(fd, "a", 1, 0)), -ENOSPC, "pwrite /dev/full is ENOSPC");
    close(fd);

    fd = (int)e(open("/dev/null", O_RDONLY));
    is_int(e(write(fd, "a", 1)), -EBADF, "write to a read-only /dev/null is EBADF");
    close(fd);
}

static void test_mmap(void)
{
    int fd = (int)e(open("/dev/zero", O_RDWR));
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ok(p != MAP_FAILED, "mmap /dev/zero MAP_PRIVATE");
    if (p != MAP_FAILED) {
        ok(p[0] == 0 && p[8191] == 0, "reads zeros");
        p[100] = 'x';
        ok(p[100] == 'x', "and is writable");
        munmap(p, 8192);
    }
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ok(p != MAP_FAILED, "mmap /dev/zero MAP_SHARED");
    if (p != MAP_FAILED) {
        p[5] = 'y';
        ok(p[0] == 0 && p[5] == 'y', "shared anonymous memory");
        munmap(p, 4096);
    }
    close(fd);
    fd = (int)e(open("/dev/zero", O_RDONLY));
    is_hex((unsigned long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
           (unsigned long)MAP_FAILED, "a writable shared map of a read-only /dev/zero fails");
    is_int(errno, EACCES, "with EACCES");
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ok(p != MAP_FAILED && p[0] == 0, "a private one is fine");
    if (p != MAP_FAILED)
        munmap(p, 4096);
    close(fd);
    fd = (int)e(open("/dev/null", O_RDWR));
    is_hex((unsigned long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0),
           (unsigned long)MAP_FAILED, "mmap /dev/null fails");
    is_int(errno, ENODEV, "with ENODEV");
    close(fd);
}

static void test_random(void)
{
    const char *paths[] = {"/dev/random", "/dev/urandom"};
    for (int i = 0; i < 2; i++) {
        unsigned char a[64], b[64];
        memset(a, 0, sizeof(a));
        memset(b, 0, sizeof(b));
        int fd = (int)e(open(paths[i], O_RDWR));
        ok(fd >= 0, "open %s", paths[i]);
        is_int(e(read(fd, a, sizeof(a))), sizeof(a), "read %s", paths[i]);
        is_int(e(read(fd, b, sizeof(b))), sizeof(b), "read %s again", paths[i]);
        ok(memcmp(a, b, sizeof(a)) != 0, "two reads of %s differ", paths[i]);
        int nonzero = 0;
        for (size_t j = 0; j < sizeof(a); j++)
            nonzero += a[j] != 0;
        ok(nonzero > 32, "%s is not zeros", paths[i]);
        is_int(e(write(fd, "seed", 4)), 4, "write %s is accepted", paths[i]);
        is_int(e(pread(fd, a, 8, 1000)), 8, "pread %s", paths[i]);
        is_int(e(lseek(fd, 0, SEEK_SET)), 0, "lseek %s", paths[i]);
        int bits = -1;
        is_int(e(ioctl(fd, RNDGETENTCNT_, &bits)), 0, "RNDGETENTCNT on %s", paths[i]);
        ok(bits > 0, "the pool has entropy (%d bits)", bits);
        struct termios tio;
        is_int(e(ioctl(fd, TCGETS, &tio)), -EINVAL, "TCGETS on %s is EINVAL", paths[i]);
        int n;
        is_int(e(ioctl(fd, FIONREAD, &n)), -EINVAL, "FIONREAD on %s is EINVAL", paths[i]);
        close(fd);
    }
}

static void test_tty(void)
{
    int fd = (int)e(open("/dev/tty", O_RDWR));
    /* A run from an interactive shell has a controlling terminal; the
     * sandbox never does. */
    if (fd >= 0) {
        ok(isatty(fd), "/dev/tty opened: the caller has a controlling terminal");
        close(fd);
    } else {
        is_int(fd, -ENXIO, "/dev/tty without a controlling terminal is ENXIO");
    }
}

/* The generic ioctls on a regular file, a directory and /dev/null. */
static void test_ioctl(void)
{
    int fd = (int)e(open("f", O_CREAT | O_RDWR, 0644));
    ok(fd >= 0, "create a file");
    is_int(e(write(fd, "0123456789", 10)), 10, "write 10 bytes");
    int n = -1;
    is_int(e(ioctl(fd, FIONREAD, &n)), 0, "FIONREAD on a regular file");
    is_int(n, 0, "nothing to read at the end");
    lseek(fd, 3, SEEK_SET);
    is_int(e(ioctl(fd, FIONREAD, &n)), 0, "FIONREAD after a seek");
    is_int(n, 7, "size - offset");
    lseek(fd, 20, SEEK_SET);
    is_int(e(ioctl(fd, FIONREAD, &n)), 0, "FIONREAD past the end");
    is_int(n, -10, "is negative, as Linux computes it");
    is_int(e(ioctl(fd, FIONREAD, unmapped())), -EFAULT, "FIONREAD to unmapped memory is EFAULT");

    is_int(e(ioctl(fd, FIOCLEX)), 0, "FIOCLEX");
    is_int(e(fcntl(fd, F_GETFD)), FD_CLOEXEC, "sets FD_CLOEXEC");
    is_int(e(ioctl(fd, FIONCLEX)), 0, "FIONCLEX");
    is_int(e(fcntl(fd, F_GETFD)), 0, "clears FD_CLOEXEC");

    int on = 1;
    is_int(e(ioctl(fd, FIONBIO, &on)), 0, "FIONBIO 1");
    ok(e(fcntl(fd, F_GETFL)) & O_NONBLOCK, "sets O_NONBLOCK");
    on = 0;
    is_int(e(ioctl(fd, FIONBIO, &on)), 0, "FIONBIO 0");
    ok(!(e(fcntl(fd, F_GETFL)) & O_NONBLOCK), "clears O_NONBLOCK");
    is_int(e(ioctl(fd, FIONBIO, unmapped())), -EFAULT, "FIONBIO from unmapped memory is EFAULT");

    on = 0;
    is_int(e(ioctl(fd, FIOASYNC, &on)), 0, "FIOASYNC 0 on a file without O_ASYNC");
    on = 1;
    is_int(e(ioctl(fd, FIOASYNC, &on)), -ENOTTY, "FIOASYNC 1 on a regular file is ENOTTY");
    ok(!(e(fcntl(fd, F_GETFL)) & O_ASYNC), "and O_ASYNC stays clear");

    long long qsize = -1;
    is_int(e(ioctl(fd, FIOQSIZE, &qsize)), 0, "FIOQSIZE on a regular file");
    struct stat st;
    fsync(fd); /* delayed allocation: the blocks exist only after it */
    ioctl(fd, FIOQSIZE, &qsize);
    fstat(fd, &st);
    is_int(qsize, (long)st.st_blocks * 512, "FIOQSIZE is the allocated bytes");

    struct termios tio;
    struct winsize ws;
    pid_t pgrp;
    is_int(e(ioctl(fd, TCGETS, &tio)), -ENOTTY, "TCGETS on a regular file is ENOTTY");
    is_int(e(ioctl(fd, TCSETS, &tio)), -ENOTTY, "TCSETS on a regular file is ENOTTY");
    is_int(e(ioctl(fd, TIOCGWINSZ, &ws)), -ENOTTY, "TIOCGWINSZ on a regular file is ENOTTY");
    is_int(e(ioctl(fd, TIOCSWINSZ, &ws)), -ENOTTY, "TIOCSWINSZ on a regular file is ENOTTY");
    is_int(e(ioctl(fd, TIOCGPGRP, &pgrp)), -ENOTTY, "TIOCGPGRP on a regular file is ENOTTY");
    is_int(e(ioctl(fd, 0x7a7a, 0)), -ENOTTY, "an unknown request on a regular file is ENOTTY");
    ok(!isatty(fd), "isatty is false for a regular file");
    close(fd);
    is_int(e(ioctl(fd, FIOCLEX)), -EBADF, "ioctl on a closed fd is EBADF");

    fd = (int)e(open("f", O_PATH));
    is_int(e(ioctl(fd, FIOCLEX)), -EBADF, "ioctl on an O_PATH fd is EBADF");
    close(fd);

    /* FICLONE's source fd is an unsigned int: the high bits of the
     * argument are dropped, so this names the directory below. */
    fd = (int)e(open(".", O_RDONLY | O_DIRECTORY));
    int dst = (int)e(open("f", O_RDWR));
    is_int(e(ioctl(dst, FICLONE, (1UL << 32) | (unsigned long)fd)), -EISDIR,
           "FICLONE takes the low 32 bits of its fd argument");
    close(dst);
    is_int(e(ioctl(fd, FIONREAD, &n)), -ENOTTY, "FIONREAD on a directory is ENOTTY");
    is_int(e(ioctl(fd, FIOQSIZE, &qsize)), 0, "FIOQSIZE on a directory");
    close(fd);

    fd = (int)e(open("/dev/null", O_RDWR));
    is_int(e(ioctl(fd, FIONREAD, &n)), -ENOTTY, "FIONREAD on /dev/null is ENOTTY");
    is_int(e(ioctl(fd, FIOQSIZE, &qsize)), -ENOTTY, "FIOQSIZE on /dev/null is ENOTTY");
    is_int(e(ioctl(fd, TCGETS, &tio)), -ENOTTY, "TCGETS on /dev/null is ENOTTY");
    is_int(e(ioctl(fd, TIOCGWINSZ, &ws)), -ENOTTY, "TIOCGWINSZ on /dev/null is ENOTTY");
    is_int(e(ioctl(fd, TCSETS, unmapped())), -ENOTTY,
           "TCSETS on /dev/null is ENOTTY before the argument is read");
    ok(!isatty(fd), "isatty(/dev/null) is false");
    /* The same for the stdio the sandbox was given, when it is a pipe or a
     * file (under the test runner): a terminal would read the argument. */
    if (!isatty(1)) {
        is_int(e(ioctl(1, TCSETS, unmapped())), -ENOTTY,
               "TCSETS on a non-terminal stdout is ENOTTY before the argument is read");
        is_int(e(ioctl(1, TIOCSWINSZ, unmapped())), -ENOTTY,
               "TIOCSWINSZ on a non-terminal stdout is ENOTTY before the argument is read");
    }
    is_int(e(ioctl(fd, FIOCLEX)), 0, "FIOCLEX on /dev/null");
    is_int(e(fcntl(fd, F_GETFD)), FD_CLOEXEC, "sets FD_CLOEXEC");
    on = 1;
    is_int(e(ioctl(fd, FIONBIO, &on)), 0, "FIONBIO on /dev/null");
    ok(e(fcntl(fd, F_GETFL)) & O_NONBLOCK, "sets O_NONBLOCK");
    int bsz = 0;
    is_int(e(ioctl(fd, 2 /* FIGETBSZ */, &bsz)), 0, "FIGETBSZ on /dev/null");
    ok(bsz > 0, "a block size (%d)", bsz);
    close(fd);
    unlink("f");
}

/* A node made with mknod opens the driver its number names, unless its
 * mount is nodev. */
static void test_mknod(void)
{
    is_int(e(mknod("null2", S_IFCHR | 0666, makedev(1, 3))), 0, "mknod c 1 3");
    is_int(e(mknod("none", S_IFCHR | 0666, makedev(250, 250))), 0, "mknod c 250 250");
    is_int(e(mknod("blk", S_IFBLK | 0666, makedev(7, 200))), 0, "mknod b 7 200");
    struct statvfs sv;
    is_int(e(statvfs(".", &sv)), 0, "statvfs the test directory");
    int fd = (int)e(open("null2", O_RDWR));
    if (sv.f_flag & ST_NODEV) {
        is_int(fd, -EACCES, "opening a device on a nodev mount is EACCES");
        is_int(e(open("none", O_RDWR)), -EACCES, "even one with no driver");
        is_int(e(open("blk", O_RDWR)), -EACCES, "and a block device");
    } else {
        ok(fd >= 0, "opening the node gives /dev/null");
        char c;
        is_int(e(read(fd, &c, 1)), 0, "it reads EOF");
        is_int(e(write(fd, "abc", 3)), 3, "and swallows writes");
        close(fd);
        is_int(e(open("none", O_RDWR)), -ENXIO, "a number with no driver is ENXIO");
        skip("block devices depend on the host", "a block device with no driver");
    }
    fd = (int)e(open("null2", O_PATH));
    ok(fd >= 0, "O_PATH opens a device node anywhere");
    close(fd);
    unlink("null2");
    unlink("none");
    unlink("blk");
}

static void test_links(void)
{
    char buf[64];
    const char *names[][2] = {{"/dev/fd", "/proc/self/fd"},
                              {"/dev/stdin", "/proc/self/fd/0"},
                              {"/dev/stdout", "/proc/self/fd/1"},
                              {"/dev/stderr", "/proc/self/fd/2"}};
    for (int i = 0; i < 4; i++) {
        long n = e(readlink(names[i][0], buf, sizeof(buf) - 1));
        ok(n > 0 && (buf[n] = 0, strcmp(buf, names[i][1]) == 0), "%s -> %s", names[i][0],
           names[i][1]);
    }
    struct stat st;
    if (stat("/proc/self/fd/1", &st) != 0) {
        skip("no /proc/self/fd yet", "/dev/stdout reaches what /proc/self/fd/1 does");
        return;
    }
    /* The same file as /proc/self/fd/1 names (what that is, is procfs's
     * test). */
    struct stat st1;
    ok(stat("/dev/stdout", &st1) == 0 && st.st_ino == st1.st_ino && st.st_dev == st1.st_dev,
       "/dev/stdout reaches what /proc/self/fd/1 does");
}

int main(void)
{
    strcpy(dir, "/tmp/moat-devices-XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory under /tmp");
        return 1;
    }
    test_nodes();
    test_null();
    test_zero_full();
    test_mmap();
    test_random();
    test_tty();
    test_ioctl();
    test_mknod();
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    test_links();
    done_testing();
}
