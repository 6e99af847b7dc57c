/*
 * Pipes and FIFOs in one process: pipe/pipe2 flags, data, capacity and
 * F_GETPIPE_SZ/F_SETPIPE_SZ, PIPE_BUF atomicity and partial writes, packet
 * mode, EOF, EPIPE with SIGPIPE, FIONREAD, fstat and /proc/self/fd, and FIFOs
 * made by mknod (open rules, shared data). FIFOs live in a fresh directory
 * under /tmp, removed at the end. Blocking across processes: pipes_fork.c.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char big[200000];

static void test_basic(void)
{
    int p[2];
    is_int(e(pipe(p)), 0, "pipe");
    ok(p[0] >= 0 && p[1] == p[0] + 1, "the two lowest free fds (%d, %d)", p[0], p[1]);
    is_int(e(write(p[1], "hello", 5)), 5, "write 5");
    char buf[16] = {0};
    is_int(e(read(p[0], buf, sizeof(buf))), 5, "read returns what is there");
    ok(memcmp(buf, "hello", 5) == 0, "data as written");
    is_int(fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY, "read end is O_RDONLY");
    is_int(fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY, "write end is O_WRONLY");
    is_int(e(write(p[0], "x", 1)), -EBADF, "write to the read end is EBADF");
    is_int(e(read(p[1], buf, 1)), -EBADF, "read from the write end is EBADF");
    is_int(e(lseek(p[0], 0, SEEK_CUR)), -ESPIPE, "lseek is ESPIPE");
    is_int(e(pread(p[0], buf, 1, 0)), -ESPIPE, "pread is ESPIPE");
    is_int(e(read(p[0], buf, 0)), 0, "zero-length read is 0");

    struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
    is_int(e(writev(p[1], iov, 2)), 5, "writev gathers");
    char x[2], y[3];
    struct iovec riov[2] = {{x, 2}, {y, 3}};
    is_int(e(readv(p[0], riov, 2)), 5, "readv scatters");
    ok(memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0, "readv data");

    struct stat a, b;
    is_int(e(fstat(p[0], &a)), 0, "fstat read end");
    is_int(e(fstat(p[1], &b)), 0, "fstat write end");
    ok(S_ISFIFO(a.st_mode), "S_IFIFO (mode %o)", a.st_mode);
    ok(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "both ends share the inode");
    int q[2];
    pipe(q);
    struct stat c;
    fstat(q[0], &c);
    ok(c.st_ino != a.st_ino, "another pipe has another inode");
    char link[64], want[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)a.st_ino);
    ok(n > 0 && (size_t)n == strlen(want) && memcmp(buf, want, (size_t)n) == 0,
       "/proc/self/fd link is %s", want);
    close(q[0]);
    close(q[1]);
    int w2 = (int)e(open(link, O_WRONLY));
    ok(w2 >= 0, "opening the read end's /proc link for writing");
    is_int(e(write(w2, "re", 2)), 2, "gives a write end of the same pipe");
    is_int(e(read(p[0], buf, sizeof(buf))), 2, "whose data the read end gets");
    close(w2);

    close(p[1]);
    is_int(e(read(p[0], buf, 1)), 0, "read after the writer closed is EOF");
    close(p[0]);
}

static void test_flags(void)
{
    int p[2];
    is_int(e(pipe2(p, O_CLOEXEC | O_NONBLOCK)), 0, "pipe2 O_CLOEXEC|O_NONBLOCK");
    ok(fcntl(p[0], F_GETFD) & FD_CLOEXEC, "read end close-on-exec");
    ok(fcntl(p[1], F_GETFD) & FD_CLOEXEC, "write end close-on-exec");
    ok(fcntl(p[0], F_GETFL) & O_NONBLOCK, "read end non-blocking");
    ok(fcntl(p[1], F_GETFL) & O_NONBLOCK, "write end non-blocking");
    char c;
    is_int(e(read(p[0], &c, 1)), -EAGAIN, "empty non-blocking read is EAGAIN");
    close(p[0]);
    close(p[1]);
    is_int(e(pipe2(p, O_APPEND)), -EINVAL, "pipe2 with another flag is EINVAL");
    is_int(e(pipe2(p, 0x80000000)), -EINVAL, "pipe2 with an unknown flag is EINVAL");
    int before = (int)e(dup(0));
    close(before);
    is_int(e(syscall(SYS_pipe, (void *)8)), -EFAULT, "pipe to a bad address is EFAULT");
    int after = (int)e(dup(0));
    is_int(after, before, "and leaves no fds behind");
    close(after);
}

static void test_capacity(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    is_int(e(fcntl(p[0], F_GETPIPE_SZ)), 65536, "default capacity 64 KiB");
    is_int(e(write(p[1], big, sizeof(big))), 65536, "a big non-blocking write fills it");
    is_int(e(write(p[1], "x", 1)), -EAGAIN, "then EAGAIN");
    int avail = -1;
    is_int(e(ioctl(p[0], FIONREAD, &avail)), 0, "FIONREAD");
    is_int(avail, 65536, "FIONREAD counts the bytes");
    is_int(e(fcntl(p[1], F_SETPIPE_SZ, 4096)), -EBUSY, "shrinking below the content is EBUSY");
    is_int(e(read(p[0], big, sizeof(big))), 65536, "a big read empties it");
    is_int(e(fcntl(p[1], F_SETPIPE_SZ, 1)), 4096, "F_SETPIPE_SZ rounds up to a page");
    is_int(e(fcntl(p[0], F_GETPIPE_SZ)), 4096, "either end sees it");
    is_int(e(fcntl(p[1], F_SETPIPE_SZ, 5000)), 8192, "rounds up to a power of two pages");
    is_int(e(write(p[1], big, sizeof(big))), 8192, "the new capacity holds");
    read(p[0], big, sizeof(big));
    is_int(e(fcntl(p[1], F_SETPIPE_SZ, 0x80000001u)), -EINVAL, "more than 2 GiB is EINVAL");
    fcntl(p[1], F_SETPIPE_SZ, 65536);

    /* 15 full pages and a page holding 3996 bytes: 100 bytes of room. */
    write(p[1], big, 61440);
    write(p[1], big, 3996);
    is_int(e(write(p[1], big, 200)), -EAGAIN, "a write <= PIPE_BUF that does not fit is EAGAIN");
    is_int(e(write(p[1], big, 100)), 100, "one that fits the last page is taken whole");
    read(p[0], big, sizeof(big));
    write(p[1], big, 61440);
    is_int(e(write(p[1], big, 5000)), 4096, "a larger write is partial");
    read(p[0], big, sizeof(big));
    close(p[0]);
    close(p[1]);

    int fd = open("/proc/self/exe", O_RDONLY);
    is_int(e(fcntl(fd, F_GETPIPE_SZ)), -EBADF, "F_GETPIPE_SZ on a file that is no pipe is EBADF");
    close(fd);
}

static void test_packet(void)
{
    int p[2];
    is_int(e(pipe2(p, O_DIRECT | O_NONBLOCK)), 0, "pipe2 O_DIRECT");
    write(p[1], "abc", 3);
    write(p[1], "defg", 4);
    char buf[16];
    is_int(e(read(p[0], buf, sizeof(buf))), 3, "a read returns one packet");
    is_int(e(read(p[0], buf, 2)), 2, "a short read takes part of the next");
    ok(memcmp(buf, "de", 2) == 0, "its start");
    is_int(e(read(p[0], buf, sizeof(buf))), -EAGAIN, "and the rest is dropped");
    close(p[0]);
    close(p[1]);
}

static volatile int pipe_sig, pipe_code, pipe_pid;

static void on_pipe(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    pipe_sig = sig;
    pipe_code = si->si_code;
    pipe_pid = si->si_pid;
}

static void test_epipe(void)
{
    int p[2];
    pipe(p);
    close(p[0]);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old);
    is_int(e(write(p[1], "", 0)), 0, "a zero-length write without readers is 0");
    is_int(e(write(p[1], "x", 1)), -EPIPE, "write without readers is EPIPE (SIGPIPE ignored)");
    sa.sa_handler = NULL;
    sa.sa_sigaction = on_pipe;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGPIPE, &sa, NULL);
    is_int(e(write(p[1], "x", 1)), -EPIPE, "EPIPE with a handler");
    is_int(pipe_sig, SIGPIPE, "and SIGPIPE ran it");
    is_int(pipe_code, SI_USER, "si_code SI_USER");
    is_int(pipe_pid, getpid(), "si_pid is the writer's own pid");
    sigaction(SIGPIPE, &old, NULL);
    close(p[1]);
}

static void test_fifo(void)
{
    is_int(e(mknod("fifo", S_IFIFO | 0600, 0)), 0, "mknod S_IFIFO");
    struct stat st;
    stat("fifo", &st);
    ok(S_ISFIFO(st.st_mode), "it is a fifo");
    is_int(e(open("fifo", O_WRONLY | O_NONBLOCK)), -ENXIO,
           "O_WRONLY|O_NONBLOCK without a reader is ENXIO");
    int r = (int)e(open("fifo", O_RDONLY | O_NONBLOCK));
    ok(r >= 0, "O_RDONLY|O_NONBLOCK opens at once");
    char buf[16];
    is_int(e(read(r, buf, sizeof(buf))), 0, "read with no writer yet is 0");
    int w = (int)e(open("fifo", O_WRONLY | O_NONBLOCK));
    ok(w >= 0, "O_WRONLY opens once a reader is there");
    is_int(e(write(w, "fifo!", 5)), 5, "write into the fifo");
    is_int(e(read(r, buf, sizeof(buf))), 5, "the reader's open gets it");
    ok(memcmp(buf, "fifo!", 5) == 0, "data through the fifo");
    is_int(e(read(r, buf, sizeof(buf))), -EAGAIN, "empty with a writer: EAGAIN");
    fstat(w, &st);
    ok(S_ISFIFO(st.st_mode), "fstat of an open fifo");
    is_int(e(fcntl(w, F_GETPIPE_SZ)), 65536, "a fifo is a pipe for F_GETPIPE_SZ");
    char link[64], path[256];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", r);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    ok(n > 5 && memcmp(path + n - 5, "/fifo", 5) == 0, "its /proc link is its path");
    close(w);
    is_int(e(read(r, buf, sizeof(buf))), 0, "EOF once the writer is gone");
    close(r);

    int rw = (int)e(open("fifo", O_RDWR));
    ok(rw >= 0, "O_RDWR never waits");
    is_int(e(write(rw, "xy", 2)), 2, "write through O_RDWR");
    is_int(e(read(rw, buf, sizeof(buf))), 2, "and read it back");
    write(rw, "left", 4);
    close(rw);
    r = (int)e(open("fifo", O_RDONLY | O_NONBLOCK));
    is_int(e(read(r, buf, sizeof(buf))), 0, "data goes with the last close");
    close(r);
    unlink("fifo");
}

int main(void)
{
    char dir[] = "/tmp/moat-pipes-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory");
        return 1;
    }
    test_basic();
    test_flags();
    test_capacity();
    test_packet();
    test_epipe();
    test_fifo();
    chdir("/");
    rmdir(dir);
    done_testing();
}
