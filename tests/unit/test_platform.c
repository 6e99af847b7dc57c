/* Both platforms against real stub processes: syscall stops, faults,
 * mapping memory-file ranges, registers, interruption, what a stub process
 * holds, and guest threads whose contexts run on different threads of the
 * test (as Sentry threads).
 *
 * Every behaviour platform.h promises for both platforms is one body run by
 * two suites, <group>_ptrace and <group>_systrap (BOTH_PLATFORMS). What only
 * one platform does has its own test, in that platform's suite, saying why:
 * ptrace ties a context to the Sentry thread that traces it, systrap has no
 * tracer but a region it shares with guest code, which the guest can write. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"
/* The layout of systrap's shared region, which its guest tests scribble on. */
#include "platform/systrap/sysmsg.h"
/* Its stub symbols, for guests that jump into the stub. */
#include "platform/systrap/systrap.h"

#define CODE_ADDR 0x400000ULL
#define DATA_ADDR 0x600000ULL
#define DATA_OFF  65536

static enum platform_kind kind;
static int memfd;
static unsigned char *mem;
static struct platform *plat;
static struct platform_as *as;
static struct platform_ctx *ctx;
/* platform_create flags: 0 but for the syscall-patching suite. */
static unsigned create_flags;

static void setup_platform_only(void)
{
    memfd = memfd_create("test-mem", MFD_CLOEXEC);
    cr_assert(memfd >= 0);
    cr_assert(ftruncate(memfd, 1 << 20) == 0);
    mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    cr_assert(mem != MAP_FAILED);
    const char *why = NULL;
    int err = platform_create(kind, memfd, create_flags, &plat, &why);
    /* systrap needs CPU and kernel features a host may lack; the Sentry
     * then falls back to ptrace, and these tests have nothing to test. */
    if (err == -ENOSYS && kind == PLATFORM_SYSTRAP)
        cr_skip_test("no systrap here: %s", why ? why : "");
    cr_assert_eq(err, 0, "platform_create: %d %s", err, why ? why : "");
}

static void teardown_platform_only(void)
{
    platform_destroy(plat);
    munmap(mem, 1 << 20);
    close(memfd);
}

static void setup(void)
{
    setup_platform_only();
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &ctx), 0);
}

static void teardown(void)
{
    platform_ctx_destroy(ctx);
    platform_as_destroy(as);
    teardown_platform_only();
}

static void setup_ptrace(void)
{
    kind = PLATFORM_PTRACE;
    setup();
}

static void setup_systrap(void)
{
    kind = PLATFORM_SYSTRAP;
    setup();
}

static void setup_ptrace_platform_only(void)
{
    kind = PLATFORM_PTRACE;
    setup_platform_only();
}

static void setup_systrap_platform_only(void)
{
    kind = PLATFORM_SYSTRAP;
    setup_platform_only();
}

/* One body, one test in each platform's suite of the group. */
#define BOTH_PLATFORMS(group, name)                                                                \
    static void group##_##name(void);                                                              \
    Test(group##_ptrace, name)                                                                     \
    {                                                                                              \
        group##_##name();                                                                          \
    }                                                                                              \
    Test(group##_systrap, name)                                                                    \
    {                                                                                              \
        group##_##name();                                                                          \
    }                                                                                              \
    static void group##_##name(void)

/* Put code at memory-file offset 0, map it at CODE_ADDR and point rip at it. */
static void load_code(const unsigned char *code, size_t len)
{
    memcpy(mem, code, len);
    cr_assert_eq(platform_as_map(as, CODE_ADDR, 4096, PLATFORM_PROT_READ | PLATFORM_PROT_EXEC, 0),
                 0);
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    r->rip = CODE_ADDR;
}

static void run_expect_syscall(struct platform_ctx *c, uint64_t nr)
{
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(c, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL, "event %d signo %d", ev.kind, ev.signo);
    cr_assert_eq(platform_ctx_regs(c)->orig_rax, nr);
}

TestSuite(platform_ptrace, .init = setup_ptrace, .fini = teardown, .timeout = 30);
TestSuite(platform_systrap, .init = setup_systrap, .fini = teardown, .timeout = 30);

BOTH_PLATFORMS(platform, syscall_stops_before_the_host_runs_it)
{
    /* mov $39,%eax (getpid); syscall; mov $60,%eax; mov $7,%edi; syscall (exit 7) */
    static const unsigned char code[] = {0xb8, 39, 0,    0, 0, 0x0f, 0x05, 0xb8, 60,  0,
                                         0,    0,  0xbf, 7, 0, 0,    0,    0x0f, 0x05};
    load_code(code, sizeof(code));
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL);
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    cr_assert_eq(r->orig_rax, 39);
    cr_assert_eq(r->rip, CODE_ADDR + 7);
    r->rax = 4242;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    /* exit was intercepted too: the stub is still alive. */
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL);
    r = platform_ctx_regs(ctx);
    cr_assert_eq(r->orig_rax, 60);
    cr_assert_eq(r->rdi, 7);
    cr_assert_eq(kill(platform_as_host_pid(as), 0), 0);
}

BOTH_PLATFORMS(platform, result_register_reaches_the_guest)
{
    /* getpid; mov %rax,%rdi; mov $60,%eax; syscall */
    static const unsigned char code[] = {0xb8, 39,   0,  0, 0, 0x0f, 0x05, 0x48, 0x89,
                                         0xc7, 0xb8, 60, 0, 0, 0,    0x0f, 0x05};
    load_code(code, sizeof(code));
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    platform_ctx_regs(ctx)->rax = 0x1234;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL);
    cr_assert_eq(platform_ctx_regs(ctx)->rdi, 0x1234);
}

BOTH_PLATFORMS(platform, fault_on_unmapped_memory_then_resume_after_mapping)
{
    /* movl $0x55, DATA_ADDR; mov $60,%eax; syscall */
    static const unsigned char code[] = {0xc7, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x55, 0,
                                         0,    0,    0xb8, 60,   0,    0,    0,    0x0f, 0x05};
    load_code(code, sizeof(code));
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_assert_eq(ev.signo, SIGSEGV);
    cr_assert_eq(ev.si_code, SEGV_MAPERR);
    cr_assert_eq(ev.addr, DATA_ADDR);
    cr_assert_eq(platform_ctx_regs(ctx)->rip, CODE_ADDR);
    /* Map the page the way the mm does on a fault, and retry the store. */
    cr_assert_eq(
        platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE, 65536), 0);
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL);
    /* The guest's store landed in the Sentry's memory file. */
    cr_assert_eq(mem[65536], 0x55);
}

BOTH_PLATFORMS(platform, protect_and_unmap_take_effect)
{
    static const unsigned char code[] = {0xc7, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x55, 0,
                                         0,    0,    0xb8, 60,   0,    0,    0,    0x0f, 0x05};
    load_code(code, sizeof(code));
    cr_assert_eq(platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ, 65536), 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_assert_eq(ev.si_code, SEGV_ACCERR, "a write to a read-only page is an access error");
    cr_assert_eq(platform_as_protect(as, DATA_ADDR, 4096, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE),
                 0);
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL);
    cr_assert_eq(platform_as_unmap(as, CODE_ADDR, 4096), 0);
    platform_ctx_regs(ctx)->rip = CODE_ADDR;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_assert(ev.exec, "an instruction fetch from unmapped memory is flagged as exec");
}

BOTH_PLATFORMS(platform, int3_and_ud2_are_faults)
{
    static const unsigned char code[] = {0xcc, 0x0f, 0x0b};
    load_code(code, sizeof(code));
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_assert_eq(ev.signo, SIGTRAP);
    cr_expect_eq(ev.trapno, 3, "int3 is trap 3");
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_assert_eq(ev.signo, SIGILL);
}

BOTH_PLATFORMS(platform, interrupt_stops_a_spinning_guest)
{
    static const unsigned char code[] = {0xeb, 0xfe}; /* jmp . */
    load_code(code, sizeof(code));
    platform_ctx_interrupt(ctx);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_INTERRUPT);
    cr_assert_eq(ev.signo, 0, "a kick is reported as signo 0");
}

/* A spinning guest gets sig from outside (kill(), not the platform's own
 * tgkill): the run reports an interruption with that number. */
static void expect_signal_from_outside(int sig)
{
    static const unsigned char code[] = {0xeb, 0xfe};
    load_code(code, sizeof(code));
    kill(platform_as_host_pid(as), sig);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_INTERRUPT);
    cr_assert_eq(ev.signo, sig);
}

/* SIGURG is the kick signal of both platforms: sent from outside, it is not
 * a kick. */
BOTH_PLATFORMS(platform, a_signal_from_outside_is_reported_with_its_number)
{
    expect_signal_from_outside(SIGURG);
}

/* Any other catchable host signal too: a tracer sees it before its default
 * action, and the systrap stub handles every signal but SIGKILL and SIGSTOP. */
BOTH_PLATFORMS(platform, any_signal_from_outside_is_reported_with_its_number)
{
    expect_signal_from_outside(SIGUSR1);
}

BOTH_PLATFORMS(platform, a_killed_stub_is_reported_dead)
{
    static const unsigned char code[] = {0xeb, 0xfe};
    load_code(code, sizeof(code));
    kill(platform_as_host_pid(as), SIGKILL);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_DIED);
    cr_assert_eq(ev.signo, SIGKILL);
}

BOTH_PLATFORMS(platform, fpu_state_round_trips)
{
    struct abi_fxsave fx;
    cr_assert_eq(platform_ctx_reset_fpu(ctx), 0);
    cr_assert_eq(platform_ctx_get_fpu(ctx, &fx), 0);
    cr_assert_eq(fx.cwd, ABI_FPU_DEFAULT_CWD);
    cr_assert_eq(fx.mxcsr, ABI_FPU_DEFAULT_MXCSR);
    fx.xmm_space[0] = 0xdeadbeef;
    cr_assert_eq(platform_ctx_set_fpu(ctx, &fx), 0);
    memset(&fx, 0, sizeof(fx));
    cr_assert_eq(platform_ctx_get_fpu(ctx, &fx), 0);
    cr_assert_eq(fx.xmm_space[0], 0xdeadbeef);
}

/* systrap adds the region it shares with the stub's threads (sysmsg.h) and
 * the eventfd its control thread signals; ptrace needs neither. */
BOTH_PLATFORMS(platform, stub_holds_only_the_stub_page_and_vdso)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", platform_as_host_pid(as));
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long s, e;
        cr_assert_eq(sscanf(line, "%llx-%llx", &s, &e), 2);
        bool ok = strstr(line, "moat-stub") || strstr(line, "[vdso]") || strstr(line, "[vvar") ||
                  strstr(line, "[vsyscall]") ||
                  (kind == PLATFORM_SYSTRAP && strstr(line, "moat-sysmsg"));
        cr_expect(ok, "unexpected mapping in the stub: %s", line);
        n++;
    }
    fclose(f);
    cr_expect(n >= 1);
    /* And no fd but the memory file (and systrap's eventfd). */
    snprintf(path, sizeof(path), "/proc/%d/fd", platform_as_host_pid(as));
    char cmd[128];
    int fds = kind == PLATFORM_SYSTRAP ? 2 : 1;
    snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) -eq %d", path, fds);
    cr_expect_eq(system(cmd), 0, "the stub holds exactly %d fd(s)", fds);
}

BOTH_PLATFORMS(platform, guest_range_ends_below_the_stub)
{
    struct platform_range r[4];
    size_t n = platform_reserved(plat, r, 4);
    cr_assert_geq(n, 1);
    cr_expect_geq(r[0].start, platform_max_addr(plat));
    uint64_t vdso = platform_vdso_base(plat);
    if (vdso)
        cr_expect_geq(vdso, platform_max_addr(plat));
}

BOTH_PLATFORMS(platform, a_failed_unmap_retires_the_stub)
{
    static const unsigned char code[] = {0xeb, 0xfe};
    load_code(code, sizeof(code));
    /* An unaligned munmap fails on the host: the stub may still map memory
     * the Sentry believes gone, so it must never run again. */
    cr_assert_neq(platform_as_unmap(as, CODE_ADDR + 1, 4096), 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), -EIO);
}

BOTH_PLATFORMS(platform, a_jump_to_non_executable_memory_is_flagged_exec)
{
    /* mov $DATA_ADDR,%eax; jmp *%rax */
    static const unsigned char code[] = {0xb8, 0x00, 0x00, 0x60, 0x00, 0xff, 0xe0};
    load_code(code, sizeof(code));
    cr_assert_eq(
        platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE, DATA_OFF),
        0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT, "event %d signo %d", ev.kind, ev.signo);
    cr_expect_eq(ev.signo, SIGSEGV);
    cr_expect_eq(ev.si_code, SEGV_ACCERR, "the page is mapped, only not executable");
    cr_expect_eq(ev.addr, DATA_ADDR);
    cr_expect_eq(platform_ctx_regs(ctx)->rip, DATA_ADDR);
    cr_expect(ev.exec, "an instruction fetch is flagged exec");
    cr_expect(!ev.write);
}

/* The XSAVE header (after the 512-byte legacy area): xstate_bv, xcomp_bv,
 * then 48 reserved bytes. */
#define XSAVE_HDR  512
#define XSTATE_MAX 16384
#define XMM0_OFF   160

static uint64_t host_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Write xmm0's low half and mark x87/SSE as present in xstate_bv. */
static void image_set_xmm0(unsigned char *img, uint64_t v)
{
    memcpy(img + XMM0_OFF, &v, sizeof(v));
    uint64_t bv;
    memcpy(&bv, img + XSAVE_HDR, sizeof(bv));
    bv |= 3;
    memcpy(img + XSAVE_HDR, &bv, sizeof(bv));
}

/* Linux leaves every component in its init state after exec and at a
 * signal handler's entry; platform_ctx_reset_fpu does the same, AVX
 * included, so nothing of an earlier program (or the Sentry) survives. */
BOTH_PLATFORMS(platform, reset_fpu_puts_every_component_in_its_init_state)
{
    static unsigned char img[XSTATE_MAX];
    size_t len = 0;
    int err = platform_ctx_get_xstate(ctx, img, sizeof(img), &len);
    if (err == -ENOSYS || !(host_xcr0() & 4))
        cr_skip_test("the host has no XSAVE with AVX");
    cr_assert_eq(err, 0);
    /* The AVX component (ymm upper halves) and where the image keeps it. */
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(2));
    cr_assert(b + 16 <= len, "AVX area at %u in a %zu-byte image", b, len);
    memset(img + b, 0x5a, 16);
    uint64_t bv;
    memcpy(&bv, img + XSAVE_HDR, sizeof(bv));
    bv |= 4 | 3;
    memcpy(img + XSAVE_HDR, &bv, sizeof(bv));
    cr_assert_eq(platform_ctx_set_xstate(ctx, img, len), 0);
    memset(img, 0, sizeof(img));
    cr_assert_eq(platform_ctx_get_xstate(ctx, img, sizeof(img), &len), 0);
    cr_assert_eq(img[b], 0x5a, "the AVX state took");
    cr_assert_eq(platform_ctx_reset_fpu(ctx), 0);
    memset(img, 0xff, sizeof(img));
    cr_assert_eq(platform_ctx_get_xstate(ctx, img, sizeof(img), &len), 0);
    memcpy(&bv, img + XSAVE_HDR, sizeof(bv));
    cr_expect_eq(bv & ~3ULL, 0, "no extended component left in use (xstate_bv %#llx)",
                 (unsigned long long)bv);
    for (int i = 0; i < 16; i++)
        cr_expect_eq(img[b + (uint32_t)i], 0, "ymm0's upper half is zero again");
    struct abi_fxsave fx;
    cr_assert_eq(platform_ctx_get_fpu(ctx, &fx), 0);
    cr_expect_eq(fx.cwd, ABI_FPU_DEFAULT_CWD);
    cr_expect_eq(fx.mxcsr, ABI_FPU_DEFAULT_MXCSR);
}

BOTH_PLATFORMS(platform, xstate_round_trips_and_malformed_headers_are_refused)
{
    /* 1: movq %xmm0,%rdi; getpid; jmp 1b */
    static const unsigned char code[] = {0x66, 0x48, 0x0f, 0x7e, 0xc7, 0xb8, 39,
                                         0,    0,    0,    0x0f, 0x05, 0xeb, 0xf2};
    load_code(code, sizeof(code));
    static unsigned char good[XSTATE_MAX], bad[XSTATE_MAX], back[XSTATE_MAX];
    size_t len = 0;
    int err = platform_ctx_get_xstate(ctx, good, sizeof(good), &len);
    if (err == -ENOSYS)
        cr_skip_test("the host has no XSAVE");
    cr_assert_eq(err, 0);
    cr_assert_gt(len, XSAVE_HDR + 64, "an XSAVE image has a header: %zu bytes", len);
    image_set_xmm0(good, 0x1111222233334444ULL);
    cr_assert_eq(platform_ctx_set_xstate(ctx, good, len), 0);
    /* What was set is what get gives back. */
    size_t len2 = 0;
    cr_assert_eq(platform_ctx_get_xstate(ctx, back, sizeof(back), &len2), 0);
    cr_assert_eq(len2, len);
    cr_expect_eq(memcmp(back + XMM0_OFF, good + XMM0_OFF, 8), 0);

    uint64_t missing = 0;
    for (int b = 2; b < 63 && !missing; b++)
        if (!(host_xcr0() & (1ULL << b)))
            missing = 1ULL << b;
    cr_assert_neq(missing, 0);
    for (int kase = 0; kase < 5; kase++) {
        memcpy(bad, good, len);
        image_set_xmm0(bad, 0xbadbadbadbadULL);
        uint64_t v;
        const char *what = "";
        switch (kase) {
        case 0: /* compacted format */
            v = 1ULL << 63 | 3;
            memcpy(bad + XSAVE_HDR + 8, &v, sizeof(v));
            what = "xcomp_bv set";
            break;
        case 1:
            bad[XSAVE_HDR + 16] = 1;
            what = "first reserved header byte";
            break;
        case 2:
            bad[XSAVE_HDR + 63] = 0x80;
            what = "last reserved header byte";
            break;
        case 3:
            memcpy(&v, bad + XSAVE_HDR, sizeof(v));
            v |= missing;
            memcpy(bad + XSAVE_HDR, &v, sizeof(v));
            what = "xstate_bv with a feature the host lacks";
            break;
        case 4: {
            uint32_t mxcsr = 0xffffffff;
            memcpy(bad + 24, &mxcsr, sizeof(mxcsr));
            what = "reserved MXCSR bits";
            break;
        }
        }
        cr_expect_eq(platform_ctx_set_xstate(ctx, bad, len), -EINVAL, "%s", what);
    }
    /* None of them reached the context: it runs with the good image. */
    run_expect_syscall(ctx, 39);
    cr_expect_eq(platform_ctx_regs(ctx)->rdi, 0x1111222233334444ULL);
    /* And a good image still takes effect after the refusals. */
    cr_assert_eq(platform_ctx_get_xstate(ctx, good, sizeof(good), &len2), 0);
    cr_assert_eq(len2, len);
    image_set_xmm0(good, 0x5555666677778888ULL);
    cr_assert_eq(platform_ctx_set_xstate(ctx, good, len), 0);
    run_expect_syscall(ctx, 39);
    cr_expect_eq(platform_ctx_regs(ctx)->rdi, 0x5555666677778888ULL);
}

/* ---- guest threads: contexts owned by different Sentry threads ---- */

/* One code page, several entry points. */
#define ENTRY_SYSCALL_LOOP 0x00 /* 1: getpid; jmp 1b */
#define ENTRY_LOAD_DATA    0x20 /* mov DATA_ADDR,%rdi; exit */
#define ENTRY_SPIN         0x40 /* jmp . */
#define ENTRY_CLONE        0x60 /* clone; mov %rax,%rdi; exit */
#define CLONE_RESUME       (ENTRY_CLONE + 7)

static void load_thread_code(void)
{
    static const unsigned char loop[] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7};
    static const unsigned char load[] = {0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00,
                                         0xb8, 60,   0,    0,    0,    0x0f, 0x05};
    static const unsigned char spin[] = {0xeb, 0xfe};
    static const unsigned char clone[] = {0xb8, 56,   0,  0, 0, 0x0f, 0x05, 0x48, 0x89,
                                          0xc7, 0xb8, 60, 0, 0, 0,    0x0f, 0x05};
    memcpy(mem + ENTRY_SYSCALL_LOOP, loop, sizeof(loop));
    memcpy(mem + ENTRY_LOAD_DATA, load, sizeof(load));
    memcpy(mem + ENTRY_SPIN, spin, sizeof(spin));
    memcpy(mem + ENTRY_CLONE, clone, sizeof(clone));
    cr_assert_eq(platform_as_map(as, CODE_ADDR, 4096, PLATFORM_PROT_READ | PLATFORM_PROT_EXEC, 0),
                 0);
}

/* Stub threads that are alive (not zombies). */
static int live_threads(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char stat[384], buf[256];
        snprintf(stat, sizeof(stat), "%s/%s/stat", path, e->d_name);
        FILE *f = fopen(stat, "r");
        if (!f)
            continue;
        if (fgets(buf, sizeof(buf), f)) {
            const char *s = strrchr(buf, ')');
            if (s && s[1] == ' ' && s[2] != 'Z' && s[2] != 'X')
                n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

/* Stub threads besides the guest threads: systrap's control thread. */
static int helper_threads(void)
{
    return kind == PLATFORM_SYSTRAP ? 1 : 0;
}

/* The stub process is gone, not even a zombie left. ptrace stubs are the
 * test's children, which the platform must reap itself: the test process
 * then has no child at all. systrap stubs are children of its factory (a
 * child of the test that lives as long as the platform), which leaves their
 * reaping to the kernel. */
static void expect_stub_gone(int pid)
{
    bool gone = false;
    for (int i = 0; i < 2000 && !gone; i++) {
        gone = kill(pid, 0) < 0 && errno == ESRCH;
        if (!gone)
            usleep(1000);
    }
    cr_expect(gone, "stub %d still exists (a zombie, or alive)", pid);
    if (kind != PLATFORM_PTRACE)
        return;
    int st;
    errno = 0;
    pid_t r = waitpid(-1, &st, WNOHANG | __WALL);
    cr_expect(r == -1 && errno == ECHILD, "leftover child: waitpid returned %d (errno %d)", r,
              errno);
}

TestSuite(platform_threads_ptrace, .init = setup_ptrace, .fini = teardown, .timeout = 30);
TestSuite(platform_threads_systrap, .init = setup_systrap, .fini = teardown, .timeout = 30);
TestSuite(platform_lifetime_ptrace, .init = setup_ptrace_platform_only,
          .fini = teardown_platform_only, .timeout = 30);
TestSuite(platform_lifetime_systrap, .init = setup_systrap_platform_only,
          .fini = teardown_platform_only, .timeout = 30);

struct worker {
    struct platform_ctx *ctx;
    int runs;
    int syscalls;
    int map_err;
    int attach_err;
    struct platform_event ev;
    uint64_t rdi, r15, rip;
    struct abi_fxsave fx;
    int fpu_err;
    atomic_int stage;
};

static void *syscall_worker(void *arg)
{
    struct worker *w = arg;
    w->attach_err = platform_ctx_attach(w->ctx);
    if (w->attach_err)
        return NULL;
    for (int i = 0; i < w->runs; i++) {
        struct platform_event ev;
        if (platform_ctx_run(w->ctx, &ev) == 0 && ev.kind == PLATFORM_EV_SYSCALL &&
            platform_ctx_regs(w->ctx)->orig_rax == 39)
            w->syscalls++;
    }
    /* The guest of the other thread sees this mapping. */
    w->map_err = platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ, DATA_OFF);
    platform_ctx_destroy(w->ctx);
    return NULL;
}

BOTH_PLATFORMS(platform_threads, two_threads_run_contexts_of_one_address_space_at_once)
{
    load_thread_code();
    uint64_t value = 0x1122334455667788ULL;
    memcpy(mem + DATA_OFF, &value, sizeof(value));
    struct platform_event ev;
    /* Nothing mapped at DATA_ADDR yet. */
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_LOAD_DATA;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);

    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    struct worker w = {.ctx = b, .runs = 300};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, syscall_worker, &w), 0);
    int mine = 0;
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
        if (ev.kind == PLATFORM_EV_SYSCALL && platform_ctx_regs(ctx)->orig_rax == 39)
            mine++;
    }
    pthread_join(th, NULL);
    cr_assert_eq(w.attach_err, 0);
    cr_expect_eq(mine, 300);
    cr_expect_eq(w.syscalls, 300);
    cr_assert_eq(w.map_err, 0);

    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_LOAD_DATA;
    run_expect_syscall(ctx, 60);
    cr_expect_eq(platform_ctx_regs(ctx)->rdi, value,
                 "the guest reads what the other thread mapped");
}

static void *stranger(void *arg)
{
    int *err = arg;
    struct platform_event ev;
    err[0] = platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ, DATA_OFF);
    err[1] = platform_as_protect(as, CODE_ADDR, 4096, PLATFORM_PROT_READ);
    err[2] = platform_ctx_run(ctx, &ev);
    err[3] = platform_ctx_attach(ctx);
    return NULL;
}

/* ptrace only: ptrace ties a tracee to one tracer thread. systrap lets any
 * thread do all of it (platform_systrap::any_thread_runs_maps_and_unmaps). */
Test(platform_threads_ptrace, a_thread_that_traces_no_context_of_the_space_gets_eperm)
{
    load_thread_code();
    int err[4];
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, stranger, err), 0);
    pthread_join(th, NULL);
    cr_expect_eq(err[0], -EPERM);
    cr_expect_eq(err[1], -EPERM);
    cr_expect_eq(err[2], -EPERM);
    cr_expect_eq(err[3], -EBUSY);
    /* The owner still runs it. */
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    run_expect_syscall(ctx, 39);
}

static void *clone_child_worker(void *arg)
{
    struct worker *w = arg;
    w->attach_err = platform_ctx_attach(w->ctx);
    if (w->attach_err)
        return NULL;
    if (platform_ctx_attach(w->ctx) != 0)
        w->attach_err = -1;
    w->fpu_err = platform_ctx_get_fpu(w->ctx, &w->fx);
    /* What the Sentry does for the child of a clone: its return value. */
    platform_ctx_regs(w->ctx)->rax = 0x77;
    if (platform_ctx_run(w->ctx, &w->ev) == 0) {
        struct abi_ptregs *r = platform_ctx_regs(w->ctx);
        w->rdi = r->rdi;
        w->r15 = r->r15;
        w->rip = r->rip;
        w->syscalls = (int)r->orig_rax;
    }
    platform_ctx_destroy(w->ctx);
    return NULL;
}

BOTH_PLATFORMS(platform_threads, a_clone_attached_elsewhere_starts_at_the_clone_point)
{
    load_thread_code();
    struct abi_fxsave fx;
    cr_assert_eq(platform_ctx_get_fpu(ctx, &fx), 0);
    fx.xmm_space[0] = 0xfeedface;
    cr_assert_eq(platform_ctx_set_fpu(ctx, &fx), 0);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_CLONE;
    run_expect_syscall(ctx, 56);
    /* Registers edited since the stop belong to the copy as well. */
    platform_ctx_regs(ctx)->r15 = 0x1515;
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    struct platform_event ev;
    /* Ownership is ptrace's rule; under systrap a run here would start b. */
    if (kind == PLATFORM_PTRACE)
        cr_expect_eq(platform_ctx_run(b, &ev), -EPERM, "nobody owns a context before attach");

    /* The parent goes on with its own return value. */
    platform_ctx_regs(ctx)->rax = 4321;
    run_expect_syscall(ctx, 60);
    cr_expect_eq(platform_ctx_regs(ctx)->rdi, 4321);

    struct worker w = {.ctx = b};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, clone_child_worker, &w), 0);
    pthread_join(th, NULL);
    cr_assert_eq(w.attach_err, 0);
    cr_assert_eq(w.ev.kind, PLATFORM_EV_SYSCALL, "first event %d signo %d", w.ev.kind, w.ev.signo);
    cr_expect_eq(w.syscalls, 60);
    cr_expect_eq(w.rdi, 0x77);
    cr_expect_eq(w.r15, 0x1515);
    cr_expect_eq(w.rip, CODE_ADDR +
                            sizeof((unsigned char[]){0xb8, 56, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89,
                                                     0xc7, 0xb8, 60, 0, 0, 0, 0x0f, 0x05}) +
                            ENTRY_CLONE);
    cr_expect_eq(w.fpu_err, 0);
    cr_expect_eq(w.fx.xmm_space[0], 0xfeedface, "the FPU state is the parent's");
}

static void *kick_later(void *arg)
{
    usleep(100 * 1000);
    platform_ctx_interrupt(arg);
    return NULL;
}

BOTH_PLATFORMS(platform_threads, a_kick_from_another_thread_stops_a_spinning_guest)
{
    load_thread_code();
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_SPIN;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, kick_later, ctx), 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    pthread_join(th, NULL);
    cr_assert_eq(ev.kind, PLATFORM_EV_INTERRUPT);
    cr_assert_eq(ev.signo, 0);
    cr_assert_eq(platform_ctx_regs(ctx)->rip, CODE_ADDR + ENTRY_SPIN);
}

static void *spin_worker(void *arg)
{
    struct worker *w = arg;
    w->attach_err = platform_ctx_attach(w->ctx);
    if (w->attach_err)
        return NULL;
    platform_ctx_regs(w->ctx)->rip = CODE_ADDR + ENTRY_SPIN;
    atomic_store(&w->stage, 1);
    w->runs = platform_ctx_run(w->ctx, &w->ev);
    platform_ctx_destroy(w->ctx);
    return NULL;
}

BOTH_PLATFORMS(platform_threads, a_kick_reaches_a_cloned_context_on_its_own_thread)
{
    load_thread_code();
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    struct worker w = {.ctx = b};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, spin_worker, &w), 0);
    while (atomic_load(&w.stage) == 0 && w.attach_err == 0)
        usleep(1000);
    usleep(50 * 1000);
    platform_ctx_interrupt(b);
    pthread_join(th, NULL);
    cr_assert_eq(w.attach_err, 0);
    cr_assert_eq(w.runs, 0);
    cr_assert_eq(w.ev.kind, PLATFORM_EV_INTERRUPT);
    cr_assert_eq(w.ev.signo, 0);
}

/* Creates an address space on its own thread, hands a clone to the test's
 * thread, destroys another clone and the initial context while that one
 * runs, and exits. */
struct creator {
    struct platform_as *as;
    struct platform_ctx *handed;
    atomic_int stage;
    int err;
};

static void *creator_thread(void *arg)
{
    struct creator *c = arg;
    struct platform_ctx *a, *cc, *b;
    if ((c->err = platform_as_create(plat, &c->as)) || (c->err = platform_ctx_create(c->as, &a)))
        goto out;
    as = c->as; /* for load_thread_code */
    memcpy(mem, (const unsigned char[]){0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7}, 9);
    if ((c->err =
             platform_as_map(c->as, CODE_ADDR, 4096, PLATFORM_PROT_READ | PLATFORM_PROT_EXEC, 0)))
        goto out;
    platform_ctx_regs(a)->rip = CODE_ADDR;
    if ((c->err = platform_ctx_clone(a, &b)) || (c->err = platform_ctx_clone(a, &cc)) ||
        (c->err = platform_ctx_attach(cc)))
        goto out;
    c->handed = b;
    atomic_store(&c->stage, 1);
    while (atomic_load(&c->stage) != 2)
        usleep(1000);
    for (int i = 0; i < 20; i++) {
        struct platform_event ev;
        if (platform_ctx_run(cc, &ev) || ev.kind != PLATFORM_EV_SYSCALL ||
            platform_ctx_run(a, &ev) || ev.kind != PLATFORM_EV_SYSCALL) {
            c->err = -EIO;
            goto out;
        }
    }
    platform_ctx_destroy(cc);
    platform_ctx_destroy(a);
out:
    atomic_store(&c->stage, 3);
    return NULL;
}

BOTH_PLATFORMS(platform_lifetime, the_initial_context_exits_and_its_thread_ends_while_a_clone_runs)
{
    struct creator c = {0};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, creator_thread, &c), 0);
    while (atomic_load(&c.stage) == 0)
        usleep(1000);
    cr_assert_eq(c.err, 0);
    struct platform_ctx *b = c.handed;
    cr_assert_eq(platform_ctx_attach(b), 0);
    int pid = platform_as_host_pid(c.as);
    atomic_store(&c.stage, 2);
    /* Keep running while the creator destroys its contexts. */
    while (atomic_load(&c.stage) != 3)
        run_expect_syscall(b, 39);
    pthread_join(th, NULL);
    cr_assert_eq(c.err, 0);
    /* Detached at their exit stops, the others finish exiting on their own. */
    int left = 1 + helper_threads();
    for (int i = 0; i < 1000 && live_threads(pid) != left; i++)
        usleep(1000);
    cr_expect_eq(live_threads(pid), left, "only the running clone is left");
    /* The creator's exit (PTRACE_O_EXITKILL) killed nothing. */
    for (int i = 0; i < 50; i++)
        run_expect_syscall(b, 39);
    cr_assert_eq(kill(pid, 0), 0);
    cr_expect_eq(live_threads(pid), left);
    /* Address-space operations now go through the clone. */
    cr_assert_eq(platform_as_protect(c.as, CODE_ADDR, 4096, PLATFORM_PROT_READ), 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(b, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    platform_ctx_destroy(b);
    platform_as_destroy(c.as);
    expect_stub_gone(pid);
}

static void *destroy_as(void *arg)
{
    platform_as_destroy(arg);
    return NULL;
}

BOTH_PLATFORMS(platform_lifetime, destroying_an_address_space_from_another_thread_leaves_no_zombie)
{
    struct platform_ctx *a;
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &a), 0);
    load_thread_code();
    platform_ctx_regs(a)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    run_expect_syscall(a, 39);
    platform_ctx_destroy(a);
    int pid = platform_as_host_pid(as);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, destroy_as, as), 0);
    pthread_join(th, NULL);
    expect_stub_gone(pid);
}

BOTH_PLATFORMS(platform_lifetime,
               killing_a_space_whose_contexts_run_on_several_threads_leaves_no_zombie)
{
    struct platform_ctx *a, *b;
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &a), 0);
    int pid = platform_as_host_pid(as);
    load_thread_code();
    cr_assert_eq(platform_ctx_clone(a, &b), 0);
    struct worker w = {.ctx = b};
    pthread_t th, killer;
    cr_assert_eq(pthread_create(&th, NULL, spin_worker, &w), 0);
    while (atomic_load(&w.stage) == 0 && w.attach_err == 0)
        usleep(1000);
    cr_assert_eq(w.attach_err, 0);
    /* An unattached clone too: it must not outlive the space either. */
    struct platform_ctx *orphan;
    cr_assert_eq(platform_ctx_clone(a, &orphan), 0);
    platform_ctx_regs(a)->rip = CODE_ADDR + ENTRY_SPIN;
    cr_assert_eq(pthread_create(&killer, NULL, kick_later, a), 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(a, &ev), 0);
    pthread_join(killer, NULL);
    cr_assert_eq(ev.kind, PLATFORM_EV_INTERRUPT);
    /* The space goes away from a third thread while the clone spins. */
    cr_assert_eq(pthread_create(&killer, NULL, destroy_as, as), 0);
    pthread_join(killer, NULL);
    pthread_join(th, NULL);
    cr_assert_eq(w.runs, 0);
    cr_expect_eq(w.ev.kind, PLATFORM_EV_DIED);
    cr_assert_eq(platform_ctx_run(a, &ev), 0);
    cr_expect_eq(ev.kind, PLATFORM_EV_DIED);
    platform_ctx_destroy(orphan);
    platform_ctx_destroy(a);
    expect_stub_gone(pid);
}

/* ptrace only: PTRACE_SEIZE of a non-dumpable process needs privilege the
 * Sentry lacks. systrap attaches to nothing; its version of this test is
 * platform_systrap::a_sentry_without_capabilities_still_drives_its_stubs. */
Test(platform_lifetime_ptrace, a_non_dumpable_sentry_still_attaches_to_its_stub_threads)
{
    /* What a Sentry that changed uid looks like: no capabilities, not
     * dumpable. PTRACE_SEIZE must still work on its stubs' threads. */
    cr_assert_eq(setresgid(65534, 65534, 65534), 0);
    cr_assert_eq(setresuid(65534, 65534, 65534), 0);
    cr_assert_eq(prctl(PR_GET_DUMPABLE), 0);
    struct platform_ctx *a, *b;
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &a), 0);
    int pid = platform_as_host_pid(as);
    load_thread_code();
    platform_ctx_regs(a)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    cr_assert_eq(platform_ctx_clone(a, &b), 0);
    struct worker w = {.ctx = b, .runs = 5};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, syscall_worker, &w), 0);
    pthread_join(th, NULL);
    cr_assert_eq(w.attach_err, 0);
    cr_expect_eq(w.syscalls, 5);
    platform_ctx_destroy(a);
    platform_as_destroy(as);
    expect_stub_gone(pid);
}

BOTH_PLATFORMS(platform_threads, a_kick_before_attach_is_a_kick_at_the_first_run)
{
    load_thread_code();
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    /* The waiting thread blocks every signal: the kick waits for it. */
    platform_ctx_interrupt(b);
    struct worker w = {.ctx = b, .runs = 0};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, spin_worker, &w), 0);
    pthread_join(th, NULL);
    cr_assert_eq(w.attach_err, 0);
    cr_assert_eq(w.runs, 0);
    cr_assert_eq(w.ev.kind, PLATFORM_EV_INTERRUPT);
    cr_assert_eq(w.ev.signo, 0, "a kick, not a signal from outside");
}

/* ptrace only: a tracer sees the group stop and resumes it. A systrap stub
 * has no tracer; it stays stopped until a SIGCONT, like any process
 * (platform_systrap::a_stopped_stub_goes_on_after_sigcont). */
Test(platform_threads_ptrace, a_group_stop_is_no_guest_event)
{
    load_thread_code();
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    int pid = platform_as_host_pid(as);
    /* SIGSTOP cannot be blocked: the waiting clone may take it and stop the
     * whole stub, which the contexts' runs must see through. */
    cr_assert_eq(kill(pid, SIGSTOP), 0);
    int interrupts = 0;
    for (int i = 0; i < 20; i++) {
        struct platform_event ev;
        cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
        if (ev.kind == PLATFORM_EV_INTERRUPT) {
            cr_assert_eq(ev.signo, SIGSTOP);
            interrupts++;
            continue;
        }
        cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL, "event %d signo %d", ev.kind, ev.signo);
    }
    cr_expect_leq(interrupts, 1);
    struct worker w = {.ctx = b, .runs = 20};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, syscall_worker, &w), 0);
    pthread_join(th, NULL);
    cr_assert_eq(w.attach_err, 0);
    cr_expect_eq(w.syscalls, 20);
}

/* ---- systrap only: no tracer, a region shared with guest code ---- */

#define SLOT0_ADDR (SYSMSG_BASE + SYSMSG_SLOTS_OFF)

/* movabs $v, %rax */
static size_t emit_movabs_rax(unsigned char *at, uint64_t v)
{
    at[0] = 0x48;
    at[1] = 0xb8;
    memcpy(at + 2, &v, sizeof(v));
    return 10;
}

/* A guest that stores `state` into its own slot's state word, after
 * pointing the slot's ucontext at `uctx` when that is not 0, and spins. */
static void load_slot_scribbler(uint64_t uctx, uint32_t state)
{
    unsigned char code[64];
    size_t n = emit_movabs_rax(code, SLOT0_ADDR);
    if (uctx) {
        /* movabs $uctx, %rcx; mov %rcx, SLOT_UCTX(%rax) */
        code[n++] = 0x48;
        code[n++] = 0xb9;
        memcpy(code + n, &uctx, sizeof(uctx));
        n += sizeof(uctx);
        const unsigned char mov[] = {0x48, 0x89, 0x48, SLOT_UCTX};
        memcpy(code + n, mov, sizeof(mov));
        n += sizeof(mov);
    }
    /* movl $state, SLOT_STATE(%rax); jmp . */
    code[n++] = 0xc7;
    code[n++] = 0x00;
    memcpy(code + n, &state, 4);
    n += 4;
    code[n++] = 0xeb;
    code[n++] = 0xfe;
    load_code(code, n);
}

/* After a guest broke its slot: the stub is gone and every later call
 * fails cleanly instead of touching it. */
static void expect_space_finished(int pid)
{
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_expect_eq(ev.kind, PLATFORM_EV_DIED, "a dead context stays dead");
    cr_expect_lt(platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ, DATA_OFF), 0);
    cr_expect_lt(platform_as_protect(as, CODE_ADDR, 4096, PLATFORM_PROT_READ), 0);
    struct platform_ctx *b = NULL;
    cr_expect_lt(platform_ctx_clone(ctx, &b), 0);
    struct abi_fxsave fx;
    cr_expect_lt(platform_ctx_get_fpu(ctx, &fx), 0);
    bool gone = false;
    for (int i = 0; i < 2000 && !gone; i++) {
        gone = kill(pid, 0) < 0 && errno == ESRCH;
        if (!gone)
            usleep(1000);
    }
    cr_expect(gone, "the stub of a guest that broke its slot is killed");
}

static void expect_run_died_or_eio(void)
{
    struct platform_event ev = {0};
    int err = platform_ctx_run(ctx, &ev);
    cr_assert(err == -EIO || (err == 0 && ev.kind == PLATFORM_EV_DIED),
              "run returned %d, event %d signo %d", err, ev.kind, ev.signo);
}

Test(platform_systrap, a_guest_that_forges_an_event_with_a_wild_frame_dies)
{
    int pid = platform_as_host_pid(as);
    /* An "event" whose frame lies outside the slot's signal stack. */
    load_slot_scribbler(0x1000, STATE_EVENT);
    expect_run_died_or_eio();
    expect_space_finished(pid);
}

Test(platform_systrap, a_guest_that_forges_an_event_with_a_frame_in_another_slot_dies)
{
    int pid = platform_as_host_pid(as);
    /* Inside the region, but in slot 1's stack, not its own. */
    load_slot_scribbler(SLOT0_ADDR + SYSMSG_SLOT_SIZE + SYSMSG_STACK_OFF + 64, STATE_EVENT);
    expect_run_died_or_eio();
    expect_space_finished(pid);
}

Test(platform_systrap, a_guest_that_marks_its_thread_dead_dies)
{
    int pid = platform_as_host_pid(as);
    load_slot_scribbler(0, STATE_DEAD);
    expect_run_died_or_eio();
    expect_space_finished(pid);
}

static void *kick_later_long(void *arg)
{
    usleep(200 * 1000);
    platform_ctx_interrupt(arg);
    return NULL;
}

Test(platform_systrap, a_guest_that_asks_its_thread_to_exit_is_still_a_running_guest)
{
    /* STATE_EXIT is an order to the handler; a guest writing it only keeps
     * spinning, and a kick must still bring it back (or end it), never
     * leave the Sentry waiting. */
    load_slot_scribbler(0, STATE_EXIT);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, kick_later_long, ctx), 0);
    struct platform_event ev = {0};
    int err = platform_ctx_run(ctx, &ev);
    pthread_join(th, NULL);
    cr_assert(err == 0 && (ev.kind == PLATFORM_EV_INTERRUPT || ev.kind == PLATFORM_EV_DIED),
              "run returned %d, event %d", err, ev.kind);
}

Test(platform_systrap, the_command_page_is_read_only_for_the_guest)
{
    unsigned char code[32];
    size_t n = emit_movabs_rax(code, SYSMSG_BASE + CMD_SEQ);
    /* movl $0x7777, (%rax): a forged batch number */
    const unsigned char store[] = {0xc7, 0x00, 0x77, 0x77, 0, 0};
    memcpy(code + n, store, sizeof(store));
    n += sizeof(store);
    /* then: mov (DATA_ADDR),%rdi; mov $60,%eax; syscall */
    const unsigned char load[] = {0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00,
                                  0xb8, 60,   0,    0,    0,    0x0f, 0x05};
    size_t load_at = n;
    memcpy(code + n, load, sizeof(load));
    n += sizeof(load);
    load_code(code, n);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT, "event %d", ev.kind);
    cr_expect_eq(ev.signo, SIGSEGV);
    cr_expect_eq(ev.si_code, SEGV_ACCERR);
    cr_expect_eq(ev.addr, SYSMSG_BASE + CMD_SEQ);
    cr_expect(ev.write);
    cr_expect_eq(platform_ctx_regs(ctx)->rip, CODE_ADDR + 10);
    /* The control thread still takes the Sentry's commands. */
    uint64_t value = 0x0123456789abcdefULL;
    memcpy(mem + DATA_OFF, &value, sizeof(value));
    cr_assert_eq(platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ, DATA_OFF), 0);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + load_at;
    run_expect_syscall(ctx, 60);
    cr_expect_eq(platform_ctx_regs(ctx)->rdi, value);
    cr_assert_eq(platform_as_unmap(as, DATA_ADDR, 4096), 0);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + load_at;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_expect_eq(ev.si_code, SEGV_MAPERR, "the unmap took effect");
}

/* systrap reads the page-fault error code from the signal frame; ptrace
 * cannot see it (it tells only an instruction fetch, by the address). */
Test(platform_systrap, fault_events_say_whether_the_access_was_a_write)
{
    /* 0x00: movl $0x55, DATA_ADDR; 0x20: mov DATA_ADDR,%rdi */
    const unsigned char store[] = {0xc7, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x55, 0, 0, 0};
    const unsigned char load[] = {0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00};
    memcpy(mem + 0x20, load, sizeof(load));
    load_code(store, sizeof(store));
    struct platform_event ev;
    /* Nothing mapped: a write, then a read. */
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_expect_eq(ev.si_code, SEGV_MAPERR);
    cr_expect(ev.write, "a store to unmapped memory is a write");
    cr_expect(!ev.exec);
    cr_expect_eq(ev.trapno, 14);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + 0x20;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_expect(!ev.write, "a load is no write");
    cr_expect(!ev.exec);
    /* Read-only: the store is an access error and a write. */
    cr_assert_eq(platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ, DATA_OFF), 0);
    platform_ctx_regs(ctx)->rip = CODE_ADDR;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_expect_eq(ev.si_code, SEGV_ACCERR);
    cr_expect_eq(ev.addr, DATA_ADDR);
    cr_expect(ev.write, "a store to a read-only page is a write");
    cr_expect(!ev.exec);
}

struct any_thread {
    int map_err, unmap_err, attach_err, run1_err, run2_err;
    struct platform_event ev1, ev2;
    uint64_t rdi;
};

static void *any_thread_worker(void *arg)
{
    struct any_thread *t = arg;
    t->attach_err = platform_ctx_attach(ctx);
    t->map_err = platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ, DATA_OFF);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_LOAD_DATA;
    t->run1_err = platform_ctx_run(ctx, &t->ev1);
    t->rdi = platform_ctx_regs(ctx)->rdi;
    t->unmap_err = platform_as_unmap(as, DATA_ADDR, 4096);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_LOAD_DATA;
    t->run2_err = platform_ctx_run(ctx, &t->ev2);
    return NULL;
}

/* No ownership under systrap: a thread that neither created the space nor
 * ever ran the context changes the space and runs it. */
Test(platform_systrap, any_thread_runs_maps_and_unmaps)
{
    load_thread_code();
    uint64_t value = 0x5566778899aabbccULL;
    memcpy(mem + DATA_OFF, &value, sizeof(value));
    struct any_thread t = {0};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, any_thread_worker, &t), 0);
    pthread_join(th, NULL);
    cr_expect_eq(t.attach_err, 0);
    cr_assert_eq(t.map_err, 0);
    cr_assert_eq(t.run1_err, 0);
    cr_assert_eq(t.ev1.kind, PLATFORM_EV_SYSCALL, "event %d signo %d", t.ev1.kind, t.ev1.signo);
    cr_expect_eq(t.rdi, value);
    cr_assert_eq(t.unmap_err, 0);
    cr_assert_eq(t.run2_err, 0);
    cr_expect_eq(t.ev2.kind, PLATFORM_EV_FAULT, "the unmap from that thread took effect");
    /* And the creating thread carries on with it. */
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    run_expect_syscall(ctx, 39);
}

static void *cont_later(void *arg)
{
    usleep(100 * 1000);
    kill(*(int *)arg, SIGCONT);
    return NULL;
}

Test(platform_systrap, a_stopped_stub_goes_on_after_sigcont)
{
    load_thread_code();
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    int pid = platform_as_host_pid(as);
    cr_assert_eq(kill(pid, SIGSTOP), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, cont_later, &pid), 0);
    /* The SIGCONT itself is a signal from outside like any other: at most
     * one interruption with its number, then the guest's syscalls. */
    int conts = 0;
    for (int i = 0; i < 20; i++) {
        struct platform_event ev;
        cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
        if (ev.kind == PLATFORM_EV_INTERRUPT && ev.signo == SIGCONT) {
            conts++;
            continue;
        }
        cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL, "event %d signo %d", ev.kind, ev.signo);
        cr_assert_eq(platform_ctx_regs(ctx)->orig_rax, 39);
    }
    cr_expect_leq(conts, 1);
    pthread_join(th, NULL);
}

/* How many threads the stub has, zombies included. */
static int all_threads(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* More rounds than there are slots: a slot that never came back would end
 * the test with -EAGAIN well before the last round. */
#define CLONE_ROUNDS (SYSMSG_MAX_SLOTS + 64)

Test(platform_systrap, clone_and_destroy_rounds_leave_no_thread_and_reuse_slots)
{
    load_thread_code();
    int pid = platform_as_host_pid(as);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    run_expect_syscall(ctx, 39);
    /* Two clones alive at a time, destroyed oldest first: slots are freed
     * out of the order they were taken. */
    struct platform_ctx *older = NULL;
    for (int i = 0; i < CLONE_ROUNDS; i++) {
        struct platform_ctx *b;
        int err = platform_ctx_clone(ctx, &b);
        cr_assert_eq(err, 0, "round %d: clone returned %d", i, err);
        /* Every 64th clone runs: a reused slot must carry a working thread. */
        if (i % 64 == 0)
            run_expect_syscall(b, 39);
        platform_ctx_destroy(older);
        older = b;
        if (i == 200)
            cr_assert_eq(all_threads(pid), 2 + helper_threads(), "after 200 rounds");
    }
    platform_ctx_destroy(older);
    run_expect_syscall(ctx, 39);
    cr_expect_eq(all_threads(pid), 1 + helper_threads(),
                 "the initial thread and the control thread only");
}

/* ---- systrap: a guest meddling with another thread's slot never holds a
 * Sentry thread (which waits under the kernel lock at clone and exit). ---- */

#define SLOT_ADDR(n) (SLOT0_ADDR + (uint64_t)(n)*SYSMSG_SLOT_SIZE)

static void *run_until_died(void *arg)
{
    struct platform_ctx *c = arg;
    static struct platform_event ev;
    for (int i = 0; i < 100; i++) {
        if (platform_ctx_run(c, &ev) != 0 || ev.kind == PLATFORM_EV_DIED)
            break;
    }
    return &ev;
}

static void *run_once(void *arg)
{
    static struct platform_event ev;
    if (platform_ctx_run(arg, &ev) != 0)
        ev.kind = PLATFORM_EV_DIED;
    return &ev;
}

static uint64_t elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

Test(platform_systrap, a_guest_that_keeps_a_thread_from_exiting_does_not_hold_destroy)
{
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    /* ctx rewrites b's state word (slot 1) to EVENT for ever: the handler
     * never sees the order to exit, or its end is written over. The Sentry
     * waits for that end under the kernel lock. */
    unsigned char code[32];
    size_t n = emit_movabs_rax(code, SLOT_ADDR(1) + SLOT_STATE);
    const unsigned char loop[] = {0xc7, 0x00, STATE_EVENT, 0, 0, 0, /* movl $2, (%rax) */
                                  0xeb, 0xf8};                      /* jmp back */
    memcpy(code + n, loop, sizeof(loop));
    n += sizeof(loop);
    load_code(code, n);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, run_once, ctx), 0);
    usleep(100 * 1000);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    platform_ctx_destroy(b);
    cr_expect_lt(elapsed_ms(&t0), 10000, "destroy waited for the guest");
    /* The stub is killed, unless the thread got out before ctx wrote over
     * its end: then ctx still spins, and a kick brings it back. */
    platform_ctx_interrupt(ctx);
    void *res;
    pthread_join(th, &res);
    int kind = ((struct platform_event *)res)->kind;
    cr_expect(kind == PLATFORM_EV_DIED || kind == PLATFORM_EV_INTERRUPT, "event %d", kind);
}

/* Clone and destroy contexts of the test's address space until a clone is
 * refused (the scribbler b, run by th, won its race) or budget_ms pass;
 * returns how long the refused clone took. On a loaded machine the
 * scribbler may never win: then there is nothing to check, and the stub is
 * killed, th joined, b destroyed and the test skipped. */
static uint64_t clone_until_refused(pthread_t th, struct platform_ctx *b, uint64_t budget_ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (elapsed_ms(&t0) < budget_ms) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        struct platform_ctx *c = NULL;
        int err = platform_ctx_clone(ctx, &c);
        if (err != 0)
            return elapsed_ms(&t1);
        platform_ctx_destroy(c);
    }
    kill(platform_as_host_pid(as), SIGKILL);
    pthread_join(th, NULL);
    platform_ctx_destroy(b);
    cr_skip_test("the scribbler never won the race in %llu ms (a loaded machine)",
                 (unsigned long long)budget_ms);
}

Test(platform_systrap, a_guest_that_diverts_a_new_threads_signal_stack_fails_the_clone)
{
    int pid = platform_as_host_pid(as);
    load_thread_code();
    /* A writable guest page where a diverted thread's handler would wait. */
    cr_assert_eq(platform_as_map(as, DATA_ADDR, SYSMSG_SLOT_SIZE,
                                 PLATFORM_PROT_READ | PLATFORM_PROT_WRITE, DATA_OFF),
                 0);
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    /* b (slot 1) keeps pointing slot 2's sigaltstack argument at that page,
     * between the Sentry arming the slot and the new thread using it. */
    unsigned char code[64];
    size_t n = emit_movabs_rax(code, SLOT_ADDR(2) + SLOT_ALTSTACK);
    code[n++] = 0x48; /* movabs $DATA_ADDR+0x1000, %rcx */
    code[n++] = 0xb9;
    uint64_t sp = DATA_ADDR + 0x1000;
    memcpy(code + n, &sp, sizeof(sp));
    n += sizeof(sp);
    const unsigned char loop[] = {
        0x48, 0x89, 0x08,                               /* mov %rcx, (%rax): ss_sp */
        0xc7, 0x40, 0x08, 0,    0,    0,    0,          /* movl $0, 8(%rax): ss_flags */
        0x48, 0xc7, 0x40, 0x10, 0x00, 0x30, 0x00, 0x00, /* movq $0x3000, 16(%rax): ss_size */
        0xeb, 0xec,                                     /* jmp back */
    };
    memcpy(mem + 0x100, code, n);
    memcpy(mem + 0x100 + n, loop, sizeof(loop));
    platform_ctx_regs(b)->rip = CODE_ADDR + 0x100;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, run_until_died, b), 0);
    usleep(100 * 1000);
    /* The clone must come back (failing) rather than wait for a birth that
     * happens elsewhere; the scribbler may lose a round or two. */
    uint64_t last = clone_until_refused(th, b, 12000);
    cr_expect_lt(last, 6000, "the diverted clone came back within the birth bound");
    pthread_join(th, NULL);
    platform_ctx_destroy(b);
    expect_stub_gone(pid);
}

Test(platform_systrap, a_guest_that_forges_a_failed_clone_leaves_no_thread_behind)
{
    int pid = platform_as_host_pid(as);
    load_thread_code();
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    /* b keeps writing 0 over the first result of every batch: the tid of
     * the next clone reads as a failure although the thread was made. */
    unsigned char code[32];
    size_t n = emit_movabs_rax(code, SYSMSG_BASE + SYSMSG_RES_OFF + RES_VALUES);
    const unsigned char loop[] = {0x48, 0xc7, 0x00, 0, 0, 0, 0, /* movq $0, (%rax) */
                                  0xeb, 0xf7};                  /* jmp back */
    memcpy(mem + 0x100, code, n);
    memcpy(mem + 0x100 + n, loop, sizeof(loop));
    platform_ctx_regs(b)->rip = CODE_ADDR + 0x100;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, run_until_died, b), 0);
    usleep(100 * 1000);
    /* The scribbler must land between the control thread's store and the
     * Sentry's read. */
    clone_until_refused(th, b, 8000);
    /* The thread the forged failure hid must not outlive the clone: the
     * stub goes, as for any other forgery. */
    pthread_join(th, NULL);
    platform_ctx_destroy(b);
    expect_stub_gone(pid);
}

Test(platform_systrap, a_new_threads_birth_shows_no_register_of_the_sentry)
{
    /* b's birth frame and state page stay as the stub left them until b
     * first runs; ctx, another guest thread, reads them meanwhile: the fs
     * base, and the saved rsp and r15, which the stub inherited from the
     * factory, a fork of the Sentry (its other registers are the stub's). */
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    unsigned char code[64];
    size_t n = emit_movabs_rax(code, SLOT_ADDR(1));
    const unsigned char read[] = {
        0x48, 0x8b, 0x78, SLOT_FSBASE,                /* mov SLOT_FSBASE(%rax), %rdi */
        0x48, 0x8b, 0x48, SLOT_UCTX,                  /* mov SLOT_UCTX(%rax), %rcx */
        0x48, 0x8b, 0xb1, 0xa0,        0, 0,    0,    /* mov 160(%rcx), %rsi: rsp */
        0x48, 0x8b, 0x51, 0x60,                       /* mov 96(%rcx), %rdx: r15 */
        0xb8, 39,   0,    0,           0, 0x0f, 0x05, /* getpid */
    };
    memcpy(code + n, read, sizeof(read));
    n += sizeof(read);
    load_code(code, n);
    run_expect_syscall(ctx, 39);
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    cr_expect_eq(r->rdi, 0, "fs base at birth %#llx", (unsigned long long)r->rdi);
    cr_expect_eq(r->rsi, 0, "rsp at birth %#llx", (unsigned long long)r->rsi);
    cr_expect_eq(r->rdx, 0, "r15 at birth %#llx", (unsigned long long)r->rdx);
    platform_ctx_destroy(b);
}

/* A signal frame for a jump into the stub's rt_sigreturn: resume at rip
 * with sigmask, on the alternate stack of the given slot. */
static void forge_frame(unsigned char *uc, uint64_t rip, uint64_t sigmask, unsigned slot)
{
    memset(uc, 0, 512);
    uint64_t sp = SLOT_ADDR(slot) + SYSMSG_STACK_OFF, size = SYSMSG_SLOT_SIZE - SYSMSG_STACK_OFF;
    uint32_t autodisarm = 1u << 31;
    memcpy(uc + 16, &sp, 8); /* uc_stack */
    memcpy(uc + 24, &autodisarm, 4);
    memcpy(uc + 32, &size, 8);
    memcpy(uc + 168, &rip, 8); /* uc_mcontext.rip */
    uint64_t eflags = 0x202;
    memcpy(uc + 176, &eflags, 8);
    uint16_t cs = 0x33, ss = 0x2b;
    memcpy(uc + 184, &cs, 2);
    memcpy(uc + 190, &ss, 2);
    memcpy(uc + 296, &sigmask, 8); /* uc_sigmask */
}

/* movabs $v, %reg for rsp (4) or r12 (12), as REX.W B8+r */
static size_t emit_movabs(unsigned char *at, int reg, uint64_t v)
{
    at[0] = reg >= 8 ? 0x49 : 0x48;
    at[1] = (unsigned char)(0xb8 + (reg & 7));
    memcpy(at + 2, &v, sizeof(v));
    return 10;
}

Test(platform_systrap, a_kicked_thread_stays_bounded_while_a_guest_wakes_its_state_word)
{
    load_thread_code();
    cr_assert_eq(
        platform_as_map(as, DATA_ADDR, 4096, PLATFORM_PROT_READ | PLATFORM_PROT_WRITE, DATA_OFF),
        0);
    /* The handler's wake of the Sentry: mov $SYS_futex, %eax; lea (%r12), %rdi; FUTEX_WAKE. */
    static const unsigned char wake[] = {0xb8, 0xca, 0, 0, 0, 0x49, 0x8d, 0x3c, 0x24, 0xbe, 1};
    uint64_t wake_at = 0;
    for (const char *p = systrap_handler; p + sizeof(wake) <= systrap_handler_end; p++)
        if (memcmp(p, wake, sizeof(wake)) == 0)
            wake_at = systrap_stub_addr(p);
    cr_assert_neq(wake_at, 0);
    uint64_t restorer = systrap_stub_addr(systrap_restorer);
    struct platform_ctx *b;
    cr_assert_eq(platform_ctx_clone(ctx, &b), 0);
    /* ctx returns through a frame of its own that blocks the kick, and spins. */
    forge_frame(mem + DATA_OFF, CODE_ADDR + ENTRY_SPIN, 1ULL << (SIGURG - 1), 0);
    /* b wakes ctx's state word from the handler's code for ever, coming
     * back each time through a frame of its own: the Sentry's sleep never
     * times out. */
    forge_frame(mem + DATA_OFF + 2048, CODE_ADDR + 0x100, 0, 1);
    unsigned char code[64];
    size_t n = emit_movabs(code, 4, DATA_ADDR);
    n += emit_movabs_rax(code + n, restorer);
    code[n++] = 0xff; /* jmp *%rax */
    code[n++] = 0xe0;
    memcpy(mem + 0x80, code, n);
    n = emit_movabs(code, 4, DATA_ADDR + 2048 - 8); /* the handler pops pretcode */
    n += emit_movabs(code + n, 12, SLOT0_ADDR);
    n += emit_movabs_rax(code + n, wake_at);
    code[n++] = 0xff;
    code[n++] = 0xe0;
    memcpy(mem + 0x100, code, n);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + 0x80;
    platform_ctx_regs(b)->rip = CODE_ADDR + 0x100;
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, run_until_died, ctx), 0);
    cr_assert_eq(pthread_create(&tb, NULL, run_until_died, b), 0);
    usleep(300 * 1000);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    platform_ctx_interrupt(ctx);
    pthread_join(ta, NULL);
    cr_expect_lt(elapsed_ms(&t0), 10000, "the silence bound held");
    pthread_join(tb, NULL);
    platform_ctx_destroy(b);
}

/* What sentry_drop_caps leaves: no capability, no_new_privs, not dumpable.
 * The Sentry must still start, run, kick and kill its stubs (signals to a
 * process of the same uid need no capability). */
Test(platform_lifetime_systrap, a_sentry_without_capabilities_still_drives_its_stubs)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[2];
    memset(none, 0, sizeof(none));
    cr_assert_eq(syscall(SYS_capset, &hdr, none), 0);
    cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    cr_assert_eq(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), 0);
    struct platform_ctx *a, *b;
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &a), 0);
    int pid = platform_as_host_pid(as);
    load_thread_code();
    platform_ctx_regs(a)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    cr_assert_eq(platform_ctx_clone(a, &b), 0);
    struct worker w = {.ctx = b, .runs = 5};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, syscall_worker, &w), 0);
    pthread_join(th, NULL);
    cr_expect_eq(w.syscalls, 5);
    platform_ctx_regs(a)->rip = CODE_ADDR + ENTRY_SPIN;
    cr_assert_eq(pthread_create(&th, NULL, kick_later, a), 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(a, &ev), 0);
    pthread_join(th, NULL);
    cr_expect_eq(ev.kind, PLATFORM_EV_INTERRUPT);
    cr_expect_eq(ev.signo, 0);
    platform_ctx_destroy(a);
    platform_as_destroy(as);
    expect_stub_gone(pid);
}

/* ---- systrap: syscall patching (PLATFORM_F_PATCHING) ----
 *
 * A patched site is `jmp *PATCH_TABLE+8k` over a guest's `mov $nr, %eax;
 * syscall`; it enters the Sentry through trampoline k and the stub's
 * patch_entry, which builds the frame itself instead of the kernel. These
 * tests play the Sentry's half (sentry/kernel/syscall_patch.c) by hand:
 * they write the patch through the memory file and, at a patched stop, fill
 * in rip, rcx and r11 the way the Sentry does from its record of the site. */

static void setup_systrap_patching(void)
{
    kind = PLATFORM_SYSTRAP;
    create_flags = PLATFORM_F_PATCHING;
    setup_platform_only();
    if (platform_patch_slots(plat) == 0)
        cr_skip_test("systrap runs here, but did not turn syscall patching on");
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &ctx), 0);
}

TestSuite(platform_patch_systrap, .init = setup_systrap_patching, .fini = teardown, .timeout = 30);

/* CF, PF, AF, ZF, SF, DF, OF: every flag a guest sets with ordinary code,
 * all of them set, with IF and the always-one bit. */
#define GUEST_FLAGS  0xcd5ULL
#define GUEST_EFLAGS (0x202ULL | GUEST_FLAGS)

/* The registers a patched site must leave as they were (all but rax, rcx
 * and r11, which `syscall` clobbers anyway), each given a distinct
 * canonical value. */
#define PTREG(name) #name, offsetof(struct abi_ptregs, name)
static const struct {
    const char *name;
    size_t off;
} sentinel_regs[] = {{PTREG(rbx)}, {PTREG(rbp)}, {PTREG(rsp)}, {PTREG(r8)},  {PTREG(r9)},
                     {PTREG(r10)}, {PTREG(r12)}, {PTREG(r13)}, {PTREG(r14)}, {PTREG(r15)},
                     {PTREG(rdi)}, {PTREG(rsi)}, {PTREG(rdx)}};
#define N_SENTINELS  (sizeof(sentinel_regs) / sizeof(sentinel_regs[0]))
#define SENTINEL(i)  (0x00005e5e00000000ULL + (uint64_t)((i) + 1) * 0x01010101ULL)
#define SENTINEL_RDX SENTINEL(N_SENTINELS - 1)
#define GUEST_FSBASE 0x0000123456780000ULL

static void set_sentinels(struct abi_ptregs *r)
{
    for (size_t i = 0; i < N_SENTINELS; i++) {
        uint64_t v = SENTINEL(i);
        memcpy((char *)r + sentinel_regs[i].off, &v, sizeof(v));
    }
    r->fs_base = GUEST_FSBASE;
    r->eflags = GUEST_EFLAGS;
}

static void expect_sentinels(const struct abi_ptregs *r, const char *when)
{
    for (size_t i = 0; i < N_SENTINELS; i++) {
        uint64_t v;
        memcpy(&v, (const char *)r + sentinel_regs[i].off, sizeof(v));
        cr_expect_eq(v, SENTINEL(i), "%s: %s is %#llx", when, sentinel_regs[i].name,
                     (unsigned long long)v);
    }
    cr_expect_eq(r->fs_base, GUEST_FSBASE, "%s: fs base %#llx", when,
                 (unsigned long long)r->fs_base);
}

/* mov $39, %eax; syscall: the site the Sentry patches. */
static const unsigned char getpid_site[7] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05};

/* Write the patch for trampoline k over the 7 bytes at code offset off. */
static void patch_site(size_t off, unsigned k)
{
    uint8_t out[7];
    platform_patch_code(plat, k, out);
    memcpy(mem + off, out, sizeof(out));
}

static void run_expect_patched(unsigned k, const char *when)
{
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL, "%s: event %d signo %d", when, ev.kind, ev.signo);
    cr_assert_eq(ev.patch, k + 1, "%s: patch %u", when, ev.patch);
    cr_expect_eq(ev.abi, PLATFORM_ABI_X86_64, "%s", when);
}

/* What the Sentry does at a patched stop before resuming: the call's
 * result, and rip, rcx and r11 as the `syscall` at the site would leave
 * them. */
static void finish_patched_call(uint64_t site, uint64_t result)
{
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    r->rax = result;
    r->rip = site + 7;
    r->rcx = r->rip;
    r->r11 = r->eflags;
}

static void run_expect_int3(uint64_t at)
{
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT, "event %d signo %d", ev.kind, ev.signo);
    cr_assert_eq(ev.signo, SIGTRAP);
    cr_assert_eq(platform_ctx_regs(ctx)->rip, at + 1, "rip %#llx",
                 (unsigned long long)platform_ctx_regs(ctx)->rip);
}

static uint64_t fpu_xmm0(void)
{
    struct abi_fxsave fx;
    cr_assert_eq(platform_ctx_get_fpu(ctx, &fx), 0);
    return (uint64_t)fx.xmm_space[0] | (uint64_t)fx.xmm_space[1] << 32;
}

static void set_fpu_xmm0(uint64_t v)
{
    struct abi_fxsave fx;
    cr_assert_eq(platform_ctx_get_fpu(ctx, &fx), 0);
    fx.xmm_space[0] = (uint32_t)v;
    fx.xmm_space[1] = (uint32_t)(v >> 32);
    cr_assert_eq(platform_ctx_set_fpu(ctx, &fx), 0);
}

/* The mapping of pid that holds addr: its bounds and permissions. */
static bool find_mapping(int pid, uint64_t addr, uint64_t *start, uint64_t *end, char perms[5])
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        unsigned long long s, e;
        if (sscanf(line, "%llx-%llx %4s", &s, &e, perms) == 3 && s <= addr && addr < e) {
            *start = s;
            *end = e;
            found = true;
        }
    }
    fclose(f);
    return found;
}

static bool reserves_patch_area(void)
{
    struct platform_range r[8];
    size_t n = platform_reserved(plat, r, 8);
    cr_assert_leq(n, 8);
    for (size_t i = 0; i < n; i++)
        if (r[i].start == PATCH_BASE && r[i].end == PATCH_END)
            return true;
    return false;
}

/* Patching is offered only when asked for; without it nothing of the area
 * is reserved from the guest. */
BOTH_PLATFORMS(platform, no_syscall_patching_unless_asked)
{
    cr_expect_eq(platform_patch_slots(plat), 0);
    struct platform_range r[8];
    size_t n = platform_reserved(plat, r, 8);
    cr_assert_leq(n, 8);
    for (size_t i = 0; i < n; i++)
        cr_expect(r[i].end <= PATCH_BASE || r[i].start >= PATCH_END,
                  "reserved [%#llx, %#llx) without patching", (unsigned long long)r[i].start,
                  (unsigned long long)r[i].end);
}

Test(platform_patch_systrap, patch_code_jumps_through_the_table_to_trampoline_k)
{
    cr_assert_eq(platform_patch_slots(plat), PATCH_SLOTS);
    static const unsigned ks[] = {0, 1, PATCH_SLOTS - 1};
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
        unsigned k = ks[i];
        uint8_t out[7];
        memset(out, 0xee, sizeof(out));
        platform_patch_code(plat, k, out);
        /* jmp *disp32 (no base, no index): ff 24 25 and the entry's address. */
        uint32_t entry_at = (uint32_t)(PATCH_TABLE + 8ULL * k);
        uint8_t want[7] = {0xff, 0x24, 0x25};
        memcpy(want + 3, &entry_at, sizeof(entry_at));
        cr_expect_eq(memcmp(out, want, sizeof(want)), 0, "k %u: %02x %02x %02x %02x %02x %02x %02x",
                     k, out[0], out[1], out[2], out[3], out[4], out[5], out[6]);
        cr_expect_eq(out[5], 0x06, "k %u: where the old syscall began lies an invalid opcode", k);
        /* The patch area is mapped in the Sentry (the stubs inherit it). */
        uint64_t tramp;
        memcpy(&tramp, (const void *)(uintptr_t)entry_at, sizeof(tramp));
        cr_assert_eq(tramp, PATCH_CODE + (uint64_t)PATCH_TRAMP_SIZE * k, "k %u: table entry %#llx",
                     k, (unsigned long long)tramp);
        /* mov $k, %r11d; jmp *PATCH_ENTRY_PTR */
        uint8_t code[13] = {0x41, 0xbb, 0, 0, 0, 0, 0xff, 0x24, 0x25};
        uint32_t entry_ptr = PATCH_ENTRY_PTR;
        memcpy(code + 2, &k, sizeof(k));
        memcpy(code + 9, &entry_ptr, sizeof(entry_ptr));
        cr_expect_eq(memcmp((const void *)(uintptr_t)tramp, code, sizeof(code)), 0,
                     "k %u: trampoline bytes", k);
    }
    uint64_t entry;
    memcpy(&entry, (const void *)(uintptr_t)PATCH_ENTRY_PTR, sizeof(entry));
    cr_expect_eq(entry, systrap_stub_addr(systrap_patch_entry));
    cr_expect(reserves_patch_area(), "the guest may not map over the patch area");
    /* And the stub holds it, where no guest can write it. */
    uint64_t s = 0, e = 0;
    char perms[5] = "";
    cr_assert(find_mapping(platform_as_host_pid(as), PATCH_BASE, &s, &e, perms),
              "the stub has no patch area");
    cr_expect_eq(s, PATCH_BASE);
    cr_expect_eq(e, PATCH_END);
    cr_expect_str_eq(perms, "r-xp");
}

Test(platform_patch_systrap, a_patched_site_keeps_every_register_and_flag_of_the_guest)
{
    /* site: mov $39, %eax; syscall; then int3 */
    unsigned char code[8];
    memcpy(code, getpid_site, sizeof(getpid_site));
    code[7] = 0xcc;
    load_code(code, sizeof(code));
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    set_sentinels(r);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL);
    cr_assert_eq(ev.patch, 0, "a call from an unpatched site traps");
    r = platform_ctx_regs(ctx);
    cr_assert_eq(r->orig_rax, 39);
    expect_sentinels(r, "trapped");
    cr_assert_eq(r->eflags & GUEST_FLAGS, GUEST_FLAGS, "the guest's flags took: %#llx",
                 (unsigned long long)r->eflags);
    uint64_t eflags = r->eflags;

    patch_site(0, 3);
    r->rip = CODE_ADDR;
    run_expect_patched(3, "patched");
    r = platform_ctx_regs(ctx);
    expect_sentinels(r, "patched");
    cr_expect_eq(r->eflags, eflags, "eflags %#llx, the guest had %#llx",
                 (unsigned long long)r->eflags, (unsigned long long)eflags);
    cr_expect_eq(r->gs_base, 0, "the slot address in gs is the stub's, not the guest's");

    finish_patched_call(CODE_ADDR, 1234);
    run_expect_int3(CODE_ADDR + 7);
    r = platform_ctx_regs(ctx);
    cr_expect_eq(r->rax, 1234, "the result reached the guest");
    cr_expect_eq(r->rcx, CODE_ADDR + 7);
    cr_expect_eq(r->r11, eflags);
    expect_sentinels(r, "after the patched call");
    cr_expect_eq(r->eflags & GUEST_FLAGS, GUEST_FLAGS, "eflags %#llx after the patched call",
                 (unsigned long long)r->eflags);
}

/* patch_entry keeps the guest's FPU state live and saves a copy for the
 * Sentry; the copy goes back (xrstor) only when the Sentry changed it. */
Test(platform_patch_systrap, the_fpu_crosses_a_patched_stop_with_the_sentrys_changes_only)
{
    /* movq %rax, %xmm0; site; movq %xmm0, %rax; int3 */
    static const unsigned char code[] = {0x66, 0x48, 0x0f, 0x6e, 0xc0, 0xb8, 39,   0,    0,
                                         0,    0x0f, 0x05, 0x66, 0x48, 0x0f, 0x7e, 0xc0, 0xcc};
    const uint64_t site = CODE_ADDR + 5;
    load_code(code, sizeof(code));
    patch_site(5, 7);
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    set_sentinels(r);
    r->rax = 0x1111222233334444ULL;
    run_expect_patched(7, "first");
    cr_expect_eq(fpu_xmm0(), 0x1111222233334444ULL, "the Sentry sees the guest's xmm0");
    set_fpu_xmm0(0x5555666677778888ULL);
    finish_patched_call(site, 0);
    run_expect_int3(CODE_ADDR + 17);
    cr_expect_eq(platform_ctx_regs(ctx)->rax, 0x5555666677778888ULL,
                 "the Sentry's xmm0 reached the guest: %#llx",
                 (unsigned long long)platform_ctx_regs(ctx)->rax);
    expect_sentinels(platform_ctx_regs(ctx), "after a changed FPU");

    /* Again without touching the FPU: the guest's own new xmm0 survives,
     * not the image the Sentry wrote last time. */
    r = platform_ctx_regs(ctx);
    r->rip = CODE_ADDR;
    r->rax = 0x9999aaaabbbbccccULL;
    run_expect_patched(7, "second");
    cr_expect_eq(fpu_xmm0(), 0x9999aaaabbbbccccULL);
    finish_patched_call(site, 0);
    run_expect_int3(CODE_ADDR + 17);
    cr_expect_eq(platform_ctx_regs(ctx)->rax, 0x9999aaaabbbbccccULL,
                 "the guest's own xmm0 survived: %#llx",
                 (unsigned long long)platform_ctx_regs(ctx)->rax);
    expect_sentinels(platform_ctx_regs(ctx), "after an untouched FPU");
}

/* A new gs base (or a trap flag) at a patched stop sends the thread back
 * through rt_sigreturn with patch_entry's frame: everything it carries must
 * be what the kernel accepts and the guest had, the FPU the Sentry set
 * included. */
Test(platform_patch_systrap, a_patched_stop_resumed_with_a_new_gs_base_leaves_through_sigreturn)
{
    /* site; movq %xmm0, %rax; rdgsbase %rcx; int3 */
    static const unsigned char code[] = {0xb8, 39,   0,    0,    0,    0x0f, 0x05, 0x66, 0x48,
                                         0x0f, 0x7e, 0xc0, 0xf3, 0x48, 0x0f, 0xae, 0xc9, 0xcc};
    load_code(code, sizeof(code));
    patch_site(0, 11);
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    set_sentinels(r);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL);
    cr_assert_eq(ev.patch, 12);
    r = platform_ctx_regs(ctx);
    uint64_t eflags = r->eflags;
    cr_expect_eq(eflags & GUEST_FLAGS, GUEST_FLAGS);
    r->gs_base = DATA_ADDR;
    set_fpu_xmm0(0x0123456789abcdefULL);
    finish_patched_call(CODE_ADDR, 77);
    run_expect_int3(CODE_ADDR + 17);
    r = platform_ctx_regs(ctx);
    cr_expect_eq(r->rax, 0x0123456789abcdefULL, "xmm0 %#llx", (unsigned long long)r->rax);
    cr_expect_eq(r->rcx, DATA_ADDR, "the guest's gs base %#llx", (unsigned long long)r->rcx);
    cr_expect_eq(r->gs_base, DATA_ADDR);
    cr_expect_eq(r->r11, eflags);
    cr_expect_eq(r->eflags & GUEST_FLAGS, GUEST_FLAGS);
    expect_sentinels(r, "after sigreturn");
}

/* A guest with a gs base of its own: patch_entry cannot find its slot and
 * falls back to an int3, which must still come out as the patched call with
 * the guest's registers and flags (patch_entry's checks changed the flags
 * before the trap). */
Test(platform_patch_systrap, a_guest_with_its_own_gs_base_still_makes_the_patched_call)
{
    const uint64_t gs = DATA_ADDR + 0x40;
    /* movabs $gs, %rax; wrgsbase %rax; site; int3 */
    unsigned char code[23];
    size_t n = emit_movabs_rax(code, gs);
    static const unsigned char wrgs[] = {0xf3, 0x48, 0x0f, 0xae, 0xd8};
    memcpy(code + n, wrgs, sizeof(wrgs));
    n += sizeof(wrgs);
    const size_t site_off = n;
    memcpy(code + n, getpid_site, sizeof(getpid_site));
    n += sizeof(getpid_site);
    code[n++] = 0xcc;
    load_code(code, n);
    patch_site(site_off, 5);
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    set_sentinels(r);
    run_expect_patched(5, "own gs");
    r = platform_ctx_regs(ctx);
    expect_sentinels(r, "own gs");
    cr_expect_eq(r->eflags, GUEST_EFLAGS, "eflags %#llx", (unsigned long long)r->eflags);
    cr_expect_eq(r->gs_base, gs, "gs base %#llx", (unsigned long long)r->gs_base);
    finish_patched_call(CODE_ADDR + site_off, 1234);
    run_expect_int3(CODE_ADDR + site_off + 7);
    r = platform_ctx_regs(ctx);
    cr_expect_eq(r->rax, 1234);
    cr_expect_eq(r->rcx, CODE_ADDR + site_off + 7);
    cr_expect_eq(r->r11, GUEST_EFLAGS);
    cr_expect_eq(r->gs_base, gs);
    cr_expect_eq(r->eflags & GUEST_FLAGS, GUEST_FLAGS);
    expect_sentinels(r, "after the fallback");
}

/* A guest may jump into any trampoline, or straight to patch_entry with a
 * number of its own: the platform reports what came, the Sentry (which
 * knows which trampolines it gave out) refuses it, and the thread runs on. */
Test(platform_patch_systrap, a_jump_into_a_trampoline_nobody_gave_out_is_reported_as_it_is)
{
    uint32_t tramp = (uint32_t)(PATCH_CODE + (uint64_t)PATCH_TRAMP_SIZE * 8000);
    /* 0: mov $tramp, %eax; jmp *%rax; 7: int3; 8: getpid (trapped) */
    unsigned char code[15] = {0xb8, 0, 0, 0, 0, 0xff, 0xe0, 0xcc};
    memcpy(code + 1, &tramp, sizeof(tramp));
    memcpy(code + 8, getpid_site, sizeof(getpid_site));
    load_code(code, sizeof(code));
    set_sentinels(platform_ctx_regs(ctx));
    run_expect_patched(8000, "trampoline 8000");
    expect_sentinels(platform_ctx_regs(ctx), "trampoline 8000");
    /* The Sentry refuses it (a SIGSEGV for the guest) and sends the
     * thread on elsewhere: here to an int3, then a trapped getpid. */
    platform_ctx_regs(ctx)->rip = CODE_ADDR + 7;
    run_expect_int3(CODE_ADDR + 7);
    run_expect_syscall(ctx, 39);
}

Test(platform_patch_systrap, a_forged_trampoline_number_is_out_of_every_range)
{
    /* What a trampoline does, with k = 0xffffffff: mov $k, %r11d; jmp *PATCH_ENTRY_PTR;
     * then int3 */
    unsigned char code[14] = {0x41, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0x24, 0x25};
    uint32_t entry_ptr = PATCH_ENTRY_PTR;
    memcpy(code + 9, &entry_ptr, sizeof(entry_ptr));
    code[13] = 0xcc;
    load_code(code, sizeof(code));
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL, "event %d signo %d", ev.kind, ev.signo);
    cr_expect_gt(ev.patch, platform_patch_slots(plat), "patch %u names no trampoline", ev.patch);
    platform_ctx_regs(ctx)->rip = CODE_ADDR + 13;
    run_expect_int3(CODE_ADDR + 13);
}

/* An exec empties the stub with one unmap of everything below it: the
 * patch area stays, and the next program's patched sites still work. */
Test(platform_patch_systrap, unmapping_everything_keeps_the_patch_area)
{
    cr_assert_eq(platform_as_unmap(as, 0x10000, platform_max_addr(plat) - 0x10000), 0);
    uint64_t s = 0, e = 0;
    char perms[5] = "";
    cr_assert(find_mapping(platform_as_host_pid(as), PATCH_BASE, &s, &e, perms),
              "the patch area went with the guest's memory");
    cr_expect_eq(s, PATCH_BASE);
    cr_expect_eq(e, PATCH_END);
    unsigned char code[8];
    memcpy(code, getpid_site, sizeof(getpid_site));
    code[7] = 0xcc;
    load_code(code, sizeof(code));
    patch_site(0, 2);
    set_sentinels(platform_ctx_regs(ctx));
    run_expect_patched(2, "after the unmap");
    finish_patched_call(CODE_ADDR, 5);
    run_expect_int3(CODE_ADDR + 7);
    cr_expect_eq(platform_ctx_regs(ctx)->rax, 5);
}

/* A trap flag set at a patched stop (a debugger's single step) sends the
 * thread back through rt_sigreturn, so the step traps after the guest's
 * first instruction past the site, not inside the stub. */
Test(platform_patch_systrap, a_single_step_set_at_a_patched_stop_traps_in_the_guest)
{
    /* site; nop; int3 */
    static const unsigned char code[] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x90, 0xcc};
    load_code(code, sizeof(code));
    patch_site(0, 9);
    set_sentinels(platform_ctx_regs(ctx));
    run_expect_patched(9, "before the step");
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    r->eflags |= 0x100;
    finish_patched_call(CODE_ADDR, 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT, "event %d signo %d", ev.kind, ev.signo);
    cr_assert_eq(ev.signo, SIGTRAP);
    r = platform_ctx_regs(ctx);
    cr_expect_eq(r->rip, CODE_ADDR + 8, "the step stopped after the nop, at %#llx",
                 (unsigned long long)r->rip);
    expect_sentinels(r, "after the step");
}

/* Kicks that land while a thread comes back from a patched stop (the
 * Sentry has answered, the stub has not yet reloaded the guest's state)
 * must show the state the Sentry sent, its FPU image included, never the
 * stub's own. The kicker fires at random points of many round trips. */
struct patch_kicker {
    struct platform_ctx *ctx;
    atomic_bool stop;
};

static void *patch_kicker_run(void *arg)
{
    struct patch_kicker *k = arg;
    while (!atomic_load(&k->stop)) {
        platform_ctx_interrupt(k->ctx);
        struct timespec ts = {0, 20000 + rand() % 30000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

#define KICKED_ROUNDS 3000

static bool in_trampolines(uint64_t rip)
{
    return rip >= PATCH_CODE && rip < PATCH_CODE + (uint64_t)PATCH_TRAMP_SIZE * PATCH_SLOTS;
}

Test(platform_patch_systrap, kicks_during_patched_round_trips_see_the_state_the_sentry_sent)
{
    /* 0: site; 7: movq %xmm0, %rdx; 12: jmp 0 */
    static const unsigned char code[] = {0xb8, 39,   0,    0,    0,    0x0f, 0x05,
                                         0x66, 0x48, 0x0f, 0x7e, 0xc2, 0xeb, 0xf2};
    load_code(code, sizeof(code));
    patch_site(0, 13);
    set_sentinels(platform_ctx_regs(ctx));
    uint64_t xmm0 = 0;
    set_fpu_xmm0(xmm0);
    struct patch_kicker k = {.ctx = ctx};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, patch_kicker_run, &k), 0);
    int patched = 0, kicks = 0;
    while (patched < KICKED_ROUNDS) {
        struct platform_event ev;
        cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
        struct abi_ptregs *r = platform_ctx_regs(ctx);
        /* A patched stop's rip is the Sentry's to fill in; where a kick
         * may find it is the next test's concern. */
        cr_assert(ev.patch || in_trampolines(r->rip) ||
                      (r->rip >= CODE_ADDR && r->rip < CODE_ADDR + sizeof(code)),
                  "event %d at %#llx, outside the guest's code", ev.kind,
                  (unsigned long long)r->rip);
        cr_assert_eq(fpu_xmm0(), xmm0, "event %d: xmm0 %#llx, the Sentry sent %#llx", ev.kind,
                     (unsigned long long)fpu_xmm0(), (unsigned long long)xmm0);
        cr_assert_eq(r->eflags & GUEST_FLAGS, GUEST_FLAGS, "eflags %#llx",
                     (unsigned long long)r->eflags);
        /* rdx is the guest's copy of xmm0, not a sentinel. */
        uint64_t rdx = r->rdx;
        r->rdx = SENTINEL_RDX;
        expect_sentinels(r, "a kicked round trip");
        if (ev.kind == PLATFORM_EV_INTERRUPT) {
            cr_assert_eq(ev.signo, 0, "a kick");
            r->rdx = rdx;
            kicks++;
            continue;
        }
        cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL, "event %d signo %d", ev.kind, ev.signo);
        cr_assert_eq(ev.patch, 14);
        if (patched > 0)
            cr_assert_eq(rdx, xmm0, "the guest saw xmm0 %#llx, the Sentry sent %#llx",
                         (unsigned long long)rdx, (unsigned long long)xmm0);
        patched++;
        /* Every other stop changes the FPU: both ways home are raced. */
        if (patched % 2) {
            xmm0 = 0xf00d000000000000ULL + (uint64_t)patched;
            set_fpu_xmm0(xmm0);
        }
        finish_patched_call(CODE_ADDR, (uint64_t)patched);
    }
    atomic_store(&k.stop, true);
    pthread_join(th, NULL);
    cr_log_info("%d patched round trips, %d kicks", patched, kicks);
}

/* The trampolines are the platform's code as much as patch_entry is: a kick
 * that finds a thread in one must not show the Sentry (and through it the
 * guest's signal handlers, debuggers and profilers) a rip in the patch
 * area. The window is two instructions wide, so this keeps kicking for a
 * while. */
#define TRAMPOLINE_KICK_NS 2000000000ULL

Test(platform_patch_systrap, a_kick_never_stops_a_thread_inside_a_trampoline)
{
    /* 0: site; 7: jmp 0 */
    static const unsigned char code[] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7};
    load_code(code, sizeof(code));
    patch_site(0, 21);
    set_sentinels(platform_ctx_regs(ctx));
    struct patch_kicker k = {.ctx = ctx};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, patch_kicker_run, &k), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int kicks = 0, patched = 0;
    uint64_t in_tramp = 0;
    while (elapsed_ms(&t0) * 1000000ULL < TRAMPOLINE_KICK_NS && !in_tramp) {
        struct platform_event ev;
        cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
        struct abi_ptregs *r = platform_ctx_regs(ctx);
        if (ev.kind == PLATFORM_EV_SYSCALL && ev.patch == 22) {
            patched++;
            finish_patched_call(CODE_ADDR, 0);
            continue;
        }
        cr_assert_eq(ev.kind, PLATFORM_EV_INTERRUPT, "event %d signo %d", ev.kind, ev.signo);
        kicks++;
        if (r->rip >= PATCH_BASE && r->rip < PATCH_END)
            in_tramp = r->rip;
    }
    atomic_store(&k.stop, true);
    pthread_join(th, NULL);
    cr_log_info("%d patched round trips, %d kicks", patched, kicks);
    cr_expect_eq(in_tramp, 0, "a kick stopped the thread at %#llx (trampoline %llu + %llu)",
                 (unsigned long long)in_tramp,
                 (unsigned long long)((in_tramp - PATCH_CODE) / PATCH_TRAMP_SIZE),
                 (unsigned long long)((in_tramp - PATCH_CODE) % PATCH_TRAMP_SIZE));
}

/* The way out through rt_sigreturn restores patch_entry's XSAVE image as a
 * whole only if the frame says it is one (the kernel otherwise takes the
 * legacy area alone and resets AVX and beyond). */
Test(platform_patch_systrap, a_patched_stop_left_through_sigreturn_keeps_the_avx_state)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 28)) || !(host_xcr0() & 4))
        cr_skip_test("the host has no AVX");
    /* 0: movq %rax, %xmm1; vinsertf128 $1, %xmm1, %ymm0, %ymm0; 11: site;
     * 18: vextractf128 $1, %ymm0, %xmm2; movq %xmm2, %rax; 29: int3 */
    static const unsigned char code[] = {
        0x66, 0x48, 0x0f, 0x6e, 0xc8, 0xc4, 0xe3, 0x7d, 0x18, 0xc1, 0x01, 0xb8, 39,   0,    0,
        0,    0x0f, 0x05, 0xc4, 0xe3, 0x7d, 0x19, 0xc2, 0x01, 0x66, 0x48, 0x0f, 0x7e, 0xd0, 0xcc};
    load_code(code, sizeof(code));
    patch_site(11, 17);
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    set_sentinels(r);
    r->rax = 0x7777888899990000ULL;
    run_expect_patched(17, "avx");
    r = platform_ctx_regs(ctx);
    r->gs_base = DATA_ADDR;
    finish_patched_call(CODE_ADDR + 11, 0);
    run_expect_int3(CODE_ADDR + 29);
    r = platform_ctx_regs(ctx);
    cr_expect_eq(r->rax, 0x7777888899990000ULL, "ymm0's upper half came back as %#llx",
                 (unsigned long long)r->rax);
    cr_expect_eq(r->gs_base, DATA_ADDR);
    expect_sentinels(r, "after sigreturn");
}
