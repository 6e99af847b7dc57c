/* The ptrace platform against real stub processes: syscall stops, faults,
 * mapping memory-file ranges, registers, interruption, and what a stub
 * process holds (nothing but the stub page and the vDSO). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/platform.h"

#define CODE_ADDR 0x400000ULL
#define DATA_ADDR 0x600000ULL

static int memfd;
static unsigned char *mem;
static struct platform *plat;
static struct platform_as *as;
static struct platform_ctx *ctx;

static void setup(void)
{
    memfd = memfd_create("test-mem", MFD_CLOEXEC);
    cr_assert(memfd >= 0);
    cr_assert(ftruncate(memfd, 1 << 20) == 0);
    mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    cr_assert(mem != MAP_FAILED);
    const char *why = NULL;
    int err = platform_create(PLATFORM_PTRACE, memfd, &plat, &why);
    cr_assert_eq(err, 0, "platform_create: %d %s", err, why ? why : "");
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &ctx), 0);
}

static void teardown(void)
{
    platform_ctx_destroy(ctx);
    platform_as_destroy(as);
    platform_destroy(plat);
    munmap(mem, 1 << 20);
    close(memfd);
}

/* Put code at memory-file offset 0, map it at CODE_ADDR and point rip at it. */
static void load_code(const unsigned char *code, size_t len)
{
    memcpy(mem, code, len);
    cr_assert_eq(platform_as_map(as, CODE_ADDR, 4096, PLATFORM_PROT_READ | PLATFORM_PROT_EXEC, 0),
                 0);
    struct abi_ptregs *r = platform_ctx_regs(ctx);
    r->rip = CODE_ADDR;
}

TestSuite(platform_ptrace, .init = setup, .fini = teardown, .timeout = 30);

Test(platform_ptrace, syscall_stops_before_the_host_runs_it)
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

Test(platform_ptrace, result_register_reaches_the_guest)
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

Test(platform_ptrace, fault_on_unmapped_memory_then_resume_after_mapping)
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

Test(platform_ptrace, protect_and_unmap_take_effect)
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

Test(platform_ptrace, int3_and_ud2_are_faults)
{
    static const unsigned char code[] = {0xcc, 0x0f, 0x0b};
    load_code(code, sizeof(code));
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_assert_eq(ev.signo, SIGTRAP);
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    cr_assert_eq(ev.signo, SIGILL);
}

Test(platform_ptrace, interrupt_stops_a_spinning_guest)
{
    static const unsigned char code[] = {0xeb, 0xfe}; /* jmp . */
    load_code(code, sizeof(code));
    platform_ctx_interrupt(ctx);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_INTERRUPT);
    cr_assert_eq(ev.signo, 0, "a kick is reported as signo 0");
}

Test(platform_ptrace, a_signal_from_outside_is_reported_with_its_number)
{
    static const unsigned char code[] = {0xeb, 0xfe};
    load_code(code, sizeof(code));
    kill(platform_as_host_pid(as), SIGUSR1);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_INTERRUPT);
    cr_assert_eq(ev.signo, SIGUSR1);
}

Test(platform_ptrace, a_killed_stub_is_reported_dead)
{
    static const unsigned char code[] = {0xeb, 0xfe};
    load_code(code, sizeof(code));
    kill(platform_as_host_pid(as), SIGKILL);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_DIED);
    cr_assert_eq(ev.signo, SIGKILL);
}

Test(platform_ptrace, fpu_state_round_trips)
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

Test(platform_ptrace, stub_holds_only_the_stub_page_and_vdso)
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
                  strstr(line, "[vsyscall]");
        cr_expect(ok, "unexpected mapping in the stub: %s", line);
        n++;
    }
    fclose(f);
    cr_expect(n >= 1);
    /* And no fd but the memory file. */
    snprintf(path, sizeof(path), "/proc/%d/fd", platform_as_host_pid(as));
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) -eq 1", path);
    cr_expect_eq(system(cmd), 0, "the stub holds exactly one fd");
}

Test(platform_ptrace, guest_range_ends_below_the_stub)
{
    struct platform_range r[4];
    size_t n = platform_reserved(plat, r, 4);
    cr_assert_geq(n, 1);
    cr_expect_geq(r[0].start, platform_max_addr(plat));
    uint64_t vdso = platform_vdso_base(plat);
    if (vdso)
        cr_expect_geq(vdso, platform_max_addr(plat));
}

Test(platform_ptrace, a_failed_unmap_retires_the_stub)
{
    static const unsigned char code[] = {0xeb, 0xfe};
    load_code(code, sizeof(code));
    /* An unaligned munmap fails on the host: the stub may still map memory
     * the Sentry believes gone, so it must never run again. */
    cr_assert_neq(platform_as_unmap(as, CODE_ADDR + 1, 4096), 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(ctx, &ev), -EIO);
}
