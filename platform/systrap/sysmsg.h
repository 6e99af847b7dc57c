/* The memory a systrap stub shares with the Sentry, and the offsets the stub
 * code (stub.S) uses. Plain #defines: the assembler includes this file too.
 *
 * Every address space has one region at SYSMSG_BASE, a MAP_SHARED view of a
 * memfd of its own that the Sentry maps too:
 *
 *   +0        command page: read-only in the stub. The Sentry's requests to
 *             the control thread (map, unmap, protect, new thread) and the
 *             guest-thread seccomp program. Guest code can read it, never
 *             write it, so it cannot forge a request.
 *   +8 KiB    control thread's results: written by the stub, a hint only.
 *   +64 KiB   thread slots, SYSMSG_SLOT_SIZE each: a state page (futex word,
 *             the event, the frame's address) and the alternate signal stack
 *             where the kernel writes the thread's signal frame, which the
 *             Sentry reads and edits in place.
 */
#ifndef MOAT_PLATFORM_SYSTRAP_SYSMSG_H
#define MOAT_PLATFORM_SYSTRAP_SYSMSG_H

#define SYSMSG_BASE       0x7e0000100000
#define SYSMSG_CMD_OFF    0x0
#define SYSMSG_CMD_SIZE   0x2000
#define SYSMSG_RES_OFF    0x2000
#define SYSMSG_SLOTS_OFF  0x10000
#define SYSMSG_SLOT_SHIFT 14
#define SYSMSG_SLOT_SIZE  0x4000 /* 1 << SYSMSG_SLOT_SHIFT */
#define SYSMSG_MAX_SLOTS  4096
#define SYSMSG_SIZE       (SYSMSG_SLOTS_OFF + SYSMSG_MAX_SLOTS * SYSMSG_SLOT_SIZE)
/* The signal stack: the slot minus its state page. */
#define SYSMSG_STACK_OFF 0x1000

/* Command page. */
#define CMD_SEQ       0  /* u32: bumped per batch; the control thread's futex word */
#define CMD_N         4  /* u32: commands in the batch */
#define CMD_CTL_SPIN  8  /* u32: busy-wait rounds of the control thread */
#define CMD_STUB_SPIN 12 /* u32: busy-wait rounds of the handler */
#define CMD_FPROG     16 /* struct sock_fprog for the guest-thread filter */
#define CMD_RING      32 /* struct sysmsg_cmd[CMD_RING_MAX] */
#define CMD_RING_MAX  64
#define CMD_SIZE      48
#define CMD_XFEATURES 3584 /* u64: the XSAVE components of the host's signal frames */
#define CMD_BPF       4096 /* the guest-thread filter's instructions */
#define CMD_BPF_MAX   512

/* One command (48 bytes). */
#define CMDF_OP   0
#define CMDF_ADDR 8
#define CMDF_LEN  16
#define CMDF_PROT 24
#define CMDF_OFF  32
#define CMDF_AUX  40

#define OP_MAP     1
#define OP_UNMAP   2
#define OP_PROTECT 3
#define OP_CLONE   4 /* aux: the new thread's slot */

/* Results page. */
#define RES_DONE   0  /* u32: last batch done (a hint: the eventfd is the proof) */
#define RES_VALUES 64 /* i64[CMD_RING_MAX] */

/* Slot state page. */
#define SLOT_STATE        0  /* u32 futex word; the kernel zeroes it at thread exit */
#define SLOT_STUB_SLEEP   4  /* u32: the stub thread waits in FUTEX_WAIT */
#define SLOT_SENTRY_SLEEP 8  /* u32: the Sentry waits in FUTEX_WAIT */
#define SLOT_SIGNO        12 /* u32 */
#define SLOT_INFO         16 /* u64: stub address of the siginfo */
#define SLOT_UCTX         24 /* u64: stub address of the ucontext */
#define SLOT_FSBASE       32 /* u64: at the event */
#define SLOT_GSBASE       40
#define SLOT_NEW_FSBASE   48 /* u64: loaded on resume when SLOT_SET_BASES says so */
#define SLOT_NEW_GSBASE   56
#define SLOT_SET_BASES    64  /* u32: bit 0 fs, bit 1 gs */
#define SLOT_ALTSTACK     72  /* stack_t for sigaltstack */
#define SLOT_SENTRY_CPU   96  /* u32: where the Sentry thread last waited */
#define SLOT_STUB_CPU     100 /* u32: where the stub thread last trapped */
#define SLOT_T_EVENT      104 /* u64: TSC when the handler published the event */
#define SLOT_T_RESUMED    112 /* u64: TSC when the handler saw the Sentry's go */
#define SLOT_PATCH_K      120 /* u32: the trampoline a patched syscall came through */
#define SLOT_FPU_DIRTY    124 /* u32: the Sentry changed the FPU image of a patched frame */
#define SLOT_DEFERRED     128 /* u32: a signal from outside that came while entering */

/* Patched syscalls enter without a signal (patch_entry in stub.S). The stub
 * code builds a frame of the kernel's layout itself, at the bottom of the
 * signal stack, where the kernel's own frames (at its top) never reach, and
 * runs on a few words of private stack at the top of the state page. */
#define PF_OFF   0x1000           /* = SYSMSG_STACK_OFF */
#define PF_UC    (PF_OFF + 8)     /* ucontext; 8 bytes of pretcode before it */
#define PF_MC    (PF_UC + 40)     /* its sigcontext */
#define PF_INFO  (PF_OFF + 320)   /* siginfo (unused by the stub) */
#define PF_FP    (PF_OFF + 512)   /* XSAVE image, 64-byte aligned */
#define PF_STACK SYSMSG_STACK_OFF /* private stack top */
/* sigcontext fields */
#define MC_R8     0
#define MC_R9     8
#define MC_R10    16
#define MC_R11    24
#define MC_R12    32
#define MC_R13    40
#define MC_R14    48
#define MC_R15    56
#define MC_RDI    64
#define MC_RSI    72
#define MC_RBP    80
#define MC_RBX    88
#define MC_RDX    96
#define MC_RAX    104
#define MC_RCX    112
#define MC_RSP    120
#define MC_RIP    128
#define MC_EFLAGS 136

/* Syscall patching: the guest's `mov $nr, %eax; syscall` (7 bytes) becomes
 * `jmp *PATCH_TABLE+8k` (ff 24 25 disp32), through a table that must lie
 * below 2 GiB for the 32-bit absolute operand. Its entries all sit at
 * addresses whose third byte is 0x06, an invalid opcode in 64-bit mode: a
 * thread that ran the old mov just before the patch landed finds 06 where
 * its syscall was and faults, and the Sentry finishes that call (see
 * sentry/kernel/syscall_patch.c). Trampoline k loads k into r11d and jumps
 * to patch_entry through the pointer at PATCH_ENTRY_PTR. */
#define PATCH_BASE       0x7f060000
#define PATCH_TABLE      PATCH_BASE
#define PATCH_SLOTS      8192
#define PATCH_CODE       0x7f070000
#define PATCH_TRAMP_SIZE 16
#define PATCH_ENTRY_PTR  0x7f090000
#define PATCH_END        0x7f091000

/* SLOT_STATE values. */
#define STATE_DEAD  0 /* the thread is gone (CLONE_CHILD_CLEARTID) */
#define STATE_RUN   1 /* the guest runs, or the Sentry said go */
#define STATE_EVENT 2 /* the handler waits for the Sentry */
#define STATE_EXIT  3 /* the Sentry asks the thread to exit */

/* Host signals the stub handles; the kick is the Sentry's "come back". */
#define SYSTRAP_KICK_SIGNAL 23 /* SIGURG */

/* Host clone flags: the control thread shares everything a thread does
 * (CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM); a guest thread's stub thread
 * adds CLONE_CHILD_CLEARTID on its slot's state word, so its exit wakes the
 * Sentry. systrap.c checks these against the host's constants. */
#define SYSTRAP_CTL_CLONE_FLAGS    0x50f00
#define SYSTRAP_THREAD_CLONE_FLAGS 0x250f00

/* The stub's fds: the memory file and the control thread's eventfd. */
#define STUB_FD_MEM  3
#define STUB_FD_DONE 4

#endif
