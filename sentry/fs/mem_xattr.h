/* Extended attributes kept in Sentry memory, for in-memory filesystems
 * (tmpfs): a name-to-value list per inode with Linux's create/replace and
 * size-query rules. Names and permissions were checked by sentry/vfs/xattr.c. */
#ifndef MOAT_SENTRY_FS_MEM_XATTR_H
#define MOAT_SENTRY_FS_MEM_XATTR_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of names and values one inode may hold: xattrs live in the
 * Sentry's heap, so a guest must not grow it without bound. */
#define MEM_XATTR_MAX_BYTES (1u << 20)
/* The same for all inodes together, counting each entry's bookkeeping
 * (MEM_XATTR_OVERHEAD) too: a tmpfs may hold a million inodes, and 1 MiB
 * of attributes on each would be a terabyte of heap. */
#define MEM_XATTR_TOTAL_BYTES (64u << 20)
#define MEM_XATTR_OVERHEAD    64u

struct mem_xattr;

struct mem_xattrs {
    struct mem_xattr *head; /* sorted by name */
    size_t bytes;
};

int64_t mem_xattr_get(const struct mem_xattrs *x, const char *name, void *buf, size_t size);
/* flags: ABI_XATTR_CREATE (-EEXIST if present), ABI_XATTR_REPLACE
 * (-ENODATA if absent); -ENOSPC past MEM_XATTR_MAX_BYTES or
 * MEM_XATTR_TOTAL_BYTES. */
int mem_xattr_set(struct mem_xattrs *x, const char *name, const void *value, size_t size,
                  int flags);
/* The NUL-terminated names one after the other. */
int64_t mem_xattr_list(const struct mem_xattrs *x, char *buf, size_t size);
int mem_xattr_remove(struct mem_xattrs *x, const char *name);
void mem_xattr_free(struct mem_xattrs *x);

#endif
