/* Credentials and capabilities: Linux's rules for id changes (with the
 * capability fix-ups commoncap applies to them), capset, the bounding and
 * ambient sets, securebits, and the recomputation at exec. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/kernel/cred.h"

#define KEEP CRED_KEEP_ID

void cred_init_root(struct task_creds *c)
{
    free(c->groups);
    memset(c, 0, sizeof(*c));
    c->cap_bounding = c->cap_permitted = c->cap_effective = CRED_DEFAULT_CAPS;
    c->dumpable = ABI_SUID_DUMP_USER;
}

bool cred_capable(const struct task_creds *c, int cap)
{
    return cap >= 0 && cap <= ABI_CAP_LAST_CAP && (c->cap_effective & ABI_CAP_BIT(cap));
}

static bool secure(const struct task_creds *c, uint32_t bit)
{
    return c->securebits & bit;
}

void cred_exec(struct task_creds *c)
{
    uint64_t old_permitted = c->cap_permitted;
    uint64_t permitted = 0;
    bool effective = false;
    if (!secure(c, ABI_SECBIT_NOROOT)) {
        /* Root runs every program as if it had all file capabilities. */
        if (c->euid == 0 || c->uid == 0)
            permitted = c->cap_bounding | c->cap_inheritable;
        if (c->euid == 0)
            effective = true;
    }
    /* no_new_privs: an exec never grants what the task did not have. */
    if (c->no_new_privs && (permitted & ~old_permitted))
        permitted &= old_permitted;
    c->suid = c->fsuid = c->euid;
    c->sgid = c->fsgid = c->egid;
    c->cap_permitted = permitted | c->cap_ambient;
    c->cap_effective = effective ? c->cap_permitted : c->cap_ambient;
    c->securebits &= ~ABI_SECBIT_KEEP_CAPS;
    c->dumpable =
        (c->euid == c->uid && c->egid == c->gid) ? ABI_SUID_DUMP_USER : ABI_SUID_DUMP_DISABLE;
}

int cred_copy(struct task_creds *dst, const struct task_creds *src)
{
    *dst = *src;
    dst->groups = NULL;
    if (src->ngroups) {
        dst->groups = malloc(src->ngroups * sizeof(uint32_t));
        if (!dst->groups) {
            dst->ngroups = 0;
            return -ABI_ENOMEM;
        }
        memcpy(dst->groups, src->groups, src->ngroups * sizeof(uint32_t));
    }
    return 0;
}

void cred_release(struct task_creds *c)
{
    free(c->groups);
    c->groups = NULL;
    c->ngroups = 0;
}

/* What a change of the real, effective and saved uids does to the
 * capability sets (commoncap's set*uid fix-up). */
static void fix_caps_after_setuid(struct task_creds *c, const struct task_creds *old)
{
    if (secure(c, ABI_SECBIT_NO_SETUID_FIXUP))
        return;
    bool had_root = old->uid == 0 || old->euid == 0 || old->suid == 0;
    bool has_root = c->uid == 0 || c->euid == 0 || c->suid == 0;
    if (had_root && !has_root) {
        if (!secure(c, ABI_SECBIT_KEEP_CAPS)) {
            c->cap_permitted = 0;
            c->cap_effective = 0;
        }
        /* Ambient capabilities never survive leaving root. */
        c->cap_ambient = 0;
    }
    if (old->euid == 0 && c->euid != 0)
        c->cap_effective = 0;
    if (old->euid != 0 && c->euid == 0)
        c->cap_effective = c->cap_permitted;
}

/* The same for a change of fsuid alone. */
static void fix_caps_after_setfsuid(struct task_creds *c, uint32_t old_fsuid)
{
    if (secure(c, ABI_SECBIT_NO_SETUID_FIXUP))
        return;
    if (old_fsuid == 0 && c->fsuid != 0)
        c->cap_effective &= ~CRED_FS_CAPS;
    if (old_fsuid != 0 && c->fsuid == 0)
        c->cap_effective |= c->cap_permitted & CRED_FS_CAPS;
}

static bool is_one_of(uint32_t id, uint32_t a, uint32_t b, uint32_t c)
{
    return id == a || id == b || id == c;
}

int cred_setuid(struct task_creds *c, uint32_t uid)
{
    if (uid == KEEP)
        return -ABI_EINVAL;
    struct task_creds old = *c;
    if (cred_capable(c, ABI_CAP_SETUID)) {
        c->uid = c->suid = uid;
    } else if (uid != c->uid && uid != c->suid) {
        return -ABI_EPERM;
    }
    c->euid = c->fsuid = uid;
    fix_caps_after_setuid(c, &old);
    return 0;
}

int cred_setreuid(struct task_creds *c, uint32_t ruid, uint32_t euid)
{
    struct task_creds old = *c;
    bool cap = cred_capable(c, ABI_CAP_SETUID);
    if (ruid != KEEP && !cap && ruid != old.uid && ruid != old.euid)
        return -ABI_EPERM;
    if (euid != KEEP && !cap && !is_one_of(euid, old.uid, old.euid, old.suid))
        return -ABI_EPERM;
    if (ruid != KEEP)
        c->uid = ruid;
    if (euid != KEEP)
        c->euid = euid;
    /* The saved uid follows a new effective uid whenever the real uid was
     * set or the effective one now differs from the old real uid. */
    if (ruid != KEEP || (euid != KEEP && euid != old.uid))
        c->suid = c->euid;
    c->fsuid = c->euid;
    fix_caps_after_setuid(c, &old);
    return 0;
}

int cred_setresuid(struct task_creds *c, uint32_t ruid, uint32_t euid, uint32_t suid)
{
    struct task_creds old = *c;
    /* Asking for what is already there changes nothing, not even fsuid. */
    if ((ruid == KEEP || ruid == old.uid) && (euid == KEEP || euid == old.euid) &&
        (suid == KEEP || suid == old.suid))
        return 0;
    if (!cred_capable(c, ABI_CAP_SETUID)) {
        if (ruid != KEEP && !is_one_of(ruid, old.uid, old.euid, old.suid))
            return -ABI_EPERM;
        if (euid != KEEP && !is_one_of(euid, old.uid, old.euid, old.suid))
            return -ABI_EPERM;
        if (suid != KEEP && !is_one_of(suid, old.uid, old.euid, old.suid))
            return -ABI_EPERM;
    }
    if (ruid != KEEP)
        c->uid = ruid;
    if (euid != KEEP)
        c->euid = euid;
    if (suid != KEEP)
        c->suid = suid;
    c->fsuid = c->euid;
    fix_caps_after_setuid(c, &old);
    return 0;
}

uint32_t cred_setfsuid(struct task_creds *c, uint32_t fsuid)
{
    uint32_t old = c->fsuid;
    if (fsuid == KEEP || fsuid == old)
        return old;
    if (is_one_of(fsuid, c->uid, c->euid, c->suid) || cred_capable(c, ABI_CAP_SETUID)) {
        c->fsuid = fsuid;
        fix_caps_after_setfsuid(c, old);
    }
    return old;
}

int cred_setgid(struct task_creds *c, uint32_t gid)
{
    if (gid == KEEP)
        return -ABI_EINVAL;
    if (cred_capable(c, ABI_CAP_SETGID))
        c->gid = c->sgid = gid;
    else if (gid != c->gid && gid != c->sgid)
        return -ABI_EPERM;
    c->egid = c->fsgid = gid;
    return 0;
}

int cred_setregid(struct task_creds *c, uint32_t rgid, uint32_t egid)
{
    struct task_creds old = *c;
    bool cap = cred_capable(c, ABI_CAP_SETGID);
    if (rgid != KEEP && !cap && rgid != old.gid && rgid != old.egid)
        return -ABI_EPERM;
    if (egid != KEEP && !cap && !is_one_of(egid, old.gid, old.egid, old.sgid))
        return -ABI_EPERM;
    if (rgid != KEEP)
        c->gid = rgid;
    if (egid != KEEP)
        c->egid = egid;
    if (rgid != KEEP || (egid != KEEP && egid != old.gid))
        c->sgid = c->egid;
    c->fsgid = c->egid;
    return 0;
}

int cred_setresgid(struct task_creds *c, uint32_t rgid, uint32_t egid, uint32_t sgid)
{
    if ((rgid == KEEP || rgid == c->gid) && (egid == KEEP || egid == c->egid) &&
        (sgid == KEEP || sgid == c->sgid))
        return 0;
    if (!cred_capable(c, ABI_CAP_SETGID)) {
        if (rgid != KEEP && !is_one_of(rgid, c->gid, c->egid, c->sgid))
            return -ABI_EPERM;
        if (egid != KEEP && !is_one_of(egid, c->gid, c->egid, c->sgid))
            return -ABI_EPERM;
        if (sgid != KEEP && !is_one_of(sgid, c->gid, c->egid, c->sgid))
            return -ABI_EPERM;
    }
    if (rgid != KEEP)
        c->gid = rgid;
    if (egid != KEEP)
        c->egid = egid;
    if (sgid != KEEP)
        c->sgid = sgid;
    c->fsgid = c->egid;
    return 0;
}

uint32_t cred_setfsgid(struct task_creds *c, uint32_t fsgid)
{
    uint32_t old = c->fsgid;
    if (fsgid == KEEP)
        return old;
    if (is_one_of(fsgid, c->gid, c->egid, c->sgid) || fsgid == old ||
        cred_capable(c, ABI_CAP_SETGID))
        c->fsgid = fsgid;
    return old;
}

static int cmp_gid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int cred_set_groups(struct task_creds *c, const uint32_t *groups, uint32_t n)
{
    if (!cred_capable(c, ABI_CAP_SETGID))
        return -ABI_EPERM;
    if (n > ABI_NGROUPS_MAX)
        return -ABI_EINVAL;
    uint32_t *copy = NULL;
    if (n) {
        copy = malloc(n * sizeof(uint32_t));
        if (!copy)
            return -ABI_ENOMEM;
        memcpy(copy, groups, n * sizeof(uint32_t));
        /* getgroups returns them sorted, and membership tests rely on it. */
        qsort(copy, n, sizeof(uint32_t), cmp_gid);
    }
    free(c->groups);
    c->groups = copy;
    c->ngroups = n;
    return 0;
}

int cred_capset(struct task_creds *c, uint64_t effective, uint64_t permitted, uint64_t inheritable)
{
    effective &= ABI_CAP_VALID_MASK;
    permitted &= ABI_CAP_VALID_MASK;
    inheritable &= ABI_CAP_VALID_MASK;
    /* Without CAP_SETPCAP the inheritable set may only take what is
     * already inheritable or permitted. */
    if (!cred_capable(c, ABI_CAP_SETPCAP) &&
        (inheritable & ~(c->cap_inheritable | c->cap_permitted)))
        return -ABI_EPERM;
    /* Nobody adds to the inheritable set beyond the bounding set. */
    if (inheritable & ~(c->cap_inheritable | c->cap_bounding))
        return -ABI_EPERM;
    if (permitted & ~c->cap_permitted)
        return -ABI_EPERM;
    if (effective & ~permitted)
        return -ABI_EPERM;
    c->cap_effective = effective;
    c->cap_permitted = permitted;
    c->cap_inheritable = inheritable;
    /* An ambient capability must stay both permitted and inheritable. */
    c->cap_ambient &= permitted & inheritable;
    return 0;
}

static bool cap_valid(uint64_t cap)
{
    return cap <= ABI_CAP_LAST_CAP;
}

int cred_capbset_drop(struct task_creds *c, int cap)
{
    if (cap < 0 || !cap_valid((uint64_t)cap))
        return -ABI_EINVAL;
    if (!cred_capable(c, ABI_CAP_SETPCAP))
        return -ABI_EPERM;
    c->cap_bounding &= ~ABI_CAP_BIT(cap);
    return 0;
}

int cred_ambient(struct task_creds *c, uint64_t op, uint64_t cap, uint64_t a4, uint64_t a5)
{
    if (op == ABI_PR_CAP_AMBIENT_CLEAR_ALL) {
        if (cap || a4 || a5)
            return -ABI_EINVAL;
        c->cap_ambient = 0;
        return 0;
    }
    if (!cap_valid(cap) || a4 || a5)
        return -ABI_EINVAL;
    uint64_t bit = ABI_CAP_BIT(cap);
    switch (op) {
    case ABI_PR_CAP_AMBIENT_IS_SET:
        return (c->cap_ambient & bit) != 0;
    case ABI_PR_CAP_AMBIENT_RAISE:
        if (!(c->cap_permitted & bit) || !(c->cap_inheritable & bit) ||
            secure(c, ABI_SECBIT_NO_CAP_AMBIENT_RAISE))
            return -ABI_EPERM;
        c->cap_ambient |= bit;
        return 0;
    case ABI_PR_CAP_AMBIENT_LOWER:
        c->cap_ambient &= ~bit;
        return 0;
    default:
        return -ABI_EINVAL;
    }
}

int cred_set_securebits(struct task_creds *c, uint64_t bits)
{
    uint32_t old = c->securebits;
    uint32_t locks = old & ABI_SECURE_ALL_LOCKS;
    /* A locked bit may not change, a lock may not be released, no unknown
     * bit may be set, and only CAP_SETPCAP changes anything at all. */
    if (((locks >> 1) & (old ^ bits)) || (locks & ~bits) ||
        (bits & ~(uint64_t)(ABI_SECURE_ALL_BITS | ABI_SECURE_ALL_LOCKS)) ||
        !cred_capable(c, ABI_CAP_SETPCAP))
        return -ABI_EPERM;
    c->securebits = (uint32_t)bits;
    return 0;
}

int cred_set_keepcaps(struct task_creds *c, uint64_t on)
{
    if (on > 1)
        return -ABI_EINVAL;
    if (secure(c, ABI_SECBIT_KEEP_CAPS_LOCKED))
        return -ABI_EPERM;
    if (on)
        c->securebits |= ABI_SECBIT_KEEP_CAPS;
    else
        c->securebits &= ~ABI_SECBIT_KEEP_CAPS;
    return 0;
}

bool cred_in_group(const struct task_creds *c, uint32_t gid)
{
    if (gid == c->fsgid)
        return true;
    for (uint32_t i = 0; i < c->ngroups; i++) {
        if (c->groups[i] == gid)
            return true;
    }
    return false;
}

bool cred_same_owner(const struct task_creds *c, const struct task_creds *target, int cap)
{
    return target->uid == c->euid || target->euid == c->euid || cred_capable(c, cap);
}
