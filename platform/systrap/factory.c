/* The stub factory and the birth of a stub.
 *
 * Stubs must not inherit the Sentry's seccomp filter: it kills the process
 * on any call it does not list, and that verdict outranks the stub's own
 * SECCOMP_RET_TRAP, so a guest's first unusual syscall would kill its stub
 * instead of reaching the Sentry. The factory is forked while the Sentry is
 * still unconfined and single-threaded; it drops its capabilities, keeps
 * only the memory file and its socket, and forks a stub per request.
 *
 * Lifetime: the factory gets SIGKILL when the Sentry's main thread (which
 * forked it, and lives as long as the Sentry) ends, and every stub gets
 * SIGKILL when the factory ends. The factory ignores SIGCHLD, so the kernel
 * reaps dead stubs; the Sentry learns of a stub's end from its pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/systrap/systrap.h"

/* What the factory answers: 0 and a pid, or -errno. The fds ride along. */
struct factory_reply {
    int32_t err;
    int32_t pid;
};

struct factory_env {
    int memfd;
    int sock;
    uint64_t vdso_lo, vdso_hi;
    /* The template of a command page with the guest filter in it, built
     * once before the fork (the factory allocates nothing afterwards). */
    struct sock_filter base[96];
    unsigned short nbase;
};

static struct factory_env env;

/* The kernel's struct sigaction for rt_sigaction, and its flag for a
 * caller-supplied sigreturn trampoline (x86-64 requires one). */
#define KSA_RESTORER 0x04000000
struct ksigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

/* Move fd to exactly want; fds above the kept ones are closed afterwards. */
static int place_fd(int fd, int want)
{
    if (fd == want)
        return 0;
    if (syscall(SYS_dup3, fd, want, 0) < 0)
        return -errno;
    return 0;
}

/* The FPU in its init state, as XRSTOR (or FXRSTOR) loads it: default
 * control word and MXCSR, an XSAVE header with no component in use. */
static _Alignas(64) uint8_t fpu_init_image[4096];

/* Reset every FPU, SSE and extended register. A stub thread's own state is
 * the factory's, hence the Sentry's (strings it copied, keys it handled);
 * a new guest thread's birth frame carries it where the guest's other
 * threads can read it before the Sentry overwrites it. */
static void fpu_scrub(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (c & (1u << 27)) { /* OSXSAVE */
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        /* Not AMX's tile state: the kernel arms XFD for it until a process
         * asks for it (XRSTOR would fault), so the factory never used it. */
        lo &= ~((1u << 17) | (1u << 18));
        __asm__ volatile("xrstor64 %0" : : "m"(fpu_init_image), "a"(lo), "d"(hi));
    } else {
        __asm__ volatile("fxrstor64 %0" : : "m"(fpu_init_image));
    }
}

/* In the new stub process: confine, lay out, and jump into the stub page.
 * Raw calls only; nothing here may need the heap. */
__attribute__((noreturn)) static void stub_child(int shmfd, int donefd)
{
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Terminal signals go to the front end, never straight to guest code. */
    syscall(SYS_setsid);
    /* Gather the three fds above every fd the stub keeps, then place them:
     * the memory file and the eventfd at fixed numbers the filter names. */
    long m = syscall(SYS_fcntl, env.memfd, F_DUPFD, 64);
    long d = syscall(SYS_fcntl, donefd, F_DUPFD, 64);
    long s = syscall(SYS_fcntl, shmfd, F_DUPFD, 64);
    if (m < 0 || d < 0 || s < 0 || place_fd((int)m, STUB_FD_MEM) < 0 ||
        place_fd((int)d, STUB_FD_DONE) < 0)
        syscall(SYS_exit_group, 127);
    /* The shared region: the command page read-only, the rest writable. */
    if (syscall(SYS_mmap, SYSMSG_BASE, SYSMSG_CMD_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, s, 0) !=
            (long)SYSMSG_BASE ||
        syscall(SYS_mmap, SYSMSG_BASE + SYSMSG_CMD_SIZE, SYSMSG_SIZE - SYSMSG_CMD_SIZE,
                PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, s,
                SYSMSG_CMD_SIZE) != (long)(SYSMSG_BASE + SYSMSG_CMD_SIZE))
        syscall(SYS_exit_group, 127);
    syscall(SYS_close_range, 0, STUB_FD_MEM - 1, 0);
    syscall(SYS_close_range, STUB_FD_DONE + 1, ~0U, 0);
    /* fork kept glibc's rseq registration, whose area the stub is about to
     * unmap: the kernel's update on the way back to user mode would fault. */
    if (__rseq_size > 0) {
        void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
        if (syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) < 0)
            syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
    }
    /* Every event reaches the handler on the thread's own slot stack, with
     * every other signal blocked while it runs: the syscall trap, faults,
     * the kick, and any other signal sent from outside, which the Sentry
     * hands to the guest as ptrace's platform does (only SIGKILL and
     * SIGSTOP cannot be caught). */
    struct ksigaction sa = {
        .handler = systrap_stub_addr(systrap_handler),
        .flags = SA_SIGINFO | SA_ONSTACK | KSA_RESTORER,
        .restorer = systrap_stub_addr(systrap_restorer),
        .mask = ~0ULL,
    };
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (syscall(SYS_rt_sigaction, sig, &sa, NULL, 8) < 0)
            syscall(SYS_exit_group, 127);
    }
    uint64_t all = ~0ULL;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
    if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        syscall(SYS_exit_group, 127);
    struct sock_fprog prog = {.len = env.nbase, .filter = env.base};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        syscall(SYS_exit_group, 127);
    /* From here only calls from the stub page pass. */
    fpu_scrub();
    void (*entry)(uint64_t, uint64_t, uint64_t) =
        (void (*)(uint64_t, uint64_t, uint64_t))systrap_stub_addr(systrap_entry);
    entry(env.vdso_lo, env.vdso_hi, systrap_patch.on);
    __builtin_unreachable();
}

static int send_reply(int err, pid_t pid, const int *fds, int nfds)
{
    struct factory_reply r = {err, pid};
    struct iovec iov = {&r, sizeof(r)};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(3 * sizeof(int))];
    } c;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(&c, 0, sizeof(c));
        msg.msg_control = c.buf;
        msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(h), fds, (size_t)nfds * sizeof(int));
    }
    return sendmsg(env.sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* A stub made ahead of the request for it: a fork asks for an address
 * space and gets one without waiting for the fork, the stub's set-up and
 * its birth, which take about half a millisecond here. */
struct spare {
    bool ready;
    int err; /* making it failed: this is the answer */
    pid_t pid;
    int pidfd, donefd, shmfd;
};

static struct spare spare;

/* One stub: its shared region, its eventfd, the fork, the pidfd. */
static void make_stub(struct spare *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->ready = true;
    sp->pidfd = sp->donefd = sp->shmfd = -1;
    int shmfd = (int)syscall(SYS_memfd_create, "moat-sysmsg", MFD_CLOEXEC);
    int donefd = eventfd(0, EFD_CLOEXEC);
    int err = shmfd < 0 || donefd < 0 ? -errno : 0;
    if (!err && ftruncate(shmfd, SYSMSG_SIZE) < 0)
        err = -errno;
    if (!err) {
        uint8_t *region = mmap(NULL, SYSMSG_SLOTS_OFF + SYSMSG_SLOT_SIZE, PROT_READ | PROT_WRITE,
                               MAP_SHARED, shmfd, 0);
        if (region == MAP_FAILED) {
            err = -errno;
        } else {
            systrap_region_init(region);
            munmap(region, SYSMSG_SLOTS_OFF + SYSMSG_SLOT_SIZE);
        }
    }
    int pidfd = -1;
    if (!err) {
        long pid = syscall(SYS_clone, SIGCHLD | CLONE_PIDFD, 0, &pidfd, NULL, 0);
        if (pid == 0)
            stub_child(shmfd, donefd);
        if (pid < 0)
            err = -errno;
        else
            sp->pid = (pid_t)pid;
    }
    if (err) {
        if (shmfd >= 0)
            close(shmfd);
        if (donefd >= 0)
            close(donefd);
        sp->err = err;
        return;
    }
    sp->pidfd = pidfd;
    sp->donefd = donefd;
    sp->shmfd = shmfd;
}

static void drop_stub(struct spare *sp)
{
    if (sp->pidfd >= 0)
        close(sp->pidfd);
    if (sp->donefd >= 0)
        close(sp->donefd);
    if (sp->shmfd >= 0)
        close(sp->shmfd);
    sp->ready = false;
}

/* Hand the spare over (making one now if there is none, or if it died
 * while it waited), then make the next. */
static void serve_one(void)
{
    if (spare.ready && !spare.err) {
        struct pollfd pfd = {spare.pidfd, POLLIN, 0};
        if (poll(&pfd, 1, 0) != 0)
            drop_stub(&spare);
    }
    if (!spare.ready || spare.err) {
        drop_stub(&spare);
        make_stub(&spare);
    }
    if (spare.err) {
        send_reply(spare.err, 0, NULL, 0);
    } else {
        int fds[3] = {spare.pidfd, spare.donefd, spare.shmfd};
        if (send_reply(0, spare.pid, fds, 3) < 0)
            kill(spare.pid, SIGKILL);
    }
    drop_stub(&spare);
    make_stub(&spare);
}

/* The factory's own allowlist, which its stubs inherit beneath theirs. Its
 * verdict for anything else is TRAP, not KILL: a guest's syscall must reach
 * the stub's handler, and the strictest verdict of all filters wins. */
static int factory_seccomp(void)
{
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
    if (!f)
        return -ENOMEM;
    int err = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
    static const int allow[] = {
        /* the factory */
        SCMP_SYS(recvfrom),
        SCMP_SYS(sendmsg),
        SCMP_SYS(memfd_create),
        SCMP_SYS(eventfd2),
        SCMP_SYS(ftruncate),
        SCMP_SYS(close),
        SCMP_SYS(kill),
        SCMP_SYS(poll),
        SCMP_SYS(ppoll),
        SCMP_SYS(exit_group),
        SCMP_SYS(restart_syscall),
        /* a stub being born (stub_child) */
        SCMP_SYS(prctl),
        SCMP_SYS(setsid),
        SCMP_SYS(fcntl),
        SCMP_SYS(dup3),
        SCMP_SYS(close_range),
        SCMP_SYS(rseq),
        SCMP_SYS(rt_sigaction),
        /* both, and the stub's own calls (its filter narrows them further) */
        SCMP_SYS(mmap),
        SCMP_SYS(munmap),
        SCMP_SYS(mprotect),
        SCMP_SYS(futex),
        SCMP_SYS(rt_sigreturn),
        SCMP_SYS(rt_sigprocmask),
        SCMP_SYS(sigaltstack),
        SCMP_SYS(set_tid_address),
        SCMP_SYS(write),
        SCMP_SYS(seccomp),
        SCMP_SYS(exit),
    };
    for (size_t i = 0; !err && i < sizeof(allow) / sizeof(allow[0]); i++)
        err = seccomp_rule_add(f, SCMP_ACT_ALLOW, allow[i], 0);
    /* New stubs (a plain fork with a pidfd), and the stubs' two thread kinds. */
    static const uint64_t clones[] = {SIGCHLD | CLONE_PIDFD, SYSTRAP_CTL_CLONE_FLAGS,
                                      SYSTRAP_THREAD_CLONE_FLAGS};
    for (size_t i = 0; !err && i < sizeof(clones) / sizeof(clones[0]); i++)
        err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                               SCMP_A0(SCMP_CMP_EQ, clones[i]));
    if (!err)
        err = seccomp_load(f);
    seccomp_release(f);
    return err;
}

__attribute__((noreturn)) static void factory_main(int parent_sock)
{
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* The factory keeps the memory file and its socket, nothing else. */
    int keep_lo = env.memfd < parent_sock ? env.memfd : parent_sock;
    int keep_hi = env.memfd < parent_sock ? parent_sock : env.memfd;
    if (keep_lo > 0)
        syscall(SYS_close_range, 0, keep_lo - 1, 0);
    if (keep_hi > keep_lo + 1)
        syscall(SYS_close_range, keep_lo + 1, keep_hi - 1, 0);
    syscall(SYS_close_range, keep_hi + 1, ~0U, 0);
    env.sock = parent_sock;
    /* Dead stubs are reaped by the kernel. */
    struct sigaction ign;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigaction(SIGCHLD, &ign, NULL);
    sigaction(SIGPIPE, &ign, NULL);
    /* Nothing the factory does needs a capability. */
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        factory_seccomp() < 0)
        _exit(125);
    /* No spare before the first request: the Sentry confines itself
     * meanwhile, and a stub forked while its pivot_root runs could keep the
     * host's root. The first request comes from a confined Sentry. */
    for (;;) {
        char req;
        ssize_t n = recv(env.sock, &req, 1, 0);
        if (n == 0 || (n < 0 && errno != EINTR))
            _exit(0);
        if (n == 1)
            serve_one();
    }
}

int systrap_factory_start(struct systrap_factory *f, int memfd, uint64_t vdso_lo, uint64_t vdso_hi,
                          const char **why)
{
    uint16_t cwd = 0x37f;    /* x87 default: every exception masked */
    uint32_t mxcsr = 0x1f80; /* SSE default: likewise */
    memcpy(fpu_init_image, &cwd, sizeof(cwd));
    memcpy(fpu_init_image + 24, &mxcsr, sizeof(mxcsr));
    env.memfd = memfd;
    env.vdso_lo = vdso_lo;
    env.vdso_hi = vdso_hi;
    size_t n = systrap_filter_base(env.base, sizeof(env.base) / sizeof(env.base[0]));
    if (n == 0) {
        *why = "the stub's seccomp filter does not fit";
        return -EINVAL;
    }
    env.nbase = (unsigned short)n;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        *why = "cannot create the stub factory's socket";
        return -errno;
    }
    long pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
    if (pid < 0) {
        int err = -errno;
        close(sv[0]);
        close(sv[1]);
        *why = "cannot fork the stub factory";
        return err;
    }
    if (pid == 0) {
        close(sv[0]);
        factory_main(sv[1]);
    }
    close(sv[1]);
    f->sock = sv[0];
    f->pid = (pid_t)pid;
    return 0;
}

int systrap_factory_spawn(struct systrap_factory *f, struct systrap_stub_fds *out)
{
    char req = 'S';
    struct iovec riov = {&req, 1};
    struct msghdr rmsg = {.msg_iov = &riov, .msg_iovlen = 1};
    if (sendmsg(f->sock, &rmsg, MSG_NOSIGNAL) != 1)
        return -EPIPE;
    struct factory_reply r;
    struct iovec iov = {&r, sizeof(r)};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(3 * sizeof(int))];
    } c;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
    ssize_t n;
    do {
        n = recvmsg(f->sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(r))
        return -EPIPE;
    if (r.err)
        return r.err < 0 ? r.err : -EIO;
    struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
    if (!h || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(3 * sizeof(int)))
        return -EPIPE;
    int fds[3];
    memcpy(fds, CMSG_DATA(h), sizeof(fds));
    out->pid = r.pid;
    out->pidfd = fds[0];
    out->donefd = fds[1];
    out->shmfd = fds[2];
    return 0;
}

void systrap_factory_stop(struct systrap_factory *f)
{
    if (f->sock >= 0)
        close(f->sock);
    f->sock = -1;
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        int status;
        while (syscall(SYS_wait4, f->pid, &status, 0, NULL) < 0 && errno == EINTR)
            ;
    }
    f->pid = 0;
}
