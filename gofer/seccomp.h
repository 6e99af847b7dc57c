/* The Gofer's host-call allowlist. */
#ifndef MOAT_GOFER_SECCOMP_H
#define MOAT_GOFER_SECCOMP_H

#include <stdbool.h>

/* Installs the allowlist of gofer_serve(): anything else kills the process
 * (with debug, raises SIGSYS instead so the call can be seen). Call after
 * gofer_confine() and gofer_server_create(), with no_new_privs set (this
 * sets it too). Returns 0 or -errno. */
int gofer_seccomp_install(bool debug);

#endif
