/*
 * AF_UNIX sockets between processes: blocking accept, connect, read and
 * write woken by another process, a full stream transfer with both sides
 * blocking, SCM_RIGHTS and credentials across processes, SO_PEERCRED of
 * the peer process, a blocked connect released by accept, and EINTR /
 * SA_RESTART for a blocked read. Named sockets live in a fresh directory
 * under /tmp, removed at the end.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static socklen_t path_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static int wait_exit(pid_t pid)
{
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_accept_blocks(void)
{
    struct sockaddr_un a;
    socklen_t al = path_addr(&a, "srv");
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(l, (struct sockaddr *)&a, al);
    listen(l, 8);
    pid_t pid = fork();
    if (pid == 0) {
        pause_ms(100);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, al) != 0)
            _exit(1);
        pause_ms(100);
        if (write(c, "from child", 10) != 10)
            _exit(2);
        char b[4];
        if (read(c, b, sizeof(b)) != 2)
            _exit(3);
        _exit(0);
    }
    int s = (int)e(accept(l, NULL, NULL));
    ok(s >= 0, "a blocking accept is woken by the child's connect");
    char buf[16] = {0};
    is_int(e(read(s, buf, sizeof(buf))), 10, "a blocking read is woken by the child's write");
    is_int(e(write(s, "ok", 2)), 2, "reply");
    struct ucred uc;
    socklen_t ul = sizeof(uc);
    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
    is_int(uc.pid, pid, "SO_PEERCRED is the connecting process");
    is_int(wait_exit(pid), 0, "the child connected, wrote and read");
    is_int(e(read(s, buf, sizeof(buf))), 0, "EOF after the child exited");
    close(s);
    close(l);
    unlink(a.sun_path);
}

static void test_bulk(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    enum { TOTAL = 4 << 20 };
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        static unsigned char out[100000];
        long sent = 0;
        while (sent < TOTAL) {
            long n = TOTAL - sent < (long)sizeof(out) ? TOTAL - sent : (long)sizeof(out);
            for (long i = 0; i < n; i++)
                out[i] = (unsigned char)((sent + i) * 7);
            long w = write(sv[1], out, (size_t)n);
            if (w <= 0)
                _exit(1);
            sent += w;
        }
        _exit(0);
    }
    close(sv[1]);
    static unsigned char in[65536];
    long got = 0;
    int bad = 0;
    for (;;) {
        long n = read(sv[0], in, sizeof(in));
        if (n <= 0)
            break;
        for (long i = 0; i < n; i++)
            bad |= in[i] != (unsigned char)((got + i) * 7);
        got += n;
    }
    is_int(got, TOTAL, "4 MiB through a stream with both sides blocking");
    ok(!bad, "the bytes arrive in order");
    is_int(wait_exit(pid), 0, "the writer finished");
    close(sv[0]);
}

static void test_rights_across(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    int on = 1;
    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
    pid_t pid = fork();
    if (pid == 0) {
        int p[2];
        if (pipe(p) != 0)
            _exit(1);
        if (write(p[1], "through a pipe", 14) != 14)
            _exit(2);
        close(p[1]);
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof(cbuf));
        struct iovec iov = {"P", 1};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &p[0], sizeof(int));
        if (sendmsg(sv[1], &mh, 0) != 1)
            _exit(3);
        close(p[0]);
        _exit(0);
    }
    char data[2];
    char cbuf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
    struct iovec iov = {data, sizeof(data)};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    is_int(e(recvmsg(sv[0], &mh, 0)), 1, "a blocking recvmsg gets the child's message");
    int fd = -1;
    struct ucred uc = {0, 0, 0};
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_type == SCM_RIGHTS)
            memcpy(&fd, CMSG_DATA(c), sizeof(fd));
        if (c->cmsg_type == SCM_CREDENTIALS)
            memcpy(&uc, CMSG_DATA(c), sizeof(uc));
    }
    is_int(uc.pid, pid, "SCM_CREDENTIALS carries the child's pid");
    is_int(wait_exit(pid), 0, "the child sent its pipe");
    char buf[32] = {0};
    is_int(e(read(fd, buf, sizeof(buf))), 14, "the pipe outlives its sender");
    close(fd);
    close(sv[0]);
    close(sv[1]);
}

static void test_connect_waits(void)
{
    struct sockaddr_un a;
    socklen_t al = path_addr(&a, "full");
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(l, (struct sockaddr *)&a, al);
    listen(l, 0);
    int first = socket(AF_UNIX, SOCK_STREAM, 0);
    is_int(e(connect(first, (struct sockaddr *)&a, al)), 0, "the backlog takes one");
    pid_t pid = fork();
    if (pid == 0) {
        pause_ms(200);
        int s = accept(l, NULL, NULL);
        _exit(s >= 0 ? 0 : 1);
    }
    int second = socket(AF_UNIX, SOCK_STREAM, 0);
    is_int(e(connect(second, (struct sockaddr *)&a, al)), 0,
           "a blocking connect to a full backlog waits for an accept");
    is_int(wait_exit(pid), 0, "the child accepted");
    close(first);
    close(second);
    close(l);
    unlink(a.sun_path);
}

static volatile int got_signal;

static void on_usr1(int sig)
{
    (void)sig;
    got_signal = 1;
}

static void test_eintr(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    /* The child cannot see when the parent is inside read, and a signal
     * caught just before it would leave the read to wait for the data: it
     * signals every 50 ms until the parent says the read was interrupted
     * (or 10 s went by), and only then writes. */
    int go[2];
    if (pipe(go) != 0) {
        ok(0, "pipe");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(go[1]);
        struct pollfd p = {.fd = go[0], .events = POLLIN};
        for (int i = 0; i < 200 && poll(&p, 1, 50) == 0; i++)
            kill(parent, SIGUSR1);
        if (write(sv[1], "r", 1) != 1)
            _exit(1);
        _exit(0);
    }
    close(go[0]);
    char c;
    is_int(e(read(sv[0], &c, 1)), -EINTR, "a blocked read is interrupted (no SA_RESTART)");
    ok(got_signal, "the handler ran");
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    close(go[1]);
    is_int(e(read(sv[0], &c, 1)), 1, "the data arrives afterwards");
    is_int(wait_exit(pid), 0, "the child signalled and wrote");
    signal(SIGUSR1, SIG_DFL);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/moat-unixf-%d", getpid());
    if (mkdir(dir, 0700) != 0) {
        plan(1);
        ok(0, "mkdir %s", dir);
        return 1;
    }
    test_accept_blocks();
    test_bulk();
    test_rights_across();
    test_connect_waits();
    test_eintr();
    rmdir(dir);
    done_testing();
}
