/* fmap: file mappings made after a move, of descriptors that live at home,
 * hold the file's contents, and survive further moves.
 *
 * Before the move: a data file of 5 pages and a tail (not a whole page),
 * opened read-only and read-write, and an anonymous mapping of 4 pages of
 * 0xaa. After the first SIGUSR1 (it runs at another node now):
 *   whole:  mmap(PROT_READ, MAP_PRIVATE) of the whole file: the bytes
 *           match the file's checksum, the rest of the last page is zero;
 *   offset: 2 pages at offset 1 page, PROT_READ|PROT_EXEC;
 *   fixed:  MAP_FIXED, writable, over pages 1-2 of the anonymous mapping
 *           (file offset 2 pages): pages 0 and 3 keep their 0xaa, a write
 *           to it does not reach the file;
 *   shared: a read-only MAP_SHARED mapping reads the file; a writable one
 *           is refused with ENODEV;
 *   libm:   dlopen("libm.so.6") (not loaded before) and its cos();
 * A private writable mapping of the file made before the move, with one
 * page written (and one only read), moves with the written page and the
 * file's own pages (the target maps those from the file): checked after
 * each move too.
 * it prints MAPPED and waits for a second SIGUSR1 (moved again meanwhile),
 * then checks every mapping again and calls cos() again. */
#include "victim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096
#define FILE_LEN (5 * PG + 1234)

static uint8_t pattern(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static bool all(const uint8_t *p, size_t n, uint8_t c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

static bool loaded(const char *name)
{
	char line[512];
	bool yes = false;
	FILE *f = fopen("/proc/self/maps", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, name))
			yes = true;
	if (f)
		fclose(f);
	return yes;
}

static uint8_t file[FILE_LEN];
static uint8_t *whole, *offs, *anon, *shro, *early;
static double (*cosp)(double);

/* every mapping as it should be (phase: 1 just made, 2 after more moves) */
static int check(int phase)
{
	double c;

	if (fnv(whole, FILE_LEN) != fnv(file, FILE_LEN))
		return v_fail("phase %d: whole: the checksum differs from the file's", phase);
	if (!all(whole + FILE_LEN, 6 * PG - FILE_LEN, 0))
		return v_fail("phase %d: whole: the rest of the last page is not zero", phase);
	if (memcmp(offs, file + PG, 2 * PG))
		return v_fail("phase %d: offset: not the file's bytes at 4096", phase);
	if (!all(anon, PG, 0xaa) || !all(anon + 3 * PG, PG, 0xaa))
		return v_fail("phase %d: fixed: the pages around it changed", phase);
	if (anon[PG] != 0x55 || memcmp(anon + PG + 1, file + 2 * PG + 1, 2 * PG - 1))
		return v_fail("phase %d: fixed: not the file's bytes at 8192 (and our write)", phase);
	if (memcmp(early, file, 2 * PG) || !all(early + 2 * PG, PG, 0x77) ||
	    memcmp(early + 3 * PG, file + 3 * PG, FILE_LEN - 3 * PG))
		return v_fail("phase %d: the mapping made before the move: wrong bytes", phase);
	if (memcmp(shro, file, PG))
		return v_fail("phase %d: shared read-only: not the file's bytes", phase);
	c = cosp(0.5);
	if (fabs(c - 0.87758256189037276) > 1e-12)
		return v_fail("phase %d: libm's cos(0.5) gave %.17g", phase, c);
	return 0;
}

int main(void)
{
	char path[] = "/tmp/om-fmap-XXXXXX";
	int fd, rofd, rwfd;
	void *p, *lib;
	Dl_info info = { 0 };
	uint8_t b;

	for (size_t i = 0; i < FILE_LEN; i++)
		file[i] = pattern(i);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, file, FILE_LEN) != FILE_LEN)
		return v_fail("set-up: %s", strerror(errno));
	close(fd);
	rofd = open(path, O_RDONLY | O_CLOEXEC);
	rwfd = open(path, O_RDWR | O_CLOEXEC);
	anon = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rofd < 0 || rwfd < 0 || anon == MAP_FAILED)
		return v_fail("set-up: %s", strerror(errno));
	memset(anon, 0xaa, 4 * PG);
	early = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, rofd, 0);
	if (early == MAP_FAILED)
		return v_fail("set-up: mmap: %s", strerror(errno));
	memset(early + 2 * PG, 0x77, PG); /* a copy of its own */
	if (early[PG + 5] != file[PG + 5]) /* read: the file's page */
		return v_fail("set-up: the early mapping is not the file");
	if (loaded("libm.so"))
		return v_fail("set-up: libm is loaded already: dlopen would map nothing");
	v_ready();
	v_wait();

	whole = mmap(NULL, FILE_LEN, PROT_READ, MAP_PRIVATE, rofd, 0);
	if (whole == MAP_FAILED)
		return v_fail("whole: mmap: %s", strerror(errno));
	offs = mmap(NULL, 2 * PG, PROT_READ | PROT_EXEC, MAP_PRIVATE, rofd, PG);
	if (offs == MAP_FAILED)
		return v_fail("offset: mmap: %s", strerror(errno));
	p = mmap(anon + PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, rwfd, 2 * PG);
	if (p != anon + PG)
		return v_fail("fixed: mmap gave %p (%s), want %p", p, strerror(errno), anon + PG);
	anon[PG] = 0x55; /* private: the file keeps its byte */
	if (pread(rofd, &b, 1, 2 * PG) != 1 || b != file[2 * PG])
		return v_fail("fixed: a write to a private mapping reached the file");
	shro = mmap(NULL, PG, PROT_READ, MAP_SHARED, rofd, 0);
	if (shro == MAP_FAILED)
		return v_fail("shared read-only: mmap: %s", strerror(errno));
	errno = 0;
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rwfd, 0);
	if (p != MAP_FAILED || errno != ENODEV)
		return v_fail("shared writable: mmap gave %p (%s), want ENODEV", p, strerror(errno));
	lib = dlopen("libm.so.6", RTLD_NOW);
	if (!lib)
		return v_fail("dlopen(libm.so.6): %s", dlerror());
	cosp = (double (*)(double))dlsym(lib, "cos");
	if (!cosp)
		return v_fail("dlsym(cos): %s", dlerror());
	/* (/proc/self/maps is the home's: ask the dynamic linker) */
	if (!dladdr((void *)cosp, &info) || !info.dli_fname || !strstr(info.dli_fname, "libm.so"))
		return v_fail("cos is not libm's: %s", info.dli_fname ? info.dli_fname : "?");
	if (check(1))
		return 1;
	v_go = 0;
	fputs("MAPPED\n", stdout);
	fflush(stdout);
	v_wait();
	if (check(2))
		return 1;
	unlink(path);
	return v_pass();
}
