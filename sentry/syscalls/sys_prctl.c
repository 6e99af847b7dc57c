/* prctl(2): the task's name, dumpability, no_new_privs, the capability
 * options (bounding set, ambient set, securebits, keepcaps), timer slack
 * and THP opt-out. */
#include <string.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/kernel/cred.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

static int64_t set_name(struct task *t, uint64_t addr)
{
    /* Linux copies up to 16 bytes and always NUL-terminates at 15. */
    char name[ABI_TASK_COMM_LEN];
    memset(name, 0, sizeof(name));
    int64_t n = mm_copy_in_str(t->mm, name, addr, sizeof(name));
    if (n == -ABI_EFAULT)
        return -ABI_EFAULT;
    name[sizeof(name) - 1] = '\0';
    memcpy(t->comm, name, sizeof(t->comm));
    return 0;
}

static int64_t get_name(struct task *t, uint64_t addr)
{
    char name[ABI_TASK_COMM_LEN];
    memcpy(name, t->comm, sizeof(name));
    name[sizeof(name) - 1] = '\0';
    return mm_copy_out(t->mm, addr, name, sizeof(name)) ? -ABI_EFAULT : 0;
}

/* Options Linux knows that moat does not implement: EINVAL, reported once. */
static int64_t unimplemented(struct task *t, uint64_t option)
{
    if (option < 64 && !(t->k->prctl_reported & (1ULL << option))) {
        t->k->prctl_reported |= 1ULL << option;
        kernel_log(t->k, "moat: prctl option %llu is not implemented: returning EINVAL\n",
                   (unsigned long long)option);
    }
    return -ABI_EINVAL;
}

int64_t sys_prctl(struct task *t, const uint64_t a[6])
{
    struct task_creds *c = &t->creds;
    struct task_settings *s = &t->settings;
    switch (a[0]) {
    case ABI_PR_SET_NAME:
        return set_name(t, a[1]);
    case ABI_PR_GET_NAME:
        return get_name(t, a[1]);
    case ABI_PR_SET_PDEATHSIG:
        if (a[1] > ABI_NSIG)
            return -ABI_EINVAL;
        t->pdeath_signal = (int)a[1];
        return 0;
    case ABI_PR_GET_PDEATHSIG: {
        int32_t v = t->pdeath_signal;
        return mm_copy_out(t->mm, a[1], &v, sizeof(v)) ? -ABI_EFAULT : 0;
    }
    case ABI_PR_SET_CHILD_SUBREAPER:
        t->tg->subreaper = a[1] != 0;
        return 0;
    case ABI_PR_GET_CHILD_SUBREAPER: {
        int32_t v = t->tg->subreaper;
        return mm_copy_out(t->mm, a[1], &v, sizeof(v)) ? -ABI_EFAULT : 0;
    }
    case ABI_PR_GET_DUMPABLE:
        return c->dumpable;
    case ABI_PR_SET_DUMPABLE:
        if (a[1] != ABI_SUID_DUMP_DISABLE && a[1] != ABI_SUID_DUMP_USER)
            return -ABI_EINVAL;
        c->dumpable = (int)a[1];
        return 0;
    case ABI_PR_SET_NO_NEW_PRIVS:
        /* Sticky: it can be set, never cleared. */
        if (a[1] != 1 || a[2] || a[3] || a[4])
            return -ABI_EINVAL;
        c->no_new_privs = true;
        return 0;
    case ABI_PR_GET_NO_NEW_PRIVS:
        if (a[1] || a[2] || a[3] || a[4])
            return -ABI_EINVAL;
        return c->no_new_privs;
    case ABI_PR_CAPBSET_READ:
        if (a[1] > ABI_CAP_LAST_CAP)
            return -ABI_EINVAL;
        return (c->cap_bounding & ABI_CAP_BIT(a[1])) != 0;
    case ABI_PR_CAPBSET_DROP:
        if (a[1] > ABI_CAP_LAST_CAP)
            return -ABI_EINVAL;
        return cred_capbset_drop(c, (int)a[1]);
    case ABI_PR_CAP_AMBIENT:
        return cred_ambient(c, a[1], a[2], a[3], a[4]);
    case ABI_PR_GET_KEEPCAPS:
        return (c->securebits & ABI_SECBIT_KEEP_CAPS) != 0;
    case ABI_PR_SET_KEEPCAPS:
        return cred_set_keepcaps(c, a[1]);
    case ABI_PR_GET_SECUREBITS:
        return c->securebits;
    case ABI_PR_SET_SECUREBITS:
        return cred_set_securebits(c, a[1]);
    case ABI_PR_GET_TID_ADDRESS:
        return mm_copy_out(t->mm, a[1], &t->clear_child_tid, sizeof(uint64_t)) ? -ABI_EFAULT : 0;
    case ABI_PR_SET_TIMERSLACK:
        /* 0 restores the default. Real-time tasks have no slack to set. */
        if (s->policy == ABI_SCHED_FIFO || s->policy == ABI_SCHED_RR)
            return 0;
        s->timerslack_ns = a[1];
        return 0;
    case ABI_PR_GET_TIMERSLACK:
        return s->timerslack_ns ? (int64_t)s->timerslack_ns : ABI_DEFAULT_TIMER_SLACK_NS;
    case ABI_PR_SET_THP_DISABLE:
        if (a[2] || a[3] || a[4])
            return -ABI_EINVAL;
        s->thp_disable = a[1] != 0;
        return 0;
    case ABI_PR_GET_THP_DISABLE:
        if (a[1] || a[2] || a[3] || a[4])
            return -ABI_EINVAL;
        return s->thp_disable;
    default:
        return unimplemented(t, a[0]);
    }
}
