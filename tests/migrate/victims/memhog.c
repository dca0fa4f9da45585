/* memhog MB: fills MB MiB of anonymous memory with a pattern, prints READY,
 * waits for SIGUSR1 (while the cluster may move it, e.g. memory ushering),
 * then checks every byte. */
#include "victim.h"

#include <stdint.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	long mb = argc > 1 ? atol(argv[1]) : 64;
	size_t len = (size_t)mb << 20;
	uint64_t *w;

	if (mb <= 0)
		return v_fail("usage: memhog MB");
	w = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED)
		return v_fail("mmap %ld MiB failed", mb);
	for (size_t i = 0; i < len / 8; i++)
		w[i] = i * 0x9e3779b97f4a7c15ULL;
	v_ready();
	v_wait();
	for (size_t i = 0; i < len / 8; i++)
		if (w[i] != i * 0x9e3779b97f4a7c15ULL)
			return v_fail("word %zu changed", i);
	return v_pass();
}
