/* Puts the Gofer in a box of its own: it sees only the tree it serves, has
 * no network and keeps only the capabilities that serving files as root
 * needs. Property 4 of the design: even a Gofer bug must not reach the rest
 * of the host. */
#include "gofer/confine.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIT(c) (1ull << (c))

unsigned long long gofer_kept_caps(void)
{
    /* chown to the guest's ids; read and write whatever the guest's own
     * permission checks (made in the Sentry) allowed; linkat with
     * AT_EMPTY_PATH needs DAC_READ_SEARCH; utimes/chmod on any owner's
     * file need FOWNER; keeping set-id bits on chown needs FSETID. No
     * MKNOD: device nodes are refused by the protocol. */
    return BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_FOWNER) |
           BIT(CAP_FSETID);
}

static int drop_caps(void)
{
    unsigned long long keep = gofer_kept_caps();
    for (int c = 0; c <= 63; c++) {
        if (keep & BIT(c))
            continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            return -errno; /* EINVAL: past the kernel's last capability */
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -errno;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2] = {0};
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(keep >> (32 * i));
        data[i].permitted = data[i].effective;
        data[i].inheritable = 0;
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return -errno;
    return 0;
}

/* Where the new root is assembled before pivot_root. */
#define STAGE "/proc"

int gofer_confine(const char *root, bool readonly)
{
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
        return -errno;
    /* Nothing we do to mounts may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -errno;
    /* The new root is staged on a scratch tmpfs (over /proc, which this
     * private namespace no longer needs): a bind stacked on the root itself,
     * as serving "/" would make, is not reachable from the process's root
     * and pivot_root refuses it. A root below /proc is refused, since the
     * staging tmpfs covers it. */
    if (strncmp(root, "/proc", 5) == 0 && (root[5] == '/' || root[5] == '\0'))
        return -EINVAL;
    if (mount("moat-gofer-stage", STAGE, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k,mode=0700") < 0 ||
        mkdir(STAGE "/root", 0700) < 0)
        return -errno;
    /* Not recursive: the mounts below root on the host (/proc, /sys, /dev,
     * /run when root is "/") must not come along; they show as the empty
     * directories beneath them, and the Sentry mounts its own there. What a
     * sandbox should see of another host mount is served explicitly. */
    if (mount(root, STAGE "/root", NULL, MS_BIND, NULL) < 0) {
        /* In a user namespace, mounts inherited from the host are locked
         * together: a bind without its submounts would uncover what they
         * hide, so the kernel refuses it. An unprivileged Gofer can only
         * see what its user already can; it takes the submounts along, and
         * the Sentry covers /proc, /sys and /dev with its own mounts. */
        if (errno != EINVAL || mount(root, STAGE "/root", NULL, MS_BIND | MS_REC, NULL) < 0)
            return -errno;
    }
    if (readonly && mount(NULL, STAGE "/root", NULL,
                          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        return -errno;
    if (chdir(STAGE "/root") < 0)
        return -errno;
    /* pivot_root(".", ".") stacks the old root on top of the new one; the
     * detach then leaves only the new root (the staging tmpfs goes with the
     * old tree). */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return -errno;
    if (umount2(".", MNT_DETACH) < 0)
        return -errno;
    if (chdir("/") < 0)
        return -errno;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    return drop_caps();
}
