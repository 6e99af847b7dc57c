/* The host calls gofer_serve() makes, and nothing else. docs/gofer-protocol.md
 * carries the same table with the reason for each; keep them in step. */
#include "gofer/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/socket.h>

/* Calls allowed with any arguments. */
static const char *const any_args[] = {
    /* transport */
    "recvmsg",
    "sendmsg",
    "close",
    /* lookups and metadata on held fds */
    "openat",
    "openat2",
    "newfstatat",
    "fstat",
    "fstatfs",
    "readlinkat",
    "getdents64",
    "lseek",
    /* mutations, each relative to a held directory fd */
    "mkdirat",
    "mknodat",
    "symlinkat",
    "linkat",
    "unlinkat",
    "renameat",
    "renameat2",
    "fchownat",
    "fchmod",
    "fchmodat2",
    "utimensat",
    "ftruncate",
    "fallocate",
    "fsync",
    "fdatasync",
    /* xattrs, on reopened fds only */
    "fgetxattr",
    "fsetxattr",
    "flistxattr",
    "fremovexattr",
    /* CONNECT: working directory to the socket's parent, then back */
    "connect",
    "fchdir",
    /* the C library: memory, exit, signal return, lock waits */
    "mmap",
    "munmap",
    "mremap",
    "madvise",
    "brk",
    "futex",
    "exit",
    "exit_group",
    "rt_sigreturn",
    "restart_syscall",
    "clock_gettime",
    "getpid",
    "gettid",
    /* sanitizer builds: the alternate signal stack is torn down at exit */
    "sigaltstack",
};

int gofer_seccomp_install(bool debug)
{
    scmp_filter_ctx ctx = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return -ENOMEM;
    int err = 0;
    for (size_t i = 0; i < sizeof(any_args) / sizeof(any_args[0]) && !err; i++) {
        int nr = seccomp_syscall_resolve_name(any_args[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* a libseccomp too old to know it: stays denied */
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    /* Node duplication only: no F_SETFL, no lease or lock games. */
    if (!err)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
                               SCMP_A1(SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0));
    /* Sockets for CONNECT are unix sockets, never inet. */
    if (!err)
        err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                               SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
    if (!err)
        err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
    if (!err)
        err = seccomp_load(ctx);
    seccomp_release(ctx);
    return err;
}
