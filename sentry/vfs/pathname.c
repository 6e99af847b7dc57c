/* Paths back to strings: getcwd, /proc/PID/fd and /proc/PID/cwd links.
 *
 * The name is built from the end of the buffer towards its start while
 * climbing dentry parents, hopping from each mount's root to the dentry it
 * is mounted on, until the task's root or the top of the tree.
 */
#include <string.h>

#include "abi/errno.h"
#include "sentry/vfs/vfs.h"

static const char deleted[] = " (deleted)";

/* Put s in front of what is already at buf[*pos..]. */
static bool prepend(char *buf, size_t *pos, const char *s, size_t len)
{
    if (len > *pos)
        return false;
    *pos -= len;
    memcpy(buf + *pos, s, len);
    return true;
}

int64_t vfs_path_string(const struct vfs_walk_ctx *ctx, struct vfs_path p, char *buf, size_t n,
                        bool *reachable)
{
    if (n == 0)
        return -ABI_ERANGE;
    size_t pos = n - 1;
    buf[pos] = '\0';
    bool gone = p.dentry->detached;
    if (gone && !prepend(buf, &pos, deleted, sizeof(deleted) - 1))
        return -ABI_ERANGE;
    struct vfs_mount *m = p.mnt;
    struct vfs_dentry *d = p.dentry;
    bool found_root = false;
    bool any = false;
    for (;;) {
        if (m == ctx->root.mnt && d == ctx->root.dentry) {
            found_root = true;
            break;
        }
        if (d == m->root) {
            if (!m->parent)
                break;
            d = m->mountpoint;
            m = m->parent;
            continue;
        }
        if (!d->parent)
            break;
        if (!prepend(buf, &pos, d->name, strlen(d->name)) || !prepend(buf, &pos, "/", 1))
            return -ABI_ERANGE;
        any = true;
        d = d->parent;
    }
    if (!any && !prepend(buf, &pos, "/", 1))
        return -ABI_ERANGE;
    if (reachable)
        *reachable = found_root;
    size_t len = n - 1 - pos;
    memmove(buf, buf + pos, len + 1);
    return (int64_t)len;
}
