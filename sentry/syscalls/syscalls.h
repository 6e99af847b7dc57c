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
SYS(prctl);
SYS(prlimit64);
SYS(getrlimit);
SYS(setrlimit);
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

#undef SYS
#endif
