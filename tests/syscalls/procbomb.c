/* Sandbox only (tests/e2e/procbomb.sh drives it): what a guest that makes
 * tasks without end meets, and how the sandbox ends while one does.
 *
 *   procbomb threads   threads until pthread_create fails: "threads N err E"
 *   procbomb forks     processes until fork fails: "forks N err E"
 *   procbomb zombies   children that exit, unreaped, until fork fails
 *   procbomb orphans   children fork without pause while init exits 7 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX 100000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int go;

static void *parked(void *arg)
{
    pthread_mutex_lock(&m);
    while (!go)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return arg;
}

static int threads(void)
{
    static pthread_t t[MAX];
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    int n = 0, err = 0;
    while (n < MAX && (err = pthread_create(&t[n], &a, parked, NULL)) == 0)
        n++;
    printf("threads %d err %s\n", n, strerror(err));
    fflush(stdout);
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("joined %d\n", n);
    return 0;
}

static int forks(void)
{
    static pid_t p[MAX];
    int n = 0, err = 0;
    while (n < MAX) {
        pid_t c = fork();
        if (c == 0) {
            for (;;)
                pause();
        }
        if (c < 0) {
            err = errno;
            break;
        }
        p[n++] = c;
    }
    printf("forks %d err %s\n", n, strerror(err));
    fflush(stdout);
    int reaped = 0;
    for (int i = 0; i < n; i++) {
        kill(p[i], SIGKILL);
        int st;
        if (waitpid(p[i], &st, 0) == p[i])
            reaped++;
    }
    printf("reaped %d\n", reaped);
    return 0;
}

static int zombies(void)
{
    int n = 0, err = 0;
    while (n < MAX) {
        pid_t c = fork();
        if (c == 0)
            _exit(0);
        if (c < 0) {
            err = errno;
            break;
        }
        n++;
    }
    printf("zombies %d err %s\n", n, strerror(err));
    int reaped = 0, st;
    while (waitpid(-1, &st, 0) > 0)
        reaped++;
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    int again = c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 3;
    printf("reaped %d, fork again %s\n", reaped, again ? "works" : "fails");
    return 0;
}

static int orphans(void)
{
    for (int i = 0; i < 4; i++) {
        if (fork() == 0) {
            for (;;) {
                if (fork() == 0) {
                    for (;;)
                        pause();
                }
            }
        }
    }
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return 7;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "threads") == 0)
        return threads();
    if (argc > 1 && strcmp(argv[1], "forks") == 0)
        return forks();
    if (argc > 1 && strcmp(argv[1], "orphans") == 0)
        return orphans();
    if (argc > 1 && strcmp(argv[1], "zombies") == 0)
        return zombies();
    fprintf(stderr, "usage: procbomb threads|forks|zombies|orphans\n");
    return 2;
}
