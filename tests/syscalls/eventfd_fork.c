/*
 * eventfd reads and writes that block until another process acts on the
 * counter. Needs fork and wait.
 */
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>

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

int main(void)
{
    int fd = eventfd(0, 0);
    pid_t pid = fork();
    if (pid == 0) {
        msleep(50);
        uint64_t v = 42;
        write(fd, &v, 8);
        _exit(0);
    }
    uint64_t v = 0;
    is_int(e(read(fd, &v, 8)), 8, "a read at 0 blocks until a write");
    is_int((long)v, 42, "and takes its value");
    waitpid(pid, NULL, 0);

    v = UINT64_MAX - 1;
    write(fd, &v, 8);
    pid = fork();
    if (pid == 0) {
        msleep(50);
        uint64_t got;
        read(fd, &got, 8);
        _exit(got == UINT64_MAX - 1 ? 0 : 1);
    }
    v = 7;
    is_int(e(write(fd, &v, 8)), 8, "a write that would overflow blocks until a read");
    int st;
    waitpid(pid, &st, 0);
    is_int(st, 0, "the reader saw the full count");
    read(fd, &v, 8);
    is_int((long)v, 7, "then the blocked write's value");
    close(fd);
    done_testing();
}
