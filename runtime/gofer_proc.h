/* Starting a sandbox's Gofer: the process that alone opens host files. */
#ifndef MOAT_RUNTIME_GOFER_PROC_H
#define MOAT_RUNTIME_GOFER_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct gofer_proc {
    pid_t pid;
    int sentry_fd; /* the Sentry's end of the SOCK_SEQPACKET socketpair */
};

/* Fork a Gofer serving root (read-only when readonly): it confines itself
 * (own mount and network namespaces, root pivoted, capabilities cut, seccomp)
 * before it reads a single request. Returns 0 or -errno with *why set. */
int gofer_proc_start(const char *root, bool readonly, bool debug, struct gofer_proc *out,
                     const char **why);

/* Reap the Gofer (it exits when the Sentry's end closes). */
void gofer_proc_wait(struct gofer_proc *g);

#endif
