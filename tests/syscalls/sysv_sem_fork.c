/* System V semaphores between processes: blocking semop woken by another
 * process, the waiting counts, SEM_UNDO at exit, removal waking sleepers,
 * and a signal ending a wait. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/syscalls/sysv_common.h"
#include "tests/syscalls/tap.h"

static int set;

static int ncnt_is_1(int n)
{
    return semctl(set, n, GETNCNT) == 1;
}

static int zcnt_is_1(int n)
{
    return semctl(set, n, GETZCNT) == 1;
}

static long op(unsigned short num, short delta, short flg)
{
    struct sembuf b = {num, delta, flg};
    return SC(SYS_semop, set, &b, 1);
}

static int child_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void on_alarm(int sig)
{
    (void)sig;
}

int main(void)
{
    sysv_setup();
    set = sysv_track('s', semget(IPC_PRIVATE, 2, 0600));
    ok(set >= 0, "semget");

    /* A decrement waits for another process's increment. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(op(0, -1, 0) == 0 ? 0 : 1);
    ok(sysv_wait_until(ncnt_is_1, 0), "GETNCNT shows the sleeping child");
    is_int(semctl(set, 0, GETZCNT), 0, "GETZCNT does not");
    is_int(op(0, 1, 0), 0, "increment");
    is_int(child_status(pid), 0, "the child's decrement completed");
    is_int(semctl(set, 0, GETVAL), 0, "value back to 0");

    /* Wait-for-zero. */
    semctl(set, 1, SETVAL, 1);
    pid = fork();
    if (pid == 0)
        _exit(op(1, 0, 0) == 0 ? 0 : 1);
    ok(sysv_wait_until(zcnt_is_1, 1), "GETZCNT shows the sleeping child");
    is_int(op(1, -1, 0), 0, "decrement to 0");
    is_int(child_status(pid), 0, "the wait for zero completed");

    /* SEM_UNDO is applied when the process exits. */
    semctl(set, 0, SETVAL, 5);
    pid = fork();
    if (pid == 0) {
        op(0, -2, SEM_UNDO);
        op(0, 1, 0); /* without SEM_UNDO: stays */
        _exit(0);
    }
    is_int(child_status(pid), 0, "child exits with an adjustment pending");
    is_int(semctl(set, 0, GETVAL), 6, "SEM_UNDO reverted, the plain increment kept");

    /* IPC_RMID wakes sleepers with EIDRM. */
    pid = fork();
    if (pid == 0)
        _exit(op(1, -1, 0) == -EIDRM ? 0 : 1);
    ok(sysv_wait_until(ncnt_is_1, 1), "child asleep");
    is_int(semctl(set, 0, IPC_RMID), 0, "IPC_RMID");
    is_int(child_status(pid), 0, "the sleeper got EIDRM");

    /* A handled signal ends the wait with EINTR, SA_RESTART or not. */
    set = sysv_track('s', semget(IPC_PRIVATE, 1, 0600));
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    is_int(op(0, -1, 0), -EINTR, "semop interrupted: EINTR despite SA_RESTART");
    semctl(set, 0, IPC_RMID);
    done_testing();
}
