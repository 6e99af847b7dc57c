/* The pieces of /proc whose layout Linux fixes and programs parse: cpu
 * lists and masks, mount escapes and options, limits, maps lines, cpuinfo
 * and meminfo. Pure formatting, so that unit tests check each alone. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "abi/flags.h"
#include "sentry/fs/procfs/procfs.h"
#include "sentry/mm/mm.h"

void procfs_format_cpu_list(struct synth_buf *b, int ncpus, bool nl)
{
    if (ncpus <= 1)
        synth_printf(b, "0");
    else
        synth_printf(b, "0-%d", ncpus - 1);
    if (nl)
        synth_write(b, "\n", 1);
}

void procfs_format_cpu_mask(struct synth_buf *b, int ncpus)
{
    int words = ncpus > 0 ? (ncpus + 31) / 32 : 1;
    for (int w = words - 1; w >= 0; w--) {
        int bits = ncpus - w * 32;
        uint32_t v = bits >= 32 ? 0xffffffffu : bits > 0 ? (1u << bits) - 1 : 0;
        synth_printf(b, w ? "%08x," : "%08x", v);
    }
}

void procfs_format_escaped(struct synth_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
            synth_printf(b, "\\%03o", (unsigned char)*s);
        else
            synth_write(b, s, 1);
    }
}

void procfs_mount_names(const char *fs_name, const char **source, const char **type)
{
    /* goferfs is moat's own; gVisor shows its gofer mounts as 9p, which is
     * also what Linux shows for a 9p-served root. */
    static const struct {
        const char *fs, *source, *type;
    } names[] = {
        {"goferfs", "none", "9p"},      {"tmpfs", "tmpfs", "tmpfs"},
        {"proc", "proc", "proc"},       {"sysfs", "sysfs", "sysfs"},
        {"devpts", "devpts", "devpts"}, {"overlay", "overlay", "overlay"},
        {"mqueue", "mqueue", "mqueue"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(fs_name, names[i].fs) == 0) {
            *source = names[i].source;
            *type = names[i].type;
            return;
        }
    }
    *source = "none";
    *type = fs_name;
}

void procfs_format_mount_opts(struct synth_buf *b, uint32_t f)
{
    synth_printf(b, "%s%s%s%s,relatime", (f & VFS_MNT_RDONLY) ? "ro" : "rw",
                 (f & VFS_MNT_NOSUID) ? ",nosuid" : "", (f & VFS_MNT_NODEV) ? ",nodev" : "",
                 (f & VFS_MNT_NOEXEC) ? ",noexec" : "");
}

void procfs_format_limits(struct synth_buf *b, const struct abi_rlimit *lim)
{
    static const struct {
        const char *name, *unit;
    } rows[ABI_RLIM_NLIMITS] = {
        [ABI_RLIMIT_CPU] = {"Max cpu time", "seconds"},
        [ABI_RLIMIT_FSIZE] = {"Max file size", "bytes"},
        [ABI_RLIMIT_DATA] = {"Max data size", "bytes"},
        [ABI_RLIMIT_STACK] = {"Max stack size", "bytes"},
        [ABI_RLIMIT_CORE] = {"Max core file size", "bytes"},
        [ABI_RLIMIT_RSS] = {"Max resident set", "bytes"},
        [ABI_RLIMIT_NPROC] = {"Max processes", "processes"},
        [ABI_RLIMIT_NOFILE] = {"Max open files", "files"},
        [ABI_RLIMIT_MEMLOCK] = {"Max locked memory", "bytes"},
        [ABI_RLIMIT_AS] = {"Max address space", "bytes"},
        [ABI_RLIMIT_LOCKS] = {"Max file locks", "locks"},
        [ABI_RLIMIT_SIGPENDING] = {"Max pending signals", "signals"},
        [ABI_RLIMIT_MSGQUEUE] = {"Max msgqueue size", "bytes"},
        [ABI_RLIMIT_NICE] = {"Max nice priority", NULL},
        [ABI_RLIMIT_RTPRIO] = {"Max realtime priority", NULL},
        [ABI_RLIMIT_RTTIME] = {"Max realtime timeout", "us"},
    };
    synth_printf(b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (int i = 0; i < ABI_RLIM_NLIMITS; i++) {
        synth_printf(b, "%-25s ", rows[i].name);
        uint64_t v[2] = {lim[i].rlim_cur, lim[i].rlim_max};
        for (int j = 0; j < 2; j++) {
            if (v[j] == ABI_RLIM_INFINITY)
                synth_printf(b, "%-20s ", "unlimited");
            else
                synth_printf(b, "%-20" PRIu64 " ", v[j]);
        }
        if (rows[i].unit)
            synth_printf(b, "%-10s", rows[i].unit);
        synth_write(b, "\n", 1);
    }
}

void procfs_format_maps_line(struct synth_buf *b, const struct mm_vma_info *v)
{
    size_t start = b->len;
    /* Linux's new_encode_dev split of st_dev into major and minor. */
    unsigned maj = (unsigned)(((v->dev >> 8) & 0xfff) | ((v->dev >> 32) & ~0xfffULL));
    unsigned min = (unsigned)((v->dev & 0xff) | ((v->dev >> 12) & ~0xffULL));
    synth_printf(b, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                 v->start, v->end, (v->prot & ABI_PROT_READ) ? 'r' : '-',
                 (v->prot & ABI_PROT_WRITE) ? 'w' : '-', (v->prot & ABI_PROT_EXEC) ? 'x' : '-',
                 (v->flags & MM_VMA_SHARED) ? 's' : 'p', v->pgoff, maj, min, v->ino);
    if (v->name && v->name[0]) {
        /* The name starts in column 74: the prefix is padded to 72 (25 +
         * six pointer widths - 1) and one space follows, as Linux pads. */
        size_t used = b->len - start;
        if (used < 72)
            synth_printf(b, "%*s", (int)(72 - used), "");
        synth_printf(b, " %s", v->name);
    }
    synth_write(b, "\n", 1);
}

/* "key\t\t: value": the key, without its tabs. */
static void line_key(const char *line, size_t len, char *key, size_t n)
{
    size_t k = 0;
    while (k < len && line[k] != ':' && line[k] != '\t')
        k++;
    size_t c = k < n - 1 ? k : n - 1;
    memcpy(key, line, c);
    key[c] = '\0';
}

void procfs_format_cpuinfo(struct synth_buf *b, const char *tmpl, int ncpus)
{
    static const char fallback[] = "processor\t: 0\n"
                                   "vendor_id\t: unknown\n"
                                   "physical id\t: 0\n"
                                   "siblings\t: 1\n"
                                   "core id\t\t: 0\n"
                                   "cpu cores\t: 1\n"
                                   "apicid\t\t: 0\n"
                                   "initial apicid\t: 0\n";
    if (!tmpl)
        tmpl = fallback;
    for (int cpu = 0; cpu < ncpus; cpu++) {
        for (const char *p = tmpl; *p;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            char key[32];
            line_key(p, len, key, sizeof(key));
            const char *colon = memchr(p, ':', len);
            /* Keep the key and its tabs; replace the per-CPU values. */
            int value = -1;
            if (strcmp(key, "processor") == 0 || strcmp(key, "core id") == 0 ||
                strcmp(key, "apicid") == 0 || strcmp(key, "initial apicid") == 0)
                value = cpu;
            else if (strcmp(key, "siblings") == 0 || strcmp(key, "cpu cores") == 0)
                value = ncpus;
            else if (strcmp(key, "physical id") == 0)
                value = 0;
            if (value >= 0 && colon) {
                synth_write(b, p, (size_t)(colon - p));
                synth_printf(b, ": %d\n", value);
            } else {
                synth_write(b, p, len);
                synth_write(b, "\n", 1);
            }
            p = nl ? nl + 1 : p + len;
        }
        synth_write(b, "\n", 1);
    }
}

void procfs_format_meminfo(struct synth_buf *b, uint64_t total_kb, uint64_t used_kb)
{
    if (used_kb > total_kb)
        used_kb = total_kb;
    uint64_t free_kb = total_kb - used_kb;
    const struct {
        const char *name;
        uint64_t kb;
    } rows[] = {
        {"MemTotal", total_kb},
        {"MemFree", free_kb},
        {"MemAvailable", free_kb},
        {"Buffers", 0},
        {"Cached", 0},
        {"SwapCached", 0},
        {"Active", used_kb},
        {"Inactive", 0},
        {"Active(anon)", used_kb},
        {"Inactive(anon)", 0},
        {"Active(file)", 0},
        {"Inactive(file)", 0},
        {"Unevictable", 0},
        {"Mlocked", 0},
        {"SwapTotal", 0},
        {"SwapFree", 0},
        {"Dirty", 0},
        {"Writeback", 0},
        {"AnonPages", used_kb},
        {"Mapped", 0},
        {"Shmem", 0},
        {"KReclaimable", 0},
        {"Slab", 0},
        {"SReclaimable", 0},
        {"SUnreclaim", 0},
        {"KernelStack", 0},
        {"PageTables", 0},
        {"NFS_Unstable", 0},
        {"Bounce", 0},
        {"WritebackTmp", 0},
        {"CommitLimit", total_kb / 2},
        {"Committed_AS", used_kb},
        {"VmallocTotal", 34359738367ULL},
        {"VmallocUsed", 0},
        {"VmallocChunk", 0},
        {"Percpu", 0},
        {"AnonHugePages", 0},
        {"ShmemHugePages", 0},
        {"ShmemPmdMapped", 0},
        {"FileHugePages", 0},
        {"FilePmdMapped", 0},
    };
    char label[32];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        snprintf(label, sizeof(label), "%s:", rows[i].name);
        synth_printf(b, "%-16s%8" PRIu64 " kB\n", label, rows[i].kb);
    }
    static const char *const huge[] = {
        "HugePages_Total:", "HugePages_Free:", "HugePages_Rsvd:", "HugePages_Surp:"};
    for (size_t i = 0; i < 4; i++)
        synth_printf(b, "%-16s%8d\n", huge[i], 0);
    synth_printf(b, "%-16s%8d kB\n", "Hugepagesize:", 2048);
    synth_printf(b, "%-16s%8d kB\n", "Hugetlb:", 0);
}
