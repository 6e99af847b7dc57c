/* Flag and command constants of the x86-64 Linux syscall ABI. */
#ifndef MOAT_ABI_FLAGS_H
#define MOAT_ABI_FLAGS_H

/* ---- mmap, mprotect ---- */
#define ABI_PROT_NONE      0x0
#define ABI_PROT_READ      0x1
#define ABI_PROT_WRITE     0x2
#define ABI_PROT_EXEC      0x4
#define ABI_PROT_SEM       0x8
#define ABI_PROT_GROWSDOWN 0x01000000
#define ABI_PROT_GROWSUP   0x02000000

#define ABI_MAP_SHARED          0x01
#define ABI_MAP_PRIVATE         0x02
#define ABI_MAP_SHARED_VALIDATE 0x03
#define ABI_MAP_TYPE            0x0f
#define ABI_MAP_FIXED           0x10
#define ABI_MAP_ANONYMOUS       0x20
#define ABI_MAP_32BIT           0x40
#define ABI_MAP_GROWSDOWN       0x0100
#define ABI_MAP_DENYWRITE       0x0800
#define ABI_MAP_EXECUTABLE      0x1000
#define ABI_MAP_LOCKED          0x2000
#define ABI_MAP_NORESERVE       0x4000
#define ABI_MAP_POPULATE        0x8000
#define ABI_MAP_NONBLOCK        0x10000
#define ABI_MAP_STACK           0x20000
#define ABI_MAP_HUGETLB         0x40000
#define ABI_MAP_SYNC            0x80000
#define ABI_MAP_FIXED_NOREPLACE 0x100000
#define ABI_MAP_UNINITIALIZED   0x4000000
/* With MAP_HUGETLB, bits 26..31 hold log2 of the huge page size. */
#define ABI_MAP_HUGE_SHIFT 26
#define ABI_MAP_HUGE_MASK  0x3f

#define ABI_MREMAP_MAYMOVE   1
#define ABI_MREMAP_FIXED     2
#define ABI_MREMAP_DONTUNMAP 4

#define ABI_MADV_NORMAL          0
#define ABI_MADV_RANDOM          1
#define ABI_MADV_SEQUENTIAL      2
#define ABI_MADV_WILLNEED        3
#define ABI_MADV_DONTNEED        4
#define ABI_MADV_FREE            8
#define ABI_MADV_REMOVE          9
#define ABI_MADV_DONTFORK        10
#define ABI_MADV_DOFORK          11
#define ABI_MADV_MERGEABLE       12
#define ABI_MADV_UNMERGEABLE     13
#define ABI_MADV_HUGEPAGE        14
#define ABI_MADV_NOHUGEPAGE      15
#define ABI_MADV_DONTDUMP        16
#define ABI_MADV_DODUMP          17
#define ABI_MADV_WIPEONFORK      18
#define ABI_MADV_KEEPONFORK      19
#define ABI_MADV_COLD            20
#define ABI_MADV_PAGEOUT         21
#define ABI_MADV_POPULATE_READ   22
#define ABI_MADV_POPULATE_WRITE  23
#define ABI_MADV_DONTNEED_LOCKED 24
#define ABI_MADV_COLLAPSE        25
#define ABI_MADV_HWPOISON        100
#define ABI_MADV_SOFT_OFFLINE    101

#define ABI_MS_ASYNC      1
#define ABI_MS_INVALIDATE 2
#define ABI_MS_SYNC       4

#define ABI_MCL_CURRENT 1
#define ABI_MCL_FUTURE  2
#define ABI_MCL_ONFAULT 4

/* ---- open (octal, as x86-64 defines them) ---- */
#define ABI_O_ACCMODE   00000003
#define ABI_O_RDONLY    00000000
#define ABI_O_WRONLY    00000001
#define ABI_O_RDWR      00000002
#define ABI_O_CREAT     00000100
#define ABI_O_EXCL      00000200
#define ABI_O_NOCTTY    00000400
#define ABI_O_TRUNC     00001000
#define ABI_O_APPEND    00002000
#define ABI_O_NONBLOCK  00004000
#define ABI_O_NDELAY    ABI_O_NONBLOCK
#define ABI_O_DSYNC     00010000
#define ABI_O_ASYNC     00020000 /* FASYNC */
#define ABI_O_DIRECT    00040000
#define ABI_O_LARGEFILE 00100000
#define ABI_O_DIRECTORY 00200000
#define ABI_O_NOFOLLOW  00400000
#define ABI_O_NOATIME   01000000
#define ABI_O_CLOEXEC   02000000
/* O_SYNC is the internal __O_SYNC bit plus O_DSYNC; the same for O_TMPFILE and O_DIRECTORY. */
#define ABI_O_SYNC_BIT    04000000
#define ABI_O_SYNC        (ABI_O_SYNC_BIT | ABI_O_DSYNC)
#define ABI_O_RSYNC       ABI_O_SYNC
#define ABI_O_PATH        010000000
#define ABI_O_TMPFILE_BIT 020000000
#define ABI_O_TMPFILE     (ABI_O_TMPFILE_BIT | ABI_O_DIRECTORY)

/* ---- *at() ---- */
#define ABI_AT_FDCWD              (-100)
#define ABI_AT_SYMLINK_NOFOLLOW   0x100
#define ABI_AT_EACCESS            0x200
#define ABI_AT_REMOVEDIR          0x200
#define ABI_AT_SYMLINK_FOLLOW     0x400
#define ABI_AT_NO_AUTOMOUNT       0x800
#define ABI_AT_EMPTY_PATH         0x1000
#define ABI_AT_STATX_SYNC_TYPE    0x6000
#define ABI_AT_STATX_SYNC_AS_STAT 0x0000
#define ABI_AT_STATX_FORCE_SYNC   0x2000
#define ABI_AT_STATX_DONT_SYNC    0x4000
#define ABI_AT_RECURSIVE          0x8000

/* statx mask bits */
#define ABI_STATX_TYPE        0x00000001u
#define ABI_STATX_MODE        0x00000002u
#define ABI_STATX_NLINK       0x00000004u
#define ABI_STATX_UID         0x00000008u
#define ABI_STATX_GID         0x00000010u
#define ABI_STATX_ATIME       0x00000020u
#define ABI_STATX_MTIME       0x00000040u
#define ABI_STATX_CTIME       0x00000080u
#define ABI_STATX_INO         0x00000100u
#define ABI_STATX_SIZE        0x00000200u
#define ABI_STATX_BLOCKS      0x00000400u
#define ABI_STATX_BASIC_STATS 0x000007ffu
#define ABI_STATX_BTIME       0x00000800u
#define ABI_STATX_MNT_ID      0x00001000u
#define ABI_STATX_DIOALIGN    0x00002000u

/* access, faccessat */
#define ABI_F_OK 0
#define ABI_X_OK 1
#define ABI_W_OK 2
#define ABI_R_OK 4

/* utimensat */
#define ABI_UTIME_NOW  ((1l << 30) - 1l)
#define ABI_UTIME_OMIT ((1l << 30) - 2l)

/* renameat2 */
#define ABI_RENAME_NOREPLACE 1
#define ABI_RENAME_EXCHANGE  2
#define ABI_RENAME_WHITEOUT  4

/* close_range flags */
#define ABI_CLOSE_RANGE_UNSHARE 0x2
#define ABI_CLOSE_RANGE_CLOEXEC 0x4

/* statfs f_flags */
#define ABI_ST_RDONLY 0x0001
#define ABI_ST_VALID  0x0020

/* openat2 resolve bit not in the VFS's set: only what is cached. */
#define ABI_RESOLVE_CACHED 0x20

/* ---- file type and permission bits (octal) ---- */
#define ABI_S_IFMT   0170000
#define ABI_S_IFSOCK 0140000
#define ABI_S_IFLNK  0120000
#define ABI_S_IFREG  0100000
#define ABI_S_IFBLK  0060000
#define ABI_S_IFDIR  0040000
#define ABI_S_IFCHR  0020000
#define ABI_S_IFIFO  0010000
#define ABI_S_ISUID  0004000
#define ABI_S_ISGID  0002000
#define ABI_S_ISVTX  0001000
#define ABI_S_IRWXU  00700
#define ABI_S_IRUSR  00400
#define ABI_S_IWUSR  00200
#define ABI_S_IXUSR  00100
#define ABI_S_IRWXG  00070
#define ABI_S_IRGRP  00040
#define ABI_S_IWGRP  00020
#define ABI_S_IXGRP  00010
#define ABI_S_IRWXO  00007
#define ABI_S_IROTH  00004
#define ABI_S_IWOTH  00002
#define ABI_S_IXOTH  00001

/* linux_dirent64 d_type: the S_IFMT bits shifted down by 12 */
#define ABI_DT_UNKNOWN 0
#define ABI_DT_FIFO    1
#define ABI_DT_CHR     2
#define ABI_DT_DIR     4
#define ABI_DT_BLK     6
#define ABI_DT_REG     8
#define ABI_DT_LNK     10
#define ABI_DT_SOCK    12
#define ABI_DT_WHT     14

/* ---- lseek ---- */
#define ABI_SEEK_SET  0
#define ABI_SEEK_CUR  1
#define ABI_SEEK_END  2
#define ABI_SEEK_DATA 3
#define ABI_SEEK_HOLE 4

/* ---- fcntl ---- */
#define ABI_F_DUPFD             0
#define ABI_F_GETFD             1
#define ABI_F_SETFD             2
#define ABI_F_GETFL             3
#define ABI_F_SETFL             4
#define ABI_F_GETLK             5
#define ABI_F_SETLK             6
#define ABI_F_SETLKW            7
#define ABI_F_SETOWN            8
#define ABI_F_GETOWN            9
#define ABI_F_SETSIG            10
#define ABI_F_GETSIG            11
#define ABI_F_SETOWN_EX         15
#define ABI_F_GETOWN_EX         16
#define ABI_F_GETOWNER_UIDS     17
#define ABI_F_OFD_GETLK         36
#define ABI_F_OFD_SETLK         37
#define ABI_F_OFD_SETLKW        38
#define ABI_F_SETLEASE          1024
#define ABI_F_GETLEASE          1025
#define ABI_F_NOTIFY            1026
#define ABI_F_DUPFD_QUERY       1027
#define ABI_F_CANCELLK          1029
#define ABI_F_DUPFD_CLOEXEC     1030
#define ABI_F_SETPIPE_SZ        1031
#define ABI_F_GETPIPE_SZ        1032
#define ABI_F_ADD_SEALS         1033
#define ABI_F_GET_SEALS         1034
#define ABI_F_GET_RW_HINT       1035
#define ABI_F_SET_RW_HINT       1036
#define ABI_FD_CLOEXEC          1
#define ABI_F_RDLCK             0
#define ABI_F_WRLCK             1
#define ABI_F_UNLCK             2
#define ABI_F_SEAL_SEAL         0x0001
#define ABI_F_SEAL_SHRINK       0x0002
#define ABI_F_SEAL_GROW         0x0004
#define ABI_F_SEAL_WRITE        0x0008
#define ABI_F_SEAL_FUTURE_WRITE 0x0010
#define ABI_F_SEAL_EXEC         0x0020

/* ---- clocks and timers ---- */
#define ABI_CLOCK_REALTIME           0
#define ABI_CLOCK_MONOTONIC          1
#define ABI_CLOCK_PROCESS_CPUTIME_ID 2
#define ABI_CLOCK_THREAD_CPUTIME_ID  3
#define ABI_CLOCK_MONOTONIC_RAW      4
#define ABI_CLOCK_REALTIME_COARSE    5
#define ABI_CLOCK_MONOTONIC_COARSE   6
#define ABI_CLOCK_BOOTTIME           7
#define ABI_CLOCK_REALTIME_ALARM     8
#define ABI_CLOCK_BOOTTIME_ALARM     9
#define ABI_CLOCK_SGI_CYCLE          10
#define ABI_CLOCK_TAI                11
#define ABI_MAX_CLOCKS               16
#define ABI_TIMER_ABSTIME            0x01

#define ABI_ITIMER_REAL    0
#define ABI_ITIMER_VIRTUAL 1
#define ABI_ITIMER_PROF    2

/* timerfd_create and timerfd_settime flags */
#define ABI_TFD_CLOEXEC             ABI_O_CLOEXEC
#define ABI_TFD_NONBLOCK            ABI_O_NONBLOCK
#define ABI_TFD_TIMER_ABSTIME       0x01
#define ABI_TFD_TIMER_CANCEL_ON_SET 0x02

/* ---- futex ---- */
#define ABI_FUTEX_WAIT             0
#define ABI_FUTEX_WAKE             1
#define ABI_FUTEX_FD               2
#define ABI_FUTEX_REQUEUE          3
#define ABI_FUTEX_CMP_REQUEUE      4
#define ABI_FUTEX_WAKE_OP          5
#define ABI_FUTEX_LOCK_PI          6
#define ABI_FUTEX_UNLOCK_PI        7
#define ABI_FUTEX_TRYLOCK_PI       8
#define ABI_FUTEX_WAIT_BITSET      9
#define ABI_FUTEX_WAKE_BITSET      10
#define ABI_FUTEX_WAIT_REQUEUE_PI  11
#define ABI_FUTEX_CMP_REQUEUE_PI   12
#define ABI_FUTEX_LOCK_PI2         13
#define ABI_FUTEX_PRIVATE_FLAG     128
#define ABI_FUTEX_CLOCK_REALTIME   256
#define ABI_FUTEX_CMD_MASK         (~(ABI_FUTEX_PRIVATE_FLAG | ABI_FUTEX_CLOCK_REALTIME))
#define ABI_FUTEX_BITSET_MATCH_ANY 0xffffffffu
/* Bits of a robust / PI futex word. */
#define ABI_FUTEX_WAITERS    0x80000000u
#define ABI_FUTEX_OWNER_DIED 0x40000000u
#define ABI_FUTEX_TID_MASK   0x3fffffffu

/* ---- prctl ---- */
#define ABI_PR_SET_PDEATHSIG             1
#define ABI_PR_GET_PDEATHSIG             2
#define ABI_PR_GET_DUMPABLE              3
#define ABI_PR_SET_DUMPABLE              4
#define ABI_PR_GET_UNALIGN               5
#define ABI_PR_SET_UNALIGN               6
#define ABI_PR_GET_KEEPCAPS              7
#define ABI_PR_SET_KEEPCAPS              8
#define ABI_PR_GET_FPEMU                 9
#define ABI_PR_SET_FPEMU                 10
#define ABI_PR_GET_FPEXC                 11
#define ABI_PR_SET_FPEXC                 12
#define ABI_PR_GET_TIMING                13
#define ABI_PR_SET_TIMING                14
#define ABI_PR_SET_NAME                  15
#define ABI_PR_GET_NAME                  16
#define ABI_PR_GET_ENDIAN                19
#define ABI_PR_SET_ENDIAN                20
#define ABI_PR_GET_SECCOMP               21
#define ABI_PR_SET_SECCOMP               22
#define ABI_PR_CAPBSET_READ              23
#define ABI_PR_CAPBSET_DROP              24
#define ABI_PR_GET_TSC                   25
#define ABI_PR_SET_TSC                   26
#define ABI_PR_GET_SECUREBITS            27
#define ABI_PR_SET_SECUREBITS            28
#define ABI_PR_SET_TIMERSLACK            29
#define ABI_PR_GET_TIMERSLACK            30
#define ABI_PR_TASK_PERF_EVENTS_DISABLE  31
#define ABI_PR_TASK_PERF_EVENTS_ENABLE   32
#define ABI_PR_MCE_KILL                  33
#define ABI_PR_MCE_KILL_GET              34
#define ABI_PR_SET_MM                    35
#define ABI_PR_SET_CHILD_SUBREAPER       36
#define ABI_PR_GET_CHILD_SUBREAPER       37
#define ABI_PR_SET_NO_NEW_PRIVS          38
#define ABI_PR_GET_NO_NEW_PRIVS          39
#define ABI_PR_GET_TID_ADDRESS           40
#define ABI_PR_SET_THP_DISABLE           41
#define ABI_PR_GET_THP_DISABLE           42
#define ABI_PR_MPX_ENABLE_MANAGEMENT     43
#define ABI_PR_MPX_DISABLE_MANAGEMENT    44
#define ABI_PR_SET_FP_MODE               45
#define ABI_PR_GET_FP_MODE               46
#define ABI_PR_CAP_AMBIENT               47
#define ABI_PR_GET_SPECULATION_CTRL      52
#define ABI_PR_SET_SPECULATION_CTRL      53
#define ABI_PR_SET_TAGGED_ADDR_CTRL      55
#define ABI_PR_GET_TAGGED_ADDR_CTRL      56
#define ABI_PR_SET_IO_FLUSHER            57
#define ABI_PR_GET_IO_FLUSHER            58
#define ABI_PR_SET_SYSCALL_USER_DISPATCH 59
#define ABI_PR_SCHED_CORE                62
#define ABI_PR_SET_MDWE                  65
#define ABI_PR_GET_MDWE                  66
#define ABI_PR_SET_MEMORY_MERGE          67
#define ABI_PR_GET_MEMORY_MERGE          68
#define ABI_PR_SET_PTRACER               0x59616d61
#define ABI_PR_SET_PTRACER_ANY           (~0ul)
#define ABI_PR_SET_VMA                   0x53564d41
#define ABI_PR_SET_VMA_ANON_NAME         0
#define ABI_PR_GET_AUXV                  0x41555856

#define ABI_PR_CAP_AMBIENT_IS_SET    1
#define ABI_PR_CAP_AMBIENT_RAISE     2
#define ABI_PR_CAP_AMBIENT_LOWER     3
#define ABI_PR_CAP_AMBIENT_CLEAR_ALL 4

#define ABI_PR_SET_MM_START_CODE  1
#define ABI_PR_SET_MM_END_CODE    2
#define ABI_PR_SET_MM_START_DATA  3
#define ABI_PR_SET_MM_END_DATA    4
#define ABI_PR_SET_MM_START_STACK 5
#define ABI_PR_SET_MM_START_BRK   6
#define ABI_PR_SET_MM_BRK         7
#define ABI_PR_SET_MM_ARG_START   8
#define ABI_PR_SET_MM_ARG_END     9
#define ABI_PR_SET_MM_ENV_START   10
#define ABI_PR_SET_MM_ENV_END     11
#define ABI_PR_SET_MM_AUXV        12
#define ABI_PR_SET_MM_EXE_FILE    13
#define ABI_PR_SET_MM_MAP         14
#define ABI_PR_SET_MM_MAP_SIZE    15

/* PR_SET_NAME / PR_GET_NAME buffer, NUL included (TASK_COMM_LEN). */
#define ABI_TASK_COMM_LEN 16

/* ---- arch_prctl ---- */
#define ABI_ARCH_SET_GS    0x1001
#define ABI_ARCH_SET_FS    0x1002
#define ABI_ARCH_GET_FS    0x1003
#define ABI_ARCH_GET_GS    0x1004
#define ABI_ARCH_GET_CPUID 0x1011
#define ABI_ARCH_SET_CPUID 0x1012

/* ---- resource limits ---- */
#define ABI_RLIMIT_CPU        0
#define ABI_RLIMIT_FSIZE      1
#define ABI_RLIMIT_DATA       2
#define ABI_RLIMIT_STACK      3
#define ABI_RLIMIT_CORE       4
#define ABI_RLIMIT_RSS        5
#define ABI_RLIMIT_NPROC      6
#define ABI_RLIMIT_NOFILE     7
#define ABI_RLIMIT_MEMLOCK    8
#define ABI_RLIMIT_AS         9
#define ABI_RLIMIT_LOCKS      10
#define ABI_RLIMIT_SIGPENDING 11
#define ABI_RLIMIT_MSGQUEUE   12
#define ABI_RLIMIT_NICE       13
#define ABI_RLIMIT_RTPRIO     14
#define ABI_RLIMIT_RTTIME     15
#define ABI_RLIM_NLIMITS      16
#define ABI_RLIM_INFINITY     (~0ULL)

#define ABI_RUSAGE_SELF     0
#define ABI_RUSAGE_CHILDREN (-1)
#define ABI_RUSAGE_THREAD   1

/* ---- ioctl requests (terminal and generic file) ---- */
#define ABI_TCGETS       0x5401
#define ABI_TCSETS       0x5402
#define ABI_TCSETSW      0x5403
#define ABI_TCSETSF      0x5404
#define ABI_TCGETA       0x5405
#define ABI_TCSETA       0x5406
#define ABI_TCSETAW      0x5407
#define ABI_TCSETAF      0x5408
#define ABI_TCSBRK       0x5409
#define ABI_TCXONC       0x540A
#define ABI_TCFLSH       0x540B
#define ABI_TIOCEXCL     0x540C
#define ABI_TIOCNXCL     0x540D
#define ABI_TIOCSCTTY    0x540E
#define ABI_TIOCGPGRP    0x540F
#define ABI_TIOCSPGRP    0x5410
#define ABI_TIOCOUTQ     0x5411
#define ABI_TIOCSTI      0x5412
#define ABI_TIOCGWINSZ   0x5413
#define ABI_TIOCSWINSZ   0x5414
#define ABI_TIOCMGET     0x5415
#define ABI_TIOCMBIS     0x5416
#define ABI_TIOCMBIC     0x5417
#define ABI_TIOCMSET     0x5418
#define ABI_FIONREAD     0x541B
#define ABI_TIOCINQ      ABI_FIONREAD
#define ABI_TIOCLINUX    0x541C
#define ABI_TIOCCONS     0x541D
#define ABI_TIOCPKT      0x5420
#define ABI_FIONBIO      0x5421
#define ABI_TIOCNOTTY    0x5422
#define ABI_TIOCSETD     0x5423
#define ABI_TIOCGETD     0x5424
#define ABI_TCSBRKP      0x5425
#define ABI_TIOCSBRK     0x5427
#define ABI_TIOCCBRK     0x5428
#define ABI_TIOCGSID     0x5429
#define ABI_TIOCGPTN     0x80045430u /* _IOR('T', 0x30, unsigned int) */
#define ABI_TIOCSPTLCK   0x40045431u /* _IOW('T', 0x31, int) */
#define ABI_TIOCGDEV     0x80045432u
#define ABI_TIOCGPKT     0x80045438u
#define ABI_TIOCGPTLCK   0x80045439u
#define ABI_TIOCGEXCL    0x80045440u
#define ABI_TIOCGPTPEER  0x5441
#define ABI_FIONCLEX     0x5450
#define ABI_FIOCLEX      0x5451
#define ABI_FIOASYNC     0x5452
#define ABI_FIOQSIZE     0x5460
#define ABI_FIGETBSZ     0x0002     /* _IO(0x00, 2) */
#define ABI_FICLONE      0x40049409 /* _IOW(0x94, 9, int) */
#define ABI_FICLONERANGE 0x4020940d /* _IOW(0x94, 13, struct file_clone_range) */

/* /dev/random's: _IOR('R', 0x00, int) */
#define ABI_RNDGETENTCNT 0x80045200u

/* ---- getrandom ---- */
#define ABI_GRND_NONBLOCK 0x0001
#define ABI_GRND_RANDOM   0x0002
#define ABI_GRND_INSECURE 0x0004

/* ---- uname ---- */
#define ABI_UTSNAME_LEN 65

/* ---- scheduling ---- */
#define ABI_SCHED_OTHER         0
#define ABI_SCHED_NORMAL        0
#define ABI_SCHED_FIFO          1
#define ABI_SCHED_RR            2
#define ABI_SCHED_BATCH         3
#define ABI_SCHED_IDLE          5
#define ABI_SCHED_DEADLINE      6
#define ABI_SCHED_RESET_ON_FORK 0x40000000

/* ---- clone ---- */
#define ABI_CSIGNAL              0x000000ffULL /* exit signal in the low byte */
#define ABI_CLONE_NEWTIME        0x00000080ULL
#define ABI_CLONE_VM             0x00000100ULL
#define ABI_CLONE_FS             0x00000200ULL
#define ABI_CLONE_FILES          0x00000400ULL
#define ABI_CLONE_SIGHAND        0x00000800ULL
#define ABI_CLONE_PIDFD          0x00001000ULL
#define ABI_CLONE_PTRACE         0x00002000ULL
#define ABI_CLONE_VFORK          0x00004000ULL
#define ABI_CLONE_PARENT         0x00008000ULL
#define ABI_CLONE_THREAD         0x00010000ULL
#define ABI_CLONE_NEWNS          0x00020000ULL
#define ABI_CLONE_SYSVSEM        0x00040000ULL
#define ABI_CLONE_SETTLS         0x00080000ULL
#define ABI_CLONE_PARENT_SETTID  0x00100000ULL
#define ABI_CLONE_CHILD_CLEARTID 0x00200000ULL
#define ABI_CLONE_DETACHED       0x00400000ULL
#define ABI_CLONE_UNTRACED       0x00800000ULL
#define ABI_CLONE_CHILD_SETTID   0x01000000ULL
#define ABI_CLONE_NEWCGROUP      0x02000000ULL
#define ABI_CLONE_NEWUTS         0x04000000ULL
#define ABI_CLONE_NEWIPC         0x08000000ULL
#define ABI_CLONE_NEWUSER        0x10000000ULL
#define ABI_CLONE_NEWPID         0x20000000ULL
#define ABI_CLONE_NEWNET         0x40000000ULL
#define ABI_CLONE_IO             0x80000000ULL
/* clone3 only */
#define ABI_CLONE_CLEAR_SIGHAND 0x100000000ULL
#define ABI_CLONE_INTO_CGROUP   0x200000000ULL

/* ---- wait4 / waitid ---- */
#define ABI_WNOHANG    0x00000001
#define ABI_WUNTRACED  0x00000002
#define ABI_WSTOPPED   ABI_WUNTRACED
#define ABI_WEXITED    0x00000004
#define ABI_WCONTINUED 0x00000008
#define ABI_WNOWAIT    0x01000000
#define ABI_WNOTHREAD  0x20000000
#define ABI_WALL       0x40000000
#define ABI_WCLONE     0x80000000u

#define ABI_P_ALL   0
#define ABI_P_PID   1
#define ABI_P_PGID  2
#define ABI_P_PIDFD 3

/* ---- poll ---- */
#define ABI_POLLIN     0x0001
#define ABI_POLLPRI    0x0002
#define ABI_POLLOUT    0x0004
#define ABI_POLLERR    0x0008
#define ABI_POLLHUP    0x0010
#define ABI_POLLNVAL   0x0020
#define ABI_POLLRDNORM 0x0040
#define ABI_POLLRDBAND 0x0080
#define ABI_POLLWRNORM 0x0100
#define ABI_POLLWRBAND 0x0200
#define ABI_POLLMSG    0x0400
#define ABI_POLLRDHUP  0x2000
/* Kernel-internal: the watched file is going away (sentry/vfs/file.h). */
#define ABI_POLLFREE 0x4000

/* ---- epoll ---- */
#define ABI_EPOLL_CLOEXEC  ABI_O_CLOEXEC
#define ABI_EPOLL_CTL_ADD  1
#define ABI_EPOLL_CTL_DEL  2
#define ABI_EPOLL_CTL_MOD  3
#define ABI_EPOLLEXCLUSIVE (1u << 28)
#define ABI_EPOLLWAKEUP    (1u << 29)
#define ABI_EPOLLONESHOT   (1u << 30)
#define ABI_EPOLLET        (1u << 31)

/* ---- eventfd ---- */
#define ABI_EFD_SEMAPHORE 1
#define ABI_EFD_CLOEXEC   ABI_O_CLOEXEC
#define ABI_EFD_NONBLOCK  ABI_O_NONBLOCK

/* ---- file locks, fallocate, fadvise, xattrs ---- */
#define ABI_LOCK_SH   1
#define ABI_LOCK_EX   2
#define ABI_LOCK_NB   4
#define ABI_LOCK_UN   8
#define ABI_LOCK_MAND 32

#define ABI_FALLOC_FL_KEEP_SIZE      0x01
#define ABI_FALLOC_FL_PUNCH_HOLE     0x02
#define ABI_FALLOC_FL_NO_HIDE_STALE  0x04
#define ABI_FALLOC_FL_COLLAPSE_RANGE 0x08
#define ABI_FALLOC_FL_ZERO_RANGE     0x10
#define ABI_FALLOC_FL_INSERT_RANGE   0x20
#define ABI_FALLOC_FL_UNSHARE_RANGE  0x40

#define ABI_POSIX_FADV_NORMAL     0
#define ABI_POSIX_FADV_RANDOM     1
#define ABI_POSIX_FADV_SEQUENTIAL 2
#define ABI_POSIX_FADV_WILLNEED   3
#define ABI_POSIX_FADV_DONTNEED   4
#define ABI_POSIX_FADV_NOREUSE    5

#define ABI_XATTR_CREATE   0x1
#define ABI_XATTR_REPLACE  0x2
#define ABI_XATTR_NAME_MAX 255
#define ABI_XATTR_SIZE_MAX 65536
#define ABI_XATTR_LIST_MAX 65536

#endif
