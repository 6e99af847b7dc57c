/*
 * /proc and /sys as programs read them: /proc/self and its files, fd links
 * and fdinfo, mounts, the system-wide files, /proc/sys, the CPU count in
 * /sys. Natively this runs as root on the host: it only reads, and writes
 * only under a fresh directory in /tmp. Checks are what holds on both.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <linux/openat2.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "tests/syscalls/tap.h"

static long e(long r)
{
    return r < 0 ? -errno : r;
}

static char dir[64];
static char *argv0;
static char exe_want[PATH_MAX];
static int argc_g;
static char **argv_g, **envp_g;

/* The whole of a (small) file, NUL-terminated; length or -errno. */
static long slurp(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, n - 1 - len);
        if (r < 0) {
            close(fd);
            return -errno;
        }
        if (r == 0 || len + (size_t)r >= n - 1) {
            len += (size_t)(r > 0 ? r : 0);
            break;
        }
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    return (long)len;
}

static char big[1 << 16];

static void test_self(void)
{
    char buf[64] = {0}, want[32];
    snprintf(want, sizeof(want), "%d", getpid());
    is_int(e(readlink("/proc/self", buf, sizeof(buf))), (long)strlen(want), "readlink /proc/self");
    ok(strcmp(buf, want) == 0, "/proc/self -> %s (got %s)", want, buf);

    struct stat st;
    is_int(e(lstat("/proc/self", &st)), 0, "lstat /proc/self");
    is_int(st.st_mode, S_IFLNK | 0777, "/proc/self is a 0777 link");
    is_int(e(stat("/proc", &st)), 0, "stat /proc");
    is_int(st.st_mode, S_IFDIR | 0555, "/proc is a 0555 directory");
    is_int(e(stat("/proc/self/stat", &st)), 0, "stat /proc/self/stat");
    is_int(st.st_mode, S_IFREG | 0444, "/proc/self/stat is 0444");
    is_int(st.st_uid, geteuid(), "owned by the euid");
    is_int(e(stat("/proc/self/fd", &st)), 0, "stat /proc/self/fd");
    is_int(st.st_mode, S_IFDIR | 0500, "/proc/self/fd is 0500");

    memset(buf, 0, sizeof(buf));
    is_int(e(readlink("/proc/mounts", buf, sizeof(buf))), 11, "readlink /proc/mounts");
    ok(strcmp(buf, "self/mounts") == 0, "/proc/mounts -> self/mounts");

    DIR *d = opendir("/proc");
    int found = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        found |= strcmp(de->d_name, want) == 0 && de->d_type == DT_DIR;
    if (d)
        closedir(d);
    ok(found, "getdents on /proc lists our pid as a directory");
}

static void test_stat_status(void)
{
    long n = slurp("/proc/self/stat", big, sizeof(big));
    ok(n > 0, "read /proc/self/stat");
    int pid = 0, ppid = -1;
    char comm[64] = {0}, state = 0;
    ok(sscanf(big, "%d (%63[^)]) %c %d", &pid, comm, &state, &ppid) == 4, "stat parses");
    is_int(pid, getpid(), "stat pid field");
    is_int(ppid, getppid(), "stat ppid field");
    const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
    ok(strncmp(comm, base, 15) == 0, "stat comm is the program's name (%s)", comm);
    const char *close_paren = strrchr(big, ')');
    int fields = 2;
    for (const char *p = close_paren; p && *p; p++)
        fields += *p == ' ';
    ok(fields >= 52, "stat has at least 52 fields (%d)", fields);

    n = slurp("/proc/self/status", big, sizeof(big));
    ok(n > 0, "read /proc/self/status");
    char *p = strstr(big, "\nPid:\t");
    ok(p && atoi(p + 6) == getpid(), "status Pid");
    p = strstr(big, "\nPPid:\t");
    ok(p && atoi(p + 7) == getppid(), "status PPid");
    unsigned u[4] = {~0u, ~0u, ~0u, ~0u};
    p = strstr(big, "\nUid:\t");
    ok(p && sscanf(p + 6, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]) == 4, "status Uid parses");
    ok(u[0] == getuid() && u[1] == geteuid(), "status Uid real and effective");
    p = strstr(big, "Name:\t");
    ok(p == big && strncmp(p + 6, comm, strlen(comm)) == 0, "status Name first, as comm");

    char c2[64];
    n = slurp("/proc/self/comm", c2, sizeof(c2));
    ok(n > 0 && c2[n - 1] == '\n' && strncmp(c2, comm, strlen(comm)) == 0, "comm file");
    /* A write sets the name to the bytes written (up to 15), a newline
     * included, as Linux's comm_write does. */
    int cfd = open("/proc/self/comm", O_WRONLY);
    is_int(e(write(cfd, "ab\n", 3)), 3, "write comm");
    n = slurp("/proc/self/comm", c2, sizeof(c2));
    ok(n == 4 && memcmp(c2, "ab\n\n", 4) == 0, "comm keeps the newline written");
    is_int(e(write(cfd, "0123456789abcdefgh", 18)), 18, "a long comm write takes it all");
    n = slurp("/proc/self/comm", c2, sizeof(c2));
    ok(n == 16 && memcmp(c2, "0123456789abcde\n", 16) == 0, "and keeps 15 bytes");
    write(cfd, comm, strlen(comm));
    close(cfd);

    unsigned long sm[7];
    n = slurp("/proc/self/statm", big, sizeof(big));
    ok(sscanf(big, "%lu %lu %lu %lu %lu %lu %lu", &sm[0], &sm[1], &sm[2], &sm[3], &sm[4], &sm[5],
              &sm[6]) == 7 &&
           sm[0] > 0,
       "statm: 7 numbers, size > 0");
}

/* A child blocked in pause() shows S in stat and status, as Linux's
 * interruptible sleep (it may take a moment to get there). */
static void test_sleeping_state(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    char path[64], buf[512];
    char state = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 500 && state != 'S'; i++) {
        if (slurp(path, buf, sizeof(buf)) > 0) {
            const char *p = strrchr(buf, ')');
            state = p && p[1] == ' ' ? p[2] : 0;
        }
        if (state != 'S')
            usleep(10000);
    }
    is_int(state, 'S', "a child in pause() is S in /proc/PID/stat");
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    ok(slurp(path, buf, sizeof(buf)) > 0 && strstr(buf, "State:\tS (sleeping)\n") != NULL,
       "and S (sleeping) in its status");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_cmdline_environ(void)
{
    long n = slurp("/proc/self/cmdline", big, sizeof(big));
    size_t want = 0;
    for (int i = 0; i < argc_g; i++)
        want += strlen(argv_g[i]) + 1;
    is_int(n, (long)want, "cmdline length");
    size_t off = 0;
    int same = 1;
    for (int i = 0; i < argc_g && same; i++) {
        same = strcmp(big + off, argv_g[i]) == 0;
        off += strlen(argv_g[i]) + 1;
    }
    ok(same, "cmdline is argv, NUL-separated");

    if (!envp_g[0]) {
        skip("no environment", "environ holds envp[0]");
        return;
    }
    n = slurp("/proc/self/environ", big, sizeof(big));
    int found = 0;
    for (long o = 0; o < n; o += (long)strlen(big + o) + 1)
        found |= strcmp(big + o, envp_g[0]) == 0;
    ok(found, "environ holds envp[0]");
}

static void test_maps(void)
{
    long n = slurp("/proc/self/maps", big, sizeof(big));
    ok(n > 0, "read maps");
    int lines = 0, bad = 0, stack = 0, exe_text = 0;
    for (char *line = big; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        unsigned long lo, hi, off, ino;
        unsigned maj, min;
        char perms[8];
        int used = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu%n", &lo, &hi, perms, &off, &maj, &min, &ino,
                   &used) != 7 ||
            lo >= hi || strlen(perms) != 4)
            bad++;
        if (strstr(line, "[stack]"))
            stack++;
        /* The program's own segments are mappings of its file, named by
         * path, its text executable at the file offset the ELF gives. */
        size_t el = strlen(exe_want);
        size_t ll = strlen(line);
        if (el && ll > el && strcmp(line + ll - el, exe_want) == 0 && perms[2] == 'x' && ino != 0)
            exe_text++;
        lines++;
        line = nl + 1;
    }
    ok(lines > 0 && bad == 0, "every maps line parses (%d lines, %d bad)", lines, bad);
    is_int(stack, 1, "one [stack] mapping");
    if (exe_want[0])
        ok(exe_text >= 1, "the program's text is a mapping of its file (%s)", exe_want);
    else
        skip("realpath of argv[0] failed", "exe mapping");
}

static void test_fds(void)
{
    int fd = (int)e(open("f", O_CREAT | O_RDWR | O_TRUNC, 0644));
    ok(fd >= 3, "open a file");
    is_int(e(write(fd, "hello", 5)), 5, "write 5 bytes");

    char link[64], target[PATH_MAX] = {0}, want[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    snprintf(want, sizeof(want), "%s/f", dir);
    long n = e(readlink(link, target, sizeof(target) - 1));
    is_int(n, (long)strlen(want), "readlink fd/N length");
    ok(strcmp(target, want) == 0, "fd/N -> %s (got %s)", want, target);
    struct stat st;
    is_int(e(lstat(link, &st)), 0, "lstat fd/N");
    is_int(st.st_mode, S_IFLNK | 0700, "an O_RDWR fd's link is 0700");
    /* The link's mode follows the fd when another file is dup2'd over it
     * (the dentry from the lstat above may be cached). */
    int ro = (int)e(open("f", O_RDONLY));
    is_int(e(dup2(ro, fd)), fd, "dup2 a read-only fd over it");
    is_int(e(lstat(link, &st)), 0, "lstat fd/N again");
    is_int(st.st_mode, S_IFLNK | 0500, "now its link is 0500");
    close(ro);
    close(fd);
    fd = (int)e(open("f", O_RDWR));
    ok(fd >= 3, "reopen the file read-write");
    lseek(fd, 5, SEEK_SET);
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);

    DIR *d = opendir("/proc/self/fd");
    int seen = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        int v = atoi(de->d_name);
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && v < 32)
            seen |= 1 << v;
    }
    if (d)
        closedir(d);
    ok((seen & 7) == 7, "fd/ lists 0, 1 and 2");
    ok(seen & (1 << fd), "fd/ lists the new fd");

    /* The listing is of the fds at reading time: it has the directory's own
     * fd, and after a rewind the fds opened since. */
    d = opendir("/proc/self/fd");
    int own = d ? dirfd(d) : -1, later = -1;
    for (int pass = 0; d && pass < 2; pass++) {
        seen = 0;
        for (struct dirent *de; (de = readdir(d));) {
            int v = atoi(de->d_name);
            if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && v < 32)
                seen |= 1 << v;
        }
        if (pass == 0) {
            ok(own >= 0 && own < 32 && (seen & (1 << own)), "fd/ lists the fd reading it");
            later = (int)e(open("f", O_RDONLY));
            rewinddir(d);
        } else {
            ok(later >= 0 && later < 32 && (seen & (1 << later)),
               "after rewinddir fd/ lists an fd opened since");
        }
    }
    if (d)
        closedir(d);
    if (later >= 0)
        close(later);

    /* Following the link opens the file itself, with an offset of its own. */
    int fd2 = (int)e(open(link, O_RDONLY));
    ok(fd2 >= 0, "open fd/N");
    char buf[16] = {0};
    is_int(e(read(fd2, buf, sizeof(buf))), 5, "the new open reads from offset 0");
    ok(memcmp(buf, "hello", 5) == 0, "and sees the data");
    is_int(e(lseek(fd, 0, SEEK_CUR)), 5, "the first fd's offset is untouched");
    struct stat a, b;
    fstat(fd, &a);
    fstat(fd2, &b);
    ok(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "both are the same file");
    ok(stat(link, &st) == 0 && st.st_ino == a.st_ino, "stat follows fd/N to the file");

    char info[64];
    snprintf(info, sizeof(info), "/proc/self/fdinfo/%d", fd);
    n = slurp(info, big, sizeof(big));
    long pos = -1;
    unsigned flags = 0;
    ok(n > 0 && sscanf(big, "pos:\t%ld\nflags:\t%o", &pos, &flags) == 2, "fdinfo parses");
    is_int(pos, 5, "fdinfo pos");
    is_int(flags & O_ACCMODE, O_RDWR, "fdinfo flags hold O_RDWR");

    /* openat2's scoping refuses magic links. */
    struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_NO_MAGICLINKS};
    is_int(e(syscall(SYS_openat2, AT_FDCWD, link, &how, sizeof(how))), -ELOOP,
           "RESOLVE_NO_MAGICLINKS on fd/N is ELOOP");
    int self = (int)e(open("/proc/self", O_RDONLY | O_DIRECTORY));
    char rel[32];
    snprintf(rel, sizeof(rel), "fd/%d", fd);
    how.resolve = RESOLVE_BENEATH;
    is_int(e(syscall(SYS_openat2, self, rel, &how, sizeof(how))), -EXDEV,
           "RESOLVE_BENEATH through fd/N is EXDEV");
    close(self);

    close(fd2);
    close(fd);
    is_int(e(readlink(link, target, sizeof(target))), -ENOENT, "a closed fd's link is gone");
    is_int(e(open(link, O_RDONLY)), -ENOENT, "and cannot be opened");

    /* stdout may have no path at all (a pipe, under moat a host fd): the
     * link still opens the same file. */
    int out = (int)e(open("/proc/self/fd/1", O_WRONLY | O_APPEND));
    struct stat s1, s2;
    if (out == -ENXIO && fstat(1, &s1) == 0 && S_ISSOCK(s1.st_mode)) {
        skip("stdout is a socket", "reopen stdout through fd/1");
    } else {
        ok(out >= 0, "open /proc/self/fd/1 for writing (%d)", out);
        is_int(e(write(out, "# through fd/1\n", 15)), 15, "write through the reopened stdout");
        ok(fstat(out, &s2) == 0 && fstat(1, &s1) == 0 &&
               (s1.st_mode & S_IFMT) == (s2.st_mode & S_IFMT),
           "the same kind of file as fd 1");
        close(out);
    }

    /* chdir through the magic link lands in the directory itself. */
    char before[PATH_MAX], after[PATH_MAX];
    ok(getcwd(before, sizeof(before)) != NULL, "getcwd");
    is_int(e(chdir("/proc/self/cwd")), 0, "chdir /proc/self/cwd");
    ok(getcwd(after, sizeof(after)) && strcmp(before, after) == 0, "same cwd after (%s)", after);
}

static int has_mount(const char *text, const char *mp, const char *type, int info)
{
    char copy[1 << 16];
    snprintf(copy, sizeof(copy), "%s", text);
    int found = 0, bad = 0;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char m[512], t[64], src[512], opts[512];
        if (info) {
            /* id parent maj:min root mountpoint opts [optional...] - type source superopts */
            int id, parent;
            unsigned maj, min;
            char root[512];
            int used = 0;
            if (sscanf(line, "%d %d %u:%u %511s %511s %511s%n", &id, &parent, &maj, &min, root, m,
                       opts, &used) != 7) {
                bad++;
                continue;
            }
            char *dash = strstr(line + used, " - ");
            if (!dash || sscanf(dash + 3, "%63s %511s %511s", t, src, opts) != 3) {
                bad++;
                continue;
            }
        } else {
            int f1, f2;
            if (sscanf(line, "%511s %511s %63s %511s %d %d", src, m, t, opts, &f1, &f2) != 6) {
                bad++;
                continue;
            }
        }
        if (strcmp(m, mp) == 0 && (!type || strcmp(t, type) == 0))
            found = 1;
    }
    return bad ? -bad : found;
}

static void test_mounts(void)
{
    ok(slurp("/proc/self/mounts", big, sizeof(big)) > 0, "read mounts");
    is_int(has_mount(big, "/", NULL, 0), 1, "mounts: parses, has /");
    is_int(has_mount(big, "/proc", "proc", 0), 1, "mounts: has /proc of type proc");
    ok(slurp("/proc/self/mountinfo", big, sizeof(big)) > 0, "read mountinfo");
    is_int(has_mount(big, "/", NULL, 1), 1, "mountinfo: parses, has /");
    is_int(has_mount(big, "/proc", "proc", 1), 1, "mountinfo: has /proc of type proc");
}

static long field_kb(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    if (!p || (p != text && p[-1] != '\n'))
        return -1;
    return atol(p + strlen(name));
}

static void test_system_files(void)
{
    ok(slurp("/proc/meminfo", big, sizeof(big)) > 0, "read meminfo");
    long total = field_kb(big, "MemTotal:"), fr = field_kb(big, "MemFree:"),
         avail = field_kb(big, "MemAvailable:");
    ok(total > 0, "MemTotal %ld kB", total);
    ok(fr >= 0 && fr <= total, "MemFree %ld kB", fr);
    ok(avail >= 0 && avail <= total, "MemAvailable %ld kB", avail);

    ok(slurp("/proc/cpuinfo", big, sizeof(big)) > 0, "read cpuinfo");
    int procs = 0;
    for (const char *p = big; (p = strstr(p, "processor\t:")); p++)
        procs += p == big || p[-1] == '\n';
    long onln = sysconf(_SC_NPROCESSORS_ONLN);
    is_int(procs, onln, "cpuinfo processors == sysconf(_SC_NPROCESSORS_ONLN)");
    char online[64];
    ok(slurp("/sys/devices/system/cpu/online", online, sizeof(online)) > 0,
       "read /sys/devices/system/cpu/online");
    online[strcspn(online, "\n")] = '\0';
    int lo = -1, hi = -1, k = sscanf(online, "%d-%d", &lo, &hi);
    int count = k == 2 ? hi - lo + 1 : k == 1 ? 1 : 0;
    is_int(count, onln, "/sys online (%s) agrees", online);
    struct stat st;
    is_int(e(stat("/sys/devices/system/cpu/cpu0", &st)), 0, "cpu0 directory exists");
    struct statfs sf;
    ok(statfs("/proc", &sf) == 0 && sf.f_type == 0x9fa0, "/proc is PROC_SUPER_MAGIC");
    ok(statfs("/sys", &sf) == 0 && sf.f_type == 0x62656572, "/sys is SYSFS_MAGIC");

    double up = -1, idle = -1;
    ok(slurp("/proc/uptime", big, sizeof(big)) > 0 && sscanf(big, "%lf %lf", &up, &idle) == 2 &&
           up >= 0 && idle >= 0,
       "uptime parses");
    double l1, l5, l15;
    int run, tot, last;
    ok(slurp("/proc/loadavg", big, sizeof(big)) > 0 &&
           sscanf(big, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &run, &tot, &last) == 6,
       "loadavg parses");

    struct utsname u;
    uname(&u);
    char buf[512], want[300];
    ok(slurp("/proc/sys/kernel/ostype", buf, sizeof(buf)) > 0 && strcmp(buf, "Linux\n") == 0,
       "ostype");
    snprintf(want, sizeof(want), "%s\n", u.release);
    ok(slurp("/proc/sys/kernel/osrelease", buf, sizeof(buf)) > 0 && strcmp(buf, want) == 0,
       "osrelease == uname release");
    snprintf(want, sizeof(want), "%s\n", u.nodename);
    ok(slurp("/proc/sys/kernel/hostname", buf, sizeof(buf)) > 0 && strcmp(buf, want) == 0,
       "hostname == uname nodename");
    ok(slurp("/proc/version", buf, sizeof(buf)) > 0 && strstr(buf, u.release) != NULL,
       "/proc/version names the release");
    ok(slurp("/proc/sys/kernel/random/boot_id", buf, sizeof(buf)) == 37 && buf[8] == '-',
       "boot_id is a UUID");

    is_int(e(open("/proc/sys/kernel/ostype", O_WRONLY)), -EACCES,
           "a read-only sysctl refuses a write open");
    int fd = (int)e(open("/proc/meminfo", O_WRONLY));
    if (fd >= 0) {
        is_int(e(write(fd, "x", 1)), -EIO, "writing /proc/meminfo is EIO");
        close(fd);
    } else {
        is_int(fd, -EACCES, "writing /proc/meminfo is refused");
    }

    fd = (int)e(open("/proc/self/stat", O_RDONLY));
    char a[16] = {0}, b[16] = {0};
    is_int(e(pread(fd, a, 8, 0)), 8, "pread a /proc file");
    is_int(e(lseek(fd, 0, SEEK_END)), -EINVAL, "SEEK_END on a /proc file is EINVAL");
    is_int(e(lseek(fd, 0, SEEK_SET)), 0, "SEEK_SET works");
    is_int(e(read(fd, b, 8)), 8, "read");
    ok(memcmp(a, b, 8) == 0, "pread and read agree");
    close(fd);

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    ok(slurp("/proc/self/limits", big, sizeof(big)) > 0, "read limits");
    char *row = strstr(big, "\nMax open files ");
    char soft[32] = {0}, hard[32] = {0};
    ok(row && sscanf(row + 16, "%31s %31s", soft, hard) == 2, "limits has Max open files");
    char ws[32], wh[32];
    snprintf(ws, sizeof(ws), "%llu", (unsigned long long)rl.rlim_cur);
    snprintf(wh, sizeof(wh), "%llu", (unsigned long long)rl.rlim_max);
    if (rl.rlim_cur == RLIM_INFINITY)
        strcpy(ws, "unlimited");
    if (rl.rlim_max == RLIM_INFINITY)
        strcpy(wh, "unlimited");
    ok(strcmp(soft, ws) == 0 && strcmp(hard, wh) == 0, "limits row matches getrlimit (%s %s)", soft,
       hard);
}

/* Last: the executable's path needs the exec wiring through the VFS. */

static void test_exe(void)
{
    char *want = exe_want, got[PATH_MAX] = {0};
    if (!want[0]) {
        skip("realpath of argv[0] failed", "exe link");
        return;
    }
    long n = e(readlink("/proc/self/exe", got, sizeof(got) - 1));
    ok(n > 0 && strcmp(got, want) == 0, "/proc/self/exe -> %s (got %s)", want, got);
}

int main(int argc, char **argv, char **envp)
{
    argc_g = argc;
    argv_g = argv;
    envp_g = envp;
    argv0 = argv[0];
    /* Before the chdir below: argv[0] may be relative. */
    if (!realpath(argv0, exe_want))
        exe_want[0] = '\0';
    strcpy(dir, "/tmp/moat-proc-XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        diag("cannot make a test directory: %s", strerror(errno));
        return 1;
    }
    test_self();
    test_stat_status();
    test_sleeping_state();
    test_cmdline_environ();
    test_maps();
    test_fds();
    test_mounts();
    test_system_files();
    unlink("f");
    chdir("/");
    is_int(e(rmdir(dir)), 0, "the test directory is empty at the end");
    test_exe();
    done_testing();
}
