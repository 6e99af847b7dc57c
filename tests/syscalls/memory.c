/*
 * Guest memory management: mmap/munmap/mprotect/mremap/brk/madvise/mincore/
 * msync and the implicit growth of the main stack.
 *
 * Every expectation here was checked against Linux running the same binary;
 * where Linux leaves a result unspecified (residency of pages never touched)
 * the value is only reported as a diagnostic.
 */
#include <linux/mman.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "tests/syscalls/tap.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static size_t pg;

static char *map_anon(size_t len, int prot, int flags)
{
    void *p = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static char *map_rw(size_t len)
{
    return map_anon(len, PROT_READ | PROT_WRITE, MAP_PRIVATE);
}

/* mincore fails with ENOMEM exactly when part of the range is unmapped. */
static int is_mapped(const void *p, size_t len)
{
    unsigned char vec[64];
    return syscall(SYS_mincore, p, len, vec) == 0;
}

static int all_bytes(const char *p, size_t len, int val)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] != (unsigned char)val)
            return 0;
    return 1;
}

static void fill_pattern(char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (char)((i * 31u + seed) & 0xff);
}

static int has_pattern(const char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != (char)((i * 31u + seed) & 0xff))
            return 0;
    return 1;
}

/*
 * An address range guaranteed unmapped, bracketed by PROT_NONE guards so a
 * later mapping of the same size is unlikely to land in it by accident.
 */
static char *unmapped_range(size_t pages)
{
    char *p = map_anon((pages + 2) * pg, PROT_NONE, MAP_PRIVATE);
    if (!p)
        return NULL;
    munmap(p + pg, pages * pg);
    return p + pg;
}

/* A read-write private mapping whose following page is known to be free. */
static char *map_rw_bounded(size_t pages)
{
    char *hole = unmapped_range(pages + 1);
    if (!hole)
        return NULL;
    void *p = mmap(hole, pages * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void test_mmap_basic(void)
{
    char *p = map_rw(4 * pg);
    ok(p != NULL, "mmap anonymous private");
    if (!p)
        return;
    is_int((uintptr_t)p % pg, 0, "mmap result is page aligned");
    ok(all_bytes(p, 4 * pg, 0), "anonymous private mapping is zero-filled");
    memset(p, 0xa5, 4 * pg);
    ok(all_bytes(p, 4 * pg, 0xa5), "anonymous private mapping is writable");
    is_int(munmap(p, 4 * pg), 0, "munmap whole mapping");
    ok(!is_mapped(p, pg), "unmapped range reported unmapped by mincore");

    char *s = map_anon(3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED);
    ok(s != NULL, "mmap anonymous shared");
    if (s) {
        ok(all_bytes(s, 3 * pg, 0), "anonymous shared mapping is zero-filled");
        fill_pattern(s, 3 * pg, 7);
        ok(has_pattern(s, 3 * pg, 7), "anonymous shared mapping is writable");
        munmap(s, 3 * pg);
    }

    char *big_hint = (char *)SC(SYS_mmap, NULL, pg, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | 0x200000, -1, 0);
    ok((long)big_hint > 0, "unknown flag bit with MAP_PRIVATE is ignored (legacy mmap)");
    if ((long)big_hint > 0)
        munmap(big_hint, pg);

    char *pop = map_anon(4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE);
    ok(pop != NULL && all_bytes(pop, 4 * pg, 0), "MAP_POPULATE mapping is zero-filled");
    if (pop)
        munmap(pop, 4 * pg);
}

static void test_mmap_fixed(void)
{
    char *r = map_rw(4 * pg);
    if (!ok(r != NULL, "reserve 4 pages for MAP_FIXED"))
        return;
    memset(r, 0x11, 4 * pg);
    char *f = mmap(r + pg, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   -1, 0);
    is_hex((uintptr_t)f, (uintptr_t)(r + pg), "MAP_FIXED returns the requested address");
    ok(all_bytes(r + pg, 2 * pg, 0), "MAP_FIXED replaced the old pages with zero pages");
    ok(all_bytes(r, pg, 0x11) && all_bytes(r + 3 * pg, pg, 0x11),
       "pages around a MAP_FIXED mapping keep their contents");

    is_int(SC(SYS_mmap, r + 2 * pg, pg, PROT_READ,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
           -EEXIST, "MAP_FIXED_NOREPLACE over an existing mapping: EEXIST");
    ok(all_bytes(r + 2 * pg, pg, 0), "failed MAP_FIXED_NOREPLACE left the old page alone");
    munmap(r, 4 * pg);

    char *hole = unmapped_range(4);
    if (!ok(hole != NULL, "find an unmapped range"))
        return;
    long nr = SC(SYS_mmap, hole, pg, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    is_hex((unsigned long)nr, (uintptr_t)hole, "MAP_FIXED_NOREPLACE in free space maps there");
    is_int(SC(SYS_mmap, hole, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
              -1, 0),
           -EEXIST, "MAP_FIXED_NOREPLACE partially overlapping: EEXIST");
    munmap(hole, pg);

    char *hint = hole + 2 * pg;
    char *h = mmap(hint, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    is_hex((uintptr_t)h, (uintptr_t)hint, "a free hint address is honoured");
    if (h != MAP_FAILED)
        munmap(h, pg);

    is_int(SC(SYS_mmap, hole + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
           -EINVAL, "MAP_FIXED at an unaligned address: EINVAL");
    long u = SC(SYS_mmap, hole + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok(u > 0 && u % (long)pg == 0, "an unaligned hint is only a hint: page-aligned result");
    if (u > 0)
        munmap((void *)u, pg);

    is_int(SC(SYS_mmap, 0xffff800000000000UL, pg, PROT_READ,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
           -ENOMEM, "MAP_FIXED at a kernel address: ENOMEM");
}

static void test_mmap_errors(void)
{
    is_int(SC(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -EINVAL,
           "mmap length 0: EINVAL");
    is_int(SC(SYS_mmap, 0, pg, PROT_READ, MAP_ANONYMOUS, -1, 0), -EINVAL,
           "mmap without MAP_PRIVATE or MAP_SHARED: EINVAL");
    /*
     * Linux validates MAP_SHARED_VALIDATE flags only for file mappings; an
     * anonymous mapping of that type is refused outright with EINVAL, with
     * or without unknown flags (EOPNOTSUPP needs a file).
     */
    is_int(SC(SYS_mmap, 0, pg, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), -EINVAL,
           "anonymous MAP_SHARED_VALIDATE: EINVAL");
    is_int(SC(SYS_mmap, 0, pg, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x200000, -1, 0),
           -EINVAL, "anonymous MAP_SHARED_VALIDATE with an unknown flag: EINVAL");
    is_int(SC(SYS_mmap, 0, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1), -EINVAL,
           "mmap with an unaligned offset: EINVAL");
    is_int(SC(SYS_mmap, 0, (size_t)-pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -ENOMEM,
           "mmap of nearly 2^64 bytes: ENOMEM");
    long fdn = SC(SYS_mmap, 0, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 12345, 0);
    ok(fdn > 0, "MAP_ANONYMOUS ignores the fd argument");
    if (fdn > 0)
        munmap((void *)fdn, pg);
}

static void test_munmap(void)
{
    char *p = map_rw(3 * pg);
    if (!ok(p != NULL, "map 3 pages for munmap holes"))
        return;
    fill_pattern(p, 3 * pg, 3);
    is_int(munmap(p + pg, pg), 0, "munmap the middle page");
    ok(!is_mapped(p + pg, pg), "middle page is gone");
    ok(is_mapped(p, pg) && is_mapped(p + 2 * pg, pg), "outer pages are still mapped");
    ok(has_pattern(p, pg, 3), "first page kept its contents");
    int third_ok = 1;
    for (size_t i = 2 * pg; i < 3 * pg; i++)
        third_ok &= p[i] == (char)((i * 31u + 3) & 0xff);
    ok(third_ok, "third page kept its contents");
    ok(!is_mapped(p, 3 * pg), "mincore across the hole: ENOMEM");
    is_int(munmap(p + pg, pg), 0, "munmap of an already unmapped page succeeds");
    is_int(munmap(p, 3 * pg), 0, "munmap across a hole succeeds");
    ok(!is_mapped(p, pg) && !is_mapped(p + 2 * pg, pg), "all three pages gone");

    is_int(SC(SYS_munmap, p + 1, pg), -EINVAL, "munmap unaligned address: EINVAL");
    is_int(SC(SYS_munmap, p, 0), -EINVAL, "munmap length 0: EINVAL");
    is_int(SC(SYS_munmap, 0xffff800000000000UL, pg), -EINVAL, "munmap kernel address: EINVAL");

    char *q = map_rw(2 * pg);
    if (q) {
        is_int(munmap(q, pg + 1), 0, "munmap length rounds up to pages");
        ok(!is_mapped(q + pg, pg), "second page unmapped by rounded length");
    }
}

static void test_mprotect(void)
{
    char *hole = unmapped_range(1);
    is_int(SC(SYS_mprotect, hole, pg, PROT_READ), -ENOMEM, "mprotect on unmapped memory: ENOMEM");
    is_int(SC(SYS_mprotect, hole, 0, PROT_READ), 0, "mprotect length 0: success, nothing to do");

    char *p = map_rw_bounded(3);
    if (!ok(p != NULL, "map 3 pages for mprotect"))
        return;
    is_int(SC(SYS_mprotect, p + 1, pg, PROT_READ), -EINVAL, "mprotect unaligned: EINVAL");
    is_int(SC(SYS_mprotect, p, pg, 0x100), -EINVAL, "mprotect unknown prot bit: EINVAL");
    is_int(SC(SYS_mprotect, p, 4 * pg, PROT_READ), -ENOMEM,
           "mprotect running past the mapping: ENOMEM");
    /* Linux may have changed the mapped part before failing: undo that. */
    is_int(mprotect(p, 3 * pg, PROT_READ | PROT_WRITE), 0, "mprotect the mapping read-write");

    memset(p, 0x5a, 3 * pg);
    is_int(mprotect(p + pg, pg, PROT_READ), 0, "mprotect middle page read-only");
    ok(all_bytes(p + pg, pg, 0x5a), "read-only page is still readable");
    is_int(SC(SYS_getrandom, p + pg, 16, 0), -EFAULT, "getrandom into a read-only page: EFAULT");
    struct timespec *ts = (struct timespec *)(p + pg);
    is_int(SC(SYS_clock_gettime, CLOCK_MONOTONIC, ts), -EFAULT,
           "clock_gettime syscall into a read-only page: EFAULT");
    ok(all_bytes(p + pg, pg, 0x5a), "failed syscalls did not modify the read-only page");
    is_int(mprotect(p + pg, pg, PROT_READ | PROT_WRITE), 0, "mprotect back to read-write");
    is_int(SC(SYS_getrandom, p + pg, 16, 0), 16, "getrandom into the writable page works");

    /* Must not let a write() to stdout print anything when it faults. */
    struct stat st;
    int devnull = fstat(1, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
    is_int(mprotect(p + 2 * pg, pg, PROT_NONE), 0, "mprotect last page PROT_NONE");
    ok(is_mapped(p + 2 * pg, pg), "mincore still sees the PROT_NONE page as mapped");
    if (devnull)
        skip("stdout is /dev/null, which never reads the buffer", "write from PROT_NONE");
    else
        is_int(SC(SYS_write, 1, p + 2 * pg, 10), -EFAULT,
               "write(1) from a PROT_NONE page: EFAULT, nothing printed");
    is_int(SC(SYS_getrandom, p + 2 * pg, 8, 0), -EFAULT, "getrandom into PROT_NONE: EFAULT");
    is_int(mprotect(p + 2 * pg, pg, PROT_READ), 0, "mprotect PROT_NONE page back to readable");
    ok(all_bytes(p + 2 * pg, pg, 0x5a), "PROT_NONE round trip kept the contents");
    munmap(p, 3 * pg);
}

/*
 * glibc's mremap() is variadic and may hand the kernel an indeterminate new
 * address when MREMAP_FIXED is absent, which newer kernels validate for
 * MREMAP_DONTUNMAP; always pass one explicitly.
 */
static char *remap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
    return (char *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}

static void test_mremap(void)
{
    char *p = map_rw(2 * pg);
    if (!ok(p != NULL, "map 2 pages for mremap"))
        return;
    fill_pattern(p, 2 * pg, 9);
    char *g = remap(p, 2 * pg, 8 * pg, MREMAP_MAYMOVE, NULL);
    ok(g != MAP_FAILED, "mremap grow with MREMAP_MAYMOVE");
    if (g == MAP_FAILED)
        return;
    ok(has_pattern(g, 2 * pg, 9), "grown mapping keeps its contents");
    ok(all_bytes(g + 2 * pg, 6 * pg, 0), "grown part is zero-filled");
    memset(g + 2 * pg, 0x77, 6 * pg);

    char *s = remap(g, 8 * pg, 3 * pg, 0, NULL);
    is_hex((uintptr_t)s, (uintptr_t)g, "mremap shrink stays in place");
    ok(has_pattern(g, 2 * pg, 9) && all_bytes(g + 2 * pg, pg, 0x77),
       "shrunk mapping keeps its contents");
    ok(!is_mapped(g + 3 * pg, pg), "pages past the shrunk end are unmapped");

    /* Grow in place: the range after it must be free. */
    char *r = unmapped_range(6);
    char *ip = mmap(r, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (ok(ip == r, "map one page at the start of a free range")) {
        ip[0] = 42;
        char *ig = remap(ip, pg, 4 * pg, 0, NULL);
        is_hex((uintptr_t)ig, (uintptr_t)ip, "mremap grow in place without MAYMOVE");
        ok(ig == ip && ip[0] == 42 && all_bytes(ip + pg, 3 * pg, 0),
           "in-place growth keeps contents, new part zero");
        /* r + 4 pages onward: put something right after to block growth. */
        char *blk = mmap(r + 4 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        ok(blk == r + 4 * pg, "block the page after the mapping");
        is_int(SC(SYS_mremap, ip, 4 * pg, 5 * pg, 0), -ENOMEM,
               "grow without MAYMOVE into an occupied page: ENOMEM");
        ok(ip[0] == 42, "failed growth left the mapping alone");
        munmap(r, 5 * pg);
    }

    /* Move to a chosen address, replacing whatever was there. */
    char *dst = map_rw(3 * pg);
    memset(dst, 0x33, 3 * pg);
    char *m = remap(s, 3 * pg, 3 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    is_hex((uintptr_t)m, (uintptr_t)dst, "MREMAP_FIXED moves to the requested address");
    ok(has_pattern(dst, 2 * pg, 9) && all_bytes(dst + 2 * pg, pg, 0x77),
       "moved mapping carries its contents");
    ok(!is_mapped(s, pg), "old address is unmapped after the move");

    is_int(SC(SYS_mremap, dst, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst), -EINVAL,
           "MREMAP_FIXED onto itself (overlap): EINVAL");
    is_int(SC(SYS_mremap, dst, pg, pg, MREMAP_FIXED, s), -EINVAL,
           "MREMAP_FIXED without MREMAP_MAYMOVE: EINVAL");
    is_int(SC(SYS_mremap, dst, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, s + 1), -EINVAL,
           "MREMAP_FIXED to an unaligned address: EINVAL");
    is_int(SC(SYS_mremap, dst + 1, pg, 2 * pg, MREMAP_MAYMOVE), -EINVAL,
           "mremap unaligned old address: EINVAL");
    is_int(SC(SYS_mremap, dst, pg, 0, MREMAP_MAYMOVE), -EINVAL, "mremap new size 0: EINVAL");
    is_int(SC(SYS_mremap, dst, pg, 2 * pg, 0x100), -EINVAL, "mremap unknown flag: EINVAL");
    is_int(SC(SYS_mremap, dst, 0, pg, MREMAP_MAYMOVE), -EINVAL,
           "mremap old size 0 on a private mapping: EINVAL");
    char *hole = unmapped_range(2);
    is_int(SC(SYS_mremap, hole, pg, 2 * pg, MREMAP_MAYMOVE), -EFAULT,
           "mremap of an unmapped address: EFAULT");
    is_int(SC(SYS_mremap, 0xffff800000000000UL, pg, 2 * pg, MREMAP_MAYMOVE), -EFAULT,
           "mremap of a kernel address: EFAULT");

    /* A resize must stay inside one mapping. */
    is_int(mprotect(dst + pg, pg, PROT_READ), 0, "split the mapping in two by protection");
    is_int(SC(SYS_mremap, dst, 2 * pg, 4 * pg, MREMAP_MAYMOVE), -EFAULT,
           "growing a range that spans two mappings: EFAULT");
    munmap(dst, 3 * pg);

    /* Shared anonymous: old size 0 makes a second view of the same pages. */
    char *sh = map_anon(pg, PROT_READ | PROT_WRITE, MAP_SHARED);
    if (sh) {
        sh[0] = 7;
        char *dup = remap(sh, 0, pg, MREMAP_MAYMOVE, NULL);
        ok(dup != MAP_FAILED && dup != sh, "mremap old size 0 duplicates a shared mapping");
        if (dup != MAP_FAILED) {
            dup[1] = 9;
            ok(dup[0] == 7 && sh[1] == 9, "both views share the pages");
            munmap(dup, pg);
        }
        munmap(sh, pg);
    }

    char *d = map_rw(pg);
    if (d) {
        d[0] = 5;
        char *e = remap(d, pg, pg, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
        if (e == MAP_FAILED)
            diag("mremap DONTUNMAP: %s", strerror(errno));
        ok(e != MAP_FAILED && e != d, "MREMAP_DONTUNMAP moves the pages");
        if (e != MAP_FAILED) {
            ok(e[0] == 5, "MREMAP_DONTUNMAP: contents at the new address");
            ok(is_mapped(d, pg) && d[0] == 0, "MREMAP_DONTUNMAP: old range stays, empty");
            munmap(e, pg);
        }
        is_int(SC(SYS_mremap, d, pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_DONTUNMAP), -EINVAL,
               "MREMAP_DONTUNMAP with a size change: EINVAL");
        munmap(d, pg);
    }
}

static void test_brk(void)
{
    uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
    ok(start != 0, "brk(0) reports the current break");
    uintptr_t base = (start + pg - 1) & ~(uintptr_t)(pg - 1);
    uintptr_t want = base + 4 * pg;

    is_hex((uintptr_t)syscall(SYS_brk, want), want, "brk grows by 4 pages");
    ok(all_bytes((char *)base, 4 * pg, 0), "new break area is zero-filled");
    memset((char *)base, 0xbb, 4 * pg);
    ok(all_bytes((char *)base, 4 * pg, 0xbb), "new break area is writable");

    is_hex((uintptr_t)syscall(SYS_brk, base + pg), base + pg, "brk shrinks by 3 pages");
    ok(!is_mapped((char *)base + pg, pg), "pages above the shrunk break are unmapped");
    ok(all_bytes((char *)base, pg, 0xbb), "page below the break kept its contents");
    is_hex((uintptr_t)syscall(SYS_brk, want), want, "brk regrows");
    ok(all_bytes((char *)base + pg, 3 * pg, 0), "regrown pages are zero again");

    is_hex((uintptr_t)syscall(SYS_brk, 1), want, "brk below the start fails: break unchanged");

    /* The heap may never clobber another mapping. */
    char *blk = (char *)SC(SYS_mmap, want + 8 * pg, pg, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if ((uintptr_t)blk == want + 8 * pg) {
        blk[0] = 1;
        is_hex((uintptr_t)syscall(SYS_brk, want + 16 * pg), want,
               "brk into an existing mapping fails: break unchanged");
        ok(blk[0] == 1, "the mapping in the way is untouched");
        munmap(blk, pg);
    } else {
        skip("could not place a mapping above the break", "brk into an existing mapping");
    }

    is_hex((uintptr_t)syscall(SYS_brk, start), start, "brk back to the start");
    ok(!is_mapped((char *)base, pg), "released break pages are unmapped");

    /* glibc's sbrk on top of the same break. */
    void *s0 = sbrk(0);
    void *s1 = sbrk((intptr_t)(2 * pg));
    ok(s1 == s0 && s0 != (void *)-1, "sbrk returns the old break");
    ok(all_bytes((char *)s1, 2 * pg, 0), "sbrk memory is zero-filled");
    ok(sbrk(-(intptr_t)(2 * pg)) != (void *)-1 && sbrk(0) == s0, "sbrk shrinks back");
}

static void test_madvise(void)
{
    char *p = map_rw(4 * pg);
    char *s = map_anon(4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED);
    if (!ok(p && s, "map private and shared areas for madvise"))
        return;
    memset(p, 0x44, 4 * pg);
    memset(s, 0x55, 4 * pg);
    is_int(madvise(p + pg, 2 * pg, MADV_DONTNEED), 0, "MADV_DONTNEED on private anonymous");
    ok(all_bytes(p + pg, 2 * pg, 0), "MADV_DONTNEED zeroes private anonymous pages");
    ok(all_bytes(p, pg, 0x44) && all_bytes(p + 3 * pg, pg, 0x44),
       "pages outside the advised range keep contents");
    is_int(madvise(s, 4 * pg, MADV_DONTNEED), 0, "MADV_DONTNEED on shared anonymous");
    ok(all_bytes(s, 4 * pg, 0x55), "shared anonymous pages keep their contents");

    is_int(madvise(p, 4 * pg, MADV_NORMAL), 0, "MADV_NORMAL");
    is_int(madvise(p, 4 * pg, MADV_RANDOM), 0, "MADV_RANDOM");
    is_int(madvise(p, 4 * pg, MADV_SEQUENTIAL), 0, "MADV_SEQUENTIAL");
    is_int(madvise(p, 4 * pg, MADV_WILLNEED), 0, "MADV_WILLNEED");
    is_int(SC(SYS_madvise, p, 4 * pg, 9999), -EINVAL, "unknown advice: EINVAL");
    is_int(SC(SYS_madvise, p + 1, pg, MADV_DONTNEED), -EINVAL, "unaligned madvise: EINVAL");
    is_int(SC(SYS_madvise, p, 0, MADV_DONTNEED), 0, "madvise length 0: success");
    char *hole = unmapped_range(1);
    is_int(SC(SYS_madvise, hole, pg, MADV_DONTNEED), -ENOMEM, "madvise unmapped: ENOMEM");
    munmap(p + 2 * pg, pg);
    p[0] = 1;
    is_int(SC(SYS_madvise, p, 4 * pg, MADV_DONTNEED), -ENOMEM, "madvise across a hole: ENOMEM");
    ok(p[0] == 0 && p[3 * pg] == 0, "...but the mapped parts were still advised");
    munmap(p, 4 * pg);
    munmap(s, 4 * pg);
}

static void test_mincore(void)
{
    char *p = map_rw_bounded(8);
    if (!ok(p != NULL, "map 8 pages for mincore"))
        return;
    p[0] = 1;
    p[5 * pg] = 1;
    unsigned char vec[8];
    memset(vec, 0xff, sizeof(vec));
    is_int(SC(SYS_mincore, p, 8 * pg, vec), 0, "mincore on a mapping");
    ok((vec[0] & 1) && (vec[5] & 1), "written pages are resident");
    int high_bits = 0;
    for (int i = 0; i < 8; i++)
        high_bits |= vec[i] & ~1;
    is_int(high_bits, 0, "only bit 0 of each vector byte is used");
    diag("untouched page residency: %d%d%d%d%d%d%d%d (unspecified)", vec[0], vec[1], vec[2], vec[3],
         vec[4], vec[5], vec[6], vec[7]);
    is_int(SC(SYS_mincore, p + 1, pg, vec), -EINVAL, "mincore unaligned: EINVAL");
    is_int(SC(SYS_mincore, p, 0, vec), 0, "mincore length 0: success");
    is_int(SC(SYS_mincore, p, pg + 1, vec), 0, "mincore length rounds up within the mapping");
    is_int(SC(SYS_mincore, p, 9 * pg, vec), -ENOMEM, "mincore past the mapping: ENOMEM");
    munmap(p, 8 * pg);
}

static void test_msync(void)
{
    char *p = map_rw_bounded(2);
    if (!ok(p != NULL, "map for msync"))
        return;
    is_int(SC(SYS_msync, p, 2 * pg, MS_SYNC), 0, "msync MS_SYNC on anonymous");
    is_int(SC(SYS_msync, p, 2 * pg, MS_ASYNC), 0, "msync MS_ASYNC on anonymous");
    is_int(SC(SYS_msync, p, 2 * pg, MS_INVALIDATE), 0, "msync MS_INVALIDATE on anonymous");
    is_int(SC(SYS_msync, p, 2 * pg, MS_SYNC | MS_ASYNC), -EINVAL, "MS_SYNC|MS_ASYNC: EINVAL");
    is_int(SC(SYS_msync, p, 2 * pg, 0x100), -EINVAL, "msync unknown flag: EINVAL");
    is_int(SC(SYS_msync, p + 1, pg, MS_SYNC), -EINVAL, "msync unaligned: EINVAL");
    is_int(SC(SYS_msync, p, 0, MS_SYNC), 0, "msync length 0: success");
    is_int(SC(SYS_msync, p, 3 * pg, MS_SYNC), -ENOMEM, "msync past the mapping: ENOMEM");
    munmap(p, 2 * pg);
    is_int(SC(SYS_msync, p, pg, MS_SYNC), -ENOMEM, "msync on unmapped memory: ENOMEM");
}

static void test_big_mapping(void)
{
    const size_t len = 256ul << 20;
    const size_t step = 1ul << 20;
    char *p = map_anon(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
    if (!ok(p != NULL, "map 256 MiB MAP_NORESERVE"))
        return;
    for (size_t off = 0; off < len; off += step)
        p[off + (off / step) % pg] = (char)(off / step + 1);
    p[len - 1] = 'z';
    int good = 1;
    for (size_t off = 0; off < len && good; off += step)
        good = p[off + (off / step) % pg] == (char)(off / step + 1);
    ok(good && p[len - 1] == 'z', "sparse writes across 256 MiB read back");
    ok(p[step / 2] == 0 && p[len - step / 2] == 0, "untouched parts read as zero");
    is_int(munmap(p, len), 0, "munmap 256 MiB");
}

/* ~4 KiB per frame; 300 frames is ~1.2 MiB of stack. */
static __attribute__((noinline)) unsigned recurse(int depth)
{
    volatile char frame[4000];
    for (size_t i = 0; i < sizeof(frame); i += 512)
        frame[i] = (char)(depth + i);
    unsigned sum = depth > 0 ? recurse(depth - 1) : 0;
    for (size_t i = 0; i < sizeof(frame); i += 512)
        sum += (unsigned char)frame[i];
    return sum;
}

static void test_stack_growth(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) != 0 ||
        (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (4ul << 20))) {
        skip("stack rlimit below 4 MiB", "stack growth to ~1.2 MiB");
        return;
    }
    unsigned want = 0;
    for (int d = 0; d <= 300; d++)
        for (size_t i = 0; i < 4000; i += 512)
            want += (unsigned char)(char)(d + i);
    is_int(recurse(300), want, "recursion through ~1.2 MiB of stack");
}

int main(void)
{
    pg = (size_t)sysconf(_SC_PAGESIZE);
    is_int((long)pg, 4096, "page size is 4096");
    test_mmap_basic();
    test_mmap_fixed();
    test_mmap_errors();
    test_munmap();
    test_mprotect();
    test_mremap();
    test_brk();
    test_madvise();
    test_mincore();
    test_msync();
    test_big_mapping();
    test_stack_growth();
    done_testing();
}
