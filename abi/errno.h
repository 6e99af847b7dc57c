/* Linux errno values as the x86-64 guest sees them (identical to asm-generic). */
#ifndef MOAT_ABI_ERRNO_H
#define MOAT_ABI_ERRNO_H

#define ABI_EPERM           1
#define ABI_ENOENT          2
#define ABI_ESRCH           3
#define ABI_EINTR           4
#define ABI_EIO             5
#define ABI_ENXIO           6
#define ABI_E2BIG           7
#define ABI_ENOEXEC         8
#define ABI_EBADF           9
#define ABI_ECHILD          10
#define ABI_EAGAIN          11
#define ABI_ENOMEM          12
#define ABI_EACCES          13
#define ABI_EFAULT          14
#define ABI_ENOTBLK         15
#define ABI_EBUSY           16
#define ABI_EEXIST          17
#define ABI_EXDEV           18
#define ABI_ENODEV          19
#define ABI_ENOTDIR         20
#define ABI_EISDIR          21
#define ABI_EINVAL          22
#define ABI_ENFILE          23
#define ABI_EMFILE          24
#define ABI_ENOTTY          25
#define ABI_ETXTBSY         26
#define ABI_EFBIG           27
#define ABI_ENOSPC          28
#define ABI_ESPIPE          29
#define ABI_EROFS           30
#define ABI_EMLINK          31
#define ABI_EPIPE           32
#define ABI_EDOM            33
#define ABI_ERANGE          34
#define ABI_EDEADLK         35
#define ABI_ENAMETOOLONG    36
#define ABI_ENOLCK          37
#define ABI_ENOSYS          38
#define ABI_ENOTEMPTY       39
#define ABI_ELOOP           40
#define ABI_EWOULDBLOCK     ABI_EAGAIN
#define ABI_ENOMSG          42
#define ABI_EIDRM           43
#define ABI_ECHRNG          44
#define ABI_EL2NSYNC        45
#define ABI_EL3HLT          46
#define ABI_EL3RST          47
#define ABI_ELNRNG          48
#define ABI_EUNATCH         49
#define ABI_ENOCSI          50
#define ABI_EL2HLT          51
#define ABI_EBADE           52
#define ABI_EBADR           53
#define ABI_EXFULL          54
#define ABI_ENOANO          55
#define ABI_EBADRQC         56
#define ABI_EBADSLT         57
#define ABI_EDEADLOCK       ABI_EDEADLK
#define ABI_EBFONT          59
#define ABI_ENOSTR          60
#define ABI_ENODATA         61
#define ABI_ETIME           62
#define ABI_ENOSR           63
#define ABI_ENONET          64
#define ABI_ENOPKG          65
#define ABI_EREMOTE         66
#define ABI_ENOLINK         67
#define ABI_EADV            68
#define ABI_ESRMNT          69
#define ABI_ECOMM           70
#define ABI_EPROTO          71
#define ABI_EMULTIHOP       72
#define ABI_EDOTDOT         73
#define ABI_EBADMSG         74
#define ABI_EOVERFLOW       75
#define ABI_ENOTUNIQ        76
#define ABI_EBADFD          77
#define ABI_EREMCHG         78
#define ABI_ELIBACC         79
#define ABI_ELIBBAD         80
#define ABI_ELIBSCN         81
#define ABI_ELIBMAX         82
#define ABI_ELIBEXEC        83
#define ABI_EILSEQ          84
#define ABI_ERESTART        85
#define ABI_ESTRPIPE        86
#define ABI_EUSERS          87
#define ABI_ENOTSOCK        88
#define ABI_EDESTADDRREQ    89
#define ABI_EMSGSIZE        90
#define ABI_EPROTOTYPE      91
#define ABI_ENOPROTOOPT     92
#define ABI_EPROTONOSUPPORT 93
#define ABI_ESOCKTNOSUPPORT 94
#define ABI_EOPNOTSUPP      95
#define ABI_EPFNOSUPPORT    96
#define ABI_EAFNOSUPPORT    97
#define ABI_EADDRINUSE      98
#define ABI_EADDRNOTAVAIL   99
#define ABI_ENETDOWN        100
#define ABI_ENETUNREACH     101
#define ABI_ENETRESET       102
#define ABI_ECONNABORTED    103
#define ABI_ECONNRESET      104
#define ABI_ENOBUFS         105
#define ABI_EISCONN         106
#define ABI_ENOTCONN        107
#define ABI_ESHUTDOWN       108
#define ABI_ETOOMANYREFS    109
#define ABI_ETIMEDOUT       110
#define ABI_ECONNREFUSED    111
#define ABI_EHOSTDOWN       112
#define ABI_EHOSTUNREACH    113
#define ABI_EALREADY        114
#define ABI_EINPROGRESS     115
#define ABI_ESTALE          116
#define ABI_EUCLEAN         117
#define ABI_ENOTNAM         118
#define ABI_ENAVAIL         119
#define ABI_EISNAM          120
#define ABI_EREMOTEIO       121
#define ABI_EDQUOT          122
#define ABI_ENOMEDIUM       123
#define ABI_EMEDIUMTYPE     124
#define ABI_ECANCELED       125
#define ABI_ENOKEY          126
#define ABI_EKEYEXPIRED     127
#define ABI_EKEYREVOKED     128
#define ABI_EKEYREJECTED    129
#define ABI_EOWNERDEAD      130
#define ABI_ENOTRECOVERABLE 131
#define ABI_ERFKILL         132
#define ABI_EHWPOISON       133

/* glibc's alias; the kernel has only EOPNOTSUPP. */
#define ABI_ENOTSUP ABI_EOPNOTSUPP

/*
 * Never seen by the guest: a blocked call returns one of these to the syscall
 * exit path, which turns it into EINTR or restarts the call depending on the
 * signal's SA_RESTART flag.
 */
#define ABI_ERESTARTSYS           512
#define ABI_ERESTARTNOINTR        513
#define ABI_ERESTARTNOHAND        514
#define ABI_ENOIOCTLCMD           515
#define ABI_ERESTART_RESTARTBLOCK 516

/* Highest errno a syscall may return; -4095..-1 in rax means failure. */
#define ABI_MAX_ERRNO 4095

/* "ENOENT" for 2; NULL for values Linux does not define. */
const char *abi_errno_name(int e);
/* A short description such as "No such file or directory"; NULL if unknown. */
const char *abi_errno_text(int e);

#endif
