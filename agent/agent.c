#include "agent/agent.h"
#include "agent/afast.h"

#include <errno.h>
#include <linux/audit.h>
#include <signal.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

extern const uint8_t agent_blob_start[], agent_blob_end[];

_Static_assert(AGENT_OFF_STATE % 4096 == 0, "the state starts a page of its own");
_Static_assert(AGENT_OFF_TEXT_END < AGENT_OFF_STATE, "the code comes before the state");

const uint8_t *agent_blob(size_t *len)
{
	*len = (size_t)(agent_blob_end - agent_blob_start);
	return agent_blob_start;
}

#define IP_OFF offsetof(struct seccomp_data, instruction_pointer)

int agent_filter_prefix(struct sock_filter *f, size_t cap, uint64_t code, uint32_t slow_ret)
{
	uint32_t lo = (uint32_t)code, hi = (uint32_t)(code >> 32);
	uint64_t end = (uint64_t)lo + AGENT_OFF_TEXT_END;
	uint32_t slow = (uint32_t)(lo + AGENT_OFF_SLOW_INSN + 2);
	uint32_t hold = (uint32_t)(lo + AGENT_OFF_HOLD_INSN + 2);
	struct afast_spec spec;
	long fast[64];
	size_t n = 0, nfast = 0;

	if (end > UINT32_MAX)
		return -ERANGE;
	for (long nr = 0; nr < 512; nr++)
		if (!afast_lookup(nr, &spec) && nfast < 64)
			fast[nfast++] = nr;
	if (cap < nfast + 13)
		return -ENOSPC;
	/* the instruction pointer is just past the syscall instruction: the
	 * agent's slow-path instruction goes to the tracer, its other calls
	 * run */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_OFF + 4);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 8);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_OFF);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, slow, 5, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hold, 3, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, lo, 0, 4);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)end, 3, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, slow_ret);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < nfast; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)fast[i],
			(uint8_t)(nfast - i), 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	return (int)n;
}

uint8_t *agent_map_self(size_t scratch)
{
	size_t len, text = (AGENT_OFF_TEXT_END + 4095) & ~(size_t)4095;
	const uint8_t *blob = agent_blob(&len);
	uint8_t *base;

	/* retry once if the text would cross a 4 GiB line (the filter's words) */
	for (int tries = 0; tries < 2; tries++) {
		base = mmap(NULL, len + scratch, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
		if (base == MAP_FAILED)
			return NULL;
		if ((uint64_t)(uint32_t)(uintptr_t)base + AGENT_OFF_TEXT_END <= UINT32_MAX)
			break;
		munmap(base, len + scratch);
		base = NULL;
	}
	if (!base) {
		errno = ERANGE;
		return NULL;
	}
	memcpy(base, blob, len);
	if (mprotect(base, text, PROT_READ | PROT_EXEC)) {
		munmap(base, len + scratch);
		return NULL;
	}
	agent_state_at(base)->buf = (uint64_t)(uintptr_t)(base + len);
	agent_state_at(base)->buf_len = scratch;
	agent_state_at(base)->slow_fd = -1;
	return base;
}

int agent_install_self(uint8_t *base, int fd, bool notif)
{
	struct sock_filter f[64];
	struct sock_fprog prog;
	struct {
		unsigned long handler, flags, restorer, mask;
	} ksa;
	int n = 0, m;

	agent_state_at(base)->fd = fd;
	agent_state_at(base)->pid = getpid();
	/* the kernel's sigaction, with the blob's own restorer, so that
	 * everything up to rt_sigreturn is the agent's code */
	ksa.handler = (unsigned long)(uintptr_t)(base + AGENT_OFF_SIGSYS);
	ksa.flags = SA_SIGINFO | 0x04000000ul; /* SA_RESTORER */
	ksa.restorer = (unsigned long)(uintptr_t)(base + AGENT_OFF_RESTORER);
	ksa.mask = ~0ul;
	if (syscall(SYS_rt_sigaction, SIGSYS, &ksa, NULL, 8))
		return -errno;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	m = agent_filter_prefix(f + n, 64 - (size_t)n - 1, (uint64_t)(uintptr_t)base,
		notif ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_TRACE);
	if (m < 0)
		return m;
	n += m;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	m = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		notif ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &prog);
	return m < 0 ? -errno : m;
}

void agent_link_keys(struct agent_state *copy, struct agent_state *home)
{
	randombytes_buf(copy->tx.key, sizeof(copy->tx.key));
	randombytes_buf(copy->rx.key, sizeof(copy->rx.key));
	memcpy(home->rx.key, copy->tx.key, sizeof(home->rx.key));
	memcpy(home->tx.key, copy->rx.key, sizeof(home->tx.key));
	copy->tx.ctr = copy->rx.ctr = home->tx.ctr = home->rx.ctr = 0;
}

enum agent_fixup agent_home_fixup(struct user_regs_struct *r, uint64_t base)
{
	uint64_t check = base + AGENT_OFF_FWD_CHECK, insn = base + AGENT_OFF_FWD_INSN;
	long rax = (long)r->rax;

	/* about to run: it must not, the signal goes first */
	if (r->rip >= check && r->rip <= insn) {
		r->rip = insn + 2;
		r->rax = (unsigned long long)-513; /* -ERESTARTNOINTR */
		r->orig_rax = (unsigned long long)-1;
		return AGENT_FIX_NOT_RUN;
	}
	/* interrupted: its restart code goes back, no restart here */
	if (r->rip == insn + 2 && r->orig_rax != (unsigned long long)-1 && rax <= -512 &&
		rax >= -516) {
		r->orig_rax = (unsigned long long)-1;
		return AGENT_FIX_INTERRUPTED;
	}
	return AGENT_FIX_NONE;
}

void agent_link_derive(struct aframe_dir *h2c, struct aframe_dir *c2h,
	const uint8_t secret[ACRYPT_KEY_SIZE], const uint8_t nonce[16])
{
	uint8_t in[12 + 16];

	memcpy(in, "om-agent/h2c", 12);
	memcpy(in + 12, nonce, 16);
	acrypt_blake2b(h2c->key, sizeof(h2c->key), in, sizeof(in), secret, ACRYPT_KEY_SIZE);
	memcpy(in, "om-agent/c2h", 12);
	acrypt_blake2b(c2h->key, sizeof(c2h->key), in, sizeof(in), secret, ACRYPT_KEY_SIZE);
	h2c->ctr = c2h->ctr = 0;
}
