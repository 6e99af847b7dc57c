/* Where the stub lives in every guest address space.
 *
 * The stub code is mapped at a fixed address above the guest's usable range,
 * so guest mappings can never collide with it; the guest's address space ends
 * at STUB_BASE. The address is far below where Linux places the Sentry's own
 * libraries and stack (mmap_base is at least TASK_SIZE minus ~1 TiB), so the
 * Sentry can reserve it at start-up with MAP_FIXED_NOREPLACE.
 */
#ifndef MOAT_PLATFORM_STUB_LAYOUT_H
#define MOAT_PLATFORM_STUB_LAYOUT_H

#define STUB_BASE 0x7e0000000000ULL
#define STUB_SIZE 0x1000ULL
/* Top of the host's user address space on x86-64 with 4-level paging. */
#define STUB_HOST_TASK_TOP 0x7ffffffff000ULL

#endif
