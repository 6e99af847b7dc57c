/*
 * poll, select and ppoll waits that another process ends: data arriving,
 * a hang-up, and a signal (EINTR; poll is never restarted by SA_RESTART
 * when a handler ran). Needs fork and wait.
 */
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
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

static pid_t writer(int fd, int ms, int close_only)
{
    pid_t pid = fork();
    if (pid == 0) {
        msleep(ms);
        if (!close_only)
            write(fd, "x", 1);
        _exit(0);
    }
    return pid;
}

static void on_usr1(int sig)
{
    (void)sig;
}

int main(void)
{
    int p[2];
    pipe(p);
    pid_t pid = writer(p[1], 50, 0);
    struct pollfd fd = {.fd = p[0], .events = POLLIN};
    is_int(e(poll(&fd, 1, 5000)), 1, "poll wakes when another process writes");
    is_int(fd.revents, POLLIN, "POLLIN");
    waitpid(pid, NULL, 0);
    char c;
    read(p[0], &c, 1);

    pid = writer(p[1], 50, 0);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    is_int(e(select(p[0] + 1, &r, NULL, NULL, NULL)), 1, "select wakes likewise");
    waitpid(pid, NULL, 0);
    read(p[0], &c, 1);

    pid = writer(p[1], 50, 1);
    close(p[1]);
    fd.revents = 0;
    is_int(e(poll(&fd, 1, 5000)), 1, "poll wakes on the last writer's exit");
    is_int(fd.revents, POLLHUP, "POLLHUP");
    waitpid(pid, NULL, 0);
    close(p[0]);

    pipe(p);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    pid = fork_signaller(parent, SIGUSR1);
    is_int(e(poll(&fd, 1, -1)), -EINTR,
           "a handled signal ends poll with EINTR even with SA_RESTART");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pid = fork_signaller(parent, SIGUSR1);
    struct timeval tv = {5, 0};
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    is_int(e(select(p[0] + 1, &r, NULL, NULL, &tv)), -EINTR, "and select");
    ok(tv.tv_sec < 5, "select wrote the time left back");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);
    done_testing();
}
