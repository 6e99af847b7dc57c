/* Credential transitions (sentry/kernel/cred.c): id changes with Linux's
 * permission rules and capability fix-ups, capset, the bounding and
 * ambient sets, securebits, exec. */
#include <criterion/criterion.h>

#include "abi/errno.h"
#include "sentry/kernel/cred.h"

#define K      CRED_KEEP_ID
#define BIT(c) ABI_CAP_BIT(ABI_CAP_##c)

static struct task_creds root(void)
{
    struct task_creds c = {0};
    cred_init_root(&c);
    return c;
}

Test(cred, root_starts_with_the_container_default_set)
{
    struct task_creds c = root();
    cr_assert_eq(c.cap_effective, CRED_DEFAULT_CAPS);
    cr_assert_eq(c.cap_permitted, CRED_DEFAULT_CAPS);
    cr_assert_eq(c.cap_bounding, CRED_DEFAULT_CAPS);
    cr_assert_eq(c.cap_inheritable, 0);
    cr_assert_eq(c.cap_ambient, 0);
    cr_assert(cred_capable(&c, ABI_CAP_DAC_OVERRIDE));
    cr_assert(cred_capable(&c, ABI_CAP_SETUID));
    cr_assert(!cred_capable(&c, ABI_CAP_SYS_ADMIN));
    cr_assert(!cred_capable(&c, ABI_CAP_SYS_NICE));
    cr_assert(!cred_capable(&c, ABI_CAP_DAC_READ_SEARCH));
    cr_assert(!cred_capable(&c, 64));
    cr_assert(!cred_capable(&c, -1));
    cr_assert_eq(c.dumpable, 1);
}

Test(cred, setresuid_away_from_root_and_back_through_saved_uid)
{
    struct task_creds c = root();
    cr_assert_eq(cred_setresuid(&c, K, 1000, K), 0);
    cr_assert_eq(c.euid, 1000);
    cr_assert_eq(c.fsuid, 1000);
    cr_assert_eq(c.uid, 0);
    cr_assert_eq(c.suid, 0);
    /* Effective set cleared, permitted kept (real and saved uid are 0). */
    cr_assert_eq(c.cap_effective, 0);
    cr_assert_eq(c.cap_permitted, CRED_DEFAULT_CAPS);
    cr_assert_eq(cred_setresuid(&c, K, 0, K), 0);
    cr_assert_eq(c.cap_effective, CRED_DEFAULT_CAPS);
}

Test(cred, leaving_root_entirely_drops_every_capability)
{
    struct task_creds c = root();
    c.cap_inheritable = BIT(KILL);
    c.cap_ambient = BIT(KILL);
    cr_assert_eq(cred_setuid(&c, 1000), 0);
    cr_assert_eq(c.uid, 1000);
    cr_assert_eq(c.suid, 1000);
    cr_assert_eq(c.cap_permitted, 0);
    cr_assert_eq(c.cap_effective, 0);
    cr_assert_eq(c.cap_ambient, 0);
    cr_assert_eq(cred_setuid(&c, 0), -ABI_EPERM);
    cr_assert_eq(cred_setresuid(&c, 0, K, K), -ABI_EPERM);
    cr_assert_eq(cred_setuid(&c, K), -ABI_EINVAL);
}

Test(cred, keepcaps_keeps_permitted_not_effective_nor_ambient)
{
    struct task_creds c = root();
    c.cap_inheritable = BIT(KILL);
    c.cap_ambient = BIT(KILL);
    cr_assert_eq(cred_set_keepcaps(&c, 1), 0);
    cr_assert_eq(cred_setresuid(&c, 1000, 1000, 1000), 0);
    cr_assert_eq(c.cap_permitted, CRED_DEFAULT_CAPS);
    cr_assert_eq(c.cap_effective, 0);
    cr_assert_eq(c.cap_ambient, 0);
    cr_assert_eq(cred_set_keepcaps(&c, 2), -ABI_EINVAL);
}

Test(cred, unprivileged_setreuid_rules)
{
    struct task_creds c = root();
    cr_assert_eq(cred_setresuid(&c, 1000, 1001, 1002), 0);
    cr_assert_eq(c.cap_effective, 0);
    /* The real uid may become the effective one; the effective one any of
     * the three. */
    cr_assert_eq(cred_setreuid(&c, 1001, K), 0);
    cr_assert_eq(c.uid, 1001);
    cr_assert_eq(c.suid, 1001); /* the real uid was set: saved = effective */
    cr_assert_eq(cred_setreuid(&c, 1002, K), -ABI_EPERM);
    cr_assert_eq(cred_setreuid(&c, K, 5), -ABI_EPERM);
}

Test(cred, setreuid_saved_uid_follows_only_when_euid_differs_from_old_ruid)
{
    struct task_creds c = root();
    cr_assert_eq(cred_setresuid(&c, 0, 0, 7), 0);
    cr_assert_eq(cred_setreuid(&c, K, 0), 0);
    cr_assert_eq(c.suid, 7);
    cr_assert_eq(cred_setreuid(&c, K, 8), 0);
    cr_assert_eq(c.suid, 8);
}

Test(cred, setfsuid_drops_and_restores_the_fs_capabilities)
{
    struct task_creds c = root();
    cr_assert_eq(cred_setfsuid(&c, 1000), 0);
    cr_assert_eq(c.fsuid, 1000);
    cr_assert(!cred_capable(&c, ABI_CAP_DAC_OVERRIDE));
    cr_assert(!cred_capable(&c, ABI_CAP_CHOWN));
    cr_assert(!cred_capable(&c, ABI_CAP_MKNOD));
    cr_assert(cred_capable(&c, ABI_CAP_SETUID));
    cr_assert(cred_capable(&c, ABI_CAP_KILL));
    cr_assert_eq(cred_setfsuid(&c, K), 1000);
    cr_assert_eq(cred_setfsuid(&c, 0), 1000);
    cr_assert(cred_capable(&c, ABI_CAP_DAC_OVERRIDE));
    cr_assert_eq(c.cap_effective, CRED_DEFAULT_CAPS);
}

Test(cred, unprivileged_setfsuid_is_silently_refused)
{
    struct task_creds c = root();
    cr_assert_eq(cred_setresuid(&c, 5, 5, 5), 0);
    cr_assert_eq(cred_setfsuid(&c, 9), 5);
    cr_assert_eq(c.fsuid, 5);
}

Test(cred, gid_changes_need_setgid)
{
    struct task_creds c = root();
    cr_assert_eq(cred_setresgid(&c, 10, 20, 30), 0);
    cr_assert_eq(c.fsgid, 20);
    c.cap_effective &= ~BIT(SETGID);
    cr_assert_eq(cred_setgid(&c, 40), -ABI_EPERM);
    cr_assert_eq(cred_setgid(&c, 30), 0); /* the saved gid */
    cr_assert_eq(c.egid, 30);
    cr_assert_eq(c.gid, 10);
    cr_assert_eq(cred_setregid(&c, K, 99), -ABI_EPERM);
    uint32_t g = 1;
    cr_assert_eq(cred_set_groups(&c, &g, 1), -ABI_EPERM);
    cr_assert_eq(cred_setfsgid(&c, 99), 30);
    cr_assert_eq(c.fsgid, 30);
}

Test(cred, groups_are_sorted_and_bounded)
{
    struct task_creds c = root();
    uint32_t g[] = {30, 10, 20};
    cr_assert_eq(cred_set_groups(&c, g, 3), 0);
    cr_assert_eq(c.ngroups, 3);
    cr_assert_eq(c.groups[0], 10);
    cr_assert_eq(c.groups[2], 30);
    cr_assert(cred_in_group(&c, 20));
    cr_assert(!cred_in_group(&c, 21));
    cr_assert_eq(cred_set_groups(&c, g, ABI_NGROUPS_MAX + 1), -ABI_EINVAL);
    struct task_creds d;
    cr_assert_eq(cred_copy(&d, &c), 0);
    cr_assert_neq(d.groups, c.groups);
    cr_assert_eq(d.groups[1], 20);
    cred_release(&d);
    cred_release(&c);
}

Test(cred, capset_rules)
{
    struct task_creds c = root();
    uint64_t all = CRED_DEFAULT_CAPS;
    /* Permitted never grows, effective stays inside permitted. */
    cr_assert_eq(cred_capset(&c, all, all | BIT(SYS_ADMIN), 0), -ABI_EPERM);
    cr_assert_eq(cred_capset(&c, all | BIT(SYS_ADMIN), all, 0), -ABI_EPERM);
    /* Inheritable is bounded by the bounding set even with CAP_SETPCAP. */
    cr_assert_eq(cred_capset(&c, all, all, BIT(SYS_ADMIN)), -ABI_EPERM);
    cr_assert_eq(cred_capset(&c, all & ~BIT(KILL), all, BIT(KILL)), 0);
    cr_assert(!cred_capable(&c, ABI_CAP_KILL));
    cr_assert_eq(cred_capset(&c, all, all, BIT(KILL)), 0);
    cr_assert(cred_capable(&c, ABI_CAP_KILL));
    /* Dropping from permitted is for good. */
    cr_assert_eq(cred_capset(&c, all & ~BIT(NET_RAW), all & ~BIT(NET_RAW), 0), 0);
    cr_assert_eq(cred_capset(&c, all, all, 0), -ABI_EPERM);
}

Test(cred, capset_without_setpcap_bounds_inheritable_by_permitted)
{
    struct task_creds c = root();
    uint64_t p = CRED_DEFAULT_CAPS & ~BIT(SETPCAP) & ~BIT(KILL);
    cr_assert_eq(cred_capset(&c, p, p, 0), 0);
    cr_assert_eq(cred_capset(&c, p, p, BIT(KILL)), -ABI_EPERM);
    cr_assert_eq(cred_capset(&c, p, p, BIT(CHOWN)), 0);
}

Test(cred, ambient_set)
{
    struct task_creds c = root();
    cr_assert_eq(cred_ambient(&c, ABI_PR_CAP_AMBIENT_RAISE, ABI_CAP_KILL, 0, 0), -ABI_EPERM);
    cr_assert_eq(cred_capset(&c, c.cap_effective, c.cap_permitted, BIT(KILL)), 0);
    cr_assert_eq(cred_ambient(&c, ABI_PR_CAP_AMBIENT_RAISE, ABI_CAP_KILL, 0, 0), 0);
    cr_assert_eq(cred_ambient(&c, ABI_PR_CAP_AMBIENT_IS_SET, ABI_CAP_KILL, 0, 0), 1);
    cr_assert_eq(cred_ambient(&c, ABI_PR_CAP_AMBIENT_IS_SET, 99, 0, 0), -ABI_EINVAL);
    cr_assert_eq(cred_ambient(&c, ABI_PR_CAP_AMBIENT_IS_SET, ABI_CAP_KILL, 1, 0), -ABI_EINVAL);
    cr_assert_eq(cred_ambient(&c, 77, ABI_CAP_KILL, 0, 0), -ABI_EINVAL);
    /* Lowering inheritable takes it out of ambient. */
    cr_assert_eq(cred_capset(&c, c.cap_effective, c.cap_permitted, 0), 0);
    cr_assert_eq(c.cap_ambient, 0);
    cr_assert_eq(cred_ambient(&c, ABI_PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0), -ABI_EINVAL);
    cr_assert_eq(cred_ambient(&c, ABI_PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 0);
}

Test(cred, bounding_set_drop)
{
    struct task_creds c = root();
    cr_assert_eq(cred_capbset_drop(&c, ABI_CAP_MKNOD), 0);
    cr_assert_eq(c.cap_bounding & BIT(MKNOD), 0);
    cr_assert(cred_capable(&c, ABI_CAP_MKNOD)); /* effective untouched */
    cr_assert_eq(cred_capbset_drop(&c, ABI_CAP_LAST_CAP + 1), -ABI_EINVAL);
    c.cap_effective &= ~BIT(SETPCAP);
    cr_assert_eq(cred_capbset_drop(&c, ABI_CAP_KILL), -ABI_EPERM);
}

Test(cred, securebits_and_their_locks)
{
    struct task_creds c = root();
    cr_assert_eq(cred_set_securebits(&c, ABI_SECBIT_KEEP_CAPS | ABI_SECBIT_KEEP_CAPS_LOCKED), 0);
    cr_assert_eq(cred_set_keepcaps(&c, 0), -ABI_EPERM);
    /* A locked bit cannot change, a lock cannot be released. */
    cr_assert_eq(cred_set_securebits(&c, ABI_SECBIT_KEEP_CAPS_LOCKED), -ABI_EPERM);
    cr_assert_eq(cred_set_securebits(&c, ABI_SECBIT_KEEP_CAPS), -ABI_EPERM);
    cr_assert_eq(cred_set_securebits(&c, ABI_SECBIT_KEEP_CAPS | ABI_SECBIT_KEEP_CAPS_LOCKED |
                                             ABI_SECBIT_NOROOT),
                 0);
    cr_assert_eq(cred_set_securebits(&c, 1u << 12), -ABI_EPERM);
    c.cap_effective &= ~BIT(SETPCAP);
    cr_assert_eq(cred_set_securebits(&c, c.securebits), -ABI_EPERM);
}

Test(cred, exec_as_root_gets_bounding_as_permitted)
{
    struct task_creds c = root();
    cr_assert_eq(cred_capset(&c, 0, BIT(KILL), 0), 0);
    cr_assert_eq(cred_set_keepcaps(&c, 1), 0);
    cred_exec(&c);
    cr_assert_eq(c.cap_permitted, c.cap_bounding);
    cr_assert_eq(c.cap_effective, c.cap_bounding);
    cr_assert_eq(c.securebits & ABI_SECBIT_KEEP_CAPS, 0);
}

Test(cred, exec_with_no_new_privs_grants_nothing_new)
{
    struct task_creds c = root();
    cr_assert_eq(cred_capset(&c, BIT(KILL), BIT(KILL), 0), 0);
    c.no_new_privs = true;
    cred_exec(&c);
    cr_assert_eq(c.cap_permitted, BIT(KILL));
    cr_assert_eq(c.cap_effective, BIT(KILL));
}

Test(cred, exec_as_non_root_keeps_only_ambient)
{
    struct task_creds c = root();
    cr_assert_eq(cred_capset(&c, c.cap_effective, c.cap_permitted, BIT(NET_RAW)), 0);
    cr_assert_eq(cred_set_keepcaps(&c, 1), 0);
    cr_assert_eq(cred_setresuid(&c, 1000, 1000, 1000), 0);
    cr_assert_eq(cred_ambient(&c, ABI_PR_CAP_AMBIENT_RAISE, ABI_CAP_NET_RAW, 0, 0), 0);
    cred_exec(&c);
    cr_assert_eq(c.cap_permitted, BIT(NET_RAW));
    cr_assert_eq(c.cap_effective, BIT(NET_RAW));
    cr_assert_eq(c.cap_ambient, BIT(NET_RAW));
    cr_assert_eq(c.suid, 1000);
}

Test(cred, exec_with_mixed_ids_is_not_dumpable)
{
    struct task_creds c = root();
    cr_assert_eq(cred_setresuid(&c, 1000, 0, 0), 0);
    cred_exec(&c);
    cr_assert_eq(c.dumpable, 0);
    cr_assert_eq(c.suid, 0);
    cr_assert_eq(c.cap_effective, CRED_DEFAULT_CAPS);
}

Test(cred, noroot_exec_gives_root_nothing)
{
    struct task_creds c = root();
    cr_assert_eq(cred_set_securebits(&c, ABI_SECBIT_NOROOT), 0);
    cred_exec(&c);
    cr_assert_eq(c.cap_permitted, 0);
    cr_assert_eq(c.cap_effective, 0);
}

Test(cred, same_owner)
{
    struct task_creds a = root(), b = root();
    cr_assert(cred_same_owner(&a, &b, ABI_CAP_SYS_NICE));
    cr_assert_eq(cred_setresuid(&b, 5, 5, 5), 0);
    cr_assert(!cred_same_owner(&a, &b, ABI_CAP_SYS_NICE));
    cr_assert(cred_same_owner(&a, &b, ABI_CAP_KILL));
}
