/* The Gofer process of a sandbox. It starts from the front end, as root or
 * in a user namespace of its own, confines itself around the root it serves,
 * and then answers the Sentry until the Sentry closes its end. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gofer/confine.h"
#include "gofer/seccomp.h"
#include "gofer/server.h"
#include "runtime/gofer_proc.h"

static int write_map(const char *file, const char *text)
{
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -EPERM;
}

/* An unprivileged caller gets the mount namespace the Gofer needs from a
 * user namespace in which it keeps its own identity, so host files are read
 * with exactly the caller's rights. */
static int enter_own_userns(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER) < 0)
        return -errno;
    char map[64];
    int err = write_map("/proc/self/setgroups", "deny");
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (!err)
        err = write_map("/proc/self/uid_map", map);
    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if (!err)
        err = write_map("/proc/self/gid_map", map);
    return err;
}

static __attribute__((noreturn)) void gofer_child(const char *root, bool readonly, bool debug,
                                                  int sock)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Nothing of the front end's but the socket and stderr. */
    if (sock != 3) {
        if (dup2(sock, 3) < 0)
            _exit(125);
        sock = 3;
    }
    syscall(SYS_close_range, 4, ~0U, 0);
    if (geteuid() != 0 && enter_own_userns() != 0) {
        fprintf(stderr, "moat: gofer: cannot create a user namespace\n");
        _exit(125);
    }
    int err = gofer_confine(root, readonly);
    if (err) {
        fprintf(stderr, "moat: gofer: cannot confine itself to %s: %s\n", root, strerror(-err));
        _exit(125);
    }
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct gofer_server *srv = rootfd >= 0 ? gofer_server_create(rootfd, readonly, 0) : NULL;
    if (!srv) {
        fprintf(stderr, "moat: gofer: cannot serve %s: %s\n", root, strerror(errno));
        _exit(125);
    }
    close(rootfd);
    err = gofer_seccomp_install(debug);
    if (err) {
        fprintf(stderr, "moat: gofer: cannot install its seccomp filter: %s\n", strerror(-err));
        _exit(125);
    }
    err = gofer_serve(srv, sock);
    _exit(err ? 125 : 0);
}

int gofer_proc_start(const char *root, bool readonly, bool debug, struct gofer_proc *out,
                     const char **why)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        *why = "cannot create the gofer's socket";
        return -errno;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int err = -errno;
        close(sv[0]);
        close(sv[1]);
        *why = "cannot start the gofer";
        return err;
    }
    if (pid == 0) {
        close(sv[0]);
        gofer_child(root, readonly, debug, sv[1]);
    }
    close(sv[1]);
    out->pid = pid;
    out->sentry_fd = sv[0];
    return 0;
}

void gofer_proc_wait(struct gofer_proc *g)
{
    int status;
    while (waitpid(g->pid, &status, 0) < 0 && errno == EINTR) {
    }
}
