/* The ELF loader: images are built in memory, loaded into an mm without a
 * platform, and inspected through copy-in and the VMA list. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/auxv.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "tests/unit/fake_platform.h"

/* ---- an ELF file in a byte buffer ---- */

struct seg {
    uint32_t type, flags;
    uint64_t off, vaddr, filesz, memsz, align;
};

struct file {
    unsigned char *data;
    size_t len;
    int64_t fail_err; /* non-zero: reads touching [fail_from, fail_to) fail */
    uint64_t fail_from;
    uint64_t fail_to; /* 0: to the end */
    size_t max_chunk; /* non-zero: every read returns at most this much */
    unsigned calls;
    unsigned shrink_after; /* non-zero: after this many reads, len becomes shrunk_len */
    size_t shrunk_len;
};

static int64_t file_read(void *arg, void *buf, size_t len, uint64_t off)
{
    struct file *f = arg;
    if (f->shrink_after && f->calls++ == f->shrink_after)
        f->len = f->shrunk_len;
    if (f->fail_err && off + len > f->fail_from && (f->fail_to == 0 || off < f->fail_to))
        return f->fail_err;
    if (off >= f->len)
        return 0;
    size_t n = f->len - off < len ? f->len - off : len;
    if (f->max_chunk && n > f->max_chunk)
        n = f->max_chunk;
    memcpy(buf, f->data + off, n);
    return (int64_t)n;
}

static struct file build(uint16_t type, uint64_t entry, const struct seg *segs, int n)
{
    size_t len = 64 + (size_t)n * 56;
    for (int i = 0; i < n; i++)
        if (segs[i].type == ABI_PT_LOAD && segs[i].off + segs[i].filesz > len &&
            segs[i].off + segs[i].filesz < (1u << 24))
            len = segs[i].off + segs[i].filesz;
    struct file f = {.data = malloc(len), .len = len};
    cr_assert(f.data);
    /* Distinct non-zero-ish bytes, so that a copy from the wrong offset shows. */
    for (size_t o = 0; o < len; o++)
        f.data[o] = (unsigned char)(o * 31 + (o >> 8) * 7 + 1);

    struct abi_elf64_ehdr eh = {0};
    memcpy(eh.e_ident, ABI_ELFMAG, ABI_SELFMAG);
    eh.e_ident[ABI_EI_CLASS] = ABI_ELFCLASS64;
    eh.e_ident[ABI_EI_DATA] = ABI_ELFDATA2LSB;
    eh.e_ident[ABI_EI_VERSION] = ABI_EV_CURRENT;
    eh.e_type = type;
    eh.e_machine = ABI_EM_X86_64;
    eh.e_version = ABI_EV_CURRENT;
    eh.e_entry = entry;
    eh.e_phoff = 64;
    eh.e_ehsize = 64;
    eh.e_phentsize = 56;
    eh.e_phnum = (uint16_t)n;
    memcpy(f.data, &eh, sizeof(eh));
    for (int i = 0; i < n; i++) {
        struct abi_elf64_phdr ph = {
            .p_type = segs[i].type,
            .p_flags = segs[i].flags,
            .p_offset = segs[i].off,
            .p_vaddr = segs[i].vaddr,
            .p_paddr = segs[i].vaddr,
            .p_filesz = segs[i].filesz,
            .p_memsz = segs[i].memsz,
            .p_align = segs[i].align ? segs[i].align : 0x1000,
        };
        memcpy(f.data + 64 + (size_t)i * 56, &ph, sizeof(ph));
    }
    return f;
}

static struct abi_elf64_ehdr *ehdr(struct file *f)
{
    return (struct abi_elf64_ehdr *)f->data;
}

static struct abi_elf64_phdr *phdr(struct file *f, int i)
{
    return (struct abi_elf64_phdr *)(f->data + 64 + (size_t)i * 56);
}

static struct loader_image image(struct file *f)
{
    return (struct loader_image){.read = file_read, .arg = f};
}

/* A typical static executable: text with the headers, then data and bss. */
#define TEXT_VADDR 0x400000ULL
#define TEXT_SIZE  0x1234ULL
#define DATA_OFF   0x1e30ULL
#define DATA_VADDR 0x402e30ULL
#define DATA_FILE  0x100ULL
#define DATA_MEM   0x3000ULL
#define ENTRY      0x401000ULL

static const struct seg static_exe[] = {
    {ABI_PT_PHDR, ABI_PF_R, 64, TEXT_VADDR + 64, 2 * 56, 2 * 56, 8},
    {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, TEXT_VADDR, TEXT_SIZE, TEXT_SIZE, 0},
    {ABI_PT_LOAD, ABI_PF_R | ABI_PF_W, DATA_OFF, DATA_VADDR, DATA_FILE, DATA_MEM, 0},
    {ABI_PT_GNU_STACK, ABI_PF_R | ABI_PF_W, 0, 0, 0, 0, 16},
};
#define NSEG(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- the address space ---- */

static struct mm_memfile *mf;
static struct mm *mm;

static void setup(void)
{
    cr_assert_eq(mm_memfile_create(1ULL << 30, &mf), 0);
    cr_assert_eq(mm_create(mf, NULL, NULL, &mm), 0);
}

static void teardown(void)
{
    mm_destroy(mm);
    mm_memfile_destroy(mf);
}

TestSuite(loader, .init = setup, .fini = teardown);

struct vmas {
    struct mm_vma_info v[32];
    char names[32][16];
    int n;
};

static int collect(void *arg, const struct mm_vma_info *v)
{
    struct vmas *vs = arg;
    if (vs->n < 32) {
        vs->v[vs->n] = *v;
        snprintf(vs->names[vs->n], sizeof(vs->names[0]), "%s", v->name ? v->name : "");
        vs->n++;
    }
    return 0;
}

static struct vmas vmas(void)
{
    struct vmas vs = {0};
    mm_for_each_vma(mm, collect, &vs);
    return vs;
}

/* Protection of the page at addr, -1 when unmapped. */
static int prot_at(uint64_t addr)
{
    struct vmas vs = vmas();
    for (int i = 0; i < vs.n; i++)
        if (vs.v[i].start <= addr && addr < vs.v[i].end)
            return vs.v[i].prot;
    return -1;
}

static const char *const default_argv[] = {"/bin/prog", "first", "second arg", NULL};
static const char *const default_envp[] = {"HOME=/root", "PATH=/bin:/usr/bin", NULL};

static struct loader_args default_args(void)
{
    return (struct loader_args){
        .argv = default_argv,
        .envp = default_envp,
        .execfn = "/usr/local/bin/prog",
        .uid = 1000,
        .euid = 1001,
        .gid = 100,
        .egid = 101,
        .hwcap = 0x178bfbff,
        .hwcap2 = 0x2,
        .stack_size = 8 << 20,
    };
}

static uint64_t peek64(uint64_t addr)
{
    uint64_t v;
    cr_assert_eq(mm_copy_in(mm, &v, addr, sizeof(v)), 0, "reading 0x%lx", (unsigned long)addr);
    return v;
}

static void peek_str(uint64_t addr, char *buf, size_t max)
{
    int64_t n = mm_copy_in_str(mm, buf, addr, max);
    cr_assert_geq(n, 0, "string at 0x%lx", (unsigned long)addr);
}

/* Guest bytes [addr, addr+n) must equal the file's bytes from off (zero past
 * the file's end). */
static void expect_file_bytes(struct file *f, uint64_t addr, uint64_t off, size_t n)
{
    unsigned char *got = malloc(n);
    cr_assert(got);
    cr_assert_eq(mm_copy_in(mm, got, addr, n), 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char want = off + i < f->len ? f->data[off + i] : 0;
        cr_assert_eq(got[i], want, "byte at 0x%lx: got %#x, want %#x", (unsigned long)(addr + i),
                     got[i], want);
    }
    free(got);
}

static void expect_zero(uint64_t addr, size_t n)
{
    unsigned char *got = malloc(n);
    cr_assert(got);
    cr_assert_eq(mm_copy_in(mm, got, addr, n), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], 0, "byte at 0x%lx not zero", (unsigned long)(addr + i));
    free(got);
}

static uint64_t auxv_get(const struct loader_result *res, uint64_t key, int *found)
{
    for (uint64_t a = res->auxv_addr; a < res->auxv_addr + res->auxv_len; a += 16) {
        if (peek64(a) == key) {
            if (found)
                *found = 1;
            return peek64(a + 8);
        }
    }
    if (found)
        *found = 0;
    return 0;
}

static int load(struct file *f, const struct loader_args *args, struct loader_result *res,
                const char **why)
{
    struct loader_image img = image(f);
    return loader_load(mm, &img, args, res, why);
}

/* ---- successful loads ---- */

Test(loader, static_exec_segments_and_protections)
{
    struct file f = build(ABI_ET_EXEC, ENTRY, static_exe, NSEG(static_exe));
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why = NULL;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);

    cr_expect_eq(res.entry, ENTRY);
    cr_expect_eq(res.load_bias, 0);
    /* Text: its bytes (ELF header included), then the rest of its last page
     * as the file has it: the file ends inside that page, the rest is zero. */
    expect_file_bytes(&f, TEXT_VADDR, 0, 0x2000);
    cr_expect_eq(f.len, DATA_OFF + DATA_FILE);
    /* Data: its first page starts with the file bytes that precede it. */
    expect_file_bytes(&f, 0x402000, 0x1000, DATA_VADDR - 0x402000 + DATA_FILE);
    /* bss: the rest of the data page and the pages after it. */
    uint64_t bss = DATA_VADDR + DATA_FILE;
    expect_zero(bss, 0x406000 - bss);

    cr_expect_eq(prot_at(0x400000), ABI_PROT_READ | ABI_PROT_EXEC);
    cr_expect_eq(prot_at(0x401fff), ABI_PROT_READ | ABI_PROT_EXEC);
    cr_expect_eq(prot_at(0x402000), ABI_PROT_READ | ABI_PROT_WRITE);
    cr_expect_eq(prot_at(0x405fff), ABI_PROT_READ | ABI_PROT_WRITE);
    cr_expect_eq(prot_at(0x406000), -1);
    cr_expect_eq(prot_at(0x3ff000), -1);

    /* The text is not writable by the guest, but the loader wrote it. */
    unsigned char b = 0;
    cr_expect_neq(mm_copy_out(mm, TEXT_VADDR, &b, 1), 0);

    cr_expect_eq(res.brk_start, 0x406000);
    cr_expect_eq(mm_brk(mm, 0), 0x406000);
    free(f.data);
}

Test(loader, stack_vma_and_mmap_base)
{
    struct file f = build(ABI_ET_EXEC, ENTRY, static_exe, NSEG(static_exe));
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why = NULL;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);

    uint64_t max = mm_max_addr(mm);
    cr_expect_eq(res.stack_top, max & ~0xfffULL, "fixed layout: stack at the top");
    struct vmas vs = vmas();
    int found = 0;
    for (int i = 0; i < vs.n; i++) {
        if (strcmp(vs.names[i], "[stack]") != 0)
            continue;
        found = 1;
        cr_expect_eq(vs.v[i].end, res.stack_top);
        cr_expect(vs.v[i].start <= (res.sp & ~0xfffULL) - 128 * 1024);
        cr_expect(vs.v[i].flags & MM_VMA_GROWSDOWN);
        cr_expect_eq(vs.v[i].prot, ABI_PROT_READ | ABI_PROT_WRITE, "PT_GNU_STACK without X");
    }
    cr_expect(found, "no [stack] VMA");

    /* Top-down mmap starts 128 MiB below the top for an 8 MiB stack limit. */
    int64_t m = mm_mmap(mm, 0, 4096, ABI_PROT_READ, ABI_MAP_PRIVATE | ABI_MAP_ANONYMOUS, -1, 0);
    cr_assert_geq(m, 0);
    cr_expect_leq((uint64_t)m + 4096, res.stack_top - (128ULL << 20));
    cr_expect_geq((uint64_t)m, res.stack_top - (256ULL << 20));
    free(f.data);
}

static const struct seg pie[] = {
    {ABI_PT_PHDR, ABI_PF_R, 64, 64, 3 * 56, 3 * 56, 8},
    {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, 0, 0x1800, 0x1800, 0},
    {ABI_PT_LOAD, ABI_PF_R | ABI_PF_W, 0x1c00, 0x2c00, 0x80, 0x500, 0},
};

Test(loader, native_layout_with_47_bit_space)
{
    /* With Linux's own address-space size and no randomisation, the layout
     * is the one `setarch -R` shows natively. */
    struct platform p;
    fake_platform_init(&p, 0x7ffffffff000ULL);
    mm_destroy(mm);
    cr_assert_eq(mm_create(mf, &p, NULL, &mm), 0);
    struct file f = build(ABI_ET_DYN, 0x1100, pie, NSEG(pie));
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    cr_expect_eq(res.load_bias, 0x555555554000ULL);
    cr_expect_eq(res.stack_top, 0x7ffffffff000ULL);
    struct vmas vs = vmas();
    cr_assert_gt(vs.n, 0);
    cr_expect_str_eq(vs.names[vs.n - 1], "[stack]");
    cr_expect_eq(vs.v[vs.n - 1].start, 0x7ffffffde000ULL, "132 KiB of stack, as natively");
    int64_t m = mm_mmap(mm, 0, 4096, ABI_PROT_READ, ABI_MAP_PRIVATE | ABI_MAP_ANONYMOUS, -1, 0);
    cr_expect_eq(m, 0x7ffff7ffe000LL, "first mmap just below 0x7ffff7fff000");
    free(f.data);
}

Test(loader, exec_stack_from_gnu_stack)
{
    struct seg s[] = {
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, TEXT_VADDR, 0x200, 0x200, 0},
        {ABI_PT_GNU_STACK, ABI_PF_R | ABI_PF_W | ABI_PF_X, 0, 0, 0, 0, 16},
    };
    struct file f = build(ABI_ET_EXEC, TEXT_VADDR + 0x100, s, NSEG(s));
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    cr_expect_eq(prot_at(res.sp), ABI_PROT_READ | ABI_PROT_WRITE | ABI_PROT_EXEC);
    free(f.data);
}

Test(loader, initial_stack_layout)
{
    struct file f = build(ABI_ET_EXEC, ENTRY, static_exe, NSEG(static_exe));
    struct loader_args a = default_args();
    a.vdso_base = 0x7ffff7fc1000ULL;
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);

    cr_expect_eq(res.sp % 16, 0, "rsp must be 16-byte aligned at _start");
    cr_assert_eq(peek64(res.sp), 3);
    char buf[256];
    uint64_t p = res.sp + 8;
    uint64_t prev = 0;
    for (int i = 0; i < 3; i++, p += 8) {
        uint64_t s = peek64(p);
        cr_expect_gt(s, prev, "strings in order");
        prev = s;
        peek_str(s, buf, sizeof(buf));
        cr_expect_str_eq(buf, default_argv[i]);
    }
    cr_expect_eq(peek64(p), 0);
    p += 8;
    for (int i = 0; i < 2; i++, p += 8) {
        uint64_t s = peek64(p);
        cr_expect_gt(s, prev);
        prev = s;
        peek_str(s, buf, sizeof(buf));
        cr_expect_str_eq(buf, default_envp[i]);
    }
    cr_expect_eq(peek64(p), 0);
    p += 8;
    cr_expect_eq(p, res.auxv_addr, "auxv follows envp's NULL");

    /* The keys in Linux's order, AT_NULL last. */
    static const uint64_t order[] = {
        ABI_AT_SYSINFO_EHDR, ABI_AT_MINSIGSTKSZ, ABI_AT_HWCAP,  ABI_AT_PAGESZ, ABI_AT_CLKTCK,
        ABI_AT_PHDR,         ABI_AT_PHENT,       ABI_AT_PHNUM,  ABI_AT_BASE,   ABI_AT_FLAGS,
        ABI_AT_ENTRY,        ABI_AT_UID,         ABI_AT_EUID,   ABI_AT_GID,    ABI_AT_EGID,
        ABI_AT_SECURE,       ABI_AT_RANDOM,      ABI_AT_HWCAP2, ABI_AT_EXECFN, ABI_AT_PLATFORM,
        ABI_AT_NULL,
    };
    cr_assert_eq(res.auxv_len, sizeof(order) / sizeof(order[0]) * 16);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        cr_expect_eq(peek64(res.auxv_addr + 16 * i), order[i], "auxv key %zu", i);
    cr_expect_eq(peek64(res.auxv_addr + res.auxv_len - 8), 0);

    cr_expect_eq(auxv_get(&res, ABI_AT_SYSINFO_EHDR, NULL), a.vdso_base);
    cr_expect_eq(auxv_get(&res, ABI_AT_MINSIGSTKSZ, NULL), LOADER_DEFAULT_MINSIGSTKSZ);
    cr_expect_eq(auxv_get(&res, ABI_AT_HWCAP, NULL), a.hwcap);
    cr_expect_eq(auxv_get(&res, ABI_AT_HWCAP2, NULL), a.hwcap2);
    cr_expect_eq(auxv_get(&res, ABI_AT_PAGESZ, NULL), 4096);
    cr_expect_eq(auxv_get(&res, ABI_AT_CLKTCK, NULL), 100);
    cr_expect_eq(auxv_get(&res, ABI_AT_PHDR, NULL), TEXT_VADDR + 64);
    cr_expect_eq(auxv_get(&res, ABI_AT_PHENT, NULL), 56);
    cr_expect_eq(auxv_get(&res, ABI_AT_PHNUM, NULL), NSEG(static_exe));
    cr_expect_eq(auxv_get(&res, ABI_AT_ENTRY, NULL), ENTRY);
    cr_expect_eq(auxv_get(&res, ABI_AT_UID, NULL), 1000);
    cr_expect_eq(auxv_get(&res, ABI_AT_EUID, NULL), 1001);
    cr_expect_eq(auxv_get(&res, ABI_AT_GID, NULL), 100);
    cr_expect_eq(auxv_get(&res, ABI_AT_EGID, NULL), 101);

    uint64_t rnd = auxv_get(&res, ABI_AT_RANDOM, NULL);
    unsigned char r16[16], zero[16] = {0};
    cr_assert_eq(mm_copy_in(mm, r16, rnd, 16), 0);
    cr_expect_neq(memcmp(r16, zero, 16), 0, "AT_RANDOM bytes all zero");
    cr_expect_geq(rnd, res.auxv_addr + res.auxv_len, "AT_RANDOM above the auxv");

    uint64_t plat = auxv_get(&res, ABI_AT_PLATFORM, NULL);
    peek_str(plat, buf, sizeof(buf));
    cr_expect_str_eq(buf, "x86_64");
    /* Linux's packing, in a fixed layout: "x86_64" ends where the 16-byte
     * aligned area below argv[0]'s string starts, AT_RANDOM just under it. */
    cr_expect_eq(plat + sizeof("x86_64"), peek64(res.sp + 8) & ~15ULL);
    cr_expect_eq(plat, rnd + 16);

    uint64_t execfn = auxv_get(&res, ABI_AT_EXECFN, NULL);
    peek_str(execfn, buf, sizeof(buf));
    cr_expect_str_eq(buf, "/usr/local/bin/prog");
    cr_expect_gt(execfn, prev, "execfn above the envp strings");
    cr_expect_eq(execfn + strlen("/usr/local/bin/prog") + 1, res.stack_top - 8);
    cr_expect_eq(peek64(res.stack_top - 8), 0);
    free(f.data);
}

Test(loader, no_vdso_means_no_sysinfo_ehdr_and_empty_argv_gets_one)
{
    struct file f = build(ABI_ET_EXEC, ENTRY, static_exe, NSEG(static_exe));
    struct loader_args a = default_args();
    static const char *const none[] = {NULL};
    a.argv = none;
    a.envp = NULL;
    a.execfn = NULL;
    a.minsigstksz = 2048;
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    int found = 1;
    auxv_get(&res, ABI_AT_SYSINFO_EHDR, &found);
    cr_expect_eq(found, 0);
    cr_expect_eq(auxv_get(&res, ABI_AT_MINSIGSTKSZ, NULL), 2048);
    cr_expect_eq(peek64(res.sp), 1, "argc");
    char buf[8] = "x";
    peek_str(peek64(res.sp + 8), buf, sizeof(buf));
    cr_expect_str_eq(buf, "");
    cr_expect_eq(peek64(res.sp + 16), 0, "argv NULL");
    cr_expect_eq(peek64(res.sp + 24), 0, "envp NULL");
    cr_expect_eq(res.auxv_addr, res.sp + 32);
    cr_expect_eq(res.sp % 16, 0);
    free(f.data);
}

Test(loader, sp_alignment_for_every_argument_count)
{
    static const char *const many[] = {"a", "bb", "ccc", "dddd", "eeeee", "f", "g", NULL};
    for (int argc = 1; argc <= 7; argc++) {
        for (int envc = 0; envc <= 3; envc++) {
            const char *argv[8] = {0}, *envp[4] = {0};
            for (int i = 0; i < argc; i++)
                argv[i] = many[i];
            for (int i = 0; i < envc; i++)
                envp[i] = many[6 - i];
            mm_destroy(mm);
            cr_assert_eq(mm_create(mf, NULL, NULL, &mm), 0);
            struct file f = build(ABI_ET_EXEC, ENTRY, static_exe, NSEG(static_exe));
            struct loader_args a = default_args();
            a.argv = argv;
            a.envp = envp;
            struct loader_result res;
            const char *why;
            cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
            cr_expect_eq(res.sp % 16, 0, "argc %d envc %d", argc, envc);
            cr_expect_eq(peek64(res.sp), (uint64_t)argc);
            cr_expect_eq(res.auxv_addr, res.sp + 8 * (uint64_t)(1 + argc + 1 + envc + 1));
            free(f.data);
        }
    }
}

Test(loader, static_pie_fixed_bias)
{
    struct file f = build(ABI_ET_DYN, 0x1100, pie, NSEG(pie));
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    uint64_t want = 0x555555554000ULL;
    cr_expect_eq(res.load_bias, want);
    cr_expect_eq(res.entry, want + 0x1100);
    cr_expect_eq(auxv_get(&res, ABI_AT_ENTRY, NULL), want + 0x1100);
    cr_expect_eq(auxv_get(&res, ABI_AT_PHDR, NULL), want + 64);
    expect_file_bytes(&f, want, 0, 0x1800);
    expect_file_bytes(&f, want + 0x2c00, 0x1c00, 0x80);
    expect_zero(want + 0x2c80, 0x1000 - 0xc80);
    cr_expect_eq(prot_at(want), ABI_PROT_READ | ABI_PROT_EXEC);
    cr_expect_eq(prot_at(want + 0x2000), ABI_PROT_READ | ABI_PROT_WRITE);
    cr_expect_eq(res.brk_start, want + 0x4000);
    free(f.data);
}

Test(loader, pie_bias_honours_large_p_align)
{
    struct seg s[] = {
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, 0, 0x1800, 0x1800, 0x200000},
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_W, 0x1c00, 0x201c00, 0x80, 0x500, 0x200000},
    };
    struct file f = build(ABI_ET_DYN, 0x1100, s, NSEG(s));
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    cr_expect_eq(res.load_bias, 0x555555400000ULL);
    expect_file_bytes(&f, res.load_bias + 0x201c00, 0x1c00, 0x80);
    free(f.data);
}

Test(loader, huge_pie_moves_down_to_fit)
{
    /* 41 TiB of bss: too much above 0x555555554000 before the mmap area. */
    struct seg s[] = {
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, 0, 0x800, 0x800, 0},
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_W, 0x800, 0x1800, 0x10, 0x290000000000ULL, 0},
    };
    struct file f = build(ABI_ET_DYN, 0x100, s, NSEG(s));
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    cr_expect_eq(res.load_bias, (mm_max_addr(mm) / 3 * 2) & ~0xfffULL);
    cr_expect_leq(res.brk_start, res.stack_top - (128ULL << 20));
    expect_file_bytes(&f, res.load_bias + 0x1800, 0x800, 0x10);
    expect_zero(res.load_bias + 0x1810, 0x1000);
    free(f.data);
}

Test(loader, randomised_layout)
{
    uint64_t fixed_bias = 0x555555554000ULL;
    struct loader_result r1, r2, r3;
    const char *why;
    struct loader_args a = default_args();
    a.random_seed[0] = 0x1234;
    a.random_seed[1] = 0x5678;
    struct file f = build(ABI_ET_DYN, 0x1100, pie, NSEG(pie));
    cr_assert_eq(load(&f, &a, &r1, &why), 0, "%s", why);
    mm_destroy(mm);
    cr_assert_eq(mm_create(mf, NULL, NULL, &mm), 0);
    cr_assert_eq(load(&f, &a, &r2, &why), 0, "%s", why);
    mm_destroy(mm);
    cr_assert_eq(mm_create(mf, NULL, NULL, &mm), 0);
    a.random_seed[0] = 0x9999;
    cr_assert_eq(load(&f, &a, &r3, &why), 0, "%s", why);

    cr_expect_eq(r1.load_bias, r2.load_bias, "same seed, same layout");
    cr_expect_eq(r1.stack_top, r2.stack_top);
    cr_expect_eq(r1.sp, r2.sp);
    cr_expect_eq(r1.brk_start, r2.brk_start);
    cr_expect(r1.load_bias != r3.load_bias || r1.stack_top != r3.stack_top,
              "different seeds, different layouts");

    struct loader_result *rs[] = {&r1, &r3};
    for (int i = 0; i < 2; i++) {
        struct loader_result *r = rs[i];
        cr_expect_eq(r->load_bias % 4096, 0);
        cr_expect_geq(r->load_bias, fixed_bias);
        cr_expect_lt(r->load_bias, fixed_bias + (1ULL << 40));
        cr_expect_eq(r->stack_top % 4096, 0);
        cr_expect_leq(r->stack_top, mm_max_addr(mm));
        cr_expect_geq(r->stack_top, mm_max_addr(mm) - (16ULL << 30));
        cr_expect_eq(r->sp % 16, 0);
        cr_expect_geq(r->brk_start, r->load_bias + 0x4000);
        cr_expect_lt(r->brk_start, r->load_bias + 0x4000 + (32ULL << 20));
        cr_expect_eq(r->brk_start % 4096, 0);
    }
    /* The last load is still a working image. */
    expect_file_bytes(&f, r3.load_bias, 0, 0x1800);
    cr_expect_eq(peek64(r3.sp), 3);
    free(f.data);
}

Test(loader, segments_sharing_a_page)
{
    /* The second segment starts in the first one's page, from a different
     * part of the file (same offset modulo the page size). */
    struct seg s[] = {
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, TEXT_VADDR, 0x800, 0x800, 0},
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_W, 0x1900, TEXT_VADDR + 0x900, 0x100, 0x2000, 0},
        {ABI_PT_LOAD, ABI_PF_R, 0x0, TEXT_VADDR + 0x3000, 0, 0x1000, 0},
    };
    struct file f = build(ABI_ET_EXEC, TEXT_VADDR + 0x100, s, NSEG(s));
    cr_assert_eq(f.len, 0x1a00);
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    /* The first segment stays intact; from its end on, the page shows what
     * the second segment's file mapping would: file bytes up to the end of
     * its data, then its bss, zero (though the file goes on). */
    expect_file_bytes(&f, TEXT_VADDR, 0, 0x800);
    expect_file_bytes(&f, TEXT_VADDR + 0x800, 0x1800, 0x200);
    expect_zero(TEXT_VADDR + 0xa00, 0x2900 - 0xa00);
    /* A segment with no file bytes at all is zero. */
    expect_zero(TEXT_VADDR + 0x3000, 0x1000);
    /* The later segment's protection wins on the shared page, as on Linux. */
    cr_expect_eq(prot_at(TEXT_VADDR), ABI_PROT_READ | ABI_PROT_WRITE);
    cr_expect_eq(prot_at(TEXT_VADDR + 0x2000), ABI_PROT_READ | ABI_PROT_WRITE);
    cr_expect_eq(prot_at(TEXT_VADDR + 0x3000), ABI_PROT_READ);
    cr_expect_eq(res.brk_start, TEXT_VADDR + 0x4000);
    free(f.data);
}

Test(loader, short_reads_and_large_segment)
{
    /* 300 KiB of text read 1000 bytes at a time: the copy loop must stitch. */
    struct seg s[] = {
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, TEXT_VADDR, 300 * 1024 + 5, 300 * 1024 + 5, 0},
    };
    struct file f = build(ABI_ET_EXEC, TEXT_VADDR, s, NSEG(s));
    f.max_chunk = 1000;
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    expect_file_bytes(&f, TEXT_VADDR, 0, 300 * 1024 + 4096);
    cr_expect_eq(auxv_get(&res, ABI_AT_PHDR, NULL), TEXT_VADDR + 64,
                 "AT_PHDR from the PT_LOAD holding the headers");
    free(f.data);
}

Test(loader, big_arguments_fit_with_default_limit)
{
    char *big = malloc(100 * 1024);
    cr_assert(big);
    memset(big, 'x', 100 * 1024 - 1);
    big[100 * 1024 - 1] = 0;
    const char *argv[] = {"prog", big, big, big, NULL};
    struct file f = build(ABI_ET_EXEC, ENTRY, static_exe, NSEG(static_exe));
    struct loader_args a = default_args();
    a.argv = argv;
    struct loader_result res;
    const char *why;
    cr_assert_eq(load(&f, &a, &res, &why), 0, "%s", why);
    char *back = malloc(100 * 1024);
    cr_assert(back);
    peek_str(peek64(res.sp + 8 * 4), back, 100 * 1024);
    cr_expect_eq(strcmp(back, big), 0);
    cr_expect_gt(res.stack_top - res.sp, 300 * 1024);
    free(back);
    free(big);
    free(f.data);
}

static int count_vmas(void)
{
    return vmas().n;
}

Test(loader, too_long_arguments_e2big)
{
    char *big = malloc(200 * 1024);
    cr_assert(big);
    memset(big, 'y', 200 * 1024 - 1);
    big[200 * 1024 - 1] = 0;
    struct file f = build(ABI_ET_EXEC, ENTRY, static_exe, NSEG(static_exe));
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why = NULL;

    /* One string longer than 32 pages. */
    const char *argv1[] = {"prog", big, NULL};
    a.argv = argv1;
    cr_expect_eq(load(&f, &a, &res, &why), -ABI_E2BIG);
    cr_expect(why && strstr(why, "argv[1]"), "why: %s", why);

    /* Exactly 32 pages including the NUL is allowed... */
    big[32 * 4096 - 1] = 0;
    cr_expect_eq(load(&f, &a, &res, &why), 0, "%s", why);
    mm_destroy(mm);
    cr_assert_eq(mm_create(mf, NULL, NULL, &mm), 0);
    /* ...one more is not, in the environment too. */
    big[32 * 4096 - 1] = 'y';
    big[32 * 4096] = 0;
    const char *envp[] = {big, NULL};
    a.argv = default_argv;
    a.envp = envp;
    cr_expect_eq(load(&f, &a, &res, &why), -ABI_E2BIG);

    /* A 1 MiB stack limit allows 256 KiB in total. */
    big[100 * 1024] = 0;
    const char *argv3[] = {"prog", big, big, big, NULL};
    a.argv = argv3;
    a.envp = default_envp;
    a.stack_size = 1 << 20;
    why = NULL;
    cr_expect_eq(load(&f, &a, &res, &why), -ABI_E2BIG);
    cr_expect(why && strstr(why, "too long"), "why: %s", why);
    cr_expect_eq(count_vmas(), 0, "E2BIG is found before anything is mapped");
    /* The floor is 32 pages whatever the limit. */
    a.stack_size = 4096;
    big[100 * 1024] = 'y';
    big[120 * 1024] = 0;
    const char *argv4[] = {"prog", big, NULL};
    a.argv = argv4;
    cr_expect_eq(load(&f, &a, &res, &why), 0, "%s", why);
    free(big);
    free(f.data);
}

/* ---- malformed files ---- */

/* Parses f and expects err with why containing want; loading the same file
 * must fail the same way and leave nothing mapped. */
static void expect_bad(struct file *f, int err, const char *want)
{
    struct loader_image img = image(f);
    struct loader_elf_info *info = malloc(sizeof(*info));
    cr_assert(info);
    const char *why = NULL;
    int r = loader_elf_parse(&img, info, &why);
    cr_expect_eq(r, err, "parse: got %d, want %d (%s)", r, err, why ? why : "(no why)");
    cr_expect(why && strstr(why, want), "parse why: \"%s\", want \"%s\"", why ? why : "(null)",
              want);
    free(info);

    struct loader_args a = default_args();
    struct loader_result res;
    why = NULL;
    r = loader_load(mm, &img, &a, &res, &why);
    cr_expect_eq(r, err, "load: got %d, want %d (%s)", r, err, why ? why : "(no why)");
    cr_expect(why && strstr(why, want), "load why: \"%s\", want \"%s\"", why ? why : "(null)",
              want);
    cr_expect_eq(count_vmas(), 0);
}

static struct file good(void)
{
    return build(ABI_ET_EXEC, ENTRY, static_exe, NSEG(static_exe));
}

Test(loader, empty_file)
{
    struct file f = {.data = NULL, .len = 0};
    expect_bad(&f, -ABI_ENOEXEC, "empty file");
}

Test(loader, short_header)
{
    struct file f = good();
    f.len = 40;
    expect_bad(&f, -ABI_ENOEXEC, "truncated ELF header");
    f.len = 3;
    expect_bad(&f, -ABI_ENOEXEC, "not an ELF file");
    free(f.data);
}

Test(loader, bad_magic_and_garbage)
{
    struct file f = good();
    f.data[1] = 'X';
    expect_bad(&f, -ABI_ENOEXEC, "not an ELF file");
    for (size_t i = 0; i < f.len; i++)
        f.data[i] = (unsigned char)(i * 131 + 17);
    expect_bad(&f, -ABI_ENOEXEC, "not an ELF file");
    free(f.data);
}

Test(loader, script)
{
    static char text[] = "#!/bin/sh\necho hello\n";
    struct file f = {.data = (unsigned char *)text, .len = sizeof(text) - 1};
    expect_bad(&f, -ABI_ENOEXEC, "not an ELF file");
    expect_bad(&f, -ABI_ENOEXEC, "script");
}

Test(loader, elf32)
{
    struct file f = good();
    f.data[ABI_EI_CLASS] = ABI_ELFCLASS32;
    ehdr(&f)->e_machine = 3;
    expect_bad(&f, -ABI_ENOEXEC, "32-bit ELF for i386, not x86-64");
    ehdr(&f)->e_machine = ABI_EM_X86_64;
    expect_bad(&f, -ABI_ENOEXEC, "x32");
    f.data[ABI_EI_CLASS] = 7;
    expect_bad(&f, -ABI_ENOEXEC, "invalid ELF class");
    free(f.data);
}

Test(loader, big_endian)
{
    struct file f = good();
    f.data[ABI_EI_DATA] = ABI_ELFDATA2MSB;
    f.data[18] = 0;
    f.data[19] = 21;
    expect_bad(&f, -ABI_ENOEXEC, "big-endian ELF for ppc64, not x86-64");
    f.data[ABI_EI_DATA] = 0;
    expect_bad(&f, -ABI_ENOEXEC, "byte order");
    free(f.data);
}

Test(loader, wrong_machine)
{
    struct file f = good();
    ehdr(&f)->e_machine = 183;
    expect_bad(&f, -ABI_ENOEXEC, "ELF for aarch64, not x86-64");
    ehdr(&f)->e_machine = 4321;
    expect_bad(&f, -ABI_ENOEXEC, "machine 4321");
    free(f.data);
}

Test(loader, bad_version)
{
    struct file f = good();
    f.data[ABI_EI_VERSION] = 2;
    expect_bad(&f, -ABI_ENOEXEC, "version");
    free(f.data);
}

Test(loader, not_executable_types)
{
    struct file f = good();
    ehdr(&f)->e_type = ABI_ET_REL;
    expect_bad(&f, -ABI_ENOEXEC, "ET_REL");
    ehdr(&f)->e_type = ABI_ET_CORE;
    expect_bad(&f, -ABI_ENOEXEC, "core dump");
    ehdr(&f)->e_type = 0xfe00;
    expect_bad(&f, -ABI_ENOEXEC, "type");
    free(f.data);
}

Test(loader, phentsize)
{
    struct file f = good();
    ehdr(&f)->e_phentsize = 32;
    expect_bad(&f, -ABI_ENOEXEC, "program header size 32");
    free(f.data);
}

Test(loader, phnum)
{
    struct file f = good();
    ehdr(&f)->e_phnum = 0;
    expect_bad(&f, -ABI_ENOEXEC, "no program headers");
    ehdr(&f)->e_phnum = 200;
    expect_bad(&f, -ABI_ENOEXEC, "too many program headers");
    ehdr(&f)->e_phnum = 0xffff;
    expect_bad(&f, -ABI_ENOEXEC, "too many program headers");
    free(f.data);
}

Test(loader, phoff_past_eof)
{
    struct file f = good();
    ehdr(&f)->e_phoff = f.len - 56;
    expect_bad(&f, -ABI_ENOEXEC, "program headers extend past the end of the file");
    ehdr(&f)->e_phoff = 1ULL << 40;
    expect_bad(&f, -ABI_ENOEXEC, "program headers extend past the end of the file");
    ehdr(&f)->e_phoff = UINT64_MAX - 100;
    expect_bad(&f, -ABI_ENOEXEC, "wraps around");
    free(f.data);
}

Test(loader, truncated_segment)
{
    struct file f = good();
    f.len -= 1;
    expect_bad(&f, -ABI_ENOEXEC, "truncated: segment 2 extends past the end of the file");
    phdr(&f, 1)->p_offset = 1ULL << 40;
    phdr(&f, 1)->p_vaddr = TEXT_VADDR;
    expect_bad(&f, -ABI_ENOEXEC, "truncated: segment 1 extends past the end of the file");
    free(f.data);
}

Test(loader, filesz_above_memsz)
{
    struct file f = good();
    phdr(&f, 2)->p_memsz = DATA_FILE - 1;
    expect_bad(&f, -ABI_ENOEXEC, "segment 2: file size 0x100 exceeds memory size 0xff");
    free(f.data);
}

Test(loader, overlapping_and_descending_segments)
{
    struct file f = good();
    phdr(&f, 2)->p_vaddr = TEXT_VADDR + TEXT_SIZE - 0x10;
    phdr(&f, 2)->p_offset = TEXT_SIZE - 0x10;
    expect_bad(&f, -ABI_ENOEXEC, "segment 2 overlaps or precedes segment 1");
    phdr(&f, 2)->p_vaddr = TEXT_VADDR - 0x10000;
    phdr(&f, 2)->p_offset = 0;
    expect_bad(&f, -ABI_ENOEXEC, "segment 2 overlaps or precedes segment 1");
    free(f.data);
}

Test(loader, address_wrap_and_range)
{
    struct file f = good();
    phdr(&f, 2)->p_vaddr = 0xfffffffffffffe30ULL;
    expect_bad(&f, -ABI_ENOEXEC, "segment 2: address range wraps around");
    phdr(&f, 2)->p_vaddr = 0x800000000e30ULL;
    expect_bad(&f, -ABI_ENOEXEC, "segment 2 [0x800000000e30, 0x800000003e30) lies outside");
    phdr(&f, 2)->p_vaddr = DATA_VADDR;
    phdr(&f, 2)->p_memsz = 1ULL << 60;
    expect_bad(&f, -ABI_ENOEXEC, "outside the user address space");
    phdr(&f, 2)->p_memsz = 0x7ffffffff000ULL - DATA_VADDR + 1;
    expect_bad(&f, -ABI_ENOEXEC, "outside the user address space");
    free(f.data);
}

Test(loader, segment_below_min_addr)
{
    struct seg s[] = {{ABI_PT_LOAD, ABI_PF_R, 0, 0x1000, 0x200, 0x200, 0}};
    struct file f = build(ABI_ET_EXEC, 0x1100, s, NSEG(s));
    expect_bad(&f, -ABI_ENOEXEC, "below the lowest mappable address");
    free(f.data);
}

Test(loader, segment_collides_with_stack)
{
    /* Just below the top: where the stack goes in a fixed layout. */
    uint64_t at = (mm_max_addr(mm) & ~0xfffULL) - 0x20000;
    struct seg s[] = {{ABI_PT_LOAD, ABI_PF_R, 0, at, 0x200, 0x200, 0}};
    struct file f = build(ABI_ET_EXEC, at + 0x100, s, NSEG(s));
    struct loader_image img = image(&f);
    struct loader_elf_info *info = malloc(sizeof(*info));
    const char *why;
    cr_expect_eq(loader_elf_parse(&img, info, &why), 0, "%s", why);
    free(info);
    struct loader_args a = default_args();
    struct loader_result res;
    why = NULL;
    cr_expect_eq(loader_load(mm, &img, &a, &res, &why), -ABI_ENOMEM);
    cr_expect(why && strstr(why, "do not fit below its stack"), "%s", why);
    free(f.data);
}

Test(loader, misaligned_offset)
{
    struct file f = good();
    phdr(&f, 2)->p_offset = DATA_OFF + 8;
    expect_bad(&f, -ABI_ENOEXEC, "segment 2: file offset 0x1e38 and address 0x402e30 differ");
    free(f.data);
}

Test(loader, file_range_wraps)
{
    struct file f = good();
    phdr(&f, 2)->p_offset = UINT64_MAX - 0x10;
    phdr(&f, 2)->p_vaddr = 0x402000 + ((UINT64_MAX - 0x10) & 0xfff);
    expect_bad(&f, -ABI_ENOEXEC, "segment 2: file range wraps around");
    free(f.data);
}

Test(loader, no_loadable_segment)
{
    struct seg s[] = {{ABI_PT_NOTE, ABI_PF_R, 64, 0, 56, 56, 4},
                      {ABI_PT_LOAD, ABI_PF_R, 0, TEXT_VADDR, 0, 0, 0}};
    struct file f = build(ABI_ET_EXEC, ENTRY, s, NSEG(s));
    expect_bad(&f, -ABI_ENOEXEC, "no loadable segments");
    free(f.data);
}

Test(loader, entry_outside_address_space)
{
    struct file f = good();
    ehdr(&f)->e_entry = 0xffffffff81000000ULL;
    expect_bad(&f, -ABI_EINVAL, "entry point");
    free(f.data);
}

Test(loader, dynamic_executable)
{
    struct seg s[] = {
        {ABI_PT_INTERP, ABI_PF_R, 0x200, TEXT_VADDR + 0x200, 28, 28, 1},
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, TEXT_VADDR, 0x400, 0x400, 0},
    };
    struct file f = build(ABI_ET_DYN, 0x100, s, NSEG(s));
    memcpy(f.data + 0x200, "/lib64/ld-linux-x86-64.so.2", 28);
    struct loader_image img = image(&f);
    struct loader_elf_info *info = malloc(sizeof(*info));
    const char *why;
    cr_assert_eq(loader_elf_parse(&img, info, &why), 0, "%s", why);
    cr_expect(info->has_interp);
    cr_expect_str_eq(info->interp, "/lib64/ld-linux-x86-64.so.2");
    free(info);
    struct loader_args a = default_args();
    struct loader_result res;
    why = NULL;
    cr_expect_eq(loader_load(mm, &img, &a, &res, &why), -ABI_ENOEXEC);
    cr_expect(why && strstr(why, "dynamically linked, with no filesystem to load its interpreter"),
              "%s", why);
    cr_expect_eq(count_vmas(), 0);
    free(f.data);
}

Test(loader, read_errors)
{
    struct file f = good();
    f.fail_err = -ABI_EIO;
    f.fail_from = 0;
    expect_bad(&f, -ABI_EIO, "cannot read");
    /* Headers readable, segment data not: found while probing its end. */
    f.fail_from = DATA_OFF + 4;
    expect_bad(&f, -ABI_EIO, "cannot read");
    free(f.data);
}

Test(loader, read_error_while_copying)
{
    /* The end of every segment reads fine, the middle of the text does not:
     * the failure shows up during the copy, after mappings were made. */
    struct seg s[] = {
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, TEXT_VADDR, 200 * 1024, 200 * 1024, 0},
    };
    struct file f = build(ABI_ET_EXEC, TEXT_VADDR, s, NSEG(s));
    f.fail_err = -ABI_EIO;
    f.fail_from = 100 * 1024;
    f.fail_to = 101 * 1024;
    struct loader_image img = image(&f);
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why = NULL;
    cr_expect_eq(loader_load(mm, &img, &a, &res, &why), -ABI_EIO);
    cr_expect(why && strstr(why, "cannot read segment 0"), "%s", why);
    cr_expect_gt(count_vmas(), 0, "the failure came after mapping");
    free(f.data);
}

Test(loader, file_shrinks_while_loading)
{
    /* The header, the program headers and the two segment-end probes read
     * fine; then the file loses its tail before the text is copied. */
    struct file f = good();
    f.shrink_after = 4;
    f.shrunk_len = 0x1000;
    struct loader_image img = image(&f);
    struct loader_args a = default_args();
    struct loader_result res;
    const char *why = NULL;
    cr_expect_eq(loader_load(mm, &img, &a, &res, &why), -ABI_ENOEXEC);
    cr_expect(why && strstr(why, "truncated: segment 1 extends past the end of the file"), "%s",
              why);
    free(f.data);
}

Test(loader, why_may_be_null)
{
    struct file f = good();
    f.data[0] = 0;
    struct loader_image img = image(&f);
    struct loader_elf_info *info = malloc(sizeof(*info));
    cr_expect_eq(loader_elf_parse(&img, info, NULL), -ABI_ENOEXEC);
    free(info);
    struct loader_args a = default_args();
    struct loader_result res;
    cr_expect_eq(loader_load(mm, &img, &a, &res, NULL), -ABI_ENOEXEC);
    free(f.data);
}

/* ---- dynamic executables ---- */

#define INTERP_PATH "/lib/ld-test.so"

struct interp_env {
    struct file *interp;
    int open_err;
    int opened, closed;
    char asked[64];
};

static int open_interp(void *arg, const char *path, struct loader_image *out)
{
    struct interp_env *e = arg;
    snprintf(e->asked, sizeof(e->asked), "%s", path);
    if (e->open_err)
        return e->open_err;
    e->opened++;
    *out = image(e->interp);
    return 0;
}

static void close_interp(void *arg, struct loader_image *img)
{
    struct interp_env *e = arg;
    cr_expect_eq(img->arg, e->interp);
    e->closed++;
}

/* A PIE naming INTERP_PATH, and an interpreter image (ET_DYN at 0). */
static struct file dyn_main(void)
{
    struct seg s[] = {
        {ABI_PT_INTERP, ABI_PF_R, 0x200, 0x200, sizeof(INTERP_PATH), sizeof(INTERP_PATH), 1},
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, 0, 0x1400, 0x1400, 0},
    };
    struct file f = build(ABI_ET_DYN, 0x1100, s, NSEG(s));
    memcpy(f.data + 0x200, INTERP_PATH, sizeof(INTERP_PATH));
    return f;
}

static struct file dyn_interp(void)
{
    struct seg s[] = {
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_X, 0, 0, 0x1800, 0x1800, 0},
        {ABI_PT_LOAD, ABI_PF_R | ABI_PF_W, 0x1800, 0x2800, 0x100, 0x3000, 0},
    };
    return build(ABI_ET_DYN, 0x80, s, NSEG(s));
}

Test(loader, dynamic_executable_with_its_interpreter)
{
    struct file m = dyn_main(), in = dyn_interp();
    struct interp_env e = {.interp = &in};
    struct loader_args a = default_args();
    a.open_interp = open_interp;
    a.close_interp = close_interp;
    a.interp_arg = &e;
    struct loader_result res;
    struct loader_image img = image(&m);
    const char *why = NULL;
    cr_assert_eq(loader_load(mm, &img, &a, &res, &why), 0, "%s", why);
    cr_expect_str_eq(e.asked, INTERP_PATH);
    cr_expect_eq(e.opened, 1);
    cr_expect_eq(e.closed, 1, "the interpreter image is closed once loaded");
    /* The guest starts in the interpreter, which learns where both are. */
    cr_expect_neq(res.interp_base, 0);
    cr_expect_eq(res.interp_base % 4096, 0);
    cr_expect_eq(res.entry, res.interp_base + 0x80);
    int found;
    cr_expect_eq(auxv_get(&res, ABI_AT_BASE, &found), res.interp_base);
    cr_expect(found);
    cr_expect_eq(auxv_get(&res, ABI_AT_ENTRY, &found), res.load_bias + 0x1100);
    /* The interpreter's bytes and bss are there, with its protections. */
    expect_file_bytes(&in, res.interp_base, 0, 0x1800);
    expect_file_bytes(&in, res.interp_base + 0x2800, 0x1800, 0x100);
    expect_zero(res.interp_base + 0x2900, 0x3000 - 0x100);
    cr_expect_eq(prot_at(res.interp_base), ABI_PROT_READ | ABI_PROT_EXEC);
    cr_expect_eq(prot_at(res.interp_base + 0x2800), ABI_PROT_READ | ABI_PROT_WRITE);
    /* It sits above the program, and later mappings go below it. */
    cr_expect_gt(res.interp_base, res.load_bias + 0x2000);
    int64_t next = mm_mmap(mm, 0, 4096, ABI_PROT_READ, ABI_MAP_PRIVATE | ABI_MAP_ANONYMOUS, -1, 0);
    cr_assert_gt(next, 0);
    cr_expect_lt((uint64_t)next, res.interp_base);
    free(m.data);
    free(in.data);
}

Test(loader, missing_interpreter_is_the_open_error)
{
    struct file m = dyn_main();
    struct interp_env e = {.open_err = -ABI_ENOENT};
    struct loader_args a = default_args();
    a.open_interp = open_interp;
    a.interp_arg = &e;
    struct loader_result res;
    struct loader_image img = image(&m);
    const char *why = NULL;
    cr_expect_eq(loader_load(mm, &img, &a, &res, &why), -ABI_ENOENT);
    cr_expect(why && strstr(why, INTERP_PATH), "%s", why);
    cr_expect_eq(count_vmas(), 0);
    free(m.data);
}

Test(loader, broken_interpreter_is_elibbad)
{
    struct file m = dyn_main(), in = dyn_interp();
    ehdr(&in)->e_machine = 183; /* aarch64 */
    struct interp_env e = {.interp = &in};
    struct loader_args a = default_args();
    a.open_interp = open_interp;
    a.close_interp = close_interp;
    a.interp_arg = &e;
    struct loader_result res;
    struct loader_image img = image(&m);
    const char *why = NULL;
    cr_expect_eq(loader_load(mm, &img, &a, &res, &why), -ABI_ELIBBAD);
    cr_expect(why && strstr(why, "interpreter") && strstr(why, "aarch64"), "%s", why);
    cr_expect_eq(e.closed, 1, "closed on failure too");
    free(m.data);
    free(in.data);
}

Test(loader, interpreter_path_rules)
{
    struct file m = dyn_main();
    struct loader_image img = image(&m);
    struct loader_elf_info *info = malloc(sizeof(*info));
    const char *why = NULL;
    /* No NUL at the end. */
    m.data[0x200 + sizeof(INTERP_PATH) - 1] = 'x';
    cr_expect_eq(loader_elf_parse(&img, info, &why), -ABI_ENOEXEC);
    cr_expect(why && strstr(why, "NUL"), "%s", why);
    /* A NUL inside. */
    m.data[0x200 + sizeof(INTERP_PATH) - 1] = '\0';
    m.data[0x202] = '\0';
    cr_expect_eq(loader_elf_parse(&img, info, &why), -ABI_ENOEXEC);
    /* Too short, too long, past the end of the file. */
    phdr(&m, 0)->p_filesz = 1;
    cr_expect_eq(loader_elf_parse(&img, info, &why), -ABI_ENOEXEC);
    phdr(&m, 0)->p_filesz = 4097;
    cr_expect_eq(loader_elf_parse(&img, info, &why), -ABI_ENOEXEC);
    phdr(&m, 0)->p_filesz = 64;
    phdr(&m, 0)->p_offset = m.len - 10;
    cr_expect_eq(loader_elf_parse(&img, info, &why), -ABI_ENOEXEC);
    cr_expect(why && strstr(why, "truncated"), "%s", why);
    free(info);
    free(m.data);
}

/* ---- "#!" scripts ---- */

static void expect_script(const char *text, int want, const char *interp, const char *arg)
{
    struct loader_script sc;
    const char *why = NULL;
    int r = loader_parse_script(text, strlen(text), &sc, &why);
    cr_expect_eq(r, want, "%s: %d (%s)", text, r, why ? why : "");
    if (r || want)
        return;
    cr_expect_str_eq(sc.interp, interp, "%s", text);
    if (arg) {
        cr_expect(sc.has_arg, "%s", text);
        cr_expect_str_eq(sc.arg, arg, "%s", text);
    } else {
        cr_expect(!sc.has_arg, "%s: unexpected arg '%s'", text, sc.arg);
    }
}

Test(loader_script, first_line_split_as_linux_does)
{
    expect_script("#!/bin/sh\necho hi\n", 0, "/bin/sh", NULL);
    expect_script("#! /bin/sh\n", 0, "/bin/sh", NULL);
    expect_script("#!\t/usr/bin/env   python3 -u  \t\n", 0, "/usr/bin/env", "python3 -u");
    expect_script("#!/bin/awk -f\n", 0, "/bin/awk", "-f");
    expect_script("#!/bin/sh   \n", 0, "/bin/sh", NULL);
    expect_script("#!/bin/sh", 0, "/bin/sh", NULL); /* a whole file of one line */
    expect_script("#!\n", -ABI_ENOEXEC, NULL, NULL);
    expect_script("#!   \t \n", -ABI_ENOEXEC, NULL, NULL);
    expect_script("#", -ABI_ENOEXEC, NULL, NULL);
    expect_script("", -ABI_ENOEXEC, NULL, NULL);
    expect_script("\x7f"
                  "ELF",
                  -ABI_ENOEXEC, NULL, NULL);
    expect_script(" #!/bin/sh\n", -ABI_ENOEXEC, NULL, NULL);
}

Test(loader_script, long_lines)
{
    char buf[600];
    /* An argument cut by the 256-byte limit is fine: the name is whole. */
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, "#!/bin/sh ", 10);
    struct loader_script sc;
    const char *why = NULL;
    cr_expect_eq(loader_parse_script(buf, sizeof(buf), &sc, &why), 0, "%s", why);
    cr_expect_str_eq(sc.interp, "/bin/sh");
    cr_expect_eq(strlen(sc.arg), LOADER_SCRIPT_BUF - 1 - 10);
    /* A name cut by the limit is not. */
    memset(buf, 'b', sizeof(buf));
    memcpy(buf, "#!/", 3);
    cr_expect_eq(loader_parse_script(buf, sizeof(buf), &sc, &why), -ABI_ENOEXEC);
    cr_expect(why && strstr(why, "cut off"), "%s", why);
}
