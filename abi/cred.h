/* Credentials, capabilities and scheduling as the guest sees them:
 * capget/capset headers and sets, capability numbers, securebits,
 * scheduling policies, priorities, personality. */
#ifndef MOAT_ABI_CRED_H
#define MOAT_ABI_CRED_H

#include <stdint.h>

#include "abi/flags.h"

/* ---- capget / capset ---- */
#define ABI_LINUX_CAPABILITY_VERSION_1 0x19980330u /* one 32-bit word per set */
#define ABI_LINUX_CAPABILITY_VERSION_2 0x20071026u /* two words; deprecated */
#define ABI_LINUX_CAPABILITY_VERSION_3 0x20080522u /* two words */

struct abi_cap_header {
    uint32_t version;
    int32_t pid;
};
_Static_assert(sizeof(struct abi_cap_header) == 8, "__user_cap_header_struct");

struct abi_cap_data {
    uint32_t effective;
    uint32_t permitted;
    uint32_t inheritable;
};
_Static_assert(sizeof(struct abi_cap_data) == 12, "__user_cap_data_struct");

/* ---- capability numbers ---- */
#define ABI_CAP_CHOWN              0
#define ABI_CAP_DAC_OVERRIDE       1
#define ABI_CAP_DAC_READ_SEARCH    2
#define ABI_CAP_FOWNER             3
#define ABI_CAP_FSETID             4
#define ABI_CAP_KILL               5
#define ABI_CAP_SETGID             6
#define ABI_CAP_SETUID             7
#define ABI_CAP_SETPCAP            8
#define ABI_CAP_LINUX_IMMUTABLE    9
#define ABI_CAP_NET_BIND_SERVICE   10
#define ABI_CAP_NET_BROADCAST      11
#define ABI_CAP_NET_ADMIN          12
#define ABI_CAP_NET_RAW            13
#define ABI_CAP_IPC_LOCK           14
#define ABI_CAP_IPC_OWNER          15
#define ABI_CAP_SYS_MODULE         16
#define ABI_CAP_SYS_RAWIO          17
#define ABI_CAP_SYS_CHROOT         18
#define ABI_CAP_SYS_PTRACE         19
#define ABI_CAP_SYS_PACCT          20
#define ABI_CAP_SYS_ADMIN          21
#define ABI_CAP_SYS_BOOT           22
#define ABI_CAP_SYS_NICE           23
#define ABI_CAP_SYS_RESOURCE       24
#define ABI_CAP_SYS_TIME           25
#define ABI_CAP_SYS_TTY_CONFIG     26
#define ABI_CAP_MKNOD              27
#define ABI_CAP_LEASE              28
#define ABI_CAP_AUDIT_WRITE        29
#define ABI_CAP_AUDIT_CONTROL      30
#define ABI_CAP_SETFCAP            31
#define ABI_CAP_MAC_OVERRIDE       32
#define ABI_CAP_MAC_ADMIN          33
#define ABI_CAP_SYSLOG             34
#define ABI_CAP_WAKE_ALARM         35
#define ABI_CAP_BLOCK_SUSPEND      36
#define ABI_CAP_AUDIT_READ         37
#define ABI_CAP_PERFMON            38
#define ABI_CAP_BPF                39
#define ABI_CAP_CHECKPOINT_RESTORE 40
#define ABI_CAP_LAST_CAP           ABI_CAP_CHECKPOINT_RESTORE
#define ABI_CAP_VALID_MASK         ((1ULL << (ABI_CAP_LAST_CAP + 1)) - 1)
#define ABI_CAP_BIT(cap)           (1ULL << (cap))

/* ---- securebits (prctl PR_SET_SECUREBITS); each bit has a lock bit
 * just above it ---- */
#define ABI_SECBIT_NOROOT                      (1u << 0)
#define ABI_SECBIT_NOROOT_LOCKED               (1u << 1)
#define ABI_SECBIT_NO_SETUID_FIXUP             (1u << 2)
#define ABI_SECBIT_NO_SETUID_FIXUP_LOCKED      (1u << 3)
#define ABI_SECBIT_KEEP_CAPS                   (1u << 4)
#define ABI_SECBIT_KEEP_CAPS_LOCKED            (1u << 5)
#define ABI_SECBIT_NO_CAP_AMBIENT_RAISE        (1u << 6)
#define ABI_SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED (1u << 7)
#define ABI_SECURE_ALL_BITS                                                                        \
    (ABI_SECBIT_NOROOT | ABI_SECBIT_NO_SETUID_FIXUP | ABI_SECBIT_KEEP_CAPS |                       \
     ABI_SECBIT_NO_CAP_AMBIENT_RAISE)
#define ABI_SECURE_ALL_LOCKS (ABI_SECURE_ALL_BITS << 1)

/* prctl(PR_SET_DUMPABLE) values. */
#define ABI_SUID_DUMP_DISABLE 0
#define ABI_SUID_DUMP_USER    1

/* The default timer slack of a task (prctl PR_GET_TIMERSLACK), in ns. */
#define ABI_DEFAULT_TIMER_SLACK_NS 50000

/* setgroups' bound on the supplementary group list. */
#define ABI_NGROUPS_MAX 65536

/* ---- scheduling (policies: abi/flags.h) ---- */
#define ABI_MAX_RT_PRIO 100 /* real-time priorities are 1..99 */
/* SCHED_RR's time slice (RR_TIMESLICE: 100 ms). */
#define ABI_RR_TIMESLICE_NS 100000000LL

/* ---- getpriority / setpriority ---- */
#define ABI_PRIO_PROCESS 0
#define ABI_PRIO_PGRP    1
#define ABI_PRIO_USER    2
#define ABI_MIN_NICE     (-20)
#define ABI_MAX_NICE     19

/* ---- personality ---- */
#define ABI_PER_LINUX         0x0000
#define ABI_PER_MASK          0x00ff
#define ABI_ADDR_NO_RANDOMIZE 0x0040000
#define ABI_PERSONALITY_QUERY 0xffffffffu

/* times(2) and the tms fields count clock ticks of USER_HZ. */
#define ABI_USER_HZ 100

#endif
