/* Signal names and default dispositions. */
#include "abi/signal.h"

#include <stddef.h>

struct sig_desc {
    const char *name;
    enum abi_sig_default dfl;
};

#define S(sym, dfl) [ABI_##sym] = {#sym, ABI_SIGDFL_##dfl}

static const struct sig_desc sigs[ABI_SIGRTMIN] = {
    S(SIGHUP, TERM),    S(SIGINT, TERM),  S(SIGQUIT, CORE), S(SIGILL, CORE),  S(SIGTRAP, CORE),
    S(SIGABRT, CORE),   S(SIGBUS, CORE),  S(SIGFPE, CORE),  S(SIGKILL, TERM), S(SIGUSR1, TERM),
    S(SIGSEGV, CORE),   S(SIGUSR2, TERM), S(SIGPIPE, TERM), S(SIGALRM, TERM), S(SIGTERM, TERM),
    S(SIGSTKFLT, TERM), S(SIGCHLD, IGN),  S(SIGCONT, CONT), S(SIGSTOP, STOP), S(SIGTSTP, STOP),
    S(SIGTTIN, STOP),   S(SIGTTOU, STOP), S(SIGURG, IGN),   S(SIGXCPU, CORE), S(SIGXFSZ, CORE),
    S(SIGVTALRM, TERM), S(SIGPROF, TERM), S(SIGWINCH, IGN), S(SIGIO, TERM),   S(SIGPWR, TERM),
    S(SIGSYS, CORE),
};

#undef S

/* Real-time signals have no fixed names; strace's spelling is SIGRTMIN, SIGRT_n, SIGRTMAX. */
static const char *const rt_names[ABI_SIGRTMAX - ABI_SIGRTMIN + 1] = {
    "SIGRTMIN", "SIGRT_1",  "SIGRT_2",  "SIGRT_3",  "SIGRT_4",  "SIGRT_5",  "SIGRT_6",
    "SIGRT_7",  "SIGRT_8",  "SIGRT_9",  "SIGRT_10", "SIGRT_11", "SIGRT_12", "SIGRT_13",
    "SIGRT_14", "SIGRT_15", "SIGRT_16", "SIGRT_17", "SIGRT_18", "SIGRT_19", "SIGRT_20",
    "SIGRT_21", "SIGRT_22", "SIGRT_23", "SIGRT_24", "SIGRT_25", "SIGRT_26", "SIGRT_27",
    "SIGRT_28", "SIGRT_29", "SIGRT_30", "SIGRT_31", "SIGRTMAX",
};

const char *abi_signal_name(int sig)
{
    if (sig >= 1 && sig < ABI_SIGRTMIN)
        return sigs[sig].name;
    if (sig >= ABI_SIGRTMIN && sig <= ABI_SIGRTMAX)
        return rt_names[sig - ABI_SIGRTMIN];
    return NULL;
}

enum abi_sig_default abi_signal_default(int sig)
{
    if (sig >= 1 && sig < ABI_SIGRTMIN)
        return sigs[sig].dfl;
    return ABI_SIGDFL_TERM;
}
