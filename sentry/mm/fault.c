/* Guest faults: find (or grow) the VMA, check the access, give the chunk
 * backing and map it into the stub. */
#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/mm/fcache.h"
#include "sentry/mm/mm_internal.h"

/* Grows the GROWSDOWN VMA at index i down to the page of addr, under Linux's
 * rules: not below mmap_min_addr, not within the guard gap above an
 * accessible mapping, not beyond the stack limit. */
static struct mm_vma *grow_stack(struct mm *mm, size_t i, uint64_t addr)
{
    struct mm_vma *v = mm->vmas.v[i];
    uint64_t start = mm_page_down(addr);
    if (start < mm->min_addr)
        return NULL;
    if (i > 0) {
        const struct mm_vma *prev = mm->vmas.v[i - 1];
        if (!(prev->flags & MM_VMA_GROWSDOWN) && prev->prot != ABI_PROT_NONE &&
            start - prev->end < MM_STACK_GUARD_GAP)
            return NULL;
    }
    if (v->end - start > mm->stack_limit)
        return NULL;
    uint64_t delta = v->start - start;
    if (delta <= v->off && mm_take_offsets(mm, v->obj, v->off - delta, delta)) {
        v->start = start;
        v->off -= delta;
        return v;
    }
    /* The offsets Linux would give the grown part, if they exist. */
    uint64_t off = v->off >= delta ? v->off - delta : start;
    if (mm_map_anon(mm, start, v->start, v->prot, v->flags, v->name, off))
        return NULL;
    return mm_vma_find(&mm->vmas, addr);
}

struct mm_vma *mm_vma_for_access(struct mm *mm, uint64_t addr)
{
    if (addr >= mm->max_addr)
        return NULL;
    size_t i = mm_vma_index(&mm->vmas, addr);
    if (i == mm->vmas.n)
        return NULL;
    struct mm_vma *v = mm->vmas.v[i];
    if (v->start <= addr)
        return v;
    if (!(v->flags & MM_VMA_GROWSDOWN))
        return NULL;
    return grow_stack(mm, i, addr);
}

/* A private file object's file as one fault sees it: each of these is a
 * host call on goferfs, so a fault that maps several chunks asks once. */
struct file_now {
    uint64_t size;
    uint64_t version; /* valid when versioned */
    bool versioned;
};

/* The chunk of an anonymous or private file object. fn: the file's size
 * and version if the caller has them, else NULL. */
static int chunk_backing(struct mm *mm, struct mm_vma *v, uint64_t addr, bool write,
                         struct mm_span *sp, struct file_now *fn)
{
    struct mm_memobj *o = v->obj;
    uint64_t off = v->off + (addr - v->start);
    uint64_t len = v->end - v->start;
    uint64_t limit = UINT64_MAX; /* object offsets from here on are SIGBUS */
    uint64_t size = 0;
    struct file_now own = {0};
    if (o->file && !fn) {
        own.size = mm_file_size(o->file);
        fn = &own;
    }
    if (o->file) {
        /* Pages wholly past the end of the file are SIGBUS; the page
         * holding the end reads as zeros after it. */
        size = fn->size;
        uint64_t fsize = mm_page_up(size);
        uint64_t fo = mm_page_down(off) + o->file_delta;
        if (fo >= fsize)
            return -ABI_EIO;
        if (fsize - fo < UINT64_MAX - off)
            limit = mm_page_down(off) + (fsize - fo);
    } else if (o->shared) {
        /* As on Linux, a shared mapping grown by mremap ends where the
         * memory created by mmap ends: beyond is SIGBUS. */
        if (off >= o->size)
            return -ABI_EIO;
        limit = o->size;
    }
    if (write && !o->shared && !o->written)
        mm_share_anon(mm, v);
    o = v->obj;
    if (o->file && !mm_memobj_lookup(o, off)) {
        /* The file's bytes may already be in a chunk another mapping of
         * the same window filled (the file chunk cache). */
        uint64_t cs = off - off % MM_CHUNK_SIZE;
        uint64_t fo = cs + o->file_delta;
        if (fo < (1ULL << 62)) {
            if (!fn->versioned) {
                fn->version = mm_fcache_version(o->file);
                fn->versioned = true;
            }
            struct mm_chunk *cached = mm_fcache_chunk(o->mf, o->file, fo, size, fn->version);
            if (cached && mm_memobj_install(o, off, cached) != 0)
                mm_chunk_put(o->mf, cached);
        }
    }
    bool replaced = false;
    /* Writes through a shared object never copy: its chunks have one owner. */
    struct mm_chunk *c = mm_memobj_chunk(o, off, write && !o->shared, &replaced);
    if (!c)
        return -ABI_ENOMEM;
    uint64_t cs = off - off % MM_CHUNK_SIZE;
    if (replaced)
        mm_stub_drop_chunk(mm, o, cs);
    uint64_t s = cs > v->off ? cs : v->off;
    uint64_t e = cs + MM_CHUNK_SIZE < v->off + len ? cs + MM_CHUNK_SIZE : v->off + len;
    if (e > limit)
        e = limit;
    if (o->file) {
        /* Only what this VMA maps: the chunk's other pages may belong to
         * nobody, and reading them would cost host memory for nothing. */
        int r = mm_file_fill(o, c, cs, (s - cs) / MM_PAGE_SIZE, (e - cs) / MM_PAGE_SIZE, size);
        if (r)
            return r;
    }
    sp->start = v->start + (s - v->off);
    sp->end = v->start + (e - v->off);
    sp->mf_off = c->file_off + (s - cs);
    /* Copy-on-write: stay read-only until this object owns the chunk. And
     * as Linux maps its zero page, stay read-only until the object is first
     * written, so that its first write is seen (mm_share_anon). */
    sp->cow = c->refs > 1 || (!o->shared && !o->written);
    return 0;
}

/* A page of a file's shared pages. */
static int page_backing(struct mm *mm, struct mm_vma *v, uint64_t addr, bool write,
                        struct mm_span *sp)
{
    struct mm_fpages *fp = v->obj->file->pages;
    uint64_t page = mm_page_down(addr);
    uint64_t fo = v->off + (page - v->start);
    if (fo >= mm_page_up(fp->ops->size(fp->owner)))
        return -ABI_EIO;
    int64_t r = fp->ops->page(fp->owner, mm->mf, fo, write);
    if (r < 0)
        return r == -ABI_ENOMEM ? -ABI_ENOMEM : -ABI_EIO;
    sp->start = page;
    sp->end = page + MM_PAGE_SIZE;
    sp->mf_off = (uint64_t)r;
    /* Pages of a cache that writes back are mapped writable only after a
     * write fault has marked them dirty. */
    sp->cow = !write && fp->ops->sync;
    return 0;
}

int mm_backing(struct mm *mm, struct mm_vma *v, uint64_t addr, bool write, struct mm_span *sp)
{
    if (v->obj->file && v->obj->shared)
        return page_backing(mm, v, addr, write, sp);
    return chunk_backing(mm, v, addr, write, sp, NULL);
}

static int platform_prot(int prot)
{
    int p = 0;
    if (prot & ABI_PROT_READ)
        p |= PLATFORM_PROT_READ;
    if (prot & ABI_PROT_WRITE)
        p |= PLATFORM_PROT_WRITE;
    if (prot & ABI_PROT_EXEC)
        p |= PLATFORM_PROT_EXEC;
    return p;
}

static struct platform_map span_map(const struct mm_vma *v, const struct mm_span *sp)
{
    int prot = v->prot;
    if ((prot & ABI_PROT_WRITE) && sp->cow)
        prot = (prot & ~ABI_PROT_WRITE) | ABI_PROT_READ; /* x86: writable means readable */
    return (struct platform_map){sp->start, sp->end - sp->start, platform_prot(prot), sp->mf_off};
}

/* Chunks a fault maps beyond its own, on either side, as Linux maps pages
 * already in the page cache around a fault: each costs the control thread
 * one mmap in the same round trip, where a fault of its own would cost a
 * round trip through the Sentry. */
#define FAULT_AROUND 31

/* Whether the chunk at off of a private file object is at hand without a
 * read: whole in the object, or in the file chunk cache. */
static bool chunk_at_hand(const struct mm_memobj *o, uint64_t off, uint64_t version)
{
    const struct mm_chunk *c = mm_memobj_lookup(o, off);
    if (c)
        return c->filled == (uint16_t)((1u << MM_CHUNK_PAGES) - 1);
    uint64_t cs = off - off % MM_CHUNK_SIZE;
    return mm_fcache_has(o->mf, o->file, cs + o->file_delta, version);
}

/* Spans for the chunks of a private file mapping around [lo, hi) that are
 * at hand, going up then down, at most FAULT_AROUND. Reads nothing. */
static unsigned fault_around(struct mm *mm, struct mm_vma *v, uint64_t lo, uint64_t hi,
                             struct platform_map *out)
{
    struct mm_memobj *o = v->obj;
    if (!o->file || o->shared || !platform_as_map_many_cheap(mm->as))
        return 0;
    /* The file as it is now (an older version's chunks would be read),
     * taken once for every chunk. */
    struct file_now fn = {mm_file_size(o->file), mm_fcache_version(o->file), true};
    unsigned n = 0;
    for (uint64_t from = hi; n < FAULT_AROUND && from < v->end;) {
        struct mm_span sp;
        if (!chunk_at_hand(o, v->off + (from - v->start), fn.version) ||
            chunk_backing(mm, v, from, false, &sp, &fn) != 0 || sp.start != from)
            break;
        out[n++] = span_map(v, &sp);
        from = sp.end;
    }
    for (uint64_t to = lo; n < FAULT_AROUND && to > v->start;) {
        struct mm_span sp;
        if (!chunk_at_hand(o, v->off + (to - 1 - v->start), fn.version) ||
            chunk_backing(mm, v, to - 1, false, &sp, &fn) != 0 || sp.end != to)
            break;
        out[n++] = span_map(v, &sp);
        to = sp.start;
    }
    return n;
}

int mm_handle_fault(struct mm *mm, uint64_t addr, bool write, bool exec, int *si_code)
{
    /* A fault comes from this mm's own thread: it may change the stub. */
    if (mm_has_pending(mm)) {
        int r = mm_apply_pending(mm);
        if (r)
            return r;
    }
    struct mm_vma *v = mm_vma_for_access(mm, addr);
    if (!v) {
        *si_code = ABI_SEGV_MAPERR;
        return -ABI_EFAULT;
    }
    if (!mm_prot_allows(v->prot, write, exec)) {
        *si_code = ABI_SEGV_ACCERR;
        return -ABI_EFAULT;
    }
    struct mm_span sp;
    int err = mm_backing(mm, v, addr, write, &sp);
    if (err) {
        if (err == -ABI_EIO)
            *si_code = ABI_BUS_ADRERR;
        return err;
    }
    if (!mm->as)
        return 0;
    /* One call for the whole span (up to 64 KiB of neighbouring pages the
     * guest will likely touch next), and the file chunks after it that
     * need no read (fault_around). */
    struct platform_map maps[1 + FAULT_AROUND];
    unsigned n = 0;
    maps[n++] = span_map(v, &sp);
    n += fault_around(mm, v, sp.start, sp.end, maps + n);
    int r = platform_as_map_many(mm->as, maps, n);
    if (r)
        return r;
    v->in_stub = true;
    return 0;
}
