/* The dispatch table and the path every guest syscall takes. */
#include <stdio.h>

#include "abi/errno.h"
#include "abi/strace.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define E(name) [ABI_NR_##name] = sys_##name

static const sys_handler table[ABI_SYSCALL_TABLE_SIZE] = {
    E(read),
    E(write),
    E(readv),
    E(writev),
    E(pread64),
    E(pwrite64),
    E(close),
    E(lseek),
    E(ioctl),
    E(fstat),
    E(newfstatat),
    E(open),
    E(openat),
    E(openat2),
    E(creat),
    E(dup),
    E(dup2),
    E(dup3),
    E(fcntl),
    E(close_range),
    E(stat),
    E(lstat),
    E(statx),
    E(access),
    E(faccessat),
    E(faccessat2),
    E(readlink),
    E(readlinkat),
    E(statfs),
    E(fstatfs),
    E(getdents64),
    E(mkdir),
    E(mkdirat),
    E(mknod),
    E(mknodat),
    E(rmdir),
    E(unlink),
    E(unlinkat),
    E(rename),
    E(renameat),
    E(renameat2),
    E(link),
    E(linkat),
    E(symlink),
    E(symlinkat),
    E(chdir),
    E(fchdir),
    E(chroot),
    E(getcwd),
    E(umask),
    E(chmod),
    E(fchmod),
    E(fchmodat),
    E(chown),
    E(lchown),
    E(fchown),
    E(fchownat),
    E(utimensat),
    E(futimesat),
    E(utimes),
    E(utime),
    E(truncate),
    E(ftruncate),
    E(fsync),
    E(fdatasync),
    E(sync),
    E(syncfs),
    E(flock),
    E(sendfile),
    E(copy_file_range),
    E(fallocate),
    E(fadvise64),
    E(readahead),
    E(setxattr),
    E(lsetxattr),
    E(fsetxattr),
    E(getxattr),
    E(lgetxattr),
    E(fgetxattr),
    E(listxattr),
    E(llistxattr),
    E(flistxattr),
    E(removexattr),
    E(lremovexattr),
    E(fremovexattr),
    E(mmap),
    E(munmap),
    E(mprotect),
    E(mremap),
    E(brk),
    E(madvise),
    E(mincore),
    E(msync),
    E(exit),
    E(exit_group),
    E(getpid),
    E(gettid),
    E(getppid),
    E(getuid),
    E(geteuid),
    E(getgid),
    E(getegid),
    E(getgroups),
    E(set_tid_address),
    E(set_robust_list),
    E(get_robust_list),
    E(arch_prctl),
    E(prctl),
    E(prlimit64),
    E(getrlimit),
    E(setrlimit),
    E(setuid),
    E(setgid),
    E(setreuid),
    E(setregid),
    E(setresuid),
    E(setresgid),
    E(getresuid),
    E(getresgid),
    E(setfsuid),
    E(setfsgid),
    E(setgroups),
    E(capget),
    E(capset),
    E(getpriority),
    E(setpriority),
    E(sched_setscheduler),
    E(sched_setparam),
    E(sched_getscheduler),
    E(sched_getparam),
    E(sched_get_priority_max),
    E(sched_get_priority_min),
    E(sched_rr_get_interval),
    E(sched_setaffinity),
    E(personality),
    E(getrusage),
    E(times),
    E(uname),
    E(sysinfo),
    E(getrandom),
    E(sched_yield),
    E(sched_getaffinity),
    E(getcpu),
    E(clock_gettime),
    E(clock_getres),
    E(gettimeofday),
    E(time),
    E(nanosleep),
    E(clock_nanosleep),
    E(alarm),
    E(getitimer),
    E(setitimer),
    E(timer_create),
    E(timer_settime),
    E(timer_gettime),
    E(timer_getoverrun),
    E(timer_delete),
    E(timerfd_create),
    E(timerfd_settime),
    E(timerfd_gettime),
    E(rt_sigaction),
    E(rt_sigprocmask),
    E(sigaltstack),
    E(rt_sigpending),
    E(rt_sigreturn),
    E(kill),
    E(tkill),
    E(tgkill),
    E(futex),
    E(rt_sigqueueinfo),
    E(pause),
    E(signalfd),
    E(signalfd4),
    E(rt_tgsigqueueinfo),
    E(rt_sigsuspend),
    E(rt_sigtimedwait),
    E(restart_syscall),
    E(pidfd_send_signal),
    E(clone),
    E(clone3),
    E(fork),
    E(vfork),
    E(execve),
    E(execveat),
    E(wait4),
    E(waitid),
    E(setpgid),
    E(getpgid),
    E(getpgrp),
    E(setsid),
    E(getsid),
    E(pidfd_open),
    E(pipe),
    E(pipe2),
    E(poll),
    E(ppoll),
    E(select),
    E(pselect6),
    E(epoll_create),
    E(epoll_create1),
    E(epoll_ctl),
    E(epoll_wait),
    E(epoll_pwait),
    E(epoll_pwait2),
    E(eventfd),
    E(eventfd2),
    /* sys_ipc.c */
    E(shmget),
    E(shmat),
    E(shmdt),
    E(shmctl),
    E(semget),
    E(semop),
    E(semtimedop),
    E(semctl),
    E(msgget),
    E(msgsnd),
    E(msgrcv),
    E(msgctl),
    /* sys_mqueue.c */
    E(mq_open),
    E(mq_unlink),
    E(mq_timedsend),
    E(mq_timedreceive),
    E(mq_notify),
    E(mq_getsetattr),
    /* sys_socket.c */
    E(socket),
    E(socketpair),
    E(bind),
    E(listen),
    E(accept),
    E(accept4),
    E(connect),
    E(getsockname),
    E(getpeername),
    E(shutdown),
    E(sendto),
    E(recvfrom),
    E(sendmsg),
    E(recvmsg),
    E(sendmmsg),
    E(recvmmsg),
    E(getsockopt),
    E(setsockopt),
};

sys_handler syscalls_handler(long nr)
{
    if (nr < 0 || nr >= ABI_SYSCALL_TABLE_SIZE)
        return NULL;
    return table[nr];
}

static int strace_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    return mm_copy_in(((struct task *)ctx)->mm, buf, addr, len);
}

static void strace_line(struct task *t, long nr, const uint64_t a[6], bool has_ret, int64_t ret)
{
    char line[1024];
    abi_strace_format(line, sizeof(line), nr, a, has_ret, ret, strace_read, t);
    kernel_log(t->k, "[%4d] %s\n", t->tid, line);
}

/* Unimplemented calls that every program makes and that need no report:
 * ENOSYS is what a Linux kernel built without the feature answers, and libc
 * falls back without losing anything. Reporting them would only bury the
 * reports that matter. */
static bool quiet_enosys(long nr)
{
    return nr == ABI_NR_rseq;
}

int64_t syscalls_dispatch(struct task *t, long nr, const uint64_t a[6])
{
    sys_handler h = syscalls_handler(nr);
    if (!h) {
        if (!quiet_enosys(nr))
            kernel_report_enosys(t->k, nr);
        if (t->k->strace)
            strace_line(t, nr, a, true, -ABI_ENOSYS);
        return -ABI_ENOSYS;
    }
    /* exit never returns: show it before it runs. */
    bool noreturn = nr == ABI_NR_exit || nr == ABI_NR_exit_group;
    if (t->k->strace && noreturn)
        strace_line(t, nr, a, false, 0);
    int64_t ret = h(t, a);
    if (t->k->strace && !noreturn)
        strace_line(t, nr, a, true, ret);
    return ret;
}
