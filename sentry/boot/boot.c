/* sentry_main: from a fresh sandbox process to a running guest.
 *
 * Order matters: everything that needs the host's view (the memory file, the
 * stub page, /proc/self/maps for the vDSO) happens first; then the Sentry
 * confines itself; only then is the first stub forked and the guest loaded,
 * so no guest instruction ever runs beside an unconfined Sentry.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/boot/mounts.h"
#include "sentry/boot/sentry.h"
#include "sentry/fs/hostfd.h"
#include "sentry/kernel/kernel.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"

/* Upper bound of guest memory per sandbox: the Sentry reserves this much
 * address space (not memory) for its view of the memory file. */
#define MEMFILE_MAX (64ULL << 30)

/* The sandbox whose host signals this process forwards (one per Sentry). */
static struct kernel *forward_kernel;

static void forward_signal(int sig)
{
    struct kernel *k = forward_kernel;
    if (!k)
        return;
    k->host_signal = sig;
    if (k->init && k->init->ctx)
        platform_ctx_interrupt(k->init->ctx);
}

static void install_forwarding(void)
{
    /* Without SA_RESTART: a Sentry thread sleeping for the guest wakes up. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
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

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void sentry_main(const struct sentry_config *cfg)
{
    static struct kernel kernel;
    struct kernel *k = &kernel;
    const char *why = NULL;
    int err;

    struct mm_memfile *mf;
    err = mm_memfile_create(MEMFILE_MAX, &mf);
    if (err)
        fail(cfg, 125, "memory file", "cannot create", -err);
    struct platform *p;
    err = platform_create(cfg->platform, mm_memfile_fd(mf), &p, &why);
    if (err)
        fail(cfg, 125, "platform", why, -err);

    kernel_init(k, p, mf);
    k->strace = cfg->strace;
    k->debug = cfg->debug;
    k->log_fd = cfg->log_fd >= 0 ? cfg->log_fd : 2;
    k->ncpus = count_cpus();
    if (cfg->hostname)
        snprintf(k->hostname, sizeof(k->hostname), "%s", cfg->hostname);
    forward_kernel = k;
    install_forwarding();
    struct vfs_file *stdio[3];
    err = open_stdio(stdio, cfg->stdio_closed);
    if (err)
        fail(cfg, 125, "starting the guest", "cannot hand over stdio", -err);

    if (cfg->confine) {
        err = sentry_confine_fs(&why);
        if (!err)
            err = sentry_drop_caps(&why);
        if (!err)
            err = sentry_install_seccomp(cfg->debug, cfg->gofer_fd, &why);
        if (err)
            fail(cfg, 125, "confining the sentry", why, -err);
    }

    struct task *t;
    err = task_create(k, &t);
    if (err)
        fail(cfg, 125, "starting the guest", "cannot create its address space", -err);
    k->init = t;
    err = boot_build_mounts(k, cfg->gofer_fd, &why);
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
    snprintf(t->comm, sizeof(t->comm), "%s", base_name(cfg->exe_path));
    err = install_stdio(t, stdio);
    if (err)
        fail(cfg, 125, "starting the guest", "cannot hand over stdio", -err);

    struct loader_image img = {read_exe, (void *)(intptr_t)cfg->exe_fd};
    struct loader_args la;
    memset(&la, 0, sizeof(la));
    la.argv = (const char *const *)cfg->argv;
    la.envp = (const char *const *)cfg->envp;
    la.execfn = cfg->exe_path;
    la.hwcap = getauxval(AT_HWCAP);
    la.hwcap2 = getauxval(AT_HWCAP2);
    la.minsigstksz = getauxval(AT_MINSIGSTKSZ);
    la.vdso_base = platform_vdso_base(p);
    la.stack_size = t->rlimits[ABI_RLIMIT_STACK].rlim_cur;
    if (getrandom(la.random_seed, sizeof(la.random_seed), 0) != sizeof(la.random_seed))
        la.random_seed[0] = la.random_seed[1] = 0;
    struct loader_result lr;
    err = loader_load(t->mm, &img, &la, &lr, &why);
    close(cfg->exe_fd);
    if (err)
        fail(cfg, 126, cfg->exe_path, why, 0);

    t->arg_start = lr.arg_start;
    t->arg_end = lr.arg_end;
    t->env_start = lr.env_start;
    t->env_end = lr.env_end;

    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    struct abi_ptregs fresh = *r;
    /* A fresh exec: everything zero but the segment selectors the kernel set
     * up, the entry point and the stack. */
    memset(r, 0, sizeof(*r));
    r->cs = fresh.cs;
    r->ss = fresh.ss;
    r->ds = fresh.ds;
    r->es = fresh.es;
    r->eflags = 0x202; /* IF, and the always-one bit */
    r->rip = lr.entry;
    r->rsp = lr.sp;
    r->orig_rax = (uint64_t)-1;
    err = platform_ctx_reset_fpu(t->ctx);
    if (err)
        fail(cfg, 125, "starting the guest", "cannot reset its FPU state", -err);

    int status = task_run(t);
    task_destroy(t);
    finish(cfg, SENTRY_STATUS_GUEST, status);
}
