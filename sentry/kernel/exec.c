/* Loading a program into a task, as Linux's execve does it: the executable
 * and its ELF interpreter are resolved through the task's own filesystem
 * view (never the host's), and "#!" scripts restart the load with their
 * interpreter. The first task uses it at boot; execve(2) will too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "platform/platform.h"
#include "sentry/kernel/kernel.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"

/* Linux allows four "#!" rewrites (binfmt_script into binfmt_script...)
 * before failing with ELOOP. */
#define EXEC_MAX_SCRIPTS 4

static int64_t file_read(void *arg, void *buf, size_t len, uint64_t off)
{
    struct vfs_file *f = arg;
    if (!f->ops->pread)
        return -ABI_EACCES;
    size_t done = 0;
    while (done < len) {
        int64_t r = f->ops->pread(f, (char *)buf + done, len - done, (int64_t)(off + done));
        if (r < 0)
            return r;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (int64_t)done;
}

static int open_exec(struct task *t, const char *path, struct vfs_file **out)
{
    if (!path[0])
        return -ABI_ENOENT;
    struct vfs_walk_ctx ctx;
    task_walk_ctx(t, &ctx);
    struct vfs_path start;
    int err = task_at_start(t, ABI_AT_FDCWD, path, &start);
    if (err)
        return err;
    return vfs_open_exec(&ctx, start, path, out);
}

/* An image's file as mm maps it, when its filesystem supports mmap: the
 * loader then maps segments instead of copying them. */
struct mapped_image {
    struct mm_file_desc d; /* first: img->file points here */
    char *name;
};

static const struct mm_file_desc *image_mapping(struct task *t, struct vfs_file *f)
{
    struct mapped_image *mi = malloc(sizeof(*mi));
    if (!mi)
        return NULL;
    if (kernel_file_map_desc(t, f, false, &mi->d, &mi->name) != 0 || !mi->d.mappable) {
        kernel_file_map_done(&mi->d, mi->name, true);
        free(mi);
        return NULL;
    }
    return &mi->d;
}

static void image_mapping_done(const struct mm_file_desc *d, bool failed)
{
    if (!d)
        return;
    struct mapped_image *mi = (struct mapped_image *)d;
    kernel_file_map_done(&mi->d, mi->name, failed);
    free(mi);
}

static int open_interp(void *arg, const char *path, struct loader_image *out)
{
    struct vfs_file *f;
    int err = open_exec(arg, path, &f);
    if (err)
        return err;
    out->read = file_read;
    out->arg = f;
    out->file = image_mapping(arg, f);
    return 0;
}

static void close_interp(void *arg, struct loader_image *img)
{
    (void)arg;
    image_mapping_done(img->file, false);
    vfs_file_put(img->arg);
}

/* argv for a script: interpreter, its optional argument, the script's path,
 * then the old argv without its argv[0]. */
static const char **script_argv(const struct loader_script *s, const char *path,
                                const char *const *argv)
{
    size_t n = 0;
    while (argv && argv[n])
        n++;
    const char **v = calloc(n + 4, sizeof(*v));
    if (!v)
        return NULL;
    size_t i = 0;
    v[i++] = s->interp;
    if (s->has_arg)
        v[i++] = s->arg;
    v[i++] = path;
    for (size_t j = 1; j < n; j++)
        v[i++] = argv[j];
    v[i] = NULL;
    return v;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void kernel_exec_args(struct task *t, const char *const *argv, const char *const *envp,
                      const char *execfn, struct loader_args *la)
{
    memset(la, 0, sizeof(*la));
    la->argv = argv;
    la->envp = envp;
    la->execfn = execfn;
    la->uid = t->creds.uid;
    la->euid = t->creds.euid;
    la->gid = t->creds.gid;
    la->egid = t->creds.egid;
    /* The CPU's features and the signal stack size are the host's: the
     * guest runs on its CPU. */
    la->hwcap = getauxval(AT_HWCAP);
    la->hwcap2 = getauxval(AT_HWCAP2);
    la->minsigstksz = getauxval(AT_MINSIGSTKSZ);
    la->vdso_base = platform_vdso_base(t->k->platform);
    la->stack_size = t->rlimits[ABI_RLIMIT_STACK].rlim_cur;
    if (getrandom(la->random_seed, sizeof(la->random_seed), 0) != sizeof(la->random_seed))
        la->random_seed[0] = la->random_seed[1] = 0;
}

void kernel_exec_loaded(struct task *t, const struct loader_result *res, const char *execfn)
{
    t->arg_start = res->arg_start;
    t->arg_end = res->arg_end;
    t->env_start = res->env_start;
    t->env_end = res->env_end;
    /* comm is the name the program was run by: a script's own name. */
    snprintf(t->comm, sizeof(t->comm), "%s", base_name(execfn));
}

int kernel_exec_load(struct task *t, const char *path, const char *const *argv,
                     const char *const *envp, struct loader_result *res, const char **why)
{
    const char *execfn = path;
    /* Scripts rewrite path and argv: the strings live in scripts[] and the
     * vectors in argvs[] until the load is done. */
    struct loader_script scripts[EXEC_MAX_SCRIPTS];
    const char **argvs[EXEC_MAX_SCRIPTS] = {0};
    int nscripts = 0;
    struct vfs_file *f = NULL;
    int err;
    static char msg[320];
    for (;;) {
        err = open_exec(t, path, &f);
        if (err) {
            /* The program's own failure needs no words beyond its errno. */
            *why = NULL;
            if (nscripts) {
                snprintf(msg, sizeof(msg), "its #! interpreter %.256s: %s", path, strerror(-err));
                *why = msg;
            }
            goto out;
        }
        char head[LOADER_SCRIPT_BUF];
        int64_t n = file_read(f, head, sizeof(head), 0);
        if (n < 0) {
            err = (int)n;
            *why = "cannot read the program";
            goto out;
        }
        if (n < 2 || head[0] != '#' || head[1] != '!')
            break;
        if (nscripts == EXEC_MAX_SCRIPTS) {
            err = -ABI_ELOOP;
            *why = "too many levels of #! interpreters";
            goto out;
        }
        struct loader_script *s = &scripts[nscripts];
        err = loader_parse_script(head, (size_t)n, s, why);
        if (err)
            goto out;
        const char **v = script_argv(s, path, argv);
        if (!v) {
            err = -ABI_ENOMEM;
            *why = "out of memory";
            goto out;
        }
        argvs[nscripts++] = v;
        argv = v;
        path = s->interp;
        vfs_file_put(f);
        f = NULL;
    }

    struct loader_image img = {.read = file_read, .arg = f, .file = image_mapping(t, f)};
    struct loader_args la;
    kernel_exec_args(t, argv, envp, execfn, &la);
    la.open_interp = open_interp;
    la.close_interp = close_interp;
    la.interp_arg = t;
    err = loader_load(t->mm, &img, &la, res, why);
    image_mapping_done(img.file, err != 0);
    if (err)
        goto out;

    if (t->tg->exe.dentry)
        vfs_path_put(t->tg->exe);
    t->tg->exe = vfs_path_get((struct vfs_path){f->mnt, f->dentry});
    kernel_exec_loaded(t, res, execfn);
out:
    if (f)
        vfs_file_put(f);
    for (int i = 0; i < nscripts; i++)
        free(argvs[i]);
    return err;
}
