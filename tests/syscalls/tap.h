/*
 * Minimal TAP producer for guest test programs.
 *
 * Guest programs run inside a sandbox that, early on, offers nothing but
 * stdio: no files, no threads, no signals. So output goes straight to fd 1
 * with write(2), formatted on the stack; nothing here allocates or opens.
 *
 * The plan is printed by done_testing() unless plan() was called first:
 * a program that dies half-way therefore never prints "1..N" and the
 * harness reports it as failed, which is what the tests rely on to prove
 * the guest survived every hostile call it made.
 */
#ifndef MOAT_TESTS_SYSCALLS_TAP_H
#define MOAT_TESTS_SYSCALLS_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int tap_planned;
static int tap_count;
static int tap_failures;

static inline void tap_write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(1, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

static inline void tap_vprintf(const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    tap_write_all(buf, (size_t)n);
}

__attribute__((format(printf, 1, 2))) static inline void tap_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vprintf(fmt, ap);
    va_end(ap);
}

static inline void plan(int n)
{
    tap_planned = 1;
    tap_printf("1..%d\n", n);
}

/* Comment lines; a multi-line message becomes several '#' lines. */
__attribute__((format(printf, 1, 2))) static inline void diag(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *line = buf;
    for (;;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        tap_printf("# %s\n", line);
        if (!nl || nl[1] == '\0')
            break;
        line = nl + 1;
    }
}

static inline int tap_result(int cond, const char *detail, const char *fmt, va_list ap)
{
    char name[512];
    vsnprintf(name, sizeof(name), fmt, ap);
    tap_count++;
    if (!cond)
        tap_failures++;
    tap_printf("%sok %d - %s%s%s\n", cond ? "" : "not ", tap_count, name, detail ? " # " : "",
               detail ? detail : "");
    return cond;
}

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = tap_result(cond, NULL, fmt, ap);
    va_end(ap);
    return r;
}

__attribute__((format(printf, 3, 4))) static inline int is_int(long got, long want, const char *fmt,
                                                               ...)
{
    char detail[96];
    va_list ap;
    snprintf(detail, sizeof(detail), "got %ld want %ld", got, want);
    va_start(ap, fmt);
    int r = tap_result(got == want, got == want ? NULL : detail, fmt, ap);
    va_end(ap);
    return r;
}

/* Like is_int but shows unsigned hex values: addresses and masks. */
__attribute__((format(printf, 3, 4))) static inline int
is_hex(unsigned long got, unsigned long want, const char *fmt, ...)
{
    char detail[96];
    va_list ap;
    snprintf(detail, sizeof(detail), "got %#lx want %#lx", got, want);
    va_start(ap, fmt);
    int r = tap_result(got == want, got == want ? NULL : detail, fmt, ap);
    va_end(ap);
    return r;
}

__attribute__((format(printf, 2, 3))) static inline void skip(const char *reason, const char *fmt,
                                                              ...)
{
    char name[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    tap_count++;
    tap_printf("ok %d - %s # SKIP %s\n", tap_count, name, reason);
}

/*
 * Raw syscall result in kernel convention: the value on success, -errno on
 * failure. Comparing against -EFAULT etc. keeps assertions one-liners.
 * syscall() is variadic: a negative value meant as a 64-bit argument (an
 * offset, a count the kernel reads as long) must be passed as a long, or
 * its upper half arrives as zeros.
 */
#define SC(...) tap_sc_result(syscall(__VA_ARGS__))

static inline long tap_sc_result(long r)
{
    return r == -1 ? -(long)errno : r;
}

__attribute__((noreturn)) static inline void done_testing(void)
{
    if (!tap_planned)
        tap_printf("1..%d\n", tap_count);
    if (tap_failures)
        diag("%d of %d tests failed", tap_failures, tap_count);
    exit(tap_failures ? 1 : 0);
}

#endif
