/* Hostile jumps at what systrap's syscall patching adds to every address
 * space: the trampolines below 2 GiB (sysmsg.h: PATCH_CODE, 16 bytes each)
 * and the stub code they lead to. Natively nothing is mapped there, so a
 * jump faults with SIGSEGV; in the sandbox a trampoline that no patched site
 * of the process uses must end the same way, with or without a gs base of
 * the guest's own (which sends the call to the stub's int3 fallback), and
 * the Sentry must carry on: the parent checks each child's end and makes
 * calls afterwards.
 *
 * The trampolines used are the last ones, which a program this small never
 * patches (the Sentry numbers sites from 0).
 */
#include <asm/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define PATCH_CODE       0x7f070000UL
#define PATCH_TRAMP_SIZE 16
#define PATCH_SLOTS      8192

static void jump_to(uintptr_t target, uint64_t r11)
{
    __asm__ volatile("mov %1, %%r11\n\t"
                     "jmp *%0" ::"r"(target),
                     "r"(r11)
                     : "r11", "memory");
}

/* 0: the child ended with SIGSEGV, as a jump to unmapped memory does. */
static int child_jump(uintptr_t target, uint64_t r11, uint64_t gs)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (gs && syscall(SYS_arch_prctl, ARCH_SET_GS, gs) != 0)
            _exit(3);
        jump_to(target, r11);
        _exit(4);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
        return 0;
    diag("child status %#x", st);
    return -1;
}

static char gs_area[4096];

int main(void)
{
    const unsigned ks[] = {PATCH_SLOTS - 1, PATCH_SLOTS - 2, PATCH_SLOTS - 100};
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
        uintptr_t t = PATCH_CODE + (uintptr_t)ks[i] * PATCH_TRAMP_SIZE;
        is_int(child_jump(t, 0, 0), 0, "a jump to trampoline %u ends in SIGSEGV", ks[i]);
        is_int(child_jump(t, 0, (uint64_t)(uintptr_t)gs_area), 0,
               "with a gs base of the guest's own too (trampoline %u)", ks[i]);
    }
    /* Past the last trampoline, and into the middle of one. */
    is_int(child_jump(PATCH_CODE + PATCH_SLOTS * PATCH_TRAMP_SIZE, 0, 0), 0,
           "past the last trampoline: SIGSEGV");
    is_int(child_jump(PATCH_CODE + (PATCH_SLOTS - 1) * PATCH_TRAMP_SIZE + 6, ~0ULL, 0), 0,
           "the middle of a trampoline, r11 all ones: SIGSEGV");
    is_int(getpid() > 0, 1, "the sandbox still answers");
    done_testing();
}
