/* The layout of /dev: the set of nodes runc and gVisor give a container,
 * and /dev/console, which programs look for (runc makes it only for a
 * container with a terminal; until moat attaches one, opening it is ENODEV,
 * Linux's answer when no console is registered). ptmx/pts come with moat's
 * devpts. */
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/devfs.h"
#include "sentry/vfs/device.h"

struct dev_node {
    const char *name;
    uint32_t major, minor;
    uint32_t mode;
};

static const struct dev_node dev_nodes[] = {
    {"null", 1, 3, 0666},    {"zero", 1, 5, 0666}, {"full", 1, 7, 0666},    {"random", 1, 8, 0666},
    {"urandom", 1, 9, 0666}, {"tty", 5, 0, 0666},  {"console", 5, 1, 0600},
};

static const char *const dev_links[][2] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

int devfs_register_drivers(void)
{
    int err = devfs_mem_register();
    if (!err)
        err = devfs_tty_register();
    return err;
}

int devfs_populate(const struct vfs_walk_ctx *ctx, struct vfs_path dir)
{
    for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
        const struct dev_node *n = &dev_nodes[i];
        int err =
            vfs_mknodat(ctx, dir, n->name, ABI_S_IFCHR | n->mode, vfs_mkdev(n->major, n->minor));
        if (err)
            return err;
    }
    for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
        int err = vfs_symlinkat(ctx, dev_links[i][1], dir, dev_links[i][0]);
        if (err)
            return err;
    }
    /* The mount point of /dev/shm: the tmpfs mounted there brings its own
     * 1777 mode. */
    return vfs_mkdirat(ctx, dir, "shm", 01777);
}
