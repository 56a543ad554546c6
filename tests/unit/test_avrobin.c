/* Avro binary primitives against the examples of the Avro specification. */
#include <stdint.h>
#include <string.h>

#include "avrobin.h"
#include "check.h"

static int
enc_is(int64_t v, const char *hex)
{
	uint8_t b[CDC_VARINT_MAX];
	char got[64];
	size_t n, i;

	n = cdc_avro_enc_long(b, v);
	for (i = 0; i < n; i++)
		snprintf(got + 2 * i, 3, "%02x", b[i]);
	return strcmp(got, hex) == 0;
}

static int
roundtrip(int64_t v)
{
	uint8_t b[CDC_VARINT_MAX];
	const uint8_t *p = b;
	size_t n = cdc_avro_enc_long(b, v);
	int64_t got;

	return cdc_avro_dec_long(&p, b + n, &got) == CDC_AVRO_OK &&
	    got == v && p == b + n;
}

int
main(void)
{
	static const uint8_t overlong[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0x7f};
	static const uint8_t short_[] = {0x80, 0x80};
	static const uint8_t neglen[] = {0x01};
	const uint8_t *p, *s;
	struct cdc_buf b;
	int64_t v;
	size_t n;

	check_file = "test_avrobin";
	/* The specification's zig-zag table. */
	CHECK("zigzag 0", enc_is(0, "00"));
	CHECK("zigzag -1", enc_is(-1, "01"));
	CHECK("zigzag 1", enc_is(1, "02"));
	CHECK("zigzag -2", enc_is(-2, "03"));
	CHECK("zigzag 2", enc_is(2, "04"));
	CHECK("zigzag -64", enc_is(-64, "7f"));
	CHECK("zigzag 64", enc_is(64, "8001"));
	CHECK("long max", enc_is(INT64_MAX, "feffffffffffffffff01"));
	CHECK("long min", enc_is(INT64_MIN, "ffffffffffffffffff01"));
	CHECK("roundtrip extremes", roundtrip(INT64_MIN) &&
	    roundtrip(INT64_MAX) && roundtrip(0) && roundtrip(-1) &&
	    roundtrip(1234567890123LL));

	p = overlong;
	CHECK("overlong varint is bad",
	    cdc_avro_dec_long(&p, overlong + sizeof(overlong), &v) ==
		CDC_AVRO_BAD);
	p = short_;
	CHECK("varint cut short",
	    cdc_avro_dec_long(&p, short_ + sizeof(short_), &v) ==
		    CDC_AVRO_SHORT &&
		p == short_);
	p = neglen;
	CHECK("negative length is bad",
	    cdc_avro_dec_bytes(&p, neglen + 1, &s, &n) == CDC_AVRO_BAD);

	cdc_buf_init(&b);
	cdc_avro_put_bytes(&b, "foo", 3);
	CHECK("bytes encoding", b.len == 4 && memcmp(b.p, "\x06" "foo", 4) ==
	    0);
	b.len = 0;
	cdc_avro_put_double(&b, 1.0);
	CHECK("double little-endian",
	    b.len == 8 && memcmp(b.p, "\0\0\0\0\0\0\xf0\x3f", 8) == 0);
	b.len = 0;
	cdc_avro_put_float(&b, 1.0f);
	CHECK("float little-endian",
	    b.len == 4 && memcmp(b.p, "\0\0\x80\x3f", 4) == 0);
	cdc_buf_fini(&b);
	return check_done();
}
