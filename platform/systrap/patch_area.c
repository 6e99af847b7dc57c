/* The patch area: what a patched syscall site jumps through (sysmsg.h).
 *
 * Its content is the same in every address space, so it is built once, in
 * the Sentry before the factory forks, and every stub inherits it as
 * private read-only memory: no guest can change it, and no address space
 * needs a copy of its own. What differs per address space (which site each
 * trampoline returns to, and its call number) lives in the Sentry. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "platform/systrap/systrap.h"

_Static_assert(PATCH_TABLE + 8 * PATCH_SLOTS <= PATCH_CODE, "table fits");
_Static_assert(((PATCH_TABLE >> 16) & 0xff) == 0x06 &&
                   ((PATCH_TABLE + 8 * PATCH_SLOTS - 1) >> 16) == (PATCH_TABLE >> 16),
               "every table entry's third byte is the invalid opcode 06");
_Static_assert(PATCH_CODE + PATCH_TRAMP_SIZE * PATCH_SLOTS <= PATCH_ENTRY_PTR, "code fits");
_Static_assert(PATCH_END <= 0x80000000, "a 32-bit absolute operand reaches the area");

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

int systrap_patch_area_create(const char **why)
{
    size_t len = PATCH_END - PATCH_BASE;
    uint8_t *a = mmap((void *)(uintptr_t)PATCH_BASE, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (a == MAP_FAILED || a != (uint8_t *)(uintptr_t)PATCH_BASE) {
        int err = a == MAP_FAILED ? -errno : -EEXIST;
        if (a != MAP_FAILED)
            munmap(a, len);
        *why = "the patch area's address range is taken in the Sentry";
        return err;
    }
    for (unsigned k = 0; k < PATCH_SLOTS; k++) {
        uint64_t tramp = PATCH_CODE + (uint64_t)k * PATCH_TRAMP_SIZE;
        memcpy(a + (PATCH_TABLE - PATCH_BASE) + 8 * k, &tramp, sizeof(tramp));
        /* mov $k, %r11d; jmp *PATCH_ENTRY_PTR; then int3 padding */
        uint8_t *t = a + (tramp - PATCH_BASE);
        memset(t, 0xcc, PATCH_TRAMP_SIZE);
        t[0] = 0x41;
        t[1] = 0xbb;
        put32(t + 2, k);
        t[6] = 0xff;
        t[7] = 0x24;
        t[8] = 0x25;
        put32(t + 9, PATCH_ENTRY_PTR);
    }
    uint64_t entry = systrap_stub_addr(systrap_patch_entry);
    memcpy(a + (PATCH_ENTRY_PTR - PATCH_BASE), &entry, sizeof(entry));
    if (mprotect(a, len, PROT_READ | PROT_EXEC) < 0) {
        int err = -errno;
        munmap(a, len);
        *why = "cannot make the patch area read-only";
        return err;
    }
    return 0;
}

void systrap_patch_code(unsigned k, uint8_t out[7])
{
    out[0] = 0xff; /* jmp *disp32: ModRM 24 with SIB 25 means no base, no index */
    out[1] = 0x24;
    out[2] = 0x25;
    put32(out + 3, (uint32_t)(PATCH_TABLE + 8 * (uint64_t)k));
}
