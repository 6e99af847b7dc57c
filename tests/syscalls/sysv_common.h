/* Shared by the System V IPC guest tests: they run natively as root, so
 * they first move into an IPC namespace of their own when they can, and
 * remove every object they made at exit in any case: no host state is
 * left behind. Keyed objects are only made inside such a namespace (or
 * inside moat, whose namespace is the sandbox's). */
#ifndef MOAT_TESTS_SYSCALLS_SYSV_COMMON_H
#define MOAT_TESTS_SYSCALLS_SYSV_COMMON_H

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int sysv_ids[64];
static char sysv_kind[64];
static int sysv_n;
static int sysv_private_ns;

static void sysv_cleanup(void)
{
    for (int i = 0; i < sysv_n; i++) {
        if (sysv_kind[i] == 'm')
            shmctl(sysv_ids[i], IPC_RMID, NULL);
        else if (sysv_kind[i] == 's')
            semctl(sysv_ids[i], 0, IPC_RMID);
        else
            msgctl(sysv_ids[i], IPC_RMID, NULL);
    }
    sysv_n = 0;
}

/* Remember an object for removal at exit (kind: 'm' shm, 's' sem, 'q' msg). */
static inline int sysv_track(char kind, int id)
{
    if (id >= 0 && sysv_n < 64) {
        sysv_ids[sysv_n] = id;
        sysv_kind[sysv_n++] = kind;
    }
    return id;
}

static inline void sysv_setup(void)
{
    sysv_private_ns = unshare(CLONE_NEWIPC) == 0;
    atexit(sysv_cleanup);
}

/* Whether keyed objects may be made: nobody else can see them. */
static inline int sysv_keys_ok(void)
{
    struct utsname u;
    if (sysv_private_ns)
        return 1;
    return uname(&u) == 0 && strstr(u.release, "moat") != NULL;
}

/* The contents of a (small) file, NUL-terminated; -1 when unreadable. */
static inline long sysv_read(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t r;
    while (got < n - 1 && (r = read(fd, buf + got, n - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    buf[got] = '\0';
    return (long)got;
}

/* The line of a /proc/sysvipc file whose id column is id, copied into
 * line; 0 when there is none. */
static inline int sysv_proc_line(const char *path, int id, char *line, size_t n)
{
    static char buf[65536];
    if (sysv_read(path, buf, sizeof(buf)) < 0)
        return 0;
    for (char *l = buf; *l;) {
        char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        int key, got;
        if (sscanf(l, "%d %d", &key, &got) == 2 && got == id && len < n) {
            memcpy(line, l, len);
            line[len] = '\0';
            return 1;
        }
        if (!nl)
            break;
        l = nl + 1;
    }
    return 0;
}

/* Polls cond() every 10 ms for up to 5 s: for a parent waiting until a
 * child is asleep in a call. */
static inline int sysv_wait_until(int (*cond)(int), int arg)
{
    for (int i = 0; i < 500; i++) {
        if (cond(arg))
            return 1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

#endif
