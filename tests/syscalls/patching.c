/* Syscall sites in program text, run many times: the rules any rewriting of
 * `mov $nr,%eax; syscall` into a jump must keep. The first call of a site
 * traps; later ones may run patched, so every case calls its own site
 * hundreds of times and checks every result. Natively nothing is patched:
 * the program proves that each rule is Linux's.
 *
 * Each case has sites of its own (a site run by one case is never "fresh"
 * for the next). Sites are `b8 imm32` + `0f 05`, spelled as bytes so the
 * assembler cannot pick another encoding. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define ITERS 1000

/* Linux's values (asm/prctl.h), so no kernel header is needed. */
#define ARCH_SET_GS_OP   0x1001
#define ARCH_GET_GS_OP   0x1004
#define SA_RESTORER_FLAG 0x04000000UL

/* ---- the register probe -------------------------------------------------
 * probe_NAME(struct probe *p) loads every general register but rsp from
 * in_gpr (rax with its upper half set, which `mov $nr,%eax` must clear),
 * the vector registers (xmm0-15, ymm0-15 or zmm0-31 and k0-k7 by mode) and
 * rflags, runs its site once and stores everything back. */
enum { RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { MODE_SSE, MODE_AVX, MODE_AVX512 };

struct probe {
    uint64_t in_gpr[16];
    uint64_t out_gpr[16];
    uint64_t in_flags;
    uint64_t flags_before;
    uint64_t flags_after;
    uint64_t rsp_before;
    uint32_t mode;
    uint32_t pad[7];
    uint8_t in_vec[32][64];
    uint8_t out_vec[32][64];
    uint64_t in_k[8];
    uint64_t out_k[8];
};

#define P_IN_GPR       0
#define P_OUT_GPR      128
#define P_IN_FLAGS     256
#define P_FLAGS_BEFORE 264
#define P_FLAGS_AFTER  272
#define P_RSP_BEFORE   280
#define P_MODE         288
#define P_IN_VEC       320
#define P_OUT_VEC      2368
#define P_IN_K         4416
#define P_OUT_K        4480
_Static_assert(offsetof(struct probe, out_gpr) == P_OUT_GPR, "layout");
_Static_assert(offsetof(struct probe, in_flags) == P_IN_FLAGS, "layout");
_Static_assert(offsetof(struct probe, flags_before) == P_FLAGS_BEFORE, "layout");
_Static_assert(offsetof(struct probe, flags_after) == P_FLAGS_AFTER, "layout");
_Static_assert(offsetof(struct probe, rsp_before) == P_RSP_BEFORE, "layout");
_Static_assert(offsetof(struct probe, mode) == P_MODE, "layout");
_Static_assert(offsetof(struct probe, in_vec) == P_IN_VEC, "layout");
_Static_assert(offsetof(struct probe, out_vec) == P_OUT_VEC, "layout");
_Static_assert(offsetof(struct probe, in_k) == P_IN_K, "layout");
_Static_assert(offsetof(struct probe, out_k) == P_OUT_K, "layout");

#define STR_(x) #x
#define STR(x)  STR_(x)

/* clang-format off */
__asm__(
    ".pushsection .text\n"
    ".macro VEC_IO dir, base\n"
    /* dir 0 loads from base(%rdi), 1 stores to it; mode picks the width */
    "  mov " STR(P_MODE) "(%rdi), %eax\n"
    "  cmp $2, %eax\n"
    "  je 3f\n"
    "  cmp $1, %eax\n"
    "  je 2f\n"
    "  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "  .if \\dir\n"
    "  movdqu %xmm\\i, \\base+\\i*64(%rdi)\n"
    "  .else\n"
    "  movdqu \\base+\\i*64(%rdi), %xmm\\i\n"
    "  .endif\n"
    "  .endr\n"
    "  jmp 4f\n"
    "2:\n"
    "  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "  .if \\dir\n"
    "  vmovdqu %ymm\\i, \\base+\\i*64(%rdi)\n"
    "  .else\n"
    "  vmovdqu \\base+\\i*64(%rdi), %ymm\\i\n"
    "  .endif\n"
    "  .endr\n"
    "  jmp 4f\n"
    "3:\n"
    "  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  .if \\dir\n"
    "  vmovdqu64 %zmm\\i, \\base+\\i*64(%rdi)\n"
    "  .else\n"
    "  vmovdqu64 \\base+\\i*64(%rdi), %zmm\\i\n"
    "  .endif\n"
    "  .endr\n"
    "  .irp i,0,1,2,3,4,5,6,7\n"
    "  .if \\dir\n"
    "  kmovw %k\\i, \\base+(" STR(P_OUT_K) "-" STR(P_OUT_VEC) ")+\\i*8(%rdi)\n"
    "  .else\n"
    "  kmovw \\base+(" STR(P_IN_K) "-" STR(P_IN_VEC) ")+\\i*8(%rdi), %k\\i\n"
    "  .endif\n"
    "  .endr\n"
    "4:\n"
    ".endm\n"

    ".macro PROBE name, nr\n"
    "  .globl \\name\n"
    "  .globl \\name\\()_site\n"
    "  .globl \\name\\()_site_end\n"
    "  .type \\name, @function\n"
    "\\name:\n"
    "  push %rbx\n"
    "  push %rbp\n"
    "  push %r12\n"
    "  push %r13\n"
    "  push %r14\n"
    "  push %r15\n"
    "  push %rdi\n"
    "  VEC_IO 0, " STR(P_IN_VEC) "\n"
    "  pushq " STR(P_IN_FLAGS) "(%rdi)\n"
    "  popfq\n"
    "  pushfq\n"
    "  popq " STR(P_FLAGS_BEFORE) "(%rdi)\n"
    "  mov %rsp, " STR(P_RSP_BEFORE) "(%rdi)\n"
    "  mov " STR(P_IN_GPR) "+0*8(%rdi), %rax\n"
    "  mov " STR(P_IN_GPR) "+1*8(%rdi), %rbx\n"
    "  mov " STR(P_IN_GPR) "+2*8(%rdi), %rcx\n"
    "  mov " STR(P_IN_GPR) "+3*8(%rdi), %rdx\n"
    "  mov " STR(P_IN_GPR) "+4*8(%rdi), %rsi\n"
    "  mov " STR(P_IN_GPR) "+6*8(%rdi), %rbp\n"
    "  mov " STR(P_IN_GPR) "+8*8(%rdi), %r8\n"
    "  mov " STR(P_IN_GPR) "+9*8(%rdi), %r9\n"
    "  mov " STR(P_IN_GPR) "+10*8(%rdi), %r10\n"
    "  mov " STR(P_IN_GPR) "+11*8(%rdi), %r11\n"
    "  mov " STR(P_IN_GPR) "+12*8(%rdi), %r12\n"
    "  mov " STR(P_IN_GPR) "+13*8(%rdi), %r13\n"
    "  mov " STR(P_IN_GPR) "+14*8(%rdi), %r14\n"
    "  mov " STR(P_IN_GPR) "+15*8(%rdi), %r15\n"
    "  mov " STR(P_IN_GPR) "+5*8(%rdi), %rdi\n"
    "\\name\\()_site:\n"
    "  .byte 0xb8\n"
    "  .long \\nr\n"
    "  syscall\n"
    "\\name\\()_site_end:\n"
    "  push %rdi\n"
    "  pushfq\n"
    "  mov 16(%rsp), %rdi\n"
    "  popq " STR(P_FLAGS_AFTER) "(%rdi)\n"
    "  popq " STR(P_OUT_GPR) "+5*8(%rdi)\n"
    "  mov %rax, " STR(P_OUT_GPR) "+0*8(%rdi)\n"
    "  mov %rbx, " STR(P_OUT_GPR) "+1*8(%rdi)\n"
    "  mov %rcx, " STR(P_OUT_GPR) "+2*8(%rdi)\n"
    "  mov %rdx, " STR(P_OUT_GPR) "+3*8(%rdi)\n"
    "  mov %rsi, " STR(P_OUT_GPR) "+4*8(%rdi)\n"
    "  mov %rbp, " STR(P_OUT_GPR) "+6*8(%rdi)\n"
    "  mov %rsp, " STR(P_OUT_GPR) "+7*8(%rdi)\n"
    "  mov %r8, " STR(P_OUT_GPR) "+8*8(%rdi)\n"
    "  mov %r9, " STR(P_OUT_GPR) "+9*8(%rdi)\n"
    "  mov %r10, " STR(P_OUT_GPR) "+10*8(%rdi)\n"
    "  mov %r11, " STR(P_OUT_GPR) "+11*8(%rdi)\n"
    "  mov %r12, " STR(P_OUT_GPR) "+12*8(%rdi)\n"
    "  mov %r13, " STR(P_OUT_GPR) "+13*8(%rdi)\n"
    "  mov %r14, " STR(P_OUT_GPR) "+14*8(%rdi)\n"
    "  mov %r15, " STR(P_OUT_GPR) "+15*8(%rdi)\n"
    "  cld\n"
    "  VEC_IO 1, " STR(P_OUT_VEC) "\n"
    "  cmpl $0, " STR(P_MODE) "(%rdi)\n"
    "  je 5f\n"
    "  vzeroupper\n"
    "5:\n"
    "  add $8, %rsp\n"
    "  pop %r15\n"
    "  pop %r14\n"
    "  pop %r13\n"
    "  pop %r12\n"
    "  pop %rbp\n"
    "  pop %rbx\n"
    "  ret\n"
    "  .size \\name, . - \\name\n"
    ".endm\n"

    /* A plain site: C calls it with the syscall's arguments already in
     * rdi/rsi/rdx; the result comes back in rax. */
    ".macro SITE name, nr\n"
    "  .globl \\name\n"
    "  .type \\name, @function\n"
    "\\name:\n"
    "  .byte 0xb8\n"
    "  .long \\nr\n"
    "  syscall\n"
    "  ret\n"
    "  .size \\name, . - \\name\n"
    ".endm\n"

    /* A site that can also be entered at its `syscall`: mid_NAME(nr) puts
     * nr in eax and jumps over the mov. */
    ".macro MIDSITE name, nr\n"
    "  .globl \\name\n"
    "  .globl mid_\\name\n"
    "  .type \\name, @function\n"
    "\\name:\n"
    "  .byte 0xb8\n"
    "  .long \\nr\n"
    "\\name\\()_sc:\n"
    "  syscall\n"
    "  ret\n"
    "  .size \\name, . - \\name\n"
    "  .type mid_\\name, @function\n"
    "mid_\\name:\n"
    "  mov %edi, %eax\n"
    "  jmp \\name\\()_sc\n"
    "  .size mid_\\name, . - mid_\\name\n"
    ".endm\n"

    "PROBE probe_regs, 39\n"
    "PROBE probe_threads, 186\n"
    "PROBE probe_sig, 39\n"
    "PROBE probe_fork, 39\n"
    "PROBE probe_gs, 39\n"
    "SITE site_gettid, 186\n"
    "SITE site_handler, 39\n"
    "SITE site_read, 0\n"
    "SITE site_fork, 39\n"
    "SITE site_exec, 39\n"
    "SITE site_gs_thread, 186\n"
    "MIDSITE site_mid, 39\n"
    "MIDSITE site_mid_mt, 39\n"
    "MIDSITE site_mid_sig, 39\n"

    /* rt_sigreturn through a site of the b8 form (glibc's own restorer
     * uses a 7-byte `mov $15,%rax`). */
    "  .globl restore_rt_site\n"
    "  .type restore_rt_site, @function\n"
    "restore_rt_site:\n"
    "  .byte 0xb8\n"
    "  .long 15\n"
    "  syscall\n"
    "  ud2\n"
    "  .size restore_rt_site, . - restore_rt_site\n"

    /* Handlers call this: every vector register the probes check is
     * overwritten, so only a correct sigreturn gives them back. */
    "  .globl clobber_vectors\n"
    "  .type clobber_vectors, @function\n"
    "clobber_vectors:\n"
    "  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "  pcmpeqd %xmm\\i, %xmm\\i\n"
    "  .endr\n"
    "  cmp $1, %edi\n"
    "  jb 7f\n"
    "  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "  vpcmpeqd %ymm\\i, %ymm\\i, %ymm\\i\n"
    "  .endr\n"
    "  cmp $2, %edi\n"
    "  jb 6f\n"
    "  .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  vpternlogd $0xff, %zmm\\i, %zmm\\i, %zmm\\i\n"
    "  .endr\n"
    "  .irp i,0,1,2,3,4,5,6,7\n"
    "  kxnorw %k\\i, %k\\i, %k\\i\n"
    "  .endr\n"
    "6:\n"
    "  vzeroupper\n"
    "7:\n"
    "  ret\n"
    "  .size clobber_vectors, . - clobber_vectors\n"
    ".popsection\n");
/* clang-format on */

void probe_regs(struct probe *p);
void probe_threads(struct probe *p);
void probe_sig(struct probe *p);
void probe_fork(struct probe *p);
void probe_gs(struct probe *p);
extern const char probe_regs_site[], probe_regs_site_end[];
extern const char probe_threads_site[], probe_threads_site_end[];
extern const char probe_sig_site_end[], probe_fork_site_end[], probe_gs_site_end[];
long site_gettid(void);
long site_handler(void);
long site_read(long fd, void *buf, long n);
long site_fork(void);
long site_exec(void);
long site_gs_thread(void);
long site_mid(void);
long mid_site_mid(long nr);
long site_mid_mt(void);
long mid_site_mid_mt(long nr);
long site_mid_sig(void);
long mid_site_mid_sig(long nr);
void restore_rt_site(void);
void clobber_vectors(unsigned mode);

static unsigned vec_mode;
static long my_pid;
static const char *self_arg0;

static long raw_gettid(void)
{
    return syscall(SYS_gettid);
}

static long raw_getpid(void)
{
    return syscall(SYS_getpid);
}

/* The reserved bit, and every flag user code may set that a syscall must
 * give back: CF PF AF ZF SF DF OF. IF is the kernel's (popfq ignores it). */
#define FLAGS_SET   0xcd7UL
#define FLAGS_CLEAR 0x002UL
#define FLAGS_MASK  0xcd5UL

static void probe_fill(struct probe *p, unsigned long seed)
{
    unsigned long mix = (seed + 1) * 0x9e3779b97f4a7c15UL;
    for (int r = 0; r < 16; r++)
        p->in_gpr[r] =
            (0x0101010101010101UL * (unsigned long)(r + 1)) ^ mix ^ ((unsigned long)r << 56);
    p->in_gpr[RAX] |= 0xa5a5a5a500000000UL; /* the site's mov must clear it */
    memset(p->out_gpr, 0, sizeof(p->out_gpr));
    p->in_flags = (seed & 1) ? FLAGS_CLEAR : FLAGS_SET;
    p->mode = (uint32_t)(seed % (vec_mode + 1)); /* every width the CPU has, in turn */
    for (int r = 0; r < 32; r++)
        for (int b = 0; b < 64; b++)
            p->in_vec[r][b] = (uint8_t)(r * 7 + b * 13 + seed * 3 + 1);
    memset(p->out_vec, 0, sizeof(p->out_vec));
    for (int k = 0; k < 8; k++)
        p->in_k[k] = (0x5a5aUL ^ (seed * 0x1111UL) ^ ((unsigned long)k << 12)) & 0xffff;
    memset(p->out_k, 0, sizeof(p->out_k));
}

static const char *const gpr_name[16] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                                         "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

/* Linux's syscall contract: rax = result, rcx = next instruction,
 * r11 = rflags, rflags unchanged, everything else kept. Returns 1 when
 * it held, else describes the first difference in why. */
static int probe_check(const struct probe *p, long want_rax, const char *site_end, char *why,
                       size_t len)
{
    if ((long)p->out_gpr[RAX] != want_rax) {
        snprintf(why, len, "rax %#lx want %#lx", (unsigned long)p->out_gpr[RAX],
                 (unsigned long)want_rax);
        return 0;
    }
    if (p->out_gpr[RCX] != (uintptr_t)site_end) {
        snprintf(why, len, "rcx %#lx want %p", (unsigned long)p->out_gpr[RCX], (void *)site_end);
        return 0;
    }
    if ((p->flags_before & FLAGS_MASK) != (p->in_flags & FLAGS_MASK)) {
        snprintf(why, len, "popfq did not take %#lx (%#lx)", (unsigned long)p->in_flags,
                 (unsigned long)p->flags_before);
        return 0;
    }
    if (p->out_gpr[R11] != p->flags_before) {
        snprintf(why, len, "r11 %#lx want rflags %#lx", (unsigned long)p->out_gpr[R11],
                 (unsigned long)p->flags_before);
        return 0;
    }
    if (p->flags_after != p->flags_before) {
        snprintf(why, len, "rflags %#lx after, %#lx before", (unsigned long)p->flags_after,
                 (unsigned long)p->flags_before);
        return 0;
    }
    if (p->out_gpr[RSP] != p->rsp_before) {
        snprintf(why, len, "rsp %#lx want %#lx", (unsigned long)p->out_gpr[RSP],
                 (unsigned long)p->rsp_before);
        return 0;
    }
    for (int r = 0; r < 16; r++) {
        if (r == RAX || r == RCX || r == R11 || r == RSP)
            continue;
        if (p->out_gpr[r] != p->in_gpr[r]) {
            snprintf(why, len, "%s %#lx want %#lx", gpr_name[r], (unsigned long)p->out_gpr[r],
                     (unsigned long)p->in_gpr[r]);
            return 0;
        }
    }
    int nvec = p->mode == MODE_AVX512 ? 32 : 16;
    size_t width = p->mode == MODE_AVX512 ? 64 : p->mode == MODE_AVX ? 32 : 16;
    static const char *const vname[] = {"xmm", "ymm", "zmm"};
    for (int r = 0; r < nvec; r++) {
        if (memcmp(p->out_vec[r], p->in_vec[r], width) != 0) {
            snprintf(why, len, "%s%d changed", vname[p->mode], r);
            return 0;
        }
    }
    if (p->mode == MODE_AVX512) {
        for (int k = 0; k < 8; k++) {
            if ((p->out_k[k] & 0xffff) != p->in_k[k]) {
                snprintf(why, len, "k%d %#lx want %#lx", k, (unsigned long)p->out_k[k],
                         (unsigned long)p->in_k[k]);
                return 0;
            }
        }
    }
    return 1;
}

static const unsigned char *site_bytes(long nr)
{
    static unsigned char b[7];
    b[0] = 0xb8;
    memcpy(b + 1, &(int32_t){(int32_t)nr}, 4);
    b[5] = 0x0f;
    b[6] = 0x05;
    return b;
}

/* ---- 1. registers -------------------------------------------------------- */

static void test_registers(void)
{
    static struct probe p;
    char why[160] = "";
    int bad = 0;
    long pid = raw_getpid();
    for (int i = 0; i < ITERS; i++) {
        probe_fill(&p, (unsigned long)i);
        probe_regs(&p);
        if (!probe_check(&p, pid, probe_regs_site_end, why, sizeof(why))) {
            bad++;
            diag("call %d: %s", i, why);
            break;
        }
    }
    static const char *const names[] = {"xmm0-15", "xmm0-15 and ymm0-15",
                                        "xmm0-15, ymm0-15, zmm0-31 and k0-7 in turn"};
    ok(bad == 0,
       "%d calls of one getpid site: rax, rcx = next instruction, r11 = rflags, rflags, "
       "every other GPR and %s kept",
       ITERS, names[vec_mode]);
}

/* ---- 2. threads on one site from its first call -------------------------- */

#define NTHREADS 4

static pthread_barrier_t start_line;
static struct probe thread_probe[NTHREADS];
static char thread_why[NTHREADS][160];

static void *site_hammer(void *arg)
{
    int me = (int)(intptr_t)arg;
    long tid = raw_gettid();
    int bad = 0;
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < 2 * ITERS && !bad; i++) {
        if (i % 2) {
            long r = site_gettid();
            if (r != tid) {
                snprintf(thread_why[me], sizeof(thread_why[me]), "site_gettid %ld want %ld", r,
                         tid);
                bad = 1;
            }
            continue;
        }
        struct probe *p = &thread_probe[me];
        probe_fill(p, (unsigned long)(i + me * 7919));
        probe_threads(p);
        if (!probe_check(p, tid, probe_threads_site_end, thread_why[me], sizeof(thread_why[me])))
            bad = 1;
    }
    return (void *)(intptr_t)bad;
}

static void test_threads(void)
{
    pthread_t th[NTHREADS];
    pthread_barrier_init(&start_line, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, site_hammer, (void *)(intptr_t)i);
    int bad = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        if (r) {
            bad++;
            diag("thread %d: %s", i, thread_why[i]);
        }
    }
    pthread_barrier_destroy(&start_line);
    ok(bad == 0,
       "%d threads from the first call of two gettid sites (%d calls each): own tid, "
       "registers kept",
       NTHREADS, 2 * ITERS);
}

/* ---- 3. entering a site at its syscall instruction ------------------------ */

static atomic_int mid_stop;
static atomic_int mid_bad;

static void *mid_jumper(void *arg)
{
    (void)arg;
    long tid = raw_gettid();
    pthread_barrier_wait(&start_line);
    while (!atomic_load(&mid_stop))
        if (mid_site_mid_mt(SYS_gettid) != tid)
            atomic_fetch_add(&mid_bad, 1);
    return NULL;
}

static void test_mid_entry(void)
{
    long pid = raw_getpid(), tid = raw_gettid(), ppid = syscall(SYS_getppid);
    int bad_before = 0, bad_mov = 0, bad_after = 0, bad_mixed = 0;
    for (int i = 0; i < 100; i++)
        bad_before += mid_site_mid(SYS_gettid) != tid;
    for (int i = 0; i < ITERS; i++)
        bad_mov += site_mid() != pid;
    for (int i = 0; i < ITERS; i++)
        bad_after += mid_site_mid(SYS_gettid) != tid;
    for (int i = 0; i < ITERS; i++) {
        bad_mixed += site_mid() != pid;
        bad_mixed += mid_site_mid(SYS_getppid) != ppid;
        bad_mixed += mid_site_mid(SYS_gettid) != tid;
    }
    is_int(bad_before, 0,
           "entered at its syscall with eax = gettid before the mov path ran: gettid");
    is_int(bad_mov, 0, "the same site from its mov, %d times: getpid", ITERS);
    is_int(bad_after, 0, "entered at its syscall afterwards, %d times: gettid", ITERS);
    is_int(bad_mixed, 0, "mov path, getppid and gettid through the syscall, interleaved");
    is_int(mid_site_mid(1000), -ENOSYS, "entered at its syscall with an unknown number: -ENOSYS");

    /* One thread jumps to the syscall while this one runs the mov path for
     * the first time: the site changes under the jumper's feet. */
    pthread_t t;
    atomic_store(&mid_stop, 0);
    atomic_store(&mid_bad, 0);
    pthread_barrier_init(&start_line, NULL, 2);
    pthread_create(&t, NULL, mid_jumper, NULL);
    pthread_barrier_wait(&start_line);
    int bad_main = 0;
    for (int i = 0; i < 2 * ITERS; i++)
        bad_main += site_mid_mt() != pid;
    atomic_store(&mid_stop, 1);
    pthread_join(t, NULL);
    pthread_barrier_destroy(&start_line);
    ok(bad_main == 0 && atomic_load(&mid_bad) == 0,
       "a thread entering at the syscall (gettid) while another runs the mov path (getpid) for "
       "the first times (bad %d/%d)",
       bad_main, atomic_load(&mid_bad));
}

/* ---- 4. signals at any moment --------------------------------------------- */

#define SIG_WORKERS 3

static atomic_long alrm_count, usr1_count, usr2_count;
static atomic_int handler_bad;
static atomic_int sig_stop;
static atomic_long sig_calls;
static pid_t worker_tid[SIG_WORKERS + 1];
static struct probe sig_probe[2];
static char sig_why[SIG_WORKERS + 1][160];
static int pipe_fds[2];

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGALRM)
        atomic_fetch_add(&alrm_count, 1);
    else if (sig == SIGUSR1)
        atomic_fetch_add(&usr1_count, 1);
    else
        atomic_fetch_add(&usr2_count, 1);
    if (site_handler() != my_pid)
        atomic_fetch_add(&handler_bad, 1);
    clobber_vectors(vec_mode);
    errno = saved;
}

struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

static void *sig_worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    worker_tid[me] = (pid_t)raw_gettid();
    long tid = worker_tid[me];
    pthread_barrier_wait(&start_line);
    int bad = 0;
    for (unsigned long i = 0; !atomic_load(&sig_stop) && !bad; i++) {
        atomic_fetch_add(&sig_calls, 1);
        if (me < 2) {
            struct probe *p = &sig_probe[me];
            probe_fill(p, i * 2 + (unsigned long)me);
            probe_sig(p);
            if (!probe_check(p, my_pid, probe_sig_site_end, sig_why[me], sizeof(sig_why[me])))
                bad = 1;
        } else {
            long a = site_mid_sig(), b = mid_site_mid_sig(SYS_gettid);
            if (a != my_pid || b != tid) {
                snprintf(sig_why[me], sizeof(sig_why[me]), "getpid %ld gettid %ld", a, b);
                bad = 1;
            }
        }
    }
    return (void *)(intptr_t)bad;
}

/* Blocking reads through a site, restarted (SA_RESTART) by every signal
 * that interrupts them: each must return the next byte, never EINTR. */
static void *sig_reader(void *arg)
{
    (void)arg;
    worker_tid[SIG_WORKERS] = (pid_t)raw_gettid();
    pthread_barrier_wait(&start_line);
    unsigned char want = 0;
    for (;;) {
        unsigned char c = 0;
        long n = site_read(pipe_fds[0], &c, 1);
        if (n != 1) {
            snprintf(sig_why[SIG_WORKERS], sizeof(sig_why[0]), "read returned %ld", n);
            return (void *)1;
        }
        if (c == 0xff)
            return NULL;
        if (c != want) {
            snprintf(sig_why[SIG_WORKERS], sizeof(sig_why[0]), "byte %u want %u", c, want);
            return (void *)1;
        }
        want = (unsigned char)((want + 1) % 0xff);
    }
}

static void *sig_storm(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start_line);
    while (!atomic_load(&sig_stop)) {
        for (int i = 0; i <= SIG_WORKERS; i++)
            syscall(SYS_tgkill, my_pid, worker_tid[i], SIGUSR1);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static atomic_int eintr_armed;
static atomic_long eintr_result;

static void *eintr_reader(void *arg)
{
    (void)arg;
    unsigned char c;
    atomic_store(&eintr_result, site_read(pipe_fds[0], &c, 1));
    atomic_store(&eintr_armed, 0);
    return NULL;
}

static void test_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    /* SIGUSR1 returns through restore_rt_site instead of glibc's restorer. */
    struct kernel_sigaction ksa = {on_signal, SA_RESTART | SA_RESTORER_FLAG, restore_rt_site, 0};
    long rc = SC(SYS_rt_sigaction, SIGUSR1, &ksa, NULL, 8);
    is_int(rc, 0, "rt_sigaction with a restorer that is a site of its own");

    if (pipe(pipe_fds) != 0) {
        ok(0, "pipe: %s", strerror(errno));
        return;
    }
    atomic_store(&sig_stop, 0);
    pthread_barrier_init(&start_line, NULL, SIG_WORKERS + 3);
    pthread_t th[SIG_WORKERS + 2];
    for (int i = 0; i < SIG_WORKERS; i++)
        pthread_create(&th[i], NULL, sig_worker, (void *)(intptr_t)i);
    pthread_create(&th[SIG_WORKERS], NULL, sig_reader, NULL);
    pthread_create(&th[SIG_WORKERS + 1], NULL, sig_storm, NULL);
    pthread_barrier_wait(&start_line);

    struct itimerval it = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    double end = now() + 0.3;
    unsigned char next = 0;
    long written = 0;
    while (now() < end) {
        if (write(pipe_fds[1], &next, 1) == 1) {
            next = (unsigned char)((next + 1) % 0xff);
            written++;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&sig_stop, 1);
    unsigned char last = 0xff;
    while (write(pipe_fds[1], &last, 1) != 1)
        ;
    /* The storm first: it must not aim at a worker's tid after its exit. */
    pthread_join(th[SIG_WORKERS + 1], NULL);
    int bad = 0;
    for (int i = 0; i <= SIG_WORKERS; i++) {
        void *r;
        pthread_join(th[i], &r);
        if (r) {
            bad++;
            diag("signal worker %d: %s", i, sig_why[i]);
        }
    }
    memset(&it, 0, sizeof(it));
    setitimer(ITIMER_REAL, &it, NULL);
    pthread_barrier_destroy(&start_line);
    diag("%ld SIGALRM, %ld SIGUSR1 over %ld site calls and %ld restarted reads",
         atomic_load(&alrm_count), atomic_load(&usr1_count), atomic_load(&sig_calls), written);
    ok(atomic_load(&alrm_count) > 0 && atomic_load(&usr1_count) > 0,
       "1 kHz ITIMER_REAL and a sibling's tgkill storm delivered handlers");
    is_int(bad, 0,
           "every site result and register right in 4 threads under signals; blocking "
           "reads through a site restarted (SA_RESTART)");
    is_int(atomic_load(&handler_bad), 0, "the site inside the handler returned getpid every time");

    /* Without SA_RESTART a read through the (by now well used) site ends
     * with -EINTR and returns after the syscall. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGUSR2, &sa, NULL);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    if (pipe(pipe_fds) != 0) {
        ok(0, "pipe: %s", strerror(errno));
        return;
    }
    int wrong = 0;
    for (int round = 0; round < 20; round++) {
        pthread_t t;
        atomic_store(&eintr_armed, 1);
        atomic_store(&eintr_result, 0);
        pthread_create(&t, NULL, eintr_reader, NULL);
        while (atomic_load(&eintr_armed)) {
            pthread_kill(t, SIGUSR2);
            struct timespec ts = {0, 500000};
            nanosleep(&ts, NULL);
        }
        pthread_join(t, NULL);
        if (atomic_load(&eintr_result) != -EINTR) {
            wrong++;
            diag("round %d: read returned %ld", round, atomic_load(&eintr_result));
        }
    }
    is_int(wrong, 0, "20 blocking reads through a site without SA_RESTART: -EINTR");
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    signal(SIGUSR2, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
}

/* ---- 5. fork and vfork after the sites ran ------------------------------- */

static int child_runs_sites(long want_pid)
{
    static struct probe p;
    char why[160];
    for (int i = 0; i < ITERS; i++) {
        if (site_fork() != want_pid)
            return 1;
        probe_fill(&p, (unsigned long)i + 77);
        probe_fork(&p);
        if (!probe_check(&p, want_pid, probe_fork_site_end, why, sizeof(why)))
            return 2;
    }
    return 0;
}

static void test_fork(void)
{
    long pid = raw_getpid();
    int pre = child_runs_sites(pid);
    is_int(pre, 0, "%d calls of a getpid site and a probe before fork", ITERS);

    pid_t c = fork();
    if (c == 0) {
        long me = raw_getpid();
        _exit(me == pid ? 3 : child_runs_sites(me));
    }
    int st = 0;
    waitpid(c, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "the forked child runs them: its own pid, registers kept (status %#x)", st);
    is_int(child_runs_sites(pid), 0, "and the parent still gets its own pid from them");

    c = vfork();
    if (c == 0) {
        long me = raw_getpid();
        _exit(me != pid && site_fork() == me ? 0 : 1);
    }
    waitpid(c, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a vfork child (same memory) gets its own pid");
    is_int(site_fork(), pid, "the parent after it its own");
}

/* ---- 6. exec after patching ----------------------------------------------- */

/* The program file's bytes at a text address, through its program headers
 * (static, not PIE: p_vaddr is the address). */
static int file_bytes(const void *addr, unsigned char *out, size_t len)
{
    const unsigned char *phdr = (const unsigned char *)getauxval(AT_PHDR);
    unsigned long phnum = getauxval(AT_PHNUM), phent = getauxval(AT_PHENT);
    if (!phdr || phent < 56)
        return -1;
    uintptr_t a = (uintptr_t)addr;
    for (unsigned long i = 0; i < phnum; i++) {
        const unsigned char *ph = phdr + i * phent;
        uint32_t type;
        uint64_t off, vaddr, filesz;
        memcpy(&type, ph, 4);
        memcpy(&off, ph + 8, 8);
        memcpy(&vaddr, ph + 16, 8);
        memcpy(&filesz, ph + 32, 8);
        if (type != 1 /* PT_LOAD */ || a < vaddr || a + len > vaddr + filesz)
            continue;
        int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        ssize_t n = pread(fd, out, len, (off_t)(off + (a - vaddr)));
        close(fd);
        return n == (ssize_t)len ? 0 : -1;
    }
    return -1;
}

/* The exec'd image: nothing of the parent's use is left; its sites start
 * as the file has them and work. Prints only diagnostics. */
static int exec_child(void)
{
    struct {
        const void *at;
        long nr;
    } sites[] = {{probe_regs_site, 39},  {probe_threads_site, 186}, {(void *)site_gettid, 186},
                 {(void *)site_mid, 39}, {(void *)site_fork, 39},   {(void *)site_exec, 39}};
    int fail = 0;
    for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
        if (memcmp(sites[i].at, site_bytes(sites[i].nr), 7) != 0) {
            diag("exec child: site %zu does not hold its original bytes", i);
            fail = 1;
        }
    }
    unsigned long gs = 1;
    if (syscall(SYS_arch_prctl, ARCH_GET_GS_OP, &gs) != 0 || gs != 0) {
        diag("exec child: GS base %#lx, not 0", gs);
        fail = 1;
    }
    long pid = raw_getpid(), tid = raw_gettid();
    static struct probe p;
    char why[160];
    for (int i = 0; i < ITERS && !fail; i++) {
        probe_fill(&p, (unsigned long)i);
        probe_regs(&p);
        if (!probe_check(&p, pid, probe_regs_site_end, why, sizeof(why))) {
            diag("exec child: probe call %d: %s", i, why);
            fail = 1;
        }
        if (site_exec() != pid || site_mid() != pid || mid_site_mid(SYS_gettid) != tid ||
            site_gettid() != tid) {
            diag("exec child: call %d: a site returned a wrong value", i);
            fail = 1;
        }
    }
    return fail;
}

static void test_exec(void)
{
    long pid = raw_getpid();
    int bad = 0;
    for (int i = 0; i < ITERS; i++)
        bad += site_exec() != pid;
    is_int(bad, 0, "%d calls of a getpid site before exec", ITERS);

    unsigned char got[7];
    ok(file_bytes(probe_regs_site, got, 7) == 0 && memcmp(got, site_bytes(39), 7) == 0,
       "the program file still holds a used site's original bytes");

    static unsigned long gs_word = 0x6773;
    pid_t c = fork();
    if (c == 0) {
        /* A GS base set before exec must not survive it either. */
        syscall(SYS_arch_prctl, ARCH_SET_GS_OP, (unsigned long)&gs_word);
        char *argv[] = {(char *)self_arg0, "exec-child", NULL};
        char *envp[] = {NULL};
        execve("/proc/self/exe", argv, envp);
        _exit(100 + errno);
    }
    int st = 0;
    waitpid(c, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "exec of itself after patching: original site bytes, GS base 0, sites work (status %#x)",
       st);
}

/* ---- 7. code that must never be rewritten --------------------------------- */

/* mov $39,%eax; syscall; ret */
static const unsigned char jit_code[8] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3};

typedef long (*code_fn)(void);

static int run_code(const void *code, long want, int times)
{
    code_fn f = (code_fn)(uintptr_t)code;
    int bad = 0;
    for (int i = 0; i < times; i++)
        bad += f() != want;
    return bad;
}

static void test_jit(void)
{
    long pid = raw_getpid(), tid = raw_gettid();
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);

    /* Anonymous RWX: run, read back, rewrite the number, run again. */
    unsigned char *rwx =
        mmap(NULL, pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rwx == MAP_FAILED) {
        ok(0, "anonymous RWX mmap: %s", strerror(errno));
    } else {
        memcpy(rwx + 64, jit_code, sizeof(jit_code));
        int bad = run_code(rwx + 64, pid, ITERS);
        int same = memcmp(rwx + 64, jit_code, sizeof(jit_code)) == 0;
        rwx[65] = (unsigned char)SYS_gettid;
        bad += run_code(rwx + 64, tid, ITERS);
        ok(bad == 0 && same && rwx[65] == SYS_gettid && rwx[64] == 0xb8 && rwx[69] == 0x0f,
           "anonymous RWX code: %d calls, bytes unchanged, rewritten to gettid it runs gettid",
           ITERS);
        munmap(rwx, pg);
    }

    /* Anonymous RW then RX, the usual JIT dance, twice. */
    unsigned char *jit = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (jit == MAP_FAILED) {
        ok(0, "anonymous mmap: %s", strerror(errno));
    } else {
        memcpy(jit + 200, jit_code, sizeof(jit_code));
        int bad = mprotect(jit, pg, PROT_READ | PROT_EXEC) != 0;
        bad += run_code(jit + 200, pid, ITERS);
        int same = memcmp(jit + 200, jit_code, sizeof(jit_code)) == 0;
        bad += mprotect(jit, pg, PROT_READ | PROT_WRITE) != 0;
        jit[201] = (unsigned char)SYS_gettid;
        bad += mprotect(jit, pg, PROT_READ | PROT_EXEC) != 0;
        bad += run_code(jit + 200, tid, ITERS);
        ok(bad == 0 && same && jit[201] == SYS_gettid && jit[205] == 0x0f,
           "anonymous RW-then-RX code: bytes unchanged, re-JITed to gettid it runs gettid");
        munmap(jit, pg);
    }

    /* Shared anonymous memory made executable. */
    unsigned char *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        ok(0, "shared anonymous mmap: %s", strerror(errno));
    } else {
        memcpy(sh + 8, jit_code, sizeof(jit_code));
        int bad = mprotect(sh, pg, PROT_READ | PROT_EXEC) != 0;
        bad += run_code(sh + 8, pid, ITERS);
        ok(bad == 0 && memcmp(sh + 8, jit_code, sizeof(jit_code)) == 0,
           "MAP_SHARED anonymous RX code: bytes unchanged");
        munmap(sh, pg);
    }

    /* memfd, MAP_SHARED with PROT_EXEC: the mapping and the file unchanged. */
    int mfd = (int)SC(SYS_memfd_create, "patching", 0);
    if (mfd == -ENOSYS) {
        skip("memfd_create: ENOSYS", "MAP_SHARED memfd code");
    } else if (mfd < 0) {
        ok(0, "memfd_create: %d", mfd);
    } else {
        unsigned char page[4096] = {0};
        memcpy(page + 16, jit_code, sizeof(jit_code));
        int bad = write(mfd, page, sizeof(page)) != (ssize_t)sizeof(page);
        unsigned char *m = mmap(NULL, sizeof(page), PROT_READ | PROT_EXEC, MAP_SHARED, mfd, 0);
        if (m == MAP_FAILED) {
            ok(0, "mmap of the memfd: %s", strerror(errno));
        } else {
            bad += run_code(m + 16, pid, ITERS);
            unsigned char back[8];
            bad += pread(mfd, back, 8, 16) != 8;
            ok(bad == 0 && memcmp(m + 16, jit_code, 8) == 0 && memcmp(back, jit_code, 8) == 0,
               "MAP_SHARED memfd RX code: mapping and file unchanged");
            munmap(m, sizeof(page));
        }
        close(mfd);
    }
}

/* ---- 7b. code in a file of our own ---------------------------------------- */

/* Two sites: one inside the first page, one whose 7 bytes cross into the
 * second. */
#define FILE_SITE_A 0x100
#define FILE_SITE_B 4094

static void test_file_code(void)
{
    long pid = raw_getpid();
    char dir[] = "/tmp/moat-patching-XXXXXX";
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp: %s", strerror(errno));
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "%s/code", dir);
    static unsigned char img[8192];
    memset(img, 0xcc, sizeof(img));
    memcpy(img + FILE_SITE_A, jit_code, sizeof(jit_code));
    memcpy(img + FILE_SITE_B, jit_code, sizeof(jit_code));
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (fd < 0 || write(fd, img, sizeof(img)) != (ssize_t)sizeof(img)) {
        ok(0, "writing %s: %s", path, strerror(errno));
        goto out;
    }

    /* Shared and executable: never rewritten, neither mapping nor file. */
    unsigned char *sh = mmap(NULL, sizeof(img), PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    /* Private but writable: code a program may be editing. */
    unsigned char *pw =
        mmap(NULL, sizeof(img), PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, fd, 0);
    /* Private, not writable: program text, the one kind that may be patched. */
    unsigned char *pt = mmap(NULL, sizeof(img), PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (sh == MAP_FAILED && errno == EPERM) {
        skip("/tmp is mounted noexec", "code in a file of our own");
        goto out;
    }
    if (sh == MAP_FAILED || pw == MAP_FAILED || pt == MAP_FAILED) {
        ok(0, "mmap of %s with PROT_EXEC: %s", path, strerror(errno));
        goto out;
    }
    int bad = run_code(sh + FILE_SITE_A, pid, ITERS) + run_code(sh + FILE_SITE_B, pid, ITERS);
    ok(bad == 0 && memcmp(sh, img, sizeof(img)) == 0,
       "MAP_SHARED file RX code (one site across a page boundary): bytes unchanged");
    bad = run_code(pw + FILE_SITE_A, pid, ITERS) + run_code(pw + FILE_SITE_B, pid, ITERS);
    ok(bad == 0 && memcmp(pw, img, sizeof(img)) == 0,
       "MAP_PRIVATE writable file RWX code: bytes unchanged");
    bad = run_code(pt + FILE_SITE_A, pid, ITERS) + run_code(pt + FILE_SITE_B, pid, ITERS);
    is_int(bad, 0, "MAP_PRIVATE read-only file code: %d calls of each site, getpid", ITERS);

    static unsigned char back[8192];
    ok(pread(fd, back, sizeof(back), 0) == (ssize_t)sizeof(back) &&
           memcmp(back, img, sizeof(img)) == 0 && memcmp(sh, img, sizeof(img)) == 0,
       "after that, the file and a shared mapping of it still hold the original code");
    unsigned char *again = mmap(NULL, sizeof(img), PROT_READ, MAP_PRIVATE, fd, 0);
    ok(again != MAP_FAILED && memcmp(again, img, sizeof(img)) == 0,
       "a new private mapping of the file sees the original code");
    if (again != MAP_FAILED)
        munmap(again, sizeof(img));
    munmap(sh, sizeof(img));
    munmap(pw, sizeof(img));
    munmap(pt, sizeof(img));
out:
    if (fd >= 0)
        close(fd);
    unlink(path);
    rmdir(dir);
}

/* ---- 8. the GS base -------------------------------------------------------- */

static unsigned long get_gs(void)
{
    unsigned long v = 0xdeadbeef;
    if (syscall(SYS_arch_prctl, ARCH_GET_GS_OP, &v) != 0)
        return 0xbad;
    return v;
}

static unsigned long gs_word0(void)
{
    unsigned long v;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(v));
    return v;
}

static void *gs_thread(void *arg)
{
    (void)arg;
    unsigned long gs = get_gs();
    long tid = raw_gettid();
    int bad = 0;
    for (int i = 0; i < ITERS; i++)
        bad += site_gs_thread() != tid;
    return (void *)(uintptr_t)(bad ? 0xbad : gs);
}

static atomic_ulong gs_in_handler;

static void on_gs_signal(int sig)
{
    (void)sig;
    atomic_store(&gs_in_handler, get_gs());
    clobber_vectors(vec_mode);
}

static void test_gs(unsigned long gs_at_start)
{
    is_hex(gs_at_start, 0, "ARCH_GET_GS at start: 0");
    pthread_t t;
    void *r = (void *)1;
    pthread_create(&t, NULL, gs_thread, NULL);
    pthread_join(t, &r);
    is_hex((uintptr_t)r, 0, "ARCH_GET_GS in a fresh thread: 0 (and a gettid site works there)");

    static unsigned long gs_buf[4] = {0x1234567890abcdefUL, 2, 3, 4};
    long rc = SC(SYS_arch_prctl, ARCH_SET_GS_OP, (unsigned long)gs_buf);
    is_int(rc, 0, "ARCH_SET_GS to a buffer");
    is_hex(get_gs(), (uintptr_t)gs_buf, "ARCH_GET_GS returns it");
    is_hex(gs_word0(), gs_buf[0], "%%gs:0 reads the buffer's first word");

    static struct probe p;
    char why[160] = "";
    int bad = 0;
    long pid = raw_getpid();
    for (int i = 0; i < ITERS && !bad; i++) {
        probe_fill(&p, (unsigned long)i + 5);
        probe_gs(&p);
        if (!probe_check(&p, pid, probe_gs_site_end, why, sizeof(why))) {
            diag("call %d: %s", i, why);
            bad = 1;
        }
    }
    ok(bad == 0, "%d probe calls with GS set: results and registers right", ITERS);
    is_hex(get_gs(), (uintptr_t)gs_buf, "GS base unchanged after them");
    is_hex(gs_word0(), gs_buf[0], "%%gs:0 still reads the buffer");

    /* Linux copies the creator's GS base into a new thread. */
    r = NULL;
    pthread_create(&t, NULL, gs_thread, NULL);
    pthread_join(t, &r);
    is_hex((uintptr_t)r, (uintptr_t)gs_buf,
           "a thread created now inherits the GS base (its site works)");

    signal(SIGUSR2, on_gs_signal);
    atomic_store(&gs_in_handler, 0);
    syscall(SYS_tgkill, pid, raw_gettid(), SIGUSR2);
    signal(SIGUSR2, SIG_DFL);
    ok(atomic_load(&gs_in_handler) == (uintptr_t)gs_buf && get_gs() == (uintptr_t)gs_buf,
       "a signal handler sees the GS base, and it is there after sigreturn");

    pid_t c = fork();
    if (c == 0)
        _exit(get_gs() == (uintptr_t)gs_buf && gs_word0() == gs_buf[0] &&
                      site_fork() == raw_getpid()
                  ? 0
                  : 1);
    int st = 0;
    waitpid(c, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a forked child inherits the GS base, sites work");

    rc = SC(SYS_arch_prctl, ARCH_SET_GS_OP, 0UL);
    is_int(rc, 0, "ARCH_SET_GS back to 0");
    is_hex(get_gs(), 0, "ARCH_GET_GS: 0");
    is_int(site_gettid(), raw_gettid(), "sites still work");
}

int main(int argc, char **argv)
{
    unsigned long gs_at_start = get_gs();
    self_arg0 = argc > 0 ? argv[0] : "guest_patching";
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        vec_mode = MODE_AVX512;
    else if (__builtin_cpu_supports("avx"))
        vec_mode = MODE_AVX;
    else
        vec_mode = MODE_SSE;
    my_pid = (long)raw_getpid();
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
        return exec_child();

    test_registers();
    test_threads();
    test_mid_entry();
    test_signals();
    test_fork();
    test_exec();
    test_jit();
    test_file_code();
    test_gs(gs_at_start);
    done_testing();
}
