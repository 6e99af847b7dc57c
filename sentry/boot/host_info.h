/* What /proc needs from the host, captured once before the Sentry confines
 * itself (after that it sees no host /proc). */
#ifndef MOAT_SENTRY_BOOT_HOST_INFO_H
#define MOAT_SENTRY_BOOT_HOST_INFO_H

struct kernel;

/* Fills k->host: the host's first /proc/cpuinfo block and MemTotal, the
 * sandbox's boot times and a fresh boot_id. Missing host files leave
 * defaults (procfs prints a minimal cpuinfo block, 1 GiB of memory). */
void boot_capture_host_info(struct kernel *k);

#endif
