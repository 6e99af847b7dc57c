/* User and group ids, supplementary groups, capget and capset: argument
 * copies around sentry/kernel/cred.c. */
#include <stdlib.h>

#include "abi/cred.h"
#include "abi/errno.h"
#include "sentry/kernel/cred.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

int64_t sys_setuid(struct task *t, const uint64_t a[6])
{
    return cred_setuid(&t->creds, (uint32_t)a[0]);
}

int64_t sys_setgid(struct task *t, const uint64_t a[6])
{
    return cred_setgid(&t->creds, (uint32_t)a[0]);
}

int64_t sys_setreuid(struct task *t, const uint64_t a[6])
{
    return cred_setreuid(&t->creds, (uint32_t)a[0], (uint32_t)a[1]);
}

int64_t sys_setregid(struct task *t, const uint64_t a[6])
{
    return cred_setregid(&t->creds, (uint32_t)a[0], (uint32_t)a[1]);
}

int64_t sys_setresuid(struct task *t, const uint64_t a[6])
{
    return cred_setresuid(&t->creds, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
}

int64_t sys_setresgid(struct task *t, const uint64_t a[6])
{
    return cred_setresgid(&t->creds, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
}

int64_t sys_setfsuid(struct task *t, const uint64_t a[6])
{
    return cred_setfsuid(&t->creds, (uint32_t)a[0]);
}

int64_t sys_setfsgid(struct task *t, const uint64_t a[6])
{
    return cred_setfsgid(&t->creds, (uint32_t)a[0]);
}

/* getresuid/getresgid: three separate copies, in order, as Linux's put_user
 * calls (the first bad pointer stops it, earlier ones are written). */
static int64_t put_three(struct task *t, const uint64_t a[6], uint32_t r, uint32_t e, uint32_t s)
{
    uint32_t v[3] = {r, e, s};
    for (int i = 0; i < 3; i++) {
        if (mm_copy_out(t->mm, a[i], &v[i], sizeof(v[i])) != 0)
            return -ABI_EFAULT;
    }
    return 0;
}

int64_t sys_getresuid(struct task *t, const uint64_t a[6])
{
    const struct task_creds *c = &t->creds;
    return put_three(t, a, c->uid, c->euid, c->suid);
}

int64_t sys_getresgid(struct task *t, const uint64_t a[6])
{
    const struct task_creds *c = &t->creds;
    return put_three(t, a, c->gid, c->egid, c->sgid);
}

int64_t sys_setgroups(struct task *t, const uint64_t a[6])
{
    int32_t n = (int32_t)a[0];
    /* The permission comes before the size, as on Linux. */
    if (!cred_capable(&t->creds, ABI_CAP_SETGID))
        return -ABI_EPERM;
    if ((uint32_t)n > ABI_NGROUPS_MAX)
        return -ABI_EINVAL;
    uint32_t *groups = NULL;
    if (n > 0) {
        groups = malloc((size_t)n * sizeof(uint32_t));
        if (!groups)
            return -ABI_ENOMEM;
        if (mm_copy_in(t->mm, groups, a[1], (size_t)n * sizeof(uint32_t)) != 0) {
            free(groups);
            return -ABI_EFAULT;
        }
    }
    int err = cred_set_groups(&t->creds, groups, (uint32_t)n);
    free(groups);
    return err;
}

/* The header's version: the number of 32-bit words per set, or, for an
 * unknown version, -EINVAL after telling the caller the preferred one
 * (which is how libcap probes). */
static int cap_words(struct task *t, uint64_t hdr_addr, const struct abi_cap_header *hdr)
{
    switch (hdr->version) {
    case ABI_LINUX_CAPABILITY_VERSION_1:
        return 1;
    case ABI_LINUX_CAPABILITY_VERSION_2:
    case ABI_LINUX_CAPABILITY_VERSION_3:
        return 2;
    default: {
        uint32_t v = ABI_LINUX_CAPABILITY_VERSION_3;
        if (mm_copy_out(t->mm, hdr_addr, &v, sizeof(v)) != 0)
            return -ABI_EFAULT;
        return -ABI_EINVAL;
    }
    }
}

int64_t sys_capget(struct task *t, const uint64_t a[6])
{
    struct abi_cap_header hdr;
    if (mm_copy_in(t->mm, &hdr, a[0], sizeof(hdr)) != 0)
        return -ABI_EFAULT;
    int words = cap_words(t, a[0], &hdr);
    /* A NULL data pointer only probes the version: an unknown one is no
     * error then. */
    if (!a[1])
        return words == -ABI_EFAULT ? words : 0;
    if (words < 0)
        return words;
    if (hdr.pid < 0)
        return -ABI_EINVAL;
    const struct task_creds *c = &t->creds;
    if (hdr.pid != 0 && hdr.pid != t->tid) {
        struct task *target = kernel_tid_lookup(t->k, hdr.pid);
        if (!target)
            return -ABI_ESRCH;
        c = &target->creds;
    }
    struct abi_cap_data data[2];
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(c->cap_effective >> (32 * i));
        data[i].permitted = (uint32_t)(c->cap_permitted >> (32 * i));
        data[i].inheritable = (uint32_t)(c->cap_inheritable >> (32 * i));
    }
    if (mm_copy_out(t->mm, a[1], data, (size_t)words * sizeof(data[0])) != 0)
        return -ABI_EFAULT;
    return 0;
}

int64_t sys_capset(struct task *t, const uint64_t a[6])
{
    struct abi_cap_header hdr;
    if (mm_copy_in(t->mm, &hdr, a[0], sizeof(hdr)) != 0)
        return -ABI_EFAULT;
    int words = cap_words(t, a[0], &hdr);
    if (words < 0)
        return words;
    /* Only the caller's own capabilities may be set. */
    if (hdr.pid != 0 && hdr.pid != t->tid)
        return -ABI_EPERM;
    struct abi_cap_data data[2] = {{0, 0, 0}, {0, 0, 0}};
    if (mm_copy_in(t->mm, data, a[1], (size_t)words * sizeof(data[0])) != 0)
        return -ABI_EFAULT;
    uint64_t e = data[0].effective | (uint64_t)data[1].effective << 32;
    uint64_t p = data[0].permitted | (uint64_t)data[1].permitted << 32;
    uint64_t i = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
    return cred_capset(&t->creds, e, p, i);
}
