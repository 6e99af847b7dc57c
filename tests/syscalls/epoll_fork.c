/*
 * epoll_wait blocked until another process writes, a thread blocked in
 * epoll_wait woken by another thread, and EINTR from a signal (epoll_wait is
 * never restarted). Needs fork, wait and threads.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/syscalls/signaller.h"
#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int ep, tp[2];

static void *waiter(void *arg)
{
    (void)arg;
    struct epoll_event ev;
    return (void *)(long)epoll_wait(ep, &ev, 1, 5000);
}

static void on_usr1(int sig)
{
    (void)sig;
}

int main(void)
{
    ep = epoll_create1(0);
    int p[2];
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5};
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    pid_t pid = fork();
    if (pid == 0) {
        msleep(50);
        write(p[1], "x", 1);
        _exit(0);
    }
    struct epoll_event out;
    is_int(e(epoll_wait(ep, &out, 1, 5000)), 1, "epoll_wait wakes on another process's write");
    ok(out.data.u64 == 5, "with the item's data");
    waitpid(pid, NULL, 0);
    char c;
    read(p[0], &c, 1);

    pipe(tp);
    ev.data.u64 = 6;
    epoll_ctl(ep, EPOLL_CTL_ADD, tp[0], &ev);
    pthread_t th;
    pthread_create(&th, NULL, waiter, NULL);
    msleep(50);
    write(tp[1], "y", 1);
    void *ret;
    pthread_join(th, &ret);
    is_int((long)ret, 1, "a thread in epoll_wait wakes on another thread's write");
    read(tp[0], &c, 1);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    pid = fork_signaller(parent, SIGUSR1);
    is_int(e(epoll_wait(ep, &out, 1, -1)), -EINTR, "a signal ends epoll_wait with EINTR");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    done_testing();
}
