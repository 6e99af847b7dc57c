/* The moat command: global flags, then one subcommand. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/commands.h"

#ifndef MOAT_VERSION
#define MOAT_VERSION "unknown"
#endif

/* Every platform the flags accept, in the order --version lists them. */
static const struct {
    const char *name;
    enum platform_kind kind;
} platforms[] = {
    {"ptrace", PLATFORM_PTRACE},
    {"systrap", PLATFORM_SYSTRAP},
};
#define NPLATFORMS (sizeof(platforms) / sizeof(platforms[0]))

static void print_platform_names(FILE *out)
{
    for (size_t i = 0; i < NPLATFORMS; i++)
        fprintf(out, "%s%s", i ? " " : "", platforms[i].name);
}

const char *runtime_platform_name(enum platform_kind kind)
{
    for (size_t i = 0; i < NPLATFORMS; i++)
        if (platforms[i].kind == kind)
            return platforms[i].name;
    return "unknown";
}

int runtime_parse_platform(const char *flag, const char *value, enum platform_kind *out)
{
    for (size_t i = 0; i < NPLATFORMS; i++) {
        if (strcmp(value, platforms[i].name) == 0) {
            *out = platforms[i].kind;
            return 0;
        }
    }
    fprintf(stderr, "moat: %s: unknown platform '%s' (known: ", flag, value);
    print_platform_names(stderr);
    fprintf(stderr, ")\n");
    return 125;
}

int runtime_parse_bool(const char *flag, const char *value, bool *out)
{
    if (!value || strcmp(value, "true") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(value, "false") == 0) {
        *out = false;
        return 0;
    }
    fprintf(stderr, "moat: %s: '%s' is not true or false\n", flag, value);
    return 125;
}

int runtime_pick_platform(const struct global_opts *g, const char *cmd_flag,
                          enum platform_kind *out)
{
    if (cmd_flag)
        return runtime_parse_platform("--platform", cmd_flag, out);
    if (g->platform)
        return runtime_parse_platform("--platform", g->platform, out);
    /* The environment only replaces the built-in default: MOAT_PLATFORM runs
     * a whole test suite on one platform while a flag still pins one run. */
    const char *env = getenv("MOAT_PLATFORM");
    if (env && *env)
        return runtime_parse_platform("MOAT_PLATFORM", env, out);
    *out = MOAT_DEFAULT_PLATFORM;
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: moat [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
            "\n"
            "moat runs Linux programs in a sandbox: a user-space kernel (the Sentry)\n"
            "handles every system call the program makes.\n"
            "\n"
            "Commands:\n"
            "  do        run a program in a new sandbox: moat do -- PROGRAM [ARGS...]\n"
            "  version   print the version\n"
            "  help      this text\n"
            "\n"
            "Global options:\n"
            "  --root DIR          state directory (OCI commands)\n"
            "  --log FILE          log file (OCI commands)\n"
            "  --log-format FMT    text or json\n"
            "  --systemd-cgroup    use systemd for cgroups\n"
            "  --debug             verbose diagnostics\n"
            "  --platform=NAME     how guest syscalls are intercepted: ptrace or systrap\n"
            "                      (default: $MOAT_PLATFORM if set, else %s)\n"
            "  --systrap-patching[=true|false]\n"
            "                      systrap: rewrite a trapped `mov $nr, %%eax; syscall`\n"
            "                      in program text into a jump that enters moat\n"
            "                      without a signal (default: true)\n"
            "  -v, --version       print the version\n"
            "  -h, --help          this text\n"
            "\n"
            "The subcommands start from the global --platform and --systrap-patching;\n"
            "their own flags of the same name override them.\n",
            runtime_platform_name(MOAT_DEFAULT_PLATFORM));
}

static int version(void)
{
    printf("moat version %s\nspec: 1.0.2\nplatforms: ", MOAT_VERSION);
    print_platform_names(stdout);
    printf("\ndefault platform: %s\n", runtime_platform_name(MOAT_DEFAULT_PLATFORM));
    return 0;
}

/* A closed stdin, stdout or stderr would be reused by the next open: the
 * program file or the Sentry's status pipe would become the guest's stdio.
 * Hold the numbers with /dev/null and remember which were closed. */
static unsigned reserve_stdio(void)
{
    unsigned closed = 0;
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        closed |= 1u << fd;
        int n = open("/dev/null", O_RDWR);
        if (n != fd) {
            /* Not even /dev/null: refuse rather than mix up fds. */
            fprintf(stderr, "moat: fd %d is closed and cannot be reserved\n", fd);
            _exit(125);
        }
    }
    return closed;
}

int main(int argc, char **argv)
{
    unsigned stdio_closed = reserve_stdio();
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"log", required_argument, NULL, 'l'},
        {"log-format", required_argument, NULL, 'f'},
        {"systemd-cgroup", no_argument, NULL, 's'},
        {"debug", no_argument, NULL, 'd'},
        {"platform", required_argument, NULL, 'p'},
        {"systrap-patching", optional_argument, NULL, 'P'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct global_opts g;
    memset(&g, 0, sizeof(g));
    g.stdio_closed = stdio_closed;
    g.systrap_patching = true;
    int c;
    /* "+": stop at the subcommand; its own flags are its business. */
    while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            g.root = optarg;
            break;
        case 'l':
            g.log = optarg;
            break;
        case 'f':
            g.log_format = optarg;
            break;
        case 's':
            g.systemd_cgroup = true;
            break;
        case 'd':
            g.debug = true;
            break;
        case 'p': {
            enum platform_kind unused;
            if (runtime_parse_platform("--platform", optarg, &unused))
                return 125;
            g.platform = optarg;
            break;
        }
        case 'P':
            if (runtime_parse_bool("--systrap-patching", optarg, &g.systrap_patching))
                return 125;
            break;
        case 'v':
            return version();
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 125;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 125;
    }
    const char *cmd = argv[optind];
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    if (strcmp(cmd, "do") == 0)
        return cmd_do(sub_argc, sub_argv, &g);
    if (strcmp(cmd, "version") == 0)
        return version();
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "moat: unknown command '%s' (see moat --help)\n", cmd);
    return 125;
}
