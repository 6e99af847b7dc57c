/* Sockets as the guest sees them: address families, socket types, MSG_*
 * flags, SOL_SOCKET options, control messages and the structs exchanged
 * through guest memory (x86-64 layouts). */
#ifndef MOAT_ABI_SOCKET_H
#define MOAT_ABI_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "abi/flags.h"
#include "abi/types.h"

/* Address families. */
#define ABI_AF_UNSPEC  0
#define ABI_AF_UNIX    1
#define ABI_AF_INET    2
#define ABI_AF_INET6   10
#define ABI_AF_NETLINK 16
#define ABI_AF_PACKET  17
#define ABI_AF_MAX     46

/* Socket types, and the flags socket(2) accepts in the same argument. */
#define ABI_SOCK_STREAM    1
#define ABI_SOCK_DGRAM     2
#define ABI_SOCK_RAW       3
#define ABI_SOCK_RDM       4
#define ABI_SOCK_SEQPACKET 5
#define ABI_SOCK_PACKET    10
#define ABI_SOCK_TYPE_MASK 0xf
#define ABI_SOCK_NONBLOCK  ABI_O_NONBLOCK
#define ABI_SOCK_CLOEXEC   ABI_O_CLOEXEC

/* send/recv flags. */
#define ABI_MSG_OOB          0x1
#define ABI_MSG_PEEK         0x2
#define ABI_MSG_DONTROUTE    0x4
#define ABI_MSG_CTRUNC       0x8
#define ABI_MSG_TRUNC        0x20
#define ABI_MSG_DONTWAIT     0x40
#define ABI_MSG_EOR          0x80
#define ABI_MSG_WAITALL      0x100
#define ABI_MSG_ERRQUEUE     0x2000
#define ABI_MSG_NOSIGNAL     0x4000
#define ABI_MSG_MORE         0x8000
#define ABI_MSG_WAITFORONE   0x10000
#define ABI_MSG_CMSG_CLOEXEC 0x40000000

/* shutdown(2) */
#define ABI_SHUT_RD   0
#define ABI_SHUT_WR   1
#define ABI_SHUT_RDWR 2

/* Socket-level options. */
#define ABI_SOL_SOCKET     1
#define ABI_SO_DEBUG       1
#define ABI_SO_REUSEADDR   2
#define ABI_SO_TYPE        3
#define ABI_SO_ERROR       4
#define ABI_SO_DONTROUTE   5
#define ABI_SO_BROADCAST   6
#define ABI_SO_SNDBUF      7
#define ABI_SO_RCVBUF      8
#define ABI_SO_KEEPALIVE   9
#define ABI_SO_OOBINLINE   10
#define ABI_SO_PRIORITY    12
#define ABI_SO_LINGER      13
#define ABI_SO_REUSEPORT   15
#define ABI_SO_PASSCRED    16
#define ABI_SO_PEERCRED    17
#define ABI_SO_RCVLOWAT    18
#define ABI_SO_SNDLOWAT    19
#define ABI_SO_RCVTIMEO    20
#define ABI_SO_SNDTIMEO    21
#define ABI_SO_ACCEPTCONN  30
#define ABI_SO_SNDBUFFORCE 32
#define ABI_SO_RCVBUFFORCE 33
#define ABI_SO_PROTOCOL    38
#define ABI_SO_DOMAIN      39

/* Control messages at SOL_SOCKET. */
#define ABI_SCM_RIGHTS      1
#define ABI_SCM_CREDENTIALS 2
/* At most this many fds per SCM_RIGHTS message (Linux's SCM_MAX_FD). */
#define ABI_SCM_MAX_FD 253

/* listen(2)'s backlog is clamped to net.core.somaxconn. */
#define ABI_SOMAXCONN 4096

/* ioctls on sockets: bytes waiting to be read, bytes not yet read by the
 * peer. */
#define ABI_SIOCINQ  ABI_FIONREAD
#define ABI_SIOCOUTQ 0x5411

struct abi_sockaddr_un {
    uint16_t sun_family;
    char sun_path[108];
};
_Static_assert(sizeof(struct abi_sockaddr_un) == 110, "sockaddr_un");
#define ABI_SUN_PATH_OFFSET offsetof(struct abi_sockaddr_un, sun_path)
/* sockaddr_storage: the most any address may take. */
#define ABI_SOCKADDR_MAX 128

struct abi_msghdr {
    uint64_t msg_name;
    uint32_t msg_namelen;
    uint32_t pad0;
    uint64_t msg_iov;
    uint64_t msg_iovlen;
    uint64_t msg_control;
    uint64_t msg_controllen;
    int32_t msg_flags;
    uint32_t pad1;
};
_Static_assert(sizeof(struct abi_msghdr) == 56, "msghdr");

struct abi_mmsghdr {
    struct abi_msghdr msg_hdr;
    uint32_t msg_len;
    uint32_t pad;
};
_Static_assert(sizeof(struct abi_mmsghdr) == 64, "mmsghdr");

struct abi_cmsghdr {
    uint64_t cmsg_len;
    int32_t cmsg_level;
    int32_t cmsg_type;
};
_Static_assert(sizeof(struct abi_cmsghdr) == 16, "cmsghdr");
/* CMSG_ALIGN, CMSG_LEN and CMSG_SPACE for 64-bit guests. */
#define ABI_CMSG_ALIGN(n) (((n) + 7) & ~(uint64_t)7)
#define ABI_CMSG_LEN(n)   (sizeof(struct abi_cmsghdr) + (n))
#define ABI_CMSG_SPACE(n) (sizeof(struct abi_cmsghdr) + ABI_CMSG_ALIGN(n))

struct abi_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};
_Static_assert(sizeof(struct abi_ucred) == 12, "ucred");

struct abi_linger {
    int32_t l_onoff;
    int32_t l_linger;
};

#endif
