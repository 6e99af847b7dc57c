/* goferfs page cache for shared mappings. See gofer_pagecache.h.
 *
 * Pages live in a sorted array (mapped files are few and a binary search is
 * enough). A page once written through a mapping stays dirty until the
 * cache goes: the Sentry cannot tell when a writable stub mapping writes
 * again, so every writeback writes all pages ever dirtied (clipped to the
 * file's size, so a page cut by truncation never extends the file). */
#include "sentry/fs/gofer_pagecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/errno.h"
#include "sentry/vfs/file.h"

struct cpage {
    uint64_t idx;
    uint64_t off; /* in the memory file */
    bool dirty;
};

struct gofer_pagecache {
    struct mm_fpages *fp;
    struct mm_memfile *mf; /* set with the first page */
    struct vfs_file *file; /* one reference while mapped */
    int fd;
    bool writable;
    struct cpage *pages;
    size_t n, cap;
};

static size_t page_pos(const struct gofer_pagecache *pc, uint64_t idx)
{
    size_t lo = 0, hi = pc->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pc->pages[mid].idx < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct cpage *page_find(struct gofer_pagecache *pc, uint64_t idx)
{
    size_t i = page_pos(pc, idx);
    return i < pc->n && pc->pages[i].idx == idx ? &pc->pages[i] : NULL;
}

static uint64_t host_size(const struct gofer_pagecache *pc)
{
    struct stat st;
    if (pc->fd < 0 || fstat(pc->fd, &st) < 0 || st.st_size < 0)
        return 0;
    return (uint64_t)st.st_size;
}

static int64_t cache_page(void *owner, struct mm_memfile *mf, uint64_t off, bool write)
{
    struct gofer_pagecache *pc = owner;
    uint64_t idx = off / MM_PAGE_SIZE;
    struct cpage *p = page_find(pc, idx);
    if (!p) {
        if (pc->fd < 0)
            return -ABI_EIO;
        if (pc->n == pc->cap) {
            size_t cap = pc->cap ? pc->cap * 2 : 16;
            struct cpage *np = realloc(pc->pages, cap * sizeof(*np));
            if (!np)
                return -ABI_ENOMEM;
            pc->pages = np;
            pc->cap = cap;
        }
        int64_t moff = mm_memfile_alloc(mf, MM_PAGE_SIZE);
        if (moff < 0)
            return -ABI_ENOMEM;
        pc->mf = mf;
        unsigned char *dst = mm_memfile_ptr(mf, (uint64_t)moff);
        for (uint64_t got = 0; got < MM_PAGE_SIZE;) {
            ssize_t r = pread(pc->fd, dst + got, MM_PAGE_SIZE - got, (off_t)(off + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                mm_memfile_free(mf, (uint64_t)moff, MM_PAGE_SIZE);
                return -ABI_EIO;
            }
            if (r == 0)
                break; /* the rest of the page reads as zeros */
            got += (uint64_t)r;
        }
        size_t i = page_pos(pc, idx);
        memmove(&pc->pages[i + 1], &pc->pages[i], (pc->n - i) * sizeof(pc->pages[0]));
        pc->pages[i] = (struct cpage){.idx = idx, .off = (uint64_t)moff};
        pc->n++;
        p = &pc->pages[i];
    }
    if (write)
        p->dirty = true;
    return (int64_t)p->off;
}

static uint64_t cache_size(void *owner)
{
    return host_size(owner);
}

static int cache_sync(void *owner, uint64_t off, uint64_t len)
{
    struct gofer_pagecache *pc = owner;
    if (pc->n == 0)
        return 0;
    uint64_t size = host_size(pc);
    uint64_t end = len > UINT64_MAX - off ? UINT64_MAX : off + len;
    int err = 0;
    for (size_t i = page_pos(pc, off / MM_PAGE_SIZE); i < pc->n; i++) {
        const struct cpage *p = &pc->pages[i];
        uint64_t at = p->idx * MM_PAGE_SIZE;
        if (at >= end)
            break;
        if (!p->dirty || at >= size)
            continue;
        uint64_t n = size - at < MM_PAGE_SIZE ? size - at : MM_PAGE_SIZE;
        const unsigned char *src = mm_memfile_ptr(pc->mf, p->off);
        for (uint64_t done = 0; done < n;) {
            ssize_t r = pwrite(pc->fd, src + done, n - done, (off_t)(at + done));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                err = r < 0 ? -errno : -ABI_EIO;
                break;
            }
            done += (uint64_t)r;
        }
    }
    return err;
}

static void drop_pages_from(struct gofer_pagecache *pc, size_t i)
{
    for (size_t j = i; j < pc->n; j++)
        mm_memfile_free(pc->mf, pc->pages[j].off, MM_PAGE_SIZE);
    pc->n = i;
}

/* The last mapping went (after its writeback): the pages and the file go. */
static void cache_unmapped(void *owner)
{
    struct gofer_pagecache *pc = owner;
    drop_pages_from(pc, 0);
    struct vfs_file *f = pc->file;
    pc->file = NULL;
    pc->fd = -1;
    pc->writable = false;
    if (f)
        vfs_file_put(f);
}

static const struct mm_fpages_ops cache_ops = {
    .page = cache_page,
    .size = cache_size,
    .sync = cache_sync,
    .unmapped = cache_unmapped,
};

struct gofer_pagecache *gofer_pagecache_new(void)
{
    struct gofer_pagecache *pc = calloc(1, sizeof(*pc));
    if (!pc)
        return NULL;
    pc->fd = -1;
    pc->fp = mm_fpages_create(&cache_ops, pc);
    if (!pc->fp) {
        free(pc);
        return NULL;
    }
    return pc;
}

void gofer_pagecache_free(struct gofer_pagecache *pc)
{
    if (!pc)
        return;
    /* Mappings hold the file, so none is left: the pages went with the
     * last one. */
    mm_fpages_destroy(pc->fp);
    free(pc->pages);
    free(pc);
}

struct mm_fpages *gofer_pagecache_fpages(struct gofer_pagecache *pc)
{
    return pc->fp;
}

int gofer_pagecache_attach(struct gofer_pagecache *pc, struct vfs_file *f, int fd, bool writable)
{
    if (pc->file && (pc->writable || !writable))
        return 0;
    struct vfs_file *old = pc->file;
    pc->file = vfs_file_get(f);
    pc->fd = fd;
    pc->writable = writable;
    if (old)
        vfs_file_put(old);
    return 0;
}

void gofer_pagecache_read(struct gofer_pagecache *pc, void *buf, uint64_t n, uint64_t off)
{
    if (pc->n == 0 || n == 0)
        return;
    uint64_t end = off + n;
    for (size_t i = page_pos(pc, off / MM_PAGE_SIZE); i < pc->n; i++) {
        const struct cpage *p = &pc->pages[i];
        uint64_t ps = p->idx * MM_PAGE_SIZE, pe = ps + MM_PAGE_SIZE;
        if (ps >= end)
            break;
        uint64_t s = ps > off ? ps : off, e = pe < end ? pe : end;
        memcpy((unsigned char *)buf + (s - off),
               (const unsigned char *)mm_memfile_ptr(pc->mf, p->off) + (s - ps), e - s);
    }
}

void gofer_pagecache_write(struct gofer_pagecache *pc, const void *buf, uint64_t n, uint64_t off)
{
    if (pc->n == 0 || n == 0)
        return;
    uint64_t end = off + n;
    for (size_t i = page_pos(pc, off / MM_PAGE_SIZE); i < pc->n; i++) {
        const struct cpage *p = &pc->pages[i];
        uint64_t ps = p->idx * MM_PAGE_SIZE, pe = ps + MM_PAGE_SIZE;
        if (ps >= end)
            break;
        uint64_t s = ps > off ? ps : off, e = pe < end ? pe : end;
        memcpy((unsigned char *)mm_memfile_ptr(pc->mf, p->off) + (s - ps),
               (const unsigned char *)buf + (s - off), e - s);
    }
}

void gofer_pagecache_truncate(struct gofer_pagecache *pc, uint64_t size)
{
    mm_fpages_truncate(pc->fp, size);
    if (pc->n == 0)
        return;
    drop_pages_from(pc, page_pos(pc, (size + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE));
    /* The cut page's tail reads as zeros, as the host's does. */
    struct cpage *p = size % MM_PAGE_SIZE ? page_find(pc, size / MM_PAGE_SIZE) : NULL;
    if (p)
        memset((unsigned char *)mm_memfile_ptr(pc->mf, p->off) + size % MM_PAGE_SIZE, 0,
               MM_PAGE_SIZE - size % MM_PAGE_SIZE);
}

int gofer_pagecache_sync(struct gofer_pagecache *pc)
{
    return cache_sync(pc, 0, UINT64_MAX);
}

void gofer_pagecache_refresh(struct gofer_pagecache *pc)
{
    if (pc->n == 0)
        return;
    uint64_t size = host_size(pc);
    gofer_pagecache_truncate(pc, size);
    for (size_t i = 0; i < pc->n; i++) {
        unsigned char *dst = mm_memfile_ptr(pc->mf, pc->pages[i].off);
        uint64_t at = pc->pages[i].idx * MM_PAGE_SIZE, got = 0;
        while (got < MM_PAGE_SIZE) {
            ssize_t r = pread(pc->fd, dst + got, MM_PAGE_SIZE - got, (off_t)(at + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (uint64_t)r;
        }
        memset(dst + got, 0, MM_PAGE_SIZE - got);
    }
}
