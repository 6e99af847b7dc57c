/* What the files of sentry/mm share and nobody else sees. */
#ifndef MOAT_SENTRY_MM_MM_INTERNAL_H
#define MOAT_SENTRY_MM_MM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "platform/platform.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/vma.h"

/* Lowest address a guest may map: Linux's default vm.mmap_min_addr, which a
 * guest without CAP_SYS_RAWIO cannot go below. */
#define MM_MIN_ADDR 0x10000ULL
/* Free space kept below a MAP_GROWSDOWN VMA (Linux's stack_guard_gap). */
#define MM_STACK_GUARD_GAP (256 * MM_PAGE_SIZE)
/* Guest address space when there is no platform (unit tests). */
#define MM_DEFAULT_MAX_ADDR    0x7e0000000000ULL
#define MM_DEFAULT_STACK_LIMIT (8ULL << 20)
/* x86-64 Linux's TASK_SIZE: argument checks that Linux makes against it
 * (munmap, mremap, mincore) use it, so the guest sees the same errno even
 * though what it can map ends at max_addr. */
#define MM_TASK_SIZE 0x7ffffffff000ULL

struct mm {
    struct mm_memfile *mf;
    struct platform_as *as; /* NULL: nothing is mirrored */
    uint64_t min_addr, max_addr;
    struct platform_range *reserved;
    size_t nreserved;
    uint64_t mmap_base;
    uint64_t brk_start, brk;
    uint64_t stack_limit;
    struct mm_vma_set vmas;
    bool unregistered; /* not in the registry (filemap.c): no file mappings */
    /* Stub unmaps another thread asked for (shootdown.c): they wait for
     * mm_apply_pending, run by a thread of this mm. */
    bool defer_unmaps; /* mm_stub_unmap records instead of unmapping */
    struct mm_range *pending;
    size_t npending, pending_cap;
    bool pending_all;      /* a record could not be kept: drop every stub mapping */
    struct mm *shoot_next; /* list of one truncation's quiesced address spaces */
};

struct mm_range {
    uint64_t start, end;
};

static inline uint64_t mm_page_down(uint64_t v)
{
    return v & ~(MM_PAGE_SIZE - 1);
}

/* Rounds up; 0 when v is within a page of wrapping (callers treat that as
 * an overflow, as Linux's PAGE_ALIGN does). */
static inline uint64_t mm_page_up(uint64_t v)
{
    return (v + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
}

/* Memory file internals. */
uint64_t mm_memfile_max(const struct mm_memfile *mf);
int mm_memfile_punch(struct mm_memfile *mf, uint64_t off, uint64_t len);
/* Allocates host pages for the range so they count as resident. */
int mm_memfile_populate(struct mm_memfile *mf, uint64_t off, uint64_t len);
/* One byte per page, 1 when the host holds the page. */
int mm_memfile_resident(const struct mm_memfile *mf, uint64_t off, uint64_t len, uint8_t *vec);

/* Linux's heuristic overcommit refuses one request for more memory than the
 * machine could ever provide; here that is the memory file's size. Charged
 * are what Linux charges: private writable and shared memory, unless
 * MAP_NORESERVE. True when a request for len bytes must fail with ENOMEM. */
bool mm_overcommits(const struct mm *mm, uint64_t len, int prot, int vma_flags);

/* Whether prot allows the access, with x86 rules: any protection but
 * PROT_NONE can be read. */
bool mm_prot_allows(int prot, bool write, bool exec);

/* A gap request carrying the address space's reserved ranges and guard. */
struct mm_gap_req mm_gap_req(const struct mm *mm, uint64_t lo, uint64_t hi, uint64_t len,
                             bool topdown);
bool mm_range_reserved(const struct mm *mm, uint64_t start, uint64_t end);
/* Linux's get_unmapped_area: hint honoured when free; MAP_FIXED and MAP_32BIT
 * flags as for mmap. The address or -errno. */
int64_t mm_unmapped_area(struct mm *mm, uint64_t hint, uint64_t len, int map_flags);
/* Whether [hint, hint + len) is free, guard gaps included (page aligned). */
bool mm_hint_usable(struct mm *mm, uint64_t hint, uint64_t len);

/* Stub mirroring; no-ops without an address space. While defer_unmaps is
 * set the unmap is only recorded (see shootdown.c). */
void mm_stub_unmap(struct mm *mm, uint64_t start, uint64_t end);
/* Shootdown (shootdown.c): whether the kernel installed its hook; have it
 * stop mm's guest code until mm_apply_pending; record an unmap for later. */
bool mm_shootdown_enabled(void);
void mm_shootdown_quiesce(struct mm *mm);
void mm_pending_add(struct mm *mm, uint64_t start, uint64_t end);
void mm_pending_clear(struct mm *mm);
/* After a chunk of o was replaced (copy-on-write), no stub mapping of the old
 * one may survive. */
void mm_stub_drop_chunk(struct mm *mm, struct mm_memobj *o, uint64_t chunk_off);

/* After a discard of [off, off+len) of o replaced its edge chunks. */
void mm_stub_drop_edges(struct mm *mm, struct mm_memobj *o, uint64_t off, uint64_t len);
/* Removes every VMA piece in [start, end): stub mappings go, private
 * contents are discarded. 0 or -ENOMEM. */
int mm_unmap_range(struct mm *mm, uint64_t start, uint64_t end);
/* Maps fresh anonymous memory over [start, end), which must be free, at
 * object offset off (private memory: Linux's page offset, normally the
 * address), merged into compatible neighbours where Linux would. */
int mm_map_anon(struct mm *mm, uint64_t start, uint64_t end, int prot, int vma_flags,
                const char *name, uint64_t off);
/* v is about to be written for the first time: like Linux's
 * anon_vma_prepare(), reuse a compatible neighbour's object if possible. */
void mm_share_anon(struct mm *mm, struct mm_vma *v);
/* Whether private object o can give offsets [off, off+len) to one more user
 * (no VMA uses them); if so they now count as handed out. Always true for
 * shared objects. */
bool mm_take_offsets(struct mm *mm, struct mm_memobj *o, uint64_t off, uint64_t len);
/* Merges the VMA at index i with its neighbours where Linux would; returns
 * the index of the VMA now covering its range. */
size_t mm_merge_vma(struct mm *mm, size_t i);
/* Grows v by delta bytes at its end, or maps fresh memory there when its
 * object's next offsets are in use. The range above it must be free. */
int mm_grow_vma(struct mm *mm, struct mm_vma *v, uint64_t delta);

/* Gives every page of [start, end) backing and host pages now, as touching
 * them would (MAP_POPULATE, MADV_POPULATE_*). The range must be mapped and
 * accessible. 0 or -ENOMEM. */
int mm_populate(struct mm *mm, uint64_t start, uint64_t end, bool write);

/* Gives [start, end), which lies inside one VMA, new protections and flags,
 * splitting and merging as needed; lost access is taken from the stub at
 * once. 0 or -ENOMEM. */
int mm_change_vma(struct mm *mm, uint64_t start, uint64_t end, int prot, int vma_flags);

/* The VMA a guest access to addr would use, growing a MAP_GROWSDOWN VMA
 * down to it as Linux's fault handler does. NULL: nothing there. */
struct mm_vma *mm_vma_for_access(struct mm *mm, uint64_t addr);

/* Where the memory behind a guest address lives. */
struct mm_span {
    uint64_t start, end; /* guest addresses around the one asked for, within its VMA */
    uint64_t mf_off;     /* memory-file offset of start; the span is contiguous there */
    bool cow;            /* map without write access even if the VMA has it */
};

/* Backing for addr in v, for a read or a write: the chunk holding it (or,
 * for a shared file mapping, the file's page); drops stale stub mappings if
 * copy-on-write replaced a chunk. 0, or -ENOMEM when memory is exhausted,
 * -EIO when the access is a SIGBUS (past the end of a shared anonymous
 * object, or of a mapped file; a file that cannot be read). */
int mm_backing(struct mm *mm, struct mm_vma *v, uint64_t addr, bool write, struct mm_span *sp);

/* Maps [start, end), which must be free, with object o (taking over the
 * caller's reference) at offset off, merged where Linux would. */
int mm_map_obj(struct mm *mm, uint64_t start, uint64_t end, int prot, int vma_flags,
               const char *name, struct mm_memobj *o, uint64_t off);

#endif
