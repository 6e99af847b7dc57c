/* The one interface the Sentry uses to run guest code.
 *
 * A platform creates address spaces (host stub processes with nothing but the
 * stub code and the vDSO mapped), maps ranges of the Sentry's memory file into
 * them, and runs guest contexts (stub threads) until they make a syscall,
 * fault, or are interrupted. Nothing here knows about files or tasks.
 */
#ifndef MOAT_PLATFORM_PLATFORM_H
#define MOAT_PLATFORM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/regs.h"

enum platform_kind {
    PLATFORM_PTRACE = 0,
    PLATFORM_SYSTRAP = 1,
};

/* Guest memory protections, as PROT_* bits. */
#define PLATFORM_PROT_READ  0x1
#define PLATFORM_PROT_WRITE 0x2
#define PLATFORM_PROT_EXEC  0x4

/* A range of guest virtual memory the guest may never map: stub code, vDSO. */
struct platform_range {
    uint64_t start;
    uint64_t end; /* exclusive */
};

struct platform;
struct platform_as;
struct platform_ctx;

enum platform_event_kind {
    PLATFORM_EV_SYSCALL,   /* guest executed `syscall`; regs hold number and args */
    PLATFORM_EV_FAULT,     /* synchronous fault: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
    PLATFORM_EV_INTERRUPT, /* platform_ctx_interrupt() (signo 0), or another host signal */
    PLATFORM_EV_DIED,      /* the stub thread died (killed from outside) */
};

struct platform_event {
    enum platform_event_kind kind;
    int signo;     /* FAULT, INTERRUPT: host signal number */
    int si_code;   /* FAULT */
    uint64_t addr; /* FAULT: si_addr */
    bool write;    /* FAULT SIGSEGV: the access was a write (from the page fault error code) */
    bool exec;     /* FAULT SIGSEGV: the access was an instruction fetch */
    int trapno;    /* FAULT: x86 trap number when known, else -1 */
    /* SYSCALL: the calling convention, when the platform learnt it without
     * reading guest memory (seccomp reports it; ptrace does not). */
    enum { PLATFORM_ABI_UNKNOWN, PLATFORM_ABI_X86_64, PLATFORM_ABI_I386 } abi;
    /* SYSCALL: 1 + the trampoline a patched site entered through (see
     * platform_patch_slots), 0 for a call that trapped. The registers are
     * then as the site left them: rip, the call number, rcx and r11 are
     * the Sentry's to fill in from its record of that site. */
    unsigned patch;
    /* A host signal sent from outside to the stub thread while it was
     * entering the Sentry, to be handled like an INTERRUPT's after this
     * event (0: none). */
    int ext_signo;
};

/* platform_create flags. */
#define PLATFORM_F_PATCHING 0x1 /* systrap: offer syscall patching */

/* Create the platform. memfd is the Sentry's memory file; every address space
 * maps ranges of it. Returns -errno; on failure *why names the reason. */
int platform_create(enum platform_kind kind, int memfd, unsigned flags, struct platform **out,
                    const char **why);
void platform_destroy(struct platform *p);
const char *platform_name(const struct platform *p);
/* A socket the Sentry keeps talking on (sendmsg/recvmsg) to a helper process
 * of the platform, for its seccomp allowlist; -1 when there is none. */
int platform_host_socket(const struct platform *p);
/* A line of the platform's own measurements (systrap, when the environment
 * has MOAT_PLATFORM_STATS=1: how long each handoff between a stub thread
 * and the Sentry took), or 0 bytes when it keeps none. */
size_t platform_stats(const struct platform *p, char *buf, size_t len);

/* The highest guest address (exclusive) and the ranges below or above it that
 * the guest may never map. The vDSO is mapped in every address space at
 * platform_vdso_base() (0 when there is none). */
uint64_t platform_max_addr(const struct platform *p);
size_t platform_reserved(const struct platform *p, struct platform_range *out, size_t max);
uint64_t platform_vdso_base(const struct platform *p);

/* Syscall patching. After a trapped `mov $nr, %eax; syscall` (b8 imm32 0f
 * 05) in the guest's code, the Sentry may overwrite those 7 bytes with
 * platform_patch_code(k): a jump that enters the Sentry through trampoline
 * k without a host signal, reported as a SYSCALL event with patch = k + 1.
 * The Sentry keeps, per address space, which site and call number each
 * trampoline stands for. Its third-to-last byte (at the syscall's old
 * offset) is an invalid opcode: a thread that had run the old mov when the
 * patch landed faults there with SIGILL. platform_patch_slots is the number
 * of trampolines, 0 when the platform does not patch. */
unsigned platform_patch_slots(const struct platform *p);
void platform_patch_code(const struct platform *p, unsigned k, uint8_t out[7]);

/* Address spaces. The Sentry thread that creates one traces its first
 * context. platform_as_destroy may be called from any Sentry thread: it kills
 * the stub at once; contexts still alive then report PLATFORM_EV_DIED and
 * must still be destroyed by their own Sentry threads, the last of which
 * reaps the stub. */
int platform_as_create(struct platform *p, struct platform_as **out);
void platform_as_destroy(struct platform_as *as);
/* Map [addr, addr+len) to memory-file offset off with prot (MAP_SHARED|MAP_FIXED).
 * map, unmap and protect run in a stub thread that the calling Sentry thread
 * traces: they return -EPERM from a thread that runs no context of this
 * address space (the Sentry changes an address space only from a thread
 * running a task in it). Several threads may call them at once.
 * If unmap fails, the address space is marked broken and no context of it
 * runs again (platform_ctx_run returns -EIO): the Sentry may already have
 * reused the memory it was giving up. protect may fail part-way (a host
 * mprotect stops at the first unmapped page of a sparsely mapped range, with
 * ENOMEM): the caller must then unmap the range, which restores safety. */
int platform_as_map(struct platform_as *as, uint64_t addr, uint64_t len, int prot, uint64_t off);
/* Several maps at once (one round trip to a systrap stub): 0, or the first
 * error. */
struct platform_map {
    uint64_t addr, len;
    int prot;
    uint64_t off;
};
int platform_as_map_many(struct platform_as *as, const struct platform_map *m, unsigned n);
/* Whether map_many costs about one round trip whatever n (systrap's batch),
 * rather than one per map (ptrace's injected calls). */
bool platform_as_map_many_cheap(const struct platform_as *as);
int platform_as_unmap(struct platform_as *as, uint64_t addr, uint64_t len);
int platform_as_protect(struct platform_as *as, uint64_t addr, uint64_t len, int prot);
/* Host pid of the stub process (for tests, /proc checks, debugging). */
int platform_as_host_pid(const struct platform_as *as);

/* Guest contexts (one per guest thread, each a stub thread). Every context
 * belongs to one Sentry thread, its owner (ptrace ties a tracee to one tracer
 * thread): regs write-back, run, the FPU calls, clone and destroy work from
 * the owner only (-EPERM elsewhere); interrupt works from anywhere.
 *
 * platform_ctx_create hands out the stub's initial thread, owned by the
 * thread that created the address space; a second call returns -EAGAIN. */
int platform_ctx_create(struct platform_as *as, struct platform_ctx **out);
/* A new stub thread in parent's address space, for a guest clone: called by
 * parent's owner while parent is stopped. The new context starts from a copy
 * of parent's registers (as edited so far) and FPU state, and has no owner
 * until platform_ctx_attach. */
int platform_ctx_clone(struct platform_ctx *parent, struct platform_ctx **out);
/* Make the calling Sentry thread the owner of a context from
 * platform_ctx_clone. 0 if it already is; -EBUSY if another thread is. */
int platform_ctx_attach(struct platform_ctx *ctx);
/* The stub thread exits (the thread only: others of the address space go on)
 * and is released, so that the owner's own exit later affects nothing. A
 * context never attached is attached first. Called by the owner. */
void platform_ctx_destroy(struct platform_ctx *ctx);
/* Registers as of the last stop. Edit them in place; run() writes them back. */
struct abi_ptregs *platform_ctx_regs(struct platform_ctx *ctx);
/* x87/SSE state in FXSAVE layout (512 bytes). */
int platform_ctx_get_fpu(struct platform_ctx *ctx, struct abi_fxsave *out);
int platform_ctx_set_fpu(struct platform_ctx *ctx, const struct abi_fxsave *in);
/* The full XSAVE image (standard format: x87 and SSE, then every state
 * component XCR0 enables: AVX, AVX-512...), as signal frames carry it. get
 * fills up to cap bytes and sets *len; -ENOSYS when the host has no XSAVE
 * (callers fall back to the FXSAVE calls). set takes an image of the size
 * get gave; the host refuses malformed headers (-EINVAL). */
int platform_ctx_get_xstate(struct platform_ctx *ctx, void *buf, size_t cap, size_t *len);
int platform_ctx_set_xstate(struct platform_ctx *ctx, const void *buf, size_t len);
/* Reset FPU/SSE state to what a fresh exec sees. */
int platform_ctx_reset_fpu(struct platform_ctx *ctx);
/* Run until the next event. Returns 0 or -errno (the stub is unusable). */
int platform_ctx_run(struct platform_ctx *ctx, struct platform_event *ev);
/* Make a running or blocked-in-Sentry context return PLATFORM_EV_INTERRUPT soon.
 * Safe from any thread and from signal handlers. */
void platform_ctx_interrupt(struct platform_ctx *ctx);

#endif
