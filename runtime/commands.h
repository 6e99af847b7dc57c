/* The moat command's subcommands, and the flags they share. */
#ifndef MOAT_RUNTIME_COMMANDS_H
#define MOAT_RUNTIME_COMMANDS_H

#include <stdbool.h>

#include "platform/platform.h"

/* The platform when neither a flag nor $MOAT_PLATFORM names one: systrap,
 * which passes the whole suite (a host where it cannot work falls back to
 * ptrace with a message, sentry/boot/boot.c). */
#define MOAT_DEFAULT_PLATFORM PLATFORM_SYSTRAP

/* Global flags, accepted before the subcommand as runc's callers pass them.
 * Every subcommand starts from platform and systrap_patching, and its own
 * flags of the same name override them. */
struct global_opts {
    const char *root;       /* --root: state directory */
    const char *log;        /* --log */
    const char *log_format; /* --log-format */
    bool systemd_cgroup;
    bool debug;
    /* --platform, already checked; NULL when not given, so that
     * runtime_pick_platform can still fall back to $MOAT_PLATFORM. */
    const char *platform;
    bool systrap_patching; /* --systrap-patching; true unless given false */
    /* Bit n: fd n (0-2) was closed when moat started (see main.c). */
    unsigned stdio_closed;
};

/* Flag values shared by the global flags and the subcommands (main.c). Each
 * returns 0, or prints why the value is refused (naming flag and value) and
 * returns 125, the exit code for a usage error. */
int runtime_parse_platform(const char *flag, const char *value, enum platform_kind *out);
/* value NULL: the flag given alone, which means true. */
int runtime_parse_bool(const char *flag, const char *value, bool *out);
/* The platform a subcommand runs on: its own --platform (cmd_flag, NULL when
 * not given), else the global one, else $MOAT_PLATFORM, else
 * MOAT_DEFAULT_PLATFORM. Returns 0, or 125 after saying which value is bad. */
int runtime_pick_platform(const struct global_opts *g, const char *cmd_flag,
                          enum platform_kind *out);
/* The platform's name as the flags spell it. */
const char *runtime_platform_name(enum platform_kind kind);

int cmd_do(int argc, char **argv, const struct global_opts *g);

#endif
