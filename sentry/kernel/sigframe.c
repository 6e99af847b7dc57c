/* The x86-64 rt signal frame: built on the guest stack before a handler
 * runs, read back and checked by rt_sigreturn. The layout is the guest ABI
 * (abi/sigframe.h); glibc's ucontext_t, makecontext-free unwinders and
 * debuggers all read it directly. */
#include <string.h>

#include "abi/errno.h"
#include "abi/sigframe.h"
#include "platform/platform.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"

/* Below the interrupted rsp lies the red zone the x86-64 ABI lets leaf
 * functions use without moving rsp: the frame must not overwrite it. */
#define RED_ZONE 128
/* FXSAVE image, XSAVE header, and the trailing magic2 word. */
#define XSTATE_SIZE  (sizeof(struct abi_fxsave) + ABI_XSAVE_HEADER_SIZE)
#define FPSTATE_SIZE (XSTATE_SIZE + sizeof(uint32_t))

/* The user-settable eflags bits (CF PF AF ZF SF TF DF OF NT AC RF, and ID):
 * rt_sigreturn must not let the guest set IF, IOPL or VM. */
#define EFLAGS_USER 0x254dd5u
#define EFLAGS_TF   0x100u
#define EFLAGS_DF   0x400u
#define EFLAGS_RF   0x10000u

#define USER_CS 0x33
#define USER_SS 0x2b

static void write_fpstate(struct abi_fxsave *fx, uint8_t *buf)
{
    /* The software bytes say "an XSAVE image of xstate_size bytes follows,
     * holding x87 and SSE", which is what glibc and unwinders check. */
    struct abi_fpx_sw_bytes sw = {
        .magic1 = ABI_FP_XSTATE_MAGIC1,
        .extended_size = (uint32_t)FPSTATE_SIZE,
        .xfeatures = ABI_XFEATURE_MASK_FPSSE,
        .xstate_size = (uint32_t)XSTATE_SIZE,
    };
    memcpy((uint8_t *)fx + ABI_FPX_SW_BYTES_OFFSET, &sw, sizeof(sw));
    memcpy(buf, fx, sizeof(*fx));
    uint64_t xstate_bv = ABI_XFEATURE_MASK_FPSSE;
    memset(buf + sizeof(*fx), 0, ABI_XSAVE_HEADER_SIZE);
    memcpy(buf + sizeof(*fx), &xstate_bv, sizeof(xstate_bv));
    uint32_t magic2 = ABI_FP_XSTATE_MAGIC2;
    memcpy(buf + XSTATE_SIZE, &magic2, sizeof(magic2));
}

/* The host's whole XSAVE image, as ptrace gives it, fits in this (AMX's
 * tile data alone is 8 KiB). */
#define XSAVE_MAX 16384
/* The state component Linux leaves out of signal frames unless a process
 * asked for it (arch_prctl ARCH_REQ_XCOMP_PERM): AMX tile data. */
#define XFEATURE_XTILE_DATA 18

struct xsave_layout {
    uint64_t features; /* what frames carry: XCR0 without dynamic components */
    size_t size;       /* the standard-format image of those, in bytes */
};

/* From XCR0 and CPUID leaf 0xD: which components a frame holds and how far
 * the standard-format image of them reaches. */
static struct xsave_layout frame_layout(void)
{
    static _Thread_local struct xsave_layout l;
    if (l.size)
        return l;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    l.features = (((uint64_t)hi << 32) | lo) & ~(UINT64_C(1) << XFEATURE_XTILE_DATA);
    size_t size = XSTATE_SIZE;
    for (unsigned i = 2; i < 63; i++) {
        if (!(l.features & (UINT64_C(1) << i)))
            continue;
        uint32_t a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(i));
        if ((size_t)b + a > size)
            size = (size_t)b + a;
    }
    l.size = size;
    return l;
}

/* The XSAVE image of t as a frame carries it, with Linux's software bytes
 * and magic2, in buf (XSAVE_MAX + 4 bytes); its size in the frame, or 0
 * when the platform has none (the FXSAVE-only frame is used then). */
static size_t full_fpstate(struct task *t, uint8_t *buf)
{
    struct xsave_layout l = frame_layout();
    size_t len = 0;
    if (platform_ctx_get_xstate(t->ctx, buf, XSAVE_MAX, &len) != 0 || len < l.size ||
        l.size <= XSTATE_SIZE)
        return 0;
    struct abi_fpx_sw_bytes sw = {
        .magic1 = ABI_FP_XSTATE_MAGIC1,
        .extended_size = (uint32_t)(l.size + sizeof(uint32_t)),
        .xfeatures = l.features,
        .xstate_size = (uint32_t)l.size,
    };
    memcpy(buf + ABI_FPX_SW_BYTES_OFFSET, &sw, sizeof(sw));
    /* The header's xstate_bv names only what the frame holds. */
    uint64_t bv;
    memcpy(&bv, buf + sizeof(struct abi_fxsave), sizeof(bv));
    bv &= l.features;
    memcpy(buf + sizeof(struct abi_fxsave), &bv, sizeof(bv));
    uint32_t magic2 = ABI_FP_XSTATE_MAGIC2;
    memcpy(buf + l.size, &magic2, sizeof(magic2));
    return l.size + sizeof(magic2);
}

/* rt_sigreturn of a full XSAVE frame: 1 when the frame at fpaddr is one
 * (its software bytes and magic2 agree with this host's layout) and it was
 * restored, 0 when it is not one, -EFAULT when it is unusable. Components
 * the frame does not hold keep their current state. */
static int restore_full(struct task *t, uint64_t fpaddr)
{
    struct xsave_layout l = frame_layout();
    struct abi_fpx_sw_bytes sw;
    if (mm_copy_in(t->mm, &sw, fpaddr + ABI_FPX_SW_BYTES_OFFSET, sizeof(sw)) != 0)
        return -ABI_EFAULT;
    if (sw.magic1 != ABI_FP_XSTATE_MAGIC1 || sw.xstate_size != l.size ||
        sw.extended_size != l.size + sizeof(uint32_t))
        return 0;
    static _Thread_local _Alignas(64) uint8_t img[XSAVE_MAX];
    size_t len = 0;
    if (platform_ctx_get_xstate(t->ctx, img, XSAVE_MAX, &len) != 0 || len < l.size)
        return 0;
    uint64_t cur_bv;
    memcpy(&cur_bv, img + sizeof(struct abi_fxsave), sizeof(cur_bv));
    uint32_t magic2;
    if (mm_copy_in(t->mm, &magic2, fpaddr + l.size, sizeof(magic2)) != 0)
        return -ABI_EFAULT;
    if (magic2 != ABI_FP_XSTATE_MAGIC2)
        return 0;
    uint32_t mxcsr_mask = ((struct abi_fxsave *)img)->mxcsr_mask;
    if (mm_copy_in(t->mm, img, fpaddr, l.size) != 0)
        return -ABI_EFAULT;
    /* Reserved MXCSR bits would make the host refuse the whole state. */
    struct abi_fxsave *fx = (struct abi_fxsave *)img;
    fx->mxcsr &= mxcsr_mask ? mxcsr_mask : 0xffbf;
    memset(img + ABI_FPX_SW_BYTES_OFFSET, 0, sizeof(struct abi_fpx_sw_bytes));
    uint64_t bv;
    memcpy(&bv, img + sizeof(struct abi_fxsave), sizeof(bv));
    bv = (bv & l.features) | (cur_bv & ~l.features);
    memcpy(img + sizeof(struct abi_fxsave), &bv, sizeof(bv));
    return platform_ctx_set_xstate(t->ctx, img, len) == 0 ? 1 : -ABI_EFAULT;
}

int sigframe_setup(struct task *t, int sig, const struct abi_sigaction *act,
                   const struct abi_siginfo *info, const struct signal_fault *f)
{
    /* x86-64 has no kernel-provided trampoline: without a restorer the
     * handler could not return, and Linux refuses to deliver. */
    if (!(act->flags & ABI_SA_RESTORER))
        return -ABI_EFAULT;
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    struct abi_fxsave fx;
    if (platform_ctx_get_fpu(t->ctx, &fx) != 0)
        return -ABI_EFAULT;

    bool on_alt = signal_on_altstack(t, r->rsp);
    uint64_t sp = r->rsp - RED_ZONE;
    bool alt_usable = !(t->altstack.ss_flags & ABI_SS_DISABLE) && t->altstack.ss_size;
    if ((act->flags & ABI_SA_ONSTACK) && alt_usable && !on_alt)
        sp = t->altstack.ss_sp + t->altstack.ss_size;

    /* The whole XSAVE image when the platform has it (AVX and AVX-512
     * registers survive the handler), else FXSAVE with a minimal header. */
    static _Thread_local _Alignas(64) uint8_t fpbuf[XSAVE_MAX + sizeof(uint32_t)];
    size_t fpsize = full_fpstate(t, fpbuf);
    if (!fpsize) {
        write_fpstate(&fx, fpbuf);
        fpsize = FPSTATE_SIZE;
    }
    uint64_t fpaddr = (sp - fpsize) & ~UINT64_C(63);
    uint64_t frame = ((fpaddr - sizeof(struct abi_rt_sigframe)) & ~UINT64_C(15)) - 8;
    if (frame > sp) /* wrapped below zero */
        return -ABI_EFAULT;

    struct abi_rt_sigframe fr;
    memset(&fr, 0, sizeof(fr));
    fr.pretcode = act->restorer;
    fr.uc.uc_flags = ABI_UC_FP_XSTATE | ABI_UC_SIGCONTEXT_SS | ABI_UC_STRICT_RESTORE_SS;
    fr.uc.uc_stack.ss_sp = t->altstack.ss_sp;
    fr.uc.uc_stack.ss_size = t->altstack.ss_size;
    fr.uc.uc_stack.ss_flags = t->altstack.ss_flags;
    if (on_alt)
        fr.uc.uc_stack.ss_flags = ABI_SS_ONSTACK;
    struct abi_sigcontext *sc = &fr.uc.uc_mcontext;
    sc->r8 = r->r8, sc->r9 = r->r9, sc->r10 = r->r10, sc->r11 = r->r11;
    sc->r12 = r->r12, sc->r13 = r->r13, sc->r14 = r->r14, sc->r15 = r->r15;
    sc->rdi = r->rdi, sc->rsi = r->rsi, sc->rbp = r->rbp, sc->rbx = r->rbx;
    sc->rdx = r->rdx, sc->rax = r->rax, sc->rcx = r->rcx, sc->rsp = r->rsp;
    sc->rip = r->rip, sc->eflags = r->eflags;
    sc->cs = USER_CS, sc->ss = USER_SS;
    if (f) {
        sc->trapno = f->trapno;
        sc->err = f->err;
        sc->cr2 = f->cr2;
    }
    /* After rt_sigsuspend and friends, the mask to return to is the one
     * they replaced. */
    abi_sigset_t old_mask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
    sc->oldmask = old_mask;
    sc->fpstate = fpaddr;
    fr.uc.uc_sigmask = old_mask;
    fr.info = *info;

    if (mm_copy_out(t->mm, fpaddr, fpbuf, fpsize) != 0 ||
        mm_copy_out(t->mm, frame, &fr, sizeof(fr)) != 0)
        return -ABI_EFAULT;

    /* SS_AUTODISARM: the handler may swapcontext away; the frame keeps the
     * setting for rt_sigreturn to bring back. */
    if (t->altstack.ss_flags & ABI_SS_AUTODISARM) {
        t->altstack.ss_sp = 0;
        t->altstack.ss_size = 0;
        t->altstack.ss_flags = ABI_SS_DISABLE;
    }

    r->rdi = (uint64_t)sig;
    r->rsi = frame + offsetof(struct abi_rt_sigframe, info);
    r->rdx = frame + offsetof(struct abi_rt_sigframe, uc);
    r->rax = 0; /* no vector registers are used for arguments (varargs ABI) */
    r->rsp = frame;
    r->rip = act->handler;
    r->eflags &= ~(uint64_t)(EFLAGS_TF | EFLAGS_DF | EFLAGS_RF);
    r->orig_rax = (uint64_t)-1;
    /* The handler starts with a clean FPU state, as on Linux. */
    platform_ctx_reset_fpu(t->ctx);
    return 0;
}

int sigframe_restore(struct task *t)
{
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    /* The handler's `ret` popped pretcode: rsp points at uc. */
    uint64_t frame = r->rsp - 8;
    struct abi_rt_sigframe fr;
    if (mm_copy_in(t->mm, &fr, frame, sizeof(fr)) != 0)
        return -ABI_EFAULT;
    const struct abi_sigcontext *sc = &fr.uc.uc_mcontext;

    struct abi_fxsave fx;
    int full = sc->fpstate ? restore_full(t, sc->fpstate) : 0;
    if (full < 0)
        return full;
    if (sc->fpstate && !full) {
        if (mm_copy_in(t->mm, &fx, sc->fpstate, sizeof(fx)) != 0)
            return -ABI_EFAULT;
        /* Reserved MXCSR bits would make the host refuse the whole state. */
        struct abi_fxsave cur;
        uint32_t mask = 0xffbf;
        if (platform_ctx_get_fpu(t->ctx, &cur) == 0 && cur.mxcsr_mask)
            mask = cur.mxcsr_mask;
        fx.mxcsr &= mask;
        memset((uint8_t *)&fx + ABI_FPX_SW_BYTES_OFFSET, 0, sizeof(struct abi_fpx_sw_bytes));
        if (platform_ctx_set_fpu(t->ctx, &fx) != 0)
            return -ABI_EFAULT;
    } else if (!full) {
        platform_ctx_reset_fpu(t->ctx);
    }

    r->r8 = sc->r8, r->r9 = sc->r9, r->r10 = sc->r10, r->r11 = sc->r11;
    r->r12 = sc->r12, r->r13 = sc->r13, r->r14 = sc->r14, r->r15 = sc->r15;
    r->rdi = sc->rdi, r->rsi = sc->rsi, r->rbp = sc->rbp, r->rbx = sc->rbx;
    r->rdx = sc->rdx, r->rax = sc->rax, r->rcx = sc->rcx, r->rsp = sc->rsp;
    r->rip = sc->rip;
    r->eflags = (r->eflags & ~(uint64_t)EFLAGS_USER) | (sc->eflags & EFLAGS_USER);
    /* Segment registers stay the 64-bit user ones whatever the frame says. */
    r->cs = USER_CS;
    r->ss = USER_SS;
    /* No syscall restart after a sigreturn. */
    r->orig_rax = (uint64_t)-1;

    t->sigmask = fr.uc.uc_sigmask & ~(ABI_SIGMASK(ABI_SIGKILL) | ABI_SIGMASK(ABI_SIGSTOP));

    /* Bring back the alternate stack the handler's frame recorded, with
     * sigaltstack's rules: an invalid one is left as it is, as Linux does. */
    const struct abi_stack *ss = &fr.uc.uc_stack;
    if (!signal_on_altstack(t, r->rsp) || (t->altstack.ss_flags & ABI_SS_DISABLE)) {
        int mode = ss->ss_flags & ~(int32_t)ABI_SS_AUTODISARM;
        if (mode == ABI_SS_DISABLE) {
            t->altstack.ss_sp = 0;
            t->altstack.ss_size = 0;
            t->altstack.ss_flags = ABI_SS_DISABLE;
        } else if ((mode == 0 || mode == ABI_SS_ONSTACK) && ss->ss_size >= ABI_MINSIGSTKSZ) {
            t->altstack.ss_sp = ss->ss_sp;
            t->altstack.ss_size = ss->ss_size;
            t->altstack.ss_flags = ss->ss_flags & (int32_t)ABI_SS_AUTODISARM;
        }
    }
    return 0;
}
