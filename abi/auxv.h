/* Auxiliary vector keys and the ELF definitions the loader needs, x86-64 only. */
#ifndef MOAT_ABI_AUXV_H
#define MOAT_ABI_AUXV_H

#include <stdint.h>

/* ---- auxiliary vector ---- */
#define ABI_AT_NULL              0
#define ABI_AT_IGNORE            1
#define ABI_AT_EXECFD            2
#define ABI_AT_PHDR              3
#define ABI_AT_PHENT             4
#define ABI_AT_PHNUM             5
#define ABI_AT_PAGESZ            6
#define ABI_AT_BASE              7
#define ABI_AT_FLAGS             8
#define ABI_AT_ENTRY             9
#define ABI_AT_NOTELF            10
#define ABI_AT_UID               11
#define ABI_AT_EUID              12
#define ABI_AT_GID               13
#define ABI_AT_EGID              14
#define ABI_AT_PLATFORM          15
#define ABI_AT_HWCAP             16
#define ABI_AT_CLKTCK            17
#define ABI_AT_SECURE            23
#define ABI_AT_BASE_PLATFORM     24
#define ABI_AT_RANDOM            25
#define ABI_AT_HWCAP2            26
#define ABI_AT_RSEQ_FEATURE_SIZE 27
#define ABI_AT_RSEQ_ALIGN        28
#define ABI_AT_HWCAP3            29
#define ABI_AT_HWCAP4            30
#define ABI_AT_EXECFN            31
#define ABI_AT_SYSINFO_EHDR      33
#define ABI_AT_MINSIGSTKSZ       51

/* AT_RANDOM points at this many bytes. */
#define ABI_AT_RANDOM_LEN 16

/* ---- ELF identification ---- */
#define ABI_ELFMAG        "\177ELF"
#define ABI_SELFMAG       4
#define ABI_ELFMAG0       0x7f
#define ABI_ELFMAG1       'E'
#define ABI_ELFMAG2       'L'
#define ABI_ELFMAG3       'F'
#define ABI_EI_MAG0       0
#define ABI_EI_MAG1       1
#define ABI_EI_MAG2       2
#define ABI_EI_MAG3       3
#define ABI_EI_CLASS      4
#define ABI_EI_DATA       5
#define ABI_EI_VERSION    6
#define ABI_EI_OSABI      7
#define ABI_EI_ABIVERSION 8
#define ABI_EI_PAD        9
#define ABI_EI_NIDENT     16

#define ABI_ELFCLASSNONE  0
#define ABI_ELFCLASS32    1
#define ABI_ELFCLASS64    2
#define ABI_ELFDATANONE   0
#define ABI_ELFDATA2LSB   1
#define ABI_ELFDATA2MSB   2
#define ABI_EV_NONE       0
#define ABI_EV_CURRENT    1
#define ABI_ELFOSABI_SYSV 0
#define ABI_ELFOSABI_GNU  3

/* e_type */
#define ABI_ET_NONE 0
#define ABI_ET_REL  1
#define ABI_ET_EXEC 2
#define ABI_ET_DYN  3
#define ABI_ET_CORE 4

/* e_machine */
#define ABI_EM_X86_64 62

/* p_type */
#define ABI_PT_NULL         0
#define ABI_PT_LOAD         1
#define ABI_PT_DYNAMIC      2
#define ABI_PT_INTERP       3
#define ABI_PT_NOTE         4
#define ABI_PT_SHLIB        5
#define ABI_PT_PHDR         6
#define ABI_PT_TLS          7
#define ABI_PT_GNU_EH_FRAME 0x6474e550
#define ABI_PT_GNU_STACK    0x6474e551
#define ABI_PT_GNU_RELRO    0x6474e552
#define ABI_PT_GNU_PROPERTY 0x6474e553

/* p_flags */
#define ABI_PF_X 0x1
#define ABI_PF_W 0x2
#define ABI_PF_R 0x4

struct abi_elf64_ehdr {
    uint8_t e_ident[ABI_EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
};
_Static_assert(sizeof(struct abi_elf64_ehdr) == 64, "Elf64_Ehdr");

struct abi_elf64_phdr {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
};
_Static_assert(sizeof(struct abi_elf64_phdr) == 56, "Elf64_Phdr");

#endif
