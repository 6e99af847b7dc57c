/* File mappings inside mm: the refcounted mapped file a file object holds,
 * the shared pages of a file (struct mm_fpages) and filling private chunks
 * from the file. The VFS side is described in mm.h (struct mm_file_desc). */
#ifndef MOAT_SENTRY_MM_FILEMAP_H
#define MOAT_SENTRY_MM_FILEMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/mm/mm.h"

struct mm_chunk;
struct mm_memobj;

/* One mapped open file: what every file object of one mmap call refers to. */
struct mm_file {
    uint32_t refs;
    const struct mm_file_ops *ops;
    void *h; /* one reference (ops->get) */
    struct mm_fpages *pages;
    char *name;
    uint64_t dev, ino;
};

struct mm_fpages {
    const struct mm_fpages_ops *ops;
    void *owner;
    uint64_t nobjs; /* file objects (private or shared) mapping these pages */
};

/* A new mapped file with one reference, or NULL when out of memory. */
struct mm_file *mm_file_new(const struct mm_file_desc *d);
void mm_file_get(struct mm_file *f);
void mm_file_put(struct mm_file *f);
uint64_t mm_file_size(const struct mm_file *f);

/* Reads the unfilled pages [first, last) of chunk c (object offset cs) of
 * private file object o from the file, whose size is size: one read per run
 * of pages, straight into the memory file. Pages past the end of the file
 * stay unfilled (zeros). 0 or -EIO. */
int mm_file_fill(struct mm_memobj *o, struct mm_chunk *c, uint64_t cs, unsigned first,
                 unsigned last, uint64_t size);

/* Every address space, so that truncation can find the mappings of a file. */
void mm_registry_add(struct mm *mm);
void mm_registry_remove(struct mm *mm);

#endif
