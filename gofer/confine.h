/* Confinement of the Gofer process before it serves. */
#ifndef MOAT_GOFER_CONFINE_H
#define MOAT_GOFER_CONFINE_H

#include <stdbool.h>

/* Makes root the whole visible filesystem of the calling process and drops
 * what file serving does not need: a private mount namespace whose root is
 * a bind mount of root (read-only when readonly) after pivot_root, the old
 * root detached; an empty network namespace; no_new_privs; capabilities
 * cut to GOFER_KEPT_CAPS in every set, the bounding set included. Needs
 * CAP_SYS_ADMIN on entry. Call in a process of its own, single-threaded,
 * before gofer_server_create() (whose root fd should then be "/").
 * Returns 0 or -errno; on failure the process is half-confined and should
 * exit. */
int gofer_confine(const char *root, bool readonly);

/* The capabilities a confined Gofer keeps, as a bit mask of CAP_* numbers:
 * CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID. */
unsigned long long gofer_kept_caps(void);

#endif
