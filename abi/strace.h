/* Formats one guest syscall as a strace-style line, for --strace and debug logs. */
#ifndef MOAT_ABI_STRACE_H
#define MOAT_ABI_STRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a buffer argument shown before "..." (strace's -s default). */
#define ABI_STRACE_MAX_STR 32
/* Paths are shown whole up to this length, as strace does. */
#define ABI_STRACE_MAX_PATH 4096
/* Elements of an argv or iovec array shown before "...". */
#define ABI_STRACE_MAX_ELEMS 16

/* Reads guest memory; returns 0 or -EFAULT. */
typedef int (*abi_guest_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Formats "name(arg, arg, ...) = ret" into buf, always NUL-terminated when
 * cap > 0 and truncated to fit. With has_ret false the call has not returned
 * (exit, or printed on entry to a blocking call) and the line ends in "...";
 * output buffers are then shown as addresses. rd may be NULL: every pointer
 * is then printed as an address. Returns strlen(buf).
 */
size_t abi_strace_format(char *buf, size_t cap, long nr, const uint64_t args[6], bool has_ret,
                         int64_t ret, abi_guest_read_fn rd, void *ctx);

#endif
