/* Raw system calls for the blob (no libc). */
#ifndef OM_AGENT_BLOB_SYS_H
#define OM_AGENT_BLOB_SYS_H

#pragma GCC visibility push(hidden)

#include <asm/unistd.h>
#include <stddef.h>
#include <stdint.h>

static inline long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			     : "rcx", "r11", "memory");
	return ret;
}

#define sys3(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

struct blob_iov {
	void *base;
	size_t len;
};

void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);

/* read (from a socket) or write exactly n bytes; 0 or -errno (-ECONNRESET at EOF) */
int blob_read_full(int fd, void *p, size_t n);
int blob_writev_full(int fd, struct blob_iov *iov, int cnt);

#endif
