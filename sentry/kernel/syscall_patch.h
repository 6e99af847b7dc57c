/* Syscall patching, the Sentry's half (platform.h has the platform's): per
 * address space, the `mov $nr, %eax; syscall` sites rewritten into jumps
 * through a platform trampoline, and the repairs around them. */
#ifndef MOAT_SENTRY_KERNEL_SYSCALL_PATCH_H
#define MOAT_SENTRY_KERNEL_SYSCALL_PATCH_H

#include <stdbool.h>

#include "abi/regs.h"
#include "platform/platform.h"

struct task;
struct syscall_patches;

/* After a 64-bit syscall that trapped at r->rip: rewrite its site if it is
 * the common two-instruction sequence in program text. Under the kernel
 * lock, before the call runs. */
void syscall_patch_try(struct task *t, const struct abi_ptregs *r);
/* A call that came through trampoline ev->patch - 1: restore what the
 * trapped call would have shown (rip after the site, the number, rcx and
 * r11 as `syscall` leaves them). -EFAULT: no site of ours has that
 * trampoline (a guest jumped there itself). */
int syscall_patch_entered(struct task *t, struct abi_ptregs *r, unsigned patch);

enum syscall_patch_fix {
    SYSCALL_PATCH_NONE,    /* not ours: an ordinary fault */
    SYSCALL_PATCH_RETRY,   /* rip moved back to the site; run on */
    SYSCALL_PATCH_SYSCALL, /* make the syscall the registers now describe */
};
/* A fault that a patch in progress, or a jump to a patched site's syscall
 * instruction, caused. */
enum syscall_patch_fix syscall_patch_fault(struct task *t, const struct platform_event *ev);

/* fork copies the parent's sites (its memory holds the patched code). NULL
 * in, NULL out; NULL out of memory too, and then the child's patched sites
 * end in SIGSEGV: the caller fails the fork instead (-ENOMEM). */
struct syscall_patches *syscall_patches_clone(const struct syscall_patches *p, bool *ok);
void syscall_patches_free(struct syscall_patches *p);

#endif
