/* binlog2avro's value decoding on hand-built row images: every storage
 * format at its edges, checked against MySQL's documented encodings and
 * against encoders written here from the format descriptions. */
#include <stdlib.h>
#include <string.h>

#include "avrobin.h"
#include "binlog.h"
#include "check.h"
#include "decimal.h"

static char err[512];
static struct cdc_buf out;
static char cname[] = "c";
static char sa[] = "a", sb[] = "b", sc[] = "c";

static struct b2a_column
col(uint8_t type, uint16_t meta, int uns, int nullable)
{
	struct b2a_column c;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.meta = meta;
	c.is_unsigned = uns;
	c.nullable = nullable;
	c.collation = 63;
	c.name = cname;
	switch (type) {
	case MT_LONGLONG:
		c.kind = uns ? K_ULONG : K_LONG;
		break;
	case MT_DATE:
	case MT_DATETIME2:
	case MT_TIMESTAMP2:
		c.zero_date_null = 1;
		c.kind = type == MT_DATE ? K_DATE :
		    type == MT_TIMESTAMP2 ? K_TIMESTAMP :
		    meta <= 3 ? K_DATETIME_MS : K_DATETIME_US;
		break;
	case MT_BIT:
		c.kind = (meta & 0xff) * 8 + (meta >> 8) == 1 ? K_BOOL : K_BITS;
		break;
	default:
		c.kind = K_BYTES;
	}
	return c;
}

/* Decodes p with c; returns 1 when all n bytes were used. */
static int
dec(struct b2a_column c, const void *p, size_t n)
{
	size_t used = 0;

	out.len = 0;
	if (b2a_value(&c, p, (const uint8_t *)p + n, &out, &used, err,
		sizeof(err)) == -1) {
		printf("# %s\n", err);
		return 0;
	}
	return used == n;
}

static int
long_is(size_t skip, int64_t want)
{
	const uint8_t *p = out.p + skip;
	int64_t v;

	return cdc_avro_dec_long(&p, out.p + out.len, &v) == 0 && v == want &&
	    p == out.p + out.len;
}

/* The Avro decimal bytes in out (after skip) as text with scale. */
static int
decimal_is(size_t skip, int scale, const char *want)
{
	const uint8_t *p = out.p + skip, *s;
	size_t n;
	struct cdc_buf t;
	int ok;

	if (cdc_avro_dec_bytes(&p, out.p + out.len, &s, &n) != 0)
		return 0;
	cdc_buf_init(&t);
	cdc_decimal_text(s, n, scale, &t);
	cdc_buf_putc(&t, '\0');
	ok = strcmp((char *)t.p, want) == 0 && p == out.p + out.len;
	if (!ok)
		printf("# decimal: got %s want %s\n", (char *)t.p, want);
	cdc_buf_fini(&t);
	return ok;
}

static int
string_is(size_t skip, const char *want)
{
	const uint8_t *p = out.p + skip, *s;
	size_t n;

	return cdc_avro_dec_bytes(&p, out.p + out.len, &s, &n) == 0 &&
	    n == strlen(want) && memcmp(s, want, n) == 0;
}

/* MySQL's binary DECIMAL, written from the format's description (groups of
 * 9 digits in 4 bytes, partial groups in dig2bytes bytes, sign bit flipped,
 * negative values inverted), for digit strings like "-123.45". */
static size_t
mysql_decimal(const char *s, int prec, int scale, uint8_t *out_)
{
	static const int d2b[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
	char ip[80] = "", fp[80] = "";
	const char *dot;
	int neg = s[0] == '-', intg = prec - scale, i, k, n = 0;
	size_t len;

	if (neg)
		s++;
	dot = strchr(s, '.');
	len = dot != NULL ? (size_t)(dot - s) : strlen(s);
	/* Left-pad the integer part to intg digits, right-pad the fraction
	 * to scale digits. */
	memset(ip, '0', (size_t)intg - len);
	memcpy(ip + intg - len, s, len);
	ip[intg] = '\0';
	memset(fp, '0', (size_t)scale);
	if (dot != NULL)
		memcpy(fp, dot + 1, strlen(dot + 1));
	fp[scale] = '\0';
	k = intg % 9;
	if (k > 0) {
		unsigned long v;
		char g[10];

		memcpy(g, ip, (size_t)k);
		g[k] = '\0';
		v = strtoul(g, NULL, 10);
		for (i = d2b[k] - 1; i >= 0; i--, v >>= 8)
			out_[n + i] = (uint8_t)v;
		n += d2b[k];
	}
	for (i = 0; i < intg / 9; i++) {
		char g[10];
		unsigned long v;
		int j;

		memcpy(g, ip + k + 9 * i, 9);
		g[9] = '\0';
		v = strtoul(g, NULL, 10);
		for (j = 3; j >= 0; j--, v >>= 8)
			out_[n + j] = (uint8_t)v;
		n += 4;
	}
	for (i = 0; i < scale / 9; i++) {
		char g[10];
		unsigned long v;
		int j;

		memcpy(g, fp + 9 * i, 9);
		g[9] = '\0';
		v = strtoul(g, NULL, 10);
		for (j = 3; j >= 0; j--, v >>= 8)
			out_[n + j] = (uint8_t)v;
		n += 4;
	}
	k = scale % 9;
	if (k > 0) {
		char g[10];
		unsigned long v;
		int j;

		memcpy(g, fp + scale - k, (size_t)k);
		g[k] = '\0';
		v = strtoul(g, NULL, 10);
		for (j = d2b[k] - 1; j >= 0; j--, v >>= 8)
			out_[n + j] = (uint8_t)v;
		n += d2b[k];
	}
	if (neg)
		for (i = 0; i < n; i++)
			out_[i] ^= 0xff;
	out_[0] ^= 0x80;
	return (size_t)n;
}

/* TIME2 of fsp 6: 6 bytes, (sign, hours, minutes, seconds, micros) packed
 * as MySQL's my_time_packed_to_binary does, from the format description. */
static void
time2_6(int neg, int h, int m, int s, int us, uint8_t *p)
{
	int64_t hms = ((int64_t)h << 12) | (m << 6) | s;
	int64_t packed = (hms << 24) + us;
	uint64_t v;
	int i;

	if (neg)
		packed = -packed;
	v = (uint64_t)(packed + 0x800000000000LL);
	for (i = 5; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int
main(void)
{
	uint8_t b[64], *big;
	size_t n;
	int ok;

	check_file = "test_binlog2avro_value";
	cdc_buf_init(&out);

	/* The old DATETIME: a decimal YYYYMMDDhhmmss in 8 bytes; fields out
	 * of range are corrupt (found by make fuzz: a huge year overflowed
	 * the microsecond arithmetic). */
	{
		struct b2a_column c = col(MT_DATETIME, 0, 0, 0);
		uint64_t v;

		c.kind = K_DATETIME_MS;
		v = 20240229123456ULL;
		cdc_put_le64(b, v);
		CHECK("old datetime 2024-02-29 12:34:56", dec(c, b, 8) &&
			long_is(0, 1709210096000LL));
		v = 18446744073709551615ULL;
		cdc_put_le64(b, v);
		CHECK("old datetime with a year past 9999 is refused",
		    !dec(c, b, 8) && strstr(err, "invalid DATETIME") != NULL);
		v = 20241301000000ULL;
		cdc_put_le64(b, v);
		CHECK("old datetime month 13 is refused", !dec(c, b, 8));
	}

	/* Integers. */
	CHECK("tinyint -128", dec(col(MT_TINY, 0, 0, 0), "\x80", 1) &&
	    long_is(0, -128));
	CHECK("tinyint unsigned 255", dec(col(MT_TINY, 0, 1, 0), "\xff", 1) &&
	    long_is(0, 255));
	CHECK("mediumint -8388608", dec(col(MT_INT24, 0, 0, 0),
	    "\x00\x00\x80", 3) && long_is(0, -8388608));
	CHECK("mediumint unsigned max", dec(col(MT_INT24, 0, 1, 0),
	    "\xff\xff\xff", 3) && long_is(0, 16777215));
	CHECK("int unsigned max", dec(col(MT_LONG, 0, 1, 0),
	    "\xff\xff\xff\xff", 4) && long_is(0, 4294967295LL));
	CHECK("bigint min", dec(col(MT_LONGLONG, 0, 0, 0),
	    "\0\0\0\0\0\0\0\x80", 8) && long_is(0, INT64_MIN));
	CHECK("bigint unsigned max exact",
	    dec(col(MT_LONGLONG, 0, 1, 0), "\xff\xff\xff\xff\xff\xff\xff\xff",
		8) &&
		decimal_is(0, 0, "18446744073709551615"));
	CHECK("bigint unsigned 2^63", dec(col(MT_LONGLONG, 0, 1, 0),
	    "\0\0\0\0\0\0\0\x80", 8) && decimal_is(0, 0,
	    "9223372036854775808"));
	CHECK("bigint unsigned 0", dec(col(MT_LONGLONG, 0, 1, 0),
	    "\0\0\0\0\0\0\0\0", 8) && decimal_is(0, 0, "0"));
	CHECK("nullable int has the union branch",
	    dec(col(MT_LONG, 0, 0, 1), "\x07\0\0\0", 4) && out.p[0] == 2 &&
		long_is(1, 7));

	/* DECIMAL: MySQL's own example (decimal.c), 1234567890.1234 as
	 * decimal(14,4), and its negation. */
	CHECK("decimal(14,4) documented bytes",
	    dec(col(MT_NEWDECIMAL, 14 << 8 | 4, 0, 0),
		"\x81\x0d\xfb\x38\xd2\x04\xd2", 7) &&
		decimal_is(0, 4, "1234567890.1234"));
	CHECK("decimal(14,4) negative documented bytes",
	    dec(col(MT_NEWDECIMAL, 14 << 8 | 4, 0, 0),
		"\x7e\xf2\x04\xc7\x2d\xfb\x2d", 7) &&
		decimal_is(0, 4, "-1234567890.1234"));
	n = mysql_decimal("-12345678901234567890123456789012345."
			  "123456789012345678901234567890",
	    65, 30, b);
	CHECK("decimal(65,30) 65 digits, negative",
	    dec(col(MT_NEWDECIMAL, 65 << 8 | 30, 0, 0), b, n) &&
		decimal_is(0, 30,
		    "-12345678901234567890123456789012345."
		    "123456789012345678901234567890"));
	n = mysql_decimal("99999999999999999999999999999999999."
			  "999999999999999999999999999999",
	    65, 30, b);
	CHECK("decimal(65,30) maximum",
	    dec(col(MT_NEWDECIMAL, 65 << 8 | 30, 0, 0), b, n) &&
		decimal_is(0, 30,
		    "99999999999999999999999999999999999."
		    "999999999999999999999999999999"));
	n = mysql_decimal("0", 10, 2, b);
	CHECK("decimal zero", dec(col(MT_NEWDECIMAL, 10 << 8 | 2, 0, 0), b, n) &&
	    decimal_is(0, 2, "0.00"));
	n = mysql_decimal("-0.01", 5, 2, b);
	CHECK("decimal -0.01", dec(col(MT_NEWDECIMAL, 5 << 8 | 2, 0, 0), b, n) &&
	    decimal_is(0, 2, "-0.01"));
	n = mysql_decimal("-99999", 5, 0, b);
	CHECK("decimal(5,0) -99999", dec(col(MT_NEWDECIMAL, 5 << 8, 0, 0), b,
	    n) && decimal_is(0, 0, "-99999"));
	/* A group above 999999999 cannot be. */
	CHECK("malformed decimal refused",
	    !dec(col(MT_NEWDECIMAL, 20 << 8, 0, 0), "\x80\xff\xff\xff\xff"
						    "\x00\x00\x00\x00\x00",
		10));

	/* TIME2, negative and at MySQL's limits. */
	time2_6(1, 838, 59, 59, 0, b);
	CHECK("time(6) -838:59:59", dec(col(MT_TIME2, 6, 0, 0), b, 6) &&
	    long_is(0, -3020399000000LL));
	time2_6(1, 0, 0, 0, 1, b);
	CHECK("time(6) -00:00:00.000001", dec(col(MT_TIME2, 6, 0, 0), b, 6) &&
	    long_is(0, -1));
	time2_6(0, 838, 59, 58, 999999, b);
	CHECK("time(6) 838:59:58.999999", dec(col(MT_TIME2, 6, 0, 0), b, 6) &&
	    long_is(0, 3020398999999LL));
	/* fsp 0: 3 bytes, 0x800000 + hms. */
	CHECK("time(0) 12:34:56", dec(col(MT_TIME2, 0, 0, 0),
	    "\x80\xc8\xb8", 3) && long_is(0, 45296000000LL));
	/* fsp 3, negative with a fraction: -12:34:56.789 is intpart
	 * -(12:34:57) and a fraction of 0x10000 - 7890. */
	{
		int64_t hms = (12 << 12) | (34 << 6) | 57;
		uint32_t ip = (uint32_t)(0x800000 - hms);
		uint16_t fr = (uint16_t)(0x10000 - 7890);

		b[0] = (uint8_t)(ip >> 16);
		b[1] = (uint8_t)(ip >> 8);
		b[2] = (uint8_t)ip;
		b[3] = (uint8_t)(fr >> 8);
		b[4] = (uint8_t)fr;
		CHECK("time(3) -12:34:56.789", dec(col(MT_TIME2, 3, 0, 0), b,
		    5) && long_is(0, -45296789000LL));
	}
	/* DATETIME2: 9999-12-31 23:59:59.999999. */
	{
		int64_t ym = 9999 * 13 + 12, ymd = (ym << 5) | 31;
		int64_t hms = (23 << 12) | (59 << 6) | 59;
		uint64_t v = (uint64_t)(((ymd << 17) | hms) + 0x8000000000LL);
		int i;

		for (i = 4; i >= 0; i--, v >>= 8)
			b[i] = (uint8_t)v;
		b[5] = 0x0f;
		b[6] = 0x42;
		b[7] = 0x3f; /* 999999 */
		CHECK("datetime(6) 9999-12-31 23:59:59.999999",
		    dec(col(MT_DATETIME2, 6, 0, 0), b, 8) &&
			long_is(1, 253402300799999999LL));
		v = 0x8000000000ULL; /* the zero date */
		for (i = 4; i >= 0; i--, v >>= 8)
			b[i] = (uint8_t)v;
		CHECK("datetime(0) zero date is null",
		    dec(col(MT_DATETIME2, 0, 0, 0), b, 5) && out.len == 1 &&
			out.p[0] == 0);
	}
	CHECK("date 1000-01-01", dec(col(MT_DATE, 0, 0, 0),
	    "\x21\xd0\x07", 3) && long_is(1, -354285));
	CHECK("date 0000-00-00 is null", dec(col(MT_DATE, 0, 0, 0),
	    "\0\0\0", 3) && out.len == 1 && out.p[0] == 0);
	CHECK("date 2024-00-10 (partial) is null",
	    dec(col(MT_DATE, 0, 0, 0), "\x0a\xd0\x0f", 3) && out.p[0] == 0);
	CHECK("timestamp(4) 2038-01-19T03:14:07.9999Z",
	    dec(col(MT_TIMESTAMP2, 4, 0, 0), "\x7f\xff\xff\xff\x27\x0f", 6) &&
		string_is(1, "2038-01-19T03:14:07.9999Z"));
	CHECK("timestamp 0 is the zero date",
	    dec(col(MT_TIMESTAMP2, 0, 0, 0), "\0\0\0\0", 4) && out.p[0] == 0);

	/* BIT: big-endian in the binlog, little-endian out. */
	CHECK("bit(1)", dec(col(MT_BIT, 1 << 8, 0, 0), "\x01", 1) &&
	    out.len == 1 && out.p[0] == 1);
	CHECK("bit(13) 1010101010101", dec(col(MT_BIT, 5 << 8 | 1, 0, 0),
	    "\x15\x55", 2) && string_is(0, "\x55\x15"));
	CHECK("bit(64) all ones", dec(col(MT_BIT, 8, 0, 0),
	    "\xff\xff\xff\xff\xff\xff\xff\xff", 8) &&
	    string_is(0, "\xff\xff\xff\xff\xff\xff\xff\xff"));

	/* Strings and blobs. */
	{
		struct b2a_column c = col(MT_STRING, 4, 0, 0);

		CHECK("binary(4) padded back to full width",
		    dec(c, "\x02\x01\x02", 3) && out.len == 5 &&
			memcmp(out.p, "\x08\x01\x02\0\0", 5) == 0);
	}
	{
		struct b2a_column c = col(MT_VARCHAR, 300, 0, 0);

		c.kind = K_STRING;
		c.collation = 8; /* latin1: cp1252 */
		c.convert = 1;   /* as the table map sets it */
		CHECK("varchar latin1 to UTF-8", dec(c, "\x05\x00" "caf\xe9\x80",
		    7) && string_is(0, "caf\xc3\xa9\xe2\x82\xac"));
		CHECK("latin1 0x81 and 0x9d are C1 controls, as in MySQL",
		    dec(c, "\x02\x00\x81\x9d", 4) &&
			string_is(0, "\xc2\x81\xc2\x9d"));
		c.collation = 45; /* utf8mb4 */
		c.convert = 0;
		CHECK("empty varchar", dec(c, "\x00\x00", 2) && out.len == 1 &&
		    out.p[0] == 0);
	}
	n = (size_t)16 << 20;
	big = malloc(n + 4);
	big[0] = (uint8_t)n;
	big[1] = (uint8_t)(n >> 8);
	big[2] = (uint8_t)(n >> 16);
	big[3] = (uint8_t)(n >> 24);
	memset(big + 4, 'x', n);
	{
		const uint8_t *p;
		int64_t len;

		ok = dec(col(MT_BLOB, 4, 0, 0), big, n + 4);
		p = out.p;
		ok = ok && cdc_avro_dec_long(&p, out.p + out.len, &len) == 0 &&
		    (size_t)len == n && out.p[out.len - 1] == 'x';
		CHECK("16 MiB longblob", ok);
		CHECK("longblob cut short is an error, not a read past the end",
		    !dec(col(MT_BLOB, 4, 0, 0), big, n) &&
			strstr(err, "runs past") != NULL);
	}
	free(big);

	/* ENUM and SET. */
	{
		struct b2a_column c = col(MT_ENUM, 1, 0, 0);
		char *sym[] = {sa, sb, sc};

		c.symbols = sym;
		c.nsymbols = 3;
		c.collation = 45;
		CHECK("enum 'b'", dec(c, "\x02", 1) && string_is(0, "b"));
		CHECK("enum error value ''", dec(c, "\x00", 1) &&
		    string_is(0, ""));
		CHECK("enum index out of range refused", !dec(c, "\x04", 1));
		c.type = MT_SET;
		CHECK("set 'a,c'", dec(c, "\x05", 1) && string_is(0, "a,c"));
		CHECK("empty set", dec(c, "\x00", 1) && string_is(0, ""));
	}
	cdc_buf_fini(&out);
	return check_done();
}
