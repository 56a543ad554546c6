/* Avro binary encoding primitives (Avro 1.11, "Binary Encoding"), for the
 * hot paths where going through avro-c's generic values would cost too much.
 * tests/unit/test_avrobin.c checks them against the specification. */
#ifndef CDC_AVROBIN_H
#define CDC_AVROBIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mem.h"

#define CDC_VARINT_MAX 10

/* Results of the decoders. */
#define CDC_AVRO_OK    0
#define CDC_AVRO_SHORT (-1) /* input ends inside the item */
#define CDC_AVRO_BAD   (-2) /* malformed: overlong varint, negative length */

/* Encodes v zig-zag varint into dst (CDC_VARINT_MAX bytes); returns length. */
static inline size_t
cdc_avro_enc_long(uint8_t *dst, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;

	while (z >= 0x80) {
		dst[n++] = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	dst[n++] = (uint8_t)z;
	return n;
}

/* Decodes a zig-zag varint at *p (not past end), advancing *p. */
static inline int
cdc_avro_dec_long(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	const uint8_t *s = *p;
	uint64_t z = 0;
	unsigned shift = 0;
	uint8_t b;

	for (;;) {
		if (s == end)
			return CDC_AVRO_SHORT;
		b = *s++;
		if (shift == 63 && (b & 0xfe) != 0)
			return CDC_AVRO_BAD; /* more than 64 bits */
		z |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			break;
		shift += 7;
	}
	*p = s;
	*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	return CDC_AVRO_OK;
}

/* Decodes a length-prefixed bytes or string value, pointing into the input. */
static inline int
cdc_avro_dec_bytes(const uint8_t **p, const uint8_t *end, const uint8_t **s,
    size_t *n)
{
	const uint8_t *q = *p;
	int64_t len;
	int rc;

	rc = cdc_avro_dec_long(&q, end, &len);
	if (rc != CDC_AVRO_OK)
		return rc;
	if (len < 0)
		return CDC_AVRO_BAD;
	if ((uint64_t)len > (uint64_t)(end - q))
		return CDC_AVRO_SHORT;
	*s = q;
	*n = (size_t)len;
	*p = q + len;
	return CDC_AVRO_OK;
}

static inline void
cdc_avro_put_long(struct cdc_buf *b, int64_t v)
{
	b->len += cdc_avro_enc_long(cdc_buf_reserve(b, CDC_VARINT_MAX), v);
}

static inline void
cdc_avro_put_bytes(struct cdc_buf *b, const void *p, size_t n)
{
	cdc_avro_put_long(b, (int64_t)n);
	cdc_buf_append(b, p, n);
}

static inline void
cdc_avro_put_float(struct cdc_buf *b, float f)
{
	uint32_t u;
	uint8_t *d = cdc_buf_reserve(b, 4);

	memcpy(&u, &f, 4);
	d[0] = (uint8_t)u;
	d[1] = (uint8_t)(u >> 8);
	d[2] = (uint8_t)(u >> 16);
	d[3] = (uint8_t)(u >> 24);
	b->len += 4;
}

static inline void
cdc_avro_put_double(struct cdc_buf *b, double f)
{
	uint64_t u;
	uint8_t *d = cdc_buf_reserve(b, 8);
	int i;

	memcpy(&u, &f, 8);
	for (i = 0; i < 8; i++)
		d[i] = (uint8_t)(u >> (8 * i));
	b->len += 8;
}

static inline uint64_t
cdc_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void
cdc_put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
