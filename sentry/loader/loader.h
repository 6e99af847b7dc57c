/* Loading a program image into a fresh address space.
 *
 * The loader reads the executable through a callback (a file of the
 * Sentry's VFS, or the host fd the front end hands over without a Gofer),
 * validates it, maps its PT_LOAD segments into the mm, and builds the initial
 * stack: argv, envp, auxv. It never opens a path itself.
 */
#ifndef MOAT_SENTRY_LOADER_LOADER_H
#define MOAT_SENTRY_LOADER_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct mm;
struct mm_file_desc;

/* Reads up to len bytes at off; returns bytes read (short at EOF) or -errno. */
typedef int64_t (*loader_read_fn)(void *arg, void *buf, size_t len, uint64_t off);

struct loader_image {
    loader_read_fn read;
    void *arg;
    /* Optional: the same file as mm can map it. Segments are then private
     * file mappings, as Linux's, paged in on demand and named in
     * /proc/PID/maps; without it they are copied into anonymous memory. */
    const struct mm_file_desc *file;
};

/* More program headers than this is refused: 128 * 56 bytes is far beyond
 * what any linker emits, and keeps the parsed copy a fixed-size array. */
#define LOADER_MAX_PHNUM 128

/* Lowest address a segment may occupy (Linux's default vm.mmap_min_addr). */
#define LOADER_MIN_ADDR 0x10000ULL
/* End of the x86-64 user address space with 4-level paging (Linux's
 * TASK_SIZE): parsing checks against this; loading against mm_max_addr(). */
#define LOADER_USER_LIMIT 0x7ffffffff000ULL
/* Where a static PIE is loaded without randomisation: two thirds of
 * LOADER_USER_LIMIT, page-aligned, as on Linux. */
#define LOADER_DYN_BASE 0x555555554000ULL

/* One non-empty PT_LOAD, as validated (unbiased). The parsed copy is what gets
 * loaded: the file is not re-read for headers, so it cannot change under us
 * between validation and mapping. */
struct loader_segment {
    uint64_t vaddr, memsz;
    uint64_t offset, filesz;
    int prot;       /* ABI_PROT_* from p_flags */
    uint16_t index; /* program header index, for messages */
};

/* What the ELF header and program headers say, before anything is mapped. */
/* Linux accepts PT_INTERP paths of 2 to PATH_MAX bytes, NUL included. */
#define LOADER_MAX_INTERP 4096

struct loader_elf_info {
    uint16_t type;  /* ET_EXEC or ET_DYN */
    uint64_t entry; /* e_entry, unbiased */
    uint64_t phoff;
    uint16_t phnum;
    uint16_t phentsize;
    uint64_t lo, hi;                /* page-aligned span of the PT_LOAD segments, unbiased */
    int has_interp;                 /* PT_INTERP present (dynamic executable) */
    char interp[LOADER_MAX_INTERP]; /* its path, validated: NUL-terminated, no NUL inside */
    int stack_exec;                 /* PT_GNU_STACK asks for PROT_EXEC */
    /* AT_PHDR before biasing: PT_PHDR's address, else where the PT_LOAD that
     * holds the program headers puts them; has_phdr_addr 0 when neither. */
    uint64_t phdr_addr;
    int has_phdr_addr;
    uint64_t align; /* largest power-of-two PT_LOAD p_align (page size at least) */
    uint16_t nload; /* non-empty PT_LOADs, in ascending address order */
    struct loader_segment load[LOADER_MAX_PHNUM];
};

/* Parse and validate. Returns 0, or -ENOEXEC (or -EINVAL for an entry point
 * outside the address space, as Linux) with *why set to a sentence naming the
 * problem ("not an ELF file", "program headers extend past the end of the
 * file", "ELF for aarch64, not x86-64", ...), or the -errno of a failing read.
 * Never maps anything. *why points at a string literal or at a per-thread
 * buffer that the next loader call on the same thread overwrites; it is never
 * NULL after a failure. why may be NULL. */
int loader_elf_parse(const struct loader_image *img, struct loader_elf_info *info,
                     const char **why);

/* Opens the interpreter a dynamic executable names (PT_INTERP), resolved in
 * the guest's filesystem by the caller. Returns 0 with *out set, or -errno. */
typedef int (*loader_open_interp_fn)(void *arg, const char *path, struct loader_image *out);
typedef void (*loader_close_interp_fn)(void *arg, struct loader_image *img);

struct loader_args {
    const char *const *argv; /* NULL-terminated */
    const char *const *envp; /* NULL-terminated */
    const char *execfn;      /* AT_EXECFN string */
    uint32_t uid, euid, gid, egid;
    uint64_t hwcap, hwcap2;
    uint64_t vdso_base;      /* AT_SYSINFO_EHDR, 0 for none */
    uint64_t stack_size;     /* RLIMIT_STACK soft limit, bytes */
    uint64_t random_seed[2]; /* seed for layout randomisation; both 0: fixed layout */
    uint64_t minsigstksz;    /* AT_MINSIGSTKSZ; 0: LOADER_DEFAULT_MINSIGSTKSZ */
    /* NULL: dynamic executables are refused with -ENOEXEC. */
    loader_open_interp_fn open_interp;
    loader_close_interp_fn close_interp;
    void *interp_arg;
};

/* What Linux reports on a CPU with AVX-512 state: large enough for any signal
 * frame the Sentry builds, so guests sizing alternate stacks by it are safe. */
#define LOADER_DEFAULT_MINSIGSTKSZ 3632
/* Linux's limits on execve arguments: one string (with its NUL), and the
 * floor of the total (strings plus pointers) whatever the stack limit. */
#define LOADER_MAX_ARG_STRLEN (32 * 4096ULL)
#define LOADER_MIN_ARG_TOTAL  (32 * 4096ULL)

struct loader_result {
    uint64_t entry; /* initial rip */
    uint64_t sp;    /* initial rsp, pointing at argc */
    uint64_t load_bias;
    uint64_t brk_start;
    uint64_t stack_top;
    uint64_t auxv_addr; /* guest address of auxv (for /proc/PID/auxv later) */
    uint64_t auxv_len;
    uint64_t interp_base; /* AT_BASE: where the interpreter was loaded, 0 for none */
    /* The argument and environment strings on the stack: [start, end). */
    uint64_t arg_start, arg_end, env_start, env_end;
};

/* Load a static, static-PIE or dynamic executable into mm (which must be
 * empty), set the mm's brk and mmap base, and build the stack. A dynamic
 * executable's interpreter is opened through args->open_interp and loaded
 * just below the mmap base, where Linux's mmap puts it; the guest starts at
 * the interpreter's entry with AT_BASE and AT_ENTRY telling it where both
 * are. A broken interpreter is -ELIBBAD; without open_interp, -ENOEXEC. Too much argv/envp gives
 * -E2BIG before anything is mapped. An empty argv gets one empty string as argv[0], as Linux does.
 * AT_RANDOM bytes come from the host's getrandom(). On failure the mm may hold partial mappings:
 * the caller destroys it. *why as for loader_elf_parse. */
int loader_load(struct mm *mm, const struct loader_image *img, const struct loader_args *args,
                struct loader_result *res, const char **why);

/* A "#!" script's first line, split as Linux's binfmt_script does: the
 * interpreter path, and at most one argument (the rest of the line, spaces
 * included, trailing spaces and tabs dropped). */
#define LOADER_SCRIPT_BUF 256 /* Linux reads this much of the file (BINPRM_BUF_SIZE) */
struct loader_script {
    char interp[LOADER_SCRIPT_BUF];
    char arg[LOADER_SCRIPT_BUF];
    int has_arg;
};

/* Parse the first len bytes of a file (at most LOADER_SCRIPT_BUF are looked
 * at). Returns 0, or -ENOEXEC when it is not a script or names no usable
 * interpreter (*why says which). */
int loader_parse_script(const void *buf, size_t len, struct loader_script *out, const char **why);

#endif
