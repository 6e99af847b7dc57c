/*
 * Advisory locks: flock(2) between two opens of one file (conflicts, LOCK_NB,
 * conversion, release on close), POSIX record locks (set, F_GETLK, splitting,
 * merging, unlocking, the close-any-fd rule, access-mode and argument
 * errors) and OFD locks against a second description. Everything runs in
 * one process and never asks to block on a conflict, so nothing can hang
 * natively. Works in a fresh directory under /tmp, removed at the end.
 */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];

static int open_f(int flags)
{
    return (int)e(open("f", flags));
}

static void test_flock(void)
{
    int a = open_f(O_RDWR), b = open_f(O_RDONLY);
    ok(a >= 0 && b >= 0, "two opens of one file");
    is_int(e(flock(a, LOCK_SH)), 0, "LOCK_SH on the first");
    is_int(e(flock(b, LOCK_SH | LOCK_NB)), 0, "a second shared lock is compatible");
    is_int(e(flock(b, LOCK_EX | LOCK_NB)), -EWOULDBLOCK,
           "converting to LOCK_EX while another holds LOCK_SH: EWOULDBLOCK");
    /* Linux drops the old lock before trying the new one: b holds nothing now,
     * so a may convert. */
    is_int(e(flock(a, LOCK_EX | LOCK_NB)), 0, "a failed conversion lost b's shared lock");
    is_int(e(flock(b, LOCK_SH | LOCK_NB)), -EWOULDBLOCK, "LOCK_SH against LOCK_EX");
    is_int(e(flock(a, LOCK_EX | LOCK_NB)), 0, "re-locking with the same type is a no-op");
    int dupa = (int)e(dup(a));
    is_int(e(flock(dupa, LOCK_EX | LOCK_NB)), 0, "a dup shares the description's lock");
    close(dupa);
    is_int(e(flock(b, LOCK_EX | LOCK_NB)), -EWOULDBLOCK, "closing a dup keeps the lock");
    is_int(e(flock(a, LOCK_UN)), 0, "LOCK_UN");
    is_int(e(flock(a, LOCK_UN)), 0, "LOCK_UN with nothing held");
    is_int(e(flock(b, LOCK_EX | LOCK_NB)), 0, "LOCK_EX once released");
    close(b);
    is_int(e(flock(a, LOCK_EX | LOCK_NB)), 0, "closing the last fd released the lock");
    is_int(e(flock(a, 0)), -EINVAL, "no operation: EINVAL");
    is_int(e(flock(a, LOCK_SH | LOCK_EX)), -EINVAL, "two operations: EINVAL");
    is_int(e(flock(-1, LOCK_SH)), -EBADF, "bad fd: EBADF");
    int p = (int)e(open("f", O_PATH));
    is_int(e(flock(p, LOCK_SH)), -EBADF, "O_PATH fd: EBADF");
    close(p);
    /* flock and record locks do not see each other on Linux. */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int c = open_f(O_RDWR);
    is_int(e(fcntl(c, F_OFD_SETLK, &fl)), 0, "an OFD lock beside another description's flock");
    close(c);
    close(a);
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return (int)e(fcntl(fd, cmd, &fl));
}

/* F_OFD_GETLK from fd for [start, start+len): the conflicting lock. */
static struct flock getlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) != 0)
        fl.l_type = -1;
    return fl;
}

static void test_posix(void)
{
    int a = open_f(O_RDWR);
    int o = open_f(O_RDWR); /* another description, to probe with OFD locks */
    is_int(setlk(a, F_SETLK, F_WRLCK, 0, 100), 0, "F_SETLK write lock on [0,100)");
    struct flock g = getlk(a, F_GETLK, F_WRLCK, 0, 10);
    is_int(g.l_type, F_UNLCK, "F_GETLK ignores the process's own locks");
    g = getlk(o, F_OFD_GETLK, F_RDLCK, 50, 1);
    is_int(g.l_type, F_WRLCK, "an OFD probe sees the process lock");
    ok(g.l_start == 0 && g.l_len == 100 && g.l_whence == SEEK_SET,
       "reported range [0,100) (start %ld len %ld)", (long)g.l_start, (long)g.l_len);
    is_int(g.l_pid, getpid(), "l_pid is the holder's pid");
    /* Unlocking the middle splits the lock in two. */
    is_int(setlk(a, F_SETLK, F_UNLCK, 40, 20), 0, "unlock [40,60)");
    is_int(getlk(o, F_OFD_GETLK, F_WRLCK, 40, 20).l_type, F_UNLCK, "the hole is free");
    g = getlk(o, F_OFD_GETLK, F_WRLCK, 60, 0);
    ok(g.l_type == F_WRLCK && g.l_start == 60 && g.l_len == 40, "right part [60,100) (%ld,%ld)",
       (long)g.l_start, (long)g.l_len);
    g = getlk(o, F_OFD_GETLK, F_WRLCK, 0, 60);
    ok(g.l_type == F_WRLCK && g.l_start == 0 && g.l_len == 40, "left part [0,40) (%ld,%ld)",
       (long)g.l_start, (long)g.l_len);
    /* A read lock in the middle of the write lock replaces that part. */
    is_int(setlk(a, F_SETLK, F_RDLCK, 70, 10), 0, "read lock on [70,80) inside the write lock");
    is_int(setlk(o, F_OFD_SETLK, F_RDLCK, 70, 10), 0, "another reader may share [70,80)");
    is_int(setlk(o, F_OFD_SETLK, F_RDLCK, 69, 2), -EAGAIN, "but not [69,71): 69 is write-locked");
    is_int(setlk(o, F_OFD_SETLK, F_UNLCK, 0, 0), 0, "the OFD reader lets go");
    /* Relock [40,60) for write: [0,70) merges into one lock. */
    is_int(setlk(a, F_SETLK, F_WRLCK, 40, 20), 0, "write lock on [40,60) again");
    g = getlk(o, F_OFD_GETLK, F_WRLCK, 0, 0);
    ok(g.l_type == F_WRLCK && g.l_start == 0 && g.l_len == 70,
       "adjacent write locks merged into [0,70) (%ld,%ld)", (long)g.l_start, (long)g.l_len);
    /* l_len 0 runs to EOF and beyond; negative l_len counts backwards. */
    is_int(setlk(a, F_SETLK, F_WRLCK, 1000, 0), 0, "l_len 0: [1000, EOF...)");
    g = getlk(o, F_OFD_GETLK, F_RDLCK, 1 << 30, 1);
    ok(g.l_type == F_WRLCK && g.l_start == 1000 && g.l_len == 0, "reported with l_len 0");
    is_int(setlk(a, F_SETLK, F_UNLCK, 0, 0), 0, "unlock everything");
    is_int(getlk(o, F_OFD_GETLK, F_WRLCK, 0, 0).l_type, F_UNLCK, "nothing left");
    is_int(setlk(a, F_SETLK, F_WRLCK, 500, -100), 0, "l_len -100 at 500 locks [400,500)");
    g = getlk(o, F_OFD_GETLK, F_WRLCK, 0, 0);
    ok(g.l_start == 400 && g.l_len == 100, "negative length range (%ld,%ld)", (long)g.l_start,
       (long)g.l_len);
    is_int(setlk(a, F_SETLK, F_WRLCK, 50, -100), -EINVAL, "a range before offset 0: EINVAL");
    is_int(setlk(a, F_SETLK, F_WRLCK, -1, 10), -EINVAL, "negative start: EINVAL");
    struct flock bad = {.l_type = 7, .l_whence = SEEK_SET};
    is_int(e(fcntl(a, F_SETLK, &bad)), -EINVAL, "unknown l_type: EINVAL");
    bad = (struct flock){.l_type = F_RDLCK, .l_whence = 9};
    is_int(e(fcntl(a, F_SETLK, &bad)), -EINVAL, "unknown l_whence: EINVAL");
    bad = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_SET};
    is_int(e(fcntl(a, F_GETLK, &bad)), -EINVAL, "F_GETLK with F_UNLCK: EINVAL");
    is_int(e(fcntl(a, F_SETLK, (void *)8)), -EFAULT, "bad pointer: EFAULT");
    /* SEEK_CUR and SEEK_END are relative to the offset and the size. */
    is_int(setlk(a, F_SETLK, F_UNLCK, 0, 0), 0, "unlock all");
    lseek(a, 10, SEEK_SET);
    struct flock cur = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 5, .l_len = 1};
    is_int(e(fcntl(a, F_SETLK, &cur)), 0, "SEEK_CUR lock");
    ok(getlk(o, F_OFD_GETLK, F_WRLCK, 0, 0).l_start == 15, "SEEK_CUR: offset 10 + 5");
    struct stat st;
    fstat(a, &st);
    struct flock end = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = -1, .l_len = 1};
    is_int(e(fcntl(a, F_SETLK, &end)), 0, "SEEK_END lock");
    g = getlk(o, F_OFD_GETLK, F_WRLCK, st.st_size - 1, 1);
    ok(g.l_start == st.st_size - 1 && g.l_len == 1, "SEEK_END: size - 1 (%ld)", (long)g.l_start);
    /* Access modes. */
    int r = open_f(O_RDONLY), w = open_f(O_WRONLY);
    is_int(setlk(r, F_SETLK, F_WRLCK, 0, 1), -EBADF, "write lock on O_RDONLY: EBADF");
    is_int(setlk(w, F_SETLK, F_RDLCK, 0, 1), -EBADF, "read lock on O_WRONLY: EBADF");
    is_int(setlk(r, F_SETLK, F_UNLCK, 0, 1), 0, "unlock needs no access");
    /* Closing ANY fd of the file drops all of the process's locks on it. */
    ok(getlk(o, F_OFD_GETLK, F_WRLCK, 0, 0).l_type == F_WRLCK, "locks held before the close");
    close(r);
    is_int(getlk(o, F_OFD_GETLK, F_WRLCK, 0, 0).l_type, F_UNLCK,
           "closing another fd of the file released the process's locks");
    close(w);
    close(o);
    close(a);
}

static void test_ofd(void)
{
    int a = open_f(O_RDWR), b = open_f(O_RDWR);
    is_int(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10), 0, "OFD write lock on [0,10)");
    is_int(setlk(b, F_OFD_SETLK, F_WRLCK, 5, 10), -EAGAIN, "second description conflicts");
    is_int(setlk(b, F_OFD_SETLK, F_RDLCK, 10, 10), 0, "beside it is free");
    is_int(setlk(a, F_SETLK, F_WRLCK, 0, 1), -EAGAIN, "a process lock conflicts with OFD");
    struct flock g = getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0);
    ok(g.l_type == F_WRLCK && g.l_pid == -1 && g.l_start == 0 && g.l_len == 10,
       "F_OFD_GETLK reports the lock with l_pid -1 (pid %d)", g.l_pid);
    g = getlk(a, F_GETLK, F_WRLCK, 0, 0);
    is_int(g.l_pid, -1, "F_GETLK also reports OFD holders as -1");
    struct flock p = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 1};
    is_int(e(fcntl(a, F_OFD_SETLK, &p)), -EINVAL, "F_OFD_SETLK with l_pid != 0: EINVAL");
    is_int(e(fcntl(a, F_OFD_GETLK, &p)), -EINVAL, "F_OFD_GETLK with l_pid != 0: EINVAL");
    int d = (int)e(dup(a));
    is_int(setlk(d, F_OFD_SETLK, F_WRLCK, 0, 10), 0, "a dup owns the same OFD lock");
    close(d);
    is_int(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 1), -EAGAIN, "closing a dup keeps OFD locks");
    close(a);
    is_int(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 10), 0,
           "closing the description's last fd released its OFD lock");
    close(b);
}

int main(void)
{
    strcpy(dir, "/tmp/moat-locks-XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory: %s", strerror(errno));
        return 1;
    }
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    if (fd < 0 || write(fd, "0123456789", 10) != 10) {
        diag("cannot create the test file: %s", strerror(errno));
        return 1;
    }
    close(fd);
    test_flock();
    test_posix();
    test_ofd();
    unlink("f");
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    done_testing();
}
