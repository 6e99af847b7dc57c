/* Guest memory: the Sentry's memory file and guest address spaces.
 *
 * All guest-visible memory lives in one memfd owned by the Sentry
 * (struct mm_memfile). The Sentry maps the whole file into its own address
 * space, so copy-in/copy-out is a memcpy after a VMA lookup. Stub address
 * spaces get ranges of the same file mapped lazily, on guest faults, through
 * the platform.
 */
#ifndef MOAT_SENTRY_MM_MM_H
#define MOAT_SENTRY_MM_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct platform;
struct platform_as;

#define MM_PAGE_SIZE 4096ULL

/* ---- memory file ---- */

struct mm_memfile;

/* max_bytes bounds the file (and the Sentry's reservation for it). */
int mm_memfile_create(uint64_t max_bytes, struct mm_memfile **out);
void mm_memfile_destroy(struct mm_memfile *mf);
int mm_memfile_fd(const struct mm_memfile *mf);
/* Allocate len bytes (a multiple of the page size), zero-filled. Returns the
 * file offset or -ENOMEM. */
int64_t mm_memfile_alloc(struct mm_memfile *mf, uint64_t len);
/* Release a range; its pages go back to the host (hole punched). */
void mm_memfile_free(struct mm_memfile *mf, uint64_t off, uint64_t len);
/* The Sentry's own mapping of file offset off. */
void *mm_memfile_ptr(const struct mm_memfile *mf, uint64_t off);
/* Bytes currently allocated (for /proc/meminfo later, and tests). */
uint64_t mm_memfile_used(const struct mm_memfile *mf);

/* ---- address spaces ---- */

struct mm;

/* VMA flags beyond protection. */
#define MM_VMA_SHARED    0x1 /* MAP_SHARED: writes visible to every mapper */
#define MM_VMA_GROWSDOWN 0x2 /* stack: faults just below extend it */
#define MM_VMA_NORESERVE 0x4
/* Set by madvise, for fork and core dumps. */
#define MM_VMA_DONTFORK   0x8
#define MM_VMA_WIPEONFORK 0x10
#define MM_VMA_DONTDUMP   0x20
/* File mappings: Linux's VM_MAYWRITE / VM_MAYEXEC missing, so mprotect may
 * not add the protection (EACCES). */
#define MM_VMA_NOMAYWRITE 0x40
#define MM_VMA_NOMAYEXEC  0x80

/* as may be NULL (unit tests): nothing is then mapped in any stub. p may be
 * NULL too: the address space then ends at 0x7e0000000000 and has no
 * reserved ranges. */
int mm_create(struct mm_memfile *mf, struct platform *p, struct platform_as *as, struct mm **out);
/* Frees every VMA and its memory. It does not touch the stub: destroy the
 * platform_as first, since the freed memory is reused at once. */
void mm_destroy(struct mm *mm);

/* fork(2): a copy of parent for the child. The child has no stub yet
 * (bind one with mm_set_as before it first runs; its pages then fault in
 * lazily). Every VMA is copied with its name, file, flags and offsets, as
 * are the layout, brk and stack limit, except MM_VMA_DONTFORK ones (absent
 * in the child) and MM_VMA_WIPEONFORK ones (empty: zeros in the child).
 * Private memory (anonymous and private file mappings) becomes
 * copy-on-write: both sides keep the contents of the moment of the fork and
 * later writes of either are invisible to the other; shared memory stays
 * shared. Nothing is copied: cost follows the number of VMAs and 64 KiB
 * chunks, not bytes. Writes copy a chunk while the other side still holds
 * it, and take it back writable once it is alone.
 * Call it from a thread of parent's task: the parent's writable stub
 * mappings of now shared chunks are made read-only (platform_as_protect,
 * else unmapped). 0 or -ENOMEM (the parent is then unchanged). */
int mm_fork(struct mm *parent, struct mm **out);
/* Binds the stub address space of an mm created by mm_fork (by the child's
 * own Sentry thread, before the child first runs). */
void mm_set_as(struct mm *mm, struct platform_as *as);

/* ---- cross-address-space unmaps (shootdown) ----
 *
 * The platform only lets a thread running a task of an address space change
 * its stub. Most stub changes mm makes are for the calling task's own mm
 * (faults, mmap, munmap, fork's parent). A file shrinking or losing a hole
 * (mm_fpages_truncate, mm_fpages_punch) is the exception: the pages leave
 * every process mapping them, whoever truncates. With the hook installed
 * that goes as follows, for every address space with a stub whose mappings
 * the change reaches, the caller's own included:
 *   1. the stub ranges to drop are recorded in that mm ("pending");
 *   2. ops->quiesce(arg, mm) is called: when it returns, no thread of that
 *      mm runs guest code, and none will until it has called
 *      mm_apply_pending(mm). It is called with the kernel lock held and
 *      must not release it (the mm must not change meanwhile): threads of
 *      the mm have to leave guest code without the lock (an interrupt);
 *   3. only then is memory they may map freed (private copies discarded
 *      here, adding pending ranges; the file's pages by the caller after
 *      mm_fpages_truncate/punch returns).
 * The kernel calls mm_apply_pending(mm) in each task's run loop before it
 * returns to the guest, from a thread of that mm; mm_handle_fault does it
 * too. Without the hook (unit tests, one process) the stubs are changed
 * directly. */
struct mm_shootdown_ops {
    void (*quiesce)(void *arg, struct mm *mm);
};
/* Global; ops NULL removes the hook. */
void mm_set_shootdown(const struct mm_shootdown_ops *ops, void *arg);
/* Performs the recorded stub unmaps of mm. 0, or the first platform error
 * (the platform then never runs that stub's guest code again). */
int mm_apply_pending(struct mm *mm);
/* Whether mm has recorded unmaps (mm_apply_pending is cheap anyway). */
bool mm_has_pending(const struct mm *mm);

/* Layout chosen by the loader. */
void mm_set_mmap_base(struct mm *mm, uint64_t top); /* top-down allocations start below this */
void mm_set_brk_start(struct mm *mm, uint64_t start);
uint64_t mm_max_addr(const struct mm *mm);
/* RLIMIT_STACK: how far a MM_VMA_GROWSDOWN VMA may grow (default 8 MiB). */
void mm_set_stack_limit(struct mm *mm, uint64_t bytes);

/* ---- mapped files ----
 *
 * mm knows nothing of the VFS: the caller describes an open file with these
 * ops and an opaque handle (sentry/syscalls/sys_mm.c builds them from a
 * vfs_file). Every VMA of a file mapping holds a reference to the handle,
 * so the file stays open while mapped (Linux's vm_file). */
struct mm_file_ops {
    void (*get)(void *h);
    void (*put)(void *h);
    /* Up to len bytes at file offset off into buf (Sentry memory): a count,
     * short only at end of file, or -errno. */
    int64_t (*read)(void *h, void *buf, uint64_t len, uint64_t off);
    uint64_t (*size)(void *h);
    /* Optional: a number that changes whenever the file's contents may
     * have (0: never cache its bytes). Private mappings of files with a
     * version share their chunks through the file chunk cache. */
    uint64_t (*version)(void *h);
};

/* The pages of one file that MAP_SHARED mappings map directly, owned by the
 * filesystem's inode (created when the file is first mapped shared, kept
 * until the inode goes). The filesystem keeps the file's data, or a cache
 * of it, in memory-file pages and hands them out through these ops; its
 * read(2)/write(2) use the same pages, which is what keeps them coherent. */
struct mm_fpages_ops {
    /* The offset in mf (the memory file the mapper uses) of the file's
     * page at byte offset off (page aligned), created when missing. write:
     * a mapper is about to write it (a cache marks it dirty). -EIO when off
     * is past the end of the file, other -errno (-ENOSPC, -ENOMEM) when no
     * page can be had. */
    int64_t (*page)(void *owner, struct mm_memfile *mf, uint64_t off, bool write);
    uint64_t (*size)(void *owner);
    /* Writes pages dirtied through mappings in [off, off + len) back to the
     * file. NULL when the pages are the file's data (tmpfs). */
    int (*sync)(void *owner, uint64_t off, uint64_t len);
    /* No mapping uses the pages any more (NULL if nothing to do). */
    void (*unmapped)(void *owner);
};
struct mm_fpages;
struct mm_fpages *mm_fpages_create(const struct mm_fpages_ops *ops, void *owner);
/* The inode is going: no mapping can remain, since mappings hold the file. */
void mm_fpages_destroy(struct mm_fpages *fp);
/* The mmap the pages were handed out for failed: if nothing maps them,
 * their owner is told (ops->unmapped) as after a last munmap. */
void mm_fpages_idle(struct mm_fpages *fp);
/* Whether some mapping uses the pages (their memory must not be freed). */
bool mm_fpages_mapped(const struct mm_fpages *fp);
/* The file is about to shrink to size bytes: every address space drops its
 * stub mappings of the file (shared, and private copies too) from the page
 * after the new end, so the next access faults and sees SIGBUS as on Linux.
 * Call before freeing the pages. With a shootdown hook the stubs are
 * changed later by their own threads (see mm_set_shootdown). */
void mm_fpages_truncate(struct mm_fpages *fp, uint64_t size);
/* Whole pages of [off, off + len) are about to be freed (a hole punched):
 * shared mappings drop their stub mappings of them (the next access maps
 * the new page); private copies stay, as on Linux. */
void mm_fpages_punch(struct mm_fpages *fp, uint64_t off, uint64_t len);

/* A file to map, as mmap's caller found it. */
struct mm_file_desc {
    const struct mm_file_ops *ops;
    void *h;
    bool mappable;           /* the file type supports mmap at all (else ENODEV) */
    bool readable;           /* opened for reading (FMODE_READ) */
    bool writable;           /* opened for writing (FMODE_WRITE) */
    bool noexec;             /* on a noexec mount */
    struct mm_fpages *pages; /* NULL: MAP_SHARED is ENODEV */
    const char *name;        /* path for /proc/PID/maps (copied) */
    uint64_t dev, ino;
};

/* Syscall-level operations: Linux semantics, return the result or -errno.
 * mm_mmap is for anonymous memory (without MAP_ANONYMOUS it checks the
 * flags and returns -ENODEV); mm_mmap_file maps file (NULL: as mm_mmap). */
int64_t mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags, int fd,
                uint64_t off);
int64_t mm_mmap_file(struct mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
                     const struct mm_file_desc *file, uint64_t off);
int64_t mm_munmap(struct mm *mm, uint64_t addr, uint64_t len);
int64_t mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, int prot);
int64_t mm_mremap(struct mm *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_len, int flags,
                  uint64_t new_addr);
int64_t mm_brk(struct mm *mm, uint64_t addr);
int64_t mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice);
/* Fills the guest's vec (one byte per page) through copy-out. */
int64_t mm_mincore(struct mm *mm, uint64_t addr, uint64_t len, uint64_t vec);
int64_t mm_msync(struct mm *mm, uint64_t addr, uint64_t len, int flags);

/* Map anonymous memory for the loader (MAP_FIXED semantics; private unless
 * vma_flags has MM_VMA_SHARED; name for /proc maps later: "[stack]",
 * "[heap]" or NULL). */
int64_t mm_map_fixed(struct mm *mm, uint64_t addr, uint64_t len, int prot, int vma_flags,
                     const char *name);

/* A guest fault at addr. Returns 0 when the page is now mapped in the stub
 * (resume the guest), -EFAULT when it is a real SIGSEGV; *si_code is then
 * SEGV_MAPERR (1) or SEGV_ACCERR (2). -EIO when it is a SIGBUS with
 * *si_code BUS_ADRERR (2): past the end of shared anonymous memory grown
 * by mremap, as on Linux. -ENOMEM when the memory file is full (Linux would
 * OOM-kill: the caller should kill the task), another -errno when the
 * platform failed to map. A fault just below a MM_VMA_GROWSDOWN
 * VMA grows it, within the stack limit and guard gap, as on Linux. */
int mm_handle_fault(struct mm *mm, uint64_t addr, bool write, bool exec, int *si_code);

/* Copy between the Sentry and guest memory, with the guest's protections:
 * copy-in needs the page readable (x86: any protection but PROT_NONE, as for
 * the guest's own loads), copy-out needs PROT_WRITE. Pages not yet touched
 * are populated as the guest's own access would (and a stack grows). Returns
 * 0, -EFAULT, or -ENOMEM when the memory file is full; on failure nothing
 * beyond the first bad page has been touched. A range running past the top
 * of the address space (or wrapping) fails before anything is copied. */
/* A write into copy-on-write memory copies the chunk first and drops mm's
 * stub mappings of the old one: copy-out (and mm_zero) into
 * another process's mm (process_vm_writev, ptrace pokes) must come from a
 * thread of that mm or be made safe by the kernel the way truncation is. */
int mm_copy_in(struct mm *mm, void *dst, uint64_t src, size_t n);
int mm_copy_out(struct mm *mm, uint64_t dst, const void *src, size_t n);
/* Copy-out ignoring PROT_WRITE (the loader filling read-only segments). */
int mm_copy_out_force(struct mm *mm, uint64_t dst, const void *src, size_t n);
/* Whether [addr, addr+len) is program text the Sentry may rewrite for
 * syscall patching: one private, file-backed, executable and not writable
 * mapping. Code in anonymous or writable memory (a JIT's) or in a shared
 * mapping (the file itself) is never touched. */
bool mm_code_patchable(struct mm *mm, uint64_t addr, uint64_t len);
/* NUL-terminated string of at most max bytes including the NUL. Returns its
 * length, -EFAULT (-ENOMEM as above), or -ENAMETOOLONG when no NUL was found
 * within max. */
int64_t mm_copy_in_str(struct mm *mm, char *dst, uint64_t src, size_t max);
/* Zero guest memory (respects PROT_WRITE). */
int mm_zero(struct mm *mm, uint64_t dst, size_t n);

/* Futexes (user_word.c): the Sentry's pointer to the aligned guest word at
 * addr, populated as the guest's access would (write: copy-on-write broken),
 * for atomic operations; and, for shared mappings, an identity of the
 * memory (object and offset) that every process mapping it shares
 * (-ENOENT for private memory). */
int mm_user_word(struct mm *mm, uint64_t addr, bool write, uint32_t **out);
int mm_shared_id(struct mm *mm, uint64_t addr, const void **obj, uint64_t *off);

/* VMA iteration (for /proc/PID/maps, tests, core dumps). */
struct mm_vma_info {
    uint64_t start, end;
    int prot;
    int flags;        /* MM_VMA_* */
    const char *name; /* file mappings: the file's path */
    /* File mappings: the file offset of start and the file's st_dev and
     * st_ino, as /proc/PID/maps shows them; all 0 for anonymous memory. */
    uint64_t pgoff;
    uint64_t dev, ino;
};
/* Calls fn for each VMA in address order; stops when fn returns non-zero. */
int mm_for_each_vma(struct mm *mm, int (*fn)(void *arg, const struct mm_vma_info *v), void *arg);

#endif
