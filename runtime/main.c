/* The moat command: global flags, then one subcommand. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "runtime/commands.h"

#ifndef MOAT_VERSION
#define MOAT_VERSION "unknown"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: moat [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
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
                 "  -v, --version       print the version\n"
                 "  -h, --help          this text\n");
}

static int version(void)
{
    printf("moat version %s\nspec: 1.0.2\nplatforms: ptrace\n", MOAT_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"log", required_argument, NULL, 'l'},
        {"log-format", required_argument, NULL, 'f'},
        {"systemd-cgroup", no_argument, NULL, 's'},
        {"debug", no_argument, NULL, 'd'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct global_opts g;
    memset(&g, 0, sizeof(g));
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
