/* System V shared memory across fork: the child's attach is shared memory
 * and counts in shm_nattch, and a removed segment lives until the last
 * process detaches. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/syscalls/sysv_common.h"
#include "tests/syscalls/tap.h"

static long nattch(int id)
{
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0)
        return -errno;
    return (long)ds.shm_nattch;
}

static int child_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
    sysv_setup();
    int id = sysv_track('m', shmget(IPC_PRIVATE, 8192, 0600));
    char *p = shmat(id, NULL, 0);
    ok(id >= 0 && p != (void *)-1, "segment attached");
    if (p == (void *)-1)
        done_testing();
    int go[2], ready[2];
    if (pipe(go) || pipe(ready))
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        strcpy(p + 100, "from the child");
        char c = 'r';
        write(ready[1], &c, 1);
        read(go[0], &c, 1);
        /* The parent wrote this while we waited. */
        _exit(strcmp(p, "from the parent") == 0 ? 0 : 1);
    }
    char c;
    ok(read(ready[0], &c, 1) == 1, "child ready");
    ok(strcmp(p + 100, "from the child") == 0, "the child's write is seen by the parent");
    is_int(nattch(id), 2, "the child's inherited attach counts");
    strcpy(p, "from the parent");
    write(go[1], "g", 1);
    is_int(child_status(pid), 0, "the parent's write is seen by the child");
    is_int(nattch(id), 1, "the child's exit detaches it");

    /* Removed while a child holds it: it lives until the child is done. */
    pid = fork();
    if (pid == 0) {
        char x;
        read(go[0], &x, 1);
        p[0] = 'z';
        _exit(shmdt(p) == 0 ? 0 : 1);
    }
    is_int(shmdt(p), 0, "the parent detaches");
    is_int(shmctl(id, IPC_RMID, NULL), 0, "and removes the segment");
    struct shmid_ds ds;
    ok(shmctl(id, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & SHM_DEST) && ds.shm_nattch == 1,
       "kept for the child, marked SHM_DEST");
    write(go[1], "g", 1);
    is_int(child_status(pid), 0, "the child uses and detaches it");
    is_int(SC(SYS_shmctl, id, IPC_STAT, &ds), -EINVAL, "destroyed at the child's detach");
    done_testing();
}
