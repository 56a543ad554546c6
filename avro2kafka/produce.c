/* avro2kafka's producer loop: stream frames from stdin become Kafka records,
 * schemas go to the schema topic before their first use, and commit marks
 * become either Kafka transaction boundaries (with --transactional-id) or
 * acknowledgement points once every record before them is delivered. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "a2k.h"
#include "ack.h"
#include "fpmap.h"
#include "kafka.h"
#include "log.h"
#include "registry.h"
#include "stream.h"
#include "sys.h"

/* Records between two commit marks form an epoch. A mark is durable when
 * every record of its epoch and of the epochs before it is delivered. */
struct epoch {
	int64_t seq; /* of the mark that closes it; 0 while open */
	char *pos;
	int64_t pending; /* records produced and not yet delivered */
};

struct topic {
	char *name;
	rd_kafka_topic_t *rkt;
};

struct state {
	const struct a2k_opts *o;
	rd_kafka_t *rk;
	int ack_fd;
	struct topic *topics;
	size_t ntopics, lasttopic;
	struct cdc_fpmap sent; /* schemas written to the schema topic */
	struct a2k_wire *wire; /* --schema-registry, else NULL */
	int reg_rc;            /* exit code of a registry refusal, or 0 */
	int cfg_rc;            /* EX_CONFIG: a topic outside the prefix */
	int64_t schema_pending;
	/* at-least-once: a deque of epochs, the last one open */
	struct epoch *ep;
	size_t nep, capep, headep;
	uint64_t ep_base; /* epoch number of ep[headep] */
	/* exactly-once */
	int64_t txn_changes;  /* records in the open Kafka transaction */
	int64_t txn_start;    /* cdc_mono_ms() when it began */
	int64_t partial;      /* records after the last commit mark */
	int64_t last_seq;     /* the last mark in the transaction */
	char *last_pos;       /* its position (or a heartbeat's) */
	int pos_dirty;        /* last_pos not yet committed */
	/* delivery failure */
	int failed;
	char fail_msg[512];
	struct cdc_buf vp; /* scratch: a change's cdc.vp header */
	/* counters for the info line */
	uint64_t in_changes, out_records, txns, acks;
	uint64_t out_bytes, queue_full, tombstones; /* for the metrics */
	int64_t last_version, last_ts_ms;
	int64_t stats_at;
	unsigned serves; /* calls of serve(), to look at the clock less */
};

/* A record header for produce(). */
struct hdr {
	const char *name;
	const void *val;
	ssize_t len; /* -1: val is a string */
};

#define OPQ_SCHEMA 1 /* low bit of a record's opaque: a schema record */

static void
ack_upstream(struct state *st, int64_t seq, const char *pos)
{
	char err[CDC_ERRLEN];

	if (st->ack_fd == -1 || seq <= 0)
		return;
	if (cdc_ack_send(st->ack_fd, seq, pos, strlen(pos), err,
		sizeof(err)) == -1) {
		cdc_warn("stopped acknowledging upstream: %s", err);
		close(st->ack_fd);
		st->ack_fd = -1;
		return;
	}
	st->acks++;
}

static struct epoch *
epoch_at(struct state *st, uint64_t n)
{
	return &st->ep[(st->headep + (size_t)(n - st->ep_base)) % st->capep];
}

static void
epoch_open(struct state *st)
{
	size_t i;
	struct epoch *nep;

	if (st->nep == st->capep) {
		nep = cdc_xcalloc(st->capep ? st->capep * 2 : 16, sizeof(*nep));
		for (i = 0; i < st->nep; i++)
			nep[i] = st->ep[(st->headep + i) % st->capep];
		free(st->ep);
		st->ep = nep;
		st->headep = 0;
		st->capep = st->capep ? st->capep * 2 : 16;
	}
	nep = &st->ep[(st->headep + st->nep) % st->capep];
	memset(nep, 0, sizeof(*nep));
	st->nep++;
}

/* Acknowledges and drops every closed epoch at the front whose records
 * are all delivered (at-least-once), or all closed epochs (exactly-once,
 * after a transaction committed them). Nothing moves after a failure. */
static void
epochs_advance(struct state *st, int all)
{
	struct epoch *e;
	int64_t seq = 0;
	char *pos = NULL;

	while (!st->failed && st->nep > 1) {
		e = &st->ep[st->headep];
		if (e->pending > 0 && !all)
			break;
		/* A line acknowledges every mark before it: send the newest. */
		free(pos);
		pos = e->pos;
		e->pos = NULL;
		seq = e->seq;
		st->headep = (st->headep + 1) % st->capep;
		st->nep--;
		st->ep_base++;
	}
	if (pos != NULL)
		ack_upstream(st, seq, pos);
	free(pos);
}

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct state *st = opaque;
	uintptr_t op = (uintptr_t)m->_private;

	(void)rk;
	if (op & OPQ_SCHEMA)
		st->schema_pending--;
	if ((op >> 1) >= st->ep_base &&
	    (op >> 1) < st->ep_base + st->nep)
		epoch_at(st, op >> 1)->pending--;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && !st->failed) {
		st->failed = 1;
		snprintf(st->fail_msg, sizeof(st->fail_msg),
		    "cannot deliver to '%s' partition %" PRId32 ": %s",
		    rd_kafka_topic_name(m->rkt), m->partition,
		    rd_kafka_err2str(m->err));
	}
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		st->out_records++;
		st->out_bytes += m->len + m->key_len;
	}
}

/* The topic handle of a name, made on first use; the topic itself is
 * created then too when partitions > 0 and it does not exist. Returns NULL
 * with err set. */
static rd_kafka_topic_t *
topic_get(struct state *st, const char *name, size_t len, int64_t partitions,
    char *err, size_t errlen)
{
	struct topic *t;
	size_t i;

	if (st->lasttopic < st->ntopics) {
		t = &st->topics[st->lasttopic];
		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
			return t->rkt;
	}
	for (i = 0; i < st->ntopics; i++) {
		t = &st->topics[i];
		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0) {
			st->lasttopic = i;
			return t->rkt;
		}
	}
	if (len == 0 || memchr(name, '\0', len) != NULL) {
		cdc_err(err, errlen, "invalid topic name '%.*s'", (int)len,
		    name);
		return NULL;
	}
	st->topics = cdc_xrealloc(st->topics,
	    (st->ntopics + 1) * sizeof(*st->topics));
	t = &st->topics[st->ntopics];
	t->name = cdc_xstrndup(name, len);
	if (partitions > 0 &&
	    cdc_kafka_ensure_topic(st->rk, t->name, (int)partitions,
		(int)st->o->replication, 0, (int)st->o->k.timeout_s * 1000, err,
		errlen) == -1) {
		char detail[CDC_ERRLEN];

		snprintf(detail, sizeof(detail), "%s", err);
		cdc_err(err, errlen, "cannot create topic '%s': %s", t->name,
		    detail);
		free(t->name);
		return NULL;
	}
	t->rkt = rd_kafka_topic_new(st->rk, t->name, NULL);
	if (t->rkt == NULL) {
		cdc_err(err, errlen, "cannot use topic '%s': %s", t->name,
		    rd_kafka_err2str(rd_kafka_last_error()));
		free(t->name);
		return NULL;
	}
	if (cdc_kafka_await_topic(st->rk, t->rkt, (int)st->o->k.timeout_s * 1000,
		err, errlen) == -1) {
		char detail[CDC_ERRLEN];

		snprintf(detail, sizeof(detail), "%s", err);
		cdc_err(err, errlen, "cannot use topic '%s': %s", t->name,
		    detail);
		rd_kafka_topic_destroy(t->rkt);
		free(t->name);
		return NULL;
	}
	st->lasttopic = st->ntopics++;
	return t->rkt;
}

static int
stopping(const struct state *st)
{
	return cdc_stop || st->failed || cdc_kafka_health.fatal;
}

/* Hands the figures to the metrics file (metrics.c). */
static void
metrics(struct state *st, int last)
{
	struct a2k_figures f;

	f.changes = st->in_changes;
	f.records = st->out_records;
	f.bytes = st->out_bytes;
	f.txns = st->txns;
	f.acks = st->acks;
	f.queue_full = st->queue_full;
	f.tombstones = st->tombstones;
	f.queue = st->rk != NULL ? rd_kafka_outq_len(st->rk) : 0;
	f.txn_changes = st->txn_changes;
	f.version = st->last_version;
	f.commit_ts = (double)st->last_ts_ms / 1000;
	if (last)
		a2k_metrics_stop(&f);
	else
		a2k_metrics_write(&f);
}

/* Serves delivery reports, moves acknowledgements on and prints the info
 * line now and then. */
static void
serve(struct state *st, int ms)
{
	int64_t now;

	rd_kafka_poll(st->rk, ms);
	if (st->o->txn_id == NULL)
		epochs_advance(st, 0);
	/* Reading the clock costs as much as a small record: after a wait,
	 * or every 4096 records. */
	if (ms == 0 && (++st->serves & 4095) != 0)
		return;
	now = cdc_mono_ms();
	if (a2k_metrics_due(now))
		metrics(st, 0);
	if (now - st->stats_at >= 30000) {
		st->stats_at = now;
		cdc_info("in=%" PRIu64 " out=%" PRIu64 " txns=%" PRIu64
			 " acks=%" PRIu64 " queue=%d",
		    st->in_changes, st->out_records, st->txns, st->acks,
		    rd_kafka_outq_len(st->rk));
	}
}

/* Produces one record with the nh headers h (at most 3; librdkafka copies
 * key, value and headers), waiting while librdkafka's queue is full: that
 * wait is the backpressure that stops stdin from being read. Returns 0, or
 * -1 when stopping or when the record is refused (err set). */
static int
produce(struct state *st, rd_kafka_topic_t *rkt, const struct cdc_slice *key,
    const struct cdc_slice *val, const struct hdr *h, size_t nh, int schema,
    char *err, size_t errlen)
{
	rd_kafka_vu_t vu[8];
	rd_kafka_error_t *e;
	rd_kafka_resp_err_t code;
	uintptr_t op;
	size_t n = 0;

	op = (uintptr_t)(st->ep_base + st->nep - 1) << 1;
	if (schema)
		op |= OPQ_SCHEMA;
	/* rd_kafka_produceva() rather than the RD_KAFKA_V_ macros, which
	 * are GNU statement expressions. */
	memset(vu, 0, sizeof(vu));
	vu[n].vtype = RD_KAFKA_VTYPE_RKT;
	vu[n++].u.rkt = rkt;
	vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
	vu[n].vtype = RD_KAFKA_VTYPE_KEY;
	vu[n].u.mem.ptr = (void *)(uintptr_t)key->p;
	vu[n++].u.mem.size = key->len;
	vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
	vu[n].u.mem.ptr = (void *)(uintptr_t)val->p;
	vu[n++].u.mem.size = val->len;
	vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
	vu[n++].u.ptr = (void *)op;
	for (; nh > 0 && n < sizeof(vu) / sizeof(vu[0]); nh--, h++) {
		vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
		vu[n].u.header.name = h->name;
		vu[n].u.header.val = h->val;
		vu[n++].u.header.size = h->len;
	}
	for (;;) {
		e = rd_kafka_produceva(st->rk, vu, n);
		if (e == NULL)
			break;
		code = rd_kafka_error_code(e);
		if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			cdc_err(err, errlen, "cannot produce to '%s': %s",
			    rd_kafka_topic_name(rkt), rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
			return -1;
		}
		rd_kafka_error_destroy(e);
		st->queue_full++;
		serve(st, 100);
		if (stopping(st))
			return cdc_err(err, errlen, "stopped");
	}
	st->ep[(st->headep + st->nep - 1) % st->capep].pending++;
	if (schema)
		st->schema_pending++;
	serve(st, 0);
	return 0;
}

/* Waits until the schema records produced so far are delivered, so that
 * no change reaches Kafka before the schema it uses. rd_kafka_flush()
 * sends the whole queue at once instead of after the linger (100 ms with
 * -t) and serves delivery reports; it returns when the whole queue is
 * delivered, so schema_pending is looked at every 10 ms. Schemas come at
 * the start and after DDL, so the batches it cuts short are few. */
static int
schemas_settle(struct state *st)
{
	while (st->schema_pending > 0 && !stopping(st)) {
		rd_kafka_flush(st->rk, 10);
		serve(st, 0);
	}
	return stopping(st) ? -1 : 0;
}

static int
on_schema(struct state *st, const struct cdc_frame *f, char *err,
    size_t errlen)
{
	rd_kafka_topic_t *rkt;
	const char *old;
	char key[17];
	struct cdc_slice k, v;
	size_t len;

	if (st->wire != NULL) {
		/* Registered when a change of a topic first uses it. */
		a2k_wire_schema(st->wire, f->fingerprint, f->schema.p,
		    f->schema.len);
		return 0;
	}
	old = cdc_fpmap_get(&st->sent, f->fingerprint, &len);
	if (old != NULL && len == f->schema.len &&
	    memcmp(old, f->schema.p, len) == 0)
		return 0;
	rkt = topic_get(st, st->o->k.schema_topic,
	    strlen(st->o->k.schema_topic), 0, err, errlen);
	if (rkt == NULL)
		return -1;
	/* The key is the fingerprint as streamcat prints it. */
	snprintf(key, sizeof(key), "%016" PRIx64, f->fingerprint);
	k.p = (const uint8_t *)key;
	k.len = 16;
	v = f->schema;
	if (produce(st, rkt, &k, &v, NULL, 0, 1, err, errlen) == -1)
		return -1;
	cdc_fpmap_put(&st->sent, f->fingerprint, (const char *)f->schema.p,
	    f->schema.len);
	return 0;
}

/* The Confluent framing of a change's key and value into *k and *v. A
 * refusal keeps the exit code it calls for; an unreachable registry is
 * left to finish(), as an unreachable broker is. */
static int
framed(struct state *st, const struct cdc_frame *f, struct cdc_slice *k,
    struct cdc_slice *v, char *err, size_t errlen)
{
	int rc;

	rc = a2k_wire_frame(st->wire, &f->topic, 1, &f->key, k, err, errlen);
	if (rc == 0)
		rc = a2k_wire_frame(st->wire, &f->topic, 0, &f->value, v, err,
		    errlen);
	if (rc == CDC_REGISTRY_REFUSED)
		st->reg_rc = EX_DATAERR;
	else if (rc == CDC_REGISTRY_DENIED || rc == CDC_REGISTRY_NOT_FOUND)
		st->reg_rc = EX_CONFIG;
	return rc == 0 ? 0 : -1;
}

/* One prefix names all of a pipeline's topics: a change topic that
 * binlog2avro wrote under another --topic-prefix than ours would put the
 * changes where kafka2ch -p never looks for them (and their schemas under
 * names of the other prefix). Refused before the topic is made. */
static int
prefix_check(struct state *st, const struct cdc_frame *f, char *err,
    size_t errlen)
{
	size_t n = strlen(st->o->k.prefix);

	if (f->topic.len > n + 1 && memcmp(f->topic.p, st->o->k.prefix, n) == 0 &&
	    f->topic.p[n] == '.')
		return 0;
	st->cfg_rc = EX_CONFIG;
	return cdc_err(err, errlen,
	    "change topic '%.*s' is not under the prefix '%s' (-p, "
	    "CDC_TOPIC_PREFIX): binlog2avro --topic-prefix and avro2kafka -p "
	    "must be the same",
	    (int)f->topic.len, (const char *)f->topic.p, st->o->k.prefix);
}

static int
on_change(struct state *st, const struct cdc_frame *f, char *err,
    size_t errlen)
{
	rd_kafka_topic_t *rkt;
	struct hdr h;
	struct cdc_slice k = f->key, v = f->value;

	st->in_changes++;
	if (f->value.p == NULL)
		st->tombstones++;
	if (f->value.p == NULL && !st->o->tombstones)
		return 0;
	if (st->schema_pending > 0 && schemas_settle(st) == -1)
		return cdc_err(err, errlen, "stopped");
	if (prefix_check(st, f, err, errlen) == -1)
		return -1;
	rkt = topic_get(st, (const char *)f->topic.p, f->topic.len,
	    st->o->partitions, err, errlen);
	if (rkt == NULL)
		return -1;
	cdc_kafka_vp_format(&st->vp, f->version, f->position.p,
	    f->position.len);
	h.name = CDC_HDR_VP;
	h.val = st->vp.p;
	h.len = (ssize_t)st->vp.len;
	if (st->wire != NULL && framed(st, f, &k, &v, err, errlen) == -1)
		return -1;
	if (produce(st, rkt, &k, &v, &h, 1, 0, err, errlen) == -1)
		return -1;
	st->txn_changes++;
	st->partial++;
	return 0;
}

static int
on_ddl(struct state *st, const struct cdc_frame *f, char *err, size_t errlen)
{
	rd_kafka_topic_t *rkt;
	struct hdr h[2];
	char ts[24];

	/* One partition keeps the statements in order. */
	rkt = topic_get(st, st->o->k.ddl_topic, strlen(st->o->k.ddl_topic), 1,
	    err, errlen);
	if (rkt == NULL)
		return -1;
	snprintf(ts, sizeof(ts), "%" PRId64, f->ts_ms);
	h[0].name = CDC_HDR_POSITION;
	h[0].val = f->position.p;
	h[0].len = (ssize_t)f->position.len;
	h[1].name = CDC_HDR_TS_MS;
	h[1].val = ts;
	h[1].len = -1;
	if (produce(st, rkt, &f->database, &f->statement, h, 2, 0, err,
		errlen) == -1)
		return -1;
	st->txn_changes++;
	st->partial++;
	return 0;
}

/* Commits the open Kafka transaction with the offsets record of the last
 * mark, acknowledges upstream and begins the next one. Returns 0, or -1
 * with err set after aborting what could not be committed. */
static int
txn_commit(struct state *st, char *err, size_t errlen)
{
	rd_kafka_topic_t *rkt;
	rd_kafka_error_t *e;
	struct cdc_slice k, v;
	int64_t deadline, t0 = cdc_mono_ms();

	if (st->pos_dirty) {
		rkt = topic_get(st, st->o->offsets_topic,
		    strlen(st->o->offsets_topic), 0, err, errlen);
		if (rkt == NULL)
			return -1;
		k.p = (const uint8_t *)st->o->txn_id;
		k.len = strlen(st->o->txn_id);
		v.p = (const uint8_t *)st->last_pos;
		v.len = strlen(st->last_pos);
		if (produce(st, rkt, &k, &v, NULL, 0, 0, err, errlen) == -1)
			return -1;
	}
	deadline = cdc_mono_ms() + st->o->k.timeout_s * 1000;
	for (;;) {
		e = rd_kafka_commit_transaction(st->rk,
		    (int)st->o->k.timeout_s * 1000);
		if (e == NULL)
			break;
		if (rd_kafka_error_is_retriable(e) && !cdc_stop &&
		    cdc_mono_ms() < deadline) {
			cdc_debug("retrying transaction commit: %s",
			    rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
			continue;
		}
		cdc_err(err, errlen, "cannot commit kafka transaction: %s",
		    rd_kafka_error_string(e));
		if (rd_kafka_error_txn_requires_abort(e))
			rd_kafka_error_destroy(
			    rd_kafka_abort_transaction(st->rk, 10000));
		rd_kafka_error_destroy(e);
		return -1;
	}
	st->txns++;
	cdc_debug("committed transaction %" PRIu64 ": %" PRId64
		  " records in %" PRId64 " ms, the commit %" PRId64 " ms",
	    st->txns, st->txn_changes, t0 - st->txn_start, cdc_mono_ms() - t0);
	st->pos_dirty = 0;
	st->txn_changes = 0;
	epochs_advance(st, 1);
	e = rd_kafka_begin_transaction(st->rk);
	if (e != NULL) {
		cdc_err(err, errlen, "cannot begin kafka transaction: %s",
		    rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
		return -1;
	}
	st->txn_start = cdc_mono_ms();
	return 0;
}

/* Commits when the transaction is at a commit mark and big or old enough. */
static int
txn_maybe_commit(struct state *st, int force, char *err, size_t errlen)
{
	if (st->o->txn_id == NULL || st->partial > 0)
		return 0;
	if (st->txn_changes == 0 && !st->pos_dirty)
		return 0;
	if (!force && st->txn_changes < st->o->txn_changes &&
	    cdc_mono_ms() - st->txn_start < st->o->txn_ms)
		return 0;
	return txn_commit(st, err, errlen);
}

static int
on_commit(struct state *st, const struct cdc_frame *f, char *err,
    size_t errlen)
{
	struct epoch *e = &st->ep[(st->headep + st->nep - 1) % st->capep];

	e->seq = f->seq;
	e->pos = cdc_xstrndup((const char *)f->position.p, f->position.len);
	st->last_version = f->version;
	st->last_ts_ms = f->ts_ms;
	epoch_open(st);
	st->partial = 0;
	if (st->o->txn_id == NULL)
		return 0;
	free(st->last_pos);
	st->last_pos = cdc_xstrndup((const char *)f->position.p,
	    f->position.len);
	st->last_seq = f->seq;
	st->pos_dirty = 1;
	return txn_maybe_commit(st, 0, err, errlen);
}

static void
on_heartbeat(struct state *st, const struct cdc_frame *f)
{
	/* Between transactions a heartbeat's position is a resume position:
	 * committing it moves the restart point on a quiet source. */
	if (st->o->txn_id == NULL || st->partial > 0)
		return;
	free(st->last_pos);
	st->last_pos = cdc_xstrndup((const char *)f->position.p,
	    f->position.len);
	st->pos_dirty = 1;
}

static int
on_frame(struct state *st, const struct cdc_frame *f, char *err,
    size_t errlen)
{
	switch (f->kind) {
	case CDC_FRAME_CHANGE:
		return on_change(st, f, err, errlen);
	case CDC_FRAME_SCHEMA_ANN:
		return on_schema(st, f, err, errlen);
	case CDC_FRAME_COMMIT:
		return on_commit(st, f, err, errlen);
	case CDC_FRAME_DDL:
		return on_ddl(st, f, err, errlen);
	case CDC_FRAME_HEARTBEAT:
		on_heartbeat(st, f);
		return 0;
	default:
		return 0;
	}
}

rd_kafka_conf_t *
a2k_conf(const struct a2k_opts *o, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf;
	char buf[32];
	int64_t tmo = o->k.timeout_s * 1000;

	conf = cdc_kafka_conf_new(o->k.brokers, err, errlen);
	if (conf == NULL)
		return NULL;
#define SET(k, v)                                                             \
	if (cdc_kafka_set(conf, (k), (v), err, errlen) == -1)                 \
		goto fail
	SET("enable.idempotence", "true");
	SET("acks", "all");
	SET("compression.type", o->compression);
	snprintf(buf, sizeof(buf), "%" PRId64, o->linger_ms);
	SET("linger.ms", buf);
	/* A small queue: the records in flight stay in the CPU cache,
	 * which halves the CPU time per record against 16 MiB (docs/kafka.md,
	 * Performance); batches are cut by size under load and by linger.ms
	 * when the input is slow. 256 KiB batches cost the broker and us
	 * half the requests of 64 KiB ones in a catch-up. */
	snprintf(buf, sizeof(buf), "%" PRId64, o->queue_kb);
	SET("queue.buffering.max.kbytes", buf);
	SET("batch.size", "262144");
	SET("queue.buffering.max.messages", "100000");
	/* The Java client's partitioner: a key lands where Kafka's own
	 * clients would put it; records without a key spread randomly. */
	SET("partitioner", "murmur2_random");
	snprintf(buf, sizeof(buf), "%" PRId64, tmo);
	SET("message.timeout.ms", buf);
	if (o->txn_id != NULL) {
		SET("transactional.id", o->txn_id);
		snprintf(buf, sizeof(buf), "%" PRId64,
		    tmo > 60000 ? tmo : 60000);
		SET("transaction.timeout.ms", buf);
	}
#undef SET
	if (cdc_kafka_set_all(conf, o->k.props, o->k.nprops, err, errlen) == -1)
		goto fail;
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Opens the acknowledgement fifo for writing; blocks until the upstream
 * stage opens it for reading, or a signal. */
static int
ack_open(const char *path, char *err, size_t errlen)
{
	int fd;

	for (;;) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd != -1)
			return fd;
		if (errno != EINTR || cdc_stop)
			return cdc_err(err, errlen, "cannot open '%s': %s",
			    path, strerror(errno));
	}
}

static int
setup(struct state *st, char *err, size_t errlen)
{
	const struct a2k_opts *o = st->o;
	rd_kafka_conf_t *conf;
	rd_kafka_error_t *e;
	char detail[CDC_ERRLEN];
	int tmo = (int)o->k.timeout_s * 1000;

	conf = a2k_conf(o, err, errlen);
	if (conf == NULL)
		return EX_CONFIG;
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, st);
	st->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, detail, sizeof(detail));
	if (st->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		cdc_err(err, errlen, "cannot create kafka producer: %s",
		    detail);
		return EX_CONFIG;
	}
	conf = NULL;
	if (cdc_kafka_probe(st->rk, tmo, NULL, detail, sizeof(detail)) ==
	    -1) {
		cdc_err(err, errlen, "cannot reach kafka at '%s': %s",
		    o->k.brokers, detail);
		return EX_UNAVAILABLE;
	}
	if (o->k.registry != NULL) {
		st->wire = a2k_wire_new(o->k.registry, o->k.timeout_s, err,
		    errlen);
		if (st->wire == NULL)
			return EX_CONFIG;
	}
	if ((o->k.registry == NULL &&
		cdc_kafka_ensure_topic(st->rk, o->k.schema_topic, 1,
		    (int)o->replication, 1, tmo, detail, sizeof(detail)) ==
		    -1) ||
	    (o->txn_id != NULL &&
		cdc_kafka_ensure_topic(st->rk, o->offsets_topic, 1,
		    (int)o->replication, 1, tmo, detail,
		    sizeof(detail)) == -1)) {
		cdc_err(err, errlen, "cannot create the schema or offsets "
				     "topic: %s", detail);
		return EX_UNAVAILABLE;
	}
	if (o->txn_id != NULL) {
		e = rd_kafka_init_transactions(st->rk, tmo);
		if (e == NULL)
			e = rd_kafka_begin_transaction(st->rk);
		if (e != NULL) {
			cdc_err(err, errlen,
			    "cannot start kafka transactions as '%s': %s",
			    o->txn_id, rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
			return EX_UNAVAILABLE;
		}
		st->txn_start = cdc_mono_ms();
	}
	if (o->k.ack_path != NULL) {
		st->ack_fd = ack_open(o->k.ack_path, err, errlen);
		if (st->ack_fd == -1)
			return cdc_stop ? 0 : EX_IOERR;
	}
	return 0;
}

/* How a run ended, for finish(); an input error is its exit code. */
#define END_EOF    0
#define END_SIGNAL (-1)
#define END_KAFKA  (-2)

/* Ends the run: commits or aborts the open transaction, or flushes what
 * is queued, and picks the exit code. */
static int
finish(struct state *st, int how)
{
	char err[CDC_ERRLEN];
	rd_kafka_error_t *e;
	int64_t deadline;
	int inflight, ok = how == END_EOF || how == END_SIGNAL;

	if (st->o->txn_id != NULL) {
		inflight = st->txn_changes > 0;
		if (how == END_KAFKA) {
			if (!cdc_kafka_health.fatal)
				rd_kafka_error_destroy(
				    rd_kafka_abort_transaction(st->rk, 10000));
			return inflight ? EX_TEMPFAIL : EX_UNAVAILABLE;
		}
		if (st->partial > 0) {
			/* A source transaction is cut short: it cannot be
			 * committed, and neither can the complete ones that
			 * share its Kafka transaction. A restart from
			 * --resume-position sends them again. */
			e = rd_kafka_abort_transaction(st->rk,
			    (int)st->o->k.timeout_s * 1000);
			if (e != NULL) {
				cdc_error("cannot abort kafka transaction: %s",
				    rd_kafka_error_string(e));
				rd_kafka_error_destroy(e);
				return EX_TEMPFAIL;
			}
			if (how == END_EOF) {
				cdc_error("stream ended inside a source "
					  "transaction: %" PRId64 " changes "
					  "after the last commit mark not "
					  "committed",
				    st->partial);
				return EX_TEMPFAIL;
			}
			return ok ? 0 : how;
		}
		if (txn_maybe_commit(st, 1, err, sizeof(err)) == -1) {
			cdc_error("%s", err);
			return EX_TEMPFAIL;
		}
		return ok ? 0 : how;
	}
	deadline = cdc_mono_ms() + st->o->k.timeout_s * 1000;
	while (rd_kafka_outq_len(st->rk) > 0 && !st->failed &&
	    !cdc_kafka_health.fatal && cdc_mono_ms() < deadline) {
		rd_kafka_flush(st->rk, 100);
		epochs_advance(st, 0);
	}
	epochs_advance(st, 0);
	if (st->failed && how != END_KAFKA)
		cdc_error("%s", st->fail_msg);
	inflight = rd_kafka_outq_len(st->rk);
	if (inflight > 0) {
		rd_kafka_purge(st->rk,
		    RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(st->rk, 0);
	}
	if (how == END_KAFKA || st->failed || cdc_kafka_health.fatal)
		return inflight > 0 ? EX_TEMPFAIL : EX_UNAVAILABLE;
	if (inflight > 0) {
		cdc_error("%d records not delivered within %" PRId64 "s",
		    inflight, st->o->k.timeout_s);
		return EX_TEMPFAIL;
	}
	return ok ? 0 : how;
}

static void
teardown(struct state *st)
{
	size_t i;

	for (i = 0; i < st->ntopics; i++) {
		rd_kafka_topic_destroy(st->topics[i].rkt);
		free(st->topics[i].name);
	}
	free(st->topics);
	if (st->rk != NULL)
		rd_kafka_destroy(st->rk);
	for (i = 0; i < st->nep; i++)
		free(st->ep[(st->headep + i) % st->capep].pos);
	free(st->ep);
	free(st->last_pos);
	cdc_fpmap_fini(&st->sent);
	a2k_wire_free(st->wire);
	cdc_buf_fini(&st->vp);
	if (st->ack_fd != -1 && st->ack_fd != st->o->k.ack_fd)
		close(st->ack_fd);
}

/* A Kafka failure: its first message is kept for the end of the run. */
static int
failed(struct state *st, const char *err)
{
	if (!st->failed)
		snprintf(st->fail_msg, sizeof(st->fail_msg), "%s", err);
	st->failed = 1;
	return END_KAFKA;
}

/* A transaction that ends at a commit mark is committed as soon as the
 * input pauses (common/stream.h), not at -I, so that read_committed
 * consumers see it at once. */
/* Waits for input (up to 100 ms), serving Kafka, and commits what a pause
 * or -I/-M makes due. Returns 0, or END_KAFKA on a failure. */
static int
idle_wait(struct state *st)
{
	struct pollfd pfd;
	char err[CDC_ERRLEN];
	int64_t age = cdc_mono_ms() - st->txn_start;
	int due = st->txn_changes > 0 && st->partial == 0, wait = 100, paused;

	if (due)
		wait = cdc_pause_wait(age);
	pfd.fd = STDIN_FILENO;
	pfd.events = POLLIN;
	pfd.revents = 0;
	paused = poll(&pfd, 1, wait) == 0;
	serve(st, 0);
	/* serve() looks at the clock every 4096 calls: a quiet input still
	 * gets its metrics written. */
	if (paused && a2k_metrics_due(cdc_mono_ms()))
		metrics(st, 0);
	paused = paused && due &&
	    cdc_mono_ms() - st->txn_start >= CDC_PAUSE_GAP_MS;
	if (txn_maybe_commit(st, paused, err, sizeof(err)) == -1)
		return failed(st, err);
	return 0;
}

/* Reads frames until the end of input, a signal or a failure. */
static int
loop(struct state *st, struct cdc_reader *r)
{
	struct cdc_frame f;
	char err[CDC_ERRLEN];
	int n;

	for (;;) {
		if (cdc_stop)
			return END_SIGNAL;
		if (st->failed || cdc_kafka_health.fatal)
			return END_KAFKA;
		n = cdc_reader_next(r, &f, err, sizeof(err));
		if (n == CDC_READ_AGAIN) {
			if (idle_wait(st) != 0)
				return END_KAFKA;
			continue;
		}
		if (n == 0)
			return END_EOF;
		if (n == -1) {
			cdc_error("%s", err);
			return strstr(err, "cannot read") != NULL ? EX_IOERR :
								    EX_DATAERR;
		}
		if (on_frame(st, &f, err, sizeof(err)) == -1) {
			if (cdc_stop)
				return END_SIGNAL;
			/* A schema the registry refuses is bad input, not a
			 * Kafka failure: what came before it is still
			 * delivered (or committed up to the last mark). */
			if (st->reg_rc != 0) {
				cdc_error("%s", err);
				return st->reg_rc;
			}
			return failed(st, err);
		}
	}
}

int
a2k_run(const struct a2k_opts *o)
{
	struct state st;
	struct cdc_reader *r;
	char err[CDC_ERRLEN];
	int rc, how, fl;

	memset(&st, 0, sizeof(st));
	st.o = o;
	st.ack_fd = o->k.ack_fd;
	st.stats_at = cdc_mono_ms();
	a2k_metrics_start(o->k.metrics);
	cdc_fpmap_init(&st.sent);
	cdc_buf_init(&st.vp);
	epoch_open(&st);
	rc = setup(&st, err, sizeof(err));
	if (rc != 0 || cdc_stop) {
		if (rc != 0)
			cdc_error("%s", err);
		metrics(&st, 1);
		teardown(&st);
		return rc;
	}
	/* Non-blocking stdin: wait with poll() and keep serving Kafka. */
	fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl != -1)
		fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	r = cdc_reader_new(STDIN_FILENO, "stdin");
	how = loop(&st, r);
	if (fl != -1)
		fcntl(STDIN_FILENO, F_SETFL, fl);
	if (how == END_KAFKA && cdc_kafka_health.fatal)
		cdc_error("kafka: %s", cdc_kafka_health.fatal_msg);
	else if (how == END_KAFKA)
		cdc_error("%s", st.fail_msg);
	rc = finish(&st, how);
	if (st.reg_rc != 0)
		rc = st.reg_rc;
	if (st.cfg_rc != 0)
		rc = st.cfg_rc;
	metrics(&st, 1);
	cdc_info("in=%" PRIu64 " out=%" PRIu64 " txns=%" PRIu64
		 " acks=%" PRIu64 " registered=%" PRIu64,
	    st.in_changes, st.out_records, st.txns, st.acks,
	    a2k_wire_registered(st.wire));
	cdc_reader_free(r);
	teardown(&st);
	return rc;
}
