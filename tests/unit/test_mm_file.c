/* File mappings in the memory manager, with a fake mapped file (a byte
 * array) and fake shared pages (a page table in the memory file, as tmpfs
 * keeps one). Expected behaviour is Linux's: private mappings copy the file
 * at first touch, shared ones see its pages, pages past the end are SIGBUS.
 * Every test checks that the file was released and the memory given back. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
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
