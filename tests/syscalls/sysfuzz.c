/* Random syscalls with hostile arguments, for the Sentry's robustness: run
 * only inside the sandbox (tests/e2e/sysfuzz.sh), where whatever happens to
 * this process, the Sentry must answer every call and report an ordinary
 * guest exit, never crash. The guest may well kill itself (munmap of its own
 * code, a garbage FS base): that is a normal outcome.
 *
 * usage: sysfuzz SEED [ITERATIONS]
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The calls the sandbox implements, minus those that end the process or can
 * block forever (sleeps, futex waits, reads from a terminal). */
static const long calls[] = {
    SYS_read,
    SYS_write,
    SYS_readv,
    SYS_writev,
    SYS_pread64,
    SYS_pwrite64,
    SYS_close,
    SYS_lseek,
    SYS_ioctl,
    SYS_fstat,
    SYS_newfstatat,
    SYS_mmap,
    SYS_munmap,
    SYS_mprotect,
    SYS_mremap,
    SYS_brk,
    SYS_madvise,
    SYS_mincore,
    SYS_msync,
    SYS_getpid,
    SYS_gettid,
    SYS_getppid,
    SYS_getuid,
    SYS_geteuid,
    SYS_getgid,
    SYS_getegid,
    SYS_getgroups,
    SYS_set_tid_address,
    SYS_set_robust_list,
    SYS_get_robust_list,
    SYS_arch_prctl,
    SYS_prctl,
    SYS_prlimit64,
    SYS_getrlimit,
    SYS_setrlimit,
    SYS_uname,
    SYS_getrandom,
    SYS_sched_yield,
    SYS_sched_getaffinity,
    SYS_getcpu,
    SYS_clock_gettime,
    SYS_clock_getres,
    SYS_gettimeofday,
    SYS_time,
    SYS_rt_sigaction,
    SYS_rt_sigprocmask,
    SYS_sigaltstack,
    /* files: the served root (read-only), /tmp (the sandbox's tmpfs) */
    SYS_open,
    SYS_openat,
    SYS_openat2,
    SYS_creat,
    SYS_dup,
    SYS_dup2,
    SYS_dup3,
    SYS_fcntl,
    SYS_close_range,
    SYS_stat,
    SYS_lstat,
    SYS_statx,
    SYS_access,
    SYS_faccessat2,
    SYS_readlink,
    SYS_statfs,
    SYS_fstatfs,
    SYS_getdents64,
    SYS_mkdir,
    SYS_mkdirat,
    SYS_rmdir,
    SYS_unlink,
    SYS_unlinkat,
    SYS_rename,
    SYS_renameat2,
    SYS_link,
    SYS_symlink,
    SYS_mknod,
    SYS_chdir,
    SYS_fchdir,
    SYS_getcwd,
    SYS_umask,
    SYS_chmod,
    SYS_fchmod,
    SYS_chown,
    SYS_fchown,
    SYS_utimensat,
    SYS_truncate,
    SYS_ftruncate,
    SYS_fsync,
    SYS_fdatasync,
    SYS_sync,
    SYS_syncfs,
    SYS_flock,
    SYS_fallocate,
    SYS_fadvise64,
    SYS_readahead,
    SYS_sendfile,
    SYS_copy_file_range,
    SYS_getxattr,
    SYS_lgetxattr,
    SYS_fgetxattr,
    SYS_setxattr,
    SYS_fsetxattr,
    SYS_listxattr,
    SYS_flistxattr,
    SYS_removexattr,
    SYS_fremovexattr,
    SYS_sysinfo,
    SYS_mknodat,
    SYS_linkat,
    SYS_symlinkat,
    SYS_readlinkat,
    SYS_fchmodat,
    SYS_fchownat,
    SYS_chroot,
    /* Processes, IPC and friends, made non-blocking below where they could
     * wait forever. */
    SYS_pipe2,
    SYS_socketpair,
    SYS_eventfd2,
    SYS_epoll_create1,
    SYS_epoll_ctl,
    SYS_epoll_wait,
    SYS_poll,
    SYS_signalfd4,
    SYS_timerfd_create,
    SYS_timerfd_settime,
    SYS_timerfd_gettime,
    SYS_pidfd_open,
    SYS_shmget,
    SYS_shmat,
    SYS_shmdt,
    SYS_shmctl,
    SYS_semget,
    SYS_semctl,
    SYS_msgget,
    SYS_msgctl,
    SYS_setpgid,
    SYS_getpgid,
    SYS_setsid,
    SYS_getsid,
    SYS_sigaltstack,
    SYS_rt_sigpending,
    SYS_prctl,
    SYS_getpriority,
    SYS_setpriority,
    SYS_times,
    SYS_getrusage,
    SYS_capget,
    SYS_capset,
    SYS_sched_setaffinity,
    /* and some it does not: ENOSYS paths */
    SYS_socket,
    SYS_clone,
    SYS_execve,
    SYS_kill,
    SYS_mount,
    SYS_ptrace,
    1000,
    -1,
};

static uint64_t state;

static uint64_t next(void)
{
    /* xorshift64*: deterministic per seed, so a failure can be replayed. */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

/* Scratch memory in a mapping of its own, between unmapped guard pages, so
 * that a call writing past it faults instead of corrupting libc's data. */
static char *scratch;
#define SCRATCH_SIZE 65536

/* Real paths, so that file calls get past the path walk: the overlay root
 * and the Gofer below it, /proc's magic links and generated files, devices,
 * sysfs, xattr names. */
static const char *const paths[] = {
    "/etc/os-release",
    "/etc",
    "/",
    "/tmp",
    "/tmp/fz",
    "/tmp/fz/a",
    "/tmp/fz/b",
    "/tmp/l",
    ".",
    "..",
    "/usr/bin",
    "/proc",
    "/dev",
    "fz",
    "/bin/sh",
    "/nonexistent/x",
    "/proc/self/fd/3",
    "/proc/self/fd/5",
    "/proc/self/cwd",
    "/proc/self/root/etc",
    "/proc/self/exe",
    "/proc/self/maps",
    "/proc/self/fdinfo/4",
    "/proc/1/status",
    "/proc/sys/kernel/hostname",
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/console",
    "/dev/fd/6",
    "/dev/shm",
    "/sys/devices/system/cpu/online",
    "user.moat",
    "trusted.x",
};

static uint64_t arg(void *region)
{
    switch (next() % 16) {
    case 14:
        return (uint64_t)paths[next() % (sizeof(paths) / sizeof(paths[0]))];
    case 15:
        return 3 + next() % 8; /* fds the calls above may have opened */
    case 0:
        return 0;
    case 1:
        return (uint64_t)-1;
    case 2:
        return next() % 64;
    case 3:
        return next() % 4096;
    case 4:
        return 0xffff800000000000ULL + (next() % 4096);
    case 5:
        return (uint64_t)scratch + next() % SCRATCH_SIZE;
    case 6:
        return (uint64_t)region + (next() % 16) * 4096;
    case 7:
        return next();
    case 8:
        return (uint64_t)region + 16 * 4096 - next() % 64; /* runs off the region's end */
    case 9:
        return 1ULL << (next() % 64);
    case 10:
        return (uint64_t)region + (next() % 16) * 4096 + next() % 4096;
    case 11:
        return 0x7e0000000000ULL + (next() % 8192); /* where moat's stub lives */
    case 12:
        return next() % 3; /* stdio fds */
    default:
        return 4096 * (next() % 1024);
    }
}

int main(int argc, char **argv)
{
    state = argc > 1 ? strtoull(argv[1], NULL, 0) * 2654435761ULL + 1 : 1;
    long iterations = argc > 2 ? strtol(argv[2], NULL, 0) : 3000;
    void *region =
        mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *guarded =
        mmap(NULL, SCRATCH_SIZE + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || guarded == MAP_FAILED)
        return 2;
    scratch = guarded + 4096;
    if (mprotect(scratch, SCRATCH_SIZE, PROT_READ | PROT_WRITE) != 0)
        return 2;
    /* Open files of every kind first, so that fd arguments 3.. reach them:
     * a file and a directory served by the Gofer, a file on tmpfs. */
    syscall(SYS_mkdir, "/tmp/fz", 0755);
    syscall(SYS_open, "/etc/os-release", O_RDONLY);
    syscall(SYS_open, "/etc", O_RDONLY | O_DIRECTORY);
    syscall(SYS_open, "/tmp/fz/a", O_RDWR | O_CREAT, 0644);
    syscall(SYS_open, "/proc/self/maps", O_RDONLY);
    syscall(SYS_open, "/dev/zero", O_RDWR);
    syscall(SYS_open, "/sys/devices/system/cpu/online", O_RDONLY);
    syscall(SYS_open, "/proc/self/fd", O_RDONLY | O_DIRECTORY);
    for (long i = 0; i < iterations; i++) {
        long nr = calls[next() % (sizeof(calls) / sizeof(calls[0]))];
        uint64_t a[6];
        for (int k = 0; k < 6; k++)
            a[k] = arg(region);
        /* A write to stdout of a huge random buffer would only be noise. */
        if ((nr == SYS_write || nr == SYS_pwrite64) && a[0] < 3)
            a[2] %= 64;
        if (nr == SYS_sendfile && a[0] < 3)
            a[0] += 3;
        if (nr == SYS_copy_file_range && a[2] < 3)
            a[2] += 3;
        /* Calls that reshape memory aim at the fuzzer's own region, so that
         * most runs survive long enough to exercise everything else. */
        if (nr == SYS_munmap || nr == SYS_mprotect || nr == SYS_mremap || nr == SYS_madvise ||
            nr == SYS_msync || (nr == SYS_mmap && (a[3] & MAP_FIXED)))
            a[0] = (uint64_t)region + (next() % 16) * 4096;
        if (nr == SYS_mremap && (a[3] & MREMAP_FIXED))
            a[4] = (uint64_t)region + (next() % 16) * 4096;
        /* The report goes to stdout at the end. */
        if ((nr == SYS_close || nr == SYS_close_range) && a[0] < 3)
            a[0] += 3;
        if ((nr == SYS_dup2 || nr == SYS_dup3) && a[1] < 3)
            a[1] += 3;
        /* Nothing may wait forever: new pipes, sockets and event files are
         * non-blocking and stay so, and waits do not wait. */
        if (nr == SYS_pipe2 || nr == SYS_eventfd2 || nr == SYS_signalfd4 ||
            nr == SYS_timerfd_create)
            a[nr == SYS_pipe2 || nr == SYS_eventfd2 ? 1
              : nr == SYS_signalfd4                 ? 3
                                                    : 1] |= O_NONBLOCK;
        if (nr == SYS_socketpair)
            a[1] |= O_NONBLOCK; /* SOCK_NONBLOCK */
        if (nr == SYS_fcntl && a[1] == F_SETFL)
            a[2] |= O_NONBLOCK;
        if (nr == SYS_ioctl && a[1] == 0x5421) /* FIONBIO */
            a[1] = 0x541B;                     /* FIONREAD */
        if (nr == SYS_epoll_wait || nr == SYS_poll)
            a[nr == SYS_poll ? 2 : 3] = 0;
        /* A garbage FS base ends the run at the next TLS access. */
        if (nr == SYS_arch_prctl && a[0] == 0x1002)
            a[0] = 0x1003;
        syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
    static const char done[] = "sysfuzz done\n";
    if (write(1, done, sizeof(done) - 1) < 0)
        return 3;
    /* Not exit(): libc's own state may have been scribbled on. */
    syscall(SYS_exit_group, 0);
    return 0;
}
