/* The systrap stub: the only code in a guest address space besides the
 * guest's own and the vDSO. Position independent, no stack of its own: the
 * Sentry copies it to STUB_BASE and every stub process keeps it there.
 *
 * Three pieces run here:
 * - systrap_entry: the freshly forked stub unmaps what it inherited, starts
 *   the control thread and becomes the first guest thread.
 * - the control thread (ctl_loop) runs the Sentry's address-space commands
 *   from the read-only command page and clones new stub threads. Guest code
 *   never runs on it: it touches no memory the guest can write except to
 *   store results, and reads its orders only from the read-only page.
 * - the signal handler, on each thread's alternate stack in its slot: it
 *   publishes the event, waits for the Sentry to edit the frame, and returns
 *   to the guest through rt_sigreturn. Guest threads may make host calls
 *   only from here (see filter.c).
 *
 * systrap.c checks that these constants match stub_layout.h and sysmsg.h.
 */
#include "platform/systrap/sysmsg.h"

#define STUB_BASE_A   0x7e0000000000
#define STUB_END_A    0x7e0000001000
#define TASK_TOP_A    0x7ffffffff000
#define CMD_PAGE      (SYSMSG_BASE + SYSMSG_CMD_OFF)
#define RES_PAGE      (SYSMSG_BASE + SYSMSG_RES_OFF)
#define SLOT0         (SYSMSG_BASE + SYSMSG_SLOTS_OFF)
#define SYSMSG_END    (SYSMSG_BASE + SYSMSG_SIZE)

#define NR_WRITE         1
#define NR_MMAP          9
#define NR_MPROTECT      10
#define NR_MUNMAP        11
#define NR_RT_SIGPROCMASK 14
#define NR_RT_SIGRETURN  15
#define NR_CLONE         56
#define NR_EXIT          60
#define NR_SIGALTSTACK   131
#define NR_FUTEX         202
#define NR_SET_TID_ADDRESS 218
#define NR_SECCOMP       317
#define FUTEX_WAIT       0
#define FUTEX_WAKE       1
#define MAP_SHARED_FIXED 0x11

        .section .note.GNU-stack, "", @progbits
        .section .text.moat_systrap_stub, "ax", @progbits
        .balign 4096
        .globl systrap_stub_start
        .globl systrap_entry
        .globl systrap_birth
        .globl systrap_handler
        .globl systrap_handler_end
        .globl systrap_restorer
        .globl systrap_stub_end
        .globl systrap_patch_entry
        .globl systrap_patch_published
        .globl systrap_patch_trap
        .globl systrap_patch_end
        .set systrap_patch_entry, patch_entry
        .set systrap_patch_published, patch_published
        .set systrap_patch_trap, patch_trap
        .set systrap_patch_end, patch_end
systrap_stub_start:

        /* rdi: start of the vDSO block to keep, rsi: its end (both the top
         * of the address space when there is none); rdx: nonzero when the
         * patch area (inherited from the factory) is to be kept. */
systrap_entry:
        mov %rdi, %r12
        mov %rsi, %r13
        mov %rdx, %r14
        /* What the factory left in registers (its TLS base, stack and heap
         * pointers: the Sentry's layout, since the factory is its fork) is
         * inherited by every stub thread and lands in birth frames and slot
         * state pages that guest threads can read. Nothing here uses a
         * stack. */
        xor %eax, %eax
        wrfsbase %rax
        wrgsbase %rax
        xor %ebx, %ebx
        xor %ecx, %ecx
        xor %edx, %edx
        xor %ebp, %ebp
        xor %esp, %esp
        xor %r8d, %r8d
        xor %r9d, %r9d
        xor %r10d, %r10d
        xor %r11d, %r11d
        xor %r15d, %r15d
        mov $NR_MUNMAP, %eax            /* below the stub, the patch area aside */
        xor %edi, %edi
        movabs $STUB_BASE_A, %rsi
        test %r14, %r14
        jz 2f
        mov $PATCH_BASE, %esi
        syscall
        mov $NR_MUNMAP, %eax
        mov $PATCH_END, %edi
        movabs $(STUB_BASE_A - PATCH_END), %rsi
2:      syscall
        xor %r14d, %r14d
        mov $NR_MUNMAP, %eax            /* between the stub and the shared region */
        movabs $STUB_END_A, %rdi
        movabs $(SYSMSG_BASE - STUB_END_A), %rsi
        syscall
        mov $NR_MUNMAP, %eax            /* between the shared region and the vDSO */
        movabs $SYSMSG_END, %rdi
        mov %r12, %rsi
        sub %rdi, %rsi
        syscall
        mov $NR_MUNMAP, %eax            /* above the vDSO */
        mov %r13, %rdi
        movabs $TASK_TOP_A, %rsi
        sub %rdi, %rsi
        jz 1f
        syscall
1:      mov $NR_SET_TID_ADDRESS, %eax   /* our exit zeroes slot 0's state */
        movabs $SLOT0, %rdi
        syscall
        mov $NR_CLONE, %eax             /* the control thread */
        mov $SYSTRAP_CTL_CLONE_FLAGS, %edi
        xor %esi, %esi
        xor %edx, %edx
        xor %r10d, %r10d
        xor %r8d, %r8d
        syscall
        test %rax, %rax
        jz ctl_loop
        js stub_die
        movabs $SLOT0, %r12
        /* fall through */

        /* A new guest thread, r12 = its slot. Every signal is blocked. */
thread_start:
        mov $NR_SIGALTSTACK, %eax
        lea SLOT_ALTSTACK(%r12), %rdi
        xor %esi, %esi
        syscall
        test %rax, %rax
        jnz stub_die
        mov $NR_RT_SIGPROCMASK, %eax    /* all but the kick, which waits for the first resume */
        mov $2, %edi
        lea systrap_mask_kick(%rip), %rsi
        xor %edx, %edx
        mov $8, %r10d
        syscall
        mov $NR_SECCOMP, %eax           /* SECCOMP_SET_MODE_FILTER, the guest filter */
        mov $1, %edi
        xor %esi, %esi
        movabs $(CMD_PAGE + CMD_FPROG), %rdx
        syscall
        test %rax, %rax
        jnz stub_die
        /* The birth event: the Sentry loads the guest's registers into
         * this frame; execution never comes back here. */
systrap_birth:
        int3
stub_die:
        ud2

        /* ---- the control thread: rbx command page, rbp results page,
         * r13 last batch done, r14 index in the batch. ---- */
ctl_loop:
        movabs $CMD_PAGE, %rbx
        movabs $RES_PAGE, %rbp
        xor %r13d, %r13d
ctl_wait:
        mov CMD_CTL_SPIN(%rbx), %ecx
        inc %ecx
1:      mov CMD_SEQ(%rbx), %eax
        cmp %r13d, %eax
        jne ctl_work
        pause
        dec %ecx
        jnz 1b
ctl_sleep:
        mov $NR_FUTEX, %eax
        lea CMD_SEQ(%rbx), %rdi
        mov $FUTEX_WAIT, %esi
        mov %r13d, %edx
        xor %r10d, %r10d
        syscall
        mov CMD_SEQ(%rbx), %eax
        cmp %r13d, %eax
        je ctl_sleep
ctl_work:
        mov %eax, %r13d
        xor %r14d, %r14d
ctl_next:
        mov CMD_N(%rbx), %eax
        cmp $CMD_RING_MAX, %eax
        jbe 2f
        mov $CMD_RING_MAX, %eax
2:      cmp %eax, %r14d
        jae ctl_done
        imul $CMD_SIZE, %r14, %r12
        lea CMD_RING(%rbx, %r12), %r12
        mov CMDF_OP(%r12), %rax
        cmp $OP_MAP, %rax
        je op_map
        cmp $OP_UNMAP, %rax
        je op_unmap
        cmp $OP_PROTECT, %rax
        je op_protect
        cmp $OP_CLONE, %rax
        je op_clone
        mov $-22, %rax
        jmp ctl_store
op_map:
        mov $NR_MMAP, %eax
        mov CMDF_ADDR(%r12), %rdi
        mov CMDF_LEN(%r12), %rsi
        mov CMDF_PROT(%r12), %rdx
        mov $MAP_SHARED_FIXED, %r10d
        mov $STUB_FD_MEM, %r8d
        mov CMDF_OFF(%r12), %r9
        syscall
        jmp ctl_store
op_unmap:
        mov $NR_MUNMAP, %eax
        mov CMDF_ADDR(%r12), %rdi
        mov CMDF_LEN(%r12), %rsi
        syscall
        jmp ctl_store
op_protect:
        mov $NR_MPROTECT, %eax
        mov CMDF_ADDR(%r12), %rdi
        mov CMDF_LEN(%r12), %rsi
        mov CMDF_PROT(%r12), %rdx
        syscall
        jmp ctl_store
op_clone:
        mov CMDF_AUX(%r12), %r12        /* the child starts at thread_start with its slot */
        mov $NR_CLONE, %eax
        mov $SYSTRAP_THREAD_CLONE_FLAGS, %edi
        xor %esi, %esi
        xor %edx, %edx
        lea SLOT_STATE(%r12), %r10
        xor %r8d, %r8d
        syscall
        test %rax, %rax
        jz thread_start
ctl_store:
        mov %rax, RES_VALUES(%rbp, %r14, 8)
        inc %r14d
        jmp ctl_next
ctl_done:
        mov $NR_WRITE, %eax             /* the proof of completion: only this thread may write it */
        mov $STUB_FD_DONE, %edi
        lea systrap_one(%rip), %rsi
        mov $8, %edx
        syscall
        mov %r13d, RES_DONE(%rbp)
        jmp ctl_wait

        /* Publish the event of the thread whose slot is r12, then wait
         * until the Sentry answers. Clobbers rax, rcx, rdx, rsi, rdi, r10,
         * r11. */
.macro WAIT_GO
        cmpl $0, SLOT_SENTRY_SLEEP(%r12)
        je 10f
        mov $NR_FUTEX, %eax
        lea SLOT_STATE(%r12), %rdi
        mov $FUTEX_WAKE, %esi
        mov $1, %edx
        syscall
10:
        /* Spinning pays only when the Sentry thread runs on another CPU:
         * on ours it would only delay it. rdtscp's aux is the CPU number. */
        rdtscp
        and $0xfff, %ecx
        mov %ecx, SLOT_STUB_CPU(%r12)
        cmp SLOT_SENTRY_CPU(%r12), %ecx
        je 12f
        movabs $(CMD_PAGE + CMD_STUB_SPIN), %rax
        mov (%rax), %ecx
        inc %ecx
11:     cmpl $STATE_EVENT, SLOT_STATE(%r12)
        jne 13f
        pause
        dec %ecx
        jnz 11b
12:     mov $1, %eax
        xchg %eax, SLOT_STUB_SLEEP(%r12)
        cmpl $STATE_EVENT, SLOT_STATE(%r12)
        jne 13f
        mov $NR_FUTEX, %eax
        lea SLOT_STATE(%r12), %rdi
        mov $FUTEX_WAIT, %esi
        mov $STATE_EVENT, %edx
        xor %r10d, %r10d
        syscall
        jmp 12b
13:     rdtsc
        shl $32, %rdx
        or %rdx, %rax
        mov %rax, SLOT_T_RESUMED(%r12)
        movl $0, SLOT_STUB_SLEEP(%r12)
.endm

.macro STAMP_EVENT
        rdtsc                           /* for the handoff measurements */
        shl $32, %rdx
        or %rdx, %rax
        mov %rax, SLOT_T_EVENT(%r12)
.endm

        /* ---- the signal handler: rdi signo, rsi siginfo, rdx ucontext;
         * rsp at the frame in this thread's slot. ---- */
        .balign 64
systrap_handler:
        mov %rsp, %r12
        and $~(SYSMSG_SLOT_SIZE - 1), %r12
        /* A signal sent to a thread on its way into the Sentry through
         * patch_entry has done its job: the Sentry hears from the thread
         * anyway. Let it pass (noting one from outside for the Sentry)
         * unless the CPU raised it, or the Sentry has already answered. */
        mov 168(%rdx), %rax             /* uc_mcontext.rip */
        movabs $(CMD_PAGE + CMD_XFEATURES), %rcx
        cmpq $0, (%rcx)                 /* no patching: no patch area either */
        je 2f
        mov %rax, %rcx                  /* in a trampoline: on its way too */
        sub $PATCH_CODE, %rcx
        cmp $(PATCH_ENTRY_PTR - PATCH_CODE), %rcx
        jae 2f
        cmpl $0, 8(%rsi)
        jg h_event
        jmp 1f
2:      lea patch_entry(%rip), %rcx
        sub %rcx, %rax
        cmp $(patch_resumed - patch_entry), %rax
        jae h_event
        cmpl $0, 8(%rsi)                /* si_code > 0: a fault */
        jg h_event
        cmp $(patch_published - patch_entry), %rax
        jb 1f
        cmpl $STATE_EVENT, SLOT_STATE(%r12)
        jne h_event
1:      cmp $SYSTRAP_KICK_SIGNAL, %edi
        je h_return
        mov %edi, SLOT_DEFERRED(%r12)
        jmp h_return
h_event:
        mov %edi, SLOT_SIGNO(%r12)
        mov %rsi, SLOT_INFO(%r12)
        mov %rdx, SLOT_UCTX(%r12)
        rdfsbase %rax
        mov %rax, SLOT_FSBASE(%r12)
        rdgsbase %rax
        mov %rax, SLOT_GSBASE(%r12)
        STAMP_EVENT
        mov $STATE_EVENT, %eax
        xchg %eax, SLOT_STATE(%r12)
        WAIT_GO
        cmpl $STATE_EXIT, SLOT_STATE(%r12)
        je h_exit
h_bases:
        mov SLOT_SET_BASES(%r12), %eax
        test %eax, %eax
        jz h_return
        movl $0, SLOT_SET_BASES(%r12)
        test $1, %eax
        jz 2f
        mov SLOT_NEW_FSBASE(%r12), %rcx
        wrfsbase %rcx
2:      test $2, %eax
        jz h_return
        mov SLOT_NEW_GSBASE(%r12), %rcx
        wrgsbase %rcx
h_return:
        add $8, %rsp                    /* past pretcode: rt_sigreturn wants rsp at the ucontext */
systrap_restorer:
        mov $NR_RT_SIGRETURN, %eax
        syscall
        ud2
h_exit:
        mov $NR_EXIT, %eax
        xor %edi, %edi
        syscall
        ud2

        /* ---- a patched syscall: the guest's `jmp *PATCH_TABLE+8k` led
         * here through trampoline k with r11d = k. rax, rcx and r11 are
         * the guest's to lose (`mov $nr, %eax; syscall` clobbers them),
         * every other register and flag is the guest's. gs holds this
         * thread's slot address unless the guest set its own gs base: then
         * the call traps instead. ---- */
        .balign 64
patch_entry:
        /* The arithmetic flags go into r11's top half (ah: lahf's five, al:
         * OF) before anything here changes them; pushf on the private
         * stack supplies the rest. */
        lahf
        seto %al
        movzwl %ax, %eax
        shl $32, %rax
        or %rax, %r11
        rdgsbase %rcx
        movabs $SLOT0, %rax
        sub %rax, %rcx
        cmp $(SYSMSG_MAX_SLOTS * SYSMSG_SLOT_SIZE), %rcx
        jae patch_trap
        test $(SYSMSG_SLOT_SIZE - 1), %ecx
        jnz patch_trap
        mov %r12, %gs:(PF_MC + MC_R12)
        rdgsbase %r12
        mov %rsp, PF_MC + MC_RSP(%r12)
        lea PF_STACK(%r12), %rsp
        pushfq
        pop %rax
        and $~0x8d5, %rax
        mov %r11, %rcx
        shr $40, %rcx
        and $0xd5, %ecx
        or %rcx, %rax
        bt $32, %r11
        jnc 1f
        or $0x800, %rax
1:      mov %rax, PF_MC + MC_EFLAGS(%r12)
        mov %r11d, SLOT_PATCH_K(%r12)
        mov %r8, PF_MC + MC_R8(%r12)
        mov %r9, PF_MC + MC_R9(%r12)
        mov %r10, PF_MC + MC_R10(%r12)
        mov %r13, PF_MC + MC_R13(%r12)
        mov %r14, PF_MC + MC_R14(%r12)
        mov %r15, PF_MC + MC_R15(%r12)
        mov %rdi, PF_MC + MC_RDI(%r12)
        mov %rsi, PF_MC + MC_RSI(%r12)
        mov %rbp, PF_MC + MC_RBP(%r12)
        mov %rbx, PF_MC + MC_RBX(%r12)
        mov %rdx, PF_MC + MC_RDX(%r12)
        movabs $(CMD_PAGE + CMD_XFEATURES), %rcx
        mov (%rcx), %eax
        mov 4(%rcx), %edx
        xsave64 PF_FP(%r12)
        rdfsbase %rax
        mov %rax, SLOT_FSBASE(%r12)
        mov %r12, SLOT_GSBASE(%r12)
        movl $0, SLOT_SIGNO(%r12)       /* no signal: the Sentry reads our frame */
        lea PF_INFO(%r12), %rax
        mov %rax, SLOT_INFO(%r12)
        lea PF_UC(%r12), %rax
        mov %rax, SLOT_UCTX(%r12)
        STAMP_EVENT
        mov $STATE_EVENT, %eax
        xchg %eax, SLOT_STATE(%r12)
patch_published:
        WAIT_GO
patch_resumed:
        cmpl $STATE_EXIT, SLOT_STATE(%r12)
        je h_exit
        /* A new gs base, or a trap flag that popf would raise here, leave
         * through rt_sigreturn. */
        mov SLOT_SET_BASES(%r12), %eax
        test $2, %eax
        jnz patch_slow
        testl $0x100, PF_MC + MC_EFLAGS(%r12)
        jnz patch_slow
        test $1, %eax
        jz 1f
        movl $0, SLOT_SET_BASES(%r12)
        mov SLOT_NEW_FSBASE(%r12), %rcx
        wrfsbase %rcx
1:      cmpl $0, SLOT_FPU_DIRTY(%r12)
        je 2f
        movl $0, SLOT_FPU_DIRTY(%r12)
        movabs $(CMD_PAGE + CMD_XFEATURES), %rcx
        mov (%rcx), %eax
        mov 4(%rcx), %edx
        xrstor64 PF_FP(%r12)
2:      pushq PF_MC + MC_EFLAGS(%r12)
        popfq
        mov PF_MC + MC_R8(%r12), %r8
        mov PF_MC + MC_R9(%r12), %r9
        mov PF_MC + MC_R10(%r12), %r10
        mov PF_MC + MC_R11(%r12), %r11
        mov PF_MC + MC_R13(%r12), %r13
        mov PF_MC + MC_R14(%r12), %r14
        mov PF_MC + MC_R15(%r12), %r15
        mov PF_MC + MC_RDI(%r12), %rdi
        mov PF_MC + MC_RSI(%r12), %rsi
        mov PF_MC + MC_RBP(%r12), %rbp
        mov PF_MC + MC_RBX(%r12), %rbx
        mov PF_MC + MC_RDX(%r12), %rdx
        mov PF_MC + MC_RAX(%r12), %rax
        mov PF_MC + MC_RCX(%r12), %rcx
        mov PF_MC + MC_R12(%r12), %r12
        mov %gs:(PF_MC + MC_RSP), %rsp
        jmp *%gs:(PF_MC + MC_RIP)
patch_slow:
        lea PF_OFF(%r12), %rsp          /* at pretcode, as in the handler */
        jmp h_bases
patch_trap:
        int3                            /* r11 as above: the Sentry takes it as the call */
patch_end:
systrap_handler_end:

        .balign 8
systrap_mask_kick:
        .quad (1 << (SYSTRAP_KICK_SIGNAL - 1))
systrap_one:
        .quad 1
        .balign 4096
systrap_stub_end:
