/* procfs and sysfs: the formatting pieces against what the host's Linux
 * prints for the same values (limits, maps lines, cpu lists, meminfo), and
 * the filesystems mounted in a VFS tree with a hand-made task: /proc/self,
 * fd links (readlink, following, revalidation after close), ownership,
 * openat2 scoping of magic links, a writable sysctl, sysfs's CPUs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/procfs/procfs.h"
#include "sentry/fs/sysfs.h"
#include "sentry/fs/tmpfs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

static char *text_of(struct synth_buf *b)
{
    return b->data ? b->data : "";
}

static char *host_file(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

Test(procfs_format, cpu_list_and_mask)
{
    struct synth_buf b = {0};
    procfs_format_cpu_list(&b, 1, true);
    procfs_format_cpu_list(&b, 4, true);
    procfs_format_cpu_list(&b, 2, false);
    cr_assert_str_eq(text_of(&b), "0\n0-3\n0-1");
    free(b.data);
    b = (struct synth_buf){0};
    procfs_format_cpu_mask(&b, 2);
    synth_write(&b, " ", 1);
    procfs_format_cpu_mask(&b, 33);
    cr_assert_str_eq(text_of(&b), "00000003 00000001,ffffffff");
    free(b.data);

    /* The host's own online list, when it is 0..n-1 as it usually is. */
    char *online = host_file("/sys/devices/system/cpu/online");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (online && n > 0) {
        b = (struct synth_buf){0};
        procfs_format_cpu_list(&b, (int)n, true);
        cr_assert_str_eq(text_of(&b), online);
        free(b.data);
    }
}

Test(procfs_format, escapes_and_mount_names)
{
    struct synth_buf b = {0};
    procfs_format_escaped(&b, "a b\\c\nd\te");
    cr_assert_str_eq(text_of(&b), "a\\040b\\134c\\012d\\011e");
    free(b.data);
    const char *src, *type;
    procfs_mount_names("proc", &src, &type);
    cr_assert_str_eq(src, "proc");
    cr_assert_str_eq(type, "proc");
    procfs_mount_names("tmpfs", &src, &type);
    cr_assert_str_eq(type, "tmpfs");
    procfs_mount_names("goferfs", &src, &type);
    cr_assert_str_eq(src, "none");
    cr_assert_str_eq(type, "9p");
    b = (struct synth_buf){0};
    procfs_format_mount_opts(&b, VFS_MNT_RDONLY | VFS_MNT_NOSUID | VFS_MNT_NODEV | VFS_MNT_NOEXEC);
    synth_write(&b, " ", 1);
    procfs_format_mount_opts(&b, 0);
    cr_assert_str_eq(text_of(&b), "ro,nosuid,nodev,noexec,relatime rw,relatime");
    free(b.data);
}

/* Our own limits, formatted, must be byte for byte what Linux shows us. */
Test(procfs_format, limits_match_linux)
{
    struct abi_rlimit lim[ABI_RLIM_NLIMITS];
    for (int r = 0; r < ABI_RLIM_NLIMITS; r++) {
        struct rlimit hl;
        cr_assert_eq(getrlimit(r, &hl), 0);
        lim[r].rlim_cur = hl.rlim_cur;
        lim[r].rlim_max = hl.rlim_max;
    }
    char *host = host_file("/proc/self/limits");
    cr_assert_not_null(host);
    struct synth_buf b = {0};
    procfs_format_limits(&b, lim);
    cr_assert_str_eq(text_of(&b), host);
    free(b.data);
}

/* Every line of our own maps, parsed and formatted again, comes out the
 * same: addresses, permissions, offset, device, inode, padding, name. */
Test(procfs_format, maps_lines_match_linux)
{
    char *host = host_file("/proc/self/maps");
    cr_assert_not_null(host);
    int lines = 0;
    for (char *line = host; *line;) {
        char *nl = strchr(line, '\n');
        cr_assert_not_null(nl);
        *nl = '\0';
        unsigned long lo, hi, off, ino;
        unsigned maj, min;
        char perms[8];
        int used = 0;
        cr_assert_eq(sscanf(line, "%lx-%lx %7s %lx %x:%x %lu%n", &lo, &hi, perms, &off, &maj, &min,
                            &ino, &used),
                     7);
        const char *name = line + used;
        while (*name == ' ')
            name++;
        struct mm_vma_info v = {
            .start = lo,
            .end = hi,
            .prot = (perms[0] == 'r' ? ABI_PROT_READ : 0) | (perms[1] == 'w' ? ABI_PROT_WRITE : 0) |
                    (perms[2] == 'x' ? ABI_PROT_EXEC : 0),
            .flags = perms[3] == 's' ? MM_VMA_SHARED : 0,
            .name = *name ? name : NULL,
            .pgoff = off,
            .dev = (uint64_t)(min & 0xff) | ((uint64_t)maj << 8) | ((uint64_t)(min & ~0xffu) << 12),
            .ino = ino,
        };
        struct synth_buf b = {0};
        procfs_format_maps_line(&b, &v);
        cr_assert_eq(b.len, strlen(line) + 1, "%s", line);
        cr_assert(strncmp(text_of(&b), line, strlen(line)) == 0, "%s vs %s", text_of(&b), line);
        free(b.data);
        lines++;
        line = nl + 1;
    }
    cr_assert_gt(lines, 3);
}

Test(procfs_format, meminfo_layout)
{
    struct synth_buf b = {0};
    procfs_format_meminfo(&b, 24682416, 1000);
    char *t = text_of(&b);
    cr_assert(strncmp(t, "MemTotal:       24682416 kB\nMemFree:        24681416 kB\n", 56) == 0,
              "%s", t);
    cr_assert_not_null(strstr(t, "\nMemAvailable:   24681416 kB\n"));
    cr_assert_not_null(strstr(t, "\nSwapTotal:             0 kB\n"));
    cr_assert_not_null(strstr(t, "\nVmallocTotal:   34359738367 kB\n"));
    cr_assert_not_null(strstr(t, "\nHugePages_Total:       0\n"));
    cr_assert_not_null(strstr(t, "\nHugepagesize:       2048 kB\n"));
    free(b.data);
}

Test(procfs_format, cpuinfo_blocks)
{
    const char *tmpl = "processor\t: 0\nvendor_id\t: Test\nphysical id\t: 0\nsiblings\t: 8\n"
                       "core id\t\t: 3\ncpu cores\t: 8\napicid\t\t: 6\nflags\t\t: fpu sse\n";
    struct synth_buf b = {0};
    procfs_format_cpuinfo(&b, tmpl, 2);
    cr_assert_str_eq(text_of(&b),
                     "processor\t: 0\nvendor_id\t: Test\nphysical id\t: 0\nsiblings\t: 2\n"
                     "core id\t\t: 0\ncpu cores\t: 2\napicid\t\t: 0\nflags\t\t: fpu sse\n\n"
                     "processor\t: 1\nvendor_id\t: Test\nphysical id\t: 0\nsiblings\t: 2\n"
                     "core id\t\t: 1\ncpu cores\t: 2\napicid\t\t: 1\nflags\t\t: fpu sse\n\n");
    free(b.data);
}

/* ---- the filesystems in a tree ---- */

static struct mm_memfile *mf;
static struct kernel k;
static struct task *t;
static struct vfs_mount *rootmnt;
static struct vfs_path rootp;
static struct vfs_walk_ctx ctx;

static void setup(void)
{
    cr_assert_eq(mm_memfile_create(1ULL << 28, &mf), 0);
    memset(&k, 0, sizeof(k));
    k.ncpus = 2;
    k.memfile = mf;
    strcpy(k.hostname, "box");
    struct vfs_filesystem *fs;
    struct tmpfs_opts o = {.root_mode = 0755};
    cr_assert_eq(tmpfs_create(mf, &o, &fs), 0);
    cr_assert_eq(vfs_mount_new_root(fs, 0, &rootmnt), 0);
    vfs_fs_put(fs);
    k.root_mount = rootmnt;
    rootp = (struct vfs_path){rootmnt, rootmnt->root};
    ctx = (struct vfs_walk_ctx){.root = rootp,
                                .cred = {.cap_dac_override = true, .cap_dac_read_search = true}};
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/proc", 0555), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/sys", 0555), 0);
    cr_assert_eq(vfs_mkdirat(&ctx, rootp, "/tmp", 01777), 0);

    struct vfs_path at;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/proc", 0, &at), 0);
    struct vfs_mount *m;
    cr_assert_eq(procfs_create(&k, &fs), 0);
    cr_assert_eq(vfs_mount_at(at, fs, VFS_MNT_NOSUID | VFS_MNT_NODEV | VFS_MNT_NOEXEC, &m), 0);
    vfs_fs_put(fs);
    vfs_path_put(at);
    cr_assert_eq(vfs_walk(&ctx, rootp, "/sys", 0, &at), 0);
    cr_assert_eq(sysfs_create(&k, &fs), 0);
    cr_assert_eq(vfs_mount_at(at, fs, VFS_MNT_RDONLY, &m), 0);
    vfs_fs_put(fs);
    vfs_path_put(at);

    t = calloc(1, sizeof(*t));
    t->k = &k;
    t->pid = t->tid = 7;
    strcpy(t->comm, "prog");
    t->creds.uid = t->creds.euid = 1000;
    t->creds.gid = t->creds.egid = 1000;
    cr_assert_eq(vfs_fdtable_create(&t->fds), 0);
    t->fs = calloc(1, sizeof(*t->fs));
    t->fs->refs = 1;
    t->fs->root = vfs_path_get(rootp);
    t->fs->cwd = vfs_path_get(rootp);
    t->sighand = calloc(1, sizeof(*t->sighand));
    t->sighand->refs = 1;
    t->tg = kernel_new_tg(&k, NULL, 7);
    t->tg->leader = t;
    t->rlimits = t->tg->rlimits;
    kernel_add_task(t);
    k.init = t->tg;
    k.next_pid = 8;
    kernel_set_current(t);
}

static void teardown(void)
{
    kernel_set_current(NULL);
    vfs_fdtable_destroy(t->fds);
    task_fs_put(t->fs);
    free(t->sighand);
    free(t->tg);
    free(t);
    vfs_mount_tree_release(rootmnt);
    mm_memfile_destroy(mf);
}

TestSuite(procfs, .init = setup, .fini = teardown);

static char *read_all(const char *path)
{
    static char buf[1 << 16];
    struct vfs_file *f;
    int err = vfs_open(&ctx, rootp, path, ABI_O_RDONLY, 0, &f);
    cr_assert_eq(err, 0, "open %s: %d", path, err);
    int64_t n = f->ops->read(f, buf, sizeof(buf) - 1);
    cr_assert_geq(n, 0);
    buf[n] = '\0';
    vfs_file_put(f);
    return buf;
}

static int64_t rl(const char *path, char *buf, size_t n)
{
    int64_t r = vfs_readlinkat(&ctx, rootp, path, buf, n - 1);
    if (r >= 0)
        buf[r] = '\0';
    return r;
}

static int walk_err(const char *path, int flags)
{
    struct vfs_path p;
    int err = vfs_walk(&ctx, rootp, path, flags, &p);
    if (!err)
        vfs_path_put(p);
    return err;
}

static bool lists(const char *dir, const char *name)
{
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, dir, ABI_O_RDONLY | ABI_O_DIRECTORY, 0, &f), 0);
    char buf[4096];
    bool found = false;
    int64_t n;
    while ((n = f->ops->getdents64(f, buf, sizeof(buf))) > 0) {
        for (int64_t off = 0; off < n;) {
            struct abi_linux_dirent64 *d = (void *)(buf + off);
            if (strcmp(buf + off + ABI_DIRENT64_NAME_OFFSET, name) == 0)
                found = true;
            off += d->d_reclen;
        }
    }
    vfs_file_put(f);
    return found;
}

Test(procfs, self_and_pid_directory)
{
    char buf[256];
    cr_assert_eq(rl("/proc/self", buf, sizeof(buf)), 1);
    cr_assert_str_eq(buf, "7");
    cr_assert_str_eq(read_all("/proc/self/comm"), "prog\n");
    cr_assert(lists("/proc", "7"));
    cr_assert(lists("/proc", "self"));
    cr_assert(lists("/proc/7", "status"));
    cr_assert_not(lists("/proc", "8"));
    cr_assert_eq(walk_err("/proc/8", 0), -ABI_ENOENT);
    cr_assert_eq(walk_err("/proc/07", 0), -ABI_ENOENT);

    struct abi_stat st;
    cr_assert_eq(vfs_statat(&ctx, rootp, "/proc/7/environ", 0, &st), 0);
    cr_assert_eq(st.st_mode, ABI_S_IFREG | 0400);
    cr_assert_eq(st.st_uid, 1000);
    cr_assert_eq(st.st_gid, 1000);
    cr_assert_eq(vfs_statat(&ctx, rootp, "/proc/meminfo", 0, &st), 0);
    cr_assert_eq(st.st_uid, 0);

    /* A task gone takes its cached directory with it. */
    t->tg->zombie = true;
    cr_assert_eq(walk_err("/proc/7/comm", 0), -ABI_ENOENT);
    cr_assert_eq(walk_err("/proc/7", 0), -ABI_ENOENT);
    cr_assert_not(lists("/proc", "7"));
    t->tg->zombie = false;
    cr_assert_str_eq(read_all("/proc/7/comm"), "prog\n");
}

Test(procfs, fd_links)
{
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/tmp/x", ABI_O_CREAT | ABI_O_RDWR, 0644, &f), 0);
    cr_assert_eq(f->ops->write(f, "abc", 3), 3);
    cr_assert_eq(vfs_fd_install_at(t->fds, 3, f, false), 3);
    char buf[256];
    cr_assert_eq(rl("/proc/self/fd/3", buf, sizeof(buf)), 6);
    cr_assert_str_eq(buf, "/tmp/x");
    cr_assert(lists("/proc/self/fd", "3"));

    /* Following jumps to the file itself; a new open has its own offset. */
    struct vfs_path p;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/proc/self/fd/3", 0, &p), 0);
    cr_assert_eq(p.dentry, f->dentry);
    cr_assert_eq(p.mnt, f->mnt);
    vfs_path_put(p);
    struct vfs_file *g;
    cr_assert_eq(vfs_open(&ctx, rootp, "/proc/self/fd/3", ABI_O_RDONLY, 0, &g), 0);
    cr_assert_neq(g, f);
    char data[8] = {0};
    cr_assert_eq(g->ops->read(g, data, sizeof(data)), 3);
    cr_assert_str_eq(data, "abc");
    vfs_file_put(g);

    cr_assert(strstr(read_all("/proc/self/fdinfo/3"), "pos:\t3\nflags:\t0100002\n"));

    cr_assert_eq(walk_err("/proc/self/fd/3", VFS_RESOLVE_NO_MAGICLINKS), -ABI_ELOOP);
    cr_assert_eq(walk_err("/proc/self/fd/3", VFS_RESOLVE_NO_SYMLINKS), -ABI_ELOOP);
    cr_assert_eq(walk_err("/proc/self/fd/3", VFS_WALK_NOFOLLOW), 0);
    cr_assert_eq(walk_err("/proc/self/fd/3/", 0), -ABI_ENOTDIR);
    struct vfs_path procp;
    cr_assert_eq(vfs_walk(&ctx, rootp, "/proc/7", 0, &procp), 0);
    cr_assert_eq(vfs_walk(&ctx, procp, "fd/3", VFS_RESOLVE_BENEATH, &p), -ABI_EXDEV);
    cr_assert_eq(vfs_walk(&ctx, procp, "cwd/tmp", 0, &p), 0);
    cr_assert_eq(p.dentry->inode->mode & ABI_S_IFMT, ABI_S_IFDIR);
    vfs_path_put(p);
    vfs_path_put(procp);

    /* Closed: the cached link is stale and goes. */
    cr_assert_eq(vfs_fd_close(t->fds, 3), 0);
    vfs_file_put(f);
    cr_assert_eq(walk_err("/proc/self/fd/3", 0), -ABI_ENOENT);
    cr_assert_eq(rl("/proc/self/fd/3", buf, sizeof(buf)), -ABI_ENOENT);
    cr_assert_not(lists("/proc/self/fd", "3"));
}

Test(procfs, sysctl_and_system_files)
{
    cr_assert_str_eq(read_all("/proc/sys/kernel/ostype"), "Linux\n");
    cr_assert_str_eq(read_all("/proc/sys/kernel/osrelease"), KERNEL_UTS_RELEASE "\n");
    cr_assert_str_eq(read_all("/proc/sys/kernel/hostname"), "box\n");
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/proc/sys/kernel/ostype", ABI_O_WRONLY, 0, &f),
                 -ABI_EACCES);
    cr_assert_eq(vfs_open(&ctx, rootp, "/proc/sys/kernel/hostname", ABI_O_WRONLY, 0, &f), 0);
    cr_assert_eq(f->ops->write(f, "newname\n", 8), 8);
    vfs_file_put(f);
    cr_assert_str_eq(k.hostname, "newname");
    cr_assert_eq(vfs_open(&ctx, rootp, "/proc/meminfo", ABI_O_WRONLY, 0, &f), 0);
    cr_assert_eq(f->ops->write(f, "x", 1), -ABI_EIO);
    vfs_file_put(f);

    cr_assert_eq(vfs_open(&ctx, rootp, "/proc/version", ABI_O_RDONLY, 0, &f), 0);
    cr_assert_eq(f->ops->lseek(f, 0, ABI_SEEK_END), -ABI_EINVAL);
    char a[8], b[8];
    cr_assert_eq(f->ops->pread(f, a, 8, 6), 8);
    cr_assert_eq(f->ops->lseek(f, 6, ABI_SEEK_SET), 6);
    cr_assert_eq(f->ops->read(f, b, 8), 8);
    cr_assert_eq(memcmp(a, b, 8), 0);
    vfs_file_put(f);

    char *mounts = read_all("/proc/self/mounts");
    cr_assert(strstr(mounts, "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"), "%s",
              mounts);
    cr_assert(strstr(mounts, "sysfs /sys sysfs ro,relatime 0 0\n"), "%s", mounts);
    char *info = read_all("/proc/self/mountinfo");
    cr_assert(strstr(info, " / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"), "%s",
              info);
    cr_assert_str_eq(read_all("/proc/loadavg"), "0.00 0.00 0.00 1/1 7\n");
    char *cpus = read_all("/proc/cpuinfo");
    cr_assert(strstr(cpus, "processor\t: 1\n"));
    cr_assert_null(strstr(cpus, "processor\t: 2\n"));
}

Test(procfs, sysfs_cpus)
{
    cr_assert_str_eq(read_all("/sys/devices/system/cpu/online"), "0-1\n");
    cr_assert_str_eq(read_all("/sys/devices/system/cpu/possible"), "0-1\n");
    cr_assert_str_eq(read_all("/sys/devices/system/cpu/cpu1/online"), "1\n");
    cr_assert(lists("/sys/devices/system/cpu", "cpu0"));
    cr_assert(lists("/sys/devices/system/cpu", "cpu1"));
    cr_assert_not(lists("/sys/devices/system/cpu", "cpu2"));
    cr_assert_eq(walk_err("/sys/devices/system/cpu/cpu2", 0), -ABI_ENOENT);
    cr_assert_eq(walk_err("/sys/devices/system/cpu/cpu0/online", 0), -ABI_ENOENT);
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/sys/devices/system/cpu/online", ABI_O_WRONLY, 0, &f),
                 -ABI_EROFS);
    k.ncpus = 4;
    cr_assert_str_eq(read_all("/sys/devices/system/cpu/online"), "0-3\n");
}

/* Open files hold their whole snapshot: together they stay within a budget,
 * so that a guest cannot make the Sentry hold one large text per fd
 * without bound. */
Test(procfs, snapshots_share_a_budget)
{
    struct vfs_file *d;
    char dents[4096];
    size_t base = synth_snapshot_held();
    cr_assert_eq(vfs_open(&ctx, rootp, "/proc/self/fd", ABI_O_RDONLY, 0, &d), 0);
    size_t old = synth_set_snapshot_budget(base + 32 * 1024);
    struct vfs_file *files[256];
    int n = 0, err = 0;
    while (n < 256) {
        err = vfs_open(&ctx, rootp, "/proc/cpuinfo", ABI_O_RDONLY, 0, &files[n]);
        if (err)
            break;
        n++;
    }
    cr_assert_eq(err, -ABI_ENOMEM, "open %d: %d", n, err);
    cr_assert_gt(n, 0);
    cr_assert_leq(synth_snapshot_held(), base + 32 * 1024);
    /* Directory listings count too: taken at the first getdents. */
    cr_assert_eq(d->ops->getdents64(d, dents, sizeof(dents)), -ABI_ENOMEM);
    /* Closing one makes room for another. */
    vfs_file_put(files[--n]);
    cr_assert_eq(vfs_open(&ctx, rootp, "/proc/cpuinfo", ABI_O_RDONLY, 0, &files[n]), 0);
    n++;
    while (n > 0)
        vfs_file_put(files[--n]);
    synth_set_snapshot_budget(old);
    cr_assert_gt(d->ops->getdents64(d, dents, sizeof(dents)), 0);
    vfs_file_put(d);
    cr_assert_eq(synth_snapshot_held(), base, "every open's charge is returned");
}

/* hostname takes writes as Linux's strict proc_dostring: at the offset, up
 * to a NUL or newline, the excess dropped, the whole write consumed. */
Test(procfs, hostname_writes_as_proc_dostring)
{
    struct vfs_file *f;
    cr_assert_eq(vfs_open(&ctx, rootp, "/proc/sys/kernel/hostname", ABI_O_WRONLY, 0, &f), 0);
    char longname[100];
    memset(longname, 'a', sizeof(longname));
    cr_assert_eq(f->ops->write(f, longname, sizeof(longname)), (int64_t)sizeof(longname));
    cr_assert_eq(strlen(k.hostname), 64);
    cr_assert_eq(f->ops->pwrite(f, "newhost\n", 8, 0), 8);
    cr_assert_str_eq(k.hostname, "newhost");
    cr_assert_eq(f->ops->pwrite(f, "zz", 2, 3), 2);
    cr_assert_str_eq(k.hostname, "newzz");
    cr_assert_eq(f->ops->pwrite(f, "yy", 2, 10), 2);
    cr_assert_str_eq(k.hostname, "newzz", "a write past the end is ignored");
    cr_assert_eq(f->ops->pwrite(f, "ab\0cd", 5, 0), 5);
    cr_assert_str_eq(k.hostname, "ab");
    vfs_file_put(f);
}
