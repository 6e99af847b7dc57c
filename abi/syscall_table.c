/* The syscall table generated from abi/syscalls.def, and its lookups. */
#include "abi/syscall_table.h"

#include <string.h>

/* Each ARGSn(kind, ...) becomes "nargs, {kinds}" for struct abi_syscall. */
// clang-format off
#define ARGS0()                 0, {0}
#define ARGS1(a)                1, {ABI_ARG_##a}
#define ARGS2(a, b)             2, {ABI_ARG_##a, ABI_ARG_##b}
#define ARGS3(a, b, c)          3, {ABI_ARG_##a, ABI_ARG_##b, ABI_ARG_##c}
#define ARGS4(a, b, c, d)       4, {ABI_ARG_##a, ABI_ARG_##b, ABI_ARG_##c, ABI_ARG_##d}
#define ARGS5(a, b, c, d, e)    5, {ABI_ARG_##a, ABI_ARG_##b, ABI_ARG_##c, ABI_ARG_##d, ABI_ARG_##e}
#define ARGS6(a, b, c, d, e, f) 6, {ABI_ARG_##a, ABI_ARG_##b, ABI_ARG_##c, ABI_ARG_##d, ABI_ARG_##e, \
                                    ABI_ARG_##f}
// clang-format on

/* Dense, in file order (which is number order). */
#define ABI_SYSCALL(nr, name, args, support, note) {nr, #name, args, ABI_SUPPORT_##support, note},
static const struct abi_syscall table[] = {
#include "abi/syscalls.def"
};
#undef ABI_SYSCALL

/* Position of each syscall in table[], counted by the enumerators' implicit values. */
#define ABI_SYSCALL(nr, name, args, support, note) IDX_##name,
enum table_index {
#include "abi/syscalls.def"
    TABLE_LEN
};
#undef ABI_SYSCALL

_Static_assert(TABLE_LEN == sizeof(table) / sizeof(table[0]), "index enum matches table");

/* Number -> position + 1 (0: no such syscall). A duplicate number fails to compile. */
#define ABI_SYSCALL(nr, name, args, support, note) [nr] = IDX_##name + 1,
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Woverride-init"
static const uint16_t by_nr[ABI_SYSCALL_TABLE_SIZE] = {
#include "abi/syscalls.def"
};
#pragma GCC diagnostic pop
#undef ABI_SYSCALL

const struct abi_syscall *abi_syscall(long nr)
{
    if (nr < 0 || nr >= ABI_SYSCALL_TABLE_SIZE || by_nr[nr] == 0)
        return NULL;
    return &table[by_nr[nr] - 1];
}

const char *abi_syscall_name(long nr)
{
    const struct abi_syscall *s = abi_syscall(nr);
    return s ? s->name : NULL;
}

long abi_syscall_by_name(const char *name)
{
    if (name == NULL)
        return -1;
    /* A linear scan of ~380 names: only used by tools and tests, never per syscall. */
    for (size_t i = 0; i < TABLE_LEN; i++) {
        if (strcmp(table[i].name, name) == 0)
            return table[i].nr;
    }
    return -1;
}

size_t abi_syscall_count(void)
{
    return TABLE_LEN;
}

const struct abi_syscall *abi_syscall_at(size_t i)
{
    return i < TABLE_LEN ? &table[i] : NULL;
}
