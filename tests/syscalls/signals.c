/*
 * Signal delivery to a single task: handlers for signals sent to itself
 * (raise, kill, tgkill) with the right siginfo, the mask while a handler
 * runs, SA_NODEFER, SA_RESETHAND, the alternate stack, faults turned into
 * SIGSEGV/SIGFPE/SIGILL/SIGTRAP with their si_code and address, blocking and
 * pending signals, FPU state kept across a handler, and a handler that edits
 * the interrupted registers through its ucontext. Runs natively and in moat.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <ucontext.h>

#include "tap.h"

static volatile sig_atomic_t hits;
static volatile int last_sig;
static siginfo_t last_info;
static sigset_t mask_in_handler;
static volatile uintptr_t uc_addr;
static volatile uint32_t fp_magic;
static volatile uintptr_t fp_addr;

static void on_info(int sig, siginfo_t *si, void *ucv)
{
    hits++;
    last_sig = sig;
    last_info = *si;
    sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
    uc_addr = (uintptr_t)ucv;
    ucontext_t *uc = ucv;
    fp_addr = (uintptr_t)uc->uc_mcontext.fpregs;
    if (uc->uc_mcontext.fpregs)
        fp_magic = ((const uint32_t *)uc->uc_mcontext.fpregs)[464 / 4];
}

static void on_plain(int sig)
{
    hits++;
    last_sig = sig;
    sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
}

static int install(int sig, void *fn, int flags, const sigset_t *mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    if (flags & SA_SIGINFO)
        sa.sa_sigaction = fn;
    else
        sa.sa_handler = fn;
    sa.sa_flags = flags;
    if (mask)
        sa.sa_mask = *mask;
    else
        sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static void test_self_signals(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    is_int(install(SIGUSR1, on_info, SA_SIGINFO, &m), 0, "sigaction SA_SIGINFO");
    hits = 0;
    is_int(raise(SIGUSR1), 0, "raise");
    is_int(hits, 1, "handler ran once before raise returned");
    is_int(last_info.si_signo, SIGUSR1, "raise: si_signo");
    is_int(last_info.si_code, SI_TKILL, "raise: si_code SI_TKILL");
    is_int(last_info.si_pid, getpid(), "raise: si_pid");
    ok(sigismember(&mask_in_handler, SIGUSR1), "the signal is blocked in its handler");
    ok(sigismember(&mask_in_handler, SIGUSR2), "sa_mask is blocked in the handler");
    ok(uc_addr % 16 == 0, "ucontext 16-byte aligned (rsp = 8 mod 16 at entry)");
    ok(fp_addr != 0 && fp_addr % 64 == 0, "fpstate present and 64-byte aligned");
    is_int(fp_magic, 0x46505853, "fpstate carries FP_XSTATE_MAGIC1");
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    ok(!sigismember(&now, SIGUSR1) && !sigismember(&now, SIGUSR2), "mask restored after");

    hits = 0;
    is_int(kill(getpid(), SIGUSR1), 0, "kill self");
    is_int(hits, 1, "kill: handler ran");
    is_int(last_info.si_code, SI_USER, "kill: si_code SI_USER");
    is_int(last_info.si_pid, getpid(), "kill: si_pid");
    is_int((long)last_info.si_uid, (long)getuid(), "kill: si_uid");

    hits = 0;
    is_int(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1), 0, "tgkill self");
    is_int(hits, 1, "tgkill: handler ran");
    is_int(last_info.si_code, SI_TKILL, "tgkill: si_code SI_TKILL");

    is_int(kill(getpid(), 0), 0, "kill sig 0: exists");
    errno = 0;
    is_int(kill(999999, SIGUSR1), -1, "kill other pid fails");
    is_int(errno, ESRCH, "... with ESRCH");
    errno = 0;
    is_int(syscall(SYS_tgkill, getpid(), gettid(), 65), -1, "tgkill sig 65 fails");
    is_int(errno, EINVAL, "... with EINVAL");

    is_int(install(SIGUSR2, on_plain, 0, NULL), 0, "plain handler");
    hits = 0;
    raise(SIGUSR2);
    is_int(hits, 1, "plain handler ran");
    is_int(last_sig, SIGUSR2, "plain handler got the signal number");
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

static volatile int depth, max_depth, calls;
static void on_nested(int sig)
{
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
    if (calls++ == 0)
        raise(sig);
    depth--;
}

static void test_flags(void)
{
    is_int(install(SIGUSR1, on_nested, SA_NODEFER, NULL), 0, "SA_NODEFER handler");
    max_depth = 0;
    calls = 0;
    raise(SIGUSR1);
    is_int(max_depth, 2, "SA_NODEFER: the handler nests");
    ok(!sigismember(&mask_in_handler, SIGUSR1), "SA_NODEFER: not blocked in the handler");

    is_int(install(SIGUSR1, on_nested, 0, NULL), 0, "deferring handler");
    max_depth = 0;
    calls = 0;
    raise(SIGUSR1);
    is_int(max_depth, 1, "without SA_NODEFER the second runs after the first");

    is_int(install(SIGUSR1, on_plain, SA_RESETHAND, NULL), 0, "SA_RESETHAND handler");
    hits = 0;
    raise(SIGUSR1);
    is_int(hits, 1, "SA_RESETHAND: handler ran");
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    ok(old.sa_handler == SIG_DFL, "SA_RESETHAND: disposition back to SIG_DFL");
}

static char altstack_mem[65536] __attribute__((aligned(16)));
static volatile uintptr_t handler_sp;
static volatile int alt_flags;
static void on_alt(int sig)
{
    (void)sig;
    volatile char here;
    handler_sp = (uintptr_t)&here;
    stack_t cur;
    sigaltstack(NULL, &cur);
    alt_flags = cur.ss_flags;
}

static void test_altstack(void)
{
    stack_t ss = {.ss_sp = altstack_mem, .ss_size = sizeof(altstack_mem), .ss_flags = 0};
    is_int(sigaltstack(&ss, NULL), 0, "sigaltstack");
    is_int(install(SIGUSR1, on_alt, SA_ONSTACK, NULL), 0, "SA_ONSTACK handler");
    raise(SIGUSR1);
    ok(handler_sp > (uintptr_t)altstack_mem &&
           handler_sp < (uintptr_t)altstack_mem + sizeof(altstack_mem),
       "the handler runs on the alternate stack");
    is_int(alt_flags, SS_ONSTACK, "sigaltstack reports SS_ONSTACK in the handler");
    stack_t cur;
    sigaltstack(NULL, &cur);
    is_int(cur.ss_flags, 0, "not on the alternate stack after");
    install(SIGUSR1, on_alt, 0, NULL);
    raise(SIGUSR1);
    ok(!(handler_sp > (uintptr_t)altstack_mem &&
         handler_sp < (uintptr_t)altstack_mem + sizeof(altstack_mem)),
       "without SA_ONSTACK the handler stays on the main stack");
    signal(SIGUSR1, SIG_DFL);
}

static sigjmp_buf jb;
static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    last_sig = sig;
    last_info = *si;
    siglongjmp(jb, 1);
}

static void test_faults(void)
{
    install(SIGSEGV, on_fault, SA_SIGINFO | SA_ONSTACK, NULL);
    install(SIGFPE, on_fault, SA_SIGINFO, NULL);

    last_sig = 0;
    if (!sigsetjmp(jb, 1))
        (void)*(volatile int *)0;
    is_int(last_sig, SIGSEGV, "NULL read: SIGSEGV");
    is_int(last_info.si_code, SEGV_MAPERR, "NULL read: SEGV_MAPERR");
    ok(last_info.si_addr == NULL, "NULL read: si_addr 0");
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    ok(!sigismember(&now, SIGSEGV), "siglongjmp restored the mask");

    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok(ro != MAP_FAILED, "read-only page");
    last_sig = 0;
    if (!sigsetjmp(jb, 1))
        *(volatile char *)(ro + 8) = 1;
    is_int(last_sig, SIGSEGV, "write to read-only: SIGSEGV");
    is_int(last_info.si_code, SEGV_ACCERR, "write to read-only: SEGV_ACCERR");
    ok(last_info.si_addr == ro + 8, "write to read-only: si_addr");
    munmap(ro, 4096);

    volatile int zero = 0, num = 7;
    last_sig = 0;
    if (!sigsetjmp(jb, 1))
        num = num / zero;
    is_int(last_sig, SIGFPE, "division by zero: SIGFPE");
    is_int(last_info.si_code, FPE_INTDIV, "division by zero: FPE_INTDIV");

    /* rt_sigreturn with a frame on an unmapped page: SIGSEGV, not a crash. */
    stack_t ss = {.ss_sp = altstack_mem, .ss_size = sizeof(altstack_mem), .ss_flags = 0};
    sigaltstack(&ss, NULL);
    last_sig = 0;
    if (!sigsetjmp(jb, 1))
        __asm__ volatile("mov $16, %%rsp\n\tmov $15, %%eax\n\tsyscall" ::: "memory");
    is_int(last_sig, SIGSEGV, "rt_sigreturn with a bad frame: SIGSEGV");
    signal(SIGSEGV, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
}

static void on_ill(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    last_sig = sig;
    last_info = *si;
    uc->uc_mcontext.gregs[REG_RIP] += 2; /* skip the ud2 */
    uc->uc_mcontext.gregs[REG_RAX] = 42;
}

static void on_trap(int sig)
{
    last_sig = sig;
    hits++;
}

static void test_ucontext(void)
{
    install(SIGILL, on_ill, SA_SIGINFO, NULL);
    last_sig = 0;
    long rax = 0;
    __asm__ volatile("xor %%eax, %%eax\n\tud2" : "=a"(rax)::"memory");
    is_int(last_sig, SIGILL, "ud2: SIGILL");
    is_int(rax, 42, "the handler's REG_RAX edit and REG_RIP skip took effect");
    signal(SIGILL, SIG_DFL);

    install(SIGTRAP, on_trap, 0, NULL);
    hits = 0;
    __asm__ volatile("int3" ::: "memory");
    is_int(hits, 1, "int3: SIGTRAP handler ran, execution continued");
    signal(SIGTRAP, SIG_DFL);
}

static void test_pending(void)
{
    install(SIGUSR1, on_plain, 0, NULL);
    sigset_t b, p;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    is_int(sigprocmask(SIG_BLOCK, &b, NULL), 0, "block SIGUSR1");
    hits = 0;
    raise(SIGUSR1);
    is_int(hits, 0, "a blocked signal waits");
    sigemptyset(&p);
    is_int(sigpending(&p), 0, "sigpending");
    ok(sigismember(&p, SIGUSR1), "SIGUSR1 is pending");
    raise(SIGUSR1);
    is_int(sigprocmask(SIG_UNBLOCK, &b, NULL), 0, "unblock");
    is_int(hits, 1, "unblocking delivers it, once (standard signals do not queue)");
    sigpending(&p);
    ok(!sigismember(&p, SIGUSR1), "no longer pending");

    /* Ignoring a pending signal discards it. */
    sigprocmask(SIG_BLOCK, &b, NULL);
    raise(SIGUSR1);
    signal(SIGUSR1, SIG_IGN);
    sigpending(&p);
    ok(!sigismember(&p, SIGUSR1), "SIG_IGN discards a pending signal");
    sigprocmask(SIG_UNBLOCK, &b, NULL);
    signal(SIGUSR1, SIG_DFL);
}

static void on_clobber(int sig)
{
    (void)sig;
    hits++;
    __asm__ volatile("pcmpeqd %%xmm8, %%xmm8\n\tpxor %%xmm0, %%xmm0\n\tfninit" ::: "xmm0", "xmm8");
    unsigned int csr = 0x7f80; /* round toward zero... and masks, different from the default */
    __asm__ volatile("ldmxcsr %0" ::"m"(csr));
}

static void test_fpu(void)
{
    install(SIGUSR1, on_clobber, 0, NULL);
    hits = 0;
    uint64_t in[2] = {0x0123456789abcdefull, 0xfedcba9876543210ull}, out[2] = {0, 0};
    unsigned int csr_before = 0x3f80, csr_after = 0; /* round down */
    __asm__ volatile("ldmxcsr %[cb]\n\t"
                     "movdqu %[in], %%xmm8\n\t"
                     "syscall\n\t"
                     "movdqu %%xmm8, %[out]\n\t"
                     "stmxcsr %[ca]"
                     : [out] "=m"(out), [ca] "=m"(csr_after)
                     : [in] "m"(in), [cb] "m"(csr_before), "a"((long)SYS_tgkill),
                       "D"((long)getpid()), "S"((long)gettid()), "d"((long)SIGUSR1)
                     : "rcx", "r11", "xmm8", "memory");
    is_int(hits, 1, "the clobbering handler ran");
    ok(out[0] == in[0] && out[1] == in[1], "xmm8 preserved across the handler");
    is_int(csr_after, csr_before, "MXCSR preserved across the handler");
    unsigned int dflt = 0x1f80;
    __asm__ volatile("ldmxcsr %0" ::"m"(dflt));
    signal(SIGUSR1, SIG_DFL);
}

/* A handler that clobbers the AVX registers' upper halves. */
static void clobber_avx(int sig)
{
    (void)sig;
    __asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\tvpcmpeqd %%ymm1, %%ymm1, %%ymm1" ::
                         : "xmm0", "xmm1");
}

/* The frame carries the whole XSAVE state: AVX registers live across a
 * signal come back intact after the handler used them. */
static void test_avx(void)
{
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    int avx = (c >> 28) & 1, osxsave = (c >> 27) & 1;
    unsigned lo = 0, hi = 0;
    if (osxsave)
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if (!avx || (lo & 6) != 6) {
        skip("no AVX", "AVX state preserved across a handler");
        return;
    }
    signal(SIGUSR1, clobber_avx);
    static uint64_t in[4] = {0x1111111111111111ULL, 0x2222222222222222ULL, 0x3333333333333333ULL,
                             0x4444444444444444ULL};
    static uint64_t out[4];
    long pid = getpid(), tid = syscall(SYS_gettid);
    /* Load ymm0, signal ourselves inside the same asm (the handler runs on
     * the way back from the syscall), then store ymm0. */
    __asm__ volatile("vmovdqu %[in], %%ymm0\n\t"
                     "mov %[nr], %%eax\n\t"
                     "syscall\n\t"
                     "vmovdqu %%ymm0, %[out]\n\t"
                     "vzeroupper"
                     : [out] "=m"(out)
                     : [in] "m"(in), [nr] "i"(SYS_tgkill), "D"(pid), "S"(tid), "d"(SIGUSR1)
                     : "rax", "rcx", "r11", "xmm0", "memory");
    ok(out[0] == in[0] && out[1] == in[1], "xmm0 preserved across the handler");
    ok(out[2] == in[2] && out[3] == in[3], "ymm0's upper half preserved across the handler (%#llx)",
       (unsigned long long)out[2]);
    signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
    test_self_signals();
    test_avx();
    test_flags();
    test_altstack();
    test_faults();
    test_ucontext();
    test_pending();
    test_fpu();
    done_testing();
    return tap_failures ? 1 : 0;
}
