/* The fake platform of fake_platform.h. Host mprotect semantics are
 * emulated where they matter to callers: protecting a range with unmapped
 * pages fails with -ENOMEM after changing the pages before the first hole. */
#include "tests/unit/fake_platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ULL

void fake_platform_init(struct platform *p, uint64_t max_addr)
{
    memset(p, 0, sizeof(*p));
    p->max_addr = max_addr;
}

void fake_platform_reserve(struct platform *p, uint64_t start, uint64_t end)
{
    if (p->nreserved < FAKE_MAX_RESERVED)
        p->reserved[p->nreserved++] = (struct platform_range){start, end};
}

uint64_t platform_max_addr(const struct platform *p)
{
    return p->max_addr;
}

size_t platform_reserved(const struct platform *p, struct platform_range *out, size_t max)
{
    for (size_t i = 0; i < p->nreserved && i < max; i++)
        out[i] = p->reserved[i];
    return p->nreserved;
}

uint64_t platform_vdso_base(const struct platform *p)
{
    return p->vdso_base;
}

struct platform_as *fake_as_create(void)
{
    return calloc(1, sizeof(struct platform_as));
}

void fake_as_destroy(struct platform_as *as)
{
    if (!as)
        return;
    free(as->calls);
    free(as->pages);
    free(as);
}

void fake_as_forget_calls(struct platform_as *as)
{
    as->ncalls = 0;
}

size_t fake_as_count(const struct platform_as *as, enum fake_call_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < as->ncalls; i++)
        n += as->calls[i].kind == kind;
    return n;
}

static void record(struct platform_as *as, struct fake_call c)
{
    if (as->ncalls == as->calls_cap) {
        as->calls_cap = as->calls_cap ? as->calls_cap * 2 : 64;
        as->calls = realloc(as->calls, as->calls_cap * sizeof(*as->calls));
        if (!as->calls)
            abort();
    }
    as->calls[as->ncalls++] = c;
}

/* Index of the first page at or above addr. */
static size_t page_index(const struct platform_as *as, uint64_t addr)
{
    size_t lo = 0, hi = as->npages;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (as->pages[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct fake_page *fake_as_page(const struct platform_as *as, uint64_t addr)
{
    addr &= ~(PAGE - 1);
    size_t i = page_index(as, addr);
    return i < as->npages && as->pages[i].addr == addr ? &as->pages[i] : NULL;
}

static void drop_pages(struct platform_as *as, uint64_t addr, uint64_t len)
{
    if (!as->npages)
        return;
    size_t i = page_index(as, addr), j = page_index(as, addr + len);
    memmove(&as->pages[i], &as->pages[j], (as->npages - j) * sizeof(as->pages[0]));
    as->npages -= j - i;
}

static bool fail(struct platform_as *as)
{
    if (as->fail_next > 0) {
        as->fail_next--;
        return true;
    }
    return false;
}

bool platform_as_map_many_cheap(const struct platform_as *as)
{
    (void)as;
    return true;
}

int platform_as_map_many(struct platform_as *as, const struct platform_map *m, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int r = platform_as_map(as, m[i].addr, m[i].len, m[i].prot, m[i].off);
        if (r)
            return r;
    }
    return 0;
}

int platform_as_map(struct platform_as *as, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
    record(as, (struct fake_call){FAKE_MAP, addr, len, prot, off});
    if (fail(as))
        return -EIO;
    if (addr % PAGE || len % PAGE || off % PAGE || len == 0)
        return -EINVAL;
    drop_pages(as, addr, len);
    size_t n = len / PAGE;
    if (as->npages + n > as->pages_cap) {
        while (as->npages + n > as->pages_cap)
            as->pages_cap = as->pages_cap ? as->pages_cap * 2 : 256;
        as->pages = realloc(as->pages, as->pages_cap * sizeof(*as->pages));
        if (!as->pages)
            abort();
    }
    size_t i = page_index(as, addr);
    if (as->npages > i)
        memmove(&as->pages[i + n], &as->pages[i], (as->npages - i) * sizeof(as->pages[0]));
    for (size_t k = 0; k < n; k++)
        as->pages[i + k] = (struct fake_page){addr + k * PAGE, off + k * PAGE, prot};
    as->npages += n;
    return 0;
}

int platform_as_unmap(struct platform_as *as, uint64_t addr, uint64_t len)
{
    record(as, (struct fake_call){FAKE_UNMAP, addr, len, 0, 0});
    if (fail(as))
        return -EIO;
    if (addr % PAGE || len == 0)
        return -EINVAL;
    drop_pages(as, addr, (len + PAGE - 1) & ~(PAGE - 1));
    return 0;
}

int platform_as_protect(struct platform_as *as, uint64_t addr, uint64_t len, int prot)
{
    record(as, (struct fake_call){FAKE_PROTECT, addr, len, prot, 0});
    if (fail(as))
        return -EIO;
    if (addr % PAGE || len % PAGE)
        return -EINVAL;
    size_t i = page_index(as, addr);
    for (uint64_t a = addr; a < addr + len; a += PAGE, i++) {
        if (i >= as->npages || as->pages[i].addr != a)
            return -ENOMEM;
        as->pages[i].prot = prot;
    }
    return 0;
}
