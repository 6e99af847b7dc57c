/* Host facts for /proc, read before confinement. Only the shape of the
 * machine is taken (one processor block, total memory): nothing names host
 * paths, processes or the host's own boot. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "sentry/boot/host_info.h"
#include "sentry/kernel/kernel.h"

/* The whole of a small host file, NUL-terminated; NULL on failure. */
static char *slurp(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(max + 1);
    size_t len = 0;
    while (buf && len < max) {
        ssize_t n = read(fd, buf + len, max - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static char *first_cpu_block(void)
{
    char *all = slurp("/proc/cpuinfo", 1 << 20);
    if (!all)
        return NULL;
    char *end = strstr(all, "\n\n");
    if (end)
        end[1] = '\0';
    if (strncmp(all, "processor", 9) != 0) {
        free(all);
        return NULL;
    }
    char *block = strdup(all);
    free(all);
    return block;
}

static uint64_t mem_total_kb(void)
{
    char *mi = slurp("/proc/meminfo", 1 << 16);
    uint64_t kb = 0;
    if (mi) {
        char *p = strstr(mi, "MemTotal:");
        if (p)
            kb = strtoull(p + 9, NULL, 10);
        free(mi);
    }
    if (!kb) {
        struct sysinfo si;
        if (sysinfo(&si) == 0)
            kb = (uint64_t)si.totalram * si.mem_unit / 1024;
    }
    return kb;
}

void boot_capture_host_info(struct kernel *k)
{
    struct kernel_host_info *h = &k->host;
    h->cpuinfo = first_cpu_block();
    h->mem_total_kb = mem_total_kb();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    h->boot_mono_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->boot_real_s = ts.tv_sec;
    /* The sandbox's own boot: a random version-4 UUID, not the host's. */
    uint8_t u[16] = {0};
    if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
        memset(u, 0x5a, sizeof(u));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            h->boot_id[o++] = '-';
        h->boot_id[o++] = hex[u[i] >> 4];
        h->boot_id[o++] = hex[u[i] & 15];
    }
    h->boot_id[o] = '\0';
}
