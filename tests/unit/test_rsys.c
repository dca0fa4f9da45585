/* Unit tests: rsys/ (remote system call marshalling).
 *
 * The "remote process" is a fake memory: a byte array at a made-up base
 * address behind rsys_read_fn/rsys_write_fn, so any remote pointer that
 * leaked to the real kernel would fault. The "deputy" is this process:
 * each forwarded call is encoded from the fake memory, decoded, laid out
 * in a real scratch buffer, executed here with syscall(2), its reply
 * encoded and applied back to the fake memory. Each test then checks
 * the fake memory against what the native call produces.
 *
 *   test_rsys                        run the tests (TAP)
 *   test_rsys --write-corpus DIR     also write every request and reply
 *                                    as the fuzz_rsys seed corpus
 */
#include "rsys/rsys.h"
#include "tests/unit/tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* Shared with fuzz/fuzz_rsys.c: the fake memory's base address. */
#define FM_BASE 0x10000000ull
#define FM_SIZE (4u << 20)

static uint8_t *fm;   /* the fake process memory */
static size_t fm_brk; /* bump allocator */
static const char *corpus_dir;

static int fm_rd(void *ctx, uint64_t addr, void *dst, size_t len)
{
	if (addr < FM_BASE || addr - FM_BASE > FM_SIZE || len > FM_SIZE - (addr - FM_BASE))
		return -EFAULT;
	memcpy(dst, fm + (addr - FM_BASE), len);
	return 0;
}

static int fm_wr(void *ctx, uint64_t addr, const void *src, size_t len)
{
	if (addr < FM_BASE || addr - FM_BASE > FM_SIZE || len > FM_SIZE - (addr - FM_BASE))
		return -EFAULT;
	memcpy(fm + (addr - FM_BASE), src, len);
	return 0;
}

static void fm_reset(void)
{
	memset(fm, 0x5a, fm_brk);
	fm_brk = 0;
}

/* n bytes of fake memory filled with 0x5a: its remote address */
static uint64_t fm_alloc(size_t n)
{
	uint64_t a = FM_BASE + fm_brk;

	fm_brk += (n + 15) & ~(size_t)15;
	if (fm_brk > FM_SIZE)
		abort();
	return a;
}

static void *H(uint64_t addr)
{
	return fm + (addr - FM_BASE);
}

static uint64_t fm_put(const void *p, size_t n)
{
	uint64_t a = fm_alloc(n);

	memcpy(H(a), p, n);
	return a;
}

static uint64_t fm_str(const char *s)
{
	return fm_put(s, strlen(s) + 1);
}

static bool untouched(uint64_t addr, size_t n)
{
	const uint8_t *p = H(addr);

	for (size_t i = 0; i < n; i++)
		if (p[i] != 0x5a)
			return false;
	return true;
}

/* at most 3 seeds of each kind per system call */
static void corpus_write(
	const char *kind, long nr, const void *hdr, size_t hlen, const void *body, size_t blen)
{
	static uint8_t count[2][512];
	uint8_t *cnt = &count[kind[2] == 'p'][nr & 511];
	char path[PATH_MAX];
	const char *name = rsys_name(nr);
	FILE *f;

	if (!corpus_dir || *cnt >= 3)
		return;
	snprintf(path, sizeof(path), "%s/%s-%s-%u", corpus_dir, kind, name ? name : "x",
		(unsigned)(*cnt)++);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(hdr, 1, hlen, f);
	fwrite(body, 1, blen, f);
	fclose(f);
}

/* fuzz_rsys input, mode 1: 0x01, u32 nr, u64 args[6], u32 memlen, memory
 * (at FM_BASE), reply; all big-endian. */
static void corpus_reply(long nr, const uint64_t a[6], const uint8_t *rep, size_t len)
{
	uint8_t *h;
	size_t hl = 1 + 4 + 48 + 4 + fm_brk, o = 0;

	if (!corpus_dir || fm_brk > (16u << 10) || (rep[16] == 0 && rep[17] == 0))
		return; /* small memories, replies that carry output */
	h = malloc(hl);
	h[o++] = 1;
	for (int s = 24; s >= 0; s -= 8)
		h[o++] = (uint8_t)((uint64_t)nr >> s);
	for (int i = 0; i < 6; i++)
		for (int s = 56; s >= 0; s -= 8)
			h[o++] = (uint8_t)(a[i] >> s);
	for (int s = 24; s >= 0; s -= 8)
		h[o++] = (uint8_t)(fm_brk >> s);
	memcpy(h + o, fm, fm_brk);
	corpus_write("rep", nr, h, hl, rep, len);
	free(h);
}

static uint8_t reqbuf[RSYS_MAX_REQ], repbuf[RSYS_MAX_REQ];
static size_t req_len, rep_len;
static uint64_t last_args[6];

#define DEPUTY_FAILED LONG_MIN

/* The whole round trip for one call; returns what the process sees. */
static long forward(long nr, const uint64_t a[6])
{
	struct rsys_call *c;
	uint64_t hargs[6];
	size_t sz, off, wl, il;
	const uint8_t *img;
	uint8_t *scratch;
	long ret, pret = DEPUTY_FAILED;
	int r;

	memcpy(last_args, a, sizeof(last_args));
	r = rsys_req_encode(nr, a, fm_rd, NULL, reqbuf, sizeof(reqbuf), &req_len);
	if (r)
		return r;
	if (req_len < 4096) {
		uint8_t m = 0;

		corpus_write("req", nr, &m, 1, reqbuf, req_len);
	}
	r = rsys_req_decode(reqbuf, req_len, &c);
	if (!ok(r == 0, "%s: decode (%d)", rsys_name(nr), r))
		return DEPUTY_FAILED;
	sz = rsys_call_scratch_size(c);
	scratch = aligned_alloc(64, (sz + 64) & ~(size_t)63);
	memset(scratch, 0xa5, sz); /* stale scratch: output must not depend on it */
	r = rsys_call_layout(c, (uint64_t)(uintptr_t)scratch, sz);
	if (!ok(r == 0, "%s: layout (%d)", rsys_name(nr), r))
		goto out;
	img = rsys_call_scratch_in(c, &il);
	rsys_call_write_range(c, &off, &wl);
	if (!ok(il == sz && off + wl == sz && rsys_call_read_len(c) <= sz, "%s: ranges",
		    rsys_name(nr)))
		goto out;
	memcpy(scratch + off, img + off, wl);
	rsys_call_args(c, hargs);
	ret = syscall(nr, hargs[0], hargs[1], hargs[2], hargs[3], hargs[4], hargs[5]);
	if (ret == -1)
		ret = -errno;
	r = rsys_reply_encode(
		c, ret, scratch, rsys_call_read_len(c), repbuf, sizeof(repbuf), &rep_len);
	if (!ok(r == 0, "%s: reply encode (%d)", rsys_name(nr), r))
		goto out;
	corpus_reply(nr, a, repbuf, rep_len);
	r = rsys_reply_apply(nr, a, repbuf, rep_len, fm_wr, fm_rd, NULL, &pret);
	if (!ok(r == 0 && pret == ret, "%s: reply apply (%d)", rsys_name(nr), r))
		pret = DEPUTY_FAILED;
out:
	rsys_call_free(c);
	free(scratch);
	return pret;
}

#define A(...) ((const uint64_t[6]){__VA_ARGS__})
#define FWD(nr, ...) forward(nr, A(__VA_ARGS__))
#define U(p) ((uint64_t)(uintptr_t)(p))

static char tmpdir[] = "/tmp/test_rsys.XXXXXX";
static char tmpfile_path[PATH_MAX];

static void test_classify(void)
{
	uint8_t b[64];
	size_t n;

	is_int(rsys_classify(SYS_read), RSYS_FORWARD, "read is forwarded");
	is_int(rsys_classify(SYS_openat), RSYS_FORWARD, "openat is forwarded");
	is_int(rsys_classify(SYS_getppid), RSYS_FORWARD, "getppid is forwarded");
	is_int(rsys_classify(SYS_wait4), RSYS_FORWARD, "wait4 is forwarded");
	is_int(rsys_classify(SYS_ioctl), RSYS_FORWARD, "ioctl is forwarded");
	is_int(rsys_classify(SYS_brk), RSYS_LOCAL, "brk is local");
	is_int(rsys_classify(SYS_futex), RSYS_LOCAL, "futex is local");
	is_int(rsys_classify(SYS_rt_sigaction), RSYS_LOCAL, "rt_sigaction is local");
	is_int(rsys_classify(SYS_clock_gettime), RSYS_LOCAL, "clock_gettime is local");
	is_int(rsys_classify(SYS_mmap), RSYS_SPECIAL, "mmap is special");
	is_int(rsys_classify(SYS_getpid), RSYS_SPECIAL, "getpid is special");
	is_int(rsys_classify(SYS_exit_group), RSYS_SPECIAL, "exit_group is special");
	is_int(rsys_classify(SYS_clone3), RSYS_SPECIAL, "clone3 is special");
	is_int(rsys_classify(SYS_tgkill), RSYS_SPECIAL, "tgkill is special");
	is_int(rsys_classify(SYS_io_uring_setup), RSYS_DENY, "io_uring_setup is denied");
	is_int(rsys_classify(SYS_bpf), RSYS_DENY, "bpf is denied");
	is_int(rsys_classify(SYS_reboot), RSYS_DENY, "reboot (not in the table) is denied");
	is_int(rsys_classify(-1), RSYS_DENY, "-1 is denied");
	is_int(rsys_classify(100000), RSYS_DENY, "100000 is denied");
	is_str(rsys_name(SYS_read), "read", "name of 0");
	is_str(rsys_name(SYS_newfstatat), "newfstatat", "name of newfstatat");
	ok(rsys_name(-5) == NULL && rsys_name(4000) == NULL, "no name out of range");
	is_str(rsys_class_name(RSYS_SPECIAL), "special", "class name");
	is_int(rsys_max_io(), RSYS_MAX_IO, "rsys_max_io");
	is_int(rsys_req_encode(SYS_mmap, A(0), fm_rd, NULL, b, sizeof(b), &n), -ENOSYS,
		"encoding a special call: -ENOSYS");
	is_int(rsys_req_encode(SYS_read, A(0, 0, 0), fm_rd, NULL, b, 8, &n), -ENOBUFS,
		"encoding into a tiny buffer: -ENOBUFS");
}

static int pfd[2] = {-1, -1};

static void test_pipe_rw(void)
{
	uint64_t fds, buf, iov, v[3];
	char got[64];
	struct iovec hv[3];
	long r;

	fm_reset();
	fds = fm_alloc(8);
	r = FWD(SYS_pipe2, fds, O_CLOEXEC);
	memcpy(pfd, H(fds), sizeof(pfd));
	ok(r == 0 && fcntl(pfd[0], F_GETFD) == FD_CLOEXEC && fcntl(pfd[1], F_GETFL) == O_WRONLY,
		"pipe2: the fds come back and are real home fds");

	buf = fm_str("hello world");
	is_int(FWD(SYS_write, pfd[1], buf, 11), 11, "write: 11 bytes");
	buf = fm_alloc(64);
	is_int(FWD(SYS_read, pfd[0], buf, 64), 11, "read: 11 bytes");
	ok(!memcmp(H(buf), "hello world", 11) && untouched(buf + 11, 53),
		"read: data in place, nothing written past ret");

	/* writev with 3 iovecs */
	fm_reset();
	v[0] = fm_put("abc", 3);
	v[1] = fm_put("", 0);
	v[2] = fm_put("defghij", 7);
	iov = fm_alloc(48);
	for (int i = 0; i < 3; i++) {
		uint64_t e[2] = {v[i], i == 0 ? 3u : i == 1 ? 0u : 7u};

		memcpy(H(iov + 16 * i), e, 16);
	}
	is_int(FWD(SYS_writev, pfd[1], iov, 3), 10, "writev: 3 iovecs, 10 bytes");
	/* readv into 2 + 3 + 100 */
	v[0] = fm_alloc(2);
	v[1] = fm_alloc(3);
	v[2] = fm_alloc(100);
	for (int i = 0; i < 3; i++) {
		uint64_t e[2] = {v[i], i == 0 ? 2u : i == 1 ? 3u : 100u};

		memcpy(H(iov + 16 * i), e, 16);
	}
	is_int(FWD(SYS_readv, pfd[0], iov, 3), 10, "readv: 10 bytes");
	ok(!memcmp(H(v[0]), "ab", 2) && !memcmp(H(v[1]), "cde", 3) &&
			!memcmp(H(v[2]), "fghij", 5) && untouched(v[2] + 5, 95),
		"readv: scattered over the iovecs like the kernel does");
	is_int(FWD(SYS_readv, pfd[0], iov, 1025), -EINVAL, "readv: 1025 iovecs is -EINVAL");
	is_int(FWD(SYS_writev, pfd[1], FM_BASE + FM_SIZE - 8, 1), -EFAULT,
		"writev: a bad iovec array is -EFAULT");

	/* the same through native calls agrees */
	hv[0] = (struct iovec){got, 4};
	if (write(pfd[1], "xyzw", 4) == 4 && readv(pfd[0], hv, 1) == 4)
		ok(!memcmp(got, "xyzw", 4), "native pipe still consistent");

	{
		int z = open("/dev/zero", O_RDONLY);

		is_int(FWD(SYS_read, z, 0, 10), -EFAULT,
			"read into NULL: the home kernel says -EFAULT");
		close(z);
	}
	is_int(FWD(SYS_write, pfd[1], FM_BASE + FM_SIZE - 4, 8), -EFAULT,
		"write from a bad buffer: -EFAULT without forwarding");
}

static void test_big_io(void)
{
	uint64_t buf;
	int fd;
	size_t big = 2u << 20;
	struct stat st;
	char *back;

	fm_reset();
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/big", tmpdir);
	fd = open(tmpfile_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	buf = fm_alloc(big);
	for (size_t i = 0; i < big; i++)
		((uint8_t *)H(buf))[i] = (uint8_t)(i * 7);
	is_int(FWD(SYS_write, fd, buf, big), RSYS_MAX_IO, "write of 2 MiB is clamped to RSYS_MAX_IO");
	back = malloc(RSYS_MAX_IO);
	ok(fstat(fd, &st) == 0 && st.st_size == RSYS_MAX_IO &&
			pread(fd, back, RSYS_MAX_IO, 0) == RSYS_MAX_IO &&
			!memcmp(back, H(buf), RSYS_MAX_IO),
		"the file holds the first RSYS_MAX_IO bytes");
	memset(H(buf), 0x5a, big);
	is_int(FWD(SYS_pread64, fd, buf, big, 0), RSYS_MAX_IO, "pread64 of 2 MiB: RSYS_MAX_IO");
	ok(!memcmp(back, H(buf), RSYS_MAX_IO) && untouched(buf + RSYS_MAX_IO, 64),
		"pread64: the data, nothing past it");
	free(back);
	close(fd);
	unlink(tmpfile_path);
}

static void test_files(void)
{
	uint64_t path, buf, buf2;
	struct stat st;
	struct statfs sf;
	char cwd[PATH_MAX];
	long fd;

	fm_reset();
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/file", tmpdir);
	path = fm_str(tmpfile_path);
	fd = FWD(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL, 0640);
	ok(fd >= 0 && fcntl((int)fd, F_GETFL) >= 0, "openat: a real fd");
	buf = fm_str("0123456789");
	is_int(FWD(SYS_pwrite64, fd, buf, 10, 0), 10, "pwrite64");
	is_int(FWD(SYS_lseek, fd, 5, SEEK_SET), 5, "lseek");
	buf = fm_alloc(16);
	is_int(FWD(SYS_read, fd, buf, 16), 5, "read after lseek: 5 bytes");
	ok(!memcmp(H(buf), "56789", 5), "read: the data");

	buf = fm_alloc(sizeof(st));
	is_int(FWD(SYS_fstat, fd, buf), 0, "fstat");
	fstat((int)fd, &st);
	ok(!memcmp(H(buf), &st, sizeof(st)), "fstat: identical to native");
	buf2 = fm_alloc(sizeof(st));
	is_int(FWD(SYS_newfstatat, AT_FDCWD, path, buf2, 0), 0, "newfstatat");
	ok(!memcmp(H(buf2), &st, sizeof(st)), "newfstatat: identical to native fstat");
	is_int(FWD(SYS_stat, path, buf2), 0, "stat");
	ok(!memcmp(H(buf2), &st, sizeof(st)), "stat: identical");
	buf2 = fm_alloc(256);
	is_int(FWD(SYS_statx, AT_FDCWD, path, 0, STATX_BASIC_STATS, buf2), 0, "statx");
	{
		struct statx sx;

		syscall(SYS_statx, AT_FDCWD, tmpfile_path, 0, STATX_BASIC_STATS, &sx);
		ok(((struct statx *)H(buf2))->stx_ino == sx.stx_ino &&
				((struct statx *)H(buf2))->stx_size == 10,
			"statx: ino and size");
	}
	buf2 = fm_alloc(sizeof(sf));
	is_int(FWD(SYS_fstatfs, fd, buf2), 0, "fstatfs");
	fstatfs((int)fd, &sf);
	ok(((struct statfs *)H(buf2))->f_type == sf.f_type, "fstatfs: f_type");
	is_int(FWD(SYS_faccessat, AT_FDCWD, path, R_OK), 0, "faccessat");
	is_int(FWD(SYS_close, fd), 0, "close");
	ok(fcntl((int)fd, F_GETFD) < 0 && errno == EBADF, "close: the home fd is gone");

	is_int(FWD(SYS_openat, AT_FDCWD, fm_str("/nonexistent/x"), O_RDONLY), -ENOENT,
		"openat of a missing file: -ENOENT from home");
	is_int(FWD(SYS_open, FM_BASE + FM_SIZE - 2, O_RDONLY), -EFAULT,
		"open with a path running off the memory: -EFAULT");
	buf = fm_alloc(5000);
	memset(H(buf), 'a', 5000);
	is_int(FWD(SYS_open, buf, O_RDONLY), -ENAMETOOLONG, "a path of 5000 bytes: -ENAMETOOLONG");

	/* getcwd, chdir, fchdir */
	buf = fm_alloc(PATH_MAX);
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	is_int(FWD(SYS_getcwd, buf, PATH_MAX), (long)strlen(cwd) + 1, "getcwd: length with NUL");
	ok(!strcmp(H(buf), cwd) && untouched(buf + strlen(cwd) + 1, 16), "getcwd: the path");
	buf2 = fm_alloc(8);
	is_int(FWD(SYS_getcwd, buf2, 1), -ERANGE, "getcwd too small: -ERANGE");
	ok(untouched(buf2, 8), "getcwd -ERANGE: nothing written");
	is_int(FWD(SYS_chdir, fm_str(tmpdir)), 0, "chdir");
	{
		char now[PATH_MAX];

		ok(getcwd(now, sizeof(now)) && !strcmp(now, tmpdir), "chdir: home cwd changed");
	}
	is_int(FWD(SYS_chdir, fm_str(cwd)), 0, "chdir back");

	/* mkdir, rename, readlink, symlink, unlink */
	is_int(FWD(SYS_mkdirat, AT_FDCWD, fm_str("/tmp/../tmp"), 0700), -EEXIST,
		"mkdirat: -EEXIST");
	{
		char a[PATH_MAX], b[PATH_MAX];

		snprintf(a, sizeof(a), "%s/file", tmpdir);
		snprintf(b, sizeof(b), "%s/link", tmpdir);
		is_int(FWD(SYS_symlink, fm_str("file"), fm_str(b)), 0, "symlink");
		buf = fm_alloc(64);
		is_int(FWD(SYS_readlink, fm_str(b), buf, 64), 4, "readlink: 4");
		ok(!memcmp(H(buf), "file", 4) && untouched(buf + 4, 60), "readlink: the target");
		is_int(FWD(SYS_readlink, fm_str(b), buf, -1), -EINVAL,
			"readlink with a negative size: -EINVAL");
		is_int(FWD(SYS_unlink, fm_str(b)), 0, "unlink");
		snprintf(b, sizeof(b), "%s/file2", tmpdir);
		is_int(FWD(SYS_renameat2, AT_FDCWD, fm_str(a), AT_FDCWD, fm_str(b), 0), 0,
			"renameat2");
		ok(access(b, F_OK) == 0 && access(a, F_OK) < 0, "renameat2: done at home");
		is_int(FWD(SYS_unlinkat, AT_FDCWD, fm_str(b), 0), 0, "unlinkat");
	}
}

static void test_dirents(void)
{
	uint64_t buf;
	long fd, n;
	int nfd;
	char native[4096];
	long nn;

	fm_reset();
	close(open(tmpfile_path, O_CREAT | O_WRONLY, 0600));
	fd = FWD(SYS_open, fm_str(tmpdir), O_RDONLY | O_DIRECTORY);
	nfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	buf = fm_alloc(4096);
	n = FWD(SYS_getdents64, fd, buf, 4096);
	memset(native, 0xa5, sizeof(native)); /* dirent padding is left as it was: like scratch */
	nn = syscall(SYS_getdents64, nfd, native, sizeof(native));
	ok(n > 0 && n == nn && !memcmp(H(buf), native, (size_t)n) && untouched(buf + n, 16),
		"getdents64: identical to native (%ld bytes)", n);
	is_int(FWD(SYS_fchdir, fd), 0, "fchdir");
	{
		char now[PATH_MAX];

		ok(getcwd(now, sizeof(now)) && !strcmp(now, tmpdir), "fchdir: home cwd changed");
	}
	if (chdir("/") < 0)
		ok(0, "chdir /");
	FWD(SYS_close, fd);
	close(nfd);
	unlink(tmpfile_path);
}

static void test_dup_fcntl(void)
{
	uint64_t fl;
	long fd;
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	int sync[2], f;
	pid_t child;
	char c;

	fm_reset();
	fd = FWD(SYS_dup, pfd[0]);
	ok(fd > pfd[1] && fcntl((int)fd, F_GETFL) == O_RDONLY, "dup");
	is_int(FWD(SYS_dup2, fd, 200), 200, "dup2");
	is_int(FWD(SYS_dup3, fd, 201, O_CLOEXEC), 201, "dup3");
	ok(fcntl(201, F_GETFD) == FD_CLOEXEC, "dup3: O_CLOEXEC at home");
	is_int(FWD(SYS_fcntl, 201, F_GETFL), fcntl(201, F_GETFL), "fcntl F_GETFL");
	is_int(FWD(SYS_fcntl, 201, F_SETFL, O_NONBLOCK), 0, "fcntl F_SETFL");
	ok(fcntl(201, F_GETFL) & O_NONBLOCK, "fcntl F_SETFL: set at home");
	is_int(FWD(SYS_fcntl, 201, F_DUPFD_CLOEXEC, 300), 300, "fcntl F_DUPFD_CLOEXEC");
	is_int(FWD(SYS_fcntl, 201, 0x7fff), -EINVAL, "fcntl with an unknown command: -EINVAL");
	FWD(SYS_close, 200);
	FWD(SYS_close, 201);
	FWD(SYS_close, 300);
	FWD(SYS_close, fd);

	/* F_GETLK against a lock a child holds */
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/lock", tmpdir);
	f = open(tmpfile_path, O_RDWR | O_CREAT, 0600);
	if (pipe(sync) < 0)
		return;
	child = fork();
	if (child == 0) {
		fcntl(f, F_SETLK, &lk);
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(sync[0], &c, 1) != 1)
		ok(0, "child sync");
	lk.l_type = F_RDLCK;
	fl = fm_put(&lk, sizeof(lk));
	is_int(FWD(SYS_fcntl, f, F_GETLK, fl), 0, "fcntl F_GETLK");
	ok(((struct flock *)H(fl))->l_type == F_WRLCK && ((struct flock *)H(fl))->l_pid == child &&
			((struct flock *)H(fl))->l_len == 10,
		"F_GETLK: the child's write lock");
	lk.l_type = F_WRLCK;
	fl = fm_put(&lk, sizeof(lk));
	is_int(FWD(SYS_fcntl, f, F_SETLK, fl), -EAGAIN, "fcntl F_SETLK: -EAGAIN (conflict)");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(sync[0]);
	close(sync[1]);
	close(f);
	unlink(tmpfile_path);
}

static void test_ioctl(void)
{
	uint64_t n, ws;
	struct winsize w = {.ws_row = 42, .ws_col = 132}, w2;
	int m, s;
	uint8_t kt[36];

	fm_reset();
	if (write(pfd[1], "1234567", 7) != 7)
		ok(0, "pipe write");
	n = fm_alloc(8);
	is_int(FWD(SYS_ioctl, pfd[0], FIONREAD, n), 0, "ioctl FIONREAD");
	ok(*(int *)H(n) == 7 && untouched(n + 4, 4), "FIONREAD: 7 bytes, 4 written");
	{
		char drain[8];

		if (read(pfd[0], drain, 7) != 7)
			ok(0, "drain");
	}
	is_int(FWD(SYS_ioctl, pfd[0], 0x12345678, n), -ENOTTY, "unknown ioctl: -ENOTTY");

	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		ok(1, "# SKIP no pty");
		return;
	}
	ws = fm_put(&w, sizeof(w));
	is_int(FWD(SYS_ioctl, m, TIOCSWINSZ, ws), 0, "ioctl TIOCSWINSZ");
	ws = fm_alloc(sizeof(w));
	is_int(FWD(SYS_ioctl, m, TIOCGWINSZ, ws), 0, "ioctl TIOCGWINSZ");
	ioctl(m, TIOCGWINSZ, &w2);
	ok(!memcmp(H(ws), &w2, sizeof(w2)) && w2.ws_row == 42 && w2.ws_col == 132,
		"TIOCGWINSZ: 42x132 like native");
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	n = fm_alloc(64);
	is_int(FWD(SYS_ioctl, s, TCGETS, n), 0, "ioctl TCGETS");
	ioctl(s, TCGETS, kt);
	ok(!memcmp(H(n), kt, 36) && untouched(n + 36, 28), "TCGETS: the kernel's 36 bytes");
	is_int(FWD(SYS_ioctl, s, TCSETS, n), 0, "ioctl TCSETS");
	n = fm_alloc(4);
	is_int(FWD(SYS_ioctl, m, TIOCGPTN, n), 0, "ioctl TIOCGPTN");
	{
		unsigned ptn;

		ioctl(m, TIOCGPTN, &ptn);
		ok(*(unsigned *)H(n) == ptn, "TIOCGPTN: the pty number");
	}
	is_int(FWD(SYS_ioctl, pfd[0], TCGETS, n), -ENOTTY, "TCGETS on a pipe: -ENOTTY from home");
	close(s);
	close(m);
}

static void test_poll_select(void)
{
	uint64_t fds, rs, ws, tv, ts, sp, mask;
	struct pollfd p[2] = {{pfd[0], POLLIN, 0x7777}, {pfd[1], POLLOUT, 0}};
	fd_set r, w;
	int nfds = MAX(pfd[0], pfd[1]) + 1;
	struct timeval t0 = {0, 0};
	struct timespec z = {0, 0};
	uint64_t sigs = 0;
	char c;

	fm_reset();
	fds = fm_put(p, sizeof(p));
	is_int(FWD(SYS_poll, fds, 2, 0), 1, "poll: only the write end is ready");
	ok(((struct pollfd *)H(fds))[0].revents == 0 &&
			((struct pollfd *)H(fds))[1].revents == POLLOUT &&
			((struct pollfd *)H(fds))[0].fd == pfd[0],
		"poll: revents like native");
	if (write(pfd[1], "z", 1) != 1)
		ok(0, "pipe write");
	is_int(FWD(SYS_poll, fds, 2, 1000), 2, "poll: both ready");
	ok(((struct pollfd *)H(fds))[0].revents == POLLIN, "poll: POLLIN");
	ts = fm_put(&z, sizeof(z));
	mask = fm_put(&sigs, 8);
	is_int(FWD(SYS_ppoll, fds, 2, ts, mask, 8), 2, "ppoll with a timeout and a mask");

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(pfd[0], &r);
	FD_SET(pfd[1], &w);
	FD_SET(pfd[1], &r);
	rs = fm_put(&r, sizeof(r));
	ws = fm_put(&w, sizeof(w));
	tv = fm_put(&t0, sizeof(t0));
	is_int(FWD(SYS_select, nfds, rs, ws, 0, tv), 2, "select: 2 ready");
	select(nfds, &r, &w, NULL, &t0);
	ok(!memcmp(H(rs), &r, (size_t)(nfds + 63) / 64 * 8) &&
			!memcmp(H(ws), &w, (size_t)(nfds + 63) / 64 * 8),
		"select: the sets like native");
	FD_ZERO(&r);
	FD_SET(pfd[0], &r);
	rs = fm_put(&r, sizeof(r));
	{
		uint64_t pair[2] = {mask, 8};

		sp = fm_put(pair, 16);
	}
	ts = fm_put(&z, sizeof(z));
	is_int(FWD(SYS_pselect6, nfds, rs, 0, 0, ts, sp), 1, "pselect6 with a sigmask");
	ok(FD_ISSET(pfd[0], (fd_set *)H(rs)), "pselect6: the set");
	{
		uint64_t pair[2] = {mask, 7};

		sp = fm_put(pair, 16);
	}
	is_int(FWD(SYS_pselect6, nfds, rs, 0, 0, ts, sp), -EINVAL, "pselect6 bad sigset size");
	if (read(pfd[0], &c, 1) != 1)
		ok(0, "drain");
	is_int(FWD(SYS_select, -1, 0, 0, 0, 0), -EINVAL, "select with nfds -1: -EINVAL");
}

static void test_epoll(void)
{
	uint64_t ev, evs;
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ull};
	long ep;
	char c;

	fm_reset();
	ep = FWD(SYS_epoll_create1, EPOLL_CLOEXEC);
	ok(ep >= 0, "epoll_create1");
	ev = fm_put(&e, sizeof(e));
	is_int(FWD(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, pfd[0], ev), 0, "epoll_ctl ADD");
	evs = fm_alloc(4 * sizeof(e));
	is_int(FWD(SYS_epoll_wait, ep, evs, 4, 0), 0, "epoll_wait: nothing");
	ok(untouched(evs, 4 * sizeof(e)), "epoll_wait 0: nothing written");
	if (write(pfd[1], "q", 1) != 1)
		ok(0, "pipe write");
	is_int(FWD(SYS_epoll_wait, ep, evs, 4, 1000), 1, "epoll_wait: 1 event");
	ok(((struct epoll_event *)H(evs))->data.u64 == e.data.u64 &&
			((struct epoll_event *)H(evs))->events == EPOLLIN &&
			untouched(evs + 12, 36),
		"epoll_wait: the event, 12 bytes");
	is_int(FWD(SYS_epoll_wait, ep, evs, -1, 0), -EINVAL, "epoll_wait maxevents -1: -EINVAL");
	is_int(FWD(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, pfd[0], 0), 0, "epoll_ctl DEL with NULL");
	if (read(pfd[0], &c, 1) != 1)
		ok(0, "drain");
	FWD(SYS_close, ep);
}

static void sun_abstract(struct sockaddr_un *sa, socklen_t *len, const char *tag)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "rsys-%s-%d", tag, (int)getpid());
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa->sun_path + 1));
}

static void test_sockets(void)
{
	struct sockaddr_un sa, sb, nat;
	socklen_t la, lb, ln = sizeof(nat);
	uint64_t addr, lenp, buf, sv;
	long a, b, l, c, x;
	int one = 1;

	fm_reset();
	sun_abstract(&sa, &la, "a");
	sun_abstract(&sb, &lb, "b");
	a = FWD(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
	b = FWD(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
	ok(a >= 0 && b >= 0, "socket x2");
	is_int(FWD(SYS_bind, a, fm_put(&sa, la), la), 0, "bind a");
	is_int(FWD(SYS_bind, b, fm_put(&sb, lb), lb), 0, "bind b");
	is_int(FWD(SYS_bind, b, fm_put(&sb, lb), 129), -EINVAL, "bind with addrlen 129: -EINVAL");
	is_int(FWD(SYS_sendto, a, fm_str("datagram"), 8, 0, fm_put(&sb, lb), lb), 8, "sendto");
	buf = fm_alloc(64);
	addr = fm_alloc(sizeof(sa));
	lenp = fm_alloc(4);
	*(socklen_t *)H(lenp) = sizeof(sa);
	is_int(FWD(SYS_recvfrom, b, buf, 64, 0, addr, lenp), 8, "recvfrom");
	ok(!memcmp(H(buf), "datagram", 8) && untouched(buf + 8, 56), "recvfrom: the data");
	ok(*(socklen_t *)H(lenp) == la && !memcmp(H(addr), &sa, la) && untouched(addr + la, 4),
		"recvfrom: the sender's address and its length");

	/* getsockname, also with a short buffer */
	*(socklen_t *)H(lenp) = sizeof(sa);
	is_int(FWD(SYS_getsockname, b, addr, lenp), 0, "getsockname");
	getsockname((int)b, (struct sockaddr *)&nat, &ln);
	ok(*(socklen_t *)H(lenp) == ln && !memcmp(H(addr), &nat, ln), "getsockname: like native");
	addr = fm_alloc(16);
	*(socklen_t *)H(lenp) = 4;
	is_int(FWD(SYS_getsockname, b, addr, lenp), 0, "getsockname into 4 bytes");
	ok(*(socklen_t *)H(lenp) == ln && !memcmp(H(addr), &nat, 4) && untouched(addr + 4, 12),
		"getsockname short: 4 bytes written, full length returned");
	is_int(FWD(SYS_getsockname, b, addr, FM_BASE - 64), -EFAULT,
		"getsockname with a bad length pointer: -EFAULT");

	/* getsockopt / setsockopt */
	buf = fm_alloc(8);
	*(socklen_t *)H(lenp) = 8;
	is_int(FWD(SYS_getsockopt, a, SOL_SOCKET, SO_TYPE, buf, lenp), 0, "getsockopt SO_TYPE");
	ok(*(int *)H(buf) == SOCK_DGRAM && *(socklen_t *)H(lenp) == 4, "getsockopt: SOCK_DGRAM, 4");
	is_int(FWD(SYS_setsockopt, a, SOL_SOCKET, SO_PASSCRED, fm_put(&one, 4), 4), 0,
		"setsockopt SO_PASSCRED");
	FWD(SYS_close, a);
	FWD(SYS_close, b);

	/* stream: listen, connect, accept4 */
	l = FWD(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	is_int(FWD(SYS_bind, l, fm_put(&sa, la), la), 0, "bind a listener");
	is_int(FWD(SYS_listen, l, 4), 0, "listen");
	c = FWD(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	is_int(FWD(SYS_connect, c, fm_put(&sa, la), la), 0, "connect");
	addr = fm_alloc(sizeof(sa));
	*(socklen_t *)H(lenp) = sizeof(sa);
	x = FWD(SYS_accept4, l, addr, lenp, SOCK_CLOEXEC);
	ok(x >= 0 && fcntl((int)x, F_GETFD) == FD_CLOEXEC, "accept4: a home fd");
	ok(*(socklen_t *)H(lenp) == sizeof(sa_family_t) &&
			((struct sockaddr_un *)H(addr))->sun_family == AF_UNIX,
		"accept4: an unnamed peer");
	is_int(FWD(SYS_shutdown, c, SHUT_WR), 0, "shutdown");
	FWD(SYS_close, c);
	FWD(SYS_close, x);
	FWD(SYS_close, l);

	/* socketpair */
	sv = fm_alloc(8);
	is_int(FWD(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
	{
		int *s = H(sv);

		ok(write(s[0], "p", 1) == 1 && read(s[1], &one, 1) == 1, "socketpair: connected");
		close(s[0]);
		close(s[1]);
	}
}

static void test_msg(void)
{
	uint64_t sv, msg, iov, v0, v1, ctl, name;
	struct msghdr m = {0};
	struct cmsghdr *cm;
	uint64_t e[4];
	uint8_t cbuf[CMSG_SPACE(sizeof(int))] = {0};
	int s[2], got;
	struct stat st1, st2;
	struct sockaddr_un sa, sb;
	socklen_t la, lb;
	long a, b;

	fm_reset();
	sv = fm_alloc(8);
	is_int(FWD(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair for msgs");
	memcpy(s, H(sv), sizeof(s));

	/* sendmsg: 2 iovecs + SCM_RIGHTS of the pipe's read end */
	v0 = fm_put("head-", 5);
	v1 = fm_put("tail", 4);
	e[0] = v0, e[1] = 5, e[2] = v1, e[3] = 4;
	iov = fm_put(e, sizeof(e));
	cm = (struct cmsghdr *)cbuf;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pfd[0], sizeof(int));
	ctl = fm_put(cbuf, sizeof(cbuf));
	m.msg_iov = (struct iovec *)(uintptr_t)iov;
	m.msg_iovlen = 2;
	m.msg_control = (void *)(uintptr_t)ctl;
	m.msg_controllen = sizeof(cbuf);
	msg = fm_put(&m, sizeof(m));
	is_int(FWD(SYS_sendmsg, s[0], msg, 0), 9, "sendmsg: 9 bytes + SCM_RIGHTS");

	/* recvmsg: 3 + 100 bytes, control space for 2 fds */
	v0 = fm_alloc(3);
	v1 = fm_alloc(100);
	e[0] = v0, e[1] = 3, e[2] = v1, e[3] = 100;
	iov = fm_put(e, sizeof(e));
	ctl = fm_alloc(CMSG_SPACE(2 * sizeof(int)));
	m.msg_iov = (struct iovec *)(uintptr_t)iov;
	m.msg_control = (void *)(uintptr_t)ctl;
	m.msg_controllen = CMSG_SPACE(2 * sizeof(int));
	m.msg_flags = 0x5a5a;
	msg = fm_put(&m, sizeof(m));
	is_int(FWD(SYS_recvmsg, s[1], msg, MSG_CMSG_CLOEXEC), 9, "recvmsg: 9 bytes");
	ok(!memcmp(H(v0), "hea", 3) && !memcmp(H(v1), "d-tail", 6) && untouched(v1 + 6, 94),
		"recvmsg: data scattered");
	{
		struct msghdr *rm = H(msg);
		struct cmsghdr *rc = H(ctl);

		/* the kernel reports MSG_CMSG_CLOEXEC back in msg_flags */
		ok(rm->msg_controllen == CMSG_SPACE(sizeof(int)) &&
				rm->msg_flags == MSG_CMSG_CLOEXEC && rc->cmsg_type == SCM_RIGHTS &&
				rc->cmsg_len == CMSG_LEN(sizeof(int)),
			"recvmsg: controllen, flags and the cmsg");
		memcpy(&got, CMSG_DATA(rc), sizeof(int));
		ok(fstat(got, &st1) == 0 && fstat(pfd[0], &st2) == 0 && st1.st_ino == st2.st_ino &&
				fcntl(got, F_GETFD) == FD_CLOEXEC,
			"SCM_RIGHTS: a new home fd for the same pipe");
		close(got);
		ok(rm->msg_iov == (void *)(uintptr_t)iov &&
				rm->msg_control == (void *)(uintptr_t)ctl,
			"recvmsg: the process's own pointers are left alone");
	}
	close(s[0]);
	close(s[1]);

	/* datagrams with names: sendmsg to a name, recvmsg with a name buffer */
	sun_abstract(&sa, &la, "ma");
	sun_abstract(&sb, &lb, "mb");
	a = FWD(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
	b = FWD(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
	FWD(SYS_bind, a, fm_put(&sa, la), la);
	FWD(SYS_bind, b, fm_put(&sb, lb), lb);
	memset(&m, 0, sizeof(m));
	m.msg_name = (void *)(uintptr_t)fm_put(&sb, lb);
	m.msg_namelen = lb;
	e[0] = fm_put("named", 5), e[1] = 5;
	m.msg_iov = (struct iovec *)(uintptr_t)fm_put(e, 16);
	m.msg_iovlen = 1;
	is_int(FWD(SYS_sendmsg, a, fm_put(&m, sizeof(m)), 0), 5, "sendmsg with a name");
	name = fm_alloc(sizeof(sa));
	v0 = fm_alloc(2);
	e[0] = v0, e[1] = 2;
	memset(&m, 0, sizeof(m));
	m.msg_name = (void *)(uintptr_t)name;
	m.msg_namelen = sizeof(sa);
	m.msg_iov = (struct iovec *)(uintptr_t)fm_put(e, 16);
	m.msg_iovlen = 1;
	msg = fm_put(&m, sizeof(m));
	is_int(FWD(SYS_recvmsg, b, msg, MSG_TRUNC), 5, "recvmsg MSG_TRUNC: the full length");
	{
		struct msghdr *rm = H(msg);

		ok(!memcmp(H(v0), "na", 2) && untouched(v0 + 2, 14), "recvmsg MSG_TRUNC: 2 bytes");
		ok(rm->msg_namelen == la && !memcmp(H(name), &sa, la) &&
				(rm->msg_flags & MSG_TRUNC) && rm->msg_controllen == 0,
			"recvmsg: the sender's name, MSG_TRUNC in flags");
	}
	FWD(SYS_close, a);
	FWD(SYS_close, b);
}

static void test_process(void)
{
	uint64_t st, ru, buf, r0, r1, r2, si;
	struct utsname un;
	struct rlimit rl;
	gid_t gr[256];
	uid_t ru0, ru1, ru2;
	pid_t child;
	int n;

	fm_reset();
	buf = fm_alloc(sizeof(un));
	is_int(FWD(SYS_uname, buf), 0, "uname");
	uname(&un);
	ok(!memcmp(H(buf), &un, sizeof(un)), "uname: identical to native");
	buf = fm_alloc(sizeof(rl));
	is_int(FWD(SYS_getrlimit, RLIMIT_NOFILE, buf), 0, "getrlimit");
	getrlimit(RLIMIT_NOFILE, &rl);
	ok(!memcmp(H(buf), &rl, sizeof(rl)), "getrlimit: identical");
	is_int(FWD(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, buf), 0, "prlimit64 (get only)");
	is_int(FWD(SYS_getppid), getppid(), "getppid");
	is_int(FWD(SYS_getuid), getuid(), "getuid");
	is_int(FWD(SYS_getpgrp), getpgrp(), "getpgrp");
	r0 = fm_alloc(4);
	r1 = fm_alloc(4);
	r2 = fm_alloc(4);
	is_int(FWD(SYS_getresuid, r0, r1, r2), 0, "getresuid");
	getresuid(&ru0, &ru1, &ru2);
	ok(*(uid_t *)H(r0) == ru0 && *(uid_t *)H(r1) == ru1 && *(uid_t *)H(r2) == ru2,
		"getresuid: the three ids");
	n = getgroups(256, gr);
	buf = fm_alloc(256 * 4);
	is_int(FWD(SYS_getgroups, 256, buf), n, "getgroups");
	ok(!memcmp(H(buf), gr, (size_t)n * 4) && untouched(buf + 4 * n, 8), "getgroups: the list");
	is_int(FWD(SYS_getgroups, 0, 0), n, "getgroups(0, NULL): the count");
	buf = fm_alloc(112);
	is_int(FWD(SYS_sysinfo, buf), 0, "sysinfo");
	ok(((struct sysinfo *)H(buf))->mem_unit > 0, "sysinfo: filled");

	/* wait4 on a child */
	st = fm_alloc(4);
	ru = fm_alloc(sizeof(struct rusage));
	is_int(FWD(SYS_wait4, -1, st, WNOHANG, ru), -ECHILD, "wait4 without children: -ECHILD");
	ok(untouched(st, 4) && untouched(ru, sizeof(struct rusage)), "-ECHILD: nothing written");
	child = fork();
	if (child == 0) {
		usleep(200000);
		_exit(42);
	}
	is_int(FWD(SYS_wait4, child, st, WNOHANG, ru), 0, "wait4 WNOHANG, child running: 0");
	ok(untouched(st, 4), "wait4 0: status not written");
	is_int(FWD(SYS_wait4, child, st, 0, ru), child, "wait4: the child");
	ok(WIFEXITED(*(int *)H(st)) && WEXITSTATUS(*(int *)H(st)) == 42, "wait4: exit status 42");
	child = fork();
	if (child == 0)
		_exit(7);
	si = fm_alloc(sizeof(siginfo_t));
	is_int(FWD(SYS_waitid, P_PID, child, si, WEXITED, 0), 0, "waitid");
	ok(((siginfo_t *)H(si))->si_pid == child && ((siginfo_t *)H(si))->si_status == 7 &&
			((siginfo_t *)H(si))->si_code == CLD_EXITED,
		"waitid: pid, status, code");
}

static void test_misc(void)
{
	uint64_t buf, off;
	long fd, fd2, tfd;
	char cbuf[8];

	fm_reset();
	/* umask, truncate, sendfile with an offset */
	is_int(FWD(SYS_umask, 022), umask(022), "umask");
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/sf", tmpdir);
	fd = FWD(SYS_open, fm_str(tmpfile_path), O_RDWR | O_CREAT | O_TRUNC, 0600);
	FWD(SYS_write, fd, fm_str("abcdefgh"), 8);
	off = fm_alloc(8);
	*(off_t *)H(off) = 2;
	is_int(FWD(SYS_sendfile, pfd[1], fd, off, 3), 3, "sendfile from offset 2");
	ok(*(off_t *)H(off) == 5, "sendfile: the offset moved to 5");
	ok(read(pfd[0], cbuf, 3) == 3 && !memcmp(cbuf, "cde", 3), "sendfile: cde");
	is_int(FWD(SYS_ftruncate, fd, 3), 0, "ftruncate");
	is_int(FWD(SYS_fsync, fd), 0, "fsync");
	is_int(FWD(SYS_lseek, fd, 0, SEEK_END), 3, "lseek SEEK_END after ftruncate");
	/* xattrs may be unsupported on /tmp: both answers come from home */
	buf = fm_alloc(64);
	fd2 = FWD(SYS_fgetxattr, fd, fm_str("user.none"), buf, 64);
	ok(fd2 == -ENODATA || fd2 == -ENOTSUP, "fgetxattr of a missing attribute: %ld", fd2);
	FWD(SYS_close, fd);
	is_int(FWD(SYS_unlink, fm_str(tmpfile_path)), 0, "unlink");

	/* timerfd */
	tfd = FWD(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC);
	{
		struct itimerspec its = {.it_value = {100, 0}};
		uint64_t nv = fm_put(&its, sizeof(its)), ov = fm_alloc(sizeof(its)),
			 cur = fm_alloc(sizeof(its));

		is_int(FWD(SYS_timerfd_settime, tfd, 0, nv, ov), 0, "timerfd_settime");
		is_int(FWD(SYS_timerfd_gettime, tfd, cur), 0, "timerfd_gettime");
		ok(((struct itimerspec *)H(cur))->it_value.tv_sec >= 98 &&
				((struct itimerspec *)H(ov))->it_value.tv_sec == 0,
			"timerfd: armed for ~100 s");
	}
	FWD(SYS_close, tfd);
}

/* Requests and replies that are wrong in every way are refused. */
static void test_garbage(void)
{
	uint8_t *req, *rep, *snap;
	size_t rl, pl;
	struct rsys_call *c;
	uint64_t iov, v[3], a[6];
	long ret;
	int bad = 0, okc = 0;

	fm_reset();
	v[0] = fm_alloc(4);
	v[1] = fm_alloc(8);
	v[2] = fm_alloc(16);
	iov = fm_alloc(48);
	for (int i = 0; i < 3; i++) {
		uint64_t e[2] = {v[i], 4u << i};

		memcpy(H(iov + 16 * i), e, 16);
	}
	if (write(pfd[1], "0123456789abcdefXYZ", 19) != 19)
		ok(0, "pipe write");
	is_int(FWD(SYS_readv, pfd[0], iov, 3), 19, "readv for the garbage test");
	memcpy(a, last_args, sizeof(a));
	req = malloc(req_len);
	rep = malloc(rep_len);
	memcpy(req, reqbuf, rl = req_len);
	memcpy(rep, repbuf, pl = rep_len);

	/* every truncation of the request */
	for (size_t n = 0; n < rl; n++) {
		uint8_t *t = malloc(n ? n : 1);

		memcpy(t, req, n);
		if (rsys_req_decode(t, n, &c) != -EBADMSG)
			bad++;
		free(t);
	}
	is_int(bad, 0, "every truncated request: -EBADMSG");
	/* one trailing byte too many */
	{
		uint8_t *t = malloc(rl + 1);

		memcpy(t, req, rl);
		t[rl] = 0;
		is_int(rsys_req_decode(t, rl + 1, &c), -EBADMSG, "trailing byte: -EBADMSG");
		free(t);
	}
	/* every single-byte corruption: refused, or accepted and still consistent */
	bad = 0;
	for (size_t i = 0; i < rl; i++) {
		uint8_t save = req[i];

		req[i] ^= 0x41;
		int r = rsys_req_decode(req, rl, &c);

		if (r == 0) {
			static uint8_t scratch[1 << 16] __attribute__((aligned(8)));

			okc++;
			if (rsys_call_scratch_size(c) > sizeof(scratch) ||
				rsys_call_layout(c, (uint64_t)(uintptr_t)scratch, sizeof(scratch)))
				bad++;
			rsys_call_free(c);
		} else if (r != -EBADMSG) {
			bad++;
		}
		req[i] = save;
	}
	is_int(bad, 0, "single-byte corruptions: -EBADMSG or a consistent call (%d decoded)", okc);
	/* specific lies */
	{
		uint8_t t[4096];

		memcpy(t, req, rl);
		t[8 + 2 * 8 + 7] = 4; /* args[2]: iovcnt 3 -> 4 */
		is_int(rsys_req_decode(t, rl, &c), -EBADMSG, "iovcnt arg disagreeing: -EBADMSG");
		memcpy(t, req, rl);
		t[0] ^= 1;
		is_int(rsys_req_decode(t, rl, &c), -EBADMSG, "bad magic: -EBADMSG");
		memcpy(t, req, rl);
		t[7] = SYS_mmap;
		is_int(rsys_req_decode(t, rl, &c), -EBADMSG, "not a forwarded call: -EBADMSG");
		memcpy(t, req, rl);
		t[57] = 2;
		is_int(rsys_req_decode(t, rl, &c), -EBADMSG, "section count wrong: -EBADMSG");
	}

	/* the reply: truncations, corruptions, wrong call; nothing written on failure */
	snap = malloc(fm_brk);
	memcpy(snap, fm, fm_brk);
	bad = 0;
	for (size_t n = 0; n < pl; n++) {
		if (rsys_reply_apply(SYS_readv, a, rep, n, fm_wr, fm_rd, NULL, &ret) != -EBADMSG)
			bad++;
	}
	is_int(bad, 0, "every truncated reply: -EBADMSG");
	ok(!memcmp(snap, fm, fm_brk), "failed applies wrote nothing");
	is_int(rsys_reply_apply(SYS_preadv, a, rep, pl, fm_wr, fm_rd, NULL, &ret), -EBADMSG,
		"a reply for another call: -EBADMSG");
	{
		uint64_t a2[6];

		memcpy(a2, a, sizeof(a2));
		a2[2] = 2;
		is_int(rsys_reply_apply(SYS_readv, a2, rep, pl, fm_wr, fm_rd, NULL, &ret), -EBADMSG,
			"a reply that does not fit the arguments: -EBADMSG");
		rep[8 + 7] = 20; /* ret 19 -> 20: more than the bytes carried */
		is_int(rsys_reply_apply(SYS_readv, a, rep, pl, fm_wr, fm_rd, NULL, &ret), -EBADMSG,
			"ret disagreeing with the data: -EBADMSG");
		rep[8 + 7] = 19;
	}
	bad = 0;
	for (size_t i = 0; i < pl; i++) {
		uint8_t save = rep[i];
		int r;

		rep[i] ^= 0x10;
		r = rsys_reply_apply(SYS_readv, a, rep, pl, fm_wr, fm_rd, NULL, &ret);
		if (r != 0 && r != -EBADMSG)
			bad++;
		rep[i] = save;
	}
	is_int(bad, 0, "single-byte reply corruptions: 0 or -EBADMSG");
	is_int(rsys_reply_apply(SYS_readv, a, rep, pl, fm_wr, fm_rd, NULL, &ret), 0,
		"the intact reply still applies");
	free(snap);
	free(req);
	free(rep);
}

static void test_layout(void)
{
	struct rsys_call *c;
	size_t rl, off, len;
	uint64_t buf;
	static uint8_t scratch[4096] __attribute__((aligned(8)));
	uint8_t rep[64];
	size_t pl;

	fm_reset();
	buf = fm_alloc(100);
	ok(rsys_req_encode(SYS_read, A(3, buf, 100), fm_rd, NULL, reqbuf, sizeof(reqbuf), &rl) ==
				0 &&
			rsys_req_decode(reqbuf, rl, &c) == 0,
		"read(3, buf, 100) encodes and decodes");
	is_int(rsys_call_scratch_size(c), 104, "read: 104 bytes of scratch");
	is_int(rsys_call_layout(c, (uint64_t)(uintptr_t)scratch, 100), -ENOSPC, "layout: -ENOSPC");
	is_int(rsys_call_layout(c, (uint64_t)(uintptr_t)scratch + 4, 4096), -EINVAL,
		"layout: misaligned base");
	ok(rsys_reply_encode(c, 5, scratch, 4096, rep, sizeof(rep), &pl) == -EINVAL,
		"reply before layout: -EINVAL");
	is_int(rsys_call_layout(c, 0x7000, 4096), 0, "layout");
	rsys_call_write_range(c, &off, &len);
	ok(off == 104 && len == 0 && rsys_call_read_len(c) == 104,
		"read: nothing to write in, 104 to read back");
	{
		uint64_t a[6];

		rsys_call_args(c, a);
		ok(a[0] == 3 && a[1] == 0x7000 && a[2] == 100, "read: args point into scratch");
	}
	ok(rsys_reply_encode(c, 100, scratch, 50, rep, sizeof(rep), &pl) == -EINVAL,
		"reply with a short scratch: -EINVAL");
	ok(rsys_reply_encode(c, 100, scratch, 4096, rep, 20, &pl) == -ENOBUFS,
		"reply into a tiny buffer: -ENOBUFS");
	ok(rsys_reply_encode(c, -EINTR, NULL, 0, rep, sizeof(rep), &pl) == 0 && pl == 20,
		"an error reply needs no scratch and carries no data");
	rsys_call_free(c);
	rsys_call_free(NULL);

	ok(rsys_req_encode(SYS_write, A(3, buf, 100), fm_rd, NULL, reqbuf, sizeof(reqbuf), &rl) ==
				0 &&
			rsys_req_decode(reqbuf, rl, &c) == 0 &&
			rsys_call_layout(c, 0x7000, 4096) == 0,
		"write(3, buf, 100)");
	rsys_call_write_range(c, &off, &len);
	ok(off == 0 && len == 104 && rsys_call_read_len(c) == 0, "write: all in, nothing back");
	rsys_call_free(c);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		corpus_dir = realpath(argv[2], NULL); /* the tests chdir */
	else if (argc != 1) {
		fprintf(stderr, "usage: test_rsys [--write-corpus DIR]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fm = malloc(FM_SIZE);
	memset(fm, 0x5a, FM_SIZE);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_classify();
	test_pipe_rw();
	test_big_io();
	test_files();
	test_dirents();
	test_dup_fcntl();
	test_ioctl();
	test_poll_select();
	test_epoll();
	test_sockets();
	test_msg();
	test_process();
	test_misc();
	test_garbage();
	test_layout();
	rmdir(tmpdir);
	free(fm);
	free((char *)corpus_dir);
	return tap_done();
}
