/* The dispatch table and abi/syscalls.def must agree: a syscall the table
 * handles is documented as supported, and one documented as supported has a
 * handler. This keeps docs/compatibility.md honest. */
#include <criterion/criterion.h>

#include "abi/syscall_table.h"
#include "sentry/syscalls/syscalls.h"

Test(syscalls, table_matches_support_levels)
{
    for (size_t i = 0; i < abi_syscall_count(); i++) {
        const struct abi_syscall *s = abi_syscall_at(i);
        bool handled = syscalls_handler(s->nr) != NULL;
        if (s->support == ABI_SUPPORT_NONE)
            cr_expect(!handled, "%s has a handler but is documented as unsupported", s->name);
        else
            cr_expect(handled, "%s is documented as supported but has no handler", s->name);
    }
}

Test(syscalls, out_of_range_numbers_have_no_handler)
{
    cr_expect_null(syscalls_handler(-1));
    cr_expect_null(syscalls_handler(ABI_SYSCALL_TABLE_SIZE));
    cr_expect_null(syscalls_handler(1L << 40));
    cr_expect_null(syscalls_handler(337)); /* unassigned on x86-64 */
}
