/*
 * Ends the process in the way argv asks, so that tests/e2e/exit_codes.sh can
 * check the status the caller sees:
 *
 *   code N     exit_group(N)            status N & 0xff
 *   exit N     exit(N), the one thread  status N & 0xff
 *   return N   return N from main       status N & 0xff
 *   segv       read through NULL        killed by SIGSEGV
 *   segv-write write to a read-only page
 *   stack      unbounded recursion      killed by SIGSEGV (stack overflow)
 *   ill        ud2                      killed by SIGILL
 *   fpe        integer divide by zero   killed by SIGFPE
 *   trap       int3                     killed by SIGTRAP
 *   bus        touch a shared anonymous mapping beyond the memory it was
 *              created with (grown by mremap)   killed by SIGBUS
 *
 * Before ending it prints "mode: MODE" on stdout, with a raw write so that
 * nothing is left in a stdio buffer when the process dies.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *mode)
{
    char line[128];
    size_t n = 0;
    const char *prefix = "mode: ";
    while (*prefix && n < sizeof(line) - 2)
        line[n++] = *prefix++;
    while (*mode && n < sizeof(line) - 2)
        line[n++] = *mode++;
    line[n++] = '\n';
    if (write(1, line, n) < 0)
        _exit(116);
}

static volatile int zero;
static volatile int seven = 7;
static volatile unsigned long no_limit = ~0UL;

static __attribute__((noinline)) unsigned long recurse_forever(unsigned long depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    if (depth == no_limit)
        return 0;
    return recurse_forever(depth + 1) + pad[0];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        static const char usage[] = "usage: exit code|exit|return N | segv|segv-write|stack|"
                                    "ill|fpe|trap|bus\n";
        if (write(2, usage, sizeof(usage) - 1) < 0)
            return 111;
        return 112;
    }
    const char *mode = argv[1];
    long n = argc > 2 ? strtol(argv[2], NULL, 0) : 0;
    say(mode);

    if (strcmp(mode, "code") == 0)
        syscall(SYS_exit_group, n);
    else if (strcmp(mode, "exit") == 0)
        syscall(SYS_exit, n);
    else if (strcmp(mode, "return") == 0)
        return (int)n;
    else if (strcmp(mode, "segv") == 0)
        return *(volatile int *)(uintptr_t)zero;
    else if (strcmp(mode, "segv-write") == 0) {
        char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 115;
        *(volatile char *)p = 1;
    } else if (strcmp(mode, "stack") == 0)
        return (int)recurse_forever(0);
    else if (strcmp(mode, "ill") == 0)
        __asm__ volatile("ud2");
    else if (strcmp(mode, "fpe") == 0)
        return seven / zero;
    else if (strcmp(mode, "trap") == 0)
        __asm__ volatile("int3");
    else if (strcmp(mode, "bus") == 0) {
        char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 115;
        char *q = (char *)syscall(SYS_mremap, p, 4096, 8192, MREMAP_MAYMOVE, 0);
        if (q == MAP_FAILED)
            return 116;
        *(volatile char *)(q + 4096) = 1;
    } else
        return 113;
    /* Only reached if the requested ending did not happen. */
    return 114;
}
