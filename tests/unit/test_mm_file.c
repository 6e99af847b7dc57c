/* File mappings in the memory manager, with a fake mapped file (a byte
 * array) and fake shared pages (a page table in the memory file, as tmpfs
 * keeps one). Expected behaviour is Linux's: private mappings copy the file
 * at first touch, shared ones see its pages, pages past the end are SIGBUS.
 * Every test checks that the file was released and the memory given back. */
#include <criterion/criterion.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/mm/fcache.h"
#include "sentry/mm/memobj.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"
#include "tests/unit/fake_platform.h"

#define PG   4096ULL
#define A0   0x10000000ULL /* 64 KiB aligned */
#define PRIV ABI_MAP_PRIVATE
#define SHR  ABI_MAP_SHARED
#define R    ABI_PROT_READ
#define RW   (ABI_PROT_READ | ABI_PROT_WRITE)

static struct mm_memfile *mf;
static struct mm *mm;
static struct platform plat;
static struct platform_as *as;

/* ---- the fake file ---- */

#define FMAX (64 * PG)
static struct {
    unsigned char data[FMAX];
    uint64_t size;
    int refs;
    int reads;
    uint64_t bytes_read;
    /* shared pages: memory-file offset per page, 0 = none yet (+1 bias) */
    uint64_t page[FMAX / PG];
    int syncs, unmapped;
    bool dirty[FMAX / PG];
    uint64_t version; /* the versioned ops (fcache tests): bumped when data changes */
} ff;

static void f_get(void *h)
{
    (void)h;
    ff.refs++;
}
static void f_put(void *h)
{
    (void)h;
    ff.refs--;
}
static int64_t f_read(void *h, void *buf, uint64_t len, uint64_t off)
{
    (void)h;
    ff.reads++;
    if (off >= ff.size)
        return 0;
    if (len > ff.size - off)
        len = ff.size - off;
    memcpy(buf, ff.data + off, len);
    ff.bytes_read += len;
    return (int64_t)len;
}
static uint64_t f_size(void *h)
{
    (void)h;
    return ff.size;
}
static const struct mm_file_ops fops = {f_get, f_put, f_read, f_size, NULL};

static int64_t p_page(void *owner, struct mm_memfile *m, uint64_t off, bool write)
{
    (void)owner;
    uint64_t i = off / PG;
    if (off >= ff.size)
        return -ABI_EIO;
    if (!ff.page[i]) {
        int64_t o = mm_memfile_alloc(m, PG);
        if (o < 0)
            return o;
        memcpy(mm_memfile_ptr(m, (uint64_t)o), ff.data + i * PG, PG);
        ff.page[i] = (uint64_t)o + 1;
    }
    if (write)
        ff.dirty[i] = true;
    return (int64_t)(ff.page[i] - 1);
}
static uint64_t p_size(void *owner)
{
    (void)owner;
    return ff.size;
}
static int p_sync(void *owner, uint64_t off, uint64_t len)
{
    (void)owner;
    ff.syncs++;
    for (uint64_t i = 0; i < FMAX / PG; i++)
        if (ff.page[i] && ff.dirty[i] && i * PG >= off && i * PG - off < len)
            memcpy(ff.data + i * PG, mm_memfile_ptr(mf, ff.page[i] - 1), PG);
    return 0;
}
static void p_unmapped(void *owner)
{
    (void)owner;
    ff.unmapped++;
}
static const struct mm_fpages_ops pops = {p_page, p_size, p_sync, p_unmapped};
static struct mm_fpages *fp;

static void free_pages(void)
{
    for (uint64_t i = 0; i < FMAX / PG; i++)
        if (ff.page[i])
            mm_memfile_free(mf, ff.page[i] - 1, PG);
    memset(ff.page, 0, sizeof(ff.page));
}

static struct mm_file_desc desc(void)
{
    return (struct mm_file_desc){.ops = &fops,
                                 .h = &ff,
                                 .mappable = true,
                                 .readable = true,
                                 .writable = true,
                                 .pages = fp,
                                 .name = "/tmp/f",
                                 .dev = 0x803,
                                 .ino = 42};
}

static void fill_file(uint64_t size)
{
    for (uint64_t i = 0; i < FMAX; i++)
        ff.data[i] = (unsigned char)(i / PG * 16 + i % 7 + 1);
    ff.size = size;
}

static void setup(void)
{
    memset(&ff, 0, sizeof(ff));
    fill_file(10 * PG);
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    fp = mm_fpages_create(&pops, &ff);
    cr_assert(fp);
    cr_assert_eq(mm_create(mf, NULL, NULL, &mm), 0);
}

static void setup_platform(void)
{
    memset(&ff, 0, sizeof(ff));
    fill_file(10 * PG);
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    fp = mm_fpages_create(&pops, &ff);
    fake_platform_init(&plat, 0x7e0000000000ULL);
    as = fake_as_create();
    cr_assert_eq(mm_create(mf, &plat, as, &mm), 0);
}

static void teardown(void)
{
    mm_destroy(mm);
    if (as)
        fake_as_destroy(as);
    as = NULL;
    cr_expect_eq(ff.refs, 0, "file references left: %d", ff.refs);
    free_pages();
    mm_fpages_destroy(fp);
    cr_expect_eq(mm_memfile_used(mf), 0, "memory leaked: %llu bytes",
                 (unsigned long long)mm_memfile_used(mf));
    mm_memfile_destroy(mf);
}

static int64_t fmap(uint64_t addr, uint64_t len, int prot, int flags, uint64_t off)
{
    struct mm_file_desc d = desc();
    return mm_mmap_file(mm, addr, len, prot, flags, &d, off);
}

static int peek(uint64_t addr)
{
    unsigned char b;
    int r = mm_copy_in(mm, &b, addr, 1);
    return r ? r : b;
}

static unsigned char fbyte(uint64_t off)
{
    return ff.data[off];
}

TestSuite(mm_file, .init = setup, .fini = teardown);

Test(mm_file, private_reads_file_and_zero_tail)
{
    ff.size = 3 * PG + 100;
    cr_assert_eq(fmap(A0, 5 * PG, R, PRIV | ABI_MAP_FIXED, 0), (int64_t)A0);
    cr_expect_eq(ff.refs, 1);
    for (uint64_t o = 0; o < 3 * PG + 100; o += 997)
        cr_expect_eq(peek(A0 + o), fbyte(o), "offset %llu", (unsigned long long)o);
    cr_expect_eq(peek(A0 + 3 * PG + 99), fbyte(3 * PG + 99));
    cr_expect_eq(peek(A0 + 3 * PG + 100), 0);
    cr_expect_eq(peek(A0 + 4 * PG - 1), 0);
    /* Wholly past the end: SIGBUS for the guest, EFAULT for a syscall. */
    int code = 0;
    cr_expect_eq(mm_handle_fault(mm, A0 + 4 * PG, false, false, &code), -ABI_EIO);
    cr_expect_eq(code, ABI_BUS_ADRERR);
    cr_expect_eq(peek(A0 + 4 * PG), -ABI_EFAULT);
    /* One chunk: one read for the whole file. */
    cr_expect_eq(ff.reads, 1);
    cr_assert_eq(mm_munmap(mm, A0, 5 * PG), 0);
    cr_expect_eq(ff.refs, 0);
}

Test(mm_file, private_writes_stay_private)
{
    cr_assert_eq(fmap(A0, 2 * PG, RW, PRIV | ABI_MAP_FIXED, PG), (int64_t)A0);
    unsigned char x = 0xee;
    cr_assert_eq(mm_copy_out(mm, A0 + 5, &x, 1), 0);
    cr_expect_eq(peek(A0 + 5), 0xee);
    cr_expect_eq(peek(A0 + 6), fbyte(PG + 6));
    cr_expect_neq(fbyte(PG + 5), 0xee);
}

Test(mm_file, dontneed_rereads_file)
{
    cr_assert_eq(fmap(A0, 2 * PG, RW, PRIV | ABI_MAP_FIXED, 0), (int64_t)A0);
    unsigned char x = 0xee;
    cr_assert_eq(mm_copy_out(mm, A0 + PG, &x, 1), 0);
    ff.data[PG] = 0x55;
    cr_expect_eq(peek(A0 + PG), 0xee);
    cr_assert_eq(mm_madvise(mm, A0 + PG, PG, ABI_MADV_DONTNEED), 0);
    cr_expect_eq(peek(A0 + PG), 0x55);
    cr_expect_eq(mm_madvise(mm, A0, PG, ABI_MADV_FREE), -ABI_EINVAL);
}

/* ld.so: the whole file read-only, then pieces at other offsets over it,
 * then anonymous memory over the end. */
Test(mm_file, ldso_pattern)
{
    cr_assert_eq(fmap(A0, 8 * PG, R, PRIV | ABI_MAP_FIXED, 0), (int64_t)A0);
    cr_assert_eq(peek(A0 + 2 * PG), fbyte(2 * PG)); /* chunk filled */
    cr_assert_eq(
        fmap(A0 + 2 * PG, 2 * PG, ABI_PROT_READ | ABI_PROT_EXEC, PRIV | ABI_MAP_FIXED, 5 * PG),
        (int64_t)(A0 + 2 * PG));
    cr_assert_eq(fmap(A0 + 4 * PG, 2 * PG, RW, PRIV | ABI_MAP_FIXED, 8 * PG),
                 (int64_t)(A0 + 4 * PG));
    cr_assert_eq(mm_mmap(mm, A0 + 5 * PG, 3 * PG, RW,
                         ABI_MAP_PRIVATE | ABI_MAP_ANONYMOUS | ABI_MAP_FIXED, -1, 0),
                 (int64_t)(A0 + 5 * PG));
    cr_expect_eq(peek(A0 + 10), fbyte(10));
    cr_expect_eq(peek(A0 + 2 * PG + 10), fbyte(5 * PG + 10));
    cr_expect_eq(peek(A0 + 3 * PG + 10), fbyte(6 * PG + 10));
    cr_expect_eq(peek(A0 + 4 * PG + 10), fbyte(8 * PG + 10));
    cr_expect_eq(peek(A0 + 5 * PG + 10), 0);
    cr_expect_eq(peek(A0 + 7 * PG + 10), 0);
    /* Writing the data page does not leak into the anonymous one. */
    unsigned char x = 1;
    cr_assert_eq(mm_copy_out(mm, A0 + 4 * PG, &x, 1), 0);
    cr_expect_eq(peek(A0 + 5 * PG), 0);
    struct mm_vma *v = mm_vma_find(&mm->vmas, A0 + 2 * PG);
    cr_expect_eq(v->start, A0 + 2 * PG);
    cr_expect_eq(v->end, A0 + 4 * PG);
    cr_expect_eq(ff.refs, 3);
}

static int find_info(void *arg, const struct mm_vma_info *v)
{
    struct mm_vma_info *out = arg;
    if (v->start == out->start) {
        *out = *v;
        return 1;
    }
    return 0;
}

Test(mm_file, vma_info_and_split)
{
    cr_assert_eq(fmap(A0, 4 * PG, R, PRIV | ABI_MAP_FIXED, 2 * PG), (int64_t)A0);
    cr_assert_eq(mm_mprotect(mm, A0 + PG, PG, RW), 0);
    struct mm_vma_info i = {.start = A0 + PG};
    cr_assert_eq(mm_for_each_vma(mm, find_info, &i), 1);
    cr_expect_eq(i.end, A0 + 2 * PG);
    cr_expect_eq(i.pgoff, 3 * PG);
    cr_expect_eq(i.dev, 0x803);
    cr_expect_eq(i.ino, 42);
    cr_expect_str_eq(i.name, "/tmp/f");
    cr_expect_eq(peek(A0 + PG + 3), fbyte(3 * PG + 3));
}

Test(mm_file, mremap_move_keeps_offset)
{
    cr_assert_eq(fmap(A0, 2 * PG, R, PRIV | ABI_MAP_FIXED, 4 * PG), (int64_t)A0);
    uint64_t to = A0 + 0x100000;
    cr_assert_eq(mm_mremap(mm, A0, 2 * PG, 3 * PG, ABI_MREMAP_MAYMOVE | ABI_MREMAP_FIXED, to),
                 (int64_t)to);
    cr_expect_eq(peek(to + 1), fbyte(4 * PG + 1));
    cr_expect_eq(peek(to + 2 * PG + 1), fbyte(6 * PG + 1));
    struct mm_vma_info i = {.start = to};
    cr_assert_eq(mm_for_each_vma(mm, find_info, &i), 1);
    cr_expect_eq(i.pgoff, 4 * PG);
}

Test(mm_file, shared_is_coherent)
{
    int64_t a = fmap(0, 3 * PG, RW, SHR, 0);
    cr_assert_gt(a, 0);
    int64_t b = fmap(0, 3 * PG, R, SHR, 0);
    cr_assert_gt(b, 0);
    unsigned char x = 0xab;
    cr_assert_eq(mm_copy_out(mm, (uint64_t)a + PG + 1, &x, 1), 0);
    cr_expect_eq(peek((uint64_t)b + PG + 1), 0xab);
    /* The file's page itself changed (what read(2) would see). */
    unsigned char *pg = mm_memfile_ptr(mf, ff.page[1] - 1);
    cr_expect_eq(pg[1], 0xab);
    pg[2] = 0xcd; /* write(2) to the page */
    cr_expect_eq(peek((uint64_t)a + PG + 2), 0xcd);
    cr_assert_eq(mm_msync(mm, (uint64_t)a, 3 * PG, ABI_MS_SYNC), 0);
    cr_expect_eq(ff.syncs, 1);
    cr_expect_eq(ff.data[PG + 1], 0xab);
    cr_assert_eq(mm_msync(mm, (uint64_t)a, PG, ABI_MS_INVALIDATE), 0);
    cr_assert_eq(mm_munmap(mm, (uint64_t)a, 3 * PG), 0);
    cr_expect_eq(ff.unmapped, 0);
    cr_assert_eq(mm_munmap(mm, (uint64_t)b, 3 * PG), 0);
    /* The last mapping wrote back and let go. */
    cr_expect_eq(ff.syncs, 2);
    cr_expect_eq(ff.unmapped, 1);
    cr_expect_eq(ff.refs, 0);
}

Test(mm_file, shared_past_eof_sigbus)
{
    ff.size = PG + 1;
    int64_t a = fmap(0, 4 * PG, R, SHR, 0);
    cr_assert_gt(a, 0);
    cr_expect_eq(peek((uint64_t)a + PG), fbyte(PG));
    int code = 0;
    cr_expect_eq(mm_handle_fault(mm, (uint64_t)a + 2 * PG, false, false, &code), -ABI_EIO);
    cr_expect_eq(code, ABI_BUS_ADRERR);
}

Test(mm_file, errnos)
{
    struct mm_file_desc d = desc();
    d.readable = false;
    cr_expect_eq(mm_mmap_file(mm, 0, PG, R, PRIV, &d, 0), -ABI_EACCES);
    d = desc();
    d.writable = false;
    cr_expect_eq(mm_mmap_file(mm, 0, PG, RW, SHR, &d, 0), -ABI_EACCES);
    /* Private writable mappings of a read-only file are fine. */
    int64_t a = mm_mmap_file(mm, 0, PG, RW, PRIV, &d, 0);
    cr_expect_gt(a, 0);
    int64_t s = mm_mmap_file(mm, 0, PG, R, SHR, &d, 0);
    cr_assert_gt(s, 0);
    cr_expect_eq(mm_mprotect(mm, (uint64_t)s, PG, RW), -ABI_EACCES);
    cr_expect_eq(mm_mprotect(mm, (uint64_t)s, PG, R | ABI_PROT_EXEC), 0);
    d = desc();
    d.mappable = false;
    cr_expect_eq(mm_mmap_file(mm, 0, PG, R, PRIV, &d, 0), -ABI_ENODEV);
    d = desc();
    d.pages = NULL;
    cr_expect_eq(mm_mmap_file(mm, 0, PG, R, SHR, &d, 0), -ABI_ENODEV);
    d = desc();
    d.noexec = true;
    cr_expect_eq(mm_mmap_file(mm, 0, PG, R | ABI_PROT_EXEC, PRIV, &d, 0), -ABI_EPERM);
    int64_t n = mm_mmap_file(mm, 0, PG, R, PRIV, &d, 0);
    cr_assert_gt(n, 0);
    cr_expect_eq(mm_mprotect(mm, (uint64_t)n, PG, R | ABI_PROT_EXEC), -ABI_EACCES);
    d = desc();
    cr_expect_eq(mm_mmap_file(mm, 0, 2 * PG, R, PRIV, &d, 0x7fffffffffffe000ULL), -ABI_EOVERFLOW);
    cr_expect_eq(mm_mmap_file(mm, 0, PG, R, PRIV | ABI_MAP_GROWSDOWN, &d, 0), -ABI_EINVAL);
    cr_expect_eq(mm_mmap_file(mm, 0, PG, R, ABI_MAP_SHARED_VALIDATE | 0x800000, &d, 0),
                 -ABI_EOPNOTSUPP);
}

Test(mm_file, clone_keeps_file)
{
    cr_assert_eq(fmap(A0, 2 * PG, RW, PRIV | ABI_MAP_FIXED, 0), (int64_t)A0);
    cr_assert_eq(peek(A0), fbyte(0));
    struct mm_vma *v = mm_vma_find(&mm->vmas, A0);
    struct mm_memobj *c = mm_memobj_clone(v->obj);
    cr_assert(c);
    cr_expect_eq(c->file, v->obj->file);
    cr_expect_eq(c->file_delta, v->obj->file_delta);
    mm_memobj_put(c);
}

TestSuite(mm_file_stub, .init = setup_platform, .fini = teardown);

Test(mm_file_stub, private_maps_chunk_up_to_eof)
{
    ff.size = 2 * PG + 1;
    cr_assert_eq(fmap(A0, 8 * PG, R, PRIV | ABI_MAP_FIXED, 0), (int64_t)A0);
    int code;
    cr_assert_eq(mm_handle_fault(mm, A0, false, false, &code), 0);
    cr_expect(fake_as_page(as, A0 + 2 * PG));
    cr_expect_null(fake_as_page(as, A0 + 3 * PG), "page past EOF mapped");
}

Test(mm_file_stub, truncate_unmaps)
{
    int64_t a = fmap(0, 4 * PG, RW, SHR, 0);
    cr_assert_gt(a, 0);
    int code;
    cr_assert_eq(mm_handle_fault(mm, (uint64_t)a + 3 * PG, false, false, &code), 0);
    cr_expect(fake_as_page(as, (uint64_t)a + 3 * PG));
    /* A read fault maps a page that writes back read-only first. */
    cr_expect_eq(fake_as_page(as, (uint64_t)a + 3 * PG)->prot & PLATFORM_PROT_WRITE, 0);
    cr_assert_eq(mm_handle_fault(mm, (uint64_t)a + 3 * PG, true, false, &code), 0);
    cr_expect(ff.dirty[3]);
    mm_fpages_truncate(fp, PG);
    ff.size = PG;
    cr_expect_null(fake_as_page(as, (uint64_t)a + 3 * PG));
    cr_expect_eq(mm_handle_fault(mm, (uint64_t)a + 3 * PG, false, false, &code), -ABI_EIO);
    cr_expect_eq(mm_handle_fault(mm, (uint64_t)a, false, false, &code), 0);
}

Test(mm_file, mremap_dontunmap_rereads_file)
{
    cr_assert_eq(fmap(A0, 2 * PG, RW, PRIV | ABI_MAP_FIXED, 3 * PG), (int64_t)A0);
    unsigned char x = 0xee;
    cr_assert_eq(mm_copy_out(mm, A0 + 1, &x, 1), 0);
    uint64_t to = A0 + 0x100000;
    cr_assert_eq(mm_mremap(mm, A0, 2 * PG, 2 * PG,
                           ABI_MREMAP_MAYMOVE | ABI_MREMAP_FIXED | ABI_MREMAP_DONTUNMAP, to),
                 (int64_t)to);
    cr_expect_eq(peek(to + 1), 0xee);
    cr_expect_eq(peek(A0 + 1), fbyte(3 * PG + 1), "the old range maps the file again");
    struct mm_vma_info i = {.start = A0};
    cr_assert_eq(mm_for_each_vma(mm, find_info, &i), 1);
    cr_expect_eq(i.pgoff, 3 * PG);
}

Test(mm_file_stub, punch_unmaps_shared_only)
{
    int64_t a = fmap(0, 3 * PG, RW, SHR, 0);
    cr_assert_gt(a, 0);
    cr_assert_eq(fmap(A0, 3 * PG, RW, PRIV | ABI_MAP_FIXED, 0), (int64_t)A0);
    int code;
    cr_assert_eq(mm_handle_fault(mm, (uint64_t)a + PG, true, false, &code), 0);
    cr_assert_eq(mm_handle_fault(mm, (uint64_t)a + 2 * PG, true, false, &code), 0);
    cr_assert_eq(mm_handle_fault(mm, A0 + PG, true, false, &code), 0);
    unsigned char x = 0x99;
    cr_assert_eq(mm_copy_out(mm, A0 + PG, &x, 1), 0);
    /* Half of page 0 and all of page 1: only page 1 is freed. */
    mm_fpages_punch(fp, PG / 2, PG + PG / 2);
    cr_expect_null(fake_as_page(as, (uint64_t)a + PG));
    cr_expect(fake_as_page(as, (uint64_t)a + 2 * PG));
    cr_expect(fake_as_page(as, A0 + PG), "private copies stay");
    cr_expect_eq(peek(A0 + PG), 0x99);
}

Test(mm_file, fault_reads_only_what_the_vma_maps)
{
    /* A two-page data segment in the middle of a chunk. */
    cr_assert_eq(fmap(A0 + 3 * PG, 2 * PG, RW, PRIV | ABI_MAP_FIXED, 6 * PG),
                 (int64_t)(A0 + 3 * PG));
    cr_expect_eq(peek(A0 + 4 * PG + 1), fbyte(7 * PG + 1));
    cr_expect_eq(ff.reads, 1);
    cr_expect_eq(ff.bytes_read, 2 * PG);
    cr_expect_eq(peek(A0 + 3 * PG + 1), fbyte(6 * PG + 1));
    cr_expect_eq(ff.reads, 1, "the chunk is filled: no second read");
}

/* ---- the file chunk cache (fcache.c) ----
 *
 * The same fake file seen through ops with a version: private mappings of
 * it share the chunks of a (file, version, offset) window between address
 * spaces, copy-on-write. Two address spaces on one memory file, each with
 * its emulated stub, as two processes of one sandbox. */

#define CHUNK MM_CHUNK_SIZE

static uint64_t f_version(void *h)
{
    (void)h;
    return ff.version;
}
static const struct mm_file_ops fops_v = {f_get, f_put, f_read, f_size, f_version};

static struct mm *mm2;
static struct platform_as *as2;

static void setup_cache(void)
{
    setup_platform();
    ff.version = 1;
    as2 = fake_as_create();
    cr_assert_eq(mm_create(mf, &plat, as2, &mm2), 0);
}

static void teardown_cache(void)
{
    mm_destroy(mm2);
    fake_as_destroy(as2);
    mm_destroy(mm);
    fake_as_destroy(as);
    as = NULL;
    cr_expect_eq(ff.refs, 0, "file references left: %d", ff.refs);
    free_pages();
    mm_fpages_destroy(fp);
    /* Nothing maps the file any more: every entry is idle. */
    mm_fcache_shrink(mf);
    cr_expect_eq(mm_memfile_used(mf), 0, "memory leaked: %llu bytes",
                 (unsigned long long)mm_memfile_used(mf));
    mm_memfile_destroy(mf);
}

/* The fake file's bytes as fill_file wrote them. */
static unsigned char pattern(uint64_t off)
{
    return (unsigned char)(off / PG * 16 + off % 7 + 1);
}

static int64_t vmap(struct mm *m, uint64_t addr, uint64_t len, int prot, int flags, uint64_t off)
{
    struct mm_file_desc d = desc();
    d.ops = &fops_v;
    return mm_mmap_file(m, addr, len, prot, flags, &d, off);
}

static int peek_in(struct mm *m, uint64_t addr)
{
    unsigned char b;
    int r = mm_copy_in(m, &b, addr, 1);
    return r ? r : b;
}

/* The memory-file offset m's stub maps addr to after a guest fault. */
static uint64_t stub_off(struct mm *m, struct platform_as *a, uint64_t addr, bool write)
{
    int code = 0;
    cr_assert_eq(mm_handle_fault(m, addr, write, false, &code), 0, "fault at %#llx",
                 (unsigned long long)addr);
    const struct fake_page *p = fake_as_page(a, addr);
    cr_assert(p, "no stub page at %#llx", (unsigned long long)addr);
    return p->off;
}

static bool file_untouched(void)
{
    for (uint64_t i = 0; i < FMAX; i++)
        if (ff.data[i] != pattern(i))
            return false;
    return true;
}

TestSuite(mm_fcache, .init = setup_cache, .fini = teardown_cache);

Test(mm_fcache, address_spaces_share_one_read)
{
    int64_t a1 = vmap(mm, 0, 4 * PG, RW, PRIV, 2 * PG);
    int64_t a2 = vmap(mm2, 0, 4 * PG, R, PRIV, 2 * PG);
    cr_assert_gt(a1, 0);
    cr_assert_gt(a2, 0);
    cr_expect_eq((uint64_t)a1 % CHUNK, 2 * PG, "address %#llx not congruent to the offset",
                 (unsigned long long)a1);
    cr_expect_eq((uint64_t)a2 % CHUNK, 2 * PG);
    for (uint64_t o = 0; o < 4 * PG; o += 509) {
        cr_expect_eq(peek_in(mm, (uint64_t)a1 + o), pattern(2 * PG + o));
        cr_expect_eq(peek_in(mm2, (uint64_t)a2 + o), pattern(2 * PG + o));
    }
    /* The window [0, 64 KiB) up to the end of the file (10 pages), once. */
    cr_expect_eq(ff.reads, 1);
    cr_expect_eq(ff.bytes_read, 10 * PG);
    uint64_t o1 = stub_off(mm, as, (uint64_t)a1 + PG, false);
    cr_expect_eq(o1, stub_off(mm2, as2, (uint64_t)a2 + PG, false), "not the same memory");
    cr_expect_eq(fake_as_page(as, (uint64_t)a1 + PG)->prot & PLATFORM_PROT_WRITE, 0,
                 "a shared chunk mapped writable");
    cr_expect_eq(mm_memfile_used(mf), CHUNK);
}

/* The file's first 4 pages mapped privately with prot in mm (*a1) and in
 * mm2 (*a2), page 1 faulted in by both stubs, which must then map the same
 * cached chunk: its offset in the memory file. */
static uint64_t map_twice_shared(int prot, int64_t *a1, int64_t *a2)
{
    *a1 = vmap(mm, 0, 4 * PG, prot, PRIV, 0);
    *a2 = vmap(mm2, 0, 4 * PG, prot, PRIV, 0);
    cr_assert_gt(*a1, 0);
    cr_assert_gt(*a2, 0);
    uint64_t shared = stub_off(mm, as, (uint64_t)*a1 + PG, false);
    cr_assert_eq(stub_off(mm2, as2, (uint64_t)*a2 + PG, false), shared);
    return shared;
}

Test(mm_fcache, writes_stay_private)
{
    int64_t a1, a2;
    uint64_t shared = map_twice_shared(RW, &a1, &a2);

    /* A write by the Sentry (copy-out) in one address space. */
    unsigned char x = 0xee;
    cr_assert_eq(mm_copy_out(mm, (uint64_t)a1 + PG + 5, &x, 1), 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + PG + 5), 0xee);
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + PG + 6), pattern(PG + 6));
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + PG + 5), pattern(PG + 5));
    const struct fake_page *p = fake_as_page(as, (uint64_t)a1 + PG);
    cr_expect(!p || p->off != shared, "the writer's stub still maps the shared chunk");
    cr_expect_eq(*(unsigned char *)mm_memfile_ptr(mf, shared + 5), pattern(PG + 5));

    /* A mapping made afterwards gets the cache's chunk: the file's bytes. */
    int64_t a3 = vmap(mm2, 0, 4 * PG, R, PRIV, 0);
    cr_assert_gt(a3, 0);
    cr_expect_eq(peek_in(mm2, (uint64_t)a3 + PG + 5), pattern(PG + 5));
    cr_expect_eq(stub_off(mm2, as2, (uint64_t)a3 + PG, false), shared);

    /* A guest store: the write fault gives the stub a writable copy. */
    uint64_t w = stub_off(mm2, as2, (uint64_t)a2 + 2 * PG, true);
    cr_expect_neq(w, shared + PG);
    cr_expect_neq(fake_as_page(as2, (uint64_t)a2 + 2 * PG)->prot & PLATFORM_PROT_WRITE, 0);
    *(unsigned char *)mm_memfile_ptr(mf, w) = 0x42;
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + 2 * PG), 0x42);
    cr_expect_eq(peek_in(mm2, (uint64_t)a3 + 2 * PG), pattern(2 * PG));
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 2 * PG), pattern(2 * PG));
    cr_expect_eq(stub_off(mm2, as2, (uint64_t)a3 + 2 * PG, false), shared + PG);

    cr_expect_eq(ff.reads, 1);
    cr_expect(file_untouched());
}

Test(mm_fcache, new_version_new_bytes)
{
    int64_t a1 = vmap(mm, 0, 10 * PG, R, PRIV, 0);
    cr_assert_gt(a1, 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + PG), pattern(PG));
    /* The file changes. */
    for (uint64_t i = 0; i < FMAX; i++)
        ff.data[i] ^= 0xff;
    ff.version++;
    int64_t a2 = vmap(mm2, 0, 10 * PG, R, PRIV, 0);
    cr_assert_gt(a2, 0);
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + PG), pattern(PG) ^ 0xff);
    /* What was touched before keeps its snapshot, the whole window of it. */
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + PG), pattern(PG));
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 7 * PG + 3), pattern(7 * PG + 3));
    /* A new mapping beside the old one sees the file as it is now. */
    int64_t a3 = vmap(mm, 0, 10 * PG, R, PRIV, 0);
    cr_assert_gt(a3, 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a3 + 7 * PG + 3), pattern(7 * PG + 3) ^ 0xff);
    cr_expect_eq(ff.bytes_read, 20 * PG, "one read per version");
    uint64_t now = stub_off(mm2, as2, (uint64_t)a2, false);
    cr_expect_eq(stub_off(mm, as, (uint64_t)a3, false), now);
    cr_expect_neq(stub_off(mm, as, (uint64_t)a1, false), now);

    /* Both versions are in use, then idle. */
    cr_expect_eq(mm_fcache_shrink(mf), 0);
    cr_assert_eq(mm_munmap(mm, (uint64_t)a1, 10 * PG), 0);
    cr_assert_eq(mm_munmap(mm, (uint64_t)a3, 10 * PG), 0);
    cr_assert_eq(mm_munmap(mm2, (uint64_t)a2, 10 * PG), 0);
    cr_expect_eq(mm_fcache_shrink(mf), 2);
    cr_expect_eq(mm_memfile_used(mf), 0);
}

/* A 17-page-and-a-bit file mapped 20 pages long at a: bytes, zeros after the
 * end, SIGBUS for the pages wholly past it. */
static void check_tail(struct mm *m, uint64_t a)
{
    uint64_t size = 17 * PG + 100;
    for (uint64_t o = 0; o < size; o += 997)
        cr_expect_eq(peek_in(m, a + o), pattern(o), "offset %llu", (unsigned long long)o);
    cr_expect_eq(peek_in(m, a + size - 1), pattern(size - 1));
    cr_expect_eq(peek_in(m, a + size), 0);
    cr_expect_eq(peek_in(m, a + 18 * PG - 1), 0);
    for (uint64_t pg = 18; pg < 20; pg++) {
        int code = 0;
        cr_expect_eq(mm_handle_fault(m, a + pg * PG, false, false, &code), -ABI_EIO);
        cr_expect_eq(code, ABI_BUS_ADRERR);
        cr_expect_eq(peek_in(m, a + pg * PG), -ABI_EFAULT);
    }
}

Test(mm_fcache, last_partial_chunk)
{
    ff.size = 17 * PG + 100;
    int64_t a1 = vmap(mm, 0, 20 * PG, RW, PRIV, 0);
    int64_t a2 = vmap(mm2, 0, 20 * PG, R, PRIV, 0);
    int64_t u = fmap(0, 20 * PG, R, PRIV, 0); /* without a version: not cached */
    cr_assert_gt(a1, 0);
    cr_assert_gt(a2, 0);
    cr_assert_gt(u, 0);
    check_tail(mm, (uint64_t)a1);
    check_tail(mm2, (uint64_t)a2);
    check_tail(mm, (uint64_t)u);
    cr_expect_eq(ff.bytes_read, 2 * ff.size, "once for the cache, once for the other");
    /* The stub maps the cached chunk up to the end of the file only. */
    cr_expect_eq(stub_off(mm2, as2, (uint64_t)a2 + 16 * PG, false),
                 stub_off(mm, as, (uint64_t)a1 + 16 * PG, false));
    cr_expect(fake_as_page(as2, (uint64_t)a2 + 17 * PG));
    cr_expect_null(fake_as_page(as2, (uint64_t)a2 + 18 * PG), "page past EOF mapped");
    /* The zeros after the end belong to the shared chunk too. */
    unsigned char x = 0x77;
    cr_assert_eq(mm_copy_out(mm, (uint64_t)a1 + 17 * PG + 200, &x, 1), 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 17 * PG + 200), 0x77);
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + 17 * PG + 200), 0);
    int64_t a3 = vmap(mm2, 0, 20 * PG, R, PRIV, 0);
    cr_assert_gt(a3, 0);
    check_tail(mm2, (uint64_t)a3);
    int code = 0;
    cr_expect_eq(mm_handle_fault(mm, (uint64_t)a1 + 18 * PG, true, false, &code), -ABI_EIO);
    cr_expect_eq(ff.bytes_read, 2 * ff.size);
}

/* Pages past the end when the chunk was filled are read at first touch
 * once the file has grown, as without the cache. */
Test(mm_fcache, file_grows_after_fill)
{
    ff.size = 17 * PG + 100;
    int64_t a1 = vmap(mm, 0, 20 * PG, R, PRIV, 0);
    int64_t a2 = vmap(mm2, 0, 20 * PG, R, PRIV, 0);
    int64_t u = fmap(0, 20 * PG, R, PRIV, 0);
    cr_assert_gt(a1, 0);
    cr_assert_gt(a2, 0);
    cr_assert_gt(u, 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 16 * PG), pattern(16 * PG));
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + 16 * PG), pattern(16 * PG));
    cr_expect_eq(peek_in(mm, (uint64_t)u + 16 * PG), pattern(16 * PG));
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 18 * PG), -ABI_EFAULT);
    ff.size = 20 * PG;
    ff.version++;
    cr_expect_eq(peek_in(mm, (uint64_t)u + 18 * PG + 1), pattern(18 * PG + 1));
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 18 * PG + 1), pattern(18 * PG + 1));
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + 19 * PG + 1), pattern(19 * PG + 1));
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + 18 * PG + 1), pattern(18 * PG + 1));
}

Test(mm_fcache, shrink_frees_idle_chunks_only)
{
    int64_t a = vmap(mm, 0, 4 * PG, R, PRIV, 0);
    cr_assert_gt(a, 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a + PG), pattern(PG));
    cr_expect_eq(mm_fcache_shrink(mf), 0, "a chunk in use was let go");
    cr_expect_eq(mm_memfile_used(mf), CHUNK);
    cr_expect_eq(peek_in(mm, (uint64_t)a + 3 * PG + 1), pattern(3 * PG + 1));
    cr_assert_eq(mm_munmap(mm, (uint64_t)a, 4 * PG), 0);
    cr_expect_eq(mm_memfile_used(mf), CHUNK, "the cache keeps the chunk");
    /* Mapped again: no read. */
    a = vmap(mm2, 0, 4 * PG, R, PRIV, 0);
    cr_assert_gt(a, 0);
    cr_expect_eq(peek_in(mm2, (uint64_t)a + PG), pattern(PG));
    cr_expect_eq(ff.reads, 1);
    cr_assert_eq(mm_munmap(mm2, (uint64_t)a, 4 * PG), 0);
    cr_expect_geq(mm_fcache_shrink(mf), 1);
    cr_expect_eq(mm_memfile_used(mf), 0);
    cr_expect_eq(mm_fcache_shrink(mf), 0);
    /* Gone: the next mapping reads the file again. */
    a = vmap(mm, 0, 4 * PG, R, PRIV, 0);
    cr_assert_gt(a, 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a + PG), pattern(PG));
    cr_expect_eq(ff.reads, 2);
}

Test(mm_fcache, forget_leaves_mappings_their_chunks)
{
    int64_t a = vmap(mm, 0, 4 * PG, R, PRIV, 0);
    cr_assert_gt(a, 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a + PG), pattern(PG));
    mm_fcache_forget(mf);
    cr_expect_eq(mm_memfile_used(mf), CHUNK);
    cr_expect_eq(peek_in(mm, (uint64_t)a + 2 * PG), pattern(2 * PG));
    cr_assert_eq(mm_munmap(mm, (uint64_t)a, 4 * PG), 0);
    cr_expect_eq(mm_memfile_used(mf), 0);
    cr_expect_eq(mm_fcache_shrink(mf), 0);
}

/* Entries left when the memory file goes are freed with it. Criterion's
 * test processes end without LeakSanitizer's check: run it here. */
Test(mm_fcache, destroy_drops_entries)
{
    struct mm_memfile *own;
    struct mm *m;
    cr_assert_eq(mm_memfile_create(1ULL << 30, &own), 0);
    cr_assert_eq(mm_create(own, NULL, NULL, &m), 0);
    ff.size = FMAX;
    for (uint64_t w = 0; w < 3; w++) {
        int64_t a = vmap(m, 0, PG, R, PRIV, w * CHUNK);
        cr_assert_gt(a, 0);
        cr_expect_eq(peek_in(m, (uint64_t)a), pattern(w * CHUNK));
        if (w)
            cr_assert_eq(mm_munmap(m, (uint64_t)a, PG), 0);
    }
    mm_destroy(m);
    cr_expect_eq(mm_memfile_used(own), 3 * CHUNK);
    mm_memfile_destroy(own);
#ifdef __SANITIZE_ADDRESS__
    cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "leaked (see the report above)");
#endif
}

Test(mm_fcache, short_memory_takes_idle_chunks)
{
    struct mm_memfile *small;
    struct mm *m;
    cr_assert_eq(mm_memfile_create(4 * CHUNK, &small), 0);
    cr_assert_eq(mm_create(small, NULL, NULL, &m), 0);
    ff.size = FMAX;
    for (uint64_t w = 0; w < 4; w++) {
        int64_t a = vmap(m, 0, CHUNK, R, PRIV, w * CHUNK);
        cr_assert_gt(a, 0);
        cr_expect_eq(peek_in(m, (uint64_t)a + 3), pattern(w * CHUNK + 3));
        cr_assert_eq(mm_munmap(m, (uint64_t)a, CHUNK), 0);
    }
    cr_expect_eq(mm_memfile_used(small), 4 * CHUNK, "full of idle chunks");
    int64_t anon = mm_mmap(m, 0, 3 * CHUNK, RW, PRIV | ABI_MAP_ANONYMOUS, -1, 0);
    cr_assert_gt(anon, 0);
    unsigned char x = 1;
    for (uint64_t i = 0; i < 3; i++)
        cr_expect_eq(mm_copy_out(m, (uint64_t)anon + i * CHUNK, &x, 1), 0);
    cr_expect_eq(mm_memfile_used(small), 3 * CHUNK);
    /* The last free chunk goes to the cache for this mapping; then memory
     * is full of chunks in use. */
    int64_t a = vmap(m, 0, 2 * CHUNK, R, PRIV, 0);
    cr_assert_gt(a, 0);
    cr_expect_eq(peek_in(m, (uint64_t)a + 5), pattern(5));
    cr_expect_eq(peek_in(m, (uint64_t)a + CHUNK + 5), -ABI_ENOMEM);
    cr_assert_eq(mm_munmap(m, (uint64_t)anon, 3 * CHUNK), 0);
    cr_expect_eq(peek_in(m, (uint64_t)a + CHUNK + 5), pattern(CHUNK + 5));
    mm_destroy(m);
    mm_fcache_shrink(small);
    cr_expect_eq(mm_memfile_used(small), 0);
    mm_memfile_destroy(small);
}

/* The cache keeps at most 1024 chunks (64 MiB); past that it lets idle
 * ones go, and while all are in use mappings fill chunks of their own. */
Test(mm_fcache, bounded_when_full)
{
    ff.size = PG;
    enum { N = 1100 };
    static int64_t addr[N];
    for (int i = 0; i < N; i++) {
        ff.version++;
        ff.data[0] = (unsigned char)i;
        addr[i] = vmap(mm, 0, PG, R, PRIV, 0);
        cr_assert_gt(addr[i], 0);
        cr_assert_eq(peek_in(mm, (uint64_t)addr[i]), (unsigned char)i);
    }
    cr_expect_eq(mm_memfile_used(mf), N * CHUNK);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(peek_in(mm, (uint64_t)addr[i]), (unsigned char)i);
        cr_assert_eq(mm_munmap(mm, (uint64_t)addr[i], PG), 0);
    }
    cr_expect_leq(mm_memfile_used(mf), 1024 * CHUNK);
    /* Idle entries make room for new ones. */
    for (int i = 0; i < N; i++) {
        ff.version++;
        int64_t a = vmap(mm, 0, PG, R, PRIV, 0);
        cr_assert_gt(a, 0);
        cr_assert_eq(peek_in(mm, (uint64_t)a), ff.data[0]);
        cr_assert_eq(mm_munmap(mm, (uint64_t)a, PG), 0);
        cr_assert_leq(mm_memfile_used(mf), 1024 * CHUNK, "after %d", i);
    }
}

Test(mm_fcache, fixed_mappings_out_of_step)
{
    ff.size = 40 * PG;
    /* File offset 0 one page into a chunk: the window would start before
     * the file. */
    cr_assert_eq(vmap(mm, A0 + PG, 20 * PG, R, PRIV | ABI_MAP_FIXED, 0), (int64_t)(A0 + PG));
    /* Windows starting at file offset PG, in both address spaces. */
    cr_assert_eq(vmap(mm2, A0 + PG, 20 * PG, R, PRIV | ABI_MAP_FIXED, 2 * PG), (int64_t)(A0 + PG));
    uint64_t b = A0 + 0x100000 + 3 * PG;
    cr_assert_eq(vmap(mm, b, 20 * PG, R, PRIV | ABI_MAP_FIXED, 4 * PG), (int64_t)b);
    /* A free hint is honoured, in step or not. */
    uint64_t h = A0 + 0x200000 + 5 * PG;
    cr_assert_eq(vmap(mm2, h, 20 * PG, R, PRIV, 0), (int64_t)h);
    for (uint64_t p = 0; p < 20; p++) {
        uint64_t first = p * PG, last = p * PG + PG - 1;
        cr_expect_eq(peek_in(mm, A0 + PG + first), pattern(first));
        cr_expect_eq(peek_in(mm, A0 + PG + last), pattern(last));
        cr_expect_eq(peek_in(mm2, A0 + PG + first), pattern(2 * PG + first));
        cr_expect_eq(peek_in(mm2, A0 + PG + last), pattern(2 * PG + last));
        cr_expect_eq(peek_in(mm, b + first), pattern(4 * PG + first));
        cr_expect_eq(peek_in(mm, b + last), pattern(4 * PG + last));
        cr_expect_eq(peek_in(mm2, h + first), pattern(first));
        cr_expect_eq(peek_in(mm2, h + last), pattern(last));
    }
    /* File offset 5 pages, in the same window of both. */
    cr_expect_eq(stub_off(mm2, as2, A0 + 4 * PG, false), stub_off(mm, as, b + PG, false));
}

Test(mm_fcache, dontneed_rereads)
{
    int64_t a1 = vmap(mm, 0, 16 * PG, RW, PRIV, 0);
    int64_t a2 = vmap(mm2, 0, 16 * PG, R, PRIV, 0);
    cr_assert_gt(a1, 0);
    cr_assert_gt(a2, 0);
    uint64_t shared = stub_off(mm2, as2, (uint64_t)a2, false);
    unsigned char x = 0xee;
    cr_assert_eq(mm_copy_out(mm, (uint64_t)a1 + PG, &x, 1), 0);
    /* One page of the copy: read from the file again. */
    cr_assert_eq(mm_madvise(mm, (uint64_t)a1 + PG, PG, ABI_MADV_DONTNEED), 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + PG), pattern(PG));
    cr_assert_eq(mm_copy_out(mm, (uint64_t)a1 + 2 * PG, &x, 1), 0);
    /* The whole chunk: the cache's again. */
    cr_assert_eq(mm_madvise(mm, (uint64_t)a1, 16 * PG, ABI_MADV_DONTNEED), 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 2 * PG), pattern(2 * PG));
    cr_expect_eq(stub_off(mm, as, (uint64_t)a1, false), shared);
    cr_expect(file_untouched());
    /* A page of the shared chunk dropped by one address space: the other
     * keeps its snapshot, the dropper reads the file as it is now. */
    cr_assert_eq(mm_madvise(mm2, (uint64_t)a2 + 3 * PG, PG, ABI_MADV_DONTNEED), 0);
    ff.data[3 * PG] ^= 0xff;
    ff.version++;
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 3 * PG), pattern(3 * PG));
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + 3 * PG), pattern(3 * PG) ^ 0xff);
    cr_expect_eq(*(unsigned char *)mm_memfile_ptr(mf, shared + 3 * PG), pattern(3 * PG));
}

Test(mm_fcache, fork_shares_cached_chunks)
{
    int64_t a = vmap(mm, 0, 4 * PG, RW, PRIV, 0);
    cr_assert_gt(a, 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a + PG), pattern(PG));
    struct mm *child = NULL;
    cr_assert_eq(mm_fork(mm, &child), 0);
    unsigned char x = 0xee;
    cr_assert_eq(mm_copy_out(mm, (uint64_t)a + PG, &x, 1), 0);
    cr_expect_eq(peek_in(child, (uint64_t)a + PG), pattern(PG));
    cr_assert_eq(mm_copy_out(child, (uint64_t)a + 2 * PG, &x, 1), 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a + 2 * PG), pattern(2 * PG));
    int64_t b = vmap(mm2, 0, 4 * PG, R, PRIV, 0);
    cr_assert_gt(b, 0);
    cr_expect_eq(peek_in(mm2, (uint64_t)b + PG), pattern(PG));
    cr_expect_eq(peek_in(mm2, (uint64_t)b + 2 * PG), pattern(2 * PG));
    cr_expect_eq(ff.reads, 1);
    mm_destroy(child);
    cr_assert_eq(mm_munmap(mm, (uint64_t)a, 4 * PG), 0);
    cr_expect_eq(mm_fcache_shrink(mf), 0, "mm2 still maps it");
    cr_assert_eq(mm_munmap(mm2, (uint64_t)b, 4 * PG), 0);
    cr_expect_eq(mm_fcache_shrink(mf), 1);
    cr_expect_eq(mm_memfile_used(mf), 0);
}

/* The file's first 4 pages mapped privately read-only through d in mm
 * (a[0]) and in mm2 (a[1]), and page 1 read through each. */
static void map_and_read_both(const struct mm_file_desc *d, int64_t a[2])
{
    a[0] = mm_mmap_file(mm, 0, 4 * PG, R, PRIV, d, 0);
    a[1] = mm_mmap_file(mm2, 0, 4 * PG, R, PRIV, d, 0);
    cr_assert_gt(a[0], 0);
    cr_assert_gt(a[1], 0);
    cr_expect_eq(peek_in(mm, (uint64_t)a[0] + PG), pattern(PG));
    cr_expect_eq(peek_in(mm2, (uint64_t)a[1] + PG), pattern(PG));
}

Test(mm_fcache, files_without_version_are_not_cached)
{
    struct mm_file_desc d = desc(); /* no version op */
    int64_t a[2];
    map_and_read_both(&d, a);
    cr_expect_eq(ff.reads, 2);
    cr_expect_eq(ff.bytes_read, 8 * PG, "each reads what it maps");
    cr_expect_neq(stub_off(mm, as, (uint64_t)a[0], false),
                  stub_off(mm2, as2, (uint64_t)a[1], false));

    /* A version of 0 means "do not cache". */
    ff.version = 0;
    d.ops = &fops_v;
    map_and_read_both(&d, a);
    cr_expect_eq(ff.reads, 4);

    /* Neither does a file without an identity. */
    ff.version = 1;
    d.dev = d.ino = 0;
    map_and_read_both(&d, a);
    cr_expect_eq(ff.reads, 6);
    cr_expect_eq(mm_fcache_shrink(mf), 0);
    cr_expect_eq(mm_memfile_used(mf), 6 * CHUNK);
}

/* Linux finds no room for a length of nearly 2^64 (ENOMEM) before it looks
 * at the file; the room for aligning must not wrap around. */
Test(mm_fcache, huge_length_is_enomem)
{
    for (uint64_t len = UINT64_MAX - CHUNK + 1; len < UINT64_MAX - PG; len += 5 * PG) {
        cr_expect_eq(vmap(mm, 0, len, R, PRIV, 0), -ABI_ENOMEM, "len %#llx",
                     (unsigned long long)len);
        cr_expect_eq(fmap(0, len, R, PRIV, 0), -ABI_ENOMEM, "len %#llx", (unsigned long long)len);
    }
    cr_expect_eq(ff.refs, 0);
}

/* Made writable after the stub mapped the shared chunk: the stub must not
 * get write access to it (every later exec would see the write). */
Test(mm_fcache, mprotect_keeps_shared_chunk_read_only)
{
    int64_t a1, a2;
    uint64_t shared = map_twice_shared(R, &a1, &a2);
    cr_assert_eq(mm_mprotect(mm, (uint64_t)a1, 4 * PG, RW), 0);
    const struct fake_page *p = fake_as_page(as, (uint64_t)a1 + PG);
    cr_expect(!p || p->off != shared || !(p->prot & PLATFORM_PROT_WRITE),
              "the shared chunk is writable in the stub");
    uint64_t w = stub_off(mm, as, (uint64_t)a1 + PG, true);
    cr_expect_neq(w, shared);
    *(unsigned char *)mm_memfile_ptr(mf, w) = 0x42;
    cr_expect_eq(peek_in(mm2, (uint64_t)a2 + PG), pattern(PG));
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + PG), 0x42);
}

/* A fault also maps the following chunks whose bytes the cache holds,
 * read-only, and reads nothing for them. */
Test(mm_fcache, fault_around_maps_cached_chunks)
{
    ff.size = 40 * PG;
    int64_t a1 = vmap(mm, 0, 40 * PG, RW, PRIV, 0);
    cr_assert_gt(a1, 0);
    int code = 0;
    cr_assert_eq(mm_handle_fault(mm, (uint64_t)a1, false, false, &code), 0);
    cr_expect_eq(ff.bytes_read, 16 * PG, "read beyond the faulting chunk");
    cr_expect_null(fake_as_page(as, (uint64_t)a1 + 16 * PG));

    int64_t a2 = vmap(mm2, 0, 40 * PG, R, PRIV, 0);
    cr_assert_gt(a2, 0);
    uint64_t base[3];
    for (uint64_t w = 0; w < 3; w++)
        base[w] = stub_off(mm2, as2, (uint64_t)a2 + w * CHUNK, false);
    cr_expect_eq(ff.bytes_read, 40 * PG);
    cr_assert_eq(mm_munmap(mm, (uint64_t)a1, 40 * PG), 0);
    a1 = vmap(mm, 0, 40 * PG, RW, PRIV, 0);
    cr_assert_gt(a1, 0);
    cr_assert_eq(mm_handle_fault(mm, (uint64_t)a1 + 2 * PG, false, false, &code), 0);
    for (uint64_t p = 0; p < 40; p++) {
        const struct fake_page *pg = fake_as_page(as, (uint64_t)a1 + p * PG);
        cr_expect(pg, "page %llu not mapped", (unsigned long long)p);
        if (!pg)
            continue;
        cr_expect_eq(pg->prot & PLATFORM_PROT_WRITE, 0);
        cr_expect_eq(pg->off, base[p / 16] + p % 16 * PG, "page %llu", (unsigned long long)p);
    }
    cr_expect_eq(ff.bytes_read, 40 * PG);
    cr_expect_eq(peek_in(mm, (uint64_t)a1 + 39 * PG + 5), pattern(39 * PG + 5));
}
