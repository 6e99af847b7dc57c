/*
 * Resource limits: getrlimit/setrlimit/prlimit64 rules (EINVAL, EPERM for a
 * raised hard limit without CAP_SYS_RESOURCE, ESRCH, EFAULT order), and
 * their enforcement: RLIMIT_NOFILE on fd allocation, RLIMIT_FSIZE on
 * write, pwrite, writev, O_APPEND, truncate, ftruncate, fallocate,
 * copy_file_range and sendfile (EFBIG and SIGXFSZ), RLIMIT_AS on mmap and
 * mremap, RLIMIT_DATA on private writable mappings and brk.
 *
 * Only soft limits are lowered, and each is restored. Files are written in
 * a fresh directory under /tmp.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "tests/syscalls/default_caps.h"
#include "tests/syscalls/tap.h"

static volatile int xfsz;

static void on_xfsz(int sig)
{
    (void)sig;
    xfsz++;
}

static void set_soft(int res, rlim_t cur)
{
    struct rlimit rl;
    getrlimit(res, &rl);
    rl.rlim_cur = cur;
    setrlimit(res, &rl);
}

static void test_rules(void)
{
    struct rlimit rl, orig;
    is_int(SC(SYS_getrlimit, RLIMIT_NOFILE, &orig), 0, "getrlimit NOFILE");
    ok(orig.rlim_cur <= orig.rlim_max, "soft <= hard");
    is_int(SC(SYS_getrlimit, 99, &rl), -EINVAL, "getrlimit of resource 99 is EINVAL");
    is_int(SC(SYS_getrlimit, RLIMIT_NOFILE, NULL), -EFAULT, "getrlimit to NULL is EFAULT");
    is_int(SC(SYS_setrlimit, 99, NULL), -EFAULT, "setrlimit copies in before it checks");
    rl = orig;
    rl.rlim_cur = rl.rlim_max + 1;
    if (orig.rlim_max != RLIM_INFINITY)
        is_int(SC(SYS_setrlimit, RLIMIT_NOFILE, &rl), -EINVAL, "soft above hard is EINVAL");
    else
        skip("hard limit is infinite", "soft above hard is EINVAL");
    rl = orig;
    rl.rlim_max = orig.rlim_max + 1;
    if (orig.rlim_max != RLIM_INFINITY)
        is_int(SC(SYS_setrlimit, RLIMIT_NOFILE, &rl), -EPERM,
               "raising a hard limit without CAP_SYS_RESOURCE is EPERM");
    else
        skip("hard limit is infinite", "raising a hard limit is EPERM");
    rl = (struct rlimit){1 << 30, 1 << 30};
    is_int(SC(SYS_setrlimit, RLIMIT_NOFILE, &rl), -EPERM, "NOFILE above nr_open is EPERM");

    struct rlimit got;
    is_int(SC(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &got), 0, "prlimit64 of pid 0");
    ok(got.rlim_cur == orig.rlim_cur && got.rlim_max == orig.rlim_max, "same as getrlimit");
    is_int(SC(SYS_prlimit64, SC(SYS_getpid), RLIMIT_NOFILE, NULL, &got), 0,
           "prlimit64 of the own pid");
    is_int(SC(SYS_prlimit64, 999999, RLIMIT_NOFILE, NULL, &got), -ESRCH,
           "prlimit64 of a missing pid is ESRCH");
    is_int(SC(SYS_prlimit64, 0, 99, NULL, &got), -EINVAL, "prlimit64 of resource 99");
    is_int(SC(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, NULL), 0, "prlimit64 with neither");
    struct rlimit nl = {orig.rlim_cur > 64 ? 64 : orig.rlim_cur, orig.rlim_max}, old;
    is_int(SC(SYS_prlimit64, 0, RLIMIT_NOFILE, &nl, &old), 0, "prlimit64 sets and reads");
    is_int((long)old.rlim_cur, (long)orig.rlim_cur, "the old value comes back");
    getrlimit(RLIMIT_NOFILE, &got);
    is_int((long)got.rlim_cur, (long)nl.rlim_cur, "the new one is in force");
    setrlimit(RLIMIT_NOFILE, &orig);
}

static void test_nofile(void)
{
    struct rlimit orig;
    getrlimit(RLIMIT_NOFILE, &orig);
    set_soft(RLIMIT_NOFILE, 16);
    is_int(SC(SYS_dup2, 1, 16), -EBADF, "dup2 to the limit is EBADF");
    is_int(SC(SYS_dup3, 1, 16, 0), -EBADF, "dup3 to the limit is EBADF");
    long fd = SC(SYS_dup2, 1, 15);
    is_int(fd, 15, "dup2 just below the limit");
    is_int(SC(SYS_fcntl, 1, F_DUPFD, 16), -EINVAL, "F_DUPFD at the limit is EINVAL");
    is_int(SC(SYS_fcntl, 1, F_DUPFD, 15), -EMFILE, "F_DUPFD with no free fd below is EMFILE");
    close(15);
    long fds[16];
    int n = 0;
    for (; n < 16; n++) {
        fds[n] = SC(SYS_dup, 1);
        if (fds[n] < 0)
            break;
    }
    is_int(fds[n < 16 ? n : 15], -EMFILE, "dup runs out with EMFILE");
    is_int(SC(SYS_openat, AT_FDCWD, "/", O_RDONLY), -EMFILE, "and so does open");
    for (int i = 0; i < n; i++)
        close((int)fds[i]);
    setrlimit(RLIMIT_NOFILE, &orig);
}

static void test_fsize(void)
{
    char dir[] = "/tmp/moat-limits-XXXXXX", path[64], src[64];
    if (!mkdtemp(dir)) {
        skip("no /tmp", "RLIMIT_FSIZE");
        return;
    }
    snprintf(path, sizeof(path), "%s/f", dir);
    snprintf(src, sizeof(src), "%s/src", dir);
    static char buf[8192];
    memset(buf, 'x', sizeof(buf));
    int sfd = open(src, O_CREAT | O_RDWR, 0600);
    write(sfd, buf, sizeof(buf));
    int fd = open(path, O_CREAT | O_RDWR, 0600);
    signal(SIGXFSZ, on_xfsz);
    struct rlimit orig;
    getrlimit(RLIMIT_FSIZE, &orig);
    set_soft(RLIMIT_FSIZE, 4096);

    is_int(SC(SYS_write, fd, buf, 4000), 4000, "write below the limit");
    is_int(SC(SYS_write, fd, buf, 1000), 96, "write across it is cut short");
    is_int(xfsz, 0, "no SIGXFSZ for a short write");
    is_int(SC(SYS_write, fd, buf, 10), -EFBIG, "write at the limit is EFBIG");
    is_int(xfsz, 1, "with SIGXFSZ");
    is_int(SC(SYS_write, fd, buf, 0), 0, "an empty write at the limit is fine");
    is_int(SC(SYS_pwrite64, fd, buf, 200, 4000), 96, "pwrite across the limit");
    is_int(SC(SYS_pwrite64, fd, buf, 1, 5000), -EFBIG, "pwrite past it");
    is_int(xfsz, 2, "SIGXFSZ again");
    struct iovec iov[2] = {{buf, 50}, {buf, 50}};
    lseek(fd, 4000, SEEK_SET);
    is_int(SC(SYS_writev, fd, iov, 2), 96, "writev across the limit");
    is_int(SC(SYS_ftruncate, fd, 8192), -EFBIG, "ftruncate beyond the limit");
    is_int(xfsz, 3, "SIGXFSZ for ftruncate");
    is_int(SC(SYS_truncate, path, 5000), -EFBIG, "truncate beyond the limit");
    is_int(xfsz, 4, "SIGXFSZ for truncate");
    is_int(SC(SYS_ftruncate, fd, 100), 0, "shrinking is fine");
    is_int(SC(SYS_ftruncate, fd, 4096), 0, "growing up to the limit is fine");
    is_int(SC(SYS_fallocate, fd, 0, 0, 8192), -EFBIG, "fallocate beyond the limit");
    is_int(xfsz, 5, "SIGXFSZ for fallocate");
    is_int(SC(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 0, 8192) == -EFBIG, 0,
           "fallocate with KEEP_SIZE is not limited");
    int afd = open(path, O_WRONLY | O_APPEND);
    is_int(SC(SYS_write, afd, buf, 1), -EFBIG, "O_APPEND at the limit is EFBIG");
    close(afd);
    xfsz = 0;
    SC(SYS_ftruncate, fd, 0);
    loff_t in = 0, out = 4000;
    is_int(SC(SYS_copy_file_range, sfd, &in, fd, &out, 1000, 0), 96,
           "copy_file_range across the limit");
    in = 0;
    out = 4096;
    is_int(SC(SYS_copy_file_range, sfd, &in, fd, &out, 10, 0), -EFBIG,
           "copy_file_range at the limit");
    lseek(fd, 4096, SEEK_SET);
    off_t sin = 0;
    is_int(SC(SYS_sendfile, fd, sfd, &sin, 10), -EFBIG, "sendfile at the limit");
    is_int(xfsz, 2, "SIGXFSZ for both");
    lseek(fd, 4000, SEEK_SET);
    sin = 0;
    is_int(SC(SYS_sendfile, fd, sfd, &sin, 1000), 96, "sendfile across the limit");

    setrlimit(RLIMIT_FSIZE, &orig);
    is_int(SC(SYS_write, fd, buf, 10), 10, "with the limit back, writes go on");
    signal(SIGXFSZ, SIG_DFL);
    close(fd);
    close(sfd);
    unlink(path);
    unlink(src);
    rmdir(dir);
}

static void test_as_data(void)
{
    const size_t mib = 1 << 20;
    struct rlimit as, data;
    getrlimit(RLIMIT_AS, &as);
    getrlimit(RLIMIT_DATA, &data);

    set_soft(RLIMIT_AS, 512 * mib);
    void *p = mmap(NULL, 1024 * mib, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ok(p == MAP_FAILED && errno == ENOMEM, "RLIMIT_AS: a 1 GiB mmap is ENOMEM");
    p = mmap(NULL, 64 * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok(p != MAP_FAILED, "a 64 MiB mmap fits");
    void *q = mremap(p, 64 * mib, 1024 * mib, MREMAP_MAYMOVE);
    ok(q == MAP_FAILED && errno == ENOMEM, "growing it to 1 GiB with mremap is ENOMEM");
    /* MAP_FIXED over itself replaces pages, it does not add them. */
    q = mmap(p, 64 * mib, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    ok(q == p, "MAP_FIXED over an existing mapping counts no new pages");
    munmap(p, 64 * mib);
    setrlimit(RLIMIT_AS, &as);

    set_soft(RLIMIT_DATA, 64 * mib);
    p = mmap(NULL, 128 * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok(p == MAP_FAILED && errno == ENOMEM, "RLIMIT_DATA: 128 MiB private writable is ENOMEM");
    p = mmap(NULL, 128 * mib, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok(p != MAP_FAILED, "read-only memory is not data");
    if (p != MAP_FAILED)
        munmap(p, 128 * mib);
    p = mmap(NULL, 128 * mib, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ok(p != MAP_FAILED, "shared memory is not data");
    if (p != MAP_FAILED)
        munmap(p, 128 * mib);
    long cur = SC(SYS_brk, 0);
    is_int(SC(SYS_brk, cur + 128 * mib), cur, "brk past RLIMIT_DATA stays where it was");
    long up = SC(SYS_brk, cur + 4096);
    is_int(up, cur + 4096, "a small brk step is fine");
    SC(SYS_brk, cur);
    setrlimit(RLIMIT_DATA, &data);
    p = mmap(NULL, 128 * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok(p != MAP_FAILED, "with the limit back, 128 MiB maps");
    if (p != MAP_FAILED)
        munmap(p, 128 * mib);
}

int main(void)
{
    /* The same capabilities natively as in the sandbox (no
     * CAP_SYS_RESOURCE); without root the hard-limit rule still holds. */
    caps_normalize();
    test_rules();
    test_nofile();
    test_fsize();
    test_as_data();
    done_testing();
}
