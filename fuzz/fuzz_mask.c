/* Fuzz target for om_mask_parse() (cluster masks from mosrun, mosctl and
 * the hpc tree): a list that parses must format and reparse to the same
 * set; a mismatch is a bug and aborts. */
#include "balance/mask.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	static char buf[8192];
	struct om_mask m = { 0 }, m2 = { 0 };
	int len;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (om_mask_parse(s, &m) == 0) {
		len = om_mask_format(&m, buf, sizeof(buf));
		if (len < 0 || (size_t)len != strlen(buf))
			abort();
		if (om_mask_parse(buf, &m2) || memcmp(m.bits, m2.bits, sizeof(m.bits)))
			abort();
		for (unsigned id = 1; id <= OM_MASK_NODES; id++) {
			m.on = true;
			m.allow = true;
			if (om_mask_permits(&m, (uint16_t)id, 0) != om_mask_listed(&m, (uint16_t)id))
				abort();
		}
	}
	free(s);
	return 0;
}
