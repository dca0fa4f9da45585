/* table: where each x86_64 system call of a migrated process runs, and
 * the argument shapes of the forwarded ones.
 *
 * The routing follows openMosix 2.6 (remote_sys_call_table, see
 * docs/reference: openmosix26-syscall-routing.md), adapted to x86_64 and
 * to a deputy that injects calls into the original process:
 *   LOCAL    memory management, the process's own signal state, clocks,
 *            futexes, scheduling of the thread itself;
 *   SPECIAL  process identity, life cycle, signals that may target the
 *            process itself, file mmap, timers: the orchestration;
 *   FORWARD  everything that touches descriptors, the file system,
 *            credentials, process groups and children: this table;
 *   DENY     all the rest (-ENOSYS), e.g. io_uring, userfaultfd, bpf.
 *
 * Fixed sizes are the x86_64 kernel ABI's (checked with static_assert).
 * RK_OUT_FIXED is only used where the kernel always writes the whole
 * structure on success; where it may write part (waitid's siginfo,
 * capget's data), RK_INOUT_FIXED keeps the bytes it leaves alone.
 */
#include "rsys/spec.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <linux/capability.h>

#include "rsys/names.h"

#define RSYS_NR_MAX 512

/* kernel struct termios (asm-generic/termbits.h): 4 flags, c_line,
 * c_cc[19]. glibc's struct termios is 60 bytes but tcgetattr() goes
 * through this one. */
#define KTERMIOS_SIZE 36
#define EPOLL_EVENT_SIZE 12

static_assert(sizeof(struct stat) == 144, "struct stat");
static_assert(sizeof(struct statfs) == 120, "struct statfs");
static_assert(sizeof(struct utsname) == 390, "struct utsname");
static_assert(sizeof(struct sysinfo) == 112, "struct sysinfo");
static_assert(sizeof(struct rusage) == 144, "struct rusage");
static_assert(sizeof(struct tms) == 32, "struct tms");
static_assert(sizeof(struct rlimit) == 16, "struct rlimit");
static_assert(sizeof(struct flock) == 32, "struct flock");
static_assert(sizeof(struct epoll_event) == EPOLL_EVENT_SIZE, "struct epoll_event");
static_assert(sizeof(struct pollfd) == 8, "struct pollfd");
static_assert(sizeof(siginfo_t) == 128, "siginfo_t");
static_assert(sizeof(struct timespec) == 16, "struct timespec");
static_assert(sizeof(struct timeval) == 16, "struct timeval");
static_assert(sizeof(struct sockaddr_storage) == RSYS_MAX_SOCKADDR, "sockaddr_storage");
static_assert(sizeof(struct __user_cap_header_struct) == 8, "cap header");
static_assert(2 * sizeof(struct __user_cap_data_struct) == 24, "cap data v3");

/* clang-format off */
/* Argument constructors */
#define PATH { .kind = RK_PATH }
#define IN(r, fl) { .kind = RK_IN, .ref = (r), .flags = (fl) }
#define INE(r, e, fl) { .kind = RK_IN, .ref = (r), .flags = (fl), .size = (e) }
#define OUT(r, fl) { .kind = RK_OUT, .ref = (r), .flags = (fl) }
#define OUTE(r, e, fl) { .kind = RK_OUT, .ref = (r), .flags = (fl), .size = (e) }
#define INF(n) { .kind = RK_IN_FIXED, .size = (n) }
#define OUTF(n) { .kind = RK_OUT_FIXED, .size = (n) }
#define IOF(n) { .kind = RK_INOUT_FIXED, .size = (n) }
#define IOV_IN(r) { .kind = RK_IOV_IN, .ref = (r) }
#define IOV_OUT(r) { .kind = RK_IOV_OUT, .ref = (r) }
#define SA_IN(r) { .kind = RK_SOCKADDR_IN, .ref = (r), .flags = AF_L32 }
#define VR_OUT(r, max) { .kind = RK_VR_OUT, .ref = (r), .size = (max) }
#define LENPTR { .kind = RK_LENPTR }
#define POLLFDS(r) { .kind = RK_POLLFDS, .ref = (r), .flags = AF_U32 }
#define FDSET(r) { .kind = RK_FDSET, .ref = (r), .flags = AF_L32 }
#define MSG_IN { .kind = RK_MSGHDR_IN }
#define MSG_OUT { .kind = RK_MSGHDR_OUT }
#define SIGPAIR { .kind = RK_SIGSET_PAIR }

#define RD (AF_RET | AF_CLAMP) /* read-like: clamped, ret bytes come back */

#define SHAPE(fl, ...) (&(const struct rsys_shape){ .flags = (fl), .a = { __VA_ARGS__ } })

static const struct rsys_shape sh_scalar;

#define C(c) ((uint8_t)((c) + 1))
#define LOCAL(n) [__NR_##n] = { .cls = C(RSYS_LOCAL) }
#define SPECIAL(n) [__NR_##n] = { .cls = C(RSYS_SPECIAL) }
#define DENY(n) [__NR_##n] = { .cls = C(RSYS_DENY) }
#define FWD0(n) [__NR_##n] = { .cls = C(RSYS_FORWARD), .shape = &sh_scalar }
#define FWD(n, ...) [__NR_##n] = { .cls = C(RSYS_FORWARD), .shape = SHAPE(0, __VA_ARGS__) }
#define FWDF(n, fl, ...) [__NR_##n] = { .cls = C(RSYS_FORWARD), .shape = SHAPE(fl, __VA_ARGS__) }
#define FWDR(n, fn, err) [__NR_##n] = { .cls = C(RSYS_FORWARD), .resolve = (fn), .unres_err = (err) }
/* clang-format on */

/* fcntl: the third argument by command; others are refused (-EINVAL). */
static const struct rsys_shape *fcntl_shape(const uint64_t args[6])
{
	static const struct rsys_shape getlk = {.a = {[2] = IOF(sizeof(struct flock))}};
	static const struct rsys_shape setlk = {.a = {[2] = INF(sizeof(struct flock))}};
	static const struct rsys_shape getown = {.a = {[2] = OUTF(sizeof(struct f_owner_ex))}};
	static const struct rsys_shape setown = {.a = {[2] = INF(sizeof(struct f_owner_ex))}};

	switch ((uint32_t)args[1]) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
	case F_GETFD:
	case F_SETFD:
	case F_GETFL:
	case F_SETFL:
	case F_SETOWN:
	case F_GETOWN:
	case F_SETSIG:
	case F_GETSIG:
	case F_SETLEASE:
	case F_GETLEASE:
	case F_NOTIFY:
	case F_SETPIPE_SZ:
	case F_GETPIPE_SZ:
	case F_ADD_SEALS:
	case F_GET_SEALS:
		return &sh_scalar;
	case F_GETLK:
	case F_OFD_GETLK:
		return &getlk;
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return &setlk;
	case F_GETOWN_EX:
		return &getown;
	case F_SETOWN_EX:
		return &setown;
	}
	return NULL;
}

/* ioctl: terminals and a few generic requests; others get -ENOTTY. */
static const struct rsys_shape *ioctl_shape(const uint64_t args[6])
{
	static const struct rsys_shape tget = {.a = {[2] = OUTF(KTERMIOS_SIZE)}};
	static const struct rsys_shape tset = {.a = {[2] = INF(KTERMIOS_SIZE)}};
	static const struct rsys_shape wget = {.a = {[2] = OUTF(sizeof(struct winsize))}};
	static const struct rsys_shape wset = {.a = {[2] = INF(sizeof(struct winsize))}};
	static const struct rsys_shape iget = {.a = {[2] = OUTF(sizeof(int))}};
	static const struct rsys_shape iset = {.a = {[2] = INF(sizeof(int))}};

	switch ((uint32_t)args[1]) {
	case TCGETS:
		return &tget;
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return &tset;
	case TIOCGWINSZ:
		return &wget;
	case TIOCSWINSZ:
		return &wset;
	case FIONREAD:
	case TIOCOUTQ:
	case TIOCGPGRP:
	case TIOCGSID:
	case TIOCGPTN:
	case TIOCGETD:
	case TIOCMGET:
		return &iget;
	case FIONBIO:
	case FIOASYNC:
	case TIOCSPGRP:
	case TIOCSPTLCK:
	case TIOCSETD:
	case TIOCMSET:
	case TIOCMBIS:
	case TIOCMBIC:
		return &iset;
	case TIOCSCTTY:
	case TIOCNOTTY:
	case TIOCEXCL:
	case TIOCNXCL:
	case TIOCGPTPEER:
	case FIOCLEX:
	case FIONCLEX:
	case TCFLSH:
	case TCXONC:
	case TCSBRK:
	case TCSBRKP:
		return &sh_scalar;
	}
	return NULL;
}

/* clang-format off */
static const struct rsys_spec table[RSYS_NR_MAX] = {
	/* LOCAL: memory */
	LOCAL(brk), LOCAL(munmap), LOCAL(mprotect), LOCAL(mremap), LOCAL(madvise),
	LOCAL(mincore), LOCAL(msync), LOCAL(mlock), LOCAL(munlock), LOCAL(mlockall),
	LOCAL(munlockall), LOCAL(mlock2), LOCAL(mbind), LOCAL(get_mempolicy),
	LOCAL(set_mempolicy), LOCAL(set_mempolicy_home_node), LOCAL(pkey_mprotect),
	LOCAL(pkey_alloc), LOCAL(pkey_free), LOCAL(modify_ldt), LOCAL(arch_prctl),
	LOCAL(membarrier),
	/* LOCAL: the process's own signal state */
	LOCAL(rt_sigaction), LOCAL(rt_sigprocmask), LOCAL(rt_sigreturn), LOCAL(sigaltstack),
	LOCAL(rt_sigsuspend), LOCAL(rt_sigpending), LOCAL(rt_sigtimedwait), LOCAL(pause),
	/* LOCAL: time, futexes, the thread itself */
	LOCAL(clock_gettime), LOCAL(clock_getres), LOCAL(gettimeofday), LOCAL(time),
	LOCAL(nanosleep), LOCAL(clock_nanosleep), LOCAL(futex), LOCAL(futex_waitv),
	LOCAL(sched_yield), LOCAL(set_robust_list), LOCAL(get_robust_list),
	LOCAL(set_tid_address), LOCAL(rseq), LOCAL(getrandom), LOCAL(restart_syscall),
	LOCAL(personality), LOCAL(getcpu), LOCAL(sched_getaffinity), LOCAL(sched_setaffinity),
	LOCAL(sched_getparam), LOCAL(sched_setparam), LOCAL(sched_getscheduler),
	LOCAL(sched_setscheduler), LOCAL(sched_get_priority_max),
	LOCAL(sched_get_priority_min), LOCAL(sched_rr_get_interval), LOCAL(sched_getattr),
	LOCAL(sched_setattr),

	/* SPECIAL: identity, life cycle, signals, file mmap, timers */
	SPECIAL(getpid), SPECIAL(gettid), SPECIAL(kill), SPECIAL(tkill), SPECIAL(tgkill),
	SPECIAL(rt_sigqueueinfo), SPECIAL(rt_tgsigqueueinfo), SPECIAL(pidfd_send_signal),
	SPECIAL(exit), SPECIAL(exit_group), SPECIAL(mmap), SPECIAL(execve), SPECIAL(execveat),
	SPECIAL(fork), SPECIAL(vfork), SPECIAL(clone), SPECIAL(clone3), SPECIAL(ptrace),
	SPECIAL(seccomp), SPECIAL(prctl), SPECIAL(alarm), SPECIAL(setitimer),
	SPECIAL(getitimer), SPECIAL(timer_create), SPECIAL(timer_settime),
	SPECIAL(timer_gettime), SPECIAL(timer_getoverrun), SPECIAL(timer_delete),

	/* DENY (listed for the record; anything absent is denied too) */
	DENY(io_uring_setup), DENY(io_uring_enter), DENY(io_uring_register), DENY(io_setup),
	DENY(io_destroy), DENY(io_submit), DENY(io_cancel), DENY(io_getevents),
	DENY(io_pgetevents), DENY(userfaultfd), DENY(process_vm_readv),
	DENY(process_vm_writev), DENY(process_madvise), DENY(perf_event_open), DENY(bpf),
	DENY(kexec_load), DENY(kexec_file_load), DENY(init_module), DENY(finit_module),
	DENY(delete_module), DENY(vmsplice), DENY(remap_file_pages), DENY(shmget),
	DENY(shmat), DENY(shmdt), DENY(shmctl), DENY(sendmmsg), DENY(recvmmsg),

	/* FORWARD: file I/O */
	FWD(read, [1] = OUT(2, RD)),
	FWD(write, [1] = IN(2, AF_CLAMP)),
	FWD(pread64, [1] = OUT(2, RD)),
	FWD(pwrite64, [1] = IN(2, AF_CLAMP)),
	FWD(readv, [1] = IOV_OUT(2)),
	FWD(writev, [1] = IOV_IN(2)),
	FWD(preadv, [1] = IOV_OUT(2)),
	FWD(pwritev, [1] = IOV_IN(2)),
	FWD(preadv2, [1] = IOV_OUT(2)),
	FWD(pwritev2, [1] = IOV_IN(2)),
	FWD(open, [0] = PATH),
	FWD(openat, [1] = PATH),
	FWD(openat2, [1] = PATH, [2] = IN(3, 0)),
	FWD(creat, [0] = PATH),
	FWD0(close), FWD0(close_range), FWD0(lseek),
	FWD(fstat, [1] = OUTF(sizeof(struct stat))),
	FWD(stat, [0] = PATH, [1] = OUTF(sizeof(struct stat))),
	FWD(lstat, [0] = PATH, [1] = OUTF(sizeof(struct stat))),
	FWD(newfstatat, [1] = PATH, [2] = OUTF(sizeof(struct stat))),
	FWD(statx, [1] = PATH, [4] = OUTF(256)),
	FWD(fstatfs, [1] = OUTF(sizeof(struct statfs))),
	FWD(statfs, [0] = PATH, [1] = OUTF(sizeof(struct statfs))),
	FWD(access, [0] = PATH),
	FWD(faccessat, [1] = PATH),
	FWD(faccessat2, [1] = PATH),
	FWD(getdents, [1] = OUT(2, RD | AF_U32)),
	FWD(getdents64, [1] = OUT(2, RD | AF_U32)),
	FWD(getcwd, [0] = OUT(1, RD)),
	FWD(chdir, [0] = PATH),
	FWD0(fchdir),
	FWD(chroot, [0] = PATH),
	FWD(mkdir, [0] = PATH),
	FWD(mkdirat, [1] = PATH),
	FWD(rmdir, [0] = PATH),
	FWD(unlink, [0] = PATH),
	FWD(unlinkat, [1] = PATH),
	FWD(rename, [0] = PATH, [1] = PATH),
	FWD(renameat, [1] = PATH, [3] = PATH),
	FWD(renameat2, [1] = PATH, [3] = PATH),
	FWD(link, [0] = PATH, [1] = PATH),
	FWD(linkat, [1] = PATH, [3] = PATH),
	FWD(symlink, [0] = PATH, [1] = PATH),
	FWD(symlinkat, [0] = PATH, [2] = PATH),
	FWD(readlink, [0] = PATH, [1] = OUT(2, RD | AF_L32)),
	FWD(readlinkat, [1] = PATH, [2] = OUT(3, RD | AF_L32)),
	FWD(chmod, [0] = PATH),
	FWD0(fchmod),
	FWD(fchmodat, [1] = PATH),
	FWD(chown, [0] = PATH),
	FWD0(fchown),
	FWD(lchown, [0] = PATH),
	FWD(fchownat, [1] = PATH),
	FWD(truncate, [0] = PATH),
	FWD0(ftruncate), FWD0(fsync), FWD0(fdatasync), FWD0(sync), FWD0(syncfs), FWD0(umask),
	FWD0(dup), FWD0(dup2), FWD0(dup3), FWD0(flock), FWD0(fallocate), FWD0(fadvise64),
	FWD0(sync_file_range), FWD0(readahead), FWD0(tee),
	FWD(pipe, [0] = OUTF(2 * sizeof(int))),
	FWD(pipe2, [0] = OUTF(2 * sizeof(int))),
	FWDR(fcntl, fcntl_shape, EINVAL),
	FWDR(ioctl, ioctl_shape, ENOTTY),
	FWD(mknod, [0] = PATH),
	FWD(mknodat, [1] = PATH),
	FWD(utime, [0] = PATH, [1] = INF(2 * sizeof(long))),
	FWD(utimes, [0] = PATH, [1] = INF(2 * sizeof(struct timeval))),
	FWD(futimesat, [1] = PATH, [2] = INF(2 * sizeof(struct timeval))),
	FWD(utimensat, [1] = PATH, [2] = INF(2 * sizeof(struct timespec))),
	FWD(sendfile, [2] = IOF(sizeof(off_t))),
	FWD(copy_file_range, [1] = IOF(sizeof(off_t)), [3] = IOF(sizeof(off_t))),
	FWD(splice, [1] = IOF(sizeof(off_t)), [3] = IOF(sizeof(off_t))),
	FWD(memfd_create, [0] = PATH),
	/* extended attributes: names are strings, at most 255 bytes */
	FWD(setxattr, [0] = PATH, [1] = PATH, [2] = IN(3, 0)),
	FWD(lsetxattr, [0] = PATH, [1] = PATH, [2] = IN(3, 0)),
	FWD(fsetxattr, [1] = PATH, [2] = IN(3, 0)),
	FWD(getxattr, [0] = PATH, [1] = PATH, [2] = OUT(3, RD)),
	FWD(lgetxattr, [0] = PATH, [1] = PATH, [2] = OUT(3, RD)),
	FWD(fgetxattr, [1] = PATH, [2] = OUT(3, RD)),
	FWD(listxattr, [0] = PATH, [1] = OUT(2, RD)),
	FWD(llistxattr, [0] = PATH, [1] = OUT(2, RD)),
	FWD(flistxattr, [1] = OUT(2, RD)),
	FWD(removexattr, [0] = PATH, [1] = PATH),
	FWD(lremovexattr, [0] = PATH, [1] = PATH),
	FWD(fremovexattr, [1] = PATH),

	/* FORWARD: waiting for descriptors; descriptor-creating calls */
	FWD(poll, [0] = POLLFDS(1)),
	FWD(ppoll, [0] = POLLFDS(1), [2] = IOF(sizeof(struct timespec)), [3] = INF(sizeof(uint64_t))),
	FWD(select, [1] = FDSET(0), [2] = FDSET(0), [3] = FDSET(0),
	    [4] = IOF(sizeof(struct timeval))),
	FWD(pselect6, [1] = FDSET(0), [2] = FDSET(0), [3] = FDSET(0),
	    [4] = IOF(sizeof(struct timespec)), [5] = SIGPAIR),
	FWD0(epoll_create), FWD0(epoll_create1),
	FWD(epoll_ctl, [3] = INF(EPOLL_EVENT_SIZE)),
	FWD(epoll_wait, [1] = OUTE(2, EPOLL_EVENT_SIZE, RD | AF_L32)),
	FWD(epoll_pwait, [1] = OUTE(2, EPOLL_EVENT_SIZE, RD | AF_L32), [4] = INF(sizeof(uint64_t))),
	FWD(epoll_pwait2, [1] = OUTE(2, EPOLL_EVENT_SIZE, RD | AF_L32),
	    [3] = INF(sizeof(struct timespec)), [4] = INF(sizeof(uint64_t))),
	FWD0(eventfd), FWD0(eventfd2), FWD0(timerfd_create),
	FWD(timerfd_settime, [2] = INF(2 * sizeof(struct timespec)),
	    [3] = OUTF(2 * sizeof(struct timespec))),
	FWD(timerfd_gettime, [1] = OUTF(2 * sizeof(struct timespec))),
	FWD(signalfd, [1] = INF(sizeof(uint64_t))),
	FWD(signalfd4, [1] = INF(sizeof(uint64_t))),
	FWD0(inotify_init), FWD0(inotify_init1), FWD0(inotify_rm_watch),
	FWD(inotify_add_watch, [1] = PATH),
	FWD0(pidfd_open), FWD0(pidfd_getfd),

	/* FORWARD: sockets */
	FWD0(socket), FWD0(listen), FWD0(shutdown),
	FWD(socketpair, [3] = OUTF(2 * sizeof(int))),
	FWD(bind, [1] = SA_IN(2)),
	FWD(connect, [1] = SA_IN(2)),
	FWD(accept, [1] = VR_OUT(2, RSYS_MAX_SOCKADDR), [2] = LENPTR),
	FWD(accept4, [1] = VR_OUT(2, RSYS_MAX_SOCKADDR), [2] = LENPTR),
	FWD(getsockname, [1] = VR_OUT(2, RSYS_MAX_SOCKADDR), [2] = LENPTR),
	FWD(getpeername, [1] = VR_OUT(2, RSYS_MAX_SOCKADDR), [2] = LENPTR),
	FWD(sendto, [1] = IN(2, AF_CLAMP), [4] = SA_IN(5)),
	FWD(recvfrom, [1] = OUT(2, RD), [4] = VR_OUT(5, RSYS_MAX_SOCKADDR), [5] = LENPTR),
	FWD(sendmsg, [1] = MSG_IN),
	FWD(recvmsg, [1] = MSG_OUT),
	FWD(setsockopt, [3] = IN(4, AF_L32)),
	FWD(getsockopt, [3] = VR_OUT(4, RSYS_MAX_SOCKOPT), [4] = LENPTR),

	/* FORWARD: credentials, process groups, children, limits, host */
	FWD0(getuid), FWD0(geteuid), FWD0(getgid), FWD0(getegid), FWD0(getppid),
	FWD0(getpgrp), FWD0(getpgid), FWD0(setpgid), FWD0(getsid), FWD0(setsid),
	FWD0(setuid), FWD0(setgid), FWD0(setreuid), FWD0(setregid), FWD0(setresuid),
	FWD0(setresgid), FWD0(setfsuid), FWD0(setfsgid),
	FWD(getgroups, [1] = OUTE(0, sizeof(gid_t), AF_RET | AF_L32)),
	FWD(setgroups, [1] = INE(0, sizeof(gid_t), AF_L32)),
	FWD(getresuid, [0] = OUTF(sizeof(uid_t)), [1] = OUTF(sizeof(uid_t)),
	    [2] = OUTF(sizeof(uid_t))),
	FWD(getresgid, [0] = OUTF(sizeof(gid_t)), [1] = OUTF(sizeof(gid_t)),
	    [2] = OUTF(sizeof(gid_t))),
	FWD(capget, [0] = IOF(8), [1] = IOF(24)),
	FWD(capset, [0] = INF(8), [1] = INF(24)),
	/* status and rusage are written only when a child was reaped */
	FWDF(wait4, SF_OUT_IF_POS, [1] = OUTF(sizeof(int)), [3] = OUTF(sizeof(struct rusage))),
	FWD(waitid, [2] = IOF(sizeof(siginfo_t)), [4] = IOF(sizeof(struct rusage))),
	FWD(uname, [0] = OUTF(sizeof(struct utsname))),
	FWD(sysinfo, [0] = OUTF(sizeof(struct sysinfo))),
	FWD(getrlimit, [1] = OUTF(sizeof(struct rlimit))),
	FWD(setrlimit, [1] = INF(sizeof(struct rlimit))),
	FWD(prlimit64, [2] = INF(sizeof(struct rlimit)), [3] = OUTF(sizeof(struct rlimit))),
	FWD(getrusage, [1] = OUTF(sizeof(struct rusage))),
	FWD(times, [0] = OUTF(sizeof(struct tms))),
	FWD0(getpriority), FWD0(setpriority),
	FWD(sethostname, [0] = IN(1, AF_L32)),
	FWD(setdomainname, [0] = IN(1, AF_L32)),
};
/* clang-format on */

static const struct rsys_spec *spec_of(long nr)
{
	if (nr < 0 || nr >= RSYS_NR_MAX || !table[nr].cls)
		return NULL;
	return &table[nr];
}

enum rsys_class rsys_classify(long nr)
{
	const struct rsys_spec *s = spec_of(nr);

	return s ? (enum rsys_class)(s->cls - 1) : RSYS_DENY;
}

const char *rsys_name(long nr)
{
	if (nr < 0 || (unsigned long)nr >= ARRAY_SIZE(rsys_names))
		return NULL;
	return rsys_names[nr];
}

const char *rsys_class_name(enum rsys_class cls)
{
	switch (cls) {
	case RSYS_LOCAL:
		return "local";
	case RSYS_FORWARD:
		return "forward";
	case RSYS_SPECIAL:
		return "special";
	case RSYS_DENY:
		return "deny";
	}
	return "?";
}

size_t rsys_max_io(void)
{
	return RSYS_MAX_IO;
}

/* timers are special in that the caller decides: those that go home (real
 * time ones: they must survive every move) carry these */
static const struct rsys_shape sh_setitimer = { .a = { [1] = INF(sizeof(struct itimerval)),
	[2] = OUTF(sizeof(struct itimerval)) } };
static const struct rsys_shape sh_getitimer = { .a = { [1] = OUTF(sizeof(struct itimerval)) } };
static const struct rsys_shape sh_timer_create = { .a = { [1] = INF(sizeof(struct sigevent)),
	[2] = OUTF(sizeof(int)) } };
static const struct rsys_shape sh_timer_settime = { .a = {
	[2] = INF(sizeof(struct itimerspec)), [3] = OUTF(sizeof(struct itimerspec)) } };
static const struct rsys_shape sh_timer_gettime = { .a = {
	[1] = OUTF(sizeof(struct itimerspec)) } };
static_assert(sizeof(struct itimerval) == 32 && sizeof(struct itimerspec) == 32 &&
		      sizeof(struct sigevent) == 64,
	"x86_64 timer structures");

int rsys_shape_of(long nr, const uint64_t args[6], const struct rsys_shape **out)
{
	const struct rsys_shape *scalar = &sh_scalar;
	const struct rsys_spec *s = spec_of(nr);

	switch (nr) {
	case __NR_alarm:
	case __NR_timer_getoverrun:
	case __NR_timer_delete:
		*out = scalar;
		return 0;
	case __NR_setitimer:
		*out = &sh_setitimer;
		return 0;
	case __NR_getitimer:
		*out = &sh_getitimer;
		return 0;
	case __NR_timer_create:
		*out = &sh_timer_create;
		return 0;
	case __NR_timer_settime:
		*out = &sh_timer_settime;
		return 0;
	case __NR_timer_gettime:
		*out = &sh_timer_gettime;
		return 0;
	}

	/* signals to other processes are special only in that the caller
	 * decides: those that go home are plain scalar calls */
	if (nr == __NR_kill || nr == __NR_tkill || nr == __NR_tgkill) {
		*out = scalar;
		return 0;
	}
	if (!s || s->cls != C(RSYS_FORWARD))
		return -ENOSYS;
	*out = s->shape ? s->shape : s->resolve(args);
	return *out ? 0 : -(int)s->unres_err;
}
