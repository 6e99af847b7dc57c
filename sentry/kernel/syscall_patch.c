/* Syscall patching, the Sentry's half.
 *
 * A trapped syscall costs a host signal each way. When the instruction that
 * trapped is the end of `mov $nr, %eax; syscall` in program text, the
 * Sentry rewrites those 7 bytes with the platform's jump through trampoline
 * k, and from then on the site enters the Sentry without a signal. This
 * file keeps, per address space (struct task_vm), which site and number
 * each trampoline stands for, and repairs what the rewrite races with:
 *
 * - another thread reaching the site while the bytes change: with other
 *   threads in the address space the site's first byte becomes int3 first,
 *   then the rest, then the jump's opcode; a thread that meets the int3 is
 *   sent back to the site (we hold the kernel lock, so by the time its
 *   fault is handled the patch is whole);
 * - a thread that ran the old mov and then finds the jump's 06 byte where
 *   its syscall was (or code that jumps straight to that syscall): its
 *   SIGILL at site+5 becomes the syscall its eax names.
 *
 * A site is rewritten only at its third trap (PATCH_AFTER).
 */
#include "sentry/kernel/syscall_patch.h"

#include <stdlib.h>
#include <string.h>

#include "abi/errno.h"
#include "abi/signal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/mm/mm.h"

#define SITE_LEN 7
/* Sites found unfit are remembered, so they are not read again at each
 * call; this many at most per address space. */
#define NEG_MAX 4096
/* A site is rewritten at its third trap. Patching costs a copy of the
 * chunk (program text is shared copy-on-write) and two round trips to the
 * stub (the old mapping goes, the new one faults in): more than a few
 * traps, so the sites of a short-lived process (a compiler's driver, a
 * shell's child) are better left alone. */
#define PATCH_AFTER 3

struct site {
    uint64_t addr;
    uint32_t nr;
};

/* Open addressing: addr -> k + 1, or 0 for "never patch", or a trap
 * count (PENDING | n) for a fit site not yet patched. */
struct hslot {
    uint64_t addr; /* 0: empty (no site sits at address 0) */
    uint32_t val;
};
#define PENDING 0x80000000u

struct syscall_patches {
    struct site *by_k;
    unsigned n, cap;
    struct hslot *h;
    unsigned hcap, hn, neg;
};

static unsigned hash(uint64_t a, unsigned cap)
{
    return (unsigned)((a * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static struct hslot *lookup(const struct syscall_patches *p, uint64_t addr)
{
    if (!p || !p->hcap)
        return NULL;
    for (unsigned i = hash(addr, p->hcap);; i = (i + 1) & (p->hcap - 1)) {
        if (p->h[i].addr == addr)
            return &p->h[i];
        if (p->h[i].addr == 0)
            return NULL;
    }
}

static int insert(struct syscall_patches *p, uint64_t addr, uint32_t val)
{
    if ((p->hn + 1) * 2 > p->hcap) {
        unsigned ncap = p->hcap ? p->hcap * 2 : 256;
        struct hslot *nh = calloc(ncap, sizeof(*nh));
        if (!nh)
            return -ABI_ENOMEM;
        for (unsigned i = 0; i < p->hcap; i++) {
            if (!p->h[i].addr)
                continue;
            unsigned j = hash(p->h[i].addr, ncap);
            while (nh[j].addr)
                j = (j + 1) & (ncap - 1);
            nh[j] = p->h[i];
        }
        free(p->h);
        p->h = nh;
        p->hcap = ncap;
    }
    unsigned i = hash(addr, p->hcap);
    while (p->h[i].addr && p->h[i].addr != addr)
        i = (i + 1) & (p->hcap - 1);
    if (!p->h[i].addr)
        p->hn++;
    p->h[i] = (struct hslot){addr, val};
    return 0;
}

static struct syscall_patches *patches_of(struct task *t)
{
    if (!t->vm->patches)
        t->vm->patches = calloc(1, sizeof(*t->vm->patches));
    return t->vm->patches;
}

static void remember_unfit(struct syscall_patches *p, uint64_t addr)
{
    /* A site already patched stays so: a thread whose syscall trapped just
     * before the patch landed finds the jump there, not the mov, and its
     * siblings still need the entry for their faults at site+5. */
    struct hslot *h = lookup(p, addr);
    if (h) {
        if (h->val & PENDING) {
            h->val = 0;
            p->neg++;
        }
        return;
    }
    if (p->neg < NEG_MAX && insert(p, addr, 0) == 0)
        p->neg++;
}

/* Write the jump so that no other thread ever runs a mix of old and new
 * bytes (see the top of the file). */
static int write_site(struct task *t, uint64_t site, const uint8_t code[SITE_LEN])
{
    if (t->vm->refs == 1)
        return mm_copy_out_force(t->mm, site, code, SITE_LEN);
    static const uint8_t int3 = 0xcc;
    int err = mm_copy_out_force(t->mm, site, &int3, 1);
    if (!err)
        err = mm_copy_out_force(t->mm, site + 5, code + 5, 2);
    if (!err)
        err = mm_copy_out_force(t->mm, site + 1, code + 1, 4);
    if (!err)
        err = mm_copy_out_force(t->mm, site, code, 1);
    return err;
}

void syscall_patch_try(struct task *t, const struct abi_ptregs *r)
{
    unsigned slots = platform_patch_slots(t->k->platform);
    if (!slots || r->rip < SITE_LEN || r->orig_rax > UINT32_MAX)
        return;
    uint64_t site = r->rip - SITE_LEN;
    struct syscall_patches *p = patches_of(t);
    if (!p)
        return;
    struct hslot *known = lookup(p, site);
    if (known && known->val == 0)
        return;
    if (known && (known->val & PENDING) && (known->val & ~PENDING) + 1 < PATCH_AFTER) {
        known->val++;
        return;
    }
    uint8_t cur[SITE_LEN];
    if (!mm_code_patchable(t->mm, site, SITE_LEN) || mm_copy_in(t->mm, cur, site, SITE_LEN) != 0) {
        remember_unfit(p, site);
        return;
    }
    uint32_t imm;
    memcpy(&imm, cur + 1, sizeof(imm));
    if (cur[0] != 0xb8 || cur[5] != 0x0f || cur[6] != 0x05 || imm != (uint32_t)r->orig_rax) {
        /* The trapping syscall was reached some other way: other code may
         * jump to it with other numbers, so the mov is not ours to fold. */
        remember_unfit(p, site);
        return;
    }
    if (!known && PATCH_AFTER > 1) {
        /* Its first trap: count it; the rewrite comes later, if ever. */
        if (p->hn - p->neg < 4 * (unsigned)slots)
            (void)insert(p, site, PENDING | 1);
        return;
    }
    unsigned k;
    if (known && !(known->val & PENDING)) {
        /* Patched before and written over since (the guest's own code,
         * or a debugger's): the trampoline is still this site's. */
        k = known->val - 1;
    } else {
        if (p->n >= slots)
            return;
        if (p->n == p->cap) {
            unsigned ncap = p->cap ? p->cap * 2 : 64;
            struct site *nb = realloc(p->by_k, ncap * sizeof(*nb));
            if (!nb)
                return;
            p->by_k = nb;
            p->cap = ncap;
        }
        k = p->n;
        if (insert(p, site, k + 1) != 0)
            return;
        p->n++;
    }
    p->by_k[k] = (struct site){site, imm};
    uint8_t code[SITE_LEN];
    platform_patch_code(t->k->platform, k, code);
    /* A failed write leaves the site trapping, as before. */
    (void)write_site(t, site, code);
}

/* The registers of call nr made at site, as a trap at its `syscall` would
 * have shown them: rcx and r11 as that instruction leaves them. */
static void as_trapped(struct abi_ptregs *r, uint64_t site, uint64_t nr)
{
    r->orig_rax = nr;
    r->rax = (uint64_t)-ABI_ENOSYS;
    r->rip = site + SITE_LEN;
    r->rcx = r->rip;
    r->r11 = r->eflags;
}

int syscall_patch_entered(struct task *t, struct abi_ptregs *r, unsigned patch)
{
    const struct syscall_patches *p = t->vm->patches;
    if (!p || patch == 0 || patch > p->n)
        return -ABI_EFAULT;
    const struct site *s = &p->by_k[patch - 1];
    as_trapped(r, s->addr, s->nr);
    return 0;
}

enum syscall_patch_fix syscall_patch_fault(struct task *t, const struct platform_event *ev)
{
    const struct syscall_patches *p = t->vm->patches;
    if (!p || !p->n)
        return SYSCALL_PATCH_NONE;
    struct abi_ptregs *r = platform_ctx_regs(t->ctx);
    uint64_t site;
    if (ev->signo == ABI_SIGTRAP && r->rip >= 1)
        site = r->rip - 1;
    else if (ev->signo == ABI_SIGILL && r->rip >= 5)
        site = r->rip - 5;
    else
        return SYSCALL_PATCH_NONE;
    const struct hslot *h = lookup(p, site);
    if (!h || h->val == 0 || (h->val & PENDING))
        return SYSCALL_PATCH_NONE;
    uint8_t cur[SITE_LEN], code[SITE_LEN];
    platform_patch_code(t->k->platform, h->val - 1, code);
    if (mm_copy_in(t->mm, cur, site, SITE_LEN) != 0 || memcmp(cur, code, SITE_LEN) != 0)
        return SYSCALL_PATCH_NONE;
    if (ev->signo == ABI_SIGTRAP) {
        r->rip = site;
        return SYSCALL_PATCH_RETRY;
    }
    as_trapped(r, site, r->rax);
    return SYSCALL_PATCH_SYSCALL;
}

struct syscall_patches *syscall_patches_clone(const struct syscall_patches *p, bool *ok)
{
    *ok = true;
    if (!p)
        return NULL;
    struct syscall_patches *c = calloc(1, sizeof(*c));
    if (c && p->cap)
        c->by_k = malloc(p->cap * sizeof(*c->by_k));
    if (c && p->hcap)
        c->h = malloc(p->hcap * sizeof(*c->h));
    if (!c || (p->cap && !c->by_k) || (p->hcap && !c->h)) {
        syscall_patches_free(c);
        *ok = false;
        return NULL;
    }
    if (p->n)
        memcpy(c->by_k, p->by_k, p->n * sizeof(*c->by_k));
    if (p->hcap)
        memcpy(c->h, p->h, p->hcap * sizeof(*c->h));
    c->n = p->n;
    c->cap = p->cap;
    c->hcap = p->hcap;
    c->hn = p->hn;
    c->neg = p->neg;
    return c;
}

void syscall_patches_free(struct syscall_patches *p)
{
    if (!p)
        return;
    free(p->by_k);
    free(p->h);
    free(p);
}
