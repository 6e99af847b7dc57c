/* What the loader's own files share; not part of the loader's interface. */
#ifndef MOAT_SENTRY_LOADER_INTERNAL_H
#define MOAT_SENTRY_LOADER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sentry/loader/loader.h"

struct mm;

#define LOADER_PAGE 4096ULL

static inline uint64_t loader_page_down(uint64_t a)
{
    return a & ~(LOADER_PAGE - 1);
}

/* Callers make sure a + LOADER_PAGE - 1 does not wrap. */
static inline uint64_t loader_page_up(uint64_t a)
{
    return (a + LOADER_PAGE - 1) & ~(LOADER_PAGE - 1);
}

/* Reads len bytes at off, retrying short reads until EOF. Returns the bytes
 * read (fewer than len only at EOF) or -errno. A callback claiming more than
 * it was asked for is treated as an I/O error rather than trusted. */
int64_t loader_read_full(const struct loader_image *img, void *buf, size_t len, uint64_t off);

/* Formats a failure sentence into a per-thread buffer and returns it. */
const char *loader_why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* argv/envp after Linux's checks, with lengths known. */
struct loader_stack_plan {
    const char *const *argv;
    uint64_t argc;
    const char *const *envp;
    uint64_t envc;
    const char *execfn;
    uint64_t execfn_size;  /* with its NUL */
    uint64_t strings_size; /* argv and envp strings with their NULs */
};

/* Counts and measures argv/envp/execfn and applies Linux's limits for a stack
 * limit of stack_size bytes: -E2BIG when they do not fit. */
int loader_stack_plan(const struct loader_args *args, uint64_t stack_size,
                      struct loader_stack_plan *plan, const char **why);

/* Where everything on the initial stack goes, for a stack top and a random
 * downward shift of the tables (0 for a fixed layout). */
struct loader_stack_layout {
    uint64_t top;
    uint64_t execfn;   /* AT_EXECFN */
    uint64_t strings;  /* argv[0]; envp strings follow argv's */
    uint64_t platform; /* AT_PLATFORM */
    uint64_t random;   /* AT_RANDOM */
    uint64_t auxv;
    uint64_t auxv_len; /* bytes, AT_NULL pair included */
    uint64_t sp;       /* argc; 16-byte aligned */
};

/* The auxv values that come from the image and the caller. */
struct loader_auxv_values {
    uint64_t phdr, phnum, entry;
    uint64_t base; /* AT_BASE: the interpreter's load address */
    uint64_t hwcap, hwcap2;
    uint64_t vdso_base;
    uint64_t minsigstksz;
    uint32_t uid, euid, gid, egid;
};

void loader_stack_layout(const struct loader_stack_plan *plan, const struct loader_auxv_values *av,
                         uint64_t top, uint64_t shift, struct loader_stack_layout *lay);

/* Writes strings, AT_RANDOM bytes, auxv, envp, argv and argc into the
 * already-mapped stack. Returns 0 or -errno with *why set. */
int loader_stack_write(struct mm *mm, const struct loader_stack_plan *plan,
                       const struct loader_auxv_values *av, const struct loader_stack_layout *lay,
                       const char **why);

#endif
