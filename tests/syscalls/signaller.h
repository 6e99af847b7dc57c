/* For guest tests whose blocking call a signal from another process must
 * interrupt. The other process cannot see when the call has begun, and a
 * single signal caught just before it would leave the call waiting without
 * end (or to its timeout); so the signal is sent again and again until the
 * call is seen to have ended. */
#ifndef MOAT_TESTS_SYSCALLS_SIGNALLER_H
#define MOAT_TESTS_SYSCALLS_SIGNALLER_H

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void signaller_nap(void)
{
    struct timespec gap = {0, 50 * 1000000L};
    nanosleep(&gap, NULL);
}

/* A child that sends sig to target every 50 ms until killed; its pid. The
 * caller kills it with SIGKILL and reaps it once its call returned. */
static inline pid_t fork_signaller(pid_t target, int sig)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) {
            signaller_nap();
            kill(target, sig);
        }
    }
    return pid;
}

/* Send sig to the child p now and every 50 ms until it exits (up to 10 s,
 * then kill it, so that the caller's check fails rather than hangs); its
 * wait status. */
static inline int signal_until_exit(pid_t p, int sig)
{
    int st = 0;
    for (int i = 0; i < 200; i++) {
        kill(p, sig);
        signaller_nap();
        if (waitpid(p, &st, WNOHANG) == p)
            return st;
    }
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
    return st;
}

#endif
