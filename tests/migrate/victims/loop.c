/* loop: the HOWTO's endless CPU loop. Counts iterations and folds them into
 * a checksum while being moved; afterwards recomputes the checksum for the
 * same count and compares. */
#include "victim.h"

#include <stdint.h>

static uint64_t step(uint64_t sum, uint64_t i)
{
	sum ^= i * 0x9e3779b97f4a7c15ULL;
	return sum * 6364136223846793005ULL + 1442695040888963407ULL;
}

int main(void)
{
	uint64_t n = 0, sum = 1, check = 1;

	v_ready();
	while (!v_go) {
		sum = step(sum, n);
		n++;
	}
	for (uint64_t i = 0; i < n; i++)
		check = step(check, i);
	if (check != sum)
		return v_fail("checksum %016llx after %llu iterations, want %016llx",
			      (unsigned long long)sum, (unsigned long long)n,
			      (unsigned long long)check);
	if (n < 1000)
		return v_fail("only %llu iterations", (unsigned long long)n);
	return v_pass();
}
