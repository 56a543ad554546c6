/* chload_benchgen: writes a change stream of N changes to one table, shaped
 * like binlog2avro's output (docs/stream.md section 4), for bench/chload:
 * 90% inserts, 8% updates, 2% deletes, a commit mark every 1000 changes.
 * usage: chload_benchgen N DB > stream.avro */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avrobin.h"
#include "fingerprint.h"
#include "log.h"
#include "stream.h"

#define COLS                                                                  \
	"{\"type\":\"record\",\"name\":\"Value\",\"fields\":["               \
	"{\"name\":\"id\",\"type\":\"long\",\"cdc.name\":\"id\","             \
	"\"cdc.type\":\"bigint\",\"cdc.key\":1},"                              \
	"{\"name\":\"qty\",\"type\":\"int\",\"cdc.name\":\"qty\","            \
	"\"cdc.type\":\"int\"},"                                               \
	"{\"name\":\"price\",\"type\":{\"type\":\"bytes\",\"logicalType\":"   \
	"\"decimal\",\"precision\":12,\"scale\":2,\"connect.name\":"          \
	"\"org.apache.kafka.connect.data.Decimal\"},\"cdc.name\":\"price\","  \
	"\"cdc.type\":\"decimal(12,2)\"},"                                     \
	"{\"name\":\"name\",\"type\":\"string\",\"cdc.name\":\"name\","       \
	"\"cdc.type\":\"varchar(255)\"},"                                      \
	"{\"name\":\"created\",\"type\":{\"type\":\"long\",\"connect.name\":" \
	"\"io.debezium.time.MicroTimestamp\"},\"cdc.name\":\"created\","      \
	"\"cdc.type\":\"datetime(6)\"},"                                       \
	"{\"name\":\"score\",\"type\":\"double\",\"cdc.name\":\"score\","     \
	"\"cdc.type\":\"double\"},"                                            \
	"{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null," \
	"\"cdc.name\":\"note\",\"cdc.type\":\"varchar(64)\"}]}"

#define SOURCE                                                                \
	"{\"type\":\"record\",\"name\":\"Source\",\"namespace\":"             \
	"\"io.debezium.connector.mysql\",\"fields\":["                        \
	"{\"name\":\"version\",\"type\":\"string\"},"                         \
	"{\"name\":\"connector\",\"type\":\"string\"},"                       \
	"{\"name\":\"name\",\"type\":\"string\"},"                            \
	"{\"name\":\"ts_ms\",\"type\":\"long\"},"                             \
	"{\"name\":\"snapshot\",\"type\":[\"string\",\"null\"]},"             \
	"{\"name\":\"db\",\"type\":\"string\"},"                              \
	"{\"name\":\"sequence\",\"type\":[\"null\",\"string\"]},"             \
	"{\"name\":\"table\",\"type\":[\"null\",\"string\"]},"                \
	"{\"name\":\"server_id\",\"type\":\"long\"},"                         \
	"{\"name\":\"gtid\",\"type\":[\"null\",\"string\"]},"                 \
	"{\"name\":\"file\",\"type\":\"string\"},"                            \
	"{\"name\":\"pos\",\"type\":\"long\"},"                               \
	"{\"name\":\"row\",\"type\":\"int\"},"                                \
	"{\"name\":\"thread\",\"type\":[\"null\",\"long\"]},"                 \
	"{\"name\":\"query\",\"type\":[\"null\",\"string\"]}]}"

static struct cdc_writer *w;
static char err[CDC_ERRLEN];

static void
put(const struct cdc_frame *f)
{
	if (cdc_writer_put(w, f, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		_exit(1);
	}
}

static void
put_str(struct cdc_buf *b, const char *s)
{
	cdc_avro_put_bytes(b, s, strlen(s));
}

/* The row of id at generation g, deterministic so updates know "before". */
static void
put_row(struct cdc_buf *b, int64_t id, int g)
{
	char name[64];
	uint8_t dec[8];
	int64_t cents = id * 37 % 10000000 + g;
	int i;

	cdc_avro_put_long(b, id);
	cdc_avro_put_long(b, (id * 7 + g) % 100000);
	for (i = 0; i < 8; i++)
		dec[i] = (uint8_t)(cents >> (8 * (7 - i)));
	cdc_avro_put_bytes(b, dec + 4, 4);
	snprintf(name, sizeof(name), "customer-%08lld-gen-%d", (long long)id, g);
	put_str(b, name);
	cdc_avro_put_long(b, 1700000000000000LL + id * 1000003 + g);
	cdc_avro_put_double(b, (double)id / 3.0 + g);
	if (id % 2) {
		cdc_avro_put_long(b, 0);
	} else {
		cdc_avro_put_long(b, 1);
		put_str(b, "an optional note of moderate length");
	}
}

int
main(int argc, char *argv[])
{
	struct cdc_buf vs, v, k;
	struct cdc_frame f;
	uint64_t vfp;
	int64_t n, i, id, ninsert, version = 1000;
	const char *db;
	char topic[128], pos[64];
	int64_t seq = 0;
	int op;

	cdc_init(argv[0]);
	if (argc != 3) {
		fprintf(stderr, "usage: chload_benchgen N DB > stream.avro\n");
		return 64;
	}
	n = strtoll(argv[1], NULL, 10);
	db = argv[2];
	cdc_buf_init(&vs);
	cdc_buf_printf(&vs, "{\"type\":\"record\",\"name\":\"Envelope\","
	    "\"namespace\":\"cdc.%s.orders\",\"cdc.database\":\"%s\","
	    "\"cdc.table\":\"orders\",\"fields\":["
	    "{\"name\":\"before\",\"type\":[\"null\"," COLS "]},"
	    "{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"
	    "{\"name\":\"source\",\"type\":" SOURCE "},"
	    "{\"name\":\"op\",\"type\":\"string\"},"
	    "{\"name\":\"ts_ms\",\"type\":[\"null\",\"long\"]},"
	    "{\"name\":\"transaction\",\"type\":[\"null\",{\"type\":\"record\","
	    "\"name\":\"Transaction\",\"namespace\":\"event.block\",\"fields\":["
	    "{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"total_order\","
	    "\"type\":\"long\"},{\"name\":\"data_collection_order\",\"type\":"
	    "\"long\"}]}]}]}", db, db);
	if (cdc_schema_fingerprint((const char *)vs.p, vs.len, &vfp, err,
		sizeof(err)) == -1) {
		cdc_error("%s", err);
		return 1;
	}
	w = cdc_writer_new(STDOUT_FILENO, "chload_benchgen 1", CDC_CODEC_NULL,
	    err, sizeof(err));
	if (w == NULL) {
		cdc_error("%s", err);
		return 1;
	}
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_SCHEMA_ANN;
	f.fingerprint = vfp;
	f.schema = (struct cdc_slice){vs.p, vs.len};
	put(&f);
	snprintf(topic, sizeof(topic), "cdc.%s.orders", db);
	cdc_buf_init(&v);
	cdc_buf_init(&k);
	ninsert = n * 9 / 10;
	for (i = 0; i < n; i++) {
		version++;
		if (i < ninsert) {
			id = i + 1;
			op = 'c';
		} else {
			id = (i * 7919) % ninsert + 1;
			op = (i % 5 == 0) ? 'd' : 'u';
		}
		v.len = 0;
		cdc_soe_put_header(&v, vfp);
		if (op == 'c') {
			cdc_avro_put_long(&v, 0);
		} else {
			cdc_avro_put_long(&v, 1);
			put_row(&v, id, 0);
		}
		if (op == 'd') {
			cdc_avro_put_long(&v, 0);
		} else {
			cdc_avro_put_long(&v, 1);
			put_row(&v, id, op == 'u' ? (int)(i % 1000) + 1 : 0);
		}
		put_str(&v, "0.1.0");
		put_str(&v, "mysql");
		put_str(&v, "cdc");
		cdc_avro_put_long(&v, 1700000000000LL + i);
		cdc_avro_put_long(&v, 0);
		put_str(&v, "false");
		put_str(&v, db);
		cdc_avro_put_long(&v, 0);
		cdc_avro_put_long(&v, 1);
		put_str(&v, "orders");
		cdc_avro_put_long(&v, 1);
		cdc_avro_put_long(&v, 0);
		put_str(&v, "mysql-bin.000001");
		cdc_avro_put_long(&v, 4 + i * 100);
		cdc_avro_put_long(&v, 0);
		cdc_avro_put_long(&v, 0);
		cdc_avro_put_long(&v, 0);
		put_str(&v, (const char[]){(char)op, 0});
		cdc_avro_put_long(&v, 1);
		cdc_avro_put_long(&v, 1700000000000LL + i);
		cdc_avro_put_long(&v, 0);
		memset(&f, 0, sizeof(f));
		f.kind = CDC_FRAME_CHANGE;
		f.topic = (struct cdc_slice){(const uint8_t *)topic, strlen(topic)};
		f.value = (struct cdc_slice){v.p, v.len};
		snprintf(pos, sizeof(pos), "binlog:mysql-bin.000001:%lld",
		    (long long)(4 + i * 100));
		f.position = (struct cdc_slice){(const uint8_t *)pos, strlen(pos)};
		f.version = version;
		put(&f);
		if ((i + 1) % 1000 == 0 || i + 1 == n) {
			memset(&f, 0, sizeof(f));
			f.kind = CDC_FRAME_COMMIT;
			f.seq = ++seq;
			f.position = (struct cdc_slice){(const uint8_t *)pos,
			    strlen(pos)};
			f.version = version;
			f.ts_ms = 1700000000000LL + i;
			put(&f);
		}
	}
	if (cdc_writer_flush(w, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		return 1;
	}
	cdc_writer_free(w);
	cdc_buf_fini(&vs);
	cdc_buf_fini(&v);
	cdc_buf_fini(&k);
	return 0;
}
