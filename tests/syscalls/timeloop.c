/* Reads the time many ways through libc, which uses the vDSO; tests/e2e/vdso.sh
 * runs it under --strace and expects none of these calls to trap. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

int main(void)
{
    struct timespec ts;
    struct timeval tv;
    long odd = 0;
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        odd += ts.tv_nsec & 1;
        clock_gettime(CLOCK_REALTIME, &ts);
        gettimeofday(&tv, NULL);
        odd += tv.tv_usec & 1;
        odd += time(NULL) & 1;
    }
    printf("timeloop done %d\n", odd >= 0);
    return 0;
}
