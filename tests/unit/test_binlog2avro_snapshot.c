/* The initial snapshot's pieces that need no server (binlog2avro/snapvalue.c,
 * snappos.c): values as the server sends them encode as value.c encodes the
 * same values from binlog storage (MySQL's documented DECIMAL bytes, TIME2
 * with negative fractions, DATETIME2, TIMESTAMP2, BIT, ENUM, zero dates);
 * key texts and snapshot positions survive their round trips. */
#include <stdlib.h>
#include <string.h>

#include "avrobin.h"
#include "binlog.h"
#include "check.h"
#include "snapshot.h"

static char err[512];
static struct cdc_buf out, ref;
static const char *sym[] = {"a", "b", "c"};

/* A one-column table finished as a table map's would be. */
static struct b2a_table *
table(uint8_t type, uint16_t meta, int nullable, int uns, int collation)
{
	struct b2a_table *t = cdc_xcalloc(1, sizeof(*t));
	struct b2a_column *c;
	size_t i;
	struct b2a_options o = {.prefix = "cdc"};

	t->db = cdc_xstrdup("db");
	t->name = cdc_xstrdup("t");
	t->named = 1;
	t->ncols = 1;
	t->cols = cdc_xcalloc(1, sizeof(*t->cols));
	c = &t->cols[0];
	c->type = type;
	c->meta = meta;
	c->nullable = nullable;
	c->is_unsigned = uns;
	c->collation = collation;
	c->name = cdc_xstrdup("c");
	if (type == MT_ENUM || type == MT_SET) {
		c->nsymbols = 3;
		c->symbols = cdc_xcalloc(3, sizeof(char *));
		for (i = 0; i < 3; i++)
			c->symbols[i] = cdc_xstrdup(sym[i]);
	}
	if (b2a_table_finish(t, &o, err, sizeof(err)) != 0) {
		printf("# %s\n", err);
		exit(1);
	}
	return t;
}

/* Encodes v with the snapshot's path into out; 0 or -1. */
static int
snap(const struct b2a_table *t, const struct b2a_parts *v)
{
	out.len = 0;
	return b2a_snap_value(&t->cols[0], v, &out, err, sizeof(err));
}

/* Whether out equals what value.c makes of storage p[0..n). */
static int
same_as_binlog(const struct b2a_table *t, const void *p, size_t n)
{
	size_t used = 0;

	ref.len = 0;
	if (b2a_value(&t->cols[0], p, (const uint8_t *)p + n, &ref, &used, err,
		sizeof(err)) == -1 ||
	    used != n)
		return 0;
	return ref.len == out.len && memcmp(ref.p, out.p, out.len) == 0;
}

static int
long_is(size_t skip, int64_t want)
{
	const uint8_t *p = out.p + skip;
	int64_t v;

	return cdc_avro_dec_long(&p, out.p + out.len, &v) == 0 && v == want &&
	    p == out.p + out.len;
}

static int
bytes_is(size_t skip, const void *want, size_t n)
{
	const uint8_t *p = out.p + skip, *s;
	size_t len;

	return cdc_avro_dec_bytes(&p, out.p + out.len, &s, &len) == 0 &&
	    len == n && memcmp(s, want, n) == 0 && p == out.p + out.len;
}

static struct b2a_parts
text(const char *s)
{
	struct b2a_parts v;

	memset(&v, 0, sizeof(v));
	v.s = (const uint8_t *)s;
	v.n = strlen(s);
	return v;
}

static struct b2a_parts
tm(int neg, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
    unsigned s, unsigned long us)
{
	struct b2a_parts v;

	memset(&v, 0, sizeof(v));
	v.neg = neg;
	v.year = y;
	v.month = mo;
	v.day = d;
	v.hour = h;
	v.minute = mi;
	v.second = s;
	v.us = us;
	return v;
}

static void
test_values(void)
{
	struct b2a_table *t;
	struct b2a_parts v;
	/* MySQL's manual: DECIMAL(14,4) 1234567890.1234 and its negation. */
	static const uint8_t pos[] = {0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2};
	static const uint8_t neg[] = {0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D};
	static const uint8_t bits[] = {0x0F, 0xFF}, le[] = {0xFF, 0x0F};
	int fsp;

	t = table(MT_NEWDECIMAL, 14 << 8 | 4, 0, 0, -1);
	v = text("1234567890.1234");
	CHECK("decimal(14,4) as MySQL stores it",
	    snap(t, &v) == 0 && same_as_binlog(t, pos, sizeof(pos)));
	v = text("-1234567890.1234");
	CHECK("negative decimal(14,4) as MySQL stores it",
	    snap(t, &v) == 0 && same_as_binlog(t, neg, sizeof(neg)));
	v = text("-0.0000");
	CHECK("negative zero is zero", snap(t, &v) == 0 && out.len == 2 &&
	    out.p[0] == 2 && out.p[1] == 0);
	v = text("12345678901.5");
	CHECK("a decimal too wide is refused", snap(t, &v) == -1);
	b2a_table_free(t);

	/* TIME2 of every precision, negative with a fraction (the packed
	 * format's floor/remainder split) and at its ends. */
	for (fsp = 1; fsp <= 6; fsp++) {
		t = table(MT_TIME2, (uint16_t)fsp, 0, 0, -1);
		v = tm(1, 0, 0, 0, 0, 0, 1, 500000);
		CHECK("time -00:00:01.5", snap(t, &v) == 0 &&
		    long_is(0, -1500000));
		v = tm(1, 0, 0, 0, 0, 0, 0, 500000);
		CHECK("time -00:00:00.5", snap(t, &v) == 0 &&
		    long_is(0, -500000));
		b2a_table_free(t);
	}
	t = table(MT_TIME2, 0, 0, 0, -1);
	v = tm(1, 0, 0, 0, 838, 59, 59, 0);
	CHECK("time -838:59:59", snap(t, &v) == 0 &&
	    long_is(0, -3020399000000LL));
	b2a_table_free(t);

	t = table(MT_DATETIME2, 6, 0, 0, -1);
	v = tm(0, 2024, 2, 29, 12, 34, 56, 789012);
	CHECK("datetime(6)", snap(t, &v) == 0 && out.p[0] == 2 &&
	    long_is(1, 1709210096789012LL));
	b2a_table_free(t);

	t = table(MT_TIMESTAMP2, 3, 1, 0, -1);
	v = tm(0, 2038, 1, 19, 3, 14, 7, 999000);
	CHECK("timestamp(3) in UTC", snap(t, &v) == 0 && out.p[0] == 2 &&
	    bytes_is(1, "2038-01-19T03:14:07.999Z", 24));
	v = tm(0, 0, 0, 0, 0, 0, 0, 0);
	CHECK("zero timestamp is null", snap(t, &v) == 0 && out.len == 1 &&
	    out.p[0] == 0);
	b2a_table_free(t);

	t = table(MT_DATE, 0, 0, 0, -1);
	v = tm(0, 2024, 0, 10, 0, 0, 0, 0);
	CHECK("partial date is null", snap(t, &v) == 0 && out.len == 1 &&
	    out.p[0] == 0);
	b2a_table_free(t);

	t = table(MT_BIT, 4 << 8 | 1, 0, 0, -1);
	v = text("");
	v.s = bits;
	v.n = 2;
	CHECK("bit(12) little-endian", snap(t, &v) == 0 &&
	    bytes_is(0, le, 2));
	b2a_table_free(t);

	t = table(MT_ENUM, 1, 1, 0, 45);
	memset(&v, 0, sizeof(v));
	v.i = 2;
	CHECK("enum by its number", snap(t, &v) == 0 && out.p[0] == 2 &&
	    bytes_is(1, "b", 1));
	v.null = 1;
	CHECK("NULL", snap(t, &v) == 0 && out.len == 1 && out.p[0] == 0);
	b2a_table_free(t);

	t = table(MT_YEAR, 0, 0, 0, -1);
	memset(&v, 0, sizeof(v));
	v.i = 2155;
	CHECK("year 2155", snap(t, &v) == 0 && long_is(0, 2155));
	v.i = 1900;
	CHECK("year 1900 is refused", snap(t, &v) == -1);
	v.null = 1;
	CHECK("NULL in a NOT NULL column is refused", snap(t, &v) == -1);
	b2a_table_free(t);

	t = table(MT_STRING, 4, 0, 0, 63);
	v = text("a");
	CHECK("binary(4) full width", snap(t, &v) == 0 &&
	    bytes_is(0, "a\0\0\0", 4));
	b2a_table_free(t);

	t = table(MT_DOUBLE, 8, 0, 0, -1);
	memset(&v, 0, sizeof(v));
	v.d = -0.0;
	CHECK("double -0", snap(t, &v) == 0 && out.len == 8 &&
	    out.p[7] == 0x80);
	b2a_table_free(t);
}

/* key text is want, and text -> parse -> text is the identity. */
static int
key_round_trip(uint8_t type, uint16_t meta, int uns,
    const struct b2a_parts *v, const char *want)
{
	struct b2a_table *t = table(type, meta, 0, uns, type == MT_VARCHAR ?
	    63 : -1);
	struct cdc_buf a, b, bytes;
	struct b2a_parts w;
	int ok;

	cdc_buf_init(&a);
	cdc_buf_init(&b);
	cdc_buf_init(&bytes);
	b2a_snap_key_text(&t->cols[0], v, &a);
	ok = b2a_snap_key_parse(&t->cols[0], (const char *)a.p, a.len, &w,
	    &bytes) == 0;
	if (ok)
		b2a_snap_key_text(&t->cols[0], &w, &b);
	ok = ok && a.len == b.len &&
	    (a.len == 0 || memcmp(a.p, b.p, a.len) == 0) &&
	    a.len == strlen(want) &&
	    (a.len == 0 || memcmp(a.p, want, a.len) == 0);
	if (!ok)
		printf("# key text %.*s\n", (int)a.len, (const char *)a.p);
	cdc_buf_fini(&a);
	cdc_buf_fini(&b);
	cdc_buf_fini(&bytes);
	b2a_table_free(t);
	return ok;
}

static void
test_keys(void)
{
	struct b2a_parts v;
	struct b2a_table *t;
	struct cdc_buf bytes;
	static const uint8_t raw[] = {0x00, 0x2C, 0x3B, 0xFF};

	memset(&v, 0, sizeof(v));
	v.i = INT64_MIN;
	CHECK("key bigint min", key_round_trip(MT_LONGLONG, 0, 0, &v,
	    "-9223372036854775808"));
	v.i = -1;
	CHECK("key bigint unsigned max", key_round_trip(MT_LONGLONG, 0, 1, &v,
	    "18446744073709551615"));
	v.d = 5e-324;
	CHECK("key double denormal", key_round_trip(MT_DOUBLE, 8, 0, &v,
	    "0000000000000001"));
	v.f = -0.0f;
	CHECK("key float -0", key_round_trip(MT_FLOAT, 4, 0, &v, "80000000"));
	v = tm(1, 0, 0, 0, 838, 59, 59, 0);
	CHECK("key time", key_round_trip(MT_TIME2, 0, 0, &v,
	    "-838:59:59.000000"));
	v = tm(0, 9999, 12, 31, 23, 59, 59, 999999);
	CHECK("key datetime", key_round_trip(MT_DATETIME2, 6, 0, &v,
	    "9999-12-31T23:59:59.999999"));
	v = text("-0.50");
	CHECK("key decimal", key_round_trip(MT_NEWDECIMAL, 5 << 8 | 2, 0, &v,
	    "-0.50"));
	v = text("");
	v.s = raw;
	v.n = sizeof(raw);
	CHECK("key bytes", key_round_trip(MT_VARCHAR, 10, 0, &v, "002c3bff"));
	v.n = 0;
	CHECK("key empty string", key_round_trip(MT_VARCHAR, 10, 0, &v, ""));
	v = text("");
	v.s = raw + 1;
	v.n = 2;
	CHECK("key bit", key_round_trip(MT_BIT, 4 << 8 | 1, 0, &v, "11323"));

	t = table(MT_LONG, 0, 0, 1, -1);
	cdc_buf_init(&bytes);
	CHECK("negative key of an unsigned column refused",
	    b2a_snap_key_parse(&t->cols[0], "-1", 2, &v, &bytes) == -1);
	CHECK("key with junk refused",
	    b2a_snap_key_parse(&t->cols[0], "12x", 3, &v, &bytes) == -1);
	cdc_buf_fini(&bytes);
	b2a_table_free(t);
}

/* The type table's rows agree with each other: what a snapshot stores a
 * value of can be read back, keys are bound as a type the reader binds,
 * and a zero value of every type a snapshot can read encodes. */
static void
test_table(void)
{
	static const uint8_t params[] = {MT_LONGLONG, MT_FLOAT, MT_DOUBLE,
	    MT_DATE, MT_TIME, MT_DATETIME, MT_TIMESTAMP, MT_NEWDECIMAL,
	    MT_BLOB};
	/* SRID 0, then a WKB POINT(0 0), little-endian. */
	static const uint8_t wkb[25] = {0, 0, 0, 0, 1, 1};
	struct b2a_parts zero, point;
	char name[64];
	int code, ok, nstore = 0;
	size_t i;

	memset(&zero, 0, sizeof(zero));
	zero.s = (const uint8_t *)"";
	point = zero;
	point.s = wkb;
	point.n = sizeof(wkb);
	for (code = 0; code < 256; code++) {
		const struct b2a_type *ty = &b2a_types[code];
		uint16_t meta = ty->meta == META_NONE ? 0 : 4;
		struct b2a_table *t;

		if (ty->classify == NULL && ty->read == NULL)
			continue;
		snprintf(name, sizeof(name), "type %d: classify, read", code);
		CHECK(name, ty->classify != NULL && ty->read != NULL);
		for (i = 0, ok = 0; i < sizeof(params); i++)
			ok |= ty->param == params[i];
		snprintf(name, sizeof(name), "type %d: key param bound", code);
		CHECK(name, ok);
		snprintf(name, sizeof(name), "type %d: fetch as param", code);
		CHECK(name, (ty->fetch == F_TIME) == (ty->key == KEY_DATE ||
		    ty->key == KEY_TIME || ty->key == KEY_DATETIME) &&
		    (ty->fetch != F_INT || ty->param == MT_LONGLONG));
		if (ty->flags & TF_TEXT)
			CHECK("a text type has no store", ty->store == NULL);
		snprintf(name, sizeof(name), "type %d: named, read", code);
		if (ty->is_names != NULL)
			CHECK(name, ty->store != NULL || ty->flags & TF_TEXT);
		if (ty->store == NULL)
			continue;
		nstore++;
		if (code == MT_NEWDECIMAL)
			meta = 10 << 8 | 2;
		else if (code == MT_DOUBLE)
			meta = 8;
		else if (code == MT_BIT || code == MT_ENUM || code == MT_SET)
			meta = 1;
		t = table((uint8_t)code, meta, 0, 0,
		    ty->flags & TF_CHARSET ? 63 : -1);
		snprintf(name, sizeof(name), "type %d: zero stored and read",
		    code);
		CHECK(name,
		    snap(t, code == MT_GEOMETRY ? &point : &zero) == 0);
		b2a_table_free(t);
	}
	CHECK("types a snapshot stores", nstore == 26);
}

static void
test_positions(void)
{
	struct b2a_snappos p, q;
	struct cdc_buf b;
	static const char *bad[] = {"snapshot:", "snapshot:f", "snapshot:f:x",
	    "snapshot::4", "snapshot:f:4;table=ab;done",
	    "snapshot:f:4;table=a.b;other", "snapshot:f:4;table=a.b",
	    "snapshot:f:4;table=a.%zz;done", "snapshot:f:4;table=a.%00;done",
	    "snapshot:f:4;table=a.b;after=1;x", "binlog:f:4",
	    "snapshot:f:4;table=.b;done"};
	size_t i;
	int ok;

	cdc_buf_init(&b);
	memset(&p, 0, sizeof(p));
	snprintf(p.file, sizeof(p.file), "mysql-bin.000042");
	p.pos = 4294967295u;
	p.db = cdc_xstrdup("a.b;c%d");
	p.table = cdc_xstrdup("t:\xc3\xa9 x");
	p.after = cdc_xstrdup("-1,2024-01-01T00:00:00.000000,6162");
	b2a_snappos_text(&p, &b);
	cdc_buf_putc(&b, '\0');
	CHECK("position text", strcmp((const char *)b.p,
	    "snapshot:mysql-bin.000042:4294967295;table=a%2Eb%3Bc%25d."
	    "t%3A%C3%A9%20x;after=-1,2024-01-01T00:00:00.000000,6162") == 0);
	ok = b2a_snappos_parse(&q, (const char *)b.p, err, sizeof(err)) == 0;
	CHECK("position parses back", ok &&
	    strcmp(q.file, p.file) == 0 && q.pos == p.pos &&
	    strcmp(q.db, p.db) == 0 && strcmp(q.table, p.table) == 0 &&
	    !q.done && strcmp(q.after, p.after) == 0);
	b2a_snappos_fini(&q);
	CHECK("done position", b2a_snappos_parse(&q,
	    "snapshot:f.1:4;table=d.t;done", err, sizeof(err)) == 0 &&
	    q.done && q.after == NULL && strcmp(q.table, "t") == 0);
	b2a_snappos_fini(&q);
	CHECK("position without a table", b2a_snappos_parse(&q,
	    "snapshot:f.1:4", err, sizeof(err)) == 0 && q.db == NULL &&
	    q.pos == 4);
	b2a_snappos_fini(&q);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[128];

		snprintf(name, sizeof(name), "bad position %s refused",
		    bad[i]);
		CHECK(name, b2a_snappos_parse(&q, bad[i], err,
		    sizeof(err)) == -1 && q.db == NULL);
	}
	b2a_snappos_fini(&p);
	cdc_buf_fini(&b);
}

int
main(void)
{
	check_file = "test_binlog2avro_snapshot";
	cdc_buf_init(&out);
	cdc_buf_init(&ref);
	test_values();
	test_keys();
	test_table();
	test_positions();
	cdc_buf_fini(&out);
	cdc_buf_fini(&ref);
	return check_done();
}
