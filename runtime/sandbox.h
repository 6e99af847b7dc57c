/* Starting a sandbox process: the Sentry, in namespaces of its own. */
#ifndef MOAT_RUNTIME_SANDBOX_H
#define MOAT_RUNTIME_SANDBOX_H

#include <sys/types.h>

#include "sentry/boot/sentry.h"

struct sandbox {
    pid_t sentry_pid;
    int status_fd; /* read end: the Sentry's struct sentry_status */
};

/* Fork the Sentry into new mount, pid, ipc, uts and network namespaces (and a
 * user namespace where the host allows), then run sentry_main(cfg) in it.
 * cfg->status_fd is filled in. Returns 0 or -errno with *why set. */
int sandbox_start(struct sentry_config *cfg, struct sandbox *sb, const char **why);

/* Wait for the Sentry, forwarding SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1
 * and SIGUSR2 to it meanwhile. Returns the exit code moat should exit with. */
int sandbox_wait(struct sandbox *sb);

#endif
