/* The ptrace platform against real stub processes: syscall stops, faults,
 * mapping memory-file ranges, registers, interruption, what a stub process
 * holds (nothing but the stub page and the vDSO), and guest threads whose
 * contexts belong to different threads of the test (as Sentry threads). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
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

/* ---- guest threads: contexts owned by different Sentry threads ---- */

/* One code page, several entry points. */
#define ENTRY_SYSCALL_LOOP 0x00 /* 1: getpid; jmp 1b */
#define ENTRY_LOAD_DATA    0x20 /* mov DATA_ADDR,%rdi; exit */
#define ENTRY_SPIN         0x40 /* jmp . */
#define ENTRY_CLONE        0x60 /* clone; mov %rax,%rdi; exit */
#define CLONE_RESUME       (ENTRY_CLONE + 7)
#define DATA_OFF           65536

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

static void run_expect_syscall(struct platform_ctx *c, uint64_t nr)
{
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(c, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_SYSCALL, "event %d signo %d", ev.kind, ev.signo);
    cr_assert_eq(platform_ctx_regs(c)->orig_rax, nr);
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

/* The test process has no child left, not even a zombie. */
static void expect_no_children(void)
{
    int st;
    errno = 0;
    pid_t r = waitpid(-1, &st, WNOHANG | __WALL);
    cr_expect(r == -1 && errno == ECHILD, "leftover child: waitpid returned %d (errno %d)", r,
              errno);
}

static void setup_platform_only(void)
{
    memfd = memfd_create("test-mem", MFD_CLOEXEC);
    cr_assert(memfd >= 0);
    cr_assert(ftruncate(memfd, 1 << 20) == 0);
    mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    cr_assert(mem != MAP_FAILED);
    const char *why = NULL;
    cr_assert_eq(platform_create(PLATFORM_PTRACE, memfd, &plat, &why), 0);
}

static void teardown_platform_only(void)
{
    platform_destroy(plat);
    munmap(mem, 1 << 20);
    close(memfd);
}

TestSuite(platform_threads, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(platform_lifetime, .init = setup_platform_only, .fini = teardown_platform_only,
          .timeout = 30);

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

Test(platform_threads, two_threads_run_contexts_of_one_address_space_at_once)
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

Test(platform_threads, a_thread_that_traces_no_context_of_the_space_gets_eperm)
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

Test(platform_threads, a_clone_attached_elsewhere_starts_at_the_clone_point)
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

Test(platform_threads, a_kick_from_another_thread_stops_a_spinning_guest)
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

Test(platform_threads, a_kick_reaches_a_cloned_context_on_its_own_thread)
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

Test(platform_lifetime, the_initial_context_exits_and_its_thread_ends_while_a_clone_runs)
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
    for (int i = 0; i < 1000 && live_threads(pid) != 1; i++)
        usleep(1000);
    cr_expect_eq(live_threads(pid), 1, "only the running clone is left");
    /* The creator's exit (PTRACE_O_EXITKILL) killed nothing. */
    for (int i = 0; i < 50; i++)
        run_expect_syscall(b, 39);
    cr_assert_eq(kill(pid, 0), 0);
    cr_expect_eq(live_threads(pid), 1);
    /* Address-space operations now go through the clone. */
    cr_assert_eq(platform_as_protect(c.as, CODE_ADDR, 4096, PLATFORM_PROT_READ), 0);
    struct platform_event ev;
    cr_assert_eq(platform_ctx_run(b, &ev), 0);
    cr_assert_eq(ev.kind, PLATFORM_EV_FAULT);
    platform_ctx_destroy(b);
    platform_as_destroy(c.as);
    expect_no_children();
}

static void *destroy_as(void *arg)
{
    platform_as_destroy(arg);
    return NULL;
}

Test(platform_lifetime, destroying_an_address_space_from_another_thread_leaves_no_zombie)
{
    struct platform_ctx *a;
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &a), 0);
    load_thread_code();
    platform_ctx_regs(a)->rip = CODE_ADDR + ENTRY_SYSCALL_LOOP;
    run_expect_syscall(a, 39);
    platform_ctx_destroy(a);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, destroy_as, as), 0);
    pthread_join(th, NULL);
    expect_no_children();
}

Test(platform_lifetime, killing_a_space_whose_contexts_run_on_several_threads_leaves_no_zombie)
{
    struct platform_ctx *a, *b;
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &a), 0);
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
    expect_no_children();
}

Test(platform_lifetime, a_non_dumpable_sentry_still_attaches_to_its_stub_threads)
{
    /* What a Sentry that changed uid looks like: no capabilities, not
     * dumpable. PTRACE_SEIZE must still work on its stubs' threads. */
    cr_assert_eq(setresgid(65534, 65534, 65534), 0);
    cr_assert_eq(setresuid(65534, 65534, 65534), 0);
    cr_assert_eq(prctl(PR_GET_DUMPABLE), 0);
    struct platform_ctx *a, *b;
    cr_assert_eq(platform_as_create(plat, &as), 0);
    cr_assert_eq(platform_ctx_create(as, &a), 0);
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
    expect_no_children();
}

Test(platform_threads, a_kick_before_attach_is_a_kick_at_the_first_run)
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

Test(platform_threads, a_group_stop_is_no_guest_event)
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
