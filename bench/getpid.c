/*
 * Syscall round-trip cost: N calls of getpid through the raw syscall
 * instruction (never a vDSO or a cached value), timed with CLOCK_MONOTONIC.
 * The call is made as libc wrappers make it, `mov $nr, %eax; syscall`, so
 * systrap's syscall patching applies to it as it would to a wrapper.
 *
 * Usage: getpid [ITERATIONS]   (default 200000)
 * Prints one line: "getpid iterations=N total_ns=T ns_per_call=X".
 *
 * Built static with no sanitizers so that it runs unchanged natively, under
 * moat and under runsc. Uses only getpid, clock_gettime and write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* `mov $nr, %eax; syscall`, the sequence of libc's syscall wrappers (and
 * the one systrap patching rewrites), spelled out so the compiler cannot
 * load the number some other way. */
static long raw_getpid(void)
{
    long ret;
    __asm__ volatile(".byte 0xb8\n\t.long %c1\n\tsyscall"
                     : "=a"(ret)
                     : "i"(SYS_getpid)
                     : "rcx", "r11", "memory");
    return ret;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (n <= 0) {
        static const char usage[] = "usage: getpid [ITERATIONS > 0]\n";
        if (write(2, usage, sizeof(usage) - 1) < 0)
            return 3;
        return 2;
    }
    /* Warm up: page in the code, let the platform settle. */
    long warm = n / 100 + 1;
    long sum = 0;
    for (long i = 0; i < warm; i++)
        sum += raw_getpid();

    long long start = now_ns();
    for (long i = 0; i < n; i++)
        sum += raw_getpid();
    long long total = now_ns() - start;

    char line[160];
    int len = snprintf(line, sizeof(line), "getpid iterations=%ld total_ns=%lld ns_per_call=%.1f\n",
                       n, total, (double)total / (double)n);
    if (sum == 0 || write(1, line, (size_t)len) != len)
        return 1;
    return 0;
}
