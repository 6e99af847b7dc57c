/* A 32-bit system call (int 0x80) from a 64-bit program. Natively, on a host
 * with IA-32 emulation, i386 call 1 is exit and the program exits 7. moat
 * implements the x86-64 ABI only and must answer ENOSYS, never run a
 * different call of the same number (x86-64 call 1 is write): the program
 * then exits 38. tests/e2e/int80.sh checks both. */
int main(void)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(1L), "b"(7L) : "memory");
    return ret == -38 ? 38 : 99;
}
