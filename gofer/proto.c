/* Encoder and strict decoder of Gofer messages. Pure functions over
 * buffers: no fds, no allocation, so the fuzzer can drive them directly. */
#include "gofer/protocol.h"

#include <errno.h>
#include <string.h>

enum { U32 = GOFER_F_U32, U64 = GOFER_F_U64, NAME = GOFER_F_NAME, BYTES = GOFER_F_BYTES };
enum { NAMES = GOFER_F_NAMES, IDS = GOFER_F_IDS, NODE = GOFER_F_NODE, NODES = GOFER_F_NODES };

/* Request layouts, indexed by type. The comment names each field in order. */
static const uint8_t req_layout[GOFER_MSG_COUNT][GOFER_MAX_FIELDS] = {
    [GOFER_MSG_MOUNT] = {0},
    [GOFER_MSG_WALK] = {U64, NAMES}, /* dir, names */
    [GOFER_MSG_STAT] = {U64},        /* id */
    [GOFER_MSG_SETSTAT] = {U64, U32, U32, U32, U32, U64, U64, U32, U64, U32},
    /* id, mask, mode, uid, gid, size, atime_sec, atime_nsec, mtime_sec, mtime_nsec */
    [GOFER_MSG_OPEN] = {U64, U32},                        /* id, flags */
    [GOFER_MSG_CREATE] = {U64, NAME, U32, U32, U32, U32}, /* dir, name, flags, mode, uid, gid */
    [GOFER_MSG_MKDIR] = {U64, NAME, U32, U32, U32},       /* dir, name, mode, uid, gid */
    [GOFER_MSG_MKNOD] = {U64, NAME, U32, U32, U32},       /* dir, name, mode, uid, gid */
    [GOFER_MSG_SYMLINK] = {U64, NAME, BYTES, U32, U32},   /* dir, name, target, uid, gid */
    [GOFER_MSG_LINK] = {U64, NAME, U64},                  /* dir, name, target id */
    [GOFER_MSG_UNLINK] = {U64, NAME, U32},                /* dir, name, flags */
    [GOFER_MSG_RENAME] = {U64, NAME, U64, NAME, U32},     /* olddir, old, newdir, new, flags */
    [GOFER_MSG_READLINK] = {U64},                         /* id */
    [GOFER_MSG_GETDENTS64] = {U64, U64, U32},             /* dir, cookie, max bytes */
    [GOFER_MSG_STATFS] = {U64},                           /* id */
    [GOFER_MSG_FSYNC] = {U64, U32},                       /* id, datasync */
    [GOFER_MSG_ALLOCATE] = {U64, U32, U64, U64},          /* id, mode, offset, length */
    [GOFER_MSG_GETXATTR] = {U64, BYTES, U32},             /* id, name, size */
    [GOFER_MSG_SETXATTR] = {U64, BYTES, BYTES, U32},      /* id, name, value, flags */
    [GOFER_MSG_LISTXATTR] = {U64, U32},                   /* id, size */
    [GOFER_MSG_REMOVEXATTR] = {U64, BYTES},               /* id, name */
    [GOFER_MSG_CLOSE] = {IDS},                            /* ids */
    [GOFER_MSG_CONNECT] = {U64, U32},                     /* id, socket type */
};

static const uint8_t resp_layout[GOFER_MSG_COUNT][GOFER_MAX_FIELDS] = {
    [GOFER_MSG_MOUNT] = {NODE},
    [GOFER_MSG_WALK] = {U32, NODES}, /* stop reason, walked nodes */
    [GOFER_MSG_STAT] = {NODE},
    [GOFER_MSG_SETSTAT] = {NODE},
    [GOFER_MSG_OPEN] = {0},      /* + one fd */
    [GOFER_MSG_CREATE] = {NODE}, /* + one fd */
    [GOFER_MSG_MKDIR] = {NODE},
    [GOFER_MSG_MKNOD] = {NODE},
    [GOFER_MSG_SYMLINK] = {NODE},
    [GOFER_MSG_LINK] = {NODE},
    [GOFER_MSG_UNLINK] = {0},
    [GOFER_MSG_RENAME] = {0},
    [GOFER_MSG_READLINK] = {BYTES},
    [GOFER_MSG_GETDENTS64] = {U64, BYTES}, /* next cookie, packed dirents */
    [GOFER_MSG_STATFS] = {U64, U64, U64, U64, U64, U64, U64, U64, U64},
    /* type, bsize, blocks, bfree, bavail, files, ffree, namelen, frsize */
    [GOFER_MSG_FSYNC] = {0},
    [GOFER_MSG_ALLOCATE] = {0},
    [GOFER_MSG_GETXATTR] = {U32, BYTES}, /* full size, value */
    [GOFER_MSG_SETXATTR] = {0},
    [GOFER_MSG_LISTXATTR] = {U32, BYTES}, /* full size, names */
    [GOFER_MSG_REMOVEXATTR] = {0},
    [GOFER_MSG_CLOSE] = {0},
    [GOFER_MSG_CONNECT] = {0}, /* + one fd */
};

static const uint8_t error_layout[GOFER_MAX_FIELDS] = {U32};

static const char *const names[GOFER_MSG_COUNT] = {
    [GOFER_MSG_MOUNT] = "MOUNT",
    [GOFER_MSG_WALK] = "WALK",
    [GOFER_MSG_STAT] = "STAT",
    [GOFER_MSG_SETSTAT] = "SETSTAT",
    [GOFER_MSG_OPEN] = "OPEN",
    [GOFER_MSG_CREATE] = "CREATE",
    [GOFER_MSG_MKDIR] = "MKDIR",
    [GOFER_MSG_MKNOD] = "MKNOD",
    [GOFER_MSG_SYMLINK] = "SYMLINK",
    [GOFER_MSG_LINK] = "LINK",
    [GOFER_MSG_UNLINK] = "UNLINK",
    [GOFER_MSG_RENAME] = "RENAME",
    [GOFER_MSG_READLINK] = "READLINK",
    [GOFER_MSG_GETDENTS64] = "GETDENTS64",
    [GOFER_MSG_STATFS] = "STATFS",
    [GOFER_MSG_FSYNC] = "FSYNC",
    [GOFER_MSG_ALLOCATE] = "ALLOCATE",
    [GOFER_MSG_GETXATTR] = "GETXATTR",
    [GOFER_MSG_SETXATTR] = "SETXATTR",
    [GOFER_MSG_LISTXATTR] = "LISTXATTR",
    [GOFER_MSG_REMOVEXATTR] = "REMOVEXATTR",
    [GOFER_MSG_CLOSE] = "CLOSE",
    [GOFER_MSG_CONNECT] = "CONNECT",
};

const uint8_t *gofer_layout(uint16_t type)
{
    if (type == GOFER_MSG_ERROR)
        return error_layout;
    uint16_t base = type & (uint16_t)~GOFER_RESP_BIT;
    if (base == 0 || base >= GOFER_MSG_COUNT)
        return NULL;
    return (type & GOFER_RESP_BIT) ? resp_layout[base] : req_layout[base];
}

const char *gofer_msg_name(uint16_t type)
{
    uint16_t base = type & (uint16_t)~GOFER_RESP_BIT;
    if (type == GOFER_MSG_ERROR)
        return "ERROR";
    if (base == 0 || base >= GOFER_MSG_COUNT)
        return "?";
    return names[base];
}

int gofer_check_name(const uint8_t *name, size_t len)
{
    if (len == 0)
        return -EINVAL;
    if (len > GOFER_MAX_NAME)
        return -ENAMETOOLONG;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return -EINVAL;
    if (memchr(name, '/', len) || memchr(name, '\0', len))
        return -EINVAL;
    return 0;
}

/* ---- encoding ---- */

struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int err;
};

static void put(struct wbuf *w, const void *src, size_t n)
{
    if (w->err)
        return;
    if (n > w->cap - w->len) {
        w->err = -EMSGSIZE;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_le(struct wbuf *w, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, bytes);
}

static void put_bytes(struct wbuf *w, struct gofer_bytes s)
{
    put_le(w, s.len, 4);
    if (s.len)
        put(w, s.ptr, s.len);
}

static void put_node(struct wbuf *w, const struct gofer_node *n)
{
    const struct gofer_stat *s = &n->stat;
    put_le(w, n->id, 8);
    put_le(w, s->dev, 8);
    put_le(w, s->ino, 8);
    put_le(w, s->nlink, 8);
    put_le(w, s->rdev, 8);
    put_le(w, s->size, 8);
    put_le(w, s->blocks, 8);
    put_le(w, s->mode, 4);
    put_le(w, s->uid, 4);
    put_le(w, s->gid, 4);
    put_le(w, s->blksize, 4);
    put_le(w, (uint64_t)s->atime_sec, 8);
    put_le(w, (uint64_t)s->mtime_sec, 8);
    put_le(w, (uint64_t)s->ctime_sec, 8);
    put_le(w, s->atime_nsec, 4);
    put_le(w, s->mtime_nsec, 4);
    put_le(w, s->ctime_nsec, 4);
}

int gofer_encode(const struct gofer_msg *m, void *buf, size_t cap)
{
    const uint8_t *lay = gofer_layout(m->type);
    if (!lay)
        return -EINVAL;
    struct wbuf w = {.p = buf, .cap = cap < GOFER_MAX_MSG ? cap : GOFER_MAX_MSG};
    put_le(&w, 0, 4); /* size, patched below */
    put_le(&w, m->type, 2);
    put_le(&w, 0, 2);
    if (m->type == GOFER_MSG_ERROR) {
        put_le(&w, (uint32_t)m->err, 4);
        goto done;
    }
    unsigned ni = 0, si = 0;
    int bad;
    for (unsigned f = 0; f < GOFER_MAX_FIELDS && lay[f] != GOFER_F_END; f++) {
        switch (lay[f]) {
        case GOFER_F_U32:
            put_le(&w, m->num[ni++], 4);
            break;
        case GOFER_F_U64:
            put_le(&w, m->num[ni++], 8);
            break;
        case GOFER_F_NAME:
            if ((bad = gofer_check_name(m->str[si].ptr, m->str[si].len)))
                return bad;
            put_bytes(&w, m->str[si++]);
            break;
        case GOFER_F_BYTES:
            put_bytes(&w, m->str[si++]);
            break;
        case GOFER_F_NAMES:
            if (m->nnames > GOFER_MAX_NAMES)
                return -EINVAL;
            put_le(&w, m->nnames, 4);
            for (uint32_t i = 0; i < m->nnames; i++) {
                if ((bad = gofer_check_name(m->names[i].ptr, m->names[i].len)))
                    return bad;
                put_bytes(&w, m->names[i]);
            }
            break;
        case GOFER_F_IDS:
            if (m->nids > GOFER_MAX_NAMES)
                return -EINVAL;
            put_le(&w, m->nids, 4);
            for (uint32_t i = 0; i < m->nids; i++)
                put_le(&w, m->ids[i], 8);
            break;
        case GOFER_F_NODE:
            put_node(&w, &m->nodes[0]);
            break;
        case GOFER_F_NODES:
            if (m->nnodes > GOFER_MAX_NAMES)
                return -EINVAL;
            put_le(&w, m->nnodes, 4);
            for (uint32_t i = 0; i < m->nnodes; i++)
                put_node(&w, &m->nodes[i]);
            break;
        }
    }
done:
    if (w.err)
        return w.err;
    uint8_t *p = buf;
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(w.len >> (8 * i));
    return (int)w.len;
}

int gofer_encode_error(int err, void *buf, size_t cap)
{
    struct gofer_msg m = {.type = GOFER_MSG_ERROR, .err = err < 0 ? -err : err};
    return gofer_encode(&m, buf, cap);
}

/* ---- decoding ---- */

struct rbuf {
    const uint8_t *p;
    size_t off, len;
};

static int get_le(struct rbuf *r, unsigned bytes, uint64_t *v)
{
    if (bytes > r->len - r->off)
        return -EINVAL;
    uint64_t x = 0;
    for (unsigned i = 0; i < bytes; i++)
        x |= (uint64_t)r->p[r->off + i] << (8 * i);
    r->off += bytes;
    *v = x;
    return 0;
}

static int get_bytes(struct rbuf *r, struct gofer_bytes *s)
{
    uint64_t n;
    if (get_le(r, 4, &n) || n > r->len - r->off)
        return -EINVAL;
    s->ptr = r->p + r->off;
    s->len = (uint32_t)n;
    r->off += n;
    return 0;
}

static int get_count(struct rbuf *r, uint32_t *count)
{
    uint64_t n;
    if (get_le(r, 4, &n))
        return -EINVAL;
    if (n > GOFER_MAX_NAMES)
        return -E2BIG;
    *count = (uint32_t)n;
    return 0;
}

static int get_node(struct rbuf *r, struct gofer_node *n)
{
    struct gofer_stat *s = &n->stat;
    uint64_t v[16];
    static const unsigned width[16] = {8, 8, 8, 8, 8, 8, 8, 4, 4, 4, 4, 8, 8, 8, 4, 4};
    /* id + 16 stat fields; the table above covers id and the first 15. */
    for (unsigned i = 0; i < 16; i++)
        if (get_le(r, width[i], &v[i]))
            return -EINVAL;
    uint64_t cns;
    if (get_le(r, 4, &cns))
        return -EINVAL;
    n->id = v[0];
    s->dev = v[1];
    s->ino = v[2];
    s->nlink = v[3];
    s->rdev = v[4];
    s->size = v[5];
    s->blocks = v[6];
    s->mode = (uint32_t)v[7];
    s->uid = (uint32_t)v[8];
    s->gid = (uint32_t)v[9];
    s->blksize = (uint32_t)v[10];
    s->atime_sec = (int64_t)v[11];
    s->mtime_sec = (int64_t)v[12];
    s->ctime_sec = (int64_t)v[13];
    s->atime_nsec = (uint32_t)v[14];
    s->mtime_nsec = (uint32_t)v[15];
    s->ctime_nsec = (uint32_t)cns;
    return 0;
}

int gofer_decode(const void *buf, size_t len, struct gofer_msg *m)
{
    struct rbuf r = {.p = buf, .len = len};
    uint64_t size, type, reserved;
    memset(m, 0, sizeof(*m));
    if (len > GOFER_MAX_MSG)
        return -EMSGSIZE;
    if (get_le(&r, 4, &size) || get_le(&r, 2, &type) || get_le(&r, 2, &reserved))
        return -EINVAL;
    if (size != len || reserved != 0)
        return -EINVAL;
    const uint8_t *lay = gofer_layout((uint16_t)type);
    if (!lay)
        return -ENOSYS;
    m->type = (uint16_t)type;
    unsigned ni = 0, si = 0;
    int err = 0;
    for (unsigned f = 0; f < GOFER_MAX_FIELDS && lay[f] != GOFER_F_END && !err; f++) {
        uint64_t v = 0;
        switch (lay[f]) {
        case GOFER_F_U32:
        case GOFER_F_U64:
            err = get_le(&r, lay[f] == GOFER_F_U32 ? 4 : 8, &v);
            m->num[ni++] = v;
            break;
        case GOFER_F_NAME:
            err = get_bytes(&r, &m->str[si]);
            if (!err)
                err = gofer_check_name(m->str[si].ptr, m->str[si].len);
            si++;
            break;
        case GOFER_F_BYTES:
            err = get_bytes(&r, &m->str[si++]);
            break;
        case GOFER_F_NAMES:
            err = get_count(&r, &m->nnames);
            for (uint32_t i = 0; i < m->nnames && !err; i++) {
                err = get_bytes(&r, &m->names[i]);
                if (!err)
                    err = gofer_check_name(m->names[i].ptr, m->names[i].len);
            }
            break;
        case GOFER_F_IDS:
            err = get_count(&r, &m->nids);
            for (uint32_t i = 0; i < m->nids && !err; i++)
                err = get_le(&r, 8, &m->ids[i]);
            break;
        case GOFER_F_NODE:
            m->nnodes = 1;
            err = get_node(&r, &m->nodes[0]);
            break;
        case GOFER_F_NODES:
            err = get_count(&r, &m->nnodes);
            for (uint32_t i = 0; i < m->nnodes && !err; i++)
                err = get_node(&r, &m->nodes[i]);
            break;
        default:
            err = -EINVAL;
        }
    }
    if (err)
        return err;
    if (r.off != len)
        return -EINVAL; /* trailing bytes */
    if (m->type == GOFER_MSG_ERROR) {
        m->err = (int32_t)m->num[0];
        if (m->err <= 0 || m->err > 4095)
            return -EINVAL;
    }
    return 0;
}
