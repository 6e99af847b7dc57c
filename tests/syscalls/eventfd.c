/*
 * eventfd in one process: counter and semaphore reads, 8-byte rules, the
 * largest count, flags, readiness, fstat and /proc/self/fd. Blocking reads
 * and writes another process ends: eventfd_fork.c.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static short revents(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    poll(&p, 1, 0);
    return p.revents;
}

static void test_counter(void)
{
    int fd = (int)e(syscall(SYS_eventfd2, 5, EFD_NONBLOCK));
    ok(fd >= 0, "eventfd2 with 5");
    uint64_t v = 0;
    is_int(e(read(fd, &v, 8)), 8, "read 8 bytes");
    is_int((long)v, 5, "the whole count");
    is_int(e(read(fd, &v, 8)), -EAGAIN, "at 0 a non-blocking read is EAGAIN");
    v = 3;
    is_int(e(write(fd, &v, 8)), 8, "write 3");
    v = 4;
    write(fd, &v, 8);
    char buf[16];
    is_int(e(read(fd, buf, sizeof(buf))), 8, "a bigger buffer still reads 8");
    memcpy(&v, buf, 8);
    is_int((long)v, 7, "writes add up");
    is_int(e(read(fd, buf, 7)), -EINVAL, "a read of 7 bytes is EINVAL");
    is_int(e(write(fd, buf, 4)), -EINVAL, "a write of 4 bytes is EINVAL");
    v = UINT64_MAX;
    is_int(e(write(fd, &v, 8)), -EINVAL, "writing 2^64-1 is EINVAL");
    v = UINT64_MAX - 1;
    is_int(e(write(fd, &v, 8)), 8, "2^64-2 fits");
    is_int(revents(fd), POLLIN, "at the largest count: readable, not writable");
    v = 1;
    is_int(e(write(fd, &v, 8)), -EAGAIN, "one more is EAGAIN");
    v = 0;
    is_int(e(write(fd, &v, 8)), 8, "adding 0 is fine even then");
    read(fd, &v, 8);
    is_hex(v, UINT64_MAX - 1, "read it back");
    is_int(revents(fd), POLLOUT, "at 0: writable only");
    uint32_t lo = 0, hi = 0;
    struct iovec iov[2] = {{&lo, 4}, {&hi, 4}};
    v = 0x100000002ull;
    write(fd, &v, 8);
    is_int(e(readv(fd, iov, 2)), 8, "readv over two halves");
    ok(lo == 2 && hi == 1, "the halves of the count");
    is_int(e(lseek(fd, 100, SEEK_SET)), 0, "lseek does nothing and says 0 (noop_llseek)");
    close(fd);
}

static void test_semaphore(void)
{
    int fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    uint64_t v;
    int ones = 0;
    for (int i = 0; i < 3; i++) {
        if (read(fd, &v, 8) == 8 && v == 1)
            ones++;
    }
    is_int(ones, 3, "semaphore mode reads 1 three times");
    is_int(e(read(fd, &v, 8)), -EAGAIN, "then EAGAIN");
    close(fd);
}

static void test_flags(void)
{
    is_int(e(syscall(SYS_eventfd2, 0, O_RDWR)), -EINVAL, "an unknown flag is EINVAL");
    int fd = (int)e(syscall(SYS_eventfd2, 0, EFD_CLOEXEC));
    ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "EFD_CLOEXEC");
    is_int(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR, "O_RDWR, blocking");
    close(fd);
    fd = (int)e(syscall(SYS_eventfd, 2));
    ok(fd >= 0, "eventfd (no flags)");
    uint64_t v = 0;
    read(fd, &v, 8);
    is_int((long)v, 2, "its initial value");
    struct stat st;
    is_int(e(fstat(fd, &st)), 0, "fstat");
    is_int(st.st_mode, 0600, "mode 0600 with no file type (anon inode)");
    char link[64], buf[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    ok(strcmp(buf, "anon_inode:[eventfd]") == 0, "/proc/self/fd link (%s)", buf);
    close(fd);
}

int main(void)
{
    test_counter();
    test_semaphore();
    test_flags();
    done_testing();
}
