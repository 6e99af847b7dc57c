/* "#!" scripts: splitting the first line the way Linux's binfmt_script does,
 * so that the same script starts the same interpreter with the same argument
 * in the sandbox as natively. */
#include <string.h>

#include "abi/errno.h"
#include "sentry/loader/internal.h"

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The interpreter name ends at a space, a tab or a NUL. */
static int name_end(char c)
{
    return blank(c) || c == '\0';
}

int loader_parse_script(const void *data, size_t len, struct loader_script *out, const char **why)
{
    const char *ignored;
    if (!why)
        why = &ignored;
    memset(out, 0, sizeof(*out));
    char buf[LOADER_SCRIPT_BUF];
    size_t n = len < sizeof(buf) ? len : sizeof(buf);
    memcpy(buf, data, n);
    if (n < 2 || buf[0] != '#' || buf[1] != '!') {
        *why = "not a script";
        return -ABI_ENOEXEC;
    }
    /* The line ends at the first newline; without one in the buffer, the
     * line was cut, which is fine only if the interpreter's name is whole. */
    const char *end = memchr(buf, '\n', n);
    const char *p = buf + 2;
    if (!end) {
        /* Linux looks at one byte less than it reads. */
        const char *limit = buf + (n == sizeof(buf) ? n - 1 : n);
        while (p < limit && blank(*p))
            p++;
        const char *q = p;
        while (q < limit && !name_end(*q))
            q++;
        if (p == limit || (q == limit && n == sizeof(buf))) {
            *why = "the script's interpreter name is cut off by the line length limit";
            return -ABI_ENOEXEC;
        }
        end = limit;
    }
    while (end > p && blank(end[-1]))
        end--;
    while (p < end && blank(*p))
        p++;
    const char *name = p;
    while (p < end && !name_end(*p))
        p++;
    if (p == name) {
        *why = "the script names no interpreter";
        return -ABI_ENOEXEC;
    }
    memcpy(out->interp, name, (size_t)(p - name));
    /* One optional argument: everything after the blanks that follow the
     * name, spaces and all. A NUL after the name ends the line. */
    if (p < end && *p != '\0') {
        while (p < end && blank(*p))
            p++;
        if (p < end) {
            size_t alen = strnlen(p, (size_t)(end - p));
            memcpy(out->arg, p, alen);
            out->has_arg = alen > 0;
        }
    }
    return 0;
}
