/* `moat do`: run one program in a fresh sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/commands.h"
#include "runtime/gofer_proc.h"
#include "runtime/sandbox.h"
#include "runtime/volume.h"

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: moat do [OPTIONS] -- PROGRAM [ARGS...]\n"
            "\n"
            "Run PROGRAM in a new sandbox. The exit status is the program's; a program\n"
            "killed by signal N exits 128+N. moat's own errors: 125 (internal),\n"
            "126 (cannot execute), 127 (not found).\n"
            "\n"
            "  --platform=NAME        how guest syscalls are intercepted: ptrace or systrap\n"
            "                         (default: moat's --platform, else $MOAT_PLATFORM,\n"
            "                         else %s)\n"
            "  --systrap-patching[=true|false]\n"
            "                         systrap: rewrite a trapped `mov $nr, %%eax; syscall`\n"
            "                         in program text into a jump that enters moat\n"
            "                         without a signal (default: true)\n"
            "  --strace               print every guest syscall on stderr\n"
            "  --debug                name denied host calls of the sentry\n"
            "  --debug-log=FILE       write strace and diagnostics to FILE\n"
            "  --hostname=NAME        the sandbox's hostname (default moat)\n"
            "  --root=DIR             the sandbox's root, served read-only by a Gofer\n"
            "                         (default /, the host's root)\n"
            "  --volume=HOST:GUEST[:ro]\n"
            "                         the host directory HOST at GUEST in the sandbox,\n"
            "                         served by a Gofer of its own (repeatable)\n"
            "  --no-gofer             an empty tmpfs root instead: no host file is reachable\n"
            "  -h, --help             this text\n",
            runtime_platform_name(MOAT_DEFAULT_PLATFORM));
}

/* Find PROGRAM as a shell would: a name with a slash is a path, anything else
 * is looked up in $PATH. Returns a malloc'd path or NULL (errno set). */
static char *resolve(const char *prog)
{
    if (strchr(prog, '/'))
        return strdup(prog);
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int saw_eacces = 0;
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        char *cand = NULL;
        if (asprintf(&cand, "%.*s/%s", (int)len, len ? path : ".", prog) < 0)
            return NULL;
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(cand, X_OK) == 0)
                return cand;
            saw_eacces = 1;
        }
        free(cand);
        path = end ? end + 1 : path + len;
    }
    errno = saw_eacces ? EACCES : ENOENT;
    return NULL;
}

/* --no-gofer: open PROGRAM on the host. Returns 0, or the exit code after
 * printing why. */
static int open_host_program(const char *prog, char **pathp, int *fdp)
{
    char *path = resolve(prog);
    if (!path) {
        int e = errno;
        fprintf(stderr, "moat: %s: %s\n", prog, strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        fprintf(stderr, "moat: %s: %s\n", path, strerror(e));
        free(path);
        return e == ENOENT || e == ENOTDIR ? 127 : 126;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
        fprintf(stderr, "moat: %s: %s\n", path,
                S_ISDIR(st.st_mode) ? "Is a directory" : "Permission denied");
        close(fd);
        free(path);
        return 126;
    }
    *pathp = path;
    *fdp = fd;
    return 0;
}

static void stop_gofers(struct gofer_proc *procs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (procs[i].sentry_fd >= 0)
            close(procs[i].sentry_fd);
        procs[i].sentry_fd = -1;
        kill(procs[i].pid, SIGKILL);
        gofer_proc_wait(&procs[i]);
    }
}

static void free_volumes(struct volume *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        volume_free(&v[i]);
}

/* Starts one Gofer per volume; on failure the ones started are killed. */
static int start_volume_gofers(const struct volume *v, size_t n, bool debug,
                               struct gofer_proc *procs, struct sentry_volume *out)
{
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        int err = gofer_proc_start(v[i].host, v[i].readonly, debug, &procs[i], &why);
        if (err) {
            fprintf(stderr, "moat: --volume %s: %s: %s\n", v[i].host, why, strerror(-err));
            stop_gofers(procs, i);
            return -1;
        }
        out[i].gofer_fd = procs[i].sentry_fd;
        out[i].guest = v[i].guest;
        out[i].readonly = v[i].readonly;
    }
    return 0;
}

static int run(int argc, char **argv, const struct global_opts *g, struct volume *volumes,
               size_t *nvolumesp)
{
    size_t nvolumes = 0;
    enum {
        OPT_PLATFORM = 256,
        OPT_SYSTRAP_PATCHING,
        OPT_STRACE,
        OPT_DEBUG,
        OPT_DEBUG_LOG,
        OPT_HOSTNAME,
        OPT_ROOT,
        OPT_NO_GOFER,
        OPT_VOLUME
    };
    static const struct option opts[] = {
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"systrap-patching", optional_argument, NULL, OPT_SYSTRAP_PATCHING},
        {"strace", no_argument, NULL, OPT_STRACE},
        {"debug", no_argument, NULL, OPT_DEBUG},
        {"debug-log", required_argument, NULL, OPT_DEBUG_LOG},
        {"hostname", required_argument, NULL, OPT_HOSTNAME},
        {"root", required_argument, NULL, OPT_ROOT},
        {"no-gofer", no_argument, NULL, OPT_NO_GOFER},
        {"volume", required_argument, NULL, OPT_VOLUME},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sentry_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    /* The global flag unless this command's own says otherwise. */
    cfg.systrap_patching = g->systrap_patching;
    const char *platform_flag = NULL;
    cfg.log_fd = -1;
    cfg.status_fd = -1;
    cfg.confine = true;
    cfg.debug = g->debug;
    cfg.stdio_closed = g->stdio_closed;
    const char *log_path = NULL;
    const char *root = "/";
    bool use_gofer = true;
    cfg.gofer_fd = -1;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_PLATFORM:
            /* Checked now so a bad value is reported before anything runs;
             * the last one given wins. */
            if (runtime_parse_platform("--platform", optarg, &cfg.platform))
                return 125;
            platform_flag = optarg;
            break;
        case OPT_SYSTRAP_PATCHING:
            if (runtime_parse_bool("--systrap-patching", optarg, &cfg.systrap_patching))
                return 125;
            break;
        case OPT_STRACE:
            cfg.strace = true;
            break;
        case OPT_DEBUG:
            cfg.debug = true;
            break;
        case OPT_DEBUG_LOG:
            log_path = optarg;
            break;
        case OPT_HOSTNAME:
            if (strlen(optarg) == 0 || strlen(optarg) > 64) {
                fprintf(stderr, "moat: --hostname must be 1 to 64 characters, got '%s'\n", optarg);
                return 125;
            }
            cfg.hostname = optarg;
            break;
        case OPT_ROOT:
            root = optarg;
            break;
        case OPT_NO_GOFER:
            use_gofer = false;
            break;
        case OPT_VOLUME: {
            char err[PATH_MAX + 128];
            if (nvolumes == SENTRY_MAX_VOLUMES) {
                fprintf(stderr, "moat: at most %d volumes\n", SENTRY_MAX_VOLUMES);
                return 125;
            }
            if (volume_parse(optarg, &volumes[nvolumes], err, sizeof(err)) < 0) {
                fprintf(stderr, "moat: %s\n", err);
                return 125;
            }
            *nvolumesp = ++nvolumes;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 125;
        }
    }
    if (runtime_pick_platform(g, platform_flag, &cfg.platform))
        return 125;
    if (optind >= argc) {
        fprintf(stderr, "moat do: no program given\n");
        usage(stderr);
        return 125;
    }
    const char *prog = argv[optind];
    char *path = NULL;
    int fd = -1;
    if (!use_gofer) {
        /* The root is an empty tmpfs: the program comes from the host. With
         * a Gofer, the Sentry finds it in the sandbox's own tree. */
        int code = open_host_program(prog, &path, &fd);
        if (code)
            return code;
    }
    if (log_path) {
        cfg.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (cfg.log_fd < 0) {
            fprintf(stderr, "moat: --debug-log %s: %s\n", log_path, strerror(errno));
            if (fd >= 0)
                close(fd);
            free(path);
            return 125;
        }
    }
    if (cfg.debug) {
        /* The choice comes from two flags, the environment or the
         * default: say which one won. */
        dprintf(cfg.log_fd >= 0 ? cfg.log_fd : STDERR_FILENO,
                "moat: platform %s, systrap patching %s\n", runtime_platform_name(cfg.platform),
                cfg.systrap_patching ? "on" : "off");
    }
    cfg.exe_fd = fd;
    cfg.exe_path = path ? path : prog;
    cfg.argv = argv + optind;
    cfg.envp = environ;
    char cwd[4096];
    cfg.cwd = getcwd(cwd, sizeof(cwd));

    const char *why = NULL;
    struct gofer_proc gofer = {.pid = -1, .sentry_fd = -1};
    struct gofer_proc vprocs[SENTRY_MAX_VOLUMES];
    struct sentry_volume svols[SENTRY_MAX_VOLUMES];
    int code = 125;
    if (use_gofer) {
        struct stat rs;
        int bad = stat(root, &rs) < 0 ? errno : S_ISDIR(rs.st_mode) ? 0 : ENOTDIR;
        if (bad) {
            fprintf(stderr, "moat: --root %s: %s\n", root, strerror(bad));
            goto out;
        }
        int err = gofer_proc_start(root, true, cfg.debug, &gofer, &why);
        if (err) {
            fprintf(stderr, "moat: %s: %s\n", why, strerror(-err));
            goto out;
        }
        cfg.gofer_fd = gofer.sentry_fd;
    }
    if (start_volume_gofers(volumes, nvolumes, cfg.debug, vprocs, svols) < 0) {
        stop_gofers(&gofer, gofer.pid > 0 ? 1 : 0);
        goto out;
    }
    cfg.volumes = svols;
    cfg.nvolumes = nvolumes;

    struct sandbox sb;
    int err = sandbox_start(&cfg, &sb, &why);
    /* The Sentry holds its own copies; a Gofer ends when that one closes. */
    if (gofer.sentry_fd >= 0)
        close(gofer.sentry_fd);
    for (size_t i = 0; i < nvolumes; i++)
        close(vprocs[i].sentry_fd);
    if (err) {
        fprintf(stderr, "moat: %s: %s\n", why, strerror(-err));
        stop_gofers(&gofer, gofer.pid > 0 ? 1 : 0);
        stop_gofers(vprocs, nvolumes);
        goto out;
    }
    code = sandbox_wait(&sb);
    if (gofer.pid > 0)
        gofer_proc_wait(&gofer);
    for (size_t i = 0; i < nvolumes; i++)
        gofer_proc_wait(&vprocs[i]);
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return code;
}

int cmd_do(int argc, char **argv, const struct global_opts *g)
{
    struct volume *volumes = calloc(SENTRY_MAX_VOLUMES, sizeof(*volumes));
    if (!volumes) {
        fprintf(stderr, "moat: out of memory\n");
        return 125;
    }
    size_t n = 0;
    int code = run(argc, argv, g, volumes, &n);
    free_volumes(volumes, n);
    free(volumes);
    return code;
}
