/* Stress: fork/exec/wait rounds and thread create/exit/join rounds with
 * mutexes and condition variables. With "hold SECONDS" as arguments it
 * prints "stress done" and waits, so tests/e2e/leaks.sh can count the
 * Sentry's threads and stub processes from the host. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int ready, sum;

static void *worker(void *arg)
{
    int v = (int)(long)arg;
    pthread_mutex_lock(&m);
    while (!ready)
        pthread_cond_wait(&c, &m);
    sum += v;
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exit") == 0)
        return 0;
    int rounds = 1000, hold = 0;
    if (argc > 2 && strcmp(argv[1], "hold") == 0) {
        hold = atoi(argv[2]);
        rounds = argc > 3 ? atoi(argv[3]) : rounds;
    }
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';

    int bad = 0;
    for (int i = 0; i < rounds; i++) {
        pid_t p = fork();
        if (p == 0) {
            char *av[] = {self, "exit", NULL};
            execv(self, av);
            _exit(127);
        }
        int st;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad++;
    }
    is_int(bad, 0, "%d fork/exec/wait rounds", rounds);

    int tbad = 0;
    for (int r = 0; r < rounds / 10; r++) {
        pthread_t t[8];
        ready = 0;
        sum = 0;
        for (int i = 0; i < 8; i++)
            if (pthread_create(&t[i], NULL, worker, (void *)(long)(i + 1)) != 0)
                tbad++;
        pthread_mutex_lock(&m);
        ready = 1;
        pthread_cond_broadcast(&c);
        pthread_mutex_unlock(&m);
        for (int i = 0; i < 8; i++)
            pthread_join(t[i], NULL);
        if (sum != 36)
            tbad++;
    }
    is_int(tbad, 0, "%d rounds of 8 threads meeting on a condition variable", rounds / 10);
    if (hold) {
        printf("stress done\n");
        fflush(stdout);
        sleep((unsigned)hold);
    }
    done_testing();
}
