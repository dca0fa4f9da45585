/* refuse_shared: a writable MAP_SHARED file mapping ("monkey"): must not
 * move, and keeps running. */
#include "victim.h"

#include <fcntl.h>
#include <sys/mman.h>

int main(void)
{
	char path[64], *p;
	int fd;

	snprintf(path, sizeof(path), "/tmp/victim-shared.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		return v_fail("temp file");
	unlink(path);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return v_fail("mmap");
	p[0] = 's';
	v_ready();
	v_wait();
	if (p[0] != 's')
		return v_fail("mapping changed");
	return v_pass();
}
