/*
 * Not a TAP program: tests/e2e/signal_handler.sh drives it. Catches SIGINT
 * (with SA_RESTART when given an argument), says "ready", then waits on a
 * futex nobody wakes: only a signal from outside ends the wait. Prints what
 * the wait returned, so the script sees EINTR or a transparent restart.
 */
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void on_int(int sig)
{
    (void)sig;
    static const char msg[] = "caught SIGINT\n";
    write(1, msg, sizeof(msg) - 1);
}

int main(int argc, char **argv)
{
    (void)argv;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_int;
    sa.sa_flags = argc > 1 ? SA_RESTART : 0;
    sigaction(SIGINT, &sa, NULL);
    static const char ready[] = "ready\n";
    write(1, ready, sizeof(ready) - 1);
    int word = 0;
    long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    printf("futex returned %ld errno %d\n", r, r < 0 ? errno : 0);
    return 0;
}
