/* The Sentry's confinement: an empty, read-only root and no capabilities.
 * Namespaces are created by the front end when it starts the Sentry. */
#include <errno.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sentry/boot/sentry.h"

/* Any directory that exists on every Linux host can hold the new root: in the
 * Sentry's private mount namespace, mounting over it changes nothing outside. */
#define NEWROOT "/proc"

int sentry_confine_fs(const char **why)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        *why = "cannot make the mount tree private";
        return -errno;
    }
    if (mount("moat-empty", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=16k,nr_inodes=16,mode=0555") < 0) {
        *why = "cannot mount the empty root";
        return -errno;
    }
    if (mkdir(NEWROOT "/.old", 0500) < 0) {
        *why = "cannot prepare the old-root directory";
        return -errno;
    }
    if (syscall(SYS_pivot_root, NEWROOT, NEWROOT "/.old") < 0) {
        *why = "pivot_root to the empty root failed";
        return -errno;
    }
    if (chdir("/") < 0 || umount2("/.old", MNT_DETACH) < 0 || rmdir("/.old") < 0) {
        *why = "cannot detach the host's root";
        return -errno;
    }
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
        0) {
        *why = "cannot make the empty root read-only";
        return -errno;
    }
    return 0;
}

int sentry_drop_caps(const char **why)
{
    /* The Sentry needs no capability once confined: it traces only its own
     * children and opens nothing. */
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
            *why = "cannot drop the capability bounding set";
            return -errno;
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        *why = "cannot clear ambient capabilities";
        return -errno;
    }
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};
    if (syscall(SYS_capset, &hdr, data) < 0) {
        *why = "cannot clear capabilities";
        return -errno;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        *why = "cannot set no_new_privs";
        return -errno;
    }
    return 0;
}
