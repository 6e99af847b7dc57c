/*
 * Syscall numbers no x86-64 kernel implements must fail with ENOSYS and
 * leave the caller running, natively and in the sandbox alike.
 *
 * The old hole after rseq (335..423) is deliberately not used: Linux 6.11
 * gave 335 to uretprobe, which raises SIGILL outside a probe trampoline.
 */
#include <limits.h>

#include "tests/syscalls/tap.h"

static const struct {
    long nr;
    const char *why;
} unknown[] = {
    {1000, "far beyond the table"}, {-1, "negative"},
    {4096, "a page-size number"},   {512, "x32-only number, refused to 64-bit callers"},
    {547, "last x32-only number"},  {0x40000000L | 1000, "x32 bit with an unknown number"},
    {INT_MAX, "INT_MAX"},           {INT_MIN, "INT_MIN"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        errno = 0;
        long r = syscall(unknown[i].nr, 1, 2, 3, 4, 5, 6);
        ok(r == -1 && errno == ENOSYS, "syscall %ld (%s): ENOSYS (r=%ld errno=%d)", unknown[i].nr,
           unknown[i].why, r, errno);
    }

    /* Arguments that look like pointers must not matter for an unknown call. */
    is_int(SC(1000, (void *)0xffff800000000000UL, NULL, -1L, -1L, -1L, -1L), -ENOSYS,
           "syscall 1000 with hostile arguments: ENOSYS");

    int failures = 0;
    for (int i = 0; i < 1000; i++)
        failures += SC(1000 + i % 7) != -ENOSYS;
    is_int(failures, 0, "1000 unknown calls in a row all return ENOSYS");

    long pid = SC(SYS_getpid);
    ok(pid > 0, "a known syscall still works afterwards (getpid %ld)", pid);
    done_testing();
}
