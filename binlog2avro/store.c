/* The binlog storage formats written back: a value in parts, as a
 * server's binary protocol gives it, put into the bytes that value.c's
 * readers read (MySQL's field.cc / my_time.cc / decimal.c pack formats).
 * A snapshot encodes its values this way, so that each is encoded byte
 * for byte as the binlog path encodes the same value. No I/O. */
#include <inttypes.h>
#include <string.h>

#include "civil.h"
#include "log.h"
#include "types.h"
#include "value.h"

static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

static void
put_le(struct cdc_buf *b, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		cdc_buf_putc(b, (int)((v >> (8 * i)) & 0xff));
}

static void
put_be(struct cdc_buf *b, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--)
		cdc_buf_putc(b, (int)((v >> (8 * i)) & 0xff));
}

/* Digits of a group of k decimal digits at s as a number. */
static uint32_t
group(const char *s, int k)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < k; i++)
		v = v * 10 + (uint32_t)(s[i] - '0');
	return v;
}

/* MySQL's binary DECIMAL(prec, scale) of the text s[0..n) ("-12.50"). */
int
b2a_store_decimal(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	const uint8_t *s = v->s;
	size_t n = v->n;
	int prec = c->meta >> 8, scale = c->meta & 0xff, intg = prec - scale;
	char digits[2 * 66 + 2];
	size_t i = 0, ib, ie, fb, fe, k;
	int neg = 0, nonzero = 0, g;
	size_t start = b->len;
	const char *p;

	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	ib = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	ie = i;
	fb = fe = i;
	if (i < n && s[i] == '.') {
		fb = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		fe = i;
	}
	while (ib < ie && s[ib] == '0')
		ib++;
	if (i != n || ie - ib > (size_t)intg || fe - fb > (size_t)scale)
		return cdc_err(err, errlen, "column '%s': decimal '%.*s' does "
		    "not fit decimal(%d,%d)", c->name, (int)(n > 80 ? 80 : n),
		    (const char *)s, prec, scale);
	/* intg digits, zero-padded on the left, then scale digits padded on
	 * the right. */
	k = 0;
	for (i = 0; i < (size_t)intg - (ie - ib); i++)
		digits[k++] = '0';
	for (i = ib; i < ie; i++)
		digits[k++] = (char)s[i];
	for (i = fb; i < fe; i++)
		digits[k++] = (char)s[i];
	for (i = fe - fb; i < (size_t)scale; i++)
		digits[k++] = '0';
	for (i = 0; i < k; i++)
		nonzero |= digits[i] != '0';
	neg = neg && nonzero;
	p = digits;
	if (intg % 9 > 0) {
		put_be(b, group(p, intg % 9), dig2bytes[intg % 9]);
		p += intg % 9;
	}
	for (g = 0; g < intg / 9; g++, p += 9)
		put_be(b, group(p, 9), 4);
	for (g = 0; g < scale / 9; g++, p += 9)
		put_be(b, group(p, 9), 4);
	if (scale % 9 > 0)
		put_be(b, group(p, scale % 9), dig2bytes[scale % 9]);
	if (neg)
		for (i = start; i < b->len; i++)
			b->p[i] = (uint8_t)~b->p[i];
	b->p[start] ^= 0x80;
	return 0;
}

/* The fractional part of TIME2 / DATETIME2 / TIMESTAMP2 in fsp digits
 * (frac: the signed microseconds as my_time.cc keeps them). */
static void
put_frac(struct cdc_buf *b, int64_t frac, int fsp)
{
	if (fsp == 1 || fsp == 2)
		cdc_buf_putc(b, (int)(uint8_t)(int8_t)(frac / 10000));
	else if (fsp == 3 || fsp == 4)
		put_be(b, (uint64_t)(uint16_t)(int16_t)(frac / 100), 2);
	else if (fsp == 5 || fsp == 6)
		put_be(b, (uint64_t)(uint32_t)(int32_t)frac, 3);
}

/* MySQL's MY_PACKED_TIME_GET_INT_PART (an arithmetic shift: the floor) and
 * GET_FRAC_PART (C's remainder, with the sign of x). */
static int64_t
int_part(int64_t x)
{
	return x >= 0 ? x / (1 << 24) : -((-x + (1 << 24) - 1) / (1 << 24));
}

static int64_t
frac_part(int64_t x)
{
	return x % (1 << 24);
}

int
b2a_store_int(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	put_le(b, (uint64_t)v->i, int_size(c->type));
	return 0;
}

int
b2a_store_year(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	if (v->i != 0 && (v->i < 1901 || v->i > 2155))
		return cdc_err(err, errlen, "column '%s': year %" PRId64,
		    c->name, v->i);
	cdc_buf_putc(b, v->i == 0 ? 0 : (int)(v->i - 1900));
	return 0;
}

/* FLOAT and DOUBLE: their IEEE bits, little-endian. */
int
b2a_store_float(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	uint32_t u4;
	uint64_t u8;

	(void)err;
	(void)errlen;
	if (c->type == MT_FLOAT) {
		memcpy(&u4, &v->f, 4);
		put_le(b, u4, 4);
	} else {
		memcpy(&u8, &v->d, 8);
		put_le(b, u8, 8);
	}
	return 0;
}

/* BIT: the server's big-endian bytes, zero-padded to the column's. */
int
b2a_store_bit(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	size_t bytes = (c->meta & 0xff) + ((c->meta >> 8) ? 1 : 0), i;

	if (v->n > bytes)
		return cdc_err(err, errlen, "column '%s': %zu bytes of BIT",
		    c->name, v->n);
	for (i = v->n; i < bytes; i++)
		cdc_buf_putc(b, 0);
	cdc_buf_append(b, v->s, v->n);
	return 0;
}

int
b2a_store_date(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	(void)c;
	(void)err;
	(void)errlen;
	put_le(b, v->day | (v->month << 5) | ((uint64_t)v->year << 9), 3);
	return 0;
}

int
b2a_store_time2(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	int64_t packed;

	(void)err;
	(void)errlen;
	packed = (int64_t)(((uint64_t)v->hour << 12) | (v->minute << 6) |
		     v->second)
	    << 24;
	packed += (int64_t)v->us;
	if (v->neg)
		packed = -packed;
	if (c->meta >= 5) {
		put_be(b, (uint64_t)(packed + 0x800000000000LL), 6);
		return 0;
	}
	put_be(b, (uint64_t)(int_part(packed) + 0x800000), 3);
	put_frac(b, frac_part(packed), c->meta);
	return 0;
}

int
b2a_store_datetime2(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	uint64_t ymd = ((uint64_t)(v->year * 13 + v->month) << 5) | v->day;
	uint64_t hms = (v->hour << 12) | (v->minute << 6) | v->second;
	int64_t packed = (int64_t)(((ymd << 17) | hms) << 24) + (int64_t)v->us;

	(void)err;
	(void)errlen;
	put_be(b, (uint64_t)(int_part(packed) + 0x8000000000LL), 5);
	put_frac(b, frac_part(packed), c->meta);
	return 0;
}

/* TIMESTAMP2: seconds since the epoch (the session in UTC), fraction. */
int
b2a_store_timestamp2(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	int64_t secs = 0;

	if (v->year != 0 || v->month != 0 || v->day != 0)
		secs = cdc_days_from_civil(v->year, v->month, v->day) * 86400 +
		    v->hour * 3600 + v->minute * 60 + v->second;
	if (secs < 0 || secs > UINT32_MAX)
		return cdc_err(err, errlen, "column '%s': timestamp out of "
		    "range", c->name);
	put_be(b, (uint64_t)secs, 4);
	put_frac(b, (int64_t)v->us, c->meta);
	return 0;
}

/* VARCHAR, VAR_STRING and CHAR: a length of 1 or 2 bytes, the bytes. */
int
b2a_store_chars(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	int size = c->meta < 256 ? 1 : 2;

	if (v->n >= (size == 1 ? 256u : 65536u))
		return cdc_err(err, errlen, "column '%s': %zu bytes in a "
		    "column of %d", c->name, v->n, c->meta);
	put_le(b, v->n, size);
	cdc_buf_append(b, v->s, v->n);
	return 0;
}

/* BLOB and the types stored as one: a length of meta bytes, the bytes. */
int
b2a_store_blob(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	if (c->meta < 1 || c->meta > 4 ||
	    (c->meta < 4 && v->n >> (8 * c->meta) != 0))
		return cdc_err(err, errlen, "column '%s': %zu bytes in a "
		    "column of %d length bytes", c->name, v->n, c->meta);
	put_le(b, v->n, c->meta);
	cdc_buf_append(b, v->s, v->n);
	return 0;
}

int
b2a_store_enum_set(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	if (c->meta < 1 || c->meta > 8)
		return cdc_err(err, errlen, "column '%s': bad ENUM/SET size "
		    "%d", c->name, c->meta);
	put_le(b, (uint64_t)v->i, c->meta);
	return 0;
}
