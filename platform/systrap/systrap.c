/* The seccomp-trap platform.
 *
 * A stub process per address space, as under ptrace, but no tracer: every
 * stub thread runs under a seccomp filter whose verdict for guest syscalls
 * is SECCOMP_RET_TRAP, and a handler for SIGSYS and the fault signals runs
 * on the thread's own alternate stack in a region shared with the Sentry
 * (sysmsg.h). The kernel writes the signal frame there; the handler flips the
 * slot's state word to EVENT and waits; the Sentry reads the registers from
 * the frame, handles the event, writes the registers back into the frame,
 * flips the word to RUN, and the handler returns through rt_sigreturn,
 * which loads them. Both sides spin briefly, then sleep on the state word
 * (a futex shared through the memfd).
 *
 * Address-space changes are commands in the region's read-only command page,
 * executed by the stub's control thread; an eventfd only that thread may
 * write proves a batch done (the results page is guest-writable, so it is a
 * hint). Any Sentry thread may change any address space and run any context.
 *
 * Nothing the Sentry reads from the region is trusted: every pointer is
 * bounds-checked against the slot, every value is copied once.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "abi/sigframe.h"
#include "platform/platform_impl.h"
#include "platform/systrap/systrap.h"

_Static_assert(SYSTRAP_CTL_CLONE_FLAGS == (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                           CLONE_THREAD | CLONE_SYSVSEM),
               "control thread clone flags");
_Static_assert(SYSTRAP_THREAD_CLONE_FLAGS == (SYSTRAP_CTL_CLONE_FLAGS | CLONE_CHILD_CLEARTID),
               "stub thread clone flags");
_Static_assert(SYSTRAP_KICK_SIGNAL == SIGURG, "kick signal");
_Static_assert(STUB_BASE == 0x7e0000000000ULL && STUB_SIZE == 0x1000 &&
                   STUB_HOST_TASK_TOP == 0x7ffffffff000ULL,
               "stub.S repeats the stub layout");
_Static_assert(SYSMSG_BASE >= STUB_BASE + STUB_SIZE, "the region lies above the stub");
_Static_assert((1 << SYSMSG_SLOT_SHIFT) == SYSMSG_SLOT_SIZE, "slot size");
_Static_assert(CMD_RING + CMD_RING_MAX * CMD_SIZE <= CMD_BPF, "command ring fits");
_Static_assert(CMD_BPF + CMD_BPF_MAX * 8 <= SYSMSG_CMD_SIZE, "guest filter fits");

#define HWCAP2_FSGSBASE_BIT 0x2
#define SI_TKILL_CODE       (-6)
#define SYS_SECCOMP_CODE    1
#define FPX_SW_OFF          ABI_FPX_SW_BYTES_OFFSET
#define XSAVE_HDR_OFF       512
/* Busy-wait rounds (pause instructions, ~40 ns each here) before a futex
 * sleep: the Sentry's for an event or a batch, the handler's for the
 * Sentry's answer, the control thread's for the next batch. */
static struct {
    uint32_t sentry, stub, ctl;
} systrap_spin = {500, 500, 100};
/* A futex sleep wakes this often to see whether the stub died. */
#define LIVENESS_NS 100000000L
/* A thread that stays silent this long after a kick has blocked it (a
 * forged signal frame can do that), one that has not reached its birth
 * event by then was diverted (its alternate stack is guest-writable until
 * it is set), and one asked to exit that has not has a meddling guest:
 * its process is killed. Measured in time, not in futex timeouts, since a
 * guest can wake the state word as often as it likes. */
#define SILENCE_NS 3000000000ULL

struct systrap_platform {
    struct platform base;
    int memfd;
    struct systrap_factory factory;
    pthread_mutex_t factory_lock;
    /* The host's signal-frame FPU layout, read from the first birth frame
     * (no guest code has run in that stub yet, so it is the kernel's). */
    pthread_mutex_t xlock;
    atomic_bool x_known; /* set last, with release: the fields below are then fixed */
    uint32_t xsize;      /* bytes of the XSAVE image; 512 if the frame is FXSAVE only */
    uint64_t xfeatures;
    uint32_t mxcsr_mask;
    uint8_t sw_bytes[48];
    uint64_t uc_flags;     /* of the host's frames: what a patched frame claims */
    const char *patch_off; /* why syscall patching is off despite being asked for */
    /* Handoff measurements in TSC cycles: guest to Sentry (the handler's
     * publish to the Sentry seeing it) and back (the Sentry's go to the
     * handler seeing it), and how often the Sentry had to sleep. Kept only
     * when MOAT_PLATFORM_STATS=1: the counters are shared by every Sentry
     * thread, and the hot path need not pay for them otherwise. */
    bool measuring;
    uint64_t tsc0;
    struct timespec mono0;
    _Atomic uint64_t to_sentry, to_sentry_n, to_stub, to_stub_n, events, sentry_sleeps;
    _Atomic uint64_t in_sentry, in_sentry_n, patched_events, trapped_calls, faults;
    _Atomic uint64_t batches, batch_cycles, batch_ops; /* control-thread round trips */
};

struct as_op {
    uint64_t op, addr, len, prot, off, aux;
    long result;
    bool done;
    struct as_op *next;
};

struct systrap_ctx;

struct systrap_as {
    struct platform_as hdr;
    struct systrap_platform *p;
    pid_t pid;
    int pidfd;
    int donefd;
    uint8_t *shm; /* the Sentry's view of the shared region */
    atomic_bool dead;
    atomic_bool broken;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;
    uint64_t slots[SYSMSG_MAX_SLOTS / 64];
    struct systrap_ctx *initial;
    int refs;
    struct as_op *q_head, *q_tail;
    bool in_flight;
    uint32_t seq;
};

struct systrap_ctx {
    struct platform_ctx hdr;
    struct systrap_as *as;
    unsigned slot;
    pid_t tid;
    uint8_t *s;         /* the slot, Sentry view */
    uint64_t stub_slot; /* the slot, stub address */
    struct abi_ptregs regs;
    bool stopped;      /* in the handler, with a frame we validated */
    bool gone;         /* the thread has ended */
    bool exiting;      /* we asked it to */
    uint64_t uctx_off; /* the frame's ucontext, offset in the slot */
    uint64_t fp_off;   /* its FPU image, offset in the slot */
    uint64_t uc_flags;
    uint64_t ev_fsbase, ev_gsbase;
    uint64_t t_resume; /* TSC of our last go */
    uint64_t t_seen;   /* TSC when we saw the last event */
    atomic_bool kicked;
    /* Patched syscalls: the frame is the one patch_entry built, not the
     * kernel's; the FPU image was changed since; and what the last resume
     * sent the thread back through, with its FPU flag. */
    bool patched;
    bool fpu_dirty;
    bool resumed_patched, resumed_dirty;
    uint32_t patch_k;
};

_Static_assert(PF_UC == PF_OFF + offsetof(struct abi_rt_sigframe, uc), "patched frame: uc");
_Static_assert(PF_INFO >= PF_UC + sizeof(struct abi_ucontext), "patched frame: siginfo");
_Static_assert(PF_FP >= PF_INFO + sizeof(struct abi_siginfo) && PF_FP % 64 == 0,
               "patched frame: FPU image");
_Static_assert(PF_MC == PF_UC + offsetof(struct abi_ucontext, uc_mcontext), "patched frame: mc");
_Static_assert(MC_R12 == offsetof(struct abi_sigcontext, r12) &&
                   MC_RDX == offsetof(struct abi_sigcontext, rdx) &&
                   MC_RSP == offsetof(struct abi_sigcontext, rsp) &&
                   MC_RIP == offsetof(struct abi_sigcontext, rip) &&
                   MC_EFLAGS == offsetof(struct abi_sigcontext, eflags),
               "sigcontext offsets in sysmsg.h");
_Static_assert(SLOT_DEFERRED + 4 <= PF_STACK - 64, "the private stack stays clear of the fields");

struct systrap_patch_cfg systrap_patch;

/* ---- small helpers ---- */

static _Atomic uint32_t *slot_word(struct systrap_ctx *ctx, size_t off)
{
    return (_Atomic uint32_t *)(void *)(ctx->s + off);
}

static uint64_t slot_u64(struct systrap_ctx *ctx, size_t off)
{
    uint64_t v;
    memcpy(&v, ctx->s + off, sizeof(v));
    return v;
}

static void put_u64(uint8_t *at, uint64_t v)
{
    memcpy(at, &v, sizeof(v));
}

static long futex_wait(_Atomic uint32_t *w, uint32_t val, long ns)
{
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    if (syscall(SYS_futex, w, 0 /* FUTEX_WAIT, shared */, val, ns ? &ts : NULL, NULL, 0) < 0)
        return -errno;
    return 0;
}

/* Wake up to n waiters on w (one side of a slot, or everyone). */
static void futex_wake(_Atomic uint32_t *w, int n)
{
    syscall(SYS_futex, w, 1 /* FUTEX_WAKE, shared */, n, NULL, NULL, 0);
}

static void cpu_relax(void)
{
    __builtin_ia32_pause();
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The stub process has ended (its pidfd is readable). */
static bool process_gone(struct systrap_as *as)
{
    if (atomic_load(&as->dead))
        return true;
    struct pollfd pfd = {as->pidfd, POLLIN, 0};
    if (poll(&pfd, 1, 0) > 0) {
        atomic_store(&as->dead, true);
        return true;
    }
    return false;
}

static void kill_stub(struct systrap_as *as)
{
    atomic_store(&as->dead, true);
    syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
}

/* ---- the shared region ---- */

/* A slot in a view of the region (the Sentry's, or the factory's). */
static uint8_t *slot_in(uint8_t *region, unsigned slot)
{
    return region + SYSMSG_SLOTS_OFF + (size_t)slot * SYSMSG_SLOT_SIZE;
}

/* A slot's address in the stub. */
static uint64_t slot_stub_addr(unsigned slot)
{
    return SYSMSG_BASE + SYSMSG_SLOTS_OFF + (uint64_t)slot * SYSMSG_SLOT_SIZE;
}

/* The alternate stack a slot's thread runs its handler on. */
static struct abi_stack slot_altstack(uint64_t stub_slot)
{
    return (struct abi_stack){
        .ss_sp = stub_slot + SYSMSG_STACK_OFF,
        .ss_flags = (int32_t)ABI_SS_AUTODISARM,
        .ss_size = SYSMSG_SLOT_SIZE - SYSMSG_STACK_OFF,
    };
}

void systrap_slot_arm(uint8_t *region, unsigned slot)
{
    uint8_t *s = slot_in(region, slot);
    memset(s, 0, SYSMSG_STACK_OFF);
    struct abi_stack ss = slot_altstack(slot_stub_addr(slot));
    memcpy(s + SLOT_ALTSTACK, &ss, sizeof(ss));
    uint32_t none = UINT32_MAX; /* no CPU yet: never "the same" */
    memcpy(s + SLOT_SENTRY_CPU, &none, sizeof(none));
    none--;
    memcpy(s + SLOT_STUB_CPU, &none, sizeof(none));
    atomic_store((_Atomic uint32_t *)(void *)(s + SLOT_STATE), STATE_RUN);
}

void systrap_region_init(uint8_t *region)
{
    struct sock_filter *bpf = (struct sock_filter *)(void *)(region + CMD_BPF);
    size_t n = systrap_filter_guest(bpf, CMD_BPF_MAX);
    struct sock_fprog prog = {
        .len = (unsigned short)n,
        .filter = (struct sock_filter *)(uintptr_t)(SYSMSG_BASE + CMD_BPF),
    };
    memcpy(region + CMD_FPROG, &prog, sizeof(prog));
    memcpy(region + CMD_CTL_SPIN, &systrap_spin.ctl, sizeof(uint32_t));
    memcpy(region + CMD_STUB_SPIN, &systrap_spin.stub, sizeof(uint32_t));
    memcpy(region + CMD_XFEATURES, &systrap_patch.xfeatures, sizeof(uint64_t));
    systrap_slot_arm(region, 0);
}

/* ---- address-space commands ---- */

/* Wait for the control thread's proof that the batch ran. */
static int wait_batch(struct systrap_as *as, uint32_t seq)
{
    _Atomic uint32_t *hint = (_Atomic uint32_t *)(void *)(as->shm + SYSMSG_RES_OFF + RES_DONE);
    for (int i = 0; i < (int)systrap_spin.sentry && atomic_load(hint) != seq; i++)
        cpu_relax();
    for (;;) {
        struct pollfd pfd[2] = {{as->donefd, POLLIN, 0}, {as->pidfd, POLLIN, 0}};
        int r = poll(pfd, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            if (read(as->donefd, &v, sizeof(v)) == sizeof(v))
                return 0;
            continue;
        }
        if (pfd[1].revents) {
            atomic_store(&as->dead, true);
            return -ESRCH;
        }
    }
}

/* Run op in the stub's control thread, batched with whatever other threads
 * queued meanwhile: the first to find no batch in flight sends everything
 * queued and waits; the others wait for it. */
static void as_commands(struct systrap_as *as, struct as_op *ops, unsigned nops)
{
    if (atomic_load(&as->dead)) {
        for (unsigned i = 0; i < nops; i++)
            ops[i].result = -ESRCH;
        return;
    }
    pthread_mutex_lock(&as->lock);
    for (unsigned i = 0; i < nops; i++) {
        struct as_op *op = &ops[i];
        op->done = false;
        op->next = NULL;
        if (as->q_tail)
            as->q_tail->next = op;
        else
            as->q_head = op;
        as->q_tail = op;
    }
    /* The queue runs in order: the last one done means all are. */
    struct as_op *op = &ops[nops - 1];
    while (!op->done) {
        if (as->in_flight) {
            pthread_cond_wait(&as->cond, &as->lock);
            continue;
        }
        as->in_flight = true;
        struct as_op *batch = as->q_head, *last = batch;
        uint32_t n = 1;
        while (last->next && n < CMD_RING_MAX) {
            last = last->next;
            n++;
        }
        as->q_head = last->next;
        if (!as->q_head)
            as->q_tail = NULL;
        last->next = NULL;
        uint8_t *cmd = as->shm + SYSMSG_CMD_OFF;
        uint32_t i = 0;
        for (struct as_op *o = batch; o; o = o->next, i++) {
            uint8_t *c = cmd + CMD_RING + (size_t)i * CMD_SIZE;
            put_u64(c + CMDF_OP, o->op);
            put_u64(c + CMDF_ADDR, o->addr);
            put_u64(c + CMDF_LEN, o->len);
            put_u64(c + CMDF_PROT, o->prot);
            put_u64(c + CMDF_OFF, o->off);
            put_u64(c + CMDF_AUX, o->aux);
        }
        memcpy(cmd + CMD_N, &n, sizeof(n));
        uint32_t seq = ++as->seq;
        if (seq == 0)
            seq = ++as->seq; /* 0 is where the control thread starts */
        _Atomic uint32_t *w = (_Atomic uint32_t *)(void *)(cmd + CMD_SEQ);
        atomic_store(w, seq);
        pthread_mutex_unlock(&as->lock);
        futex_wake(w, 1);
        uint64_t t0 = as->p->measuring ? __rdtsc() : 0;
        int err = wait_batch(as, seq);
        if (as->p->measuring) {
            atomic_fetch_add_explicit(&as->p->batches, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&as->p->batch_ops, n, memory_order_relaxed);
            atomic_fetch_add_explicit(&as->p->batch_cycles, __rdtsc() - t0, memory_order_relaxed);
        }
        pthread_mutex_lock(&as->lock);
        const uint8_t *res = as->shm + SYSMSG_RES_OFF + RES_VALUES;
        i = 0;
        for (struct as_op *o = batch, *next; o; o = next, i++) {
            next = o->next;
            int64_t v;
            memcpy(&v, res + (size_t)i * 8, sizeof(v));
            o->result = err ? err : (long)v;
            o->done = true;
        }
        as->in_flight = false;
        pthread_cond_broadcast(&as->cond);
    }
    pthread_mutex_unlock(&as->lock);
}

static long as_command(struct systrap_as *as, struct as_op *op)
{
    as_commands(as, op, 1);
    return op->result;
}

static int map_result(long r, uint64_t addr)
{
    if (r < 0 && r > -4096)
        return (int)r;
    /* The result is only a hint (guest-writable); a wrong one hurts only
     * the guest, which faults again. */
    return (uint64_t)r == addr ? 0 : -EFAULT;
}

static int systrap_as_map_many(struct platform_as *as_, const struct platform_map *m, unsigned n)
{
    struct systrap_as *as = (struct systrap_as *)as_;
    struct as_op ops[16];
    int err = 0;
    while (n > 0) {
        unsigned k = n < 16 ? n : 16;
        for (unsigned i = 0; i < k; i++)
            ops[i] = (struct as_op){.op = OP_MAP,
                                    .addr = m[i].addr,
                                    .len = m[i].len,
                                    .prot = (uint64_t)m[i].prot,
                                    .off = m[i].off};
        as_commands(as, ops, k);
        for (unsigned i = 0; i < k && !err; i++)
            err = map_result(ops[i].result, ops[i].addr);
        m += k;
        n -= k;
    }
    return err;
}

static int systrap_as_map(struct platform_as *as_, uint64_t addr, uint64_t len, int prot,
                          uint64_t off)
{
    struct platform_map m = {addr, len, prot, off};
    return systrap_as_map_many(as_, &m, 1);
}

static int systrap_as_unmap(struct platform_as *as_, uint64_t addr, uint64_t len)
{
    struct systrap_as *as = (struct systrap_as *)as_;
    /* The patch area stays (an exec empties the stub with one unmap of
     * everything); the guest never has anything of its own there. */
    if (as->p->base.patch_slots && addr < PATCH_END && addr + len > PATCH_BASE) {
        int r = 0;
        if (addr < PATCH_BASE)
            r = systrap_as_unmap(as_, addr, PATCH_BASE - addr);
        if (!r && addr + len > PATCH_END)
            r = systrap_as_unmap(as_, PATCH_END, addr + len - PATCH_END);
        return r;
    }
    struct as_op op = {.op = OP_UNMAP, .addr = addr, .len = len};
    long r = as_command(as, &op);
    /* The batch ran (the eventfd says so); only a dead stub is a failure,
     * and then nothing of the memory is reachable either. */
    if (r == -ESRCH) {
        atomic_store(&as->broken, true);
        return -ESRCH;
    }
    if (r < 0 && r > -4096) {
        atomic_store(&as->broken, true);
        kill_stub(as);
        return (int)r;
    }
    return 0;
}

static int systrap_as_protect(struct platform_as *as_, uint64_t addr, uint64_t len, int prot)
{
    struct systrap_as *as = (struct systrap_as *)as_;
    struct as_op op = {.op = OP_PROTECT, .addr = addr, .len = len, .prot = (uint64_t)prot};
    long r = as_command(as, &op);
    return r < 0 && r > -4096 ? (int)r : 0;
}

static int systrap_as_host_pid(const struct platform_as *as)
{
    return ((const struct systrap_as *)as)->pid;
}

/* ---- events ---- */

/* Wait until the slot's thread publishes an event. 1: the thread is gone.
 * birth: the thread is being born, so its silence is bounded from the
 * start (the Sentry waits for it under the kernel lock). */
static int wait_event(struct systrap_ctx *ctx, bool birth)
{
    _Atomic uint32_t *st = slot_word(ctx, SLOT_STATE);
    _Atomic uint32_t *sleeping = slot_word(ctx, SLOT_SENTRY_SLEEP);
    /* Spin only when the stub thread last ran on another CPU (see the
     * handler): two threads taking turns on one CPU must hand over at once. */
    int cpu = sched_getcpu();
    uint32_t spins = systrap_spin.sentry;
    if (cpu >= 0) {
        atomic_store(slot_word(ctx, SLOT_SENTRY_CPU), (uint32_t)cpu);
        if (atomic_load(slot_word(ctx, SLOT_STUB_CPU)) == (uint32_t)cpu)
            spins = 0;
    }
    for (uint32_t i = 0; i < spins; i++) {
        uint32_t v = atomic_load(st);
        if (v == STATE_EVENT)
            return 0;
        if (v == STATE_DEAD)
            return 1;
        cpu_relax();
    }
    uint64_t silent_since = birth ? mono_ns() : 0;
    for (;;) {
        atomic_store(sleeping, 1);
        uint32_t v = atomic_load(st);
        if (v == STATE_EVENT || v == STATE_DEAD) {
            atomic_store(sleeping, 0);
            return v == STATE_DEAD;
        }
        if (ctx->as->p->measuring)
            atomic_fetch_add_explicit(&ctx->as->p->sentry_sleeps, 1, memory_order_relaxed);
        long r = futex_wait(st, v, LIVENESS_NS);
        atomic_store(sleeping, 0);
        if (r == -ETIMEDOUT && process_gone(ctx->as))
            return 1;
        if (birth || atomic_load(&ctx->kicked)) {
            uint64_t now = mono_ns();
            if (!silent_since) {
                silent_since = now;
            } else if (now - silent_since > SILENCE_NS) {
                kill_stub(ctx->as);
                return 1;
            }
        }
    }
}

static bool in_stack(struct systrap_ctx *ctx, uint64_t addr, uint64_t size)
{
    uint64_t lo = ctx->stub_slot + SYSMSG_STACK_OFF, hi = ctx->stub_slot + SYSMSG_SLOT_SIZE;
    return addr >= lo && addr <= hi && size <= hi - addr;
}

/* The FPU layout of the host's frames, from a birth frame. */
static void learn_xlayout(struct systrap_platform *p, const uint8_t *fp, uint64_t uc_flags)
{
    pthread_mutex_lock(&p->xlock);
    if (!atomic_load(&p->x_known)) {
        struct abi_fpx_sw_bytes sw;
        memcpy(&sw, fp + FPX_SW_OFF, sizeof(sw));
        uint32_t mask;
        memcpy(&mask, fp + 28, sizeof(mask));
        p->mxcsr_mask = mask ? mask : 0xffbf;
        p->xsize = 512;
        if (sw.magic1 == ABI_FP_XSTATE_MAGIC1 && sw.xstate_size >= 576 &&
            sw.xstate_size <= SYSMSG_SLOT_SIZE / 2) {
            p->xsize = sw.xstate_size;
            p->xfeatures = sw.xfeatures;
        }
        memcpy(p->sw_bytes, fp + FPX_SW_OFF, sizeof(p->sw_bytes));
        p->uc_flags = uc_flags;
        atomic_store_explicit(&p->x_known, true, memory_order_release);
    }
    pthread_mutex_unlock(&p->xlock);
}

/* Read and check the frame of a fresh event. -EIO: the frame is not where
 * or what the stub's handler makes (the guest wrote over the slot). */
static bool in_patch_exit(uint64_t rip)
{
    return rip >= systrap_stub_addr(systrap_patch_published) &&
           rip < systrap_stub_addr(systrap_patch_end);
}

static int capture(struct systrap_ctx *ctx, struct abi_ucontext *uc, struct abi_siginfo *si)
{
    struct systrap_platform *p = ctx->as->p;
    uint64_t uctx = slot_u64(ctx, SLOT_UCTX);
    uint64_t info = slot_u64(ctx, SLOT_INFO);
    uint32_t signo;
    memcpy(&signo, ctx->s + SLOT_SIGNO, sizeof(signo));
    /* Signo 0: patch_entry's frame, always at the same place. */
    bool patched = signo == 0 && p->base.patch_slots;
    if (patched && uctx != ctx->stub_slot + PF_UC)
        return -EIO;
    if (!in_stack(ctx, uctx, sizeof(*uc)) || !in_stack(ctx, info, sizeof(*si)))
        return -EIO;
    memcpy(uc, ctx->s + (uctx - ctx->stub_slot), sizeof(*uc));
    if (patched)
        memset(si, 0, sizeof(*si));
    else
        memcpy(si, ctx->s + (info - ctx->stub_slot), sizeof(*si));
    uint64_t fp = patched ? ctx->stub_slot + PF_FP : uc->uc_mcontext.fpstate;
    if (fp % 64 != 0 || !in_stack(ctx, fp, 512 + 4))
        return -EIO;
    if (!atomic_load_explicit(&p->x_known, memory_order_acquire))
        learn_xlayout(p, ctx->s + (fp - ctx->stub_slot), uc->uc_flags);
    if (!in_stack(ctx, fp, (uint64_t)p->xsize + 4))
        return -EIO;
    /* A signal that caught the thread leaving patch_entry: the guest's
     * state is what we last sent it (ctx->regs, still ours), and its FPU
     * the image we sent if we changed it (xrstor may not have run yet). A
     * fault there means the guest wrecked its slot. */
    bool leaving = !patched && ctx->resumed_patched && in_patch_exit(uc->uc_mcontext.rip);
    if (leaving) {
        if (si->si_code > 0)
            return -EIO;
        if (ctx->resumed_dirty) {
            /* Everything but the kernel's own software bytes. */
            uint8_t *kfp = ctx->s + (fp - ctx->stub_slot);
            memmove(kfp, ctx->s + PF_FP, FPX_SW_OFF);
            if (p->xsize > 512)
                memmove(kfp + 512, ctx->s + PF_FP + 512, p->xsize - 512);
        }
    }
    ctx->patched = patched;
    ctx->resumed_patched = false;
    ctx->fpu_dirty = false;
    memcpy(&ctx->patch_k, ctx->s + SLOT_PATCH_K, sizeof(ctx->patch_k));
    ctx->uctx_off = uctx - ctx->stub_slot;
    ctx->fp_off = fp - ctx->stub_slot;
    ctx->uc_flags = patched ? p->uc_flags : uc->uc_flags;
    ctx->ev_fsbase = slot_u64(ctx, SLOT_FSBASE);
    ctx->ev_gsbase = slot_u64(ctx, SLOT_GSBASE);
    if (leaving) {
        ctx->stopped = true;
        return 0;
    }
    const struct abi_sigcontext *mc = &uc->uc_mcontext;
    struct abi_ptregs *r = &ctx->regs;
    r->r8 = mc->r8;
    r->r9 = mc->r9;
    r->r10 = mc->r10;
    r->r11 = mc->r11;
    r->r12 = mc->r12;
    r->r13 = mc->r13;
    r->r14 = mc->r14;
    r->r15 = mc->r15;
    r->rdi = mc->rdi;
    r->rsi = mc->rsi;
    r->rbp = mc->rbp;
    r->rbx = mc->rbx;
    r->rdx = mc->rdx;
    r->rax = mc->rax;
    r->rcx = mc->rcx;
    r->rsp = mc->rsp;
    r->rip = mc->rip;
    r->eflags = mc->eflags;
    r->orig_rax = (uint64_t)-1;
    r->cs = mc->cs;
    r->ss = mc->ss;
    r->fs = mc->fs;
    r->gs = mc->gs;
    r->ds = 0;
    r->es = 0;
    if (patched) {
        r->cs = 0x33;
        r->ss = 0x2b;
        r->fs = r->gs = 0;
    }
    r->fs_base = ctx->ev_fsbase;
    /* With patching, gs holds the slot's address while the guest's own gs
     * base is 0 (patch_entry finds its slot through it). */
    r->gs_base = p->base.patch_slots && ctx->ev_gsbase == ctx->stub_slot ? 0 : ctx->ev_gsbase;
    ctx->stopped = true;
    return 0;
}

static uint8_t *frame_fp(struct systrap_ctx *ctx)
{
    return ctx->s + ctx->fp_off;
}

/* Put the registers into the frame rt_sigreturn will load, and repair what
 * the guest may have scribbled over since the event. */
static void store_frame(struct systrap_ctx *ctx)
{
    struct abi_ucontext *uc = (struct abi_ucontext *)(void *)(ctx->s + ctx->uctx_off);
    struct abi_sigcontext mc;
    memcpy(&mc, &uc->uc_mcontext, sizeof(mc));
    const struct abi_ptregs *r = &ctx->regs;
    mc.r8 = r->r8;
    mc.r9 = r->r9;
    mc.r10 = r->r10;
    mc.r11 = r->r11;
    mc.r12 = r->r12;
    mc.r13 = r->r13;
    mc.r14 = r->r14;
    mc.r15 = r->r15;
    mc.rdi = r->rdi;
    mc.rsi = r->rsi;
    mc.rbp = r->rbp;
    mc.rbx = r->rbx;
    mc.rdx = r->rdx;
    mc.rax = r->rax;
    mc.rcx = r->rcx;
    mc.rsp = r->rsp;
    mc.rip = r->rip;
    mc.eflags = r->eflags;
    mc.cs = 0x33;
    mc.ss = 0x2b;
    mc.fpstate = ctx->stub_slot + ctx->fp_off;
    memcpy(&uc->uc_mcontext, &mc, sizeof(mc));
    uc->uc_flags = ctx->uc_flags;
    uc->uc_sigmask = 0;
    struct abi_stack ss = slot_altstack(ctx->stub_slot);
    memcpy(&uc->uc_stack, &ss, sizeof(ss));
    /* wrfsbase faults on a non-canonical base: such a value never reaches
     * it (arch_prctl refuses them before they get here). */
    uint32_t bases = 0;
    if (r->fs_base != ctx->ev_fsbase && r->fs_base < 0x800000000000ULL) {
        put_u64(ctx->s + SLOT_NEW_FSBASE, r->fs_base);
        bases |= 1;
    }
    uint64_t gs = r->gs_base;
    if (gs == 0 && ctx->as->p->base.patch_slots)
        gs = ctx->stub_slot;
    /* Bit 1 also sends a patched frame out through rt_sigreturn, which is
     * what a rip the stub's jmp could not take needs. */
    bool slow = ctx->patched && r->rip >= 0x800000000000ULL;
    if ((gs != ctx->ev_gsbase || slow) && gs < 0x800000000000ULL) {
        put_u64(ctx->s + SLOT_NEW_GSBASE, gs);
        bases |= 2;
    }
    memcpy(ctx->s + SLOT_SET_BASES, &bases, sizeof(bases));
    if (ctx->patched && ((bases & 2) || (r->eflags & 0x100))) {
        /* What rt_sigreturn checks: the stub leaves that way for a new gs
         * base or a trap flag (stub.S, patch_resumed). */
        struct systrap_platform *p = ctx->as->p;
        uint8_t *fp = frame_fp(ctx);
        memcpy(fp + FPX_SW_OFF, p->sw_bytes, sizeof(p->sw_bytes));
        if (p->xsize > 512) {
            uint32_t magic2 = ABI_FP_XSTATE_MAGIC2;
            memcpy(fp + p->xsize, &magic2, sizeof(magic2));
        }
    }
    if (ctx->patched) {
        uint32_t dirty = ctx->fpu_dirty;
        memcpy(ctx->s + SLOT_FPU_DIRTY, &dirty, sizeof(dirty));
    }
    ctx->resumed_patched = ctx->patched;
    ctx->resumed_dirty = ctx->fpu_dirty;
    ctx->fpu_dirty = false;
}

static void resume(struct systrap_ctx *ctx)
{
    store_frame(ctx);
    ctx->stopped = false;
    struct systrap_platform *p = ctx->as->p;
    if (p->measuring) {
        ctx->t_resume = __rdtsc();
        if (ctx->t_seen && ctx->t_resume > ctx->t_seen) {
            atomic_fetch_add_explicit(&p->in_sentry, ctx->t_resume - ctx->t_seen,
                                      memory_order_relaxed);
            atomic_fetch_add_explicit(&p->in_sentry_n, 1, memory_order_relaxed);
        }
    }
    _Atomic uint32_t *st = slot_word(ctx, SLOT_STATE);
    atomic_store(st, STATE_RUN);
    if (atomic_load(slot_word(ctx, SLOT_STUB_SLEEP)))
        futex_wake(st, 1);
}

static void classify(struct systrap_ctx *ctx, const struct abi_ucontext *uc,
                     const struct abi_siginfo *si, struct platform_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->trapno = -1;
    uint32_t deferred;
    memcpy(&deferred, ctx->s + SLOT_DEFERRED, sizeof(deferred));
    if (deferred) {
        memset(ctx->s + SLOT_DEFERRED, 0, sizeof(deferred));
        if (deferred <= 64 && deferred != SYSTRAP_KICK_SIGNAL)
            ev->ext_signo = (int)deferred;
    }
    if (ctx->patched || (si->si_signo == SIGTRAP && si->si_code > 0 &&
                         uc->uc_mcontext.rip == systrap_stub_addr(systrap_patch_trap) + 1)) {
        /* Through a patched site: patch_entry's frame, or its int3 when the
         * guest's gs was its own (then eax holds the trampoline). */
        uint32_t k = ctx->patched ? ctx->patch_k : (uint32_t)ctx->regs.r11;
        if (!ctx->patched) {
            /* patch_entry's checks changed the arithmetic flags after
             * saving them in r11 (see stub.S). */
            uint64_t r11 = ctx->regs.r11;
            ctx->regs.eflags = (ctx->regs.eflags & ~0x8d5ULL) | ((r11 >> 40) & 0xd5) |
                               ((r11 >> 32) & 1 ? 0x800 : 0);
        }
        ctx->regs.orig_rax = (uint64_t)-1;
        ctx->regs.rax = (uint64_t)-ENOSYS;
        ev->kind = PLATFORM_EV_SYSCALL;
        ev->abi = PLATFORM_ABI_X86_64;
        ev->patch = k < PATCH_SLOTS ? k + 1 : PATCH_SLOTS + 1;
        if (ctx->as->p->measuring)
            atomic_fetch_add_explicit(&ctx->as->p->patched_events, 1, memory_order_relaxed);
        return;
    }
    int sig = si->si_signo;
    ev->signo = sig;
    if (sig == SIGSYS && si->si_code == SYS_SECCOMP_CODE) {
        /* The kernel rolled rax back to the call number; under ptrace the
         * Sentry sees it in orig_rax with rax = -ENOSYS. */
        ctx->regs.orig_rax = ctx->regs.rax;
        ctx->regs.rax = (uint64_t)-ENOSYS;
        ev->kind = PLATFORM_EV_SYSCALL;
        ev->signo = 0;
        ev->abi = si->u.sigsys.arch == AUDIT_ARCH_I386 ? PLATFORM_ABI_I386 : PLATFORM_ABI_X86_64;
        return;
    }
    if (si->si_code > 0 &&
        (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP)) {
        ev->kind = PLATFORM_EV_FAULT;
        ev->si_code = si->si_code;
        ev->addr = si->u.fault.addr;
        ev->trapno = (int)uc->uc_mcontext.trapno;
        if (sig == SIGSEGV && uc->uc_mcontext.trapno == ABI_TRAP_PF) {
            ev->write = (uc->uc_mcontext.err & ABI_PF_WRITE) != 0;
            ev->exec = (uc->uc_mcontext.err & ABI_PF_INSTR) != 0;
        }
        return;
    }
    ev->kind = PLATFORM_EV_INTERRUPT;
    if (sig == SYSTRAP_KICK_SIGNAL && si->si_code == SI_TKILL_CODE && si->u.kill.pid == getpid()) {
        ev->signo = 0;
        atomic_store(&ctx->kicked, false);
    }
}

static void died(struct systrap_ctx *ctx, struct platform_event *ev)
{
    ctx->gone = true;
    ctx->stopped = false;
    memset(ev, 0, sizeof(*ev));
    ev->kind = PLATFORM_EV_DIED;
    ev->signo = SIGKILL;
    ev->trapno = -1;
}

/* The thread's first event, at systrap_birth: from here its frame is ours. */
static int await_birth(struct systrap_ctx *ctx)
{
    if (wait_event(ctx, true) != 0) {
        ctx->gone = true;
        return -ESRCH;
    }
    struct abi_ucontext uc;
    struct abi_siginfo si;
    int err = capture(ctx, &uc, &si);
    if (err) {
        kill_stub(ctx->as);
        ctx->gone = true;
        return err;
    }
    return 0;
}

/* Account one round trip, from the handler's time stamps (guest-writable:
 * implausible values are dropped). */
static void measure(struct systrap_ctx *ctx, uint64_t seen)
{
    struct systrap_platform *p = ctx->as->p;
    const uint64_t limit = 1ULL << 40;
    uint64_t published = slot_u64(ctx, SLOT_T_EVENT), resumed = slot_u64(ctx, SLOT_T_RESUMED);
    atomic_fetch_add_explicit(&p->events, 1, memory_order_relaxed);
    if (published <= seen && seen - published < limit) {
        atomic_fetch_add_explicit(&p->to_sentry, seen - published, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->to_sentry_n, 1, memory_order_relaxed);
    }
    if (ctx->t_resume && resumed >= ctx->t_resume && resumed - ctx->t_resume < limit) {
        atomic_fetch_add_explicit(&p->to_stub, resumed - ctx->t_resume, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->to_stub_n, 1, memory_order_relaxed);
    }
}

static size_t systrap_stats(const struct platform *base, char *buf, size_t len)
{
    const struct systrap_platform *p = (const struct systrap_platform *)base;
    if (!p->measuring)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ns =
        (double)(now.tv_sec - p->mono0.tv_sec) * 1e9 + (double)(now.tv_nsec - p->mono0.tv_nsec);
    double per_ns = ns > 0 ? (double)(__rdtsc() - p->tsc0) / ns : 0;
    uint64_t a = atomic_load(&p->to_sentry), an = atomic_load(&p->to_sentry_n);
    uint64_t b = atomic_load(&p->to_stub), bn = atomic_load(&p->to_stub_n);
    uint64_t sn = atomic_load(&p->in_sentry_n);
    if (per_ns <= 0)
        return 0;
    uint64_t nb = atomic_load(&p->batches);
    int n = snprintf(
        buf, len,
        "systrap: %llu events (%llu syscalls through patched sites, %llu trapped, %llu faults); "
        "handoff guest->sentry %.0f ns, "
        "sentry->guest %.0f ns, "
        "in the Sentry %.0f ns (means); the Sentry slept %llu times; %llu control-thread batches "
        "(%llu commands), %.0f ns each\n",
        (unsigned long long)atomic_load(&p->events),
        (unsigned long long)atomic_load(&p->patched_events),
        (unsigned long long)atomic_load(&p->trapped_calls),
        (unsigned long long)atomic_load(&p->faults), an ? (double)a / (double)an / per_ns : 0.0,
        bn ? (double)b / (double)bn / per_ns : 0.0,
        sn ? (double)atomic_load(&p->in_sentry) / (double)sn / per_ns : 0.0,
        (unsigned long long)atomic_load(&p->sentry_sleeps), (unsigned long long)nb,
        (unsigned long long)atomic_load(&p->batch_ops),
        nb ? (double)atomic_load(&p->batch_cycles) / (double)nb / per_ns : 0.0);
    return n > 0 ? (size_t)n : 0;
}

static int systrap_ctx_run(struct platform_ctx *ctx_, struct platform_event *ev)
{
    struct systrap_ctx *ctx = (struct systrap_ctx *)ctx_;
    struct systrap_as *as = ctx->as;
    if (atomic_load(&as->broken))
        return -EIO;
    if (ctx->gone || atomic_load(&as->dead)) {
        died(ctx, ev);
        return 0;
    }
    if (ctx->stopped)
        resume(ctx);
    if (wait_event(ctx, false) != 0) {
        /* A thread ends only when we ask it to or its process is killed;
         * anything else is a guest playing with its slot. */
        if (!process_gone(as))
            kill_stub(as);
        died(ctx, ev);
        return 0;
    }
    if (as->p->measuring) {
        ctx->t_seen = __rdtsc();
        measure(ctx, ctx->t_seen);
    }
    struct abi_ucontext uc;
    struct abi_siginfo si;
    if (capture(ctx, &uc, &si) != 0) {
        kill_stub(as);
        died(ctx, ev);
        return 0;
    }
    classify(ctx, &uc, &si, ev);
    if (as->p->measuring && !ev->patch) {
        if (ev->kind == PLATFORM_EV_SYSCALL)
            atomic_fetch_add_explicit(&as->p->trapped_calls, 1, memory_order_relaxed);
        else if (ev->kind == PLATFORM_EV_FAULT)
            atomic_fetch_add_explicit(&as->p->faults, 1, memory_order_relaxed);
    }
    /* Whatever brought the thread back answers a kick too (one that found
     * it entering through patch_entry was let pass). */
    atomic_store(&ctx->kicked, false);
    return 0;
}

static void systrap_ctx_interrupt(struct platform_ctx *ctx_)
{
    struct systrap_ctx *ctx = (struct systrap_ctx *)ctx_;
    atomic_store(&ctx->kicked, true);
    /* Async-signal-safe: one raw tgkill. */
    syscall(SYS_tgkill, ctx->as->pid, ctx->tid, SYSTRAP_KICK_SIGNAL);
}

/* ---- registers and FPU ---- */

static struct abi_ptregs *systrap_ctx_regs(struct platform_ctx *ctx_)
{
    return &((struct systrap_ctx *)ctx_)->regs;
}

static int systrap_ctx_get_fpu(struct platform_ctx *ctx_, struct abi_fxsave *out)
{
    struct systrap_ctx *ctx = (struct systrap_ctx *)ctx_;
    if (!ctx->stopped)
        return -ESRCH;
    memcpy(out, frame_fp(ctx), sizeof(*out));
    return 0;
}

static int systrap_ctx_set_fpu(struct platform_ctx *ctx_, const struct abi_fxsave *in)
{
    struct systrap_ctx *ctx = (struct systrap_ctx *)ctx_;
    if (!ctx->stopped)
        return -ESRCH;
    struct systrap_platform *p = ctx->as->p;
    uint8_t *fp = frame_fp(ctx);
    struct abi_fxsave fx = *in;
    fx.mxcsr &= p->mxcsr_mask; /* as PTRACE_SETFPREGS does */
    ctx->fpu_dirty = true;
    memcpy(fp, &fx, FPX_SW_OFF);
    memcpy(fp + FPX_SW_OFF, p->sw_bytes, sizeof(p->sw_bytes));
    if (p->xsize > 512) {
        /* x87 and SSE come from the image, not their init state. */
        uint64_t bv;
        memcpy(&bv, fp + XSAVE_HDR_OFF, sizeof(bv));
        bv |= ABI_XFEATURE_MASK_FPSSE;
        memcpy(fp + XSAVE_HDR_OFF, &bv, sizeof(bv));
    }
    return 0;
}

/* The XSAVE calls need a host with XSAVE frames and a frame to work on. */
static int xstate_usable(const struct systrap_ctx *ctx)
{
    if (ctx->as->p->xsize <= 512)
        return -ENOSYS;
    return ctx->stopped ? 0 : -ESRCH;
}

static int systrap_ctx_get_xstate(struct platform_ctx *ctx_, void *buf, size_t cap, size_t *len)
{
    struct systrap_ctx *ctx = (struct systrap_ctx *)ctx_;
    struct systrap_platform *p = ctx->as->p;
    int err = xstate_usable(ctx);
    if (err)
        return err;
    size_t n = cap < p->xsize ? cap : p->xsize;
    memcpy(buf, frame_fp(ctx), n);
    *len = n;
    return 0;
}

/* The checks the host's sigreturn and PTRACE_SETREGSET make, so a bad image
 * fails here with -EINVAL rather than killing the stub at sigreturn. */
static int systrap_ctx_set_xstate(struct platform_ctx *ctx_, const void *buf, size_t len)
{
    struct systrap_ctx *ctx = (struct systrap_ctx *)ctx_;
    struct systrap_platform *p = ctx->as->p;
    int err = xstate_usable(ctx);
    if (err)
        return err;
    if (len != p->xsize)
        return -EINVAL;
    const uint8_t *img = buf;
    uint32_t mxcsr;
    memcpy(&mxcsr, img + 24, sizeof(mxcsr));
    if (mxcsr & ~p->mxcsr_mask)
        return -EINVAL;
    uint64_t hdr[8];
    memcpy(hdr, img + XSAVE_HDR_OFF, sizeof(hdr));
    if ((hdr[0] & ~p->xfeatures) || hdr[1] != 0)
        return -EINVAL;
    for (int i = 2; i < 8; i++)
        if (hdr[i])
            return -EINVAL;
    uint8_t *fp = frame_fp(ctx);
    ctx->fpu_dirty = true;
    memcpy(fp, img, FPX_SW_OFF);
    memcpy(fp + FPX_SW_OFF, p->sw_bytes, sizeof(p->sw_bytes));
    memcpy(fp + 512, img + 512, p->xsize - 512);
    return 0;
}

/* A fresh process's FPU: every component in its init state. The guest never
 * sees what the stub inherited from the Sentry's registers. */
static void reset_frame_fpu(struct systrap_ctx *ctx)
{
    struct systrap_platform *p = ctx->as->p;
    uint8_t *fp = frame_fp(ctx);
    ctx->fpu_dirty = true;
    memset(fp, 0, FPX_SW_OFF);
    uint16_t cwd = ABI_FPU_DEFAULT_CWD;
    uint32_t mxcsr = ABI_FPU_DEFAULT_MXCSR;
    memcpy(fp, &cwd, sizeof(cwd));
    memcpy(fp + 24, &mxcsr, sizeof(mxcsr));
    memcpy(fp + 28, &p->mxcsr_mask, sizeof(p->mxcsr_mask));
    if (p->xsize > 512)
        memset(fp + XSAVE_HDR_OFF, 0, p->xsize - XSAVE_HDR_OFF);
}

/* ---- slots, contexts and address spaces ---- */

static int slot_alloc(struct systrap_as *as)
{
    for (unsigned i = 0; i < SYSMSG_MAX_SLOTS / 64; i++) {
        if (as->slots[i] != ~0ULL) {
            int b = __builtin_ctzll(~as->slots[i]);
            as->slots[i] |= 1ULL << b;
            return (int)(i * 64 + (unsigned)b);
        }
    }
    return -EAGAIN;
}

static void slot_free(struct systrap_as *as, unsigned slot)
{
    as->slots[slot / 64] &= ~(1ULL << (slot % 64));
}

static struct systrap_ctx *ctx_new(struct systrap_as *as, unsigned slot)
{
    struct systrap_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return NULL;
    ctx->hdr.as = &as->hdr;
    ctx->as = as;
    ctx->slot = slot;
    ctx->s = slot_in(as->shm, slot);
    ctx->stub_slot = slot_stub_addr(slot);
    return ctx;
}

static void as_put(struct systrap_as *as)
{
    pthread_mutex_lock(&as->lock);
    bool last = --as->refs == 0;
    pthread_mutex_unlock(&as->lock);
    if (!last)
        return;
    kill_stub(as);
    munmap(as->shm, SYSMSG_SIZE);
    close(as->pidfd);
    close(as->donefd);
    pthread_cond_destroy(&as->cond);
    pthread_mutex_destroy(&as->lock);
    free(as);
}

static int systrap_as_create(struct platform *base, struct platform_as **out)
{
    struct systrap_platform *p = (struct systrap_platform *)base;
    struct systrap_as *as = calloc(1, sizeof(*as));
    if (!as)
        return -ENOMEM;
    struct systrap_stub_fds fds;
    pthread_mutex_lock(&p->factory_lock);
    int err = systrap_factory_spawn(&p->factory, &fds);
    pthread_mutex_unlock(&p->factory_lock);
    if (err) {
        free(as);
        return err;
    }
    void *shm = mmap(NULL, SYSMSG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds.shmfd, 0);
    close(fds.shmfd);
    as->hdr.p = base;
    as->p = p;
    as->pid = fds.pid;
    as->pidfd = fds.pidfd;
    as->donefd = fds.donefd;
    pthread_mutex_init(&as->lock, NULL);
    pthread_cond_init(&as->cond, NULL);
    as->refs = 1;
    if (shm == MAP_FAILED) {
        err = -errno;
        as->shm = NULL;
        kill_stub(as);
        close(as->pidfd);
        close(as->donefd);
        free(as);
        return err;
    }
    as->shm = shm;
    as->slots[0] = 1; /* slot 0 is the initial thread's */
    struct systrap_ctx *ctx = ctx_new(as, 0);
    if (!ctx) {
        as_put(as);
        return -ENOMEM;
    }
    ctx->tid = fds.pid;
    as->refs++;
    as->initial = ctx;
    err = await_birth(ctx);
    if (err) {
        as->initial = NULL;
        free(ctx);
        as->refs--;
        as_put(as);
        return err;
    }
    reset_frame_fpu(ctx);
    *out = &as->hdr;
    return 0;
}

static void systrap_as_destroy(struct platform_as *as_)
{
    struct systrap_as *as = (struct systrap_as *)as_;
    if (!as)
        return;
    kill_stub(as);
    /* Sentry threads waiting for events of this stub learn of it now, not
     * at their next liveness check. */
    pthread_mutex_lock(&as->lock);
    struct systrap_ctx *initial = as->initial;
    as->initial = NULL;
    for (unsigned i = 0; i < SYSMSG_MAX_SLOTS; i++) {
        if (as->slots[i / 64] & (1ULL << (i % 64))) {
            _Atomic uint32_t *st = (_Atomic uint32_t *)(void *)(slot_in(as->shm, i) + SLOT_STATE);
            atomic_store(st, STATE_DEAD);
            futex_wake(st, INT32_MAX);
        }
    }
    pthread_mutex_unlock(&as->lock);
    if (initial) {
        free(initial);
        as_put(as);
    }
    as_put(as);
}

static int systrap_ctx_create(struct platform_as *as_, struct platform_ctx **out)
{
    struct systrap_as *as = (struct systrap_as *)as_;
    pthread_mutex_lock(&as->lock);
    struct systrap_ctx *ctx = as->initial;
    as->initial = NULL;
    pthread_mutex_unlock(&as->lock);
    if (!ctx)
        return -EAGAIN;
    *out = &ctx->hdr;
    return 0;
}

/* After a clone command that reports failure: whether a thread was born in
 * the slot anyway. The result lives in guest-writable memory, so a guest can
 * forge a failure; the slot would then go back to the pool with a live
 * thread in it, one host thread more per guest clone, past every ceiling of
 * the Sentry. A real thread reaches its birth event within the grace. */
#define BIRTH_GRACE_NS 200000000ULL
static bool born_anyway(struct systrap_ctx *ctx)
{
    _Atomic uint32_t *st = slot_word(ctx, SLOT_STATE);
    uint64_t t0 = mono_ns();
    for (;;) {
        if (atomic_load(st) != STATE_RUN)
            return true;
        if (process_gone(ctx->as) || mono_ns() - t0 > BIRTH_GRACE_NS)
            return false;
        futex_wait(st, STATE_RUN, 10000000L);
    }
}

static int systrap_ctx_clone(struct platform_ctx *parent_, struct platform_ctx **out)
{
    struct systrap_ctx *parent = (struct systrap_ctx *)parent_;
    struct systrap_as *as = parent->as;
    if (!parent->stopped || parent->gone)
        return -ESRCH;
    if (atomic_load(&as->broken))
        return -EIO;
    pthread_mutex_lock(&as->lock);
    int slot = slot_alloc(as);
    if (slot >= 0)
        as->refs++;
    pthread_mutex_unlock(&as->lock);
    if (slot < 0)
        return slot;
    struct systrap_ctx *ctx = ctx_new(as, (unsigned)slot);
    int err = ctx ? 0 : -ENOMEM;
    if (!err) {
        systrap_slot_arm(as->shm, (unsigned)slot);
        struct as_op op = {.op = OP_CLONE, .aux = ctx->stub_slot};
        long tid = as_command(as, &op);
        if (tid <= 0) {
            err = tid < 0 && tid > -4096 ? (int)tid : -EIO;
            if (!atomic_load(&as->dead) && born_anyway(ctx)) {
                kill_stub(as);
                err = -EIO;
            }
        } else {
            ctx->tid = (pid_t)tid;
        }
    }
    if (!err)
        err = await_birth(ctx);
    if (err) {
        free(ctx);
        pthread_mutex_lock(&as->lock);
        slot_free(as, (unsigned)slot);
        pthread_mutex_unlock(&as->lock);
        as_put(as);
        return err;
    }
    /* The new thread starts from the parent's registers and FPU state. */
    ctx->regs = parent->regs;
    memcpy(frame_fp(ctx), frame_fp(parent), as->p->xsize);
    *out = &ctx->hdr;
    return 0;
}

static int systrap_ctx_attach(struct platform_ctx *ctx)
{
    (void)ctx; /* any Sentry thread may run any context */
    return 0;
}

static void systrap_ctx_destroy(struct platform_ctx *ctx_)
{
    struct systrap_ctx *ctx = (struct systrap_ctx *)ctx_;
    if (!ctx)
        return;
    struct systrap_as *as = ctx->as;
    if (!ctx->gone && ctx->stopped && !atomic_load(&as->dead)) {
        /* Ask the thread to exit and wait for the kernel to clear its
         * state word: only then may the slot serve another thread. */
        _Atomic uint32_t *st = slot_word(ctx, SLOT_STATE);
        atomic_store(st, STATE_EXIT);
        futex_wake(st, 1);
        uint64_t t0 = mono_ns();
        for (;;) {
            uint32_t v = atomic_load(st);
            if (v == STATE_DEAD || process_gone(as))
                break;
            /* The handler only reads the word now: any other value, or a
             * thread that does not end, is the guest's doing, and this
             * waits under the kernel lock. */
            if (v != STATE_EXIT || mono_ns() - t0 > SILENCE_NS) {
                kill_stub(as);
                break;
            }
            futex_wait(st, v, LIVENESS_NS);
        }
    }
    pthread_mutex_lock(&as->lock);
    slot_free(as, ctx->slot);
    pthread_mutex_unlock(&as->lock);
    free(ctx);
    as_put(as);
}

static void systrap_destroy(struct platform *base)
{
    struct systrap_platform *p = (struct systrap_platform *)base;
    systrap_factory_stop(&p->factory);
    free(p);
}

static int systrap_host_socket(const struct platform *base)
{
    return ((const struct systrap_platform *)base)->factory.sock;
}

static const struct platform_ops systrap_ops = {
    .destroy = systrap_destroy,
    .host_socket = systrap_host_socket,
    .stats = systrap_stats,
    .as_create = systrap_as_create,
    .as_destroy = systrap_as_destroy,
    .as_map = systrap_as_map,
    .as_map_many = systrap_as_map_many,
    .as_unmap = systrap_as_unmap,
    .as_protect = systrap_as_protect,
    .as_host_pid = systrap_as_host_pid,
    .ctx_create = systrap_ctx_create,
    .ctx_clone = systrap_ctx_clone,
    .ctx_attach = systrap_ctx_attach,
    .ctx_destroy = systrap_ctx_destroy,
    .ctx_regs = systrap_ctx_regs,
    .ctx_get_fpu = systrap_ctx_get_fpu,
    .ctx_set_fpu = systrap_ctx_set_fpu,
    .ctx_get_xstate = systrap_ctx_get_xstate,
    .ctx_set_xstate = systrap_ctx_set_xstate,
    .ctx_run = systrap_ctx_run,
    .ctx_interrupt = systrap_ctx_interrupt,
    .patch_code = systrap_patch_code,
};

static struct {
    uint8_t fp[512];
    uint64_t uc_flags;
    bool seen;
} probe;

static void probe_handler(int sig, siginfo_t *si, void *uc_)
{
    (void)sig;
    (void)si;
    const struct abi_ucontext *uc = uc_;
    if (uc->uc_mcontext.fpstate) {
        memcpy(probe.fp, (const void *)(uintptr_t)uc->uc_mcontext.fpstate, sizeof(probe.fp));
        probe.uc_flags = uc->uc_flags;
        probe.seen = true;
    }
}

/* The host's signal-frame layout, from a signal to ourselves: patched frames
 * copy it, and the stub's XSAVE needs its component mask before any stub
 * runs. The stubs are our forks, with the same FPU permissions. */
static void probe_xlayout(struct systrap_platform *p)
{
    struct sigaction sa = {.sa_sigaction = probe_handler, .sa_flags = SA_SIGINFO}, old;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR2, &sa, &old) < 0)
        return;
    sigset_t only, prev;
    sigemptyset(&only);
    sigaddset(&only, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &only, &prev);
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
    sigaction(SIGUSR2, &old, NULL);
    if (probe.seen)
        learn_xlayout(p, probe.fp, probe.uc_flags);
}

/* Syscall patching, when asked for and when this host's frames leave room
 * in a slot for patch_entry's frame below the kernel's. */
static void setup_patching(struct systrap_platform *p)
{
    probe_xlayout(p);
    if (!atomic_load(&p->x_known) || p->xsize <= 512) {
        p->patch_off = "the host's signal frames have no XSAVE image";
        return;
    }
    uint64_t kernel_frame = (uint64_t)p->xsize + 4 + 64 + sizeof(struct abi_rt_sigframe) + 256;
    if (PF_FP + (uint64_t)p->xsize + 4 + kernel_frame > SYSMSG_SLOT_SIZE) {
        p->patch_off = "the host's FPU state is too large for a slot";
        return;
    }
    const char *why = NULL;
    if (systrap_patch_area_create(&why) != 0) {
        p->patch_off = why;
        return;
    }
    systrap_patch.on = true;
    systrap_patch.xfeatures = p->xfeatures;
    p->base.extra_lo = PATCH_BASE;
    p->base.extra_hi = PATCH_END;
    p->base.patch_slots = PATCH_SLOTS;
}

int platform_systrap_create(int memfd, unsigned flags, struct platform **out, const char **why)
{
    if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE_BIT)) {
        *why = "the host does not let user code set fs and gs bases (FSGSBASE)";
        return -ENOSYS;
    }
    /* Lets tests see the fallback to ptrace on a host where systrap works. */
    if (getenv("MOAT_SYSTRAP_UNAVAILABLE")) {
        *why = "MOAT_SYSTRAP_UNAVAILABLE is set";
        return -ENOSYS;
    }
    /* The handler reads its CPU with rdtscp. */
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001), "c"(0));
    if (!(d & (1u << 27))) {
        *why = "the CPU has no rdtscp";
        return -ENOSYS;
    }
    uint32_t trap = SECCOMP_RET_TRAP;
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &trap) < 0) {
        *why = "the host kernel has no seccomp SECCOMP_RET_TRAP";
        return -ENOSYS;
    }
    const char *spin = getenv("MOAT_SYSTRAP_SPIN");
    if (spin) {
        unsigned a, b, c;
        if (sscanf(spin, "%u,%u,%u", &a, &b, &c) == 3) {
            systrap_spin.sentry = a;
            systrap_spin.stub = b;
            systrap_spin.ctl = c;
        }
    }
    struct systrap_platform *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->base.ops = &systrap_ops;
    p->base.name = "systrap";
    p->memfd = memfd;
    p->factory.sock = -1;
    const char *stats = getenv("MOAT_PLATFORM_STATS");
    p->measuring = stats && strcmp(stats, "1") == 0;
    p->tsc0 = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &p->mono0);
    pthread_mutex_init(&p->factory_lock, NULL);
    pthread_mutex_init(&p->xlock, NULL);
    /* The stub reads a nonzero component mask as "patching is on". */
    systrap_patch = (struct systrap_patch_cfg){0};
    if (flags & PLATFORM_F_PATCHING)
        setup_patching(p);
    int err = platform_stub_install(&p->base, systrap_stub_start,
                                    (size_t)(systrap_stub_end - systrap_stub_start), why);
    if (!err) {
        uint64_t lo = p->base.vdso_lo, hi = p->base.vdso_hi;
        if (lo == 0)
            lo = hi = STUB_HOST_TASK_TOP;
        err = systrap_factory_start(&p->factory, memfd, lo, hi, why);
    }
    if (err) {
        free(p);
        return err;
    }
    *out = &p->base;
    return 0;
}
