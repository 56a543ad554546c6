/* Snapshot values to Avro: a value the server sent in the binary protocol
 * is put back into the column's binlog storage format (MySQL's field.cc /
 * my_time.cc / decimal.c pack formats, the ones value.c reads) and decoded
 * by b2a_value(), so a snapshot read encodes every value byte for byte as
 * the binlog path encodes the same value. Also the text of key values in
 * snapshot positions. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avrobin.h"
#include "civil.h"
#include "log.h"
#include "snapshot.h"
#include "types.h"

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
static int
put_decimal(const struct b2a_column *c, const uint8_t *s, size_t n,
    struct cdc_buf *b, char *err, size_t errlen)
{
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

/* The binlog storage of v in column c. */
static int
storage(const struct b2a_column *c, const struct b2a_snapval *v,
    struct cdc_buf *b, char *err, size_t errlen)
{
	int fsp = c->meta, size;
	int64_t packed;

	switch (c->type) {
	case MT_TINY:
		put_le(b, (uint64_t)v->i, 1);
		return 0;
	case MT_SHORT:
		put_le(b, (uint64_t)v->i, 2);
		return 0;
	case MT_INT24:
		put_le(b, (uint64_t)v->i, 3);
		return 0;
	case MT_LONG:
		put_le(b, (uint64_t)v->i, 4);
		return 0;
	case MT_LONGLONG:
		put_le(b, (uint64_t)v->i, 8);
		return 0;
	case MT_YEAR:
		if (v->i != 0 && (v->i < 1901 || v->i > 2155))
			return cdc_err(err, errlen,
			    "column '%s': year %" PRId64, c->name, v->i);
		cdc_buf_putc(b, v->i == 0 ? 0 : (int)(v->i - 1900));
		return 0;
	case MT_NEWDECIMAL:
		return put_decimal(c, v->s, v->n, b, err, errlen);
	case MT_FLOAT: {
		uint32_t u;

		memcpy(&u, &v->f, 4);
		put_le(b, u, 4);
		return 0;
	}
	case MT_DOUBLE: {
		uint64_t u;

		memcpy(&u, &v->d, 8);
		put_le(b, u, 8);
		return 0;
	}
	case MT_BIT: {
		size_t bytes = (c->meta & 0xff) + ((c->meta >> 8) ? 1 : 0), i;

		if (v->n > bytes)
			return cdc_err(err, errlen, "column '%s': %zu bytes of "
			    "BIT", c->name, v->n);
		for (i = v->n; i < bytes; i++)
			cdc_buf_putc(b, 0);
		cdc_buf_append(b, v->s, v->n);
		return 0;
	}
	case MT_DATE:
	case MT_NEWDATE:
		put_le(b, v->day | (v->month << 5) | ((uint64_t)v->year << 9),
		    3);
		return 0;
	case MT_TIME2:
		packed = (int64_t)(((uint64_t)v->hour << 12) |
			     (v->minute << 6) | v->second)
			<< 24;
		packed += (int64_t)v->us;
		if (v->neg)
			packed = -packed;
		if (fsp >= 5) {
			put_be(b, (uint64_t)(packed + 0x800000000000LL), 6);
			return 0;
		}
		put_be(b, (uint64_t)(int_part(packed) + 0x800000), 3);
		put_frac(b, frac_part(packed), fsp);
		return 0;
	case MT_DATETIME2: {
		uint64_t ymd = ((uint64_t)(v->year * 13 + v->month) << 5) |
		    v->day;
		uint64_t hms = (v->hour << 12) | (v->minute << 6) | v->second;

		packed = (int64_t)(((ymd << 17) | hms) << 24) + (int64_t)v->us;
		put_be(b, (uint64_t)(int_part(packed) + 0x8000000000LL), 5);
		put_frac(b, frac_part(packed), fsp);
		return 0;
	}
	case MT_TIMESTAMP2: {
		int64_t secs = 0;

		if (v->year != 0 || v->month != 0 || v->day != 0)
			secs = cdc_days_from_civil(v->year, v->month, v->day) *
				86400 +
			    v->hour * 3600 + v->minute * 60 + v->second;
		if (secs < 0 || secs > UINT32_MAX)
			return cdc_err(err, errlen, "column '%s': timestamp "
			    "out of range", c->name);
		put_be(b, (uint64_t)secs, 4);
		put_frac(b, (int64_t)v->us, fsp);
		return 0;
	}
	case MT_VARCHAR:
	case MT_VAR_STRING:
	case MT_STRING:
		size = c->meta < 256 ? 1 : 2;
		if (v->n >= (size == 1 ? 256u : 65536u))
			return cdc_err(err, errlen, "column '%s': %zu bytes in "
			    "a column of %d", c->name, v->n, c->meta);
		put_le(b, v->n, size);
		cdc_buf_append(b, v->s, v->n);
		return 0;
	case MT_BLOB:
	case MT_TINY_BLOB:
	case MT_MEDIUM_BLOB:
	case MT_LONG_BLOB:
	case MT_GEOMETRY:
	case MT_VECTOR:
		if (c->meta < 1 || c->meta > 4 ||
		    (c->meta < 4 && v->n >> (8 * c->meta) != 0))
			return cdc_err(err, errlen, "column '%s': %zu bytes in "
			    "a column of %d length bytes", c->name, v->n,
			    c->meta);
		put_le(b, v->n, c->meta);
		cdc_buf_append(b, v->s, v->n);
		return 0;
	case MT_ENUM:
	case MT_SET:
		if (c->meta < 1 || c->meta > 8)
			return cdc_err(err, errlen, "column '%s': bad ENUM/SET "
			    "size %d", c->name, c->meta);
		put_le(b, (uint64_t)v->i, c->meta);
		return 0;
	default:
		return cdc_err(err, errlen, "column '%s' has type %d, which "
		    "a snapshot cannot read", c->name, c->type);
	}
}

int
b2a_snap_value(const struct b2a_column *c, const struct b2a_snapval *v,
    struct cdc_buf *out, char *err, size_t errlen)
{
	struct cdc_buf b;
	size_t used = 0;
	int rc;

	if (v->null) {
		if (!c->nullable)
			return cdc_err(err, errlen, "NULL in NOT NULL column "
			    "'%s'", c->name);
		cdc_avro_put_long(out, 0);
		return 0;
	}
	if (c->type == MT_JSON) {
		/* MySQL's JSON: the server prints the binary document as
		 * b2a_value() does. */
		if (c->nullable)
			cdc_avro_put_long(out, 1);
		cdc_avro_put_bytes(out, v->s, v->n);
		return 0;
	}
	cdc_buf_init(&b);
	rc = storage(c, v, &b, err, errlen);
	if (rc == 0)
		rc = b2a_value(c, b.p, b.p + b.len, out, &used, err, errlen);
	if (rc == 0 && used != b.len)
		rc = cdc_err(err, errlen, "column '%s': %zu of %zu bytes "
		    "decoded", c->name, used, b.len);
	cdc_buf_fini(&b);
	return rc;
}

int
b2a_snap_key_ok(const struct b2a_column *c)
{
	return !(b2a_types[c->type].flags & TF_NO_KEY);
}

int
b2a_snap_is_int(const struct b2a_column *c)
{
	return b2a_types[c->type].fetch == F_INT;
}

void
b2a_snap_key_text(const struct b2a_column *c, const struct b2a_snapval *v,
    struct cdc_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	switch (b2a_types[c->type].key) {
	case KEY_INT:
		if (c->is_unsigned || c->type == MT_ENUM || c->type == MT_SET)
			cdc_buf_printf(out, "%" PRIu64, (uint64_t)v->i);
		else
			cdc_buf_printf(out, "%" PRId64, v->i);
		return;
	case KEY_BIT: {
		uint64_t u = 0;

		for (i = 0; i < v->n; i++)
			u = (u << 8) | v->s[i];
		cdc_buf_printf(out, "%" PRIu64, u);
		return;
	}
	case KEY_DECIMAL:
		cdc_buf_append(out, v->s, v->n);
		return;
	case KEY_FLOAT: {
		uint32_t u;

		memcpy(&u, &v->f, 4);
		cdc_buf_printf(out, "%08" PRIx32, u);
		return;
	}
	case KEY_DOUBLE: {
		uint64_t u;

		memcpy(&u, &v->d, 8);
		cdc_buf_printf(out, "%016" PRIx64, u);
		return;
	}
	case KEY_DATE:
		cdc_buf_printf(out, "%04u-%02u-%02u", v->year, v->month,
		    v->day);
		return;
	case KEY_TIME:
		cdc_buf_printf(out, "%s%u:%02u:%02u.%06lu", v->neg ? "-" : "",
		    v->hour, v->minute, v->second, v->us);
		return;
	case KEY_DATETIME:
		cdc_buf_printf(out, "%04u-%02u-%02uT%02u:%02u:%02u.%06lu",
		    v->year, v->month, v->day, v->hour, v->minute, v->second,
		    v->us);
		return;
	default: /* KEY_HEX */
		for (i = 0; i < v->n; i++) {
			cdc_buf_putc(out, hex[v->s[i] >> 4]);
			cdc_buf_putc(out, hex[v->s[i] & 15]);
		}
		return;
	}
}

int
b2a_snap_key_parse(const struct b2a_column *c, const char *s, size_t n,
    struct b2a_snapval *v, struct cdc_buf *bytes)
{
	char t[128], *end;
	int k = 0, form = b2a_types[c->type].key;
	size_t i;

	memset(v, 0, sizeof(*v));
	bytes->len = 0;
	if (form == KEY_DECIMAL || form == KEY_HEX) {
		if (form == KEY_DECIMAL) {
			if (n == 0 || strspn(s, "0123456789.-") < n)
				return -1;
			cdc_buf_append(bytes, s, n);
		} else {
			if (n % 2 != 0)
				return -1;
			for (i = 0; i < n; i += 2) {
				int hi = b2a_hexval(s[i]);
				int lo = b2a_hexval(s[i + 1]);

				if (hi < 0 || lo < 0)
					return -1;
				cdc_buf_putc(bytes, hi << 4 | lo);
			}
		}
		v->s = bytes->p != NULL ? bytes->p : (const uint8_t *)"";
		v->n = bytes->len;
		return 0;
	}
	if (n == 0 || n >= sizeof(t))
		return -1;
	memcpy(t, s, n);
	t[n] = '\0';
	if (form == KEY_INT || form == KEY_BIT) {
		if (t[0] == '-' && (c->is_unsigned || form == KEY_BIT ||
		    c->type == MT_ENUM || c->type == MT_SET))
			return -1;
		if (t[0] == '-')
			v->i = (int64_t)strtoll(t, &end, 10);
		else
			v->i = (int64_t)strtoull(t, &end, 10);
		if (*end != '\0' || end == t)
			return -1;
		if (form == KEY_BIT) {
			/* Big-endian bytes, as the server sends BIT. */
			uint64_t u = (uint64_t)v->i;
			size_t nb = (c->meta & 0xff) + ((c->meta >> 8) ? 1 : 0);

			if (nb > 8)
				return -1;
			for (i = 0; i < nb; i++)
				cdc_buf_putc(bytes,
				    (int)((u >> (8 * (nb - 1 - i))) & 0xff));
			v->s = bytes->p != NULL ? bytes->p :
						  (const uint8_t *)"";
			v->n = bytes->len;
		}
		return 0;
	}
	switch (form) {
	case KEY_FLOAT: {
		uint32_t u;

		if (n != 8 || strspn(t, "0123456789abcdef") != 8)
			return -1;
		u = (uint32_t)strtoul(t, NULL, 16);
		memcpy(&v->f, &u, 4);
		return 0;
	}
	case KEY_DOUBLE: {
		uint64_t u;

		if (n != 16 || strspn(t, "0123456789abcdef") != 16)
			return -1;
		u = (uint64_t)strtoull(t, NULL, 16);
		memcpy(&v->d, &u, 8);
		return 0;
	}
	case KEY_DATE:
		if (sscanf(t, "%4u-%2u-%2u%n", &v->year, &v->month, &v->day,
			&k) != 3 || (size_t)k != n)
			return -1;
		return 0;
	case KEY_TIME:
		v->neg = t[0] == '-';
		if (sscanf(t + v->neg, "%u:%2u:%2u.%6lu%n", &v->hour,
			&v->minute, &v->second, &v->us, &k) != 4 ||
		    (size_t)k != n - (size_t)v->neg)
			return -1;
		return 0;
	default: /* KEY_DATETIME */
		if (sscanf(t, "%4u-%2u-%2uT%2u:%2u:%2u.%6lu%n", &v->year,
			&v->month, &v->day, &v->hour, &v->minute, &v->second,
			&v->us, &k) != 7 ||
		    (size_t)k != n)
			return -1;
		return 0;
	}
}
