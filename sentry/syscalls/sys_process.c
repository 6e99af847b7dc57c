/* Processes: clone, fork, vfork, execve, wait, process groups and
 * sessions, pidfds. The work is sentry/kernel's (clone.c, execve.c,
 * process.c); these copy arguments in and results out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/kernel/pidfd.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

int64_t sys_clone(struct task *t, const uint64_t a[6])
{
    /* x86-64 order: flags, stack, parent_tid, child_tid, tls. */
    struct kernel_clone_args ca = {
        .flags = a[0] & ~0xffULL,
        .exit_signal = (int)(a[0] & 0xff),
        .stack = a[1],
        .parent_tid = a[2],
        .child_tid = a[3],
        .tls = a[4],
    };
    if (ca.exit_signal > ABI_NSIG)
        return -ABI_EINVAL;
    /* clone() has one field for both: CLONE_PIDFD writes the fd there. */
    if ((ca.flags & ABI_CLONE_PIDFD) && (ca.flags & ABI_CLONE_PARENT_SETTID))
        return -ABI_EINVAL;
    ca.pidfd = a[2];
    /* Threads signal nobody on exit; CLONE_DETACHED is ignored as Linux
     * does. */
    if (ca.flags & ABI_CLONE_THREAD)
        ca.exit_signal = 0;
    ca.flags &= ~ABI_CLONE_DETACHED;
    return kernel_clone(t, &ca);
}

struct clone3_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

int64_t sys_clone3(struct task *t, const uint64_t a[6])
{
    struct clone3_args u;
    uint64_t size = a[1];
    /* The first version had 64 bytes; later fields must be zero when the
     * caller knows more than moat does. */
    if (size < 64 || size > 4096)
        return -ABI_EINVAL;
    memset(&u, 0, sizeof(u));
    if (mm_copy_in(t->mm, &u, a[0], size < sizeof(u) ? size : sizeof(u)) != 0)
        return -ABI_EFAULT;
    for (uint64_t off = sizeof(u); off < size; off += 8) {
        uint64_t extra = 0;
        size_t n = size - off < 8 ? size - off : 8;
        if (mm_copy_in(t->mm, &extra, a[0] + off, n) != 0)
            return -ABI_EFAULT;
        if (extra)
            return -ABI_E2BIG;
    }
    if (u.exit_signal > ABI_NSIG || (u.flags & ABI_CLONE_DETACHED))
        return -ABI_EINVAL;
    if ((u.flags & ABI_CLONE_THREAD) && u.exit_signal)
        return -ABI_EINVAL;
    if (u.set_tid || u.set_tid_size)
        return -ABI_EINVAL; /* choosing pids needs a pid namespace of one's own */
    if (u.flags & ABI_CLONE_INTO_CGROUP)
        return -ABI_EINVAL;
    if ((u.stack == 0) != (u.stack_size == 0))
        return -ABI_EINVAL;
    struct kernel_clone_args ca = {
        .flags = u.flags,
        .exit_signal = (int)u.exit_signal,
        .stack = u.stack,
        .stack_size = u.stack_size,
        .tls = u.tls,
        .parent_tid = u.parent_tid,
        .child_tid = u.child_tid,
        .pidfd = u.pidfd,
    };
    return kernel_clone(t, &ca);
}

int64_t sys_fork(struct task *t, const uint64_t a[6])
{
    (void)a;
    struct kernel_clone_args ca = {.exit_signal = ABI_SIGCHLD};
    return kernel_clone(t, &ca);
}

int64_t sys_vfork(struct task *t, const uint64_t a[6])
{
    (void)a;
    struct kernel_clone_args ca = {.flags = ABI_CLONE_VM | ABI_CLONE_VFORK,
                                   .exit_signal = ABI_SIGCHLD};
    return kernel_clone(t, &ca);
}

/* ---- execve ---- */

#define MAX_ARG_STRLEN (32 * 4096)

static void free_vec(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* Copy in a NULL-terminated vector of strings; *total grows by what it
 * takes on the new stack. */
static int64_t copy_vec(struct task *t, uint64_t uvec, char ***out, uint64_t *total, uint64_t limit)
{
    size_t n = 0, cap = 8;
    char **v = calloc(cap + 1, sizeof(*v));
    if (!v)
        return -ABI_ENOMEM;
    for (; uvec; n++) {
        uint64_t p;
        if (mm_copy_in(t->mm, &p, uvec + n * 8, sizeof(p)) != 0) {
            free_vec(v);
            return -ABI_EFAULT;
        }
        if (!p)
            break;
        if (n == cap) {
            char **nv = realloc(v, (cap * 2 + 1) * sizeof(*v));
            if (!nv) {
                free_vec(v);
                return -ABI_ENOMEM;
            }
            v = nv;
            cap *= 2;
        }
        char *s = malloc(MAX_ARG_STRLEN);
        if (!s) {
            free_vec(v);
            return -ABI_ENOMEM;
        }
        int64_t len = mm_copy_in_str(t->mm, s, p, MAX_ARG_STRLEN);
        if (len < 0) {
            free(s);
            free_vec(v);
            return len == -ABI_ENAMETOOLONG ? -ABI_E2BIG : len;
        }
        *total += (uint64_t)len + 1 + sizeof(uint64_t);
        if (*total > limit) {
            free(s);
            free_vec(v);
            return -ABI_E2BIG;
        }
        char *shrunk = realloc(s, (size_t)len + 1);
        v[n] = shrunk ? shrunk : s;
        v[n + 1] = NULL;
    }
    v[n] = NULL;
    *out = v;
    return 0;
}

static int64_t do_execve(struct task *t, int64_t dirfd, uint64_t upath, uint64_t uargv,
                         uint64_t uenvp, int flags)
{
    if (flags & ~(ABI_AT_EMPTY_PATH | ABI_AT_SYMLINK_NOFOLLOW))
        return -ABI_EINVAL;
    char *path = malloc(VFS_PATH_MAX);
    if (!path)
        return -ABI_ENOMEM;
    int64_t err = sys_path_in(t, upath, path);
    if (err < 0) {
        free(path);
        return err;
    }
    /* execveat with a dirfd: the path as seen from there (/dev/fd/N/path
     * in Linux's terms), which the /proc magic links resolve. */
    if (path[0] != '/' && (int32_t)dirfd != ABI_AT_FDCWD) {
        char *p2 = malloc(VFS_PATH_MAX);
        if (!p2) {
            free(path);
            return -ABI_ENOMEM;
        }
        if (path[0] == '\0') {
            if (!(flags & ABI_AT_EMPTY_PATH)) {
                free(path);
                free(p2);
                return -ABI_ENOENT;
            }
            snprintf(p2, VFS_PATH_MAX, "/proc/self/fd/%d", (int)dirfd);
        } else {
            snprintf(p2, VFS_PATH_MAX, "/proc/self/fd/%d/%s", (int)dirfd, path);
        }
        free(path);
        path = p2;
        if (!vfs_fd_lookup(t->fds, (int)dirfd)) {
            free(path);
            return -ABI_EBADF;
        }
    } else if (path[0] == '\0') {
        free(path);
        return -ABI_ENOENT;
    }
    /* Arguments and environment may fill a quarter of the stack limit, at
     * least 32 pages, as Linux allows. */
    uint64_t limit = t->rlimits[ABI_RLIMIT_STACK].rlim_cur / 4;
    if (limit < 32 * 4096)
        limit = 32 * 4096;
    if (limit > 6ULL << 20)
        limit = 6ULL << 20;
    uint64_t total = 0;
    char **argv = NULL, **envp = NULL;
    err = copy_vec(t, uargv, &argv, &total, limit);
    if (!err)
        err = copy_vec(t, uenvp, &envp, &total, limit);
    if (!err)
        err = kernel_execve(t, path, (const char *const *)argv, (const char *const *)envp);
    free_vec(argv);
    free_vec(envp);
    free(path);
    return err;
}

int64_t sys_execve(struct task *t, const uint64_t a[6])
{
    return do_execve(t, ABI_AT_FDCWD, a[0], a[1], a[2], 0);
}

int64_t sys_execveat(struct task *t, const uint64_t a[6])
{
    return do_execve(t, (int64_t)(int32_t)a[0], a[1], a[2], a[3], (int)a[4]);
}

/* ---- wait ---- */

static int put_rusage(struct task *t, uint64_t addr, const uint64_t ns[2])
{
    /* struct rusage: two timevals then 14 longs, all zero but the times. */
    int64_t ru[18];
    memset(ru, 0, sizeof(ru));
    ru[0] = (int64_t)(ns[0] / 1000000000);
    ru[1] = (int64_t)(ns[0] % 1000000000 / 1000);
    ru[2] = (int64_t)(ns[1] / 1000000000);
    ru[3] = (int64_t)(ns[1] % 1000000000 / 1000);
    return mm_copy_out(t->mm, addr, ru, sizeof(ru)) ? -ABI_EFAULT : 0;
}

int64_t sys_wait4(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    int options = (int)a[2];
    if (options & ~(ABI_WNOHANG | ABI_WUNTRACED | ABI_WCONTINUED | ABI_WNOTHREAD | ABI_WALL |
                    (int)ABI_WCLONE))
        return -ABI_EINVAL;
    if (pid == INT32_MIN)
        return -ABI_ESRCH;
    int which = ABI_P_ALL;
    int64_t id = 0;
    if (pid > 0) {
        which = ABI_P_PID;
        id = pid;
    } else if (pid == 0) {
        which = ABI_P_PGID;
        id = t->tg->pgid;
    } else if (pid < -1) {
        which = ABI_P_PGID;
        id = -(int64_t)pid;
    }
    int status = 0;
    uint64_t ru[2] = {0, 0};
    int64_t r = kernel_wait(t, which, id, options | ABI_WEXITED, &status, NULL, ru);
    if (r > 0) {
        if (a[1] && mm_copy_out(t->mm, a[1], &status, sizeof(status)) != 0)
            return -ABI_EFAULT;
        if (a[3] && put_rusage(t, a[3], ru) != 0)
            return -ABI_EFAULT;
    }
    return r;
}

int64_t sys_waitid(struct task *t, const uint64_t a[6])
{
    int which = (int)a[0];
    int64_t id = (int32_t)a[1];
    int options = (int)a[3];
    if (options & ~(ABI_WNOHANG | ABI_WSTOPPED | ABI_WEXITED | ABI_WCONTINUED | ABI_WNOWAIT |
                    ABI_WNOTHREAD | ABI_WALL | (int)ABI_WCLONE))
        return -ABI_EINVAL;
    if (!(options & (ABI_WEXITED | ABI_WSTOPPED | ABI_WCONTINUED)))
        return -ABI_EINVAL;
    switch (which) {
    case ABI_P_ALL:
        break;
    case ABI_P_PID:
        if (id <= 0)
            return -ABI_EINVAL;
        break;
    case ABI_P_PGID:
        if (id < 0)
            return -ABI_EINVAL;
        break;
    case ABI_P_PIDFD: {
        struct vfs_file *f = id >= 0 ? vfs_fd_lookup(t->fds, (int)id) : NULL;
        if (!f)
            return -ABI_EBADF;
        struct thread_group *g = kernel_pidfd_tg(f);
        if (!g)
            return -ABI_EINVAL;
        if (g->reaped)
            return -ABI_ECHILD;
        which = ABI_P_PID;
        id = g->pid;
        if (f->flags & ABI_O_NONBLOCK)
            options |= ABI_WNOHANG;
        break;
    }
    default:
        return -ABI_EINVAL;
    }
    int status = 0;
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    uint64_t ru[2] = {0, 0};
    int64_t r = kernel_wait(t, which, id, options, &status, &info, ru);
    if (r < 0)
        return r;
    /* Nothing to report with WNOHANG: a zeroed siginfo (si_pid 0). */
    if (a[2] && mm_copy_out(t->mm, a[2], &info, sizeof(info)) != 0)
        return -ABI_EFAULT;
    if (a[4] && r > 0 && put_rusage(t, a[4], ru) != 0)
        return -ABI_EFAULT;
    return 0;
}

/* ---- process groups and sessions ---- */

int64_t sys_setpgid(struct task *t, const uint64_t a[6])
{
    return kernel_setpgid(t, (int32_t)a[0], (int32_t)a[1]);
}

int64_t sys_getpgid(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    struct thread_group *g = pid == 0 ? t->tg : kernel_tg_lookup_any(t->k, pid);
    return g ? g->pgid : -ABI_ESRCH;
}

int64_t sys_getpgrp(struct task *t, const uint64_t a[6])
{
    (void)a;
    return t->tg->pgid;
}

int64_t sys_setsid(struct task *t, const uint64_t a[6])
{
    (void)a;
    return kernel_setsid(t);
}

int64_t sys_getsid(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    struct thread_group *g = pid == 0 ? t->tg : kernel_tg_lookup_any(t->k, pid);
    return g ? g->sid : -ABI_ESRCH;
}

int64_t sys_pidfd_open(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    if (a[1] & ~(uint64_t)ABI_O_NONBLOCK)
        return -ABI_EINVAL;
    if (pid <= 0)
        return -ABI_EINVAL;
    /* A zombie keeps its pid until reaped, and a pidfd of it reads as
     * exited; a tid that is no process's pid is EINVAL, as Linux. */
    struct thread_group *g = kernel_tg_lookup_any(t->k, pid);
    if (!g)
        return kernel_tid_lookup(t->k, pid) ? -ABI_EINVAL : -ABI_ESRCH;
    return kernel_pidfd_install(t, g, (uint32_t)a[1]);
}
