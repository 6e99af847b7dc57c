/* System V message queues in one process: order and type selection,
 * truncation, limits, IPC_NOWAIT, the ctl commands and removal. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/syscalls/sysv_common.h"
#include "tests/syscalls/tap.h"

struct m {
    long type;
    char text[8192];
};

static struct m buf;

static long snd(int id, long type, const char *text, size_t len, int flg)
{
    buf.type = type;
    memcpy(buf.text, text, len);
    return SC(SYS_msgsnd, id, &buf, len, flg);
}

/* Receives into buf; returns the length or -errno. */
static long rcv(int id, size_t max, long type, int flg)
{
    memset(&buf, 0, sizeof(buf));
    return SC(SYS_msgrcv, id, &buf, max, type, flg);
}

static void test_order(int id)
{
    snd(id, 2, "two", 3, 0);
    snd(id, 1, "one-a", 5, 0);
    snd(id, 3, "three", 5, 0);
    snd(id, 1, "one-b", 5, 0);
    struct msqid_ds ds;
    msgctl(id, IPC_STAT, &ds);
    is_int((long)ds.msg_qnum, 4, "four messages queued");
    is_int((long)ds.msg_cbytes, 18, "msg_cbytes");
    is_int(ds.msg_lspid, getpid(), "msg_lspid");
    is_int(rcv(id, 100, 1, IPC_NOWAIT), 5, "type 1: the first of its type");
    ok(buf.type == 1 && memcmp(buf.text, "one-a", 5) == 0, "one-a");
    is_int(rcv(id, 100, 0, IPC_NOWAIT), 3, "type 0: the oldest");
    ok(buf.type == 2 && memcmp(buf.text, "two", 3) == 0, "two");
    is_int(rcv(id, 100, -3, IPC_NOWAIT), 5, "type -3: the lowest type up to 3");
    ok(buf.type == 1 && memcmp(buf.text, "one-b", 5) == 0, "one-b");
    is_int(rcv(id, 100, 3, IPC_NOWAIT | MSG_EXCEPT), -ENOMSG, "MSG_EXCEPT 3 finds nothing: ENOMSG");
    is_int(rcv(id, 100, 2, IPC_NOWAIT | MSG_EXCEPT), 5, "MSG_EXCEPT 2 takes the 3");
    ok(buf.type == 3 && memcmp(buf.text, "three", 5) == 0, "three");
    is_int(rcv(id, 100, 0, IPC_NOWAIT), -ENOMSG, "empty queue with IPC_NOWAIT: ENOMSG");
    msgctl(id, IPC_STAT, &ds);
    ok(ds.msg_qnum == 0 && ds.msg_cbytes == 0, "queue empty again");
    is_int(ds.msg_lrpid, getpid(), "msg_lrpid");
    ok(ds.msg_stime > 0 && ds.msg_rtime > 0, "send and receive times set");
}

static void test_sizes(int id)
{
    snd(id, 7, "0123456789", 10, 0);
    is_int(rcv(id, 5, 0, IPC_NOWAIT), -E2BIG, "too long for the buffer: E2BIG");
    struct msqid_ds ds;
    msgctl(id, IPC_STAT, &ds);
    is_int((long)ds.msg_qnum, 1, "the message stays queued");
    is_int(rcv(id, 5, 0, IPC_NOWAIT | MSG_NOERROR), 5, "MSG_NOERROR truncates");
    ok(memcmp(buf.text, "01234", 5) == 0 && buf.text[5] == 0, "the first bytes only");
    msgctl(id, IPC_STAT, &ds);
    is_int((long)ds.msg_qnum, 0, "and the message is gone");
    is_int(snd(id, 4, "", 0, 0), 0, "an empty message");
    is_int(rcv(id, 0, 0, IPC_NOWAIT), 0, "received with length 0");
    is_int(buf.type, 4, "with its type");
    is_int(snd(id, 0, "x", 1, 0), -EINVAL, "type 0: EINVAL");
    is_int(snd(id, -5, "x", 1, 0), -EINVAL, "negative type: EINVAL");
    is_int(SC(SYS_msgsnd, id, &buf, 8193, 0), -EINVAL, "longer than MSGMAX: EINVAL");
    is_int(SC(SYS_msgsnd, id, (void *)16, 1, 0), -EFAULT, "message at a bad address: EFAULT");
    is_int(SC(SYS_msgrcv, id, &buf, -1L, 0, IPC_NOWAIT), -EINVAL, "negative size: EINVAL");

    /* The queue's byte limit: two maximal messages fill it. */
    static char big[8192];
    is_int(snd(id, 1, big, 8192, IPC_NOWAIT), 0, "8192 bytes");
    is_int(snd(id, 1, big, 8192, IPC_NOWAIT), 0, "8192 more");
    is_int(snd(id, 1, "x", 1, IPC_NOWAIT), -EAGAIN, "a full queue with IPC_NOWAIT: EAGAIN");
    is_int(rcv(id, 8192, 0, IPC_NOWAIT), 8192, "drain one");
    is_int(rcv(id, 8192, 0, IPC_NOWAIT), 8192, "drain two");

    msgctl(id, IPC_STAT, &ds);
    is_int((long)ds.msg_qbytes, 16384, "msg_qbytes is MSGMNB");
    ds.msg_qbytes = 100;
    ds.msg_perm.mode = 0640;
    is_int(msgctl(id, IPC_SET, &ds), 0, "IPC_SET");
    msgctl(id, IPC_STAT, &ds);
    ok(ds.msg_qbytes == 100 && (ds.msg_perm.mode & 0777) == 0640, "limit and mode changed");
    is_int(snd(id, 1, big, 101, IPC_NOWAIT), -EAGAIN, "beyond the new limit: EAGAIN");
    is_int(snd(id, 1, big, 100, IPC_NOWAIT), 0, "up to it");
    rcv(id, 8192, 0, IPC_NOWAIT);
}

static void test_ctl(int id)
{
    struct msginfo mi;
    long max = SC(SYS_msgctl, 0, IPC_INFO, &mi);
    ok(max >= 0, "IPC_INFO");
    ok(mi.msgmax == 8192 && mi.msgmnb == 16384 && mi.msgmni == 32000, "IPC_INFO limits");
    snd(id, 1, "abc", 3, 0);
    ok(SC(SYS_msgctl, 0, MSG_INFO, &mi) >= 0 && mi.msgpool >= 1 && mi.msgmap >= 1 && mi.msgtql >= 3,
       "MSG_INFO counts queues, messages and bytes");
    struct msqid_ds ds;
    int found = 0;
    for (long i = 0; i <= max; i++) {
        if (SC(SYS_msgctl, i, MSG_STAT, &ds) == id)
            found = 1;
    }
    ok(found, "MSG_STAT by index returns the id");
    char line[512], want[512];
    ok(sysv_proc_line("/proc/sysvipc/msg", id, line, sizeof(line)), "listed in /proc/sysvipc/msg");
    snprintf(want, sizeof(want), "%10d %10d  %4o  %10d %10d %5d %5d", 0, id, 0640, 3, 1, getpid(),
             getpid());
    ok(strncmp(line, want, strlen(want)) == 0, "its columns: %s", line);
    char v[64];
    sysv_read("/proc/sys/kernel/msgmax", v, sizeof(v));
    ok(strcmp(v, "8192\n") == 0, "/proc/sys/kernel/msgmax");
    sysv_read("/proc/sys/kernel/msgmnb", v, sizeof(v));
    ok(strcmp(v, "16384\n") == 0, "/proc/sys/kernel/msgmnb");
    sysv_read("/proc/sys/kernel/msgmni", v, sizeof(v));
    ok(strcmp(v, "32000\n") == 0, "/proc/sys/kernel/msgmni");
    is_int(SC(SYS_msgctl, id, 99, &ds), -EINVAL, "unknown command: EINVAL");
    is_int(SC(SYS_msgctl, id, IPC_STAT, (void *)16), -EFAULT, "IPC_STAT to a bad buffer: EFAULT");
}

static void test_keys(void)
{
    if (!sysv_keys_ok()) {
        skip("no private IPC namespace", "keyed queues");
        return;
    }
    key_t key = 0x5eed0003;
    is_int(SC(SYS_msgget, key, 0600), -ENOENT, "absent key: ENOENT");
    int id = sysv_track('q', msgget(key, IPC_CREAT | 0600));
    ok(id >= 0, "create by key");
    is_int(msgget(key, 0), id, "found by key");
    is_int(SC(SYS_msgget, key, IPC_CREAT | IPC_EXCL | 0600), -EEXIST, "IPC_EXCL: EEXIST");
    msgctl(id, IPC_RMID, NULL);
}

static void test_perms(void)
{
    if (geteuid() != 0) {
        skip("needs root to switch users", "permission checks");
        return;
    }
    int id = sysv_track('q', msgget(IPC_PRIVATE, 0600));
    int r = seteuid(65534);
    ok(r == 0, "seteuid(65534)");
    if (r != 0)
        return;
    is_int(snd(id, 1, "x", 1, IPC_NOWAIT), -EACCES, "msgsnd without permission: EACCES");
    is_int(rcv(id, 10, 0, IPC_NOWAIT), -EACCES, "msgrcv without permission: EACCES");
    is_int(SC(SYS_msgctl, id, IPC_RMID, 0), -EPERM, "IPC_RMID by another user: EPERM");
    ok(seteuid(0) == 0, "back to root");
    /* The group's bits apply to a member of the queue's group. */
    struct msqid_ds ds;
    msgctl(id, IPC_STAT, &ds);
    ds.msg_perm.mode = 0640;
    msgctl(id, IPC_SET, &ds);
    if (seteuid(65534) == 0) {
        is_int(rcv(id, 10, 0, IPC_NOWAIT), -ENOMSG, "the group may read: ENOMSG");
        is_int(snd(id, 1, "x", 1, IPC_NOWAIT), -EACCES, "but not write: EACCES");
        ok(seteuid(0) == 0, "back to root");
    }
    msgctl(id, IPC_RMID, NULL);
}

int main(void)
{
    sysv_setup();
    int id = sysv_track('q', msgget(IPC_PRIVATE, 0600));
    ok(id >= 0, "msgget IPC_PRIVATE");
    if (id >= 0) {
        test_order(id);
        test_sizes(id);
        test_ctl(id);
        is_int(msgctl(id, IPC_RMID, NULL), 0, "IPC_RMID");
        is_int(snd(id, 1, "x", 1, IPC_NOWAIT), -EINVAL, "removed: msgsnd EINVAL");
        is_int(rcv(id, 10, 0, IPC_NOWAIT), -EINVAL, "removed: msgrcv EINVAL");
    }
    test_keys();
    test_perms();
    done_testing();
}
