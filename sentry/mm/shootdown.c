/* Stub unmaps on behalf of another thread.
 *
 * The platform lets only a thread running a task of an address space change
 * that address space's stub. When a file shrinks, the thread shrinking it
 * must still take the file's pages away from every process mapping them, so
 * for each one it records the ranges here and has the kernel stop that
 * process's guest code (the quiesce hook) until one of its own threads calls
 * mm_apply_pending. The memory behind the ranges is freed only after the
 * hook returned, so no guest instruction can reach it in between.
 *
 * Records need memory; when it cannot be had the address space is flagged
 * to drop every stub mapping instead, which is always safe (the stub is
 * refilled by faults).
 */
#include <stdlib.h>

#include "abi/errno.h"
#include "sentry/mm/mm_internal.h"

static const struct mm_shootdown_ops *sd_ops;
static void *sd_arg;

void mm_set_shootdown(const struct mm_shootdown_ops *ops, void *arg)
{
    sd_ops = ops;
    sd_arg = arg;
}

bool mm_shootdown_enabled(void)
{
    return sd_ops && sd_ops->quiesce;
}

void mm_shootdown_quiesce(struct mm *mm)
{
    sd_ops->quiesce(sd_arg, mm);
}

void mm_pending_add(struct mm *mm, uint64_t start, uint64_t end)
{
    if (mm->pending_all)
        return;
    if (mm->npending) {
        struct mm_range *last = &mm->pending[mm->npending - 1];
        if (start <= last->end && end >= last->start) {
            last->start = start < last->start ? start : last->start;
            last->end = end > last->end ? end : last->end;
            return;
        }
    }
    if (mm->npending == mm->pending_cap) {
        size_t cap = mm->pending_cap ? mm->pending_cap * 2 : 8;
        struct mm_range *n = realloc(mm->pending, cap * sizeof(*n));
        if (!n) {
            mm->pending_all = true;
            return;
        }
        mm->pending = n;
        mm->pending_cap = cap;
    }
    mm->pending[mm->npending++] = (struct mm_range){start, end};
}

void mm_pending_clear(struct mm *mm)
{
    free(mm->pending);
    mm->pending = NULL;
    mm->npending = mm->pending_cap = 0;
    mm->pending_all = false;
}

bool mm_has_pending(const struct mm *mm)
{
    return mm->npending || mm->pending_all;
}

int mm_apply_pending(struct mm *mm)
{
    if (!mm_has_pending(mm))
        return 0;
    int err = 0;
    if (mm->as && mm->pending_all) {
        for (size_t i = 0; i < mm->vmas.n; i++) {
            struct mm_vma *v = mm->vmas.v[i];
            if (!v->in_stub)
                continue;
            int r = platform_as_unmap(mm->as, v->start, v->end - v->start);
            if (r && !err)
                err = r;
            v->in_stub = false;
        }
    } else if (mm->as) {
        for (size_t i = 0; i < mm->npending; i++) {
            const struct mm_range *p = &mm->pending[i];
            int r = platform_as_unmap(mm->as, p->start, p->end - p->start);
            if (r && !err)
                err = r;
        }
    }
    /* Kept small: most processes never see a shootdown. */
    mm_pending_clear(mm);
    return err;
}
