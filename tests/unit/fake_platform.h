/* A stand-in for platform/ in unit tests: the address-space calls the
 * memory manager makes, recorded, plus an emulated stub page table so tests
 * can check what the stub would see. Only the functions mm needs exist:
 * platform_max_addr, platform_reserved, platform_vdso_base and
 * platform_as_map / unmap / protect.
 */
#ifndef MOAT_TESTS_UNIT_FAKE_PLATFORM_H
#define MOAT_TESTS_UNIT_FAKE_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"

#define FAKE_MAX_RESERVED 8

struct platform {
    uint64_t max_addr;
    struct platform_range reserved[FAKE_MAX_RESERVED];
    size_t nreserved;
    uint64_t vdso_base;
};

enum fake_call_kind { FAKE_MAP, FAKE_UNMAP, FAKE_PROTECT };

struct fake_call {
    enum fake_call_kind kind;
    uint64_t addr, len;
    int prot;     /* MAP, PROTECT: PLATFORM_PROT_* */
    uint64_t off; /* MAP */
};

/* One page mapped in the emulated stub. */
struct fake_page {
    uint64_t addr;
    uint64_t off; /* memory-file offset */
    int prot;
};

struct platform_as {
    struct fake_call *calls;
    size_t ncalls, calls_cap;
    struct fake_page *pages; /* sorted by addr */
    size_t npages, pages_cap;
    int fail_next; /* > 0: that many calls from now fail with -EIO */
};

void fake_platform_init(struct platform *p, uint64_t max_addr);
void fake_platform_reserve(struct platform *p, uint64_t start, uint64_t end);

struct platform_as *fake_as_create(void);
void fake_as_destroy(struct platform_as *as);
void fake_as_forget_calls(struct platform_as *as);
/* The stub page mapping addr, or NULL. */
const struct fake_page *fake_as_page(const struct platform_as *as, uint64_t addr);
/* Calls of one kind recorded since the last forget. */
size_t fake_as_count(const struct platform_as *as, enum fake_call_kind kind);

#endif
