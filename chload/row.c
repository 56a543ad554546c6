/* The row codec of chload: walks an envelope datum with its compiled schema
 * into cells (slices into the frame, no copies), writes cells as ClickHouse
 * RowBinary, and renders RowBinary rows back as JSON for --dry-run and the
 * dead-letter file. This is the hot path: no allocation per row. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "avrobin.h"
#include "avrojson.h"
#include "chload.h"
#include "decimal.h"

#define DAY_US (86400LL * 1000000LL)
/* DateTime64's range on current servers: 1900-01-01 .. 2299-12-31. Date
 * and DateTime are stored to 2149 and 2106, but 18.16's date tables end
 * with 2105: later values would read back wrong. */
#define DATE_MAX_DAYS 49709
#define DATETIME_MAX 4291747199LL
#define DT64_MIN_DAYS (-25567)
#define DT64_MAX_DAYS 120529

static int
skip(const struct av_node *nd, const uint8_t **p, const uint8_t *end)
{
	const uint8_t *s;
	int64_t v, count, i;
	size_t n;

	switch (nd->kind) {
	case AV_NULL:
		return 0;
	case AV_BOOLEAN:
		if (*p == end)
			return -1;
		(*p)++;
		return 0;
	case AV_INT:
	case AV_LONG:
	case AV_ENUM:
		return cdc_avro_dec_long(p, end, &v) == CDC_AVRO_OK ? 0 : -1;
	case AV_FLOAT:
	case AV_DOUBLE:
	case AV_FIXED:
		n = nd->kind == AV_FLOAT ? 4 : nd->kind == AV_DOUBLE ? 8 : nd->size;
		if ((size_t)(end - *p) < n)
			return -1;
		*p += n;
		return 0;
	case AV_BYTES:
	case AV_STRING:
		return cdc_avro_dec_bytes(p, end, &s, &n) == CDC_AVRO_OK ? 0 : -1;
	case AV_ARRAY:
	case AV_MAP:
		for (;;) {
			if (cdc_avro_dec_long(p, end, &count) != CDC_AVRO_OK)
				return -1;
			if (count == 0)
				return 0;
			if (count < 0) {
				/* A block with its byte size: jump over it. */
				if (cdc_avro_dec_long(p, end, &v) != CDC_AVRO_OK ||
				    v < 0 || v > end - *p)
					return -1;
				*p += v;
				continue;
			}
			for (i = 0; i < count; i++) {
				if (nd->kind == AV_MAP &&
				    cdc_avro_dec_bytes(p, end, &s, &n) !=
					CDC_AVRO_OK)
					return -1;
				if (skip(nd->child[0], p, end) == -1)
					return -1;
			}
		}
	case AV_UNION:
		if (cdc_avro_dec_long(p, end, &v) != CDC_AVRO_OK || v < 0 ||
		    (uint64_t)v >= nd->n)
			return -1;
		return skip(nd->child[v], p, end);
	case AV_RECORD:
		for (n = 0; n < nd->n; n++)
			if (skip(nd->child[n], p, end) == -1)
				return -1;
		return 0;
	}
	return -1;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
decode_cell(const struct col *cl, const uint8_t **p, const uint8_t *end,
    struct cell *c)
{
	const uint8_t *start;
	int64_t br;
	uint32_t u32;
	uint64_t u64;
	float f;

	if (cl->br_value >= 0) {
		if (cdc_avro_dec_long(p, end, &br) != CDC_AVRO_OK || br < 0 ||
		    br >= cl->nbranch)
			return -1;
		if (br == cl->br_absent) {
			/* The Absent enum's symbol index, always 0. */
			c->st = CELL_ABSENT;
			return cdc_avro_dec_long(p, end, &br) == CDC_AVRO_OK &&
			    br == 0 ? 0 : -1;
		}
		if (br == cl->br_null) {
			c->st = CELL_NULL;
			return 0;
		}
	}
	c->st = CELL_VALUE;
	switch (cl->av->kind) {
	case AV_BOOLEAN:
		if (*p == end)
			return -1;
		c->i = *(*p)++ != 0;
		return 0;
	case AV_INT:
	case AV_LONG:
	case AV_ENUM:
		return cdc_avro_dec_long(p, end, &c->i) == CDC_AVRO_OK ? 0 : -1;
	case AV_FLOAT:
		if (end - *p < 4)
			return -1;
		u32 = le32(*p);
		memcpy(&f, &u32, 4);
		c->d = f;
		*p += 4;
		return 0;
	case AV_DOUBLE:
		if (end - *p < 8)
			return -1;
		u64 = cdc_le64(*p);
		memcpy(&c->d, &u64, 8);
		*p += 8;
		return 0;
	case AV_BYTES:
	case AV_STRING:
		return cdc_avro_dec_bytes(p, end, &c->p, &c->n) == CDC_AVRO_OK ?
		    0 : -1;
	default:
		start = *p;
		if (skip(cl->av, p, end) == -1)
			return -1;
		c->p = start;
		c->n = (size_t)(*p - start);
		return 0;
	}
}

static int
decode_image(const struct tschema *s, const uint8_t **p, const uint8_t *end,
    struct cell *cells)
{
	size_t i;

	for (i = 0; i < s->ncols; i++)
		if (decode_cell(&s->cols[i], p, end, &cells[i]) == -1)
			return -1;
	return 0;
}

int
row_decode(const struct tschema *s, const uint8_t *p, size_t n,
    struct change *c, char *err, size_t errlen)
{
	const uint8_t *end = p + n, *op;
	const struct env_field *ef;
	int64_t br;
	size_t i, j, oplen;

	c->op = 0;
	c->has_before = c->has_after = 0;
	c->source_ts_ms = 0;
	for (i = 0; i < s->nenv; i++) {
		ef = &s->env[i];
		switch (ef->role) {
		case ENV_BEFORE:
		case ENV_AFTER:
			if (cdc_avro_dec_long(&p, end, &br) != CDC_AVRO_OK ||
			    br < 0 || br > 1)
				goto bad;
			if (br == ef->br_null)
				break;
			if (decode_image(s, &p, end,
				ef->role == ENV_BEFORE ? c->before : c->after) ==
			    -1)
				goto bad;
			if (ef->role == ENV_BEFORE)
				c->has_before = 1;
			else
				c->has_after = 1;
			break;
		case ENV_SOURCE:
			for (j = 0; j < ef->av->n; j++) {
				if ((int)j == s->source_ts) {
					if (cdc_avro_dec_long(&p, end,
						&c->source_ts_ms) != CDC_AVRO_OK)
						goto bad;
				} else if (skip(ef->av->child[j], &p, end) == -1) {
					goto bad;
				}
			}
			break;
		case ENV_OP:
			if (cdc_avro_dec_bytes(&p, end, &op, &oplen) !=
				CDC_AVRO_OK ||
			    oplen != 1)
				goto bad;
			c->op = (char)op[0];
			break;
		case ENV_SKIP:
			if (skip(ef->av, &p, end) == -1)
				goto bad;
			break;
		}
	}
	if (p != end)
		return cdc_err(err, errlen, "envelope does not use up its "
		    "%zu bytes", n);
	if (strchr("cudrt", c->op) == NULL || c->op == 0)
		return cdc_err(err, errlen, "unknown op '%c'", c->op);
	return 0;
bad:
	return cdc_err(err, errlen, "envelope does not decode with its schema");
}

/* ---- RowBinary ------------------------------------------------------- */

static void
put_varuint(struct cdc_buf *b, uint64_t v)
{
	uint8_t *d = cdc_buf_reserve(b, 10);
	size_t n = 0;

	while (v >= 0x80) {
		d[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	d[n++] = (uint8_t)v;
	b->len += n;
}

static void
put_le(struct cdc_buf *b, uint64_t v, int width)
{
	uint8_t *d = cdc_buf_reserve(b, (size_t)width);
	int i;

	for (i = 0; i < width; i++)
		d[i] = (uint8_t)(v >> (8 * i));
	b->len += (size_t)width;
}

static void
put_str(struct cdc_buf *b, const void *p, size_t n)
{
	put_varuint(b, n);
	cdc_buf_append(b, p, n);
}



static int
digits(const uint8_t **p, const uint8_t *end, int n, int64_t *v)
{
	*v = 0;
	while (n-- > 0) {
		if (*p == end || **p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (**p - '0');
		(*p)++;
	}
	return 0;
}

/* µs since the epoch of "YYYY-MM-DDTHH:MM:SS[.f]Z" (or +HH:MM). */
static int
parse_iso(const uint8_t *p, size_t n, int64_t *us)
{
	const uint8_t *end = p + n;
	int64_t y, mo, d, h, mi, s, f = 0, oh, om;
	int fd = 0, sign;

	if (digits(&p, end, 4, &y) || p == end || *p++ != '-' ||
	    digits(&p, end, 2, &mo) || p == end || *p++ != '-' ||
	    digits(&p, end, 2, &d) || p == end || (*p != 'T' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, end, 2, &h) || p == end || *p++ != ':' ||
	    digits(&p, end, 2, &mi) || p == end || *p++ != ':' ||
	    digits(&p, end, 2, &s))
		return -1;
	if (p < end && *p == '.') {
		p++;
		while (p < end && *p >= '0' && *p <= '9') {
			if (fd < 6) {
				f = f * 10 + (*p - '0');
				fd++;
			}
			p++;
		}
	}
	while (fd < 6) {
		f *= 10;
		fd++;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60)
		return -1;
	*us = (cdc_days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 +
		  mi * 60 + s) * 1000000 + f;
	if (p < end && *p == 'Z' && p + 1 == end)
		return 0;
	if (p < end && (*p == '+' || *p == '-')) {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, end, 2, &oh) || p == end || *p++ != ':' ||
		    digits(&p, end, 2, &om) || p != end)
			return -1;
		*us -= sign * (oh * 3600 + om * 60) * 1000000;
		return 0;
	}
	return -1;
}

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static const int64_t p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000,
    10000000, 100000000, 1000000000};

/* Appends a date as YYYY-MM-DD. */
static void
date_text(struct cdc_buf *out, int64_t days)
{
	int64_t y;
	int m, d;

	cdc_civil_from_days(days, &y, &m, &d);
	cdc_buf_printf(out, "%04" PRId64 "-%02d-%02d", y, m, d);
}

/* Appends v (units of 10^-scale seconds since the epoch) as YYYY-MM-DD
 * HH:MM:SS and scale fractional digits. */
static void
time_text(struct cdc_buf *out, int64_t v, int scale)
{
	int64_t sec = floordiv(v, p10[scale]), frac = v - sec * p10[scale];
	int64_t days = floordiv(sec, 86400), rem = sec - days * 86400;

	date_text(out, days);
	cdc_buf_printf(out, " %02d:%02d:%02d", (int)(rem / 3600),
	    (int)(rem / 60 % 60), (int)(rem % 60));
	if (scale > 0)
		cdc_buf_printf(out, ".%0*" PRId64, scale, frac);
}

/* A value outside the range of its column's type: the message names the
 * column, the value and the range; ROW_WIDEN when a wider type holds it. */
static int
out_of_range(const struct col *cl, const char *value, const char *range,
    char *err, size_t errlen)
{
	cdc_err(err, errlen, "column '%s': %s is outside the range of %s (%s)",
	    cl->name, value, cl->chtype, range);
	return cl->rep == REP_DAYS || cl->rep == REP_DECIMAL ? -1 : ROW_WIDEN;
}

static int
put_date(const struct col *cl, struct cdc_buf *b, int64_t days, char *err,
    size_t errlen)
{
	struct cdc_buf t;
	int rc;

	switch (cl->rep) {
	case REP_DATE:
		if (days >= 0 && days <= DATE_MAX_DAYS) {
			put_le(b, (uint64_t)days, 2);
			return 0;
		}
		break;
	case REP_DATE32:
		if (days >= DT64_MIN_DAYS && days <= DT64_MAX_DAYS) {
			put_le(b, (uint64_t)days, 4);
			return 0;
		}
		break;
	default:
		if (days >= INT32_MIN && days <= INT32_MAX) {
			put_le(b, (uint64_t)days, 4);
			return 0;
		}
		break;
	}
	cdc_buf_init(&t);
	date_text(&t, days);
	cdc_buf_putc(&t, '\0');
	rc = out_of_range(cl, (const char *)t.p, cl->rep == REP_DATE ?
	    "1970-01-01..2105-12-31" : cl->rep == REP_DATE32 ?
	    "1900-01-01..2299-12-31" : "Int32 days", err, errlen);
	cdc_buf_fini(&t);
	return rc;
}

/* A time of us microseconds since the epoch. */
static int
put_time(const struct col *cl, struct cdc_buf *b, int64_t us, char *err,
    size_t errlen)
{
	int64_t v, days = floordiv(us, DAY_US);
	const char *range = "";
	struct cdc_buf t;
	int rc;

	switch (cl->rep) {
	case REP_DATETIME:
		v = floordiv(us, 1000000);
		if (v >= 0 && v <= DATETIME_MAX) {
			put_le(b, (uint64_t)v, 4);
			return 0;
		}
		range = "1970-01-01 00:00:00..2105-12-31 23:59:59";
		break;
	case REP_DT64:
	case REP_DECIMAL:
		/* MySQL keeps at most 6 digits, so scale <= 6: exact. */
		v = floordiv(us, p10[6 - cl->scale]);
		if (cl->rep == REP_DT64 && days >= DT64_MIN_DAYS &&
		    days <= DT64_MAX_DAYS) {
			put_le(b, (uint64_t)v, 8);
			return 0;
		}
		if (cl->rep == REP_DECIMAL && v > -1000000000000000000LL &&
		    v < 1000000000000000000LL) {
			put_le(b, (uint64_t)v, 8);
			return 0;
		}
		range = cl->rep == REP_DT64 ? "1900-01-01..2299-12-31" :
					      "18 digits";
		break;
	default:
		return cdc_err(err, errlen, "column '%s': no time type",
		    cl->name);
	}
	cdc_buf_init(&t);
	time_text(&t, us, 6);
	cdc_buf_putc(&t, '\0');
	rc = out_of_range(cl, (const char *)t.p, range, err, errlen);
	cdc_buf_fini(&t);
	return rc;
}

/* Sign-extends a big-endian two's complement value into width bytes,
 * little-endian. -1 when it does not fit. */
static int
put_bigint(struct cdc_buf *b, const uint8_t *p, size_t n, int width)
{
	uint8_t fill = n > 0 && (p[0] & 0x80) ? 0xff : 0x00;
	uint8_t *d;
	size_t i;

	while (n > (size_t)width) {
		if (p[0] != fill || ((p[1] & 0x80) != (fill & 0x80)))
			return -1;
		p++;
		n--;
	}
	d = cdc_buf_reserve(b, (size_t)width);
	for (i = 0; i < (size_t)width; i++)
		d[i] = i < n ? p[n - 1 - i] : fill;
	b->len += (size_t)width;
	return 0;
}

static int
put_vector(const struct col *cl, struct cdc_buf *b, const struct cell *c)
{
	const uint8_t *p = c->p, *end = c->p + c->n;
	int64_t count, size, total = 0, i;

	/* Count first: RowBinary wants the length up front. */
	for (;;) {
		if (cdc_avro_dec_long(&p, end, &count) != CDC_AVRO_OK)
			return -1;
		if (count == 0)
			break;
		if (count < 0) {
			count = -count;
			if (cdc_avro_dec_long(&p, end, &size) != CDC_AVRO_OK)
				return -1;
		}
		if (count > (end - p) / 4)
			return -1;
		p += count * 4;
		total += count;
	}
	put_varuint(b, (uint64_t)total);
	p = c->p;
	for (;;) {
		cdc_avro_dec_long(&p, end, &count);
		if (count == 0)
			break;
		if (count < 0) {
			count = -count;
			cdc_avro_dec_long(&p, end, &size);
		}
		for (i = 0; i < count; i++, p += 4)
			cdc_buf_append(b, p, 4); /* both little-endian IEEE */
	}
	(void)cl;
	return 0;
}

static int
put_geometry(const struct col *cl, struct cdc_buf *b, const struct cell *c)
{
	const uint8_t *p = c->p, *end = c->p + c->n, *s;
	const struct av_node *srid;
	size_t n;
	int64_t br, v;

	if (cl->av->n != 2 || cdc_avro_dec_bytes(&p, end, &s, &n) != CDC_AVRO_OK)
		return -1;
	put_str(b, s, n);
	srid = cl->av->child[1];
	if (srid->kind == AV_UNION) {
		if (cdc_avro_dec_long(&p, end, &br) != CDC_AVRO_OK || br < 0 ||
		    (uint64_t)br >= srid->n)
			return -1;
		srid = srid->child[br];
	}
	if (srid->kind == AV_NULL) {
		cdc_buf_putc(b, 1);
		return 0;
	}
	if (cdc_avro_dec_long(&p, end, &v) != CDC_AVRO_OK)
		return -1;
	cdc_buf_putc(b, 0);
	put_le(b, (uint64_t)v, 4);
	return 0;
}

static int
put_value(const struct col *cl, const struct cell *c, struct cdc_buf *b,
    struct cdc_buf *tmp, char *err, size_t errlen)
{
	int64_t lo, hi, us;
	uint64_t u;
	float f;
	size_t i, n;
	const uint8_t *p;

	switch (cl->cv) {
	case CV_INT:
		if (cl->is_signed) {
			hi = (int64_t)((UINT64_C(1) << (8 * cl->width - 1)) - 1);
			lo = -hi - 1;
		} else {
			lo = 0;
			hi = cl->width == 8 ? INT64_MAX :
			    (int64_t)((UINT64_C(1) << (8 * cl->width)) - 1);
		}
		if (c->i < lo || c->i > hi)
			return cdc_err(err, errlen, "column '%s': %" PRId64
			    " out of range of %s", cl->name, c->i, cl->chtype);
		put_le(b, (uint64_t)c->i, cl->width);
		return 0;
	case CV_FLOAT32:
		f = (float)c->d;
		{
			uint32_t u32;

			memcpy(&u32, &f, 4);
			put_le(b, u32, 4);
		}
		return 0;
	case CV_FLOAT64:
		memcpy(&u, &c->d, 8);
		put_le(b, u, 8);
		return 0;
	case CV_DECIMAL:
		if (put_bigint(b, c->p, c->n, cl->width) == -1)
			return cdc_err(err, errlen, "column '%s': decimal too "
			    "wide for %s", cl->name, cl->chtype);
		return 0;
	case CV_DEC_UINT:
		p = c->p;
		n = c->n;
		if (n > 0 && (p[0] & 0x80))
			return cdc_err(err, errlen, "column '%s': negative "
			    "BIGINT UNSIGNED", cl->name);
		while (n > 8 && p[0] == 0) {
			p++;
			n--;
		}
		if (n > 8)
			return cdc_err(err, errlen, "column '%s': %zu-byte value "
			    "over UInt64", cl->name, c->n);
		for (u = 0, i = 0; i < n; i++)
			u = u << 8 | p[i];
		put_le(b, u, 8);
		return 0;
	case CV_DEC_TEXT:
		tmp->len = 0;
		cdc_decimal_text(c->p, c->n, cl->scale, tmp);
		put_str(b, tmp->p, tmp->len);
		return 0;
	case CV_BITS:
		n = c->n;
		while (n > 8 && c->p[n - 1] == 0)
			n--;
		if (n > 8)
			return cdc_err(err, errlen, "column '%s': BIT wider than "
			    "64", cl->name);
		for (u = 0, i = n; i > 0; i--)
			u = u << 8 | c->p[i - 1];
		put_le(b, u, 8);
		return 0;
	case CV_DATE:
		return put_date(cl, b, c->i, err, errlen);
	case CV_TS_MS:
		if (c->i > INT64_MAX / 1000 || c->i < INT64_MIN / 1000)
			return cdc_err(err, errlen, "column '%s': bad time",
			    cl->name);
		return put_time(cl, b, c->i * 1000, err, errlen);
	case CV_TS_US:
		return put_time(cl, b, c->i, err, errlen);
	case CV_TS_ISO:
		if (parse_iso(c->p, c->n, &us) == -1)
			return cdc_err(err, errlen, "column '%s': bad ISO 8601 "
			    "time '%.*s'", cl->name, (int)(c->n > 40 ? 40 : c->n),
			    (const char *)c->p);
		return put_time(cl, b, us, err, errlen);
	case CV_STRING:
		put_str(b, c->p, c->n);
		return 0;
	case CV_FIXED:
		if (c->n > cl->size)
			return cdc_err(err, errlen, "column '%s': %zu bytes for "
			    "%s", cl->name, c->n, cl->chtype);
		cdc_buf_append(b, c->p, c->n);
		memset(cdc_buf_reserve(b, cl->size - c->n), 0, cl->size - c->n);
		b->len += cl->size - c->n;
		return 0;
	case CV_ENUM:
		for (i = 0; i < cl->nsym; i++)
			if (cl->symlen[i] == c->n &&
			    memcmp(cl->sym[i], c->p, c->n) == 0)
				break;
		if (i == cl->nsym)
			return cdc_err(err, errlen, "column '%s': '%.*s' is not "
			    "a symbol of the enum", cl->name,
			    (int)(c->n > 40 ? 40 : c->n), (const char *)c->p);
		put_le(b, i, cl->width);
		return 0;
	case CV_ENUM_NUM:
	case CV_SET_NUM:
		for (u = 0, i = 0; i < c->n && i < 20 && c->p[i] >= '0' &&
		     c->p[i] <= '9'; i++)
			u = u * 10 + (uint64_t)(c->p[i] - '0');
		if (c->n == 0 || i != c->n ||
		    (cl->cv == CV_ENUM_NUM && u > cl->size) ||
		    (cl->cv == CV_SET_NUM && cl->nsym < 64 &&
			u >> cl->nsym != 0))
			return cdc_err(err, errlen, "column '%s': '%.*s' is not "
			    "a number of the %s", cl->name,
			    (int)(c->n > 40 ? 40 : c->n), (const char *)c->p,
			    cl->cv == CV_ENUM_NUM ? "enum" : "set");
		if (cl->cv == CV_ENUM_NUM) {
			put_le(b, u, cl->width);
			return 0;
		}
		tmp->len = 0;
		for (i = 0; i < cl->nsym && i < 64; i++) {
			if (!(u >> i & 1))
				continue;
			if (tmp->len > 0)
				cdc_buf_putc(tmp, ',');
			cdc_buf_append(tmp, cl->sym[i], cl->symlen[i]);
		}
		put_str(b, tmp->p, tmp->len);
		return 0;
	case CV_VECTOR:
		if (put_vector(cl, b, c) == -1)
			return cdc_err(err, errlen, "column '%s': bad vector",
			    cl->name);
		return 0;
	case CV_GEOMETRY:
		if (put_geometry(cl, b, c) == -1)
			return cdc_err(err, errlen, "column '%s': bad geometry",
			    cl->name);
		return 0;
	}
	return cdc_err(err, errlen, "column '%s': no conversion", cl->name);
}

/* The value a column gets for NULL when ClickHouse cannot store NULL (key
 * columns, arrays, tuples): its type's zero. */
static void
put_default(const struct col *cl, struct cdc_buf *b)
{
	switch (cl->cv) {
	case CV_INT:
	case CV_ENUM:
	case CV_ENUM_NUM:
		put_le(b, 0, cl->width);
		break;
	case CV_FLOAT32:
	case CV_DATE:
		put_le(b, 0, cl->rep == REP_DATE ? 2 : 4);
		break;
	case CV_FLOAT64:
	case CV_DEC_UINT:
	case CV_BITS:
		put_le(b, 0, 8);
		break;
	case CV_DECIMAL:
		put_le(b, 0, 8);
		if (cl->width > 8)
			put_le(b, 0, cl->width - 8);
		else
			b->len -= (size_t)(8 - cl->width);
		break;
	case CV_TS_MS:
	case CV_TS_US:
	case CV_TS_ISO:
		put_le(b, 0, cl->rep == REP_DATETIME ? 4 : 8);
		break;
	case CV_FIXED:
		memset(cdc_buf_reserve(b, cl->size), 0, cl->size);
		b->len += cl->size;
		break;
	case CV_GEOMETRY:
		put_varuint(b, 0);
		cdc_buf_putc(b, 1);
		break;
	case CV_STRING:
	case CV_DEC_TEXT:
	case CV_SET_NUM:
	case CV_VECTOR:
		put_varuint(b, 0);
		break;
	}
}

int
row_encode(const struct tschema *s, const struct cell *cells,
    uint64_t version, int deleted, int64_t ts_ms, struct cdc_buf *b,
    size_t *col, char *err, size_t errlen)
{
	size_t start = b->len, i;
	struct cdc_buf tmp;
	const struct col *cl;
	int rc = 0;

	cdc_buf_init(&tmp);
	for (i = 0; i < s->ncols; i++) {
		cl = &s->cols[i];
		switch (cells[i].st) {
		case CELL_ABSENT:
			rc = cdc_err(err, errlen, "column '%s' is not in the "
			    "row image (partial row images need the full row)",
			    cl->name);
			break;
		case CELL_NULL:
			if (cl->nullable)
				cdc_buf_putc(b, 1);
			else
				put_default(cl, b);
			break;
		case CELL_VALUE:
			if (cl->nullable)
				cdc_buf_putc(b, 0);
			rc = put_value(cl, &cells[i], b, &tmp, err, errlen);
			break;
		case CELL_RAW:
			cdc_buf_append(b, cells[i].p, cells[i].n);
			break;
		}
		if (rc != 0)
			break;
	}
	cdc_buf_fini(&tmp);
	if (rc != 0) {
		b->len = start;
		if (col != NULL)
			*col = i;
		return rc;
	}
	put_le(b, version, 8);
	cdc_buf_putc(b, deleted != 0);
	if (s->ts64) {
		put_le(b, (uint64_t)ts_ms, 8);
	} else {
		int64_t sec = floordiv(ts_ms, 1000);

		put_le(b, (uint64_t)(sec < 0 ? 0 : sec > DATETIME_MAX ?
					 DATETIME_MAX : sec), 4);
	}
	return 0;
}

int
row_key_equal(const struct tschema *s, const struct cell *a,
    const struct cell *b)
{
	const struct cell *x, *y;
	size_t k;

	for (k = 0; k < s->nkey; k++) {
		x = &a[s->key[k]];
		y = &b[s->key[k]];
		if (x->st != y->st)
			return 0;
		if (x->st != CELL_VALUE)
			continue;
		switch (s->cols[s->key[k]].av->kind) {
		case AV_BOOLEAN:
		case AV_INT:
		case AV_LONG:
		case AV_ENUM:
			if (x->i != y->i)
				return 0;
			break;
		case AV_FLOAT:
		case AV_DOUBLE:
			if (memcmp(&x->d, &y->d, sizeof(x->d)) != 0)
				return 0;
			break;
		default:
			if (x->n != y->n || memcmp(x->p, y->p, x->n) != 0)
				return 0;
		}
	}
	return 1;
}

/* ---- RowBinary to JSON ----------------------------------------------- */

struct rd {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t
get_le(struct rd *r, int width)
{
	uint64_t v = 0;
	int i;

	if (r->end - r->p < width) {
		r->bad = 1;
		return 0;
	}
	for (i = width - 1; i >= 0; i--)
		v = v << 8 | r->p[i];
	r->p += width;
	return v;
}

static int64_t
get_sle(struct rd *r, int width)
{
	uint64_t v = get_le(r, width);

	if (width < 8 && (v >> (8 * width - 1)) & 1)
		v |= ~UINT64_C(0) << (8 * width);
	return (int64_t)v;
}

static uint64_t
get_varuint(struct rd *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	for (;;) {
		if (r->p == r->end || shift > 63) {
			r->bad = 1;
			return 0;
		}
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if ((*r->p++ & 0x80) == 0)
			break;
		shift += 7;
	}
	return v;
}

static const uint8_t *
get_str(struct rd *r, size_t *n)
{
	uint64_t v = get_varuint(r);
	const uint8_t *s;

	if (r->bad || v > (uint64_t)(r->end - r->p)) {
		r->bad = 1;
		return NULL;
	}
	s = r->p;
	r->p += v;
	*n = (size_t)v;
	return s;
}

static void
json_time(struct cdc_buf *out, int64_t v, int scale)
{
	cdc_buf_putc(out, '"');
	time_text(out, v, scale);
	cdc_buf_putc(out, '"');
}

static void
json_float(struct cdc_buf *out, double d, int prec)
{
	if (isnan(d) || isinf(d))
		cdc_buf_printf(out, "\"%s\"", isnan(d) ? "nan" :
					      d > 0 ? "inf" : "-inf");
	else
		cdc_buf_printf(out, "%.*g", prec, d);
}

static void
json_value(const struct col *cl, struct rd *r, struct cdc_buf *out)
{
	const uint8_t *s;
	uint8_t be[32];
	struct cdc_buf tmp;
	uint64_t u, n, i;
	size_t len;
	float f;
	double dd;

	switch (cl->cv) {
	case CV_INT:
		if (cl->is_signed)
			cdc_buf_printf(out, "%" PRId64, get_sle(r, cl->width));
		else
			cdc_buf_printf(out, "%" PRIu64, get_le(r, cl->width));
		break;
	case CV_FLOAT32:
		u = get_le(r, 4);
		{
			uint32_t u32 = (uint32_t)u;

			memcpy(&f, &u32, 4);
		}
		json_float(out, f, 9);
		break;
	case CV_FLOAT64:
		u = get_le(r, 8);
		memcpy(&dd, &u, 8);
		json_float(out, dd, 17);
		break;
	case CV_DECIMAL:
		if (r->end - r->p < cl->width) {
			r->bad = 1;
			break;
		}
		for (i = 0; i < (uint64_t)cl->width; i++)
			be[i] = r->p[cl->width - 1 - i];
		r->p += cl->width;
		cdc_buf_init(&tmp);
		cdc_decimal_text(be, (size_t)cl->width, cl->scale, &tmp);
		cdc_buf_putc(out, '"');
		cdc_buf_append(out, tmp.p, tmp.len);
		cdc_buf_putc(out, '"');
		cdc_buf_fini(&tmp);
		break;
	case CV_DEC_UINT:
	case CV_BITS:
		cdc_buf_printf(out, "%" PRIu64, get_le(r, 8));
		break;
	case CV_DATE:
		cdc_buf_putc(out, '"');
		date_text(out, cl->rep == REP_DATE ? (int64_t)get_le(r, 2) :
						     get_sle(r, 4));
		cdc_buf_putc(out, '"');
		break;
	case CV_TS_MS:
	case CV_TS_US:
	case CV_TS_ISO:
		if (cl->rep == REP_DATETIME)
			json_time(out, (int64_t)get_le(r, 4), 0);
		else
			json_time(out, get_sle(r, 8), cl->scale);
		break;
	case CV_STRING:
	case CV_DEC_TEXT:
	case CV_SET_NUM:
		s = get_str(r, &len);
		if (s != NULL)
			cdc_json_str(out, s, len,
			    cl->cv == CV_STRING && cl->av->kind != AV_STRING);
		break;
	case CV_FIXED:
		if ((size_t)(r->end - r->p) < cl->size) {
			r->bad = 1;
			break;
		}
		cdc_json_str(out, r->p, cl->size, 1);
		r->p += cl->size;
		break;
	case CV_ENUM_NUM:
		cdc_buf_printf(out, "%" PRIu64, get_le(r, cl->width));
		break;
	case CV_ENUM:
		u = get_le(r, cl->width);
		if (u < cl->nsym)
			cdc_json_str(out, (const uint8_t *)cl->sym[u],
			    cl->symlen[u], 0);
		else
			cdc_buf_printf(out, "%" PRIu64, u);
		break;
	case CV_VECTOR:
		n = get_varuint(r);
		cdc_buf_putc(out, '[');
		for (i = 0; i < n && !r->bad; i++) {
			uint32_t u32 = (uint32_t)get_le(r, 4);

			memcpy(&f, &u32, 4);
			if (i > 0)
				cdc_buf_putc(out, ',');
			json_float(out, f, 9);
		}
		cdc_buf_putc(out, ']');
		break;
	case CV_GEOMETRY:
		s = get_str(r, &len);
		cdc_buf_puts(out, "{\"wkb\":");
		cdc_json_str(out, s != NULL ? s : (const uint8_t *)"",
		    s != NULL ? len : 0, 1);
		cdc_buf_puts(out, ",\"srid\":");
		if (get_le(r, 1))
			cdc_buf_puts(out, "null");
		else
			cdc_buf_printf(out, "%" PRId64, get_sle(r, 4));
		cdc_buf_putc(out, '}');
		break;
	}
}

int
row_to_json(const struct tschema *s, const uint8_t *p, size_t n,
    size_t *used, struct cdc_buf *out)
{
	struct rd r = {p, p + n, 0};
	const struct col *cl;
	size_t i;

	cdc_buf_putc(out, '{');
	for (i = 0; i < s->ncols && !r.bad; i++) {
		cl = &s->cols[i];
		cdc_json_str(out, (const uint8_t *)cl->name, strlen(cl->name), 0);
		cdc_buf_putc(out, ':');
		if (cl->nullable && get_le(&r, 1) != 0) {
			cdc_buf_puts(out, "null,");
			continue;
		}
		json_value(cl, &r, out);
		cdc_buf_putc(out, ',');
	}
	cdc_buf_printf(out, "\"_version\":%" PRIu64, get_le(&r, 8));
	cdc_buf_printf(out, ",\"_deleted\":%" PRIu64 ",\"_ts\":", get_le(&r, 1));
	if (s->ts64)
		json_time(out, get_sle(&r, 8), 3);
	else
		json_time(out, (int64_t)get_le(&r, 4), 0);
	cdc_buf_putc(out, '}');
	*used = (size_t)(r.p - p);
	return r.bad ? -1 : 0;
}

void
row_cells_json(const struct tschema *s, const struct cell *cells,
    struct cdc_buf *out)
{
	const struct col *cl;
	const struct cell *c;
	size_t i;

	cdc_buf_putc(out, '{');
	for (i = 0; i < s->ncols; i++) {
		cl = &s->cols[i];
		c = &cells[i];
		if (i > 0)
			cdc_buf_putc(out, ',');
		cdc_json_str(out, (const uint8_t *)cl->name, strlen(cl->name), 0);
		cdc_buf_putc(out, ':');
		if (c->st == CELL_RAW) {
			struct rd r = {c->p, c->p + c->n, 0};

			if (cl->nullable && get_le(&r, 1) != 0)
				cdc_buf_puts(out, "null");
			else
				json_value(cl, &r, out);
			continue;
		}
		if (c->st != CELL_VALUE) {
			cdc_buf_puts(out, c->st == CELL_NULL ? "null" :
							       "\"(absent)\"");
			continue;
		}
		switch (cl->av->kind) {
		case AV_BOOLEAN:
		case AV_INT:
		case AV_LONG:
		case AV_ENUM:
			cdc_buf_printf(out, "%" PRId64, c->i);
			break;
		case AV_FLOAT:
		case AV_DOUBLE:
			json_float(out, c->d, 17);
			break;
		default:
			cdc_json_str(out, c->p, c->n, cl->av->kind != AV_STRING);
		}
	}
	cdc_buf_putc(out, '}');
}

/* ---- Keys as SQL -------------------------------------------------------- */

static void
hex_literal(struct cdc_buf *out, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	cdc_buf_puts(out, "unhex('");
	for (i = 0; i < n; i++) {
		cdc_buf_putc(out, hex[p[i] >> 4]);
		cdc_buf_putc(out, hex[p[i] & 15]);
	}
	cdc_buf_puts(out, "')");
}

/* The literal of one RowBinary value (not Nullable) of column cl. */
static int
key_literal(const struct col *cl, struct rd *r, struct cdc_buf *out)
{
	const uint8_t *s;
	uint8_t be[32];
	int64_t v;
	size_t len, i;

	switch (cl->cv) {
	case CV_INT:
	case CV_DEC_UINT:
	case CV_BITS:
		if (cl->cv == CV_INT && cl->is_signed)
			cdc_buf_printf(out, "to%s('%" PRId64 "')", cl->chtype,
			    get_sle(r, cl->width));
		else
			cdc_buf_printf(out, "to%s('%" PRIu64 "')", cl->chtype,
			    get_le(r, cl->cv == CV_INT ? cl->width : 8));
		break;
	case CV_ENUM:
	case CV_ENUM_NUM:
		cdc_buf_printf(out, "CAST(toInt%d(%" PRId64 ") AS %s)",
		    cl->width * 8, get_sle(r, cl->width), cl->chtype);
		break;
	case CV_FLOAT32:
	case CV_FLOAT64:
		len = cl->cv == CV_FLOAT32 ? 4 : 8;
		if ((size_t)(r->end - r->p) < len)
			return -1;
		cdc_buf_printf(out, "reinterpretAsFloat%d(", (int)len * 8);
		hex_literal(out, r->p, len);
		cdc_buf_putc(out, ')');
		r->p += len;
		break;
	case CV_DECIMAL:
		if (r->end - r->p < cl->width || cl->width > 32)
			return -1;
		for (i = 0; i < (size_t)cl->width; i++)
			be[i] = r->p[cl->width - 1 - i];
		r->p += cl->width;
		cdc_buf_printf(out, "toDecimal%d('", cl->width * 8);
		cdc_decimal_text(be, (size_t)cl->width, cl->scale, out);
		cdc_buf_printf(out, "', %d)", cl->scale);
		break;
	case CV_STRING:
	case CV_DEC_TEXT:
	case CV_SET_NUM:
		s = get_str(r, &len);
		if (s == NULL)
			return -1;
		hex_literal(out, s, len);
		break;
	case CV_FIXED:
		if ((size_t)(r->end - r->p) < cl->size)
			return -1;
		cdc_buf_puts(out, "toFixedString(");
		hex_literal(out, r->p, cl->size);
		cdc_buf_printf(out, ", %zu)", cl->size);
		r->p += cl->size;
		break;
	case CV_DATE:
		if (cl->rep == REP_DAYS) {
			cdc_buf_printf(out, "toInt32('%" PRId64 "')",
			    get_sle(r, 4));
			break;
		}
		cdc_buf_printf(out, "to%s('", cl->rep == REP_DATE32 ? "Date32" :
								    "Date");
		date_text(out, cl->rep == REP_DATE ? (int64_t)get_le(r, 2) :
						     get_sle(r, 4));
		cdc_buf_puts(out, "')");
		break;
	case CV_TS_MS:
	case CV_TS_US:
	case CV_TS_ISO:
		if (cl->rep == REP_DATETIME) {
			cdc_buf_printf(out, "toDateTime(toUInt32('%" PRIu64 "'), "
			    "'UTC')", get_le(r, 4));
			break;
		}
		v = get_sle(r, 8);
		if (cl->rep == REP_DT64) {
			cdc_buf_puts(out, "toDateTime64('");
			time_text(out, v, cl->scale);
			cdc_buf_printf(out, "', %d, 'UTC')", cl->scale);
			break;
		}
		for (i = 0; i < 8; i++)
			be[i] = (uint8_t)((uint64_t)v >> (8 * (7 - i)));
		cdc_buf_puts(out, "toDecimal64('");
		cdc_decimal_text(be, 8, cl->scale, out);
		cdc_buf_printf(out, "', %d)", cl->scale);
		break;
	case CV_VECTOR:
	case CV_GEOMETRY:
		return -1;
	}
	return r->bad ? -1 : 0;
}

int
row_key_where(const struct tschema *s, const struct cell *cells,
    struct cdc_buf *out, char *err, size_t errlen)
{
	struct cdc_buf rb, tmp;
	const struct col *cl;
	const struct cell *c;
	struct rd r;
	size_t k;
	int rc = 0;

	cdc_buf_init(&rb);
	cdc_buf_init(&tmp);
	for (k = 0; k < s->nkey && rc == 0; k++) {
		cl = &s->cols[s->key[k]];
		c = &cells[s->key[k]];
		rb.len = 0;
		if (c->st == CELL_VALUE)
			rc = put_value(cl, c, &rb, &tmp, err, errlen) != 0 ?
			    -1 : 0;
		else if (c->st == CELL_NULL)
			put_default(cl, &rb);
		else
			rc = cdc_err(err, errlen, "key column '%s' is not in "
			    "the row image", cl->name);
		if (rc != 0)
			break;
		if (k > 0)
			cdc_buf_puts(out, " AND ");
		ch_quote_ident(out, cl->name, strlen(cl->name));
		cdc_buf_puts(out, " = ");
		r.p = rb.p;
		r.end = rb.p + rb.len;
		r.bad = 0;
		if (key_literal(cl, &r, out) == -1)
			rc = cdc_err(err, errlen, "key column '%s' of type %s "
			    "has no literal", cl->name, cl->chtype);
	}
	if (s->nkey == 0)
		rc = cdc_err(err, errlen, "the table has no primary key");
	cdc_buf_fini(&rb);
	cdc_buf_fini(&tmp);
	return rc;
}

size_t
row_value_len(const struct col *cl, const uint8_t *p, size_t n)
{
	struct rd r = {p, p + n, 0};
	struct cdc_buf scratch;

	if (cl->nullable && get_le(&r, 1) != 0)
		return r.bad ? 0 : 1;
	cdc_buf_init(&scratch);
	json_value(cl, &r, &scratch);
	cdc_buf_fini(&scratch);
	return r.bad ? 0 : (size_t)(r.p - p);
}
