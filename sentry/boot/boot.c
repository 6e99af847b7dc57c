/* sentry_main: from a fresh sandbox process to a running guest.
 *
 * Order matters: everything that needs the host's view (the memory file, the
 * stub page, /proc/self/maps for the vDSO) happens first; then the Sentry
 * confines itself; only then is the first stub forked and the guest loaded,
 * so no guest instruction ever runs beside an unconfined Sentry.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/boot/host_info.h"
#include "sentry/boot/mounts.h"
#include "sentry/boot/sentry.h"
#include "sentry/fs/hostfd.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/sched.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"

/* Upper bound of guest memory per sandbox: the Sentry reserves this much
 * address space (not memory) for its view of the memory file. */
#define MEMFILE_MAX (64ULL << 30)

/* Host signals the front end forwards to the guest's init. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void on_interrupt(int sig)
{
    (void)sig; /* only ends a host wait (task_host_poll) */
}

/* One thread receives every forwarded signal (they are blocked in all
 * others) and hands it to init under the kernel lock. */
static void *forward_signals(void *arg)
{
    struct kernel *k = arg;
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaddset(&set, forwarded[i]);
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig <= 0)
            continue;
        kernel_lock();
        if (k->init && !k->init->zombie) {
            struct abi_siginfo info;
            memset(&info, 0, sizeof(info));
            info.si_signo = sig;
            info.si_code = ABI_SI_USER;
            signal_send_group(k->init, &info, true);
        }
        kernel_unlock();
    }
    return NULL;
}

/* Block the forwarded signals and the Sentry's interrupt signal in this
 * thread, and so in every thread created after it: called first thing, so
 * that no Sentry thread can take a forwarded signal's default action. */
static void block_host_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(KERNEL_INTERRUPT_SIGNAL, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, KERNEL_INTERRUPT_SIGNAL);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaddset(&set, forwarded[i]);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void start_forwarding(struct kernel *k)
{
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 18);
    pthread_create(&th, &attr, forward_signals, k);
    pthread_attr_destroy(&attr);
}

static __attribute__((noreturn)) void finish(const struct sentry_config *cfg, int kind, int value)
{
    struct sentry_status st = {kind, value};
    if (cfg->status_fd >= 0) {
        ssize_t w = write(cfg->status_fd, &st, sizeof(st));
        (void)w;
    }
    _exit(kind == SENTRY_STATUS_GUEST ? 0 : value);
}

static __attribute__((noreturn)) void fail(const struct sentry_config *cfg, int code,
                                           const char *what, const char *why, int err)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "moat: %s: %s%s%s\n", what, why ? why : "failed", err ? ": " : "",
             err ? strerror(err) : "");
    ssize_t w = write(2, msg, strlen(msg));
    (void)w;
    finish(cfg, SENTRY_STATUS_ERROR, code);
}

static int64_t read_exe(void *arg, void *buf, size_t len, uint64_t off)
{
    ssize_t r = pread((int)(intptr_t)arg, buf, len, (off_t)off);
    return r < 0 ? -errno : r;
}

/* The guest's fds 0-2: files over duplicates of the Sentry's own stdio (the
 * Sentry keeps writing its diagnostics to its fd 2). Made before the seccomp
 * filter, which has no room for fcntl. */
static int open_stdio(struct vfs_file *out[3], unsigned closed)
{
    for (int fd = 0; fd < 3; fd++) {
        out[fd] = NULL;
        if (closed & (1u << fd))
            continue; /* closed for the user: closed in the guest too */
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0)
            continue; /* closed on the host: closed in the guest too */
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
            return -errno;
        uint32_t flags = (uint32_t)fl & (ABI_O_ACCMODE | ABI_O_APPEND | ABI_O_NONBLOCK);
        out[fd] = hostfd_file_new(dup, flags);
        if (!out[fd]) {
            close(dup);
            return -ENOMEM;
        }
    }
    return 0;
}

static int install_stdio(struct task *t, struct vfs_file *files[3])
{
    for (int fd = 0; fd < 3; fd++) {
        if (!files[fd])
            continue;
        int r = vfs_fd_install_at(t->fds, fd, files[fd], false);
        vfs_file_put(files[fd]);
        files[fd] = NULL;
        if (r < 0)
            return r;
    }
    return 0;
}

static int count_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* The program of a host file (no Gofer, so no VFS to find it in). */
static int load_host_exe(struct task *t, const struct sentry_config *cfg, struct loader_result *lr,
                         const char **why)
{
    struct loader_image img = {.read = read_exe, .arg = (void *)(intptr_t)cfg->exe_fd};
    struct loader_args la;
    kernel_exec_args(t, (const char *const *)cfg->argv, (const char *const *)cfg->envp,
                     cfg->exe_path, &la);
    int err = loader_load(t->mm, &img, &la, lr, why);
    if (!err)
        kernel_exec_loaded(t, lr, cfg->exe_path);
    return err;
}

/* The guest's PATH, from the environment it gets. */
static const char *guest_path_var(const struct sentry_config *cfg)
{
    for (char *const *e = cfg->envp; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            return *e + 5;
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* A name without a slash is looked up in the guest's PATH inside the
 * sandbox, as execvp would: the first directory holding an executable file
 * wins; an EACCES candidate is remembered in case nothing better turns up.
 * 0 with *out NULL for a name with a slash. */
static int find_program(struct task *t, const struct sentry_config *cfg, char **out)
{
    const char *prog = cfg->exe_path;
    *out = NULL;
    if (strchr(prog, '/'))
        return 0;
    if (!prog[0])
        return -ABI_ENOENT;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    int best = -ABI_ENOENT;
    for (const char *p = guest_path_var(cfg);;) {
        const char *end = strchrnul(p, ':');
        char cand[VFS_PATH_MAX];
        int len = snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - p), end > p ? p : ".", prog);
        if (len > 0 && (size_t)len < sizeof(cand)) {
            struct vfs_path start;
            int err = task_at_start(t, ABI_AT_FDCWD, cand, &start);
            if (!err)
                err = vfs_open_exec(&ctx, start, cand, NULL);
            if (!err) {
                *out = strdup(cand);
                return *out ? 0 : -ABI_ENOMEM;
            }
            if (err == -ABI_EACCES)
                best = err;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    return best;
}

/* strerror for a guest errno (ABI values equal the host's on x86-64). */
static const char *guest_strerror(int err)
{
    return strerror(-err);
}

static int install_seccomp(const struct sentry_config *cfg, const struct platform *p,
                           const char **why)
{
    int fds[2 + SENTRY_MAX_VOLUMES];
    size_t n = 0;
    if (cfg->gofer_fd >= 0)
        fds[n++] = cfg->gofer_fd;
    /* systrap's stub factory */
    if (platform_host_socket(p) >= 0)
        fds[n++] = platform_host_socket(p);
    for (size_t i = 0; i < cfg->nvolumes && n < sizeof(fds) / sizeof(fds[0]); i++)
        fds[n++] = cfg->volumes[i].gofer_fd;
    return sentry_install_seccomp(cfg->debug, fds, n, why);
}

void sentry_main(const struct sentry_config *cfg)
{
    static struct kernel kernel;
    struct kernel *k = &kernel;
    const char *why = NULL;
    int err;

    block_host_signals();
    struct mm_memfile *mf;
    err = mm_memfile_create(MEMFILE_MAX, &mf);
    if (err)
        fail(cfg, 125, "memory file", "cannot create", -err);
    struct platform *p;
    err = platform_create(cfg->platform, mm_memfile_fd(mf),
                          cfg->systrap_patching ? PLATFORM_F_PATCHING : 0, &p, &why);
    if (err && cfg->platform == PLATFORM_SYSTRAP) {
        /* A host where seccomp-trap cannot work still runs the guest. */
        dprintf(cfg->log_fd >= 0 ? cfg->log_fd : 2,
                "moat: the systrap platform cannot run here (%s); falling back to ptrace\n", why);
        err = platform_create(PLATFORM_PTRACE, mm_memfile_fd(mf), 0, &p, &why);
    }
    if (err)
        fail(cfg, 125, "platform", why, -err);

    kernel_init(k, p, mf);
    k->strace = cfg->strace;
    k->debug = cfg->debug;
    k->log_fd = cfg->log_fd >= 0 ? cfg->log_fd : 2;
    k->ncpus = count_cpus();
    boot_capture_host_info(k);
    if (cfg->hostname)
        snprintf(k->hostname, sizeof(k->hostname), "%s", cfg->hostname);
    struct vfs_file *stdio[3];
    err = open_stdio(stdio, cfg->stdio_closed);
    if (err)
        fail(cfg, 125, "starting the guest", "cannot hand over stdio", -err);

    if (cfg->confine) {
        err = sentry_confine_fs(&why);
        if (!err)
            err = sentry_drop_caps(&why);
        if (!err)
            err = install_seccomp(cfg, p, &why);
        if (err)
            fail(cfg, 125, "confining the sentry", why, -err);
    }

    /* Threads start here (the forwarder now, tasks later): from now on
     * kernel state is touched under the kernel lock. */
    start_forwarding(k);
    kernel_install_shootdown(k);
    kernel_lock();
    struct task *t;
    err = task_create(k, &t);
    if (err)
        fail(cfg, 125, "starting the guest", "cannot create its address space", -err);
    cred_init_root(&t->creds);
    err = boot_build_mounts(k, cfg->gofer_fd, &why);
    for (size_t i = 0; !err && i < cfg->nvolumes; i++)
        err = boot_mount_volume(k, &cfg->volumes[i], &why);
    if (err)
        fail(cfg, 125, "building the sandbox's filesystem", why, -err);
    struct vfs_path root = {k->root_mount, k->root_mount->root};
    task_set_root(t, root);
    task_set_cwd(t, root);
    /* The front end's cwd is kept when the sandbox has it, as `moat do`
     * users expect of a command runner. */
    if (cfg->cwd && cfg->cwd[0] == '/') {
        struct vfs_walk_ctx ctx;
        task_walk_ctx(t, &ctx);
        struct vfs_path cwd;
        if (vfs_walk(&ctx, root, cfg->cwd, VFS_WALK_DIRECTORY, &cwd) == 0) {
            task_set_cwd(t, cwd);
            vfs_path_put(cwd);
        }
    }
    err = install_stdio(t, stdio);
    if (err)
        fail(cfg, 125, "starting the guest", "cannot hand over stdio", -err);

    struct loader_result lr;
    if (cfg->exe_fd >= 0) {
        /* No Gofer: the root is empty, so the program is the host file the
         * front end opened. */
        err = load_host_exe(t, cfg, &lr, &why);
        close(cfg->exe_fd);
        if (err)
            fail(cfg, 126, cfg->exe_path, why, 0);
    } else {
        const char *path;
        char *found = NULL;
        err = find_program(t, cfg, &found);
        path = found ? found : cfg->exe_path;
        if (!err)
            err = kernel_exec_load(t, path, (const char *const *)cfg->argv,
                                   (const char *const *)cfg->envp, &lr, &why);
        else
            why = NULL;
        if (err)
            fail(cfg, err == -ABI_ENOENT || err == -ABI_ENOTDIR ? 127 : 126, path,
                 why ? why : guest_strerror(err), 0);
        free(found);
    }

    kernel_exec_regs(t, &lr);
    err = platform_ctx_reset_fpu(t->ctx);
    if (err)
        fail(cfg, 125, "starting the guest", "cannot reset its FPU state", -err);

    int status = task_run(t);
    /* The platform's own measurements, when it keeps any (systrap, with
     * MOAT_PLATFORM_STATS=1). */
    char line[512];
    size_t n = platform_stats(p, line, sizeof(line));
    if (n > 0) {
        ssize_t w = write(k->log_fd, line, n);
        (void)w;
    }
    finish(cfg, SENTRY_STATUS_GUEST, status);
}
