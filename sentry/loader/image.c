/* Reading the executable through its callback, and the per-thread buffer that
 * failure sentences with numbers in them are formatted into. */
#include <stdarg.h>
#include <stdio.h>

#include "abi/errno.h"
#include "sentry/loader/internal.h"

/* Per thread because loads on behalf of different guest tasks run on
 * different Sentry threads; the sentence lives until that thread's next load. */
static _Thread_local char why_buf[192];

const char *loader_why(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
    va_end(ap);
    return why_buf;
}

int64_t loader_read_full(const struct loader_image *img, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        if (off + done < off)
            return done;
        int64_t n = img->read(img->arg, (char *)buf + done, len - done, off + done);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        if ((uint64_t)n > len - done)
            return -ABI_EIO;
        done += (size_t)n;
    }
    return (int64_t)done;
}
