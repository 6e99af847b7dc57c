/* Sandbox only (tests/e2e/stub_escape.sh): guest code that jumps into the
 * platform's stub page gains nothing. The stub is mapped at a fixed address
 * in every guest address space and holds `syscall` instructions the host
 * lets through (systrap) or the Sentry injects at (ptrace). For every one of
 * them, a child loads the registers of a host mmap of the stub's memory file
 * (fds 3 to 6) at PROBE and jumps there. Whatever follows (an emulated call,
 * a fault, the child's death), PROBE must never become readable and the
 * call must never return PROBE. The command page systrap shares with the
 * Sentry must not be writable either.
 *
 * Natively there is no stub page: the program says so and skips.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define STUB      0x7e0000000000UL
#define STUB_SIZE 4096
#define SYSMSG    0x7e0000100000UL
#define PROBE     0x10000000UL

struct shared {
    volatile long state; /* 1: a signal came back, 2: about to read PROBE, 3: read it */
    volatile long rax;
    volatile long rip;
    unsigned char code[STUB_SIZE];
};

static struct shared *sh;
static char altstack[65536];

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    sh->rax = uc->uc_mcontext.gregs[REG_RAX];
    sh->rip = uc->uc_mcontext.gregs[REG_RIP];
    sh->state = 2;
    volatile unsigned char c = *(volatile unsigned char *)PROBE;
    (void)c;
    sh->state = 3;
    _exit(0);
}

static void catch_all(void)
{
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigfillset(&sa.sa_mask);
    int sigs[] = {SIGSEGV, SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSYS};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

/* Run fn in a child; give it two seconds. Returns its wait status. */
static int in_child(void (*fn)(long), long arg)
{
    pid_t pid = fork();
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int status = 0;
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return status;
}

static void copy_stub(long unused)
{
    (void)unused;
    memcpy(sh->code, (const void *)STUB, STUB_SIZE);
    sh->state = 1;
}

static int target_fd;

/* escape_jump(addr, fd): the registers of mmap(PROBE, 4096, PROT_READ,
 * MAP_SHARED|MAP_FIXED, fd, 0), every other register pointing at unmapped
 * memory (so the stub code after the call faults at its first memory
 * access), then a jump to addr. Never returns. */
void escape_jump(long addr, long fd);
__asm__(".text\n"
        ".globl escape_jump\n"
        "escape_jump:\n"
        "mov %rdi, %r11\n"
        "mov %rsi, %r8\n"
        "mov $9, %eax\n"
        "mov $0x10000000, %edi\n"
        "mov $4096, %esi\n"
        "mov $1, %edx\n"
        "mov $0x11, %r10d\n"
        "xor %r9d, %r9d\n"
        "mov $0x1000, %ebx\n"
        "mov $0x1000, %ebp\n"
        "mov $0x1000, %r12d\n"
        "mov $0x1000, %r13d\n"
        "mov $0x1000, %r14d\n"
        "mov $0x1000, %r15d\n"
        "jmp *%r11\n");

static void jump(long addr)
{
    catch_all();
    escape_jump(addr, target_fd);
}

static void poke_sysmsg(long unused)
{
    (void)unused;
    catch_all();
    sh->state = 0;
    *(volatile long *)SYSMSG = 1; /* the command page is read-only */
    sh->state = 4;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    syscall(SYS_close_range, 3, ~0U, 0);
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        printf("1..0 # SKIP no shared memory\n");
        return 0;
    }
    in_child(copy_stub, 0);
    if (sh->state != 1) {
        printf("1..0 # SKIP no stub page here (not in a sandbox)\n");
        return 0;
    }
    long sites[STUB_SIZE / 2];
    int nsites = 0;
    for (int i = 0; i + 1 < STUB_SIZE; i++)
        if (sh->code[i] == 0x0f && sh->code[i + 1] == 0x05)
            sites[nsites++] = i;
    int fds[] = {3, 4, 5, 6};
    int nfds = sizeof(fds) / sizeof(fds[0]);
    printf("1..%d\n", nsites * nfds + 2);
    int n = 0, failed = 0;
    printf("%s %d - the stub page holds syscall instructions (%d)\n", nsites > 0 ? "ok" : "not ok",
           ++n, nsites);
    failed += nsites == 0;
    for (int s = 0; s < nsites; s++) {
        for (int f = 0; f < nfds; f++) {
            memset((void *)sh, 0, offsetof(struct shared, code));
            target_fd = fds[f];
            int status = in_child(jump, (long)(STUB + (unsigned long)sites[s]));
            int bad = sh->state == 3 || sh->rax == (long)PROBE;
            failed += bad;
            printf("%s %d - stub+%#lx with a host mmap of fd %d: nothing mapped (rax %ld, "
                   "state %ld, %s %d)\n",
                   bad ? "not ok" : "ok", ++n, sites[s], fds[f], sh->rax, sh->state,
                   WIFSIGNALED(status) ? "signal" : "exit",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
    }
    memset((void *)sh, 0, offsetof(struct shared, code));
    in_child(poke_sysmsg, 0);
    int wrote = sh->state == 4;
    failed += wrote;
    printf("%s %d - the shared command page cannot be written\n", wrote ? "not ok" : "ok", ++n);
    return failed ? 1 : 0;
}
