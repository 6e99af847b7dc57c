/* In-memory extended attributes: a sorted singly linked list, which is
 * plenty for the handful of attributes a file carries. */
#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/fs/mem_xattr.h"

struct mem_xattr {
    struct mem_xattr *next;
    char *name;
    size_t size;
    unsigned char value[];
};

/* Bytes charged against MEM_XATTR_TOTAL_BYTES, over every inode. The
 * VFS's callers serialise, as for the lists themselves. */
static size_t total;

static size_t cost(const char *name, size_t size)
{
    return strlen(name) + 1 + size;
}

/* What an entry of that cost takes from the heap, roughly. */
static size_t heap_cost(size_t c)
{
    return c + MEM_XATTR_OVERHEAD;
}

/* The link that points at name's entry, or where it would be inserted. */
static struct mem_xattr **find(struct mem_xattr **pp, const char *name)
{
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) >= 0)
            break;
    }
    return pp;
}

static struct mem_xattr *lookup(const struct mem_xattrs *x, const char *name)
{
    struct mem_xattr **pp = find((struct mem_xattr **)&x->head, name);
    return *pp && strcmp((*pp)->name, name) == 0 ? *pp : NULL;
}

int64_t mem_xattr_get(const struct mem_xattrs *x, const char *name, void *buf, size_t size)
{
    const struct mem_xattr *e = lookup(x, name);
    if (!e)
        return -ABI_ENODATA;
    if (size) {
        if (e->size > size)
            return -ABI_ERANGE;
        memcpy(buf, e->value, e->size);
    }
    return (int64_t)e->size;
}

int mem_xattr_set(struct mem_xattrs *x, const char *name, const void *value, size_t size, int flags)
{
    struct mem_xattr **pp = find(&x->head, name);
    struct mem_xattr *old = *pp && strcmp((*pp)->name, name) == 0 ? *pp : NULL;
    if (old && (flags & ABI_XATTR_CREATE))
        return -ABI_EEXIST;
    if (!old && (flags & ABI_XATTR_REPLACE))
        return -ABI_ENODATA;
    size_t freed = old ? cost(old->name, old->size) : 0;
    size_t need = cost(name, size);
    if (x->bytes - freed + need > MEM_XATTR_MAX_BYTES)
        return -ABI_ENOSPC;
    size_t hfreed = old ? heap_cost(freed) : 0;
    if (total - hfreed + heap_cost(need) > MEM_XATTR_TOTAL_BYTES)
        return -ABI_ENOSPC;
    struct mem_xattr *e = malloc(sizeof(*e) + size);
    char *dup = strdup(name);
    if (!e || !dup) {
        free(e);
        free(dup);
        return -ABI_ENOMEM;
    }
    e->name = dup;
    e->size = size;
    if (size)
        memcpy(e->value, value, size);
    e->next = old ? old->next : *pp;
    *pp = e;
    if (old) {
        free(old->name);
        free(old);
    }
    x->bytes = x->bytes - freed + need;
    total = total - hfreed + heap_cost(need);
    return 0;
}

int64_t mem_xattr_list(const struct mem_xattrs *x, char *buf, size_t size)
{
    size_t total = 0;
    for (const struct mem_xattr *e = x->head; e; e = e->next) {
        size_t l = strlen(e->name) + 1;
        if (size) {
            if (total + l > size)
                return -ABI_ERANGE;
            memcpy(buf + total, e->name, l);
        }
        total += l;
    }
    return (int64_t)total;
}

int mem_xattr_remove(struct mem_xattrs *x, const char *name)
{
    struct mem_xattr **pp = find(&x->head, name);
    struct mem_xattr *e = *pp;
    if (!e || strcmp(e->name, name) != 0)
        return -ABI_ENODATA;
    *pp = e->next;
    x->bytes -= cost(e->name, e->size);
    total -= heap_cost(cost(e->name, e->size));
    free(e->name);
    free(e);
    return 0;
}

void mem_xattr_free(struct mem_xattrs *x)
{
    for (struct mem_xattr *e = x->head, *next; e; e = next) {
        next = e->next;
        total -= heap_cost(cost(e->name, e->size));
        free(e->name);
        free(e);
    }
    x->head = NULL;
    x->bytes = 0;
}
