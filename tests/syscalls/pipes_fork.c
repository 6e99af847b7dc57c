/*
 * Pipes and FIFOs across processes and threads: blocking reads and writes
 * that the other side ends, EOF and SIGPIPE between processes, a FIFO open
 * that waits for its partner, a blocking read a signal interrupts (EINTR
 * without SA_RESTART, restarted with it), and a thread blocked in read.
 * Needs fork, wait and threads.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/syscalls/signaller.h"
#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int child_status(pid_t pid)
{
    int st = -1;
    waitpid(pid, &st, 0);
    return st;
}

static void test_blocking_read(void)
{
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        msleep(50);
        write(p[1], "late", 4);
        _exit(0);
    }
    close(p[1]);
    char buf[8];
    is_int(e(read(p[0], buf, sizeof(buf))), 4, "a blocking read waits for the writer");
    ok(memcmp(buf, "late", 4) == 0, "and gets its data");
    is_int(e(read(p[0], buf, sizeof(buf))), 0, "EOF once the writer exited");
    is_int(child_status(pid), 0, "writer exited 0");
    close(p[0]);
}

static void test_blocking_write(void)
{
    int p[2];
    pipe(p);
    static char big[256 * 1024];
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        msleep(50);
        size_t total = 0;
        ssize_t n;
        char buf[4096];
        while ((n = read(p[0], buf, sizeof(buf))) > 0)
            total += (size_t)n;
        _exit(total == sizeof(big) ? 0 : 1);
    }
    close(p[0]);
    is_int(e(write(p[1], big, sizeof(big))), (long)sizeof(big),
           "a write bigger than the pipe blocks until all is read");
    close(p[1]);
    is_int(child_status(pid), 0, "the reader got every byte");
}

static void test_sigpipe_kills(void)
{
    /* The child writes once the parent says it closed its read end (a
     * pause instead would race on a loaded host). */
    int p[2], go[2];
    pipe(p);
    pipe(go);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        close(go[1]);
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        write(p[1], "x", 1);
        _exit(0);
    }
    close(go[0]);
    close(p[0]);
    close(p[1]);
    write(go[1], "g", 1);
    close(go[1]);
    int st = child_status(pid);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE,
       "a write to a pipe nobody reads kills with SIGPIPE (status %#x)", st);
}

static void test_fifo_open_waits(void)
{
    char dir[] = "/tmp/moat-fifo-XXXXXX";
    if (!mkdtemp(dir)) {
        skip("no /tmp", "fifo open");
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "%s/f", dir);
    mknod(path, S_IFIFO | 0600, 0);
    pid_t pid = fork();
    if (pid == 0) {
        msleep(50);
        int w = open(path, O_WRONLY);
        write(w, "hi", 2);
        _exit(w >= 0 ? 0 : 1);
    }
    int r = (int)e(open(path, O_RDONLY));
    ok(r >= 0, "O_RDONLY open waits for a writer");
    char buf[4];
    is_int(e(read(r, buf, sizeof(buf))), 2, "then reads its data");
    is_int(child_status(pid), 0, "the writer's blocking-free open");
    close(r);
    pid = fork();
    if (pid == 0) {
        msleep(50);
        int rr = open(path, O_RDONLY);
        char c;
        ssize_t n = read(rr, &c, 1);
        _exit(n == 1 && c == 'w' ? 0 : 1);
    }
    int w = (int)e(open(path, O_WRONLY));
    ok(w >= 0, "O_WRONLY open waits for a reader");
    write(w, "w", 1);
    close(w);
    is_int(child_status(pid), 0, "the reader got it");
    unlink(path);
    rmdir(dir);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void test_interrupted(void)
{
    int p[2];
    pipe(p);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    pid_t pid = fork_signaller(parent, SIGUSR1);
    char c;
    is_int(e(read(p[0], &c, 1)), -EINTR, "a signal without SA_RESTART: EINTR");
    kill(pid, SIGKILL);
    child_status(pid);

    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pid = fork();
    if (pid == 0) {
        msleep(50);
        kill(parent, SIGUSR1);
        msleep(50);
        write(p[1], "r", 1);
        _exit(0);
    }
    is_int(e(read(p[0], &c, 1)), 1, "with SA_RESTART the read is restarted");
    child_status(pid);
    close(p[0]);
    close(p[1]);
}

static int tp[2];

static void *reader(void *arg)
{
    (void)arg;
    char buf[8];
    return (void *)(long)read(tp[0], buf, sizeof(buf));
}

static void test_thread(void)
{
    pipe(tp);
    pthread_t th;
    pthread_create(&th, NULL, reader, NULL);
    msleep(50);
    write(tp[1], "thr", 3);
    void *ret;
    pthread_join(th, &ret);
    is_int((long)ret, 3, "a thread blocked in read wakes on another thread's write");
    close(tp[0]);
    close(tp[1]);
}

int main(void)
{
    test_blocking_read();
    test_blocking_write();
    test_sigpipe_kills();
    test_fifo_open_waits();
    test_interrupted();
    test_thread();
    done_testing();
}
