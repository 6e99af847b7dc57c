/* /proc/sys: the sysctls programs read to learn about the kernel. Read-only
 * ones refuse an open for writing with EACCES, as Linux's proc_sys does
 * even for root; hostname and domainname are writable by the sandbox's
 * root, as sethostname(2). */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "abi/errno.h"
#include "sentry/fs/procfs/proc_internal.h"
#include "sentry/kernel/kernel.h"

static int gen_hostname(const struct synth_ctx *c, struct synth_buf *b)
{
    synth_printf(b, "%s\n", c->k->hostname);
    return 0;
}

static int gen_domainname(const struct synth_ctx *c, struct synth_buf *b)
{
    synth_printf(b, "%s\n", c->k->domainname);
    return 0;
}

/* A sysctl string write, as Linux's proc_dostring in its default strict
 * mode: the text goes in at the file offset (a write past the current
 * string's end is ignored), up to the first NUL or newline, and whatever
 * does not fit is dropped. The whole write is always consumed. */
static int64_t store_name(char *dst, size_t cap, const char *data, size_t n, int64_t off)
{
    size_t len = strnlen(dst, cap - 1);
    if ((uint64_t)off > len)
        return (int64_t)n;
    len = (size_t)off;
    for (size_t i = 0; i < n && len < cap - 1; i++) {
        if (data[i] == '\0' || data[i] == '\n')
            break;
        dst[len++] = data[i];
    }
    dst[len] = '\0';
    return (int64_t)n;
}

static int64_t store_hostname(const struct synth_ctx *c, const char *data, size_t n, int64_t off)
{
    return store_name(c->k->hostname, sizeof(c->k->hostname), data, n, off);
}

static int64_t store_domainname(const struct synth_ctx *c, const char *data, size_t n, int64_t off)
{
    return store_name(c->k->domainname, sizeof(c->k->domainname), data, n, off);
}

static int gen_osrelease(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%s\n", KERNEL_UTS_RELEASE);
    return 0;
}

static int gen_kversion(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    synth_printf(b, "%s\n", KERNEL_UTS_VERSION);
    return 0;
}

static int gen_boot_id(const struct synth_ctx *c, struct synth_buf *b)
{
    synth_printf(b, "%s\n", c->k->host.boot_id);
    return 0;
}

/* random/uuid: a fresh version-4 UUID on every read, as Linux. */
static int gen_uuid(const struct synth_ctx *c, struct synth_buf *b)
{
    (void)c;
    uint8_t u[16];
    if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
        return -ABI_EIO;
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    synth_printf(b, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", u[0],
                 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                 u[14], u[15]);
    return 0;
}

#define CONST_GEN(fn, text)                                                                        \
    static int fn(const struct synth_ctx *c, struct synth_buf *b)                                  \
    {                                                                                              \
        (void)c;                                                                                   \
        synth_printf(b, "%s", text);                                                               \
        return 0;                                                                                  \
    }

CONST_GEN(gen_ostype, "Linux\n")
CONST_GEN(gen_pid_max, "4194304\n")
CONST_GEN(gen_cap_last_cap, "40\n")
CONST_GEN(gen_ngroups_max, "65536\n")
CONST_GEN(gen_256, "256\n")
CONST_GEN(gen_file_max, "9223372036854775807\n")
CONST_GEN(gen_nr_open, "1048576\n")
CONST_GEN(gen_zero, "0\n")
CONST_GEN(gen_max_map_count, "65530\n")
CONST_GEN(gen_somaxconn, "4096\n")
CONST_GEN(gen_mq_msg, "10\n")
CONST_GEN(gen_mq_msgsize, "8192\n")

#define RO(n, g)                                                                                   \
    {                                                                                              \
        .name = n, .type = SYNTH_FILE, .perm = 0444, .gen = g, .open_wr_eacces = true              \
    }
/* Writable on Linux, but moat does not act on them yet: refused. */
#define RW_FIXED(n, g)                                                                             \
    {                                                                                              \
        .name = n, .type = SYNTH_FILE, .perm = 0644, .gen = g, .write_err = -ABI_EPERM             \
    }

static const struct synth_ent random_kids[] = {
    RO("boot_id", gen_boot_id),
    RO("entropy_avail", gen_256),
    RO("poolsize", gen_256),
    RO("uuid", gen_uuid),
    {.name = NULL},
};

static const struct synth_ent kernel_kids[] = {
    RO("cap_last_cap", gen_cap_last_cap),
    {.name = "domainname",
     .type = SYNTH_FILE,
     .perm = 0644,
     .gen = gen_domainname,
     .store = store_domainname},
    {.name = "hostname",
     .type = SYNTH_FILE,
     .perm = 0644,
     .gen = gen_hostname,
     .store = store_hostname},
    RW_FIXED("msgmax", procfs_gen_msgmax),
    RW_FIXED("msgmnb", procfs_gen_msgmnb),
    RW_FIXED("msgmni", procfs_gen_msgmni),
    RO("ngroups_max", gen_ngroups_max),
    RO("osrelease", gen_osrelease),
    RO("ostype", gen_ostype),
    RW_FIXED("pid_max", gen_pid_max),
    {.name = "random", .type = SYNTH_DIR, .perm = 0555, .kids = random_kids},
    RW_FIXED("sem", procfs_gen_sem),
    RW_FIXED("shmall", procfs_gen_shmall),
    RW_FIXED("shmmax", procfs_gen_shmmax),
    RW_FIXED("shmmni", procfs_gen_shmmni),
    RO("version", gen_kversion),
    {.name = NULL},
};

/* POSIX message queues (sentry/kernel/ipc/mqueue.c, abi/ipc.h's ABI_MQ_*). */
static const struct synth_ent mqueue_kids[] = {
    RW_FIXED("msg_default", gen_mq_msg),
    RW_FIXED("msg_max", gen_mq_msg),
    RW_FIXED("msgsize_default", gen_mq_msgsize),
    RW_FIXED("msgsize_max", gen_mq_msgsize),
    RW_FIXED("queues_max", gen_256),
    {.name = NULL},
};

static const struct synth_ent fs_kids[] = {
    RW_FIXED("file-max", gen_file_max),
    {.name = "mqueue", .type = SYNTH_DIR, .perm = 0555, .kids = mqueue_kids},
    RW_FIXED("nr_open", gen_nr_open),
    {.name = NULL},
};

static const struct synth_ent vm_kids[] = {
    RW_FIXED("max_map_count", gen_max_map_count),
    RW_FIXED("overcommit_memory", gen_zero),
    {.name = NULL},
};

static const struct synth_ent core_kids[] = {
    RW_FIXED("somaxconn", gen_somaxconn),
    {.name = NULL},
};

static const struct synth_ent net_kids[] = {
    {.name = "core", .type = SYNTH_DIR, .perm = 0555, .kids = core_kids},
    {.name = NULL},
};

const struct synth_ent procfs_sys_kids[] = {
    {.name = "fs", .type = SYNTH_DIR, .perm = 0555, .kids = fs_kids},
    {.name = "kernel", .type = SYNTH_DIR, .perm = 0555, .kids = kernel_kids},
    {.name = "net", .type = SYNTH_DIR, .perm = 0555, .kids = net_kids},
    {.name = "vm", .type = SYNTH_DIR, .perm = 0555, .kids = vm_kids},
    {.name = NULL},
};
