/* What every platform implementation provides; private to platform/. */
#ifndef MOAT_PLATFORM_PLATFORM_IMPL_H
#define MOAT_PLATFORM_PLATFORM_IMPL_H

#include "platform/platform.h"

struct platform_ops {
    void (*destroy)(struct platform *p);
    int (*host_socket)(const struct platform *p);                     /* optional */
    size_t (*stats)(const struct platform *p, char *buf, size_t len); /* optional */
    int (*as_create)(struct platform *p, struct platform_as **out);
    void (*as_destroy)(struct platform_as *as);
    int (*as_map)(struct platform_as *as, uint64_t addr, uint64_t len, int prot, uint64_t off);
    int (*as_map_many)(struct platform_as *as, const struct platform_map *m,
                       unsigned n); /* optional: else one as_map each */
    int (*as_unmap)(struct platform_as *as, uint64_t addr, uint64_t len);
    int (*as_protect)(struct platform_as *as, uint64_t addr, uint64_t len, int prot);
    int (*as_host_pid)(const struct platform_as *as);
    int (*ctx_create)(struct platform_as *as, struct platform_ctx **out);
    int (*ctx_clone)(struct platform_ctx *parent, struct platform_ctx **out);
    int (*ctx_attach)(struct platform_ctx *ctx);
    void (*ctx_destroy)(struct platform_ctx *ctx);
    struct abi_ptregs *(*ctx_regs)(struct platform_ctx *ctx);
    int (*ctx_get_fpu)(struct platform_ctx *ctx, struct abi_fxsave *out);
    int (*ctx_set_fpu)(struct platform_ctx *ctx, const struct abi_fxsave *in);
    int (*ctx_get_xstate)(struct platform_ctx *ctx, void *buf, size_t cap, size_t *len);
    int (*ctx_set_xstate)(struct platform_ctx *ctx, const void *buf, size_t len);
    int (*ctx_run)(struct platform_ctx *ctx, struct platform_event *ev);
    void (*ctx_interrupt)(struct platform_ctx *ctx);
    void (*patch_code)(unsigned k, uint8_t out[7]); /* when patch_slots > 0 */
};

/* Every implementation embeds this first. Address spaces and contexts are
 * the implementation's own structs; the generic layer reaches the ops through
 * the owning platform, which each implementation records. */
struct platform {
    const struct platform_ops *ops;
    const char *name;
    uint64_t vdso_lo, vdso_hi;   /* host [vvar] + [vdso] block, kept in every stub */
    uint64_t vdso_base;          /* the [vdso] ELF image itself */
    uint64_t extra_lo, extra_hi; /* one more range the guest may not map (systrap's patch area) */
    unsigned patch_slots;        /* see platform_patch_slots */
};

/* Map the stub code at STUB_BASE in the Sentry (so forked stubs inherit it)
 * and find the host vDSO. Runs before the Sentry confines itself. */
int platform_stub_install(struct platform *p, const void *code, size_t len, const char **why);

int platform_ptrace_create(int memfd, struct platform **out, const char **why);
int platform_systrap_create(int memfd, unsigned flags, struct platform **out, const char **why);

/* Implementations embed these first in their own address-space and context
 * structs, so the generic layer can find the ops. */
struct platform_as {
    struct platform *p;
};
struct platform_ctx {
    struct platform_as *as;
};

#endif
