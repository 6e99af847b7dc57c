/* The System V IPC id tables and permission rules (sentry/kernel/ipc/ipc.c). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "abi/errno.h"
#include "sentry/kernel/ipc/ipc_internal.h"
#include "sentry/kernel/kernel.h"

Test(ipc_ids, ids_carry_index_and_sequence)
{
    struct ipc_ids ids = {0};
    struct ipc_obj a = {0}, b = {0}, c = {0}, d = {0};
    cr_assert_eq(ipc_ids_add(&ids, &a, 10), 0);
    cr_assert_eq(ipc_ids_add(&ids, &b, 10), 0);
    cr_assert_eq(ipc_ids_add(&ids, &c, 10), 0);
    cr_expect_eq(a.id, 0);
    cr_expect_eq(b.id, 1 * ABI_IPCMNI + 1);
    cr_expect_eq(c.id, 2 * ABI_IPCMNI + 2);
    cr_expect_eq(ipc_ids_find(&ids, b.id), &b);
    cr_expect_eq(ipc_ids_max_index(&ids), 2);
    ipc_ids_remove(&ids, &b);
    cr_expect_null(ipc_ids_find(&ids, b.id));
    cr_assert_eq(ipc_ids_add(&ids, &d, 10), 0);
    /* The freed index again, under a new sequence number: the stale id
     * names nothing. */
    cr_expect_eq(d.id % ABI_IPCMNI, 1);
    cr_expect_neq(d.id, b.id);
    cr_expect_null(ipc_ids_find(&ids, b.id));
    cr_expect_eq(ipc_ids_at(&ids, 1), &d);
    cr_expect_null(ipc_ids_find(&ids, -1));
    free(ids.slots);
}

Test(ipc_ids, limit_and_keys)
{
    struct ipc_ids ids = {0};
    struct ipc_obj o[3] = {{0}};
    o[0].key = 7;
    o[1].key = 9;
    cr_assert_eq(ipc_ids_add(&ids, &o[0], 2), 0);
    cr_assert_eq(ipc_ids_add(&ids, &o[1], 2), 0);
    cr_expect_eq(ipc_ids_add(&ids, &o[2], 2), -ABI_ENOSPC);
    cr_expect_eq(ipc_ids_find_key(&ids, 9), &o[1]);
    cr_expect_null(ipc_ids_find_key(&ids, 8));
    free(ids.slots);
}

static struct task user(uint32_t uid, uint32_t gid)
{
    struct task t = {0};
    /* Root here holds every capability (CAP_IPC_OWNER and CAP_SYS_ADMIN
     * are what count); others none. */
    if (uid == 0)
        t.creds.cap_effective = t.creds.cap_permitted = ~0ULL;
    t.creds.uid = t.creds.euid = t.creds.fsuid = uid;
    t.creds.gid = t.creds.egid = t.creds.fsgid = gid;
    return t;
}

Test(ipc_perm, owner_group_other)
{
    struct ipc_obj o = {.uid = 100, .gid = 200, .cuid = 100, .cgid = 200, .mode = 0640};
    struct task owner = user(100, 1), member = user(5, 200), other = user(5, 5), root = user(0, 0);
    cr_expect_eq(ipc_perm_check(&owner, &o, 0666), 0);
    cr_expect_eq(ipc_perm_check(&member, &o, 0444), 0);
    cr_expect_eq(ipc_perm_check(&member, &o, 0666), -ABI_EACCES);
    cr_expect_eq(ipc_perm_check(&other, &o, 0444), -ABI_EACCES);
    cr_expect_eq(ipc_perm_check(&other, &o, 0), 0);
    /* A get's mode asks for those bits whatever triple they are in. */
    cr_expect_eq(ipc_perm_check(&other, &o, 0600), -ABI_EACCES);
    cr_expect_eq(ipc_perm_check(&member, &o, 0400), 0);
    cr_expect_eq(ipc_perm_check(&member, &o, 0200), -ABI_EACCES);
    cr_expect_eq(ipc_perm_check(&root, &o, 0666), 0);
    /* The creator keeps the owner's rights after IPC_SET gives it away. */
    o.uid = 300;
    cr_expect_eq(ipc_perm_check(&owner, &o, 0666), 0);
    cr_expect_eq(ipc_owner_check(&owner, &o), 0);
    cr_expect_eq(ipc_owner_check(&member, &o), -ABI_EPERM);
    cr_expect_eq(ipc_owner_check(&root, &o), 0);
}

Test(ipc_perm, set_keeps_other_mode_bits)
{
    struct ipc_obj o = {.mode = 01600};
    struct abi_ipc64_perm p = {.uid = 1, .gid = 2, .mode = 0644 | 01000 | 02000};
    ipc_perm_set(&o, &p);
    cr_expect_eq(o.mode, 01644);
    cr_expect_eq(o.uid, 1);
    cr_expect_eq(o.gid, 2);
}
