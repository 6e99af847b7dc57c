/* System V shared memory in one process: segments, attaches at chosen and
 * given addresses, the counts IPC_STAT shows, detaching, removal while
 * attached, limits and /proc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static int mapped(void *p)
{
    /* msync fails with ENOMEM on an unmapped page. */
    return msync(p, 4096, MS_ASYNC) == 0;
}

static int maps_has(const char *needle)
{
    char buf[65536];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return 0;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* An address nothing is mapped at, with room for len bytes. */
static void *free_addr(size_t len)
{
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    munmap(p, len);
    return p;
}

static void test_basic(void)
{
    int id = sysv_track('m', shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600));
    ok(id >= 0, "shmget IPC_PRIVATE");
    if (id < 0)
        return;
    char *a = shmat(id, NULL, 0), *b = shmat(id, NULL, 0);
    ok(a != (void *)-1 && b != (void *)-1 && a != b, "two attaches at two addresses");
    if (a == (void *)-1 || b == (void *)-1)
        return;
    ok(a[0] == 0 && a[8191] == 0, "a new segment reads as zeros");
    strcpy(a, "hello");
    b[8000] = 'x';
    ok(strcmp(b, "hello") == 0 && a[8000] == 'x', "both attaches see the same memory");
    struct shmid_ds ds;
    is_int(shmctl(id, IPC_STAT, &ds), 0, "IPC_STAT");
    is_int((long)ds.shm_nattch, 2, "shm_nattch counts both attaches");
    is_int((long)ds.shm_segsz, 8192, "shm_segsz");
    is_int(ds.shm_perm.mode & 0777, 0600, "mode");
    is_int(ds.shm_perm.__key, IPC_PRIVATE, "key");
    is_int(ds.shm_cpid, getpid(), "shm_cpid");
    is_int(ds.shm_lpid, getpid(), "shm_lpid");
    is_int(ds.shm_perm.uid, geteuid(), "uid");
    is_int(ds.shm_perm.cuid, geteuid(), "cuid");
    ok(ds.shm_atime > 0 && ds.shm_ctime > 0, "attach and change times set");
    ok(maps_has("/SYSV00000000 (deleted)"), "/proc/self/maps names the segment");
    char line[512], want[512];
    ok(sysv_proc_line("/proc/sysvipc/shm", id, line, sizeof(line)), "listed in /proc/sysvipc/shm");
    snprintf(want, sizeof(want), "%10d %10d  %4o %21d %5d %5d  %5d", 0, id, 0600, 8192, getpid(),
             getpid(), 2);
    ok(strncmp(line, want, strlen(want)) == 0, "its columns: %s", line);
    char hdr[512];
    sysv_read("/proc/sysvipc/shm", hdr, sizeof(hdr));
    ok(strncmp(hdr,
               "       key      shmid perms                  size  cpid  lpid nattch   uid   gid"
               "  cuid  cgid      atime      dtime      ctime                   rss             "
               "     swap\n",
               strlen("       key      shmid perms                  size  cpid  lpid nattch   uid "
                      "  gid  cuid  cgid      atime      dtime      ctime                   rss    "
                      "              swap\n")) == 0,
       "/proc/sysvipc/shm header");

    is_int(shmdt(a), 0, "shmdt");
    is_int(nattch(id), 1, "one attach left");
    ok(!mapped(a), "detached range unmapped");
    is_int(SC(SYS_shmdt, a), -EINVAL, "shmdt twice: EINVAL");
    is_int(SC(SYS_shmdt, b + 4096), -EINVAL, "shmdt inside a segment: EINVAL");
    is_int(SC(SYS_shmdt, b + 1), -EINVAL, "shmdt unaligned: EINVAL");

    /* A partial munmap keeps the attach until its last page goes. */
    is_int(munmap(b, 4096), 0, "munmap the first page");
    is_int(nattch(id), 1, "still attached");
    is_int(munmap(b + 4096, 4096), 0, "munmap the rest");
    is_int(nattch(id), 0, "detached by munmap");
    ok(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_dtime > 0, "detach time set");

    /* A split attach (mprotect) is detached whole. */
    char *c = shmat(id, NULL, 0);
    ok(c != (void *)-1, "attach again");
    if (c != (void *)-1) {
        ok(strcmp(c, "hello") == 0, "contents kept while detached");
        is_int(mprotect(c + 4096, 4096, PROT_READ), 0, "mprotect half");
        is_int(nattch(id), 2, "a split attach counts twice, as Linux counts VMAs");
        is_int(shmdt(c), 0, "shmdt the split attach");
        ok(!mapped(c) && !mapped(c + 4096), "both parts unmapped");
        is_int(nattch(id), 0, "no attach left");
    }
    is_int(shmctl(id, IPC_RMID, NULL), 0, "IPC_RMID");
    is_int(SC(SYS_shmctl, id, IPC_STAT, &ds), -EINVAL, "gone: IPC_STAT EINVAL");
    is_int(SC(SYS_shmat, id, 0, 0), -EINVAL, "gone: shmat EINVAL");
}

static void test_addresses(void)
{
    int id = sysv_track('m', shmget(IPC_PRIVATE, 4096, 0600));
    ok(id >= 0, "shmget one page");
    if (id < 0)
        return;
    char *want = free_addr(3 * 4096);
    char *p = shmat(id, want, 0);
    ok(p == want, "attach at a given address");
    is_int(SC(SYS_shmat, id, want, 0), -EINVAL, "over an existing mapping: EINVAL");
    char *q = shmat(id, want, SHM_REMAP);
    ok(q == want, "SHM_REMAP replaces it");
    is_int(nattch(id), 1, "the replaced attach is gone");
    is_int(SC(SYS_shmat, id, want + 4096 + 12, 0), -EINVAL, "unaligned address: EINVAL");
    char *r = shmat(id, want + 4096 + 12, SHM_RND);
    ok(r == want + 4096, "SHM_RND rounds down");
    is_int(SC(SYS_shmat, id, 0, SHM_REMAP), -EINVAL, "SHM_REMAP without an address: EINVAL");
    shmdt(q);
    shmdt(r);

    char *ro = shmat(id, NULL, SHM_RDONLY);
    ok(ro != (void *)-1, "SHM_RDONLY attach");
    if (ro != (void *)-1) {
        is_int(SC(SYS_mprotect, ro, 4096, PROT_READ | PROT_WRITE), -EACCES,
               "a read-only attach cannot become writable");
        shmdt(ro);
    }
    is_int(shmctl(id, IPC_RMID, NULL), 0, "IPC_RMID");
}

static void test_rmid_attached(void)
{
    int id = sysv_track('m', shmget(IPC_PRIVATE, 4096, 0600));
    char *p = shmat(id, NULL, 0);
    ok(id >= 0 && p != (void *)-1, "segment attached");
    if (p == (void *)-1)
        return;
    p[0] = 42;
    is_int(shmctl(id, IPC_RMID, NULL), 0, "IPC_RMID while attached");
    struct shmid_ds ds;
    is_int(shmctl(id, IPC_STAT, &ds), 0, "still there while attached");
    ok(ds.shm_perm.mode & SHM_DEST, "marked SHM_DEST");
    is_int(p[0], 42, "memory still usable");
    char *p2 = shmat(id, NULL, 0);
    ok(p2 != (void *)-1 && p2[0] == 42, "a removed segment can still be attached by id");
    if (p2 != (void *)-1)
        shmdt(p2);
    is_int(shmdt(p), 0, "last detach");
    is_int(SC(SYS_shmctl, id, IPC_STAT, &ds), -EINVAL, "destroyed at the last detach");
}

static void test_errors(void)
{
    is_int(SC(SYS_shmget, IPC_PRIVATE, 0, 0600), -EINVAL, "size 0: EINVAL");
    is_int(SC(SYS_shmat, -1, 0, 0), -EINVAL, "shmat of id -1: EINVAL");
    is_int(SC(SYS_shmctl, -1, IPC_STAT, 0), -EINVAL, "shmctl of id -1: EINVAL");
    is_int(SC(SYS_shmctl, 0, 99, 0), -EINVAL, "unknown command: EINVAL");
    int id = sysv_track('m', shmget(IPC_PRIVATE, 4096, 0600));
    is_int(SC(SYS_shmctl, id, IPC_STAT, (void *)16), -EFAULT, "IPC_STAT to a bad buffer: EFAULT");
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    ds.shm_perm.mode = 0640;
    is_int(shmctl(id, IPC_SET, &ds), 0, "IPC_SET");
    shmctl(id, IPC_STAT, &ds);
    is_int(ds.shm_perm.mode & 0777, 0640, "mode changed");
    struct shminfo info;
    long max = SC(SYS_shmctl, 0, IPC_INFO, &info);
    ok(max >= 0, "IPC_INFO");
    is_int((long)info.shmmni, 4096, "shmmni");
    is_int((long)info.shmmin, 1, "shmmin");
    char v[64];
    sysv_read("/proc/sys/kernel/shmmni", v, sizeof(v));
    ok(strcmp(v, "4096\n") == 0, "/proc/sys/kernel/shmmni");
    sysv_read("/proc/sys/kernel/shmmax", v, sizeof(v));
    ok(strcmp(v, "18446744073692774399\n") == 0, "/proc/sys/kernel/shmmax");
    sysv_read("/proc/sys/kernel/shmall", v, sizeof(v));
    ok(strcmp(v, "18446744073692774399\n") == 0, "/proc/sys/kernel/shmall");
    struct shm_info si;
    ok(SC(SYS_shmctl, 0, SHM_INFO, &si) >= 0 && si.used_ids >= 1, "SHM_INFO counts segments");
    int found = 0;
    for (long i = 0; i <= max; i++) {
        if (SC(SYS_shmctl, i, SHM_STAT, &ds) == id)
            found = 1;
    }
    ok(found, "SHM_STAT by index returns the id");
    shmctl(id, IPC_RMID, NULL);
}

static void test_keys(void)
{
    if (!sysv_keys_ok()) {
        skip("no private IPC namespace", "keyed segments");
        return;
    }
    key_t key = 0x5eed0001;
    is_int(SC(SYS_shmget, key, 4096, 0600), -ENOENT, "absent key without IPC_CREAT: ENOENT");
    int id = sysv_track('m', shmget(key, 4096, IPC_CREAT | 0600));
    ok(id >= 0, "create by key");
    is_int(shmget(key, 0, 0), id, "the same key finds it");
    is_int(shmget(key, 4096, IPC_CREAT), id, "IPC_CREAT finds it too");
    is_int(SC(SYS_shmget, key, 4096, IPC_CREAT | IPC_EXCL | 0600), -EEXIST, "IPC_EXCL: EEXIST");
    is_int(SC(SYS_shmget, key, 8192, 0600), -EINVAL, "larger than the segment: EINVAL");
    char *p = shmat(id, NULL, 0);
    ok(maps_has("/SYSV5eed0001 (deleted)"), "maps name carries the key");
    shmctl(id, IPC_RMID, NULL);
    int id2 = sysv_track('m', shmget(key, 4096, IPC_CREAT | 0600));
    ok(id2 >= 0 && id2 != id, "after IPC_RMID the key makes a new segment");
    struct shmid_ds ds;
    ok(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_perm.__key == IPC_PRIVATE,
       "the removed one lost its key");
    shmdt(p);
    shmctl(id2, IPC_RMID, NULL);
}

/* Another user's view: no permission bits for others. */
static void test_perms(void)
{
    if (geteuid() != 0) {
        skip("needs root to switch users", "permission checks");
        return;
    }
    int id = sysv_track('m', shmget(IPC_PRIVATE, 4096, 0600));
    int r = seteuid(65534);
    ok(r == 0, "seteuid(65534)");
    if (r != 0)
        return;
    struct shmid_ds ds;
    is_int(SC(SYS_shmat, id, 0, 0), -EACCES, "shmat without permission: EACCES");
    is_int(SC(SYS_shmat, id, 0, SHM_RDONLY), -EACCES, "read-only too: EACCES");
    is_int(SC(SYS_shmctl, id, IPC_STAT, &ds), -EACCES, "IPC_STAT: EACCES");
    is_int(SC(SYS_shmctl, id, IPC_RMID, 0), -EPERM, "IPC_RMID by another user: EPERM");
    is_int(SC(SYS_shmctl, id, IPC_SET, &ds), -EPERM, "IPC_SET by another user: EPERM");
    ok(seteuid(0) == 0, "back to root");
    ds.shm_perm.uid = 0;
    shmctl(id, IPC_STAT, &ds);
    ds.shm_perm.mode = 0644;
    shmctl(id, IPC_SET, &ds);
    if (seteuid(65534) == 0) {
        char *p = shmat(id, NULL, SHM_RDONLY);
        ok(p != (void *)-1, "others may attach read-only with 0644");
        is_int(SC(SYS_shmat, id, 0, 0), -EACCES, "but not read-write");
        if (p != (void *)-1)
            shmdt(p);
        ok(seteuid(0) == 0, "back to root");
    }
    shmctl(id, IPC_RMID, NULL);
}

int main(void)
{
    sysv_setup();
    test_basic();
    test_addresses();
    test_rmid_attached();
    test_errors();
    test_keys();
    test_perms();
    done_testing();
}
