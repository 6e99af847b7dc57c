/* --volume HOST:GUEST[:ro|rw]: parsing and checking a bind mount request. */
#ifndef MOAT_RUNTIME_VOLUME_H
#define MOAT_RUNTIME_VOLUME_H

#include <stdbool.h>
#include <stddef.h>

struct volume {
    char *host;  /* canonical host directory (realpath), malloc'd */
    char *guest; /* absolute path in the sandbox, malloc'd */
    bool readonly;
};

/* Parses spec. The host side must be an existing directory (symlinks are
 * resolved on the host, by the user's authority); the guest side must be an
 * absolute path other than "/". Returns 0, or -1 with a sentence naming the
 * problem in err. */
int volume_parse(const char *spec, struct volume *out, char *err, size_t errlen);
void volume_free(struct volume *v);

#endif
