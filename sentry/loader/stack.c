/* The initial stack: argument and environment strings, auxv, and the pointer
 * arrays a program's _start expects, laid out from the top the way Linux
 * does it so that programs which peek at it (and /proc/PID/auxv later) see
 * the same picture:
 *
 *   top - 8          a zero word
 *                    AT_EXECFN string
 *                    argv strings, then envp strings (argv[0] lowest)
 *                    (random shift when randomised, then 16-byte alignment)
 *                    "x86_64" (AT_PLATFORM)
 *                    16 bytes for AT_RANDOM
 *                    (padding so that sp ends up 16-byte aligned)
 *                    auxv pairs, AT_NULL last
 *                    envp pointers, NULL
 *                    argv pointers, NULL
 *   sp ->            argc
 */
#include <string.h>
#include <sys/random.h>

#include "abi/auxv.h"
#include "abi/errno.h"
#include "sentry/loader/internal.h"
#include "sentry/mm/mm.h"

#define PLATFORM_STRING "x86_64"
/* The larger share of a stack limit that arguments may take is capped like
 * Linux's: 3/4 of its 8 MiB default stack limit. */
#define ARG_TOTAL_CAP  (8ULL * 1024 * 1024 / 4 * 3)
#define MAX_AUXV_PAIRS 24

static const char *const empty_argv[] = {"", NULL};

/* Adds one string's size to *total, failing once it passes limit. Strings are
 * measured with strnlen so that one without a NUL in reach is not read past
 * what the limit allows. */
static int measure(const char *s, uint64_t limit, uint64_t *total, uint64_t *size_out,
                   const char *what, uint64_t idx, const char **why)
{
    size_t len = strnlen(s, LOADER_MAX_ARG_STRLEN);
    if (len >= LOADER_MAX_ARG_STRLEN) {
        *why = loader_why("%s[%llu] is longer than %llu bytes", what, (unsigned long long)idx,
                          LOADER_MAX_ARG_STRLEN - 1);
        return -ABI_E2BIG;
    }
    *total += len + 1;
    if (*total > limit) {
        *why = "argument list and environment too long";
        return -ABI_E2BIG;
    }
    if (size_out)
        *size_out = len + 1;
    return 0;
}

int loader_stack_plan(const struct loader_args *args, uint64_t stack_size,
                      struct loader_stack_plan *plan, const char **why)
{
    memset(plan, 0, sizeof(*plan));
    plan->argv = args->argv && args->argv[0] ? args->argv : empty_argv;
    plan->envp = args->envp;

    uint64_t limit = stack_size / 4;
    if (limit > ARG_TOTAL_CAP)
        limit = ARG_TOTAL_CAP;
    if (limit < LOADER_MIN_ARG_TOTAL)
        limit = LOADER_MIN_ARG_TOTAL;

    /* Pointers count against the limit too; counting them first, one by
     * one, stops a huge argv before any string is measured. */
    uint64_t used = 0;
    for (uint64_t i = 0; plan->argv[i]; i++) {
        used += sizeof(uint64_t);
        if (used >= limit) {
            *why = "too many arguments";
            return -ABI_E2BIG;
        }
        plan->argc++;
    }
    for (uint64_t i = 0; plan->envp && plan->envp[i]; i++) {
        used += sizeof(uint64_t);
        if (used >= limit) {
            *why = "argument list and environment too long";
            return -ABI_E2BIG;
        }
        plan->envc++;
    }

    int r;
    for (uint64_t i = 0; i < plan->argc; i++) {
        r = measure(plan->argv[i], limit, &used, NULL, "argv", i, why);
        if (r)
            return r;
    }
    for (uint64_t i = 0; i < plan->envc; i++) {
        r = measure(plan->envp[i], limit, &used, NULL, "envp", i, why);
        if (r)
            return r;
    }
    plan->strings_size = used - (plan->argc + plan->envc) * sizeof(uint64_t);
    plan->execfn = args->execfn ? args->execfn : plan->argv[0];
    return measure(plan->execfn, limit, &used, &plan->execfn_size, "execfn", 0, why);
}

/* Fills pairs and returns how many were written, AT_NULL included. */
static unsigned build_auxv(uint64_t pairs[][2], const struct loader_auxv_values *av,
                           const struct loader_stack_layout *lay)
{
    unsigned n = 0;
#define PUT(k, v)                                                                                  \
    do {                                                                                           \
        pairs[n][0] = (k);                                                                         \
        pairs[n][1] = (v);                                                                         \
        n++;                                                                                       \
    } while (0)
    if (av->vdso_base)
        PUT(ABI_AT_SYSINFO_EHDR, av->vdso_base);
    PUT(ABI_AT_MINSIGSTKSZ, av->minsigstksz);
    PUT(ABI_AT_HWCAP, av->hwcap);
    PUT(ABI_AT_PAGESZ, LOADER_PAGE);
    PUT(ABI_AT_CLKTCK, 100);
    PUT(ABI_AT_PHDR, av->phdr);
    PUT(ABI_AT_PHENT, sizeof(struct abi_elf64_phdr));
    PUT(ABI_AT_PHNUM, av->phnum);
    PUT(ABI_AT_BASE, av->base);
    PUT(ABI_AT_FLAGS, 0);
    PUT(ABI_AT_ENTRY, av->entry);
    PUT(ABI_AT_UID, av->uid);
    PUT(ABI_AT_EUID, av->euid);
    PUT(ABI_AT_GID, av->gid);
    PUT(ABI_AT_EGID, av->egid);
    PUT(ABI_AT_SECURE, 0);
    PUT(ABI_AT_RANDOM, lay->random);
    PUT(ABI_AT_HWCAP2, av->hwcap2);
    PUT(ABI_AT_EXECFN, lay->execfn);
    PUT(ABI_AT_PLATFORM, lay->platform);
    PUT(ABI_AT_NULL, 0);
#undef PUT
    return n;
}

void loader_stack_layout(const struct loader_stack_plan *plan, const struct loader_auxv_values *av,
                         uint64_t top, uint64_t shift, struct loader_stack_layout *lay)
{
    memset(lay, 0, sizeof(*lay));
    lay->top = top;
    uint64_t p = top - sizeof(uint64_t);
    p -= plan->execfn_size;
    lay->execfn = p;
    p -= plan->strings_size;
    lay->strings = p;
    p = (p - shift) & ~15ULL;
    p -= sizeof(PLATFORM_STRING);
    lay->platform = p;
    p -= ABI_AT_RANDOM_LEN;
    lay->random = p;

    uint64_t pairs[MAX_AUXV_PAIRS][2];
    lay->auxv_len = build_auxv(pairs, av, lay) * 2 * sizeof(uint64_t);
    /* argc, argv with NULL, envp with NULL */
    uint64_t words = 1 + (plan->argc + 1) + (plan->envc + 1);
    lay->sp = (p - lay->auxv_len - words * sizeof(uint64_t)) & ~15ULL;
    lay->auxv = lay->sp + (words * sizeof(uint64_t));
}

/* Copies out the pointer array for n strings laid out back to back from
 * *str_addr, then its NULL, advancing both addresses. */
static int write_pointers(struct mm *mm, const char *const *strs, uint64_t n, uint64_t *ptr_addr,
                          uint64_t *str_addr)
{
    uint64_t batch[256];
    uint64_t k = 0;
    for (uint64_t i = 0; i <= n; i++) {
        if (i < n) {
            batch[k++] = *str_addr;
            *str_addr += strlen(strs[i]) + 1;
        } else {
            batch[k++] = 0;
        }
        if (k == sizeof(batch) / sizeof(batch[0]) || i == n) {
            int r = mm_copy_out(mm, *ptr_addr, batch, k * sizeof(batch[0]));
            if (r)
                return r;
            *ptr_addr += k * sizeof(batch[0]);
            k = 0;
        }
    }
    return 0;
}

static int write_strings(struct mm *mm, const char *const *strs, uint64_t n, uint64_t *addr)
{
    for (uint64_t i = 0; i < n; i++) {
        size_t size = strlen(strs[i]) + 1;
        int r = mm_copy_out(mm, *addr, strs[i], size);
        if (r)
            return r;
        *addr += size;
    }
    return 0;
}

int loader_stack_write(struct mm *mm, const struct loader_stack_plan *plan,
                       const struct loader_auxv_values *av, const struct loader_stack_layout *lay,
                       const char **why)
{
    unsigned char rnd[ABI_AT_RANDOM_LEN];
    /* AT_RANDOM seeds the guest's stack protector and pointer guard: it comes
     * from the host's entropy whatever the layout seed, as Linux's does with
     * randomisation off. */
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        *why = "cannot get random bytes for AT_RANDOM";
        return -ABI_EIO;
    }
    uint64_t pairs[MAX_AUXV_PAIRS][2];
    unsigned npairs = build_auxv(pairs, av, lay);
    uint64_t argc = plan->argc;

    uint64_t str = lay->strings;
    int r = write_strings(mm, plan->argv, plan->argc, &str);
    if (!r)
        r = write_strings(mm, plan->envp, plan->envc, &str);
    if (!r)
        r = mm_copy_out(mm, lay->execfn, plan->execfn, plan->execfn_size);
    if (!r)
        r = mm_copy_out(mm, lay->platform, PLATFORM_STRING, sizeof(PLATFORM_STRING));
    if (!r)
        r = mm_copy_out(mm, lay->random, rnd, sizeof(rnd));
    if (!r)
        r = mm_copy_out(mm, lay->auxv, pairs, npairs * sizeof(pairs[0]));
    if (!r)
        r = mm_copy_out(mm, lay->sp, &argc, sizeof(argc));
    uint64_t ptr = lay->sp + sizeof(uint64_t);
    str = lay->strings;
    if (!r)
        r = write_pointers(mm, plan->argv, plan->argc, &ptr, &str);
    if (!r)
        r = write_pointers(mm, plan->envp, plan->envc, &ptr, &str);
    if (r) {
        *why = "cannot write the initial stack";
        return r;
    }
    return 0;
}
