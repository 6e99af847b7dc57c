/* sysfs: /sys/devices/system/cpu with online, possible, present and
 * offline in Linux's cpulist format and one cpuN directory per CPU the
 * sandbox reports (k->ncpus), which is what glibc's get_nprocs and
 * get_nprocs_conf and most CPU-counting code read. Built on procfs's
 * synthetic-file machinery (sentry/fs/procfs/synth.h). */
#include <stdio.h>
#include <string.h>

#include "abi/errno.h"
#include "sentry/fs/procfs/procfs.h"
#include "sentry/fs/procfs/synth.h"
#include "sentry/fs/sysfs.h"
#include "sentry/kernel/kernel.h"

static int gen_cpu_list(const struct synth_ctx *c, struct synth_buf *b)
{
    procfs_format_cpu_list(b, c->k->ncpus, true);
    return 0;
}

static int gen_empty_line(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_write(b, "\n", 1);
    return 0;
}

static int gen_one(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_write(b, "1\n", 2);
    return 0;
}

static const struct synth_ent cpu_online = {
    .name = "online",
    .type = SYNTH_FILE,
    .perm = 0644,
    .gen = gen_one,
    .write_err = -ABI_EPERM,
};

/* cpu0 cannot go offline on x86, so Linux gives it no "online" file. */
static int cpun_list(const struct synth_ctx *c, synth_emit_fn emit, void *arg)
{
    if (c->node.idx > 0)
        return emit(arg, "online", (struct synth_node){&cpu_online, 0, c->node.idx});
    return 0;
}

static int cpun_lookup(const struct synth_ctx *c, const char *name, struct synth_node *out)
{
    if (c->node.idx <= 0 || strcmp(name, "online") != 0)
        return -ABI_ENOENT;
    *out = (struct synth_node){&cpu_online, 0, c->node.idx};
    return 0;
}

static bool cpun_valid(const struct synth_ctx *c)
{
    return c->node.idx >= 0 && c->node.idx < c->k->ncpus;
}

static const struct synth_ent cpun_dir = {
    .name = "cpuN",
    .type = SYNTH_DIR,
    .perm = 0755,
    .list = cpun_list,
    .lookup = cpun_lookup,
    .valid = cpun_valid,
};

static int cpu_list(const struct synth_ctx *c, synth_emit_fn emit, void *arg)
{
    char name[16];
    for (int i = 0; i < c->k->ncpus; i++) {
        snprintf(name, sizeof(name), "cpu%d", i);
        int err = emit(arg, name, (struct synth_node){&cpun_dir, 0, i});
        if (err)
            return err;
    }
    return 0;
}

static int cpu_lookup(const struct synth_ctx *c, const char *name, struct synth_node *out)
{
    int n;
    if (name[0] != 'c' || name[1] != 'p' || name[2] != 'u' || !synth_parse_uint(name + 3, &n) ||
        n >= c->k->ncpus)
        return -ABI_ENOENT;
    *out = (struct synth_node){&cpun_dir, 0, n};
    return 0;
}

static const struct synth_ent cpu_kids[] = {
    SYNTH_RO_FILE("offline", gen_empty_line),
    SYNTH_RO_FILE("online", gen_cpu_list),
    SYNTH_RO_FILE("possible", gen_cpu_list),
    SYNTH_RO_FILE("present", gen_cpu_list),
    {.name = NULL},
};

static const struct synth_ent system_kids[] = {
    {.name = "cpu",
     .type = SYNTH_DIR,
     .perm = 0755,
     .kids = cpu_kids,
     .list = cpu_list,
     .lookup = cpu_lookup},
    {.name = NULL},
};

static const struct synth_ent devices_kids[] = {
    {.name = "system", .type = SYNTH_DIR, .perm = 0755, .kids = system_kids},
    {.name = NULL},
};

static const struct synth_ent root_kids[] = {
    {.name = "devices", .type = SYNTH_DIR, .perm = 0755, .kids = devices_kids},
    {.name = "fs", .type = SYNTH_DIR, .perm = 0755},
    {.name = "kernel", .type = SYNTH_DIR, .perm = 0755},
    {.name = NULL},
};

static const struct synth_ent root_dir = {
    .name = "/",
    .type = SYNTH_DIR,
    .perm = 0555,
    .kids = root_kids,
};

int sysfs_create(struct kernel *k, struct vfs_filesystem **out)
{
    return synth_fs_create(k, "sysfs", SYSFS_MAGIC, &root_dir, true, out);
}
