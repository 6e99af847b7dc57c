/*
 * File mappings: private mappings read the file and keep writes to
 * themselves, shared ones stay coherent with read(2)/write(2) both ways,
 * the tail of the last page reads as zeros, the errnos Linux gives, mremap
 * and madvise on file mappings, and the pattern ld.so uses to load a
 * library. Works in a fresh directory under /tmp (the sandbox's tmpfs under
 * moat); /etc/passwd stands in for a file of the read-only root.
 * SIGBUS past the end of a file is left to the mm unit tests: the sandbox
 * cannot deliver signals yet.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "tests/syscalls/tap.h"

#define PG 4096L

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static void *m(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap(addr, len, prot, flags, fd, off);
}

static long merr(void *p)
{
    return p == MAP_FAILED ? -errno : 0;
}

static char dir[256];
static unsigned char pat[4 * PG];
#define FSIZE (3 * PG + 100)

static int make_file(const char *name)
{
    int fd = open(name, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0)
        return -1;
    if (pwrite(fd, pat, FSIZE, 0) != FSIZE)
        return -1;
    return fd;
}

static void test_private(int fd)
{
    unsigned char *p = m(NULL, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    ok(p != MAP_FAILED, "private read-only mapping");
    if (p == MAP_FAILED)
        return;
    ok(memcmp(p, pat, FSIZE) == 0, "a private mapping reads the file");
    int zero = 1;
    for (long i = FSIZE; i < 4 * PG; i++)
        zero &= p[i] == 0;
    ok(zero, "the last page reads as zeros past the end of the file");
    is_int(e(munmap(p, 4 * PG)), 0, "munmap");

    p = m(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
    ok(p != MAP_FAILED, "private writable mapping at offset 4096");
    if (p == MAP_FAILED)
        return;
    ok(p[10] == pat[PG + 10], "it starts at the file offset");
    p[10] ^= 0xff;
    unsigned char b = 0;
    is_int(e(pread(fd, &b, 1, PG + 10)), 1, "pread");
    is_int(b, pat[PG + 10], "a private write does not reach the file");
    ok(p[10] == (pat[PG + 10] ^ 0xff), "the mapping keeps its write");
    is_int(e(madvise(p, PG, MADV_DONTNEED)), 0, "MADV_DONTNEED");
    is_int(p[10], pat[PG + 10], "after MADV_DONTNEED the page is the file's again");

    /* mremap keeps the file offset: the grown part is the file's next page. */
    unsigned char *q = mremap(p, 2 * PG, 3 * PG, MREMAP_MAYMOVE);
    ok(q != MAP_FAILED, "mremap grows a file mapping");
    if (q == MAP_FAILED) {
        munmap(p, 2 * PG);
        return;
    }
    is_int(q[2 * PG + 5], pat[3 * PG + 5], "the grown part maps the next file page");
    is_int(q[PG + 5], pat[2 * PG + 5], "the old part keeps its offsets");
    munmap(q, 3 * PG);
}

static void test_shared(int fd)
{
    unsigned char *p = m(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ok(p != MAP_FAILED, "shared writable mapping");
    if (p == MAP_FAILED)
        return;
    unsigned char *r = m(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
    ok(r != MAP_FAILED, "second shared mapping");
    if (r == MAP_FAILED)
        return;
    ok(memcmp(p, pat, FSIZE) == 0, "a shared mapping reads the file");
    p[PG + 1] = 0x5a;
    unsigned char b = 0;
    is_int(e(pread(fd, &b, 1, PG + 1)), 1, "pread");
    is_int(b, 0x5a, "a write through the mapping is seen by pread");
    is_int(r[PG + 1], 0x5a, "and by another shared mapping");
    is_int(e(pwrite(fd, "\x77", 1, 2 * PG + 3)), 1, "pwrite");
    is_int(p[2 * PG + 3], 0x77, "pwrite is seen through the mapping");
    p[FSIZE - 1] = 0x33;
    is_int(e(msync(p, 4 * PG, MS_SYNC)), 0, "msync MS_SYNC");
    is_int(e(msync(p, PG, MS_ASYNC)), 0, "msync MS_ASYNC");
    is_int(e(msync(p, PG, MS_INVALIDATE)), 0, "msync MS_INVALIDATE");
    is_int(e(msync(p, PG, MS_SYNC | MS_ASYNC)), -EINVAL, "msync MS_SYNC|MS_ASYNC is EINVAL");
    is_int(e(msync((char *)p + 1, PG, MS_SYNC)), -EINVAL, "msync of an unaligned address");
    is_int(e(pread(fd, &b, 1, FSIZE - 1)), 1, "pread");
    is_int(b, 0x33, "the last byte written through the mapping is in the file");
    struct stat st;
    fstat(fd, &st);
    is_int(st.st_size, FSIZE, "writing the mapping's tail page does not grow the file");

    /* A hole punched under the mapping: the mapping sees it, and a write
     * after it reaches the file (the page is the file's new one). */
    long fr = e(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG, PG));
    if (fr == -EOPNOTSUPP) {
        skip("the filesystem cannot punch holes", "punch hole under a mapping");
        skip("the filesystem cannot punch holes", "write after the punch");
    } else {
        ok(fr == 0 && p[PG + 1] == 0 && r[PG + 5] == 0, "a punched hole reads as zeros (%ld)", fr);
        p[PG + 5] = 0x42;
        b = 0;
        pread(fd, &b, 1, PG + 5);
        is_int(b, 0x42, "a write after the punch reaches the file");
    }
    /* Cut the file and grow it back: the cut part reads as zeros. */
    is_int(e(ftruncate(fd, 100)), 0, "ftruncate shrinks the mapped file");
    is_int(e(ftruncate(fd, FSIZE)), 0, "ftruncate grows it back");
    is_int(p[200], 0, "the cut part of a page reads as zeros");
    is_int(p[2 * PG + 3], 0, "a cut page comes back as zeros");
    is_int(r[50], pat[50], "the kept part is unchanged");
    p[2 * PG + 4] = 0x21;
    b = 0;
    pread(fd, &b, 1, 2 * PG + 4);
    is_int(b, 0x21, "a write to a page cut and grown back reaches the file");
    munmap(r, 4 * PG);
    munmap(p, 4 * PG);
    /* Restore the file for the other tests. */
    pwrite(fd, pat, FSIZE, 0);
}

static void test_errnos(int fd)
{
    is_int(merr(m(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0)), -EBADF, "fd -1 is EBADF");
    is_int(merr(m(NULL, PG, PROT_READ, MAP_PRIVATE, 999, 0)), -EBADF, "a closed fd is EBADF");
    is_int(merr(m(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 1)), -EINVAL,
           "an unaligned offset is EINVAL");
    is_int(merr(m(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0x7fffffffffffe000L)), -EOVERFLOW,
           "offset + length past the largest file offset is EOVERFLOW");
    is_int(merr(m(NULL, 0, PROT_READ, MAP_PRIVATE, fd, 0)), -EINVAL, "length 0 is EINVAL");

    int wo = open("f", O_WRONLY);
    is_int(merr(m(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0)), -EACCES,
           "a file not open for reading is EACCES");
    close(wo);
    int ro = open("f", O_RDONLY);
    is_int(merr(m(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0)), -EACCES,
           "MAP_SHARED|PROT_WRITE of a read-only fd is EACCES");
    void *p = m(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    ok(p != MAP_FAILED, "MAP_PRIVATE|PROT_WRITE of a read-only fd is fine");
    if (p != MAP_FAILED)
        munmap(p, PG);
    p = m(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
    ok(p != MAP_FAILED, "MAP_SHARED|PROT_READ of a read-only fd");
    if (p != MAP_FAILED) {
        is_int(e(mprotect(p, PG, PROT_READ | PROT_WRITE)), -EACCES,
               "mprotect cannot make it writable: EACCES");
        is_int(e(mprotect(p, PG, PROT_NONE)), 0, "mprotect PROT_NONE is fine");
        munmap(p, PG);
    }
    close(ro);
    int ap = open("f", O_RDWR | O_APPEND);
    p = m(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ap, 0);
    ok(p != MAP_FAILED, "O_APPEND does not stop a shared writable mapping (only chattr +a)");
    if (p != MAP_FAILED)
        munmap(p, PG);
    close(ap);
    int d = open(".", O_RDONLY | O_DIRECTORY);
    is_int(merr(m(NULL, PG, PROT_READ, MAP_PRIVATE, d, 0)), -ENODEV, "a directory is ENODEV");
    close(d);
    is_int(merr(m(NULL, PG, PROT_READ, 0, fd, 0)), -EINVAL, "no mapping type is EINVAL");
    is_int(merr(m(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, fd, 0)), -EINVAL,
           "MAP_GROWSDOWN on a file is EINVAL");
    is_int(merr(m(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0)), -EOPNOTSUPP,
           "MAP_SHARED_VALIDATE with an unknown flag is EOPNOTSUPP");
}

/* What ld.so does: reserve the whole file read-only, map segments over it
 * at other offsets and protections, then anonymous memory for .bss. */
static void test_ldso(int fd)
{
    unsigned char *base = m(NULL, 8 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    ok(base != MAP_FAILED, "reserve: the file mapped read-only");
    if (base == MAP_FAILED)
        return;
    unsigned char *text =
        m(base + PG, PG, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 2 * PG);
    ok(text == base + PG, "text at another offset, MAP_FIXED");
    unsigned char *data =
        m(base + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, PG);
    ok(data == base + 2 * PG, "data at another offset");
    unsigned char *bss = m(base + 3 * PG, 5 * PG, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
    ok(bss == base + 3 * PG, "anonymous memory over the rest");
    is_int(base[7], pat[7], "the first page is the file's start");
    is_int(text[9], pat[2 * PG + 9], "text reads its offset");
    is_int(data[11], pat[PG + 11], "data reads its offset");
    data[12] = 0xfe;
    is_int(bss[0], 0, "bss reads zeros");
    is_int(bss[4 * PG], 0, "all of it");
    int mp = mprotect(data, PG, PROT_READ);
    is_int(mp, 0, "mprotect the data page read-only (RELRO)");
    is_int(data[12], 0xfe, "it keeps its private write");
    munmap(base, 8 * PG);
}

static void test_root_file(void)
{
    int fd = open("/etc/passwd", O_RDONLY);
    if (fd < 0) {
        skip("no /etc/passwd", "a file of the root");
        return;
    }
    char buf[256];
    long n = e(pread(fd, buf, sizeof(buf), 0));
    ok(n > 0, "pread /etc/passwd");
    char *p = m(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    ok(p != MAP_FAILED && n > 0 && memcmp(p, buf, (size_t)n) == 0,
       "a private mapping of a root file reads it");
    if (p != MAP_FAILED)
        munmap(p, PG);
    p = m(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    ok(p != MAP_FAILED && n > 0 && memcmp(p, buf, (size_t)n) == 0,
       "a shared read-only mapping of a root file reads it");
    if (p != MAP_FAILED)
        munmap(p, PG);
    close(fd);
}

/* argv[1]: where to make the test directory instead of /tmp (a volume, to
 * test goferfs's page cache: moat do --volume=HOSTDIR:/vol -- ... /vol). */
/* Taking a permission away from a range the sandbox has mapped only in
 * part (one page touched, one past EOF never mappable) must work: moat's
 * stub once failed the host mprotect at the first hole and the sandbox
 * killed the guest. */
static void test_sparse_mprotect(int fd)
{
    char *p = m(NULL, 6 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (!ok(p != MAP_FAILED, "map 6 pages of a file of 3 and a bit"))
        return;
    p[0] = 'w';
    volatile char c = p[2 * PG];
    (void)c;
    is_int(e(mprotect(p, 6 * PG, PROT_READ)), 0, "mprotect the whole range read-only");
    is_int(p[0], 'w', "the written page reads back");
    is_int(p[PG] & 0xff, pat[PG], "an untouched page reads the file");
    is_int(e(mprotect(p, 6 * PG, PROT_NONE)), 0, "then PROT_NONE");
    is_int(e(mprotect(p, 2 * PG, PROT_READ | PROT_WRITE)), 0, "and read-write again");
    p[1] = 'x';
    is_int(p[0], 'w', "the private page kept its write");
    is_int(e(munmap(p, 6 * PG)), 0, "unmap");
}

int main(int argc, char **argv)
{
    for (long i = 0; i < 4 * PG; i++)
        pat[i] = (unsigned char)(i * 7 + i / PG + 1);
    snprintf(dir, sizeof(dir), "%s/moat-mmap-XXXXXX", argc > 1 ? argv[1] : "/tmp");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        tap_printf("Bail out! no test directory\n");
        return 1;
    }
    int fd = make_file("f");
    ok(fd >= 0, "create a %ld-byte file", (long)FSIZE);
    if (fd >= 0) {
        test_private(fd);
        test_shared(fd);
        test_errnos(fd);
        test_ldso(fd);
        test_sparse_mprotect(fd);
        close(fd);
    }
    test_root_file();
    unlink("f");
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    done_testing();
}
