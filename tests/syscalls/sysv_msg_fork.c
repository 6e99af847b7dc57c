/* System V message queues between processes: a receiver waiting for its
 * type, a sender waiting for room, removal waking sleepers, and a signal
 * ending a wait. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/syscalls/sysv_common.h"
#include "tests/syscalls/tap.h"

struct m {
    long type;
    char text[64];
};

static int q;

static long snd(long type, const char *text, size_t len, int flg)
{
    struct m b = {.type = type};
    memcpy(b.text, text, len);
    return SC(SYS_msgsnd, q, &b, len, flg);
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

/* Wait until the child has had time to block: nothing shows a sleeping
 * receiver, so give it a moment. */
/* Until the child sleeps (state S in /proc/PID/stat: blocked in the call it
 * was forked to make), at most 5 s, then a little more. A fixed pause was not
 * enough on a VM whose host steals the CPU for a tenth of a second. */
static void pause_a_little(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    struct timespec ts = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 1000; i++) {
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0) {
            buf[n] = 0;
            const char *st = strrchr(buf, ')');
            if (st && st[1] == ' ' && st[2] == 'S')
                break;
        }
        nanosleep(&ts, NULL);
    }
    ts.tv_nsec = 20 * 1000 * 1000;
    nanosleep(&ts, NULL);
}

int main(void)
{
    sysv_setup();
    q = sysv_track('q', msgget(IPC_PRIVATE, 0600));
    ok(q >= 0, "msgget");

    pid_t pid = fork();
    if (pid == 0) {
        struct m b;
        long n = SC(SYS_msgrcv, q, &b, sizeof(b.text), 5, 0);
        _exit(n == 4 && b.type == 5 && memcmp(b.text, "five", 4) == 0 ? 0 : 1);
    }
    pause_a_little(pid);
    is_int(snd(3, "three", 5, 0), 0, "send a type the receiver skips");
    is_int(snd(5, "five", 4, 0), 0, "send its type");
    is_int(child_status(pid), 0, "the waiting receiver got type 5");
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    is_int((long)ds.msg_qnum, 1, "type 3 still queued");
    struct m b;
    msgrcv(q, &b, sizeof(b.text), 0, IPC_NOWAIT);

    /* A sender waits for room. */
    ds.msg_qbytes = 10;
    msgctl(q, IPC_SET, &ds);
    snd(1, "0123456789", 10, 0);
    pid = fork();
    if (pid == 0)
        _exit(snd(2, "abcde", 5, 0) == 0 ? 0 : 1);
    pause_a_little(pid);
    msgctl(q, IPC_STAT, &ds);
    is_int((long)ds.msg_qnum, 1, "the sender is waiting");
    ok(msgrcv(q, &b, sizeof(b.text), 1, 0) == 10, "make room");
    is_int(child_status(pid), 0, "the waiting send completed");
    ok(msgrcv(q, &b, sizeof(b.text), 2, IPC_NOWAIT) == 5, "its message arrived");

    /* IPC_RMID wakes a receiver with EIDRM. */
    pid = fork();
    if (pid == 0)
        _exit(SC(SYS_msgrcv, q, &b, sizeof(b.text), 0, 0) == -EIDRM ? 0 : 1);
    pause_a_little(pid);
    is_int(msgctl(q, IPC_RMID, NULL), 0, "IPC_RMID");
    is_int(child_status(pid), 0, "the receiver got EIDRM");

    /* A handled signal ends the wait with EINTR, SA_RESTART or not. */
    q = sysv_track('q', msgget(IPC_PRIVATE, 0600));
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    is_int(SC(SYS_msgrcv, q, &b, sizeof(b.text), 0, 0), -EINTR,
           "msgrcv interrupted: EINTR despite SA_RESTART");
    msgctl(q, IPC_RMID, NULL);
    done_testing();
}
