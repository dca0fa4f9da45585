/* refuse_shm: SysV shared memory ("shm"): must not move, and keeps running. */
#include "victim.h"

#include <sys/ipc.h>
#include <sys/shm.h>

int main(void)
{
	int id = shmget(IPC_PRIVATE, 65536, IPC_CREAT | 0600);
	char *p;

	if (id < 0)
		return v_fail("shmget");
	p = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);	/* goes away with us */
	if (p == (void *)-1)
		return v_fail("shmat");
	memset(p, 'x', 65536);
	v_ready();
	v_wait();
	if (p[4242] != 'x')
		return v_fail("shared memory changed");
	return v_pass();
}
