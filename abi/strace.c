/*
 * The strace printer: turns a syscall number, its raw arguments and its result
 * into one line that reads like strace's output. It only reads guest memory
 * through the caller's callback, so a bad guest pointer prints as an address
 * instead of faulting the Sentry.
 */
#include "abi/strace.h"

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "abi/syscall_table.h"
#include "abi/types.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Reads of guest strings never cross a page in one callback, so a string that
 * ends just before an unmapped page still prints. */
#define GUEST_PAGE 4096u

/*
 * Argument kinds the printer derives per call from the table's kinds (the op
 * of futex, prctl, fcntl decides what the other arguments mean). They live
 * past the public enum so they can share the uint8_t kind arrays.
 */
enum {
    K_FD_FLAGS = ABI_ARG_ARGK_COUNT, /* FD_CLOEXEC */
    K_COMM_IN,                       /* task name, at most 16 bytes */
    K_COMM_OUT,                      /* task name filled by the call */
    K_U64_OUT,                       /* [0x...] once the call succeeded */
    K_ENVP,                          /* 0x... / * N vars * / */
    K_ULONG,                         /* unsigned decimal, 64-bit */
};

struct out {
    char *buf;
    size_t cap;
    size_t len;
};

struct call {
    long nr;
    const uint64_t *args;
    bool has_ret;
    int64_t ret;
    abi_guest_read_fn rd;
    void *ctx;
};

struct named {
    uint64_t v;
    const char *name;
};

// clang-format off
#define NM(sym) {(uint64_t)(ABI_##sym), #sym}
// clang-format on

static void put(struct out *o, const char *s)
{
    if (o->len + 1 >= o->cap)
        return;
    size_t room = o->cap - 1 - o->len;
    size_t n = strlen(s);
    if (n > room)
        n = room;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void putf(struct out *o, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    put(o, tmp);
}

static void put_hex(struct out *o, uint64_t v)
{
    if (v == 0)
        put(o, "0");
    else
        putf(o, "%#" PRIx64, v);
}

static void put_ptr(struct out *o, uint64_t v)
{
    if (v == 0)
        put(o, "NULL");
    else
        putf(o, "%#" PRIx64, v);
}

static const char *find_name(const struct named *t, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].v == v)
            return t[i].name;
    }
    return NULL;
}

static void put_named_dec(struct out *o, const struct named *t, size_t n, int64_t v)
{
    const char *name = find_name(t, n, (uint64_t)v);
    if (name)
        put(o, name);
    else
        putf(o, "%" PRId64, v);
}

static void put_named_hex(struct out *o, const struct named *t, size_t n, uint64_t v)
{
    const char *name = find_name(t, n, v);
    if (name)
        put(o, name);
    else
        put_hex(o, v);
}

/* Bits named in table order (multi-bit entries first where they overlap); leftovers in hex. */
static void put_flags(struct out *o, uint64_t v, const struct named *t, size_t n, bool first)
{
    for (size_t i = 0; i < n && v != 0; i++) {
        if (t[i].v != 0 && (v & t[i].v) == t[i].v) {
            if (!first)
                put(o, "|");
            put(o, t[i].name);
            v &= ~t[i].v;
            first = false;
        }
    }
    if (v != 0) {
        if (!first)
            put(o, "|");
        putf(o, "%#" PRIx64, v);
        first = false;
    }
    if (first)
        put(o, "0");
}

/* ---- guest memory ---- */

static int guest_read(const struct call *c, uint64_t addr, void *buf, size_t len)
{
    if (c->rd == NULL || addr == 0 || addr + len < addr)
        return -1;
    return c->rd(c->ctx, addr, buf, len) == 0 ? 0 : -1;
}

/* Bytes readable from addr, up to n, one page at a time. */
static size_t read_upto(const struct call *c, uint64_t addr, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        uint64_t a = addr + got;
        size_t chunk = GUEST_PAGE - (size_t)(a % GUEST_PAGE);
        if (chunk > n - got)
            chunk = n - got;
        if (guest_read(c, a, buf + got, chunk) != 0)
            break;
        got += chunk;
    }
    return got;
}

static void put_escaped(struct out *o, const uint8_t *s, size_t n)
{
    put(o, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        switch (ch) {
        case '\n':
            put(o, "\\n");
            break;
        case '\t':
            put(o, "\\t");
            break;
        case '\r':
            put(o, "\\r");
            break;
        case '\v':
            put(o, "\\v");
            break;
        case '\f':
            put(o, "\\f");
            break;
        case '"':
            put(o, "\\\"");
            break;
        case '\\':
            put(o, "\\\\");
            break;
        default:
            if (ch >= 0x20 && ch < 0x7f) {
                char one[2] = {(char)ch, '\0'};
                put(o, one);
            } else {
                /* A following octal digit would be read as part of a short escape. */
                bool digit_next = i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7';
                putf(o, digit_next ? "\\%03o" : "\\%o", ch);
            }
        }
    }
    put(o, "\"");
}

/* A buffer of known length: the first ABI_STRACE_MAX_STR bytes, then "...". */
static void put_buf(struct out *o, const struct call *c, uint64_t addr, uint64_t len)
{
    uint8_t tmp[ABI_STRACE_MAX_STR] = {0};
    size_t show = len < sizeof(tmp) ? (size_t)len : sizeof(tmp);
    if (show > 0 && read_upto(c, addr, tmp, show) != show) {
        put_ptr(o, addr);
        return;
    }
    if (show == 0 && addr == 0) {
        put(o, "NULL");
        return;
    }
    put_escaped(o, tmp, show);
    if (len > show)
        put(o, "...");
}

/* A NUL-terminated string of at most max bytes (longer ones end in "..."). */
static void put_cstring(struct out *o, const struct call *c, uint64_t addr, size_t max)
{
    _Static_assert(ABI_STRACE_MAX_PATH >= ABI_STRACE_MAX_STR, "path limit is the largest");
    uint8_t tmp[ABI_STRACE_MAX_PATH];
    if (max > sizeof(tmp))
        max = sizeof(tmp);
    size_t got = 0;
    while (got < max) {
        uint64_t a = addr + got;
        size_t chunk = GUEST_PAGE - (size_t)(a % GUEST_PAGE);
        if (chunk > max - got)
            chunk = max - got;
        if (guest_read(c, a, tmp + got, chunk) != 0) {
            put_ptr(o, addr);
            return;
        }
        uint8_t *nul = memchr(tmp + got, 0, chunk);
        if (nul) {
            put_escaped(o, tmp, (size_t)(nul - tmp));
            return;
        }
        got += chunk;
    }
    /* No NUL within max: is the string exactly max long, or longer? */
    uint8_t next;
    bool longer = guest_read(c, addr + max, &next, 1) != 0 || next != 0;
    put_escaped(o, tmp, max);
    if (longer)
        put(o, "...");
}

/* ---- decoders ---- */

static const struct named open_flag_names[] = {
    NM(O_TMPFILE),   NM(O_SYNC),     NM(O_CREAT),   NM(O_EXCL),    NM(O_NOCTTY), NM(O_TRUNC),
    NM(O_APPEND),    NM(O_NONBLOCK), NM(O_DSYNC),   NM(O_ASYNC),   NM(O_DIRECT), NM(O_LARGEFILE),
    NM(O_DIRECTORY), NM(O_NOFOLLOW), NM(O_NOATIME), NM(O_CLOEXEC), NM(O_PATH),
};

static void put_open_flags(struct out *o, uint64_t v)
{
    static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
    put(o, acc[v & ABI_O_ACCMODE]);
    v &= ~(uint64_t)ABI_O_ACCMODE;
    if (v == 0)
        return;
    put_flags(o, v, open_flag_names, N(open_flag_names), false);
}

static void put_prot(struct out *o, uint64_t v)
{
    static const struct named t[] = {
        NM(PROT_READ), NM(PROT_WRITE),     NM(PROT_EXEC),
        NM(PROT_SEM),  NM(PROT_GROWSDOWN), NM(PROT_GROWSUP),
    };
    if (v == 0)
        put(o, "PROT_NONE");
    else
        put_flags(o, v, t, N(t), true);
}

static void put_mmap_flags(struct out *o, uint64_t v)
{
    static const struct named types[] = {
        NM(MAP_SHARED),
        NM(MAP_PRIVATE),
        NM(MAP_SHARED_VALIDATE),
    };
    static const struct named t[] = {
        NM(MAP_FIXED),     NM(MAP_ANONYMOUS),       NM(MAP_32BIT),         NM(MAP_GROWSDOWN),
        NM(MAP_DENYWRITE), NM(MAP_EXECUTABLE),      NM(MAP_LOCKED),        NM(MAP_NORESERVE),
        NM(MAP_POPULATE),  NM(MAP_NONBLOCK),        NM(MAP_STACK),         NM(MAP_HUGETLB),
        NM(MAP_SYNC),      NM(MAP_FIXED_NOREPLACE), NM(MAP_UNINITIALIZED),
    };
    const char *type = find_name(types, N(types), v & ABI_MAP_TYPE);
    bool first = true;
    if (type) {
        put(o, type);
        v &= ~(uint64_t)ABI_MAP_TYPE;
        first = false;
        if (v == 0)
            return;
    }
    put_flags(o, v, t, N(t), first);
}

static void put_signal(struct out *o, uint64_t v)
{
    const char *name = abi_signal_name((int)v);
    if (name)
        put(o, name);
    else
        putf(o, "%d", (int)v);
}

static void put_sigset(struct out *o, uint64_t set)
{
    /* Mostly-full sets read better as what is missing, as strace does. */
    bool inverted = __builtin_popcountll(set) > ABI_NSIG / 2;
    if (inverted) {
        put(o, "~");
        set = ~set;
    }
    put(o, "[");
    bool first = true;
    for (int sig = 1; sig <= ABI_NSIG; sig++) {
        if (!(set & ABI_SIGMASK(sig)))
            continue;
        if (!first)
            put(o, " ");
        put(o, abi_signal_name(sig) + 3); /* without "SIG" */
        first = false;
    }
    put(o, "]");
}

static void put_sigset_at(struct out *o, const struct call *c, uint64_t addr)
{
    uint64_t set;
    if (guest_read(c, addr, &set, sizeof(set)) != 0)
        put_ptr(o, addr);
    else
        put_sigset(o, set);
}

static void put_sigaction_at(struct out *o, const struct call *c, uint64_t addr)
{
    static const struct named t[] = {
        NM(SA_NOCLDSTOP),      NM(SA_NOCLDWAIT), NM(SA_SIGINFO), NM(SA_UNSUPPORTED),
        NM(SA_EXPOSE_TAGBITS), NM(SA_RESTORER),  NM(SA_ONSTACK), NM(SA_RESTART),
        NM(SA_NODEFER),        NM(SA_RESETHAND),
    };
    struct abi_sigaction sa;
    if (guest_read(c, addr, &sa, sizeof(sa)) != 0) {
        put_ptr(o, addr);
        return;
    }
    put(o, "{sa_handler=");
    if (sa.handler == ABI_SIG_DFL)
        put(o, "SIG_DFL");
    else if (sa.handler == ABI_SIG_IGN)
        put(o, "SIG_IGN");
    else
        put_hex(o, sa.handler);
    put(o, ", sa_mask=");
    put_sigset(o, sa.mask);
    put(o, ", sa_flags=");
    put_flags(o, sa.flags, t, N(t), true);
    if (sa.flags & ABI_SA_RESTORER) {
        put(o, ", sa_restorer=");
        put_ptr(o, sa.restorer);
    }
    put(o, "}");
}

static void put_timespec_at(struct out *o, const struct call *c, uint64_t addr)
{
    struct abi_timespec ts;
    if (guest_read(c, addr, &ts, sizeof(ts)) != 0) {
        put_ptr(o, addr);
        return;
    }
    putf(o, "{tv_sec=%" PRId64 ", tv_nsec=%" PRId64 "}", ts.tv_sec, ts.tv_nsec);
}

static void put_clock(struct out *o, uint64_t v)
{
    static const struct named t[] = {
        NM(CLOCK_REALTIME),          NM(CLOCK_MONOTONIC),     NM(CLOCK_PROCESS_CPUTIME_ID),
        NM(CLOCK_THREAD_CPUTIME_ID), NM(CLOCK_MONOTONIC_RAW), NM(CLOCK_REALTIME_COARSE),
        NM(CLOCK_MONOTONIC_COARSE),  NM(CLOCK_BOOTTIME),      NM(CLOCK_REALTIME_ALARM),
        NM(CLOCK_BOOTTIME_ALARM),    NM(CLOCK_SGI_CYCLE),     NM(CLOCK_TAI),
    };
    put_named_dec(o, t, N(t), (int32_t)v);
}

static const struct named futex_cmds[] = {
    NM(FUTEX_WAIT),           NM(FUTEX_WAKE),        NM(FUTEX_FD),
    NM(FUTEX_REQUEUE),        NM(FUTEX_CMP_REQUEUE), NM(FUTEX_WAKE_OP),
    NM(FUTEX_LOCK_PI),        NM(FUTEX_UNLOCK_PI),   NM(FUTEX_TRYLOCK_PI),
    NM(FUTEX_WAIT_BITSET),    NM(FUTEX_WAKE_BITSET), NM(FUTEX_WAIT_REQUEUE_PI),
    NM(FUTEX_CMP_REQUEUE_PI), NM(FUTEX_LOCK_PI2),
};

static void put_futex_op(struct out *o, uint64_t v)
{
    uint32_t op = (uint32_t)v;
    const char *name = find_name(futex_cmds, N(futex_cmds), op & ABI_FUTEX_CMD_MASK);
    if (name == NULL) {
        put_hex(o, op);
        return;
    }
    put(o, name);
    if (op & ABI_FUTEX_PRIVATE_FLAG)
        put(o, "_PRIVATE");
    if (op & ABI_FUTEX_CLOCK_REALTIME)
        put(o, "|FUTEX_CLOCK_REALTIME");
    uint32_t rest = op & ~(uint32_t)ABI_FUTEX_CMD_MASK & ~(uint32_t)ABI_FUTEX_PRIVATE_FLAG &
                    ~(uint32_t)ABI_FUTEX_CLOCK_REALTIME;
    if (rest)
        putf(o, "|%#" PRIx32, rest);
}

static const struct named prctl_ops[] = {
    NM(PR_SET_PDEATHSIG),
    NM(PR_GET_PDEATHSIG),
    NM(PR_GET_DUMPABLE),
    NM(PR_SET_DUMPABLE),
    NM(PR_GET_UNALIGN),
    NM(PR_SET_UNALIGN),
    NM(PR_GET_KEEPCAPS),
    NM(PR_SET_KEEPCAPS),
    NM(PR_GET_FPEMU),
    NM(PR_SET_FPEMU),
    NM(PR_GET_FPEXC),
    NM(PR_SET_FPEXC),
    NM(PR_GET_TIMING),
    NM(PR_SET_TIMING),
    NM(PR_SET_NAME),
    NM(PR_GET_NAME),
    NM(PR_GET_ENDIAN),
    NM(PR_SET_ENDIAN),
    NM(PR_GET_SECCOMP),
    NM(PR_SET_SECCOMP),
    NM(PR_CAPBSET_READ),
    NM(PR_CAPBSET_DROP),
    NM(PR_GET_TSC),
    NM(PR_SET_TSC),
    NM(PR_GET_SECUREBITS),
    NM(PR_SET_SECUREBITS),
    NM(PR_SET_TIMERSLACK),
    NM(PR_GET_TIMERSLACK),
    NM(PR_TASK_PERF_EVENTS_DISABLE),
    NM(PR_TASK_PERF_EVENTS_ENABLE),
    NM(PR_MCE_KILL),
    NM(PR_MCE_KILL_GET),
    NM(PR_SET_MM),
    NM(PR_SET_CHILD_SUBREAPER),
    NM(PR_GET_CHILD_SUBREAPER),
    NM(PR_SET_NO_NEW_PRIVS),
    NM(PR_GET_NO_NEW_PRIVS),
    NM(PR_GET_TID_ADDRESS),
    NM(PR_SET_THP_DISABLE),
    NM(PR_GET_THP_DISABLE),
    NM(PR_MPX_ENABLE_MANAGEMENT),
    NM(PR_MPX_DISABLE_MANAGEMENT),
    NM(PR_SET_FP_MODE),
    NM(PR_GET_FP_MODE),
    NM(PR_CAP_AMBIENT),
    NM(PR_GET_SPECULATION_CTRL),
    NM(PR_SET_SPECULATION_CTRL),
    NM(PR_SET_TAGGED_ADDR_CTRL),
    NM(PR_GET_TAGGED_ADDR_CTRL),
    NM(PR_SET_IO_FLUSHER),
    NM(PR_GET_IO_FLUSHER),
    NM(PR_SET_SYSCALL_USER_DISPATCH),
    NM(PR_SCHED_CORE),
    NM(PR_SET_MDWE),
    NM(PR_GET_MDWE),
    NM(PR_SET_MEMORY_MERGE),
    NM(PR_GET_MEMORY_MERGE),
    NM(PR_SET_PTRACER),
    NM(PR_SET_VMA),
    NM(PR_GET_AUXV),
};

static const struct named arch_prctl_ops[] = {
    NM(ARCH_SET_GS), NM(ARCH_SET_FS),    NM(ARCH_GET_FS),
    NM(ARCH_GET_GS), NM(ARCH_GET_CPUID), NM(ARCH_SET_CPUID),
};

static const struct named ioctl_reqs[] = {
    NM(TCGETS),       NM(TCSETS),     NM(TCSETSW),   NM(TCSETSF),   NM(TCGETA),     NM(TCSETA),
    NM(TCSETAW),      NM(TCSETAF),    NM(TCSBRK),    NM(TCXONC),    NM(TCFLSH),     NM(TIOCEXCL),
    NM(TIOCNXCL),     NM(TIOCSCTTY),  NM(TIOCGPGRP), NM(TIOCSPGRP), NM(TIOCOUTQ),   NM(TIOCSTI),
    NM(TIOCGWINSZ),   NM(TIOCSWINSZ), NM(TIOCMGET),  NM(TIOCMBIS),  NM(TIOCMBIC),   NM(TIOCMSET),
    NM(FIONREAD),     NM(TIOCLINUX),  NM(TIOCCONS),  NM(TIOCPKT),   NM(FIONBIO),    NM(TIOCNOTTY),
    NM(TIOCSETD),     NM(TIOCGETD),   NM(TCSBRKP),   NM(TIOCSBRK),  NM(TIOCCBRK),   NM(TIOCGSID),
    NM(TIOCGPTN),     NM(TIOCSPTLCK), NM(TIOCGDEV),  NM(TIOCGPKT),  NM(TIOCGPTLCK), NM(TIOCGEXCL),
    NM(TIOCGPTPEER),  NM(FIONCLEX),   NM(FIOCLEX),   NM(FIOASYNC),  NM(FIOQSIZE),   NM(FIGETBSZ),
    NM(RNDGETENTCNT),
};

static const struct named rlimits[] = {
    NM(RLIMIT_CPU),      NM(RLIMIT_FSIZE), NM(RLIMIT_DATA),   NM(RLIMIT_STACK),
    NM(RLIMIT_CORE),     NM(RLIMIT_RSS),   NM(RLIMIT_NPROC),  NM(RLIMIT_NOFILE),
    NM(RLIMIT_MEMLOCK),  NM(RLIMIT_AS),    NM(RLIMIT_LOCKS),  NM(RLIMIT_SIGPENDING),
    NM(RLIMIT_MSGQUEUE), NM(RLIMIT_NICE),  NM(RLIMIT_RTPRIO), NM(RLIMIT_RTTIME),
};

static const struct named madvs[] = {
    NM(MADV_NORMAL),          NM(MADV_RANDOM),        NM(MADV_SEQUENTIAL),
    NM(MADV_WILLNEED),        NM(MADV_DONTNEED),      NM(MADV_FREE),
    NM(MADV_REMOVE),          NM(MADV_DONTFORK),      NM(MADV_DOFORK),
    NM(MADV_MERGEABLE),       NM(MADV_UNMERGEABLE),   NM(MADV_HUGEPAGE),
    NM(MADV_NOHUGEPAGE),      NM(MADV_DONTDUMP),      NM(MADV_DODUMP),
    NM(MADV_WIPEONFORK),      NM(MADV_KEEPONFORK),    NM(MADV_COLD),
    NM(MADV_PAGEOUT),         NM(MADV_POPULATE_READ), NM(MADV_POPULATE_WRITE),
    NM(MADV_DONTNEED_LOCKED), NM(MADV_COLLAPSE),      NM(MADV_HWPOISON),
    NM(MADV_SOFT_OFFLINE),
};

static const struct named fcntl_cmds[] = {
    NM(F_DUPFD),      NM(F_GETFD),       NM(F_SETFD),      NM(F_GETFL),         NM(F_SETFL),
    NM(F_GETLK),      NM(F_SETLK),       NM(F_SETLKW),     NM(F_SETOWN),        NM(F_GETOWN),
    NM(F_SETSIG),     NM(F_GETSIG),      NM(F_SETOWN_EX),  NM(F_GETOWN_EX),     NM(F_GETOWNER_UIDS),
    NM(F_OFD_GETLK),  NM(F_OFD_SETLK),   NM(F_OFD_SETLKW), NM(F_SETLEASE),      NM(F_GETLEASE),
    NM(F_NOTIFY),     NM(F_DUPFD_QUERY), NM(F_CANCELLK),   NM(F_DUPFD_CLOEXEC), NM(F_SETPIPE_SZ),
    NM(F_GETPIPE_SZ), NM(F_ADD_SEALS),   NM(F_GET_SEALS),  NM(F_GET_RW_HINT),   NM(F_SET_RW_HINT),
};

static void put_clone_flags(struct out *o, uint64_t v, bool low_byte_is_signal)
{
    static const struct named t[] = {
        NM(CLONE_VM),
        NM(CLONE_FS),
        NM(CLONE_FILES),
        NM(CLONE_SIGHAND),
        NM(CLONE_PIDFD),
        NM(CLONE_PTRACE),
        NM(CLONE_VFORK),
        NM(CLONE_PARENT),
        NM(CLONE_THREAD),
        NM(CLONE_NEWNS),
        NM(CLONE_SYSVSEM),
        NM(CLONE_SETTLS),
        NM(CLONE_PARENT_SETTID),
        NM(CLONE_CHILD_CLEARTID),
        NM(CLONE_DETACHED),
        NM(CLONE_UNTRACED),
        NM(CLONE_CHILD_SETTID),
        NM(CLONE_NEWCGROUP),
        NM(CLONE_NEWUTS),
        NM(CLONE_NEWIPC),
        NM(CLONE_NEWUSER),
        NM(CLONE_NEWPID),
        NM(CLONE_NEWNET),
        NM(CLONE_IO),
        NM(CLONE_CLEAR_SIGHAND),
        NM(CLONE_INTO_CGROUP),
        NM(CLONE_NEWTIME),
    };
    uint64_t sig = low_byte_is_signal ? v & ABI_CSIGNAL : 0;
    v &= low_byte_is_signal ? ~ABI_CSIGNAL : ~(uint64_t)0;
    if (v != 0 || sig == 0)
        put_flags(o, v, t, N(t), true);
    if (sig != 0) {
        if (v != 0)
            put(o, "|");
        put_signal(o, sig);
    }
}

static void put_at_flags(struct out *o, uint64_t v, long nr)
{
    static const struct named t[] = {
        NM(AT_SYMLINK_NOFOLLOW), NM(AT_REMOVEDIR),  NM(AT_SYMLINK_FOLLOW),
        NM(AT_NO_AUTOMOUNT),     NM(AT_EMPTY_PATH), NM(AT_STATX_FORCE_SYNC),
        NM(AT_STATX_DONT_SYNC),  NM(AT_RECURSIVE),
    };
    /* 0x200 means AT_EACCESS to the access family and AT_REMOVEDIR elsewhere. */
    static const struct named access_t[] = {
        NM(AT_SYMLINK_NOFOLLOW),
        NM(AT_EACCESS),
        NM(AT_EMPTY_PATH),
    };
    if (nr == ABI_NR_faccessat2)
        put_flags(o, v, access_t, N(access_t), true);
    else
        put_flags(o, v, t, N(t), true);
}

static void put_mode(struct out *o, uint64_t v)
{
    static const struct named types[] = {
        NM(S_IFSOCK), NM(S_IFLNK), NM(S_IFREG), NM(S_IFBLK), NM(S_IFDIR), NM(S_IFCHR), NM(S_IFIFO),
    };
    uint32_t m = (uint32_t)v;
    const char *type = find_name(types, N(types), m & ABI_S_IFMT);
    if (type) {
        putf(o, "%s|", type);
        m &= ~(uint32_t)ABI_S_IFMT;
    }
    putf(o, "%#03" PRIo32, m);
}

static void put_access_mode(struct out *o, uint64_t v)
{
    static const struct named t[] = {NM(R_OK), NM(W_OK), NM(X_OK)};
    if (v == ABI_F_OK)
        put(o, "F_OK");
    else
        put_flags(o, v, t, N(t), true);
}

/* ---- compound arguments ---- */

static void put_iovec(struct out *o, const struct call *c, uint64_t addr, uint64_t count,
                      bool out_dir)
{
    /* Bytes left to attribute to the entries of an output vector. */
    uint64_t left = out_dir ? (uint64_t)c->ret : 0;
    if (count > ABI_UIO_MAXIOV) {
        put_ptr(o, addr);
        return;
    }
    size_t shown = count < ABI_STRACE_MAX_ELEMS ? (size_t)count : ABI_STRACE_MAX_ELEMS;
    struct abi_iovec iov[ABI_STRACE_MAX_ELEMS];
    if (shown > 0 && guest_read(c, addr, iov, shown * sizeof(iov[0])) != 0) {
        put_ptr(o, addr);
        return;
    }
    put(o, "[");
    for (size_t i = 0; i < shown; i++) {
        if (i)
            put(o, ", ");
        uint64_t len = iov[i].iov_len;
        if (out_dir) {
            len = len < left ? len : left;
            left -= len;
        }
        put(o, "{iov_base=");
        put_buf(o, c, iov[i].iov_base, len);
        putf(o, ", iov_len=%" PRIu64 "}", iov[i].iov_len);
    }
    if (count > shown)
        put(o, ", ...");
    put(o, "]");
}

static void put_argv(struct out *o, const struct call *c, uint64_t addr)
{
    if (addr == 0) {
        put(o, "NULL");
        return;
    }
    uint64_t p[ABI_STRACE_MAX_ELEMS + 1];
    size_t n = 0;
    for (; n <= ABI_STRACE_MAX_ELEMS; n++) {
        if (guest_read(c, addr + n * 8, &p[n], 8) != 0) {
            put_ptr(o, addr);
            return;
        }
        if (p[n] == 0)
            break;
    }
    put(o, "[");
    for (size_t i = 0; i < n && i < ABI_STRACE_MAX_ELEMS; i++) {
        if (i)
            put(o, ", ");
        put_cstring(o, c, p[i], ABI_STRACE_MAX_STR);
    }
    if (n > ABI_STRACE_MAX_ELEMS)
        put(o, ", ...");
    put(o, "]");
}

static void put_envp(struct out *o, const struct call *c, uint64_t addr)
{
    put_ptr(o, addr);
    if (addr == 0)
        return;
    /* Counting stops at a sane bound: the kernel's own limit is far larger. */
    for (uint64_t n = 0; n < 65536; n++) {
        uint64_t p;
        if (guest_read(c, addr + n * 8, &p, 8) != 0)
            return;
        if (p == 0) {
            putf(o, " /* %" PRIu64 " var%s */", n, n == 1 ? "" : "s");
            return;
        }
    }
}

static bool succeeded(const struct call *c)
{
    return c->has_ret && c->ret >= 0;
}

static void print_arg(struct out *o, const struct call *c, int i, int kind)
{
    uint64_t v = c->args[i];
    uint64_t next = i < 5 ? c->args[i + 1] : 0;
    switch (kind) {
    case ABI_ARG_INT:
    case ABI_ARG_FD:
    case ABI_ARG_PID:
        putf(o, "%d", (int32_t)v);
        break;
    case ABI_ARG_UINT:
        putf(o, "%" PRIu32, (uint32_t)v);
        break;
    case ABI_ARG_SIZE:
    case K_ULONG:
        putf(o, "%" PRIu64, v);
        break;
    case ABI_ARG_OFF:
        putf(o, "%" PRId64, (int64_t)v);
        break;
    case ABI_ARG_PTR:
        put_ptr(o, v);
        break;
    case ABI_ARG_PATH:
        put_cstring(o, c, v, ABI_STRACE_MAX_PATH);
        break;
    case ABI_ARG_PATH_OUT:
        if (succeeded(c) && c->ret > 0)
            put_cstring(o, c, v, ABI_STRACE_MAX_PATH);
        else
            put_ptr(o, v);
        break;
    case ABI_ARG_BUF_IN:
        put_buf(o, c, v, next);
        break;
    case ABI_ARG_BUF_OUT:
        if (succeeded(c))
            put_buf(o, c, v, (uint64_t)c->ret);
        else
            put_ptr(o, v);
        break;
    case ABI_ARG_OPEN_FLAGS:
        put_open_flags(o, v);
        break;
    case ABI_ARG_MODE:
        put_mode(o, v);
        break;
    case ABI_ARG_PROT:
        put_prot(o, v);
        break;
    case ABI_ARG_MMAP_FLAGS:
        put_mmap_flags(o, v);
        break;
    case ABI_ARG_SIGNAL:
        put_signal(o, v);
        break;
    case ABI_ARG_CLOCK:
        put_clock(o, v);
        break;
    case ABI_ARG_FUTEX_OP:
        put_futex_op(o, v);
        break;
    case ABI_ARG_PRCTL_OP:
        put_named_dec(o, prctl_ops, N(prctl_ops), (int32_t)v);
        break;
    case ABI_ARG_ARCH_PRCTL_OP:
        put_named_hex(o, arch_prctl_ops, N(arch_prctl_ops), (uint32_t)v);
        break;
    case ABI_ARG_IOCTL_REQ:
        put_named_hex(o, ioctl_reqs, N(ioctl_reqs), (uint32_t)v);
        break;
    case ABI_ARG_TIMESPEC_IN:
        put_timespec_at(o, c, v);
        break;
    case ABI_ARG_TIMESPEC_OUT:
        if (succeeded(c))
            put_timespec_at(o, c, v);
        else
            put_ptr(o, v);
        break;
    case ABI_ARG_IOVEC_IN:
        put_iovec(o, c, v, next, false);
        break;
    case ABI_ARG_IOVEC_OUT:
        if (succeeded(c))
            put_iovec(o, c, v, next, true);
        else
            put_ptr(o, v);
        break;
    case ABI_ARG_ATFD:
        if ((int32_t)v == ABI_AT_FDCWD)
            put(o, "AT_FDCWD");
        else
            putf(o, "%d", (int32_t)v);
        break;
    case ABI_ARG_RLIMIT_RES:
        put_named_dec(o, rlimits, N(rlimits), (int32_t)v);
        break;
    case ABI_ARG_SIGSET_IN:
        put_sigset_at(o, c, v);
        break;
    case ABI_ARG_SIGSET_OUT:
        if (succeeded(c))
            put_sigset_at(o, c, v);
        else
            put_ptr(o, v);
        break;
    case ABI_ARG_AT_FLAGS:
        put_at_flags(o, v, c->nr);
        break;
    case ABI_ARG_MADV:
        put_named_dec(o, madvs, N(madvs), (int32_t)v);
        break;
    case ABI_ARG_MREMAP_FLAGS: {
        static const struct named t[] = {
            NM(MREMAP_MAYMOVE),
            NM(MREMAP_FIXED),
            NM(MREMAP_DONTUNMAP),
        };
        put_flags(o, v, t, N(t), true);
        break;
    }
    case ABI_ARG_SIGHOW: {
        static const struct named t[] = {NM(SIG_BLOCK), NM(SIG_UNBLOCK), NM(SIG_SETMASK)};
        put_named_dec(o, t, N(t), (int32_t)v);
        break;
    }
    case ABI_ARG_WHENCE: {
        static const struct named t[] = {
            NM(SEEK_SET), NM(SEEK_CUR), NM(SEEK_END), NM(SEEK_DATA), NM(SEEK_HOLE),
        };
        put_named_dec(o, t, N(t), (int32_t)v);
        break;
    }
    case ABI_ARG_FCNTL_CMD:
        put_named_dec(o, fcntl_cmds, N(fcntl_cmds), (int32_t)v);
        break;
    case ABI_ARG_CLONE_FLAGS:
        put_clone_flags(o, v, c->nr == ABI_NR_clone);
        break;
    case ABI_ARG_WAIT_FLAGS: {
        static const struct named t[] = {
            NM(WNOHANG),          NM(WUNTRACED),
            NM(WEXITED),          NM(WCONTINUED),
            NM(WNOWAIT),          {ABI_WNOTHREAD, "__WNOTHREAD"},
            {ABI_WALL, "__WALL"}, {ABI_WCLONE, "__WCLONE"},
        };
        put_flags(o, (uint32_t)v, t, N(t), true);
        break;
    }
    case ABI_ARG_ARGV:
        put_argv(o, c, v);
        break;
    case K_ENVP:
        put_envp(o, c, v);
        break;
    case ABI_ARG_SIGACTION_IN:
        put_sigaction_at(o, c, v);
        break;
    case ABI_ARG_MSYNC_FLAGS: {
        static const struct named t[] = {NM(MS_ASYNC), NM(MS_INVALIDATE), NM(MS_SYNC)};
        put_flags(o, v, t, N(t), true);
        break;
    }
    case ABI_ARG_GRND_FLAGS: {
        static const struct named t[] = {
            NM(GRND_NONBLOCK),
            NM(GRND_RANDOM),
            NM(GRND_INSECURE),
        };
        put_flags(o, v, t, N(t), true);
        break;
    }
    case ABI_ARG_ACCESS_MODE:
        put_access_mode(o, v);
        break;
    case K_FD_FLAGS: {
        static const struct named t[] = {NM(FD_CLOEXEC)};
        put_flags(o, v, t, N(t), true);
        break;
    }
    case K_COMM_IN:
        put_cstring(o, c, v, ABI_TASK_COMM_LEN);
        break;
    case K_COMM_OUT:
        if (succeeded(c))
            put_cstring(o, c, v, ABI_TASK_COMM_LEN);
        else
            put_ptr(o, v);
        break;
    case K_U64_OUT: {
        uint64_t x;
        if (succeeded(c) && guest_read(c, v, &x, sizeof(x)) == 0)
            putf(o, "[%#" PRIx64 "]", x);
        else
            put_ptr(o, v);
        break;
    }
    case ABI_ARG_HEX:
    default:
        put_hex(o, v);
        break;
    }
}

/* ---- per-call argument shapes ---- */

static int set_kinds(uint8_t kinds[6], int n, const int *k)
{
    for (int i = 0; i < n; i++)
        kinds[i] = (uint8_t)k[i];
    return n;
}

#define KINDS(...)                                                                                 \
    set_kinds(kinds, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (int[]){__VA_ARGS__})

static int futex_kinds(uint64_t op, uint8_t kinds[6])
{
    enum { P = ABI_ARG_PTR, OP = ABI_ARG_FUTEX_OP, I = ABI_ARG_INT, U = ABI_ARG_UINT };
    enum { TS = ABI_ARG_TIMESPEC_IN, X = ABI_ARG_HEX };
    switch ((uint32_t)op & ABI_FUTEX_CMD_MASK) {
    case ABI_FUTEX_WAIT:
        return KINDS(P, OP, I, TS);
    case ABI_FUTEX_WAKE:
    case ABI_FUTEX_FD:
        return KINDS(P, OP, I);
    case ABI_FUTEX_REQUEUE:
        return KINDS(P, OP, I, U, P);
    case ABI_FUTEX_CMP_REQUEUE:
    case ABI_FUTEX_CMP_REQUEUE_PI:
        return KINDS(P, OP, I, U, P, I);
    case ABI_FUTEX_WAKE_OP:
        return KINDS(P, OP, I, U, P, X);
    case ABI_FUTEX_LOCK_PI:
    case ABI_FUTEX_LOCK_PI2:
        return KINDS(P, OP, I, TS);
    case ABI_FUTEX_UNLOCK_PI:
    case ABI_FUTEX_TRYLOCK_PI:
        return KINDS(P, OP);
    case ABI_FUTEX_WAIT_BITSET:
        return KINDS(P, OP, I, TS, P, X);
    case ABI_FUTEX_WAKE_BITSET:
        return KINDS(P, OP, I, P, P, X);
    case ABI_FUTEX_WAIT_REQUEUE_PI:
        return KINDS(P, OP, I, TS, P);
    default:
        return KINDS(P, OP, X, X, X, X);
    }
}

static int prctl_kinds(uint64_t op, uint8_t kinds[6])
{
    enum { OP = ABI_ARG_PRCTL_OP, P = ABI_ARG_PTR, UL = K_ULONG };
    switch ((int32_t)op) {
    case ABI_PR_SET_NAME:
        return KINDS(OP, K_COMM_IN);
    case ABI_PR_GET_NAME:
        return KINDS(OP, K_COMM_OUT);
    case ABI_PR_SET_PDEATHSIG:
        return KINDS(OP, ABI_ARG_SIGNAL);
    case ABI_PR_GET_PDEATHSIG:
    case ABI_PR_GET_CHILD_SUBREAPER:
    case ABI_PR_GET_TID_ADDRESS:
        return KINDS(OP, P);
    case ABI_PR_GET_DUMPABLE:
    case ABI_PR_GET_KEEPCAPS:
    case ABI_PR_GET_SECCOMP:
    case ABI_PR_GET_TIMERSLACK:
    case ABI_PR_GET_NO_NEW_PRIVS:
    case ABI_PR_GET_THP_DISABLE:
        return KINDS(OP);
    case ABI_PR_SET_DUMPABLE:
    case ABI_PR_SET_KEEPCAPS:
    case ABI_PR_SET_TIMERSLACK:
    case ABI_PR_SET_CHILD_SUBREAPER:
    case ABI_PR_CAPBSET_READ:
    case ABI_PR_CAPBSET_DROP:
        return KINDS(OP, UL);
    case ABI_PR_SET_SECCOMP:
        return KINDS(OP, UL, P);
    default:
        return KINDS(OP, UL, UL, UL, UL);
    }
}

static int fcntl_kinds(uint64_t cmd, uint8_t kinds[6])
{
    enum { FD = ABI_ARG_FD, CMD = ABI_ARG_FCNTL_CMD };
    switch ((int32_t)cmd) {
    case ABI_F_GETFD:
    case ABI_F_GETFL:
    case ABI_F_GETOWN:
    case ABI_F_GETSIG:
    case ABI_F_GETLEASE:
    case ABI_F_GETPIPE_SZ:
    case ABI_F_GET_SEALS:
        return KINDS(FD, CMD);
    case ABI_F_SETFD:
        return KINDS(FD, CMD, K_FD_FLAGS);
    case ABI_F_SETFL:
        return KINDS(FD, CMD, ABI_ARG_OPEN_FLAGS);
    case ABI_F_DUPFD:
    case ABI_F_DUPFD_CLOEXEC:
    case ABI_F_DUPFD_QUERY:
    case ABI_F_SETOWN:
    case ABI_F_SETPIPE_SZ:
        return KINDS(FD, CMD, ABI_ARG_INT);
    case ABI_F_SETSIG:
        return KINDS(FD, CMD, ABI_ARG_SIGNAL);
    default:
        return KINDS(FD, CMD, ABI_ARG_PTR);
    }
}

static int arch_prctl_kinds(uint64_t op, uint8_t kinds[6])
{
    switch ((int32_t)op) {
    case ABI_ARCH_GET_FS:
    case ABI_ARCH_GET_GS:
        return KINDS(ABI_ARG_ARCH_PRCTL_OP, K_U64_OUT);
    case ABI_ARCH_GET_CPUID:
        return KINDS(ABI_ARG_ARCH_PRCTL_OP);
    default:
        return KINDS(ABI_ARG_ARCH_PRCTL_OP, ABI_ARG_HEX);
    }
}

/* The argument shapes of this call: the table's, refined by what some arguments say. */
static int call_kinds(const struct abi_syscall *s, const uint64_t args[6], uint8_t kinds[6])
{
    switch (s->nr) {
    case ABI_NR_futex:
        return futex_kinds(args[1], kinds);
    case ABI_NR_prctl:
        return prctl_kinds(args[0], kinds);
    case ABI_NR_fcntl:
        return fcntl_kinds(args[1], kinds);
    case ABI_NR_arch_prctl:
        return arch_prctl_kinds(args[0], kinds);
    default:
        break;
    }
    int n = s->nargs;
    bool seen_argv = false;
    for (int i = 0; i < n; i++) {
        kinds[i] = s->args[i];
        if (kinds[i] == ABI_ARG_ARGV) {
            if (seen_argv)
                kinds[i] = K_ENVP;
            seen_argv = true;
        }
    }
    /* open's mode means nothing unless a file may be created; strace leaves it out. */
    if (n >= 2 && kinds[n - 1] == ABI_ARG_MODE && kinds[n - 2] == ABI_ARG_OPEN_FLAGS &&
        !(args[n - 2] & (ABI_O_CREAT | ABI_O_TMPFILE_BIT)))
        n--;
    return n;
}

static bool returns_address(long nr)
{
    return nr == ABI_NR_mmap || nr == ABI_NR_mremap || nr == ABI_NR_brk || nr == ABI_NR_shmat;
}

static void put_ret(struct out *o, const struct call *c)
{
    if (!c->has_ret) {
        put(o, " ...");
        return;
    }
    int64_t r = c->ret;
    if (r < 0 && r >= -ABI_MAX_ERRNO) {
        int e = (int)-r;
        const char *name = abi_errno_name(e);
        /* Restart codes never reach the guest: strace shows them with "?". */
        bool internal = e >= ABI_ERESTARTSYS && e <= ABI_ERESTART_RESTARTBLOCK;
        if (name)
            putf(o, " = %s %s (%s)", internal ? "?" : "-1", name, abi_errno_text(e));
        else
            putf(o, " = -1 errno %d", e);
        return;
    }
    if (returns_address(c->nr))
        putf(o, " = %#" PRIx64, (uint64_t)r);
    else
        putf(o, " = %" PRId64, r);
}

size_t abi_strace_format(char *buf, size_t cap, long nr, const uint64_t args[6], bool has_ret,
                         int64_t ret, abi_guest_read_fn rd, void *ctx)
{
    struct out o = {.buf = buf, .cap = cap, .len = 0};
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    struct call c = {
        .nr = nr,
        .args = args,
        .has_ret = has_ret,
        .ret = ret,
        .rd = rd,
        .ctx = ctx,
    };
    const struct abi_syscall *s = abi_syscall(nr);
    if (s == NULL) {
        putf(&o, "syscall_%ld(", nr);
        for (int i = 0; i < 6; i++) {
            if (i)
                put(&o, ", ");
            put_hex(&o, args[i]);
        }
    } else {
        uint8_t kinds[6];
        int n = call_kinds(s, args, kinds);
        put(&o, s->name);
        put(&o, "(");
        for (int i = 0; i < n; i++) {
            if (i)
                put(&o, ", ");
            print_arg(&o, &c, i, kinds[i]);
        }
    }
    put(&o, ")");
    put_ret(&o, &c);
    return o.len;
}
