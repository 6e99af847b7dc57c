/* Process, thread and pipe costs, timed in the guest:
 *
 *   procs fork N            fork + _exit + wait
 *   procs forkexec N PROG   fork + execve(PROG) + wait (PROG should exit at once)
 *   procs pipe N            one byte back and forth between two processes
 *   procs thread N          pthread_create + join
 *
 * Prints "MODE iterations=N us_per_op=X". Static, without sanitizers, so the
 * same binary runs natively, in moat and in runsc.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *nothing(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: procs fork|forkexec|pipe|thread N [PROG]\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = strtol(argv[2], NULL, 0);
    double t0 = now_us();
    if (strcmp(mode, "fork") == 0) {
        for (long i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0)
                _exit(0);
            waitpid(p, NULL, 0);
        }
    } else if (strcmp(mode, "forkexec") == 0 && argc > 3) {
        for (long i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) {
                char *av[] = {argv[3], NULL};
                execv(argv[3], av);
                _exit(127);
            }
            int st;
            waitpid(p, &st, 0);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "procs: %s failed\n", argv[3]);
                return 1;
            }
        }
    } else if (strcmp(mode, "pipe") == 0) {
        int a[2], b[2];
        if (pipe(a) || pipe(b))
            return 1;
        pid_t p = fork();
        char c = 'x';
        if (p == 0) {
            for (long i = 0; i < n; i++)
                if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
                    _exit(1);
            _exit(0);
        }
        for (long i = 0; i < n; i++)
            if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
                return 1;
        waitpid(p, NULL, 0);
    } else if (strcmp(mode, "thread") == 0) {
        for (long i = 0; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, nothing, NULL) != 0)
                return 1;
            pthread_join(t, NULL);
        }
    } else {
        fprintf(stderr, "procs: unknown mode %s\n", mode);
        return 2;
    }
    double t1 = now_us();
    printf("%s iterations=%ld us_per_op=%.2f\n", mode, n, (t1 - t0) / (double)n);
    return 0;
}
