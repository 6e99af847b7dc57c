/* Directory-file helpers every filesystem shares: writing one
 * linux_dirent64 record and seeking a directory by cookie. */
#include <stdint.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "abi/types.h"
#include "sentry/vfs/vfs.h"

bool vfs_dirent_emit(char *buf, size_t n, size_t *used, uint64_t ino, int64_t next, uint8_t type,
                     const char *name)
{
    size_t nlen = strlen(name);
    /* Records are 8-byte aligned, the name NUL-terminated and padded with
     * zeros, as Linux's filldir64 writes them. */
    size_t reclen = (ABI_DIRENT64_NAME_OFFSET + nlen + 1 + 7) & ~(size_t)7;
    if (*used + reclen > n)
        return false;
    struct abi_linux_dirent64 hdr = {
        .d_ino = ino, .d_off = next, .d_reclen = (uint16_t)reclen, .d_type = type};
    char *rec = buf + *used;
    memset(rec, 0, reclen);
    memcpy(rec, &hdr, ABI_DIRENT64_NAME_OFFSET);
    memcpy(rec + ABI_DIRENT64_NAME_OFFSET, name, nlen);
    *used += reclen;
    return true;
}

int64_t vfs_dir_lseek(struct vfs_file *f, int64_t off, int whence)
{
    int64_t at;
    if (whence == ABI_SEEK_SET)
        at = off;
    else if (whence == ABI_SEEK_CUR && !(off > 0 && f->pos > INT64_MAX - off))
        at = f->pos + off;
    else
        return -ABI_EINVAL;
    if (at < 0)
        return -ABI_EINVAL;
    f->pos = at;
    return at;
}
