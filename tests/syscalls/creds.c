/*
 * Credentials and capabilities: the container default set the sandbox's
 * root starts with, capget/capset (v1, v2, v3 headers, version probing,
 * EPERM rules), the prctl capability options (bounding set, ambient set,
 * keepcaps, securebits), dumpable, timer slack, THP, tid address,
 * no_new_privs, and the id calls with their capability effects.
 *
 * Natively it runs as root: it first reduces its own capabilities to the
 * sandbox's default set (caps_normalize), then every change it makes is
 * to itself. Changes that cannot be undone (no_new_privs, leaving root)
 * come last.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "tests/syscalls/default_caps.h"
#include "tests/syscalls/tap.h"

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

static int in_moat(void)
{
    struct utsname u;
    return uname(&u) == 0 && strstr(u.release, "moat") != NULL;
}

/* The value of "Key:" in /proc/self/status, as the text after the tab. */
static int status_field(const char *key, char *out, size_t outlen)
{
    static char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    size_t klen = strlen(key);
    for (char *line = buf; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            char *v = line + klen + 1;
            while (*v == '\t' || *v == ' ')
                v++;
            size_t len = strcspn(v, "\n");
            if (len >= outlen)
                len = outlen - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 0;
        }
    }
    return -1;
}

static uint64_t status_hex(const char *key)
{
    char v[64];
    if (status_field(key, v, sizeof(v)) != 0)
        return ~0ULL;
    return strtoull(v, NULL, 16);
}

static uint64_t bounding_set(void)
{
    uint64_t b = 0;
    for (int c = 0; c <= LAST_CAP; c++) {
        if (SC(SYS_prctl, PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            b |= CAPBIT(c);
    }
    return b;
}

/* What the process started with, read before caps_normalize. */
static struct capsets initial;
static uint64_t initial_bounding;

static void test_initial_set(void)
{
    ok((initial.eff & DEFAULT_CAPS) == DEFAULT_CAPS, "root starts with at least the default set");
    if (in_moat()) {
        is_hex(initial.eff, DEFAULT_CAPS, "sandbox: effective is the container default set");
        is_hex(initial.prm, DEFAULT_CAPS, "sandbox: permitted is the default set");
        is_hex(initial.inh, 0, "sandbox: inheritable is empty");
        is_hex(initial_bounding, DEFAULT_CAPS, "sandbox: bounding is the default set");
    } else {
        skip("native", "sandbox: effective is the container default set");
        skip("native", "sandbox: permitted is the default set");
        skip("native", "sandbox: inheritable is empty");
        skip("native", "sandbox: bounding is the default set");
    }
}

static void test_capget(void)
{
    struct capsets s;
    caps_get(&s);
    is_hex(s.eff, DEFAULT_CAPS, "normalised: effective");
    is_hex(s.prm, DEFAULT_CAPS, "normalised: permitted");
    is_hex(bounding_set(), DEFAULT_CAPS, "normalised: bounding");
    is_hex(status_hex("CapEff"), DEFAULT_CAPS, "/proc/self/status CapEff");
    is_hex(status_hex("CapPrm"), DEFAULT_CAPS, "/proc/self/status CapPrm");
    is_hex(status_hex("CapBnd"), DEFAULT_CAPS, "/proc/self/status CapBnd");
    is_hex(status_hex("CapInh"), 0, "/proc/self/status CapInh");
    is_hex(status_hex("CapAmb"), 0, "/proc/self/status CapAmb");

    /* Version probing: an unknown version is EINVAL (or 0 without data),
     * and the header comes back with the preferred version. */
    struct __user_cap_header_struct h = {0x1234, 0};
    struct __user_cap_data_struct d[2];
    is_int(SC(SYS_capget, &h, NULL), 0, "capget of an unknown version without data probes");
    is_hex(h.version, _LINUX_CAPABILITY_VERSION_3, "the probe returns version 3");
    h.version = 0x1234;
    is_int(SC(SYS_capget, &h, d), -EINVAL, "capget of an unknown version is EINVAL");
    is_hex(h.version, _LINUX_CAPABILITY_VERSION_3, "and rewrites the version");

    /* v1 fills one set word and leaves the second alone. */
    memset(d, 0xa5, sizeof(d));
    h = (struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_1, 0};
    is_int(SC(SYS_capget, &h, d), 0, "capget v1");
    is_hex(d[0].effective, (uint32_t)DEFAULT_CAPS, "v1: the low word");
    is_hex(d[1].effective, 0xa5a5a5a5u, "v1: the second struct is not written");
    h = (struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_2, 0};
    is_int(SC(SYS_capget, &h, d), 0, "capget v2");
    is_hex(d[1].effective, (uint32_t)(DEFAULT_CAPS >> 32), "v2: the high word");

    h = (struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, -1};
    is_int(SC(SYS_capget, &h, d), -EINVAL, "capget of pid -1 is EINVAL");
    h.pid = 999999;
    is_int(SC(SYS_capget, &h, d), -ESRCH, "capget of a missing pid is ESRCH");
    h.pid = (int)SC(SYS_gettid);
    is_int(SC(SYS_capget, &h, d), 0, "capget of the own tid");
    is_int(SC(SYS_capget, NULL, d), -EFAULT, "capget of a NULL header is EFAULT");
}

static void test_capset(void)
{
    uint64_t def = DEFAULT_CAPS;
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 999999};
    struct __user_cap_data_struct d[2] = {{0, 0, 0}, {0, 0, 0}};
    is_int(SC(SYS_capset, &h, d), -EPERM, "capset of another pid is EPERM");
    is_int(caps_set(def, def | CAPBIT(CAP_SYS_ADMIN), 0), -EPERM, "permitted cannot grow");
    is_int(caps_set(def | CAPBIT(CAP_SYS_ADMIN), def, 0), -EPERM,
           "effective must stay within permitted");
    is_int(caps_set(def, def, CAPBIT(CAP_SYS_ADMIN)), -EPERM,
           "inheritable cannot pass the bounding set");
    is_int(caps_set(def & ~CAPBIT(CAP_KILL), def, 0), 0, "drop CAP_KILL from effective");
    struct capsets s;
    caps_get(&s);
    is_hex(s.eff, def & ~CAPBIT(CAP_KILL), "effective lost CAP_KILL");
    is_hex(s.prm, def, "permitted kept it");
    is_int(caps_set(def, def, 0), 0, "raise it again from permitted");
    caps_get(&s);
    is_hex(s.eff, def, "effective is whole again");

    /* Without CAP_SETPCAP, inheritable is bounded by permitted. */
    uint64_t nopcap = def & ~CAPBIT(CAP_SETPCAP);
    is_int(caps_set(nopcap, def, 0), 0, "drop CAP_SETPCAP from effective");
    is_int(caps_set(nopcap, def, CAPBIT(CAP_SYS_ADMIN)), -EPERM,
           "no CAP_SETPCAP: inheritable outside permitted is EPERM");
    is_int(caps_set(nopcap, def, CAPBIT(CAP_CHOWN)), 0, "inheritable inside permitted is fine");
    is_int(SC(SYS_prctl, PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0), -EPERM,
           "no CAP_SETPCAP: PR_CAPBSET_DROP is EPERM");
    is_int(SC(SYS_prctl, PR_SET_SECUREBITS, SECBIT_KEEP_CAPS, 0, 0, 0), -EPERM,
           "no CAP_SETPCAP: PR_SET_SECUREBITS is EPERM");
    is_int(caps_set(def, def, 0), 0, "restore the default set");
}

static void test_prctl_caps(void)
{
    is_int(SC(SYS_prctl, PR_CAPBSET_READ, CAP_KILL, 0, 0, 0), 1, "CAPBSET_READ of a held cap");
    is_int(SC(SYS_prctl, PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0), 0,
           "CAPBSET_READ of a dropped cap");
    is_int(SC(SYS_prctl, PR_CAPBSET_READ, 99, 0, 0, 0), -EINVAL, "CAPBSET_READ of cap 99");
    is_int(SC(SYS_prctl, PR_CAPBSET_DROP, 99, 0, 0, 0), -EINVAL, "CAPBSET_DROP of cap 99");

    is_int(SC(SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0), 0, "KEEPCAPS starts off");
    is_int(SC(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0), 0, "PR_SET_KEEPCAPS 1");
    is_int(SC(SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0), 1, "PR_GET_KEEPCAPS reads 1");
    is_int(SC(SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0, 0), SECBIT_KEEP_CAPS,
           "keepcaps is the KEEP_CAPS securebit");
    is_int(SC(SYS_prctl, PR_SET_KEEPCAPS, 2, 0, 0, 0), -EINVAL, "PR_SET_KEEPCAPS 2 is EINVAL");
    is_int(SC(SYS_prctl, PR_SET_SECUREBITS, 0, 0, 0, 0), 0, "PR_SET_SECUREBITS 0");
    is_int(SC(SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0), 0, "which clears keepcaps");
    is_int(SC(SYS_prctl, PR_SET_SECUREBITS, 1 << 12, 0, 0, 0), -EPERM,
           "an unknown securebit is EPERM");

    /* The ambient set needs the capability permitted and inheritable. */
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0), 0,
           "ambient starts empty");
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), -EPERM,
           "raising a non-inheritable cap is EPERM");
    is_int(caps_set(DEFAULT_CAPS, DEFAULT_CAPS, CAPBIT(CAP_KILL)), 0, "make CAP_KILL inheritable");
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), 0,
           "raise CAP_KILL into ambient");
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0), 1,
           "ambient holds CAP_KILL");
    is_hex(status_hex("CapAmb"), CAPBIT(CAP_KILL), "/proc/self/status CapAmb shows it");
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 1, 0), -EINVAL,
           "PR_CAP_AMBIENT with a stray argument is EINVAL");
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, 9, CAP_KILL, 0, 0), -EINVAL,
           "unknown PR_CAP_AMBIENT operation is EINVAL");
    is_int(caps_set(DEFAULT_CAPS, DEFAULT_CAPS, 0), 0, "make it non-inheritable again");
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0), 0,
           "which takes it out of ambient");
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0), -EINVAL,
           "CLEAR_ALL with an argument is EINVAL");
    is_int(SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 0, "CLEAR_ALL");
}

static void test_prctl_misc(void)
{
    is_int(SC(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0), 1, "dumpable");
    is_int(SC(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0), 0, "PR_SET_DUMPABLE 0");
    is_int(SC(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0), 0, "reads 0");
    is_int(SC(SYS_prctl, PR_SET_DUMPABLE, 2, 0, 0, 0), -EINVAL, "PR_SET_DUMPABLE 2 is EINVAL");
    is_int(SC(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0), 0, "PR_SET_DUMPABLE 1");

    long slack = SC(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0);
    ok(slack > 0, "timer slack is positive (%ld)", slack);
    if (in_moat())
        is_int(slack, 50000, "sandbox: the default slack is 50 us");
    else
        skip("native", "sandbox: the default slack is 50 us");
    is_int(SC(SYS_prctl, PR_SET_TIMERSLACK, 123456, 0, 0, 0), 0, "PR_SET_TIMERSLACK");
    is_int(SC(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0), 123456, "reads it back");
    is_int(SC(SYS_prctl, PR_SET_TIMERSLACK, 0, 0, 0, 0), 0, "PR_SET_TIMERSLACK 0");
    is_int(SC(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0), slack, "restores the default");

    is_int(SC(SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0), 0, "THP not disabled");
    is_int(SC(SYS_prctl, PR_SET_THP_DISABLE, 1, 0, 0, 0), 0, "PR_SET_THP_DISABLE 1");
    is_int(SC(SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0, 0), 1, "reads 1");
    is_int(SC(SYS_prctl, PR_SET_THP_DISABLE, 0, 1, 0, 0), -EINVAL, "stray argument is EINVAL");
    is_int(SC(SYS_prctl, PR_GET_THP_DISABLE, 1, 0, 0, 0), -EINVAL, "GET with an argument too");
    is_int(SC(SYS_prctl, PR_SET_THP_DISABLE, 0, 0, 0, 0), 0, "PR_SET_THP_DISABLE 0");

    uint64_t orig = 0, now = 0;
    is_int(SC(SYS_prctl, PR_GET_TID_ADDRESS, &orig, 0, 0, 0), 0, "PR_GET_TID_ADDRESS");
    static int word;
    SC(SYS_set_tid_address, &word);
    SC(SYS_prctl, PR_GET_TID_ADDRESS, &now, 0, 0, 0);
    is_hex(now, (uintptr_t)&word, "it reads what set_tid_address set");
    SC(SYS_set_tid_address, (void *)(uintptr_t)orig);
    is_int(SC(SYS_prctl, PR_GET_TID_ADDRESS, NULL, 0, 0, 0), -EFAULT, "to NULL is EFAULT");

    is_int(SC(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0, "no_new_privs starts off");
    is_int(SC(SYS_prctl, PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), -EINVAL, "GET with an argument");
    is_int(SC(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), -EINVAL, "it cannot be set to 0");
    is_int(SC(SYS_prctl, 1000, 0, 0, 0, 0), -EINVAL, "an unknown option is EINVAL");
}

/* A file only its owner (root) may read. */
static char secret[64];

static void make_secret(void)
{
    char dir[] = "/tmp/moat-creds-XXXXXX";
    if (!mkdtemp(dir)) {
        secret[0] = '\0';
        return;
    }
    snprintf(secret, sizeof(secret), "%s/secret", dir);
    int fd = open(secret, O_CREAT | O_WRONLY, 0600);
    if (fd >= 0)
        close(fd);
}

static void drop_secret(void)
{
    if (!secret[0])
        return;
    unlink(secret);
    *strrchr(secret, '/') = '\0';
    rmdir(secret);
}

static void test_uids(void)
{
    unsigned r = 9, e = 9, s = 9;
    is_int(SC(SYS_getresuid, &r, &e, &s), 0, "getresuid");
    ok(r == 0 && e == 0 && s == 0, "root: 0 0 0");
    is_int(SC(SYS_getresuid, &r, NULL, &s), -EFAULT, "getresuid with a NULL pointer");

    is_int(SC(SYS_setresuid, -1, 1000, -1), 0, "setresuid(-1, 1000, -1)");
    SC(SYS_getresuid, &r, &e, &s);
    ok(r == 0 && e == 1000 && s == 0, "ids are 0 1000 0 (%u %u %u)", r, e, s);
    is_int(SC(SYS_geteuid), 1000, "geteuid");
    struct capsets c;
    caps_get(&c);
    is_hex(c.eff, 0, "leaving euid 0 empties the effective set");
    is_hex(c.prm, DEFAULT_CAPS, "permitted stays (real and saved uid are 0)");
    char v[64];
    status_field("Uid", v, sizeof(v));
    is_int(strcmp(v, "0\t1000\t0\t1000"), 0, "/proc/self/status Uid: %s", v);
    if (secret[0])
        is_int(SC(SYS_open, secret, O_RDONLY), -EACCES, "euid 1000 cannot read root's 0600 file");
    else
        skip("no /tmp", "euid 1000 cannot read root's 0600 file");
    is_int(SC(SYS_setresuid, -1, 0, -1), 0, "back to euid 0 through the saved uid");
    caps_get(&c);
    is_hex(c.eff, DEFAULT_CAPS, "effective comes back from permitted");
    if (secret[0]) {
        long fd = SC(SYS_open, secret, O_RDONLY);
        ok(fd >= 0, "root reads it again (%ld)", fd);
        if (fd >= 0)
            close((int)fd);
    }

    /* fsuid alone takes the file capabilities along. */
    is_int(SC(SYS_setfsuid, 1000), 0, "setfsuid(1000) returns the old fsuid");
    caps_get(&c);
    ok(!(c.eff & CAPBIT(CAP_DAC_OVERRIDE)) && !(c.eff & CAPBIT(CAP_CHOWN)),
       "fsuid 1000 drops the filesystem capabilities");
    ok(c.eff & CAPBIT(CAP_KILL), "but not the others");
    if (secret[0])
        is_int(SC(SYS_open, secret, O_RDONLY), -EACCES, "fsuid 1000 cannot read the file");
    else
        skip("no /tmp", "fsuid 1000 cannot read the file");
    is_int(SC(SYS_setfsuid, -1), 1000, "setfsuid(-1) only reads it");
    is_int(SC(SYS_setfsuid, 0), 1000, "setfsuid(0)");
    caps_get(&c);
    is_hex(c.eff, DEFAULT_CAPS, "fsuid 0 raises them again");

    is_int(SC(SYS_setuid, -1), -EINVAL, "setuid(-1) is EINVAL");
    is_int(SC(SYS_setreuid, -1, -1), 0, "setreuid(-1, -1) changes nothing");
    is_int(SC(SYS_setresuid, -1, -1, -1), 0, "setresuid(-1, -1, -1) changes nothing");

    /* Without CAP_SETUID only the current ids are allowed. */
    is_int(caps_set(DEFAULT_CAPS & ~CAPBIT(CAP_SETUID), DEFAULT_CAPS, 0), 0,
           "drop CAP_SETUID from effective");
    is_int(SC(SYS_setresuid, -1, 1000, -1), -EPERM, "then setresuid to 1000 is EPERM");
    is_int(SC(SYS_setuid, 1000), -EPERM, "and setuid(1000)");
    is_int(SC(SYS_setreuid, 1000, -1), -EPERM, "and setreuid(1000, -1)");
    is_int(SC(SYS_setuid, 0), 0, "setuid to the own uid is fine");
    is_int(SC(SYS_setfsuid, 1000), 0, "setfsuid(1000) is silently refused");
    is_int(SC(SYS_setfsuid, -1), 0, "fsuid is still 0");
    is_int(caps_set(DEFAULT_CAPS, DEFAULT_CAPS, 0), 0, "restore CAP_SETUID");
}

static void test_gids(void)
{
    unsigned r = 9, e = 9, s = 9;
    is_int(SC(SYS_setresgid, 10, 20, 30), 0, "setresgid(10, 20, 30)");
    SC(SYS_getresgid, &r, &e, &s);
    ok(r == 10 && e == 20 && s == 30, "getresgid: %u %u %u", r, e, s);
    is_int(SC(SYS_getegid), 20, "getegid");
    is_int(SC(SYS_setfsgid, -1), 20, "fsgid follows egid");
    is_int(caps_set(DEFAULT_CAPS & ~CAPBIT(CAP_SETGID), DEFAULT_CAPS, 0), 0,
           "drop CAP_SETGID from effective");
    is_int(SC(SYS_setgid, 40), -EPERM, "setgid to a foreign gid is EPERM");
    is_int(SC(SYS_setgid, 30), 0, "setgid to the saved gid is fine");
    SC(SYS_getresgid, &r, &e, &s);
    ok(r == 10 && e == 30 && s == 30, "only egid changed: %u %u %u", r, e, s);
    gid_t one = 5;
    is_int(SC(SYS_setgroups, 1, &one), -EPERM, "setgroups without CAP_SETGID");
    is_int(SC(SYS_setgroups, -1, &one), -EPERM, "EPERM comes before the size check");
    is_int(caps_set(DEFAULT_CAPS, DEFAULT_CAPS, 0), 0, "restore CAP_SETGID");
    is_int(SC(SYS_setresgid, 0, 0, 0), 0, "back to gid 0");

    gid_t set[3] = {300, 100, 200}, got[8] = {0};
    is_int(SC(SYS_setgroups, 3, set), 0, "setgroups of three");
    is_int(SC(SYS_getgroups, 0, NULL), 3, "getgroups counts them");
    is_int(SC(SYS_getgroups, 8, got), 3, "getgroups");
    ok(got[0] == 100 && got[1] == 200 && got[2] == 300, "sorted: %u %u %u", got[0], got[1], got[2]);
    char v[64];
    status_field("Groups", v, sizeof(v));
    is_int(strncmp(v, "100 200 300", 11), 0, "/proc/self/status Groups: %s", v);
    is_int(SC(SYS_setgroups, -1, set), -EINVAL, "setgroups(-1) is EINVAL");
    is_int(SC(SYS_setgroups, 65537, set), -EINVAL, "more than NGROUPS_MAX is EINVAL");
    is_int(SC(SYS_setgroups, 2, NULL), -EFAULT, "setgroups from NULL is EFAULT");
    is_int(SC(SYS_setgroups, 0, NULL), 0, "setgroups(0) clears them");
    is_int(SC(SYS_getgroups, 0, NULL), 0, "none left");
}

/* Irreversible: last. */
static void test_leaving_root(void)
{
    is_int(SC(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0, "PR_SET_NO_NEW_PRIVS");
    is_int(SC(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1, "reads 1");
    is_int(SC(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), -EINVAL, "stray argument is EINVAL");

    is_int(SC(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0), 0, "keepcaps on");
    is_int(SC(SYS_setresuid, 1000, 1000, 1000), 0, "leave root for good (keepcaps)");
    struct capsets c;
    caps_get(&c);
    is_hex(c.prm, DEFAULT_CAPS, "keepcaps kept permitted");
    is_hex(c.eff, 0, "but not effective");
    is_int(SC(SYS_setuid, 0), -EPERM, "setuid(0) is EPERM now");
    is_int(caps_set(DEFAULT_CAPS, DEFAULT_CAPS, 0), 0, "effective raised from permitted");
    is_int(SC(SYS_setuid, 0), 0, "with CAP_SETUID setuid(0) works again");
    unsigned r, e, s;
    SC(SYS_getresuid, &r, &e, &s);
    ok(r == 0 && e == 0 && s == 0, "all ids 0 again: %u %u %u", r, e, s);

    is_int(SC(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0), 0, "keepcaps off");
    is_int(SC(SYS_setuid, 1000), 0, "setuid(1000) as root sets all three");
    SC(SYS_getresuid, &r, &e, &s);
    ok(r == 1000 && e == 1000 && s == 1000, "ids: %u %u %u", r, e, s);
    caps_get(&c);
    ok(c.eff == 0 && c.prm == 0 && c.inh == 0, "no capabilities at all");
    is_int(caps_set(0, CAPBIT(CAP_KILL), 0), -EPERM, "and none to get back");
    is_int(SC(SYS_setuid, 0), -EPERM, "setuid(0) is EPERM");
    is_int(SC(SYS_setfsuid, 0), 1000, "setfsuid(0) is refused");
    is_int(SC(SYS_setfsuid, -1), 1000, "fsuid stays 1000");
}

int main(void)
{
    caps_get(&initial);
    initial_bounding = bounding_set();
    caps_require_default();
    test_initial_set();
    test_capget();
    test_capset();
    test_prctl_caps();
    test_prctl_misc();
    make_secret();
    test_uids();
    test_gids();
    drop_secret();
    test_leaving_root();
    done_testing();
}
