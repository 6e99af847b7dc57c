/* Threads: pthread create/join in a loop, mutexes and condition variables
 * under contention, thread-directed signals, per-thread identity, exit of
 * the main thread, futex operations, robust mutexes and PI mutexes. */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

#define NTHREADS 8
#define ROUNDS   2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;

static void *adder(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(uintptr_t)syscall(SYS_gettid);
}

/* Threads take turns in order through one condition variable. */
static void *taker(void *arg)
{
    int me = (int)(uintptr_t)arg;
    for (int r = 0; r < 50; r++) {
        pthread_mutex_lock(&lock);
        while (turn % 4 != me)
            pthread_cond_wait(&cond, &lock);
        turn++;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void test_mutex_stress(void)
{
    pthread_t th[NTHREADS];
    counter = 0;
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, adder, NULL);
    pid_t tids[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        tids[i] = (pid_t)(uintptr_t)r;
    }
    is_int(counter, (long)NTHREADS * ROUNDS, "%d threads x %d locked increments", NTHREADS, ROUNDS);
    int distinct = 1;
    for (int i = 0; i < NTHREADS; i++)
        for (int j = 0; j < i; j++)
            if (tids[i] == tids[j] || tids[i] == getpid())
                distinct = 0;
    ok(distinct, "every thread had its own tid");

    turn = 0;
    pthread_t tk[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&tk[i], NULL, taker, (void *)(uintptr_t)i);
    for (int i = 0; i < 4; i++)
        pthread_join(tk[i], NULL);
    is_int(turn, 200, "condition variable hand-offs in order");
}

static void *nothing(void *arg)
{
    return arg;
}

static void test_create_join_loop(void)
{
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, (void *)(uintptr_t)i) != 0) {
            bad++;
            continue;
        }
        void *r;
        pthread_join(t, &r);
        if ((uintptr_t)r != (uintptr_t)i)
            bad++;
    }
    is_int(bad, 0, "300 create/join rounds");
    /* Detached threads that exit on their own. */
    for (int i = 0; i < 50; i++) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_create(&t, &a, nothing, NULL);
        pthread_attr_destroy(&a);
    }
    usleep(100000);
    ok(1, "50 detached threads came and went");
}

static volatile sig_atomic_t usr1_tid;
static void on_usr1(int sig)
{
    (void)sig;
    usr1_tid = (sig_atomic_t)syscall(SYS_gettid);
}

static atomic_int target_ready;
static atomic_int target_done;
static void *sig_target(void *arg)
{
    (void)arg;
    atomic_store(&target_ready, (int)syscall(SYS_gettid));
    while (!atomic_load(&target_done))
        usleep(1000);
    return NULL;
}

static void test_thread_signals(void)
{
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    atomic_store(&target_ready, 0);
    atomic_store(&target_done, 0);
    pthread_create(&t, NULL, sig_target, NULL);
    while (!atomic_load(&target_ready))
        usleep(1000);
    int tid = atomic_load(&target_ready);
    /* /proc/self/task lists the thread, and its status names it. */
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char want[32];
    snprintf(want, sizeof(want), "\nPid:\t%d\n", tid);
    ok(strstr(buf, want) != NULL, "/proc/self/task/%d/status names the thread", tid);
    usr1_tid = 0;
    is_int(e(syscall(SYS_tgkill, getpid(), tid, SIGUSR1)), 0, "tgkill to the other thread");
    for (int i = 0; i < 5000 && !usr1_tid; i++)
        usleep(1000);
    is_int(usr1_tid, tid, "the handler ran on that thread");
    is_int(e(syscall(SYS_tgkill, getpid() + 100000, tid, SIGUSR1)), -ESRCH,
           "tgkill with the wrong tgid: ESRCH");
    /* A process-directed signal blocked here goes to the thread that
     * does not block it. */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    usr1_tid = 0;
    kill(getpid(), SIGUSR1);
    for (int i = 0; i < 5000 && !usr1_tid; i++)
        usleep(1000);
    is_int(usr1_tid, tid, "kill() reaches the thread that does not block it");
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    atomic_store(&target_done, 1);
    pthread_join(t, NULL);
    signal(SIGUSR1, SIG_DFL);
}

static uint32_t fword;
static atomic_int woken;
static void *futex_waiter(void *arg)
{
    (void)arg;
    long r = syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    if (r == 0)
        atomic_fetch_add(&woken, 1);
    return NULL;
}

static uint32_t fword2;
static void test_futex(void)
{
    struct timespec ts = {0, 20000000};
    fword = 1;
    is_int(e(syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0)), -EAGAIN,
           "FUTEX_WAIT with a changed value: EAGAIN");
    fword = 0;
    is_int(e(syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0)), -ETIMEDOUT,
           "FUTEX_WAIT times out");
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 20000000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000;
    }
    is_int(e(syscall(SYS_futex, &fword, FUTEX_WAIT_BITSET_PRIVATE, 0, &now, NULL,
                     FUTEX_BITSET_MATCH_ANY)),
           -ETIMEDOUT, "FUTEX_WAIT_BITSET absolute timeout");

    pthread_t th[4];
    atomic_store(&woken, 0);
    fword = 0;
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, futex_waiter, NULL);
    /* The pause makes it likely all four wait already; a waiter a slow
     * host keeps late is waited for below (retries for up to 5 s), since
     * fword stays 0 and it will block once it gets there. */
    usleep(100000);
    long n = 0;
    for (int i = 0; i < 5000 && n < 1; i++) {
        n += syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        if (n < 1)
            usleep(1000);
    }
    is_int(n, 1, "FUTEX_WAKE 1 wakes one");
    usleep(50000);
    n = 0;
    for (int i = 0; i < 5000 && n < 1; i++) {
        n += syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0);
        if (n < 1)
            usleep(1000);
    }
    is_int(n, 1, "FUTEX_WAKE 0 wakes one too, as Linux");
    usleep(50000);
    /* Requeue the other two onto fword2 (0 woken, none beyond the two). */
    fword2 = 0;
    long moved = 0;
    for (int i = 0; i < 5000 && moved < 2; i++) {
        long r = syscall(SYS_futex, &fword, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(2L - moved),
                         &fword2, 0);
        if (r < 0)
            break;
        moved += r;
        if (moved < 2)
            usleep(1000);
    }
    is_int(moved, 2, "CMP_REQUEUE of the other two: 0 woken, 2 requeued");
    is_int(e(syscall(SYS_futex, &fword, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2L, &fword2, 5)),
           -EAGAIN, "CMP_REQUEUE with a stale value: EAGAIN");
    long w2 = syscall(SYS_futex, &fword2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
    is_int(w2, 2, "the requeued two wait on the second word");
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    is_int(atomic_load(&woken), 4, "all four waiters woke with 0");

    /* WAKE_OP: *fword2 += 1, wake on fword, then on fword2 if old == 0. */
    fword2 = 0;
    long r = syscall(SYS_futex, &fword, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &fword2,
                     FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0));
    is_int(r, 0, "WAKE_OP with no waiters wakes none");
    is_int(fword2, 1, "and applied its operation");
}

static pthread_mutex_t robust;
static void *die_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL; /* exits holding it */
}

static pthread_mutex_t pi;
static atomic_int pi_count;
static void *pi_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&pi);
        atomic_fetch_add(&pi_count, 1);
        pthread_mutex_unlock(&pi);
    }
    return NULL;
}

/* A robust PI mutex whose owner dies while another thread waits for it:
 * the waiter gets it with EOWNERDEAD, and it works on afterwards. */
static pthread_mutex_t robust_pi;
static atomic_int rpi_locked;
static void *die_holding_pi(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust_pi);
    atomic_store(&rpi_locked, 1);
    usleep(100000); /* the main thread blocks in FUTEX_LOCK_PI meanwhile */
    return NULL;
}

static void test_robust_pi_owner_dies(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&robust_pi, &a);
    pthread_t t;
    atomic_store(&rpi_locked, 0);
    pthread_create(&t, NULL, die_holding_pi, NULL);
    while (!atomic_load(&rpi_locked))
        usleep(1000);
    int r = pthread_mutex_lock(&robust_pi);
    is_int(r, EOWNERDEAD, "robust PI mutex, owner dies while we wait: EOWNERDEAD");
    is_int(pthread_mutex_consistent(&robust_pi), 0, "made consistent");
    is_int(pthread_mutex_unlock(&robust_pi), 0, "and unlocked: we own it");
    is_int(pthread_mutex_lock(&robust_pi), 0, "locked again");
    is_int(pthread_mutex_unlock(&robust_pi), 0, "unlocked again");
    pthread_join(t, NULL);
}

static void test_robust_and_pi(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &a);
    pthread_t t;
    pthread_create(&t, NULL, die_holding, NULL);
    pthread_join(t, NULL);
    int r = pthread_mutex_lock(&robust);
    is_int(r, EOWNERDEAD, "robust mutex of a dead owner: EOWNERDEAD");
    pthread_mutex_consistent(&robust);
    pthread_mutex_unlock(&robust);

    pthread_mutexattr_init(&a);
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&pi, &a);
    atomic_store(&pi_count, 0);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, pi_worker, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    is_int(atomic_load(&pi_count), 2000, "PI mutex under contention");
    pthread_mutex_lock(&pi);
    is_int(pthread_mutex_trylock(&pi), EBUSY, "PI trylock while held: EBUSY");
    pthread_mutex_unlock(&pi);
}

static void *exit_later(void *arg)
{
    (void)arg;
    usleep(100000);
    _exit(getpid() == (pid_t)syscall(SYS_gettid) ? 3 : 42);
}

static void test_main_thread_exit(void)
{
    /* In a child: the main thread exits with pthread_exit, the process
     * lives on in its other thread, whose _exit gives the status. */
    pid_t p = fork();
    if (p == 0) {
        pthread_t t;
        pthread_create(&t, NULL, exit_later, NULL);
        pthread_exit(NULL);
    }
    int st;
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 42,
       "main thread exits first, the process lives on (%#x)", st);

    /* exit_group from a thread ends every thread. */
    p = fork();
    if (p == 0) {
        pthread_t t;
        pthread_create(&t, NULL, sig_target, NULL);
        usleep(20000);
        exit(5);
    }
    waitpid(p, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 5, "exit() with another thread running");
}

static void *fork_in_thread(void *arg)
{
    (void)arg;
    pid_t p = fork();
    if (p == 0)
        _exit(8);
    int st;
    waitpid(p, &st, 0);
    return (void *)(uintptr_t)(WIFEXITED(st) ? WEXITSTATUS(st) : 99);
}

int main(void)
{
    test_mutex_stress();
    test_create_join_loop();
    test_thread_signals();
    test_futex();
    test_robust_and_pi();
    test_robust_pi_owner_dies();
    test_main_thread_exit();
    pthread_t t;
    pthread_create(&t, NULL, fork_in_thread, NULL);
    void *r;
    pthread_join(t, &r);
    is_int((long)(uintptr_t)r, 8, "fork from a thread, waited for by that thread");
    done_testing();
}
