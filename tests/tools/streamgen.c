/* streamgen: writes a sample change stream with every frame kind and values
 * at the edges of their types, for the cross-implementation tests
 * (tests/integration/t0002-stream-python.sh checks it with python3-avro).
 * usage: streamgen [null|deflate|zstandard] > stream.avro */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "avrobin.h"
#include "blockcodec.h"
#include "fingerprint.h"
#include "log.h"
#include "stream.h"

#define KEY_SCHEMA                                                            \
	"{\"type\": \"record\", \"name\": \"Key\", \"namespace\": "           \
	"\"cdc.shop.items\", \"fields\": [{\"name\": \"id\", \"type\": "      \
	"\"long\", \"cdc.name\": \"id\"}]}"

/* An envelope as docs/stream.md section 4 describes it, with columns of
 * many Avro types and a column whose MySQL name is not an Avro name. */
#define VALUE_SCHEMA                                                          \
	"{\"type\": \"record\", \"name\": \"Envelope\", \"namespace\": "      \
	"\"cdc.shop.items\", \"cdc.database\": \"shop\", \"cdc.table\": "     \
	"\"items\", \"fields\": ["                                            \
	"{\"name\": \"before\", \"type\": [\"null\", {\"type\": \"record\", " \
	"\"name\": \"Value\", \"fields\": ["                                  \
	"{\"name\": \"id\", \"type\": \"long\", \"cdc.name\": \"id\"},"       \
	"{\"name\": \"price\", \"type\": {\"type\": \"bytes\", "              \
	"\"logicalType\": \"decimal\", \"precision\": 10, \"scale\": 2}, "    \
	"\"cdc.name\": \"price\", \"cdc.type\": \"decimal(10,2)\"},"          \
	"{\"name\": \"big\", \"type\": [\"null\", {\"type\": \"bytes\", "     \
	"\"logicalType\": \"decimal\", \"precision\": 20, \"scale\": 0}], "   \
	"\"cdc.name\": \"big\", \"cdc.type\": \"bigint unsigned\"},"          \
	"{\"name\": \"sel_ect\", \"type\": [\"null\", \"string\"], "          \
	"\"cdc.name\": \"sel ect\"},"                                         \
	"{\"name\": \"data\", \"type\": \"bytes\", \"cdc.name\": \"data\"},"  \
	"{\"name\": \"ratio\", \"type\": \"double\", \"cdc.name\": \"ratio\"}," \
	"{\"name\": \"small\", \"type\": \"float\", \"cdc.name\": \"small\"}," \
	"{\"name\": \"n\", \"type\": \"int\", \"cdc.name\": \"n\"},"          \
	"{\"name\": \"ok\", \"type\": \"boolean\", \"cdc.name\": \"ok\"},"    \
	"{\"name\": \"ts\", \"type\": {\"type\": \"long\", \"logicalType\": " \
	"\"timestamp-micros\"}, \"cdc.name\": \"ts\"}"                        \
	"]}]},"                                                               \
	"{\"name\": \"after\", \"type\": [\"null\", \"Value\"]},"             \
	"{\"name\": \"source\", \"type\": {\"type\": \"record\", \"name\": "  \
	"\"Source\", \"fields\": [{\"name\": \"file\", \"type\": "            \
	"\"string\"}, {\"name\": \"pos\", \"type\": \"long\"}]}},"            \
	"{\"name\": \"op\", \"type\": \"string\"},"                           \
	"{\"name\": \"ts_ms\", \"type\": [\"null\", \"long\"]}]}"

static struct cdc_writer *w;
static uint64_t kfp, vfp;
static char err[CDC_ERRLEN];

static void
put(const struct cdc_frame *f)
{
	if (cdc_writer_put(w, f, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		_exit(1);
	}
}

static struct cdc_slice
sl(const char *s)
{
	return (struct cdc_slice){(const uint8_t *)s, strlen(s)};
}

struct row {
	int64_t id;
	const char *price; /* unscaled, big-endian two's complement */
	size_t pricelen;
	const char *big; /* NULL: null */
	size_t biglen;
	const char *sel; /* NULL: null */
	const char *data;
	size_t datalen;
	double ratio;
	float small;
	int32_t n;
	int ok;
	int64_t ts;
};

static void
put_row(struct cdc_buf *b, const struct row *r)
{
	cdc_avro_put_long(b, r->id);
	cdc_avro_put_bytes(b, r->price, r->pricelen);
	if (r->big == NULL) {
		cdc_avro_put_long(b, 0);
	} else {
		cdc_avro_put_long(b, 1);
		cdc_avro_put_bytes(b, r->big, r->biglen);
	}
	if (r->sel == NULL) {
		cdc_avro_put_long(b, 0);
	} else {
		cdc_avro_put_long(b, 1);
		cdc_avro_put_bytes(b, r->sel, strlen(r->sel));
	}
	cdc_avro_put_bytes(b, r->data, r->datalen);
	cdc_avro_put_double(b, r->ratio);
	cdc_avro_put_float(b, r->small);
	cdc_avro_put_long(b, r->n);
	cdc_buf_putc(b, r->ok ? 1 : 0);
	cdc_avro_put_long(b, r->ts);
}

static void
change(const char *op, const struct row *before, const struct row *after,
    int64_t version, const char *pos)
{
	struct cdc_buf k, v;
	struct cdc_frame f;
	int64_t id = after != NULL ? after->id : before->id;

	cdc_buf_init(&k);
	cdc_buf_init(&v);
	cdc_soe_put_header(&k, kfp);
	cdc_avro_put_long(&k, id);
	cdc_soe_put_header(&v, vfp);
	cdc_avro_put_long(&v, before != NULL);
	if (before != NULL)
		put_row(&v, before);
	cdc_avro_put_long(&v, after != NULL);
	if (after != NULL)
		put_row(&v, after);
	cdc_avro_put_bytes(&v, "mysql-bin.000001", 16);
	cdc_avro_put_long(&v, 4 + version);
	cdc_avro_put_bytes(&v, op, strlen(op));
	cdc_avro_put_long(&v, 1);
	cdc_avro_put_long(&v, 1700000000123);

	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_CHANGE;
	f.topic = sl("cdc.shop.items");
	f.key = (struct cdc_slice){k.p, k.len};
	f.value = (struct cdc_slice){v.p, v.len};
	f.position = sl(pos);
	f.version = version;
	put(&f);
	if (strcmp(op, "d") == 0) {
		f.value.p = NULL; /* tombstone */
		f.value.len = 0;
		put(&f);
	}
	cdc_buf_fini(&k);
	cdc_buf_fini(&v);
}

static void
announce(uint64_t fp, const char *schema)
{
	struct cdc_frame f;

	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_SCHEMA_ANN;
	f.fingerprint = fp;
	f.schema = sl(schema);
	put(&f);
}

static void
commit(int64_t seq, const char *pos, int64_t version)
{
	struct cdc_frame f;

	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_COMMIT;
	f.seq = seq;
	f.position = sl(pos);
	f.version = version;
	f.ts_ms = 1700000000000 + seq;
	put(&f);
}

int
main(int argc, char *argv[])
{
	static const char bytes256[] =
	    "\x00\x01\x02\x7f\x80\xfe\xff" "binary\"\\";
	struct row r1 = {1, "\x30\x39", 2, NULL, 0, "sel ect", "", 0, 0.1,
	    1.5f, -2147483647 - 1, 1, 0};
	struct row r2 = r1, r3;
	struct cdc_frame f;
	enum cdc_codec codec = CDC_CODEC_NULL;

	cdc_init(argv[0]);
	if (argc > 1 && cdc_codec_parse(argv[1], strlen(argv[1]), &codec) ==
	    -1) {
		cdc_error("unknown codec '%s'", argv[1]);
		return 64;
	}
	if (cdc_schema_fingerprint(KEY_SCHEMA, strlen(KEY_SCHEMA), &kfp, err,
		sizeof(err)) == -1 ||
	    cdc_schema_fingerprint(VALUE_SCHEMA, strlen(VALUE_SCHEMA), &vfp,
		err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		return 70;
	}
	w = cdc_writer_new(STDOUT_FILENO, "streamgen 1", codec, err,
	    sizeof(err));
	if (w == NULL) {
		cdc_error("%s", err);
		return 74;
	}
	announce(kfp, KEY_SCHEMA);
	announce(vfp, VALUE_SCHEMA);
	change("c", NULL, &r1, 10, "binlog:mysql-bin.000001:100");
	r2.price = "\xff\xff\xff\x9c"; /* -1.00 in a wide encoding */
	r2.pricelen = 4;
	r2.big = "\x00\xff\xff\xff\xff\xff\xff\xff\xff"; /* 2^64 - 1 */
	r2.biglen = 9;
	r2.sel = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \"q\" \\ \n";
	r2.data = bytes256;
	r2.datalen = sizeof(bytes256) - 1;
	r2.ratio = -1e308;
	r2.small = 3.4028235e38f;
	r2.n = 2147483647;
	r2.ok = 0;
	r2.ts = 253402300799999999LL; /* 9999-12-31 23:59:59.999999 */
	change("u", &r1, &r2, 11, "binlog:mysql-bin.000001:200");
	commit(1, "binlog:mysql-bin.000001:300", 11);
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_DDL;
	f.position = sl("binlog:mysql-bin.000001:400");
	f.database = sl("shop");
	f.statement = sl("ALTER TABLE `items` ADD `x` INT");
	f.ts_ms = 1700000000500;
	put(&f);
	r3 = r2;
	r3.id = INT64_MAX;
	r3.sel = NULL;
	r3.big = "\x00"; /* 0 */
	r3.biglen = 1;
	change("d", &r3, NULL, 12, "binlog:mysql-bin.000001:500");
	commit(2, "binlog:mysql-bin.000001:600", 12);
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_HEARTBEAT;
	f.position = sl("binlog:mysql-bin.000001:700");
	f.ts_ms = 1700000009999;
	put(&f);
	if (cdc_writer_flush(w, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		return 74;
	}
	cdc_writer_free(w);
	return 0;
}
