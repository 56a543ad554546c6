/* changegen: writes a large, deterministic multi-table change stream for
 * the Kafka tests and benchmarks, shaped like binlog2avro's output: schema
 * announcements, inserts, updates and deletes (each delete followed by a
 * tombstone), commit marks with resume positions, and now and then a
 * heartbeat. Like a source restarted from a position, --start POS writes
 * only what follows the commit mark whose position is POS.
 *
 * usage: changegen [-n CHANGES] [-t TABLES] [-k KEYS] [-x TXN] [-s SEED]
 *                  [-b BYTES] [-p PREFIX] [-r RATE] [-S POS] > stream
 *   -n  row changes in all (tombstones not counted)      100000
 *   -t  tables, topics PREFIX.db.t1 ...                  4
 *   -k  keys per table                                   1000
 *   -x  largest transaction, in row changes              20
 *   -s  seed                                             1
 *   -b  payload bytes per row                            100
 *   -p  topic prefix                                     cdc
 *   -r  row changes per second, 0: as fast as possible  0
 *   -S  start after the commit mark with this position
 *   -H  no heartbeats
 *   -d  a DDL frame after every Nth transaction, 0: none  0
 * Positions are "binlog:gen.000001:N" with N the transaction number. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avrobin.h"
#include "fingerprint.h"
#include "log.h"
#include "opt.h"
#include "stream.h"
#include "sys.h"

struct table {
	char topic[128];
	char *kschema, *vschema;
	uint64_t kfp, vfp;
	uint8_t *exists; /* per key */
};

static uint64_t rng;

static uint64_t
next(void)
{
	/* xorshift64*: fast and the same on every platform */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static struct cdc_writer *w;
static int emit; /* past the start position */
static char err[CDC_ERRLEN];

static void
put(const struct cdc_frame *f)
{
	if (!emit)
		return;
	if (cdc_writer_put(w, f, err, sizeof(err)) == -1) {
		cdc_epipe_check(errno);
		cdc_error("%s", err);
		exit(1);
	}
}

static void
announce(struct table *t)
{
	struct cdc_frame f;

	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_SCHEMA_ANN;
	f.fingerprint = t->kfp;
	f.schema = (struct cdc_slice){(const uint8_t *)t->kschema,
	    strlen(t->kschema)};
	put(&f);
	f.fingerprint = t->vfp;
	f.schema = (struct cdc_slice){(const uint8_t *)t->vschema,
	    strlen(t->vschema)};
	put(&f);
}

static void
put_row(struct cdc_buf *b, int64_t id, int64_t n, size_t bytes)
{
	size_t i;
	uint8_t *p;

	cdc_avro_put_long(b, id);
	cdc_avro_put_long(b, n);
	cdc_avro_put_long(b, (int64_t)bytes);
	p = cdc_buf_reserve(b, bytes);
	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)('a' + next() % 26);
	b->len += bytes;
}

int
main(int argc, char *argv[])
{
	int64_t changes = 100000, ntables = 4, keys = 1000, txn = 20;
	int64_t seed = 1, bytes = 100, rate = 0, done = 0, txno = 0, seq = 0;
	int64_t version = 0, id, i, nrows, t0, base = 0;
	const char *prefix = "cdc", *start = NULL;
	char pos[64], ns[160];
	struct table *tabs;
	struct cdc_buf k, v;
	struct cdc_frame f;
	int64_t ddl = 0;
	int c, heartbeats = 1;

	cdc_init(argv[0]);
	while ((c = getopt(argc, argv, "b:d:Hk:n:p:r:S:s:t:x:")) != -1) {
		int64_t *dst = NULL, min = 1, max = INT64_MAX;

		switch (c) {
		case 'b': dst = &bytes; min = 0; max = 1 << 20; break;
		case 'd': dst = &ddl; min = 0; break;
		case 'H': heartbeats = 0; break;
		case 'k': dst = &keys; max = 1 << 24; break;
		case 'n': dst = &changes; min = 0; break;
		case 'p': prefix = optarg; break;
		case 'r': dst = &rate; min = 0; break;
		case 'S': start = optarg; break;
		case 's': dst = &seed; min = 0; break;
		case 't': dst = &ntables; max = 10000; break;
		case 'x': dst = &txn; max = 1 << 20; break;
		default: return 64;
		}
		if (dst != NULL && cdc_parse_int("option", optarg, min, max,
				       dst, err, sizeof(err)) == -1) {
			cdc_error("%s", err);
			return 64;
		}
	}
	rng = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
	emit = start == NULL;
	w = cdc_writer_new(STDOUT_FILENO, "changegen 1", CDC_CODEC_NULL, err,
	    sizeof(err));
	if (w == NULL) {
		cdc_error("%s", err);
		return 1;
	}
	tabs = cdc_xcalloc((size_t)ntables, sizeof(*tabs));
	for (i = 0; i < ntables; i++) {
		struct table *t = &tabs[i];
		char tn[32];

		snprintf(tn, sizeof(tn), "t%" PRId64, i + 1);
		snprintf(t->topic, sizeof(t->topic), "%s.db.%s", prefix, tn);
		snprintf(ns, sizeof(ns), "%s.db.%s", prefix, tn);
		t->kschema = cdc_xmalloc(512);
		snprintf(t->kschema, 512,
		    "{\"type\":\"record\",\"name\":\"Key\",\"namespace\":"
		    "\"%s\",\"fields\":[{\"name\":\"id\",\"type\":\"long\","
		    "\"cdc.name\":\"id\"}]}",
		    ns);
		t->vschema = cdc_xmalloc(1024);
		snprintf(t->vschema, 1024,
		    "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":"
		    "\"%s\",\"cdc.database\":\"db\",\"cdc.table\":\"%s\","
		    "\"fields\":[{\"name\":\"before\",\"type\":[\"null\","
		    "{\"type\":\"record\",\"name\":\"Value\",\"fields\":["
		    "{\"name\":\"id\",\"type\":\"long\",\"cdc.name\":\"id\","
		    "\"cdc.key\":1},{\"name\":\"n\",\"type\":\"long\"},"
		    "{\"name\":\"payload\",\"type\":\"string\"}]}]},"
		    "{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"
		    "{\"name\":\"op\",\"type\":\"string\"}]}",
		    ns, tn);
		if (cdc_schema_fingerprint(t->kschema, strlen(t->kschema),
			&t->kfp, err, sizeof(err)) == -1 ||
		    cdc_schema_fingerprint(t->vschema, strlen(t->vschema),
			&t->vfp, err, sizeof(err)) == -1) {
			cdc_error("%s", err);
			return 70;
		}
		t->exists = cdc_xcalloc((size_t)keys, 1);
		announce(t);
	}
	cdc_buf_init(&k);
	cdc_buf_init(&v);
	t0 = cdc_mono_ms();
	while (done < changes) {
		txno++;
		if (ddl > 0 && emit && txno % ddl == 0) {
			char stmt[64];

			snprintf(stmt, sizeof(stmt),
			    "ALTER TABLE t1 COMMENT 'txn %" PRId64 "'", txno);
			snprintf(pos, sizeof(pos), "binlog:gen.000001:%" PRId64
			    ".0", txno - 1);
			memset(&f, 0, sizeof(f));
			f.kind = CDC_FRAME_DDL;
			f.position = (struct cdc_slice){(const uint8_t *)pos,
			    strlen(pos)};
			f.database = (struct cdc_slice){(const uint8_t *)"db",
			    2};
			f.statement = (struct cdc_slice){(const uint8_t *)stmt,
			    strlen(stmt)};
			f.ts_ms = 1700000000000 + txno;
			put(&f);
		}
		nrows = 1 + (int64_t)(next() % (uint64_t)txn);
		if (nrows > changes - done)
			nrows = changes - done;
		for (i = 0; i < nrows; i++) {
			struct table *t = &tabs[next() % (uint64_t)ntables];
			const char *op;
			int before, after;

			id = (int64_t)(next() % (uint64_t)keys);
			if (!t->exists[id]) {
				op = "c", before = 0, after = 1;
			} else if (next() % 10 < 7) {
				op = "u", before = 1, after = 1;
			} else {
				op = "d", before = 1, after = 0;
			}
			t->exists[id] = (uint8_t)after;
			version++;
			k.len = v.len = 0;
			cdc_soe_put_header(&k, t->kfp);
			cdc_avro_put_long(&k, id);
			cdc_soe_put_header(&v, t->vfp);
			cdc_avro_put_long(&v, before);
			if (before)
				put_row(&v, id, version - 1, (size_t)bytes);
			cdc_avro_put_long(&v, after);
			if (after)
				put_row(&v, id, version, (size_t)bytes);
			cdc_avro_put_bytes(&v, op, 1);
			snprintf(pos, sizeof(pos), "binlog:gen.000001:%" PRId64
			    ".%" PRId64, txno - 1, i + 1);
			memset(&f, 0, sizeof(f));
			f.kind = CDC_FRAME_CHANGE;
			f.topic = (struct cdc_slice){(const uint8_t *)t->topic,
			    strlen(t->topic)};
			f.key = (struct cdc_slice){k.p, k.len};
			f.value = (struct cdc_slice){v.p, v.len};
			f.position = (struct cdc_slice){(const uint8_t *)pos,
			    strlen(pos)};
			f.version = version;
			put(&f);
			if (!after) {
				f.value.p = NULL; /* the tombstone */
				f.value.len = 0;
				put(&f);
			}
		}
		done += nrows;
		snprintf(pos, sizeof(pos), "binlog:gen.000001:%" PRId64, txno);
		memset(&f, 0, sizeof(f));
		f.kind = CDC_FRAME_COMMIT;
		f.seq = ++seq;
		f.position = (struct cdc_slice){(const uint8_t *)pos,
		    strlen(pos)};
		f.version = version;
		f.ts_ms = 1700000000000 + txno;
		if (emit) {
			put(&f);
		} else if (strcmp(pos, start) == 0) {
			/* The restart point: a new stream from here on. */
			emit = 1;
			seq = 0;
			t0 = cdc_mono_ms();
			base = done;
			for (i = 0; i < ntables; i++)
				announce(&tabs[i]);
		} else {
			seq--;
		}
		if (heartbeats && emit && txno % 1000 == 0) {
			memset(&f, 0, sizeof(f));
			f.kind = CDC_FRAME_HEARTBEAT;
			f.position = (struct cdc_slice){(const uint8_t *)pos,
			    strlen(pos)};
			f.ts_ms = 1700000000000 + txno;
			put(&f);
		}
		if (rate > 0 && emit) {
			int64_t due = t0 + (done - base) * 1000 / rate;
			int64_t now = cdc_mono_ms();

			if (due > now) {
				struct timespec ts = {(due - now) / 1000,
				    (long)((due - now) % 1000) * 1000000};

				nanosleep(&ts, NULL);
			}
		}
	}
	if (start != NULL && !emit) {
		cdc_error("no commit mark at position '%s'", start);
		return 1;
	}
	if (cdc_writer_flush(w, err, sizeof(err)) == -1) {
		cdc_epipe_check(errno);
		cdc_error("%s", err);
		return 1;
	}
	cdc_writer_free(w);
	cdc_buf_fini(&k);
	cdc_buf_fini(&v);
	for (i = 0; i < ntables; i++) {
		free(tabs[i].kschema);
		free(tabs[i].vschema);
		free(tabs[i].exists);
	}
	free(tabs);
	return 0;
}
