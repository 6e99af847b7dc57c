/* procfs's root: /proc/self, the per-process directories, the system-wide
 * files and /proc/sys. */
#include <stdio.h>

#include "abi/errno.h"
#include "sentry/fs/procfs/proc_internal.h"
#include "sentry/fs/procfs/procfs.h"
#include "sentry/kernel/kernel.h"

static int64_t self_readlink(const struct synth_ctx *c, char *buf, size_t n)
{
    if (!c->caller)
        return -ABI_ENOENT;
    char s[16];
    snprintf(s, sizeof(s), "%d", c->caller->pid);
    return procfs_link_text(buf, n, s);
}

static int64_t thread_self_readlink(const struct synth_ctx *c, char *buf, size_t n)
{
    if (!c->caller)
        return -ABI_ENOENT;
    char s[40];
    snprintf(s, sizeof(s), "%d/task/%d", c->caller->pid, c->caller->tid);
    return procfs_link_text(buf, n, s);
}

static int64_t mounts_readlink(const struct synth_ctx *c, char *buf, size_t n)
{
    (void)c;
    return procfs_link_text(buf, n, "self/mounts");
}

struct pid_emit {
    synth_emit_fn emit;
    void *arg;
};

static int emit_pid(void *varg, struct task *t)
{
    struct pid_emit *e = varg;
    char name[16];
    snprintf(name, sizeof(name), "%d", t->pid);
    return e->emit(e->arg, name, (struct synth_node){&procfs_pid_dir, t->pid, -1});
}

static int root_list(const struct synth_ctx *c, synth_emit_fn emit, void *arg)
{
    struct pid_emit e = {emit, arg};
    return kernel_for_each_thread_group(c->k, emit_pid, &e);
}

static int root_lookup(const struct synth_ctx *c, const char *name, struct synth_node *out)
{
    int pid;
    if (!synth_parse_uint(name, &pid) || pid == 0 || !kernel_task_lookup(c->k, pid))
        return -ABI_ENOENT;
    *out = (struct synth_node){&procfs_pid_dir, pid, -1};
    return 0;
}

static const struct synth_ent root_kids[] = {
    SYNTH_RO_FILE("cpuinfo", procfs_gen_cpuinfo),
    SYNTH_RO_FILE("filesystems", procfs_gen_filesystems),
    SYNTH_RO_FILE("loadavg", procfs_gen_loadavg),
    SYNTH_RO_FILE("meminfo", procfs_gen_meminfo),
    {.name = "mounts", .type = SYNTH_LINK, .perm = 0777, .readlink = mounts_readlink},
    {.name = "self", .type = SYNTH_LINK, .perm = 0777, .readlink = self_readlink},
    SYNTH_RO_FILE("stat", procfs_gen_stat),
    {.name = "sys", .type = SYNTH_DIR, .perm = 0555, .kids = procfs_sys_kids},
    {.name = "sysvipc", .type = SYNTH_DIR, .perm = 0555, .kids = procfs_sysvipc_kids},
    {.name = "thread-self", .type = SYNTH_LINK, .perm = 0777, .readlink = thread_self_readlink},
    SYNTH_RO_FILE("uptime", procfs_gen_uptime),
    SYNTH_RO_FILE("version", procfs_gen_version),
    {.name = NULL},
};

static const struct synth_ent root_dir = {
    .name = "/",
    .type = SYNTH_DIR,
    .perm = 0555,
    .kids = root_kids,
    .list = root_list,
    .lookup = root_lookup,
};

int procfs_create(struct kernel *k, struct vfs_filesystem **out)
{
    return synth_fs_create(k, "proc", PROCFS_SUPER_MAGIC, &root_dir, false, out);
}
