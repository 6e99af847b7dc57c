/* Signal numbers, sigaction, sigaltstack and siginfo as the x86-64 guest sees them. */
#ifndef MOAT_ABI_SIGNAL_H
#define MOAT_ABI_SIGNAL_H

#include <stdint.h>

#define ABI_SIGHUP    1
#define ABI_SIGINT    2
#define ABI_SIGQUIT   3
#define ABI_SIGILL    4
#define ABI_SIGTRAP   5
#define ABI_SIGABRT   6
#define ABI_SIGIOT    6
#define ABI_SIGBUS    7
#define ABI_SIGFPE    8
#define ABI_SIGKILL   9
#define ABI_SIGUSR1   10
#define ABI_SIGSEGV   11
#define ABI_SIGUSR2   12
#define ABI_SIGPIPE   13
#define ABI_SIGALRM   14
#define ABI_SIGTERM   15
#define ABI_SIGSTKFLT 16
#define ABI_SIGCHLD   17
#define ABI_SIGCONT   18
#define ABI_SIGSTOP   19
#define ABI_SIGTSTP   20
#define ABI_SIGTTIN   21
#define ABI_SIGTTOU   22
#define ABI_SIGURG    23
#define ABI_SIGXCPU   24
#define ABI_SIGXFSZ   25
#define ABI_SIGVTALRM 26
#define ABI_SIGPROF   27
#define ABI_SIGWINCH  28
#define ABI_SIGIO     29
#define ABI_SIGPOLL   ABI_SIGIO
#define ABI_SIGPWR    30
#define ABI_SIGSYS    31
#define ABI_SIGRTMIN  32
#define ABI_SIGRTMAX  64
#define ABI_NSIG      64

/* Bit for signal sig (1-based) in an abi_sigset_t. */
#define ABI_SIGMASK(sig) (UINT64_C(1) << ((sig)-1))

/* sa_flags */
#define ABI_SA_NOCLDSTOP      0x00000001u
#define ABI_SA_NOCLDWAIT      0x00000002u
#define ABI_SA_SIGINFO        0x00000004u
#define ABI_SA_UNSUPPORTED    0x00000400u
#define ABI_SA_EXPOSE_TAGBITS 0x00000800u
#define ABI_SA_RESTORER       0x04000000u
#define ABI_SA_ONSTACK        0x08000000u
#define ABI_SA_RESTART        0x10000000u
#define ABI_SA_NODEFER        0x40000000u
#define ABI_SA_RESETHAND      0x80000000u

#define ABI_SIG_DFL 0
#define ABI_SIG_IGN 1
#define ABI_SIG_ERR ((uint64_t)-1)

/* rt_sigprocmask how */
#define ABI_SIG_BLOCK   0
#define ABI_SIG_UNBLOCK 1
#define ABI_SIG_SETMASK 2

/* The kernel's sigset is 64 bits on x86-64; rt_sigprocmask insists sigsetsize == 8. */
typedef uint64_t abi_sigset_t;

/* Layout rt_sigaction reads and writes (not glibc's struct sigaction). */
struct abi_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    abi_sigset_t mask;
};
_Static_assert(sizeof(struct abi_sigaction) == 32, "kernel sigaction layout");

/* stack_t */
struct abi_stack {
    uint64_t ss_sp;
    int32_t ss_flags;
    int32_t pad;
    uint64_t ss_size;
};
_Static_assert(sizeof(struct abi_stack) == 24, "stack_t layout");

#define ABI_SS_ONSTACK    1
#define ABI_SS_DISABLE    2
#define ABI_SS_AUTODISARM (1u << 31)
#define ABI_SS_FLAG_BITS  ABI_SS_AUTODISARM
#define ABI_MINSIGSTKSZ   2048
#define ABI_SIGSTKSZ      8192

/* sigval: an int or a pointer, 8 bytes either way. */
union abi_sigval {
    int32_t sival_int;
    uint64_t sival_ptr;
};

/*
 * siginfo_t: three ints, then a union that starts at offset 16 because its
 * members hold 64-bit values. The whole thing is always 128 bytes. The union's
 * fields drop the si_ prefix on purpose: glibc defines si_pid, si_addr and the
 * like as macros, which would break any file that includes <signal.h> too.
 */
struct abi_siginfo {
    int32_t si_signo;
    int32_t si_errno;
    int32_t si_code;
    int32_t pad0;
    union {
        uint8_t raw[112];
        struct { /* kill, tkill, SI_USER */
            int32_t pid;
            uint32_t uid;
        } kill;
        struct { /* POSIX timers */
            int32_t tid;
            int32_t overrun;
            union abi_sigval value;
            int32_t sys_private;
        } timer;
        struct { /* sigqueue, mq_notify */
            int32_t pid;
            uint32_t uid;
            union abi_sigval value;
        } rt;
        struct { /* SIGCHLD */
            int32_t pid;
            uint32_t uid;
            int32_t status;
            int32_t pad;
            int64_t utime;
            int64_t stime;
        } sigchld;
        struct { /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
            uint64_t addr;
            int16_t addr_lsb;
            int16_t pad[3];
            union {
                struct {
                    uint64_t lower;
                    uint64_t upper;
                } bnd;
                uint32_t pkey;
            } u;
        } fault;
        struct { /* SIGIO / SIGPOLL */
            int64_t band;
            int32_t fd;
        } poll;
        struct { /* SIGSYS from seccomp */
            uint64_t call_addr;
            int32_t syscall;
            uint32_t arch;
        } sigsys;
    } u;
};
_Static_assert(sizeof(struct abi_siginfo) == 128, "siginfo_t is 128 bytes");

/* si_code: generic (sent by a process or the kernel) */
#define ABI_SI_USER     0
#define ABI_SI_KERNEL   0x80
#define ABI_SI_QUEUE    (-1)
#define ABI_SI_TIMER    (-2)
#define ABI_SI_MESGQ    (-3)
#define ABI_SI_ASYNCIO  (-4)
#define ABI_SI_SIGIO    (-5)
#define ABI_SI_TKILL    (-6)
#define ABI_SI_DETHREAD (-7)
#define ABI_SI_ASYNCNL  (-60)

/* SIGILL */
#define ABI_ILL_ILLOPC   1
#define ABI_ILL_ILLOPN   2
#define ABI_ILL_ILLADR   3
#define ABI_ILL_ILLTRP   4
#define ABI_ILL_PRVOPC   5
#define ABI_ILL_PRVREG   6
#define ABI_ILL_COPROC   7
#define ABI_ILL_BADSTK   8
#define ABI_ILL_BADIADDR 9

/* SIGFPE */
#define ABI_FPE_INTDIV   1
#define ABI_FPE_INTOVF   2
#define ABI_FPE_FLTDIV   3
#define ABI_FPE_FLTOVF   4
#define ABI_FPE_FLTUND   5
#define ABI_FPE_FLTRES   6
#define ABI_FPE_FLTINV   7
#define ABI_FPE_FLTSUB   8
#define ABI_FPE_FLTUNK   14
#define ABI_FPE_CONDTRAP 15

/* SIGSEGV */
#define ABI_SEGV_MAPERR 1
#define ABI_SEGV_ACCERR 2
#define ABI_SEGV_BNDERR 3
#define ABI_SEGV_PKUERR 4

/* SIGBUS */
#define ABI_BUS_ADRALN    1
#define ABI_BUS_ADRERR    2
#define ABI_BUS_OBJERR    3
#define ABI_BUS_MCEERR_AR 4
#define ABI_BUS_MCEERR_AO 5

/* SIGTRAP */
#define ABI_TRAP_BRKPT  1
#define ABI_TRAP_TRACE  2
#define ABI_TRAP_BRANCH 3
#define ABI_TRAP_HWBKPT 4
#define ABI_TRAP_UNK    5
#define ABI_TRAP_PERF   6

/* SIGCHLD */
#define ABI_CLD_EXITED    1
#define ABI_CLD_KILLED    2
#define ABI_CLD_DUMPED    3
#define ABI_CLD_TRAPPED   4
#define ABI_CLD_STOPPED   5
#define ABI_CLD_CONTINUED 6

/* SIGIO / SIGPOLL */
#define ABI_POLL_IN  1
#define ABI_POLL_OUT 2
#define ABI_POLL_MSG 3
#define ABI_POLL_ERR 4
#define ABI_POLL_PRI 5
#define ABI_POLL_HUP 6

/* SIGSYS */
#define ABI_SYS_SECCOMP       1
#define ABI_SYS_USER_DISPATCH 2

/* struct sigevent: how a POSIX timer (or mq_notify) notifies. */
#define ABI_SIGEV_SIGNAL    0
#define ABI_SIGEV_NONE      1
#define ABI_SIGEV_THREAD    2
#define ABI_SIGEV_THREAD_ID 4
struct abi_sigevent {
    union abi_sigval sigev_value;
    int32_t sigev_signo;
    int32_t sigev_notify;
    union {
        int32_t pad[12];
        int32_t tid; /* ABI_SIGEV_THREAD_ID */
        struct {     /* ABI_SIGEV_THREAD: libc's business, unused by the kernel */
            uint64_t function;
            uint64_t attribute;
        } thread;
    } un;
};
_Static_assert(sizeof(struct abi_sigevent) == 64, "sigevent is 64 bytes");
/* The most overruns timer_getoverrun and si_overrun report (INT_MAX). */
#define ABI_DELAYTIMER_MAX 0x7fffffff

/* What SIG_DFL does for a signal. */
enum abi_sig_default {
    ABI_SIGDFL_TERM,
    ABI_SIGDFL_CORE,
    ABI_SIGDFL_IGN,
    ABI_SIGDFL_STOP,
    ABI_SIGDFL_CONT,
};

/* "SIGINT" for 2, "SIGRT_3" for 35 ("SIGRTMIN"/"SIGRTMAX" at the ends); NULL if out of range. */
const char *abi_signal_name(int sig);
/* Default action; real-time and unknown signals terminate. */
enum abi_sig_default abi_signal_default(int sig);

#endif
