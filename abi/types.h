/* Structures exchanged with the x86-64 guest through memory, in the guest's layout. */
#ifndef MOAT_ABI_TYPES_H
#define MOAT_ABI_TYPES_H

#include <stddef.h>
#include <stdint.h>

struct abi_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};
_Static_assert(sizeof(struct abi_timespec) == 16, "timespec");

struct abi_timeval {
    int64_t tv_sec;
    int64_t tv_usec;
};
_Static_assert(sizeof(struct abi_timeval) == 16, "timeval");

struct abi_timezone {
    int32_t tz_minuteswest;
    int32_t tz_dsttime;
};
_Static_assert(sizeof(struct abi_timezone) == 8, "timezone");

struct abi_itimerval {
    struct abi_timeval it_interval;
    struct abi_timeval it_value;
};
_Static_assert(sizeof(struct abi_itimerval) == 32, "itimerval");

struct abi_itimerspec {
    struct abi_timespec it_interval;
    struct abi_timespec it_value;
};
_Static_assert(sizeof(struct abi_itimerspec) == 32, "itimerspec");

/* Same value as in abi/flags.h; an identical redefinition is allowed. */
#define ABI_UTSNAME_LEN 65
struct abi_utsname {
    char sysname[ABI_UTSNAME_LEN];
    char nodename[ABI_UTSNAME_LEN];
    char release[ABI_UTSNAME_LEN];
    char version[ABI_UTSNAME_LEN];
    char machine[ABI_UTSNAME_LEN];
    char domainname[ABI_UTSNAME_LEN];
};
_Static_assert(sizeof(struct abi_utsname) == 6 * 65, "new_utsname");

struct abi_rlimit {
    uint64_t rlim_cur;
    uint64_t rlim_max;
};
_Static_assert(sizeof(struct abi_rlimit) == 16, "rlimit64");

/* struct stat as fstat/newfstatat write it on x86-64 (not the generic layout). */
struct abi_stat {
    uint64_t st_dev;
    uint64_t st_ino;
    uint64_t st_nlink;
    uint32_t st_mode;
    uint32_t st_uid;
    uint32_t st_gid;
    uint32_t pad0;
    uint64_t st_rdev;
    int64_t st_size;
    int64_t st_blksize;
    int64_t st_blocks;
    uint64_t st_atime_sec;
    uint64_t st_atime_nsec;
    uint64_t st_mtime_sec;
    uint64_t st_mtime_nsec;
    uint64_t st_ctime_sec;
    uint64_t st_ctime_nsec;
    int64_t reserved[3];
};
_Static_assert(sizeof(struct abi_stat) == 144, "x86-64 struct stat");
_Static_assert(offsetof(struct abi_stat, st_rdev) == 40, "x86-64 struct stat");
_Static_assert(offsetof(struct abi_stat, st_atime_sec) == 72, "x86-64 struct stat");

struct abi_statx_timestamp {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};
_Static_assert(sizeof(struct abi_statx_timestamp) == 16, "statx_timestamp");

struct abi_statx {
    uint32_t stx_mask;
    uint32_t stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink;
    uint32_t stx_uid;
    uint32_t stx_gid;
    uint16_t stx_mode;
    uint16_t spare0;
    uint64_t stx_ino;
    uint64_t stx_size;
    uint64_t stx_blocks;
    uint64_t stx_attributes_mask;
    struct abi_statx_timestamp stx_atime;
    struct abi_statx_timestamp stx_btime;
    struct abi_statx_timestamp stx_ctime;
    struct abi_statx_timestamp stx_mtime;
    uint32_t stx_rdev_major;
    uint32_t stx_rdev_minor;
    uint32_t stx_dev_major;
    uint32_t stx_dev_minor;
    uint64_t stx_mnt_id;
    uint32_t stx_dio_mem_align;
    uint32_t stx_dio_offset_align;
    uint64_t spare3[12];
};
_Static_assert(sizeof(struct abi_statx) == 256, "statx");
_Static_assert(offsetof(struct abi_statx, stx_atime) == 64, "statx");
_Static_assert(offsetof(struct abi_statx, stx_rdev_major) == 128, "statx");

struct abi_winsize {
    uint16_t ws_row;
    uint16_t ws_col;
    uint16_t ws_xpixel;
    uint16_t ws_ypixel;
};
_Static_assert(sizeof(struct abi_winsize) == 8, "winsize");

/* The kernel's struct termios (TCGETS), not glibc's larger one. */
#define ABI_NCCS 19
struct abi_termios {
    uint32_t c_iflag;
    uint32_t c_oflag;
    uint32_t c_cflag;
    uint32_t c_lflag;
    uint8_t c_line;
    uint8_t c_cc[ABI_NCCS];
};
_Static_assert(sizeof(struct abi_termios) == 36, "kernel termios");

/* c_cc indices */
#define ABI_VINTR    0
#define ABI_VQUIT    1
#define ABI_VERASE   2
#define ABI_VKILL    3
#define ABI_VEOF     4
#define ABI_VTIME    5
#define ABI_VMIN     6
#define ABI_VSWTC    7
#define ABI_VSTART   8
#define ABI_VSTOP    9
#define ABI_VSUSP    10
#define ABI_VEOL     11
#define ABI_VREPRINT 12
#define ABI_VDISCARD 13
#define ABI_VWERASE  14
#define ABI_VLNEXT   15
#define ABI_VEOL2    16

struct abi_iovec {
    uint64_t iov_base;
    uint64_t iov_len;
};
_Static_assert(sizeof(struct abi_iovec) == 16, "iovec");
#define ABI_UIO_MAXIOV 1024

/* set_robust_list: the head glibc keeps in each thread's TCB. */
struct abi_robust_list_head {
    uint64_t list_next;
    int64_t futex_offset;
    uint64_t list_op_pending;
};
_Static_assert(sizeof(struct abi_robust_list_head) == 24, "robust_list_head");

struct abi_rusage {
    struct abi_timeval ru_utime;
    struct abi_timeval ru_stime;
    int64_t ru_maxrss;
    int64_t ru_ixrss;
    int64_t ru_idrss;
    int64_t ru_isrss;
    int64_t ru_minflt;
    int64_t ru_majflt;
    int64_t ru_nswap;
    int64_t ru_inblock;
    int64_t ru_oublock;
    int64_t ru_msgsnd;
    int64_t ru_msgrcv;
    int64_t ru_nsignals;
    int64_t ru_nvcsw;
    int64_t ru_nivcsw;
};
_Static_assert(sizeof(struct abi_rusage) == 144, "rusage");

struct abi_tms {
    int64_t tms_utime;
    int64_t tms_stime;
    int64_t tms_cutime;
    int64_t tms_cstime;
};
_Static_assert(sizeof(struct abi_tms) == 32, "tms");

struct abi_sysinfo {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram;
    uint64_t freeram;
    uint64_t sharedram;
    uint64_t bufferram;
    uint64_t totalswap;
    uint64_t freeswap;
    uint16_t procs;
    uint16_t pad;
    uint32_t pad2;
    uint64_t totalhigh;
    uint64_t freehigh;
    uint32_t mem_unit;
    uint32_t pad3;
};
_Static_assert(sizeof(struct abi_sysinfo) == 112, "sysinfo");
/* loads[] are fixed point with this many fractional bits. */
#define ABI_SI_LOAD_SHIFT 16

struct abi_pollfd {
    int32_t fd;
    int16_t events;
    int16_t revents;
};
_Static_assert(sizeof(struct abi_pollfd) == 8, "pollfd");

/*
 * getdents64 record header; the name follows at ABI_DIRENT64_NAME_OFFSET and
 * d_reclen rounds the whole record up to 8 bytes.
 */
struct abi_linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[];
};
#define ABI_DIRENT64_NAME_OFFSET 19
_Static_assert(offsetof(struct abi_linux_dirent64, d_name) == ABI_DIRENT64_NAME_OFFSET,
               "linux_dirent64");

/* openat2's argument, version 0 (24 bytes); larger versions extend it. */
struct abi_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
_Static_assert(sizeof(struct abi_open_how) == 24, "open_how");

struct abi_statfs {
    int64_t f_type;
    int64_t f_bsize;
    uint64_t f_blocks;
    uint64_t f_bfree;
    uint64_t f_bavail;
    uint64_t f_files;
    uint64_t f_ffree;
    int32_t f_fsid[2];
    int64_t f_namelen;
    int64_t f_frsize;
    int64_t f_flags;
    int64_t f_spare[4];
};
_Static_assert(sizeof(struct abi_statfs) == 120, "statfs");

struct abi_utimbuf {
    int64_t actime;
    int64_t modtime;
};

struct abi_sched_param {
    int32_t sched_priority;
};

/* fcntl's F_GETLK / F_SETLK argument (struct flock, 64-bit offsets). */
struct abi_flock {
    int16_t l_type;
    int16_t l_whence;
    int32_t pad0;
    int64_t l_start;
    int64_t l_len;
    int32_t l_pid;
    int32_t pad1;
};
_Static_assert(sizeof(struct abi_flock) == 32, "x86-64 struct flock");

/* epoll_ctl / epoll_wait's event: packed on x86-64. */
struct __attribute__((packed)) abi_epoll_event {
    uint32_t events;
    uint64_t data;
};
_Static_assert(sizeof(struct abi_epoll_event) == 12, "x86-64 struct epoll_event");

#endif
