/*
 * Scheduling settings and accounting: sched_getscheduler/setscheduler/
 * getparam/setparam (policies, priorities, EPERM for real-time policies
 * without CAP_SYS_NICE, EINVAL rules), priority ranges,
 * sched_rr_get_interval, sched_setaffinity (with sched_getaffinity),
 * getpriority/setpriority, personality, times and getrusage.
 *
 * Natively as root it first drops to the sandbox's default capabilities,
 * which lack CAP_SYS_NICE. Raising nice, SCHED_IDLE and
 * SCHED_RESET_ON_FORK cannot be undone without CAP_SYS_NICE (with
 * RLIMIT_NICE 0): they come last.
 */
#include <sched.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

#include "tests/syscalls/default_caps.h"
#include "tests/syscalls/tap.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static void test_policies(void)
{
    struct sched_param p = {0};
    is_int(SC(SYS_sched_getscheduler, 0), SCHED_OTHER, "SCHED_OTHER to start with");
    is_int(SC(SYS_sched_getscheduler, SC(SYS_gettid)), SCHED_OTHER, "by tid too");
    is_int(SC(SYS_sched_getscheduler, -1), -EINVAL, "pid -1 is EINVAL");
    is_int(SC(SYS_sched_getscheduler, 999999), -ESRCH, "a missing pid is ESRCH");
    p.sched_priority = 7;
    is_int(SC(SYS_sched_getparam, 0, &p), 0, "sched_getparam");
    is_int(p.sched_priority, 0, "priority 0 for SCHED_OTHER");
    is_int(SC(SYS_sched_getparam, 0, NULL), -EINVAL, "sched_getparam to NULL is EINVAL");
    is_int(SC(SYS_sched_getparam, -1, &p), -EINVAL, "sched_getparam of pid -1");
    is_int(SC(SYS_sched_getparam, 999999, &p), -ESRCH, "sched_getparam of a missing pid");
    is_int(SC(SYS_sched_getparam, 0, (void *)8), -EFAULT, "sched_getparam to a bad pointer");

    p.sched_priority = 10;
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_FIFO, &p), -EPERM,
           "SCHED_FIFO without CAP_SYS_NICE is EPERM");
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_RR, &p), -EPERM, "SCHED_RR too");
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_OTHER, &p), -EINVAL,
           "SCHED_OTHER with priority 10 is EINVAL");
    p.sched_priority = 0;
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_FIFO, &p), -EINVAL,
           "SCHED_FIFO with priority 0 is EINVAL");
    p.sched_priority = 100;
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_FIFO, &p), -EINVAL, "priority 100 is EINVAL");
    p.sched_priority = 0;
    is_int(SC(SYS_sched_setscheduler, 0, 4, &p), -EINVAL, "policy 4 is EINVAL");
    is_int(SC(SYS_sched_setscheduler, 0, -1, &p), -EINVAL, "policy -1 is EINVAL");
    is_int(SC(SYS_sched_setscheduler, 0, 6, &p), -EINVAL,
           "SCHED_DEADLINE through sched_setscheduler is EINVAL");
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), -EINVAL, "a NULL param is EINVAL");
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8), -EFAULT, "a bad param");
    is_int(SC(SYS_sched_setscheduler, 999999, SCHED_OTHER, &p), -ESRCH, "a missing pid");

    is_int(SC(SYS_sched_setscheduler, 0, SCHED_BATCH, &p), 0, "SCHED_BATCH");
    is_int(SC(SYS_sched_getscheduler, 0), SCHED_BATCH, "reads SCHED_BATCH");
    is_int(SC(SYS_sched_setparam, 0, &p), 0, "sched_setparam keeps the policy");
    is_int(SC(SYS_sched_getscheduler, 0), SCHED_BATCH, "still SCHED_BATCH");
    p.sched_priority = 5;
    is_int(SC(SYS_sched_setparam, 0, &p), -EINVAL, "sched_setparam of 5 to SCHED_BATCH");
    p.sched_priority = 0;
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_OTHER, &p), 0, "back to SCHED_OTHER");
    is_int(SC(SYS_sched_getscheduler, 0), SCHED_OTHER, "reads SCHED_OTHER");

    is_int(SC(SYS_sched_get_priority_max, SCHED_FIFO), 99, "FIFO max 99");
    is_int(SC(SYS_sched_get_priority_min, SCHED_FIFO), 1, "FIFO min 1");
    is_int(SC(SYS_sched_get_priority_max, SCHED_RR), 99, "RR max 99");
    is_int(SC(SYS_sched_get_priority_min, SCHED_RR), 1, "RR min 1");
    is_int(SC(SYS_sched_get_priority_max, SCHED_OTHER), 0, "OTHER max 0");
    is_int(SC(SYS_sched_get_priority_min, SCHED_BATCH), 0, "BATCH min 0");
    is_int(SC(SYS_sched_get_priority_max, SCHED_IDLE), 0, "IDLE max 0");
    is_int(SC(SYS_sched_get_priority_max, 6), 0, "DEADLINE max 0");
    is_int(SC(SYS_sched_get_priority_max, 4), -EINVAL, "policy 4 is EINVAL");
    is_int(SC(SYS_sched_get_priority_min, -1), -EINVAL, "policy -1 is EINVAL");

    struct timespec ts = {9, 9};
    is_int(SC(SYS_sched_rr_get_interval, 0, &ts), 0, "sched_rr_get_interval");
    is_int(ts.tv_sec, 0, "a fair task's slice is under a second");
    is_int(SC(SYS_sched_rr_get_interval, -1, &ts), -EINVAL, "of pid -1");
    is_int(SC(SYS_sched_rr_get_interval, 999999, &ts), -ESRCH, "of a missing pid");
    is_int(SC(SYS_sched_rr_get_interval, 0, NULL), -EFAULT, "to NULL is EFAULT");
}

static void test_affinity(void)
{
    cpu_set_t orig, set, got;
    CPU_ZERO(&orig);
    long n = SC(SYS_sched_getaffinity, 0, sizeof(orig), &orig);
    ok(n > 0, "sched_getaffinity (%ld bytes)", n);
    ok(CPU_ISSET(0, &orig), "CPU 0 is allowed");
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    is_int(SC(SYS_sched_setaffinity, 0, sizeof(set), &set), 0, "pin to CPU 0");
    CPU_ZERO(&got);
    SC(SYS_sched_getaffinity, 0, sizeof(got), &got);
    ok(CPU_EQUAL(&got, &set), "sched_getaffinity reads CPU 0 alone (%d CPUs)", CPU_COUNT(&got));
    CPU_ZERO(&set);
    is_int(SC(SYS_sched_setaffinity, 0, sizeof(set), &set), -EINVAL, "an empty mask is EINVAL");
    CPU_SET(1000, &set);
    is_int(SC(SYS_sched_setaffinity, 0, sizeof(set), &set), -EINVAL,
           "a mask of a CPU that does not exist is EINVAL");
    is_int(SC(SYS_sched_setaffinity, 0, 0, &set), -EINVAL, "a zero-length mask is EINVAL");
    is_int(SC(SYS_sched_setaffinity, 0, sizeof(set), NULL), -EFAULT, "a NULL mask is EFAULT");
    is_int(SC(SYS_sched_setaffinity, 999999, sizeof(orig), &orig), -ESRCH, "a missing pid");
    is_int(SC(SYS_sched_setaffinity, 0, sizeof(orig), &orig), 0, "restore the mask");
    CPU_ZERO(&got);
    SC(SYS_sched_getaffinity, 0, sizeof(got), &got);
    ok(CPU_EQUAL(&got, &orig), "every CPU is back");
}

static void test_personality(void)
{
    is_int(SC(SYS_personality, 0xffffffffUL), PER_LINUX, "personality query: PER_LINUX");
    is_int(SC(SYS_personality, PER_LINUX | ADDR_NO_RANDOMIZE), PER_LINUX,
           "set ADDR_NO_RANDOMIZE returns the old value");
    is_int(SC(SYS_personality, 0xffffffffUL), PER_LINUX | ADDR_NO_RANDOMIZE, "query reads it");
    is_int(SC(SYS_personality, PER_LINUX), PER_LINUX | ADDR_NO_RANDOMIZE, "back to PER_LINUX");
    is_int(SC(SYS_personality, 0xffffffffUL), PER_LINUX, "query reads PER_LINUX");
}

static uint64_t tv_us(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

static void test_accounting(void)
{
    struct tms t0, t1;
    long c0 = SC(SYS_times, &t0);
    ok(c0 != -EFAULT, "times");
    is_int(SC(SYS_times, (void *)8), -EFAULT, "times to a bad pointer is EFAULT");
    ok(SC(SYS_times, NULL) >= c0, "times(NULL) only returns the tick count");
    /* Burn 150 ms of CPU in the guest (measured on the process CPU clock:
     * the machine may be busy), for at most 10 s. */
    struct timespec start, now, wall0, wall;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
    clock_gettime(CLOCK_MONOTONIC, &wall0);
    volatile uint64_t x = 0;
    do {
        for (int i = 0; i < 100000; i++)
            x += (uint64_t)i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
        clock_gettime(CLOCK_MONOTONIC, &wall);
    } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) <
                 150000000L &&
             wall.tv_sec - wall0.tv_sec < 10);
    long c1 = SC(SYS_times, &t1);
    ok(c1 >= c0 + 10, "the tick count advanced (%ld -> %ld)", c0, c1);
    ok(t1.tms_utime + t1.tms_stime >= t0.tms_utime + t0.tms_stime + 5,
       "CPU time advanced (%ld -> %ld ticks)", (long)(t0.tms_utime + t0.tms_stime),
       (long)(t1.tms_utime + t1.tms_stime));
    is_int(t1.tms_cutime + t1.tms_cstime, 0, "no children, no child time");

    struct rusage self, thread, children;
    is_int(SC(SYS_getrusage, RUSAGE_SELF, &self), 0, "getrusage RUSAGE_SELF");
    is_int(SC(SYS_getrusage, RUSAGE_THREAD, &thread), 0, "getrusage RUSAGE_THREAD");
    is_int(SC(SYS_getrusage, RUSAGE_CHILDREN, &children), 0, "getrusage RUSAGE_CHILDREN");
    uint64_t s = tv_us(self.ru_utime) + tv_us(self.ru_stime);
    uint64_t th = tv_us(thread.ru_utime) + tv_us(thread.ru_stime);
    ok(s >= 100000, "RUSAGE_SELF counts the burnt CPU (%lu us)", (unsigned long)s);
    ok(th <= s + 20000 && th + 20000 >= s, "one thread: THREAD ~ SELF (%lu us)", (unsigned long)th);
    ok(self.ru_utime.tv_usec < 1000000 && self.ru_stime.tv_usec < 1000000, "tv_usec in range");
    is_int(tv_us(children.ru_utime) + tv_us(children.ru_stime), 0, "no children");
    is_int(SC(SYS_getrusage, 5, &self), -EINVAL, "getrusage(5) is EINVAL");
    is_int(SC(SYS_getrusage, RUSAGE_SELF, (void *)8), -EFAULT, "getrusage to a bad pointer");
}

/* One way without CAP_SYS_NICE: last. */
static void test_nice(void)
{
    long p0 = SC(SYS_getpriority, PRIO_PROCESS, 0);
    ok(p0 >= 1 && p0 <= 40, "getpriority is 20 - nice (%ld)", p0);
    int nice0 = 20 - (int)p0;
    is_int(SC(SYS_getpriority, PRIO_PROCESS, SC(SYS_getpid)), p0, "by pid");
    ok(SC(SYS_getpriority, PRIO_PGRP, 0) >= p0, "PRIO_PGRP includes the caller");
    ok(SC(SYS_getpriority, PRIO_USER, 0) >= p0, "PRIO_USER includes the caller");
    is_int(SC(SYS_getpriority, 3, 0), -EINVAL, "which 3 is EINVAL");
    is_int(SC(SYS_getpriority, PRIO_PROCESS, 999999), -ESRCH, "a missing pid is ESRCH");
    is_int(SC(SYS_setpriority, PRIO_PROCESS, 999999, 0), -ESRCH, "setpriority of it too");
    is_int(SC(SYS_setpriority, PRIO_PROCESS, 0, nice0), 0, "setpriority to the same nice");
    if (nice0 < 19) {
        is_int(SC(SYS_setpriority, PRIO_PROCESS, 0, nice0 + 1), 0, "raise nice by one");
        is_int(SC(SYS_getpriority, PRIO_PROCESS, 0), p0 - 1, "getpriority follows");
        is_int(SC(SYS_setpriority, PRIO_PROCESS, 0, nice0), -EACCES,
               "lowering it again without CAP_SYS_NICE is EACCES");
    }
    is_int(SC(SYS_setpriority, PRIO_PROCESS, 0, 100), 0, "nice 100 is clamped");
    is_int(SC(SYS_getpriority, PRIO_PROCESS, 0), 1, "to 19");

    /* SCHED_IDLE counts as nice 20: leaving it needs CAP_SYS_NICE. */
    struct sched_param p = {0};
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_IDLE, &p), 0, "SCHED_IDLE");
    is_int(SC(SYS_sched_getscheduler, 0), SCHED_IDLE, "reads SCHED_IDLE");
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_OTHER, &p), -EPERM,
           "leaving SCHED_IDLE without CAP_SYS_NICE is EPERM");
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_IDLE | SCHED_RESET_ON_FORK, &p), 0,
           "SCHED_RESET_ON_FORK");
    is_int(SC(SYS_sched_getscheduler, 0), SCHED_IDLE | SCHED_RESET_ON_FORK, "reads it");
    is_int(SC(SYS_sched_setscheduler, 0, SCHED_IDLE, &p), -EPERM,
           "clearing SCHED_RESET_ON_FORK is EPERM");
    is_int(SC(SYS_sched_setparam, 0, &p), 0, "sched_setparam keeps it");
    is_int(SC(SYS_sched_getscheduler, 0), SCHED_IDLE | SCHED_RESET_ON_FORK, "still set");
}

int main(void)
{
    /* As root: the sandbox's set, without CAP_SYS_NICE. As another user
     * nothing changes: no test here needs more than a user has. */
    caps_normalize();
    test_policies();
    test_affinity();
    test_personality();
    test_accounting();
    test_nice();
    done_testing();
}
