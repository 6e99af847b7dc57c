/* Pieces of the systrap platform shared between its files; private to
 * platform/systrap/. */
#ifndef MOAT_PLATFORM_SYSTRAP_SYSTRAP_H
#define MOAT_PLATFORM_SYSTRAP_SYSTRAP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "platform/stub_layout.h"
#include "platform/systrap/sysmsg.h"

extern const char systrap_stub_start[], systrap_entry[], systrap_birth[], systrap_handler[],
    systrap_handler_end[], systrap_restorer[], systrap_stub_end[], systrap_patch_entry[],
    systrap_patch_published[], systrap_patch_trap[], systrap_patch_end[];

/* Syscall patching, as set up before the factory starts (its stubs inherit
 * the patch area and this). */
struct systrap_patch_cfg {
    bool on;
    uint64_t xfeatures; /* the components XSAVE stores in a patched frame */
};
extern struct systrap_patch_cfg systrap_patch;

/* Map the patch area (table and trampolines, see sysmsg.h) at PATCH_BASE
 * in the Sentry, read-only, so that the factory and its stubs inherit it.
 * -errno with *why when the range is taken. */
int systrap_patch_area_create(const char **why);
/* The 7 bytes that send a patched site through trampoline k. */
void systrap_patch_code(unsigned k, uint8_t out[7]);

/* Where a stub symbol lives in every stub. */
static inline uint64_t systrap_stub_addr(const char *sym)
{
    return STUB_BASE + (uint64_t)(sym - systrap_stub_start);
}

/* The filter every stub thread carries from the start (the control thread
 * needs it to map memory and clone), and the one guest threads add on top:
 * host calls only from the signal handler, and only futex, rt_sigreturn and
 * exit there. Return the number of instructions written (at most max), or 0
 * if max is too small. */
size_t systrap_filter_base(struct sock_filter *out, size_t max);
size_t systrap_filter_guest(struct sock_filter *out, size_t max);

/* The stub factory: a small process forked before the Sentry confines
 * itself (so stubs never inherit the Sentry's own seccomp filter, which
 * kills on calls it does not list). It forks one stub per request. */
struct systrap_factory {
    int sock;  /* the Sentry's end */
    pid_t pid; /* the factory */
};

/* A new stub from the factory: its pid, a pidfd for it, the eventfd its
 * control thread writes after each batch, and the memfd of its shared
 * region (already laid out: command page, slot 0 armed). */
struct systrap_stub_fds {
    pid_t pid;
    int pidfd;
    int donefd;
    int shmfd;
};

int systrap_factory_start(struct systrap_factory *f, int memfd, uint64_t vdso_lo, uint64_t vdso_hi,
                          const char **why);
int systrap_factory_spawn(struct systrap_factory *f, struct systrap_stub_fds *out);
void systrap_factory_stop(struct systrap_factory *f);

/* Write the parts of a fresh shared region the stub needs before its first
 * instruction: the guest filter and its sock_fprog, the CPU flags, and
 * slot 0's state and alternate stack. */
void systrap_region_init(uint8_t *region);
/* Arm a slot for a thread about to be born: state RUN and its signal stack. */
void systrap_slot_arm(uint8_t *region, unsigned slot);

#endif
