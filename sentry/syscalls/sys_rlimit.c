/* Resource limits: getrlimit, setrlimit, prlimit64, and the RLIMIT_FSIZE
 * check the write, truncate and allocate paths share. */
#include <string.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/kernel/cred.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

/* Linux's fs.nr_open default: RLIMIT_NOFILE's hard limit may not pass it. */
#define NR_OPEN_MAX 1048576

/* prlimit on another process: the caller's real ids must be all of the
 * target's ids, or the caller holds CAP_SYS_RESOURCE. */
static bool may_prlimit(const struct task *t, const struct task *target)
{
    if (t == target)
        return true;
    const struct task_creds *c = &t->creds, *tc = &target->creds;
    bool ids = c->uid == tc->uid && c->uid == tc->euid && c->uid == tc->suid && c->gid == tc->gid &&
               c->gid == tc->egid && c->gid == tc->sgid;
    return ids || cred_capable(c, ABI_CAP_SYS_RESOURCE);
}

/* The common part: new (if any) replaces the limit once allowed, the old
 * value goes to *old (if any). The caller did the copies. */
static int64_t do_prlimit(struct task *t, struct task *target, uint64_t res,
                          const struct abi_rlimit *nl, struct abi_rlimit *old)
{
    if (res >= ABI_RLIM_NLIMITS)
        return -ABI_EINVAL;
    struct abi_rlimit *cur = &target->rlimits[res];
    if (nl) {
        if (nl->rlim_cur > nl->rlim_max)
            return -ABI_EINVAL;
        if (res == ABI_RLIMIT_NOFILE && nl->rlim_max > NR_OPEN_MAX)
            return -ABI_EPERM;
        if (nl->rlim_max > cur->rlim_max && !cred_capable(&t->creds, ABI_CAP_SYS_RESOURCE))
            return -ABI_EPERM;
    }
    if (old)
        *old = *cur;
    if (nl) {
        *cur = *nl;
        if (res == ABI_RLIMIT_STACK)
            mm_set_stack_limit(target->mm, nl->rlim_cur);
    }
    return 0;
}

int64_t sys_prlimit64(struct task *t, const uint64_t a[6])
{
    struct abi_rlimit nl, old;
    if (a[2] && mm_copy_in(t->mm, &nl, a[2], sizeof(nl)) != 0)
        return -ABI_EFAULT;
    int32_t pid = (int32_t)a[0];
    struct task *target = t;
    if (pid != 0) {
        target = kernel_tid_lookup(t->k, pid);
        if (!target)
            return -ABI_ESRCH;
        if (!may_prlimit(t, target))
            return -ABI_EPERM;
    }
    int64_t err = do_prlimit(t, target, a[1], a[2] ? &nl : NULL, a[3] ? &old : NULL);
    if (err)
        return err;
    /* As on Linux, a new limit stays set even when the old one cannot be
     * written back. */
    if (a[3] && mm_copy_out(t->mm, a[3], &old, sizeof(old)) != 0)
        return -ABI_EFAULT;
    return 0;
}

int64_t sys_getrlimit(struct task *t, const uint64_t a[6])
{
    struct abi_rlimit old;
    int64_t err = do_prlimit(t, t, a[0], NULL, &old);
    if (err)
        return err;
    return mm_copy_out(t->mm, a[1], &old, sizeof(old)) ? -ABI_EFAULT : 0;
}

int64_t sys_setrlimit(struct task *t, const uint64_t a[6])
{
    struct abi_rlimit nl;
    if (mm_copy_in(t->mm, &nl, a[1], sizeof(nl)) != 0)
        return -ABI_EFAULT;
    return do_prlimit(t, t, a[0], &nl, NULL);
}

static void send_sigxfsz(struct task *t)
{
    struct abi_siginfo info;
    memset(&info, 0, sizeof(info));
    info.si_signo = ABI_SIGXFSZ;
    info.si_code = ABI_SI_USER;
    info.u.kill.pid = t->pid;
    info.u.kill.uid = t->creds.uid;
    signal_send(t, &info);
}

int64_t sys_fsize_write_check(struct task *t, struct vfs_file *f, int64_t pos, uint64_t *count)
{
    uint64_t limit = t->rlimits[ABI_RLIMIT_FSIZE].rlim_cur;
    if (limit == ABI_RLIM_INFINITY || *count == 0 || !f->dentry || !vfs_is_reg(f->dentry->inode))
        return 0;
    if (pos < 0 || (f->flags & ABI_O_APPEND)) {
        struct abi_stat st;
        if (f->flags & ABI_O_APPEND) {
            if (!f->ops->stat || f->ops->stat(f, &st) != 0)
                return 0;
            pos = st.st_size;
        } else {
            pos = f->pos;
        }
    }
    if ((uint64_t)pos >= limit) {
        send_sigxfsz(t);
        return -ABI_EFBIG;
    }
    if (*count > limit - (uint64_t)pos)
        *count = limit - (uint64_t)pos;
    return 0;
}

int64_t sys_fsize_size_check(struct task *t, int64_t new_size, int64_t old_size)
{
    uint64_t limit = t->rlimits[ABI_RLIMIT_FSIZE].rlim_cur;
    if (new_size <= old_size || limit == ABI_RLIM_INFINITY || (uint64_t)new_size <= limit)
        return 0;
    send_sigxfsz(t);
    return -ABI_EFBIG;
}
