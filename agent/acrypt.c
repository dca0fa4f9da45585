#include "agent/acrypt.h"

/* ---------------------------------------------------------- BLAKE2b --- */

static const uint64_t b2_iv[8] = {
	0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
	0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

static const uint8_t b2_sigma[12][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
};

/* little-endian loads (x86_64 only, like the rest of the engine) */
static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, 8);
	return v;
}

static void st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rotr(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

#define B2G(a, b, c, d, x, y)                                                                      \
	do {                                                                                       \
		v[a] = v[a] + v[b] + (x);                                                          \
		v[d] = rotr(v[d] ^ v[a], 32);                                                      \
		v[c] = v[c] + v[d];                                                                \
		v[b] = rotr(v[b] ^ v[c], 24);                                                      \
		v[a] = v[a] + v[b] + (y);                                                          \
		v[d] = rotr(v[d] ^ v[a], 16);                                                      \
		v[c] = v[c] + v[d];                                                                \
		v[b] = rotr(v[b] ^ v[c], 63);                                                      \
	} while (0)

static void b2_compress(uint64_t h[8], const uint8_t blk[128], uint64_t t, int last)
{
	uint64_t v[16], m[16];

	for (int i = 0; i < 16; i++)
		m[i] = ld64(blk + 8 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = h[i];
		v[i + 8] = b2_iv[i];
	}
	v[12] ^= t; /* inputs stay far below 2^64 bytes: the high word is 0 */
	if (last)
		v[14] = ~v[14];
	for (int r = 0; r < 12; r++) {
		const uint8_t *s = b2_sigma[r];

		B2G(0, 4, 8, 12, m[s[0]], m[s[1]]);
		B2G(1, 5, 9, 13, m[s[2]], m[s[3]]);
		B2G(2, 6, 10, 14, m[s[4]], m[s[5]]);
		B2G(3, 7, 11, 15, m[s[6]], m[s[7]]);
		B2G(0, 5, 10, 15, m[s[8]], m[s[9]]);
		B2G(1, 6, 11, 12, m[s[10]], m[s[11]]);
		B2G(2, 7, 8, 13, m[s[12]], m[s[13]]);
		B2G(3, 4, 9, 14, m[s[14]], m[s[15]]);
	}
	for (int i = 0; i < 8; i++)
		h[i] ^= v[i] ^ v[i + 8];
	acrypt_wipe(v, sizeof(v));
	acrypt_wipe(m, sizeof(m));
}

void acrypt_blake2b(uint8_t *out, size_t outlen, const void *in, size_t inlen, const uint8_t *key,
	size_t keylen)
{
	const uint8_t *p = in;
	uint64_t h[8], t = 0;
	uint8_t blk[128], full[64];
	size_t n;

	for (int i = 0; i < 8; i++)
		h[i] = b2_iv[i];
	h[0] ^= 0x01010000ull ^ ((uint64_t)keylen << 8) ^ (uint64_t)outlen;
	if (keylen) {
		for (size_t i = 0; i < 128; i++)
			blk[i] = i < keylen ? key[i] : 0;
		t = 128;
		if (inlen == 0) {
			b2_compress(h, blk, t, 1);
			goto done;
		}
		b2_compress(h, blk, t, 0);
	}
	/* every block but the last (which may be full) */
	while (inlen > 128) {
		t += 128;
		b2_compress(h, p, t, 0);
		p += 128;
		inlen -= 128;
	}
	n = inlen;
	for (size_t i = 0; i < 128; i++)
		blk[i] = i < n ? p[i] : 0;
	t += n;
	b2_compress(h, blk, t, 1);
done:
	for (int i = 0; i < 8; i++)
		st64(full + 8 * i, h[i]);
	for (size_t i = 0; i < outlen; i++)
		out[i] = full[i];
	acrypt_wipe(h, sizeof(h));
	acrypt_wipe(blk, sizeof(blk));
	acrypt_wipe(full, sizeof(full));
}

/* --------------------------------------------------------- Poly1305 --- */
/* h and r in three limbs of 44, 44 and 42 bits (2^130 - 5 arithmetic with
 * 64x64->128 products). */

#define M44 0xfffffffffffull
#define M42 0x3ffffffffffull

typedef unsigned __int128 u128;

void acrypt_poly_init(struct acrypt_poly *p, const uint8_t key[ACRYPT_KEY_SIZE])
{
	uint64_t t0 = ld64(key) & 0x0ffffffc0fffffffull;
	uint64_t t1 = ld64(key + 8) & 0x0ffffffc0ffffffcull;

	p->r[0] = t0 & M44;
	p->r[1] = ((t0 >> 44) | (t1 << 20)) & M44;
	p->r[2] = (t1 >> 24) & M42;
	p->h[0] = p->h[1] = p->h[2] = 0;
	p->pad[0] = ld64(key + 16);
	p->pad[1] = ld64(key + 24);
	p->left = 0;
}

/* d = a * b mod 2^130 - 5, unreduced, for limbs a (< 2^46) and b with
 * s1 = b1 * 20, s2 = b2 * 20 */
#define MUL3(d0, d1, d2, a0, a1, a2, b0, b1, b2, s1, s2)                                      \
	do {                                                                                  \
		d0 += (u128)(a0) * (b0) + (u128)(a1) * (s2) + (u128)(a2) * (s1);             \
		d1 += (u128)(a0) * (b1) + (u128)(a1) * (b0) + (u128)(a2) * (s2);             \
		d2 += (u128)(a0) * (b2) + (u128)(a1) * (b1) + (u128)(a2) * (b0);             \
	} while (0)

/* carry d into h (h0, h1 < 2^44 + small, h2 < 2^42 + small) */
#define CARRY(h0, h1, h2, d0, d1, d2)                                                         \
	do {                                                                                  \
		uint64_t c_;                                                                  \
		c_ = (uint64_t)(d0 >> 44);                                                    \
		h0 = (uint64_t)d0 & M44;                                                      \
		d1 += c_;                                                                     \
		c_ = (uint64_t)(d1 >> 44);                                                    \
		h1 = (uint64_t)d1 & M44;                                                      \
		d2 += c_;                                                                     \
		c_ = (uint64_t)(d2 >> 42);                                                    \
		h2 = (uint64_t)d2 & M42;                                                      \
		h0 += c_ * 5;                                                                 \
		c_ = h0 >> 44;                                                                \
		h0 &= M44;                                                                    \
		h1 += c_;                                                                     \
	} while (0)

static void poly_blocks(struct acrypt_poly *p, const uint8_t *m, size_t len, uint64_t hibit)
{
	uint64_t r0 = p->r[0], r1 = p->r[1], r2 = p->r[2];
	uint64_t s1 = r1 * 20, s2 = r2 * 20;
	uint64_t h0 = p->h[0], h1 = p->h[1], h2 = p->h[2];
	u128 d0, d1, d2;

	/* two blocks at a time: h = (h + m0) r^2 + m1 r, two independent
	 * products (the single-block chain is latency-bound) */
	if (len >= 64) {
		uint64_t q0, q1, q2, t1, t2;

		d0 = d1 = d2 = 0;
		MUL3(d0, d1, d2, r0, r1, r2, r0, r1, r2, s1, s2);
		CARRY(q0, q1, q2, d0, d1, d2);
		t1 = q1 * 20;
		t2 = q2 * 20;
		while (len >= 32) {
			uint64_t a0 = ld64(m), a1 = ld64(m + 8), b0 = ld64(m + 16), b1 = ld64(m + 24);
			uint64_t x0, x1, x2;

			h0 += a0 & M44;
			h1 += ((a0 >> 44) | (a1 << 20)) & M44;
			h2 += ((a1 >> 24) & M42) | hibit;
			x0 = b0 & M44;
			x1 = ((b0 >> 44) | (b1 << 20)) & M44;
			x2 = ((b1 >> 24) & M42) | hibit;
			d0 = d1 = d2 = 0;
			MUL3(d0, d1, d2, h0, h1, h2, q0, q1, q2, t1, t2);
			MUL3(d0, d1, d2, x0, x1, x2, r0, r1, r2, s1, s2);
			CARRY(h0, h1, h2, d0, d1, d2);
			m += 32;
			len -= 32;
		}
	}
	while (len >= 16) {
		uint64_t m0 = ld64(m), m1 = ld64(m + 8);

		h0 += m0 & M44;
		h1 += ((m0 >> 44) | (m1 << 20)) & M44;
		h2 += ((m1 >> 24) & M42) | hibit;
		d0 = d1 = d2 = 0;
		MUL3(d0, d1, d2, h0, h1, h2, r0, r1, r2, s1, s2);
		CARRY(h0, h1, h2, d0, d1, d2);
		m += 16;
		len -= 16;
	}
	p->h[0] = h0;
	p->h[1] = h1;
	p->h[2] = h2;
}

void acrypt_poly_update(struct acrypt_poly *p, const void *in, size_t len)
{
	const uint8_t *m = in;

	if (p->left) {
		while (p->left < 16 && len) {
			p->buf[p->left++] = *m++;
			len--;
		}
		if (p->left < 16)
			return;
		poly_blocks(p, p->buf, 16, 1ull << 40);
		p->left = 0;
	}
	if (len >= 16) {
		size_t n = len & ~(size_t)15;

		poly_blocks(p, m, n, 1ull << 40);
		m += n;
		len -= n;
	}
	while (len--)
		p->buf[p->left++] = *m++;
}

void acrypt_poly_final(struct acrypt_poly *p, uint8_t tag[ACRYPT_TAG_SIZE])
{
	uint64_t h0, h1, h2, g0, g1, g2, c, mask, lo, hi;

	if (p->left) {
		p->buf[p->left] = 1;
		for (size_t i = p->left + 1; i < 16; i++)
			p->buf[i] = 0;
		poly_blocks(p, p->buf, 16, 0);
	}
	h0 = p->h[0];
	h1 = p->h[1];
	h2 = p->h[2];
	/* carry fully */
	c = h1 >> 44;
	h1 &= M44;
	h2 += c;
	c = h2 >> 42;
	h2 &= M42;
	h0 += c * 5;
	c = h0 >> 44;
	h0 &= M44;
	h1 += c;
	c = h1 >> 44;
	h1 &= M44;
	h2 += c;
	c = h2 >> 42;
	h2 &= M42;
	h0 += c * 5;
	c = h0 >> 44;
	h0 &= M44;
	h1 += c;
	/* g = h - p = h + 5 - 2^130; take it if it did not go negative */
	g0 = h0 + 5;
	c = g0 >> 44;
	g0 &= M44;
	g1 = h1 + c;
	c = g1 >> 44;
	g1 &= M44;
	g2 = h2 + c - (1ull << 42);
	mask = (g2 >> 63) - 1; /* all ones if h >= p */
	h0 = (h0 & ~mask) | (g0 & mask);
	h1 = (h1 & ~mask) | (g1 & mask);
	h2 = (h2 & ~mask) | (g2 & mask & M42);
	/* h mod 2^128, plus the pad */
	lo = h0 | (h1 << 44);
	hi = (h1 >> 20) | (h2 << 24);
	{
		u128 s = (u128)lo + p->pad[0];

		lo = (uint64_t)s;
		hi = hi + p->pad[1] + (uint64_t)(s >> 64);
	}
	st64(tag, lo);
	st64(tag + 8, hi);
	acrypt_wipe(p, sizeof(*p));
}

int acrypt_eq16(const uint8_t *a, const uint8_t *b)
{
	unsigned d = 0;

	for (int i = 0; i < 16; i++)
		d |= (unsigned)(a[i] ^ b[i]);
	return (int)(1 & ((d - 1) >> 8));
}

void acrypt_wipe(void *p, size_t n)
{
	volatile uint8_t *q = p;

	while (n--)
		*q++ = 0;
	__asm__ __volatile__("" : : "r"(p) : "memory");
}
