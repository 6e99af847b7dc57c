#!/usr/bin/env python3
"""Write malformed (and two well-formed) x86-64 ELF samples into a directory.

Usage: make_samples.py DIR

The end-to-end tests run each sample with `moat do` and check the error
message. DIR/MANIFEST.tsv lists every sample with the exit status class and a
substring the loader's message must contain (empty for the good samples).
Standard library only.
"""
import os
import struct
import sys

EHDR_SIZE = 64
PHDR_SIZE = 56
BASE = 0x400000

ET_REL, ET_EXEC, ET_DYN, ET_CORE = 1, 2, 3, 4
PT_LOAD, PT_INTERP = 1, 3
PF_X, PF_W, PF_R = 1, 2, 4
EM_X86_64, EM_AARCH64, EM_386 = 62, 183, 3

# exit(42): mov edi, 42; mov eax, 60; syscall
EXIT42 = bytes.fromhex("bf2a000000" "b83c000000" "0f05")


def ehdr(e_type=ET_EXEC, machine=EM_X86_64, entry=0, phoff=EHDR_SIZE, phnum=1,
         phentsize=PHDR_SIZE, ei_class=2, ei_data=1, endian="<"):
    ident = b"\x7fELF" + bytes([ei_class, ei_data, 1, 0]) + bytes(8)
    return ident + struct.pack(endian + "HHIQQQIHHHHHH", e_type, machine, 1, entry, phoff, 0, 0,
                               EHDR_SIZE, phentsize, phnum, 0, 0, 0)


def phdr(p_type, flags, offset, vaddr, filesz, memsz, align=0x1000):
    return struct.pack("<IIQQQQQQ", p_type, flags, offset, vaddr, vaddr, filesz, memsz, align)


def tiny(extra_phdrs=b"", extra_phnum=0, e_type=ET_EXEC, **kw):
    """A complete static program: one RX segment covering the whole file."""
    phnum = 1 + extra_phnum
    code_off = EHDR_SIZE + PHDR_SIZE * phnum
    size = code_off + len(EXIT42)
    vaddr = 0 if e_type == ET_DYN else BASE
    out = ehdr(e_type=e_type, entry=vaddr + code_off, phnum=phnum, **kw)
    out += phdr(PT_LOAD, PF_R | PF_X, 0, vaddr, size, size) + extra_phdrs
    return out + EXIT42


def samples():
    good = tiny()
    s = {}
    # name: (bytes, mode, expected outcome, message substring)
    s["good_static"] = (good, 0o755, "exit42", "")
    s["good_static_pie"] = (tiny(e_type=ET_DYN), 0o755, "exit42", "")
    s["not_executable"] = (good, 0o644, "EACCES", "")
    s["empty"] = (b"", 0o755, "ENOEXEC", "empty file")
    s["short_header"] = (good[:40], 0o755, "ENOEXEC", "truncated ELF header")
    s["garbage"] = (bytes((i * 131 + 17) & 0xFF for i in range(4096)), 0o755, "ENOEXEC",
                    "not an ELF file")
    # Loaded as Linux loads them; the test compares with a native run.
    s["script"] = (b"#!/bin/sh\necho hello\n", 0o755, "same", "")
    s["elf32_i386"] = (ehdr(machine=EM_386, ei_class=1) + bytes(64), 0o755, "ENOEXEC",
                       "32-bit ELF for i386, not x86-64")
    s["big_endian"] = (ehdr(machine=21, ei_data=2, endian=">") + bytes(64), 0o755, "ENOEXEC",
                       "big-endian ELF for ppc64, not x86-64")
    s["aarch64"] = (tiny(machine=EM_AARCH64), 0o755, "ENOEXEC", "ELF for aarch64, not x86-64")
    s["et_rel"] = (tiny(e_type=ET_REL), 0o755, "ENOEXEC", "ET_REL")
    s["et_core"] = (tiny(e_type=ET_CORE), 0o755, "ENOEXEC", "core dump")
    s["bad_phentsize"] = (tiny(phentsize=32), 0o755, "ENOEXEC", "program header size")
    s["no_phdrs"] = (ehdr(phnum=0) + EXIT42, 0o755, "ENOEXEC", "no program headers")
    s["phoff_past_eof"] = (ehdr(phoff=1 << 20) + EXIT42, 0o755, "ENOEXEC",
                           "program headers extend past the end of the file")
    # The segment claims 64 KiB of file; the file is a few dozen bytes.
    trunc = bytearray(good)
    trunc[EHDR_SIZE:EHDR_SIZE + PHDR_SIZE] = phdr(PT_LOAD, PF_R | PF_X, 0, BASE, 0x10000, 0x10000)
    s["truncated"] = (bytes(trunc), 0o755, "ENOEXEC",
                      "truncated: segment 0 extends past the end of the file")
    bad = bytearray(good)
    bad[EHDR_SIZE:EHDR_SIZE + PHDR_SIZE] = phdr(PT_LOAD, PF_R | PF_X, 0, BASE, len(good), 16)
    s["filesz_gt_memsz"] = (bytes(bad), 0o755, "ENOEXEC", "exceeds memory size")
    bad = bytearray(good)
    bad[EHDR_SIZE:EHDR_SIZE + PHDR_SIZE] = phdr(PT_LOAD, PF_R | PF_X, 0, 1 << 48, len(good),
                                                len(good))
    s["outside_address_space"] = (bytes(bad), 0o755, "ENOEXEC",
                                  "outside the user address space")
    bad = bytearray(good)
    bad[EHDR_SIZE:EHDR_SIZE + PHDR_SIZE] = phdr(PT_LOAD, PF_R | PF_X, 0, BASE + 8, len(good),
                                                len(good))
    s["misaligned_segment"] = (bytes(bad), 0o755, "ENOEXEC", "differ modulo the page size")
    interp_path = b"/lib64/ld-linux-x86-64.so.2\0"
    code_off = EHDR_SIZE + 2 * PHDR_SIZE
    interp_off = code_off + len(EXIT42)
    size = interp_off + len(interp_path)
    dyn = ehdr(entry=BASE + code_off, phnum=2)
    dyn += phdr(PT_LOAD, PF_R | PF_X, 0, BASE, size, size)
    dyn += phdr(PT_INTERP, PF_R, interp_off, BASE + interp_off, len(interp_path),
                len(interp_path), 1)
    s["dynamic"] = (dyn + EXIT42 + interp_path, 0o755, "same", "")
    return s


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: make_samples.py DIR\n")
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    lines = []
    for name, (data, mode, outcome, why) in samples().items():
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        lines.append(f"{name}\t{outcome}\t{why}\n")
    with open(os.path.join(out, "MANIFEST.tsv"), "w") as f:
        f.write("# sample\texpected outcome\tsubstring of the loader's message\n")
        f.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
