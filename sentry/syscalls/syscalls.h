/* Syscall dispatch: guest syscall number to handler.
 *
 * Handlers are thin: they copy arguments in, call the subsystem, copy results
 * out, and return the value for rax (a result or -errno). The table is the
 * only place that knows which numbers are implemented; abi/syscalls.def says
 * how well, and a unit test keeps the two in step.
 */
#ifndef MOAT_SENTRY_SYSCALLS_SYSCALLS_H
#define MOAT_SENTRY_SYSCALLS_SYSCALLS_H

#include <stdint.h>

#include "sentry/kernel/kernel.h"

typedef int64_t (*sys_handler)(struct task *t, const uint64_t a[6]);

/* The handler for nr, or NULL when moat does not implement it. */
sys_handler syscalls_handler(long nr);
/* Run one guest syscall: strace, ENOSYS reporting, dispatch. */
int64_t syscalls_dispatch(struct task *t, long nr, const uint64_t a[6]);

/* path_arg.c: copy in a guest path of at most VFS_PATH_MAX bytes into buf
 * (that size); its length, -EFAULT or -ENAMETOOLONG. The second also
 * refuses the empty path with -ENOENT. */
int64_t sys_path_in(struct task *t, uint64_t addr, char *buf);
int64_t sys_path_nonempty(struct task *t, uint64_t addr, char *buf);

#define SYS(name) int64_t sys_##name(struct task *t, const uint64_t a[6])

/* sys_sysinfo.c */
SYS(sysinfo);
/* sys_io.c */
SYS(read);
SYS(write);
SYS(readv);
SYS(writev);
SYS(pread64);
SYS(pwrite64);
SYS(close);
SYS(lseek);
SYS(ioctl);
/* sys_file.c */
SYS(open);
SYS(openat);
SYS(openat2);
SYS(creat);
SYS(dup);
SYS(dup2);
SYS(dup3);
SYS(fcntl);
SYS(close_range);
/* sys_stat.c */
SYS(fstat);
SYS(newfstatat);
SYS(stat);
SYS(lstat);
SYS(statx);
SYS(access);
SYS(faccessat);
SYS(faccessat2);
SYS(readlink);
SYS(readlinkat);
SYS(statfs);
SYS(fstatfs);
/* sys_dir.c */
SYS(getdents64);
SYS(mkdir);
SYS(mkdirat);
SYS(mknod);
SYS(mknodat);
SYS(rmdir);
SYS(unlink);
SYS(unlinkat);
SYS(rename);
SYS(renameat);
SYS(renameat2);
SYS(link);
SYS(linkat);
SYS(symlink);
SYS(symlinkat);
SYS(chdir);
SYS(fchdir);
SYS(chroot);
SYS(getcwd);
SYS(umask);
/* sys_attr.c */
SYS(chmod);
SYS(fchmod);
SYS(fchmodat);
SYS(chown);
SYS(lchown);
SYS(fchown);
SYS(fchownat);
SYS(utimensat);
SYS(futimesat);
SYS(utimes);
SYS(utime);
SYS(truncate);
SYS(ftruncate);
SYS(fsync);
SYS(fdatasync);
SYS(sync);
SYS(syncfs);
/* sys_mm.c */
SYS(mmap);
SYS(munmap);
SYS(mprotect);
SYS(mremap);
SYS(brk);
SYS(madvise);
SYS(mincore);
SYS(msync);
/* sys_task.c */
SYS(exit);
SYS(exit_group);
SYS(getpid);
SYS(gettid);
SYS(getppid);
SYS(getuid);
SYS(geteuid);
SYS(getgid);
SYS(getegid);
SYS(getgroups);
SYS(set_tid_address);
SYS(set_robust_list);
SYS(get_robust_list);
SYS(arch_prctl);
/* sys_cred.c */
SYS(setuid);
SYS(setgid);
SYS(setreuid);
SYS(setregid);
SYS(setresuid);
SYS(setresgid);
SYS(getresuid);
SYS(getresgid);
SYS(setfsuid);
SYS(setfsgid);
SYS(setgroups);
SYS(capget);
SYS(capset);
/* sys_prctl.c */
SYS(prctl);
/* sys_rlimit.c */
SYS(prlimit64);
SYS(getrlimit);
SYS(setrlimit);
/* RLIMIT_FSIZE for a write of *count bytes to f at pos (< 0: the file's
 * offset; O_APPEND: its end): 0 with *count cut to what fits, or -EFBIG
 * with SIGXFSZ sent to t when nothing does. Regular files only. */
struct vfs_file;
int64_t sys_fsize_write_check(struct task *t, struct vfs_file *f, int64_t pos, uint64_t *count);
/* The same for growing a file from old_size to new_size (truncate,
 * fallocate): 0 or -EFBIG with SIGXFSZ. */
int64_t sys_fsize_size_check(struct task *t, int64_t new_size, int64_t old_size);
/* sys_sched.c */
SYS(getpriority);
SYS(setpriority);
SYS(sched_setscheduler);
SYS(sched_setparam);
SYS(sched_getscheduler);
SYS(sched_getparam);
SYS(sched_get_priority_max);
SYS(sched_get_priority_min);
SYS(sched_rr_get_interval);
SYS(sched_setaffinity);
SYS(personality);
/* sys_rusage.c */
SYS(getrusage);
SYS(times);
/* sys_info.c */
SYS(uname);
SYS(getrandom);
SYS(sched_yield);
SYS(sched_getaffinity);
SYS(getcpu);
/* sys_time.c */
SYS(clock_gettime);
SYS(clock_getres);
SYS(gettimeofday);
SYS(time);
SYS(nanosleep);
SYS(clock_nanosleep);
/* sys_signal.c */
SYS(rt_sigaction);
SYS(rt_sigprocmask);
SYS(sigaltstack);
SYS(rt_sigpending);
SYS(rt_sigreturn);
SYS(kill);
SYS(tkill);
SYS(tgkill);
SYS(rt_sigqueueinfo);
SYS(pause);
SYS(signalfd);
SYS(signalfd4);
SYS(rt_tgsigqueueinfo);
SYS(rt_sigsuspend);
SYS(rt_sigtimedwait);
SYS(restart_syscall);
SYS(pidfd_send_signal);
/* sys_process.c */
SYS(clone);
SYS(clone3);
SYS(fork);
SYS(vfork);
SYS(execve);
SYS(execveat);
SYS(wait4);
SYS(waitid);
SYS(setpgid);
SYS(getpgid);
SYS(getpgrp);
SYS(setsid);
SYS(getsid);
SYS(pidfd_open);
/* sys_futex.c */
SYS(futex);
/* sys_lock.c */
SYS(flock);
/* fcntl's F_GETLK, F_SETLK(W) and their OFD forms, for sys_fcntl. */
struct vfs_file;
int64_t sys_fcntl_lock(struct task *t, struct vfs_file *f, uint32_t cmd, uint64_t arg);
/* sys_copy.c */
SYS(sendfile);
SYS(copy_file_range);
SYS(fallocate);
SYS(fadvise64);
SYS(readahead);
/* sys_xattr.c */
SYS(setxattr);
SYS(lsetxattr);
SYS(fsetxattr);
SYS(getxattr);
SYS(lgetxattr);
SYS(fgetxattr);
SYS(listxattr);
SYS(llistxattr);
SYS(flistxattr);
SYS(removexattr);
SYS(lremovexattr);
SYS(fremovexattr);
/* sys_pipe.c */
SYS(pipe);
SYS(pipe2);
/* sys_poll.c */
SYS(poll);
SYS(ppoll);
SYS(select);
SYS(pselect6);
/* sys_epoll.c */
SYS(epoll_create);
SYS(epoll_create1);
SYS(epoll_ctl);
SYS(epoll_wait);
SYS(epoll_pwait);
SYS(epoll_pwait2);
/* sys_eventfd.c */
SYS(eventfd);
SYS(eventfd2);

/* sys_ipc.c */
SYS(shmget);
SYS(shmat);
SYS(shmdt);
SYS(shmctl);
SYS(semget);
SYS(semop);
SYS(semtimedop);
SYS(semctl);
SYS(msgget);
SYS(msgsnd);
SYS(msgrcv);
SYS(msgctl);

/* sys_mqueue.c */
SYS(mq_open);
SYS(mq_unlink);
SYS(mq_timedsend);
SYS(mq_timedreceive);
SYS(mq_notify);
SYS(mq_getsetattr);

/* sys_socket.c */
SYS(socket);
SYS(socketpair);
SYS(bind);
SYS(listen);
SYS(accept);
SYS(accept4);
SYS(connect);
SYS(getsockname);
SYS(getpeername);
SYS(shutdown);
SYS(sendto);
SYS(recvfrom);
SYS(sendmsg);
SYS(recvmsg);
SYS(sendmmsg);
SYS(recvmmsg);
SYS(getsockopt);
SYS(setsockopt);
/* sys_timer.c */
SYS(alarm);
SYS(getitimer);
SYS(setitimer);
SYS(timer_create);
SYS(timer_settime);
SYS(timer_gettime);
SYS(timer_getoverrun);
SYS(timer_delete);
SYS(timerfd_create);
SYS(timerfd_settime);
SYS(timerfd_gettime);
/* A clock id as its ABI_CLOCK_* number: CPU clocks named by pid (negative
 * ids, as glibc passes them) become ABI_CLOCK_PROCESS_CPUTIME_ID or
 * _THREAD_CPUTIME_ID when they name the caller's own process or one of its
 * threads; -EINVAL for any other. Non-negative ids come back unchanged. */
int sys_clock_cpu_normalize(struct task *t, int64_t id);

#undef SYS
#endif
