/* Column values of row images, decoded from MySQL's storage formats
 * (MySQL's field.cc / my_time.cc / decimal.c pack formats) and encoded at
 * once as Avro binary in the types of docs/stream.md section 4.3. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "avrobin.h"
#include "binlog.h"
#include "civil.h"
#include "log.h"
#include "mysqljson.h"
#include "types.h"
#include "value.h"


static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t pow10[10] = {1, 10, 100, 1000, 10000, 100000,
    1000000, 10000000, 100000000, 1000000000};

/* Bytes of MySQL's binary decimal of precision p, scale s. */
static size_t
decimal_size(int prec, int scale)
{
	int intg = prec - scale;

	return (size_t)((intg / 9) * 4 + dig2bytes[intg % 9] +
	    (scale / 9) * 4 + dig2bytes[scale % 9]);
}

/* Multiplies the big-endian magnitude mag[0..n) by mul and adds add. */
static void
mag_muladd(uint8_t *mag, size_t n, uint32_t mul, uint32_t add)
{
	uint64_t carry = add;
	size_t i;

	for (i = n; i-- > 0;) {
		uint64_t v = (uint64_t)mag[i] * mul + carry;

		mag[i] = (uint8_t)v;
		carry = v >> 8;
	}
}

/* Appends a big-endian two's complement integer of sign and magnitude
 * mag[0..n) as Avro decimal bytes, minimal length. */
static void
put_unscaled(struct cdc_buf *out, int neg, uint8_t *mag, size_t n)
{
	size_t i, start = 0;
	uint8_t *d;

	if (neg) {
		int carry = 1;

		for (i = n; i-- > 0;) {
			int v = (uint8_t)~mag[i] + carry;

			mag[i] = (uint8_t)v;
			carry = v >> 8;
		}
	}
	/* Drop redundant sign bytes. */
	while (start + 1 < n &&
	    ((mag[start] == 0x00 && !(mag[start + 1] & 0x80)) ||
		(mag[start] == 0xff && (mag[start + 1] & 0x80))))
		start++;
	cdc_avro_put_long(out, (int64_t)(n - start));
	d = cdc_buf_reserve(out, n - start);
	memcpy(d, mag + start, n - start);
	out->len += n - start;
}

/* Appends a 64-bit integer (-u when neg) as minimal big-endian two's
 * complement Avro decimal bytes: the fast path of put_unscaled. The length
 * comes from the highest bit that differs from the sign, not a byte loop:
 * every DECIMAL(<=18) and BIGINT UNSIGNED value goes through here. */
static void
put_int_bytes(struct cdc_buf *out, int neg, uint64_t u)
{
	uint64_t w;
	uint8_t *d;
	int bits, n, i;

	if (u == 0)
		neg = 0; /* -0 is 0 */
	/* -u fits in n bytes when u - 1 fits in 8n - 1 bits. */
	w = neg ? u - 1 : u;
	bits = (w == 0 ? 0 : 64 - __builtin_clzll(w)) + 1;
	n = (bits + 7) / 8; /* 1..9: 9 bytes hold any magnitude below 2^64 */
	d = cdc_buf_reserve(out, 1 + 9);
	d[0] = (uint8_t)(n * 2); /* the varint of n (< 64): one byte */
	d[1] = neg ? 0xff : 0x00; /* the 9th byte, when n is 9 */
	for (i = n; i >= 1 && i > n - 8; i--, w >>= 8)
		d[i] = (uint8_t)(neg ? ~w : w);
	out->len += 1 + (size_t)n;
}

/* Splits a binary decimal (sign removed) into its digit groups, most
 * significant first: a partial leading group of the integer part, groups of
 * nine digits, then the fraction's, and a partial trailing group. val[i] is
 * a group's number, pow[i] 10 to the power of its digits. Returns the count
 * (at most 16 for precision 65), or -1 when a group has too large a value. */
static int
decimal_groups(const uint8_t *q, int intg, int scale, uint32_t val[16],
    uint32_t pow[16])
{
	int parts[4][2] = {{intg % 9, 1}, {intg / 9, 0}, {scale / 9, 0},
	    {scale % 9, 1}}; /* {digits or groups, partial} */
	int i, j, n = 0, digits, bytes;

	for (i = 0; i < 4; i++) {
		int count = parts[i][1] ? parts[i][0] > 0 : parts[i][0];

		digits = parts[i][1] ? parts[i][0] : 9;
		bytes = dig2bytes[digits];
		for (j = 0; j < count; j++, q += bytes, n++) {
			val[n] = (uint32_t)b2a_be(q, bytes);
			pow[n] = pow10[digits];
			if (val[n] >= pow[n])
				return -1;
		}
	}
	return n;
}

static int
put_decimal(const struct b2a_column *c, const uint8_t *p, const uint8_t *end,
    struct cdc_buf *out, size_t *used, char *err, size_t errlen)
{
	int prec = c->meta >> 8, scale = c->meta & 0xff;
	size_t size = decimal_size(prec, scale);
	uint8_t buf[40], mag[32];
	uint32_t val[16], pow[16];
	int neg, i, n;

	NEED(size);
	if (size > sizeof(buf))
		return cdc_err(err, errlen, "decimal(%d,%d) too wide", prec,
		    scale);
	memcpy(buf, p, size);
	neg = !(buf[0] & 0x80);
	buf[0] ^= 0x80;
	if (neg)
		for (i = 0; i < (int)size; i++)
			buf[i] ^= 0xff;
	n = decimal_groups(buf, prec - scale, scale, val, pow);
	if (n == -1)
		return cdc_err(err, errlen, "column '%s': malformed decimal",
		    c->name);
	if (prec <= 18) {
		/* Fits in 64 bits: no big-number arithmetic. */
		uint64_t v = 0;

		for (i = 0; i < n; i++)
			v = v * pow[i] + val[i];
		put_int_bytes(out, neg, v);
	} else {
		memset(mag, 0, sizeof(mag)); /* a 0 byte keeps it positive */
		for (i = 0; i < n; i++)
			mag_muladd(mag, sizeof(mag), pow[i], val[i]);
		put_unscaled(out, neg, mag, sizeof(mag));
	}
	*used = size;
	return 0;
}

/* Packed TIME2/DATETIME2 fractional part, as my_time.cc reads it. */
static int64_t
frac_us(const uint8_t *p, int fsp)
{
	switch (fsp) {
	case 1:
	case 2:
		return (int64_t)(int8_t)p[0] * 10000;
	case 3:
	case 4:
		return (int64_t)(int16_t)b2a_be(p, 2) * 100;
	case 5:
	case 6:
		return (int64_t)(((int32_t)(b2a_be(p, 3) << 8)) >> 8);
	default:
		return 0;
	}
}

static int
frac_bytes(int fsp)
{
	return (fsp + 1) / 2;
}

/* Writes v (0 <= v < 10^width) as exactly width decimal digits, two at a
 * time from a table: a timestamp has seven fields to print. */
static int
digits(char *p, int64_t v, int width)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324"
	    "25262728293031323334353637383940414243444546474849"
	    "50515253545556575859606162636465666768697071727374"
	    "75767778798081828384858687888990919293949596979899";
	int i = width;

	for (; i >= 2; i -= 2, v /= 100)
		memcpy(p + i - 2, pairs + v % 100 * 2, 2);
	if (i == 1)
		p[0] = (char)('0' + v % 10);
	return width;
}

static void
put_iso(struct cdc_buf *out, int64_t secs, int64_t us, int fsp)
{
	int64_t days = secs / 86400, rem = secs % 86400, y;
	char buf[96];
	int n, i, m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	cdc_civil_from_days(days, &y, &m, &d);
	n = 0;
	n += digits(buf + n, y, 4);
	buf[n++] = '-';
	n += digits(buf + n, m, 2);
	buf[n++] = '-';
	n += digits(buf + n, d, 2);
	buf[n++] = 'T';
	n += digits(buf + n, rem / 3600, 2);
	buf[n++] = ':';
	n += digits(buf + n, rem / 60 % 60, 2);
	buf[n++] = ':';
	n += digits(buf + n, rem % 60, 2);
	if (fsp > 0) {
		char f[6];

		digits(f, us, 6);
		buf[n++] = '.';
		for (i = 0; i < fsp; i++)
			buf[n++] = f[i];
	}
	buf[n++] = 'Z';
	cdc_avro_put_bytes(out, buf, (size_t)n);
}

/* Length-prefixed values (VARCHAR, BLOB, JSON, GEOMETRY, VECTOR). */
static int
get_prefixed(const struct b2a_column *c, const uint8_t *p, const uint8_t *end,
    int lenbytes, const uint8_t **s, size_t *n, size_t *used, char *err,
    size_t errlen)
{
	uint64_t len;

	NEED(lenbytes);
	len = b2a_le(p, lenbytes);
	NEED((uint64_t)lenbytes + len);
	*s = p + lenbytes;
	*n = (size_t)len;
	*used = (size_t)lenbytes + (size_t)len;
	return 0;
}

static int
put_text(const struct b2a_column *c, const uint8_t *s, size_t n,
    struct cdc_buf *out, char *err, size_t errlen)
{
	struct cdc_buf t;
	char msg[CDC_ERRLEN];

	if (!c->convert) {
		cdc_avro_put_bytes(out, s, n);
		return 0;
	}
	cdc_buf_init(&t);
	if (b2a_to_utf8(c->collation, s, n, &t, msg, sizeof(msg)) == -1) {
		cdc_buf_fini(&t);
		return cdc_err(err, errlen, "column '%s': %s", c->name, msg);
	}
	cdc_avro_put_bytes(out, t.p, t.len);
	cdc_buf_fini(&t);
	return 0;
}


static int
put_zero_date(const struct b2a_column *c, struct cdc_buf *out)
{
	(void)c;
	cdc_avro_put_long(out, 0); /* the null branch */
	return 0;
}

/* The readers of the type table (types.c), one per storage format: each
 * decodes the value of column c at p, not past end, appends its Avro
 * encoding (union branch included) to out and sets *used. */

/* TINYINT to BIGINT, little-endian; BIGINT UNSIGNED as decimal(20,0). */
int
b2a_read_int(const struct b2a_column *c, const uint8_t *p, const uint8_t *end,
    struct cdc_buf *out, size_t *used, char *err, size_t errlen)
{
	int size = int_size(c->type);

	NEED(size);
	*used = (size_t)size;
	put_union(out, c, 1);
	if (c->kind == K_ULONG) {
		put_int_bytes(out, 0, b2a_le(p, size));
		return 0;
	}
	cdc_avro_put_long(out, int_value(c, p, size));
	return 0;
}

int
b2a_read_decimal(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	put_union(out, c, 1);
	return put_decimal(c, p, end, out, used, err, errlen);
}

/* FLOAT and DOUBLE: IEEE little-endian, as Avro has them. */
int
b2a_read_float(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	int size = c->type == MT_FLOAT ? 4 : 8;

	NEED(size);
	put_union(out, c, 1);
	cdc_buf_append(out, p, (size_t)size);
	*used = (size_t)size;
	return 0;
}

int
b2a_read_bit(const struct b2a_column *c, const uint8_t *p, const uint8_t *end,
    struct cdc_buf *out, size_t *used, char *err, size_t errlen)
{
	int bytes = (c->meta & 0xff) + ((c->meta >> 8) ? 1 : 0), i;
	uint8_t *d;

	NEED(bytes);
	*used = (size_t)bytes;
	put_union(out, c, 1);
	if (c->kind == K_BOOL) {
		cdc_buf_putc(out, p[bytes - 1] & 1);
		return 0;
	}
	cdc_avro_put_long(out, bytes);
	d = cdc_buf_reserve(out, (size_t)bytes);
	for (i = 0; i < bytes; i++) /* big-endian to Debezium's LE */
		d[i] = p[bytes - 1 - i];
	out->len += (size_t)bytes;
	return 0;
}

int
b2a_read_year(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	NEED(1);
	*used = 1;
	put_union(out, c, 1);
	cdc_avro_put_long(out, p[0] == 0 ? 0 : 1900 + p[0]);
	return 0;
}

int
b2a_read_date(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	uint64_t u;
	int d, m, y;

	NEED(3);
	*used = 3;
	u = b2a_le(p, 3);
	d = (int)(u & 31);
	m = (int)((u >> 5) & 15);
	y = (int)(u >> 9);
	if (d == 0 || m == 0)
		return put_zero_date(c, out);
	put_union(out, c, 1);
	cdc_avro_put_long(out, cdc_days_from_civil(y, m, d));
	return 0;
}

/* The old TIME: HHMMSS as a signed 3-byte integer. */
int
b2a_read_time(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	int32_t t;
	int64_t a, v;

	NEED(3);
	*used = 3;
	t = (int32_t)(b2a_le(p, 3) << 8) >> 8;
	a = t < 0 ? -(int64_t)t : t;
	v = ((a / 10000) * 3600 + (a / 100 % 100) * 60 + a % 100) * 1000000;
	put_union(out, c, 1);
	cdc_avro_put_long(out, t < 0 ? -v : v);
	return 0;
}

int
b2a_read_time2(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	int64_t packed, ip, frac, hms, v;
	int size, fsp = c->meta;

	size = 3 + frac_bytes(fsp);
	NEED(size);
	*used = (size_t)size;
	ip = (int64_t)b2a_be(p, 3) - 0x800000;
	frac = 0;
	if (fsp == 1 || fsp == 2) {
		frac = p[3];
		if (ip < 0 && frac != 0) {
			ip++;
			frac -= 0x100;
		}
		frac *= 10000;
	} else if (fsp == 3 || fsp == 4) {
		frac = (int64_t)b2a_be(p + 3, 2);
		if (ip < 0 && frac != 0) {
			ip++;
			frac -= 0x10000;
		}
		frac *= 100;
	}
	if (fsp >= 5)
		packed = (int64_t)b2a_be(p, 6) - 0x800000000000LL;
	else
		packed = ip * (1 << 24) + frac;
	v = packed < 0 ? -packed : packed;
	hms = v >> 24;
	frac = v % (1 << 24);
	v = (((hms >> 12) % 1024) * 3600 + ((hms >> 6) % 64) * 60 + hms % 64) *
	    1000000 + frac;
	put_union(out, c, 1);
	cdc_avro_put_long(out, packed < 0 ? -v : v);
	return 0;
}

/* DATETIME (the old YYYYMMDDhhmmss integer) and DATETIME2 (packed, then
 * the fraction). */
int
b2a_read_datetime(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	int64_t y, mo, d, h, mi, sec, us = 0, days, v;
	uint64_t u;
	int size, fsp = c->meta;

	if (c->type == MT_DATETIME) {
		NEED(8);
		*used = 8;
		u = b2a_le(p, 8);
		sec = (int64_t)(u % 100);
		mi = (int64_t)(u / 100 % 100);
		h = (int64_t)(u / 10000 % 100);
		d = (int64_t)(u / 1000000 % 100);
		mo = (int64_t)(u / 100000000 % 100);
		y = (int64_t)(u / 10000000000ULL);
		if (y > 9999 || mo > 12 || d > 31 || h > 23 || mi > 59 ||
		    sec > 59)
			return cdc_err(err, errlen, "column '%s': invalid "
			    "DATETIME %llu", c->name, (unsigned long long)u);
	} else {
		int64_t ip, ymd, ym, hms;

		size = 5 + frac_bytes(fsp);
		NEED(size);
		*used = (size_t)size;
		ip = (int64_t)b2a_be(p, 5) - 0x8000000000LL;
		us = frac_us(p + 5, fsp);
		ymd = ip >> 17;
		ym = ymd >> 5;
		hms = ip % (1 << 17);
		d = ymd % 32;
		mo = ym % 13;
		y = ym / 13;
		sec = hms % 64;
		mi = (hms >> 6) % 64;
		h = hms >> 12;
	}
	if (d == 0 || mo == 0)
		return put_zero_date(c, out);
	days = cdc_days_from_civil(y, mo, d);
	v = ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + us;
	put_union(out, c, 1);
	cdc_avro_put_long(out, c->kind == K_DATETIME_MS ? v / 1000 : v);
	return 0;
}

/* TIMESTAMP (seconds, little-endian) and TIMESTAMP2 (big-endian, then the
 * fraction). */
int
b2a_read_timestamp(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	int64_t secs, us = 0;
	int size, fsp = c->meta;

	if (c->type == MT_TIMESTAMP) {
		NEED(4);
		*used = 4;
		secs = (int64_t)b2a_le(p, 4);
		fsp = 0;
	} else {
		size = 4 + frac_bytes(fsp);
		NEED(size);
		*used = (size_t)size;
		secs = (int64_t)b2a_be(p, 4);
		if (fsp == 1 || fsp == 2)
			us = p[4] * 10000;
		else if (fsp == 3 || fsp == 4)
			us = (int64_t)b2a_be(p + 4, 2) * 100;
		else if (fsp >= 5)
			us = (int64_t)b2a_be(p + 4, 3);
	}
	if (secs == 0 && us == 0)
		return put_zero_date(c, out); /* '0000-00-00 ...' */
	put_union(out, c, 1);
	put_iso(out, secs, us, fsp);
	return 0;
}

/* VARCHAR, VARBINARY, CHAR and BINARY: a 1- or 2-byte length, then the
 * bytes. */
int
b2a_read_chars(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	const uint8_t *s;
	size_t n;

	if (get_prefixed(c, p, end, c->meta < 256 ? 1 : 2, &s, &n, used, err,
		errlen) == -1)
		return -1;
	put_union(out, c, 1);
	if (c->kind == K_BYTES && c->type != MT_STRING) {
		cdc_avro_put_bytes(out, s, n);
		return 0;
	}
	if (c->kind == K_BYTES) {
		/* BINARY(n): MySQL drops the trailing zero bytes in the row
		 * image; give the value back at full width. */
		size_t full = n < c->meta ? c->meta : n;
		uint8_t *d;

		cdc_avro_put_long(out, (int64_t)full);
		d = cdc_buf_reserve(out, full);
		memcpy(d, s, n);
		memset(d + n, 0, full - n);
		out->len += full;
		return 0;
	}
	return put_text(c, s, n, out, err, errlen);
}

static int
put_json(const struct b2a_column *c, const uint8_t *s, size_t n,
    struct cdc_buf *out, char *err, size_t errlen)
{
	struct cdc_buf t;
	char msg[CDC_ERRLEN];

	cdc_buf_init(&t);
	if (b2a_json_to_text(s, n, &t, msg, sizeof(msg)) == -1) {
		cdc_buf_fini(&t);
		return cdc_err(err, errlen, "column '%s': bad JSON value: %s",
		    c->name, msg);
	}
	cdc_avro_put_bytes(out, t.p, t.len);
	cdc_buf_fini(&t);
	return 0;
}

static int
put_geometry(const struct b2a_column *c, const uint8_t *s, size_t n,
    struct cdc_buf *out, char *err, size_t errlen)
{
	if (n < 4)
		return cdc_err(err, errlen, "column '%s': geometry shorter "
		    "than its SRID", c->name);
	cdc_avro_put_bytes(out, s + 4, n - 4);
	cdc_avro_put_long(out, 1);
	cdc_avro_put_long(out, (int64_t)(int32_t)b2a_le(s, 4));
	return 0;
}

static int
put_vector(const struct b2a_column *c, const uint8_t *s, size_t n,
    struct cdc_buf *out, char *err, size_t errlen)
{
	if (n % 4 != 0)
		return cdc_err(err, errlen, "column '%s': vector of %zu bytes",
		    c->name, n);
	if (n > 0) {
		cdc_avro_put_long(out, (int64_t)(n / 4));
		cdc_buf_append(out, s, n);
	}
	cdc_avro_put_long(out, 0);
	return 0;
}

/* The BLOBs and what is stored as one: TEXT, JSON, GEOMETRY, VECTOR. */
int
b2a_read_blob(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	const uint8_t *s;
	size_t n;

	if (c->meta < 1 || c->meta > 4)
		return cdc_err(err, errlen, "column '%s': bad length size %d",
		    c->name, c->meta);
	if (get_prefixed(c, p, end, c->meta, &s, &n, used, err, errlen) == -1)
		return -1;
	put_union(out, c, 1);
	switch (c->kind) {
	case K_STRING:
		return put_text(c, s, n, out, err, errlen);
	case K_JSON:
		return put_json(c, s, n, out, err, errlen);
	case K_GEOMETRY:
		return put_geometry(c, s, n, out, err, errlen);
	case K_VECTOR:
		return put_vector(c, s, n, out, err, errlen);
	default:
		cdc_avro_put_bytes(out, s, n);
		return 0;
	}
}

/* The values of SET member bits u, comma-separated. */
static int
put_set(const struct b2a_column *c, uint64_t u, struct cdc_buf *out,
    char *err, size_t errlen)
{
	struct cdc_buf t;
	size_t i;
	int rc;

	cdc_buf_init(&t);
	for (i = 0; i < c->nsymbols && i < 64; i++) {
		if (!(u & (1ULL << i)))
			continue;
		if (t.len > 0)
			cdc_buf_putc(&t, ',');
		cdc_buf_puts(&t, c->symbols[i]);
	}
	rc = put_text(c, t.p != NULL ? t.p : (const uint8_t *)"", t.len, out,
	    err, errlen);
	cdc_buf_fini(&t);
	return rc;
}

int
b2a_read_enum_set(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen)
{
	const uint8_t *s;
	uint64_t u;
	int size = c->meta;

	if (size < 1 || size > 8)
		return cdc_err(err, errlen, "column '%s': bad ENUM/SET size %d",
		    c->name, size);
	NEED(size);
	*used = (size_t)size;
	u = b2a_le(p, size);
	put_union(out, c, 1);
	if (c->nsymbols == 0) {
		/* No ENUM/SET values in the table map: the stored number, as
		 * text, is all there is. */
		char num[24];

		snprintf(num, sizeof(num), "%llu", (unsigned long long)u);
		cdc_avro_put_bytes(out, num, strlen(num));
		return 0;
	}
	if (c->type != MT_ENUM)
		return put_set(c, u, out, err, errlen);
	if (u == 0) {
		cdc_avro_put_bytes(out, "", 0);
		return 0;
	}
	if (u > c->nsymbols)
		return cdc_err(err, errlen, "column '%s': ENUM index %llu of %zu",
		    c->name, (unsigned long long)u, c->nsymbols);
	s = (const uint8_t *)c->symbols[u - 1];
	return put_text(c, s, strlen((const char *)s), out, err, errlen);
}
