/* The page cache of one goferfs file while MAP_SHARED mappings of it exist:
 * pages of the memory file that the mappings map directly, filled from the
 * donated host fd and written back to it (msync, fsync, the last munmap).
 * goferfs's read and write consult it while it holds pages, so mappings and
 * read(2)/write(2) stay coherent. Only goferfs.c uses it. */
#ifndef MOAT_SENTRY_FS_GOFER_PAGECACHE_H
#define MOAT_SENTRY_FS_GOFER_PAGECACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/mm/mm.h"

struct vfs_file;
struct gofer_pagecache;

struct gofer_pagecache *gofer_pagecache_new(void);
void gofer_pagecache_free(struct gofer_pagecache *pc);
struct mm_fpages *gofer_pagecache_fpages(struct gofer_pagecache *pc);
/* f (host fd fd) is being mapped: the cache does its I/O through it,
 * preferring a writable one, and holds a reference until the last
 * mapping goes. 0 or -ENOMEM. */
int gofer_pagecache_attach(struct gofer_pagecache *pc, struct vfs_file *f, int fd, bool writable);
/* buf holds n bytes read from the host at off: cached pages are newer. */
void gofer_pagecache_read(struct gofer_pagecache *pc, void *buf, uint64_t n, uint64_t off);
/* n bytes were written to the host at off: cached pages take them too. */
void gofer_pagecache_write(struct gofer_pagecache *pc, const void *buf, uint64_t n, uint64_t off);
/* The file is being truncated to size. */
void gofer_pagecache_truncate(struct gofer_pagecache *pc, uint64_t size);
/* Writes dirty pages back (fsync). 0 or -errno. */
int gofer_pagecache_sync(struct gofer_pagecache *pc);
/* The host file changed behind the cache (fallocate through the Gofer):
 * call sync before, refresh after; cached pages are read again and pages
 * past the new end leave every mapping. */
void gofer_pagecache_refresh(struct gofer_pagecache *pc);

#endif
