/* bigout: after the move, 16 MiB of a known pattern go to stdout in chunks of
 * 4 KiB to 1 MiB (short writes are resumed), between READY and PASS.
 * "bigout --pattern" writes the bare pattern, for the harness to compare. */
#include "victim.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#define TOTAL (16u << 20)

static uint8_t byte_at(uint32_t off)
{
	uint32_t x = off * 2654435761u;

	return (uint8_t)((x >> 24) ^ (off >> 12));
}

static int emit(const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t w = write(1, p, len);

		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 65536, 1u << 20, 12288, 300000, 777777, 4096 };
	uint8_t *buf = malloc(TOTAL);
	bool bare = argc > 1 && !strcmp(argv[1], "--pattern");
	uint32_t off = 0;

	if (!buf)
		return v_fail("no memory");
	for (uint32_t i = 0; i < TOTAL; i++)
		buf[i] = byte_at(i);
	if (bare)
		return emit(buf, TOTAL) ? 1 : 0;
	v_ready();
	v_wait();
	for (unsigned k = 0; off < TOTAL; k++) {
		size_t len = sizes[k % (sizeof(sizes) / sizeof(sizes[0]))];

		if (len > TOTAL - off)
			len = TOTAL - off;
		if (emit(buf + off, len))
			return v_fail("write at offset %u: %s", off, strerror(errno));
		off += (uint32_t)len;
	}
	free(buf);
	return v_pass();
}
