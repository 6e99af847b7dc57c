/* --volume parsing. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/volume.h"

/* The guest path without repeated or trailing slashes; "/" alone is
 * refused: the root is the --root's. */
static char *clean_guest(const char *g, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (g[i] == '/' && n && out[n - 1] == '/')
            continue;
        out[n++] = g[i];
    }
    while (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
    return out;
}

int volume_parse(const char *spec, struct volume *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *c1 = strchr(spec, ':');
    if (!c1 || c1 == spec) {
        snprintf(err, errlen, "--volume '%s': expected HOST:GUEST[:ro|rw]", spec);
        return -1;
    }
    const char *g = c1 + 1;
    const char *c2 = strchr(g, ':');
    size_t glen = c2 ? (size_t)(c2 - g) : strlen(g);
    if (c2) {
        if (strcmp(c2 + 1, "ro") == 0) {
            out->readonly = true;
        } else if (strcmp(c2 + 1, "rw") != 0) {
            snprintf(err, errlen, "--volume '%s': unknown option '%s' (ro or rw)", spec, c2 + 1);
            return -1;
        }
    }
    if (glen == 0 || g[0] != '/') {
        snprintf(err, errlen, "--volume '%s': the sandbox path must be absolute", spec);
        return -1;
    }
    if (glen >= PATH_MAX) {
        snprintf(err, errlen, "--volume: the sandbox path is too long");
        return -1;
    }
    out->guest = clean_guest(g, glen);
    if (!out->guest) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (strcmp(out->guest, "/") == 0) {
        snprintf(err, errlen, "--volume '%s': cannot mount over the sandbox's root", spec);
        volume_free(out);
        return -1;
    }
    char *host = strndup(spec, (size_t)(c1 - spec));
    if (!host) {
        snprintf(err, errlen, "out of memory");
        volume_free(out);
        return -1;
    }
    out->host = realpath(host, NULL);
    struct stat st;
    int e = !out->host                 ? errno
            : stat(out->host, &st) < 0 ? errno
            : S_ISDIR(st.st_mode)      ? 0
                                       : ENOTDIR;
    if (e) {
        snprintf(err, errlen, "--volume: %s: %s", host, strerror(e));
        free(host);
        volume_free(out);
        return -1;
    }
    free(host);
    return 0;
}

void volume_free(struct volume *v)
{
    free(v->host);
    free(v->guest);
    v->host = v->guest = NULL;
}
