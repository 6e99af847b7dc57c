/* The Sentry's seccomp allowlist, installed in a child process: allowed calls
 * work, a denied call kills the process, and in debug mode the denied call is
 * named on stderr before the exit. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentry/boot/sentry.h"

struct outcome {
    int status;
    char err[512];
};

/* Run fn in a child under the filter; collect its wait status and stderr. */
static struct outcome run_filtered(bool debug, void (*fn)(void))
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        const char *why = NULL;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            sentry_install_seccomp(debug, NULL, 0, &why))
            _exit(90);
        fn();
        syscall(SYS_exit_group, 0);
    }
    close(p[1]);
    struct outcome o;
    memset(&o, 0, sizeof(o));
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(o.err) - 1 && (r = read(p[0], o.err + n, sizeof(o.err) - 1 - n)) > 0)
        n += (size_t)r;
    close(p[0]);
    cr_assert_eq(waitpid(pid, &o.status, 0), pid);
    return o;
}

static void allowed_calls(void)
{
    if (syscall(SYS_getpid) <= 0 || syscall(SYS_gettid) <= 0)
        syscall(SYS_exit_group, 3);
    struct timespec ts;
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0)
        syscall(SYS_exit_group, 4);
}

static void open_a_socket(void)
{
    syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static void ptrace_attach(void)
{
    syscall(SYS_ptrace, PTRACE_ATTACH, 1, NULL, NULL);
}

static void clone_a_thread(void)
{
    /* Anything but a plain fork-like clone is refused. */
    syscall(SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, 0, NULL, NULL, 0);
}

Test(seccomp, allowed_calls_work)
{
    struct outcome o = run_filtered(false, allowed_calls);
    cr_assert(WIFEXITED(o.status), "status %#x", o.status);
    cr_assert_eq(WEXITSTATUS(o.status), 0);
}

Test(seccomp, a_denied_call_kills_the_process)
{
    struct outcome o = run_filtered(false, open_a_socket);
    cr_assert(WIFSIGNALED(o.status), "status %#x", o.status);
    cr_assert_eq(WTERMSIG(o.status), SIGSYS);
}

Test(seccomp, debug_mode_names_the_denied_call)
{
    struct outcome o = run_filtered(true, open_a_socket);
    cr_assert(WIFEXITED(o.status), "status %#x", o.status);
    cr_assert_eq(WEXITSTATUS(o.status), 125);
    cr_assert(strstr(o.err, "outside its seccomp allowlist: socket") != NULL, "stderr: %s", o.err);
}

Test(seccomp, ptrace_attach_is_denied)
{
    struct outcome o = run_filtered(true, ptrace_attach);
    cr_assert(strstr(o.err, "allowlist: ptrace") != NULL, "stderr: %s", o.err);
}

Test(seccomp, clone_with_shared_memory_is_denied)
{
    struct outcome o = run_filtered(true, clone_a_thread);
    cr_assert(strstr(o.err, "allowlist: clone") != NULL, "stderr: %s", o.err);
}
