/* The x86-64 rt signal frame as the guest sees it: what the kernel pushes on
 * the stack before running a handler, and what rt_sigreturn reads back. */
#ifndef MOAT_ABI_SIGFRAME_H
#define MOAT_ABI_SIGFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "abi/regs.h"
#include "abi/signal.h"

/* struct sigcontext (uc_mcontext): glibc's gregs[REG_R8..REG_CR2] alias it. */
struct abi_sigcontext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate; /* guest address of the FXSAVE image, 0 = none */
    uint64_t reserved1[8];
};
_Static_assert(sizeof(struct abi_sigcontext) == 256, "sigcontext layout");
_Static_assert(offsetof(struct abi_sigcontext, rip) == 16 * 8, "REG_RIP is 16");

/* The kernel's ucontext: uc_sigmask is the kernel's 8-byte sigset, not
 * glibc's 128-byte one. */
struct abi_ucontext {
    uint64_t uc_flags;
    uint64_t uc_link;
    struct abi_stack uc_stack;
    struct abi_sigcontext uc_mcontext;
    abi_sigset_t uc_sigmask;
};
_Static_assert(sizeof(struct abi_ucontext) == 304, "ucontext layout");

/* uc_flags */
#define ABI_UC_FP_XSTATE         0x1
#define ABI_UC_SIGCONTEXT_SS     0x2
#define ABI_UC_STRICT_RESTORE_SS 0x4

/* The frame at the handler's rsp: `ret` from the handler pops pretcode
 * (sa_restorer), which calls rt_sigreturn with rsp at uc. */
struct abi_rt_sigframe {
    uint64_t pretcode;
    struct abi_ucontext uc;
    struct abi_siginfo info;
};
_Static_assert(sizeof(struct abi_rt_sigframe) == 440, "rt_sigframe layout");

/* The software-reserved tail of the FXSAVE image (bytes 464..511) that says
 * an XSAVE image follows; the second magic word sits right after it. */
struct abi_fpx_sw_bytes {
    uint32_t magic1;
    uint32_t extended_size; /* xstate_size + 4 (magic2) */
    uint64_t xfeatures;
    uint32_t xstate_size;
    uint32_t padding[7];
};
_Static_assert(sizeof(struct abi_fpx_sw_bytes) == 48, "_fpx_sw_bytes layout");

#define ABI_FP_XSTATE_MAGIC1    0x46505853u
#define ABI_FP_XSTATE_MAGIC2    0x46505845u
#define ABI_FPX_SW_BYTES_OFFSET 464
#define ABI_XSAVE_HEADER_SIZE   64
#define ABI_XFEATURE_MASK_FPSSE 0x3u

/* x86 trap numbers the frame's trapno reports. */
#define ABI_TRAP_DE 0  /* divide error */
#define ABI_TRAP_DB 1  /* debug */
#define ABI_TRAP_BP 3  /* int3 */
#define ABI_TRAP_UD 6  /* invalid opcode */
#define ABI_TRAP_GP 13 /* general protection */
#define ABI_TRAP_PF 14 /* page fault */
#define ABI_TRAP_MF 16 /* x87 error */
#define ABI_TRAP_XF 19 /* SIMD error */

/* Page-fault error code bits (sigcontext.err for trapno 14). */
#define ABI_PF_PROT  0x1
#define ABI_PF_WRITE 0x2
#define ABI_PF_USER  0x4
#define ABI_PF_INSTR 0x10

#endif
