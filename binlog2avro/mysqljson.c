/* MySQL binary JSON to text, and partial JSON update diffs.
 *
 * The facts come from MySQL: the binary format from sql-common/json_binary.cc
 * (parse_binary(), parse_value(), Value::element(), Value::key()), the text
 * from sql-common/json_dom.cc (wrapper_to_string(), double_quote()), doubles
 * from strings/dtoa.cc (my_gcvt()), temporal values from mysys/my_time.cc
 * (TIME_from_longlong_*_packed(), my_TIME_to_str()), decimals from
 * strings/decimal.cc (bin2decimal(), decimal2string()), base64 from
 * mysys/base64.cc, and the diff vector from sql/json_diff.cc
 * (Json_diff_vector::read_binary(), apply_json_diffs()) and sql/json_path.cc.
 * The code is our own.
 *
 * A binary document is a type byte and a value. Objects and arrays start
 * with an element count and a byte size (2 bytes each in the small format,
 * 4 in the large one), then for objects one key entry per member (key
 * offset, 2-byte key length), then one value entry per element (type byte,
 * then either the value itself when it is inlined or its offset). Offsets
 * count from the first byte after the container's type byte. Literals and
 * 16-bit integers are always inlined, 32-bit integers in the large format.
 * All integers are little-endian. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "mysqljson.h"

/* Type bytes of the binary format. */
enum {
	JB_SMALL_OBJECT = 0x00,
	JB_LARGE_OBJECT = 0x01,
	JB_SMALL_ARRAY = 0x02,
	JB_LARGE_ARRAY = 0x03,
	JB_LITERAL = 0x04,
	JB_INT16 = 0x05,
	JB_UINT16 = 0x06,
	JB_INT32 = 0x07,
	JB_UINT32 = 0x08,
	JB_INT64 = 0x09,
	JB_UINT64 = 0x0a,
	JB_DOUBLE = 0x0b,
	JB_STRING = 0x0c,
	JB_OPAQUE = 0x0f
};

/* MySQL field types (enum_field_types) that opaque values print specially. */
enum {
	FT_TIMESTAMP = 7,
	FT_DATE = 10,
	FT_TIME = 11,
	FT_DATETIME = 12,
	FT_NEWDECIMAL = 246,
	FT_VAR_STRING = 253
};

/* Containers nest at most this deep. MySQL refuses documents deeper than
 * 100 (JSON_DOCUMENT_MAX_DEPTH); the margin only bounds our recursion. */
#define MAX_DEPTH 200

/* MY_GCVT_MAX_FIELD_WIDTH: DBL_DIG + 4 + max(5, MAX_DECPT_FOR_F_FORMAT). */
#define GCVT_WIDTH	   34
#define MAX_DECPT_FOR_F	   15

enum jtype {
	J_NULL,
	J_TRUE,
	J_FALSE,
	J_INT,
	J_UINT,
	J_DOUBLE,
	J_STRING,
	J_OPAQUE,
	J_OBJECT,
	J_ARRAY
};

struct member {
	char *key;
	size_t klen;
	struct b2a_json *val;
};

struct b2a_json {
	enum jtype type;
	union {
		int64_t i;
		uint64_t u;
		double d;
		struct {
			uint8_t *p;
			size_t n;
			unsigned ftype; /* J_OPAQUE: the MySQL field type */
		} str;
		struct {
			struct member *m;
			size_t n, cap;
		} obj;
		struct {
			struct b2a_json **v;
			size_t n, cap;
		} arr;
	} u;
};

/* A decoded scalar; p points into the binary document (or a DOM node). */
struct scalar {
	enum jtype type;
	int64_t i;
	uint64_t u;
	double d;
	const uint8_t *p;
	size_t n;
	unsigned ftype;
};

/* Decoding state. Every region a value occupies is charged against budget,
 * which starts at the document's size: values in a well-formed document do
 * not overlap, so a document whose entries point at shared bytes (and whose
 * text could grow exponentially) runs out and is rejected. */
struct rd {
	const uint8_t *base; /* offsets in messages count from here */
	size_t budget;
	char *err;
	size_t errlen;
};

/* An opened object or array. */
struct cont {
	const uint8_t *p; /* first byte after the type byte */
	size_t len;	  /* the container's own byte size */
	size_t hdr;	  /* counts, key entries and value entries */
	uint32_t count;
	int large;
	int object;
};

static int
bad(struct rd *r, const uint8_t *at, const char *what)
{
	return cdc_err(r->err, r->errlen,
	    "invalid binary JSON at offset %zu: %s", (size_t)(at - r->base),
	    what);
}

static int
charge(struct rd *r, const uint8_t *at, size_t n)
{
	if (n > r->budget)
		return bad(r, at, "values overlap");
	r->budget -= n;
	return 0;
}

static uint32_t
rd16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint32_t
rd_off(const uint8_t *p, int large)
{
	return large ? rd32(p) : rd16(p);
}

static int
is_container(int type)
{
	return type >= JB_SMALL_OBJECT && type <= JB_LARGE_ARRAY;
}

/* Whether a value of this type sits in its value entry. */
static int
inlined_type(int type, int large)
{
	switch (type) {
	case JB_LITERAL:
	case JB_INT16:
	case JB_UINT16:
		return 1;
	case JB_INT32:
	case JB_UINT32:
		return large;
	default:
		return 0;
	}
}

/* Reads the variable-length length of strings and opaque values: 7 bits a
 * byte, least significant first, high bit set on all but the last byte, at
 * most 5 bytes and 32 bits. */
static int
varlen(const uint8_t *p, size_t n, uint32_t *len, size_t *used)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && i < 5; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			if (v > UINT32_MAX)
				return -1;
			*len = (uint32_t)v;
			*used = i + 1;
			return 0;
		}
	}
	return -1;
}

/* ---- Decimals (opaque MYSQL_TYPE_NEWDECIMAL) ---- */

static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t pow10_32[10] = {1, 10, 100, 1000, 10000, 100000,
    1000000, 10000000, 100000000, 1000000000};

/* Reads a k-byte big-endian group of MySQL's binary decimal at pos, undoing
 * the sign bit flip of the first byte and the inversion of negatives. */
static uint32_t
dec_group(const uint8_t *b, size_t pos, int k, uint8_t mask)
{
	uint32_t v = 0;
	int j;

	for (j = 0; j < k; j++) {
		uint8_t c = b[pos + j];

		if (pos + j == 0)
			c ^= 0x80;
		v = v << 8 | (uint8_t)(c ^ mask);
	}
	return v;
}

static void
put_digits(char *to, uint32_t v, int n)
{
	while (n-- > 0) {
		to[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Decodes a JSON decimal: precision and scale bytes, then MySQL's binary
 * decimal (decimal2bin()). Appends decimal2string()'s text to out, or only
 * validates when out is NULL. Returns -1 if malformed. */
static int
dec_text(const uint8_t *p, size_t n, struct cdc_buf *out)
{
	char ip[80], fp[40];
	const uint8_t *b;
	size_t pos = 0, ni = 0, nf = 0, lead;
	int prec, scale, intg, intg0, intg0x, frac0, frac0x, i, neg;
	uint8_t mask;
	uint32_t v;

	if (n < 2)
		return -1;
	prec = p[0];
	scale = p[1];
	if (prec < 1 || prec > 65 || scale > 30 || scale > prec)
		return -1;
	intg = prec - scale;
	intg0 = intg / 9;
	intg0x = intg % 9;
	frac0 = scale / 9;
	frac0x = scale % 9;
	if ((size_t)(intg0 * 4 + dig2bytes[intg0x] + frac0 * 4 +
		dig2bytes[frac0x]) != n - 2)
		return -1;
	b = p + 2;
	neg = (b[0] & 0x80) == 0;
	mask = neg ? 0xff : 0;
	if (intg0x > 0) {
		v = dec_group(b, pos, dig2bytes[intg0x], mask);
		pos += (size_t)dig2bytes[intg0x];
		if (v >= pow10_32[intg0x])
			return -1;
		put_digits(ip + ni, v, intg0x);
		ni += (size_t)intg0x;
	}
	for (i = 0; i < intg0; i++) {
		v = dec_group(b, pos, 4, mask);
		pos += 4;
		if (v > 999999999)
			return -1;
		put_digits(ip + ni, v, 9);
		ni += 9;
	}
	for (i = 0; i < frac0; i++) {
		v = dec_group(b, pos, 4, mask);
		pos += 4;
		if (v > 999999999)
			return -1;
		put_digits(fp + nf, v, 9);
		nf += 9;
	}
	if (frac0x > 0) {
		v = dec_group(b, pos, dig2bytes[frac0x], mask);
		if (v >= pow10_32[frac0x])
			return -1;
		put_digits(fp + nf, v, frac0x);
		nf += (size_t)frac0x;
	}
	if (out == NULL)
		return 0;
	for (lead = 0; lead < ni && ip[lead] == '0'; lead++)
		;
	/* bin2decimal() makes an all-zero DECIMAL(M,0) a plain 0 but keeps
	 * the sign of a negative zero with a fraction ("-0.00"). */
	if (neg && !(scale == 0 && lead == ni))
		cdc_buf_putc(out, '-');
	if (lead == ni)
		cdc_buf_putc(out, '0');
	else
		cdc_buf_append(out, ip + lead, ni - lead);
	if (nf > 0) {
		cdc_buf_putc(out, '.');
		cdc_buf_append(out, fp, nf);
	}
	return 0;
}

/* ---- Temporal values (opaque DATE, TIME, DATETIME, TIMESTAMP) ---- */

/* Prints an 8-byte packed temporal value as my_TIME_to_str(t, to, 6) does,
 * in double quotes. */
static void
time_text(unsigned ftype, const uint8_t *p, struct cdc_buf *out)
{
	uint64_t raw = rd64(p), mag, ip;
	unsigned frac;
	int neg = (raw >> 63) != 0;

	mag = neg ? (uint64_t)0 - raw : raw;
	frac = (unsigned)(mag % (1u << 24) % 1000000);
	ip = mag >> 24;
	if (ftype == FT_TIME) {
		cdc_buf_printf(out, "\"%s%02u:%02u:%02u.%06u\"", neg ? "-" : "",
		    (unsigned)((ip >> 12) % 1024), (unsigned)((ip >> 6) % 64),
		    (unsigned)(ip % 64), frac);
	} else {
		uint64_t ymd = ip >> 17, ym = ymd >> 5, hms = ip % (1u << 17);
		unsigned year = (unsigned)(ym / 13);
		unsigned month = (unsigned)(ym % 13);
		unsigned day = (unsigned)(ymd % 32);

		/* my_datetime_to_str() ignores the sign. */
		if (ftype == FT_DATE)
			cdc_buf_printf(out, "\"%04u-%02u-%02u\"", year, month,
			    day);
		else
			cdc_buf_printf(out,
			    "\"%04u-%02u-%02u %02u:%02u:%02u.%06u\"", year,
			    month, day, (unsigned)(hms >> 12),
			    (unsigned)((hms >> 6) % 64), (unsigned)(hms % 64),
			    frac);
	}
}

/* ---- Text output ---- */

/* Appends s as a JSON string the way double_quote() does: \" \\ \b \t \n
 * \f \r, \u00xx for other bytes below 0x20, everything else as is. */
static void
put_string(const uint8_t *s, size_t n, struct cdc_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	cdc_buf_reserve(out, n + 2);
	cdc_buf_putc(out, '"');
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];
		char e[6];
		size_t en = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		cdc_buf_append(out, s + run, i - run);
		run = i + 1;
		e[0] = '\\';
		switch (c) {
		case '\b':
			e[1] = 'b';
			break;
		case '\t':
			e[1] = 't';
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\f':
			e[1] = 'f';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '"':
		case '\\':
			e[1] = (char)c;
			break;
		default:
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 0xf];
			en = 6;
			break;
		}
		cdc_buf_append(out, e, en);
	}
	cdc_buf_append(out, s + run, n - run);
	cdc_buf_putc(out, '"');
}

static void
put_u64(uint64_t v, int neg, struct cdc_buf *out)
{
	char b[24];
	size_t i = sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (neg)
		b[--i] = '-';
	cdc_buf_append(out, b + i, sizeof(b) - i);
}

/* Opaque values MySQL has no text for print as "base64:typeNN:<base64>",
 * with base64_encode()'s newline after every 76 characters (escaped by the
 * quoting). */
static void
put_base64(unsigned ftype, const uint8_t *s, size_t n, struct cdc_buf *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, col = 0;

	cdc_buf_printf(out, "\"base64:type%u:", ftype);
	for (i = 0; i < n; i += 3) {
		uint32_t c = (uint32_t)s[i] << 16;
		char q[4];

		if (col == 76) {
			cdc_buf_append(out, "\\n", 2);
			col = 0;
		}
		if (i + 1 < n)
			c |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			c |= s[i + 2];
		q[0] = tab[c >> 18 & 0x3f];
		q[1] = tab[c >> 12 & 0x3f];
		q[2] = i + 1 < n ? tab[c >> 6 & 0x3f] : '=';
		q[3] = i + 2 < n ? tab[c & 0x3f] : '=';
		cdc_buf_append(out, q, 4);
		col += 4;
	}
	cdc_buf_putc(out, '"');
}

/* The shortest digits that read back as x (x > 0, finite), as dtoa() mode
 * 0 (and my_gcvt()'s mode 4 with 34 digits) gives them: dig gets len
 * digits without trailing zeros, *decpt the position of the decimal point
 * (x = 0.dig * 10^decpt). Of the candidates of the shortest length, printf
 * gives the nearest; when x is a power of two its lower neighbour is twice
 * as close, and the next candidate up may be the only one that reads back. */
static size_t
shortest_digits(double x, char *dig, int *decpt)
{
	char buf[48], alt[48];
	uint64_t bits;
	size_t len = 0, i;
	int prec, e = 0, pow2;
	char *s;

	memcpy(&bits, &x, sizeof(bits));
	pow2 = (bits & ((UINT64_C(1) << 52) - 1)) == 0 &&
	    (bits >> 52 & 0x7ff) > 1;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
		if (strtod(buf, NULL) == x)
			break;
		if (pow2 && strtod(buf, NULL) < x) {
			/* Try the candidate one unit in the last place up. */
			char d[24];
			size_t nd = 0;
			int carry = 1, ee;

			for (s = buf; *s != 'e' && *s != '\0'; s++)
				if (*s >= '0' && *s <= '9')
					d[nd++] = *s;
			ee = (int)strtol(s + 1, NULL, 10);
			for (i = nd; i-- > 0 && carry;) {
				if (d[i] == '9') {
					d[i] = '0';
				} else {
					d[i]++;
					carry = 0;
				}
			}
			if (carry) {
				d[0] = '1';
				ee++;
			}
			d[nd] = '\0';
			snprintf(alt, sizeof(alt), "%c.%se%d", d[0],
			    nd > 1 ? d + 1 : "0", ee);
			if (strtod(alt, NULL) == x) {
				snprintf(buf, sizeof(buf), "%se%d", d, ee);
				/* buf now has no decimal point; the loop
				 * below does not need one. */
				break;
			}
		}
	}
	for (s = buf; *s != 'e' && *s != '\0'; s++)
		if (*s >= '0' && *s <= '9')
			dig[len++] = *s;
	if (*s == 'e')
		e = (int)strtol(s + 1, NULL, 10);
	while (len > 1 && dig[len - 1] == '0')
		len--;
	*decpt = e + 1;
	return len;
}

void
b2a_json_double_text(double x, struct cdc_buf *out)
{
	char dig[24], b[64];
	size_t len, n = 0, i;
	int decpt, width, exp_len, flen, have_space, force_e, neg;

	if (!isfinite(x)) {
		/* dtoa() reports overflow and my_gcvt() prints "0". */
		cdc_buf_puts(out, "0.0");
		return;
	}
	neg = signbit(x) != 0;
	width = GCVT_WIDTH - (x < 0.0 ? 1 : 0);
	if (x == 0.0) {
		dig[0] = '0';
		len = 1;
		decpt = 1;
	} else {
		len = shortest_digits(fabs(x), dig, &decpt);
	}
	exp_len = 1 + (decpt >= 101 || decpt <= -99) +
	    (decpt >= 11 || decpt <= -9);
	/* The length of the 'f' format. */
	if (decpt <= 0)
		flen = (int)len - decpt + 2;
	else if (decpt < (int)len)
		flen = (int)len + 1;
	else
		flen = decpt;
	have_space = flen <= width;
	force_e = decpt <= 0 && width <= 2 - decpt && width >= 3 + exp_len;
	if ((have_space ||
		(decpt <= width &&
		    (decpt >= -1 || (decpt == -2 && (len > 1 || !force_e))) &&
		    !force_e)) &&
	    (!have_space ||
		(decpt >= -MAX_DECPT_FOR_F + 1 &&
		    (decpt <= MAX_DECPT_FOR_F || (int)len > decpt)))) {
		/* 'f' format; with at most 17 digits it always fits. */
		if (neg)
			b[n++] = '-';
		if (decpt <= 0) {
			b[n++] = '0';
			b[n++] = '.';
			for (i = 0; (int)i < -decpt; i++)
				b[n++] = '0';
		}
		for (i = 1; i <= len; i++) {
			b[n++] = dig[i - 1];
			if ((int)i == decpt && i < len)
				b[n++] = '.';
		}
		for (; (int)i <= decpt; i++)
			b[n++] = '0';
	} else {
		/* 'e' format, exponent without '+' or zero padding. */
		int ex = decpt - 1;

		if (neg)
			b[n++] = '-';
		b[n++] = dig[0];
		if (len > 1) {
			b[n++] = '.';
			memcpy(b + n, dig + 1, len - 1);
			n += len - 1;
		}
		b[n++] = 'e';
		if (ex < 0) {
			b[n++] = '-';
			ex = -ex;
		}
		if (ex >= 100) {
			b[n++] = (char)('0' + ex / 100);
			ex %= 100;
			b[n++] = (char)('0' + ex / 10);
		} else if (ex >= 10) {
			b[n++] = (char)('0' + ex / 10);
		}
		b[n++] = (char)('0' + ex % 10);
	}
	/* json_dom.cc keeps doubles distinguishable from integers. */
	if (memchr(b, '.', n) == NULL && memchr(b, 'e', n) == NULL) {
		b[n++] = '.';
		b[n++] = '0';
	}
	cdc_buf_append(out, b, n);
}

static void
put_scalar(const struct scalar *s, struct cdc_buf *out)
{
	switch (s->type) {
	case J_NULL:
		cdc_buf_append(out, "null", 4);
		break;
	case J_TRUE:
		cdc_buf_append(out, "true", 4);
		break;
	case J_FALSE:
		cdc_buf_append(out, "false", 5);
		break;
	case J_INT:
		if (s->i < 0)
			put_u64((uint64_t)0 - (uint64_t)s->i, 1, out);
		else
			put_u64((uint64_t)s->i, 0, out);
		break;
	case J_UINT:
		put_u64(s->u, 0, out);
		break;
	case J_DOUBLE:
		b2a_json_double_text(s->d, out);
		break;
	case J_STRING:
		put_string(s->p, s->n, out);
		break;
	case J_OPAQUE:
		switch (s->ftype) {
		case FT_NEWDECIMAL:
			(void)dec_text(s->p, s->n, out); /* checked when read */
			break;
		case FT_DATE:
		case FT_TIME:
		case FT_DATETIME:
		case FT_TIMESTAMP:
			time_text(s->ftype, s->p, out);
			break;
		case FT_VAR_STRING:
			/* MySQL 8 prints strings kept as opaque as strings. */
			put_string(s->p, s->n, out);
			break;
		default:
			put_base64(s->ftype, s->p, s->n, out);
			break;
		}
		break;
	default:
		break;
	}
}

/* ---- Reading the binary format ---- */

/* Decodes a scalar of the given type from p[0..n). An inlined value has
 * already been paid for with its entry; others are charged here. */
static int
scalar_decode(struct rd *r, int type, const uint8_t *p, size_t n,
    int inlined, struct scalar *s)
{
	size_t need, used;
	uint32_t len;

	memset(s, 0, sizeof(*s));
	switch (type) {
	case JB_LITERAL:
		need = 1;
		if (n < need)
			return bad(r, p, "truncated literal");
		if (p[0] > 2)
			return bad(r, p, "unknown literal");
		s->type = p[0] == 0 ? J_NULL : p[0] == 1 ? J_TRUE : J_FALSE;
		break;
	case JB_INT16:
	case JB_UINT16:
		need = 2;
		if (n < need)
			return bad(r, p, "truncated integer");
		if (type == JB_INT16) {
			s->type = J_INT;
			s->i = (int16_t)rd16(p);
		} else {
			s->type = J_UINT;
			s->u = rd16(p);
		}
		break;
	case JB_INT32:
	case JB_UINT32:
		need = 4;
		if (n < need)
			return bad(r, p, "truncated integer");
		if (type == JB_INT32) {
			s->type = J_INT;
			s->i = (int32_t)rd32(p);
		} else {
			s->type = J_UINT;
			s->u = rd32(p);
		}
		break;
	case JB_INT64:
	case JB_UINT64:
	case JB_DOUBLE:
		need = 8;
		if (n < need)
			return bad(r, p, "truncated 8-byte number");
		s->u = rd64(p);
		if (type == JB_INT64) {
			s->type = J_INT;
			s->i = (int64_t)s->u;
		} else if (type == JB_UINT64) {
			s->type = J_UINT;
		} else {
			s->type = J_DOUBLE;
			memcpy(&s->d, &s->u, sizeof(s->d));
		}
		break;
	case JB_STRING:
		if (varlen(p, n, &len, &used) == -1)
			return bad(r, p, "bad string length");
		if (len > n - used)
			return bad(r, p, "truncated string");
		need = used + len;
		s->type = J_STRING;
		s->p = p + used;
		s->n = len;
		break;
	case JB_OPAQUE:
		if (n < 1)
			return bad(r, p, "truncated opaque value");
		if (varlen(p + 1, n - 1, &len, &used) == -1)
			return bad(r, p, "bad opaque length");
		if (len > n - 1 - used)
			return bad(r, p, "truncated opaque value");
		need = 1 + used + len;
		s->type = J_OPAQUE;
		s->ftype = p[0];
		s->p = p + 1 + used;
		s->n = len;
		switch (s->ftype) {
		case FT_NEWDECIMAL:
			if (dec_text(s->p, s->n, NULL) == -1)
				return bad(r, p, "bad decimal");
			break;
		case FT_DATE:
		case FT_TIME:
		case FT_DATETIME:
		case FT_TIMESTAMP:
			if (s->n != 8)
				return bad(r, p, "bad temporal value");
			break;
		default:
			break;
		}
		break;
	default:
		return bad(r, p, "unknown value type");
	}
	return inlined ? 0 : charge(r, p, need);
}

/* Opens the object or array of the given type at p[0..avail). */
static int
cont_open(struct rd *r, int type, const uint8_t *p, size_t avail,
    struct cont *c)
{
	size_t osz;
	uint64_t hdr;

	c->large = type == JB_LARGE_OBJECT || type == JB_LARGE_ARRAY;
	c->object = type == JB_SMALL_OBJECT || type == JB_LARGE_OBJECT;
	osz = c->large ? 4 : 2;
	if (avail < 2 * osz)
		return bad(r, p, "truncated container header");
	c->count = rd_off(p, c->large);
	c->len = rd_off(p + osz, c->large);
	if (c->len > avail)
		return bad(r, p, "container size past the end");
	hdr = 2 * (uint64_t)osz +
	    (uint64_t)c->count * ((c->object ? osz + 2 : 0) + 1 + osz);
	if (hdr > c->len)
		return bad(r, p, "container header larger than the container");
	c->p = p;
	c->hdr = (size_t)hdr;
	return charge(r, p, c->hdr);
}

/* Finds value i of c: its type, where it is and how many bytes it may use. */
static int
cont_value(struct rd *r, const struct cont *c, size_t i, int *type,
    const uint8_t **vp, size_t *vn, int *inlined)
{
	size_t osz = c->large ? 4 : 2;
	const uint8_t *e = c->p + 2 * osz +
	    (c->object ? (size_t)c->count * (osz + 2) : 0) + i * (1 + osz);
	uint32_t off;

	*type = e[0];
	if (inlined_type(*type, c->large)) {
		*vp = e + 1;
		*vn = osz;
		*inlined = 1;
		return 0;
	}
	off = rd_off(e + 1, c->large);
	if (off < c->hdr || off >= c->len)
		return bad(r, e + 1, "value offset out of range");
	*vp = c->p + off;
	*vn = c->len - off;
	*inlined = 0;
	return 0;
}

/* Finds key i of object c. */
static int
cont_key(struct rd *r, const struct cont *c, size_t i, const uint8_t **kp,
    size_t *kn)
{
	size_t osz = c->large ? 4 : 2;
	const uint8_t *e = c->p + 2 * osz + i * (osz + 2);
	uint32_t off = rd_off(e, c->large), len = rd16(e + osz);

	if (off < c->hdr || off > c->len || len > c->len - off)
		return bad(r, e, "key out of range");
	*kp = c->p + off;
	*kn = len;
	return charge(r, e, len);
}

/* Appends the text of the value of the given type at p[0..n). */
static int
walk_text(struct rd *r, int type, const uint8_t *p, size_t n, int inlined,
    int depth, struct cdc_buf *out)
{
	struct scalar s;
	struct cont c;
	size_t i;

	if (!is_container(type)) {
		if (scalar_decode(r, type, p, n, inlined, &s) == -1)
			return -1;
		put_scalar(&s, out);
		return 0;
	}
	if (depth >= MAX_DEPTH)
		return bad(r, p, "nesting too deep");
	if (cont_open(r, type, p, n, &c) == -1)
		return -1;
	cdc_buf_putc(out, c.object ? '{' : '[');
	for (i = 0; i < c.count; i++) {
		const uint8_t *vp;
		size_t vn;
		int t, inl;

		if (i > 0)
			cdc_buf_append(out, ", ", 2);
		if (c.object) {
			const uint8_t *kp;
			size_t kn;

			if (cont_key(r, &c, i, &kp, &kn) == -1)
				return -1;
			put_string(kp, kn, out);
			cdc_buf_append(out, ": ", 2);
		}
		if (cont_value(r, &c, i, &t, &vp, &vn, &inl) == -1 ||
		    walk_text(r, t, vp, vn, inl, depth + 1, out) == -1)
			return -1;
	}
	cdc_buf_putc(out, c.object ? '}' : ']');
	return 0;
}

int
b2a_json_to_text(const uint8_t *p, size_t n, struct cdc_buf *out, char *err,
    size_t errlen)
{
	struct rd r = {p, n, err, errlen};
	size_t mark = out->len;

	if (n == 0) {
		cdc_buf_append(out, "null", 4);
		return 0;
	}
	if (walk_text(&r, p[0], p + 1, n - 1, 0, 0, out) == -1) {
		out->len = mark;
		return -1;
	}
	return 0;
}

/* ---- The DOM ---- */

static struct b2a_json *
node_new(enum jtype type)
{
	struct b2a_json *j = cdc_xcalloc(1, sizeof(*j));

	j->type = type;
	return j;
}

void
b2a_json_free(struct b2a_json *j)
{
	size_t i;

	if (j == NULL)
		return;
	switch (j->type) {
	case J_STRING:
	case J_OPAQUE:
		free(j->u.str.p);
		break;
	case J_OBJECT:
		for (i = 0; i < j->u.obj.n; i++) {
			free(j->u.obj.m[i].key);
			b2a_json_free(j->u.obj.m[i].val);
		}
		free(j->u.obj.m);
		break;
	case J_ARRAY:
		for (i = 0; i < j->u.arr.n; i++)
			b2a_json_free(j->u.arr.v[i]);
		free(j->u.arr.v);
		break;
	default:
		break;
	}
	free(j);
}

static uint8_t *
memdup(const uint8_t *p, size_t n)
{
	uint8_t *q = cdc_xmalloc(n + 1);

	if (n > 0)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

/* MySQL orders object keys by length, then bytewise
 * (Json_key_comparator). */
static int
key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	return an == 0 ? 0 : memcmp(a, b, an);
}

/* Inserts a member at position i of object o; takes ownership of key and
 * val. */
static void
obj_insert(struct b2a_json *o, size_t i, char *key, size_t klen,
    struct b2a_json *val)
{
	if (o->u.obj.n == o->u.obj.cap) {
		o->u.obj.cap = o->u.obj.cap ? 2 * o->u.obj.cap : 4;
		o->u.obj.m = cdc_xrealloc(o->u.obj.m,
		    o->u.obj.cap * sizeof(*o->u.obj.m));
	}
	memmove(o->u.obj.m + i + 1, o->u.obj.m + i,
	    (o->u.obj.n - i) * sizeof(*o->u.obj.m));
	o->u.obj.m[i].key = key;
	o->u.obj.m[i].klen = klen;
	o->u.obj.m[i].val = val;
	o->u.obj.n++;
}

/* Inserts val at position i of array a and takes ownership of it. */
static void
arr_insert(struct b2a_json *a, size_t i, struct b2a_json *val)
{
	if (a->u.arr.n == a->u.arr.cap) {
		a->u.arr.cap = a->u.arr.cap ? 2 * a->u.arr.cap : 4;
		a->u.arr.v = cdc_xrealloc(a->u.arr.v,
		    a->u.arr.cap * sizeof(*a->u.arr.v));
	}
	memmove(a->u.arr.v + i + 1, a->u.arr.v + i,
	    (a->u.arr.n - i) * sizeof(*a->u.arr.v));
	a->u.arr.v[i] = val;
	a->u.arr.n++;
}

/* Index of key in object o, or o->u.obj.n. */
static size_t
obj_find(const struct b2a_json *o, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < o->u.obj.n; i++)
		if (key_cmp(key, klen, o->u.obj.m[i].key, o->u.obj.m[i].klen) ==
		    0)
			break;
	return i;
}

static struct b2a_json *
walk_dom(struct rd *r, int type, const uint8_t *p, size_t n, int inlined,
    int depth)
{
	struct b2a_json *j;
	struct scalar s;
	struct cont c;
	size_t i;

	if (!is_container(type)) {
		if (scalar_decode(r, type, p, n, inlined, &s) == -1)
			return NULL;
		j = node_new(s.type);
		switch (s.type) {
		case J_INT:
			j->u.i = s.i;
			break;
		case J_UINT:
			j->u.u = s.u;
			break;
		case J_DOUBLE:
			j->u.d = s.d;
			break;
		case J_STRING:
		case J_OPAQUE:
			j->u.str.p = memdup(s.p, s.n);
			j->u.str.n = s.n;
			j->u.str.ftype = s.ftype;
			break;
		default:
			break;
		}
		return j;
	}
	if (depth >= MAX_DEPTH) {
		bad(r, p, "nesting too deep");
		return NULL;
	}
	if (cont_open(r, type, p, n, &c) == -1)
		return NULL;
	j = node_new(c.object ? J_OBJECT : J_ARRAY);
	/* The count is at most the header size over 3, so this is bounded
	 * by the input. */
	if (c.object) {
		j->u.obj.cap = c.count;
		j->u.obj.m = cdc_xcalloc(c.count, sizeof(*j->u.obj.m));
	} else {
		j->u.arr.cap = c.count;
		j->u.arr.v = cdc_xcalloc(c.count, sizeof(*j->u.arr.v));
	}
	for (i = 0; i < c.count; i++) {
		struct b2a_json *v;
		const uint8_t *vp, *kp = NULL;
		size_t vn, kn = 0;
		int t, inl;

		if (c.object && cont_key(r, &c, i, &kp, &kn) == -1)
			goto fail;
		if (cont_value(r, &c, i, &t, &vp, &vn, &inl) == -1)
			goto fail;
		v = walk_dom(r, t, vp, vn, inl, depth + 1);
		if (v == NULL)
			goto fail;
		if (c.object) {
			/* Keys stay in stored order, which is MySQL's. */
			j->u.obj.m[i].key = (char *)memdup(kp, kn);
			j->u.obj.m[i].klen = kn;
			j->u.obj.m[i].val = v;
			j->u.obj.n++;
		} else {
			j->u.arr.v[i] = v;
			j->u.arr.n++;
		}
	}
	return j;
fail:
	b2a_json_free(j);
	return NULL;
}

/* Parses a document; offsets in messages count from base. */
static struct b2a_json *
parse_at(const uint8_t *base, const uint8_t *p, size_t n, char *err,
    size_t errlen)
{
	struct rd r = {base, n, err, errlen};

	if (n == 0)
		return node_new(J_NULL);
	return walk_dom(&r, p[0], p + 1, n - 1, 0, 0);
}

struct b2a_json *
b2a_json_parse(const uint8_t *p, size_t n, char *err, size_t errlen)
{
	return parse_at(p, p, n, err, errlen);
}

static void
dom_text(const struct b2a_json *j, struct cdc_buf *out)
{
	struct scalar s;
	size_t i;

	switch (j->type) {
	case J_OBJECT:
		cdc_buf_putc(out, '{');
		for (i = 0; i < j->u.obj.n; i++) {
			if (i > 0)
				cdc_buf_append(out, ", ", 2);
			put_string((const uint8_t *)j->u.obj.m[i].key,
			    j->u.obj.m[i].klen, out);
			cdc_buf_append(out, ": ", 2);
			dom_text(j->u.obj.m[i].val, out);
		}
		cdc_buf_putc(out, '}');
		return;
	case J_ARRAY:
		cdc_buf_putc(out, '[');
		for (i = 0; i < j->u.arr.n; i++) {
			if (i > 0)
				cdc_buf_append(out, ", ", 2);
			dom_text(j->u.arr.v[i], out);
		}
		cdc_buf_putc(out, ']');
		return;
	default:
		break;
	}
	memset(&s, 0, sizeof(s));
	s.type = j->type;
	switch (j->type) {
	case J_INT:
		s.i = j->u.i;
		break;
	case J_UINT:
		s.u = j->u.u;
		break;
	case J_DOUBLE:
		s.d = j->u.d;
		break;
	case J_STRING:
	case J_OPAQUE:
		s.p = j->u.str.p;
		s.n = j->u.str.n;
		s.ftype = j->u.str.ftype;
		break;
	default:
		break;
	}
	put_scalar(&s, out);
}

void
b2a_json_text(const struct b2a_json *j, struct cdc_buf *out)
{
	dom_text(j, out);
}

/* ---- Partial updates ---- */

enum { OP_REPLACE = 0, OP_INSERT = 1, OP_REMOVE = 2 };

/* One leg of a path: a member name, or an array cell counted from the
 * start or (from_end, "last-N") from the end. */
struct leg {
	char *name; /* NULL for an array cell */
	size_t nlen;
	uint64_t idx;
	int from_end;
};

struct diff {
	int op;
	struct leg *legs;
	size_t nlegs;
	struct b2a_json *val;
	const uint8_t *path; /* for messages */
	size_t pathlen;
};

static void
legs_free(struct leg *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i].name);
	free(l);
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static void
put_utf8(struct cdc_buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		cdc_buf_putc(b, (int)cp);
	} else if (cp < 0x800) {
		cdc_buf_putc(b, (int)(0xc0 | cp >> 6));
		cdc_buf_putc(b, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		cdc_buf_putc(b, (int)(0xe0 | cp >> 12));
		cdc_buf_putc(b, (int)(0x80 | (cp >> 6 & 0x3f)));
		cdc_buf_putc(b, (int)(0x80 | (cp & 0x3f)));
	} else {
		cdc_buf_putc(b, (int)(0xf0 | cp >> 18));
		cdc_buf_putc(b, (int)(0x80 | (cp >> 12 & 0x3f)));
		cdc_buf_putc(b, (int)(0x80 | (cp >> 6 & 0x3f)));
		cdc_buf_putc(b, (int)(0x80 | (cp & 0x3f)));
	}
}

static int
hex4(const char *s, const char *end, uint32_t *v)
{
	int i;

	*v = 0;
	if (end - s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		int c = (unsigned char)s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* Decodes the double-quoted JSON string at *sp (the opening quote) into
 * b, leaving *sp after the closing quote. */
static int
json_string(const char **sp, const char *end, struct cdc_buf *b)
{
	const char *s = *sp + 1;

	while (s < end && *s != '"') {
		uint32_t cp, lo;

		if (*s != '\\') {
			cdc_buf_putc(b, (unsigned char)*s++);
			continue;
		}
		if (++s == end)
			return -1;
		switch (*s++) {
		case '"':
			cdc_buf_putc(b, '"');
			break;
		case '\\':
			cdc_buf_putc(b, '\\');
			break;
		case '/':
			cdc_buf_putc(b, '/');
			break;
		case 'b':
			cdc_buf_putc(b, '\b');
			break;
		case 'f':
			cdc_buf_putc(b, '\f');
			break;
		case 'n':
			cdc_buf_putc(b, '\n');
			break;
		case 'r':
			cdc_buf_putc(b, '\r');
			break;
		case 't':
			cdc_buf_putc(b, '\t');
			break;
		case 'u':
			if (hex4(s, end, &cp) == -1)
				return -1;
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (end - s < 6 || s[0] != '\\' ||
				    s[1] != 'u' ||
				    hex4(s + 2, end, &lo) == -1 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return -1;
			}
			put_utf8(b, cp);
			break;
		default:
			return -1;
		}
	}
	if (s == end)
		return -1;
	*sp = s + 1;
	return 0;
}

/* Reads the digits at *sp into *v. */
static int
path_number(const char **sp, const char *end, uint64_t *v)
{
	const char *s = *sp;

	*v = 0;
	if (s == end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	return 0;
}

/* Parses a JSON path of the kind a diff carries: '$' followed by member
 * legs (.name or ."quoted name") and array cell legs ([N], [last],
 * [last-N]). Wildcards, ranges and '**' cannot appear in a diff. */
static int
path_parse(const char *s, size_t n, struct leg **legsp, size_t *nlegsp)
{
	const char *end = s + n;
	struct leg *legs = NULL, l;
	size_t nlegs = 0, cap = 0;
	struct cdc_buf name;

	cdc_buf_init(&name);
	while (s < end && is_ws((unsigned char)*s))
		s++;
	if (s == end || *s++ != '$')
		goto fail;
	for (;;) {
		while (s < end && is_ws((unsigned char)*s))
			s++;
		if (s == end)
			break;
		memset(&l, 0, sizeof(l));
		if (*s == '.') {
			s++;
			while (s < end && is_ws((unsigned char)*s))
				s++;
			name.len = 0;
			if (s < end && *s == '"') {
				if (json_string(&s, end, &name) == -1)
					goto fail;
			} else {
				const char *b = s;

				while (s < end && !is_ws((unsigned char)*s) &&
				    *s != '.' && *s != '[' && *s != '*' &&
				    *s != '"')
					s++;
				if (s == b)
					goto fail;
				cdc_buf_append(&name, b, (size_t)(s - b));
			}
			l.nlen = name.len;
			l.name = (char *)memdup(name.p, name.len);
		} else if (*s == '[') {
			s++;
			while (s < end && is_ws((unsigned char)*s))
				s++;
			if (end - s >= 4 && memcmp(s, "last", 4) == 0) {
				s += 4;
				l.from_end = 1;
				while (s < end && is_ws((unsigned char)*s))
					s++;
				if (s < end && *s == '-') {
					s++;
					while (s < end &&
					    is_ws((unsigned char)*s))
						s++;
					if (path_number(&s, end, &l.idx) == -1)
						goto fail;
				}
			} else if (path_number(&s, end, &l.idx) == -1) {
				goto fail;
			}
			while (s < end && is_ws((unsigned char)*s))
				s++;
			if (s == end || *s++ != ']')
				goto fail;
		} else {
			goto fail;
		}
		if (nlegs == cap) {
			cap = cap ? 2 * cap : 4;
			legs = cdc_xrealloc(legs, cap * sizeof(*legs));
		}
		legs[nlegs++] = l;
	}
	cdc_buf_fini(&name);
	*legsp = legs;
	*nlegsp = nlegs;
	return 0;
fail:
	cdc_buf_fini(&name);
	legs_free(legs, nlegs);
	return -1;
}

/* Reads a length-encoded integer (net_field_length()): one byte below 251,
 * or 252/253/254 followed by 2, 3 or 8 little-endian bytes. */
static int
lenenc(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	size_t k;

	if (p == end)
		return -1;
	if (*p < 251) {
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	switch (*p) {
	case 252:
		k = 2;
		break;
	case 253:
		k = 3;
		break;
	case 254:
		k = 8;
		break;
	default:
		return -1; /* 251 is SQL NULL, 255 is not a length */
	}
	if ((size_t)(end - p - 1) < k)
		return -1;
	*pp = p + 1 + k;
	*v = 0;
	while (k-- > 0)
		*v = *v << 8 | p[1 + k];
	return 0;
}

/* Where an array cell leg points in an array of size n
 * (Json_array_index): *pos for an insertion, return value whether the
 * cell exists. */
static int
cell_pos(const struct leg *l, size_t n, size_t *pos)
{
	if (l->from_end)
		*pos = l->idx < n ? n - 1 - (size_t)l->idx : 0;
	else
		*pos = l->idx < n ? (size_t)l->idx : n;
	return l->idx < n;
}

/* Follows legs from j without auto-wrapping (seek_exact_path()). */
static struct b2a_json *
seek(struct b2a_json *j, const struct leg *l, size_t n)
{
	size_t i, pos;

	for (i = 0; i < n; i++) {
		if (j->type == J_ARRAY && l[i].name == NULL) {
			if (!cell_pos(&l[i], j->u.arr.n, &pos))
				return NULL;
			j = j->u.arr.v[pos];
		} else if (j->type == J_OBJECT && l[i].name != NULL) {
			pos = obj_find(j, l[i].name, l[i].nlen);
			if (pos == j->u.obj.n)
				return NULL;
			j = j->u.obj.m[pos].val;
		} else {
			return NULL;
		}
	}
	return j;
}

/* Applies one diff as apply_json_diffs() does on the DOM. Takes the value
 * on success. */
static int
diff_apply(struct b2a_json *doc, struct diff *df)
{
	const struct leg *last = &df->legs[df->nlegs - 1];
	struct b2a_json *parent;
	size_t pos;

	parent = seek(doc, df->legs, df->nlegs - 1);
	if (parent == NULL)
		return -1;
	if (parent->type == J_OBJECT && last->name != NULL) {
		pos = obj_find(parent, last->name, last->nlen);
		switch (df->op) {
		case OP_REPLACE:
			if (pos == parent->u.obj.n)
				return -1;
			b2a_json_free(parent->u.obj.m[pos].val);
			parent->u.obj.m[pos].val = df->val;
			break;
		case OP_INSERT:
			if (pos != parent->u.obj.n)
				return -1;
			for (pos = 0; pos < parent->u.obj.n; pos++)
				if (key_cmp(last->name, last->nlen,
					parent->u.obj.m[pos].key,
					parent->u.obj.m[pos].klen) < 0)
					break;
			obj_insert(parent, pos,
			    (char *)memdup((const uint8_t *)last->name,
				last->nlen),
			    last->nlen, df->val);
			break;
		default:
			if (pos == parent->u.obj.n)
				return -1;
			free(parent->u.obj.m[pos].key);
			b2a_json_free(parent->u.obj.m[pos].val);
			memmove(parent->u.obj.m + pos,
			    parent->u.obj.m + pos + 1,
			    (parent->u.obj.n - pos - 1) *
				sizeof(*parent->u.obj.m));
			parent->u.obj.n--;
			break;
		}
	} else if (parent->type == J_ARRAY && last->name == NULL) {
		int exists = cell_pos(last, parent->u.arr.n, &pos);

		switch (df->op) {
		case OP_REPLACE:
			if (!exists)
				return -1;
			b2a_json_free(parent->u.arr.v[pos]);
			parent->u.arr.v[pos] = df->val;
			break;
		case OP_INSERT:
			arr_insert(parent, pos, df->val);
			break;
		default:
			if (!exists)
				return -1;
			b2a_json_free(parent->u.arr.v[pos]);
			memmove(parent->u.arr.v + pos,
			    parent->u.arr.v + pos + 1,
			    (parent->u.arr.n - pos - 1) *
				sizeof(*parent->u.arr.v));
			parent->u.arr.n--;
			break;
		}
	} else {
		return -1;
	}
	df->val = NULL;
	return 0;
}

static const char *const op_names[] = {"replace", "insert", "remove"};

int
b2a_json_apply_diffs(struct b2a_json *doc, const uint8_t *d, size_t n,
    char *err, size_t errlen)
{
	const uint8_t *p = d, *end = d + n;
	struct diff *dv = NULL;
	size_t ndv = 0, cap = 0, i;
	int rc = -1;

	while (p < end) {
		struct diff df;
		const uint8_t *at = p;
		uint64_t len;

		memset(&df, 0, sizeof(df));
		df.op = *p++;
		if (df.op > OP_REMOVE) {
			cdc_err(err, errlen,
			    "invalid JSON diff at offset %zu: operation %d",
			    (size_t)(at - d), df.op);
			goto out;
		}
		if (lenenc(&p, end, &len) == -1 || len > (uint64_t)(end - p)) {
			cdc_err(err, errlen,
			    "invalid JSON diff at offset %zu: bad path length",
			    (size_t)(at - d));
			goto out;
		}
		df.path = p;
		df.pathlen = (size_t)len;
		if (path_parse((const char *)p, df.pathlen, &df.legs,
			&df.nlegs) == -1 ||
		    df.nlegs == 0) {
			/* A diff never targets the root: MySQL logs a full
			 * value instead. */
			cdc_err(err, errlen,
			    "invalid JSON diff at offset %zu: bad path '%.*s'",
			    (size_t)(at - d),
			    (int)(df.pathlen > 200 ? 200 : df.pathlen),
			    (const char *)df.path);
			legs_free(df.legs, df.nlegs);
			goto out;
		}
		p += df.pathlen;
		if (df.op != OP_REMOVE) {
			if (lenenc(&p, end, &len) == -1 ||
			    len > (uint64_t)(end - p)) {
				cdc_err(err, errlen,
				    "invalid JSON diff at offset %zu: bad "
				    "value length",
				    (size_t)(at - d));
				legs_free(df.legs, df.nlegs);
				goto out;
			}
			df.val = parse_at(d, p, (size_t)len, err, errlen);
			if (df.val == NULL) {
				legs_free(df.legs, df.nlegs);
				goto out;
			}
			p += len;
		}
		if (ndv == cap) {
			cap = cap ? 2 * cap : 4;
			dv = cdc_xrealloc(dv, cap * sizeof(*dv));
		}
		dv[ndv++] = df;
	}
	for (i = 0; i < ndv; i++) {
		if (diff_apply(doc, &dv[i]) == -1) {
			cdc_err(err, errlen,
			    "JSON diff %zu (%s '%.*s') does not apply to the "
			    "document",
			    i + 1, op_names[dv[i].op],
			    (int)(dv[i].pathlen > 200 ? 200 : dv[i].pathlen),
			    (const char *)dv[i].path);
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < ndv; i++) {
		legs_free(dv[i].legs, dv[i].nlegs);
		b2a_json_free(dv[i].val);
	}
	free(dv);
	return rc;
}
