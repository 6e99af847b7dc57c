/* The memory file: one memfd holding all guest memory, and an allocator of
 * page ranges within it.
 *
 * The Sentry reserves max_bytes of its own address space up front and maps
 * the file over the start of that reservation as the file grows, so
 * mm_memfile_ptr() is an addition and pointers stay valid for the file's
 * lifetime. Freed ranges have a hole punched in them: their pages go back to
 * the host at once, and whoever allocates them next reads zeros.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi/errno.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/fcache.h"
#include "sentry/mm/mm_internal.h"

/* The file grows in steps this large: ftruncate and mmap are host calls, and
 * the size of a sparse memfd costs nothing until pages are touched. */
#define MEMFILE_GROW_STEP (64ULL << 20)

struct memfile_extent {
    uint64_t off, len;
};

struct mm_memfile {
    int fd;
    unsigned char *base; /* the reservation; the file is mapped at its start */
    uint64_t max;        /* size of the reservation, bound on the file size */
    uint64_t size;       /* current file size, all of it mapped at base */
    uint64_t top;        /* no offset at or above it is allocated */
    uint64_t used;
    /* Free ranges below top, sorted by offset, never adjacent (coalesced). */
    struct memfile_extent *free;
    size_t nfree, cap;
};

static uint64_t round_up(uint64_t v, uint64_t to)
{
    return (v + to - 1) / to * to;
}

int mm_memfile_create(uint64_t max_bytes, struct mm_memfile **out)
{
    if (max_bytes == 0 || max_bytes % MM_PAGE_SIZE)
        return -ABI_EINVAL;
    struct mm_memfile *mf = calloc(1, sizeof(*mf));
    if (!mf)
        return -ABI_ENOMEM;
    mf->fd = memfd_create("moat-memory", MFD_CLOEXEC);
    if (mf->fd < 0) {
        int e = errno;
        free(mf);
        return -e;
    }
    void *base =
        mmap(NULL, max_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        close(mf->fd);
        free(mf);
        return -e;
    }
    mf->base = base;
    mf->max = max_bytes;
    *out = mf;
    return 0;
}

void mm_memfile_destroy(struct mm_memfile *mf)
{
    if (!mf)
        return;
    mm_fcache_forget(mf);
    munmap(mf->base, mf->max);
    close(mf->fd);
    free(mf->free);
    free(mf);
}

int mm_memfile_fd(const struct mm_memfile *mf)
{
    return mf->fd;
}

void *mm_memfile_ptr(const struct mm_memfile *mf, uint64_t off)
{
    return mf->base + off;
}

uint64_t mm_memfile_used(const struct mm_memfile *mf)
{
    return mf->used;
}

uint64_t mm_memfile_max(const struct mm_memfile *mf)
{
    return mf->max;
}

/* Makes the file at least `need` bytes long and maps the new part. */
static int grow_file(struct mm_memfile *mf, uint64_t need)
{
    if (need <= mf->size)
        return 0;
    if (need > mf->max)
        return -ABI_ENOMEM;
    uint64_t size = round_up(need, MEMFILE_GROW_STEP);
    if (size > mf->max)
        size = mf->max;
    if (ftruncate(mf->fd, (off_t)size) < 0)
        return -ABI_ENOMEM;
    void *p = mmap(mf->base + mf->size, size - mf->size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_FIXED, mf->fd, (off_t)mf->size);
    if (p == MAP_FAILED) {
        /* Keep the file and its mapping the same size. */
        if (ftruncate(mf->fd, (off_t)mf->size) < 0)
            abort();
        return -ABI_ENOMEM;
    }
    mf->size = size;
    return 0;
}

int64_t mm_memfile_alloc(struct mm_memfile *mf, uint64_t len)
{
    if (len == 0 || len % MM_PAGE_SIZE)
        return -ABI_EINVAL;
    /* First fit: most requests are chunk-sized, so the first free range
     * usually fits and low offsets get reused first. */
    for (size_t i = 0; i < mf->nfree; i++) {
        struct memfile_extent *e = &mf->free[i];
        if (e->len < len)
            continue;
        uint64_t off = e->off;
        e->off += len;
        e->len -= len;
        if (e->len == 0) {
            memmove(e, e + 1, (mf->nfree - i - 1) * sizeof(*e));
            mf->nfree--;
        }
        mf->used += len;
        return (int64_t)off;
    }
    if (len > mf->max - mf->top)
        return -ABI_ENOMEM;
    int r = grow_file(mf, mf->top + len);
    if (r)
        return r;
    uint64_t off = mf->top;
    mf->top += len;
    mf->used += len;
    return (int64_t)off;
}

/* Index of the first free extent with offset above off. */
static size_t extent_after(const struct mm_memfile *mf, uint64_t off)
{
    size_t lo = 0, hi = mf->nfree;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mf->free[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int mm_memfile_punch(struct mm_memfile *mf, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (fallocate(mf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
        return -errno;
    return 0;
}

void mm_memfile_free(struct mm_memfile *mf, uint64_t off, uint64_t len)
{
    if (len == 0)
        return;
    /* If the hole cannot be punched the pages must not be handed out again:
     * the next owner would see the previous owner's data. Leaking them is the
     * safe failure. */
    if (mm_memfile_punch(mf, off, len))
        return;
    mf->used -= len;

    size_t i = extent_after(mf, off);
    bool join_prev = i > 0 && mf->free[i - 1].off + mf->free[i - 1].len == off;
    bool join_next = i < mf->nfree && off + len == mf->free[i].off;
    if (join_prev && join_next) {
        mf->free[i - 1].len += len + mf->free[i].len;
        memmove(&mf->free[i], &mf->free[i + 1], (mf->nfree - i - 1) * sizeof(mf->free[0]));
        mf->nfree--;
        i--;
    } else if (join_prev) {
        mf->free[i - 1].len += len;
        i--;
    } else if (join_next) {
        mf->free[i].off = off;
        mf->free[i].len += len;
    } else {
        if (mf->nfree == mf->cap) {
            size_t cap = mf->cap ? mf->cap * 2 : 16;
            struct memfile_extent *n = realloc(mf->free, cap * sizeof(*n));
            if (!n) {
                /* Cannot record it; the range stays unusable (but punched). */
                return;
            }
            mf->free = n;
            mf->cap = cap;
        }
        memmove(&mf->free[i + 1], &mf->free[i], (mf->nfree - i) * sizeof(mf->free[0]));
        mf->free[i] = (struct memfile_extent){off, len};
        mf->nfree++;
    }
    /* A free range at the top gives its offsets back to the untouched tail. */
    if (i == mf->nfree - 1 && mf->free[i].off + mf->free[i].len == mf->top) {
        mf->top = mf->free[i].off;
        mf->nfree--;
    }
}

int mm_memfile_populate(struct mm_memfile *mf, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    /* fallocate would allocate pages the host does not count as resident
     * (mincore) until touched: fault them in through our mapping instead. */
    unsigned char *p = mf->base + off;
    if (madvise(p, len, MADV_POPULATE_READ) == 0)
        return 0;
    if (errno != EINVAL)
        return -ABI_ENOMEM;
    for (uint64_t i = 0; i < len; i += MM_PAGE_SIZE)
        (void)*(volatile unsigned char *)(p + i);
    return 0;
}

int mm_memfile_resident(const struct mm_memfile *mf, uint64_t off, uint64_t len, uint8_t *vec)
{
    if (mincore(mf->base + off, len, vec) < 0)
        return -errno;
    for (uint64_t i = 0; i < len / MM_PAGE_SIZE; i++)
        vec[i] &= 1;
    return 0;
}
