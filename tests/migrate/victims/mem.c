/* mem: memory of every kind survives the move: heap blocks, brk growth after
 * the move, anonymous mmaps of several sizes (up to 64 MiB), a PROT_NONE
 * guard page, a file-backed private mapping modified in place, the stack. */
#include "victim.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define NMAPS 4
static const size_t map_sizes[NMAPS] = { 4096, 65536, 1 << 20, 64 << 20 };

static char *cur_brk(void)
{
	return (char *)syscall(SYS_brk, 0);
}

static uint64_t pat(uint64_t seed, uint64_t i)
{
	return (seed + i) * 0x9e3779b97f4a7c15ULL ^ (i >> 7);
}

static void fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = pat(seed, i);
}

static long check(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i] != pat(seed, i))
			return (long)i;
	return -1;
}

/* the permissions of the mapping holding addr, from /proc/self/maps */
static int perms_of(const void *addr, char out[5])
{
	FILE *fp = fopen("/proc/self/maps", "r");
	char line[512];
	int found = -1;

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx %4s", &s, &e, out) == 3 && (uintptr_t)addr >= s &&
		    (uintptr_t)addr < e) {
			found = 0;
			break;
		}
	}
	fclose(fp);
	return found;
}

int main(void)
{
	char *heap[8], *maps[NMAPS], *guard, *fmap, path[64], perms[5];
	volatile uint64_t stackbuf[512];
	char *brk0, *grow;
	long bad;
	int fd;

	for (int i = 0; i < 8; i++) {
		size_t len = (size_t)64 << (2 * i % 16);

		heap[i] = malloc(len);
		if (!heap[i])
			return v_fail("malloc");
		fill(heap[i], len, 100 + i);
	}
	for (int i = 0; i < NMAPS; i++) {
		maps[i] = mmap(NULL, map_sizes[i], PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (maps[i] == MAP_FAILED)
			return v_fail("mmap %zu", map_sizes[i]);
		fill(maps[i], map_sizes[i], 200 + i);
	}
	guard = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED || mprotect(guard + 4096, 4096, PROT_NONE))
		return v_fail("guard");
	fill(guard, 4096, 300);
	fill(guard + 8192, 4096, 301);

	snprintf(path, sizeof(path), "/tmp/victim-mem.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 3 * 4096))
		return v_fail("temp file");
	fmap = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (fmap == MAP_FAILED)
		return v_fail("file mapping");
	memset(fmap, 'f', 3 * 4096);
	if (pwrite(fd, fmap, 3 * 4096, 0) != 3 * 4096)
		return v_fail("file write");
	close(fd);
	fmap[4096 + 17] = 'M';	/* COW'd page */
	for (int i = 0; i < 512; i++)
		stackbuf[i] = pat(400, (uint64_t)i);
	brk0 = cur_brk();

	v_ready();
	v_wait();
	unlink(path);

	for (int i = 0; i < 8; i++)
		if ((bad = check(heap[i], (size_t)64 << (2 * i % 16), 100 + i)) >= 0)
			return v_fail("heap block %d differs at word %ld", i, bad);
	for (int i = 0; i < NMAPS; i++)
		if ((bad = check(maps[i], map_sizes[i], 200 + i)) >= 0)
			return v_fail("mmap of %zu differs at word %ld", map_sizes[i], bad);
	if (check(guard, 4096, 300) >= 0 || check(guard + 8192, 4096, 301) >= 0)
		return v_fail("guarded pages differ");
	if (perms_of(guard + 4096, perms) || strcmp(perms, "---p"))
		return v_fail("guard page is '%s', want ---p", perms);
	if (perms_of(guard, perms) || strcmp(perms, "rw-p"))
		return v_fail("page below the guard is '%s', want rw-p", perms);
	for (int i = 0; i < 3 * 4096; i++)
		if (fmap[i] != (i == 4096 + 17 ? 'M' : 'f'))
			return v_fail("file mapping differs at %d", i);
	for (int i = 0; i < 512; i++)
		if (stackbuf[i] != pat(400, (uint64_t)i))
			return v_fail("stack differs at %d", i);
	if (cur_brk() != brk0)
		return v_fail("brk moved: %p, want %p", (void *)cur_brk(), (void *)brk0);
	/* the heap grows after the move (the brk call itself: musl's sbrk
	 * only answers sbrk(0)) */
	grow = (char *)syscall(SYS_brk, brk0 + (4 << 20));
	if (grow != brk0 + (4 << 20))
		return v_fail("brk growth returned %p, want %p", (void *)grow,
			(void *)(brk0 + (4 << 20)));
	grow = brk0;
	fill(grow, 4 << 20, 500);
	if (check(grow, 4 << 20, 500) >= 0)
		return v_fail("grown heap");
	for (int i = 0; i < 1000; i++) {
		char *p = malloc(100000);

		if (!p)
			return v_fail("malloc after the move");
		memset(p, i, 100000);
	}
	return v_pass();
}
