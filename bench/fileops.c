/* File operation costs, one operation per mode, timed in the guest:
 *
 *   fileops open  N FILE      open + close
 *   fileops stat  N FILE      stat
 *   fileops pread N FILE      4 KiB pread at offset 0
 *   fileops read  N FILE      sequential read of FILE in 64 KiB chunks, N times (MB/s)
 *   fileops create N DIR      create + close + unlink of DIR/f
 *
 * Prints "MODE iterations=N ns_per_op=X" (and "mb_per_s=Y" for read). Static,
 * without sanitizers, so the same binary runs natively, in moat and in runsc.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static char buf[65536];

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fileops open|stat|pread|read|create N PATH\n");
        return 2;
    }
    const char *mode = argv[1], *path = argv[3];
    long n = strtol(argv[2], NULL, 0);
    char f[4096];
    snprintf(f, sizeof(f), "%s/moat-bench-file", path);
    double bytes = 0, t0 = now_ns();
    for (long i = 0; i < n; i++) {
        if (strcmp(mode, "open") == 0) {
            int fd = open(path, O_RDONLY);
            if (fd < 0)
                return 3;
            close(fd);
        } else if (strcmp(mode, "stat") == 0) {
            struct stat st;
            if (stat(path, &st) != 0)
                return 3;
        } else if (strcmp(mode, "pread") == 0) {
            static int fd = -1;
            if (fd < 0 && (fd = open(path, O_RDONLY)) < 0)
                return 3;
            if (pread(fd, buf, 4096, 0) < 0)
                return 3;
        } else if (strcmp(mode, "read") == 0) {
            int fd = open(path, O_RDONLY);
            if (fd < 0)
                return 3;
            ssize_t r;
            while ((r = read(fd, buf, sizeof(buf))) > 0)
                bytes += (double)r;
            close(fd);
        } else if (strcmp(mode, "create") == 0) {
            int fd = open(f, O_CREAT | O_WRONLY | O_TRUNC, 0644);
            if (fd < 0)
                return 3;
            close(fd);
            if (unlink(f) != 0)
                return 3;
        } else {
            return 2;
        }
    }
    double dt = now_ns() - t0;
    printf("%s iterations=%ld ns_per_op=%.1f", mode, n, dt / (double)n);
    if (bytes > 0)
        printf(" mb_per_s=%.1f", bytes / (dt / 1e9) / 1e6);
    printf("\n");
    return 0;
}
