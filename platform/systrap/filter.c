/* The stubs' seccomp filters, in classic BPF: libseccomp cannot test the
 * instruction pointer, which is the point of these filters.
 *
 * Every call is judged by where it comes from. A call from anywhere but the
 * stub page traps (SIGSYS, which the stub hands to the Sentry as a guest
 * syscall). From the stub page, the base filter lets through the calls the
 * stub's own code makes, with their arguments pinned where that matters:
 * mmap only of the memory file, shared and fixed; clone only with the two
 * thread flag sets; write only of 8 bytes to the completion eventfd;
 * seccomp only to add a filter. Guest threads then add the guest filter,
 * which lets through only futex (wait and wake), rt_sigreturn and exit, and
 * only from the signal handler's code. Filters stack and the strictest
 * answer wins, so a guest that jumps into the stub page can wait on or wake
 * a futex, return from a signal frame of its own making, or end its own
 * thread: nothing its own syscalls (emulated by the Sentry) could not do.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "platform/systrap/systrap.h"

#define OFF_NR        offsetof(struct seccomp_data, nr)
#define OFF_ARCH      offsetof(struct seccomp_data, arch)
#define OFF_IP_LO     offsetof(struct seccomp_data, instruction_pointer)
#define OFF_IP_HI     (offsetof(struct seccomp_data, instruction_pointer) + 4)
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define OFF_ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)

/* A program under construction; jumps to the two verdicts are patched at
 * the end, since classic BPF jumps only forward by a count. */
struct prog {
    struct sock_filter *ins;
    size_t n, max;
    bool overflow;
    /* instructions whose jt / jf mean "allow" or "trap" */
    size_t fix[128];
    uint8_t
        fix_kind[128]; /* bit 0: jt is a verdict, bit 1: jf is; bit 2/3: that verdict is allow */
    size_t nfix;
};

#define TO_NEXT 0
enum verdict { V_NONE, V_ALLOW, V_TRAP };

static void emit(struct prog *p, struct sock_filter f)
{
    if (p->n >= p->max) {
        p->overflow = true;
        return;
    }
    p->ins[p->n++] = f;
}

static void load(struct prog *p, uint32_t off)
{
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off));
}

/* if (A op k) goto <t> else goto <f>, where t and f are verdicts or the next
 * instruction (V_NONE). */
static void jump(struct prog *p, uint16_t op, uint32_t k, enum verdict t, enum verdict f)
{
    if (p->nfix >= sizeof(p->fix) / sizeof(p->fix[0])) {
        p->overflow = true;
        return;
    }
    uint8_t kind = 0;
    if (t != V_NONE)
        kind |= 1 | (t == V_ALLOW ? 4 : 0);
    if (f != V_NONE)
        kind |= 2 | (f == V_ALLOW ? 8 : 0);
    if (kind) {
        p->fix[p->nfix] = p->n;
        p->fix_kind[p->nfix] = kind;
        p->nfix++;
    }
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0));
}

static void ret(struct prog *p, uint32_t action)
{
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
}

/* Append the two verdicts and point the recorded jumps at them. */
static size_t finish(struct prog *p)
{
    size_t allow = p->n;
    ret(p, SECCOMP_RET_ALLOW);
    size_t trap = p->n;
    ret(p, SECCOMP_RET_TRAP);
    if (p->overflow)
        return 0;
    for (size_t i = 0; i < p->nfix; i++) {
        size_t at = p->fix[i];
        uint8_t k = p->fix_kind[i];
        if (k & 1) {
            size_t to = (k & 4) ? allow : trap;
            if (to - at - 1 > 255)
                return 0;
            p->ins[at].jt = (uint8_t)(to - at - 1);
        }
        if (k & 2) {
            size_t to = (k & 8) ? allow : trap;
            if (to - at - 1 > 255)
                return 0;
            p->ins[at].jf = (uint8_t)(to - at - 1);
        }
    }
    return p->n;
}

/* Trap unless the call is x86-64's and comes from [lo, hi) in the stub page. */
static void from_range(struct prog *p, uint64_t lo, uint64_t hi)
{
    load(p, OFF_ARCH);
    jump(p, BPF_JEQ, AUDIT_ARCH_X86_64, V_NONE, V_TRAP);
    load(p, OFF_IP_HI);
    jump(p, BPF_JEQ, (uint32_t)(STUB_BASE >> 32), V_NONE, V_TRAP);
    load(p, OFF_IP_LO);
    jump(p, BPF_JGE, (uint32_t)lo, V_NONE, V_TRAP);
    jump(p, BPF_JGE, (uint32_t)hi, V_TRAP, V_NONE);
}

/* Allow if the 64-bit argument i equals v, else trap. Leaves A clobbered. */
static void arg_is(struct prog *p, int i, uint64_t v, bool last)
{
    load(p, OFF_ARG_HI(i));
    jump(p, BPF_JEQ, (uint32_t)(v >> 32), V_NONE, V_TRAP);
    load(p, OFF_ARG_LO(i));
    jump(p, BPF_JEQ, (uint32_t)v, last ? V_ALLOW : V_NONE, V_TRAP);
}

size_t systrap_filter_base(struct sock_filter *out, size_t max)
{
    struct prog p = {.ins = out, .max = max};
    from_range(&p, STUB_BASE, STUB_BASE + STUB_SIZE);
    load(&p, OFF_NR);
    static const int any[] = {SYS_futex,          SYS_rt_sigreturn,   SYS_exit,
                              SYS_munmap,         SYS_mprotect,       SYS_sigaltstack,
                              SYS_rt_sigprocmask, SYS_set_tid_address};
    for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++)
        jump(&p, BPF_JEQ, (uint32_t)any[i], V_ALLOW, V_NONE);
    /* Each argument check below is a block that ends in a verdict; the
     * dispatch jumps over the blocks before it. Block sizes: mmap 8,
     * clone 6 (two flag sets), write 8, seccomp 8. */
    jump(&p, BPF_JEQ, SYS_mmap, V_NONE, V_NONE);
    size_t j_mmap = p.n - 1;
    jump(&p, BPF_JEQ, SYS_clone, V_NONE, V_NONE);
    size_t j_clone = p.n - 1;
    jump(&p, BPF_JEQ, SYS_write, V_NONE, V_NONE);
    size_t j_write = p.n - 1;
    jump(&p, BPF_JEQ, SYS_seccomp, V_NONE, V_TRAP);
    size_t j_seccomp = p.n - 1;
    /* seccomp(SECCOMP_SET_MODE_FILTER, 0, prog): adding a filter only
     * narrows what a thread may do. */
    size_t b_seccomp = p.n;
    arg_is(&p, 0, SECCOMP_SET_MODE_FILTER, false);
    arg_is(&p, 1, 0, true);
    /* mmap(addr, len, prot, MAP_SHARED|MAP_FIXED, memfd, off) */
    size_t b_mmap = p.n;
    arg_is(&p, 3, MAP_SHARED | MAP_FIXED, false);
    arg_is(&p, 4, STUB_FD_MEM, true);
    /* clone with one of the two flag sets */
    size_t b_clone = p.n;
    load(&p, OFF_ARG_HI(0));
    jump(&p, BPF_JEQ, 0, V_NONE, V_TRAP);
    load(&p, OFF_ARG_LO(0));
    jump(&p, BPF_JEQ, SYSTRAP_CTL_CLONE_FLAGS, V_ALLOW, V_NONE);
    jump(&p, BPF_JEQ, SYSTRAP_THREAD_CLONE_FLAGS, V_ALLOW, V_TRAP);
    /* write(donefd, buf, 8) */
    size_t b_write = p.n;
    arg_is(&p, 0, STUB_FD_DONE, false);
    arg_is(&p, 2, 8, true);
    if (p.overflow)
        return 0;
    /* Point each dispatch jump's "true" branch at its block. */
    struct {
        size_t at, to;
    } links[] = {{j_mmap, b_mmap}, {j_clone, b_clone}, {j_write, b_write}, {j_seccomp, b_seccomp}};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        p.ins[links[i].at].jt = (uint8_t)(links[i].to - links[i].at - 1);
    return finish(&p);
}

size_t systrap_filter_guest(struct sock_filter *out, size_t max)
{
    struct prog p = {.ins = out, .max = max};
    from_range(&p, systrap_stub_addr(systrap_handler), systrap_stub_addr(systrap_handler_end));
    load(&p, OFF_NR);
    jump(&p, BPF_JEQ, SYS_rt_sigreturn, V_ALLOW, V_NONE);
    jump(&p, BPF_JEQ, SYS_exit, V_ALLOW, V_NONE);
    jump(&p, BPF_JEQ, SYS_futex, V_NONE, V_TRAP);
    /* Plain shared FUTEX_WAIT and FUTEX_WAKE, no timeout tricks or PI. */
    load(&p, OFF_ARG_LO(1));
    jump(&p, BPF_JEQ, FUTEX_WAIT, V_ALLOW, V_NONE);
    jump(&p, BPF_JEQ, FUTEX_WAKE, V_ALLOW, V_TRAP);
    return finish(&p);
}
