/* Parsing and validating an ELF executable's headers.
 *
 * Every field comes from an untrusted file: each sum of an offset and a size
 * is checked for wrap-around before it is used, and nothing is allocated from
 * a size the file gives.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "abi/auxv.h"
#include "abi/errno.h"
#include "abi/flags.h"
#include "sentry/loader/internal.h"

/* e_machine values worth naming when someone runs a binary built for another
 * architecture; the rest are reported by number. */
static const char *machine_name(unsigned m)
{
    switch (m) {
    case 3:
        return "i386";
    case 8:
        return "MIPS";
    case 20:
        return "32-bit PowerPC";
    case 21:
        return "ppc64";
    case 22:
        return "s390";
    case 40:
        return "32-bit ARM";
    case 43:
        return "SPARC64";
    case 50:
        return "IA-64";
    case ABI_EM_X86_64:
        return "x86-64";
    case 183:
        return "aarch64";
    case 243:
        return "RISC-V";
    case 258:
        return "LoongArch";
    default:
        return NULL;
    }
}

/* "for aarch64" or "for machine 1234". */
static const char *machine_phrase(unsigned m, char *buf, size_t len)
{
    const char *name = machine_name(m);
    if (name)
        snprintf(buf, len, "for %s", name);
    else
        snprintf(buf, len, "for machine %u", m);
    return buf;
}

static int check_ident(const unsigned char *h, int64_t n, const char **why)
{
    if (n == 0) {
        *why = "empty file, not an executable";
        return -ABI_ENOEXEC;
    }
    if (n >= 2 && h[0] == '#' && h[1] == '!') {
        *why = "not an ELF file: a #! script, which needs the sandbox's filesystem";
        return -ABI_ENOEXEC;
    }
    if (n < ABI_SELFMAG || memcmp(h, ABI_ELFMAG, ABI_SELFMAG) != 0) {
        *why = "not an ELF file";
        return -ABI_ENOEXEC;
    }
    /* e_machine sits at offset 18 in both classes: name the architecture of a
     * foreign binary even when its class or byte order is also wrong. */
    if (n < 20) {
        *why = loader_why("truncated ELF header (%" PRId64 " bytes)", n);
        return -ABI_ENOEXEC;
    }
    int cls = h[ABI_EI_CLASS], data = h[ABI_EI_DATA];
    unsigned machine =
        data == ABI_ELFDATA2MSB ? (unsigned)h[18] << 8 | h[19] : (unsigned)h[19] << 8 | h[18];
    char mbuf[48];
    if (data != ABI_ELFDATA2LSB && data != ABI_ELFDATA2MSB) {
        *why = loader_why("invalid ELF byte order %d", data);
        return -ABI_ENOEXEC;
    }
    if (cls != ABI_ELFCLASS32 && cls != ABI_ELFCLASS64) {
        *why = loader_why("invalid ELF class %d", cls);
        return -ABI_ENOEXEC;
    }
    if (machine != ABI_EM_X86_64 || data != ABI_ELFDATA2LSB) {
        *why = loader_why("%s%sELF %s, not x86-64", cls == ABI_ELFCLASS32 ? "32-bit " : "",
                          data == ABI_ELFDATA2MSB ? "big-endian " : "",
                          machine_phrase(machine, mbuf, sizeof(mbuf)));
        return -ABI_ENOEXEC;
    }
    if (cls != ABI_ELFCLASS64) {
        *why = "32-bit x86-64 ELF (x32), only 64-bit executables are supported";
        return -ABI_ENOEXEC;
    }
    if (h[ABI_EI_VERSION] != ABI_EV_CURRENT) {
        *why = loader_why("unsupported ELF version %d", h[ABI_EI_VERSION]);
        return -ABI_ENOEXEC;
    }
    if (n < (int64_t)sizeof(struct abi_elf64_ehdr)) {
        *why = loader_why("truncated ELF header (%" PRId64 " bytes)", n);
        return -ABI_ENOEXEC;
    }
    return 0;
}

static int check_type(unsigned type, const char **why)
{
    switch (type) {
    case ABI_ET_EXEC:
    case ABI_ET_DYN:
        return 0;
    case ABI_ET_REL:
        *why = "relocatable object file (ET_REL), not an executable: it needs linking first";
        return -ABI_ENOEXEC;
    case ABI_ET_CORE:
        *why = "core dump (ET_CORE), not an executable";
        return -ABI_ENOEXEC;
    default:
        *why = loader_why("unknown ELF file type %u, not an executable", type);
        return -ABI_ENOEXEC;
    }
}

static int prot_of(uint32_t flags)
{
    return (flags & ABI_PF_R ? ABI_PROT_READ : 0) | (flags & ABI_PF_W ? ABI_PROT_WRITE : 0) |
           (flags & ABI_PF_X ? ABI_PROT_EXEC : 0);
}

/* Largest p_align honoured; more would only push a PIE's bias to 0. */
#define MAX_HONOURED_ALIGN (1ULL << 30)

static int check_load(const struct loader_image *img, const struct abi_elf64_phdr *ph, unsigned i,
                      const struct loader_elf_info *info, const char **why)
{
    uint64_t end;
    if (ph->p_filesz > ph->p_memsz) {
        *why = loader_why("segment %u: file size 0x%" PRIx64 " exceeds memory size 0x%" PRIx64, i,
                          ph->p_filesz, ph->p_memsz);
        return -ABI_ENOEXEC;
    }
    if (__builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &end) ||
        end > UINT64_MAX - (LOADER_PAGE - 1)) {
        *why = loader_why("segment %u: address range wraps around", i);
        return -ABI_ENOEXEC;
    }
    if (end > LOADER_USER_LIMIT) {
        *why = loader_why("segment %u [0x%" PRIx64 ", 0x%" PRIx64
                          ") lies outside the user address space",
                          i, ph->p_vaddr, end);
        return -ABI_ENOEXEC;
    }
    if (info->type == ABI_ET_EXEC && ph->p_vaddr < LOADER_MIN_ADDR) {
        *why =
            loader_why("segment %u at 0x%" PRIx64 " lies below the lowest mappable address 0x%llx",
                       i, ph->p_vaddr, LOADER_MIN_ADDR);
        return -ABI_ENOEXEC;
    }
    if (((ph->p_offset - ph->p_vaddr) & (LOADER_PAGE - 1)) != 0) {
        *why = loader_why("segment %u: file offset 0x%" PRIx64 " and address 0x%" PRIx64
                          " differ modulo the page size",
                          i, ph->p_offset, ph->p_vaddr);
        return -ABI_ENOEXEC;
    }
    if (info->nload > 0) {
        const struct loader_segment *prev = &info->load[info->nload - 1];
        if (ph->p_vaddr < prev->vaddr + prev->memsz) {
            *why = loader_why("segment %u overlaps or precedes segment %u "
                              "(loadable segments must be in ascending order)",
                              i, prev->index);
            return -ABI_ENOEXEC;
        }
    }
    uint64_t file_end;
    if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &file_end)) {
        *why = loader_why("segment %u: file range wraps around", i);
        return -ABI_ENOEXEC;
    }
    if (ph->p_filesz > 0) {
        /* One byte at the end proves the whole range is there (files do not
         * have holes that read short). */
        unsigned char last;
        int64_t n = loader_read_full(img, &last, 1, file_end - 1);
        if (n < 0) {
            *why = loader_why("cannot read the executable (error %d)", (int)-n);
            return (int)n;
        }
        if (n == 0) {
            *why = loader_why("truncated: segment %u extends past the end of the file", i);
            return -ABI_ENOEXEC;
        }
    }
    return 0;
}

static void note_phdr_location(const struct abi_elf64_ehdr *eh, struct loader_elf_info *info)
{
    if (info->has_phdr_addr)
        return;
    uint64_t table = (uint64_t)eh->e_phnum * sizeof(struct abi_elf64_phdr);
    for (unsigned k = 0; k < info->nload; k++) {
        const struct loader_segment *s = &info->load[k];
        if (eh->e_phoff >= s->offset && eh->e_phoff - s->offset <= s->filesz &&
            table <= s->filesz - (eh->e_phoff - s->offset)) {
            info->phdr_addr = s->vaddr + (eh->e_phoff - s->offset);
            info->has_phdr_addr = 1;
            return;
        }
    }
}

/* The interpreter's path: 2 to PATH_MAX bytes inside the file, ending in
 * its only NUL. */
static int read_interp(const struct loader_image *img, const struct abi_elf64_phdr *p,
                       struct loader_elf_info *info, const char **why)
{
    if (p->p_filesz < 2 || p->p_filesz > LOADER_MAX_INTERP) {
        *why = loader_why("interpreter path of %" PRIu64 " bytes", p->p_filesz);
        return -ABI_ENOEXEC;
    }
    int64_t n = loader_read_full(img, info->interp, (size_t)p->p_filesz, p->p_offset);
    if (n < 0) {
        *why = "cannot read the interpreter path";
        return (int)n;
    }
    if ((uint64_t)n != p->p_filesz) {
        *why = "truncated: the interpreter path extends past the end of the file";
        return -ABI_ENOEXEC;
    }
    if (info->interp[n - 1] != '\0' || memchr(info->interp, '\0', (size_t)n - 1)) {
        *why = "the interpreter path is not a NUL-terminated string";
        return -ABI_ENOEXEC;
    }
    return 0;
}

int loader_elf_parse(const struct loader_image *img, struct loader_elf_info *info, const char **why)
{
    const char *ignored;
    if (!why)
        why = &ignored;
    *why = NULL;
    memset(info, 0, sizeof(*info));

    unsigned char raw[sizeof(struct abi_elf64_ehdr)];
    int64_t n = loader_read_full(img, raw, sizeof(raw), 0);
    if (n < 0) {
        *why = loader_why("cannot read the executable (error %d)", (int)-n);
        return (int)n;
    }
    int r = check_ident(raw, n, why);
    if (r)
        return r;
    struct abi_elf64_ehdr eh;
    memcpy(&eh, raw, sizeof(eh));

    r = check_type(eh.e_type, why);
    if (r)
        return r;
    if (eh.e_phentsize != sizeof(struct abi_elf64_phdr)) {
        *why = loader_why("bad program header size %u (expected %zu)", eh.e_phentsize,
                          sizeof(struct abi_elf64_phdr));
        return -ABI_ENOEXEC;
    }
    if (eh.e_phnum == 0) {
        *why = "no program headers, nothing to load";
        return -ABI_ENOEXEC;
    }
    if (eh.e_phnum > LOADER_MAX_PHNUM) {
        *why =
            loader_why("too many program headers (%u, at most %d)", eh.e_phnum, LOADER_MAX_PHNUM);
        return -ABI_ENOEXEC;
    }
    size_t table = (size_t)eh.e_phnum * sizeof(struct abi_elf64_phdr);
    uint64_t table_end;
    if (__builtin_add_overflow(eh.e_phoff, (uint64_t)table, &table_end)) {
        *why = "program header offset wraps around";
        return -ABI_ENOEXEC;
    }
    struct abi_elf64_phdr ph[LOADER_MAX_PHNUM];
    n = loader_read_full(img, ph, table, eh.e_phoff);
    if (n < 0) {
        *why = loader_why("cannot read the executable (error %d)", (int)-n);
        return (int)n;
    }
    if ((size_t)n < table) {
        *why = "truncated: program headers extend past the end of the file";
        return -ABI_ENOEXEC;
    }

    info->type = eh.e_type;
    info->entry = eh.e_entry;
    info->phoff = eh.e_phoff;
    info->phnum = eh.e_phnum;
    info->phentsize = eh.e_phentsize;
    info->align = LOADER_PAGE;

    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const struct abi_elf64_phdr *p = &ph[i];
        switch (p->p_type) {
        case ABI_PT_LOAD:
            /* Linux maps nothing for an empty PT_LOAD; neither do we, and its
             * other fields do not matter. */
            if (p->p_memsz == 0)
                break;
            r = check_load(img, p, i, info, why);
            if (r)
                return r;
            info->load[info->nload++] = (struct loader_segment){
                .vaddr = p->p_vaddr,
                .memsz = p->p_memsz,
                .offset = p->p_offset,
                .filesz = p->p_filesz,
                .prot = prot_of(p->p_flags),
                .index = (uint16_t)i,
            };
            if (p->p_align > info->align && p->p_align <= MAX_HONOURED_ALIGN &&
                (p->p_align & (p->p_align - 1)) == 0)
                info->align = p->p_align;
            break;
        case ABI_PT_INTERP:
            /* The first one counts, as on Linux. */
            if (!info->has_interp) {
                r = read_interp(img, p, info, why);
                if (r)
                    return r;
                info->has_interp = 1;
            }
            break;
        case ABI_PT_GNU_STACK:
            info->stack_exec = (p->p_flags & ABI_PF_X) != 0;
            break;
        case ABI_PT_PHDR:
            info->phdr_addr = p->p_vaddr;
            info->has_phdr_addr = 1;
            break;
        default:
            break;
        }
    }
    if (info->nload == 0) {
        *why = "no loadable segments";
        return -ABI_ENOEXEC;
    }
    note_phdr_location(&eh, info);

    const struct loader_segment *last = &info->load[info->nload - 1];
    info->lo = loader_page_down(info->load[0].vaddr);
    info->hi = loader_page_up(last->vaddr + last->memsz);
    /* Linux refuses an entry point beyond the user address space with EINVAL
     * (one inside it but outside any segment just faults at the first
     * instruction, as it would there). */
    if (info->entry >= LOADER_USER_LIMIT) {
        *why = loader_why("entry point 0x%" PRIx64 " lies outside the user address space",
                          info->entry);
        return -ABI_EINVAL;
    }
    return 0;
}
