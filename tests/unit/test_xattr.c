/* In-memory extended attributes (sentry/fs/mem_xattr.c): the per-inode
 * limit and the limit over all inodes, which keeps a guest from growing
 * the Sentry's heap by putting attributes on every file of a tmpfs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "abi/errno.h"
#include "sentry/fs/mem_xattr.h"

enum { VALUE = 60000, NINODES = 2 * MEM_XATTR_TOTAL_BYTES / MEM_XATTR_MAX_BYTES };

static unsigned char value[VALUE];

/* Fills x up to its own limit; the number of entries set, and in *err the
 * error that stopped it. */
static int fill(struct mem_xattrs *x, int *err)
{
    char name[32];
    for (int i = 0;; i++) {
        snprintf(name, sizeof(name), "user.v%d", i);
        *err = mem_xattr_set(x, name, value, sizeof(value), 0);
        if (*err)
            return i;
    }
}

Test(xattr, per_inode_limit)
{
    struct mem_xattrs x = {0};
    int err;
    int n = fill(&x, &err);
    cr_assert_eq(err, -ABI_ENOSPC);
    cr_assert_eq(n, MEM_XATTR_MAX_BYTES / (VALUE + 9));
    cr_assert_eq(mem_xattr_remove(&x, "user.v0"), 0);
    cr_assert_eq(mem_xattr_set(&x, "user.v0", value, sizeof(value), 0), 0, "room again");
    mem_xattr_free(&x);
}

Test(xattr, total_limit_over_inodes)
{
    struct mem_xattrs *xs = calloc(NINODES, sizeof(*xs));
    cr_assert_not_null(xs);
    int err = 0, full = -1;
    size_t bytes = 0;
    for (int i = 0; i < NINODES && full < 0; i++) {
        fill(&xs[i], &err);
        bytes += xs[i].bytes;
        cr_assert_eq(err, -ABI_ENOSPC);
        if (xs[i].bytes + VALUE + 9 <= MEM_XATTR_MAX_BYTES)
            full = i; /* stopped early: the total limit, not the inode's */
    }
    cr_assert_geq(full, 0, "the total limit stops a guest before %d inodes", NINODES);
    cr_assert_leq(bytes, MEM_XATTR_TOTAL_BYTES);
    /* An empty inode gets nothing either, until another lets go. */
    struct mem_xattrs fresh = {0};
    cr_assert_eq(mem_xattr_set(&fresh, "user.a", value, sizeof(value), 0), -ABI_ENOSPC);
    mem_xattr_free(&xs[0]);
    cr_assert_eq(mem_xattr_set(&fresh, "user.a", value, sizeof(value), 0), 0);
    /* Replacing a value by one of the same size needs no new room. */
    cr_assert_eq(mem_xattr_set(&xs[1], "user.v0", value, sizeof(value), 0), 0);
    mem_xattr_free(&fresh);
    for (int i = 0; i <= full; i++)
        mem_xattr_free(&xs[i]);
    free(xs);
}
