/* The sandbox process: cloned into new namespaces, mapped to an unprivileged
 * host user where a user namespace is possible, then handed to the Sentry. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/sandbox.h"

/* The host user the Sentry runs as when the front end is root: nobody. */
#define SANDBOX_HOST_UID 65534
#define SANDBOX_HOST_GID 65534

static int write_file(pid_t pid, const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n == (ssize_t)strlen(text) ? 0 : -errno;
    close(fd);
    return err;
}

/* Map the namespace's root to one host user: nobody for a root front end,
 * the caller itself otherwise (the only mapping an unprivileged user may
 * write). */
static int map_ids(pid_t pid)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    char map[64];
    uid_t to_uid = uid == 0 ? SANDBOX_HOST_UID : uid;
    gid_t to_gid = uid == 0 ? SANDBOX_HOST_GID : gid;
    if (uid != 0) {
        int err = write_file(pid, "setgroups", "deny");
        if (err)
            return err;
    }
    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)to_uid);
    int err = write_file(pid, "uid_map", map);
    if (err)
        return err;
    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)to_gid);
    return write_file(pid, "gid_map", map);
}

static __attribute__((noreturn)) void child(struct sentry_config *cfg, int sync_fd, int userns)
{
    /* The Sentry dies with its front end; stubs die with the Sentry. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char go;
    if (read(sync_fd, &go, 1) != 1 || go != 'g')
        _exit(125);
    close(sync_fd);
    if (userns) {
        /* Become root of the namespace, which is nobody on the host. */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
            perror("moat: entering the sandbox's user namespace");
            _exit(125);
        }
    }
    sentry_main(cfg);
}

int sandbox_start(struct sentry_config *cfg, struct sandbox *sb, const char **why)
{
    int status_pipe[2], sync_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) < 0 || pipe2(sync_pipe, O_CLOEXEC) < 0) {
        *why = "cannot create pipes";
        return -errno;
    }
    cfg->status_fd = status_pipe[1];
    const long base = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
    int userns = 1;
    long pid = syscall(SYS_clone, base | CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0);
    if (pid < 0 && (errno == EPERM || errno == EINVAL || errno == ENOSPC || errno == EUSERS)) {
        /* No user namespaces here: root can still confine the Sentry with the
         * other namespaces; anyone else cannot. */
        userns = 0;
        pid = syscall(SYS_clone, base | SIGCHLD, 0, NULL, NULL, 0);
    }
    if (pid < 0) {
        *why = "cannot create the sandbox's namespaces (moat needs root or user namespaces)";
        return -errno;
    }
    if (pid == 0) {
        close(status_pipe[0]);
        close(sync_pipe[1]);
        child(cfg, sync_pipe[0], userns);
    }
    close(status_pipe[1]);
    close(sync_pipe[0]);
    int err = userns ? map_ids((pid_t)pid) : 0;
    if (err) {
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, NULL, 0);
        close(sync_pipe[1]);
        close(status_pipe[0]);
        *why = "cannot write the sandbox's uid/gid maps";
        return err;
    }
    ssize_t w = write(sync_pipe[1], "g", 1);
    (void)w;
    close(sync_pipe[1]);
    sb->sentry_pid = (pid_t)pid;
    sb->status_fd = status_pipe[0];
    return 0;
}

static volatile sig_atomic_t forward_pid;
static volatile sig_atomic_t interrupts;

/* The third SIGINT or SIGTERM kills the sandbox outright, as docker does:
 * a guest that ignores them, or a Sentry that no longer answers, must not
 * keep the user from stopping moat. */
#define FORCE_AFTER_INTERRUPTS 3

static void forward(int sig)
{
    if (forward_pid <= 0)
        return;
    if ((sig == SIGINT || sig == SIGTERM) && ++interrupts >= FORCE_AFTER_INTERRUPTS) {
        static const char msg[] = "moat: third interrupt: killing the sandbox\n";
        ssize_t w = write(2, msg, sizeof(msg) - 1);
        (void)w;
        kill((pid_t)forward_pid, SIGKILL);
        return;
    }
    kill((pid_t)forward_pid, sig);
}

int sandbox_wait(struct sandbox *sb)
{
    forward_pid = sb->sentry_pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);

    int ws;
    while (waitpid(sb->sentry_pid, &ws, 0) < 0) {
        if (errno != EINTR) {
            perror("moat: waiting for the sentry");
            return 125;
        }
    }
    forward_pid = 0;
    struct sentry_status st;
    ssize_t n = read(sb->status_fd, &st, sizeof(st));
    close(sb->status_fd);
    if (n == (ssize_t)sizeof(st)) {
        if (st.kind == SENTRY_STATUS_ERROR)
            return st.value;
        if (WIFSIGNALED(st.value))
            return 128 + WTERMSIG(st.value);
        return WEXITSTATUS(st.value);
    }
    if (WIFSIGNALED(ws)) {
        int sig = WTERMSIG(ws);
        if (sig == SIGKILL && interrupts >= FORCE_AFTER_INTERRUPTS)
            return 128 + SIGKILL;
        if (sig == SIGSYS)
            fprintf(stderr, "moat: the sentry was killed by its seccomp filter (a host call "
                            "outside its allowlist; --debug names it)\n");
        else
            fprintf(stderr, "moat: the sentry died from signal %d (%s)\n", sig, strsignal(sig));
    } else {
        fprintf(stderr, "moat: the sentry exited with status %d without reporting\n",
                WEXITSTATUS(ws));
    }
    return 125;
}
