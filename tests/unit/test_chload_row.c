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
	CHECK("timestamp on 18.16",
	    strcmp(s->cols[4].chtype, "DateTime('UTC')") == 0);
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
	CHECK("row encodes", row_encode(s, after, 42, 0, c.source_ts_ms, &old,
				 &rb, err, sizeof(err)) == 0);
	cdc_buf_init(&js);
	CHECK("row renders", row_to_json(s, &old, rb.p, rb.len, &used, &js) == 0
	    && used == rb.len);
	cdc_buf_putc(&js, '\0');
	CHECK("row round trip", strcmp((char *)js.p,
	    "{\"id\":7,\"sel ect\":null,\"p\":\"-1.23\",\"e\":\"b'c\","
	    "\"ts\":\"2024-05-01 10:20:30\",\"_version\":42,\"_deleted\":0,"
	    "\"_ts\":\"2023-11-14 22:13:20\"}") == 0);

	after[0].i = 70000;
	rb.len = 0;
	CHECK("out-of-range value refused", row_encode(s, after, 42, 0, 0, &old,
	    &rb, err, sizeof(err)) == -1 && rb.len == 0);
	CHECK("with a reason", strstr(err, "out of range of UInt16") != NULL);
	after[0].i = 7;
	after[3].p = (const uint8_t *)"zz";
	after[3].n = 2;
	CHECK("unknown enum symbol refused", row_encode(s, after, 42, 0, 0, &old,
	    &rb, err, sizeof(err)) == -1);

	tschema_free(s);
	CHECK("not an envelope", tschema_new("\"int\"", 5, 1, &old, err,
				     sizeof(err)) == NULL);
	cdc_buf_fini(&b);
	cdc_buf_fini(&rb);
	cdc_buf_fini(&js);
	return check_done();
}
