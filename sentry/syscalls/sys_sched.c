/* Scheduling settings: nice values (getpriority, setpriority), policies and
 * real-time priorities (sched_*), CPU affinity, personality. moat's guest
 * threads are host threads the host schedules: these calls keep Linux's
 * rules and record what the guest asked for, which later reads report. */
#include <string.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/types.h"
#include "sentry/kernel/cred.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* ---- nice values ---- */

/* Lowering nice to n needs CAP_SYS_NICE unless the target's RLIMIT_NICE
 * (which counts 20 - nice) allows it. */
static bool may_nice(const struct task *t, const struct task *target, int n)
{
    return (uint64_t)(20 - n) <= target->rlimits[ABI_RLIMIT_NICE].rlim_cur ||
           cred_capable(&t->creds, ABI_CAP_SYS_NICE);
}

struct prio_walk {
    struct task *caller;
    int which;
    uint32_t who;
    bool set;
    int nice;    /* set: the new value */
    int64_t ret; /* get: the best 20 - nice so far; set: the result */
};

static void prio_one(struct prio_walk *w, struct task *p)
{
    if (!w->set) {
        int64_t v = 20 - p->settings.nice;
        if (v > w->ret)
            w->ret = v;
        return;
    }
    if (!cred_same_owner(&w->caller->creds, &p->creds, ABI_CAP_SYS_NICE)) {
        w->ret = -ABI_EPERM;
        return;
    }
    if (w->nice < p->settings.nice && !may_nice(w->caller, p, w->nice)) {
        w->ret = -ABI_EACCES;
        return;
    }
    /* One success clears "nobody found", not an earlier refusal. */
    if (w->ret == -ABI_ESRCH)
        w->ret = 0;
    p->settings.nice = w->nice;
}

/* Every thread of a process whose process group or real uid matches. */
static int prio_group(void *arg, struct task *first)
{
    struct prio_walk *w = arg;
    struct thread_group *tg = first->tg;
    for (struct task *p = tg->threads; p; p = p->tg_next) {
        bool match =
            w->which == ABI_PRIO_PGRP ? (uint32_t)tg->pgid == w->who : p->creds.uid == w->who;
        if (match && !p->exited)
            prio_one(w, p);
    }
    return 0;
}

static int64_t prio_walk(struct prio_walk *w)
{
    struct task *t = w->caller;
    w->ret = -ABI_ESRCH;
    switch (w->which) {
    case ABI_PRIO_PROCESS: {
        struct task *p = w->who ? kernel_tid_lookup(t->k, (int)w->who) : t;
        if (p)
            prio_one(w, p);
        break;
    }
    case ABI_PRIO_PGRP:
        if (!w->who)
            w->who = (uint32_t)t->tg->pgid;
        kernel_for_each_thread_group(t->k, prio_group, w);
        break;
    case ABI_PRIO_USER:
        if (!w->who)
            w->who = t->creds.uid;
        kernel_for_each_thread_group(t->k, prio_group, w);
        break;
    default:
        return -ABI_EINVAL;
    }
    return w->ret;
}

int64_t sys_getpriority(struct task *t, const uint64_t a[6])
{
    struct prio_walk w = {.caller = t, .which = (int32_t)a[0], .who = (uint32_t)a[1]};
    return prio_walk(&w);
}

int64_t sys_setpriority(struct task *t, const uint64_t a[6])
{
    int32_t nice = (int32_t)a[2];
    if (nice < ABI_MIN_NICE)
        nice = ABI_MIN_NICE;
    if (nice > ABI_MAX_NICE)
        nice = ABI_MAX_NICE;
    struct prio_walk w = {
        .caller = t, .which = (int32_t)a[0], .who = (uint32_t)a[1], .set = true, .nice = nice};
    return prio_walk(&w);
}

/* ---- policies ---- */

static bool rt_policy(int policy)
{
    return policy == ABI_SCHED_FIFO || policy == ABI_SCHED_RR;
}

static bool valid_policy(int policy)
{
    return policy == ABI_SCHED_OTHER || rt_policy(policy) || policy == ABI_SCHED_BATCH ||
           policy == ABI_SCHED_IDLE || policy == ABI_SCHED_DEADLINE;
}

/* pid 0 is the caller; others any thread. NULL: no such task. */
static struct task *sched_target(struct task *t, int32_t pid)
{
    return pid ? kernel_tid_lookup(t->k, pid) : t;
}

/* What an unprivileged caller may not do (Linux asks CAP_SYS_NICE then). */
static bool needs_sys_nice(struct task *t, struct task *p, int policy, uint32_t prio,
                           bool reset_on_fork)
{
    const struct task_settings *s = &p->settings;
    if (rt_policy(policy)) {
        uint64_t rlim = p->rlimits[ABI_RLIMIT_RTPRIO].rlim_cur;
        if (policy != s->policy && rlim == 0)
            return true;
        if (prio > (uint32_t)s->rt_priority && prio > rlim)
            return true;
    }
    if (policy == ABI_SCHED_DEADLINE)
        return true;
    /* SCHED_IDLE counts as nice 20: leaving it is lowering nice. */
    if (s->policy == ABI_SCHED_IDLE && policy != ABI_SCHED_IDLE && !may_nice(t, p, s->nice))
        return true;
    if (!cred_same_owner(&t->creds, &p->creds, ABI_CAP_SYS_NICE))
        return true;
    return s->reset_on_fork && !reset_on_fork;
}

/* policy < 0: keep the task's policy (sched_setparam). */
static int64_t set_scheduler(struct task *t, int32_t pid, int policy, uint64_t uparam)
{
    if (!uparam || pid < 0)
        return -ABI_EINVAL;
    struct abi_sched_param param;
    if (mm_copy_in(t->mm, &param, uparam, sizeof(param)) != 0)
        return -ABI_EFAULT;
    struct task *p = sched_target(t, pid);
    if (!p)
        return -ABI_ESRCH;
    bool reset_on_fork;
    if (policy < 0) {
        policy = p->settings.policy;
        reset_on_fork = p->settings.reset_on_fork;
    } else {
        reset_on_fork = policy & ABI_SCHED_RESET_ON_FORK;
        policy &= ~ABI_SCHED_RESET_ON_FORK;
        if (!valid_policy(policy))
            return -ABI_EINVAL;
    }
    uint32_t prio = (uint32_t)param.sched_priority;
    if (prio > ABI_MAX_RT_PRIO - 1)
        return -ABI_EINVAL;
    /* Real-time policies take 1..99, the others 0; SCHED_DEADLINE needs
     * sched_setattr's parameters, which this call cannot give. */
    if (policy == ABI_SCHED_DEADLINE || rt_policy(policy) != (prio != 0))
        return -ABI_EINVAL;
    if (needs_sys_nice(t, p, policy, prio, reset_on_fork) &&
        !cred_capable(&t->creds, ABI_CAP_SYS_NICE))
        return -ABI_EPERM;
    p->settings.policy = policy;
    p->settings.rt_priority = (int)prio;
    p->settings.reset_on_fork = reset_on_fork;
    return 0;
}

int64_t sys_sched_setscheduler(struct task *t, const uint64_t a[6])
{
    int32_t policy = (int32_t)a[1];
    if (policy < 0)
        return -ABI_EINVAL;
    return set_scheduler(t, (int32_t)a[0], policy, a[2]);
}

int64_t sys_sched_setparam(struct task *t, const uint64_t a[6])
{
    return set_scheduler(t, (int32_t)a[0], -1, a[1]);
}

int64_t sys_sched_getscheduler(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    if (pid < 0)
        return -ABI_EINVAL;
    struct task *p = sched_target(t, pid);
    if (!p)
        return -ABI_ESRCH;
    return p->settings.policy | (p->settings.reset_on_fork ? ABI_SCHED_RESET_ON_FORK : 0);
}

int64_t sys_sched_getparam(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    if (!a[1] || pid < 0)
        return -ABI_EINVAL;
    struct task *p = sched_target(t, pid);
    if (!p)
        return -ABI_ESRCH;
    struct abi_sched_param param = {rt_policy(p->settings.policy) ? p->settings.rt_priority : 0};
    return mm_copy_out(t->mm, a[1], &param, sizeof(param)) ? -ABI_EFAULT : 0;
}

int64_t sys_sched_get_priority_max(struct task *t, const uint64_t a[6])
{
    (void)t;
    int32_t policy = (int32_t)a[0];
    if (rt_policy(policy))
        return ABI_MAX_RT_PRIO - 1;
    return valid_policy(policy) ? 0 : -ABI_EINVAL;
}

int64_t sys_sched_get_priority_min(struct task *t, const uint64_t a[6])
{
    (void)t;
    int32_t policy = (int32_t)a[0];
    if (rt_policy(policy))
        return 1;
    return valid_policy(policy) ? 0 : -ABI_EINVAL;
}

int64_t sys_sched_rr_get_interval(struct task *t, const uint64_t a[6])
{
    int32_t pid = (int32_t)a[0];
    if (pid < 0)
        return -ABI_EINVAL;
    struct task *p = sched_target(t, pid);
    if (!p)
        return -ABI_ESRCH;
    /* SCHED_RR's fixed slice; a fair task's slice (0.75 ms on current
     * kernels) rounds down to no whole tick, and FIFO has none. */
    struct abi_timespec ts = {0, 0};
    if (p->settings.policy == ABI_SCHED_RR)
        ts.tv_nsec = ABI_RR_TIMESLICE_NS;
    return mm_copy_out(t->mm, a[1], &ts, sizeof(ts)) ? -ABI_EFAULT : 0;
}

/* ---- affinity ---- */

int64_t sys_sched_setaffinity(struct task *t, const uint64_t a[6])
{
    uint64_t ncpus = (uint64_t)t->k->ncpus;
    uint64_t words = (ncpus + 63) / 64;
    uint64_t mask[16];
    memset(mask, 0, sizeof(mask));
    if (words > 16)
        words = 16;
    /* Linux reads at most its own mask size; a shorter mask is the low
     * CPUs, the rest cleared. */
    uint64_t len = a[1] < words * 8 ? a[1] : words * 8;
    if (len && mm_copy_in(t->mm, mask, a[2], (size_t)len) != 0)
        return -ABI_EFAULT;
    struct task *p = sched_target(t, (int32_t)a[0]);
    if (!p)
        return -ABI_ESRCH;
    if (!cred_same_owner(&t->creds, &p->creds, ABI_CAP_SYS_NICE))
        return -ABI_EPERM;
    bool any = false;
    for (uint64_t w = 0; w < words; w++) {
        if (w == words - 1 && ncpus % 64)
            mask[w] &= (1ULL << (ncpus % 64)) - 1;
        any |= mask[w] != 0;
    }
    if (!any)
        return -ABI_EINVAL;
    memcpy(p->settings.affinity, mask, sizeof(mask));
    p->settings.affinity_set = true;
    return 0;
}

/* ---- personality ---- */

int64_t sys_personality(struct task *t, const uint64_t a[6])
{
    /* Linux stores any value; the query value reads without changing.
     * Recorded: ADDR_NO_RANDOMIZE is for the loader to honour. */
    uint32_t old = t->settings.personality;
    if ((uint32_t)a[0] != ABI_PERSONALITY_QUERY)
        t->settings.personality = (uint32_t)a[0];
    return old;
}
