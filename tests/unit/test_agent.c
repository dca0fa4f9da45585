/* Unit tests: agent/ (the in-process agents of the direct link): the
 * freestanding BLAKE2b and Poly1305 against libsodium, frames against
 * proto/stream.c both ways, the fast request and reply codec, and the
 * blob itself, loaded into two processes here: a "copy" whose fast-set
 * calls trap into the blob's SIGSYS handler and a "home" that runs them,
 * over a socket pair. */
#include "agent/afast.h"
#include "agent/agent.h"
#include "proto/stream.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void test_blake2b(void)
{
	uint8_t in[600], key[64], a[64], b[64];
	int bad = 0;

	randombytes_buf(in, sizeof(in));
	randombytes_buf(key, sizeof(key));
	for (size_t len = 0; len < sizeof(in); len += (len < 260 ? 1 : 37)) {
		for (size_t kl = 0; kl <= 64; kl += 32) {
			size_t outlen = kl == 32 ? 32 : 64;

			acrypt_blake2b(a, outlen, in, len, kl ? key : NULL, kl);
			crypto_generichash(b, outlen, in, len, kl ? key : NULL, kl);
			bad += memcmp(a, b, outlen) != 0;
		}
	}
	ok(!bad, "BLAKE2b equals libsodium's (lengths 0..600, keys 0/32/64)");
}

static void test_poly1305(void)
{
	uint8_t in[2000], key[32], a[16], b[16];
	int bad = 0;

	randombytes_buf(in, sizeof(in));
	for (size_t len = 0; len < sizeof(in); len += (len < 100 ? 1 : 61)) {
		struct acrypt_poly p;
		size_t at = 0;

		randombytes_buf(key, sizeof(key));
		acrypt_poly_init(&p, key);
		while (at < len) { /* in random pieces */
			size_t n = 1 + randombytes_uniform(40);

			if (n > len - at)
				n = len - at;
			acrypt_poly_update(&p, in + at, n);
			at += n;
		}
		acrypt_poly_final(&p, a);
		crypto_onetimeauth(b, in, len, key);
		bad += memcmp(a, b, 16) != 0;
	}
	/* largest limbs: all-ones blocks and key, through the one- and
	 * two-block paths */
	memset(in, 0xff, sizeof(in));
	memset(key, 0xff, 32);
	for (size_t len = 16; len <= sizeof(in); len += len < 200 ? 16 : 400) {
		struct acrypt_poly p;

		acrypt_poly_init(&p, key);
		acrypt_poly_update(&p, in, len);
		acrypt_poly_final(&p, a);
		crypto_onetimeauth(b, in, len, key);
		bad += memcmp(a, b, 16) != 0;
	}
	ok(!bad, "Poly1305 equals libsodium's (incremental, lengths 0..2000, edge values)");
	ok(acrypt_eq16(a, b) && (a[3] ^= 1, !acrypt_eq16(a, b)), "acrypt_eq16");
}

static void pair(struct stream_auth *c, struct stream_auth *s)
{
	uint8_t key[AUTH_KEY_SIZE], buf[64];
	int n;

	randombytes_buf(key, sizeof(key));
	if (stream_auth_init(c, STREAM_CLIENT, 1, 2, key) ||
		stream_auth_init(s, STREAM_SERVER, 2, 0, key))
		ok(0, "stream_auth_init");
	n = stream_hello_encode(c, buf, sizeof(buf));
	if (n < 0 || stream_hello_decode(s, buf, (size_t)n) < 0 ||
		(n = stream_hello_ack_encode(s, buf, sizeof(buf))) < 0 ||
		stream_hello_ack_decode(c, buf, (size_t)n) < 0 ||
		(n = stream_auth_msg_encode(c, buf, sizeof(buf))) < 0 ||
		stream_auth_msg_decode(s, buf, (size_t)n) < 0)
		ok(0, "handshake");
}

/* seal with aframe: out = hdr || body || tag */
static size_t aseal(struct aframe_dir *d, uint16_t type, const uint8_t *body, size_t len, uint8_t *out)
{
	struct acrypt_poly p;

	aframe_hdr_put(out, (uint32_t)len, type);
	memcpy(out + AFRAME_HDR_SIZE, body, len);
	aframe_mac_begin(&p, d);
	acrypt_poly_update(&p, out, AFRAME_HDR_SIZE + len);
	acrypt_poly_final(&p, out + AFRAME_HDR_SIZE + len);
	d->ctr++;
	return AFRAME_HDR_SIZE + len + AFRAME_TAG_SIZE;
}

static void test_frames(void)
{
	struct stream_auth c, s;
	struct aframe_dir ctx, srx;
	static uint8_t body[70000], buf[70100];
	const uint8_t *got;
	size_t glen, n;
	uint16_t type;
	int bad = 0, r;

	pair(&c, &s);
	randombytes_buf(body, sizeof(body));
	memcpy(ctx.key, c.tx_key, 32);
	ctx.ctr = 0;
	memcpy(srx.key, s.rx_key, 32);
	srx.ctr = 0;
	/* aframe seals, stream opens */
	for (size_t len = 0; len < sizeof(body); len = len * 3 + 1) {
		n = aseal(&ctx, 0x4601, body, len, buf);
		r = stream_frame_open(&s, buf, n, &type, &got, &glen);
		bad += r != (int)n || type != 0x4601 || glen != len || memcmp(got, body, len);
	}
	ok(!bad, "frames sealed by aframe open with stream_frame_open");
	/* stream seals, aframe checks */
	bad = 0;
	c.tx_ctr = ctx.ctr; /* the same direction, on from where aframe left it */
	for (size_t len = 0; len < sizeof(body); len = len * 5 + 3) {
		struct acrypt_poly p;
		uint8_t tag[16];
		uint32_t l;

		r = stream_frame_seal(&c, buf, sizeof(buf), 7, body, len);
		if (stream_frame_open(&s, buf, (size_t)r, &type, &got, &glen) < 0) /* keep s in step */
			bad++;
		bad += aframe_hdr_get(buf, &l, &type) != 0 || l != len || type != 7;
		aframe_mac_begin(&p, &ctx);
		acrypt_poly_update(&p, buf, AFRAME_HDR_SIZE + len);
		acrypt_poly_final(&p, tag);
		ctx.ctr++;
		bad += !acrypt_eq16(tag, buf + AFRAME_HDR_SIZE + len);
	}
	ok(!bad, "frames sealed by stream_frame_seal check with aframe");
	/* a flipped bit or a replay fails */
	n = aseal(&ctx, 1, body, 10, buf);
	buf[AFRAME_HDR_SIZE + 3] ^= 4;
	ok(stream_frame_open(&s, buf, n, &type, &got, &glen) == -EACCES, "a tampered frame fails");
	aframe_hdr_put(buf, AFRAME_MAX_BODY + 1, 1);
	ok(aframe_hdr_get(buf, (uint32_t *)&r, &type) == -EMSGSIZE, "oversized header refused");
	aframe_hdr_put(buf, 1, 1);
	buf[7] = 1;
	ok(aframe_hdr_get(buf, (uint32_t *)&r, &type) == -EBADMSG, "header flags refused");
	stream_auth_wipe(&c);
	stream_auth_wipe(&s);
}

static void test_codec(void)
{
	uint64_t args[6] = { 3, 0x7000, 5, 0, 0, 0 };
	uint8_t b[AFAST_REQ_SIZE + 8];
	struct afast_req q, d;
	struct afast_rep p, pd;
	uint8_t rb[AFAST_REP_SIZE];

	ok(afast_req_make(&q, 9, SYS_write, args) == 0 && q.kind == AFAST_IN && q.buf_arg == 1 &&
			q.buf_len == 5, "write: IN buffer, arg 1, 5 bytes");
	afast_req_put(b, &q);
	memcpy(b + AFAST_REQ_SIZE, "hello", 5);
	ok(afast_req_get(&d, b, AFAST_REQ_SIZE + 5) == 0 && d.nr == SYS_write && d.seq == 9 &&
			d.args[0] == 3 && d.buf_len == 5, "request round trip");
	ok(afast_req_get(&d, b, AFAST_REQ_SIZE + 4) == -EBADMSG, "short IN data refused");
	ok(afast_req_get(&d, b, AFAST_REQ_SIZE + 6) == -EBADMSG, "trailing bytes refused");
	b[57] = AFAST_OUT_RET;
	ok(afast_req_get(&d, b, AFAST_REQ_SIZE + 5) == -EBADMSG, "wrong kind for the call refused");
	b[57] = AFAST_IN;
	b[56] = 2;
	ok(afast_req_get(&d, b, AFAST_REQ_SIZE + 5) == -EBADMSG, "wrong argument refused");
	b[56] = 1;
	b[8 + 2 * 8 + 7] = 6; /* args[2] != buf_len */
	ok(afast_req_get(&d, b, AFAST_REQ_SIZE + 5) == -EBADMSG, "length argument mismatch refused");
	args[2] = 100u << 20;
	ok(afast_req_make(&q, 1, SYS_read, args) == 0 && q.buf_len == AFAST_MAX_IO &&
			q.args[2] == AFAST_MAX_IO, "large read clamped to AFAST_MAX_IO");
	ok(afast_req_make(&q, 1, SYS_openat, args) == -ENOSYS, "openat is not in the fast set");
	afast_req_put(b, &q);
	b[6] = (uint8_t)(SYS_openat >> 8);
	b[7] = (uint8_t)SYS_openat;
	ok(afast_req_get(&d, b, AFAST_REQ_SIZE) == -EBADMSG, "a call outside the fast set refused");
	args[2] = 100;
	(void)afast_req_make(&q, 4, SYS_pread64, args);
	afast_rep_make(&p, &q, 60);
	ok(p.data_len == 60, "read reply carries ret bytes");
	afast_rep_put(rb, &p);
	ok(afast_rep_get(&pd, rb, &q) == 0 && pd.ret == 60, "reply round trip");
	rb[19] = 61;
	ok(afast_rep_get(&pd, rb, &q) == -EBADMSG, "reply data length must match ret");
	afast_rep_make(&p, &q, 101);
	afast_rep_put(rb, &p);
	ok(afast_rep_get(&pd, rb, &q) == -EBADMSG, "a count above the buffer refused");
	afast_rep_make(&p, &q, -EBADF);
	afast_rep_put(rb, &p);
	rb[3] ^= 1;
	ok(afast_rep_get(&pd, rb, &q) == -EBADMSG, "a reply to another request refused");
}

static void test_derive(void)
{
	uint8_t secret[32], nonce[16];
	struct aframe_dir a, b, c, d;

	randombytes_buf(secret, sizeof(secret));
	randombytes_buf(nonce, sizeof(nonce));
	agent_link_derive(&a, &b, secret, nonce);
	agent_link_derive(&c, &d, secret, nonce);
	ok(!memcmp(a.key, c.key, 32) && !memcmp(b.key, d.key, 32) && memcmp(a.key, b.key, 32),
		"link keys: the same at both ends, one per direction");
	nonce[0] ^= 1;
	agent_link_derive(&c, &d, secret, nonce);
	ok(memcmp(a.key, c.key, 32) && memcmp(b.key, d.key, 32), "a new nonce, new keys");
}

static void test_fixup_regs(void)
{
	uint64_t base = 0x7f0000000000ull;
	uint64_t check = base + AGENT_OFF_FWD_CHECK, insn = base + AGENT_OFF_FWD_INSN;
	struct user_regs_struct r;

	memset(&r, 0, sizeof(r));
	r.rip = check;
	r.orig_rax = (unsigned long long)-1;
	ok(agent_home_fixup(&r, base) == AGENT_FIX_NOT_RUN && r.rip == insn + 2 &&
			(long)r.rax == -513 && r.orig_rax == (unsigned long long)-1,
		"stopped at the last look: answered -ERESTARTNOINTR, not run");
	r.rip = insn;
	r.rax = 0;
	ok(agent_home_fixup(&r, base) == AGENT_FIX_NOT_RUN && r.rip == insn + 2,
		"stopped on the syscall instruction: not run");
	r.rip = insn + 2;
	r.rax = (unsigned long long)-512;
	r.orig_rax = 0;
	ok(agent_home_fixup(&r, base) == AGENT_FIX_INTERRUPTED && (long)r.rax == -512 &&
			r.orig_rax == (unsigned long long)-1,
		"interrupted: its -ERESTARTSYS goes back, no restart at home");
	r.rip = insn + 2;
	r.rax = 5;
	r.orig_rax = 0;
	ok(agent_home_fixup(&r, base) == AGENT_FIX_NONE && r.rax == 5 && r.orig_rax == 0,
		"a call that returned: nothing to fix");
	r.rip = base + 16;
	r.rax = (unsigned long long)-512;
	ok(agent_home_fixup(&r, base) == AGENT_FIX_NONE && r.orig_rax == 0,
		"elsewhere (waiting for a request): restarts as usual");
}

static void test_filter_prefix(void)
{
	struct sock_filter f[64];

	ok(agent_filter_prefix(f, 64, 0x7f0000001000ull, SECCOMP_RET_TRACE) > 0, "filter prefix built");
	ok(agent_filter_prefix(f, 64, 0x7f00ffffff000ull, SECCOMP_RET_TRACE) == -ERANGE,
		"text across a 4 GiB line refused");
	ok(agent_filter_prefix(f, 5, 0x7f0000001000ull, SECCOMP_RET_TRACE) == -ENOSPC, "too small a buffer refused");
}

/* ------------------------------------------------ the blob in processes --- */

#define HOME_FD 77 /* a descriptor only the home process has */

/* The copy's checks, run under the filter; exit status: failed checks */
static int copy_checks(pid_t home, const char *path, const uint8_t *pat, size_t patlen)
{
	static uint8_t big[2u << 20];
	struct stat st;
	int bad = 0;
	ssize_t r;

	/* natively our parent is home; forwarded it is home's parent */
	if (getppid() == home)
		bad |= 1;
	r = pread(HOME_FD, big, 65536, 0);
	if (r != 65536 || memcmp(big, pat, 65536))
		bad |= 2;
	r = read(HOME_FD, big, sizeof(big)); /* clamped, then short */
	if (r != (ssize_t)(patlen < AFAST_MAX_IO ? patlen : AFAST_MAX_IO) || memcmp(big, pat, (size_t)r))
		bad |= 4;
	if (lseek(HOME_FD, 0, SEEK_END) != (off_t)patlen)
		bad |= 8;
	if (write(HOME_FD, "tail", 4) != 4)
		bad |= 16;
	/* (glibc's fstat() is newfstatat, not in the fast set) */
	if (syscall(SYS_fstat, HOME_FD, &st) || st.st_size != (off_t)patlen + 4)
		bad |= 32;
	errno = 0;
	if (write(HOME_FD + 1, "x", 1) != -1 || errno != EBADF)
		bad |= 64;
	for (int i = 0; i < 2000; i++) /* offsets stay consistent over many calls */
		if (pread(HOME_FD, big, 1, i) != 1 || big[0] != pat[i])
			bad |= 128;
	/* a forked child does not use the link: its calls take the slow
	 * path (no tracer here: ENOSYS), and ours go on working */
	{
		pid_t kid = fork();
		int kst;

		if (kid == 0)
			_exit(syscall(SYS_getppid) == -1 && errno == ENOSYS ? 0 : 1);
		if (kid < 0 || waitpid(kid, &kst, 0) != kid || !WIFEXITED(kst) || WEXITSTATUS(kst))
			bad |= 256;
		if (pread(HOME_FD, big, 100, 5) != 100 || memcmp(big, pat + 5, 100))
			bad |= 256;
	}
	(void)path;
	return bad;
}

static void test_blob(void)
{
	char path[] = "/tmp/om-agent-test.XXXXXX";
	size_t patlen = 3u << 20;
	uint8_t *pat = malloc(patlen), *cbase, *hbase;
	int sv[2], fd, status;
	pid_t home, test = getpid();
	size_t blen;

	int ss[2];
	uint64_t slow[7] = { SYS_getppid }, res = 0;

	ok(agent_blob(&blen) && blen % 4096 == 0 && blen > AGENT_OFF_STATE, "the blob is embedded");
	/* queued before home starts: served whatever the copy does */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ss) ||
		send(ss[0], slow, sizeof(slow), 0) != sizeof(slow))
		ok(0, "socketpair");
	randombytes_buf(pat, patlen);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, pat, patlen) != (ssize_t)patlen)
		ok(0, "temporary file");
	close(fd);
	cbase = agent_map_self(0);
	hbase = agent_map_self(2 * (AFAST_MAX_IO + 4096));
	ok(cbase && hbase, "blob mapped");
	agent_link_keys(agent_state_at(cbase), agent_state_at(hbase));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		ok(0, "socketpair");
	home = fork();
	if (home == 0) {
		pid_t copy = fork();

		if (copy == 0) { /* the copy: a child of home, so its own parent differs */
			int rc;

			close(sv[1]);
			rc = agent_install_self(cbase, sv[0], false);
			if (rc)
				_exit(100);
			/* the first check: getppid forwarded is home's parent (the test) */
			rc = syscall(SYS_getppid) == test ? 0 : 1;
			rc |= copy_checks(getpid(), path, pat, patlen) & ~1;
			_exit(rc);
		}
		close(sv[0]);
		close(ss[0]);
		fd = open(path, O_RDWR);
		if (fd < 0 || dup2(fd, HOME_FD) < 0)
			_exit(101);
		agent_state_at(hbase)->fd = sv[1];
		agent_state_at(hbase)->slow_fd = ss[1];
		long err = ((long (*)(void))(void *)(hbase + AGENT_OFF_HOME_MAIN))();
		int cst;

		waitpid(copy, &cst, 0);
		/* the copy's result, and why the loop ended (-ECONNRESET: it closed) */
		_exit(WIFEXITED(cst) && err == -ECONNRESET ? WEXITSTATUS(cst) : 200);
	}
	close(sv[0]);
	close(sv[1]);
	close(ss[1]);
	/* the deputy's slow path, served beside the link */
	ok(recv(ss[0], &res, sizeof(res), 0) == sizeof(res) && res == (uint64_t)test,
		"a slow-path request of the deputy ran at home beside the link");
	waitpid(home, &status, 0);
	close(ss[0]);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"copy's fast calls ran at home: getppid, pread, clamped read, lseek, write, fstat, EBADF, 2000 preads; a forked child took the slow path (status %d)",
		WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	unlink(path);
	free(pat);
}

/* A man in the middle flips one bit of the copy's first request: the home
 * agent refuses it (nothing runs: the file stays empty) and ends the link;
 * the copy, left without an answer, ends killed. */
static void test_tamper(void)
{
	char path[] = "/tmp/om-agent-tamper.XXXXXX";
	int a[2], b[2], fd, hst, cst;
	uint8_t *cbase = agent_map_self(0), *hbase = agent_map_self(2 * (AFAST_MAX_IO + 4096));
	pid_t home, copy;
	uint8_t buf[256];
	ssize_t n;
	struct stat st;

	fd = mkstemp(path);
	agent_link_keys(agent_state_at(cbase), agent_state_at(hbase));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) || socketpair(AF_UNIX, SOCK_STREAM, 0, b))
		ok(0, "socketpair");
	home = fork();
	if (home == 0) {
		close(a[0]);
		close(a[1]);
		close(b[0]);
		if (dup2(fd, HOME_FD) < 0)
			_exit(101);
		agent_state_at(hbase)->fd = b[1];
		long err = ((long (*)(void))(void *)(hbase + AGENT_OFF_HOME_MAIN))();

		_exit(err == -EACCES && agent_state_at(hbase)->phase == AGENT_DEAD ? 0 : 1);
	}
	copy = fork();
	if (copy == 0) {
		close(a[1]);
		close(b[0]);
		close(b[1]);
		if (agent_install_self(cbase, a[0], false))
			_exit(100);
		(void)!write(HOME_FD, "X", 1);
		_exit(0); /* must not get here */
	}
	close(a[0]);
	close(b[1]);
	n = read(a[1], buf, sizeof(buf));
	if (n > 20)
		buf[20] ^= 1; /* in the request's arguments */
	if (n > 0)
		(void)!write(b[0], buf, (size_t)n);
	waitpid(home, &hst, 0);
	close(b[0]);
	close(a[1]);
	waitpid(copy, &cst, 0);
	ok(WIFEXITED(hst) && WEXITSTATUS(hst) == 0, "home refused the tampered frame (-EACCES) and ended the link");
	ok(fstat(fd, &st) == 0 && st.st_size == 0, "nothing ran at home");
	ok(WIFSIGNALED(cst) && WTERMSIG(cst) == SIGKILL, "the copy ended killed, not with a made-up result");
	close(fd);
	unlink(path);
}

/* ------------------------------------------------ signals at home --- */

#define PIPE_RD 78
#define PIPE_WR 79

static volatile sig_atomic_t usr1_seen;
static volatile pid_t usr1_from;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	usr1_seen++;
	usr1_from = si->si_pid;
}

static int state_rw(pid_t pid, uint8_t *base, size_t off, void *buf, size_t len, bool wr)
{
	struct iovec l = { buf, len }, r = { base + AGENT_OFF_STATE + off, len };
	ssize_t n = wr ? process_vm_writev(pid, &l, 1, &r, 1, 0) : process_vm_readv(pid, &l, 1, &r, 1, 0);

	return n == (ssize_t)len ? 0 : -1;
}

/* What the deputy does at a stop of the home process: the fixup, and a
 * signal for a fast call in flight carried in its reply (suppressed here).
 * Returns the fixup, or -1 when the process is gone. */
static int home_stop(pid_t h, uint8_t *hbase, int st)
{
	struct user_regs_struct r;
	enum agent_fixup fix = AGENT_FIX_NONE;
	uint32_t phase, sig = (uint32_t)WSTOPSIG(st);
	siginfo_t si;

	if (!WIFSTOPPED(st))
		return -1;
	if ((st >> 16) == 0 && ptrace(PTRACE_GETREGS, h, NULL, &r) == 0) {
		fix = agent_home_fixup(&r, (uint64_t)(uintptr_t)hbase);
		if (fix)
			ptrace(PTRACE_SETREGS, h, NULL, &r);
		if (state_rw(h, hbase, offsetof(struct agent_state, phase), &phase, 4, false) == 0 &&
			phase == AGENT_RUN && ptrace(PTRACE_GETSIGINFO, h, NULL, &si) == 0) {
			state_rw(h, hbase, offsetof(struct agent_state, siginfo), &si, sizeof(si), true);
			state_rw(h, hbase, offsetof(struct agent_state, sig), &sig, 4, true);
		}
	}
	ptrace(PTRACE_CONT, h, NULL, NULL);
	return (int)fix;
}

/* home runs a fast call and sleeps in it: a read of PIPE_RD (not one of
 * the file reads before it, which may sleep a moment too) */
static bool blocked_in_call(pid_t h, uint8_t *hbase)
{
	char path[64], buf[512], want[32], *p;
	uint32_t phase = 0;
	FILE *f;

	if (state_rw(h, hbase, offsetof(struct agent_state, phase), &phase, 4, false) ||
		phase != AGENT_RUN)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/syscall", h);
	f = fopen(path, "r");
	if (!f)
		return false;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	snprintf(want, sizeof(want), "%d 0x%x ", SYS_read, PIPE_RD);
	if (!p || strncmp(buf, want, strlen(want)))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", h);
	f = fopen(path, "r");
	if (!f)
		return false;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[2] == 'S';
}

/* A fast read of an empty pipe at home, interrupted by SIGUSR1 sent to
 * the home pid: without SA_RESTART the copy's read fails with EINTR after
 * its handler ran (with the home sender's pid); with it, the read runs
 * again and gets the data written afterwards, exactly once. */
static void test_signal(bool restart)
{
	uint8_t *cbase = agent_map_self(0), *hbase = agent_map_self(2 * (AFAST_MAX_IO + 4096));
	pid_t test = getpid(), h;
	int sv[2], st, fix = -1, pfd, wfd;
	uint64_t deadline;

	agent_link_keys(agent_state_at(cbase), agent_state_at(hbase));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		ok(0, "socketpair");
	h = fork();
	if (h == 0) {
		int p[2];
		pid_t c = fork();

		if (c == 0) {
			struct sigaction sa = { .sa_sigaction = on_usr1,
				.sa_flags = SA_SIGINFO | (restart ? SA_RESTART : 0) };
			char buf[16];
			ssize_t n;

			close(sv[1]);
			sigaction(SIGUSR1, &sa, NULL);
			if (agent_install_self(cbase, sv[0], false))
				_exit(100);
			n = read(PIPE_RD, buf, sizeof(buf));
			if (usr1_seen != 1 || usr1_from != test)
				_exit(1);
			if (!restart)
				_exit(n == -1 && errno == EINTR ? 0 : 2);
			_exit(n == 5 && !memcmp(buf, "hello", 5) ? 0 : 3);
		}
		close(sv[0]);
		if (pipe(p) || dup2(p[0], PIPE_RD) < 0 || dup2(p[1], PIPE_WR) < 0)
			_exit(101);
		close(p[0]);
		close(p[1]);
		agent_state_at(hbase)->fd = sv[1];
		long err = ((long (*)(void))(void *)(hbase + AGENT_OFF_HOME_MAIN))();
		waitpid(c, &st, 0);
		_exit(WIFEXITED(st) && err == -ECONNRESET ? WEXITSTATUS(st) : 200);
	}
	close(sv[0]);
	close(sv[1]);
	if (ptrace(PTRACE_SEIZE, h, NULL, NULL))
		ok(0, "seize");
	deadline = (uint64_t)time(NULL) + 20;
	while (!blocked_in_call(h, hbase) && (uint64_t)time(NULL) < deadline)
		usleep(2000);
	kill(h, SIGUSR1);
	while (waitpid(h, &st, __WALL) == h && WIFSTOPPED(st)) {
		int f = home_stop(h, hbase, st);

		if (WSTOPSIG(st) == SIGUSR1) {
			fix = f;
			break;
		}
	}
	ok(fix == AGENT_FIX_INTERRUPTED, "%s: the blocked fast read was interrupted at home",
		restart ? "SA_RESTART" : "no SA_RESTART");
	if (restart) {
		pfd = (int)syscall(SYS_pidfd_open, h, 0);
		wfd = pfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pfd, PIPE_WR, 0);
		ok(wfd >= 0 && write(wfd, "hello", 5) == 5, "data for the restarted read");
		close(wfd);
		close(pfd);
	}
	while (waitpid(h, &st, __WALL) == h && WIFSTOPPED(st))
		home_stop(h, hbase, st);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		"%s: the copy's handler ran with the home sender, then the read %s (status %d)",
		restart ? "SA_RESTART" : "no SA_RESTART",
		restart ? "ran again and got the data once" : "failed with EINTR",
		WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
	munmap(cbase, AGENT_OFF_STATE + 4096);
}

/* A move while the copy waits in a fast read of an empty pipe at home:
 * the "remote" (this test, the copy's tracer) sets hold, the "deputy"
 * (this test, home's tracer) interrupts the call at home; the copy comes
 * out of its handler by itself, stops at the hold instruction, and a few
 * single steps later sits on the read's syscall instruction, rax = read,
 * with nothing run at home. Let go (where the move would restore it), the
 * read runs again and gets the data written afterwards, once. */
static void test_move(void)
{
	uint8_t *cbase = agent_map_self(0), *hbase = agent_map_self(2 * (AFAST_MAX_IO + 4096));
	pid_t h, c = -1;
	int sv[2], st, cp[2], fix = -1, pfd, wfd, steps = 0;
	uint32_t cphase = 99, one = 1, zero = 0;
	struct user_regs_struct r;
	uint8_t insn[2] = { 0 };
	uint64_t deadline, text = (uint64_t)(uintptr_t)cbase, text_end = text + AGENT_OFF_TEXT_END;
	bool held = false;
	char mpath[] = "/tmp/om-agent-move.XXXXXX";
	uint8_t seq[1000];
	int mfd = mkstemp(mpath);

	for (int i = 0; i < 1000; i++)
		seq[i] = (uint8_t)(i * 7);
	if (mfd < 0 || write(mfd, seq, sizeof(seq)) != sizeof(seq) || lseek(mfd, 0, SEEK_SET))
		ok(0, "temporary file");
	agent_link_keys(agent_state_at(cbase), agent_state_at(hbase));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(cp))
		ok(0, "socketpair");
	h = fork();
	if (h == 0) {
		int p[2];
		pid_t k = fork();

		if (k == 0) {
			char buf[16];
			ssize_t n;
			int bad = 0;

			close(sv[1]);
			if (agent_install_self(cbase, sv[0], false))
				_exit(100);
			/* many calls before and after the move share home's offset */
			for (int i = 0; i < 500; i++)
				bad |= read(HOME_FD, buf, 1) != 1 || (uint8_t)buf[0] != (uint8_t)(i * 7);
			n = read(PIPE_RD, buf, sizeof(buf));
			if (n != 5 || memcmp(buf, "hello", 5))
				_exit(3);
			for (int i = 500; i < 1000; i++)
				bad |= read(HOME_FD, buf, 1) != 1 || (uint8_t)buf[0] != (uint8_t)(i * 7);
			_exit(bad ? 4 : 0);
		}
		close(sv[0]);
		if (dup2(mfd, HOME_FD) < 0)
			_exit(103);
		if (write(cp[1], &k, sizeof(k)) != sizeof(k))
			_exit(102);
		if (pipe(p) || dup2(p[0], PIPE_RD) < 0 || dup2(p[1], PIPE_WR) < 0)
			_exit(101);
		close(p[0]);
		close(p[1]);
		agent_state_at(hbase)->fd = sv[1];
		long err = ((long (*)(void))(void *)(hbase + AGENT_OFF_HOME_MAIN))();
		waitpid(k, &st, 0);
		_exit(WIFEXITED(st) && err == -ECONNRESET ? WEXITSTATUS(st) : 200);
	}
	close(sv[0]);
	close(sv[1]);
	if (read(cp[0], &c, sizeof(c)) != sizeof(c) || ptrace(PTRACE_SEIZE, h, NULL, NULL) ||
		ptrace(PTRACE_SEIZE, c, NULL, (void *)(long)PTRACE_O_TRACESECCOMP))
		ok(0, "seize");
	/* (under a tracer each SIGSYS of the filter is a signal-delivery
	 * stop: the tracer passes it on) */
	deadline = (uint64_t)time(NULL) + 20;
	while (!blocked_in_call(h, hbase) && (uint64_t)time(NULL) < deadline) {
		if (waitpid(c, &st, __WALL | WNOHANG) == c && WIFSTOPPED(st))
			ptrace(PTRACE_CONT, c, NULL, (void *)(long)((st >> 16) ? 0 : WSTOPSIG(st)));
		usleep(2000);
	}
	/* the remote: stop the copy; it waits for home; ask it out */
	ptrace(PTRACE_INTERRUPT, c, NULL, NULL);
	while (waitpid(c, &st, __WALL) == c && WIFSTOPPED(st) && (st >> 16) != PTRACE_EVENT_STOP)
		ptrace(PTRACE_CONT, c, NULL, (void *)(long)WSTOPSIG(st));
	state_rw(c, cbase, offsetof(struct agent_state, cphase), &cphase, 4, false);
	state_rw(c, cbase, offsetof(struct agent_state, hold), &one, 4, true);
	ptrace(PTRACE_CONT, c, NULL, NULL);
	ok(cphase == AGENT_C_WAIT, "the copy was stopped waiting for its reply (phase %u)", cphase);
	/* the deputy: interrupt the call at home */
	ptrace(PTRACE_INTERRUPT, h, NULL, NULL);
	while (waitpid(h, &st, __WALL) == h && WIFSTOPPED(st)) {
		if ((st >> 16) == PTRACE_EVENT_STOP) {
			if (ptrace(PTRACE_GETREGS, h, NULL, &r) == 0) {
				fix = agent_home_fixup(&r, (uint64_t)(uintptr_t)hbase);
				if (fix)
					ptrace(PTRACE_SETREGS, h, NULL, &r);
			}
			ptrace(PTRACE_CONT, h, NULL, NULL);
			break;
		}
		home_stop(h, hbase, st);
	}
	ok(fix == AGENT_FIX_INTERRUPTED, "the call at home was interrupted, not restarted there");
	/* the copy comes out by itself and is held */
	while (waitpid(c, &st, __WALL) == c && WIFSTOPPED(st)) {
		if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)) &&
			ptrace(PTRACE_GETREGS, c, NULL, &r) == 0 &&
			r.rip == text + AGENT_OFF_HOLD_INSN + 2) {
			held = true;
			break;
		}
		ptrace(PTRACE_CONT, c, NULL, (void *)(long)((st >> 16) ? 0 : WSTOPSIG(st)));
	}
	ok(held, "the copy stopped at the hold instruction");
	/* single steps out of the handler, through rt_sigreturn */
	while (held && steps < 1000) {
		if (ptrace(PTRACE_SINGLESTEP, c, NULL, NULL) || waitpid(c, &st, __WALL) != c ||
			ptrace(PTRACE_GETREGS, c, NULL, &r))
			break;
		steps++;
		if (r.rip < text || r.rip >= text_end)
			break;
	}
	{
		struct iovec l = { insn, 2 }, rr = { (void *)(uintptr_t)r.rip, 2 };

		(void)!process_vm_readv(c, &l, 1, &rr, 1, 0);
	}
	ok(steps < 1000 && insn[0] == 0x0f && insn[1] == 0x05 && r.rax == SYS_read &&
			r.rdi == PIPE_RD,
		"%d steps later: on the read's syscall instruction, rax = read, its arguments intact",
		steps);
	/* let it go (as the restored process would) and give it data */
	state_rw(c, cbase, offsetof(struct agent_state, hold), &zero, 4, true);
	ptrace(PTRACE_DETACH, c, NULL, NULL);
	pfd = (int)syscall(SYS_pidfd_open, h, 0);
	wfd = pfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pfd, PIPE_WR, 0);
	ok(wfd >= 0 && write(wfd, "hello", 5) == 5, "data for the read, once");
	close(wfd);
	close(pfd);
	while (waitpid(h, &st, __WALL) == h && WIFSTOPPED(st))
		home_stop(h, hbase, st);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		"after the move the read ran again and got the data once; 500 reads before and 500 after kept home's offset (status %d)",
		WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
	close(mfd);
	unlink(mpath);
	close(cp[0]);
	close(cp[1]);
}

/* The slow path without a tracer: the copy's filter sends the agent's slow
 * instruction to a supervisor (SECCOMP_RET_USER_NOTIF), here this test,
 * holding the listener. A forked child of the copy (not the link's pid)
 * takes it; the copy's own calls keep the link. */
static void test_notif(void)
{
	uint8_t *cbase = agent_map_self(0), *hbase = agent_map_self(2 * (AFAST_MAX_IO + 4096));
	pid_t test = getpid(), h, c = -1;
	int sv[2], cp[2], st, lfd = -1, l = -1, pfd;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	bool seen = false;

	agent_link_keys(agent_state_at(cbase), agent_state_at(hbase));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(cp))
		ok(0, "socketpair");
	h = fork();
	if (h == 0) {
		pid_t k = fork();

		if (k == 0) {
			int kst;
			pid_t kid;

			close(sv[1]);
			l = agent_install_self(cbase, sv[0], true);
			if (l < 0 || write(cp[1], &l, sizeof(l)) != sizeof(l))
				_exit(100);
			kid = fork();
			if (kid == 0)
				_exit(syscall(SYS_getppid) == 4242 ? 0 : 1);
			if (kid < 0 || waitpid(kid, &kst, 0) != kid || !WIFEXITED(kst) || WEXITSTATUS(kst))
				_exit(2);
			_exit(syscall(SYS_getppid) == test ? 0 : 3);
		}
		close(sv[0]);
		if (write(cp[1], &k, sizeof(k)) != sizeof(k))
			_exit(102);
		agent_state_at(hbase)->fd = sv[1];
		long err = ((long (*)(void))(void *)(hbase + AGENT_OFF_HOME_MAIN))();
		waitpid(k, &st, 0);
		_exit(WIFEXITED(st) && err == -ECONNRESET ? WEXITSTATUS(st) : 200);
	}
	close(sv[0]);
	close(sv[1]);
	if (read(cp[0], &c, sizeof(c)) != sizeof(c) || read(cp[0], &l, sizeof(l)) != sizeof(l))
		ok(0, "copy's pid and listener");
	pfd = (int)syscall(SYS_pidfd_open, c, 0);
	lfd = pfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pfd, l, 0);
	ok(lfd >= 0, "the supervisor holds the copy's listener");
	memset(&req, 0, sizeof(req));
	if (lfd >= 0 && ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
		seen = req.data.nr == SYS_getppid &&
			req.data.instruction_pointer ==
				(uint64_t)(uintptr_t)cbase + AGENT_OFF_SLOW_INSN + 2;
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.val = 4242;
		(void)!ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	ok(seen, "the forked child's getppid came to the supervisor from the slow instruction");
	waitpid(h, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		"the child got the supervisor's answer; the copy's own call still went home (status %d)",
		WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(lfd);
	close(pfd);
	close(cp[0]);
	close(cp[1]);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_blake2b();
	test_poly1305();
	test_frames();
	test_codec();
	test_fixup_regs();
	test_derive();
	test_filter_prefix();
	test_blob();
	test_tamper();
	test_signal(false);
	test_signal(true);
	test_move();
	test_notif();
	return tap_done();
}
