/* AF_UNIX socketpairs through the socket file's ops, with no task (calls
 * that would sleep answer EAGAIN): stream joining and partial reads,
 * datagram boundaries and truncation, flow control against SO_SNDBUF,
 * in-flight files and what closing either end does. The guest tests
 * (tests/syscalls/unix_socket*.c) cover the syscall side against Linux. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/net/socket.h"
#include "sentry/net/unix.h"

static struct vfs_file *a, *b;

static void pair(int type)
{
    cr_assert_eq(net_socketpair(NULL, ABI_AF_UNIX, type, 0, ABI_O_NONBLOCK, &a, &b), 0);
}

static void unpair(void)
{
    if (a)
        vfs_file_put(a);
    if (b)
        vfs_file_put(b);
    a = b = NULL;
}

TestSuite(unix_sock, .fini = unpair);

static int64_t wr(struct vfs_file *f, const char *s, size_t n)
{
    return f->ops->write(f, s, n);
}

static int64_t rd(struct vfs_file *f, char *buf, size_t n)
{
    return f->ops->read(f, buf, n);
}

Test(unix_sock, stream_joins_and_splits)
{
    pair(ABI_SOCK_STREAM);
    char buf[16] = {0};
    cr_assert_eq(rd(b, buf, sizeof(buf)), -ABI_EAGAIN);
    cr_assert_eq(wr(a, "abc", 3), 3);
    cr_assert_eq(wr(a, "defg", 4), 4);
    cr_assert_eq(rd(b, buf, 5), 5);
    cr_assert_str_eq(buf, "abcde");
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(rd(b, buf, sizeof(buf)), 2);
    cr_assert_str_eq(buf, "fg");
    cr_assert_eq(vfs_file_poll(b) & ABI_POLLIN, 0);
}

Test(unix_sock, dgram_boundaries_and_truncation)
{
    pair(ABI_SOCK_DGRAM);
    char buf[16] = {0};
    cr_assert_eq(wr(a, "first", 5), 5);
    cr_assert_eq(wr(a, "2", 1), 1);
    cr_assert_eq(rd(b, buf, 3), 3, "a short read takes part of one datagram");
    cr_assert_eq(memcmp(buf, "fir", 3), 0);
    cr_assert_eq(rd(b, buf, sizeof(buf)), 1, "the rest of it was dropped");
    cr_assert_eq(buf[0], '2');
}

Test(unix_sock, flow_control)
{
    pair(ABI_SOCK_STREAM);
    static char chunk[65536];
    int64_t total = 0, r;
    while ((r = wr(a, chunk, sizeof(chunk))) > 0)
        total += r;
    cr_assert_eq(r, -ABI_EAGAIN);
    cr_assert(total >= UNIX_DEFAULT_BUF / 2 && total <= 2 * UNIX_DEFAULT_BUF, "buffered %ld bytes",
              (long)total);
    cr_assert_eq(vfs_file_poll(a) & ABI_POLLOUT, 0, "a full sender is not writable");
    int64_t got = 0;
    while ((r = rd(b, chunk, sizeof(chunk))) > 0)
        got += r;
    cr_assert_eq(got, total);
    cr_assert(vfs_file_poll(a) & ABI_POLLOUT, "reading gives the sender room again");
}

Test(unix_sock, close_ends_the_stream)
{
    pair(ABI_SOCK_STREAM);
    char buf[4];
    cr_assert_eq(wr(a, "x", 1), 1);
    vfs_file_put(b); /* with a byte from a unread */
    b = NULL;
    uint32_t ev = vfs_file_poll(a);
    cr_assert(ev & ABI_POLLHUP);
    cr_assert(ev & ABI_POLLRDHUP);
    cr_assert_eq(rd(a, buf, sizeof(buf)), -ABI_ECONNRESET);
    cr_assert_eq(rd(a, buf, sizeof(buf)), 0);
    cr_assert_eq(wr(a, "y", 1), -ABI_EPIPE);
}

static int64_t send_files(struct vfs_file *f, struct vfs_file **files, int n)
{
    struct net_socket *s = net_socket_of(f);
    struct net_io io = {0, NULL}; /* a datagram of no bytes still carries files */
    struct vfs_file **copy = malloc(sizeof(*copy) * (size_t)n);
    for (int i = 0; i < n; i++)
        copy[i] = vfs_file_get(files[i]);
    struct net_send m = {.io = &io, .files = copy, .nfiles = n, .nonblock = true};
    int64_t r = s->ops->send(s, NULL, &m);
    for (int i = 0; i < m.nfiles; i++)
        vfs_file_put(m.files[i]);
    free(m.files);
    return r;
}

Test(unix_sock, files_in_flight)
{
    pair(ABI_SOCK_DGRAM);
    struct vfs_file *x, *y;
    cr_assert_eq(net_socketpair(NULL, ABI_AF_UNIX, ABI_SOCK_STREAM, 0, 0, &x, &y), 0);
    cr_assert_eq(send_files(a, &x, 1), 0);
    cr_assert_eq(x->refs, 2, "the message holds the file");
    vfs_file_put(x); /* the sender closes it: it stays open in flight */
    cr_assert_eq(x->refs, 1);
    struct net_socket *s = net_socket_of(b);
    struct net_io io = {0, NULL};
    struct net_recv r = {.io = &io, .nonblock = true};
    cr_assert_eq(s->ops->recv(s, NULL, &r), 0);
    cr_assert_eq(r.nfiles, 1);
    cr_assert_eq(r.files[0], x);
    vfs_file_put(r.files[0]);
    free(r.files);
    vfs_file_put(y);

    /* Unread files are closed with the receiving socket. */
    struct vfs_file *p, *q;
    cr_assert_eq(net_socketpair(NULL, ABI_AF_UNIX, ABI_SOCK_STREAM, 0, 0, &p, &q), 0);
    cr_assert_eq(send_files(a, &p, 1), 0);
    vfs_file_put(p);
    vfs_file_put(b);
    b = NULL;
    cr_assert_eq(q->ops->read(q, (char[4]){0}, 4), 0, "p was closed with b's queue: EOF");
    vfs_file_put(q);
}

Test(unix_sock, other_families)
{
    struct vfs_file *f;
    cr_assert_eq(net_socketpair(NULL, ABI_AF_MAX, ABI_SOCK_STREAM, 0, 0, &f, &f),
                 -ABI_EAFNOSUPPORT);
    cr_assert_eq(net_socketpair(NULL, ABI_AF_UNIX, 7, 0, 0, &f, &f), -ABI_ESOCKTNOSUPPORT);
    cr_assert_eq(net_socketpair(NULL, ABI_AF_UNIX, ABI_SOCK_STREAM, 6, 0, &f, &f),
                 -ABI_EPROTONOSUPPORT);
}
