/*
 * The x86-64 syscall table: numbers, names, argument kinds (for the strace
 * printer) and how far moat supports each call. Everything is generated from
 * abi/syscalls.def, the only place a syscall number is written down.
 */
#ifndef MOAT_ABI_SYSCALL_TABLE_H
#define MOAT_ABI_SYSCALL_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum abi_support {
    ABI_SUPPORT_NONE,
    ABI_SUPPORT_PARTIAL,
    ABI_SUPPORT_FULL,
};

/* How the strace printer shows one argument. */
enum abi_argk {
    ABI_ARG_NONE,
    ABI_ARG_INT,           /* signed decimal, 32-bit */
    ABI_ARG_UINT,          /* unsigned decimal */
    ABI_ARG_HEX,           /* 0x... */
    ABI_ARG_FD,            /* decimal, 32-bit */
    ABI_ARG_PTR,           /* address, NULL for 0 */
    ABI_ARG_PATH,          /* NUL-terminated string */
    ABI_ARG_BUF_IN,        /* bytes written by the caller; length in the next arg */
    ABI_ARG_BUF_OUT,       /* filled by the call; length = return value */
    ABI_ARG_SIZE,          /* unsigned decimal, 64-bit */
    ABI_ARG_OFF,           /* signed decimal, 64-bit */
    ABI_ARG_OPEN_FLAGS,    /* O_RDONLY|O_CLOEXEC */
    ABI_ARG_MODE,          /* 0644 */
    ABI_ARG_PROT,          /* PROT_READ|PROT_WRITE */
    ABI_ARG_MMAP_FLAGS,    /* MAP_PRIVATE|MAP_ANONYMOUS */
    ABI_ARG_SIGNAL,        /* SIGINT */
    ABI_ARG_CLOCK,         /* CLOCK_MONOTONIC */
    ABI_ARG_FUTEX_OP,      /* FUTEX_WAIT_PRIVATE */
    ABI_ARG_PRCTL_OP,      /* PR_SET_NAME */
    ABI_ARG_ARCH_PRCTL_OP, /* ARCH_SET_FS */
    ABI_ARG_IOCTL_REQ,     /* TCGETS */
    ABI_ARG_TIMESPEC_IN,   /* {tv_sec=1, tv_nsec=0} */
    ABI_ARG_IOVEC_IN,      /* [{iov_base="...", iov_len=3}]; count in the next arg */
    ABI_ARG_IOVEC_OUT,     /* as IOVEC_IN, filled by the call; ret bytes in total */
    ABI_ARG_ATFD,          /* fd or AT_FDCWD */
    ABI_ARG_RLIMIT_RES,    /* RLIMIT_NOFILE */
    ABI_ARG_SIGSET_IN,     /* [INT TERM] */
    ABI_ARG_SIGSET_OUT,    /* as SIGSET_IN, printed once the call succeeded */
    ABI_ARG_TIMESPEC_OUT,  /* as TIMESPEC_IN, printed once the call succeeded */
    ABI_ARG_AT_FLAGS,      /* AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH */
    ABI_ARG_MADV,          /* MADV_DONTNEED */
    ABI_ARG_MREMAP_FLAGS,  /* MREMAP_MAYMOVE */
    ABI_ARG_SIGHOW,        /* SIG_BLOCK */
    ABI_ARG_WHENCE,        /* SEEK_SET */
    ABI_ARG_FCNTL_CMD,     /* F_SETFD */
    ABI_ARG_CLONE_FLAGS,   /* CLONE_VM|CLONE_FS|...|SIGCHLD */
    ABI_ARG_WAIT_FLAGS,    /* WNOHANG */
    ABI_ARG_ARGV,          /* ["sh", "-c", ...] */
    ABI_ARG_SIGACTION_IN,  /* {sa_handler=..., sa_mask=[...], sa_flags=...} */
    ABI_ARG_MSYNC_FLAGS,   /* MS_SYNC */
    ABI_ARG_GRND_FLAGS,    /* GRND_NONBLOCK */
    ABI_ARG_ACCESS_MODE,   /* R_OK|W_OK */
    ABI_ARG_PID,           /* signed decimal; kept apart so a pid namespace view can map it */
    ABI_ARG_PATH_OUT,      /* string filled by the call (getcwd), printed once it succeeded */
    ABI_ARG_ARGK_COUNT
};

struct abi_syscall {
    int nr;
    const char *name;
    uint8_t nargs;
    uint8_t args[6]; /* enum abi_argk */
    uint8_t support; /* enum abi_support */
    const char *note;
};

#define ABI_SYSCALL(nr, name, args, support, note) ABI_NR_##name = nr,
/* Syscall numbers: ABI_NR_read, ABI_NR_write, ... */
enum abi_nr {
#include "abi/syscalls.def"
};
#undef ABI_SYSCALL

/* Every x86-64 syscall number is below this (x32 numbers start at 512). */
#define ABI_SYSCALL_TABLE_SIZE 512

/* NULL for numbers Linux does not define on x86-64. */
const struct abi_syscall *abi_syscall(long nr);
/* NULL likewise. */
const char *abi_syscall_name(long nr);
/* -1 if unknown. */
long abi_syscall_by_name(const char *name);
/* Dense iteration in number order: i < abi_syscall_count(); NULL past the end. */
size_t abi_syscall_count(void);
const struct abi_syscall *abi_syscall_at(size_t i);

#endif
