/*
 * AF_UNIX sockets in one process: socketpairs of every type, send/recv
 * flags, SCM_RIGHTS and SCM_CREDENTIALS to oneself, socket options, poll
 * readiness, named (filesystem and abstract) sockets with nonblocking
 * connect before accept, and the errors. Named sockets live in a fresh
 * directory under /tmp, removed at the end.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];
static volatile int sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

static short revents(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
    return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static socklen_t path_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static int get_int_opt(int fd, int name)
{
    int v = -12345;
    socklen_t len = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, name, &v, &len) < 0)
        return -errno - 100000;
    return v;
}

static void test_create(void)
{
    int a = (int)e(socket(AF_UNIX, SOCK_STREAM, 0));
    int b = (int)e(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ok(a >= 0 && b >= 0, "socket(AF_UNIX) stream and dgram");
    struct stat sa, sb;
    is_int(e(fstat(a, &sa)), 0, "fstat on a socket");
    ok(S_ISSOCK(sa.st_mode), "fstat says S_IFSOCK");
    fstat(b, &sb);
    ok(sa.st_ino != sb.st_ino, "each socket has its own inode number");
    char link[64], want[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", a);
    ssize_t n = readlink(link, want, sizeof(want) - 1);
    want[n > 0 ? n : 0] = '\0';
    char expect[64];
    snprintf(expect, sizeof(expect), "socket:[%lu]", (unsigned long)sa.st_ino);
    ok(strcmp(want, expect) == 0, "/proc/self/fd shows socket:[ino] (%s)", want);
    is_int(e(fcntl(b, F_GETFD)), FD_CLOEXEC, "SOCK_CLOEXEC sets close-on-exec");
    ok(e(fcntl(b, F_GETFL)) & O_NONBLOCK, "SOCK_NONBLOCK sets O_NONBLOCK");
    ok((e(fcntl(a, F_GETFL)) & O_ACCMODE) == O_RDWR, "a socket is open read-write");
    is_int(get_int_opt(a, SO_TYPE), SOCK_STREAM, "SO_TYPE stream");
    is_int(get_int_opt(b, SO_TYPE), SOCK_DGRAM, "SO_TYPE dgram");
    is_int(get_int_opt(a, SO_DOMAIN), AF_UNIX, "SO_DOMAIN");
    is_int(get_int_opt(a, SO_PROTOCOL), 0, "SO_PROTOCOL");
    is_int(get_int_opt(a, SO_ACCEPTCONN), 0, "SO_ACCEPTCONN before listen");
    is_int(get_int_opt(a, SO_ERROR), 0, "SO_ERROR");
    is_int(get_int_opt(a, 9999), -ENOPROTOOPT - 100000, "unknown option is ENOPROTOOPT");
    int v = 1;
    is_int(e(setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v))), 0, "SO_REUSEADDR set");
    is_int(get_int_opt(a, SO_REUSEADDR), 1, "SO_REUSEADDR reads back");
    is_int(e(setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &v, 2)), -EINVAL, "short optlen is EINVAL");
    v = 8192;
    is_int(e(setsockopt(a, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v))), 0, "SO_SNDBUF set");
    is_int(get_int_opt(a, SO_SNDBUF), 16384, "SO_SNDBUF reads back doubled");
    v = 1;
    setsockopt(a, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    is_int(get_int_opt(a, SO_RCVBUF), 2304, "SO_RCVBUF has a floor");
    short small = 0;
    socklen_t sl = sizeof(small);
    is_int(e(getsockopt(a, SOL_SOCKET, SO_TYPE, &small, &sl)), 0, "getsockopt with a short buffer");
    is_int(sl, 2, "... gives what fits");
    socklen_t *volatile badlen = (socklen_t *)8;
    is_int(e(getsockopt(a, SOL_SOCKET, SO_TYPE, &v, badlen)), -EFAULT,
           "bad optlen pointer is EFAULT");
    is_int(e(getsockopt(a, 6 /* IPPROTO_TCP */, 1, &v, &sl)), -EOPNOTSUPP,
           "other levels are EOPNOTSUPP");

    is_int(e(socket(46 /* AF_MAX */, SOCK_STREAM, 0)), -EAFNOSUPPORT, "unknown family");
    is_int(e(socket(AF_UNIX, 11, 0)), -EINVAL, "type past SOCK_MAX is EINVAL");
    is_int(e(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0)), -EINVAL, "unknown type flag is EINVAL");
    is_int(e(socket(AF_UNIX, SOCK_STREAM, 6)), -EPROTONOSUPPORT, "protocol 6 is EPROTONOSUPPORT");
    is_int(e(socket(AF_UNIX, SOCK_RDM, 0)), -ESOCKTNOSUPPORT, "SOCK_RDM is ESOCKTNOSUPPORT");
    int fd = (int)e(open("/dev/null", O_RDONLY));
    is_int(e(listen(fd, 1)), -ENOTSOCK, "listen on a file is ENOTSOCK");
    is_int(e(listen(999, 1)), -EBADF, "listen on a closed fd is EBADF");
    close(fd);
    close(a);
    close(b);
}

static void test_stream_pair(void)
{
    int sv[2];
    is_int(e(socketpair(AF_UNIX, SOCK_STREAM, 0, sv)), 0, "socketpair stream");
    is_int(revents(sv[0]), POLLOUT, "a fresh pair is writable only");
    is_int(e(write(sv[0], "hello", 5)), 5, "write");
    is_int(e(send(sv[0], " world", 6, 0)), 6, "send");
    is_int(revents(sv[1]), POLLIN | POLLOUT, "the other end is readable");
    int avail = -1;
    is_int(e(ioctl(sv[1], FIONREAD, &avail)), 0, "FIONREAD");
    is_int(avail, 11, "FIONREAD counts the stream's bytes");
    char buf[64] = {0};
    is_int(e(recv(sv[1], buf, 3, MSG_PEEK)), 3, "MSG_PEEK");
    is_int(e(read(sv[1], buf, sizeof(buf))), 11, "a read joins both writes");
    ok(memcmp(buf, "hello world", 11) == 0, "stream data in order");
    is_int(e(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)), -EAGAIN,
           "MSG_DONTWAIT on empty is EAGAIN");
    is_int(e(recv(sv[1], buf, 0, MSG_DONTWAIT)), -EAGAIN, "an empty recv waits for data too");
    is_int(e(read(sv[1], buf, 0)), 0, "an empty read(2) is 0");
    struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
    is_int(e(writev(sv[1], iov, 2)), 5, "writev");
    char x[2], y[3];
    struct iovec riov[2] = {{x, 2}, {y, 3}};
    is_int(e(readv(sv[0], riov, 2)), 5, "readv");
    ok(memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0, "readv scatters");
    is_int(e(recv(sv[0], (void *)1, 4, MSG_DONTWAIT)), -EAGAIN, "nothing to read: EAGAIN first");
    write(sv[1], "z", 1);
    is_int(e(recv(sv[0], (void *)8, 4, 0)), -EFAULT, "recv into a bad buffer is EFAULT");
    is_int(e(recv(sv[0], buf, 4, 0)), 1, "the byte is still there");
    is_int(e(send(sv[0], (void *)8, 4, 0)), -EFAULT, "send from a bad buffer is EFAULT");

    is_int(e(shutdown(sv[0], SHUT_WR)), 0, "shutdown(SHUT_WR)");
    is_int(e(read(sv[1], buf, sizeof(buf))), 0, "the peer reads EOF");
    ok(revents(sv[1]) & POLLRDHUP, "the peer polls POLLRDHUP");
    is_int(e(send(sv[0], "x", 1, MSG_NOSIGNAL)), -EPIPE, "send after SHUT_WR is EPIPE");
    is_int(e(shutdown(sv[0], 7)), -EINVAL, "shutdown with a bad how is EINVAL");
    close(sv[0]);
    close(sv[1]);

    /* SIGPIPE, EOF and ECONNRESET after the peer closed. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "unread", 6);
    close(sv[1]);
    ok((revents(sv[0]) & (POLLIN | POLLHUP | POLLRDHUP)) == (POLLIN | POLLHUP | POLLRDHUP),
       "peer closed: POLLIN|POLLHUP|POLLRDHUP");
    is_int(e(read(sv[0], buf, sizeof(buf))), -ECONNRESET,
           "peer closed with data unread: ECONNRESET");
    is_int(e(read(sv[0], buf, sizeof(buf))), 0, "then EOF");
    signal(SIGPIPE, on_sigpipe);
    sigpipes = 0;
    is_int(e(write(sv[0], "x", 1)), -EPIPE, "write to a closed peer is EPIPE");
    is_int(sigpipes, 1, "... and raises SIGPIPE");
    is_int(e(send(sv[0], "x", 1, MSG_NOSIGNAL)), -EPIPE, "MSG_NOSIGNAL: EPIPE");
    is_int(sigpipes, 1, "... without SIGPIPE");
    signal(SIGPIPE, SIG_DFL);
    close(sv[0]);

    /* A nonblocking writer fills the connection, then EAGAIN. */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    static char big[65536];
    long total = 0, r;
    while ((r = e(write(sv[0], big, sizeof(big)))) > 0)
        total += r;
    is_int(r, -EAGAIN, "a full connection is EAGAIN");
    ok(total > 0 && total < 4 << 20, "bounded buffering (%ld bytes)", total);
    ok(!(revents(sv[0]) & POLLOUT), "a full connection is not writable");
    long got = 0;
    while ((r = e(read(sv[1], big, sizeof(big)))) > 0)
        got += r;
    is_int(got, total, "every byte written is read");
    ok(revents(sv[0]) & POLLOUT, "writable again once read");
    close(sv[0]);
    close(sv[1]);
}

static void test_dgram_seqpacket(void)
{
    int sv[2];
    is_int(e(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)), 0, "socketpair dgram");
    send(sv[0], "one", 3, 0);
    send(sv[0], "", 0, 0);
    send(sv[0], "three!", 6, 0);
    int avail = -1;
    ioctl(sv[1], FIONREAD, &avail);
    is_int(avail, 3, "FIONREAD is the next datagram's size");
    char buf[16];
    is_int(e(recv(sv[1], buf, sizeof(buf), 0)), 3, "datagrams keep their boundaries");
    is_int(e(recv(sv[1], buf, sizeof(buf), 0)), 0, "an empty datagram");
    struct iovec iov = {buf, 2};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    is_int(e(recvmsg(sv[1], &mh, MSG_PEEK)), 2, "a short peek");
    ok(mh.msg_flags & MSG_TRUNC, "... says MSG_TRUNC");
    is_int(e(recv(sv[1], buf, 2, MSG_TRUNC)), 6, "MSG_TRUNC returns the real length");
    is_int(e(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)), -EAGAIN, "the rest was dropped");
    static char huge[300000];
    is_int(e(send(sv[0], huge, sizeof(huge), 0)), -EMSGSIZE,
           "a datagram past SO_SNDBUF is EMSGSIZE");
    struct sockaddr_un who;
    socklen_t wl = sizeof(who);
    is_int(e(getpeername(sv[0], (struct sockaddr *)&who, &wl)), 0, "getpeername on a pair");
    is_int(wl, 2, "an unbound peer has only a family");
    close(sv[1]);
    is_int(e(send(sv[0], "x", 1, 0)), -ECONNREFUSED, "send to a closed datagram peer");
    is_int(e(send(sv[0], "x", 1, 0)), -ENOTCONN, "then the socket is disconnected");
    close(sv[0]);

    is_int(e(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)), 0, "socketpair seqpacket");
    send(sv[0], "abc", 3, 0);
    send(sv[0], "defg", 4, 0);
    is_int(e(read(sv[1], buf, sizeof(buf))), 3, "seqpacket keeps records");
    mh.msg_flags = 0;
    iov.iov_len = 2;
    is_int(e(recvmsg(sv[1], &mh, 0)), 2, "a short read of a record");
    ok(mh.msg_flags & MSG_TRUNC, "... is MSG_TRUNC");
    close(sv[0]);
    is_int(e(recv(sv[1], buf, sizeof(buf), 0)), 0, "EOF once the peer closed");
    ok(revents(sv[1]) & POLLHUP, "POLLHUP once the peer closed");
    signal(SIGPIPE, on_sigpipe);
    sigpipes = 0;
    is_int(e(send(sv[1], "x", 1, 0)), -EPIPE, "send to a closed seqpacket peer is EPIPE");
    is_int(sigpipes, 0, "... without SIGPIPE");
    signal(SIGPIPE, SIG_DFL);
    close(sv[1]);
}

static int send_fds(int sock, const int *fds, int n, const void *data, size_t len)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 8)];
    memset(cbuf, 0, sizeof(cbuf));
    struct iovec iov = {(void *)data, len};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
    return (int)e(sendmsg(sock, &mh, 0));
}

static void test_rights(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    char path[96];
    snprintf(path, sizeof(path), "%s/passed", dir);
    int f = (int)e(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
    write(f, "payload", 7);
    is_int(send_fds(sv[0], &f, 1, "F", 1), 1, "sendmsg with SCM_RIGHTS");
    close(f); /* in flight: the message keeps the file open */
    char data[4], cbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {data, sizeof(data)};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    is_int(e(recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC)), 1, "recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    ok(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
           c->cmsg_len == CMSG_LEN(sizeof(int)),
       "one SCM_RIGHTS message");
    is_int(mh.msg_controllen, CMSG_SPACE(sizeof(int)), "msg_controllen is what was used");
    int got = -1;
    if (c)
        memcpy(&got, CMSG_DATA(c), sizeof(got));
    char buf[16] = {0};
    is_int(e(pread(got, buf, sizeof(buf), 0)), 7, "the received fd reads the file");
    ok(memcmp(buf, "payload", 7) == 0, "... its data");
    is_int(e(fcntl(got, F_GETFD)), FD_CLOEXEC, "MSG_CMSG_CLOEXEC");
    is_int(e(lseek(got, 0, SEEK_CUR)), 7, "it shares the sender's description (offset)");

    /* Two fds into room for one: MSG_CTRUNC, the second is closed. */
    int two[2] = {got, got};
    send_fds(sv[0], two, 2, "G", 1);
    char small[CMSG_SPACE(sizeof(int))];
    mh.msg_control = small;
    mh.msg_controllen = CMSG_LEN(sizeof(int));
    mh.msg_flags = 0;
    is_int(e(recvmsg(sv[1], &mh, 0)), 1, "recvmsg with room for one fd");
    ok(mh.msg_flags & MSG_CTRUNC, "... MSG_CTRUNC");
    c = CMSG_FIRSTHDR(&mh);
    int one = -1;
    if (c && c->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&one, CMSG_DATA(c), sizeof(one));
    ok(one >= 0 && e(fcntl(one, F_GETFD)) == 0, "the fd that fit is installed");
    close(one);

    /* No control buffer at all: the fds are dropped. */
    send_fds(sv[0], &got, 1, "H", 1);
    is_int(e(read(sv[1], data, sizeof(data))), 1, "read(2) of a message with fds");
    int nfd = (int)e(dup(0));
    close(nfd);
    ok(nfd <= got + 2, "no fd leaked by the read (next fd %d)", nfd);

    is_int(send_fds(sv[0], (int[]){999}, 1, "I", 1), -EBADF, "SCM_RIGHTS with a closed fd");
    struct iovec siov = {"J", 1};
    char bad[CMSG_SPACE(4)];
    memset(bad, 0, sizeof(bad));
    struct msghdr bm = {
        .msg_iov = &siov, .msg_iovlen = 1, .msg_control = bad, .msg_controllen = sizeof(bad)};
    ((struct cmsghdr *)bad)->cmsg_len = 4;
    ((struct cmsghdr *)bad)->cmsg_level = SOL_SOCKET;
    is_int(e(sendmsg(sv[0], &bm, 0)), -EINVAL, "a cmsg_len below the header is EINVAL");

    /* Credentials. */
    int on = 1;
    is_int(e(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on))), 0, "SO_PASSCRED");
    send(sv[0], "K", 1, 0);
    char cc[CMSG_SPACE(sizeof(struct ucred))];
    mh.msg_control = cc;
    mh.msg_controllen = sizeof(cc);
    mh.msg_flags = 0;
    iov.iov_len = 1;
    is_int(e(recvmsg(sv[1], &mh, 0)), 1, "recvmsg with SO_PASSCRED");
    c = CMSG_FIRSTHDR(&mh);
    struct ucred uc = {0, 0, 0};
    ok(c && c->cmsg_type == SCM_CREDENTIALS, "SCM_CREDENTIALS arrives");
    if (c)
        memcpy(&uc, CMSG_DATA(c), sizeof(uc));
    ok(uc.pid == getpid() && uc.uid == getuid() && uc.gid == getgid(),
       "the sender's pid, uid and gid (%d %u %u)", uc.pid, uc.uid, uc.gid);
    struct ucred peer;
    socklen_t pl = sizeof(peer);
    is_int(e(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &peer, &pl)), 0, "SO_PEERCRED");
    ok(pl == sizeof(peer) && peer.pid == getpid() && peer.uid == geteuid() && peer.gid == getegid(),
       "SO_PEERCRED is the pair's creator");
    close(got);
    close(sv[0]);
    close(sv[1]);
    unlink(path);
}

static void test_named(void)
{
    struct sockaddr_un a, b;
    socklen_t al = path_addr(&a, "srv");
    int l = (int)e(socket(AF_UNIX, SOCK_STREAM, 0));
    is_int(e(listen(l, 4)), -EINVAL, "listen before bind is EINVAL");
    is_int(e(bind(l, (struct sockaddr *)&a, al)), 0, "bind to a path");
    struct stat st;
    is_int(e(stat(a.sun_path, &st)), 0, "bind made a filesystem node");
    ok(S_ISSOCK(st.st_mode), "... of type S_IFSOCK");
    int l2 = (int)e(socket(AF_UNIX, SOCK_STREAM, 0));
    is_int(e(bind(l2, (struct sockaddr *)&a, al)), -EADDRINUSE,
           "binding a used path is EADDRINUSE");
    is_int(e(bind(l, (struct sockaddr *)&b, path_addr(&b, "other"))), -EINVAL,
           "binding a bound socket again is EINVAL");
    is_int(e(stat(b.sun_path, &st)), -ENOENT, "... and leaves no node");
    is_int(e(bind(l2, (struct sockaddr *)8, al)), -EFAULT, "bind from a bad address is EFAULT");
    is_int(e(bind(l2, (struct sockaddr *)&a, 1)), -EINVAL, "bind with a 1-byte address is EINVAL");
    struct sockaddr_un nosuch;
    socklen_t nl = path_addr(&nosuch, "missing/sock");
    is_int(e(bind(l2, (struct sockaddr *)&nosuch, nl)), -ENOENT, "bind in a missing directory");

    int c = (int)e(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    is_int(e(connect(c, (struct sockaddr *)&a, al)), -ECONNREFUSED,
           "connect to a bound socket that does not listen");
    is_int(e(listen(l, 1)), 0, "listen");
    is_int(get_int_opt(l, SO_ACCEPTCONN), 1, "SO_ACCEPTCONN after listen");
    ok(e(fcntl(l, F_SETFL, O_NONBLOCK)) == 0, "listener nonblocking");
    is_int(e(accept(l, NULL, NULL)), -EAGAIN, "a nonblocking accept with nothing queued");
    is_int(e(connect(c, (struct sockaddr *)&a, al)), 0,
           "nonblocking connect completes before accept");
    is_int(e(connect(c, (struct sockaddr *)&a, al)), -EISCONN, "a second connect is EISCONN");
    is_int(e(write(c, "early", 5)), 5, "the client writes before accept");
    int c2 = (int)e(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    is_int(e(connect(c2, (struct sockaddr *)&a, al)), 0, "backlog 1 takes a second connection");
    int c3 = (int)e(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    is_int(e(connect(c3, (struct sockaddr *)&a, al)), -EAGAIN, "a full backlog is EAGAIN");
    ok(revents(l) & POLLIN, "the listener polls readable");
    struct sockaddr_un peer;
    socklen_t pl = sizeof(peer);
    int s = (int)e(accept4(l, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC));
    ok(s >= 0, "accept4");
    is_int(pl, 2, "an unbound client's address is its family");
    is_int(e(fcntl(s, F_GETFD)), FD_CLOEXEC, "accept4 SOCK_CLOEXEC");
    ok(!(e(fcntl(s, F_GETFL)) & O_NONBLOCK), "the accepted socket does not inherit O_NONBLOCK");
    char buf[16] = {0};
    is_int(e(read(s, buf, sizeof(buf))), 5, "the server reads the early data");
    is_int(e(write(s, "back", 4)), 4, "the server writes");
    is_int(e(read(c, buf, sizeof(buf))), 4, "the client reads");
    struct sockaddr_un n;
    socklen_t len = sizeof(n);
    is_int(e(getsockname(s, (struct sockaddr *)&n, &len)), 0, "getsockname of the accepted socket");
    ok(len == al && strcmp(n.sun_path, a.sun_path) == 0, "... is the listener's path");
    len = sizeof(n);
    is_int(e(getpeername(c, (struct sockaddr *)&n, &len)), 0, "getpeername of the client");
    ok(len == al && strcmp(n.sun_path, a.sun_path) == 0, "... is the server's path");
    len = sizeof(n);
    getsockname(l, (struct sockaddr *)&n, &len);
    is_int(len, al, "getsockname of the listener");
    len = 3;
    memset(&n, 0x55, sizeof(n));
    is_int(e(getsockname(l, (struct sockaddr *)&n, &len)), 0, "getsockname with little room");
    ok(len == al && n.sun_path[1] == 0x55, "... cuts the address but gives its length");
    is_int(e(getsockname(l, (struct sockaddr *)&n, (socklen_t *)8)), -EFAULT,
           "getsockname with a bad length pointer");
    is_int(e(getpeername(l, (struct sockaddr *)&n, &len)), -ENOTCONN, "getpeername of a listener");
    int s2 = (int)e(accept(l, NULL, NULL));
    ok(s2 >= 0, "the second connection is accepted");
    is_int(e(connect(c3, (struct sockaddr *)&a, al)), 0, "room again: connect");

    int u = (int)e(socket(AF_UNIX, SOCK_STREAM, 0));
    is_int(e(send(u, "x", 1, 0)), -ENOTCONN, "send on an unconnected stream is ENOTCONN");
    is_int(e(getpeername(u, (struct sockaddr *)&n, &len)), -ENOTCONN, "getpeername unconnected");
    is_int(e(connect(u, (struct sockaddr *)&nosuch, nl)), -ENOENT, "connect to a missing path");
    char fpath[96];
    snprintf(fpath, sizeof(fpath), "%s/plain", dir);
    close((int)e(open(fpath, O_CREAT | O_WRONLY, 0600)));
    struct sockaddr_un pa = {.sun_family = AF_UNIX};
    strcpy(pa.sun_path, fpath);
    is_int(e(connect(u, (struct sockaddr *)&pa, sizeof(pa))), -ECONNREFUSED,
           "connect to a regular file is ECONNREFUSED");
    int dg = (int)e(socket(AF_UNIX, SOCK_DGRAM, 0));
    is_int(e(connect(dg, (struct sockaddr *)&a, al)), -EPROTOTYPE,
           "a datagram socket connecting to a stream one is EPROTOTYPE");
    is_int(e(listen(dg, 1)), -EOPNOTSUPP, "listen on a datagram socket");
    is_int(e(open(a.sun_path, O_RDWR)), -ENXIO, "open(2) of a socket node is ENXIO");

    close(s);
    close(s2);
    close(l);
    is_int(e(connect(u, (struct sockaddr *)&a, al)), -ECONNREFUSED,
           "connect after the listener closed is ECONNREFUSED");
    is_int(e(read(c3, buf, sizeof(buf))), -ECONNRESET,
           "a connection never accepted is reset when the listener closes");
    unlink(a.sun_path);
    unlink(fpath);
    close(c);
    close(c2);
    close(c3);
    close(u);
    close(dg);
    close(l2);
}

static void test_abstract_and_dgram(void)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "moat-unix-test-%d", getpid());
    socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    int l = (int)e(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    is_int(e(bind(l, (struct sockaddr *)&a, al)), 0, "bind an abstract name");
    struct sockaddr_un got;
    socklen_t gl = sizeof(got);
    getsockname(l, (struct sockaddr *)&got, &gl);
    ok(gl == al && memcmp(&got, &a, al) == 0, "getsockname gives the abstract name back");
    int other = (int)e(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    is_int(e(bind(other, (struct sockaddr *)&a, al)), -EADDRINUSE, "abstract names are unique");
    listen(l, 1);
    int c = (int)e(socket(AF_UNIX, SOCK_SEQPACKET, 0));
    is_int(e(connect(c, (struct sockaddr *)&a, al)), 0, "connect to an abstract name");
    int s = (int)e(accept(l, NULL, NULL));
    send(c, "rec", 3, 0);
    char buf[8];
    is_int(e(recv(s, buf, sizeof(buf), 0)), 3, "seqpacket over an abstract name");
    close(s);
    close(c);
    close(l);
    int again = (int)e(socket(AF_UNIX, SOCK_STREAM, 0));
    is_int(e(bind(again, (struct sockaddr *)&a, al)), 0, "a closed socket frees its abstract name");
    close(again);
    close(other);

    /* Autobind. */
    int x = (int)e(socket(AF_UNIX, SOCK_DGRAM, 0));
    is_int(e(bind(x, (struct sockaddr *)&a, sizeof(sa_family_t))), 0, "bind with just the family");
    gl = sizeof(got);
    getsockname(x, (struct sockaddr *)&got, &gl);
    ok(gl == offsetof(struct sockaddr_un, sun_path) + 6 && got.sun_path[0] == '\0',
       "autobind gives a 5-character abstract name (len %u)", gl);

    /* Unconnected datagrams by name. */
    struct sockaddr_un ya;
    socklen_t yl = path_addr(&ya, "dgram");
    int y = (int)e(socket(AF_UNIX, SOCK_DGRAM, 0));
    is_int(e(bind(y, (struct sockaddr *)&ya, yl)), 0, "bind a datagram socket to a path");
    is_int(e(sendto(x, "to-y", 4, 0, (struct sockaddr *)&ya, yl)), 4, "sendto a path");
    struct sockaddr_un from;
    socklen_t fl = sizeof(from);
    memset(buf, 0, sizeof(buf));
    is_int(e(recvfrom(y, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)), 4, "recvfrom");
    ok(fl == gl && memcmp(&from, &got, gl) == 0, "recvfrom names the sender");
    is_int(e(sendto(y, "to-x", 4, 0, (struct sockaddr *)&got, gl)), 4,
           "reply to the autobound name");
    is_int(e(recv(x, buf, sizeof(buf), 0)), 4, "the reply arrives");
    is_int(e(send(x, "x", 1, 0)), -ENOTCONN, "send without a destination is ENOTCONN");
    is_int(e(connect(x, (struct sockaddr *)&ya, yl)), 0, "connect a datagram socket");
    is_int(e(send(x, "abc", 3, 0)), 3, "send to the connected address");
    is_int(e(recv(y, buf, sizeof(buf), 0)), 3, "received");
    int z = (int)e(socket(AF_UNIX, SOCK_DGRAM, 0));
    is_int(e(connect(y, (struct sockaddr *)&got, gl)), 0, "y connects to x");
    struct sockaddr_un za;
    socklen_t zl = path_addr(&za, "z");
    bind(z, (struct sockaddr *)&za, zl);
    is_int(e(sendto(z, "no", 2, 0, (struct sockaddr *)&ya, yl)), -EPERM,
           "sendto a socket connected elsewhere is EPERM");
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    is_int(e(connect(x, &unspec, sizeof(unspec))), 0, "AF_UNSPEC disconnects");
    is_int(e(send(x, "x", 1, 0)), -ENOTCONN, "... so send needs a destination again");
    struct sockaddr_un gone = {.sun_family = AF_UNIX};
    memcpy(gone.sun_path, "\0moat-nobody-here", 17);
    is_int(e(sendto(x, "x", 1, 0, (struct sockaddr *)&gone,
                    offsetof(struct sockaddr_un, sun_path) + 17)),
           -ECONNREFUSED, "sendto an unbound abstract name is ECONNREFUSED");
    close(x);
    close(y);
    close(z);
    unlink(ya.sun_path);
    unlink(za.sun_path);
}

static void test_timeout_mmsg(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    struct timeval tv = {0, 50000}, back = {0, 0};
    is_int(e(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))), 0, "SO_RCVTIMEO");
    socklen_t bl = sizeof(back);
    getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &bl);
    ok(bl == sizeof(back) && back.tv_sec == 0 && back.tv_usec >= 50000 && back.tv_usec < 60000,
       "SO_RCVTIMEO reads back (to a clock tick)");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char buf[8];
    is_int(e(recv(sv[0], buf, sizeof(buf), 0)), -EAGAIN, "a receive timeout is EAGAIN");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ok(ms >= 40 && ms < 5000, "... after the timeout (%ld ms)", ms);
    tv.tv_usec = 2000000;
    is_int(e(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))), -EDOM,
           "tv_usec out of range is EDOM");

    struct mmsghdr out[3], in[3];
    struct iovec oiov[3], iiov[3];
    char ib[3][8];
    const char *words[3] = {"a", "bb", "ccc"};
    memset(out, 0, sizeof(out));
    memset(in, 0, sizeof(in));
    for (int i = 0; i < 3; i++) {
        oiov[i] = (struct iovec){(void *)words[i], strlen(words[i])};
        out[i].msg_hdr.msg_iov = &oiov[i];
        out[i].msg_hdr.msg_iovlen = 1;
        iiov[i] = (struct iovec){ib[i], sizeof(ib[i])};
        in[i].msg_hdr.msg_iov = &iiov[i];
        in[i].msg_hdr.msg_iovlen = 1;
    }
    is_int(e(sendmmsg(sv[1], out, 3, 0)), 3, "sendmmsg sends three datagrams");
    is_int(e(recvmmsg(sv[0], in, 3, MSG_DONTWAIT, NULL)), 3, "recvmmsg receives them");
    ok(in[0].msg_len == 1 && in[1].msg_len == 2 && in[2].msg_len == 3, "msg_len of each");
    is_int(e(recvmmsg(sv[0], in, 3, MSG_DONTWAIT, NULL)), -EAGAIN, "then nothing is left");
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/moat-unix-%d", getpid());
    if (mkdir(dir, 0700) != 0) {
        plan(1);
        ok(0, "mkdir %s", dir);
        return 1;
    }
    test_create();
    test_stream_pair();
    test_dgram_seqpacket();
    test_rights();
    test_named();
    test_abstract_and_dgram();
    test_timeout_mmsg();
    rmdir(dir);
    done_testing();
}
