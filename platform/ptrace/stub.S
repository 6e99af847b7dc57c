/* The ptrace stub: the only code mapped in a guest address space besides the
 * guest's own and the vDSO. It is position independent and uses no stack, so
 * it runs unchanged at STUB_BASE after the Sentry copies it there.
 *
 * Entry (from the freshly forked child, still on the Sentry's copy of memory):
 *   rdi = end of the first hole to unmap (STUB_BASE)
 *   rsi = start of the region above the stub to unmap (STUB_BASE + STUB_SIZE)
 *   rdx = start of the vDSO/vvar block to keep
 *   rcx = end of the vDSO/vvar block to keep
 *   r8  = top of the user address space
 * The stub unmaps everything else, stops itself with SIGSTOP so the Sentry
 * (its tracer) can take over, and never runs again except at stub_syscall
 * and stub_clone.
 */
        .section .note.GNU-stack, "", @progbits
        .section .text.moat_stub, "ax", @progbits
        .balign 4096
        .globl moat_stub_start
        .globl moat_stub_entry
        .globl moat_stub_syscall
        .globl moat_stub_clone
        .globl moat_stub_sigs_none
        .globl moat_stub_end
moat_stub_start:
moat_stub_entry:
        mov %rsi, %r12          /* callee-visible copies: syscalls clobber rcx, r11 */
        mov %rdx, %r13
        mov %rcx, %r14
        mov %r8, %r15
        mov %rdi, %rbx

        /* munmap(0x1000... no: 0, STUB_BASE) */
        mov $11, %eax
        xor %edi, %edi
        mov %rbx, %rsi
        syscall
        /* munmap(stub end, vdso start - stub end) */
        mov $11, %eax
        mov %r12, %rdi
        mov %r13, %rsi
        sub %r12, %rsi
        syscall
        /* munmap(vdso end, top - vdso end) */
        mov $11, %eax
        mov %r14, %rdi
        mov %r15, %rsi
        sub %r14, %rsi
        syscall
        /* kill(getpid(), SIGSTOP) */
        mov $39, %eax
        syscall
        mov %rax, %rdi
        mov $19, %esi
        mov $62, %eax
        syscall
        /* The Sentry never resumes here; trap if it ever does. */
        ud2

        /* Injected host calls: the Sentry points rip here with the call in
         * rax and its arguments in rdi, rsi, rdx, r10, r8, r9, and gets
         * control back at the int3. */
        .balign 16
moat_stub_syscall:
        syscall
        int3
        ud2

        /* A new stub thread: the Sentry points rip here with the clone flags
         * in rdi. Every signal is blocked around the clone, so the new thread
         * is born with all of them blocked: until a Sentry thread attaches to
         * it, nothing may make it run a handler inherited from the Sentry.
         * The calling thread gets its (empty) mask back and the clone's
         * result in rax at the int3. */
        .balign 16
moat_stub_clone:
        mov %rdi, %r12
        mov $14, %eax           /* rt_sigprocmask(SIG_SETMASK, &all, NULL, 8) */
        mov $2, %edi
        lea moat_stub_sigs_all(%rip), %rsi
        xor %edx, %edx
        mov $8, %r10d
        syscall
        mov %r12, %rdi          /* clone(flags, same stack, 0, 0, 0) */
        xor %esi, %esi
        xor %edx, %edx
        xor %r10d, %r10d
        xor %r8d, %r8d
        mov $56, %eax
        syscall
        test %rax, %rax
        jz 1f
        mov %rax, %r12
        mov $14, %eax           /* rt_sigprocmask(SIG_SETMASK, &none, NULL, 8) */
        mov $2, %edi
        lea moat_stub_sigs_none(%rip), %rsi
        xor %edx, %edx
        mov $8, %r10d
        syscall
        mov %r12, %rax
        int3
        ud2
        /* The new thread touches no memory and waits forever on a futex
         * nobody wakes; PTRACE_INTERRUPT gets it out, and the attaching
         * Sentry thread points it elsewhere. */
1:      mov $202, %eax          /* futex(&none, FUTEX_WAIT_PRIVATE, 0, NULL) */
        lea moat_stub_sigs_none(%rip), %rdi
        mov $128, %esi
        xor %edx, %edx
        xor %r10d, %r10d
        syscall
        jmp 1b

        /* Signal masks for rt_sigprocmask; the empty one doubles as the
         * futex word above. */
        .balign 8
moat_stub_sigs_all:
        .quad -1
moat_stub_sigs_none:
        .quad 0
        .balign 4096
moat_stub_end:
