/* fork(2) in the memory manager: copy-on-write of private memory, shared
 * memory staying shared, DONTFORK and WIPEONFORK, the parent's stub made
 * read-only, memory accounting across any order of exits, and the
 * shootdown protocol that lets a truncation reach other processes' stubs.
 * Expected behaviour is Linux's fork. Every test checks that all memory
 * went back to the memory file once every address space is gone. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/mm/memobj.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"
#include "tests/unit/fake_platform.h"

#define PG    4096ULL
#define CH    MM_CHUNK_SIZE
#define A0    0x10000000ULL /* 64 KiB aligned */
#define ANON  (ABI_MAP_PRIVATE | ABI_MAP_ANONYMOUS | ABI_MAP_FIXED)
#define SANON (ABI_MAP_SHARED | ABI_MAP_ANONYMOUS | ABI_MAP_FIXED)
#define RW    (ABI_PROT_READ | ABI_PROT_WRITE)
#define R     ABI_PROT_READ

static struct mm_memfile *mf;
static struct platform plat;

/* ---- a fake file with shared pages (as tmpfs keeps them) ---- */

#define FMAX (16 * PG)
static struct {
    unsigned char data[FMAX];
    uint64_t size;
    int refs;
    uint64_t page[FMAX / PG]; /* memory-file offset + 1; 0: none */
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
    if (off >= ff.size)
        return 0;
    if (len > ff.size - off)
        len = ff.size - off;
    memcpy(buf, ff.data + off, len);
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
    (void)write;
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
    return (int64_t)(ff.page[i] - 1);
}
static uint64_t p_size(void *owner)
{
    (void)owner;
    return ff.size;
}
static const struct mm_fpages_ops pops = {p_page, p_size, NULL, NULL};
static struct mm_fpages *fp;

static int64_t fmap(struct mm *m, uint64_t addr, uint64_t len, int prot, int flags, uint64_t off)
{
    struct mm_file_desc d = {.ops = &fops,
                             .h = &ff,
                             .mappable = true,
                             .readable = true,
                             .writable = true,
                             .pages = fp,
                             .name = "/tmp/f",
                             .dev = 0x803,
                             .ino = 42};
    return mm_mmap_file(m, addr, len, prot, flags | ABI_MAP_FIXED, &d, off);
}

/* ---- fixture ---- */

static void setup(void)
{
    memset(&ff, 0, sizeof(ff));
    for (uint64_t i = 0; i < FMAX; i++)
        ff.data[i] = (unsigned char)(i / PG * 16 + i % 7 + 1);
    ff.size = 8 * PG;
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    fp = mm_fpages_create(&pops, &ff);
    cr_assert(fp);
    fake_platform_init(&plat, 0x7e0000000000ULL);
}

static void teardown(void)
{
    mm_set_shootdown(NULL, NULL);
    cr_expect_eq(ff.refs, 0, "file references left: %d", ff.refs);
    for (uint64_t i = 0; i < FMAX / PG; i++)
        if (ff.page[i])
            mm_memfile_free(mf, ff.page[i] - 1, PG);
    mm_fpages_destroy(fp);
    cr_expect_eq(mm_memfile_used(mf), 0, "memory leaked: %llu bytes",
                 (unsigned long long)mm_memfile_used(mf));
    mm_memfile_destroy(mf);
}

TestSuite(fork, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static struct mm *new_mm(struct platform_as *as)
{
    struct mm *m;
    cr_assert_eq(mm_create(mf, as ? &plat : NULL, as, &m), 0);
    return m;
}

static struct mm *fork_mm(struct mm *parent)
{
    struct mm *c = NULL;
    cr_assert_eq(mm_fork(parent, &c), 0);
    cr_assert(c);
    return c;
}

static void put(struct mm *m, uint64_t addr, unsigned char b)
{
    cr_assert_eq(mm_copy_out(m, addr, &b, 1), 0, "write 0x%llx", (unsigned long long)addr);
}

static int get(struct mm *m, uint64_t addr)
{
    unsigned char b;
    int r = mm_copy_in(m, &b, addr, 1);
    return r ? r : b;
}

static int fault(struct mm *m, uint64_t addr, bool write)
{
    int code = 0;
    int r = mm_handle_fault(m, addr, write, false, &code);
    return r ? r : 0;
}

/* The memory-file offset the stub maps addr to, or UINT64_MAX. */
static uint64_t stub_off(struct platform_as *as, uint64_t addr)
{
    const struct fake_page *p = fake_as_page(as, addr);
    return p ? p->off : UINT64_MAX;
}

static bool stub_writable(struct platform_as *as, uint64_t addr)
{
    const struct fake_page *p = fake_as_page(as, addr);
    return p && (p->prot & PLATFORM_PROT_WRITE);
}

#define MAXV 32
struct vlist {
    struct mm_vma_info v[MAXV];
    char names[MAXV][32];
    int n;
};

static int collect(void *arg, const struct mm_vma_info *v)
{
    struct vlist *l = arg;
    if (l->n < MAXV) {
        l->v[l->n] = *v;
        strncpy(l->names[l->n], v->name ? v->name : "", sizeof(l->names[0]) - 1);
        l->v[l->n].name = NULL;
        l->n++;
    }
    return 0;
}

static struct vlist vmas(struct mm *m)
{
    struct vlist l;
    memset(&l, 0, sizeof(l));
    mm_for_each_vma(m, collect, &l);
    return l;
}

/* ---- copy-on-write of anonymous memory ---- */

Test(fork, private_anon_is_copy_on_write)
{
    struct mm *p = new_mm(NULL);
    cr_assert_eq(mm_mmap(p, A0, 3 * CH, RW, ANON, -1, 0), (int64_t)A0);
    for (int i = 0; i < 3; i++)
        put(p, A0 + i * CH + 7, (unsigned char)(0x10 + i));
    uint64_t used = mm_memfile_used(mf);
    struct mm *c = fork_mm(p);
    cr_expect_eq(mm_memfile_used(mf), used, "fork copied memory");
    for (int i = 0; i < 3; i++)
        cr_expect_eq(get(c, A0 + i * CH + 7), 0x10 + i);

    put(p, A0 + 7, 0xaa);
    cr_expect_eq(get(c, A0 + 7), 0x10, "the parent's write reached the child");
    cr_expect_eq(get(p, A0 + 7), 0xaa);
    put(c, A0 + CH + 7, 0xbb);
    cr_expect_eq(get(p, A0 + CH + 7), 0x11, "the child's write reached the parent");
    cr_expect_eq(get(c, A0 + CH + 7), 0xbb);
    /* One chunk copied per side that wrote; the third is still shared. */
    cr_expect_eq(mm_memfile_used(mf), used + 2 * CH);
    cr_expect_eq(get(c, A0 + 2 * CH + 7), 0x12);

    /* Memory the parent maps after the fork is its own. */
    cr_assert_eq(mm_mmap(p, A0 + 8 * CH, CH, RW, ANON, -1, 0), (int64_t)(A0 + 8 * CH));
    cr_expect_eq(get(c, A0 + 8 * CH), -ABI_EFAULT);
    mm_destroy(c);
    mm_destroy(p);
}

Test(fork, layout_and_vmas_copied)
{
    struct mm *p = new_mm(NULL);
    mm_set_mmap_base(p, 0x7f0000000000ULL / 2);
    mm_set_brk_start(p, 0x20000000ULL);
    mm_set_stack_limit(p, 1ULL << 20);
    cr_assert_eq(mm_brk(p, 0x20000000ULL + 3 * PG), (int64_t)(0x20000000ULL + 3 * PG));
    cr_assert_eq(mm_map_fixed(p, 0x30000000ULL, 4 * PG, RW, MM_VMA_GROWSDOWN, "[stack]"),
                 (int64_t)0x30000000ULL);
    cr_assert_eq(fmap(p, A0, 4 * PG, R | ABI_PROT_EXEC, ABI_MAP_PRIVATE, 2 * PG), (int64_t)A0);
    cr_assert_eq(fmap(p, A0 + 8 * PG, 2 * PG, RW, ABI_MAP_SHARED, PG), (int64_t)(A0 + 8 * PG));
    cr_assert_eq(mm_mmap(p, A0 + 16 * PG, 4 * PG, RW, ANON, -1, 0), (int64_t)(A0 + 16 * PG));
    cr_assert_eq(mm_mprotect(p, A0 + 17 * PG, PG, R), 0);
    cr_assert_eq(mm_madvise(p, A0 + 19 * PG, PG, ABI_MADV_DONTDUMP), 0);
    cr_assert_eq(mm_mmap(p, A0 + 32 * PG, 2 * PG, RW, SANON | ABI_MAP_NORESERVE, -1, 0),
                 (int64_t)(A0 + 32 * PG));

    cr_expect_eq(ff.refs, 2, "one reference per mmap call");
    struct mm *c = fork_mm(p);
    struct vlist a = vmas(p), b = vmas(c);
    cr_assert_eq(a.n, b.n);
    for (int i = 0; i < a.n; i++) {
        cr_expect_eq(memcmp(&a.v[i], &b.v[i], sizeof(a.v[i])), 0, "VMA %d differs", i);
        cr_expect_str_eq(a.names[i], b.names[i]);
    }
    /* The mapped file objects are shared (Linux takes a file reference per
     * VMA; here the mapped file's one handle reference stands for them). */
    cr_expect_eq(ff.refs, 2);
    cr_expect_eq(mm_brk(c, 0), mm_brk(p, 0));
    cr_expect_eq(mm_max_addr(c), mm_max_addr(p));
    /* Same mmap base: the next mapping lands at the same place. */
    cr_expect_eq(mm_mmap(c, 0, PG, RW, ABI_MAP_PRIVATE | ABI_MAP_ANONYMOUS, -1, 0),
                 mm_mmap(p, 0, PG, RW, ABI_MAP_PRIVATE | ABI_MAP_ANONYMOUS, -1, 0));
    /* Same stack limit: growth stops 1 MiB below the top in both. */
    uint64_t top = 0x30000000ULL + 4 * PG;
    cr_expect_eq(get(c, top - (1ULL << 20)), 0);
    cr_expect_eq(get(c, top - (1ULL << 20) - PG), -ABI_EFAULT);
    /* The brk area is the child's own too. */
    cr_expect_eq(mm_brk(c, 0x20000000ULL + 5 * PG), (int64_t)(0x20000000ULL + 5 * PG));
    cr_expect_eq(mm_brk(p, 0), (int64_t)(0x20000000ULL + 3 * PG));
    mm_destroy(p);
    cr_expect_eq(ff.refs, 2, "the child's mappings keep the file open");
    cr_expect_eq(get(c, A0 + 5), ff.data[2 * PG + 5]);
    mm_destroy(c);
}

Test(fork, shared_anon_stays_shared)
{
    struct mm *p = new_mm(NULL);
    cr_assert_eq(mm_mmap(p, A0, 2 * CH, RW, SANON, -1, 0), (int64_t)A0);
    put(p, A0 + 1, 1);
    uint64_t used = mm_memfile_used(mf);
    struct mm *c = fork_mm(p);
    cr_expect_eq(get(c, A0 + 1), 1);
    put(p, A0 + 1, 2);
    cr_expect_eq(get(c, A0 + 1), 2);
    put(c, A0 + CH + 5, 3);
    cr_expect_eq(get(p, A0 + CH + 5), 3);
    cr_expect_eq(mm_memfile_used(mf), used + CH, "one chunk, shared by both");
    mm_destroy(p);
    cr_expect_eq(get(c, A0 + CH + 5), 3, "shared memory outlives the parent");
    mm_destroy(c);
}

Test(fork, private_file_is_copy_on_write)
{
    struct mm *p = new_mm(NULL);
    cr_assert_eq(fmap(p, A0, 4 * PG, RW, ABI_MAP_PRIVATE, 0), (int64_t)A0);
    put(p, A0 + 5, 0xee); /* a private copy of the page */
    cr_expect_eq(get(p, A0 + PG + 5), ff.data[PG + 5]);
    struct mm *c = fork_mm(p);
    cr_expect_eq(get(c, A0 + 5), 0xee, "the child sees the parent's private copy");
    cr_expect_eq(get(c, A0 + PG + 5), ff.data[PG + 5]);
    cr_expect_eq(get(c, A0 + 3 * PG + 5), ff.data[3 * PG + 5]);
    put(c, A0 + 6, 0x11);
    cr_expect_eq(get(p, A0 + 6), ff.data[6]);
    put(p, A0 + 2 * PG, 0x22);
    cr_expect_eq(get(c, A0 + 2 * PG), ff.data[2 * PG]);
    cr_expect_neq(ff.data[6], 0x11, "a private write reached the file");
    mm_destroy(p);
    cr_expect_eq(get(c, A0 + 5), 0xee);
    cr_expect_eq(get(c, A0 + 6), 0x11);
    mm_destroy(c);
}

Test(fork, shared_file_stays_shared)
{
    struct mm *p = new_mm(NULL);
    cr_assert_eq(fmap(p, A0, 4 * PG, RW, ABI_MAP_SHARED, 0), (int64_t)A0);
    struct mm *c = fork_mm(p);
    put(c, A0 + PG + 3, 0x77);
    cr_expect_eq(get(p, A0 + PG + 3), 0x77);
    put(p, A0 + 3, 0x78);
    cr_expect_eq(get(c, A0 + 3), 0x78);
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, ff.page[1] - 1))[3], 0x77,
                 "the write went to the file's own page");
    mm_destroy(p);
    mm_destroy(c);
}

/* ---- MADV_DONTFORK and MADV_WIPEONFORK ---- */

Test(fork, dontfork_absent_and_not_leaked)
{
    struct mm *p = new_mm(NULL);
    cr_assert_eq(mm_mmap(p, A0, 4 * CH, RW, ANON, -1, 0), (int64_t)A0);
    for (int i = 0; i < 4; i++)
        put(p, A0 + i * CH + CH / 2, (unsigned char)(0x40 + i));
    /* A DONTFORK range ending mid-chunk: the edge chunk is split between
     * what the child gets and what it does not. */
    cr_assert_eq(mm_madvise(p, A0 + 2 * CH + CH / 2, CH + CH / 2, ABI_MADV_DONTFORK), 0);
    put(p, A0 + 2 * CH + CH / 2 + 1, 0x99); /* inside DONTFORK, in the edge chunk */
    struct mm *c = fork_mm(p);
    struct vlist l = vmas(c);
    cr_assert_eq(l.n, 1);
    cr_expect_eq(l.v[0].start, A0);
    cr_expect_eq(l.v[0].end, A0 + 2 * CH + CH / 2);
    cr_expect_eq(get(c, A0 + 2 * CH + CH / 2), -ABI_EFAULT);
    cr_expect_eq(get(c, A0 + CH + CH / 2), 0x41);
    cr_expect_eq(get(c, A0 + 2 * CH + 1), 0);
    /* Growing into the offsets the parent kept must not show its data. */
    cr_assert_eq(mm_mremap(c, A0, 2 * CH + CH / 2, 4 * CH, 0, 0), (int64_t)A0);
    cr_expect_eq(get(c, A0 + 2 * CH + CH / 2 + 1), 0, "DONTFORK data leaked to the child");
    cr_expect_eq(get(c, A0 + 3 * CH + CH / 2), 0, "DONTFORK data leaked to the child");
    cr_expect_eq(get(c, A0 + CH + CH / 2), 0x41);
    /* The parent keeps everything. */
    cr_expect_eq(get(p, A0 + 2 * CH + CH / 2 + 1), 0x99);
    cr_expect_eq(get(p, A0 + 3 * CH + CH / 2), 0x43);
    mm_destroy(c);
    mm_destroy(p);
}

Test(fork, wipeonfork_zero_in_child)
{
    struct mm *p = new_mm(NULL);
    cr_assert_eq(mm_mmap(p, A0, 3 * CH, RW, ANON, -1, 0), (int64_t)A0);
    for (uint64_t a = A0; a < A0 + 3 * CH; a += PG)
        put(p, a + 9, 0x5a);
    cr_assert_eq(mm_madvise(p, A0 + CH + PG, CH, ABI_MADV_WIPEONFORK), 0);
    uint64_t used = mm_memfile_used(mf);
    struct mm *c = fork_mm(p);
    cr_expect_eq(get(c, A0 + 9), 0x5a);
    cr_expect_eq(get(c, A0 + CH + 9), 0x5a);
    for (uint64_t a = A0 + CH + PG; a < A0 + 2 * CH + PG; a += PG)
        cr_expect_eq(get(c, a + 9), 0, "wiped page 0x%llx", (unsigned long long)a);
    cr_expect_eq(get(c, A0 + 2 * CH + PG + 9), 0x5a);
    cr_expect_eq(get(p, A0 + CH + PG + 9), 0x5a, "the parent keeps its data");
    /* The setting is inherited, as on Linux. */
    struct vlist l = vmas(c);
    cr_assert_eq(l.n, 3);
    cr_expect(l.v[1].flags & MM_VMA_WIPEONFORK);
    /* Writing the wiped range costs the child new memory only. */
    put(c, A0 + CH + PG + 9, 1);
    cr_expect_eq(get(p, A0 + CH + PG + 9), 0x5a);
    mm_destroy(c);
    cr_expect_eq(mm_memfile_used(mf), used);
    /* Linux takes it for private anonymous memory only. */
    cr_assert_eq(fmap(p, A0 + 8 * CH, PG, RW, ABI_MAP_PRIVATE, 0), (int64_t)(A0 + 8 * CH));
    cr_expect_eq(mm_madvise(p, A0 + 8 * CH, PG, ABI_MADV_WIPEONFORK), -ABI_EINVAL);
    mm_destroy(p);
}

/* ---- the Sentry's own writes ---- */

Test(fork, copy_out_breaks_cow)
{
    struct platform_as *pas = fake_as_create();
    struct mm *p = new_mm(pas);
    cr_assert_eq(mm_mmap(p, A0, 2 * CH, RW, ANON, -1, 0), (int64_t)A0);
    put(p, A0 + 1, 0x31);
    put(p, A0 + CH + 1, 0x32);
    cr_assert_eq(fault(p, A0, false), 0);
    cr_assert_eq(fault(p, A0 + CH, false), 0);
    uint64_t old = stub_off(pas, A0);
    cr_assert_neq(old, UINT64_MAX);
    struct mm *c = fork_mm(p);
    /* A read(2) into the child's buffer. */
    const char msg[] = "child";
    cr_assert_eq(mm_copy_out(c, A0 + 1, msg, sizeof(msg)), 0);
    cr_expect_eq(get(p, A0 + 1), 0x31, "the Sentry's write into the child reached the parent");
    char back[sizeof(msg)];
    cr_assert_eq(mm_copy_in(c, back, A0 + 1, sizeof(back)), 0);
    cr_expect_str_eq(back, msg);
    /* And into the parent's, whose stub maps the old chunk. */
    cr_assert_eq(mm_copy_out(p, A0 + CH + 1, msg, sizeof(msg)), 0);
    cr_expect_eq(get(c, A0 + CH + 1), 0x32, "the Sentry's write into the parent reached the child");
    /* The child copied chunk 0, so the parent is alone with it again: it
     * keeps its mapping. Chunk 1 was copied for the parent: no stub mapping
     * of the chunk the child still uses may remain. */
    cr_expect_eq(stub_off(pas, A0), old);
    cr_expect_null(fake_as_page(pas, A0 + CH));
    mm_destroy(c);
    mm_destroy(p);
    fake_as_destroy(pas);
}

/* ---- the parent's stub ---- */

Test(fork, parent_stub_write_protected)
{
    struct platform_as *pas = fake_as_create();
    struct mm *p = new_mm(pas);
    cr_assert_eq(mm_mmap(p, A0, 3 * CH, RW, ANON, -1, 0), (int64_t)A0);
    cr_assert_eq(mm_mmap(p, A0 + 4 * CH, CH, R, ANON, -1, 0), (int64_t)(A0 + 4 * CH));
    cr_assert_eq(mm_mmap(p, A0 + 6 * CH, CH, RW, SANON, -1, 0), (int64_t)(A0 + 6 * CH));
    for (int i = 0; i < 3; i++)
        cr_assert_eq(fault(p, A0 + i * CH, true), 0);
    cr_assert_eq(fault(p, A0 + 4 * CH, false), 0);
    cr_assert_eq(fault(p, A0 + 6 * CH, true), 0);
    for (int i = 0; i < 3; i++)
        cr_assert(stub_writable(pas, A0 + i * CH + PG));
    cr_assert(stub_writable(pas, A0 + 6 * CH));
    fake_as_forget_calls(pas);
    struct mm *c = fork_mm(p);
    /* One call for the run of three chunks; nothing for the read-only and
     * the shared VMAs. */
    cr_expect_eq(fake_as_count(pas, FAKE_PROTECT), 1);
    cr_expect_eq(fake_as_count(pas, FAKE_MAP), 0);
    for (uint64_t a = A0; a < A0 + 3 * CH; a += PG) {
        cr_expect(fake_as_page(pas, a), "0x%llx unmapped", (unsigned long long)a);
        cr_expect_not(stub_writable(pas, a), "0x%llx still writable", (unsigned long long)a);
    }
    cr_expect(stub_writable(pas, A0 + 6 * CH), "shared memory was write-protected");
    mm_destroy(c);
    mm_destroy(p);
    fake_as_destroy(pas);
}

Test(fork, parent_protect_failure_unmaps)
{
    struct platform_as *pas = fake_as_create();
    struct mm *p = new_mm(pas);
    cr_assert_eq(mm_mmap(p, A0, 3 * CH, RW, ANON, -1, 0), (int64_t)A0);
    /* Chunks 0 and 1 have memory, only chunk 0 is in the stub: protecting
     * the run fails at chunk 1 and the run's mappings go. */
    cr_assert_eq(fault(p, A0, true), 0);
    put(p, A0 + CH, 1);
    fake_as_forget_calls(pas);
    struct mm *c = fork_mm(p);
    cr_expect_eq(fake_as_count(pas, FAKE_PROTECT), 1);
    cr_expect_eq(fake_as_count(pas, FAKE_UNMAP), 1);
    cr_expect_null(fake_as_page(pas, A0));
    mm_destroy(c);
    /* A platform error too. */
    cr_assert_eq(fault(p, A0, true), 0);
    cr_assert(stub_writable(pas, A0));
    pas->fail_next = 1;
    c = fork_mm(p);
    cr_expect_null(fake_as_page(pas, A0));
    put(c, A0, 2);
    cr_expect_eq(get(p, A0), 0);
    mm_destroy(c);
    mm_destroy(p);
    fake_as_destroy(pas);
}

/* The survivor of a copy-on-write pair takes its chunk back without a
 * copy, whichever side goes. */
Test(fork, survivor_writes_without_copy)
{
    struct platform_as *pas = fake_as_create();
    struct mm *p = new_mm(pas);
    cr_assert_eq(mm_mmap(p, A0, CH, RW, ANON, -1, 0), (int64_t)A0);
    cr_assert_eq(fault(p, A0, true), 0);
    put(p, A0, 0x61);
    uint64_t off = stub_off(pas, A0);
    struct mm *c = fork_mm(p);
    cr_assert_not(stub_writable(pas, A0));
    mm_destroy(c);
    uint64_t used = mm_memfile_used(mf);
    cr_assert_eq(fault(p, A0, true), 0);
    cr_expect_eq(mm_memfile_used(mf), used, "a write with nobody to share with copied");
    cr_expect(stub_writable(pas, A0));
    cr_expect_eq(stub_off(pas, A0), off);
    cr_expect_eq(get(p, A0), 0x61);

    /* Now the parent goes and the child survives. */
    c = fork_mm(p);
    struct platform_as *cas = fake_as_create();
    mm_set_as(c, cas);
    cr_assert_eq(fault(c, A0, false), 0);
    cr_expect_eq(stub_off(cas, A0), off, "a read fault maps the shared chunk");
    cr_expect_not(stub_writable(cas, A0));
    mm_destroy(p);
    fake_as_destroy(pas);
    used = mm_memfile_used(mf);
    cr_assert_eq(fault(c, A0, true), 0);
    cr_expect_eq(mm_memfile_used(mf), used);
    cr_expect(stub_writable(cas, A0));
    cr_expect_eq(stub_off(cas, A0), off);
    cr_expect_eq(get(c, A0), 0x61);
    mm_destroy(c);
    fake_as_destroy(cas);
}

Test(fork, child_faults_copy_on_write)
{
    struct platform_as *pas = fake_as_create(), *cas = fake_as_create();
    struct mm *p = new_mm(pas);
    cr_assert_eq(mm_mmap(p, A0, 2 * CH, RW, ANON, -1, 0), (int64_t)A0);
    put(p, A0 + 3, 0x71);
    put(p, A0 + CH + 3, 0x72);
    cr_assert_eq(fault(p, A0, true), 0);
    uint64_t off = stub_off(pas, A0);
    struct mm *c = fork_mm(p);
    mm_set_as(c, cas);
    cr_expect_eq(cas->npages, 0, "the child starts with an empty stub");
    cr_assert_eq(fault(c, A0, false), 0);
    cr_expect_eq(stub_off(cas, A0), off);
    cr_expect_not(stub_writable(cas, A0));
    uint64_t used = mm_memfile_used(mf);
    cr_assert_eq(fault(c, A0, true), 0);
    cr_expect_eq(mm_memfile_used(mf), used + CH, "a 64 KiB chunk copied");
    cr_expect_neq(stub_off(cas, A0), off);
    cr_expect(stub_writable(cas, A0));
    /* Through the new mapping (the Sentry's view of it). */
    unsigned char *mem = mm_memfile_ptr(mf, stub_off(cas, A0));
    cr_expect_eq(mem[3], 0x71);
    mem[3] = 0x81;
    cr_expect_eq(get(p, A0 + 3), 0x71);
    cr_expect_eq(get(c, A0 + 3), 0x81);
    /* The parent is alone with the old chunk: its write fault keeps it. */
    cr_assert_eq(fault(p, A0, true), 0);
    cr_expect_eq(stub_off(pas, A0), off);
    cr_expect(stub_writable(pas, A0));
    cr_expect_eq(mm_memfile_used(mf), used + CH);
    /* Chunk 1 is still shared: the parent's write copies. */
    cr_assert_eq(fault(p, A0 + CH, true), 0);
    cr_expect_eq(mm_memfile_used(mf), used + 2 * CH);
    cr_expect_eq(get(c, A0 + CH + 3), 0x72);
    mm_destroy(p);
    mm_destroy(c);
    fake_as_destroy(pas);
    fake_as_destroy(cas);
}

/* ---- three address spaces sharing chunks, every order of exits ---- */

Test(fork, fork_of_fork_any_exit_order)
{
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int o = 0; o < 6; o++) {
        struct mm *m[3];
        m[0] = new_mm(NULL);
        cr_assert_eq(mm_mmap(m[0], A0, 4 * CH, RW, ANON, -1, 0), (int64_t)A0);
        for (int i = 0; i < 4; i++)
            put(m[0], A0 + i * CH, (unsigned char)(1 + i));
        cr_assert_eq(mm_mmap(m[0], A0 + 8 * CH, CH, RW, SANON, -1, 0), (int64_t)(A0 + 8 * CH));
        put(m[0], A0 + 8 * CH, 9);
        m[1] = fork_mm(m[0]);
        put(m[1], A0 + CH, 0x21); /* chunk 1: m1's own from here */
        m[2] = fork_mm(m[1]);
        put(m[2], A0 + 2 * CH, 0x32); /* chunk 2: m2's own */
        /* chunk 0 and 3 are shared by all three, chunk 1 by m1 and m2. */
        unsigned char want[3][4] = {{1, 2, 3, 4}, {1, 0x21, 3, 4}, {1, 0x21, 0x32, 4}};
        bool alive[3] = {true, true, true};
        for (int k = 0; k < 3; k++) {
            int d = orders[o][k];
            mm_destroy(m[d]);
            alive[d] = false;
            for (int s = 0; s < 3; s++) {
                if (!alive[s])
                    continue;
                for (int i = 0; i < 4; i++)
                    cr_expect_eq(get(m[s], A0 + i * CH), want[s][i],
                                 "order %d, after %d went: mm %d chunk %d", o, d, s, i);
                cr_expect_eq(get(m[s], A0 + 8 * CH), 9);
            }
            /* Each survivor writes everything: correct and no leak. */
            for (int s = 0; s < 3; s++) {
                if (!alive[s])
                    continue;
                for (int i = 0; i < 4; i++) {
                    want[s][i] = (unsigned char)(0x80 + 16 * s + i + k);
                    put(m[s], A0 + i * CH, want[s][i]);
                }
            }
        }
        cr_expect_eq(mm_memfile_used(mf), 0, "order %d leaked %llu bytes", o,
                     (unsigned long long)mm_memfile_used(mf));
    }
}

/* ---- shootdown ---- */

static struct {
    struct mm *seen[4];
    int n;
    /* A private copy's byte in the memory file, as each quiesce found it. */
    const unsigned char *watch;
    unsigned char watched[4];
} sd;

static void quiesce(void *arg, struct mm *m)
{
    cr_expect_eq(arg, &sd);
    if (sd.n < 4) {
        sd.watched[sd.n] = sd.watch ? *sd.watch : 0;
        sd.seen[sd.n++] = m;
    }
}
static const struct mm_shootdown_ops sd_ops = {quiesce};

static bool quiesced(struct mm *m)
{
    for (int i = 0; i < sd.n; i++)
        if (sd.seen[i] == m)
            return true;
    return false;
}

Test(fork, truncate_defers_unmaps_to_each_mm)
{
    memset(&sd, 0, sizeof(sd));
    mm_set_shootdown(&sd_ops, &sd);
    struct platform_as *pas = fake_as_create(), *cas = fake_as_create();
    struct mm *p = new_mm(pas);
    cr_assert_eq(fmap(p, A0, 8 * PG, RW, ABI_MAP_SHARED, 0), (int64_t)A0);
    /* A private copy past the new end too: it is freed, after quiesce. */
    cr_assert_eq(fmap(p, A0 + 2 * CH, 8 * PG, RW, ABI_MAP_PRIVATE, 0), (int64_t)(A0 + 2 * CH));
    struct mm *c = fork_mm(p);
    mm_set_as(c, cas);
    struct mm *other = new_mm(fake_as_create()); /* maps nothing of the file */
    for (uint64_t a = A0; a < A0 + 8 * PG; a += PG) {
        cr_assert_eq(fault(p, a, true), 0);
        cr_assert_eq(fault(c, a, false), 0);
    }
    cr_assert_eq(fault(c, A0 + 2 * CH + 6 * PG, true), 0);
    put(c, A0 + 2 * CH + 6 * PG, 0xee);
    cr_assert(fake_as_page(cas, A0 + 2 * CH + 6 * PG));
    sd.watch = mm_memfile_ptr(mf, stub_off(cas, A0 + 2 * CH + 6 * PG));
    fake_as_forget_calls(pas);
    fake_as_forget_calls(cas);

    mm_fpages_truncate(fp, 2 * PG);
    cr_expect_eq(sd.n, 2, "quiesce calls: %d", sd.n);
    cr_expect(quiesced(p));
    cr_expect(quiesced(c), "the other process was not quiesced");
    cr_expect_not(quiesced(other));
    for (int i = 0; i < sd.n; i++)
        cr_expect_eq(sd.watched[i], 0xee, "a private copy was freed before quiesce returned");
    cr_expect_eq(*sd.watch, 0, "the child's private copy past the end was kept");
    sd.watch = NULL;
    /* Nothing touched the stubs from this thread. */
    cr_expect_eq(pas->ncalls, 0);
    cr_expect_eq(cas->ncalls, 0);
    cr_expect(mm_has_pending(p));
    cr_expect(mm_has_pending(c));
    cr_expect_not(mm_has_pending(other));
    cr_expect(fake_as_page(cas, A0 + 3 * PG));

    /* Each mm's own thread applies its records. */
    cr_assert_eq(mm_apply_pending(c), 0);
    cr_expect_gt(fake_as_count(cas, FAKE_UNMAP), 0);
    cr_expect_eq(pas->ncalls, 0);
    for (uint64_t a = A0 + 2 * PG; a < A0 + 8 * PG; a += PG)
        cr_expect_null(fake_as_page(cas, a), "0x%llx still mapped", (unsigned long long)a);
    cr_expect(fake_as_page(cas, A0 + PG), "a page before the end was dropped");
    cr_expect_null(fake_as_page(cas, A0 + 2 * CH + 6 * PG));
    cr_expect_not(mm_has_pending(c));
    /* A fault applies them too. */
    ff.size = 2 * PG;
    cr_expect_eq(fault(p, A0 + 5 * PG, false), -ABI_EIO);
    cr_expect_null(fake_as_page(pas, A0 + 3 * PG));
    cr_expect_not(mm_has_pending(p));

    /* Without the hook the stubs change at once, as before. */
    mm_set_shootdown(NULL, NULL);
    memset(&sd, 0, sizeof(sd));
    cr_assert_eq(fault(c, A0 + PG, false), 0);
    mm_fpages_truncate(fp, PG);
    cr_expect_eq(sd.n, 0);
    cr_expect_null(fake_as_page(cas, A0 + PG));
    cr_expect_not(mm_has_pending(c));

    struct platform_as *oas = other->as;
    mm_destroy(other);
    fake_as_destroy(oas);
    mm_destroy(p);
    mm_destroy(c);
    fake_as_destroy(pas);
    fake_as_destroy(cas);
}

Test(fork, punch_records_shared_only)
{
    memset(&sd, 0, sizeof(sd));
    mm_set_shootdown(&sd_ops, &sd);
    struct platform_as *pas = fake_as_create(), *cas = fake_as_create();
    struct mm *p = new_mm(pas);
    cr_assert_eq(fmap(p, A0, 4 * PG, RW, ABI_MAP_SHARED, 0), (int64_t)A0);
    cr_assert_eq(fmap(p, A0 + CH, 4 * PG, RW, ABI_MAP_PRIVATE, 0), (int64_t)(A0 + CH));
    struct mm *c = fork_mm(p);
    mm_set_as(c, cas);
    /* The child maps only its private copy: a punch does not concern it. */
    cr_assert_eq(fault(c, A0 + CH + PG, true), 0);
    cr_assert_eq(fault(p, A0 + PG, false), 0);
    fake_as_forget_calls(pas);
    mm_fpages_punch(fp, PG, PG);
    cr_expect_eq(sd.n, 1);
    cr_expect(quiesced(p));
    cr_expect_not(quiesced(c));
    cr_expect(fake_as_page(pas, A0 + PG));
    cr_assert_eq(mm_apply_pending(p), 0);
    cr_expect_null(fake_as_page(pas, A0 + PG));
    cr_expect(fake_as_page(cas, A0 + CH + PG));
    mm_destroy(p);
    mm_destroy(c);
    fake_as_destroy(pas);
    fake_as_destroy(cas);
}
