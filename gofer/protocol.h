/* The Sentry <-> Gofer wire protocol: message ids, body layouts, and the
 * strict encoder/decoder both sides use. docs/gofer-protocol.md is the prose
 * version of this file; keep them in step. */
#ifndef MOAT_GOFER_PROTOCOL_H
#define MOAT_GOFER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define GOFER_MAX_MSG   65536u /* whole message, header included */
#define GOFER_HDR_SIZE  8u     /* u32 size, u16 type, u16 reserved */
#define GOFER_MAX_NAME  255u
#define GOFER_MAX_NAMES 64u /* names in one WALK, ids in one CLOSE */
#define GOFER_RESP_BIT  0x8000u

enum gofer_msg_type {
    GOFER_MSG_MOUNT = 1,
    GOFER_MSG_WALK = 2,
    GOFER_MSG_STAT = 3,
    GOFER_MSG_SETSTAT = 4,
    GOFER_MSG_OPEN = 5,
    GOFER_MSG_CREATE = 6,
    GOFER_MSG_MKDIR = 7,
    GOFER_MSG_MKNOD = 8,
    GOFER_MSG_SYMLINK = 9,
    GOFER_MSG_LINK = 10,
    GOFER_MSG_UNLINK = 11,
    GOFER_MSG_RENAME = 12,
    GOFER_MSG_READLINK = 13,
    GOFER_MSG_GETDENTS64 = 14,
    GOFER_MSG_STATFS = 15,
    GOFER_MSG_FSYNC = 16,
    GOFER_MSG_ALLOCATE = 17,
    GOFER_MSG_GETXATTR = 18,
    GOFER_MSG_SETXATTR = 19,
    GOFER_MSG_LISTXATTR = 20,
    GOFER_MSG_REMOVEXATTR = 21,
    GOFER_MSG_CLOSE = 22,
    GOFER_MSG_CONNECT = 23,
    GOFER_MSG_COUNT, /* one past the last request type */
    GOFER_MSG_ERROR = 0xffff,
};

/* SETSTAT mask bits: which fields of the request apply. */
#define GOFER_SETSTAT_MODE  0x01u
#define GOFER_SETSTAT_UID   0x02u
#define GOFER_SETSTAT_GID   0x04u
#define GOFER_SETSTAT_SIZE  0x08u
#define GOFER_SETSTAT_ATIME 0x10u
#define GOFER_SETSTAT_MTIME 0x20u
#define GOFER_SETSTAT_ALL   0x3fu

/* Time nanosecond values with utimensat's meaning (Linux's values, fixed by
 * the protocol rather than taken from a header). */
#define GOFER_UTIME_NOW  ((1u << 30) - 1u)
#define GOFER_UTIME_OMIT ((1u << 30) - 2u)

/* Why a WALK stopped before the last name (0: it did not). */
enum gofer_walk_stop {
    GOFER_WALK_DONE = 0,
    GOFER_WALK_MISSING = 1, /* the next name does not exist */
    GOFER_WALK_SYMLINK = 2, /* the last walked node is a symlink */
    GOFER_WALK_NOTDIR = 3,  /* the last walked node is not a directory */
};

/* Flags of UNLINK and RENAME, the protocol's own values. */
#define GOFER_UNLINK_REMOVEDIR 0x1u
#define GOFER_RENAME_NOREPLACE 0x1u
#define GOFER_RENAME_EXCHANGE  0x2u

/* OPEN / CREATE flags: the protocol's own values, translated by the server. */
#define GOFER_O_RDONLY  0x0u
#define GOFER_O_WRONLY  0x1u
#define GOFER_O_RDWR    0x2u
#define GOFER_O_ACCMODE 0x3u
#define GOFER_O_TRUNC   0x10u
#define GOFER_O_APPEND  0x20u
#define GOFER_O_EXCL    0x40u /* CREATE only */
#define GOFER_O_SYNC    0x80u
#define GOFER_O_DSYNC   0x100u
#define GOFER_O_DIRECT  0x200u
#define GOFER_O_ALL     0x3f3u

/* Attributes of one node, as the host reports them. Encoded as 100 bytes:
 * dev, ino, nlink, rdev, size, blocks (u64 each), mode, uid, gid, blksize
 * (u32 each), atime_sec, mtime_sec, ctime_sec (i64 each), atime_nsec,
 * mtime_nsec, ctime_nsec (u32 each). */
#define GOFER_STAT_SIZE 100u
struct gofer_stat {
    uint64_t dev, ino, nlink, rdev, size, blocks;
    uint32_t mode, uid, gid, blksize;
    int64_t atime_sec, mtime_sec, ctime_sec;
    uint32_t atime_nsec, mtime_nsec, ctime_nsec;
};

struct gofer_node {
    uint64_t id;
    struct gofer_stat stat;
};

/* A byte string inside a message buffer (not NUL-terminated). */
struct gofer_bytes {
    const uint8_t *ptr;
    uint32_t len;
};

/* Every body is a sequence of fields of these kinds, in the order the
 * per-type layout table (proto.c, gofer_layout) lists them. */
enum gofer_field {
    GOFER_F_END = 0,
    GOFER_F_U32,   /* -> num[] */
    GOFER_F_U64,   /* -> num[] */
    GOFER_F_NAME,  /* u32 len + bytes, a valid path component -> str[] */
    GOFER_F_BYTES, /* u32 len + bytes, any content -> str[] */
    GOFER_F_NAMES, /* u32 count + count NAME -> names[] */
    GOFER_F_IDS,   /* u32 count + count u64 -> ids[] */
    GOFER_F_NODE,  /* u64 id + stat -> nodes[] */
    GOFER_F_NODES, /* u32 count + count NODE -> nodes[] */
};

#define GOFER_MAX_NUMS   12u
#define GOFER_MAX_STRS   2u
#define GOFER_MAX_FIELDS 12u

/* A decoded (or to-be-encoded) message. Strings point into the buffer the
 * message was decoded from. */
struct gofer_msg {
    uint16_t type; /* request type, type|GOFER_RESP_BIT, or GOFER_MSG_ERROR */
    int32_t err;   /* GOFER_MSG_ERROR only: a positive errno */
    uint64_t num[GOFER_MAX_NUMS];
    struct gofer_bytes str[GOFER_MAX_STRS];
    uint32_t nnames;
    struct gofer_bytes names[GOFER_MAX_NAMES];
    uint32_t nids;
    uint64_t ids[GOFER_MAX_NAMES];
    uint32_t nnodes;
    struct gofer_node nodes[GOFER_MAX_NAMES];
};

/* The layout of a type's body, GOFER_F_END-terminated; NULL for an unknown
 * type. Works for request types, response types and GOFER_MSG_ERROR. */
const uint8_t *gofer_layout(uint16_t type);

/* Name of a request type for logs and docs; "?" when unknown. */
const char *gofer_msg_name(uint16_t type);

/* 0 when name is a valid single path component, else -EINVAL
 * (-ENAMETOOLONG when longer than GOFER_MAX_NAME). */
int gofer_check_name(const uint8_t *name, size_t len);

/* Encodes m into buf; returns the message size or -errno (-EMSGSIZE when it
 * would exceed cap or GOFER_MAX_MSG, gofer_check_name's error for a bad
 * name, -EINVAL for unknown types or counts over GOFER_MAX_NAMES). */
int gofer_encode(const struct gofer_msg *m, void *buf, size_t cap);

/* Strictly decodes one whole message: the header's size must equal len,
 * reserved must be 0, every field must fit, names must be valid and no byte
 * may trail. Returns 0 or -EINVAL / -EMSGSIZE / -ENAMETOOLONG / -ENOSYS
 * (unknown type). */
int gofer_decode(const void *buf, size_t len, struct gofer_msg *m);

/* Convenience for the common reply. */
int gofer_encode_error(int err, void *buf, size_t cap);

#endif
