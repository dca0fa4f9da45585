#include "mig/filter.h"
#include "rsys/rsys.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define MAX_NR 512

/* special calls that simply run where the process runs: the tracer would
 * only let them through (prctl is about the process itself). Timers are
 * not among them: real-time ones live at home (mig/remote.c) */
static bool runs_here(long nr)
{
	switch (nr) {
	case SYS_prctl:
		return true;
	default:
		return false;
	}
}

int mig_filter_build(struct sock_filter *f, size_t cap)
{
	size_t n = 0;
	long local[MAX_NR];
	size_t nlocal = 0;

	for (long nr = 0; nr < MAX_NR; nr++)
		if (rsys_classify(nr) == RSYS_LOCAL || runs_here(nr))
			local[nlocal++] = nr;
	if (cap < nlocal + 14)
		return -ENOSPC;
	/* the architecture: anything but x86_64 is killed */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr));
	/* mmap: anonymous memory is local, file mappings stop */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 4);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, args[3])); /* flags, low word */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr));
	/* one test per local call: jump to ALLOW (the last instruction) */
	for (size_t i = 0; i < nlocal; i++) {
		size_t to_allow = nlocal - i; /* remaining tests after this + TRACE */

		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)local[i],
			(unsigned char)to_allow, 0);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	return (int)n;
}
