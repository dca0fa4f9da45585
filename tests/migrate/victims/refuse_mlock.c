/* refuse_mlock: locked memory ("mem_lock"): must not move, keeps running. */
#include "victim.h"

#include <sys/mman.h>

int main(void)
{
	static char page[4096] __attribute__((aligned(4096)));

	page[0] = 1;
	if (mlock(page, sizeof(page)))
		return v_fail("mlock");
	v_ready();
	v_wait();
	if (page[0] != 1)
		return v_fail("locked page changed");
	return v_pass();
}
