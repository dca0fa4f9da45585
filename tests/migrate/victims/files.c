/* files: descriptors opened before the move stay the home's own: a dup()
 * shares the offset, O_APPEND appends, FD_CLOEXEC stays set, fstat and
 * pread see what was written; a file opened after the move works too. */
#include "victim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	char path[] = "/tmp/om-files-XXXXXX", path2[64], buf[64];
	const char *want = "before|after|appended";
	struct stat st;
	off_t off;
	int fd, fd2, fda, fdn, fl;
	ssize_t n;

	fd = mkstemp(path);
	if (fd < 0)
		return v_fail("mkstemp: %s", strerror(errno));
	fd2 = dup(fd);
	fda = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd2 < 0 || fda < 0 || write(fd, "before|", 7) != 7)
		return v_fail("set-up: %s", strerror(errno));
	snprintf(path2, sizeof(path2), "%s.new", path);
	v_ready();
	v_wait();
	if (write(fd2, "after", 5) != 5)
		return v_fail("write through the dup: %s", strerror(errno));
	off = lseek(fd, 0, SEEK_CUR);
	if (off != 12)
		return v_fail("offset through the original fd is %lld, want 12 (shared)",
			(long long)off);
	if (write(fda, "|appended", 9) != 9)
		return v_fail("write through the O_APPEND fd: %s", strerror(errno));
	off = lseek(fd2, 0, SEEK_CUR);
	if (off != 12)
		return v_fail("the append moved the shared offset to %lld", (long long)off);
	fl = fcntl(fda, F_GETFD);
	if (fl < 0 || !(fl & FD_CLOEXEC))
		return v_fail("FD_CLOEXEC of the O_APPEND fd: %d (%s)", fl, strerror(errno));
	fl = fcntl(fd, F_GETFD);
	if (fl != 0)
		return v_fail("the mkstemp fd has F_GETFD %d, want 0", fl);
	if (fstat(fd, &st))
		return v_fail("fstat: %s", strerror(errno));
	if (st.st_size != (off_t)strlen(want))
		return v_fail("fstat size %lld, want %zu", (long long)st.st_size, strlen(want));
	memset(buf, 0, sizeof(buf));
	n = pread(fd2, buf, sizeof(buf) - 1, 0);
	if (n != (ssize_t)strlen(want) || strcmp(buf, want))
		return v_fail("pread gave %zd bytes '%s', want '%s'", n, buf, want);
	if (lseek(fd, 0, SEEK_CUR) != 12)
		return v_fail("pread moved the offset");
	fdn = openat(AT_FDCWD, path2, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fdn < 0)
		return v_fail("openat after the move: %s", strerror(errno));
	if (write(fdn, "new", 3) != 3 || pread(fdn, buf, 3, 0) != 3 || memcmp(buf, "new", 3))
		return v_fail("the new file: %s", strerror(errno));
	if (close(fdn) || close(fdn) != -1 || errno != EBADF)
		return v_fail("closing the new file twice: the second close did not fail with EBADF");
	if (stat(path2, &st) || st.st_size != 3)
		return v_fail("stat of the new file: %s", strerror(errno));
	if (unlink(path2) || unlink(path) || access(path, F_OK) == 0)
		return v_fail("unlink: %s", strerror(errno));
	close(fd);
	close(fd2);
	close(fda);
	return v_pass();
}
