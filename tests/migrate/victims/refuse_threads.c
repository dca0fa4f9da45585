/* refuse_threads: two threads ("clone_vm"): must not move, and keeps running. */
#include "victim.h"

#include <pthread.h>

static void *spin(void *arg)
{
	(void)arg;
	while (!v_go)
		usleep(1000);
	return NULL;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, spin, NULL))
		return v_fail("pthread_create");
	v_ready();
	v_wait();
	pthread_join(t, NULL);
	return v_pass();
}
