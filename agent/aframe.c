#include "agent/aframe.h"

#include <linux/errno.h>

void aframe_hdr_put(uint8_t h[AFRAME_HDR_SIZE], uint32_t len, uint16_t type)
{
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	h[4] = (uint8_t)(type >> 8);
	h[5] = (uint8_t)type;
	h[6] = h[7] = 0;
}

int aframe_hdr_get(const uint8_t h[AFRAME_HDR_SIZE], uint32_t *len, uint16_t *type)
{
	uint32_t l = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];

	if (l > AFRAME_MAX_BODY)
		return -EMSGSIZE;
	if (h[6] || h[7])
		return -EBADMSG;
	*len = l;
	*type = (uint16_t)(h[4] << 8 | h[5]);
	return 0;
}

void aframe_mac_begin(struct acrypt_poly *p, const struct aframe_dir *d)
{
	uint8_t c[8], otk[ACRYPT_KEY_SIZE];

	for (int i = 0; i < 8; i++)
		c[i] = (uint8_t)(d->ctr >> (56 - 8 * i));
	acrypt_blake2b(otk, sizeof(otk), c, sizeof(c), d->key, ACRYPT_KEY_SIZE);
	acrypt_poly_init(p, otk);
	acrypt_wipe(otk, sizeof(otk));
}
