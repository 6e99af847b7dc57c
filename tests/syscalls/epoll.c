/*
 * epoll in one process: create flags, epoll_ctl's errors, level- and
 * edge-triggered reports, EPOLLONESHOT and re-arming, EPOLLHUP/EPOLLERR
 * always reported, epoll of epoll and loops, what closing a watched fd
 * does, eventfd under epoll, and the wait calls' argument rules. Waits
 * another process ends: epoll_fork.c.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return (int)e(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
}

static int wait0(int ep, struct epoll_event *out, int max)
{
    return (int)e(epoll_wait(ep, out, max, 0));
}

static void test_create(void)
{
    is_int(e(syscall(SYS_epoll_create, 0)), -EINVAL, "epoll_create(0) is EINVAL");
    int ep = (int)e(syscall(SYS_epoll_create, 1));
    ok(ep >= 0, "epoll_create(1)");
    ok(!(fcntl(ep, F_GETFD) & FD_CLOEXEC), "without close-on-exec");
    close(ep);
    is_int(e(epoll_create1(O_NONBLOCK)), -EINVAL, "epoll_create1 with O_NONBLOCK is EINVAL");
    ep = (int)e(epoll_create1(EPOLL_CLOEXEC));
    ok(fcntl(ep, F_GETFD) & FD_CLOEXEC, "EPOLL_CLOEXEC");
    char link[64], buf[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", ep);
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    ok(strcmp(buf, "anon_inode:[eventpoll]") == 0, "/proc/self/fd link (%s)", buf);
    char c;
    is_int(e(read(ep, &c, 1)), -EINVAL, "read on an epoll fd is EINVAL");
    close(ep);
}

static void test_ctl_errors(void)
{
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN};
    is_int(add(ep, p[0], EPOLLIN, 1), 0, "ADD a pipe");
    is_int(add(ep, p[0], EPOLLIN, 1), -EEXIST, "ADD again is EEXIST");
    is_int(e(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev)), -ENOENT, "MOD of an unwatched fd is ENOENT");
    is_int(e(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL)), -ENOENT,
           "DEL of an unwatched fd is ENOENT");
    is_int(e(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev)), -EINVAL, "watching itself is EINVAL");
    is_int(e(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev)), -EINVAL, "epfd no epoll is EINVAL");
    is_int(e(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev)), -EBADF, "a closed fd is EBADF");
    is_int(e(epoll_ctl(999, EPOLL_CTL_ADD, p[0], &ev)), -EBADF, "a closed epfd is EBADF");
    int f = open("/proc/self/exe", O_RDONLY);
    is_int(e(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev)), -EPERM, "a regular file is EPERM");
    close(f);
    int nul = open("/dev/null", O_RDONLY);
    is_int(e(epoll_ctl(ep, EPOLL_CTL_ADD, nul, &ev)), -EPERM, "/dev/null is EPERM");
    close(nul);
    is_int(e(epoll_ctl(ep, 42, p[0], &ev)), -EINVAL, "an unknown op is EINVAL");
    is_int(e(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[1], (void *)8)), -EFAULT,
           "a bad event is EFAULT");
    is_int(e(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[0], (void *)8)), 0,
           "DEL does not read the event");
    ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    is_int(e(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev)), -EINVAL,
           "EPOLLEXCLUSIVE|EPOLLONESHOT is EINVAL");
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    is_int(e(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev)), 0, "EPOLLEXCLUSIVE on ADD");
    is_int(e(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev)), -EINVAL, "EPOLLEXCLUSIVE on MOD is EINVAL");
    ev.events = EPOLLIN;
    is_int(e(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev)), -EINVAL,
           "MOD of an exclusive item is EINVAL");
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void test_triggers(void)
{
    int ep = epoll_create1(0);
    int lt[2], et[2], os[2];
    pipe(lt);
    pipe(et);
    pipe(os);
    add(ep, lt[0], EPOLLIN, 10);
    add(ep, et[0], EPOLLIN | EPOLLET, 20);
    add(ep, os[0], EPOLLIN | EPOLLONESHOT, 30);
    struct epoll_event out[8];
    is_int(wait0(ep, out, 8), 0, "nothing ready");
    write(lt[1], "a", 1);
    is_int(wait0(ep, out, 8), 1, "level: reported");
    ok(out[0].data.u64 == 10 && out[0].events == EPOLLIN, "with its data and EPOLLIN");
    is_int(wait0(ep, out, 8), 1, "level: again while the data is there");
    char c;
    read(lt[0], &c, 1);
    is_int(wait0(ep, out, 8), 0, "level: not once drained");

    write(et[1], "a", 1);
    is_int(wait0(ep, out, 8), 1, "edge: reported");
    is_int(wait0(ep, out, 8), 0, "edge: once");
    write(et[1], "b", 1);
    is_int(wait0(ep, out, 8), 1, "edge: a new write is a new edge");
    ok(out[0].data.u64 == 20, "its data");

    write(os[1], "a", 1);
    is_int(wait0(ep, out, 8), 1, "oneshot: reported");
    write(os[1], "b", 1);
    is_int(wait0(ep, out, 8), 0, "oneshot: then disabled");
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 31};
    is_int(e(epoll_ctl(ep, EPOLL_CTL_MOD, os[0], &ev)), 0, "MOD re-arms");
    is_int(wait0(ep, out, 8), 1, "oneshot: reported again");
    ok(out[0].data.u64 == 31, "with the new data");

    write(lt[1], "x", 1);
    is_int(wait0(ep, out, 1), 1, "maxevents bounds the count");
    read(lt[0], &c, 1);

    close(et[1]);
    is_int(wait0(ep, out, 8), 1, "a hang-up is reported unasked");
    ok(out[0].data.u64 == 20 && (out[0].events & EPOLLHUP), "EPOLLHUP (%#x)", out[0].events);
    close(et[0]);

    int w[2];
    pipe(w);
    add(ep, w[1], EPOLLOUT, 40);
    close(w[0]);
    int n = wait0(ep, out, 8);
    int found = 0;
    for (int i = 0; i < n; i++) {
        if (out[i].data.u64 == 40)
            found = out[i].events;
    }
    is_hex((unsigned)found, EPOLLOUT | EPOLLERR, "a write end without reader: EPOLLOUT|EPOLLERR");
    close(w[1]);
    close(lt[0]);
    close(lt[1]);
    close(os[0]);
    close(os[1]);
    close(ep);
}

static void test_close(void)
{
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    add(ep, p[0], EPOLLIN, 7);
    int d = dup(p[0]);
    close(p[0]);
    write(p[1], "x", 1);
    struct epoll_event out[4];
    is_int(wait0(ep, out, 4), 1, "closing one of two fds keeps the registration");
    ok(out[0].data.u64 == 7, "still with its data");
    close(d);
    is_int(wait0(ep, out, 4), 0, "the last close removes it");
    int q[2];
    pipe(q);
    struct epoll_event ev = {.events = EPOLLIN};
    is_int(e(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev)), 0, "the fd number can be added anew");
    close(q[0]);
    close(q[1]);
    close(p[1]);
    close(ep);
}

static void test_nested(void)
{
    int a = epoll_create1(0), b = epoll_create1(0);
    int p[2];
    pipe(p);
    add(a, p[0], EPOLLIN, 1);
    is_int(add(b, a, EPOLLIN, 2), 0, "an epoll watches an epoll");
    is_int(add(a, b, EPOLLIN, 3), -ELOOP, "a loop is ELOOP");
    struct epoll_event out[4];
    is_int(wait0(b, out, 4), 0, "inner empty: outer quiet");
    struct pollfd pf = {.fd = a, .events = POLLIN};
    is_int(e(poll(&pf, 1, 0)), 0, "poll on an idle epoll fd: nothing");
    write(p[1], "x", 1);
    is_int(wait0(b, out, 4), 1, "inner ready: outer reports it");
    ok(out[0].data.u64 == 2 && (out[0].events & EPOLLIN), "as the inner epoll's item");
    is_int(e(poll(&pf, 1, 0)), 1, "poll on the epoll fd: readable");
    close(a);
    is_int(wait0(b, out, 4), 0, "the inner's close removes it from the outer");
    close(b);
    close(p[0]);
    close(p[1]);
}

static void test_wait_rules(void)
{
    int ep = epoll_create1(0);
    struct epoll_event out[2];
    is_int(e(epoll_wait(ep, out, 0, 0)), -EINVAL, "maxevents 0 is EINVAL");
    is_int(e(syscall(SYS_epoll_wait, ep, out, -1, 0)), -EINVAL, "maxevents -1 is EINVAL");
    is_int(e(syscall(SYS_epoll_wait, ep, (void *)0xffffffffffff0000ull, 1, 0)), -EFAULT,
           "a kernel-half buffer is EFAULT");
    is_int(e(epoll_wait(999, out, 1, 0)), -EBADF, "a closed epfd is EBADF");
    int p[2];
    pipe(p);
    is_int(e(epoll_wait(p[0], out, 1, 0)), -EINVAL, "a pipe as epfd is EINVAL");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    is_int(e(epoll_wait(ep, out, 2, 50)), 0, "a timeout with nothing ready is 0");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ok(ms >= 40, "after the timeout (%ld ms)", ms);
    struct timespec ts = {0, 1000000};
    is_int(e(syscall(SYS_epoll_pwait2, ep, out, 2, &ts, NULL, 8)), 0, "epoll_pwait2 with 1 ms");
    ts.tv_nsec = 1000000000;
    is_int(e(syscall(SYS_epoll_pwait2, ep, out, 2, &ts, NULL, 8)), -EINVAL,
           "epoll_pwait2 with a bad timespec is EINVAL");
    sigset_t set;
    sigemptyset(&set);
    is_int(e(syscall(SYS_epoll_pwait, ep, out, 2, 0, &set, 4)), -EINVAL,
           "epoll_pwait with sigsetsize 4 is EINVAL");
    is_int(e(syscall(SYS_epoll_pwait, ep, out, 2, 0, &set, 8)), 0, "epoll_pwait");

    int ev = eventfd(0, EFD_NONBLOCK);
    add(ep, ev, EPOLLIN | EPOLLET, 9);
    uint64_t one = 1;
    write(ev, &one, 8);
    is_int(wait0(ep, out, 2), 1, "an eventfd under epoll");
    ok(out[0].data.u64 == 9 && out[0].events == EPOLLIN, "EPOLLIN with its data");
    close(ev);
    close(p[0]);
    close(p[1]);
    close(ep);
}

int main(void)
{
    test_create();
    test_ctl_errors();
    test_triggers();
    test_close();
    test_nested();
    test_wait_rules();
    done_testing();
}
