/*
 * Wild pointers: every supported syscall that takes a user pointer is
 * called with
 *   NULL, an unmapped address, a kernel address, a PROT_NONE page, and a
 *   range that starts in a mapping and runs off its end,
 * and must fail the way Linux fails (mostly EFAULT) without harming the
 * caller. Where Linux does not touch the pointer (a NULL "old value" output,
 * FUTEX_WAKE on a private futex, nanosleep's rem when not interrupted) the
 * expectation is Linux's success result.
 *
 * Results that depend on what stdin/stdout are (a pipe, a tty, a regular
 * file, /dev/null) are derived from fstat/lseek/ioctl on them, so the test
 * passes the same way under meson, in a terminal and in the sandbox. The
 * plan is printed last: a guest killed by any of these calls fails the test.
 */
#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>

#include "tests/syscalls/tap.h"

enum bad_kind { BAD_NULL, BAD_UNMAPPED, BAD_KERNEL, BAD_PROT_NONE, BAD_EDGE, BAD_KINDS };

static const char *const kind_name[BAD_KINDS] = {"NULL", "unmapped", "kernel address",
                                                 "PROT_NONE page", "range off the end"};

static size_t pg;
static char *unmapped;  /* a page with nothing mapped at it */
static char *prot_none; /* a mapped page nobody may touch */
static char *edge;      /* one past the last byte of a writable page; next page unmapped */
static char *const kernel_addr = (char *)0xffff800000000000UL;

/*
 * A pointer of the given kind to an object of `size` bytes. The edge kind
 * places the object so that its first half is mapped and the rest is not.
 */
static void *bad_ptr(int kind, size_t size)
{
    switch (kind) {
    case BAD_NULL:
        return NULL;
    case BAD_UNMAPPED:
        return unmapped + 64;
    case BAD_KERNEL:
        return kernel_addr;
    case BAD_PROT_NONE:
        return prot_none + 64;
    default:
        return edge - (size > 1 ? size / 2 : 1);
    }
}

/*
 * Layout: [guard NONE][unmapped][guard NONE][prot_none][rw page][unmapped][guard NONE]
 * The guards keep later mappings from filling the holes.
 */
static int setup(void)
{
    char *area = mmap(NULL, 7 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        return 0;
    unmapped = area + pg;
    prot_none = area + 3 * pg;
    char *rw = area + 4 * pg;
    edge = rw + pg;
    if (munmap(unmapped, pg) != 0 || munmap(edge, pg) != 0)
        return 0;
    if (mprotect(rw, pg, PROT_READ | PROT_WRITE) != 0)
        return 0;
    memset(rw, 0, pg);
    return 1;
}

/* Check all kinds against one expectation, with a per-kind override for NULL. */
#define EXPECT_ALL(call_with_p, size, want, want_null, what)                                       \
    do {                                                                                           \
        for (int k_ = 0; k_ < BAD_KINDS; k_++) {                                                   \
            void *p = bad_ptr(k_, (size));                                                         \
            is_int(call_with_p, k_ == BAD_NULL ? (want_null) : (want), "%s, %s", what,             \
                   kind_name[k_]);                                                                 \
        }                                                                                          \
    } while (0)

enum stream_kind { STREAM_PIPE, STREAM_TTY, STREAM_FILE, STREAM_SINK };

static const char *const stream_name[] = {"pipe or socket", "tty", "regular file",
                                          "device that ignores data"};

static int stream_kind(int fd, int *seekable)
{
    struct stat st;
    struct termios t;
    *seekable = syscall(SYS_lseek, fd, 0, SEEK_CUR) >= 0;
    if (fstat(fd, &st) != 0)
        return -1;
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return STREAM_PIPE;
    if (syscall(SYS_ioctl, fd, TCGETS, &t) == 0)
        return STREAM_TTY;
    if (S_ISREG(st.st_mode))
        return STREAM_FILE;
    return STREAM_SINK;
}

static int out_kind, out_seekable, out_tty;

static void test_write_family(void)
{
    out_kind = stream_kind(1, &out_seekable);
    out_tty = out_kind == STREAM_TTY;
    if (!ok(out_kind >= 0, "stdout is open"))
        return;
    diag("stdout is a %s%s", stream_name[out_kind], out_seekable ? ", seekable" : "");

    is_int(SC(SYS_write, 1, NULL, 0), 0, "write(1, NULL, 0) is 0");
    is_int(SC(SYS_write, 1, kernel_addr, 0), -EFAULT, "write(1, kernel address, 0): EFAULT");

    /* The two bytes before the edge form an empty TAP comment if written. */
    memcpy(edge - 2, "#\n", 2);
    for (int k = 0; k < BAD_KINDS; k++) {
        char *p = k == BAD_EDGE ? edge - 2 : bad_ptr(k, 10);
        long r = SC(SYS_write, 1, p, 10);
        if (k == BAD_KERNEL)
            is_int(r, -EFAULT, "write, %s", kind_name[k]);
        else if (out_kind == STREAM_SINK)
            is_int(r, 10, "write to a data sink ignores the buffer, %s", kind_name[k]);
        else if (k == BAD_EDGE && out_kind == STREAM_FILE)
            ok(r == 2 || r == -EFAULT, "write to a file, %s: short count or EFAULT (%ld)",
               kind_name[k], r);
        else
            is_int(r, -EFAULT, "write, %s", kind_name[k]);
    }

    struct iovec good[2] = {{edge - 2, 2}, {NULL, 5}};
    for (int k = 0; k < BAD_KINDS; k++)
        is_int(SC(SYS_writev, 1, bad_ptr(k, sizeof(good)), 2), -EFAULT, "writev iov array, %s",
               kind_name[k]);
    is_int(SC(SYS_writev, 1, NULL, 0), 0, "writev(1, NULL, 0) is 0");
    struct iovec kern = {kernel_addr, 10};
    is_int(SC(SYS_writev, 1, &kern, 1), -EFAULT, "writev, kernel iov_base: EFAULT");
    long r = SC(SYS_writev, 1, good, 2);
    if (out_kind == STREAM_SINK)
        is_int(r, 7, "writev to a data sink, good then NULL base");
    else if (out_kind == STREAM_FILE)
        ok(r == 2 || r == -EFAULT, "writev to a file, good then NULL base: 2 or EFAULT (%ld)", r);
    else
        is_int(r, -EFAULT, "writev, good then NULL base: EFAULT");
    struct iovec neg = {edge - 2, (size_t)-1};
    is_int(SC(SYS_writev, 1, &neg, 1), -EINVAL, "writev iov_len > SSIZE_MAX: EINVAL");
    is_int(SC(SYS_writev, 1, good, 1025), -EINVAL, "writev 1025 iovecs: EINVAL");
    is_int(SC(SYS_writev, 1, good, -1L), -EINVAL, "writev negative count: EINVAL");

    is_int(SC(SYS_pwrite64, 1, kernel_addr, 10, 0), out_seekable ? -EFAULT : -ESPIPE,
           "pwrite64, kernel address: %s", out_seekable ? "EFAULT" : "ESPIPE");
}

static void test_read_family(void)
{
    int seekable;
    int kind = stream_kind(0, &seekable);
    long r = SC(SYS_read, 0, kernel_addr, 10);
    if (kind < 0 || r == -EBADF) {
        skip("stdin is not open for reading", "read family");
        return;
    }
    is_int(r, -EFAULT, "read(0) into a kernel address: EFAULT");
    is_int(SC(SYS_pread64, 0, kernel_addr, 10, 0), seekable ? -EFAULT : -ESPIPE,
           "pread64 into a kernel address: %s", seekable ? "EFAULT" : "ESPIPE");
    /*
     * Only the iovec array itself and kernel bases: a user-space base is not
     * touched until data arrives, and stdin may never deliver any.
     */
    for (int k = 0; k < BAD_KINDS; k++)
        is_int(SC(SYS_readv, 0, bad_ptr(k, 2 * sizeof(struct iovec)), 2), -EFAULT,
               "readv iov array, %s", kind_name[k]);
    struct iovec kern = {kernel_addr, 10};
    is_int(SC(SYS_readv, 0, &kern, 1), -EFAULT, "readv, kernel iov_base: EFAULT");
    is_int(SC(SYS_readv, 0, NULL, 0), 0, "readv(0, NULL, 0) is 0");
    is_int(SC(SYS_readv, 0, &kern, 1025), -EINVAL, "readv 1025 iovecs: EINVAL");
}

static void test_stat(void)
{
    struct stat st;
    EXPECT_ALL(SC(SYS_fstat, 1, p), sizeof(struct stat), -EFAULT, -EFAULT, "fstat(1) buffer");
    EXPECT_ALL(SC(SYS_newfstatat, 1, "", p, AT_EMPTY_PATH), sizeof(struct stat), -EFAULT, -EFAULT,
               "newfstatat(1, \"\", AT_EMPTY_PATH) buffer");
    /* NULL with AT_EMPTY_PATH is accepted since Linux 6.11: not asserted. */
    for (int k = BAD_UNMAPPED; k < BAD_KINDS; k++) {
        char *path = bad_ptr(k, 4);
        if (k == BAD_EDGE)
            memcpy(path, "ab", 2); /* no NUL before the edge */
        is_int(SC(SYS_newfstatat, 1, path, &st, AT_EMPTY_PATH), -EFAULT, "newfstatat path, %s",
               kind_name[k]);
    }
    is_int(SC(SYS_fstat, 1, &st), 0, "fstat(1) still works");
}

static void test_uname_and_names(void)
{
    EXPECT_ALL(SC(SYS_uname, p), sizeof(struct utsname), -EFAULT, -EFAULT, "uname");

    char before[16], after[16];
    prctl(PR_GET_NAME, before, 0, 0, 0);
    for (int k = 0; k < BAD_KINDS; k++) {
        char *p = bad_ptr(k, 8);
        if (k == BAD_EDGE)
            memcpy(edge - 4, "wxyz", 4); /* no NUL before the edge */
        is_int(SC(SYS_prctl, PR_SET_NAME, k == BAD_EDGE ? edge - 4 : p, 0, 0, 0), -EFAULT,
               "PR_SET_NAME, %s", kind_name[k]);
    }
    prctl(PR_GET_NAME, after, 0, 0, 0);
    ok(strcmp(before, after) == 0, "failed PR_SET_NAME calls left the name alone (%s)", after);
    memcpy(edge - 4, "abc", 4);
    is_int(SC(SYS_prctl, PR_SET_NAME, edge - 4, 0, 0, 0), 0,
           "PR_SET_NAME with its NUL just before the edge");
    prctl(PR_GET_NAME, after, 0, 0, 0);
    ok(strcmp(after, "abc") == 0, "name read from the edge is abc (%s)", after);
    prctl(PR_SET_NAME, before, 0, 0, 0);
    EXPECT_ALL(SC(SYS_prctl, PR_GET_NAME, p, 0, 0, 0), 16, -EFAULT, -EFAULT, "PR_GET_NAME");
}

static void test_random(void)
{
    for (int k = 0; k < BAD_EDGE; k++)
        is_int(SC(SYS_getrandom, bad_ptr(k, 16), 16, 0), -EFAULT, "getrandom, %s", kind_name[k]);
    /* Linux may hand back the bytes that fit before the fault. */
    long r = SC(SYS_getrandom, edge - 8, 16, 0);
    ok(r == -EFAULT || (r > 0 && r <= 8), "getrandom, range off the end: EFAULT or <= 8 (%ld)", r);
    is_int(SC(SYS_getrandom, NULL, 0, 0), 0, "getrandom(NULL, 0) is 0");
}

static void test_rlimits(void)
{
    struct rlimit cur;
    getrlimit(RLIMIT_NOFILE, &cur);
    EXPECT_ALL(SC(SYS_prlimit64, 0, RLIMIT_NOFILE, p, NULL), 16, -EFAULT, 0, "prlimit64 new limit");
    EXPECT_ALL(SC(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, p), 16, -EFAULT, 0, "prlimit64 old limit");
    EXPECT_ALL(SC(SYS_getrlimit, RLIMIT_NOFILE, p), 16, -EFAULT, -EFAULT, "getrlimit");
    EXPECT_ALL(SC(SYS_setrlimit, RLIMIT_NOFILE, p), 16, -EFAULT, -EFAULT, "setrlimit");
    struct rlimit now;
    getrlimit(RLIMIT_NOFILE, &now);
    ok(now.rlim_cur == cur.rlim_cur && now.rlim_max == cur.rlim_max,
       "failed calls left RLIMIT_NOFILE unchanged");
}

static void test_clocks(void)
{
    EXPECT_ALL(SC(SYS_clock_gettime, CLOCK_MONOTONIC, p), sizeof(struct timespec), -EFAULT, -EFAULT,
               "clock_gettime");
    EXPECT_ALL(SC(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, p), sizeof(struct timespec), -EFAULT,
               -EFAULT, "clock_gettime CPU clock");
    EXPECT_ALL(SC(SYS_clock_getres, CLOCK_MONOTONIC, p), sizeof(struct timespec), -EFAULT, 0,
               "clock_getres");
    EXPECT_ALL(SC(SYS_gettimeofday, p, NULL), sizeof(struct timeval), -EFAULT, 0,
               "gettimeofday tv");
    EXPECT_ALL(SC(SYS_gettimeofday, NULL, p), sizeof(struct timezone), -EFAULT, 0,
               "gettimeofday tz");
    for (int k = 1; k < BAD_KINDS; k++)
        is_int(SC(SYS_time, bad_ptr(k, 8)), -EFAULT, "time, %s", kind_name[k]);
    ok(SC(SYS_time, NULL) > 0, "time(NULL) returns the time");

    EXPECT_ALL(SC(SYS_nanosleep, p, NULL), sizeof(struct timespec), -EFAULT, -EFAULT,
               "nanosleep req");
    EXPECT_ALL(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, p, NULL), sizeof(struct timespec),
               -EFAULT, -EFAULT, "clock_nanosleep req");
    EXPECT_ALL(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, p, NULL),
               sizeof(struct timespec), -EFAULT, -EFAULT, "clock_nanosleep absolute req");
    struct timespec tiny = {0, 1000};
    EXPECT_ALL(SC(SYS_nanosleep, &tiny, p), sizeof(struct timespec), 0, 0,
               "nanosleep rem, not written unless interrupted");
    EXPECT_ALL(SC(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &tiny, p), sizeof(struct timespec), 0, 0,
               "clock_nanosleep rem, not written unless interrupted");
}

static void test_cpu(void)
{
    uint64_t mask[16];
    long n = SC(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    if (!ok(n > 0, "sched_getaffinity works (%ld)", n))
        return;
    EXPECT_ALL(SC(SYS_sched_getaffinity, 0, n, p), (size_t)n, -EFAULT, -EFAULT,
               "sched_getaffinity mask");
    EXPECT_ALL(SC(SYS_getcpu, p, NULL, NULL), 4, -EFAULT, 0, "getcpu cpu");
    EXPECT_ALL(SC(SYS_getcpu, NULL, p, NULL), 4, -EFAULT, 0, "getcpu node");
}

static void test_ioctl(void)
{
    long want = out_tty ? -EFAULT : -ENOTTY;
    EXPECT_ALL(SC(SYS_ioctl, 1, TCGETS, p), sizeof(struct termios), want, want,
               out_tty ? "TCGETS on a tty" : "TCGETS on a non-tty");
    EXPECT_ALL(SC(SYS_ioctl, 1, TIOCGWINSZ, p), sizeof(struct winsize), want, want,
               out_tty ? "TIOCGWINSZ on a tty" : "TIOCGWINSZ on a non-tty");
}

struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static void test_signals(void)
{
    EXPECT_ALL(SC(SYS_rt_sigaction, SIGUSR1, p, NULL, 8), sizeof(struct kernel_sigaction), -EFAULT,
               0, "rt_sigaction act");
    EXPECT_ALL(SC(SYS_rt_sigaction, SIGUSR1, NULL, p, 8), sizeof(struct kernel_sigaction), -EFAULT,
               0, "rt_sigaction oldact");
    struct kernel_sigaction cur;
    memset(&cur, 0x7f, sizeof(cur));
    SC(SYS_rt_sigaction, SIGUSR1, NULL, &cur, 8);
    ok(cur.handler == SIG_DFL, "SIGUSR1 still SIG_DFL after the failed calls");

    uint64_t before = 0, after = 0;
    SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &before, 8);
    EXPECT_ALL(SC(SYS_rt_sigprocmask, SIG_BLOCK, p, NULL, 8), 8, -EFAULT, 0, "rt_sigprocmask set");
    EXPECT_ALL(SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, p, 8), 8, -EFAULT, 0,
               "rt_sigprocmask oldset");
    SC(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &after, 8);
    is_hex(after, before, "signal mask unchanged by the failed calls");

    EXPECT_ALL(SC(SYS_sigaltstack, p, NULL), sizeof(stack_t), -EFAULT, 0, "sigaltstack ss");
    EXPECT_ALL(SC(SYS_sigaltstack, NULL, p), sizeof(stack_t), -EFAULT, 0, "sigaltstack old_ss");
    stack_t ss;
    SC(SYS_sigaltstack, NULL, &ss);
    is_int(ss.ss_flags, SS_DISABLE, "still no alternate stack");
}

static void test_futex(void)
{
    /* An aligned 4-byte word cannot straddle a page: no edge kind here. */
    for (int k = 0; k < BAD_EDGE; k++)
        is_int(SC(SYS_futex, bad_ptr(k, 4), FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), -EFAULT,
               "FUTEX_WAIT, %s", kind_name[k]);
    /* A private wake only hashes the address; it never reads the word. */
    for (int k = 0; k < BAD_EDGE; k++) {
        is_int(SC(SYS_futex, bad_ptr(k, 4), FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0),
               k == BAD_KERNEL ? -EFAULT : 0, "FUTEX_WAKE_PRIVATE, %s", kind_name[k]);
    }
    is_int(SC(SYS_futex, unmapped + 64, FUTEX_WAKE, 1, NULL, NULL, 0), -EFAULT,
           "shared FUTEX_WAKE on unmapped memory: EFAULT");

    static uint32_t word = 5;
    /* A NULL timeout means "forever": skip that kind. */
    for (int k = BAD_UNMAPPED; k < BAD_KINDS; k++)
        is_int(SC(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 5, bad_ptr(k, sizeof(struct timespec)),
                  NULL, 0),
               -EFAULT, "FUTEX_WAIT timeout, %s", kind_name[k]);
    is_int(SC(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), -EAGAIN,
           "FUTEX_WAIT with a stale value: EAGAIN");
    is_int(SC(SYS_futex, (char *)&word + 1, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), -EINVAL,
           "FUTEX_WAIT unaligned: EINVAL");
    is_int(SC(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0,
           "FUTEX_WAKE with no waiters wakes 0");
}

static void test_misc(void)
{
    EXPECT_ALL(SC(SYS_arch_prctl, ARCH_GET_FS, p), 8, -EFAULT, -EFAULT, "ARCH_GET_FS");
    EXPECT_ALL(SC(SYS_arch_prctl, ARCH_GET_GS, p), 8, -EFAULT, -EFAULT, "ARCH_GET_GS");
    is_int(SC(SYS_arch_prctl, ARCH_SET_FS, kernel_addr), -EPERM,
           "ARCH_SET_FS to a kernel address: EPERM");

    char *vec_area = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (vec_area != MAP_FAILED) {
        EXPECT_ALL(SC(SYS_mincore, vec_area, 2 * pg, p), 2, -EFAULT, -EFAULT, "mincore vec");
        munmap(vec_area, 2 * pg);
    }

    long n = SC(SYS_getgroups, 0, NULL);
    if (n > 0)
        EXPECT_ALL(SC(SYS_getgroups, n, p), (size_t)n * 4, -EFAULT, -EFAULT, "getgroups list");
    else
        EXPECT_ALL(SC(SYS_getgroups, 1, p), 4, 0, 0, "getgroups with no groups writes nothing");

    void *head = NULL;
    size_t len = 0;
    SC(SYS_get_robust_list, 0, &head, &len);
    EXPECT_ALL(SC(SYS_get_robust_list, 0, p, &len), 8, -EFAULT, -EFAULT, "get_robust_list head");
    EXPECT_ALL(SC(SYS_get_robust_list, 0, &head, p), 8, -EFAULT, -EFAULT, "get_robust_list len");
    /* Registration never dereferences; the list is only walked at exit. */
    is_int(SC(SYS_set_robust_list, kernel_addr, len), 0, "set_robust_list kernel address");
    is_int(SC(SYS_set_robust_list, head, len), 0, "restore libc's robust list");
}

int main(void)
{
    pg = (size_t)sysconf(_SC_PAGESIZE);
    if (!ok(setup(), "set up unmapped, PROT_NONE and edge pages"))
        done_testing();
    test_write_family();
    test_read_family();
    test_stat();
    test_uname_and_names();
    test_random();
    test_rlimits();
    test_clocks();
    test_cpu();
    test_ioctl();
    test_signals();
    test_futex();
    test_misc();

    /*
     * Linux writes 0 to the clear_child_tid address at exit and ignores a
     * fault there; the exit status (checked by the harness) must stay 0.
     */
    is_int(SC(SYS_set_tid_address, kernel_addr), SC(SYS_gettid),
           "set_tid_address(kernel address) returns the tid; exit must still be clean");
    done_testing();
}
