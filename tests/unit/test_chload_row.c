/* Unit tests of chload's schema compiler and row codec: quoting, server
 * capabilities, type mapping, envelope decoding, RowBinary and back. */
#include <stdio.h>
#include <string.h>

#include "avrobin.h"
#include "check.h"
#include "chload.h"

#define SCHEMA                                                                \
	"{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"cdc.d.t\","\
	"\"cdc.database\":\"d\",\"cdc.table\":\"t\",\"fields\":["             \
	"{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\","       \
	"\"name\":\"Value\",\"fields\":["                                     \
	"{\"name\":\"id\",\"type\":\"int\",\"cdc.name\":\"id\",\"cdc.key\":1,"\
	"\"cdc.type\":\"smallint unsigned\"},"                                \
	"{\"name\":\"sel_ect\",\"type\":[\"null\",\"string\"],"               \
	"\"cdc.name\":\"sel ect\",\"cdc.type\":\"varchar(9)\"},"              \
	"{\"name\":\"p\",\"type\":{\"type\":\"bytes\",\"logicalType\":"       \
	"\"decimal\",\"precision\":10,\"scale\":2},\"cdc.name\":\"p\"},"      \
	"{\"name\":\"e\",\"type\":{\"type\":\"string\",\"connect.name\":"     \
	"\"io.debezium.data.Enum\"},\"cdc.name\":\"e\","                      \
	"\"cdc.type\":\"enum('a','b''c')\"},"                                 \
	"{\"name\":\"ts\",\"type\":{\"type\":\"string\",\"connect.name\":"    \
	"\"io.debezium.time.ZonedTimestamp\"},\"cdc.name\":\"ts\","           \
	"\"cdc.type\":\"timestamp(3)\"}]}]},"                                 \
	"{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"                 \
	"{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":"        \
	"\"Source\",\"fields\":[{\"name\":\"file\",\"type\":\"string\"},"     \
	"{\"name\":\"ts_ms\",\"type\":\"long\"}]}},"                          \
	"{\"name\":\"op\",\"type\":\"string\"},"                              \
	"{\"name\":\"extra\",\"type\":{\"type\":\"map\",\"values\":"          \
	"{\"type\":\"array\",\"items\":\"long\"}}}]}"

/* A table (d DATE key, dt DATETIME, dt6 DATETIME(6), day DATE) of
 * binlog2avro's types. */
#define DATES                                                                 \
	"{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"cdc.d.u\","\
	"\"cdc.database\":\"d\",\"cdc.table\":\"u\",\"fields\":["             \
	"{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\","       \
	"\"name\":\"Value\",\"fields\":["                                     \
	"{\"name\":\"d\",\"type\":{\"type\":\"int\",\"connect.name\":"      \
	"\"io.debezium.time.Date\"},\"cdc.name\":\"d\",\"cdc.key\":1,"        \
	"\"cdc.type\":\"date\"},"                                            \
	"{\"name\":\"dt\",\"type\":[\"null\",{\"type\":\"long\","           \
	"\"connect.name\":\"io.debezium.time.Timestamp\"}],\"cdc.name\":"    \
	"\"dt\",\"cdc.type\":\"datetime\"},"                                 \
	"{\"name\":\"dt6\",\"type\":{\"type\":\"long\",\"connect.name\":"   \
	"\"io.debezium.time.MicroTimestamp\"},\"cdc.name\":\"dt6\","          \
	"\"cdc.type\":\"datetime(6)\"},"                                     \
	"{\"name\":\"day\",\"type\":{\"type\":\"int\",\"connect.name\":"    \
	"\"io.debezium.time.Date\"},\"cdc.name\":\"day\",\"cdc.type\":"      \
	"\"date\"}]}]},"                                                    \
	"{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"                 \
	"{\"name\":\"op\",\"type\":\"string\"}]}"

/* A table (d DATE, n DECIMAL(20,4), s VARBINARY, e ENUM key; v VARCHAR),
 * and the same with columns named by position (a binlog without metadata:
 * no key, ENUM numbers). */
#define KEYS(n0, n1, n2, n3, n4, k, et, ea)                                   \
	"{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"cdc.d.k\","\
	"\"cdc.database\":\"d\",\"cdc.table\":\"k\",\"fields\":["             \
	"{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\","       \
	"\"name\":\"Value\",\"fields\":["                                     \
	"{\"name\":\"" n0 "\",\"type\":{\"type\":\"int\",\"connect.name\":"  \
	"\"io.debezium.time.Date\"},\"cdc.name\":\"" n0 "\"" k(1) ","         \
	"\"cdc.type\":\"date\"},"                                            \
	"{\"name\":\"" n1 "\",\"type\":{\"type\":\"bytes\",\"logicalType\":" \
	"\"decimal\",\"precision\":20,\"scale\":4},\"cdc.name\":\"" n1 "\""    \
	k(2) ",\"cdc.type\":\"decimal(20,4)\"},"                              \
	"{\"name\":\"" n2 "\",\"type\":\"bytes\",\"cdc.name\":\"" n2 "\"" k(3) \
	",\"cdc.type\":\"varbinary(8)\"},"                                    \
	"{\"name\":\"" n3 "\",\"type\":{\"type\":\"string\",\"connect.name\":"\
	"\"io.debezium.data.Enum\",\"connect.parameters\":{\"allowed\":"      \
	"\"" ea "\"}},\"cdc.name\":\"" n3 "\"" k(4) ",\"cdc.type\":\"" et "\"},"\
	"{\"name\":\"" n4 "\",\"type\":[\"null\",\"string\"],\"cdc.name\":"   \
	"\"" n4 "\",\"cdc.type\":\"varchar(5)\"}]}]},"                          \
	"{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"                 \
	"{\"name\":\"op\",\"type\":\"string\"}]}"
#define KEYPOS(n) ",\"cdc.key\":" #n
#define NOKEY(n) ""

/* Key conditions for reading rows back, RowBinary read back, columns named
 * by position mapped onto named ones. */
static void
keys(const struct ch_caps *caps)
{
	static const char named[] = KEYS("d", "n", "s", "e", "v", KEYPOS,
	    "enum('x','y''z')", "x,y'z");
	static const char pos[] = KEYS("col_1", "col_2", "col_3", "col_4",
	    "col_5", NOKEY, "enum()", "");
	struct tschema *s, *p;
	struct named_col nc[5];
	struct cell v[5];
	struct cdc_buf w, rb, js;
	uint8_t dec[] = {0xff, 0x85}; /* -1.23, scale 4: -0.0123 */
	char err[CDC_ERRLEN];
	size_t i, used;

	s = tschema_new(named, strlen(named), 3, caps, err, sizeof(err));
	p = tschema_new(pos, strlen(pos), 4, caps, err, sizeof(err));
	CHECK("key schemas compile", s != NULL && p != NULL);
	if (s == NULL || p == NULL) {
		printf("# %s\n", err);
		tschema_free(s);
		tschema_free(p);
		return;
	}
	memset(v, 0, sizeof(v));
	v[0].st = v[1].st = v[2].st = v[3].st = CELL_VALUE;
	v[4].st = CELL_ABSENT;
	v[0].i = 11016;
	v[1].p = dec;
	v[1].n = 2;
	v[2].p = (const uint8_t *)"a'\\\0";
	v[2].n = 4;
	v[3].p = (const uint8_t *)"y'z";
	v[3].n = 3;
	cdc_buf_init(&w);
	CHECK("key condition", row_key_where(s, v, &w, err, sizeof(err)) == 0);
	cdc_buf_putc(&w, '\0');
	CHECK("key literals typed, bytes in hex", strcmp((char *)w.p,
	    "`d` = toDate('2000-02-29') AND `n` = toDecimal128('-0.0123', 4) "
	    "AND `s` = unhex('61275c00') AND `e` = CAST(toInt8(2) AS "
	    "Enum8('' = 0, 'x' = 1, 'y\\'z' = 2))") == 0);
	w.len = 0;
	v[0].st = CELL_ABSENT;
	CHECK("no condition without the key",
	    row_key_where(s, v, &w, err, sizeof(err)) == -1);
	v[0].st = CELL_VALUE;

	/* A value read back from ClickHouse goes out as it came. */
	v[4].st = CELL_RAW;
	v[4].p = (const uint8_t *)"\0\003abc";
	v[4].n = 5;
	CHECK("RowBinary value length",
	    row_value_len(&s->cols[4], v[4].p, 5) == 5 &&
	    row_value_len(&s->cols[4], v[4].p, 4) == 0 &&
	    row_value_len(&s->cols[4], (const uint8_t *)"\1", 1) == 1);
	cdc_buf_init(&rb);
	cdc_buf_init(&js);
	CHECK("a read-back value encodes",
	    row_encode(s, v, 9, 0, 0, &rb, NULL, err, sizeof(err)) == 0);
	CHECK("and renders", row_to_json(s, rb.p, rb.len, &used, &js) ==
	    0 && used == rb.len && strstr((char *)js.p, "\"v\":\"abc\"") != NULL);

	CHECK("columns named by position", p->positional && p->nkey == 0 &&
	    p->cols[3].numbered);
	for (i = 0; i < 5; i++) {
		nc[i].name = s->cols[i].name;
		nc[i].type = s->cols[i].chtype;
		nc[i].keypos = s->cols[i].keypos;
		nc[i].src = &s->cols[i];
	}
	nc[2].type = "String";
	nc[1].type = "Decimal(20, 3)";
	CHECK("a different type is not mapped",
	    tschema_map(p, nc, 5, err, sizeof(err)) == -1 &&
	    strstr(err, "column 2 is decimal(20,4) Decimal(20, 4) where the "
			"table has 'n' Decimal(20, 3)") != NULL &&
	    strcmp(p->cols[0].name, "col_1") == 0);
	nc[1].type = s->cols[1].chtype;
	CHECK("nor a different count",
	    tschema_map(p, nc, 4, err, sizeof(err)) == -1);
	CHECK("mapped by position", tschema_map(p, nc, 5, err, sizeof(err)) ==
	    0 && !p->positional && strcmp(p->cols[3].name, "e") == 0 &&
	    p->nkey == 4 && p->key[3] == 3 && p->cols[3].cv == CV_ENUM_NUM);
	v[3].p = (const uint8_t *)"2";
	v[3].n = 1;
	rb.len = 0;
	CHECK("an ENUM number becomes the Enum value",
	    row_encode(p, v, 9, 0, 0, &rb, NULL, err, sizeof(err)) == 0 &&
	    rb.len > 2 + 16 + 5 && rb.p[2 + 16 + 5] == 2);
	v[3].p = (const uint8_t *)"3";
	rb.len = 0;
	CHECK("a number beyond the Enum is refused",
	    row_encode(p, v, 9, 0, 0, &rb, NULL, err, sizeof(err)) == -1);
	cdc_buf_fini(&w);
	cdc_buf_fini(&rb);
	cdc_buf_fini(&js);
	tschema_free(s);
	tschema_free(p);
}

/* Dates and times on 18.16: exact fractions, and widening out of range. */
static void
dates(const struct ch_caps *caps)
{
	struct tschema *s;
	struct cell v[4];
	struct cdc_buf rb, js;
	char err[CDC_ERRLEN], *wide;
	size_t col, used;
	int rc;

	s = tschema_new(DATES, strlen(DATES), 2, caps, err, sizeof(err));
	CHECK("date schema compiles", s != NULL);
	if (s == NULL)
		return;
	CHECK("date types on 18.16", strcmp(s->cols[0].chtype, "Date") == 0 &&
	    strcmp(s->cols[1].chtype, "Nullable(DateTime('UTC'))") == 0 &&
	    strcmp(s->cols[2].chtype, "Decimal(18, 6)") == 0 &&
	    strcmp(s->cols[3].chtype, "Date") == 0);
	memset(v, 0, sizeof(v));
	v[0].st = v[1].st = v[2].st = v[3].st = CELL_VALUE;
	v[0].i = 19000;
	v[1].i = 4291747199000LL;               /* 2105-12-31 23:59:59 */
	v[2].i = 253402300799999999LL;          /* 9999-12-31 23:59:59.999999 */
	v[3].i = -354285;                       /* 1000-01-01 */
	cdc_buf_init(&rb);
	cdc_buf_init(&js);
	rc = row_encode(s, v, 1, 0, 0, &rb, &col, err, sizeof(err));
	CHECK("date out of Date's range asks to widen",
	    rc == ROW_WIDEN && col == 3 && rb.len == 0);
	CHECK("the message names the column, value and range",
	    strcmp(err, "column 'day': 1000-01-01 is outside the range of "
			"Date (1970-01-01..2105-12-31)") == 0);
	wide = col_wide_type(&s->cols[3]);
	CHECK("Date widens to Int32", wide != NULL && strcmp(wide, "Int32") == 0);
	free(wide);
	wide = col_wide_type(&s->cols[1]);
	CHECK("DateTime widens to Decimal(18, 0)", wide != NULL &&
	    strcmp(wide, "Nullable(Decimal(18, 0))") == 0);
	free(wide);
	CHECK("DATETIME(6) needs no widening",
	    col_wide_type(&s->cols[2]) == NULL);
	col_widen(&s->cols[3]);
	CHECK("widened", strcmp(s->cols[3].chtype, "Int32") == 0 &&
	    s->cols[3].rep == REP_DAYS);
	rc = row_encode(s, v, 1, 0, 0, &rb, &col, err, sizeof(err));
	CHECK("widened row encodes", rc == 0);
	CHECK("widened row renders",
	    row_to_json(s, rb.p, rb.len, &used, &js) == 0 &&
	    used == rb.len);
	cdc_buf_putc(&js, '\0');
	CHECK("dates and times exact", strcmp((char *)js.p,
	    "{\"d\":\"2022-01-08\",\"dt\":\"2105-12-31 23:59:59\","
	    "\"dt6\":\"9999-12-31 23:59:59.999999\",\"day\":\"1000-01-01\","
	    "\"_version\":1,\"_deleted\":0,\"_ts\":\"1970-01-01 00:00:00\"}") == 0);
	/* Decimal(18, 6) bytes: the microseconds, little-endian. */
	CHECK("Decimal(18, 6) holds microseconds", rb.len > 14 &&
	    cdc_le64(rb.p + 2 + 1 + 4) == 253402300799999999ULL);
	rb.len = 0;
	v[1].i = -1000;                         /* 1969-12-31 23:59:59 */
	rc = row_encode(s, v, 1, 0, 0, &rb, &col, err, sizeof(err));
	CHECK("datetime before 1970 asks to widen", rc == ROW_WIDEN &&
	    col == 1 && strstr(err, "1969-12-31 23:59:59.000000") != NULL);
	col_widen(&s->cols[1]);
	rc = row_encode(s, v, 1, 0, 0, &rb, &col, err, sizeof(err));
	CHECK("negative seconds as decimal", rc == 0 &&
	    cdc_le64(rb.p + 2 + 1) == (uint64_t)-1);
	rb.len = 0;
	v[0].i = -1;
	rc = row_encode(s, v, 1, 0, 0, &rb, &col, err, sizeof(err));
	CHECK("a key date out of range is reported by column",
	    rc == ROW_WIDEN && col == 0);
	cdc_buf_fini(&rb);
	cdc_buf_fini(&js);
	tschema_free(s);
}

int
main(void)
{
	struct cdc_buf b, rb, js;
	struct ch_caps old, neu;
	struct tschema *s;
	struct change c;
	struct cell before[8], after[8];
	char err[CDC_ERRLEN];
	uint8_t dec[] = {0xff, 0x85}; /* -1.23 */
	size_t used;

	check_file = "test_chload_row";
	cdc_buf_init(&b);
	ch_quote_ident(&b, "a`b\\c\n'", 7);
	cdc_buf_putc(&b, '\0');
	CHECK("identifier quoting", strcmp((char *)b.p, "`a\\`b\\\\c\\x0a'`") == 0);
	b.len = 0;
	ch_quote_string(&b, "it's", 4);
	cdc_buf_putc(&b, '\0');
	CHECK("string quoting", strcmp((char *)b.p, "'it\\'s'") == 0);

	CHECK("18.16 parses", ch_caps_from_version(&old, "18.16.1") == 0);
	CHECK("18.16 has no DateTime64", !old.datetime64 && !old.is_deleted);
	CHECK("23.8 parses", ch_caps_from_version(&neu, "23.8.2.7") == 0);
	CHECK("23.8 has all", neu.datetime64 && neu.date32 && neu.is_deleted &&
	    neu.dedup_token && neu.decimal256);
	CHECK("garbage version", ch_caps_from_version(&neu, "x") == -1);

	s = tschema_new(SCHEMA, strlen(SCHEMA), 1, &old, err, sizeof(err));
	CHECK("schema compiles", s != NULL);
	if (s == NULL) {
		printf("# %s\n", err);
		return check_done();
	}
	CHECK("names and table", strcmp(s->db, "d") == 0 &&
	    strcmp(s->table, "t") == 0 && s->ncols == 5);
	CHECK("MySQL column names", strcmp(s->cols[1].name, "sel ect") == 0);
	CHECK("unsigned smallint", strcmp(s->cols[0].chtype, "UInt16") == 0);
	CHECK("nullable varchar",
	    strcmp(s->cols[1].chtype, "Nullable(String)") == 0);
	CHECK("decimal", strcmp(s->cols[2].chtype, "Decimal(10, 2)") == 0);
	CHECK("enum", strcmp(s->cols[3].chtype,
			  "Enum8('' = 0, 'a' = 1, 'b\\'c' = 2)") == 0);
	CHECK("timestamp(3) on 18.16 is exact decimal seconds",
	    strcmp(s->cols[4].chtype, "Decimal(18, 3)") == 0 &&
	    s->cols[4].rep == REP_DECIMAL);
	CHECK("key", s->nkey == 1 && s->key[0] == 0);

	/* before null, after {7, null, -1.23, "b'c", ts}, source, op, map. */
	b.len = 0;
	cdc_avro_put_long(&b, 0);
	cdc_avro_put_long(&b, 1);
	cdc_avro_put_long(&b, 7);
	cdc_avro_put_long(&b, 0);
	cdc_avro_put_bytes(&b, dec, 2);
	cdc_avro_put_bytes(&b, "b'c", 3);
	cdc_avro_put_bytes(&b, "2024-05-01T10:20:30.123Z", 24);
	cdc_avro_put_bytes(&b, "f", 1);
	cdc_avro_put_long(&b, 1700000000123LL);
	cdc_avro_put_bytes(&b, "c", 1);
	cdc_avro_put_long(&b, 1);             /* map: one entry */
	cdc_avro_put_bytes(&b, "k", 1);
	cdc_avro_put_long(&b, 2);             /* array of two */
	cdc_avro_put_long(&b, 5);
	cdc_avro_put_long(&b, 6);
	cdc_avro_put_long(&b, 0);
	cdc_avro_put_long(&b, 0);
	c.before = before;
	c.after = after;
	CHECK("envelope decodes",
	    row_decode(s, b.p, b.len, &c, err, sizeof(err)) == 0);
	CHECK("op and images", c.op == 'c' && !c.has_before && c.has_after);
	CHECK("source ts", c.source_ts_ms == 1700000000123LL);
	CHECK("short envelope fails",
	    row_decode(s, b.p, b.len - 1, &c, err, sizeof(err)) == -1);

	cdc_buf_init(&rb);
	CHECK("row encodes", row_encode(s, after, 42, 0, c.source_ts_ms,
				 &rb, NULL, err, sizeof(err)) == 0);
	cdc_buf_init(&js);
	CHECK("row renders", row_to_json(s, rb.p, rb.len, &used, &js) == 0
	    && used == rb.len);
	cdc_buf_putc(&js, '\0');
	CHECK("row round trip", strcmp((char *)js.p,
	    "{\"id\":7,\"sel ect\":null,\"p\":\"-1.23\",\"e\":\"b'c\","
	    "\"ts\":\"2024-05-01 10:20:30.123\",\"_version\":42,\"_deleted\":0,"
	    "\"_ts\":\"2023-11-14 22:13:20\"}") == 0);

	after[0].i = 70000;
	rb.len = 0;
	CHECK("out-of-range value refused", row_encode(s, after, 42, 0, 0,
	    &rb, NULL, err, sizeof(err)) == -1 && rb.len == 0);
	CHECK("with a reason", strstr(err, "out of range of UInt16") != NULL);
	after[0].i = 7;
	after[3].p = (const uint8_t *)"zz";
	after[3].n = 2;
	CHECK("unknown enum symbol refused", row_encode(s, after, 42, 0, 0,
	    &rb, NULL, err, sizeof(err)) == -1);

	tschema_free(s);
	dates(&old);
	keys(&old);
	CHECK("not an envelope", tschema_new("\"int\"", 5, 1, &old, err,
				     sizeof(err)) == NULL);
	cdc_buf_fini(&b);
	cdc_buf_fini(&rb);
	cdc_buf_fini(&js);
	return check_done();
}
