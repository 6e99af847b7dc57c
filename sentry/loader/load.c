/* Mapping a validated executable into an address space: choosing the layout
 * (load bias, stack top, mmap base, brk), copying the PT_LOAD segments in,
 * and handing over to stack.c for the initial stack.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/auxv.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/loader/internal.h"
#include "sentry/mm/mm.h"

/* The stack VMA starts this much below what the arguments use; the mm grows
 * it on faults from there (Linux extends the new stack by the same amount). */
#define STACK_INITIAL_EXTRA (128ULL * 1024)
#define DEFAULT_STACK_LIMIT (8ULL * 1024 * 1024)
/* Linux keeps this much between the stack limit and the mmap area. */
#define STACK_GUARD_GAP (256 * LOADER_PAGE)
#define MMAP_GAP_MIN    (128ULL * 1024 * 1024)

/* Randomisation ranges, in pages unless said otherwise; the amounts of
 * entropy Linux uses on x86-64 (22 bits for the stack top, 28 for the mmap
 * base and a PIE's bias, 32 MiB for brk, 8 KiB for the stack tables). */
#define STACK_RND_PAGES (1ULL << 22)
#define MMAP_RND_PAGES  (1ULL << 28)
#define BRK_RND_PAGES   ((32ULL * 1024 * 1024) / LOADER_PAGE)
#define SP_SHIFT_BYTES  8192

/* Segment data moves through a buffer of this size, whatever the file says. */
#define COPY_CHUNK (64 * 1024)

/* Deterministic draws from the caller's seed (splitmix64). The seed itself
 * comes from the Sentry's entropy; this only spreads it over several draws. */
struct layout_rng {
    uint64_t state;
    int on;
};

static uint64_t rng_below(struct layout_rng *g, uint64_t bound)
{
    if (!g->on || bound == 0)
        return 0;
    uint64_t z = (g->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z % bound;
}

struct layout {
    uint64_t stack_top;
    uint64_t mmap_base;
    uint64_t bias;
};

/* Randomisation moves the mmap base and a PIE's bias in steps of 64 KiB
 * (mm's chunk), not pages: then every process mapping the same program or
 * interpreter has its chunk windows at the same file offsets, and they
 * share the file's bytes through mm's file chunk cache instead of each
 * reading its own copy. Without randomisation the layout is Linux's. It
 * costs four bits of randomness. */
#define RND_STEP 0x10000ULL

static void choose_layout(const struct loader_elf_info *info, uint64_t max, uint64_t stack_limit,
                          struct layout_rng *g, struct layout *out)
{
    uint64_t stack_rnd = g->on ? STACK_RND_PAGES * LOADER_PAGE : 0;
    out->stack_top = loader_page_down(max - rng_below(g, STACK_RND_PAGES) * LOADER_PAGE);

    /* mmap_base leaves room for the whole stack limit below the highest the
     * stack top can be, within Linux's bounds on that gap. */
    uint64_t gap = stack_limit;
    if (gap + STACK_GUARD_GAP + stack_rnd > gap)
        gap += STACK_GUARD_GAP + stack_rnd;
    if (gap < MMAP_GAP_MIN)
        gap = MMAP_GAP_MIN;
    if (gap > max / 6 * 5)
        gap = max / 6 * 5;
    out->mmap_base = loader_page_down(
        max - gap - rng_below(g, MMAP_RND_PAGES / (RND_STEP / LOADER_PAGE)) * RND_STEP);

    out->bias = 0;
    if (info->type != ABI_ET_DYN)
        return;
    /* A static PIE goes where Linux puts ET_DYN programs with the usual
     * 47-bit space, so that addresses match a native run; a platform with a
     * lower ceiling (or a huge program) gets two thirds of the way up
     * instead. Randomisation shifts it up by at most what keeps it below
     * the mmap area. */
    uint64_t span = info->hi - info->lo;
    uint64_t base = LOADER_DYN_BASE;
    if (out->mmap_base < base || out->mmap_base - base < span)
        base = loader_page_down(max / 3 * 2);
    uint64_t room = out->mmap_base > base && out->mmap_base - base > span
                        ? (out->mmap_base - base - span) / LOADER_PAGE
                        : 0;
    room = (room < MMAP_RND_PAGES ? room : MMAP_RND_PAGES) / (RND_STEP / LOADER_PAGE);
    base += rng_below(g, room) * RND_STEP;
    base &= ~(info->align - 1);
    out->bias = base - info->lo;
}

/* Copies segment s's bytes (and, as Linux's file mapping shows them, the
 * rest of its first and last pages from the file) and zeroes the start of
 * its bss. Memory below prev_end belongs to the previous segment and is not
 * touched; pages past the first bss page are fresh and already zero. */
static int fill_segment(struct mm *mm, const struct loader_image *img,
                        const struct loader_segment *s, uint64_t bias, uint64_t prev_end,
                        unsigned char *buf, const char **why)
{
    uint64_t v = s->vaddr + bias;
    uint64_t lo = loader_page_down(v) > prev_end ? loader_page_down(v) : prev_end;
    int r;

    if (s->filesz > 0) {
        uint64_t fend = v + s->filesz;
        uint64_t hi = s->memsz > s->filesz ? fend : loader_page_up(fend);
        uint64_t off = s->offset - (v - lo);
        for (uint64_t a = lo; a < hi;) {
            size_t want = hi - a < COPY_CHUNK ? (size_t)(hi - a) : COPY_CHUNK;
            int64_t n = loader_read_full(img, buf, want, off);
            if (n < 0) {
                *why = loader_why("cannot read segment %u (error %d)", s->index, (int)-n);
                return (int)n;
            }
            if (n > 0) {
                r = mm_copy_out_force(mm, a, buf, (size_t)n);
                if (r) {
                    *why = loader_why("cannot fill segment %u", s->index);
                    return r;
                }
            }
            if ((size_t)n < want) {
                if (a + (uint64_t)n < fend) {
                    *why = loader_why("truncated: segment %u extends past the end of the file",
                                      s->index);
                    return -ABI_ENOEXEC;
                }
                r = mm_zero(mm, a + (uint64_t)n, hi - a - (uint64_t)n);
                if (r) {
                    *why = loader_why("cannot fill segment %u", s->index);
                    return r;
                }
                break;
            }
            a += want;
            off += want;
        }
    }
    if (s->memsz > s->filesz) {
        uint64_t z = v + s->filesz;
        uint64_t zend = loader_page_up(z);
        r = zend > z ? mm_zero(mm, z, zend - z) : 0;
        if (r) {
            *why = loader_why("cannot clear the bss of segment %u", s->index);
            return r;
        }
    }
    return 0;
}

/* A segment as Linux's elf_load maps it: the pages holding file bytes as a
 * private file mapping (writable until the protections are set, so that the
 * bss part of the last one can be cleared), the rest of the bss as
 * anonymous memory. mapped_end: where the previous segment's memory ends
 * (its last page is not taken over by this one's anonymous part); size: the
 * file's. */
static int map_segment_file(struct mm *mm, const struct loader_image *img, uint64_t size,
                            const struct loader_segment *s, uint64_t bias, uint64_t *mapped_end,
                            const char **why)
{
    const struct mm_file_desc *fd = img->file;
    uint64_t v = s->vaddr + bias;
    uint64_t pd = loader_page_down(v);
    uint64_t anon_from = pd;
    if (s->filesz > 0) {
        if (s->offset > size || s->filesz > size - s->offset) {
            *why = loader_why("truncated: segment %u extends past the end of the file", s->index);
            return -ABI_ENOEXEC;
        }
        uint64_t fend = v + s->filesz;
        uint64_t fpage_end = loader_page_up(fend);
        int64_t m = mm_mmap_file(mm, pd, fpage_end - pd, ABI_PROT_READ | ABI_PROT_WRITE,
                                 ABI_MAP_PRIVATE | ABI_MAP_FIXED, fd, s->offset - (v - pd));
        if (m < 0) {
            *why = loader_why("cannot map segment %u at 0x%" PRIx64, s->index, pd);
            return (int)m;
        }
        if (s->memsz > s->filesz && fpage_end > fend) {
            int r = mm_zero(mm, fend, fpage_end - fend);
            if (r) {
                *why = loader_why("cannot clear the bss of segment %u", s->index);
                return r;
            }
        }
        anon_from = fpage_end;
        *mapped_end = fpage_end;
    }
    if (anon_from < *mapped_end)
        anon_from = *mapped_end;
    uint64_t to = loader_page_up(v + s->memsz);
    if (anon_from < to) {
        int64_t m =
            mm_map_fixed(mm, anon_from, to - anon_from, ABI_PROT_READ | ABI_PROT_WRITE, 0, NULL);
        if (m < 0) {
            *why =
                loader_why("cannot map the bss of segment %u at 0x%" PRIx64, s->index, anon_from);
            return (int)m;
        }
        *mapped_end = to;
    }
    return 0;
}

/* Segments are written through a writable mapping first and get their own
 * protections only once complete. Where two segments share a page, the later
 * one's protection wins, as with Linux's successive file mappings. */
static int map_segments(struct mm *mm, const struct loader_image *img,
                        const struct loader_elf_info *info, uint64_t bias, const char **why)
{
    unsigned char *buf = malloc(COPY_CHUNK);
    if (!buf) {
        *why = "out of memory";
        return -ABI_ENOMEM;
    }
    int r = 0;
    uint64_t mapped_end = 0, prev_end = 0;
    /* One stat of the file for all its segments (a host call on goferfs). */
    uint64_t size = img->file ? img->file->ops->size(img->file->h) : 0;
    for (unsigned k = 0; k < info->nload && !r; k++) {
        const struct loader_segment *s = &info->load[k];
        if (img->file) {
            r = map_segment_file(mm, img, size, s, bias, &mapped_end, why);
            continue;
        }
        uint64_t v = s->vaddr + bias;
        uint64_t from = loader_page_down(v) > mapped_end ? loader_page_down(v) : mapped_end;
        uint64_t to = loader_page_up(v + s->memsz);
        if (from < to) {
            int64_t m = mm_map_fixed(mm, from, to - from, ABI_PROT_READ | ABI_PROT_WRITE, 0, NULL);
            if (m < 0) {
                *why = loader_why("cannot map segment %u at 0x%" PRIx64, s->index, from);
                r = (int)m;
                break;
            }
            mapped_end = to;
        }
        r = fill_segment(mm, img, s, bias, prev_end, buf, why);
        prev_end = v + s->memsz;
    }
    free(buf);
    for (unsigned k = 0; k < info->nload && !r; k++) {
        const struct loader_segment *s = &info->load[k];
        uint64_t v = s->vaddr + bias;
        uint64_t from = loader_page_down(v);
        int64_t m = mm_mprotect(mm, from, loader_page_up(v + s->memsz) - from, s->prot);
        if (m < 0) {
            *why = loader_why("cannot protect segment %u", s->index);
            r = (int)m;
        }
    }
    return r;
}

static int load_images(struct mm *mm, const struct loader_image *img,
                       const struct loader_args *args, struct loader_result *res,
                       struct loader_elf_info *infos, struct loader_image *interp_img,
                       bool *interp_open, const char **why);

int loader_load(struct mm *mm, const struct loader_image *img, const struct loader_args *args,
                struct loader_result *res, const char **why)
{
    const char *ignored;
    if (!why)
        why = &ignored;
    *why = NULL;
    memset(res, 0, sizeof(*res));

    /* Two of these are large; keep them off the stack. */
    struct loader_elf_info *infos = malloc(2 * sizeof(*infos));
    if (!infos) {
        *why = "out of memory";
        return -ABI_ENOMEM;
    }
    struct loader_image interp_img = {0};
    bool interp_open = false;
    int r = load_images(mm, img, args, res, infos, &interp_img, &interp_open, why);
    if (interp_open && args->close_interp)
        args->close_interp(args->interp_arg, &interp_img);
    free(infos);
    return r;
}

/* The interpreter goes just below the mmap base, aligned as it asks, where
 * Linux's first mmap would put it; later mappings go below it. */
static int map_interp(struct mm *mm, const struct loader_image *img,
                      const struct loader_elf_info *ii, uint64_t mmap_base, uint64_t floor,
                      uint64_t *bias, uint64_t *base, const char **why)
{
    uint64_t span = ii->hi - ii->lo;
    if (ii->type == ABI_ET_EXEC) {
        *bias = 0;
        *base = ii->lo;
    } else {
        if (span > mmap_base || mmap_base - span < floor) {
            *why = "the interpreter does not fit below the mmap area";
            return -ABI_ENOMEM;
        }
        *base = (mmap_base - span) & ~(ii->align - 1);
        *bias = *base - ii->lo;
    }
    if (*base < floor || *base + span > mmap_base) {
        *why = loader_why("the interpreter's segments at 0x%" PRIx64 " overlap the program", *base);
        return -ABI_ENOMEM;
    }
    int r = map_segments(mm, img, ii, *bias, why);
    if (r) {
        /* *why may live in the buffer loader_why formats into. */
        char inner[256];
        snprintf(inner, sizeof(inner), "%s", *why ? *why : "cannot be mapped");
        *why = loader_why("interpreter: %s", inner);
    }
    return r;
}

static int load_images(struct mm *mm, const struct loader_image *img,
                       const struct loader_args *args, struct loader_result *res,
                       struct loader_elf_info *infos, struct loader_image *interp_img,
                       bool *interp_open, const char **why)
{
    struct loader_elf_info *mi = &infos[0], *ii = &infos[1];
    int r = loader_elf_parse(img, mi, why);
    if (r)
        return r;
    if (mi->has_interp) {
        if (!args->open_interp) {
            *why = "dynamically linked, with no filesystem to load its interpreter from";
            return -ABI_ENOEXEC;
        }
        r = args->open_interp(args->interp_arg, mi->interp, interp_img);
        if (r) {
            *why = loader_why("cannot open its interpreter %s", mi->interp);
            return r;
        }
        *interp_open = true;
        r = loader_elf_parse(interp_img, ii, why);
        if (r) {
            /* A broken interpreter is the interpreter's fault: ELIBBAD. */
            char inner[256];
            snprintf(inner, sizeof(inner), "%s", *why ? *why : "unusable");
            *why = loader_why("interpreter %s: %s", mi->interp, inner);
            return r == -ABI_ENOEXEC || r == -ABI_EINVAL ? -ABI_ELIBBAD : r;
        }
    }

    uint64_t stack_limit = args->stack_size ? args->stack_size : DEFAULT_STACK_LIMIT;
    struct loader_stack_plan plan;
    r = loader_stack_plan(args, stack_limit, &plan, why);
    if (r)
        return r;

    uint64_t max = loader_page_down(mm_max_addr(mm));
    if (max > LOADER_USER_LIMIT)
        max = LOADER_USER_LIMIT;
    struct layout_rng g = {
        .state = args->random_seed[0] ^ (args->random_seed[1] * 0x2545f4914f6cdd1dULL),
        .on = args->random_seed[0] != 0 || args->random_seed[1] != 0,
    };
    struct layout lay;
    choose_layout(mi, max, stack_limit, &g, &lay);

    uint64_t lo = mi->lo + lay.bias, hi = mi->hi + lay.bias;
    struct loader_auxv_values av = {
        .phdr = mi->has_phdr_addr ? mi->phdr_addr + lay.bias : 0,
        .phnum = mi->phnum,
        .entry = mi->entry + lay.bias,
        .hwcap = args->hwcap,
        .hwcap2 = args->hwcap2,
        .vdso_base = args->vdso_base,
        .minsigstksz = args->minsigstksz ? args->minsigstksz : LOADER_DEFAULT_MINSIGSTKSZ,
        .uid = args->uid,
        .euid = args->euid,
        .gid = args->gid,
        .egid = args->egid,
    };
    if (av.entry >= max) {
        *why = loader_why("entry point 0x%" PRIx64 " lies outside the address space", av.entry);
        return -ABI_EINVAL;
    }

    struct loader_stack_layout sl;
    loader_stack_layout(&plan, &av, lay.stack_top, rng_below(&g, SP_SHIFT_BYTES), &sl);
    uint64_t stack_bottom = loader_page_down(sl.sp) - STACK_INITIAL_EXTRA;
    if (lo < LOADER_MIN_ADDR || hi < lo || hi > stack_bottom) {
        *why = loader_why("the program's segments [0x%" PRIx64 ", 0x%" PRIx64
                          ") do not fit below its stack at 0x%" PRIx64,
                          lo, hi, stack_bottom);
        return -ABI_ENOMEM;
    }

    mm_set_stack_limit(mm, stack_limit);
    r = map_segments(mm, img, mi, lay.bias, why);
    if (r)
        return r;
    uint64_t start = av.entry, interp_bias = 0;
    if (mi->has_interp) {
        r = map_interp(mm, interp_img, ii, lay.mmap_base, hi, &interp_bias, &av.base, why);
        if (r)
            return r;
        start = ii->entry + interp_bias;
        lay.mmap_base = av.base;
    }

    int stack_prot = ABI_PROT_READ | ABI_PROT_WRITE | (mi->stack_exec ? ABI_PROT_EXEC : 0);
    int64_t m = mm_map_fixed(mm, stack_bottom, lay.stack_top - stack_bottom, stack_prot,
                             MM_VMA_GROWSDOWN, "[stack]");
    if (m < 0) {
        *why = "cannot map the stack";
        return (int)m;
    }
    r = loader_stack_write(mm, &plan, &av, &sl, why);
    if (r)
        return r;

    /* Linux starts brk at a random page within 32 MiB above the bss. */
    uint64_t brk = hi + rng_below(&g, BRK_RND_PAGES) * LOADER_PAGE;
    mm_set_mmap_base(mm, lay.mmap_base);
    mm_set_brk_start(mm, brk);

    res->entry = start;
    res->interp_base = av.base;
    res->sp = sl.sp;
    res->load_bias = lay.bias;
    res->brk_start = brk;
    res->stack_top = lay.stack_top;
    res->auxv_addr = sl.auxv;
    uint64_t argv_bytes = 0;
    for (uint64_t i = 0; i < plan.argc; i++)
        argv_bytes += strlen(plan.argv[i]) + 1;
    res->arg_start = sl.strings;
    res->arg_end = res->env_start = sl.strings + argv_bytes;
    res->env_end = sl.strings + plan.strings_size;
    res->auxv_len = sl.auxv_len;
    return 0;
}
