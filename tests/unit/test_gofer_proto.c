/* Encoder / strict decoder of the Gofer protocol. */
#include "gofer/protocol.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t buf[GOFER_MAX_MSG + 16];

/* Fills every field a layout names with distinct values. */
static void fill(struct gofer_msg *m, uint16_t type)
{
    static const char *const nm[] = {"a", "bb", "name.with.dots", "x y"};
    memset(m, 0, sizeof(*m));
    m->type = type;
    const uint8_t *lay = gofer_layout(type);
    unsigned ni = 0, si = 0;
    for (unsigned f = 0; f < GOFER_MAX_FIELDS && lay[f]; f++) {
        switch (lay[f]) {
        case GOFER_F_U32:
            m->num[ni] = 0x80000000u + ni;
            ni++;
            break;
        case GOFER_F_U64:
            m->num[ni] = 0x8000000000000000ull + ni * 0x100000001ull;
            ni++;
            break;
        case GOFER_F_NAME:
        case GOFER_F_BYTES:
            m->str[si] =
                (struct gofer_bytes){(const uint8_t *)nm[si + 2], (uint32_t)strlen(nm[si + 2])};
            si++;
            break;
        case GOFER_F_NAMES:
            m->nnames = 4;
            for (unsigned i = 0; i < 4; i++)
                m->names[i] = (struct gofer_bytes){(const uint8_t *)nm[i], (uint32_t)strlen(nm[i])};
            break;
        case GOFER_F_IDS:
            m->nids = 3;
            for (unsigned i = 0; i < 3; i++)
                m->ids[i] = 1000 + i;
            break;
        case GOFER_F_NODES:
            m->nnodes = 2;
            /* fall through */
        case GOFER_F_NODE:
            if (!m->nnodes)
                m->nnodes = 1;
            for (unsigned i = 0; i < m->nnodes; i++) {
                struct gofer_node *n = &m->nodes[i];
                n->id = 77 + i;
                n->stat = (struct gofer_stat){.dev = 1,
                                              .ino = 2 + i,
                                              .nlink = 3,
                                              .rdev = 4,
                                              .size = 5,
                                              .blocks = 6,
                                              .mode = 0100644,
                                              .uid = 7,
                                              .gid = 8,
                                              .blksize = 4096,
                                              .atime_sec = -9,
                                              .mtime_sec = 10,
                                              .ctime_sec = 11,
                                              .atime_nsec = 12,
                                              .mtime_nsec = 13,
                                              .ctime_nsec = 999999999};
            }
            break;
        }
    }
}

static void assert_same(const struct gofer_msg *a, const struct gofer_msg *b)
{
    cr_assert_eq(a->type, b->type);
    cr_assert(memcmp(a->num, b->num, sizeof(a->num)) == 0, "%s nums", gofer_msg_name(a->type));
    for (unsigned i = 0; i < GOFER_MAX_STRS; i++) {
        cr_assert_eq(a->str[i].len, b->str[i].len);
        if (a->str[i].len)
            cr_assert(memcmp(a->str[i].ptr, b->str[i].ptr, a->str[i].len) == 0);
    }
    cr_assert_eq(a->nnames, b->nnames);
    for (unsigned i = 0; i < a->nnames; i++)
        cr_assert(a->names[i].len == b->names[i].len &&
                  memcmp(a->names[i].ptr, b->names[i].ptr, a->names[i].len) == 0);
    cr_assert_eq(a->nids, b->nids);
    cr_assert(memcmp(a->ids, b->ids, a->nids * sizeof(a->ids[0])) == 0);
    cr_assert_eq(a->nnodes, b->nnodes);
    cr_assert(memcmp(a->nodes, b->nodes, a->nnodes * sizeof(a->nodes[0])) == 0);
}

static void round_trip(uint16_t type)
{
    struct gofer_msg m, d;
    fill(&m, type);
    int len = gofer_encode(&m, buf, sizeof(buf));
    cr_assert(len >= (int)GOFER_HDR_SIZE, "%s: encode %d", gofer_msg_name(type), len);
    cr_assert_eq(buf[0] | buf[1] << 8 | buf[2] << 16 | buf[3] << 24, len);
    cr_assert_eq(gofer_decode(buf, (size_t)len, &d), 0, "%s", gofer_msg_name(type));
    assert_same(&m, &d);
    /* Every strict prefix is truncated and must be refused. */
    for (int cut = 0; cut < len; cut++) {
        uint8_t tmp[GOFER_MAX_MSG];
        memcpy(tmp, buf, (size_t)cut);
        if (cut >= 4) { /* also make the size field agree with the cut */
            tmp[0] = (uint8_t)cut;
            tmp[1] = (uint8_t)(cut >> 8);
        }
        cr_assert_neq(gofer_decode(tmp, (size_t)cut, &d), 0, "%s cut %d", gofer_msg_name(type),
                      cut);
    }
    /* Trailing garbage, with the size field covering it. */
    buf[len] = 0x55;
    buf[0] = (uint8_t)(len + 1);
    buf[1] = (uint8_t)((len + 1) >> 8);
    cr_assert_eq(gofer_decode(buf, (size_t)len + 1, &d), -EINVAL, "%s", gofer_msg_name(type));
}

Test(gofer_proto, round_trip_every_request_and_response)
{
    for (uint16_t t = 1; t < GOFER_MSG_COUNT; t++) {
        round_trip(t);
        round_trip(t | GOFER_RESP_BIT);
    }
}

Test(gofer_proto, error_message)
{
    struct gofer_msg d;
    int len = gofer_encode_error(-ENOENT, buf, sizeof(buf));
    cr_assert_eq(len, 12);
    cr_assert_eq(gofer_decode(buf, (size_t)len, &d), 0);
    cr_assert_eq(d.type, GOFER_MSG_ERROR);
    cr_assert_eq(d.err, ENOENT);
    /* errno 0 and absurd errnos are not errors a peer may send. */
    memset(buf + 8, 0, 4);
    cr_assert_eq(gofer_decode(buf, 12, &d), -EINVAL);
    memset(buf + 8, 0xff, 4);
    cr_assert_eq(gofer_decode(buf, 12, &d), -EINVAL);
}

Test(gofer_proto, header_checks)
{
    struct gofer_msg m = {.type = GOFER_MSG_STAT, .num = {42}}, d;
    int len = gofer_encode(&m, buf, sizeof(buf));
    cr_assert_eq(len, 16);
    cr_assert_eq(gofer_decode(buf, 16, &d), 0);
    cr_assert_eq(d.num[0], 42);
    buf[6] = 1; /* reserved */
    cr_assert_eq(gofer_decode(buf, 16, &d), -EINVAL);
    buf[6] = 0;
    buf[0] = 17; /* size disagrees with the datagram */
    cr_assert_eq(gofer_decode(buf, 16, &d), -EINVAL);
    buf[0] = 16;
    buf[4] = 0; /* type 0 */
    cr_assert_eq(gofer_decode(buf, 16, &d), -ENOSYS);
    buf[4] = GOFER_MSG_COUNT;
    cr_assert_eq(gofer_decode(buf, 16, &d), -ENOSYS);
    buf[4] = 0x34;
    buf[5] = 0x12;
    cr_assert_eq(gofer_decode(buf, 16, &d), -ENOSYS);
    cr_assert_eq(gofer_decode(buf, GOFER_MAX_MSG + 1, &d), -EMSGSIZE);
    cr_assert_eq(gofer_decode(buf, 0, &d), -EINVAL);
    struct gofer_msg unk = {.type = 999};
    cr_assert_eq(gofer_encode(&unk, buf, sizeof(buf)), -EINVAL);
}

/* A WALK built by hand: u64 dir, u32 count, then names. */
static size_t walk_msg(uint32_t count, const uint32_t *lens, const char *const *names)
{
    size_t off = 8;
    memset(buf, 0, 16);
    buf[4] = GOFER_MSG_WALK;
    off += 8;
    memcpy(buf + off, &count, 4);
    off += 4;
    for (uint32_t i = 0; names && names[i]; i++) {
        memcpy(buf + off, &lens[i], 4);
        off += 4;
        size_t l = strlen(names[i]);
        memcpy(buf + off, names[i], l);
        off += l;
    }
    buf[0] = (uint8_t)off;
    buf[1] = (uint8_t)(off >> 8);
    return off;
}

Test(gofer_proto, hostile_counts_and_lengths)
{
    struct gofer_msg d;
    const char *ok[] = {"etc", NULL};
    uint32_t l3[] = {3};
    cr_assert_eq(gofer_decode(buf, walk_msg(1, l3, ok), &d), 0);
    cr_assert_eq(d.nnames, 1);
    /* Count says more names than there are. */
    cr_assert_eq(gofer_decode(buf, walk_msg(2, l3, ok), &d), -EINVAL);
    /* Too many names. */
    cr_assert_eq(gofer_decode(buf, walk_msg(GOFER_MAX_NAMES + 1, l3, ok), &d), -E2BIG);
    cr_assert_eq(gofer_decode(buf, walk_msg(0xffffffffu, l3, ok), &d), -E2BIG);
    /* A string length past the end, huge or "negative". */
    uint32_t huge[] = {0xffffffffu};
    cr_assert_eq(gofer_decode(buf, walk_msg(1, huge, ok), &d), -EINVAL);
    uint32_t neg[] = {0x80000000u};
    cr_assert_eq(gofer_decode(buf, walk_msg(1, neg, ok), &d), -EINVAL);
    uint32_t four[] = {4};
    cr_assert_eq(gofer_decode(buf, walk_msg(1, four, ok), &d), -EINVAL);
    /* Count zero is a valid empty walk. */
    cr_assert_eq(gofer_decode(buf, walk_msg(0, NULL, NULL), &d), 0);
    /* CLOSE with too many ids. */
    struct gofer_msg m = {.type = GOFER_MSG_CLOSE, .nids = GOFER_MAX_NAMES + 1};
    cr_assert_eq(gofer_encode(&m, buf, sizeof(buf)), -EINVAL);
}

Test(gofer_proto, names_are_single_components)
{
    const char *bad[] = {"", ".", "..", "a/b", "/", "../x", "x/.."};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_neq(gofer_check_name((const uint8_t *)bad[i], strlen(bad[i])), 0, "%s", bad[i]);
        const char *names[] = {bad[i], NULL};
        uint32_t l[] = {(uint32_t)strlen(bad[i])};
        struct gofer_msg d;
        cr_assert_eq(gofer_decode(buf, walk_msg(1, l, names), &d), -EINVAL, "%s", bad[i]);
        struct gofer_msg m = {.type = GOFER_MSG_MKDIR};
        m.str[0] = (struct gofer_bytes){(const uint8_t *)bad[i], l[0]};
        cr_assert_eq(gofer_encode(&m, buf, sizeof(buf)), -EINVAL);
    }
    cr_assert_eq(gofer_check_name((const uint8_t *)"a\0b", 3), -EINVAL);
    cr_assert_eq(gofer_check_name((const uint8_t *)"...", 3), 0);
    cr_assert_eq(gofer_check_name((const uint8_t *)".hidden", 7), 0);
    char longn[300];
    memset(longn, 'a', sizeof(longn));
    cr_assert_eq(gofer_check_name((const uint8_t *)longn, 255), 0);
    cr_assert_eq(gofer_check_name((const uint8_t *)longn, 256), -ENAMETOOLONG);
}

Test(gofer_proto, size_limit)
{
    static uint8_t big[GOFER_MAX_MSG];
    memset(big, 'v', sizeof(big));
    struct gofer_msg m = {.type = GOFER_MSG_SETXATTR};
    m.str[0] = (struct gofer_bytes){(const uint8_t *)"user.a", 6};
    m.str[1] = (struct gofer_bytes){big, GOFER_MAX_MSG - 8 - 8 - 4 - 6 - 4 - 4};
    int len = gofer_encode(&m, buf, sizeof(buf));
    cr_assert_eq(len, (int)GOFER_MAX_MSG);
    struct gofer_msg d;
    cr_assert_eq(gofer_decode(buf, (size_t)len, &d), 0);
    m.str[1].len++;
    cr_assert_eq(gofer_encode(&m, buf, sizeof(buf)), -EMSGSIZE);
    m.str[1].len = 10;
    cr_assert_eq(gofer_encode(&m, buf, 20), -EMSGSIZE, "caller's capacity is honoured");
}

Test(gofer_proto, names_of_types)
{
    cr_assert_str_eq(gofer_msg_name(GOFER_MSG_WALK), "WALK");
    cr_assert_str_eq(gofer_msg_name(GOFER_MSG_CONNECT | GOFER_RESP_BIT), "CONNECT");
    cr_assert_str_eq(gofer_msg_name(GOFER_MSG_ERROR), "ERROR");
    cr_assert_str_eq(gofer_msg_name(0), "?");
    cr_assert_null(gofer_layout(0));
    cr_assert_null(gofer_layout(GOFER_MSG_COUNT));
}
