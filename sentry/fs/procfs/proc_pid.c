/* /proc/PID: one directory per thread group, generated from its task.
 *
 * Paths shown in links are as the reader sees them (its root), mounts as the
 * task sees them (its root), as on Linux. Magic links (exe, cwd, root, fd/N)
 * jump to the object itself when followed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/signal.h"
#include "sentry/fs/anon_inode.h"
#include "sentry/fs/procfs/proc_internal.h"
#include "sentry/fs/procfs/procfs.h"
#include "sentry/kernel/ipc/mqueue.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"

#define PAGE_KB 4

/* Cap on cmdline/environ: Linux's own limit on what exec copies. */
#define ARGS_MAX (2u << 20)

/* The context paths are printed in: the reader's root. */
static void reader_ctx(const struct synth_ctx *c, struct vfs_walk_ctx *ctx)
{
    task_walk_ctx(c->caller ? c->caller : c->task, ctx);
}

int64_t procfs_link_text(char *buf, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len > n)
        len = n;
    memcpy(buf, s, len);
    return (int64_t)len;
}

static int64_t path_link(const struct synth_ctx *c, struct vfs_path p, char *buf, size_t n)
{
    if (!p.dentry)
        return -ABI_ENOENT;
    struct vfs_walk_ctx ctx;
    reader_ctx(c, &ctx);
    char *tmp = malloc(VFS_PATH_MAX);
    if (!tmp)
        return -ABI_ENOMEM;
    int64_t len = vfs_path_string(&ctx, p, tmp, VFS_PATH_MAX, NULL);
    if (len >= 0)
        len = procfs_link_text(buf, n, tmp);
    free(tmp);
    return len;
}

static int path_follow(struct vfs_path p, struct vfs_path *out)
{
    if (!p.dentry)
        return -ABI_ENOENT;
    *out = vfs_path_get(p);
    return 0;
}

static int64_t exe_readlink(const struct synth_ctx *c, char *buf, size_t n)
{
    return path_link(c, c->task->tg->exe, buf, n);
}

static int exe_follow(const struct synth_ctx *c, struct vfs_mount *mnt, struct vfs_path *out)
{
    (void)mnt;
    return path_follow(c->task->tg->exe, out);
}

static int64_t cwd_readlink(const struct synth_ctx *c, char *buf, size_t n)
{
    return path_link(c, c->task->fs->cwd, buf, n);
}

static int cwd_follow(const struct synth_ctx *c, struct vfs_mount *mnt, struct vfs_path *out)
{
    (void)mnt;
    return path_follow(c->task->fs->cwd, out);
}

static int64_t root_readlink(const struct synth_ctx *c, char *buf, size_t n)
{
    return path_link(c, c->task->fs->root, buf, n);
}

static int root_follow(const struct synth_ctx *c, struct vfs_mount *mnt, struct vfs_path *out)
{
    (void)mnt;
    return path_follow(c->task->fs->root, out);
}

/* ---- fd/ and fdinfo/ ---- */

static struct vfs_file *node_file(const struct synth_ctx *c)
{
    return c->node.idx >= 0 ? vfs_fd_lookup(c->task->fds, c->node.idx) : NULL;
}

static bool fd_valid(const struct synth_ctx *c)
{
    return node_file(c) != NULL;
}

/* A file with no path (the host stdio, pipes, sockets): named as Linux
 * names what it is, never by a host path. */
static void anon_name(struct vfs_file *f, char *out, size_t n)
{
    /* A POSIX message queue reads as its path on the mqueue filesystem. */
    if (mqueue_is(f)) {
        const char *name = mqueue_name(f);
        snprintf(out, n, "%s", name ? name : "/");
        return;
    }
    struct abi_stat st;
    memset(&st, 0, sizeof(st));
    if (!f->ops->stat || f->ops->stat(f, &st) != 0) {
        snprintf(out, n, "anon_inode:[unknown]");
        return;
    }
    unsigned maj = (unsigned)(((st.st_rdev >> 8) & 0xfff) | ((st.st_rdev >> 32) & ~0xfffULL));
    unsigned min = (unsigned)((st.st_rdev & 0xff) | ((st.st_rdev >> 12) & ~0xffULL));
    switch (st.st_mode & ABI_S_IFMT) {
    case ABI_S_IFIFO:
        snprintf(out, n, "pipe:[%" PRIu64 "]", (uint64_t)st.st_ino);
        return;
    case ABI_S_IFSOCK:
        snprintf(out, n, "socket:[%" PRIu64 "]", (uint64_t)st.st_ino);
        return;
    case ABI_S_IFCHR:
        if (maj == 1 && min == 3)
            snprintf(out, n, "/dev/null");
        else if (maj == 1 && min == 5)
            snprintf(out, n, "/dev/zero");
        else if (maj == 5 && min == 0)
            snprintf(out, n, "/dev/tty");
        else if (maj >= 136 && maj <= 143)
            snprintf(out, n, "/dev/pts/%u", (maj - 136) * 256 + min);
        else
            snprintf(out, n, "/dev/char/%u:%u", maj, min);
        return;
    case 0: /* anon_inodefs: eventfd, epoll */
        if (anon_inode_kind(f)) {
            snprintf(out, n, "anon_inode:[%s]", anon_inode_kind(f));
            return;
        }
        /* fall through */
    default:
        /* A host regular file or directory: its host path is the host's
         * business; the inode number still tells two apart. */
        snprintf(out, n, "/[host-file:%" PRIu64 "]", (uint64_t)st.st_ino);
        return;
    }
}

static int64_t fd_readlink(const struct synth_ctx *c, char *buf, size_t n)
{
    struct vfs_file *f = node_file(c);
    if (!f)
        return -ABI_ENOENT;
    f = procfs_anon_original(f);
    if (f->dentry && f->mnt)
        return path_link(c, (struct vfs_path){f->mnt, f->dentry}, buf, n);
    char name[64];
    anon_name(f, name, sizeof(name));
    return procfs_link_text(buf, n, name);
}

static int fd_follow(const struct synth_ctx *c, struct vfs_mount *mnt, struct vfs_path *out)
{
    struct vfs_file *f = node_file(c);
    if (!f)
        return -ABI_ENOENT;
    f = procfs_anon_original(f);
    if (!f->dentry || !f->mnt)
        return procfs_anon_file_path(c->task, f, mnt, out);
    *out = vfs_path_get((struct vfs_path){f->mnt, f->dentry});
    return 0;
}

static int list_fds(const struct synth_ctx *c, synth_emit_fn emit, void *arg,
                    const struct synth_ent *ent)
{
    char name[16];
    for (int fd = vfs_fd_next_open(c->task->fds, 0); fd >= 0;
         fd = vfs_fd_next_open(c->task->fds, fd + 1)) {
        snprintf(name, sizeof(name), "%d", fd);
        int err = emit(arg, name, (struct synth_node){ent, c->node.pid, fd});
        if (err)
            return err;
    }
    return 0;
}

static int lookup_fd(const struct synth_ctx *c, const char *name, struct synth_node *out,
                     const struct synth_ent *ent)
{
    int fd;
    if (!synth_parse_uint(name, &fd) || !vfs_fd_lookup(c->task->fds, fd))
        return -ABI_ENOENT;
    *out = (struct synth_node){ent, c->node.pid, fd};
    return 0;
}

static int gen_fdinfo(const struct synth_ctx *c, struct synth_buf *b)
{
    struct vfs_file *f = node_file(c);
    if (!f)
        return -ABI_ENOENT;
    int64_t pos = 0;
    if (f->positional && f->ops->lseek && !(f->flags & ABI_O_PATH)) {
        pos = f->ops->lseek(f, 0, ABI_SEEK_CUR);
        if (pos < 0)
            pos = 0;
    }
    uint32_t flags = f->flags | ABI_O_LARGEFILE;
    if (vfs_fd_get_cloexec(c->task->fds, c->node.idx) > 0)
        flags |= ABI_O_CLOEXEC;
    uint64_t ino = 0;
    if (f->dentry) {
        ino = f->dentry->inode->ino;
    } else if (f->ops->stat) {
        struct abi_stat st;
        if (f->ops->stat(f, &st) == 0)
            ino = st.st_ino;
    }
    synth_printf(b, "pos:\t%" PRId64 "\nflags:\t0%o\nmnt_id:\t%" PRIu64 "\nino:\t%" PRIu64 "\n",
                 pos, flags, f->mnt ? f->mnt->id : 0, ino);
    return 0;
}

/* Linux shows an fd link's mode as the open's access: r-x for reading,
 * -wx for writing, rwx for both. */
static uint16_t fd_perm(const struct synth_ctx *c)
{
    struct vfs_file *f = node_file(c);
    uint32_t acc = f ? f->flags & ABI_O_ACCMODE : ABI_O_RDONLY;
    if (f && (f->flags & ABI_O_PATH))
        return 0100;
    uint16_t p = 0100;
    if (acc == ABI_O_RDONLY || acc == ABI_O_RDWR)
        p |= 0400;
    if (acc == ABI_O_WRONLY || acc == ABI_O_RDWR)
        p |= 0200;
    return p;
}

static const struct synth_ent fd_link = {
    .name = "N",
    .type = SYNTH_LINK,
    .perm = 0500,
    .task_owned = true,
    .readlink = fd_readlink,
    .follow = fd_follow,
    .valid = fd_valid,
    .perm_of = fd_perm,
};

static const struct synth_ent fdinfo_file = {
    .name = "N",
    .type = SYNTH_FILE,
    .perm = 0444,
    .task_owned = true,
    .gen = gen_fdinfo,
    .write_err = -ABI_EINVAL,
    .valid = fd_valid,
};

static int fd_list(const struct synth_ctx *c, synth_emit_fn emit, void *arg)
{
    return list_fds(c, emit, arg, &fd_link);
}

static int fd_lookup(const struct synth_ctx *c, const char *name, struct synth_node *out)
{
    return lookup_fd(c, name, out, &fd_link);
}

static int fdinfo_list(const struct synth_ctx *c, synth_emit_fn emit, void *arg)
{
    return list_fds(c, emit, arg, &fdinfo_file);
}

static int fdinfo_lookup(const struct synth_ctx *c, const char *name, struct synth_node *out)
{
    return lookup_fd(c, name, out, &fdinfo_file);
}

/* ---- memory ---- */

struct vm_sums {
    uint64_t size, exec, data, stack;
    uint64_t code_start, code_end;
    struct synth_buf *maps;
};

static int sum_vma(void *arg, const struct mm_vma_info *v)
{
    struct vm_sums *s = arg;
    uint64_t len = v->end - v->start;
    s->size += len;
    if (v->flags & MM_VMA_GROWSDOWN)
        s->stack += len;
    else if (v->prot & ABI_PROT_EXEC) {
        s->exec += len;
        if (!s->code_start) {
            s->code_start = v->start;
            s->code_end = v->end;
        }
    } else if ((v->prot & ABI_PROT_WRITE) && !(v->flags & MM_VMA_SHARED))
        s->data += len;
    if (s->maps)
        procfs_format_maps_line(s->maps, v);
    return 0;
}

static void vm_sums(const struct synth_ctx *c, struct vm_sums *s, struct synth_buf *maps)
{
    memset(s, 0, sizeof(*s));
    s->maps = maps;
    mm_for_each_vma(c->task->mm, sum_vma, s);
}

static int gen_maps(const struct synth_ctx *c, struct synth_buf *b)
{
    struct vm_sums s;
    vm_sums(c, &s, b);
    return 0;
}

static int gen_statm(const struct synth_ctx *c, struct synth_buf *b)
{
    struct vm_sums s;
    vm_sums(c, &s, NULL);
    /* Residency is not tracked per page yet: resident and shared are 0. */
    synth_printf(b, "%" PRIu64 " 0 0 %" PRIu64 " 0 %" PRIu64 " 0\n", s.size / 4096, s.exec / 4096,
                 (s.data + s.stack) / 4096);
    return 0;
}

/* Guest memory [start, end) of the task: cmdline and environ. */
static int gen_range(const struct synth_ctx *c, struct synth_buf *b, uint64_t start, uint64_t end)
{
    if (!start || end <= start)
        return 0;
    uint64_t len = end - start;
    if (len > ARGS_MAX)
        len = ARGS_MAX;
    char chunk[4096];
    for (uint64_t off = 0; off < len;) {
        size_t n = len - off < sizeof(chunk) ? (size_t)(len - off) : sizeof(chunk);
        if (mm_copy_in(c->task->mm, chunk, start + off, n) != 0)
            break; /* the guest unmapped it: show what was readable */
        synth_write(b, chunk, n);
        off += n;
    }
    return 0;
}

static int gen_cmdline(const struct synth_ctx *c, struct synth_buf *b)
{
    return gen_range(c, b, c->task->arg_start, c->task->arg_end);
}

static int gen_environ(const struct synth_ctx *c, struct synth_buf *b)
{
    return gen_range(c, b, c->task->env_start, c->task->env_end);
}

/* ---- stat, status ---- */

struct sig_sets {
    uint64_t ignored, caught;
};

static struct sig_sets sig_sets(const struct task *t)
{
    struct sig_sets s = {0, 0};
    for (int sig = 1; sig <= ABI_NSIG; sig++) {
        uint64_t h = t->sighand->actions[sig - 1].handler;
        if (h == ABI_SIG_IGN)
            s.ignored |= 1ULL << (sig - 1);
        else if (h != ABI_SIG_DFL)
            s.caught |= 1ULL << (sig - 1);
    }
    return s;
}

static uint64_t ticks(int64_t ns)
{
    return ns > 0 ? (uint64_t)ns / 10000000u : 0; /* USER_HZ = 100 */
}

/* Stopped by job control, asleep in the Sentry (interruptibly or not), or
 * running guest code or a syscall. */
static char task_state_char(const struct task *t)
{
    if (t->tg->stopped)
        return 'T';
    return t->sleep_state ? t->sleep_state : 'R';
}

static const char *task_state_name(const struct task *t)
{
    switch (task_state_char(t)) {
    case 'T':
        return "T (stopped)";
    case 'S':
        return "S (sleeping)";
    case 'D':
        return "D (disk sleep)";
    default:
        return "R (running)";
    }
}

static int gen_stat(const struct synth_ctx *c, struct synth_buf *b)
{
    const struct task *t = c->task;
    struct vm_sums s;
    vm_sums(c, &s, NULL);
    struct sig_sets ss = sig_sets(t);
    int64_t start = t->start_ns - c->k->host.boot_mono_ns;
    uint64_t rsslim = t->rlimits[ABI_RLIMIT_RSS].rlim_cur;
    /* Fields per proc(5); times in clock ticks. */
    const struct thread_group *g = t->tg;
    synth_printf(b,
                 "%d (%s) %c %d %d %d 0 -1 4194304 0 0 0 0 %" PRIu64 " %" PRIu64 " %" PRIu64
                 " %" PRIu64 " 20 0 %d 0 %" PRIu64 " %" PRIu64 " 0 %" PRIu64 " %" PRIu64 " %" PRIu64
                 " %" PRIu64 " 0 0 0 %" PRIu64 " %" PRIu64 " %" PRIu64
                 " 0 0 0 17 0 0 0 0 0 0 0 0 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0\n",
                 c->node.idx > 0 ? t->tid : t->pid, t->comm, task_state_char(t), task_ppid(t),
                 g->pgid, g->sid, ticks((int64_t)(t->utime_ns + g->utime_ns)),
                 ticks((int64_t)(t->stime_ns + g->stime_ns)), ticks((int64_t)g->cutime_ns),
                 ticks((int64_t)g->cstime_ns), g->nthreads, ticks(start), s.size, rsslim,
                 s.code_start, s.code_end, t->arg_start, t->sigmask, ss.ignored, ss.caught,
                 t->arg_start, t->arg_end, t->env_start, t->env_end);
    return 0;
}

static int gen_status(const struct synth_ctx *c, struct synth_buf *b)
{
    const struct task *t = c->task;
    const struct task_creds *cr = &t->creds;
    struct vm_sums s;
    vm_sums(c, &s, NULL);
    struct sig_sets ss = sig_sets(t);
    synth_printf(b, "Name:\t%s\nUmask:\t%04o\nState:\t%s\n", t->comm, t->fs->umask,
                 task_state_name(t));
    synth_printf(b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", t->pid, t->tid,
                 task_ppid(t));
    synth_printf(b, "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", cr->uid, cr->euid, cr->suid,
                 cr->fsuid, cr->gid, cr->egid, cr->sgid, cr->fsgid);
    synth_printf(b, "FDSize:\t64\nGroups:\t");
    for (uint32_t i = 0; i < cr->ngroups; i++)
        synth_printf(b, "%u ", cr->groups[i]);
    synth_printf(b, "\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", t->pid, t->tid,
                 t->tg->pgid, t->tg->sid);
    const struct {
        const char *name;
        uint64_t bytes;
    } vm[] = {
        {"VmPeak", s.size}, {"VmSize", s.size}, {"VmLck", 0},   {"VmPin", 0},    {"VmHWM", 0},
        {"VmRSS", 0},       {"RssAnon", 0},     {"RssFile", 0}, {"RssShmem", 0}, {"VmData", s.data},
        {"VmStk", s.stack}, {"VmExe", s.exec},  {"VmLib", 0},   {"VmPTE", 0},    {"VmSwap", 0},
    };
    for (size_t i = 0; i < sizeof(vm) / sizeof(vm[0]); i++)
        synth_printf(b, "%s:\t%8" PRIu64 " kB\n", vm[i].name, vm[i].bytes / 1024);
    synth_printf(b, "HugetlbPages:\t%8d kB\nCoreDumping:\t0\nTHP_enabled:\t1\n", 0);
    synth_printf(b, "Threads:\t%d\nSigQ:\t0/%" PRIu64 "\n", t->tg->nthreads,
                 t->rlimits[ABI_RLIMIT_SIGPENDING].rlim_cur);
    synth_printf(b,
                 "SigPnd:\t%016" PRIx64 "\nShdPnd:\t%016" PRIx64 "\nSigBlk:\t%016" PRIx64
                 "\nSigIgn:\t%016" PRIx64 "\nSigCgt:\t%016" PRIx64 "\n",
                 (uint64_t)0, (uint64_t)0, t->sigmask, ss.ignored, ss.caught);
    synth_printf(b,
                 "CapInh:\t%016" PRIx64 "\nCapPrm:\t%016" PRIx64 "\nCapEff:\t%016" PRIx64
                 "\nCapBnd:\t%016" PRIx64 "\nCapAmb:\t%016" PRIx64 "\n",
                 cr->cap_inheritable, cr->cap_permitted, cr->cap_effective, cr->cap_bounding,
                 cr->cap_ambient);
    synth_printf(b, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n"
                    "Speculation_Store_Bypass:\tthread vulnerable\n"
                    "SpeculationIndirectBranch:\tconditional enabled\n");
    synth_printf(b, "Cpus_allowed:\t");
    procfs_format_cpu_mask(b, c->k->ncpus);
    synth_printf(b, "\nCpus_allowed_list:\t");
    procfs_format_cpu_list(b, c->k->ncpus, true);
    synth_printf(b, "Mems_allowed:\t00000001\nMems_allowed_list:\t0\n"
                    "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
    return 0;
}

static int gen_comm(const struct synth_ctx *c, struct synth_buf *b)
{
    synth_printf(b, "%s\n", c->task->comm);
    return 0;
}

static int gen_limits(const struct synth_ctx *c, struct synth_buf *b)
{
    procfs_format_limits(b, c->task->rlimits);
    return 0;
}

static int gen_cgroup(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "0::/\n");
    return 0;
}

static int gen_zero(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "0\n");
    return 0;
}

/* ---- mounts ---- */

struct mount_list {
    struct vfs_mount **v;
    size_t n, cap;
    bool oom;
};

static void collect(struct mount_list *l, struct vfs_mount *m)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct vfs_mount **v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = m;
    for (struct vfs_mount *ch = m->children; ch; ch = ch->next_sibling)
        collect(l, ch);
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = (*(struct vfs_mount *const *)a)->id, y = (*(struct vfs_mount *const *)b)->id;
    return x < y ? -1 : x > y;
}

/* The dentry's path inside its own filesystem (mountinfo's root field). */
static void fs_relative(struct synth_buf *b, struct vfs_dentry *d)
{
    if (!d->parent) {
        synth_write(b, "/", 1);
        return;
    }
    const char *names[64];
    int n = 0;
    for (; d->parent && n < 64; d = d->parent)
        names[n++] = d->name;
    while (n-- > 0) {
        synth_write(b, "/", 1);
        procfs_format_escaped(b, names[n]);
    }
}

static int gen_mounts_common(const struct synth_ctx *c, struct synth_buf *b, bool info)
{
    struct mount_list l = {0};
    if (c->k->root_mount)
        collect(&l, c->k->root_mount);
    if (l.oom) {
        free(l.v);
        return -ABI_ENOMEM;
    }
    qsort(l.v, l.n, sizeof(*l.v), by_id);
    struct vfs_walk_ctx ctx;
    task_walk_ctx(c->task, &ctx);
    char *path = malloc(VFS_PATH_MAX);
    if (!path) {
        free(l.v);
        return -ABI_ENOMEM;
    }
    for (size_t i = 0; i < l.n; i++) {
        struct vfs_mount *m = l.v[i];
        bool reachable = false;
        if (vfs_path_string(&ctx, (struct vfs_path){m, m->root}, path, VFS_PATH_MAX, &reachable) <
                0 ||
            !reachable)
            continue; /* outside the task's root: not its to see */
        const char *source, *type;
        procfs_mount_names(m->fs->name, &source, &type);
        if (info) {
            uint64_t dev = m->fs->dev;
            unsigned maj = (unsigned)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffULL));
            unsigned min = (unsigned)((dev & 0xff) | ((dev >> 12) & ~0xffULL));
            synth_printf(b, "%" PRIu64 " %" PRIu64 " %u:%u ", m->id,
                         m->parent ? m->parent->id : m->id, maj, min);
            fs_relative(b, m->root);
            synth_write(b, " ", 1);
            procfs_format_escaped(b, path);
            synth_write(b, " ", 1);
            procfs_format_mount_opts(b, m->flags);
            synth_printf(b, " - %s ", type);
            procfs_format_escaped(b, source);
            synth_printf(b, " %s\n", (m->fs->flags & VFS_FS_RDONLY) ? "ro" : "rw");
        } else {
            procfs_format_escaped(b, source);
            synth_write(b, " ", 1);
            procfs_format_escaped(b, path);
            synth_printf(b, " %s ", type);
            procfs_format_mount_opts(b, m->flags);
            synth_printf(b, " 0 0\n");
        }
    }
    free(path);
    free(l.v);
    return 0;
}

static int gen_mounts(const struct synth_ctx *c, struct synth_buf *b)
{
    return gen_mounts_common(c, b, false);
}

static int gen_mountinfo(const struct synth_ctx *c, struct synth_buf *b)
{
    return gen_mounts_common(c, b, true);
}

/* ---- the directory ---- */

#define PID_FILE(n, p, g)                                                                          \
    {                                                                                              \
        .name = n, .type = SYNTH_FILE, .perm = p, .task_owned = true, .gen = g,                    \
        .write_err = -ABI_EINVAL                                                                   \
    }

static const struct synth_ent tid_dir;

/* task/: one directory per live thread of the process, in tid order. */
static int task_list(const struct synth_ctx *c, synth_emit_fn emit, void *arg)
{
    int last = 0;
    for (;;) {
        /* The next tid above last: the thread list is unordered. */
        int next = 0;
        for (const struct task *t = c->task->tg->threads; t; t = t->tg_next)
            if (!t->exited && t->tid > last && (next == 0 || t->tid < next))
                next = t->tid;
        if (!next)
            return 0;
        char name[16];
        snprintf(name, sizeof(name), "%d", next);
        int r = emit(arg, name, (struct synth_node){&tid_dir, c->node.pid, next});
        if (r)
            return r;
        last = next;
    }
}

static int task_lookup(const struct synth_ctx *c, const char *name, struct synth_node *out)
{
    int tid;
    if (!synth_parse_uint(name, &tid))
        return -ABI_ENOENT;
    for (const struct task *t = c->task->tg->threads; t; t = t->tg_next)
        if (!t->exited && t->tid == tid) {
            *out = (struct synth_node){&tid_dir, c->node.pid, tid};
            return 0;
        }
    return -ABI_ENOENT;
}

/* Linux's comm_write: the first 15 bytes written become the name, a
 * trailing newline included (the file then reads "name\n\n"). */
static int64_t store_comm(const struct synth_ctx *c, const char *data, size_t n, int64_t off)
{
    (void)off; /* every write names the task afresh */
    size_t len = n < sizeof(c->task->comm) - 1 ? n : sizeof(c->task->comm) - 1;
    memcpy(c->task->comm, data, len);
    c->task->comm[len] = '\0';
    return (int64_t)n;
}

/* "task" first: a thread's directory (task/TID) has the rest. */
static const struct synth_ent pid_kids[] = {
    {.name = "task",
     .type = SYNTH_DIR,
     .perm = 0555,
     .task_owned = true,
     .list = task_list,
     .lookup = task_lookup},
    {.name = "cwd",
     .type = SYNTH_LINK,
     .perm = 0777,
     .task_owned = true,
     .readlink = cwd_readlink,
     .follow = cwd_follow},
    {.name = "exe",
     .type = SYNTH_LINK,
     .perm = 0777,
     .task_owned = true,
     .readlink = exe_readlink,
     .follow = exe_follow},
    {.name = "root",
     .type = SYNTH_LINK,
     .perm = 0777,
     .task_owned = true,
     .readlink = root_readlink,
     .follow = root_follow},
    {.name = "fd",
     .type = SYNTH_DIR,
     .perm = 0500,
     .task_owned = true,
     .list = fd_list,
     .lookup = fd_lookup},
    {.name = "fdinfo",
     .type = SYNTH_DIR,
     .perm = 0555,
     .task_owned = true,
     .list = fdinfo_list,
     .lookup = fdinfo_lookup},
    PID_FILE("cgroup", 0444, gen_cgroup),
    PID_FILE("cmdline", 0444, gen_cmdline),
    {.name = "comm",
     .type = SYNTH_FILE,
     .perm = 0644,
     .task_owned = true,
     .gen = gen_comm,
     .store = store_comm},
    PID_FILE("environ", 0400, gen_environ),
    PID_FILE("limits", 0444, gen_limits),
    PID_FILE("maps", 0444, gen_maps),
    PID_FILE("mountinfo", 0444, gen_mountinfo),
    PID_FILE("mounts", 0444, gen_mounts),
    PID_FILE("oom_score_adj", 0644, gen_zero),
    PID_FILE("stat", 0444, gen_stat),
    PID_FILE("statm", 0444, gen_statm),
    PID_FILE("status", 0444, gen_status),
    {.name = NULL},
};

const struct synth_ent procfs_pid_dir = {
    .name = "PID",
    .type = SYNTH_DIR,
    .perm = 0555,
    .task_owned = true,
    .kids = pid_kids,
};

static const struct synth_ent tid_dir = {
    .name = "TID",
    .type = SYNTH_DIR,
    .perm = 0555,
    .task_owned = true,
    .kids = pid_kids + 1,
};
