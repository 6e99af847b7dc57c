/* The memory manager: memory file, radix map, memory objects, VMA set, and
 * address spaces with and without a (fake) platform. Expected errnos are the
 * ones a native Linux 6.x kernel returns for the same calls. Every test ends
 * by checking that all memory went back to the memory file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/mm/memobj.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/mm_internal.h"
#include "sentry/mm/radix.h"
#include "sentry/mm/vma.h"
#include "tests/unit/fake_platform.h"

#define PG   4096ULL
#define KB   1024ULL
#define MB   (1024ULL * 1024)
#define ANON (ABI_MAP_PRIVATE | ABI_MAP_ANONYMOUS)
#define RW   (ABI_PROT_READ | ABI_PROT_WRITE)
#define R    ABI_PROT_READ
#define A0   0x10000000ULL /* a 64 KiB aligned test address */

static struct mm_memfile *mf;
static struct mm *mm;
static struct platform plat;
static struct platform_as *as;

static void setup(void)
{
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    cr_assert_eq(mm_create(mf, NULL, NULL, &mm), 0);
}

static void teardown(void)
{
    mm_destroy(mm);
    cr_expect_eq(mm_memfile_used(mf), 0, "memory leaked: %llu bytes",
                 (unsigned long long)mm_memfile_used(mf));
    mm_memfile_destroy(mf);
}

static void setup_memfile(void)
{
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
}

static void teardown_memfile(void)
{
    cr_expect_eq(mm_memfile_used(mf), 0);
    mm_memfile_destroy(mf);
}

/* ---- helpers ---- */

static int64_t map(uint64_t addr, uint64_t len, int prot, int flags)
{
    return mm_mmap(mm, addr, len, prot, flags, -1, 0);
}

static void poke(uint64_t addr, unsigned char b)
{
    cr_assert_eq(mm_copy_out_force(mm, addr, &b, 1), 0, "poke 0x%llx", (unsigned long long)addr);
}

static int peek(uint64_t addr)
{
    unsigned char b;
    int r = mm_copy_in(mm, &b, addr, 1);
    return r ? r : b;
}

struct vlist {
    struct mm_vma_info v[64];
    char names[64][16];
    int n;
};

static int collect(void *arg, const struct mm_vma_info *v)
{
    struct vlist *l = arg;
    if (l->n < 64) {
        l->v[l->n] = *v;
        snprintf(l->names[l->n], sizeof(l->names[0]), "%s", v->name ? v->name : "");
        l->n++;
    }
    return 0;
}

static struct vlist vmas(void)
{
    struct vlist l;
    l.n = 0;
    mm_for_each_vma(mm, collect, &l);
    return l;
}

/* The VMA containing addr, or one with start == end == 0. */
static struct mm_vma_info vma_at(uint64_t addr)
{
    struct vlist l = vmas();
    for (int i = 0; i < l.n; i++)
        if (l.v[i].start <= addr && addr < l.v[i].end)
            return l.v[i];
    return (struct mm_vma_info){0};
}

static int fault(uint64_t addr, bool write, bool exec)
{
    int code = -1;
    int r = mm_handle_fault(mm, addr, write, exec, &code);
    return r ? code : 0;
}

/* ================= memory file ================= */

TestSuite(memfile, .init = setup_memfile, .fini = teardown_memfile);

Test(memfile, alloc_free_reuse_reads_zero)
{
    int64_t a = mm_memfile_alloc(mf, PG);
    int64_t b = mm_memfile_alloc(mf, 2 * PG);
    cr_assert_geq(a, 0);
    cr_assert_geq(b, 0);
    cr_expect_eq(a % PG, 0);
    cr_expect_eq(b % PG, 0);
    cr_expect(b >= a + (int64_t)PG || a >= b + 2 * (int64_t)PG, "ranges overlap");
    cr_expect_eq(mm_memfile_used(mf), 3 * PG);
    memset(mm_memfile_ptr(mf, (uint64_t)a), 0xab, PG);
    mm_memfile_free(mf, (uint64_t)a, PG);
    cr_expect_eq(mm_memfile_used(mf), 2 * PG);
    int64_t c = mm_memfile_alloc(mf, PG);
    cr_expect_eq(c, a, "the freed range is reused first");
    unsigned char *p = mm_memfile_ptr(mf, (uint64_t)c);
    for (size_t i = 0; i < PG; i++)
        cr_assert_eq(p[i], 0, "reused memory is not zero at %zu", i);
    mm_memfile_free(mf, (uint64_t)c, PG);
    mm_memfile_free(mf, (uint64_t)b, 2 * PG);
}

Test(memfile, free_ranges_coalesce)
{
    int64_t o[4];
    for (int i = 0; i < 4; i++)
        o[i] = mm_memfile_alloc(mf, 64 * KB);
    for (int i = 1; i < 4; i++)
        cr_assert_eq(o[i], o[0] + i * (int64_t)(64 * KB));
    mm_memfile_free(mf, (uint64_t)o[1], 64 * KB);
    mm_memfile_free(mf, (uint64_t)o[0], 64 * KB);
    mm_memfile_free(mf, (uint64_t)o[2], 64 * KB);
    /* Only one range of 192 KiB can satisfy this without growing. */
    int64_t big = mm_memfile_alloc(mf, 192 * KB);
    cr_expect_eq(big, o[0]);
    mm_memfile_free(mf, (uint64_t)big, 192 * KB);
    mm_memfile_free(mf, (uint64_t)o[3], 64 * KB);
    /* Everything free again: allocation restarts at the bottom. */
    int64_t again = mm_memfile_alloc(mf, PG);
    cr_expect_eq(again, o[0]);
    mm_memfile_free(mf, (uint64_t)again, PG);
}

Test(memfile, grows_past_first_step_and_is_the_fd)
{
    int64_t a = mm_memfile_alloc(mf, 100 * MB);
    cr_assert_geq(a, 0);
    unsigned char *p = mm_memfile_ptr(mf, (uint64_t)a);
    p[100 * MB - 1] = 42;
    unsigned char b = 0;
    cr_assert_eq(pread(mm_memfile_fd(mf), &b, 1, (off_t)(a + 100 * MB - 1)), 1);
    cr_expect_eq(b, 42, "the Sentry's mapping and the fd are the same memory");
    mm_memfile_free(mf, (uint64_t)a, 100 * MB);
}

Test(memfile, limits)
{
    struct mm_memfile *small;
    cr_assert_eq(mm_memfile_create(MB, &small), 0);
    cr_expect_eq(mm_memfile_alloc(small, 0), -ABI_EINVAL);
    cr_expect_eq(mm_memfile_alloc(small, 100), -ABI_EINVAL);
    cr_expect_eq(mm_memfile_alloc(small, 2 * MB), -ABI_ENOMEM);
    int64_t a = mm_memfile_alloc(small, MB);
    cr_assert_eq(a, 0);
    cr_expect_eq(mm_memfile_alloc(small, PG), -ABI_ENOMEM);
    mm_memfile_free(small, 0, MB);
    cr_expect_eq(mm_memfile_alloc(small, PG), 0);
    mm_memfile_free(small, 0, PG);
    cr_expect_eq(mm_memfile_used(small), 0);
    mm_memfile_destroy(small);
    cr_expect_eq(mm_memfile_create(100, &small), -ABI_EINVAL);
}

/* ================= radix map ================= */

Test(radix, sparse_keys)
{
    struct mm_radix r;
    mm_radix_init(&r);
    uint64_t keys[] = {0, 63, 64, 4095, 1ULL << 20, 1ULL << 40, UINT64_MAX, UINT64_MAX - 64};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        cr_assert_eq(mm_radix_set(&r, keys[i], (void *)(uintptr_t)(i + 1)), 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        cr_expect_eq(mm_radix_get(&r, keys[i]), (void *)(uintptr_t)(i + 1));
    cr_expect_null(mm_radix_get(&r, 1));
    cr_expect_null(mm_radix_get(&r, 65));
    cr_expect_null(mm_radix_get(&r, (1ULL << 40) + 1));
    cr_expect_null(mm_radix_get(&r, UINT64_MAX - 1));
    mm_radix_fini(&r);
    cr_expect_null(mm_radix_get(&r, 0));
}

struct walk_log {
    uint64_t keys[2048];
    int n;
    int remove_odd; /* remove keys whose value is odd */
    int stop_after;
};

static int log_cb(void *arg, uint64_t key, void **slot)
{
    struct walk_log *l = arg;
    l->keys[l->n++] = key;
    if (l->remove_odd && ((uintptr_t)*slot & 1))
        *slot = NULL;
    return l->stop_after && l->n == l->stop_after ? 7 : 0;
}

Test(radix, walk_in_order_removing)
{
    struct mm_radix r;
    mm_radix_init(&r);
    for (uint64_t k = 0; k < 5000; k += 7)
        cr_assert_eq(mm_radix_set(&r, k, (void *)(uintptr_t)(k + 2)), 0);
    cr_assert_eq(mm_radix_set(&r, 1ULL << 33, (void *)(uintptr_t)3), 0);

    struct walk_log l = {0};
    cr_expect_eq(mm_radix_walk(&r, 100, 500, log_cb, &l), 0);
    int expect = 0;
    for (uint64_t k = 105; k <= 500; k += 7)
        cr_assert_eq(l.keys[expect++], k);
    cr_expect_eq(l.n, expect);

    struct walk_log stop = {.stop_after = 3};
    cr_expect_eq(mm_radix_walk(&r, 0, UINT64_MAX, log_cb, &stop), 7);
    cr_expect_eq(stop.n, 3);

    struct walk_log rm = {.remove_odd = 1};
    mm_radix_walk(&r, 0, UINT64_MAX, log_cb, &rm);
    cr_expect_eq(rm.keys[rm.n - 1], 1ULL << 33);
    for (uint64_t k = 0; k < 5000; k += 7) {
        void *v = mm_radix_get(&r, k);
        if ((k + 2) & 1)
            cr_assert_null(v);
        else
            cr_assert_eq(v, (void *)(uintptr_t)(k + 2));
    }
    cr_expect_null(mm_radix_get(&r, 1ULL << 33));

    /* Removing everything frees every node. */
    struct walk_log all = {.remove_odd = 0};
    (void)all;
    for (uint64_t k = 0; k < 5000; k += 7)
        cr_assert_eq(mm_radix_set(&r, k, (void *)(uintptr_t)1), 0);
    struct walk_log rm2 = {.remove_odd = 1};
    mm_radix_walk(&r, 0, UINT64_MAX, log_cb, &rm2);
    cr_expect_null(r.root);
    cr_expect_eq(r.height, 0);
}

/* ================= memory objects ================= */

TestSuite(memobj, .init = setup_memfile, .fini = teardown_memfile);

Test(memobj, chunks_lookup_discard)
{
    struct mm_memobj *o = mm_memobj_create(mf, false, 0, 4 * MM_CHUNK_SIZE);
    cr_assert_not_null(o);
    cr_expect_null(mm_memobj_lookup(o, 5000));
    struct mm_chunk *c0 = mm_memobj_chunk(o, 5000, true, NULL);
    cr_assert_not_null(c0);
    cr_expect_eq(mm_memobj_lookup(o, 0), c0, "one chunk covers 64 KiB");
    cr_expect_eq(mm_memobj_lookup(o, MM_CHUNK_SIZE - 1), c0);
    cr_expect_null(mm_memobj_lookup(o, MM_CHUNK_SIZE));
    cr_expect_eq(mm_memfile_used(mf), MM_CHUNK_SIZE);
    struct mm_chunk *c1 = mm_memobj_chunk(o, MM_CHUNK_SIZE + 10, false, NULL);
    cr_assert_not_null(c1);
    cr_expect_eq(mm_memfile_used(mf), 2 * MM_CHUNK_SIZE);

    unsigned char *p1 = mm_memfile_ptr(mf, c1->file_off);
    memset(p1, 7, MM_CHUNK_SIZE);
    /* A partial discard punches pages and keeps the chunk. */
    mm_memobj_discard(o, MM_CHUNK_SIZE + PG, 2 * PG);
    cr_expect_eq(mm_memobj_lookup(o, MM_CHUNK_SIZE), c1);
    cr_expect_eq(p1[PG - 1], 7);
    cr_expect_eq(p1[PG], 0);
    cr_expect_eq(p1[3 * PG - 1], 0);
    cr_expect_eq(p1[3 * PG], 7);
    /* A whole chunk goes back to the file. */
    mm_memobj_discard(o, 0, MM_CHUNK_SIZE);
    cr_expect_null(mm_memobj_lookup(o, 0));
    cr_expect_eq(mm_memfile_used(mf), MM_CHUNK_SIZE);
    mm_memobj_put(o);
}

Test(memobj, release_discards_and_shrinks_extent)
{
    struct mm_memobj *o = mm_memobj_create(mf, false, 0x100000, 0x10000);
    struct mm_chunk *c = mm_memobj_chunk(o, 0x10c000, true, NULL);
    cr_expect(o->written);
    memset(mm_memfile_ptr(mf, c->file_off), 9, MM_CHUNK_SIZE);
    /* Releasing the top lowers hi; releasing a middle piece does not. */
    mm_memobj_release(o, 0x108000, 0x8000);
    cr_expect_eq(o->hi, 0x108000);
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, c->file_off))[0xc000 - 0x100000 % 0x10000], 0,
                 "released pages read zero");
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, c->file_off))[0x7fff], 9);
    mm_memobj_release(o, 0x101000, 0x1000);
    cr_expect_eq(o->lo, 0x100000);
    cr_expect_eq(o->hi, 0x108000);
    mm_memobj_release(o, 0x100000, 0x1000);
    cr_expect_eq(o->lo, 0x101000);
    mm_memobj_release(o, 0x100000, 0x8000);
    cr_expect_null(mm_memobj_lookup(o, 0x100000), "everything released: the chunk went");
    cr_expect_eq(mm_memfile_used(mf), 0);
    mm_memobj_put(o);

    struct mm_memobj *s = mm_memobj_create(mf, true, 0, 3 * PG);
    cr_expect_eq(s->size, 3 * PG);
    mm_memobj_chunk(s, 0, true, NULL);
    mm_memobj_release(s, 0, PG);
    cr_expect_not_null(mm_memobj_lookup(s, 0), "shared contents outlive one VMA");
    mm_memobj_put(s);
}

Test(memobj, clone_shares_chunks_copy_on_write)
{
    struct mm_memobj *o = mm_memobj_create(mf, false, 0, 2 * MM_CHUNK_SIZE);
    struct mm_chunk *c = mm_memobj_chunk(o, 0, true, NULL);
    memset(mm_memfile_ptr(mf, c->file_off), 'A', MM_CHUNK_SIZE);
    struct mm_memobj *n = mm_memobj_clone(o);
    cr_assert_not_null(n);
    cr_expect_eq(mm_memobj_lookup(n, 0), c);
    cr_expect_eq(c->refs, 2);
    cr_expect_eq(mm_memfile_used(mf), MM_CHUNK_SIZE, "cloning copies nothing");

    bool replaced = false;
    struct mm_chunk *r = mm_memobj_chunk(o, 0, false, &replaced);
    cr_expect_eq(r, c, "reads keep sharing");
    cr_expect_not(replaced);
    r = mm_memobj_chunk(o, 100, true, &replaced);
    cr_expect(replaced);
    cr_expect_neq(r, c);
    cr_expect_eq(c->refs, 1);
    unsigned char *pr = mm_memfile_ptr(mf, r->file_off);
    cr_expect_eq(pr[5], 'A', "the copy has the contents");
    pr[5] = 'B';
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, c->file_off))[5], 'A');

    /* Discarding part of a shared chunk must not punch the other's data. */
    struct mm_memobj *n2 = mm_memobj_clone(n);
    mm_memobj_discard(n2, 0, PG);
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, c->file_off))[5], 'A');
    struct mm_chunk *c2 = mm_memobj_lookup(n2, 0);
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, c2->file_off))[5], 0);
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, c2->file_off))[PG], 'A');
    mm_memobj_put(n2);
    mm_memobj_put(n);
    mm_memobj_put(o);
}

/* ================= the VMA set ================= */

TestSuite(vma, .init = setup_memfile, .fini = teardown_memfile);

static struct mm_vma *mkvma(uint64_t start, uint64_t end, int prot)
{
    struct mm_memobj *o = mm_memobj_create(mf, false, start, end - start);
    struct mm_vma *v = mm_vma_new(start, end, prot, 0, NULL, o, start);
    cr_assert_not_null(v);
    return v;
}

Test(vma, insert_find)
{
    struct mm_vma_set s;
    mm_vma_set_init(&s);
    cr_assert_eq(mm_vma_insert(&s, mkvma(0x30000, 0x40000, R)), 0);
    cr_assert_eq(mm_vma_insert(&s, mkvma(0x10000, 0x20000, R)), 0);
    cr_assert_eq(mm_vma_insert(&s, mkvma(0x20000, 0x30000, RW)), 0);
    cr_assert_eq(s.n, 3);
    cr_expect_eq(s.v[0]->start, 0x10000);
    cr_expect_eq(s.v[1]->start, 0x20000);
    cr_expect_eq(s.v[2]->start, 0x30000);
    cr_expect_eq(mm_vma_find(&s, 0x1ffff), s.v[0]);
    cr_expect_eq(mm_vma_find(&s, 0x20000), s.v[1]);
    cr_expect_null(mm_vma_find(&s, 0x40000));
    cr_expect_null(mm_vma_find(&s, 0xffff));
    cr_expect_eq(mm_vma_find_ge(&s, 0x5000), s.v[0]);
    cr_expect_null(mm_vma_find_ge(&s, 0x40000));
    cr_expect_eq(mm_vma_index(&s, 0x3ffff), 2);
    mm_vma_set_fini(&s);
}

Test(vma, split_carve_merge)
{
    struct mm_vma_set s;
    mm_vma_set_init(&s);
    uint64_t a = 0x100000;
    struct mm_vma *v = mkvma(a, a + 10 * PG, RW);
    struct mm_memobj *o = v->obj;
    mm_vma_insert(&s, v);

    cr_expect_eq(mm_vma_split(&s, a), 0, "at a boundary: nothing to do");
    cr_expect_eq(mm_vma_split(&s, a + 20 * PG), 0, "in a hole: nothing to do");
    cr_expect_eq(s.n, 1);

    size_t first, last;
    cr_assert_eq(mm_vma_carve(&s, a + 2 * PG, a + 5 * PG, &first, &last), 0);
    cr_assert_eq(s.n, 3);
    cr_expect_eq(first, 1);
    cr_expect_eq(last, 2);
    cr_expect_eq(s.v[1]->start, a + 2 * PG);
    cr_expect_eq(s.v[1]->end, a + 5 * PG);
    cr_expect_eq(s.v[1]->off, a + 2 * PG, "offsets follow the split");
    cr_expect_eq(s.v[2]->off, a + 5 * PG);
    cr_expect_eq(o->refs, 3);
    cr_expect(mm_vma_mergeable(s.v[0], s.v[1]));

    /* Different protections do not merge; the same again do. */
    s.v[1]->prot = R;
    cr_expect_not(mm_vma_mergeable(s.v[0], s.v[1]));
    cr_expect_not(mm_vma_mergeable(s.v[1], s.v[2]));
    s.v[1]->prot = RW;
    cr_assert(mm_vma_mergeable(s.v[1], s.v[2]));
    mm_vma_join(&s, 1);
    cr_assert(mm_vma_mergeable(s.v[0], s.v[1]));
    mm_vma_join(&s, 0);
    cr_expect_eq(s.n, 1);
    cr_expect_eq(s.v[0]->end, a + 10 * PG);
    cr_expect_eq(o->refs, 1);

    /* A carve over several VMAs and holes covers exactly those inside. */
    mm_vma_insert(&s, mkvma(a + 12 * PG, a + 14 * PG, R));
    cr_assert_eq(mm_vma_carve(&s, a + 8 * PG, a + 13 * PG, &first, &last), 0);
    cr_expect_eq(last - first, 2);
    cr_expect_eq(s.v[first]->start, a + 8 * PG);
    cr_expect_eq(s.v[last - 1]->end, a + 13 * PG);
    cr_expect_eq(s.n, 4);
    mm_vma_set_fini(&s);
}

Test(vma, merge_needs_same_object_contiguous_offsets_and_name)
{
    struct mm_vma_set s;
    mm_vma_set_init(&s);
    struct mm_vma *a = mkvma(0x100000, 0x101000, RW);
    struct mm_vma *b = mkvma(0x101000, 0x102000, RW);
    cr_expect_not(mm_vma_mergeable(a, b), "different objects");
    mm_vma_insert(&s, a);
    mm_vma_insert(&s, b);
    mm_vma_split(&s, 0x100800 & ~(PG - 1));
    struct mm_vma *c = mm_vma_new(0x102000, 0x103000, RW, 0, "[heap]", a->obj, a->off + 0x2000);
    mm_memobj_get(a->obj);
    struct mm_vma *d = mm_vma_new(0x103000, 0x104000, RW, 0, "[heap]", a->obj, a->off + 0x4000);
    mm_memobj_get(a->obj);
    cr_expect_not(mm_vma_mergeable(c, d), "offsets not contiguous");
    d->off = a->off + 0x3000;
    cr_expect(mm_vma_mergeable(c, d));
    d->flags = MM_VMA_GROWSDOWN;
    cr_expect_not(mm_vma_mergeable(c, d), "flags differ");
    free(d->name);
    d->name = NULL;
    d->flags = 0;
    cr_expect_not(mm_vma_mergeable(c, d), "names differ");
    mm_vma_free(c);
    mm_vma_free(d);
    mm_vma_set_fini(&s);
}

static struct mm_gap_req gap(uint64_t lo, uint64_t hi, uint64_t len, bool topdown)
{
    return (struct mm_gap_req){.lo = lo, .hi = hi, .len = len, .topdown = topdown, .guard = 0};
}

Test(vma, gap_search)
{
    struct mm_vma_set s;
    mm_vma_set_init(&s);
    mm_vma_insert(&s, mkvma(0x100000, 0x200000, R));
    mm_vma_insert(&s, mkvma(0x300000, 0x400000, R));
    uint64_t out = 0;

    struct mm_gap_req q = gap(0x10000, 0x500000, 0x100000, true);
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x400000, "highest fit, against hi");
    q.hi = 0x400000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x200000, "an exact fit between two VMAs");
    q.len = 0x100001;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), -ABI_ENOMEM, "one byte too long everywhere");
    q.len = 0xf0000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x210000, "top of the gap below 0x300000");

    /* A reserved range is an obstacle too. */
    struct platform_range res[] = {{0x200000, 0x280000}};
    q = gap(0x10000, 0x400000, 0x80000, true);
    q.reserved = res;
    q.nreserved = 1;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x280000);
    q.len = 0x100000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), -ABI_ENOMEM, "below 0x100000 only 0xf0000 left");
    q.lo = 0;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0);

    /* Bottom-up takes the lowest fit. */
    q = gap(0x10000, 0x500000, 0x100000, false);
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x200000);
    q.len = 0xf0000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x10000);
    q = gap(0x10000, 0x450000, 0x80000, false);
    q.lo = 0x350000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), -ABI_ENOMEM);
    q.hi = 0x480000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x400000);

    /* Degenerate requests. */
    q = gap(0x10000, 0x500000, 0, true);
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), -ABI_ENOMEM);
    q = gap(0x500000, 0x10000, PG, true);
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), -ABI_ENOMEM);
    mm_vma_set_fini(&s);
}

Test(vma, gap_search_keeps_guard_below_growsdown)
{
    struct mm_vma_set s;
    mm_vma_set_init(&s);
    struct mm_vma *stack = mkvma(0x800000, 0x900000, RW);
    stack->flags = MM_VMA_GROWSDOWN;
    mm_vma_insert(&s, stack);
    uint64_t out;
    struct mm_gap_req q = gap(0x10000, 0x800000, 0x10000, true);
    q.guard = 0x100000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x700000 - 0x10000, "kept a guard gap's distance");
    cr_expect_not(mm_vma_range_free(&s, &q, 0x7f0000));
    cr_expect(mm_vma_range_free(&s, &q, 0x6f0000));
    q.guard = 0;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x7f0000);
    /* Bottom-up must also stop short of the guard. */
    q = gap(0x6f8000, 0x1000000, 0x10000, false);
    q.guard = 0x100000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x900000);
    /* As Linux's vm_start_gap, the guard only keeps the gap right below
     * the stack: below a mapping inside the guard, it no longer counts. */
    mm_vma_insert(&s, mkvma(0x780000, 0x790000, R));
    q = gap(0x10000, 0x800000, 0x10000, true);
    q.guard = 0x100000;
    q.hi = 0x780000;
    cr_expect_eq(mm_vma_find_gap(&s, &q, &out), 0);
    cr_expect_eq(out, 0x770000);
    mm_vma_set_fini(&s);
}

/* ================= address spaces: mmap ================= */

TestSuite(mm, .init = setup, .fini = teardown);

Test(mm, null_platform_layout)
{
    cr_expect_eq(mm_max_addr(mm), 0x7e0000000000ULL);
    int64_t a = map(0, PG, R, ANON);
    cr_assert_geq(a, 0);
    cr_expect_eq((uint64_t)a, 0x7e0000000000ULL - 128 * MB - PG, "top-down below mmap_base");
    mm_set_mmap_base(mm, 0x40000000);
    int64_t b = map(0, PG, R, ANON);
    cr_expect_eq(b, 0x40000000 - (int64_t)PG);
    mm_munmap(mm, (uint64_t)a, PG);
    mm_munmap(mm, (uint64_t)b, PG);
}

/* Each VMA costs the Sentry memory: like Linux's vm.max_map_count, the
 * count is bounded, and calls that would split past it fail. */
Test(mm, vma_count_is_bounded)
{
    size_t n = 0;
    int64_t r = 0;
    /* Alternating protections keep every page its own VMA. */
    for (uint64_t a = A0;; a += PG, n++) {
        r = map(a, PG, n % 2 ? R : RW, ANON | ABI_MAP_FIXED);
        if (r < 0)
            break;
        cr_assert_lt(n, (size_t)MM_VMA_MAX, "no bound on VMAs");
    }
    cr_expect_eq(r, -ABI_ENOMEM);
    cr_expect_eq(map(0, PG, R, ANON), -ABI_ENOMEM, "a search too");
    /* At the bound, munmap and mprotect cannot split a VMA either. */
    uint64_t big = A0 + (uint64_t)n * PG + 64 * PG;
    cr_expect_eq(mm_munmap(mm, A0, PG), 0);
    cr_assert_eq(map(big, 4 * PG, RW, ANON | ABI_MAP_FIXED), (int64_t)big);
    cr_expect_eq(mm_munmap(mm, big + PG, PG), -ABI_ENOMEM);
    cr_expect_eq(mm_mprotect(mm, big + PG, PG, R), -ABI_ENOMEM);
    cr_expect_eq(mm_munmap(mm, big, 4 * PG), 0, "whole VMAs still go");
    cr_expect_eq(mm_munmap(mm, A0, (uint64_t)n * PG), 0);
}

Test(mm, mmap_errnos)
{
    cr_expect_eq(map(0, 0, RW, ANON), -ABI_EINVAL, "len 0");
    cr_expect_eq(map(0, PG, RW, ABI_MAP_ANONYMOUS), -ABI_EINVAL, "no type");
    cr_expect_eq(map(0, PG, RW, ABI_MAP_ANONYMOUS | 4), -ABI_EINVAL, "unknown type");
    cr_expect_eq(map(0, PG, RW, ABI_MAP_ANONYMOUS | ABI_MAP_SHARED_VALIDATE), -ABI_EINVAL,
                 "SHARED_VALIDATE is for files only");
    cr_expect_eq(map(0, PG, RW, ABI_MAP_SHARED_VALIDATE | 0x800000), -ABI_EOPNOTSUPP);
    cr_expect_eq(map(A0, PG, RW, ABI_MAP_SHARED_VALIDATE | ABI_MAP_FIXED_NOREPLACE),
                 -ABI_EOPNOTSUPP);
    cr_expect_eq(map(0, PG, RW, ABI_MAP_SHARED_VALIDATE | ABI_MAP_POPULATE), -ABI_ENODEV);
    cr_expect_eq(map(0, PG, RW, ABI_MAP_PRIVATE), -ABI_ENODEV, "file mappings: not yet");
    cr_expect_eq(map(0, PG, RW, 4), -ABI_EINVAL);
    cr_expect_eq(map(A0 + 1, PG, RW, ANON | ABI_MAP_FIXED), -ABI_EINVAL, "unaligned fixed");
    cr_expect_eq(map(0, 1ULL << 62, RW, ANON), -ABI_ENOMEM);
    cr_expect_eq(map(0, (uint64_t)-4095, RW, ANON), -ABI_ENOMEM, "length wraps when rounded");
    cr_expect_eq(map(0, 1ULL << 62, RW, ABI_MAP_ANONYMOUS), -ABI_ENOMEM, "size checked first");
    cr_expect_eq(map(A0 + 1, PG, RW, ABI_MAP_ANONYMOUS | ABI_MAP_FIXED), -ABI_EINVAL);
    cr_expect_eq(map(0, PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS | ABI_MAP_GROWSDOWN),
                 -ABI_EINVAL);
    cr_expect_eq(mm_mmap(mm, 0, PG, RW, ANON, -1, 5), -ABI_EINVAL, "unaligned offset");
    uint64_t max = mm_max_addr(mm);
    cr_expect_eq(map(max - PG, 2 * PG, RW, ANON | ABI_MAP_FIXED), -ABI_ENOMEM);
    cr_expect_eq(map(max, PG, RW, ANON | ABI_MAP_FIXED), -ABI_ENOMEM);
    cr_expect_eq(map(0x1000, PG, RW, ANON | ABI_MAP_FIXED), -ABI_EPERM, "below mmap_min_addr");
    cr_expect_eq(map(0, PG, RW, ANON | ABI_MAP_FIXED), -ABI_EPERM);
    cr_expect_eq(map(0, 2 * MB, RW, ANON | ABI_MAP_HUGETLB), -ABI_ENOMEM);
    cr_expect_eq(vmas().n, 0, "no failure left a mapping behind");

    cr_assert_eq(map(A0, 2 * PG, RW, ANON | ABI_MAP_FIXED), (int64_t)A0);
    cr_expect_eq(map(A0 + PG, 2 * PG, RW, ANON | ABI_MAP_FIXED_NOREPLACE), -ABI_EEXIST);
    cr_expect_eq(map(A0 - PG, PG, RW, ANON | ABI_MAP_FIXED_NOREPLACE), (int64_t)(A0 - PG));
    cr_expect_eq(map(A0 + 3 * PG + 1, PG, RW, ANON | ABI_MAP_FIXED_NOREPLACE), -ABI_EINVAL);
    /* Unknown protection bits are ignored by mmap (not by mprotect). */
    int64_t p = map(0, PG, 0x103, ANON);
    cr_assert_geq(p, 0);
    cr_expect_eq(vma_at((uint64_t)p).prot, RW);
    int64_t g = map(0, PG, R | ABI_PROT_GROWSDOWN, ANON);
    cr_assert_geq(g, 0);
    cr_expect_eq(vma_at((uint64_t)g).prot, R);
    /* Unknown flags are ignored for MAP_PRIVATE and MAP_SHARED. */
    int64_t u = map(0, PG, RW, ANON | 0x800000);
    cr_expect_geq(u, 0);
    mm_munmap(mm, A0 - PG, 3 * PG);
    mm_munmap(mm, (uint64_t)p, PG);
    mm_munmap(mm, (uint64_t)g, PG);
    mm_munmap(mm, (uint64_t)u, PG);
}

Test(mm, mmap_hints)
{
    cr_expect_eq(map(A0, PG, RW, ANON), (int64_t)A0, "a free hint is honoured");
    cr_expect_eq(map(A0 + 0x10123, PG, RW, ANON), (int64_t)(A0 + 0x10000), "rounded down");
    int64_t o = map(A0, PG, RW, ANON);
    cr_assert_geq(o, 0);
    cr_expect_neq(o, (int64_t)A0, "occupied hint: placed elsewhere");
    cr_expect(vma_at((uint64_t)o).start == (uint64_t)o);
    cr_expect_eq(map(0x1000, PG, RW, ANON), 0x10000, "raised to mmap_min_addr");
    int64_t h = map(0x800000000000ULL, PG, RW, ANON);
    cr_expect_lt((uint64_t)h, mm_max_addr(mm), "a hint beyond the top is ignored");
    /* A hint within a stack's guard gap is refused. */
    uint64_t stack = 0x20000000;
    cr_assert_eq(mm_map_fixed(mm, stack, 16 * PG, RW, MM_VMA_GROWSDOWN, "[stack]"), stack);
    int64_t near = map(stack - 64 * KB, PG, RW, ANON);
    cr_expect_neq(near, (int64_t)(stack - 64 * KB));
    int64_t far = map(stack - 2 * MB, PG, RW, ANON);
    cr_expect_eq(far, (int64_t)(stack - 2 * MB));
    /* MAP_32BIT goes into the second GiB. */
    int64_t b32 = map(0, PG, RW, ANON | ABI_MAP_32BIT);
    cr_expect_geq(b32, 0x40000000);
    cr_expect_lt(b32, 0x80000000);
    uint64_t all[] = {A0,          A0 + 0x10000,   (uint64_t)o,   0x10000,
                      (uint64_t)h, (uint64_t)near, (uint64_t)far, (uint64_t)b32};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        mm_munmap(mm, all[i], PG);
    mm_munmap(mm, stack, 16 * PG);
}

Test(mm, topdown_neighbours_merge_but_keep_contents)
{
    int64_t a[3];
    for (int i = 0; i < 3; i++) {
        a[i] = map(0, PG, RW, ANON);
        cr_assert_geq(a[i], 0);
        if (i)
            cr_expect_eq(a[i], a[i - 1] - (int64_t)PG, "placed right below the last one");
        poke((uint64_t)a[i], (unsigned char)(10 + i));
    }
    struct vlist l = vmas();
    cr_expect_eq(l.n, 1, "anonymous neighbours merge, as on Linux");
    for (int i = 0; i < 3; i++)
        cr_expect_eq(peek((uint64_t)a[i]), 10 + i);
    /* Unmapping the middle splits them again and frees only that page. */
    cr_expect_eq(mm_munmap(mm, (uint64_t)a[1], PG), 0);
    cr_expect_eq(vmas().n, 2);
    cr_expect_eq(peek((uint64_t)a[1]), -ABI_EFAULT);
    cr_expect_eq(peek((uint64_t)a[0]), 10);
    cr_expect_eq(peek((uint64_t)a[2]), 12);
    /* Mapping it again reads zero, not the old contents. */
    cr_expect_eq(map((uint64_t)a[1], PG, RW, ANON | ABI_MAP_FIXED), a[1]);
    cr_expect_eq(peek((uint64_t)a[1]), 0);
    cr_expect_eq(vmas().n, 1, "refilling the hole joins the pieces again");
    cr_expect_eq(peek((uint64_t)a[0]), 10);
    cr_expect_eq(peek((uint64_t)a[2]), 12);
    cr_expect_eq(mm_munmap(mm, (uint64_t)a[2], 3 * PG), 0);
    cr_expect_eq(vmas().n, 0);
}

Test(mm, merging_follows_linux_anon_vma_rules)
{
    /* A neighbour written before gets a fresh mapping's offsets: merged. */
    map(A0, 2 * PG, RW, ANON | ABI_MAP_FIXED);
    poke(A0, 1);
    map(A0 + 2 * PG, 2 * PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(vmas().n, 1);
    cr_expect_eq(peek(A0), 1);
    cr_expect_eq(peek(A0 + 2 * PG), 0);

    /* Different protections: two VMAs. The first write to the second picks
     * up its neighbour's object (Linux reuses the anon_vma), so making the
     * protections equal merges them, contents intact. */
    map(A0 + 8 * PG, 2 * PG, RW, ANON | ABI_MAP_FIXED);
    poke(A0 + 8 * PG, 3);
    map(A0 + 10 * PG, 2 * PG, R, ANON | ABI_MAP_FIXED);
    cr_expect_eq(peek(A0 + 10 * PG), 0, "a read does not count as a write");
    poke(A0 + 11 * PG, 4);
    cr_expect_eq(vma_at(A0 + 10 * PG).start, A0 + 10 * PG);
    cr_expect_eq(mm_mprotect(mm, A0 + 10 * PG, 2 * PG, RW), 0);
    cr_expect_eq(vma_at(A0 + 8 * PG).end, A0 + 12 * PG, "merged once alike");
    cr_expect_eq(peek(A0 + 8 * PG), 3);
    cr_expect_eq(peek(A0 + 11 * PG), 4);

    /* Two mappings written apart and moved together: page offsets do not
     * line up, so they stay two VMAs, as on Linux. */
    uint64_t F = 0x30000000;
    map(F, PG, RW, ANON | ABI_MAP_FIXED);
    poke(F, 5);
    cr_expect_eq(mm_mremap(mm, F, PG, PG, ABI_MREMAP_FIXED | ABI_MREMAP_MAYMOVE, A0 + 12 * PG),
                 (int64_t)(A0 + 12 * PG));
    cr_expect_eq(vma_at(A0 + 12 * PG).start, A0 + 12 * PG);
    cr_expect_eq(mm_mremap(mm, A0 + 8 * PG, 5 * PG, 6 * PG, 0, 0), -ABI_EFAULT,
                 "the moved page is another VMA");
    cr_expect_eq(peek(A0 + 12 * PG), 5);
    /* Moving it back where its offsets belong lets it merge again. */
    cr_expect_eq(mm_mremap(mm, A0 + 12 * PG, PG, PG, ABI_MREMAP_FIXED | ABI_MREMAP_MAYMOVE, F),
                 (int64_t)F);
    map(F + PG, PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(vma_at(F).end, F + 2 * PG);
    mm_munmap(mm, A0, 12 * PG);
    mm_munmap(mm, F, 2 * PG);
}

Test(mm, refilled_hole_rejoins_even_with_more_pieces)
{
    map(A0, 8 * PG, RW, ANON | ABI_MAP_FIXED);
    for (int i = 0; i < 8; i++)
        poke(A0 + i * PG, (unsigned char)(i + 1));
    cr_expect_eq(mm_mprotect(mm, A0, PG, R), 0);
    cr_expect_eq(mm_munmap(mm, A0 + 4 * PG, PG), 0);
    cr_expect_eq(vmas().n, 3, "three pieces of one object");
    cr_expect_eq(map(A0 + 4 * PG, PG, RW, ANON | ABI_MAP_FIXED), (int64_t)(A0 + 4 * PG));
    cr_expect_eq(vmas().n, 2, "the refill joined both RW neighbours");
    cr_expect_eq(peek(A0 + 4 * PG), 0);
    cr_expect_eq(peek(A0 + 5 * PG), 6);
    cr_expect_eq(peek(A0 + 3 * PG), 4);
    cr_expect_eq(mm_mprotect(mm, A0, PG, RW), 0);
    cr_expect_eq(vmas().n, 1);
    mm_munmap(mm, A0, 8 * PG);
}

Test(mm, fixed_replaces_contents)
{
    cr_assert_eq(map(A0, 4 * PG, RW, ANON | ABI_MAP_FIXED), (int64_t)A0);
    for (int i = 0; i < 4; i++)
        poke(A0 + i * PG, (unsigned char)(1 + i));
    cr_expect_eq(map(A0 + PG, 2 * PG, R, ANON | ABI_MAP_FIXED), (int64_t)(A0 + PG));
    cr_expect_eq(peek(A0), 1);
    cr_expect_eq(peek(A0 + PG), 0);
    cr_expect_eq(peek(A0 + 2 * PG), 0);
    cr_expect_eq(peek(A0 + 3 * PG), 4);
    cr_expect_eq(vma_at(A0 + PG).prot, R);
    cr_expect_eq(vma_at(A0).prot, RW);
    mm_munmap(mm, A0, 4 * PG);
}

Test(mm, shared_anonymous_mappings)
{
    int64_t s = map(0, 2 * PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS);
    cr_assert_geq(s, 0);
    cr_expect(vma_at((uint64_t)s).flags & MM_VMA_SHARED);
    poke((uint64_t)s + 5, 77);
    cr_expect_eq(peek((uint64_t)s + 5), 77);
    /* Two shared mappings are separate objects: never merged together. */
    int64_t t = map(0, PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS);
    cr_expect_eq(t, s - (int64_t)PG);
    cr_expect_eq(vmas().n, 2);
    cr_expect_eq(peek((uint64_t)t), 0);
    mm_munmap(mm, (uint64_t)t, 3 * PG);
}

Test(mm, shared_memory_ends_where_mmap_ended)
{
    int64_t s = map(A0, PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS | ABI_MAP_FIXED);
    cr_assert_eq(s, (int64_t)A0);
    cr_expect_eq(mm_mremap(mm, A0, PG, 3 * PG, 0, 0), (int64_t)A0, "grows in place");
    poke(A0, 1);
    unsigned char b = 2;
    cr_expect_eq(mm_copy_out(mm, A0 + PG, &b, 1), -ABI_EFAULT, "past the shared size");
    cr_expect_eq(mm_copy_out(mm, A0 + PG - 1, "ab", 2), -ABI_EFAULT);
    int code = 0;
    cr_expect_eq(mm_handle_fault(mm, A0 + 2 * PG, false, false, &code), -ABI_EIO);
    cr_expect_eq(code, ABI_BUS_ADRERR, "SIGBUS, as on Linux");
    cr_expect_eq(mm_madvise(mm, A0, 3 * PG, ABI_MADV_POPULATE_WRITE), -ABI_EFAULT);
    int64_t d = mm_mremap(mm, A0, 0, 2 * PG, ABI_MREMAP_MAYMOVE, 0);
    cr_assert_geq(d, 0);
    cr_expect_eq(peek((uint64_t)d), 1);
    cr_expect_eq(peek((uint64_t)d + PG), -ABI_EFAULT);
    mm_munmap(mm, A0, 3 * PG);
    mm_munmap(mm, (uint64_t)d, 2 * PG);
}

Test(mm, overcommit_refuses_what_could_never_be_backed)
{
    /* The test memory file holds 1 GiB: like Linux's heuristic overcommit
     * on a machine that size, one bigger request for charged memory fails. */
    uint64_t big = 2ULL << 30;
    cr_expect_eq(map(0, big, RW, ANON), -ABI_ENOMEM);
    cr_expect_eq(map(0, big, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS), -ABI_ENOMEM);
    cr_expect_eq(map(0, big, R, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS), -ABI_ENOMEM,
                 "shared memory is charged whatever its protections");
    int64_t r = map(0, big, R, ANON);
    cr_expect_geq(r, 0, "read-only private memory is not charged");
    int64_t n = map(0, big, RW, ANON | ABI_MAP_NORESERVE);
    cr_expect_geq(n, 0, "MAP_NORESERVE is not charged");
    cr_expect_eq(mm_mprotect(mm, (uint64_t)r, big, RW), -ABI_ENOMEM);
    cr_expect_eq(vma_at((uint64_t)r).prot, R);
    cr_expect_eq(mm_mprotect(mm, (uint64_t)r, PG, RW), 0, "a page is fine");

    map(A0, PG, RW, ANON | ABI_MAP_FIXED);
    poke(A0, 7);
    cr_expect_eq(map(A0, big, RW, ANON | ABI_MAP_FIXED), -ABI_ENOMEM);
    cr_expect_eq(peek(A0), 7, "a refused MAP_FIXED leaves the old mapping");
    cr_expect_eq(mm_mremap(mm, A0, PG, big, ABI_MREMAP_MAYMOVE, 0), -ABI_ENOMEM);
    cr_expect_geq(mm_mremap(mm, (uint64_t)n, PG, big + PG, ABI_MREMAP_MAYMOVE, 0), 0);

    mm_set_brk_start(mm, 0x600000);
    cr_expect_eq(mm_brk(mm, 0x600000 + big), 0x600000);
    cr_expect_eq(mm_brk(mm, 0x600000 + MB), 0x600000 + (int64_t)MB);
    mm_brk(mm, 0x600000);
    mm_munmap(mm, A0, PG);
    mm_munmap(mm, (uint64_t)r, big);
    struct vlist l = vmas();
    for (int i = 0; i < l.n; i++)
        mm_munmap(mm, l.v[i].start, l.v[i].end - l.v[i].start);
}

Test(mm, populate_allocates_up_front)
{
    int64_t a = map(0, 4 * PG, RW, ANON | ABI_MAP_POPULATE);
    cr_assert_geq(a, 0);
    cr_expect_eq(mm_memfile_used(mf), MM_CHUNK_SIZE);
    int64_t n = map(0, 4 * PG, ABI_PROT_NONE, ANON | ABI_MAP_POPULATE);
    cr_expect_eq(mm_memfile_used(mf), MM_CHUNK_SIZE, "PROT_NONE is not populated");
    mm_munmap(mm, (uint64_t)a, 4 * PG);
    mm_munmap(mm, (uint64_t)n, 4 * PG);
}

/* ================= munmap, mprotect ================= */

Test(mm, munmap)
{
    cr_expect_eq(mm_munmap(mm, A0, 0), -ABI_EINVAL);
    cr_expect_eq(mm_munmap(mm, A0 + 1, PG), -ABI_EINVAL);
    cr_expect_eq(mm_munmap(mm, 0x800000000000ULL, PG), -ABI_EINVAL);
    cr_expect_eq(mm_munmap(mm, A0, 1ULL << 62), -ABI_EINVAL);
    cr_expect_eq(mm_munmap(mm, A0, (uint64_t)-1), -ABI_EINVAL);
    cr_expect_eq(mm_munmap(mm, A0, PG), 0, "a hole is fine");
    cr_expect_eq(mm_munmap(mm, 0x7f0000000000ULL, PG), 0, "above max_addr, below TASK_SIZE");

    map(A0, 2 * PG, RW, ANON | ABI_MAP_FIXED);
    map(A0 + 4 * PG, 4 * PG, R, ANON | ABI_MAP_FIXED);
    poke(A0 + 7 * PG, 3);
    cr_expect_eq(mm_munmap(mm, A0 + PG, 6 * PG), 0, "across VMAs and a hole");
    struct vlist l = vmas();
    cr_assert_eq(l.n, 2);
    cr_expect_eq(l.v[0].start, A0);
    cr_expect_eq(l.v[0].end, A0 + PG);
    cr_expect_eq(l.v[1].start, A0 + 7 * PG);
    cr_expect_eq(l.v[1].end, A0 + 8 * PG);
    cr_expect_eq(peek(A0 + 7 * PG), 3);
    cr_expect_eq(mm_munmap(mm, A0, 8 * PG + 1), 0, "length rounds up");
    cr_expect_eq(vmas().n, 0);
}

Test(mm, mprotect_errnos_and_holes)
{
    cr_expect_eq(mm_mprotect(mm, A0 + 1, PG, R), -ABI_EINVAL);
    cr_expect_eq(mm_mprotect(mm, A0, 0, R), 0, "len 0, even unmapped");
    cr_expect_eq(mm_mprotect(mm, A0, 0, 0x10), 0, "len 0 is checked before prot");
    cr_expect_eq(mm_mprotect(mm, A0, PG, 0x10), -ABI_EINVAL, "unknown bit");
    cr_expect_eq(mm_mprotect(mm, A0, PG, R), -ABI_ENOMEM, "unmapped");
    cr_expect_eq(mm_mprotect(mm, A0, (uint64_t)-8192, R), -ABI_ENOMEM, "wraps");
    cr_expect_eq(mm_mprotect(mm, A0, PG, R | ABI_PROT_GROWSDOWN | ABI_PROT_GROWSUP), -ABI_EINVAL);
    cr_expect_eq(mm_mprotect(mm, A0, PG, R | ABI_PROT_GROWSDOWN), -ABI_ENOMEM);

    map(A0, PG, RW, ANON | ABI_MAP_FIXED);
    map(A0 + 2 * PG, PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_mprotect(mm, A0, PG, R | ABI_PROT_SEM), 0, "PROT_SEM is accepted");
    cr_expect_eq(vma_at(A0).prot, R);
    cr_expect_eq(mm_mprotect(mm, A0, PG, R | ABI_PROT_GROWSDOWN), -ABI_EINVAL, "not a stack");
    cr_expect_eq(mm_mprotect(mm, A0, PG, R | ABI_PROT_GROWSUP), -ABI_EINVAL);
    /* Like Linux: the VMA before the hole is changed, then ENOMEM. */
    cr_expect_eq(mm_mprotect(mm, A0, 3 * PG, ABI_PROT_NONE), -ABI_ENOMEM);
    cr_expect_eq(vma_at(A0).prot, ABI_PROT_NONE);
    cr_expect_eq(vma_at(A0 + 2 * PG).prot, RW);
    cr_expect_eq(peek(A0), -ABI_EFAULT, "PROT_NONE cannot be read");
    mm_munmap(mm, A0, 3 * PG);
}

Test(mm, mprotect_splits_and_merges)
{
    map(A0, 4 * PG, RW, ANON | ABI_MAP_FIXED);
    poke(A0 + PG, 5);
    cr_expect_eq(mm_mprotect(mm, A0 + PG, 2 * PG, R), 0);
    struct vlist l = vmas();
    cr_assert_eq(l.n, 3);
    cr_expect_eq(l.v[1].start, A0 + PG);
    cr_expect_eq(l.v[1].end, A0 + 3 * PG);
    cr_expect_eq(l.v[1].prot, R);
    unsigned char b = 1;
    cr_expect_eq(mm_copy_out(mm, A0 + PG, &b, 1), -ABI_EFAULT);
    cr_expect_eq(peek(A0 + PG), 5, "contents survive the split");
    cr_expect_eq(mm_mprotect(mm, A0, 4 * PG, RW), 0);
    cr_expect_eq(vmas().n, 1, "merged back");
    cr_expect_eq(peek(A0 + PG), 5);
    mm_munmap(mm, A0, 4 * PG);
}

Test(mm, mprotect_growsdown_extends_to_vma_start)
{
    uint64_t s = 0x20000000;
    cr_assert_eq(map(s, 3 * PG, RW, ANON | ABI_MAP_FIXED | ABI_MAP_GROWSDOWN), (int64_t)s);
    cr_expect(vma_at(s).flags & MM_VMA_GROWSDOWN);
    cr_expect_eq(mm_mprotect(mm, s + PG, PG, R | ABI_PROT_GROWSDOWN), 0);
    cr_expect_eq(vma_at(s).prot, R);
    cr_expect_eq(vma_at(s).end, s + 2 * PG);
    cr_expect_eq(vma_at(s + 2 * PG).prot, RW);
    mm_munmap(mm, s, 3 * PG);
}

/* ================= mremap ================= */

Test(mm, mremap_errnos)
{
    int64_t s = map(0, 2 * PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS);
    map(A0, 2 * PG, RW, ANON | ABI_MAP_FIXED);
    map(A0 + 0x100000, PG, RW, ANON | ABI_MAP_FIXED);
    map(A0 + 0x101000, PG, R, ANON | ABI_MAP_FIXED);
    uint64_t B = A0 + 0x100000;
    uint64_t far = 0x30000000;
    const int MV = ABI_MREMAP_MAYMOVE, FX = ABI_MREMAP_FIXED, DU = ABI_MREMAP_DONTUNMAP;

    cr_expect_eq(mm_mremap(mm, A0, PG, 2 * PG, 8, 0), -ABI_EINVAL, "unknown flag");
    cr_expect_eq(mm_mremap(mm, A0, PG, 2 * PG, FX, far), -ABI_EINVAL, "FIXED needs MAYMOVE");
    cr_expect_eq(mm_mremap(mm, A0, PG, PG, DU, 0), -ABI_EINVAL, "DONTUNMAP needs MAYMOVE");
    cr_expect_eq(mm_mremap(mm, A0, PG, 2 * PG, DU | MV, 0), -ABI_EINVAL, "DONTUNMAP resizing");
    cr_expect_eq(mm_mremap(mm, A0 + 1, PG, 2 * PG, 0, 0), -ABI_EINVAL);
    cr_expect_eq(mm_mremap(mm, A0, PG, 0, 0, 0), -ABI_EINVAL, "new_len 0");
    cr_expect_eq(mm_mremap(mm, A0, PG, (uint64_t)-1, MV, 0), -ABI_EINVAL, "rounds to 0");
    cr_expect_eq(mm_mremap(mm, A0, PG, 1ULL << 62, MV, 0), -ABI_EINVAL, "beyond TASK_SIZE");
    cr_expect_eq(mm_mremap(mm, A0, PG, 1ULL << 62, 0, 0), -ABI_EINVAL);
    cr_expect_eq(mm_mremap(mm, A0, PG, 0x7f0000000000ULL, MV, 0), -ABI_ENOMEM, "no room");
    cr_expect_eq(mm_mremap(mm, far, PG, 2 * PG, MV, 0), -ABI_EFAULT, "unmapped, growing");
    cr_expect_eq(mm_mremap(mm, far, 2 * PG, PG, 0, 0), -ABI_EFAULT, "unmapped, shrinking");
    cr_expect_eq(mm_mremap(mm, far, 2 * PG, 2 * PG, 0, 0), -ABI_EFAULT, "unmapped, same size");
    cr_expect_eq(mm_mremap(mm, far, 0, 2 * PG, MV, 0), -ABI_EFAULT);
    cr_expect_eq(mm_mremap(mm, A0, 0, 2 * PG, MV, 0), -ABI_EINVAL, "duplicating private");
    cr_expect_eq(mm_mremap(mm, (uint64_t)s, 0, 2 * PG, 0, 0), -ABI_ENOMEM,
                 "duplicating needs MAYMOVE");
    cr_expect_eq(mm_mremap(mm, B, 2 * PG, 3 * PG, MV, 0), -ABI_EFAULT, "across VMAs");
    cr_expect_eq(mm_mremap(mm, B, 2 * PG, 2 * PG, 0, 0), (int64_t)B, "same size: nothing to do");
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, 2 * PG, FX | MV, A0 + PG), -ABI_EINVAL, "overlap");
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, 2 * PG, FX | MV, far + 1), -ABI_EINVAL);
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, 2 * PG, FX | MV, 0x7ffffffff000ULL), -ABI_EINVAL);
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, 2 * PG, FX | MV, A0), -ABI_EINVAL, "onto itself");
    cr_expect_eq(mm_mremap(mm, A0, PG, PG, DU | MV, A0), -ABI_EINVAL, "hint overlaps");
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, 2 * PG, FX | MV, 0x1000), -ABI_EPERM);
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, 2 * PG, FX | MV, mm_max_addr(mm)), -ABI_ENOMEM);
    cr_expect_eq(mm_mremap(mm, A0, (uint64_t)-4096, 3 * PG, 0, 0), -ABI_EINVAL,
                 "old_len runs off the address space");
    cr_expect_eq(mm_mremap(mm, B, PG, 3 * PG, 0, 0), -ABI_ENOMEM, "no room, no MAYMOVE");
    /* Shrinking may cross VMA boundaries; same size returns the address. */
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, 2 * PG, 0, 0), (int64_t)A0);
    cr_expect_eq(mm_mremap(mm, B, 2 * PG, PG, 0, 0), (int64_t)B);
    cr_expect_eq(vma_at(B + PG).end, 0, "the second VMA went with the tail");
    mm_munmap(mm, A0, 2 * PG);
    mm_munmap(mm, B, PG);
    mm_munmap(mm, (uint64_t)s, 2 * PG);
}

Test(mm, mremap_shrink_and_grow_in_place)
{
    map(A0, 4 * PG, RW, ANON | ABI_MAP_FIXED);
    for (int i = 0; i < 4; i++)
        poke(A0 + i * PG, (unsigned char)(1 + i));
    cr_expect_eq(mm_mremap(mm, A0, 4 * PG, 2 * PG, 0, 0), (int64_t)A0);
    cr_expect_eq(peek(A0 + PG), 2);
    cr_expect_eq(peek(A0 + 2 * PG), -ABI_EFAULT);
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, 5 * PG, 0, 0), (int64_t)A0, "grows in place");
    cr_expect_eq(vmas().n, 1);
    cr_expect_eq(peek(A0 + PG), 2);
    cr_expect_eq(peek(A0 + 2 * PG), 0, "grown memory is zero, not the old contents");
    cr_expect_eq(peek(A0 + 3 * PG), 0);
    cr_expect_eq(peek(A0 + 4 * PG), 0);
    mm_munmap(mm, A0, 5 * PG);
}

Test(mm, mremap_move_keeps_contents_without_copying)
{
    map(A0, 2 * PG, RW, ANON | ABI_MAP_FIXED);
    map(A0 + 2 * PG, PG, R, ANON | ABI_MAP_FIXED); /* blocks growth in place */
    unsigned char data[2 * PG];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7);
    cr_assert_eq(mm_copy_out(mm, A0, data, sizeof(data)), 0);
    uint64_t used = mm_memfile_used(mf);
    int64_t n = mm_mremap(mm, A0, 2 * PG, 4 * PG, ABI_MREMAP_MAYMOVE, 0);
    cr_assert_geq(n, 0);
    cr_expect_neq(n, (int64_t)A0);
    cr_expect_eq(mm_memfile_used(mf), used, "moved by reference, not copied");
    unsigned char got[2 * PG];
    cr_assert_eq(mm_copy_in(mm, got, (uint64_t)n, sizeof(got)), 0);
    cr_expect_eq(memcmp(got, data, sizeof(got)), 0);
    cr_expect_eq(peek((uint64_t)n + 3 * PG), 0);
    cr_expect_eq(peek(A0), -ABI_EFAULT, "the old range is gone");
    cr_expect_eq(vma_at((uint64_t)n).end, (uint64_t)n + 4 * PG);
    cr_expect_eq(vma_at((uint64_t)n).prot, RW);
    mm_munmap(mm, (uint64_t)n, 4 * PG);
    mm_munmap(mm, A0 + 2 * PG, PG);
}

Test(mm, mremap_move_piece_then_grow_gets_fresh_memory)
{
    map(A0, 8 * PG, RW, ANON | ABI_MAP_FIXED);
    for (int i = 0; i < 8; i++)
        poke(A0 + i * PG, (unsigned char)(0x40 + i));
    /* Pages 2-3 move and grow to 4 pages: the growth must not show pages 4-5,
     * which share the object's next offsets but stay where they are. */
    int64_t n = mm_mremap(mm, A0 + 2 * PG, 2 * PG, 4 * PG, ABI_MREMAP_MAYMOVE, 0);
    cr_assert_geq(n, 0);
    cr_expect_eq(peek((uint64_t)n), 0x42);
    cr_expect_eq(peek((uint64_t)n + PG), 0x43);
    cr_expect_eq(peek((uint64_t)n + 2 * PG), 0);
    cr_expect_eq(peek((uint64_t)n + 3 * PG), 0);
    poke((uint64_t)n + 2 * PG, 0x99);
    cr_expect_eq(peek(A0 + 4 * PG), 0x44);
    cr_expect_eq(peek(A0 + 1 * PG), 0x41);
    cr_expect_eq(peek(A0 + 2 * PG), -ABI_EFAULT);
    mm_munmap(mm, A0, 8 * PG);
    mm_munmap(mm, (uint64_t)n, 4 * PG);
}

Test(mm, mremap_fixed_dontunmap_and_duplicate)
{
    uint64_t T = 0x30000000;
    map(A0, 2 * PG, RW, ANON | ABI_MAP_FIXED);
    map(T, 4 * PG, RW, ANON | ABI_MAP_FIXED);
    poke(T, 5);
    poke(T + PG, 6);
    poke(A0, 1);
    poke(A0 + PG, 2);
    cr_expect_eq(mm_mremap(mm, A0, 2 * PG, PG, ABI_MREMAP_FIXED | ABI_MREMAP_MAYMOVE, T),
                 (int64_t)T, "shrink and move over an existing mapping");
    cr_expect_eq(peek(T), 1, "the moved page replaced the target's");
    cr_expect_eq(peek(T + PG), 6, "beyond new_len the target stays");
    cr_expect_eq(peek(A0), -ABI_EFAULT);
    cr_expect_eq(peek(A0 + PG), -ABI_EFAULT);

    /* DONTUNMAP, private: the pages move; the old range stays, zero-filled. */
    int64_t d = mm_mremap(mm, T, PG, PG, ABI_MREMAP_DONTUNMAP | ABI_MREMAP_MAYMOVE, 0);
    cr_assert_geq(d, 0);
    cr_expect_eq(peek((uint64_t)d), 1);
    cr_expect_eq(peek(T), 0);
    poke(T, 3);
    cr_expect_eq(peek((uint64_t)d), 1);

    /* DONTUNMAP, shared: both ranges map the same memory. */
    int64_t s = map(0, PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS);
    poke((uint64_t)s, 9);
    int64_t s2 = mm_mremap(mm, (uint64_t)s, PG, PG, ABI_MREMAP_DONTUNMAP | ABI_MREMAP_MAYMOVE, 0);
    cr_assert_geq(s2, 0);
    cr_expect_eq(peek((uint64_t)s2), 9);
    poke((uint64_t)s2, 10);
    cr_expect_eq(peek((uint64_t)s), 10);

    /* old_len 0 duplicates a shared mapping. */
    int64_t s3 = mm_mremap(mm, (uint64_t)s, 0, 2 * PG, ABI_MREMAP_MAYMOVE, 0);
    cr_assert_geq(s3, 0);
    cr_expect_eq(peek((uint64_t)s3), 10);
    poke((uint64_t)s3 + 1, 11);
    cr_expect_eq(peek((uint64_t)s + 1), 11);
    cr_expect_eq(vma_at((uint64_t)s3).end, (uint64_t)s3 + 2 * PG);
    cr_expect(vma_at((uint64_t)s3).flags & MM_VMA_SHARED);

    mm_munmap(mm, T, 4 * PG);
    mm_munmap(mm, (uint64_t)d, PG);
    mm_munmap(mm, (uint64_t)s, PG);
    mm_munmap(mm, (uint64_t)s2, PG);
    mm_munmap(mm, (uint64_t)s3, 2 * PG);
}

Test(mm, mremap_fixed_moves_several_vmas_keeping_gaps)
{
    uint64_t T = 0x30000000;
    map(A0, PG, RW, ANON | ABI_MAP_FIXED);
    map(A0 + PG, PG, R, ANON | ABI_MAP_FIXED);
    map(A0 + 3 * PG, PG, RW, ANON | ABI_MAP_FIXED);
    map(T + 2 * PG, PG, ABI_PROT_EXEC, ANON | ABI_MAP_FIXED);
    poke(A0, 1);
    poke(A0 + PG, 2);
    poke(A0 + 3 * PG, 4);
    poke(T + 2 * PG, 9);
    const int FM = ABI_MREMAP_FIXED | ABI_MREMAP_MAYMOVE;
    cr_expect_eq(mm_mremap(mm, A0 - PG, 4 * PG, 4 * PG, FM, T), -ABI_EFAULT,
                 "no hole allowed at the start");
    cr_expect_eq(mm_mremap(mm, A0, 4 * PG, 4 * PG, FM, T), (int64_t)T);
    cr_expect_eq(peek(T), 1);
    cr_expect_eq(peek(T + PG), 2);
    cr_expect_eq(vma_at(T + PG).prot, R, "each VMA keeps its protections");
    cr_expect_eq(peek(T + 2 * PG), 9, "the target's mapping in the gap stays");
    cr_expect_eq(peek(T + 3 * PG), 4);
    cr_expect_eq(vma_at(A0).end, 0);
    cr_expect_eq(vma_at(A0 + 3 * PG).end, 0);
    cr_expect_eq(mm_mremap(mm, 0x50000000, 2 * PG, 2 * PG, FM, T), -ABI_EFAULT, "nothing there");

    /* A shrinking move may cross VMAs: only the kept part must be in one. */
    cr_expect_eq(mm_mremap(mm, T, 2 * PG, PG, FM, A0), (int64_t)A0);
    cr_expect_eq(peek(A0), 1);
    cr_expect_eq(vma_at(T + PG).end, 0, "the tail in the next VMA was unmapped");
    cr_expect_eq(mm_mremap(mm, T + 2 * PG, 2 * PG, 3 * PG, ABI_MREMAP_MAYMOVE, 0), -ABI_EFAULT,
                 "growing across VMAs is not");
    mm_munmap(mm, T, 4 * PG);
    mm_munmap(mm, A0, PG);
}

/* ================= brk ================= */

Test(mm, brk)
{
    uint64_t b = 0x600000;
    mm_set_brk_start(mm, b);
    cr_expect_eq(mm_brk(mm, 0), (int64_t)b, "query");
    cr_expect_eq(mm_brk(mm, b - 1), (int64_t)b, "below the start: unchanged");
    cr_expect_eq(mm_brk(mm, b + 100), (int64_t)(b + 100));
    cr_expect_eq(peek(b + 99), 0);
    cr_expect_eq(vma_at(b).end, b + PG);
    cr_expect_eq(mm_brk(mm, b + 3 * PG + 5), (int64_t)(b + 3 * PG + 5));
    struct mm_vma_info v = vma_at(b);
    cr_expect_eq(v.end, b + 4 * PG, "one heap VMA");
    cr_expect_eq(v.prot, RW);
    cr_expect_str_eq(v.name, "[heap]");
    poke(b, 1);
    poke(b + 2 * PG, 2);
    cr_expect_eq(mm_brk(mm, b + 10), (int64_t)(b + 10), "shrink");
    cr_expect_eq(peek(b + 2 * PG), -ABI_EFAULT);
    cr_expect_eq(peek(b), 1, "the page holding the break stays");
    cr_expect_eq(mm_brk(mm, b + 4 * PG), (int64_t)(b + 4 * PG), "grow again");
    cr_expect_eq(peek(b + 2 * PG), 0, "regrown memory is zero");
    cr_expect_eq(vmas().n, 1);

    /* Growth stops a page short of the next mapping. */
    map(b + MB, PG, R, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_brk(mm, b + MB), (int64_t)(b + 4 * PG));
    cr_expect_eq(mm_brk(mm, b + MB - PG + 1), (int64_t)(b + 4 * PG));
    cr_expect_eq(mm_brk(mm, b + MB - PG), (int64_t)(b + MB - PG));
    cr_expect_eq(mm_brk(mm, mm_max_addr(mm) + 5), (int64_t)(b + MB - PG));
    cr_expect_eq(mm_brk(mm, b), (int64_t)b, "all the way down");
    cr_expect_eq(vma_at(b).end, 0);
    mm_munmap(mm, b + MB, PG);
}

/* ================= madvise, mincore, msync ================= */

Test(mm, madvise_errnos)
{
    map(A0, 2 * PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_madvise(mm, A0, PG, 30), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, A0, PG, 200), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, A0, PG, 104), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, A0, 0, 200), -ABI_EINVAL, "advice checked first");
    cr_expect_eq(mm_madvise(mm, A0 + 1, PG, ABI_MADV_DONTNEED), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, 0x30000000, 0, ABI_MADV_DONTNEED), 0);
    cr_expect_eq(mm_madvise(mm, 0x30000000, PG, ABI_MADV_DONTNEED), -ABI_ENOMEM);
    cr_expect_eq(mm_madvise(mm, 0x30000000, PG, ABI_MADV_NORMAL), -ABI_ENOMEM);
    cr_expect_eq(mm_madvise(mm, A0, (uint64_t)-1, ABI_MADV_DONTNEED), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, A0, (uint64_t)-8192, ABI_MADV_DONTNEED), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, A0, PG, ABI_MADV_HWPOISON), -ABI_EPERM);
    cr_expect_eq(mm_madvise(mm, A0, PG, ABI_MADV_REMOVE), -ABI_EINVAL, "private");
    cr_expect_eq(mm_madvise(mm, A0, PG, ABI_MADV_COLLAPSE), -ABI_EINVAL);
    int hints[] = {ABI_MADV_NORMAL,    ABI_MADV_RANDOM,     ABI_MADV_SEQUENTIAL, ABI_MADV_WILLNEED,
                   ABI_MADV_HUGEPAGE,  ABI_MADV_NOHUGEPAGE, ABI_MADV_COLD,       ABI_MADV_PAGEOUT,
                   ABI_MADV_MERGEABLE, ABI_MADV_UNMERGEABLE};
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
        cr_expect_eq(mm_madvise(mm, A0, 2 * PG, hints[i]), 0, "advice %d", hints[i]);
    cr_expect_eq(vmas().n, 1, "hints change no VMA");

    int64_t ro = map(0, 2 * PG, R, ANON);
    int64_t no = map(0, 2 * PG, ABI_PROT_NONE, ANON);
    cr_expect_eq(mm_madvise(mm, (uint64_t)ro, 2 * PG, ABI_MADV_POPULATE_WRITE), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, (uint64_t)ro, 2 * PG, ABI_MADV_POPULATE_READ), 0);
    cr_expect_eq(mm_madvise(mm, (uint64_t)no, 2 * PG, ABI_MADV_POPULATE_READ), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, (uint64_t)no, 2 * PG, ABI_MADV_DONTNEED), 0);
    /* Populating stops at the first problem, a hole included. */
    map(0x40000000, PG, ABI_PROT_NONE, ANON | ABI_MAP_FIXED);
    map(0x40002000, PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_madvise(mm, 0x3ffff000, 2 * PG, ABI_MADV_POPULATE_READ), -ABI_ENOMEM);
    cr_expect_eq(mm_madvise(mm, 0x40000000, 3 * PG, ABI_MADV_POPULATE_READ), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, 0x40001000, 2 * PG, ABI_MADV_POPULATE_WRITE), -ABI_ENOMEM);
    cr_expect_eq(mm_madvise(mm, 0x40002000, PG, ABI_MADV_POPULATE_WRITE), 0);
    mm_munmap(mm, 0x40000000, 3 * PG);
    cr_expect_eq(mm_madvise(mm, (uint64_t)no, 2 * PG, ABI_MADV_COLD), 0);
    mm_munmap(mm, A0, 2 * PG);
    mm_munmap(mm, (uint64_t)ro, 2 * PG);
    mm_munmap(mm, (uint64_t)no, 2 * PG);
}

Test(mm, madvise_dontneed_and_free)
{
    map(A0, 32 * PG, RW, ANON | ABI_MAP_FIXED);
    for (int i = 0; i < 32; i++)
        poke(A0 + i * PG, (unsigned char)(i + 1));
    cr_expect_eq(mm_memfile_used(mf), 2 * MM_CHUNK_SIZE);
    cr_expect_eq(mm_madvise(mm, A0 + PG, PG, ABI_MADV_DONTNEED), 0);
    cr_expect_eq(peek(A0 + PG), 0, "private memory reads zero after DONTNEED");
    cr_expect_eq(peek(A0), 1);
    cr_expect_eq(peek(A0 + 2 * PG), 3);
    cr_expect_eq(mm_madvise(mm, A0 + 16 * PG, 16 * PG, ABI_MADV_FREE), 0);
    cr_expect_eq(mm_memfile_used(mf), MM_CHUNK_SIZE, "a whole chunk went back");
    cr_expect_eq(peek(A0 + 20 * PG), 0);
    cr_expect_eq(vmas().n, 1, "DONTNEED changes no VMA");

    /* Holes: mapped parts are still advised, then ENOMEM. */
    map(A0 + 40 * PG, PG, RW, ANON | ABI_MAP_FIXED);
    poke(A0 + 40 * PG, 7);
    poke(A0 + 5 * PG, 6);
    cr_expect_eq(mm_madvise(mm, A0, 41 * PG, ABI_MADV_DONTNEED), -ABI_ENOMEM);
    cr_expect_eq(peek(A0 + 5 * PG), 0);
    cr_expect_eq(peek(A0 + 40 * PG), 0);

    int64_t s = map(0, PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS);
    poke((uint64_t)s, 4);
    cr_expect_eq(mm_madvise(mm, (uint64_t)s, PG, ABI_MADV_DONTNEED), 0);
    cr_expect_eq(peek((uint64_t)s), 4, "shared memory keeps its contents");
    cr_expect_eq(mm_madvise(mm, (uint64_t)s, PG, ABI_MADV_FREE), -ABI_EINVAL);
    mm_munmap(mm, A0, 41 * PG);
    mm_munmap(mm, (uint64_t)s, PG);
}

Test(mm, madvise_remove_shared)
{
    int64_t s = map(0, 2 * PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS);
    int64_t dup = mm_mremap(mm, (uint64_t)s, 0, 2 * PG, ABI_MREMAP_MAYMOVE, 0);
    cr_assert_geq(dup, 0);
    poke((uint64_t)s + PG, 5);
    cr_expect_eq(peek((uint64_t)dup + PG), 5);
    cr_expect_eq(mm_madvise(mm, (uint64_t)s + PG, PG, ABI_MADV_REMOVE), 0);
    cr_expect_eq(peek((uint64_t)dup + PG), 0, "every mapper sees the hole");
    cr_expect_eq(mm_mprotect(mm, (uint64_t)s, PG, R), 0);
    poke((uint64_t)s, 6);
    cr_expect_eq(mm_madvise(mm, (uint64_t)s, PG, ABI_MADV_REMOVE), 0,
                 "anonymous shared memory may always be written: VM_MAYWRITE");
    cr_expect_eq(peek((uint64_t)dup), 0);
    cr_expect_eq(mm_madvise(mm, (uint64_t)s, PG, ABI_MADV_WIPEONFORK), -ABI_EINVAL);
    cr_expect_eq(mm_madvise(mm, (uint64_t)s, PG, ABI_MADV_KEEPONFORK), 0);
    mm_munmap(mm, (uint64_t)s, 2 * PG);
    mm_munmap(mm, (uint64_t)dup, 2 * PG);
}

Test(mm, madvise_fork_flags_split_vmas)
{
    map(A0, 4 * PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_madvise(mm, A0 + PG, PG, ABI_MADV_WIPEONFORK), 0);
    cr_expect_eq(vmas().n, 3);
    cr_expect(vma_at(A0 + PG).flags & MM_VMA_WIPEONFORK);
    cr_expect_not(vma_at(A0).flags & MM_VMA_WIPEONFORK);
    cr_expect_eq(mm_madvise(mm, A0, 4 * PG, ABI_MADV_DONTFORK), 0);
    cr_expect(vma_at(A0 + 3 * PG).flags & MM_VMA_DONTFORK);
    cr_expect_eq(mm_madvise(mm, A0, 4 * PG, ABI_MADV_KEEPONFORK), 0);
    cr_expect_eq(mm_madvise(mm, A0, 4 * PG, ABI_MADV_DOFORK), 0);
    cr_expect_eq(vmas().n, 1, "merged back once the flags agree");
    cr_expect_eq(mm_madvise(mm, A0, 4 * PG, ABI_MADV_DONTDUMP), 0);
    cr_expect(vma_at(A0).flags & MM_VMA_DONTDUMP);
    mm_munmap(mm, A0, 4 * PG);
}

Test(mm, mincore)
{
    uint8_t vec[32];
    uint64_t V = 0x30000000;
    map(V, PG, RW, ANON | ABI_MAP_FIXED);
    map(A0, 16 * PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_mincore(mm, A0 + 1, PG, V), -ABI_EINVAL);
    cr_expect_eq(mm_mincore(mm, 0x20000000, PG, V), -ABI_ENOMEM);
    cr_expect_eq(mm_mincore(mm, 0x20000000, 0, V), 0);
    cr_expect_eq(mm_mincore(mm, 0x800000000000ULL, PG, V), -ABI_ENOMEM);
    cr_expect_eq(mm_mincore(mm, A0, 1ULL << 62, V), -ABI_ENOMEM);
    cr_expect_eq(mm_mincore(mm, A0, PG, 0x20000000), -ABI_EFAULT, "vec unmapped");
    cr_expect_eq(mm_mincore(mm, 0x20000000, PG, 0x20000000), -ABI_ENOMEM, "range first");
    cr_expect_eq(mm_mincore(mm, 0x20000000, PG, 0xffff800000000000ULL), -ABI_EFAULT,
                 "but a kernel vec is refused before anything");

    cr_expect_eq(mm_mincore(mm, A0, 16 * PG, V), 0);
    cr_assert_eq(mm_copy_in(mm, vec, V, 16), 0);
    for (int i = 0; i < 16; i++)
        cr_expect_eq(vec[i], 0, "untouched page %d", i);
    poke(A0 + PG, 1);
    cr_expect_eq(peek(A0 + 3 * PG), 0);
    cr_expect_eq(mm_mincore(mm, A0, 16 * PG - 100, V), 0, "len rounds up");
    cr_assert_eq(mm_copy_in(mm, vec, V, 16), 0);
    for (int i = 0; i < 16; i++)
        cr_expect_eq(vec[i], i == 1 || i == 3, "page %d", i);
    cr_expect_eq(mm_madvise(mm, A0 + PG, PG, ABI_MADV_DONTNEED), 0);
    cr_expect_eq(mm_mincore(mm, A0, PG * 2, V), 0);
    cr_assert_eq(mm_copy_in(mm, vec, V, 2), 0);
    cr_expect_eq(vec[1], 0, "dropped page is not resident");

    /* A hole after the first VMA: its part of vec is filled, then ENOMEM. */
    memset(vec, 7, sizeof(vec));
    cr_assert_eq(mm_copy_out(mm, V, vec, 32), 0);
    cr_expect_eq(mm_mincore(mm, A0 + 14 * PG, 4 * PG, V), -ABI_ENOMEM);
    cr_assert_eq(mm_copy_in(mm, vec, V, 3), 0);
    cr_expect_eq(vec[0], 0);
    cr_expect_eq(vec[1], 0);
    cr_expect_eq(vec[2], 7);

    cr_expect_eq(mm_mprotect(mm, V, PG, R), 0);
    cr_expect_eq(mm_mincore(mm, A0, PG, V), -ABI_EFAULT, "vec read-only");
    cr_expect_eq(mm_madvise(mm, A0, 16 * PG, ABI_MADV_POPULATE_WRITE), 0);
    cr_expect_eq(mm_mprotect(mm, V, PG, RW), 0);
    cr_expect_eq(mm_mincore(mm, A0, 16 * PG, V), 0);
    cr_assert_eq(mm_copy_in(mm, vec, V, 16), 0);
    for (int i = 0; i < 16; i++)
        cr_expect_eq(vec[i], 1, "populated page %d", i);
    mm_munmap(mm, A0, 16 * PG);
    mm_munmap(mm, V, PG);
}

Test(mm, msync)
{
    map(A0, PG, RW, ANON | ABI_MAP_FIXED);
    map(A0 + 2 * PG, PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_msync(mm, A0, PG, 8), -ABI_EINVAL);
    cr_expect_eq(mm_msync(mm, A0, PG, ABI_MS_ASYNC | ABI_MS_SYNC), -ABI_EINVAL);
    cr_expect_eq(mm_msync(mm, A0 + 1, PG, ABI_MS_SYNC), -ABI_EINVAL);
    cr_expect_eq(mm_msync(mm, 0x30000000, PG, ABI_MS_SYNC), -ABI_ENOMEM);
    cr_expect_eq(mm_msync(mm, 0x30000000, 0, ABI_MS_SYNC), 0);
    cr_expect_eq(mm_msync(mm, A0, 3 * PG, ABI_MS_SYNC), -ABI_ENOMEM);
    cr_expect_eq(mm_msync(mm, A0, 3 * PG, ABI_MS_ASYNC), -ABI_ENOMEM);
    cr_expect_eq(mm_msync(mm, A0, PG, 0), 0);
    cr_expect_eq(mm_msync(mm, A0, PG, ABI_MS_SYNC | ABI_MS_INVALIDATE), 0);
    cr_expect_eq(mm_msync(mm, A0, (uint64_t)-8192, 0), -ABI_ENOMEM);
    mm_munmap(mm, A0, 3 * PG);
}

/* ================= faults ================= */

Test(mm, fault_codes)
{
    map(A0, PG, R, ANON | ABI_MAP_FIXED);
    map(A0 + PG, PG, ABI_PROT_NONE, ANON | ABI_MAP_FIXED);
    map(A0 + 2 * PG, PG, ABI_PROT_WRITE, ANON | ABI_MAP_FIXED);
    map(A0 + 3 * PG, PG, R | ABI_PROT_EXEC, ANON | ABI_MAP_FIXED);
    map(A0 + 4 * PG, PG, ABI_PROT_EXEC, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(A0 + 100 * PG, false, false), ABI_SEGV_MAPERR);
    cr_expect_eq(fault(mm_max_addr(mm), false, false), ABI_SEGV_MAPERR);
    cr_expect_eq(fault(UINT64_MAX, true, false), ABI_SEGV_MAPERR);
    cr_expect_eq(fault(A0, false, false), 0);
    cr_expect_eq(fault(A0, true, false), ABI_SEGV_ACCERR);
    cr_expect_eq(fault(A0, false, true), ABI_SEGV_ACCERR);
    cr_expect_eq(fault(A0 + PG, false, false), ABI_SEGV_ACCERR);
    cr_expect_eq(fault(A0 + 2 * PG, false, false), 0, "x86: writable implies readable");
    cr_expect_eq(fault(A0 + 2 * PG, true, false), 0);
    cr_expect_eq(fault(A0 + 3 * PG, false, true), 0);
    cr_expect_eq(fault(A0 + 4 * PG, false, false), 0, "x86: executable implies readable");
    cr_expect_eq(fault(A0 + 4 * PG, true, false), ABI_SEGV_ACCERR);
    mm_munmap(mm, A0, 5 * PG);
}

Test(mm, stack_grows_down_within_limits)
{
    uint64_t top = 0x40000000, s = top - 4 * PG;
    cr_assert_eq(mm_map_fixed(mm, s, 4 * PG, RW, MM_VMA_GROWSDOWN, "[stack]"), (int64_t)s);
    cr_expect_eq(fault(s - 100, true, false), 0, "just below: grows");
    struct mm_vma_info v = vma_at(s - 100);
    cr_expect_eq(v.start, s - PG);
    cr_expect_eq(v.end, top, "still one VMA");
    cr_expect_str_eq(v.name, "[stack]");
    cr_expect_eq(fault(top - 8 * MB - 1, true, false), ABI_SEGV_MAPERR, "beyond 8 MiB");
    cr_expect_eq(fault(top - 8 * MB, true, false), 0, "exactly 8 MiB");
    mm_set_stack_limit(mm, 16 * MB);
    cr_expect_eq(fault(top - 12 * MB, false, false), 0);
    cr_expect_eq(vma_at(top - 12 * MB).start, top - 12 * MB);

    /* Copy-out below the stack grows it as the guest's own write would. */
    unsigned char b = 1;
    cr_expect_eq(mm_copy_out(mm, top - 13 * MB, &b, 1), 0);
    cr_expect_eq(peek(top - 13 * MB), 1);

    /* An accessible mapping within the guard gap stops growth. */
    uint64_t lo = top - 15 * MB;
    map(lo - PG, PG, R, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(lo + 512 * KB, true, false), ABI_SEGV_MAPERR);
    cr_expect_eq(fault(lo + MB + PG, true, false), 0, "a guard gap away is fine");
    cr_expect_eq(mm_mprotect(mm, lo - PG, PG, ABI_PROT_NONE), 0);
    cr_expect_eq(fault(lo + 512 * KB, true, false), 0, "PROT_NONE does not count");
    cr_expect_eq(vmas().n, 2);
    mm_munmap(mm, lo - PG, top - lo + PG);
}

/* ================= copy-in / copy-out ================= */

Test(mm, copy_bounds)
{
    unsigned char buf[64] = {0};
    map(A0, PG, RW, ANON | ABI_MAP_FIXED);
    map(A0 + PG, PG, ABI_PROT_NONE, ANON | ABI_MAP_FIXED);
    map(A0 + 2 * PG, PG, R, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_copy_in(mm, buf, 0x30000000, 4), -ABI_EFAULT, "unmapped");
    cr_expect_eq(mm_copy_in(mm, buf, A0 + PG, 4), -ABI_EFAULT, "PROT_NONE");
    cr_expect_eq(mm_copy_out(mm, A0 + 2 * PG, buf, 4), -ABI_EFAULT, "read-only");
    cr_expect_eq(mm_zero(mm, A0 + 2 * PG, 4), -ABI_EFAULT);
    cr_expect_eq(mm_copy_in(mm, buf, A0 + 2 * PG, 4), 0);
    cr_expect_eq(mm_copy_in(mm, buf, A0 + PG - 8, 16), -ABI_EFAULT, "into PROT_NONE");
    cr_expect_eq(mm_copy_in(mm, buf, UINT64_MAX - 10, 20), -ABI_EFAULT, "wraps");
    cr_expect_eq(mm_copy_out(mm, UINT64_MAX - 10, buf, 20), -ABI_EFAULT);
    cr_expect_eq(mm_copy_in(mm, buf, mm_max_addr(mm) - 4, 8), -ABI_EFAULT, "past the top");
    cr_expect_eq(mm_copy_in(mm, buf, 0x30000000, 0), 0, "nothing to copy");
    cr_expect_eq(mm_copy_out_force(mm, A0 + 2 * PG, "xy", 2), 0, "the loader may");
    cr_expect_eq(peek(A0 + 2 * PG + 1), 'y');

    /* Crossing from mapped into unmapped fails. */
    map(A0 + 8 * PG, PG, RW, ANON | ABI_MAP_FIXED);
    memset(buf, 0x5a, sizeof(buf));
    cr_expect_eq(mm_copy_out(mm, A0 + 9 * PG - 32, buf, 64), -ABI_EFAULT);
    cr_expect_eq(mm_copy_in(mm, buf, A0 + 9 * PG - 32, 64), -ABI_EFAULT);
    cr_expect_eq(mm_copy_in(mm, buf, A0 + 9 * PG - 32, 32), 0);

    /* Large copies across chunks and VMAs round-trip. */
    static unsigned char big[200 * 1024], back[200 * 1024];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)(i * 31 + 7);
    uint64_t B = 0x50000000 + 1234;
    map(0x50000000, 100 * PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(mm_mprotect(mm, 0x50000000 + 20 * PG, 10 * PG, RW | ABI_PROT_EXEC), 0);
    cr_expect_eq(vmas().n, 7);
    cr_expect_eq(mm_copy_out(mm, B, big, sizeof(big)), 0);
    cr_expect_eq(mm_copy_in(mm, back, B, sizeof(back)), 0);
    cr_expect_eq(memcmp(big, back, sizeof(big)), 0);
    cr_expect_eq(mm_zero(mm, B + 10, 100 * 1024), 0);
    cr_expect_eq(mm_copy_in(mm, back, B, sizeof(back)), 0);
    cr_expect_eq(back[9], big[9]);
    cr_expect_eq(back[10], 0);
    cr_expect_eq(back[100 * 1024 + 9], 0);
    cr_expect_eq(back[100 * 1024 + 10], big[100 * 1024 + 10]);
    mm_munmap(mm, 0x50000000, 100 * PG);
    mm_munmap(mm, A0, 9 * PG);
}

Test(mm, copy_in_str)
{
    char s[64];
    map(A0, 2 * MM_CHUNK_SIZE, RW, ANON | ABI_MAP_FIXED);
    cr_assert_eq(mm_copy_out(mm, A0, "hello", 6), 0);
    cr_expect_eq(mm_copy_in_str(mm, s, A0, 64), 5);
    cr_expect_str_eq(s, "hello");
    cr_expect_eq(mm_copy_in_str(mm, s, A0, 6), 5, "exactly room for the NUL");
    cr_expect_eq(mm_copy_in_str(mm, s, A0, 5), -ABI_ENAMETOOLONG);
    cr_expect_eq(mm_copy_in_str(mm, s, A0, 0), -ABI_ENAMETOOLONG);
    cr_expect_eq(mm_copy_in_str(mm, s, A0 + 5, 64), 0, "empty string");

    /* Across a chunk boundary. */
    uint64_t c = A0 + MM_CHUNK_SIZE - 3;
    cr_assert_eq(mm_copy_out(mm, c, "abcdefg", 8), 0);
    cr_expect_eq(mm_copy_in_str(mm, s, c, 64), 7);
    cr_expect_str_eq(s, "abcdefg");

    /* Running into unmapped memory before the NUL faults; a NUL just before
     * it does not. */
    uint64_t end = A0 + 2 * MM_CHUNK_SIZE;
    cr_assert_eq(mm_copy_out(mm, end - 4, "wxyz", 4), 0);
    cr_expect_eq(mm_copy_in_str(mm, s, end - 4, 64), -ABI_EFAULT);
    cr_expect_eq(mm_copy_in_str(mm, s, end - 4, 4), -ABI_ENAMETOOLONG, "max reached first");
    cr_assert_eq(mm_copy_out(mm, end - 1, "", 1), 0);
    cr_expect_eq(mm_copy_in_str(mm, s, end - 4, 64), 3);
    cr_expect_str_eq(s, "wxy");
    cr_expect_eq(mm_copy_in_str(mm, s, UINT64_MAX - 2, 64), -ABI_EFAULT);
    cr_expect_eq(mm_copy_in_str(mm, s, mm_max_addr(mm) - 1, 64), -ABI_EFAULT);
    mm_munmap(mm, A0, 2 * MM_CHUNK_SIZE);
}

Test(mm, huge_sparse_mapping_is_cheap)
{
    /* 64 GiB, two pages touched: only two chunks of backing, and unmapping
     * costs what was touched. */
    int64_t a = map(0, 64ULL << 30, RW, ANON | ABI_MAP_NORESERVE);
    cr_assert_geq(a, 0);
    cr_expect(vma_at((uint64_t)a).flags & MM_VMA_NORESERVE);
    poke((uint64_t)a, 1);
    poke((uint64_t)a + (63ULL << 30), 2);
    cr_expect_eq(mm_memfile_used(mf), 2 * MM_CHUNK_SIZE);
    cr_expect_eq(mm_munmap(mm, (uint64_t)a + PG, (64ULL << 30) - 2 * PG), 0);
    cr_expect_eq(mm_memfile_used(mf), MM_CHUNK_SIZE, "the unmapped middle's memory is freed");
    cr_expect_eq(peek((uint64_t)a), 1);
    cr_expect_eq(mm_munmap(mm, (uint64_t)a, 64ULL << 30), 0);
}

/* ================= with a (fake) platform ================= */

static void setup_platform(void)
{
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    fake_platform_init(&plat, 0x7e0000000000ULL);
    uint64_t base = 0x7e0000000000ULL - 128 * MB;
    fake_platform_reserve(&plat, base - 0x10000, base);
    fake_platform_reserve(&plat, 0x7e0000000000ULL, 0x7e0000001000ULL);
    as = fake_as_create();
    cr_assert_eq(mm_create(mf, &plat, as, &mm), 0);
}

static void teardown_platform(void)
{
    mm_destroy(mm);
    fake_as_destroy(as);
    cr_expect_eq(mm_memfile_used(mf), 0);
    mm_memfile_destroy(mf);
}

/* Every page the stub maps must be what the guest would see now: inside a
 * VMA, with no more access than it allows, on the chunk that backs it. */
static void check_stub(void)
{
    for (size_t i = 0; i < as->npages; i++) {
        const struct fake_page *p = &as->pages[i];
        struct mm_vma *v = mm_vma_find(&mm->vmas, p->addr);
        cr_assert_not_null(v, "stub maps 0x%llx outside any VMA", (unsigned long long)p->addr);
        /* x86: writable memory is readable anyway. */
        int allowed = (v->prot & RW ? PLATFORM_PROT_READ : 0) |
                      (v->prot & ABI_PROT_WRITE ? PLATFORM_PROT_WRITE : 0) |
                      (v->prot & ABI_PROT_EXEC ? PLATFORM_PROT_EXEC : 0);
        cr_assert_eq(p->prot & ~allowed, 0, "stub page 0x%llx has too much access",
                     (unsigned long long)p->addr);
        cr_assert_neq(p->prot, 0, "a PROT_NONE stub page would fault forever");
        uint64_t off = v->off + (p->addr - v->start);
        const struct mm_chunk *c = mm_memobj_lookup(v->obj, off);
        cr_assert_not_null(c, "stub maps 0x%llx without backing", (unsigned long long)p->addr);
        cr_assert_eq(p->off, c->file_off + off % MM_CHUNK_SIZE, "stub page 0x%llx is stale",
                     (unsigned long long)p->addr);
    }
}

TestSuite(stub, .init = setup_platform, .fini = teardown_platform);

Test(stub, layout_from_platform)
{
    uint64_t base = 0x7e0000000000ULL - 128 * MB;
    cr_expect_eq(mm_max_addr(mm), 0x7e0000000000ULL);
    cr_expect_eq(map(0, PG, RW, ANON), (int64_t)(base - 0x10000 - PG), "reserved range skipped");
    cr_expect_eq(map(base - PG, PG, RW, ANON | ABI_MAP_FIXED), -ABI_ENOMEM);
    cr_expect_eq(mm_map_fixed(mm, base - 0x10000, PG, RW, 0, NULL), -ABI_ENOMEM);
    int64_t h = map(base - 0x8000, PG, RW, ANON);
    cr_expect_neq(h, (int64_t)(base - 0x8000), "a hint in a reserved range is refused");
    cr_expect_eq(mm_munmap(mm, base - 0x10000, 0x10000), 0);
    mm_munmap(mm, base - 0x10000 - PG, PG);
    mm_munmap(mm, (uint64_t)h, PG);
    mm_set_brk_start(mm, base - 0x20000);
    cr_expect_eq(mm_brk(mm, base - 0x18000), (int64_t)(base - 0x18000));
    cr_expect_eq(mm_brk(mm, base - 0x8000), (int64_t)(base - 0x18000), "brk into reserved");
    mm_brk(mm, base - 0x20000);
    cr_expect_eq(fake_as_count(as, FAKE_MAP), 0, "nothing faulted, nothing mapped");
    cr_expect_eq(fake_as_count(as, FAKE_UNMAP), 0, "never mapped, never unmapped");
}

Test(stub, fault_maps_chunk_within_vma)
{
    map(A0, 32 * PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(A0 + 0x11000, true, false), 0);
    cr_assert_eq(as->ncalls, 1, "one platform call per fault");
    struct fake_call c = as->calls[0];
    cr_expect_eq(c.kind, FAKE_MAP);
    cr_expect_eq(c.addr, A0 + 0x10000);
    cr_expect_eq(c.len, MM_CHUNK_SIZE);
    cr_expect_eq(c.prot, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE);
    cr_expect_not_null(fake_as_page(as, A0 + 0x1f000));
    cr_expect_null(fake_as_page(as, A0));
    check_stub();

    /* A small VMA off the chunk grid maps only itself. */
    fake_as_forget_calls(as);
    map(A0 + 0x43000, 2 * PG, R | ABI_PROT_EXEC, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(A0 + 0x44000, false, true), 0);
    cr_expect_eq(as->calls[0].addr, A0 + 0x43000);
    cr_expect_eq(as->calls[0].len, 2 * PG);
    cr_expect_eq(as->calls[0].prot, PLATFORM_PROT_READ | PLATFORM_PROT_EXEC);

    /* Failed accesses map nothing. */
    fake_as_forget_calls(as);
    map(A0 + 0x50000, PG, ABI_PROT_NONE, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(A0 + 0x50000, false, false), ABI_SEGV_ACCERR);
    cr_expect_eq(fault(A0 + 0x44000, true, false), ABI_SEGV_ACCERR);
    cr_expect_eq(as->ncalls, 0);
    check_stub();
    mm_munmap(mm, A0, 0x51000);
    cr_expect_eq(as->npages, 0, "nothing left in the stub");
}

Test(stub, unwritten_private_memory_maps_read_only)
{
    map(A0, 16 * PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(A0, false, false), 0);
    cr_expect_eq(fake_as_page(as, A0)->prot, PLATFORM_PROT_READ,
                 "like Linux's zero page: the first write must fault");
    cr_expect_eq(fault(A0 + PG, true, false), 0);
    cr_expect_eq(fake_as_page(as, A0 + PG)->prot, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE);
    check_stub();
    /* Write-only memory is readable on x86: its stand-in mapping too. */
    map(A0 + 40 * PG, PG, ABI_PROT_WRITE, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(A0 + 40 * PG, false, false), 0);
    cr_expect_eq(fake_as_page(as, A0 + 40 * PG)->prot, PLATFORM_PROT_READ);
    cr_expect_eq(fault(A0 + 40 * PG, true, false), 0);
    cr_expect_eq(fake_as_page(as, A0 + 40 * PG)->prot, PLATFORM_PROT_WRITE);
    cr_expect_eq(mm_mprotect(mm, A0 + 40 * PG, PG, ABI_PROT_WRITE | ABI_PROT_EXEC), 0);
    cr_expect_eq(mm_mprotect(mm, A0 + 40 * PG, PG, ABI_PROT_WRITE), 0);
    cr_expect_eq(fake_as_page(as, A0 + 40 * PG)->prot, PLATFORM_PROT_READ,
                 "never PROT_NONE for memory the guest may read");
    mm_munmap(mm, A0 + 40 * PG, PG);
    /* Written once, reads map writable straight away. */
    map(A0 + 16 * PG, 16 * PG, RW, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(A0 + 20 * PG, false, false), 0);
    cr_expect_eq(fake_as_page(as, A0 + 20 * PG)->prot, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE);
    /* Shared memory is mapped as it is. */
    int64_t s = map(0, PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS);
    cr_expect_eq(fault((uint64_t)s, false, false), 0);
    cr_expect_eq(fake_as_page(as, (uint64_t)s)->prot, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE);
    /* A grown shared mapping maps no further than its memory. */
    int64_t g = mm_mremap(mm, (uint64_t)s, PG, 2 * PG, ABI_MREMAP_MAYMOVE, 0);
    cr_assert_geq(g, 0);
    cr_expect_eq(fault((uint64_t)g, true, false), 0);
    cr_expect_not_null(fake_as_page(as, (uint64_t)g));
    cr_expect_null(fake_as_page(as, (uint64_t)g + PG));
    cr_expect_eq(fault((uint64_t)g + PG, false, false), ABI_BUS_ADRERR);
    check_stub();
    mm_munmap(mm, A0, 32 * PG);
    mm_munmap(mm, (uint64_t)g, 2 * PG);
}

Test(stub, mprotect_lowers_now_raises_lazily)
{
    map(A0, 16 * PG, RW, ANON | ABI_MAP_FIXED);
    fault(A0, true, false);
    fake_as_forget_calls(as);
    cr_expect_eq(mm_mprotect(mm, A0, 16 * PG, R), 0);
    cr_expect_eq(fake_as_count(as, FAKE_PROTECT), 1);
    cr_expect_eq(fake_as_page(as, A0 + 5 * PG)->prot, PLATFORM_PROT_READ);
    check_stub();
    fake_as_forget_calls(as);
    cr_expect_eq(mm_mprotect(mm, A0, 16 * PG, RW), 0);
    cr_expect_eq(as->ncalls, 0, "raising waits for the next fault");
    cr_expect_eq(fault(A0 + PG, true, false), 0);
    cr_expect_eq(fake_as_page(as, A0 + PG)->prot, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE);
    fake_as_forget_calls(as);
    cr_expect_eq(mm_mprotect(mm, A0, 16 * PG, ABI_PROT_NONE), 0);
    cr_expect_eq(fake_as_count(as, FAKE_UNMAP), 1, "PROT_NONE is never in the stub");
    cr_expect_eq(as->npages, 0);
    mm_munmap(mm, A0, 16 * PG);
    check_stub();
}

Test(stub, lowering_never_grants_write_to_read_only_pages)
{
    /* Read-faulted, never written: mapped read-only in the stub. Dropping
     * PROT_EXEC must not hand out PROT_WRITE with it. */
    map(A0, 16 * PG, RW | ABI_PROT_EXEC, ANON | ABI_MAP_FIXED);
    cr_expect_eq(fault(A0, false, false), 0);
    cr_expect_eq(mm_mprotect(mm, A0, 16 * PG, RW), 0);
    const struct fake_page *p = fake_as_page(as, A0);
    cr_expect(!p || !(p->prot & PLATFORM_PROT_WRITE));
    check_stub();
    /* Written pages lose write access with the rest and fault it back. */
    cr_expect_eq(mm_mprotect(mm, A0, 16 * PG, RW | ABI_PROT_EXEC), 0);
    cr_expect_eq(fault(A0, true, false), 0);
    cr_expect_eq(fake_as_page(as, A0)->prot,
                 PLATFORM_PROT_READ | PLATFORM_PROT_WRITE | PLATFORM_PROT_EXEC);
    fake_as_forget_calls(as);
    cr_expect_eq(mm_mprotect(mm, A0, 16 * PG, RW), 0);
    cr_expect_eq(fake_as_count(as, FAKE_PROTECT), 1);
    cr_expect_eq(fake_as_count(as, FAKE_UNMAP), 0);
    cr_expect_eq(fake_as_page(as, A0)->prot, PLATFORM_PROT_READ);
    cr_expect_eq(fault(A0, true, false), 0);
    cr_expect_eq(fake_as_page(as, A0)->prot, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE);
    check_stub();
    mm_munmap(mm, A0, 16 * PG);
}

Test(stub, partial_discard_of_copy_on_write_chunk_drops_its_mappings)
{
    map(A0, 16 * PG, RW, ANON | ABI_MAP_FIXED);
    for (int i = 0; i < 16; i++)
        poke(A0 + i * PG, (unsigned char)(i + 1));
    struct mm_vma *v = mm_vma_find(&mm->vmas, A0);
    struct mm_memobj *child = mm_memobj_clone(v->obj);
    mm_stub_unmap(mm, A0, A0 + 16 * PG);
    cr_expect_eq(fault(A0, false, false), 0);
    cr_expect_not_null(fake_as_page(as, A0 + 8 * PG));
    /* The chunk is shared: dropping one page needs a private copy, and the
     * stub must stop mapping the old one everywhere. */
    cr_expect_eq(mm_madvise(mm, A0 + 3 * PG, PG, ABI_MADV_DONTNEED), 0);
    check_stub();
    cr_expect_eq(peek(A0 + 3 * PG), 0);
    cr_expect_eq(peek(A0 + 8 * PG), 9);
    const struct mm_chunk *cc = mm_memobj_lookup(child, v->off);
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, cc->file_off))[3 * PG], 4,
                 "the other owner keeps the page");
    /* The same through munmap of a piece. */
    cr_expect_eq(fault(A0, false, false), 0);
    mm_memobj_put(child);
    child = mm_memobj_clone(v->obj);
    mm_stub_unmap(mm, A0, A0 + 16 * PG);
    cr_expect_eq(fault(A0, false, false), 0);
    cr_expect_eq(mm_munmap(mm, A0 + 5 * PG, PG), 0);
    check_stub();
    cr_expect_eq(peek(A0 + 6 * PG), 7);
    mm_memobj_put(child);
    mm_munmap(mm, A0, 16 * PG);
}

Test(stub, protect_over_sparse_mapping_falls_back_to_unmap)
{
    map(A0, 32 * PG, RW, ANON | ABI_MAP_FIXED);
    fault(A0, true, false); /* the first chunk only */
    cr_expect_eq(mm_mprotect(mm, A0, 32 * PG, R), 0);
    for (size_t i = 0; i < as->npages; i++)
        cr_expect_eq(as->pages[i].prot & PLATFORM_PROT_WRITE, 0, "still writable in the stub");
    check_stub();
    /* A platform that fails outright is handled the same way. */
    mm_mprotect(mm, A0, 32 * PG, RW);
    fault(A0, true, false);
    as->fail_next = 1;
    cr_expect_eq(mm_mprotect(mm, A0, 16 * PG, R), 0);
    cr_expect_eq(as->npages, 0);
    check_stub();
    mm_munmap(mm, A0, 32 * PG);
}

Test(stub, unmap_dontneed_and_move_are_mirrored)
{
    map(A0, 32 * PG, RW, ANON | ABI_MAP_FIXED);
    fault(A0, true, false);
    fault(A0 + 16 * PG, true, false);
    cr_expect_eq(as->npages, 32);
    cr_expect_eq(mm_munmap(mm, A0 + 4 * PG, 4 * PG), 0);
    cr_expect_null(fake_as_page(as, A0 + 5 * PG));
    cr_expect_not_null(fake_as_page(as, A0 + 3 * PG));
    check_stub();
    cr_expect_eq(mm_madvise(mm, A0 + 16 * PG, 16 * PG, ABI_MADV_DONTNEED), 0);
    cr_expect_null(fake_as_page(as, A0 + 17 * PG), "the chunk went back: unmapped first");
    check_stub();
    int64_t n =
        mm_mremap(mm, A0, 4 * PG, 4 * PG, ABI_MREMAP_MAYMOVE | ABI_MREMAP_FIXED, 0x30000000);
    cr_assert_eq(n, 0x30000000);
    cr_expect_null(fake_as_page(as, A0));
    check_stub();
    cr_expect_eq(fault(0x30000000, false, false), 0);
    check_stub();

    /* Shared memory keeps its stub mappings on DONTNEED (contents stay). */
    int64_t s = map(0, PG, RW, ABI_MAP_SHARED | ABI_MAP_ANONYMOUS);
    fault((uint64_t)s, true, false);
    fake_as_forget_calls(as);
    cr_expect_eq(mm_madvise(mm, (uint64_t)s, PG, ABI_MADV_DONTNEED), 0);
    cr_expect_eq(as->ncalls, 0);
    check_stub();
    mm_munmap(mm, A0, 32 * PG);
    mm_munmap(mm, 0x30000000, 4 * PG);
    mm_munmap(mm, (uint64_t)s, PG);
    cr_expect_eq(as->npages, 0);
}

Test(stub, brk_shrink_unmaps_and_regrow_is_zero)
{
    uint64_t b = 0x600000;
    mm_set_brk_start(mm, b);
    mm_brk(mm, b + 8 * PG);
    poke(b + 5 * PG, 9);
    fault(b + 5 * PG, true, false);
    mm_brk(mm, b + PG);
    cr_expect_null(fake_as_page(as, b + 5 * PG));
    check_stub();
    mm_brk(mm, b + 8 * PG);
    cr_expect_eq(fault(b + 5 * PG, false, false), 0);
    check_stub();
    cr_expect_eq(peek(b + 5 * PG), 0);
    mm_brk(mm, b);
}

Test(stub, copy_on_write_chunks_map_read_only_until_written)
{
    map(A0, 2 * MM_CHUNK_SIZE, RW, ANON | ABI_MAP_FIXED);
    poke(A0, 'A');
    fault(A0, true, false);
    /* What fork will do: the other object shares the chunks. */
    struct mm_vma *v = mm_vma_find(&mm->vmas, A0);
    struct mm_memobj *child = mm_memobj_clone(v->obj);
    cr_assert_not_null(child);
    const struct mm_chunk *orig = mm_memobj_lookup(v->obj, v->off);
    mm_stub_unmap(mm, A0, A0 + 2 * MM_CHUNK_SIZE);

    cr_expect_eq(fault(A0, false, false), 0);
    cr_expect_eq(fake_as_page(as, A0)->prot, PLATFORM_PROT_READ, "shared chunk: read-only");
    check_stub();
    unsigned char b = 'B';
    cr_expect_eq(mm_copy_out(mm, A0 + 1, &b, 1), 0);
    cr_expect_null(fake_as_page(as, A0), "the stale mapping of the shared chunk is gone");
    check_stub();
    cr_expect_eq(fault(A0, true, false), 0);
    cr_expect_eq(fake_as_page(as, A0)->prot, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE);
    check_stub();
    cr_expect_eq(peek(A0), 'A');
    cr_expect_eq(peek(A0 + 1), 'B');
    const struct mm_chunk *cc = mm_memobj_lookup(child, v->off);
    cr_expect_eq(cc, orig);
    cr_expect_eq(((unsigned char *)mm_memfile_ptr(mf, cc->file_off))[1], 0, "the child's copy");
    mm_memobj_put(child);
    mm_munmap(mm, A0, 2 * MM_CHUNK_SIZE);
}
