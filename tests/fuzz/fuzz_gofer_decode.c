/* libFuzzer target: arbitrary bytes as a Gofer message, first to the
 * decoder (which must accept exactly what it can re-encode identically),
 * then to the request handler of a read-only server over a small tree with
 * escaping symlinks. Any crash, sanitizer report or trap is a finding. */
#include "gofer/protocol.h"
#include "gofer/server.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int root_fd = -1;
static uint8_t reply[GOFER_MAX_MSG], again[GOFER_MAX_MSG];

static void make_tree(void)
{
    char dir[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gofer-fuzz-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    root_fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (root_fd < 0 || mkdirat(root_fd, "d", 0755) < 0 || symlinkat("/", root_fd, "up") < 0 ||
        symlinkat("../../..", root_fd, "dots") < 0 || symlinkat("d", root_fd, "in") < 0)
        abort();
    int fd = openat(root_fd, "d/f", O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || write(fd, "data", 4) != 4)
        abort();
    close(fd);
}

/* Ids the per-input server hands out before the input runs (see below). */
#define ROOT_ID 0x10001u
#define DIR_ID  0x20002u
#define FILE_ID 0x30003u

/* With GOFER_FUZZ_SEEDS=dir, writes one valid request of every type that
 * names the pre-walked ids, so the fuzzer starts inside every handler. */
static void write_seeds(const char *dir)
{
    for (uint16_t t = 1; t < GOFER_MSG_COUNT; t++) {
        struct gofer_msg m = {.type = t};
        const uint8_t *lay = gofer_layout(t);
        unsigned ni = 0, si = 0;
        for (unsigned f = 0; f < GOFER_MAX_FIELDS && lay[f]; f++) {
            if (lay[f] == GOFER_F_U64) {
                m.num[ni] = ni == 0 ? DIR_ID : FILE_ID;
                ni++;
            } else if (lay[f] == GOFER_F_U32)
                m.num[ni++] = 1;
            else if (lay[f] == GOFER_F_NAME || lay[f] == GOFER_F_BYTES)
                m.str[si++] = (struct gofer_bytes){(const uint8_t *)"user.f", 6};
            else if (lay[f] == GOFER_F_NAMES) {
                m.nnames = 1;
                m.names[0] = (struct gofer_bytes){(const uint8_t *)"f", 1};
            } else if (lay[f] == GOFER_F_IDS) {
                m.nids = 1;
                m.ids[0] = FILE_ID;
            }
        }
        int len = gofer_encode(&m, again, sizeof(again));
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, gofer_msg_name(t));
        FILE *f = fopen(path, "wb");
        if (len < 0 || !f || fwrite(again, 1, (size_t)len, f) != (size_t)len)
            abort();
        fclose(f);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    make_tree();
    const char *seeds = getenv("GOFER_FUZZ_SEEDS");
    if (seeds)
        write_seeds(seeds);
    return 0;
}

static void check_decoder(const uint8_t *data, size_t size)
{
    struct gofer_msg m, m2;
    if (gofer_decode(data, size, &m) != 0)
        return;
    /* Whatever decodes re-encodes to the very same bytes. */
    int len = gofer_encode(&m, again, sizeof(again));
    if (len < 0 || (size_t)len != size || memcmp(again, data, size) != 0)
        __builtin_trap();
    if (gofer_decode(again, (size_t)len, &m2) != 0 || m2.type != m.type)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decoder(data, size);
    /* A fresh server per input keeps runs independent. It MOUNTs (id
     * ROOT_ID) and walks "d" (DIR_ID) and "f" (FILE_ID) before the input. */
    struct gofer_server *srv = gofer_server_create(root_fd, true, 16);
    if (!srv)
        abort();
    static const uint8_t mount[8] = {8, 0, 0, 0, GOFER_MSG_MOUNT, 0, 0, 0};
    static const uint8_t walk[] = {30, 0, 0, 0, GOFER_MSG_WALK,
                                   0,  0, 0, 1, 0,
                                   1,  0, 0, 0, 0,
                                   0,  2, 0, 0, 0,
                                   1,  0, 0, 0, 'd',
                                   1,  0, 0, 0, 'f'};
    int fd;
    gofer_server_handle(srv, mount, sizeof(mount), reply, &fd);
    struct gofer_msg r;
    size_t wn = gofer_server_handle(srv, walk, sizeof(walk), reply, &fd);
    if (gofer_decode(reply, wn, &r) != 0 || r.nnodes != 2 || r.nodes[1].id != FILE_ID)
        abort(); /* the harness itself is wrong */
    size_t n = gofer_server_handle(srv, data, size, reply, &fd);
    if (fd >= 0)
        close(fd);
    if (n < GOFER_HDR_SIZE || gofer_decode(reply, n, &r) != 0)
        __builtin_trap(); /* every reply is a well-formed message */
    gofer_server_destroy(srv);
    return 0;
}
