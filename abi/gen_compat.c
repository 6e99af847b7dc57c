/*
 * Writes docs/compatibility.md from the syscall table, so the published
 * support matrix can never drift from what the dispatch table says.
 * Usage: moat-gen-compat [OUTPUT]   (stdout without an argument)
 */
#include "abi/syscall_table.h"

#include <stdio.h>

static const char *support_name(int s)
{
    switch (s) {
    case ABI_SUPPORT_FULL:
        return "full";
    case ABI_SUPPORT_PARTIAL:
        return "partial";
    default:
        return "none";
    }
}

/* Markdown table cells cannot hold a bare '|' or a line break. */
static void put_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static int write_doc(FILE *f)
{
    size_t count[3] = {0, 0, 0};
    size_t total = abi_syscall_count();
    for (size_t i = 0; i < total; i++) {
        const struct abi_syscall *s = abi_syscall_at(i);
        if (s->support <= ABI_SUPPORT_FULL)
            count[s->support]++;
    }

    fputs("<!-- Generated from abi/syscalls.def by moat-gen-compat (abi/gen_compat.c) during the "
          "build. Do not edit: change abi/syscalls.def instead. -->\n\n",
          f);
    fputs("# Syscall compatibility (x86-64)\n\n", f);
    fputs("Every x86-64 Linux syscall and how far moat implements it. A syscall marked\n"
          "`none` returns ENOSYS to the guest and is reported once by name; `partial`\n"
          "says in its note what is missing.\n\n",
          f);
    fputs("| support | syscalls |\n|---|---:|\n", f);
    fprintf(f, "| full | %zu |\n", count[ABI_SUPPORT_FULL]);
    fprintf(f, "| partial | %zu |\n", count[ABI_SUPPORT_PARTIAL]);
    fprintf(f, "| none | %zu |\n", count[ABI_SUPPORT_NONE]);
    fprintf(f, "| total | %zu |\n\n", total);

    fputs("| number | name | support | note |\n|---:|---|---|---|\n", f);
    for (size_t i = 0; i < total; i++) {
        const struct abi_syscall *s = abi_syscall_at(i);
        fprintf(f, "| %d | %s | %s | ", s->nr, s->name, support_name(s->support));
        put_cell(f, s->note);
        fputs(" |\n", f);
    }
    return ferror(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: %s [OUTPUT]\n", argv[0]);
        return 2;
    }
    FILE *f = stdout;
    if (argc == 2) {
        f = fopen(argv[1], "w");
        if (f == NULL) {
            perror(argv[1]);
            return 1;
        }
    }
    int rc = write_doc(f);
    if (f != stdout) {
        if (fclose(f) != 0)
            rc = -1;
    } else if (fflush(f) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: write failed\n", argv[0]);
        return 1;
    }
    return 0;
}
