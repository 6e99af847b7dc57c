/* Advisory locks (sentry/vfs/lock.c): struct flock ranges, record-lock
 * conflicts, splitting and merging, owners, flock conversions, and the
 * fd-table hooks that release locks on close. Expectations follow Linux's
 * fs/locks.c behaviour as observed from user space. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/lock.h"

#define A ((uintptr_t)0x1000)
#define B ((uintptr_t)0x2000)

static struct vfs_inode ino;

static void setup(void)
{
    ino = (struct vfs_inode){0};
}

static void teardown(void)
{
    vfs_lock_release_owner(&ino, A);
    vfs_lock_release_owner(&ino, B);
    cr_assert_null(ino.locks, "every lock state is freed once empty");
}

TestSuite(locks, .init = setup, .fini = teardown);

static int set(uintptr_t owner, int type, int64_t start, int64_t end)
{
    struct vfs_lock_range r = {.type = type, .start = start, .end = end};
    return vfs_lock_set(&ino, owner, owner == A ? 100 : 200, &r, false);
}

/* What owner `by` sees when probing [start, end] for a write lock. */
static struct vfs_lock_range probe(uintptr_t by, int64_t start, int64_t end)
{
    struct vfs_lock_range r = {.type = ABI_F_WRLCK, .start = start, .end = end};
    vfs_lock_test(&ino, by, &r);
    return r;
}

static void expect(uintptr_t by, int64_t start, int64_t end, int type, int64_t ls, int64_t le)
{
    struct vfs_lock_range r = probe(by, start, end);
    cr_assert_eq(r.type, type, "probe [%ld,%ld]: type %d, want %d", (long)start, (long)end, r.type,
                 type);
    if (type != ABI_F_UNLCK) {
        cr_assert_eq(r.start, ls, "start %ld want %ld", (long)r.start, (long)ls);
        cr_assert_eq(r.end, le, "end %ld want %ld", (long)r.end, (long)le);
    }
}

Test(locks, resolve_whence_and_lengths)
{
    int64_t s, e;
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_SET, 10, 5, 0, 0, &s, &e), 0);
    cr_assert(s == 10 && e == 14);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_CUR, 5, 1, 100, 0, &s, &e), 0);
    cr_assert(s == 105 && e == 105);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_END, -1, 1, 0, 50, &s, &e), 0);
    cr_assert(s == 49 && e == 49);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_SET, 7, 0, 0, 0, &s, &e), 0);
    cr_assert(s == 7 && e == VFS_LOCK_EOF, "l_len 0 runs to the end");
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_SET, 100, -10, 0, 0, &s, &e), 0);
    cr_assert(s == 90 && e == 99, "negative l_len is the bytes before l_start");
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_SET, 10, -10, 0, 0, &s, &e), 0);
    cr_assert(s == 0 && e == 9);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_SET, 10, -11, 0, 0, &s, &e), -ABI_EINVAL);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_SET, -1, 1, 0, 0, &s, &e), -ABI_EINVAL);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_CUR, -11, 1, 10, 0, &s, &e), -ABI_EINVAL);
    cr_assert_eq(vfs_lock_resolve(3, 0, 0, 0, 0, &s, &e), -ABI_EINVAL);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_CUR, INT64_MAX, 1, 1, 0, &s, &e), -ABI_EOVERFLOW);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_SET, INT64_MAX, 2, 0, 0, &s, &e), -ABI_EOVERFLOW);
    cr_assert_eq(vfs_lock_resolve(ABI_SEEK_SET, INT64_MAX, 1, 0, 0, &s, &e), 0);
    cr_assert(s == INT64_MAX && e == INT64_MAX);
}

Test(locks, conflicts_need_a_writer_and_another_owner)
{
    cr_assert_eq(set(A, ABI_F_RDLCK, 0, 9), 0);
    cr_assert_eq(set(B, ABI_F_RDLCK, 5, 14), 0, "readers share");
    cr_assert_eq(set(B, ABI_F_WRLCK, 5, 14), -ABI_EAGAIN, "a writer conflicts with a reader");
    cr_assert_eq(set(B, ABI_F_WRLCK, 10, 20), 0, "no overlap with A, B's own read lock converts");
    cr_assert_eq(set(A, ABI_F_WRLCK, 0, 9), -ABI_EAGAIN, "B still reads [5,9]");
    cr_assert_eq(set(A, ABI_F_WRLCK, 0, 4), 0, "A upgrades the part B does not share");
    expect(B, 0, 4, ABI_F_WRLCK, 0, 4);
    expect(B, 5, 100, ABI_F_RDLCK, 5, 9);
    expect(A, 0, 4, ABI_F_UNLCK, 0, 0);
    expect(A, 10, 100, ABI_F_WRLCK, 10, 20);
    expect(A, 0, 9, ABI_F_RDLCK, 5, 9);
    struct vfs_lock_range r = {.type = ABI_F_WRLCK, .start = 0, .end = 0};
    cr_assert_eq(vfs_lock_set(&ino, B, 200, &r, true), -ABI_EDEADLK,
                 "a blocking request that conflicts cannot sleep yet");
}

Test(locks, unlock_splits)
{
    cr_assert_eq(set(A, ABI_F_WRLCK, 0, 99), 0);
    cr_assert_eq(set(A, ABI_F_UNLCK, 40, 59), 0);
    expect(B, 40, 59, ABI_F_UNLCK, 0, 0);
    expect(B, 0, 39, ABI_F_WRLCK, 0, 39);
    expect(B, 40, 200, ABI_F_WRLCK, 60, 99);
    cr_assert_eq(set(A, ABI_F_UNLCK, 0, 0), 0);
    expect(B, 0, 0, ABI_F_UNLCK, 0, 0);
    expect(B, 1, 39, ABI_F_WRLCK, 1, 39);
    cr_assert_eq(set(A, ABI_F_UNLCK, 99, 99), 0);
    expect(B, 60, 200, ABI_F_WRLCK, 60, 98);
}

Test(locks, same_type_merges_adjacent_and_overlapping)
{
    cr_assert_eq(set(A, ABI_F_RDLCK, 0, 9), 0);
    cr_assert_eq(set(A, ABI_F_RDLCK, 10, 19), 0);
    cr_assert_eq(set(A, ABI_F_RDLCK, 30, 39), 0);
    cr_assert_eq(set(A, ABI_F_RDLCK, 15, 32), 0);
    expect(B, 0, VFS_LOCK_EOF, ABI_F_RDLCK, 0, 39);
    /* One record left: a single unlock in the middle gives two pieces. */
    cr_assert_eq(set(A, ABI_F_UNLCK, 20, 20), 0);
    expect(B, 0, 20, ABI_F_RDLCK, 0, 19);
    expect(B, 20, VFS_LOCK_EOF, ABI_F_RDLCK, 21, 39);
}

Test(locks, other_type_inside_splits_in_three)
{
    cr_assert_eq(set(A, ABI_F_WRLCK, 0, 99), 0);
    cr_assert_eq(set(A, ABI_F_RDLCK, 40, 59), 0);
    cr_assert_eq(set(B, ABI_F_RDLCK, 40, 59), 0, "the middle is shared now");
    cr_assert_eq(set(B, ABI_F_RDLCK, 39, 39), -ABI_EAGAIN);
    cr_assert_eq(set(B, ABI_F_RDLCK, 60, 60), -ABI_EAGAIN);
    expect(B, 0, 39, ABI_F_WRLCK, 0, 39);
    expect(B, 60, 99, ABI_F_WRLCK, 60, 99);
    /* Write over everything again: the three pieces become one. */
    cr_assert_eq(set(B, ABI_F_UNLCK, 0, VFS_LOCK_EOF), 0);
    cr_assert_eq(set(A, ABI_F_WRLCK, 0, 99), 0);
    expect(B, 0, VFS_LOCK_EOF, ABI_F_WRLCK, 0, 99);
}

Test(locks, eof_ranges)
{
    cr_assert_eq(set(A, ABI_F_WRLCK, 100, VFS_LOCK_EOF), 0);
    expect(B, INT64_MAX, INT64_MAX, ABI_F_WRLCK, 100, VFS_LOCK_EOF);
    cr_assert_eq(set(A, ABI_F_WRLCK, 0, 99), 0, "adjacent below: merges");
    expect(B, 5, 5, ABI_F_WRLCK, 0, VFS_LOCK_EOF);
    cr_assert_eq(set(A, ABI_F_UNLCK, 50, VFS_LOCK_EOF), 0);
    expect(B, 0, VFS_LOCK_EOF, ABI_F_WRLCK, 0, 49);
}

Test(locks, release_owner_drops_only_its_locks)
{
    cr_assert_eq(set(A, ABI_F_RDLCK, 0, 9), 0);
    cr_assert_eq(set(B, ABI_F_RDLCK, 0, 9), 0);
    vfs_lock_release_owner(&ino, A);
    expect(A, 0, 9, ABI_F_RDLCK, 0, 9);
    expect(B, 0, 9, ABI_F_UNLCK, 0, 0);
    struct vfs_lock_range r = probe(A, 0, 9);
    cr_assert_eq(r.pid, 200, "F_GETLK reports the holder's pid");
}

Test(locks, flock_conversion_and_release)
{
    struct vfs_file fa = {0}, fb = {0};
    cr_assert_eq(vfs_lock_flock(&ino, &fa, ABI_LOCK_SH, true), 0);
    cr_assert_eq(vfs_lock_flock(&ino, &fb, ABI_LOCK_SH, true), 0);
    cr_assert_eq(vfs_lock_flock(&ino, &fa, ABI_LOCK_EX, true), -ABI_EWOULDBLOCK);
    cr_assert_eq(vfs_lock_flock(&ino, &fb, ABI_LOCK_EX, true), 0,
                 "fa's failed conversion dropped its shared lock");
    cr_assert_eq(vfs_lock_flock(&ino, &fa, ABI_LOCK_SH, false), -ABI_EDEADLK,
                 "blocking on a conflict cannot sleep yet");
    cr_assert_eq(vfs_lock_flock(&ino, &fb, ABI_LOCK_EX, true), 0, "same type again: no-op");
    cr_assert_eq(vfs_lock_flock(&ino, &fb, ABI_LOCK_UN, true), 0);
    cr_assert_eq(vfs_lock_flock(&ino, &fa, ABI_LOCK_EX, true), 0);
    cr_assert_eq(vfs_lock_flock(&ino, &fa, ABI_LOCK_UN, true), 0);
    cr_assert_null(ino.locks);
    /* flock and record locks never conflict. */
    cr_assert_eq(vfs_lock_flock(&ino, &fa, ABI_LOCK_EX, true), 0);
    cr_assert_eq(set(B, ABI_F_WRLCK, 0, VFS_LOCK_EOF), 0);
    cr_assert_eq(vfs_lock_flock(&ino, &fa, ABI_LOCK_UN, true), 0);
}

static int64_t dummy_read(struct vfs_file *f, void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    return 0;
}

static const struct vfs_file_ops dummy_ops = {.read = dummy_read};

static void nop_evict(struct vfs_inode *i)
{
    (void)i;
}

static const struct vfs_inode_ops dummy_inode_ops = {.evict = nop_evict};

/* The fd table drops the process's record locks when any fd of the inode
 * closes, and a description's flock and OFD locks with its last fd. */
Test(locks, fdtable_close_releases)
{
    struct vfs_dentry d = {.inode = &ino, .refs = 100};
    ino.refs = 100;
    ino.ops = &dummy_inode_ops;
    struct vfs_fdtable *t;
    cr_assert_eq(vfs_fdtable_create(&t), 0);
    struct vfs_file *f1 = vfs_file_new(&dummy_ops, ABI_O_RDWR, NULL);
    struct vfs_file *f2 = vfs_file_new(&dummy_ops, ABI_O_RDWR, NULL);
    f1->dentry = &d;
    f2->dentry = &d;
    int fd1 = vfs_fd_install(t, 0, f1, false, 1024);
    int fd2 = vfs_fd_install(t, 0, f2, false, 1024);
    int fd3 = vfs_fd_install(t, 0, f2, false, 1024);
    /* The table's references are enough: the fds keep both files. */
    vfs_file_put(f1);
    vfs_file_put(f2);
    struct vfs_lock_range w = {.type = ABI_F_WRLCK, .start = 0, .end = 9};
    cr_assert_eq(vfs_lock_set(&ino, (uintptr_t)t, 1, &w, false), 0);
    w.start = 20;
    w.end = 29;
    cr_assert_eq(vfs_lock_set(&ino, (uintptr_t)f2, -1, &w, false), 0, "an OFD lock of f2");
    cr_assert_eq(vfs_lock_flock(&ino, f2, ABI_LOCK_EX, true), 0);
    cr_assert_eq(vfs_fd_close(t, fd1), 0);
    expect(B, 0, 9, ABI_F_UNLCK, 0, 0);
    expect(B, 20, 29, ABI_F_WRLCK, 20, 29);
    cr_assert_eq(vfs_fd_close(t, fd2), 0);
    expect(B, 20, 29, ABI_F_WRLCK, 20, 29);
    struct vfs_file other = {0};
    cr_assert_eq(vfs_lock_flock(&ino, &other, ABI_LOCK_SH, true), -ABI_EWOULDBLOCK,
                 "f2 still has an fd: its flock stays");
    cr_assert_eq(vfs_fd_close(t, fd3), 0);
    cr_assert_null(ino.locks, "f2's last fd took its OFD and flock locks along");
    /* dentry and inode are the test's: keep vfs_file_put off them. */
    vfs_fdtable_destroy(t);
}

/* Record locks are heap blocks of the Sentry: a guest locking every other
 * byte of many files must meet ENOLCK, not exhaust the Sentry's memory.
 * At the cap an unlock that splits nothing still works, one that would
 * split a lock fails, and freed records can be had again. */
Test(locks, record_count_is_capped)
{
    enum { PER = 256, NINO = VFS_LOCK_MAX_RECORDS / PER };
    struct vfs_inode *inos = calloc(NINO + 1, sizeof(*inos));
    cr_assert_not_null(inos);
    for (int i = 0; i < NINO; i++) {
        for (int64_t j = 0; j < PER; j++) {
            struct vfs_lock_range r = {.type = ABI_F_RDLCK, .start = 2 * j, .end = 2 * j};
            cr_assert_eq(vfs_lock_set(&inos[i], A, 1, &r, false), 0, "lock %d/%ld", i, (long)j);
        }
    }
    struct vfs_inode *last = &inos[NINO];
    struct vfs_lock_range r = {.type = ABI_F_RDLCK, .start = 0, .end = 0};
    cr_assert_eq(vfs_lock_set(last, A, 1, &r, false), -ABI_ENOLCK, "one record too many");
    cr_assert_null(last->locks, "the failed request left no state behind");
    /* Unlocking a whole lock splits nothing. */
    r = (struct vfs_lock_range){.type = ABI_F_UNLCK, .start = 0, .end = 0};
    cr_assert_eq(vfs_lock_set(&inos[0], A, 1, &r, false), 0, "a plain unlock at the cap");
    /* That freed one record: a new lock takes it, and splitting that lock
     * would need one more. */
    r = (struct vfs_lock_range){.type = ABI_F_WRLCK, .start = 100000, .end = 100020};
    cr_assert_eq(vfs_lock_set(&inos[0], A, 1, &r, false), 0);
    r = (struct vfs_lock_range){.type = ABI_F_UNLCK, .start = 100010, .end = 100010};
    cr_assert_eq(vfs_lock_set(&inos[0], A, 1, &r, false), -ABI_ENOLCK, "a split at the cap");
    r = (struct vfs_lock_range){.type = ABI_F_UNLCK, .start = 0, .end = VFS_LOCK_EOF};
    cr_assert_eq(vfs_lock_set(&inos[0], A, 1, &r, false), 0, "unlock all at the cap");
    cr_assert_null(inos[0].locks);
    r = (struct vfs_lock_range){.type = ABI_F_RDLCK, .start = 0, .end = 0};
    cr_assert_eq(vfs_lock_set(last, A, 1, &r, false), 0, "freed records can be had again");
    for (int i = 0; i <= NINO; i++)
        vfs_lock_release_owner(&inos[i], A);
    free(inos);
}
