/* The moat command's subcommands. */
#ifndef MOAT_RUNTIME_COMMANDS_H
#define MOAT_RUNTIME_COMMANDS_H

#include <stdbool.h>

/* Global flags, accepted before the subcommand as runc's callers pass them. */
struct global_opts {
    const char *root;       /* --root: state directory */
    const char *log;        /* --log */
    const char *log_format; /* --log-format */
    bool systemd_cgroup;
    bool debug;
    /* Bit n: fd n (0-2) was closed when moat started (see main.c). */
    unsigned stdio_closed;
};

int cmd_do(int argc, char **argv, const struct global_opts *g);

#endif
