/*
 * Moving data between files and file hints: sendfile, copy_file_range,
 * fallocate (allocate, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE where the
 * filesystem has it), fadvise64, readahead, syncfs, O_TMPFILE and
 * SEEK_DATA/SEEK_HOLE, on a fresh directory under /tmp (host's natively,
 * the sandbox's tmpfs under moat) and on the test's own executable (the
 * host's root through the Gofer under moat).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "tests/syscalls/tap.h"

#define TMPFS_MAGIC     0x01021994
#define OVERLAYFS_MAGIC 0x794c7630

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];
static unsigned char pattern[102400];

static int make(const char *name, const void *data, size_t n)
{
    int fd = (int)e(open(name, O_CREAT | O_TRUNC | O_RDWR, 0644));
    if (fd >= 0 && n)
        write(fd, data, n);
    return fd;
}

static bool same(int fd, off_t off, const void *want, size_t n)
{
    static unsigned char got[sizeof(pattern)];
    return pread(fd, got, n, off) == (ssize_t)n && memcmp(got, want, n) == 0;
}

static bool zeros(int fd, off_t off, size_t n)
{
    static unsigned char z[65536];
    return n <= sizeof(z) && same(fd, off, z, n);
}

static void test_sendfile(void)
{
    int in = make("src", pattern, sizeof(pattern));
    int out = make("dst", NULL, 0);
    lseek(in, 0, SEEK_SET);
    is_int(SC(SYS_sendfile, out, in, NULL, 50000), 50000, "sendfile 50000 bytes");
    is_int(e(lseek(in, 0, SEEK_CUR)), 50000, "without an offset the input's offset moves");
    is_int(e(lseek(out, 0, SEEK_CUR)), 50000, "the output's offset moves");
    off_t off = 60000;
    is_int(SC(SYS_sendfile, out, in, &off, (size_t)1 << 40), (long)sizeof(pattern) - 60000,
           "with an offset: up to the end of the input");
    is_int(off, (long)sizeof(pattern), "the offset is updated");
    is_int(e(lseek(in, 0, SEEK_CUR)), 50000, "the input's own offset stays");
    ok(same(out, 0, pattern, 50000) && same(out, 50000, pattern + 60000, sizeof(pattern) - 60000),
       "the data arrived");
    is_int(SC(SYS_sendfile, out, in, &off, 10), 0, "at the end of the input: 0");
    off = -1;
    is_int(SC(SYS_sendfile, out, in, &off, 10), -EINVAL, "negative offset: EINVAL");
    off = INT64_MAX - 10;
    is_int(SC(SYS_sendfile, out, in, &off, 100), -EINVAL,
           "offset plus count past the largest: EINVAL");
    off = INT64_MAX;
    is_int(SC(SYS_sendfile, out, in, &off, 1), -EINVAL, "at the largest offset: EINVAL");
    off = 0;
    is_int(SC(SYS_sendfile, out, in, &off, (size_t)-1), -EINVAL, "a count over SSIZE_MAX: EINVAL");
    is_int(SC(SYS_sendfile, out, in, (void *)8, 10), -EFAULT, "bad offset pointer: EFAULT");
    int wo = (int)e(open("src", O_WRONLY));
    is_int(SC(SYS_sendfile, out, wo, NULL, 10), -EBADF, "input not open for reading: EBADF");
    int ro = (int)e(open("src", O_RDONLY));
    is_int(SC(SYS_sendfile, ro, in, NULL, 10), -EBADF, "output not open for writing: EBADF");
    close(ro);
    close(wo);
    int app = (int)e(open("dst", O_WRONLY | O_APPEND));
    off = 0;
    is_int(SC(SYS_sendfile, app, in, &off, 10), -EINVAL, "O_APPEND output: EINVAL");
    close(app);
    is_int(SC(SYS_sendfile, out, 999, NULL, 10), -EBADF, "bad input fd: EBADF");
    int p[2];
    if (pipe(p) == 0) {
        off = 0;
        is_int(SC(SYS_sendfile, out, p[0], &off, 10), -ESPIPE, "offset on a pipe: ESPIPE");
        is_int(SC(SYS_fadvise64, p[0], 0, 0, 0), -ESPIPE, "fadvise on a pipe: ESPIPE");
        close(p[0]);
        close(p[1]);
    } else {
        skip("no pipes", "sendfile offset on a pipe");
        skip("no pipes", "fadvise on a pipe");
    }
    close(in);
    close(out);
}

static void test_copy_file_range(void)
{
    int in = (int)e(open("src", O_RDONLY));
    int out = make("cfr", NULL, 0);
    loff_t oin = 1000, oout = 0;
    is_int(SC(SYS_copy_file_range, in, &oin, out, &oout, 5000, 0), 5000, "copy 5000 bytes");
    ok(oin == 6000 && oout == 5000, "both offsets advance (%ld, %ld)", (long)oin, (long)oout);
    is_int(e(lseek(in, 0, SEEK_CUR)), 0, "the file offsets stay");
    ok(same(out, 0, pattern + 1000, 5000), "the data arrived");
    lseek(in, 100, SEEK_SET);
    is_int(SC(SYS_copy_file_range, in, NULL, out, NULL, 10, 0), 10, "NULL offsets: the files'");
    is_int(e(lseek(in, 0, SEEK_CUR)), 110, "input offset moved");
    is_int(e(lseek(out, 0, SEEK_CUR)), 10, "output offset moved");
    ok(same(out, 0, pattern + 100, 10), "copied at the output's offset");
    oin = sizeof(pattern) - 10;
    is_int(SC(SYS_copy_file_range, in, &oin, out, NULL, 100, 0), 10, "stops at the input's end");
    is_int(SC(SYS_copy_file_range, in, &oin, out, NULL, 100, 0), 0, "at the end: 0");
    is_int(SC(SYS_copy_file_range, in, NULL, out, NULL, 10, 1), -EINVAL, "flags: EINVAL");
    int rw = (int)e(open("cfr", O_RDWR));
    loff_t a = 0, b = 100;
    is_int(SC(SYS_copy_file_range, rw, &a, rw, &b, 200, 0), -EINVAL,
           "overlapping ranges of one file: EINVAL");
    a = 0;
    b = 4000;
    is_int(SC(SYS_copy_file_range, rw, &a, rw, &b, 100, 0), 100, "disjoint ranges of one file");
    ok(same(rw, 4000, pattern + 100, 10), "copied within the file");
    a = -1;
    is_int(SC(SYS_copy_file_range, in, &a, out, NULL, 1, 0), -EOVERFLOW,
           "negative offset: EOVERFLOW");
    a = -5;
    is_int(SC(SYS_copy_file_range, in, &a, out, NULL, 3, 0), -EINVAL,
           "negative offset that does not wrap: EINVAL");
    a = 0;
    b = 0;
    is_int(SC(SYS_copy_file_range, in, &a, rw, &b, (size_t)-1, 0), (long)sizeof(pattern),
           "a huge length is cut at the input's end");
    a = 10;
    is_int(SC(SYS_copy_file_range, in, &a, out, NULL, (size_t)-1, 0), -EOVERFLOW,
           "an offset plus length that wraps: EOVERFLOW");
    a = 0;
    b = INT64_MAX;
    is_int(SC(SYS_copy_file_range, in, &a, rw, &b, 0, 0), -EFBIG,
           "output offset at the largest file size: EFBIG");
    int app = (int)e(open("cfr", O_WRONLY | O_APPEND));
    is_int(SC(SYS_copy_file_range, in, NULL, app, NULL, 1, 0), -EBADF, "O_APPEND output: EBADF");
    close(app);
    is_int(SC(SYS_copy_file_range, out, NULL, in, NULL, 1, 0), -EBADF,
           "output open read-only: EBADF");
    int d = (int)e(open(".", O_RDONLY | O_DIRECTORY));
    is_int(SC(SYS_copy_file_range, d, NULL, out, NULL, 1, 0), -EISDIR, "a directory: EISDIR");
    close(d);
    close(rw);
    close(in);
    close(out);
}

/* Ranges far beyond the data must be answered at once, not walked page by
 * page (the Sentry once spun for minutes on such a fallocate). The harness's
 * timeout catches a hang. */
static void test_huge_ranges(void)
{
    int fd = make("huge", "x", 1);
    long r = e(fallocate(fd, 0, 0, 1LL << 46));
    ok(r == -ENOSPC || r == -EFBIG, "allocating 64 TiB fails at once (%ld)", r);
    struct stat st;
    fstat(fd, &st);
    is_int(st.st_size, 1, "and leaves the size alone");
    is_int(e(ftruncate(fd, 1LL << 43)), 0, "an 8 TiB sparse file");
    is_int(e(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1LL << 43)), 0,
           "punching a hole through all of it");
    char c = 'y';
    is_int(e(pread(fd, &c, 1, 0)), 1, "reads back");
    is_int(c, 0, "as a hole");
    close(fd);
    unlink("huge");
}

/* FICLONE's checks before the filesystem is asked (whether it can share
 * extents depends on the filesystem, so that answer is not tested). */
static void test_ficlone(void)
{
    int out = make("clone", NULL, 0);
    int in = (int)e(open("src", O_RDONLY));
    int d = (int)e(open(".", O_RDONLY | O_DIRECTORY));
    is_int(e(ioctl(out, FICLONE, 9999)), -EBADF, "FICLONE from a closed fd: EBADF");
    is_int(e(ioctl(out, FICLONE, d)), -EISDIR, "FICLONE from a directory: EISDIR");
    is_int(e(ioctl(in, FICLONE, out)), -EBADF, "FICLONE into a read-only file: EBADF");
    close(d);
    close(in);
    close(out);
    unlink("clone");
}

/* From the test's own executable (the image, under moat) to a file here:
 * one filesystem as the guest sees it (an overlay under moat) copies, two
 * are EXDEV (Linux 5.19+). */
static void test_copy_across(const char *self)
{
    int in = (int)e(open(self, O_RDONLY));
    int out = make("across", NULL, 0);
    struct stat si, so;
    fstat(in, &si);
    fstat(out, &so);
    char head[64];
    pread(in, head, sizeof(head), 0);
    long r = SC(SYS_copy_file_range, in, NULL, out, NULL, sizeof(head), 0);
    if (si.st_dev == so.st_dev)
        ok(r == (long)sizeof(head) && same(out, 0, head, sizeof(head)),
           "same filesystem: the copy works (%ld)", r);
    else
        is_int(r, -EXDEV, "across filesystems: EXDEV");
    close(in);
    close(out);
    unlink("across");
}

static void test_fallocate(long fs_type)
{
    int fd = make("fa", NULL, 0);
    struct stat st;
    is_int(e(fallocate(fd, 0, 0, 1 << 20)), 0, "fallocate 1 MiB");
    fstat(fd, &st);
    is_int(st.st_size, 1 << 20, "the size grows");
    ok(st.st_blocks >= 2048, "blocks are allocated (%ld)", (long)st.st_blocks);
    ok(zeros(fd, 4096, 4096), "allocated space reads as zeros");
    is_int(e(fallocate(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20)), 0, "KEEP_SIZE past the end");
    fstat(fd, &st);
    is_int(st.st_size, 1 << 20, "KEEP_SIZE keeps the size");
    ok(st.st_blocks >= 4096, "but allocates (%ld)", (long)st.st_blocks);
    pwrite(fd, pattern, 65536, 0);
    blkcnt_t before = st.st_blocks;
    is_int(e(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 16384)), 0,
           "punch a hole");
    fstat(fd, &st);
    is_int(st.st_size, 1 << 20, "punching keeps the size");
    ok(st.st_blocks < before, "and gives blocks back (%ld < %ld)", (long)st.st_blocks,
       (long)before);
    ok(zeros(fd, 8192, 16384), "the hole reads as zeros");
    ok(same(fd, 0, pattern, 8192) && same(fd, 24576, pattern + 24576, 4096), "around it, data");
    is_int(e(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 200)), 0,
           "punch inside a page");
    ok(zeros(fd, 100, 200) && same(fd, 0, pattern, 100) && same(fd, 300, pattern + 300, 100),
       "only those bytes are zeroed");
    is_int(e(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10)), -EOPNOTSUPP,
           "PUNCH_HOLE without KEEP_SIZE: EOPNOTSUPP");
    /* tmpfs has no ZERO_RANGE; an overlay's answer is its upper layer's. */
    int zr = (int)e(fallocate(fd, FALLOC_FL_ZERO_RANGE, 32768, 4096));
    if (fs_type == TMPFS_MAGIC)
        is_int(zr, -EOPNOTSUPP, "ZERO_RANGE on tmpfs: EOPNOTSUPP");
    else if (fs_type == OVERLAYFS_MAGIC && zr == -EOPNOTSUPP)
        ok(1, "ZERO_RANGE on an overlay: EOPNOTSUPP from a tmpfs upper layer");
    else
        ok(zr == 0 && zeros(fd, 32768, 4096), "ZERO_RANGE zeroes (%d)", zr);
    is_int(e(fallocate(fd, 0x100, 0, 1)), -EOPNOTSUPP, "unknown mode bit: EOPNOTSUPP");
    is_int(e(fallocate(fd, 0, 0, 0)), -EINVAL, "zero length: EINVAL");
    is_int(e(fallocate(fd, 0, -1, 10)), -EINVAL, "negative offset: EINVAL");
    is_int(e(fallocate(fd, 0, 1, 0x7fffffffffffffffL)), -EFBIG, "past the largest size: EFBIG");
    int ro = (int)e(open("fa", O_RDONLY));
    is_int(e(fallocate(ro, 0, 0, 10)), -EBADF, "read-only fd: EBADF");
    is_int(SC(SYS_fadvise64, ro, 0, 0, POSIX_FADV_SEQUENTIAL), 0, "fadvise SEQUENTIAL");
    is_int(SC(SYS_fadvise64, ro, 0, 4096, POSIX_FADV_DONTNEED), 0, "fadvise DONTNEED");
    is_int(SC(SYS_fadvise64, ro, 0, 0, 99), -EINVAL, "fadvise bad advice: EINVAL");
    is_int(SC(SYS_fadvise64, ro, 0, -1L, 0), -EINVAL, "fadvise negative length: EINVAL");
    is_int(SC(SYS_fadvise64, 999, 0, 0, 0), -EBADF, "fadvise bad fd: EBADF");
    is_int(SC(SYS_readahead, ro, 0, 4096), 0, "readahead");
    int wo = (int)e(open("fa", O_WRONLY));
    is_int(SC(SYS_readahead, wo, 0, 4096), -EBADF, "readahead on a write-only fd: EBADF");
    int d = (int)e(open(".", O_RDONLY | O_DIRECTORY));
    is_int(SC(SYS_readahead, d, 0, 4096), -EINVAL, "readahead on a directory: EINVAL");
    is_int(e(fallocate(d, 0, 0, 1)), -EBADF, "fallocate on a directory fd: EBADF");
    is_int(SC(SYS_syncfs, d), 0, "syncfs");
    is_int(SC(SYS_syncfs, 999), -EBADF, "syncfs bad fd: EBADF");
    close(d);
    close(wo);
    close(ro);
    close(fd);
}

static int count_entries(void)
{
    char buf[4096];
    int d = open(".", O_RDONLY | O_DIRECTORY), n = 0;
    long got;
    while ((got = syscall(SYS_getdents64, d, buf, sizeof(buf))) > 0) {
        for (long off = 0; off < got;) {
            unsigned short reclen = *(unsigned short *)(buf + off + 16);
            n++;
            off += reclen;
        }
    }
    close(d);
    return n;
}

static void test_tmpfile(void)
{
    int entries = count_entries();
    int fd = (int)e(open(".", O_TMPFILE | O_RDWR, 0600));
    ok(fd >= 0, "O_TMPFILE opens (%d)", fd);
    struct stat st;
    is_int(e(fstat(fd, &st)), 0, "fstat");
    ok(S_ISREG(st.st_mode) && st.st_nlink == 0, "an unnamed regular file (nlink %ld)",
       (long)st.st_nlink);
    is_int(st.st_mode & 07777, 0600, "with the mode asked for");
    is_int(count_entries(), entries, "no new directory entry");
    is_int(e(write(fd, "tmp", 3)), 3, "write to it");
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    is_int(e(linkat(AT_FDCWD, proc, AT_FDCWD, "named", AT_SYMLINK_FOLLOW)), 0,
           "linkat through /proc/self/fd gives it a name");
    is_int(e(stat("named", &st)), 0, "the name exists");
    ok(st.st_nlink == 1 && st.st_size == 3, "one link, the data written");
    unlink("named");
    close(fd);
    fd = (int)e(open(".", O_TMPFILE | O_RDWR | O_EXCL, 0600));
    ok(fd >= 0, "O_TMPFILE|O_EXCL opens");
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    is_int(e(linkat(AT_FDCWD, proc, AT_FDCWD, "named", AT_SYMLINK_FOLLOW)), -ENOENT,
           "O_EXCL: it can never be linked (ENOENT)");
    close(fd);
    is_int(e(open(".", O_TMPFILE | O_RDONLY, 0600)), -EINVAL, "O_TMPFILE read-only: EINVAL");
    is_int(e(open("src", O_TMPFILE | O_RDWR, 0600)), -ENOTDIR, "O_TMPFILE on a file: ENOTDIR");
    is_int(e(open("nope", O_TMPFILE | O_RDWR, 0600)), -ENOENT, "O_TMPFILE, no directory: ENOENT");
    is_int(e(open(".", O_TMPFILE | O_CREAT | O_RDWR, 0600)), -EINVAL, "with O_CREAT: EINVAL");
}

static void seek_checks(const char *what, int fd)
{
    struct stat st;
    fstat(fd, &st);
    is_int(e(lseek(fd, 0, SEEK_DATA)), 0, "%s: SEEK_DATA from 0 is 0", what);
    is_int(e(lseek(fd, 0, SEEK_HOLE)), st.st_size, "%s: SEEK_HOLE from 0 is the size", what);
    is_int(e(lseek(fd, st.st_size, SEEK_DATA)), -ENXIO, "%s: SEEK_DATA at the end: ENXIO", what);
    is_int(e(lseek(fd, st.st_size, SEEK_HOLE)), -ENXIO, "%s: SEEK_HOLE at the end: ENXIO", what);
    is_int(e(lseek(fd, -1, SEEK_DATA)), -ENXIO, "%s: SEEK_DATA negative: ENXIO", what);
}

static void test_seek_data_hole(const char *self)
{
    int fd = make("dense", pattern, 8192);
    seek_checks("tmp file", fd);
    close(fd);
    fd = (int)e(open(self, O_RDONLY));
    if (fd < 0) {
        diag("cannot open %s: %d", self, fd);
        return;
    }
    seek_checks("own executable", fd);
    close(fd);
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        strncpy(self, argv[0], sizeof(self) - 1);
        self[sizeof(self) - 1] = '\0';
    } else {
        self[n] = '\0';
    }
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (unsigned char)(i * 7 + i / 251);
    strcpy(dir, "/tmp/moat-fileops-XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory: %s", strerror(errno));
        return 1;
    }
    struct statfs sfs;
    long fs_type = statfs(".", &sfs) == 0 ? (long)sfs.f_type : 0;
    test_sendfile();
    test_copy_file_range();
    test_ficlone();
    test_huge_ranges();
    test_copy_across(self);
    test_fallocate(fs_type);
    test_tmpfile();
    test_seek_data_hole(self);
    unlink("src");
    unlink("dst");
    unlink("cfr");
    unlink("fa");
    unlink("dense");
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    done_testing();
}
