/* x86-64 register state as Linux exposes it to ptrace and signal frames. */
#ifndef MOAT_ABI_REGS_H
#define MOAT_ABI_REGS_H

#include <stdint.h>

/* Same order as the kernel's struct user_regs_struct (PTRACE_GETREGS). */
struct abi_ptregs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10;
    uint64_t r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax;
    uint64_t rip, cs, eflags, rsp, ss;
    uint64_t fs_base, gs_base;
    uint64_t ds, es, fs, gs;
};
_Static_assert(sizeof(struct abi_ptregs) == 27 * 8, "user_regs_struct layout");

/* FXSAVE area: x87, MMX and SSE state (struct user_fpregs_struct). */
struct abi_fxsave {
    uint16_t cwd, swd, ftw, fop;
    uint64_t rip, rdp;
    uint32_t mxcsr, mxcsr_mask;
    uint32_t st_space[32];
    uint32_t xmm_space[64];
    uint32_t padding[24];
};
_Static_assert(sizeof(struct abi_fxsave) == 512, "fxsave layout");

#define ABI_FPU_DEFAULT_CWD   0x037f
#define ABI_FPU_DEFAULT_MXCSR 0x1f80

#endif
