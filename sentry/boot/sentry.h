/* Starting a Sentry: the entry point the front end calls in the process it
 * created for the sandbox (already in its own namespaces). */
#ifndef MOAT_SENTRY_BOOT_SENTRY_H
#define MOAT_SENTRY_BOOT_SENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"

/* Each volume costs a Gofer process and a socket. */
#define SENTRY_MAX_VOLUMES 64

struct sentry_volume {
    int gofer_fd;      /* the Sentry's end of this volume's Gofer socket */
    const char *guest; /* where it appears in the sandbox (absolute) */
    bool readonly;
};

struct sentry_config {
    enum platform_kind platform;
    /* systrap: rewrite a trapped `syscall` into a jump to the stub so the
     * next call from there needs no signal. Ignored by ptrace. */
    bool systrap_patching;
    int exe_fd;           /* the program, opened by the front end */
    const char *exe_path; /* as the user named it: AT_EXECFN and messages */
    char *const *argv;
    char *const *envp;
    const char *hostname; /* NULL: "moat" */
    bool strace;
    bool debug;    /* name denied host calls instead of a silent kill */
    int log_fd;    /* strace and diagnostics */
    int status_fd; /* where the outcome goes (struct sentry_status) */
    bool confine;  /* pivot to an empty root, drop caps, seccomp */
    /* Bit n: fd n (0-2) was closed when moat started; the guest gets it
     * closed too, whatever the front end put there to keep the number. */
    unsigned stdio_closed;
    int gofer_fd; /* the Sentry's end of the Gofer socket; -1: no Gofer */
    /* --volume bind mounts, each served by a Gofer of its own. */
    const struct sentry_volume *volumes;
    size_t nvolumes;
    const char *cwd; /* the front end's cwd: kept if it exists in the sandbox */
};

/* What the Sentry tells the front end when it is done. */
enum sentry_status_kind {
    SENTRY_STATUS_GUEST = 1, /* value: the guest's wait status */
    SENTRY_STATUS_ERROR = 2, /* value: the exit code moat should use; message already printed */
};

struct sentry_status {
    int32_t kind;
    int32_t value;
};

/* Never returns: exits when the guest is done. */
__attribute__((noreturn)) void sentry_main(const struct sentry_config *cfg);

/* Confinement steps (confine.c, seccomp.c). Each returns 0 or -errno with
 * *why naming the step that failed. */
int sentry_confine_fs(const char **why);
int sentry_drop_caps(const char **why);
/* gofer_fds: the only fds sendmsg/recvmsg may use. */
int sentry_install_seccomp(bool debug, const int *gofer_fds, size_t ngofers, const char **why);

#endif
