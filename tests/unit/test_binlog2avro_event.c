/* binlog2avro's decoder on hand-built events: a format description, a table
 * map with FULL metadata, rows events (an all-NULL row among them), commit
 * marks, versions, and the errors: bad checksum, wrong column count, rows
 * without a table map. */
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "avrobin.h"
#include "avrojson.h"
#include "fingerprint.h"
#include "binlog.h"
#include "check.h"
#include "stream.h"

static uint8_t ev[4096];
static size_t evlen;
static uint64_t evpos = 4;

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* Frames body as an event of type with a CRC32. */
static void
event(int type, const uint8_t *body, size_t n)
{
	uint32_t crc;

	evlen = 19 + n + 4;
	put32(ev, 1700000000);
	ev[4] = (uint8_t)type;
	put32(ev + 5, 1);
	put32(ev + 9, (uint32_t)evlen);
	put32(ev + 13, (uint32_t)(evpos + evlen));
	put16(ev + 17, 0);
	memcpy(ev + 19, body, n);
	crc = (uint32_t)crc32(0L, ev, (uInt)(evlen - 4));
	put32(ev + evlen - 4, crc);
}

static int
feed(struct b2a_decoder *d, char *err, size_t errlen)
{
	int io, rc = b2a_decoder_event(d, ev, evlen, evpos, &io, err, errlen);

	evpos += evlen;
	return rc;
}

static void
fde(void)
{
	uint8_t b[2 + 50 + 4 + 1 + 171 + 1];
	size_t n = 0;

	memset(b, 0, sizeof(b));
	put16(b, 4);
	memcpy(b + 2, "10.11.19-MariaDB-log", 20);
	n = 2 + 50 + 4;
	b[n++] = 19;
	b[n + EV_QUERY - 1] = 13;
	b[n + EV_TABLE_MAP - 1] = 8;
	b[n + EV_WRITE_ROWS_V1 - 1] = 8;
	b[n + EV_UPDATE_ROWS_V1 - 1] = 8;
	b[n + EV_DELETE_ROWS_V1 - 1] = 8;
	b[n + EV_MARIA_GTID - 1] = 19;
	n += 171;
	b[n++] = 1; /* CRC32 */
	event(EV_FORMAT_DESCRIPTION, b, n);
}

/* Table 42: shop.items (id INT UNSIGNED PRIMARY KEY, note VARCHAR(20)
 * NULL, price DECIMAL(10,2) NULL), with names, signedness, charset and
 * primary key in the optional metadata. */
static void
table_map(void)
{
	uint8_t b[256];
	size_t n = 0;

	memset(b, 0, sizeof(b));
	b[n++] = 42;
	n += 5;
	n += 2; /* flags */
	b[n++] = 4;
	memcpy(b + n, "shop", 5);
	n += 5;
	b[n++] = 5;
	memcpy(b + n, "items", 6);
	n += 6;
	b[n++] = 3; /* columns */
	b[n++] = MT_LONG;
	b[n++] = MT_VARCHAR;
	b[n++] = MT_NEWDECIMAL;
	b[n++] = 4; /* metadata bytes */
	b[n++] = 80; /* varchar max length 80 bytes */
	b[n++] = 0;
	b[n++] = 10; /* precision */
	b[n++] = 2;  /* scale */
	b[n++] = 0x06; /* note and price nullable */
	b[n++] = 1;    /* SIGNEDNESS: id (first numeric) unsigned */
	b[n++] = 1;
	b[n++] = 0x80;
	b[n++] = 2; /* DEFAULT_CHARSET utf8mb4 */
	b[n++] = 1;
	b[n++] = 45;
	b[n++] = 4; /* COLUMN_NAME */
	b[n++] = 15;
	memcpy(b + n, "\x02id\x04note\x06pr ice", 15);
	n += 15;
	b[n++] = 8; /* SIMPLE_PRIMARY_KEY */
	b[n++] = 1;
	b[n++] = 0;
	event(EV_TABLE_MAP, b, n);
}

/* WRITE_ROWS_V1 for table 42: row 1 (7, "hi", 12.34) and row 2 (8, NULL,
 * NULL); ncols overrides the column count. */
static void
write_rows(int table, int ncols)
{
	uint8_t b[256];
	size_t n = 0;

	memset(b, 0, sizeof(b));
	b[n++] = (uint8_t)table;
	n += 5;
	n += 2;
	b[n++] = (uint8_t)ncols;
	b[n++] = 0x07; /* all present */
	b[n++] = 0x00; /* no NULLs */
	put32(b + n, 7);
	n += 4;
	b[n++] = 2;
	memcpy(b + n, "hi", 2);
	n += 2;
	/* 12.34 as decimal(10,2): 8 integer digits (4 bytes), 2 fraction
	 * digits (1 byte), sign bit flipped. */
	memcpy(b + n, "\x80\x00\x00\x0c\x22", 5);
	n += 5;
	b[n++] = 0x06; /* row 2: note and price NULL */
	put32(b + n, 8);
	n += 4;
	event(EV_WRITE_ROWS_V1, b, n);
}

static void
xid(void)
{
	uint8_t b[8] = {9};

	event(EV_XID, b, 8);
}

int
main(void)
{
	struct b2a_options o = {.prefix = "cdc", .stop_position = -1,
	    .start_position = 4, .start_time = -1, .stop_time = -1,
	    .hold_limit = 1 << 20};
	struct cdc_writer *w;
	struct cdc_reader *r;
	struct b2a_decoder *d;
	struct cdc_frame f;
	char err[512];
	int fds[2], kinds[16], nk = 0, rc;
	int64_t versions[4];
	int nv = 0;
	struct cdc_buf js[2];

	check_file = "test_binlog2avro_event";
	if (pipe(fds) == -1)
		return 1;
	w = cdc_writer_new(fds[1], "test", CDC_CODEC_NULL, err, sizeof(err));
	d = b2a_decoder_new(&o, w);
	b2a_decoder_file(d, "mysql-bin.000003");
	{
		/* A checksum-aware server's description without room for its
		 * checksum byte (found by make fuzz: read past the event). */
		uint8_t b[2 + 50 + 4 + 1];

		memset(b, 0, sizeof(b));
		put16(b, 4);
		memcpy(b + 2, "10.11.19-MariaDB-log", 20);
		b[56] = 19;
		event(EV_FORMAT_DESCRIPTION, b, sizeof(b));
		CHECK("a format description too short for its checksum",
		    feed(d, err, sizeof(err)) == -1 &&
			strstr(err, "truncated format description") != NULL);
	}
	fde();
	CHECK("format description with CRC32", feed(d, err, sizeof(err)) == 0);
	table_map();
	CHECK("table map with FULL metadata", feed(d, err, sizeof(err)) == 0);
	write_rows(42, 3);
	CHECK("write rows", feed(d, err, sizeof(err)) == 0);
	CHECK("rows are held until the commit",
	    b2a_decoder_in_transaction(d));
	xid();
	CHECK("xid commits", feed(d, err, sizeof(err)) == 0 &&
	    !b2a_decoder_in_transaction(d));
	write_rows(42, 4);
	CHECK("column count disagreeing with the table map is an error",
	    feed(d, err, sizeof(err)) == -1 &&
		strstr(err, "has 4 columns, its table map 3") != NULL);
	write_rows(43, 3);
	CHECK("rows without a table map are an error",
	    feed(d, err, sizeof(err)) == -1 &&
		strstr(err, "without its table map") != NULL);
	xid();
	ev[30] ^= 1;
	CHECK("checksum mismatch names the offset",
	    feed(d, err, sizeof(err)) == -1 &&
		strstr(err, "CRC32 mismatch") != NULL &&
		strstr(err, "mysql-bin.000003 at ") != NULL);
	cdc_writer_discard(w);
	cdc_writer_flush(w, err, sizeof(err));
	b2a_decoder_free(d);
	cdc_writer_free(w);
	close(fds[1]);

	r = cdc_reader_new(fds[0], "pipe");
	while ((rc = cdc_reader_next(r, &f, err, sizeof(err))) == 1) {
		if (nk < 16)
			kinds[nk++] = f.kind;
		if (f.kind == CDC_FRAME_CHANGE && nv < 2) {
			uint64_t fp = 0;
			size_t sl = 0;
			const char *schema;
			struct cdc_avrojson *aj;

			cdc_soe_fingerprint(f.value.p, f.value.len, &fp);
			schema = cdc_reader_schema(r, fp, &sl);
			aj = cdc_avrojson_new(schema, sl, NULL, 0);
			cdc_buf_init(&js[nv]);
			cdc_avrojson_datum(aj, f.value.p + 10, f.value.len - 10,
			    &js[nv], NULL, 0);
			cdc_buf_putc(&js[nv], '\0');
			cdc_avrojson_free(aj);
			versions[nv++] = f.version;
		}
		if (f.kind == CDC_FRAME_COMMIT)
			CHECK("commit mark position",
			    f.position.len > 0 &&
				memcmp(f.position.p,
				    "binlog:mysql-bin.000003:", 24) == 0);
	}
	CHECK("stream ends cleanly", rc == 0);
	/* schema(value), schema(key), change, change, commit */
	CHECK("frames: two schemas, two changes, a commit",
	    nk == 5 && kinds[0] == CDC_FRAME_SCHEMA_ANN &&
		kinds[1] == CDC_FRAME_SCHEMA_ANN &&
		kinds[2] == CDC_FRAME_CHANGE && kinds[3] == CDC_FRAME_CHANGE &&
		kinds[4] == CDC_FRAME_COMMIT);
	CHECK("versions: file 3, the event's position, the row",
	    nv == 2 && versions[1] == versions[0] + 1 &&
		(versions[0] >> 42) == 3);
	CHECK("first row's values",
	    nv == 2 && strstr((char *)js[0].p,
			   "\"after\":{\"id\":7,\"note\":\"hi\","
			   "\"pr_ice\":\"12.34\"}") != NULL);
	CHECK("all-NULL row",
	    nv == 2 && strstr((char *)js[1].p,
			   "\"after\":{\"id\":8,\"note\":null,"
			   "\"pr_ice\":null}") != NULL);
	CHECK("op and source",
	    nv == 2 && strstr((char *)js[0].p, "\"op\":\"c\"") != NULL &&
		strstr((char *)js[0].p, "\"db\":\"shop\"") != NULL);
	for (nk = 0; nk < nv; nk++)
		cdc_buf_fini(&js[nk]);
	cdc_reader_free(r);
	close(fds[0]);
	return check_done();
}
