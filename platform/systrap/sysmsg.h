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
