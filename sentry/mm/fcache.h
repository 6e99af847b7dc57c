/* The file chunk cache: chunks of files mapped privately (program text,
 * libraries), filled once and shared copy-on-write by the objects of every
 * address space that maps the same bytes, as Linux shares the page cache.
 * Under the kernel lock, like the rest of mm. */
#ifndef MOAT_SENTRY_MM_FCACHE_H
#define MOAT_SENTRY_MM_FCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/mm/filemap.h"
#include "sentry/mm/memobj.h"

/* The file's version (mm_file_ops), 0 when it has none: not cacheable. */
uint64_t mm_fcache_version(const struct mm_file *f);
/* The chunk holding the file's bytes [off, off + MM_CHUNK_SIZE) at version
 * (the file as it is now, from mm_fcache_version), with one reference for
 * the caller, or NULL when the file is not cacheable (version 0), the
 * cache is full of chunks in use, or memory or the read failed (the caller
 * then fills a chunk of its own as before). size: the file's current
 * size. */
struct mm_chunk *mm_fcache_chunk(struct mm_memfile *mf, struct mm_file *f, uint64_t off,
                                 uint64_t size, uint64_t version);
/* Whether the window is cached at this version (f->ops->version's). */
bool mm_fcache_has(const struct mm_memfile *mf, const struct mm_file *f, uint64_t off,
                   uint64_t version);
/* Let go of every chunk only the cache holds (memory is short). Returns
 * how many. */
unsigned mm_fcache_shrink(struct mm_memfile *mf);
/* Drop everything of mf (before it goes). */
void mm_fcache_forget(struct mm_memfile *mf);

#endif
