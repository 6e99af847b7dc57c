/* System V semaphores in one process: values, atomic operation lists,
 * IPC_NOWAIT, timeouts, limits, the ctl commands and removal. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tests/syscalls/sysv_common.h"
#include "tests/syscalls/tap.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

static long getval(int id, int n)
{
    return SC(SYS_semctl, id, n, GETVAL, 0);
}

static long op(int id, unsigned short num, short delta, short flg)
{
    struct sembuf b = {num, delta, flg};
    return SC(SYS_semop, id, &b, 1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_values(int id)
{
    is_int(getval(id, 0), 0, "a new semaphore is 0");
    is_int(SC(SYS_semctl, id, 1, SETVAL, 5), 0, "SETVAL");
    is_int(getval(id, 1), 5, "GETVAL");
    is_int(SC(SYS_semctl, id, 1, GETPID, 0), getpid(), "GETPID after SETVAL");
    is_int(SC(SYS_semctl, id, 1, SETVAL, 32768), -ERANGE, "SETVAL above SEMVMX: ERANGE");
    is_int(SC(SYS_semctl, id, 1, SETVAL, -1), -ERANGE, "SETVAL below 0: ERANGE");
    is_int(SC(SYS_semctl, id, 3, GETVAL, 0), -EINVAL, "semnum out of range: EINVAL");
    unsigned short all[3] = {1, 2, 3}, got[3] = {9, 9, 9};
    is_int(semctl(id, 0, SETALL, (union semun){.array = all}), 0, "SETALL");
    is_int(semctl(id, 0, GETALL, (union semun){.array = got}), 0, "GETALL");
    ok(got[0] == 1 && got[1] == 2 && got[2] == 3, "GETALL reads what SETALL wrote");
    unsigned short big[3] = {1, 40000, 3};
    is_int(SC(SYS_semctl, id, 0, SETALL, big), -ERANGE, "SETALL above SEMVMX: ERANGE");
    is_int(getval(id, 1), 2, "a failed SETALL changes nothing");
    is_int(SC(SYS_semctl, id, 0, GETALL, (void *)16), -EFAULT, "GETALL to a bad buffer: EFAULT");
}

static void test_ops(int id)
{
    unsigned short zero[3] = {0, 0, 0};
    semctl(id, 0, SETALL, (union semun){.array = zero});
    is_int(op(id, 0, -1, IPC_NOWAIT), -EAGAIN, "decrement of 0 with IPC_NOWAIT: EAGAIN");
    is_int(op(id, 0, 2, 0), 0, "increment");
    is_int(op(id, 0, -1, 0), 0, "decrement");
    is_int(getval(id, 0), 1, "value after +2 -1");
    is_int(op(id, 2, 0, 0), 0, "wait-for-zero on 0 returns at once");
    is_int(op(id, 0, 0, IPC_NOWAIT), -EAGAIN, "wait-for-zero on 1 with IPC_NOWAIT: EAGAIN");
    is_int(SC(SYS_semctl, id, 0, GETPID, 0), getpid(), "GETPID after semop");

    /* All or nothing: the second operation blocks, so the first is undone. */
    struct sembuf two[2] = {{0, -1, 0}, {1, -1, IPC_NOWAIT}};
    is_int(SC(SYS_semop, id, two, 2), -EAGAIN, "an operation list that cannot complete: EAGAIN");
    is_int(getval(id, 0), 1, "and nothing of it is applied");
    struct sembuf both[2] = {{0, -1, 0}, {1, 3, 0}};
    is_int(SC(SYS_semop, id, both, 2), 0, "a list that can complete");
    ok(getval(id, 0) == 0 && getval(id, 1) == 3, "applied together");

    is_int(SC(SYS_semctl, id, 2, SETVAL, 32767), 0, "SETVAL SEMVMX");
    is_int(op(id, 2, 1, 0), -ERANGE, "beyond SEMVMX: ERANGE");
    is_int(SC(SYS_semctl, id, 2, SETVAL, 0), 0, "SETVAL 0");

    struct sembuf b = {0, 0, 0};
    is_int(SC(SYS_semop, id, &b, 0), -EINVAL, "no operations: EINVAL");
    static struct sembuf many[501];
    is_int(SC(SYS_semop, id, many, 501), -E2BIG, "more than SEMOPM: E2BIG");
    b.sem_num = 3;
    is_int(SC(SYS_semop, id, &b, 1), -EFBIG, "sem_num beyond the set: EFBIG");
    is_int(SC(SYS_semop, id, (void *)16, 1), -EFAULT, "operations at a bad address: EFAULT");
    b.sem_num = 0;
    is_int(SC(SYS_semop, -1, &b, 1), -EINVAL, "id -1: EINVAL");

    /* A timed wait that nothing ends. */
    semctl(id, 0, SETVAL, 1);
    struct timespec ts = {0, 50 * 1000 * 1000};
    struct sembuf z = {0, 0, 0};
    double t0 = now();
    is_int(SC(SYS_semtimedop, id, &z, 1, &ts), -EAGAIN, "semtimedop times out: EAGAIN");
    ok(now() - t0 >= 0.045, "after the timeout");
    struct timespec zero_ts = {0, 0};
    is_int(SC(SYS_semtimedop, id, &z, 1, &zero_ts), -EAGAIN, "zero timeout: EAGAIN");
    struct timespec bad = {0, 1000000000};
    is_int(SC(SYS_semtimedop, id, &z, 1, &bad), -EINVAL, "tv_nsec out of range: EINVAL");
    is_int(SC(SYS_semctl, id, 0, GETNCNT, 0), 0, "GETNCNT: nobody waits");
    is_int(SC(SYS_semctl, id, 0, GETZCNT, 0), 0, "GETZCNT: nobody waits");

    /* SEM_UNDO adjustments are bounded like values. */
    semctl(id, 1, SETVAL, 0);
    is_int(op(id, 1, 1, SEM_UNDO), 0, "increment with SEM_UNDO");
    is_int(op(id, 1, -1, SEM_UNDO), 0, "decrement with SEM_UNDO");
}

static void test_ctl(int id)
{
    struct semid_ds ds;
    is_int(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}), 0, "IPC_STAT");
    is_int((long)ds.sem_nsems, 3, "sem_nsems");
    is_int(ds.sem_perm.mode & 0777, 0600, "mode");
    is_int(ds.sem_perm.uid, geteuid(), "uid");
    ok(ds.sem_otime > 0 && ds.sem_ctime > 0, "times set");
    ds.sem_perm.mode = 0640;
    is_int(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}), 0, "IPC_SET");
    semctl(id, 0, IPC_STAT, (union semun){.buf = &ds});
    is_int(ds.sem_perm.mode & 0777, 0640, "mode changed");
    struct seminfo si;
    long max = semctl(0, 0, IPC_INFO, (union semun){.__buf = &si});
    ok(max >= 0, "IPC_INFO");
    ok(si.semmsl == 32000 && si.semopm == 500 && si.semvmx == 32767, "IPC_INFO limits");
    ok(semctl(0, 0, SEM_INFO, (union semun){.__buf = &si}) >= 0 && si.semusz >= 1 && si.semaem >= 3,
       "SEM_INFO counts sets and semaphores");
    int found = 0;
    for (long i = 0; i <= max; i++) {
        if (semctl((int)i, 0, SEM_STAT, (union semun){.buf = &ds}) == id)
            found = 1;
    }
    ok(found, "SEM_STAT by index returns the id");
    char line[512], want[512];
    ok(sysv_proc_line("/proc/sysvipc/sem", id, line, sizeof(line)), "listed in /proc/sysvipc/sem");
    snprintf(want, sizeof(want), "%10d %10d  %4o %10d %5d", 0, id, 0640, 3, (int)geteuid());
    ok(strncmp(line, want, strlen(want)) == 0, "its columns: %s", line);
    char v[64];
    sysv_read("/proc/sys/kernel/sem", v, sizeof(v));
    ok(strcmp(v, "32000\t1024000000\t500\t32000\n") == 0, "/proc/sys/kernel/sem");
    is_int(SC(SYS_semctl, id, 0, 99, 0), -EINVAL, "unknown command: EINVAL");
}

static void test_get(void)
{
    is_int(SC(SYS_semget, IPC_PRIVATE, 0, 0600), -EINVAL, "no semaphores: EINVAL");
    is_int(SC(SYS_semget, IPC_PRIVATE, 32001, 0600), -EINVAL, "more than SEMMSL: EINVAL");
    is_int(SC(SYS_semget, IPC_PRIVATE, -1, 0600), -EINVAL, "negative count: EINVAL");
    if (!sysv_keys_ok()) {
        skip("no private IPC namespace", "keyed sets");
        return;
    }
    key_t key = 0x5eed0002;
    int id = sysv_track('s', semget(key, 2, IPC_CREAT | 0600));
    ok(id >= 0, "create by key");
    is_int(semget(key, 0, 0), id, "found by key with nsems 0");
    is_int(SC(SYS_semget, key, 3, 0), -EINVAL, "more semaphores than the set: EINVAL");
    is_int(SC(SYS_semget, key, 2, IPC_CREAT | IPC_EXCL), -EEXIST, "IPC_EXCL: EEXIST");
    semctl(id, 0, IPC_RMID);
    is_int(SC(SYS_semget, key, 2, 0), -ENOENT, "removed: ENOENT");
}

int main(void)
{
    sysv_setup();
    int id = sysv_track('s', semget(IPC_PRIVATE, 3, 0600));
    ok(id >= 0, "semget IPC_PRIVATE");
    if (id >= 0) {
        test_values(id);
        test_ops(id);
        test_ctl(id);
        is_int(semctl(id, 0, IPC_RMID), 0, "IPC_RMID");
        is_int(getval(id, 0), -EINVAL, "removed: EINVAL");
        is_int(op(id, 0, 1, 0), -EINVAL, "semop of a removed set: EINVAL");
    }
    test_get();
    done_testing();
}
