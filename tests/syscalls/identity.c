/*
 * Process identity and per-process state that needs no files or signals:
 * ids, uname, prctl names, getrandom, rlimits, CPU affinity, TLS base,
 * signal dispositions and masks (recorded, never delivered), alternate
 * signal stacks, robust futex list registration.
 *
 * Nothing here asserts a specific pid, uid or hostname: the same binary runs
 * natively (any pid, any user) and in the sandbox (pid 1, root, "moat").
 */
#include <asm/prctl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "tests/syscalls/tap.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

/* The rt_sigaction argument as the x86-64 kernel reads it. */
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

#define KSA_RESTORER 0x04000000UL
#define SIGBIT(sig)  (1ULL << ((sig)-1))

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void test_ids(void)
{
    long pid = SC(SYS_getpid);
    long tid = SC(SYS_gettid);
    long ppid = SC(SYS_getppid);
    ok(pid > 0, "getpid is positive (%ld)", pid);
    is_int(tid, pid, "single-threaded: gettid == getpid");
    ok(ppid >= 0, "getppid is not negative (%ld)", ppid);
    if (pid == 1)
        is_int(ppid, 0, "pid 1 has parent pid 0");
    else
        ok(ppid != pid, "parent pid differs from own pid");
    is_int(SC(SYS_getpid), pid, "getpid is stable");

    long uid = SC(SYS_getuid), euid = SC(SYS_geteuid);
    long gid = SC(SYS_getgid), egid = SC(SYS_getegid);
    ok(uid >= 0 && gid >= 0, "uid %ld and gid %ld are valid", uid, gid);
    is_int(euid, uid, "not set-id: geteuid == getuid");
    is_int(egid, gid, "not set-id: getegid == getgid");

    long n = SC(SYS_getgroups, 0, NULL);
    ok(n >= 0 && n <= 65536, "getgroups(0, NULL) returns a count (%ld)", n);
    gid_t groups[256];
    if (n >= 0 && n <= 256) {
        is_int(SC(SYS_getgroups, 256, groups), n, "getgroups with room returns the same count");
        /* Size 0 means "count only", so a too-small buffer needs n >= 2. */
        if (n >= 2)
            is_int(SC(SYS_getgroups, n - 1, groups), -EINVAL,
                   "getgroups with too small a buffer: EINVAL");
        else
            skip("fewer than two supplementary groups", "getgroups with too small a buffer");
    }
    is_int(SC(SYS_getgroups, -1, groups), -EINVAL, "getgroups negative size: EINVAL");

    int dummy;
    is_int(SC(SYS_set_tid_address, &dummy), tid, "set_tid_address returns the tid");
}

static void test_uname(void)
{
    struct utsname u;
    memset(&u, 0x7f, sizeof(u));
    if (!is_int(SC(SYS_uname, &u), 0, "uname"))
        return;
    ok(memchr(u.sysname, 0, sizeof(u.sysname)) && memchr(u.nodename, 0, sizeof(u.nodename)) &&
           memchr(u.release, 0, sizeof(u.release)) && memchr(u.version, 0, sizeof(u.version)) &&
           memchr(u.machine, 0, sizeof(u.machine)) && memchr(u.domainname, 0, sizeof(u.domainname)),
       "every uname field is NUL-terminated");
    ok(strcmp(u.sysname, "Linux") == 0, "sysname is Linux (%s)", u.sysname);
    ok(strcmp(u.machine, "x86_64") == 0, "machine is x86_64 (%s)", u.machine);
    ok(u.nodename[0] != '\0', "nodename is not empty (%s)", u.nodename);
    ok(u.version[0] != '\0', "version is not empty (%s)", u.version);
    int major = -1, minor = -1;
    ok(sscanf(u.release, "%d.%d", &major, &minor) == 2, "release parses as major.minor (%s)",
       u.release);
    ok(major >= 3 && minor >= 0, "release is at least 3.0 (%d.%d)", major, minor);
}

/* sysinfo agrees with itself and with time passing; bad pointers EFAULT. */
static void test_sysinfo(void)
{
    struct sysinfo si, later;
    memset(&si, 0x7f, sizeof(si));
    if (!is_int(SC(SYS_sysinfo, &si), 0, "sysinfo"))
        return;
    ok(si.mem_unit >= 1, "mem_unit is at least 1 (%u)", si.mem_unit);
    ok(si.totalram > 0, "totalram is not 0");
    ok(si.freeram <= si.totalram, "freeram <= totalram");
    ok(si.procs >= 1, "at least one process (%u)", si.procs);
    ok(si.uptime >= 0, "uptime is not negative (%ld)", si.uptime);
    is_int(SC(SYS_sysinfo, &later), 0, "sysinfo again");
    ok(later.uptime >= si.uptime, "uptime does not go back");
    is_int(SC(SYS_sysinfo, NULL), -EFAULT, "sysinfo(NULL) is EFAULT");
    is_int(SC(SYS_sysinfo, (void *)1), -EFAULT, "sysinfo on an unmapped page is EFAULT");
}

static void test_prctl_name(const char *argv0)
{
    char name[32];
    memset(name, 0x7f, sizeof(name));
    is_int(SC(SYS_prctl, PR_GET_NAME, name, 0, 0, 0), 0, "PR_GET_NAME");
    ok(memchr(name, 0, 16) != NULL, "the name is NUL-terminated within 16 bytes");
    char want[16];
    snprintf(want, sizeof(want), "%s", base_name(argv0));
    ok(strcmp(name, want) == 0, "initial name is the executable's base name, truncated (%s)", name);

    is_int(SC(SYS_prctl, PR_SET_NAME, "moat-test", 0, 0, 0), 0, "PR_SET_NAME short name");
    memset(name, 0x7f, sizeof(name));
    SC(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
    ok(strcmp(name, "moat-test") == 0, "PR_GET_NAME reads the short name back (%s)", name);

    is_int(SC(SYS_prctl, PR_SET_NAME, "0123456789abcdefghij", 0, 0, 0), 0,
           "PR_SET_NAME 20-char name");
    memset(name, 0x7f, sizeof(name));
    SC(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
    ok(strcmp(name, "0123456789abcde") == 0, "long name is truncated to 15 chars (%s)", name);
    ok(name[15] == '\0' && (unsigned char)name[16] == 0x7f, "PR_GET_NAME writes exactly 16 bytes");

    is_int(SC(SYS_prctl, PR_SET_NAME, "", 0, 0, 0), 0, "PR_SET_NAME empty name");
    SC(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
    is_int((long)strlen(name), 0, "empty name reads back empty");

    is_int(SC(SYS_prctl, 0x7fffffff, 0, 0, 0, 0), -EINVAL, "unknown prctl option: EINVAL");
    SC(SYS_prctl, PR_SET_NAME, want, 0, 0, 0);
}

static void test_getrandom(void)
{
    unsigned char a[64], b[64], zero[64];
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    memset(zero, 0, sizeof(zero));
    is_int(SC(SYS_getrandom, a, sizeof(a), 0), 64, "getrandom 64 bytes");
    is_int(SC(SYS_getrandom, b, sizeof(b), GRND_NONBLOCK), 64, "getrandom GRND_NONBLOCK");
    ok(memcmp(a, zero, 64) != 0 && memcmp(b, zero, 64) != 0, "random bytes are not all zero");
    ok(memcmp(a, b, 64) != 0, "two draws differ");
    is_int(SC(SYS_getrandom, a, 16, GRND_RANDOM | GRND_NONBLOCK) > 0, 1,
           "GRND_RANDOM|GRND_NONBLOCK returns bytes");
    is_int(SC(SYS_getrandom, a, 16, GRND_INSECURE), 16, "GRND_INSECURE");
    is_int(SC(SYS_getrandom, a, 16, GRND_INSECURE | GRND_RANDOM), -EINVAL,
           "GRND_INSECURE|GRND_RANDOM: EINVAL");
    is_int(SC(SYS_getrandom, a, 16, 0x100), -EINVAL, "unknown getrandom flag: EINVAL");
    is_int(SC(SYS_getrandom, a, 0, 0), 0, "getrandom of 0 bytes");

    size_t len = 1 << 20;
    unsigned char *big =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big != MAP_FAILED) {
        long got = SC(SYS_getrandom, big, len, 0);
        ok(got > 0 && got <= (long)len, "getrandom of 1 MiB returns up to 1 MiB (%ld)", got);
        size_t zeros = 0;
        for (long i = 0; i < got; i++)
            zeros += big[i] == 0;
        ok(got > 0 && zeros < (size_t)got / 64, "1 MiB of random bytes is not mostly zero");
        munmap(big, len);
    }
}

static void test_rlimits(void)
{
    struct rlimit rl, rl2;
    struct rlimit64 {
        uint64_t cur, max;
    } p64;

    is_int(SC(SYS_getrlimit, RLIMIT_NOFILE, &rl), 0, "getrlimit NOFILE");
    ok(rl.rlim_cur <= rl.rlim_max, "NOFILE soft <= hard (%lu <= %lu)", (unsigned long)rl.rlim_cur,
       (unsigned long)rl.rlim_max);
    is_int(SC(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &p64), 0, "prlimit64 read NOFILE");
    ok(p64.cur == rl.rlim_cur && p64.max == rl.rlim_max, "prlimit64 agrees with getrlimit");
    is_int(SC(SYS_prlimit64, SC(SYS_getpid), RLIMIT_NOFILE, NULL, &p64), 0,
           "prlimit64 with own pid");

    is_int(SC(SYS_getrlimit, RLIMIT_STACK, &rl2), 0, "getrlimit STACK");
    ok(rl2.rlim_cur == RLIM_INFINITY || rl2.rlim_cur >= 128 * 1024,
       "stack limit is at least 128 KiB");
    ok(rl2.rlim_cur <= rl2.rlim_max, "STACK soft <= hard");

    /* Lowering one's own soft limit is always allowed and stays process-local. */
    struct rlimit lowered = {rl.rlim_cur > 64 ? 64 : rl.rlim_cur, rl.rlim_max};
    is_int(SC(SYS_setrlimit, RLIMIT_NOFILE, &lowered), 0, "setrlimit lowers soft NOFILE");
    struct rlimit back;
    SC(SYS_getrlimit, RLIMIT_NOFILE, &back);
    ok(back.rlim_cur == lowered.rlim_cur && back.rlim_max == lowered.rlim_max,
       "lowered NOFILE reads back (%lu)", (unsigned long)back.rlim_cur);
    struct rlimit64 new64 = {32, rl.rlim_max}, old64;
    is_int(SC(SYS_prlimit64, 0, RLIMIT_NOFILE, &new64, &old64), 0, "prlimit64 sets and reads");
    ok(old64.cur == lowered.rlim_cur, "prlimit64 returned the previous soft limit");
    SC(SYS_getrlimit, RLIMIT_NOFILE, &back);
    is_int((long)back.rlim_cur, 32, "prlimit64's new soft limit reads back");
    struct rlimit inverted = {rl.rlim_max, 16};
    if (rl.rlim_max > 16)
        is_int(SC(SYS_setrlimit, RLIMIT_NOFILE, &inverted), -EINVAL, "soft > hard: EINVAL");
    is_int(SC(SYS_setrlimit, RLIMIT_NOFILE, &rl), 0, "restore the soft limit (up to hard)");
    SC(SYS_getrlimit, RLIMIT_NOFILE, &back);
    ok(back.rlim_cur == rl.rlim_cur, "restored NOFILE reads back");

    is_int(SC(SYS_getrlimit, 100, &rl), -EINVAL, "getrlimit unknown resource: EINVAL");
    is_int(SC(SYS_prlimit64, 0, 100, NULL, &p64), -EINVAL, "prlimit64 unknown resource: EINVAL");
    is_int(SC(SYS_setrlimit, 100, &rl), -EINVAL, "setrlimit unknown resource: EINVAL");
}

static void test_cpus(void)
{
    uint64_t mask[128];
    memset(mask, 0, sizeof(mask));
    long n = SC(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    ok(n > 0 && n % 8 == 0 && n <= (long)sizeof(mask),
       "sched_getaffinity returns a size in whole words (%ld)", n);
    int count = 0;
    for (size_t i = 0; i < 128; i++)
        count += __builtin_popcountll(mask[i]);
    ok(count > 0, "affinity mask has CPUs (%d)", count);
    is_int(SC(SYS_sched_getaffinity, 0, 7, mask), -EINVAL,
           "sched_getaffinity size not a multiple of 8: EINVAL");
    is_int(SC(SYS_sched_getaffinity, 0, 0, mask), -EINVAL, "sched_getaffinity size 0: EINVAL");
    uint64_t again[128];
    memset(again, 0, sizeof(again));
    is_int(SC(SYS_sched_getaffinity, SC(SYS_getpid), sizeof(again), again), n,
           "sched_getaffinity of own pid");
    ok(memcmp(mask, again, sizeof(mask)) == 0, "both masks agree");

    unsigned cpu = 9999, node = 9999;
    is_int(SC(SYS_getcpu, &cpu, &node, NULL), 0, "getcpu");
    ok(cpu < 128 * 64 && (mask[cpu / 64] >> (cpu % 64) & 1), "current cpu %u is in the mask", cpu);
    ok(node < 1024, "node %u is plausible", node);
    is_int(SC(SYS_getcpu, NULL, NULL, NULL), 0, "getcpu with no outputs");
    is_int(SC(SYS_sched_yield), 0, "sched_yield");
}

static void test_tls(void)
{
    unsigned long fs = 0, self = 0, gs = 1;
    is_int(SC(SYS_arch_prctl, ARCH_GET_FS, &fs), 0, "ARCH_GET_FS");
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    is_hex(fs, self, "FS base is the TLS block that points to itself");
    is_int(SC(SYS_arch_prctl, ARCH_SET_FS, fs), 0, "ARCH_SET_FS to the same value");
    unsigned long fs2 = 0;
    SC(SYS_arch_prctl, ARCH_GET_FS, &fs2);
    is_hex(fs2, fs, "FS base unchanged");
    is_int(SC(SYS_arch_prctl, ARCH_GET_GS, &gs), 0, "ARCH_GET_GS");
    is_hex(gs, 0, "GS base starts at 0");
    /* errno lives in TLS: this also proves %fs still works. */
    is_int(SC(SYS_arch_prctl, 0x9999, &gs), -EINVAL, "unknown arch_prctl code: EINVAL");
}

static void test_robust_list(void)
{
    struct {
        void *next;
        long offset;
        void *pending;
    } head = {&head, 0, NULL};
    void *got = NULL, *libc_head = NULL;
    size_t len = 0, libc_len = 0;
    is_int(SC(SYS_get_robust_list, 0, &libc_head, &libc_len), 0, "get_robust_list at start");
    is_int(SC(SYS_set_robust_list, &head, sizeof(head)), 0, "set_robust_list");
    is_int(SC(SYS_get_robust_list, 0, &got, &len), 0, "get_robust_list");
    ok(got == (void *)&head && len == sizeof(head), "robust list head and size read back");
    is_int(SC(SYS_set_robust_list, &head, sizeof(head) - 1), -EINVAL,
           "set_robust_list wrong size: EINVAL");
    /* The head lives on this stack frame: hand the list back to libc. */
    is_int(SC(SYS_set_robust_list, libc_head, libc_len), 0, "restore libc's robust list");
}

static void test_sigaltstack(void)
{
    static char area[65536];
    stack_t ss = {.ss_sp = area, .ss_flags = 0, .ss_size = sizeof(area)};
    stack_t old;
    memset(&old, 0x7f, sizeof(old));
    is_int(SC(SYS_sigaltstack, NULL, &old), 0, "sigaltstack query");
    is_int(old.ss_flags, SS_DISABLE, "no alternate stack at start");

    is_int(SC(SYS_sigaltstack, &ss, NULL), 0, "sigaltstack install");
    memset(&old, 0, sizeof(old));
    SC(SYS_sigaltstack, NULL, &old);
    ok(old.ss_sp == area && old.ss_size == sizeof(area) && old.ss_flags == 0,
       "installed stack reads back (flags %d)", old.ss_flags);

    stack_t small = {.ss_sp = area, .ss_flags = 0, .ss_size = 1024};
    is_int(SC(SYS_sigaltstack, &small, NULL), -ENOMEM, "stack below MINSIGSTKSZ: ENOMEM");
    stack_t bad = {.ss_sp = area, .ss_flags = 0x10, .ss_size = sizeof(area)};
    is_int(SC(SYS_sigaltstack, &bad, NULL), -EINVAL, "unknown ss_flags: EINVAL");

    stack_t ad = {.ss_sp = area, .ss_flags = SS_AUTODISARM, .ss_size = sizeof(area)};
    is_int(SC(SYS_sigaltstack, &ad, &old), 0, "install with SS_AUTODISARM, old returned");
    ok(old.ss_sp == area && old.ss_flags == 0, "old stack returned by the same call");
    SC(SYS_sigaltstack, NULL, &old);
    is_hex((unsigned)old.ss_flags, SS_AUTODISARM, "SS_AUTODISARM reads back");

    stack_t off = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
    is_int(SC(SYS_sigaltstack, &off, NULL), 0, "SS_DISABLE (size ignored)");
    memset(&old, 0x7f, sizeof(old));
    SC(SYS_sigaltstack, NULL, &old);
    ok(old.ss_flags == SS_DISABLE && old.ss_sp == NULL && old.ss_size == 0,
       "disabled stack reads back as SS_DISABLE, NULL, 0");
}

static void dummy_handler(int sig)
{
    (void)sig;
}

static void dummy_restorer(void)
{
}

static void test_sigaction(void)
{
    struct kernel_sigaction act = {
        .handler = (void *)dummy_handler,
        .flags = SA_RESTART | SA_SIGINFO | KSA_RESTORER,
        .restorer = (void *)dummy_restorer,
        .mask = SIGBIT(SIGUSR2) | SIGBIT(SIGKILL) | SIGBIT(SIGSTOP) | SIGBIT(40),
    };
    struct kernel_sigaction old;
    memset(&old, 0x7f, sizeof(old));
    is_int(SC(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8), 0, "rt_sigaction query SIGUSR1");
    ok(old.handler == SIG_DFL, "SIGUSR1 starts at SIG_DFL");
    is_int(SC(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8), 0, "rt_sigaction install handler");
    memset(&old, 0, sizeof(old));
    SC(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8);
    ok(old.handler == (void *)dummy_handler, "handler reads back");
    is_hex(old.flags, act.flags, "flags read back");
    ok(old.restorer == (void *)dummy_restorer, "restorer reads back");
    is_hex(old.mask, SIGBIT(SIGUSR2) | SIGBIT(40), "mask reads back without SIGKILL/SIGSTOP");

    /* Since Linux 5.11 flag bits the kernel does not know are cleared. */
    struct kernel_sigaction odd = {.handler = SIG_IGN, .flags = 0x01000000UL | KSA_RESTORER};
    struct kernel_sigaction prev;
    is_int(SC(SYS_rt_sigaction, SIGUSR1, &odd, &prev, 8), 0, "rt_sigaction with an unknown flag");
    ok(prev.handler == (void *)dummy_handler, "the same call returned the previous action");
    SC(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8);
    is_hex(old.flags, KSA_RESTORER, "unknown flag bit is dropped");
    ok(old.handler == SIG_IGN, "SIG_IGN reads back");

    is_int(SC(SYS_rt_sigaction, SIGKILL, &odd, NULL, 8), -EINVAL, "changing SIGKILL: EINVAL");
    struct kernel_sigaction dfl = {.handler = SIG_DFL};
    is_int(SC(SYS_rt_sigaction, SIGSTOP, &dfl, NULL, 8), -EINVAL,
           "changing SIGSTOP, even to SIG_DFL: EINVAL");
    memset(&old, 0x7f, sizeof(old));
    is_int(SC(SYS_rt_sigaction, SIGKILL, NULL, &old, 8), 0, "querying SIGKILL is allowed");
    ok(old.handler == SIG_DFL, "SIGKILL is SIG_DFL");
    is_int(SC(SYS_rt_sigaction, 0, NULL, &old, 8), -EINVAL, "signal 0: EINVAL");
    is_int(SC(SYS_rt_sigaction, 65, NULL, &old, 8), -EINVAL, "signal 65: EINVAL");
    is_int(SC(SYS_rt_sigaction, 64, NULL, &old, 8), 0, "signal 64 is valid");
    is_int(SC(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), -EINVAL, "sigsetsize 4: EINVAL");
    is_int(SC(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 8), 0, "NULL act and oldact: success");
    is_int(SC(SYS_rt_sigaction, SIGUSR1, &dfl, NULL, 8), 0, "back to SIG_DFL");
}

static void test_sigprocmask(void)
{
    uint64_t orig = 0, set, cur;
    is_int(SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &orig, 8), 0, "rt_sigprocmask query");

    set = SIGBIT(SIGUSR1);
    is_int(SC(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8), 0, "block SIGUSR1");
    SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
    is_hex(cur, orig | SIGBIT(SIGUSR1), "SIGUSR1 is blocked");
    set = SIGBIT(SIGUSR2) | SIGBIT(50);
    uint64_t prev = 0;
    is_int(SC(SYS_rt_sigprocmask, SIG_BLOCK, &set, &prev, 8), 0, "block SIGUSR2 and 50");
    is_hex(prev, orig | SIGBIT(SIGUSR1), "old mask returned by the same call");
    set = SIGBIT(SIGUSR1);
    SC(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8);
    SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
    is_hex(cur, orig | SIGBIT(SIGUSR2) | SIGBIT(50), "SIG_UNBLOCK removes SIGUSR1 only");

    set = ~0ULL;
    is_int(SC(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8), 0, "SIG_SETMASK everything");
    SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
    is_hex(cur, ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)),
           "SIGKILL and SIGSTOP silently stay unblocked");
    set = SIGBIT(SIGKILL);
    SC(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
    SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
    is_hex(cur, 0, "blocking only SIGKILL leaves an empty mask");

    is_int(SC(SYS_rt_sigprocmask, 99, &set, NULL, 8), -EINVAL, "invalid how: EINVAL");
    is_int(SC(SYS_rt_sigprocmask, 99, NULL, &cur, 8), 0, "invalid how without a set is ignored");
    is_int(SC(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), -EINVAL, "sigsetsize 4: EINVAL");
    is_int(SC(SYS_rt_sigprocmask, SIG_SETMASK, &orig, NULL, 8), 0, "restore the mask");
    SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
    is_hex(cur, orig, "mask restored");
}

int main(int argc, char **argv)
{
    (void)argc;
    test_ids();
    test_uname();
    test_sysinfo();
    test_prctl_name(argv[0]);
    test_getrandom();
    test_rlimits();
    test_cpus();
    test_tls();
    test_robust_list();
    test_sigaltstack();
    test_sigaction();
    test_sigprocmask();
    done_testing();
}
