/* Fuzz target for idset_parse() (omd --guest-uids): a set that parses
 * must format and reparse to the same set, and membership must agree
 * with the ranges; a mismatch is a bug and aborts. */
#include "lib/idset.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	static char buf[16384];
	struct idset a, b;
	const char *why = NULL;
	int r, len;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	r = idset_parse(s, &a, &why);
	if (r && (r != -EINVAL && r != -E2BIG))
		abort();
	if (r && !why)
		abort();
	if (!r) {
		len = idset_format(&a, buf, sizeof(buf));
		if (len < 0 || (size_t)len != strlen(buf))
			abort();
		if (idset_parse(buf, &b, NULL) || a.all != b.all || a.n != b.n ||
			memcmp(a.r, b.r, sizeof(a.r[0]) * a.n))
			abort();
		for (unsigned i = 0; i < a.n; i++)
			if (!idset_has(&a, a.r[i].lo) || !idset_has(&a, a.r[i].hi))
				abort();
	}
	free(s);
	return 0;
}
