/* The blob's runtime: what the compiler may call, and full I/O. */
#include "agent/blob/sys.h"

#include <linux/errno.h>

#define MSG_WAITALL 0x100

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	while (n >= 8) {
		uint64_t v;

		__builtin_memcpy(&v, q, 8); /* one load: not a call */
		__builtin_memcpy(p, &v, 8);
		p += 8;
		q += 8;
		n -= 8;
	}
	while (n--)
		*p++ = *q++;
	return d;
}

void *memset(void *d, int c, size_t n)
{
	volatile uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

int blob_read_full(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		/* the link is a socket: wait for all of it in one call */
		long r = sys6(__NR_recvfrom, fd, (long)b, (long)n, MSG_WAITALL, 0, 0);

		if (r == -EINTR)
			continue;
		if (r < 0)
			return (int)r;
		if (r == 0)
			return -ECONNRESET;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int blob_writev_full(int fd, struct blob_iov *iov, int cnt)
{
	while (cnt) {
		long r = sys3(__NR_writev, fd, iov, cnt);

		if (r == -EINTR)
			continue;
		if (r < 0)
			return (int)r;
		while (cnt && (size_t)r >= iov->len) {
			r -= (long)iov->len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->base = (uint8_t *)iov->base + r;
			iov->len -= (size_t)r;
		}
	}
	return 0;
}

/* the signal return trampoline (SA_RESTORER) */
__asm__(".pushsection .text\n"
	".globl agent_restorer\n"
	".hidden agent_restorer\n"
	"agent_restorer:\n"
	"\tmov $15, %eax\n" /* rt_sigreturn */
	"\tsyscall\n"
	"\thlt\n"
	".popsection\n");
