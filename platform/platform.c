/* The platform-independent half: choosing an implementation, the stub page,
 * the host vDSO, and the dispatch behind platform.h. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/platform_impl.h"
#include "platform/stub_layout.h"

/* The host vDSO and its data pages ([vvar], [vvar_vclock]) form one block
 * that every stub keeps; guests use it for clock_gettime and friends without
 * trapping. /proc/self/maps is the only place that tells where the data pages
 * are; it is read once, before the Sentry gives up its view of /proc. */
static void find_vdso(struct platform *p)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return;
    char line[512];
    uint64_t lo = 0, hi = 0, vdso = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long s, e;
        if (sscanf(line, "%llx-%llx", &s, &e) != 2)
            continue;
        const char *name = strrchr(line, ' ');
        if (!name)
            continue;
        name++;
        if (strncmp(name, "[vvar", 5) != 0 && strncmp(name, "[vdso]", 6) != 0)
            continue;
        if (strncmp(name, "[vdso]", 6) == 0)
            vdso = s;
        if (lo == 0 || s < lo)
            lo = s;
        if (e > hi)
            hi = e;
    }
    fclose(f);
    /* Only a block above the stub can be kept: the stub unmaps everything
     * between them, and the guest's range ends at the stub. */
    if (vdso && lo >= STUB_BASE + STUB_SIZE && hi <= STUB_HOST_TASK_TOP) {
        p->vdso_lo = lo;
        p->vdso_hi = hi;
        p->vdso_base = vdso;
    }
}

int platform_stub_install(struct platform *p, const void *code, size_t len, const char **why)
{
    if (len == 0 || len > STUB_SIZE) {
        *why = "stub code does not fit its page";
        return -EINVAL;
    }
    /* Copy the stub into a sealed memfd and map it read-only: stubs inherit
     * the mapping at fork, and nothing can write the code afterwards. */
    int fd = memfd_create("moat-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        *why = "memfd_create for the stub failed";
        return -errno;
    }
    int err = 0;
    if (ftruncate(fd, STUB_SIZE) < 0 || pwrite(fd, code, len, 0) != (ssize_t)len ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        err = -errno;
        *why = "cannot prepare the stub memfd";
        close(fd);
        return err;
    }
    void *at = mmap((void *)STUB_BASE, STUB_SIZE, PROT_READ | PROT_EXEC,
                    MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
    close(fd);
    if (at == MAP_FAILED || at != (void *)STUB_BASE) {
        if (at != MAP_FAILED)
            munmap(at, STUB_SIZE);
        *why = "the stub address is already in use in the Sentry";
        return -EEXIST;
    }
    find_vdso(p);
    return 0;
}

int platform_create(enum platform_kind kind, int memfd, unsigned flags, struct platform **out,
                    const char **why)
{
    *why = NULL;
    switch (kind) {
    case PLATFORM_PTRACE:
        return platform_ptrace_create(memfd, out, why);
    case PLATFORM_SYSTRAP:
        return platform_systrap_create(memfd, flags, out, why);
    }
    *why = "unknown platform";
    return -EINVAL;
}

void platform_destroy(struct platform *p)
{
    if (p)
        p->ops->destroy(p);
}

const char *platform_name(const struct platform *p)
{
    return p->name;
}

size_t platform_stats(const struct platform *p, char *buf, size_t len)
{
    return p->ops->stats ? p->ops->stats(p, buf, len) : 0;
}

int platform_host_socket(const struct platform *p)
{
    return p->ops->host_socket ? p->ops->host_socket(p) : -1;
}

uint64_t platform_max_addr(const struct platform *p)
{
    (void)p;
    return STUB_BASE;
}

size_t platform_reserved(const struct platform *p, struct platform_range *out, size_t max)
{
    size_t n = 0;
    if (n < max)
        out[n] = (struct platform_range){STUB_BASE, STUB_BASE + STUB_SIZE};
    n++;
    if (p->vdso_lo) {
        if (n < max)
            out[n] = (struct platform_range){p->vdso_lo, p->vdso_hi};
        n++;
    }
    if (p->extra_lo) {
        if (n < max)
            out[n] = (struct platform_range){p->extra_lo, p->extra_hi};
        n++;
    }
    return n;
}

unsigned platform_patch_slots(const struct platform *p)
{
    return p->patch_slots;
}

void platform_patch_code(const struct platform *p, unsigned k, uint8_t out[7])
{
    p->ops->patch_code(k, out);
}

uint64_t platform_vdso_base(const struct platform *p)
{
    return p->vdso_base;
}

int platform_as_create(struct platform *p, struct platform_as **out)
{
    return p->ops->as_create(p, out);
}

void platform_as_destroy(struct platform_as *as)
{
    if (as)
        as->p->ops->as_destroy(as);
}

int platform_as_map(struct platform_as *as, uint64_t addr, uint64_t len, int prot, uint64_t off)
{
    return as->p->ops->as_map(as, addr, len, prot, off);
}

bool platform_as_map_many_cheap(const struct platform_as *as)
{
    return as->p->ops->as_map_many != NULL;
}

int platform_as_map_many(struct platform_as *as, const struct platform_map *m, unsigned n)
{
    const struct platform_ops *ops = as->p->ops;
    if (ops->as_map_many)
        return ops->as_map_many(as, m, n);
    for (unsigned i = 0; i < n; i++) {
        int r = ops->as_map(as, m[i].addr, m[i].len, m[i].prot, m[i].off);
        if (r)
            return r;
    }
    return 0;
}

int platform_as_unmap(struct platform_as *as, uint64_t addr, uint64_t len)
{
    return as->p->ops->as_unmap(as, addr, len);
}

int platform_as_protect(struct platform_as *as, uint64_t addr, uint64_t len, int prot)
{
    return as->p->ops->as_protect(as, addr, len, prot);
}

int platform_as_host_pid(const struct platform_as *as)
{
    return as->p->ops->as_host_pid(as);
}

int platform_ctx_create(struct platform_as *as, struct platform_ctx **out)
{
    return as->p->ops->ctx_create(as, out);
}

int platform_ctx_clone(struct platform_ctx *parent, struct platform_ctx **out)
{
    return parent->as->p->ops->ctx_clone(parent, out);
}

int platform_ctx_attach(struct platform_ctx *ctx)
{
    return ctx->as->p->ops->ctx_attach(ctx);
}

void platform_ctx_destroy(struct platform_ctx *ctx)
{
    if (ctx)
        ctx->as->p->ops->ctx_destroy(ctx);
}

struct abi_ptregs *platform_ctx_regs(struct platform_ctx *ctx)
{
    return ctx->as->p->ops->ctx_regs(ctx);
}

int platform_ctx_get_fpu(struct platform_ctx *ctx, struct abi_fxsave *out)
{
    return ctx->as->p->ops->ctx_get_fpu(ctx, out);
}

int platform_ctx_set_fpu(struct platform_ctx *ctx, const struct abi_fxsave *in)
{
    return ctx->as->p->ops->ctx_set_fpu(ctx, in);
}

int platform_ctx_get_xstate(struct platform_ctx *ctx, void *buf, size_t cap, size_t *len)
{
    if (!ctx->as->p->ops->ctx_get_xstate)
        return -ENOSYS;
    return ctx->as->p->ops->ctx_get_xstate(ctx, buf, cap, len);
}

int platform_ctx_set_xstate(struct platform_ctx *ctx, const void *buf, size_t len)
{
    if (!ctx->as->p->ops->ctx_set_xstate)
        return -ENOSYS;
    return ctx->as->p->ops->ctx_set_xstate(ctx, buf, len);
}

/* Every XSAVE component in its init state (AVX and AVX-512 included), as
 * Linux leaves them after exec and at a signal handler's entry: an image
 * with an empty XSAVE header. Without XSAVE, the x87/SSE defaults. */
int platform_ctx_reset_fpu(struct platform_ctx *ctx)
{
    static _Thread_local _Alignas(64) uint8_t img[16384];
    size_t len = 0;
    if (platform_ctx_get_xstate(ctx, img, sizeof(img), &len) == 0 && len >= 576 &&
        len <= sizeof(img)) {
        uint32_t mask;
        memcpy(&mask, img + offsetof(struct abi_fxsave, mxcsr_mask), sizeof(mask));
        memset(img, 0, len);
        struct abi_fxsave *fx = (struct abi_fxsave *)(void *)img;
        fx->cwd = ABI_FPU_DEFAULT_CWD;
        fx->mxcsr = ABI_FPU_DEFAULT_MXCSR;
        fx->mxcsr_mask = mask;
        if (platform_ctx_set_xstate(ctx, img, len) == 0)
            return 0;
    }
    struct abi_fxsave fx;
    memset(&fx, 0, sizeof(fx));
    fx.cwd = ABI_FPU_DEFAULT_CWD;
    fx.mxcsr = ABI_FPU_DEFAULT_MXCSR;
    return platform_ctx_set_fpu(ctx, &fx);
}

int platform_ctx_run(struct platform_ctx *ctx, struct platform_event *ev)
{
    return ctx->as->p->ops->ctx_run(ctx, ev);
}

void platform_ctx_interrupt(struct platform_ctx *ctx)
{
    ctx->as->p->ops->ctx_interrupt(ctx);
}
