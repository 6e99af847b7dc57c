/*
 * The capability set a sandbox's root starts with (Docker's and runc's
 * default set, docs/security.md), and a way for a test to put itself in
 * that state natively, so that a root run on the host and a run in the
 * sandbox answer alike. Dropping capabilities changes the calling process
 * only.
 */
#ifndef MOAT_TESTS_SYSCALLS_DEFAULT_CAPS_H
#define MOAT_TESTS_SYSCALLS_DEFAULT_CAPS_H

#include <linux/capability.h>
#include <stdint.h>
#include <sys/prctl.h>

#include "tests/syscalls/tap.h"

#define CAPBIT(c) (1ULL << (c))
#define DEFAULT_CAPS                                                                               \
    (CAPBIT(CAP_CHOWN) | CAPBIT(CAP_DAC_OVERRIDE) | CAPBIT(CAP_FSETID) | CAPBIT(CAP_FOWNER) |      \
     CAPBIT(CAP_MKNOD) | CAPBIT(CAP_NET_RAW) | CAPBIT(CAP_SETGID) | CAPBIT(CAP_SETUID) |           \
     CAPBIT(CAP_SETFCAP) | CAPBIT(CAP_SETPCAP) | CAPBIT(CAP_NET_BIND_SERVICE) |                    \
     CAPBIT(CAP_SYS_CHROOT) | CAPBIT(CAP_KILL) | CAPBIT(CAP_AUDIT_WRITE))
#define LAST_CAP 40

struct capsets {
    uint64_t eff, prm, inh;
};

static inline long caps_get(struct capsets *s)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    long r = SC(SYS_capget, &h, d);
    s->eff = d[0].effective | (uint64_t)d[1].effective << 32;
    s->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
    s->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
    return r;
}

static inline long caps_set(uint64_t eff, uint64_t prm, uint64_t inh)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
        {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)},
    };
    return SC(SYS_capset, &h, d);
}

/* Whether the process holds at least the default set; if so, reduce the
 * bounding, permitted, effective and inheritable sets to exactly what the
 * sandbox's root starts with. */
static inline int caps_normalize(void)
{
    struct capsets s;
    if (caps_get(&s) != 0 || (s.eff & DEFAULT_CAPS) != DEFAULT_CAPS)
        return 0;
    for (int c = 0; c <= LAST_CAP; c++) {
        if (!(DEFAULT_CAPS & CAPBIT(c)) && SC(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
            return 0;
    }
    SC(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    return caps_set(DEFAULT_CAPS, DEFAULT_CAPS, 0) == 0;
}

/* A test that needs root's default capabilities and cannot have them
 * (natively, as another user) skips as a whole. */
static inline void caps_require_default(void)
{
    if (!caps_normalize()) {
        tap_printf("1..0 # SKIP needs root with at least the container default capabilities\n");
        exit(0);
    }
}

#endif
