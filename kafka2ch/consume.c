/* kafka2ch's consumer loop: records of the change topics become change
 * frames on stdout, preceded by the schema announcements they need; commit
 * marks carry the consumed offsets as kafka: positions, and the offsets of
 * a mark are committed to the group only once downstream acknowledges it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "fingerprint.h"
#include "k2c.h"
#include "kafka.h"
#include "log.h"
#include "opt.h"
#include "registry.h"
#include "stream.h"
#include "sys.h"
#include "version.h"

struct part {
	char *topic;
	size_t topic_len;
	const rd_kafka_topic_t *rkt; /* as seen in messages; a lookup hint */
	int32_t partition;
	int ddl; /* the DDL topic's */
	int assigned;
	int64_t next; /* offset after the last one emitted; -1: none */
	int64_t eof;  /* offset of the last end-of-partition event; -1 */
	int64_t end;  /* --exit-at-end: the end offset at assignment */
	int64_t committed; /* last offset committed to the group; -1 */
};

struct state {
	const struct k2c_opts *o;
	rd_kafka_t *rk;
	struct cdc_writer *w;
	struct k2c_schemas *schemas;
	struct k2c_wire *wire; /* --schema-registry, else NULL */
	struct cdc_ack_reader *ackr;
	int ack_fd;
	int ack_eof;
	struct part *parts;
	size_t nparts, lastpart;
	size_t nassigned;
	/* commit marks */
	int64_t seq;       /* of the last mark written */
	int64_t acked;     /* of the last mark acknowledged */
	int64_t pending;   /* changes since the last mark */
	int64_t unacked;   /* changes in marks not yet acknowledged */
	int64_t mark_at;   /* cdc_mono_ms() of the last mark */
	int64_t version;   /* greatest version emitted */
	int64_t ts_ms;     /* greatest record timestamp */
	struct cdc_buf pos; /* scratch */
	struct cdc_buf fpos; /* a foreign record's position */
	char *acked_pos;    /* position of the last acknowledged mark */
	int64_t revoked_seq; /* the last mark before the last revocation */
	int closing;       /* drained and committed: leaving the group */
	int64_t stop_by;   /* the last commit and the leave end by then */
	int rc;            /* a failure's exit code, once one happened */
	/* the prefetch queue, for wake_fetcher() */
	int64_t q_min_msgs, q_max_kb; /* librdkafka's bounds */
	size_t q_peak;  /* the queue's length since the last wake, at most */
	size_t q_len;   /* and at the last look, for the metrics */
	int q_near;     /* it came near a bound */
	int64_t woken_at;
	int64_t subscribed_at, looked_at; /* for discover() */
	int64_t record_at, probed_at;     /* for kafka_gone() */
	uint64_t value_bytes; /* of the records consumed */
	uint64_t n_in, n_commits, n_wakes, n_commit_failures, n_tombstones;
	int64_t stats_at;
};

static struct state *cur; /* for the rebalance callback */

/* Stops the run with exit code rc unless an earlier failure did. */
static void
fail(struct state *st, int rc)
{
	if (st->rc == 0)
		st->rc = rc;
}

static struct part *
part_find(struct state *st, const char *topic, int32_t partition)
{
	size_t i;

	for (i = 0; i < st->nparts; i++)
		if (st->parts[i].partition == partition &&
		    strcmp(st->parts[i].topic, topic) == 0)
			return &st->parts[i];
	return NULL;
}

static struct part *
part_get(struct state *st, const char *topic, int32_t partition)
{
	struct part *p = part_find(st, topic, partition);

	if (p != NULL)
		return p;
	st->parts = cdc_xrealloc(st->parts,
	    (st->nparts + 1) * sizeof(*st->parts));
	p = &st->parts[st->nparts++];
	memset(p, 0, sizeof(*p));
	p->topic = cdc_xstrdup(topic);
	p->topic_len = strlen(topic);
	p->ddl = strcmp(topic, st->o->k.ddl_topic) == 0;
	p->partition = partition;
	p->next = p->eof = p->end = p->committed = -1;
	return p;
}

/* The part of a message: the last one used, else by handle, else by name. */
static struct part *
part_of(struct state *st, const rd_kafka_message_t *m)
{
	struct part *p;
	size_t i;

	if (st->lastpart < st->nparts) {
		p = &st->parts[st->lastpart];
		if (p->rkt == m->rkt && p->partition == m->partition)
			return p;
	}
	for (i = 0; i < st->nparts; i++) {
		p = &st->parts[i];
		if (p->rkt == m->rkt && p->partition == m->partition) {
			st->lastpart = i;
			return p;
		}
	}
	p = part_get(st, rd_kafka_topic_name(m->rkt), m->partition);
	p->rkt = m->rkt;
	st->lastpart = (size_t)(p - st->parts);
	return p;
}

static int
write_failed(struct state *st, const char *err)
{
	cdc_epipe_check(errno);
	cdc_error("%s", err);
	fail(st, EX_IOERR);
	return -1;
}

/* The end of a wait for kafka: the stop's deadline once the stop has
 * begun, else -w from now. */
static int64_t
wait_deadline(const struct state *st)
{
	if (st->stop_by != 0)
		return st->stop_by;
	return cdc_mono_ms() + st->o->k.timeout_s * 1000;
}

typedef int event_fn(struct state *st, rd_kafka_event_t *ev, void *arg);

/* Serves queue q, 100 ms at a time, until fn is done (returns 1) or the
 * deadline passes. fn sees each event, and NULL before the first poll
 * and after an empty one. Returns 1 when fn was done. */
static int
serve_queue(struct state *st, rd_kafka_queue_t *q, int64_t deadline,
    event_fn *fn, void *arg)
{
	rd_kafka_event_t *ev;
	int done = fn(st, NULL, arg);

	while (!done && cdc_mono_ms() < deadline) {
		ev = rd_kafka_queue_poll(q, 100);
		done = fn(st, ev, arg);
		if (ev != NULL)
			rd_kafka_event_destroy(ev);
	}
	return done;
}

static int
commit_answered(struct state *st, rd_kafka_event_t *ev, void *arg)
{
	(void)st;
	if (ev == NULL ||
	    rd_kafka_event_type(ev) != RD_KAFKA_EVENT_OFFSET_COMMIT)
		return 0;
	*(rd_kafka_resp_err_t *)arg = rd_kafka_event_error(ev);
	return 1;
}

/* Commits offsets and waits for the answer until wait_deadline():
 * rd_kafka_commit() waits as long as librdkafka retries, minutes when a
 * broker hangs. */
static rd_kafka_resp_err_t
commit_wait(struct state *st, const rd_kafka_topic_partition_list_t *offsets)
{
	rd_kafka_queue_t *q;
	rd_kafka_resp_err_t e;

	q = rd_kafka_queue_new(st->rk);
	e = rd_kafka_commit_queue(st->rk, offsets, q, NULL, NULL);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    !serve_queue(st, q, wait_deadline(st), commit_answered, &e))
		e = RD_KAFKA_RESP_ERR__TIMED_OUT;
	rd_kafka_queue_destroy(q);
	return e;
}

/* Commits the offsets of a kafka: position to the group, for the
 * partitions still assigned. sync waits for the broker's answer. */
static int
commit_position(struct state *st, const char *pos, int sync)
{
	rd_kafka_topic_partition_list_t *list, *mine;
	rd_kafka_resp_err_t e;
	char err[CDC_ERRLEN];
	struct part *p;
	int i;

	list = cdc_kafka_position_parse(pos, strlen(pos), err, sizeof(err));
	if (list == NULL) {
		cdc_error("acknowledged position '%s': %s", pos, err);
		fail(st, EX_DATAERR);
		return -1;
	}
	mine = rd_kafka_topic_partition_list_new(list->cnt > 0 ? list->cnt :
								 1);
	for (i = 0; i < list->cnt; i++) {
		p = part_find(st, list->elems[i].topic,
		    list->elems[i].partition);
		if (p != NULL && p->assigned) {
			rd_kafka_topic_partition_list_add(mine,
			    list->elems[i].topic, list->elems[i].partition)
			    ->offset = list->elems[i].offset;
			p->committed = list->elems[i].offset;
		}
	}
	e = RD_KAFKA_RESP_ERR_NO_ERROR;
	if (mine->cnt > 0)
		e = sync ? commit_wait(st, mine) :
			   rd_kafka_commit(st->rk, mine, 1);
	rd_kafka_topic_partition_list_destroy(mine);
	rd_kafka_topic_partition_list_destroy(list);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR &&
	    e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
		cdc_warn("cannot commit offsets: %s", rd_kafka_err2str(e));
		st->n_commit_failures++;
		return -1;
	}
	st->n_commits++;
	return 0;
}

/* Reads what the acknowledgement channel has and commits the newest
 * acknowledged position. */
static void
acks_poll(struct state *st)
{
	char err[CDC_ERRLEN];
	const char *pos;
	int64_t seq;
	int n;

	if (st->ackr == NULL || st->ack_eof)
		return;
	n = cdc_ack_reader_poll(st->ackr, &seq, &pos, err, sizeof(err));
	if (n == CDC_ACK_EOF) {
		st->ack_eof = 1;
		return;
	}
	if (n == -1) {
		cdc_error("%s", err);
		fail(st, EX_DATAERR);
		st->ack_eof = 1;
		return;
	}
	if (n == 0)
		return;
	if (seq > st->seq) {
		cdc_error("acknowledgement of commit mark %" PRId64
			  " which was never sent (last %" PRId64 ")",
		    seq, st->seq);
		fail(st, EX_DATAERR);
		st->ack_eof = 1;
		return;
	}
	st->acked = seq;
	if (seq == st->seq)
		st->unacked = 0;
	/* A mark from before a revocation names partitions that may have
	 * moved on, and come back at newer committed offsets: committing it
	 * late could move them back. What it missed is read again. */
	if (seq <= st->revoked_seq)
		return;
	free(st->acked_pos);
	st->acked_pos = cdc_xstrdup(pos);
	commit_position(st, pos, 0);
}

/* Writes a commit mark with the next offsets of the assigned partitions.
 * Without an acknowledgement channel, written counts as acknowledged. */
static int
mark(struct state *st)
{
	rd_kafka_topic_partition_list_t *list;
	struct cdc_frame f;
	char err[CDC_ERRLEN];
	size_t i;

	list = rd_kafka_topic_partition_list_new((int)st->nparts + 1);
	for (i = 0; i < st->nparts; i++)
		if (st->parts[i].assigned && st->parts[i].next >= 0)
			rd_kafka_topic_partition_list_add(list,
			    st->parts[i].topic, st->parts[i].partition)
			    ->offset = st->parts[i].next;
	rd_kafka_topic_partition_list_sort(list, NULL, NULL);
	st->pos.len = 0;
	cdc_kafka_position_format(&st->pos, list);
	rd_kafka_topic_partition_list_destroy(list);
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_COMMIT;
	f.seq = ++st->seq;
	f.position = (struct cdc_slice){st->pos.p, st->pos.len};
	f.version = st->version;
	f.ts_ms = st->ts_ms > 0 ? st->ts_ms : cdc_now_ms();
	if (cdc_writer_put(st->w, &f, err, sizeof(err)) == -1)
		return write_failed(st, err);
	st->unacked += st->pending;
	st->pending = 0;
	st->mark_at = cdc_mono_ms();
	if (st->ackr == NULL) {
		cdc_buf_putc(&st->pos, '\0');
		st->acked = st->seq;
		st->unacked = 0;
		free(st->acked_pos);
		st->acked_pos = cdc_xstrdup((const char *)st->pos.p);
		commit_position(st, st->acked_pos, 0);
	}
	return 0;
}

/* Waits up to ms for downstream to acknowledge the last mark. Returns 1
 * when it did (or there is no channel), 0 otherwise. */
static int
acks_wait(struct state *st, int64_t ms)
{
	struct pollfd pfd;
	int64_t deadline = cdc_mono_ms() + ms;

	while (st->ackr != NULL && st->acked < st->seq && !st->ack_eof &&
	    cdc_mono_ms() < deadline) {
		pfd.fd = st->ack_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, 100);
		acks_poll(st);
	}
	return st->acked >= st->seq;
}

static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct state *st = cur;
	int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	struct part *p;
	int64_t lo, hi;
	int i;

	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		for (i = 0; i < parts->cnt; i++) {
			p = part_get(st, parts->elems[i].topic,
			    parts->elems[i].partition);
			p->assigned = 1;
			p->next = p->eof = p->end = p->committed = -1;
			st->nassigned++;
			if (st->o->exit_at_end && !st->closing &&
			    rd_kafka_query_watermark_offsets(rk, p->topic,
				p->partition, &lo, &hi,
				(int)st->o->k.timeout_s * 1000) ==
				RD_KAFKA_RESP_ERR_NO_ERROR)
				p->end = hi;
			cdc_debug("assigned '%s' partition %" PRId32
				  " (end %" PRId64 ")",
			    p->topic, p->partition, p->end);
		}
		if (coop)
			rd_kafka_incremental_assign(rk, parts);
		else
			rd_kafka_assign(rk, parts);
		return;
	}
	/* Revoked: mark what was emitted, give downstream a moment to
	 * acknowledge it, commit what is acknowledged, and forget the
	 * partitions. Lost partitions belong to someone else already. */
	if (!rd_kafka_assignment_lost(rk) && st->rc == 0 && !st->closing) {
		if (st->pending > 0)
			mark(st);
		if (st->ackr != NULL && st->acked < st->seq)
			acks_wait(st, 10000);
		/* Synchronously, while this generation still owns the
		 * partitions: an asynchronous commit could reach the
		 * coordinator after the group moved on and be refused, and
		 * the next owner would read again what was acknowledged. */
		if (st->acked_pos != NULL)
			commit_position(st, st->acked_pos, 1);
	}
	st->revoked_seq = st->seq;
	free(st->acked_pos);
	st->acked_pos = NULL;
	for (i = 0; i < parts->cnt; i++) {
		p = part_find(st, parts->elems[i].topic,
		    parts->elems[i].partition);
		if (p != NULL && p->assigned) {
			p->assigned = 0;
			p->next = -1;
			st->nassigned--;
		}
	}
	if (coop)
		rd_kafka_incremental_unassign(rk, parts);
	else
		rd_kafka_assign(rk, NULL);
}

static void
commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	(void)rk;
	(void)offsets;
	(void)opaque;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
	    err != RD_KAFKA_RESP_ERR__NO_OFFSET)
		cdc_warn("cannot commit offsets: %s", rd_kafka_err2str(err));
}

rd_kafka_conf_t *
k2c_conf(const struct k2c_opts *o, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf;

	conf = cdc_kafka_conf_new(o->k.brokers, err, errlen);
	if (conf == NULL)
		return NULL;
#define SET(k, v)                                                             \
	if (cdc_kafka_set(conf, (k), (v), err, errlen) == -1)                 \
		goto fail
	SET("group.id", o->group);
	SET("isolation.level", "read_committed");
	/* Eager roundrobin, not cooperative-sticky: librdkafka 2.0.2
	 * (Debian 12) aborts in the sticky assignor when a consumer closes
	 * before its first assignment (confluentinc/librdkafka#4312, fixed
	 * in 2.3.0), and its cooperative protocol refuses commits made
	 * between the two phases of a rebalance. Roundrobin spreads the
	 * partitions of all the change topics over the group (range would
	 * give every one-partition topic to the same member). */
	SET("partition.assignment.strategy", "roundrobin");
	SET("enable.auto.commit", "false");
	SET("enable.auto.offset.store", "false");
	SET("auto.offset.reset", o->offset_reset);
	SET("enable.partition.eof", "true");
	/* Bounded memory: librdkafka prefetches at most this many records
	 * or bytes of values (keys, headers and its own 300 bytes or so per
	 * record come on top); wake_fetcher() keeps the queue from running
	 * dry with bounds this small. */
	SET("queued.min.messages", "25000");
	SET("queued.max.messages.kbytes", "4096");
	SET("topic.metadata.refresh.interval.ms", "30000");
#undef SET
	if (cdc_kafka_set_all(conf, o->k.props, o->k.nprops, err, errlen) == -1)
		goto fail;
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* An integer property of conf, 0 if it cannot be read. */
static int64_t
conf_int(const rd_kafka_conf_t *conf, const char *name)
{
	char buf[32];
	size_t n = sizeof(buf);
	int64_t v;

	if (rd_kafka_conf_get(conf, name, buf, &n) != RD_KAFKA_CONF_OK ||
	    cdc_parse_int(name, buf, 0, INT64_MAX, &v, NULL, 0) == -1)
		return 0;
	return v;
}

static int
data_error(struct state *st, const rd_kafka_message_t *m, const char *what)
{
	cdc_error("cannot decode '%s' partition %" PRId32 " offset %" PRId64
		  ": %s",
	    rd_kafka_topic_name(m->rkt), m->partition, m->offset, what);
	fail(st, EX_DATAERR);
	return -1;
}

/* Announces the schema of single-object encoded bytes unless this stream
 * already did. */
static int
announce(struct state *st, const rd_kafka_message_t *m, const void *p,
    size_t n)
{
	struct cdc_frame f;
	char err[CDC_ERRLEN];
	const char *schema;
	uint64_t fp;
	size_t len;

	if (p == NULL)
		return 0;
	if (cdc_soe_fingerprint(p, n, &fp) == -1)
		return data_error(st, m, "not single-object encoded");
	if (cdc_writer_announced(st->w, fp))
		return 0;
	schema = k2c_schemas_get(st->schemas, fp,
	    (int)st->o->schema_timeout_s * 1000, &len);
	if (schema == NULL) {
		snprintf(err, sizeof(err),
		    "unknown schema fingerprint %016" PRIx64 " (not in '%s')",
		    fp, st->o->k.schema_topic);
		if (cdc_stop)
			return -1;
		return data_error(st, m, err);
	}
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_SCHEMA_ANN;
	f.fingerprint = fp;
	f.schema = (struct cdc_slice){(const uint8_t *)schema, len};
	if (cdc_writer_put(st->w, &f, err, sizeof(err)) == -1)
		return write_failed(st, err);
	return 0;
}

/* A Confluent-framed key or value (its first byte is 0, which single-object
 * encoding never starts with) becomes single-object encoded in *s, its
 * schema announced first when this stream has not announced that text.
 * Other bytes are left alone for announce(). */
static int
rewire(struct state *st, const rd_kafka_message_t *m, struct cdc_slice *s,
    int is_key)
{
	struct k2c_wired wd;
	struct cdc_frame f;
	char err[CDC_ERRLEN];
	int rc;

	if (s->p == NULL || s->len == 0 || s->p[0] != CDC_WIRE_MAGIC)
		return 0;
	if (st->wire == NULL)
		return data_error(st, m, "Confluent wire format: needs "
					 "--schema-registry");
	rc = k2c_wire_decode(st->wire, is_key, s->p, s->len, &wd, err,
	    sizeof(err));
	if (rc == CDC_REGISTRY_UNAVAILABLE || rc == CDC_REGISTRY_DENIED) {
		if (cdc_stop)
			return -1;
		cdc_error("%s", err);
		fail(st, rc == CDC_REGISTRY_DENIED ? EX_CONFIG :
						     EX_UNAVAILABLE);
		return -1;
	}
	if (rc != 0)
		return data_error(st, m, err);
	if (wd.fresh || !cdc_writer_announced(st->w, wd.fp)) {
		memset(&f, 0, sizeof(f));
		f.kind = CDC_FRAME_SCHEMA_ANN;
		f.fingerprint = wd.fp;
		f.schema = (struct cdc_slice){(const uint8_t *)wd.schema,
		    wd.schema_len};
		if (cdc_writer_put(st->w, &f, err, sizeof(err)) == -1)
			return write_failed(st, err);
	}
	*s = wd.soe;
	return 0;
}

static int
header_text(const rd_kafka_message_t *m, const char *name,
    struct cdc_slice *out)
{
	const void *p;
	size_t len;

	if (cdc_kafka_header(m, name, &p, &len) == -1 || p == NULL)
		return -1;
	out->p = p;
	out->len = len;
	return 0;
}

static int
header_num(const rd_kafka_message_t *m, const char *name, int64_t *v)
{
	struct cdc_slice s;

	if (header_text(m, name, &s) == -1)
		return -1;
	return cdc_kafka_parse_i64(s.p, s.len, v);
}

/* A change's version and position: the cdc.vp header, or the cdc.version
 * and cdc.position headers of records written before it. */
static int
header_vp(const rd_kafka_message_t *m, struct cdc_frame *f)
{
	struct cdc_slice s;
	const void *pos;

	if (header_text(m, CDC_HDR_VP, &s) == 0) {
		if (cdc_kafka_vp_parse(s.p, s.len, &f->version, &pos,
			&f->position.len) == -1)
			return -1;
		f->position.p = pos;
		return 0;
	}
	if (header_text(m, CDC_HDR_POSITION, &f->position) == -1 ||
	    header_num(m, CDC_HDR_VERSION, &f->version) == -1)
		return -1;
	return 0;
}

/* The version and position of a record that another producer wrote, in
 * the Confluent wire format without cdc headers: its Kafka coordinates
 * (foreign.c). Records of our own format must have their headers. */
static int
foreign_vp(struct state *st, const rd_kafka_message_t *m,
    struct cdc_frame *f)
{
	const uint8_t *k = m->key, *v = m->payload;
	const void *hp;
	size_t hlen;

	if (st->wire == NULL ||
	    cdc_kafka_header(m, CDC_HDR_VP, &hp, &hlen) == 0 ||
	    cdc_kafka_header(m, CDC_HDR_POSITION, &hp, &hlen) == 0)
		return -1;
	if ((v == NULL || m->len == 0 || v[0] != CDC_WIRE_MAGIC) &&
	    (k == NULL || m->key_len == 0 || k[0] != CDC_WIRE_MAGIC))
		return -1;
	f->version = k2c_foreign_version(m->partition, m->offset);
	st->fpos.len = 0;
	cdc_buf_printf(&st->fpos, "kafka:%s/%" PRId32 "@%" PRId64,
	    rd_kafka_topic_name(m->rkt), m->partition, m->offset);
	f->position.p = st->fpos.p;
	f->position.len = st->fpos.len;
	return 0;
}

static int
on_message(struct state *st, const rd_kafka_message_t *m)
{
	struct cdc_frame f;
	struct part *p = part_of(st, m);
	char err[CDC_ERRLEN];
	rd_kafka_timestamp_type_t tt;
	int64_t ts;

	/* A batch can hold records of a partition revoked while it was
	 * collected; the partition's next owner reads them. */
	if (!p->assigned)
		return 0;
	memset(&f, 0, sizeof(f));
	if (p->ddl) {
		f.kind = CDC_FRAME_DDL;
		f.database = (struct cdc_slice){m->key, m->key_len};
		f.statement = (struct cdc_slice){m->payload, m->len};
		if (f.database.p == NULL)
			f.database.p = (const uint8_t *)"";
		if (f.statement.p == NULL)
			f.statement.p = (const uint8_t *)"";
		if (header_text(m, CDC_HDR_POSITION, &f.position) == -1 ||
		    header_num(m, CDC_HDR_TS_MS, &f.ts_ms) == -1)
			return data_error(st, m, "no cdc.position or "
						 "cdc.ts_ms header");
	} else {
		f.key = (struct cdc_slice){m->key, m->key_len};
		f.value = (struct cdc_slice){m->payload, m->len};
		k2c_wire_begin(st->wire);
		if (rewire(st, m, &f.key, 1) == -1 ||
		    rewire(st, m, &f.value, 0) == -1 ||
		    announce(st, m, f.key.p, f.key.len) == -1 ||
		    announce(st, m, f.value.p, f.value.len) == -1)
			return -1;
		f.kind = CDC_FRAME_CHANGE;
		f.topic.p = (const uint8_t *)p->topic;
		f.topic.len = p->topic_len;
		if (header_vp(m, &f) == -1 && foreign_vp(st, m, &f) == -1)
			return data_error(st, m, "no valid cdc.vp header");
		if (f.version > st->version)
			st->version = f.version;
	}
	if (cdc_writer_put(st->w, &f, err, sizeof(err)) == -1)
		return write_failed(st, err);
	ts = rd_kafka_message_timestamp(m, &tt);
	if (ts > st->ts_ms)
		st->ts_ms = ts;
	p->next = m->offset + 1;
	st->pending++;
	st->n_in++;
	if (!p->ddl && m->payload == NULL)
		st->n_tombstones++;
	st->value_bytes += m->len;
	return 0;
}

/* Whether every assigned partition reached its end offset of assignment
 * time (--exit-at-end). */
static int
at_end(const struct state *st)
{
	const struct part *p;
	size_t i;

	if (st->nassigned == 0)
		return 0;
	for (i = 0; i < st->nparts; i++) {
		p = &st->parts[i];
		if (!p->assigned || p->end < 0)
			continue;
		if (p->next < p->end && p->eof < p->end)
			return 0;
	}
	return 1;
}

/* All brokers down for longer than the retry budget, and still not
 * answering a metadata request. librdkafka 2.0.2 does not always report
 * that all brokers are down (in 3 of 5 runs of t2003's long outage one
 * day it never did, and kafka2ch waited for good): so a consumer that has
 * had no record for the budget asks a broker itself, at most once per
 * budget, and a failed answer starts the count as the report would. */
static int
kafka_gone(struct state *st)
{
	char err[CDC_ERRLEN];
	int64_t now = cdc_mono_ms(), budget = st->o->k.timeout_s * 1000;

	if (cdc_kafka_health.down_since == 0) {
		if (now - st->record_at < budget ||
		    now - st->probed_at < budget)
			return 0;
		st->probed_at = now;
		if (cdc_kafka_probe(st->rk, 2000, NULL, err, sizeof(err)) ==
			-1 &&
		    cdc_kafka_health.down_since == 0)
			cdc_kafka_health.down_since = now;
		return 0;
	}
	if (now - cdc_kafka_health.down_since < budget)
		return 0;
	if (cdc_kafka_probe(st->rk, 2000, NULL, err, sizeof(err)) == 0)
		return 0;
	cdc_error("kafka at '%s' unreachable for %" PRId64 "s: %s",
	    st->o->k.brokers, st->o->k.timeout_s, err);
	return 1;
}

/* Hands the figures to the metrics file (metrics.c). The end offsets are
 * librdkafka's cached high watermarks: no request to the broker. */
static void
metrics(struct state *st, int last)
{
	struct k2c_figures f;
	const struct part *p;
	int64_t lo, hi, at;
	size_t i;

	memset(&f, 0, sizeof(f));
	f.changes = st->n_in;
	f.tombstones = st->n_tombstones;
	f.bytes = st->value_bytes;
	f.commits = st->n_commits;
	f.commit_failures = st->n_commit_failures;
	f.marks = st->seq;
	f.acked = st->acked;
	f.partitions = (int64_t)st->nassigned;
	f.unacked = st->unacked + st->pending;
	f.version = st->version;
	f.record_ts = (double)st->ts_ms / 1000;
	f.queue = (int64_t)st->q_len;
	if (st->rk != NULL) {
		for (i = 0; i < st->nparts; i++) {
			p = &st->parts[i];
			if (!p->assigned || rd_kafka_get_watermark_offsets(
			    st->rk, p->topic, p->partition, &lo, &hi) !=
			    RD_KAFKA_RESP_ERR_NO_ERROR || hi < 0)
				continue;
			/* At an end-of-partition event the consumer is at
			 * the end, past any transaction markers. */
			at = p->eof > p->next ? p->eof : p->next;
			if (at >= 0 && hi > at)
				f.lag += hi - at;
			/* Committed up to what was consumed, and consumed
			 * to the end: what is left are transaction markers,
			 * not records. */
			at = p->committed >= p->next && p->eof > p->committed ?
			    p->eof : p->committed;
			if (p->committed >= 0 && hi > at)
				f.committed_lag += hi - at;
		}
	}
	if (last)
		k2c_metrics_stop(&f);
	else
		k2c_metrics_write(&f);
}

static void
stats(struct state *st, int force)
{
	int64_t now = cdc_mono_ms();

	if (k2c_metrics_due(now))
		metrics(st, 0);
	if (!force && now - st->stats_at < 30000)
		return;
	st->stats_at = now;
	cdc_info("in=%" PRIu64 " marks=%" PRId64 " acked=%" PRId64
		 " commits=%" PRIu64 " partitions=%zu wakes=%" PRIu64
		 " registry=%" PRIu64,
	    st->n_in, st->seq, st->acked, st->n_commits, st->nassigned,
	    st->n_wakes, k2c_wire_requests(st->wire));
}

/* Handles one record or event of the consumer queue and destroys it.
 * Returns 1 to go on, 0 to stop (the end, --exit-at-end), -1 on a
 * failure. */
static int
on_event(struct state *st, rd_kafka_message_t *m)
{
	struct part *p;
	int rc;

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		p = part_of(st, m);
		p->eof = m->offset;
		rd_kafka_message_destroy(m);
		if (st->pending > 0 && mark(st) == -1)
			return -1;
		return st->o->exit_at_end && at_end(st) ? 0 : 1;
	}
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		cdc_warn("kafka: %s", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
		return 1;
	}
	rc = on_message(st, m);
	rd_kafka_message_destroy(m);
	if (rc == -1)
		return -1;
	if (st->pending >= st->o->mark_changes && mark(st) == -1)
		return -1;
	return 1;
}

/* librdkafka 2.0.2 stops fetching while the prefetch queue holds
 * queued.min.messages records or queued.max.messages.kbytes of values, and
 * then looks again only when something wakes its broker thread, or after a
 * second (fetch.queue.backoff.ms, which bounds that wait, came in 2.1).
 * Whenever kafka2ch fell behind (a slow stage downstream, the first fetches
 * while the schemas are read) it drained the queue and then waited up to a
 * second for more. A request to the broker wakes the thread: once the queue
 * has come near a bound, each time it has drained to half of what it held
 * at the last wake (until it is nearly empty), this asks the leaders of the
 * assigned partitions for their end offsets without waiting for the answer
 * (librdkafka drops it), at most once per WAKE_MS. A queue that stays well
 * below the bounds, as it does while kafka2ch keeps up, sends nothing. */
#define WAKE_MS    5
#define WAKE_FLOOR 1024

static void
wake_fetcher(struct state *st, rd_kafka_queue_t *q, int64_t now)
{
	rd_kafka_topic_partition_list_t *list;
	size_t len = rd_kafka_queue_length(q), i;
	int64_t bound;

	st->q_len = len;
	if (len > st->q_peak)
		st->q_peak = len;
	if (!st->q_near) {
		/* The bound in records: the count, or the bytes at the mean
		 * value size so far, whichever is less. Half is near. */
		bound = st->q_min_msgs;
		if (st->n_in > 0 && st->value_bytes > 0 &&
		    st->q_max_kb * 1024 /
			    (int64_t)(st->value_bytes / st->n_in + 1) <
			bound)
			bound = st->q_max_kb * 1024 /
			    (int64_t)(st->value_bytes / st->n_in + 1);
		st->q_near = (int64_t)st->q_peak >= bound / 2;
	}
	if (!st->q_near || len > st->q_peak / 2 ||
	    now - st->woken_at < WAKE_MS)
		return;
	list = rd_kafka_topic_partition_list_new((int)st->nassigned + 1);
	for (i = 0; i < st->nparts; i++)
		if (st->parts[i].assigned)
			rd_kafka_topic_partition_list_add(list,
			    st->parts[i].topic, st->parts[i].partition)
			    ->offset = RD_KAFKA_OFFSET_END;
	/* A timeout of 0: the requests go out, the call returns at once
	 * with _TIMED_OUT, and the answers are dropped when they come. */
	if (list->cnt > 0)
		rd_kafka_offsets_for_times(st->rk, list, 0);
	rd_kafka_topic_partition_list_destroy(list);
	st->woken_at = now;
	st->q_peak = len;
	st->q_near = len >= WAKE_FLOOR;
	st->n_wakes++;
}

/* librdkafka matches a subscription's pattern against the topics only at
 * its periodic metadata refresh (topic.metadata.refresh.interval.ms, 2 s
 * in scripts/cdc-sink), so a sink started beside a new source found the
 * first change topic up to that late, and a catch-up spent it idle. While
 * nothing is assigned, for DISCOVER_MS after subscribing, this asks for
 * all topics every LOOK_MS: an answer for all topics makes the group
 * check its subscription (a partial one would not). */
#define DISCOVER_MS 30000
#define LOOK_MS     100

static void
discover(struct state *st, int64_t now)
{
	const struct rd_kafka_metadata *md;

	if (st->nassigned > 0 || now - st->subscribed_at >= DISCOVER_MS ||
	    now - st->looked_at < LOOK_MS || cdc_kafka_health.down_since != 0)
		return;
	st->looked_at = now;
	/* Blocks the loop at most LOOK_MS (the answer is dropped then). */
	if (rd_kafka_metadata(st->rk, 1, NULL, &md, LOOK_MS) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_metadata_destroy(md);
}

/* Consumes until the end (--exit-at-end), a signal, downstream going
 * away or a failure. Records come in batches: what the queue holds at
 * once, up to BATCH, which costs one lock and one look at the clock for
 * them all instead of several per record. */
#define BATCH 1024

static void
loop(struct state *st)
{
	rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(st->rk);
	rd_kafka_message_t **batch;
	ssize_t n, i;
	int64_t now;
	int go = 1, wait;

	batch = cdc_xcalloc(BATCH, sizeof(*batch));
	while (go > 0 && st->rc == 0 && !cdc_stop && !st->ack_eof) {
		acks_poll(st);
		stats(st, 0);
		if (cdc_kafka_health.fatal) {
			cdc_error("kafka: %s", cdc_kafka_health.fatal_msg);
			fail(st, EX_UNAVAILABLE);
			break;
		}
		/* What is queued; if nothing, wait for one: up to 100 ms,
		 * or a pause (common/stream.h) when changes wait for a
		 * mark, which is what writes them downstream. */
		n = rd_kafka_consume_batch_queue(q, 0, batch, BATCH);
		now = cdc_mono_ms();
		wake_fetcher(st, q, now);
		discover(st, now);
		if (n == 0) {
			wait = st->pending > 0 ?
			    cdc_pause_wait(now - st->mark_at) : 100;
			n = rd_kafka_consume_batch_queue(q, wait, batch, 1);
			now = cdc_mono_ms();
		}
		if (n <= 0) {
			if (n < 0)
				cdc_warn("kafka: %s",
				    rd_kafka_err2str(rd_kafka_last_error()));
			if (st->pending > 0 &&
			    now - st->mark_at >= CDC_PAUSE_GAP_MS &&
			    mark(st) == -1)
				break;
			if (st->o->exit_at_end && at_end(st))
				break;
			if (kafka_gone(st)) {
				fail(st, EX_UNAVAILABLE);
				break;
			}
			continue;
		}
		cdc_kafka_health.down_since = 0;
		st->record_at = now;
		for (i = 0; i < n && go > 0; i++)
			go = on_event(st, batch[i]);
		for (; i < n; i++)
			rd_kafka_message_destroy(batch[i]);
		/* At the end offsets: stop now rather than after a wait for
		 * records that will not come. */
		if (go > 0 && st->o->exit_at_end && at_end(st))
			break;
		if (go > 0 && st->pending > 0 &&
		    now - st->mark_at >= st->o->mark_ms &&
		    mark(st) == -1)
			break;
	}
	free(batch);
	rd_kafka_queue_destroy(q);
}

static int
open_ack(const char *path)
{
	int fd;

	for (;;) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd != -1 || errno != EINTR || cdc_stop)
			return fd;
	}
}

/* Ends the run: a last mark, stdout handed over (downstream sees the end
 * of the stream), the acknowledgements awaited, the acknowledged offsets
 * committed. Returns the exit code. */
static int
drain(struct state *st)
{
	char err[CDC_ERRLEN];
	int nullfd, rc = st->rc, acked;

	if (st->rc != EX_IOERR && st->pending > 0)
		mark(st);
	if (st->rc != EX_IOERR &&
	    cdc_writer_flush(st->w, err, sizeof(err)) == -1)
		write_failed(st, err);
	/* Point fd 1 at /dev/null: the pipe closes, so downstream finishes
	 * and acknowledges, and stdout stays valid for the final fclose. */
	nullfd = open("/dev/null", O_WRONLY);
	if (nullfd != -1) {
		dup2(nullfd, STDOUT_FILENO);
		close(nullfd);
	}
	acked = acks_wait(st, st->o->k.timeout_s * 1000);
	rc = st->rc;
	if (rc == 0 && !acked && st->unacked > 0) {
		cdc_warn("%" PRId64 " changes not acknowledged downstream; "
			 "they will be consumed again",
		    st->unacked);
		rc = EX_TEMPFAIL;
	}
	/* One -w for the last commit and the group leave together: after
	 * a commit kafka did not answer, the leave is not waited for. */
	st->stop_by = wait_deadline(st);
	/* Once more and waiting for the answer: the asynchronous commit of
	 * the last acknowledgement may still be on its way. */
	if (st->acked_pos != NULL &&
	    commit_position(st, st->acked_pos, 1) == -1 && rc == 0)
		rc = EX_TEMPFAIL;
	stats(st, 1);
	metrics(st, 1);
	return rc;
}

static int
group_left(struct state *st, rd_kafka_event_t *ev, void *arg)
{
	(void)arg;
	/* The revocation comes back as an event on the close queue, not
	 * through the callback. */
	if (ev != NULL && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
		rebalance_cb(st->rk, rd_kafka_event_error(ev),
		    rd_kafka_event_topic_partition_list(ev), NULL);
	return rd_kafka_consumer_closed(st->rk);
}

/* Leaves the group until wait_deadline(): rd_kafka_consumer_close()
 * waits for the coordinator without a bound (a hung broker held
 * kafka2ch after SIGTERM). Returns 1 when the handle may be destroyed. */
static int
leave_group(struct state *st)
{
	rd_kafka_queue_t *q;
	rd_kafka_error_t *e;
	int closed;

	cdc_debug("closing the consumer");
	q = rd_kafka_queue_new(st->rk);
	e = rd_kafka_consumer_close_queue(st->rk, q);
	if (e != NULL) {
		cdc_warn("cannot leave the consumer group: %s",
		    rd_kafka_error_string(e));
		/* After a fatal error destroying does not wait. */
		closed = rd_kafka_error_is_fatal(e);
		rd_kafka_error_destroy(e);
		rd_kafka_queue_destroy(q);
		return closed;
	}
	closed = serve_queue(st, q, wait_deadline(st), group_left, NULL);
	rd_kafka_queue_destroy(q);
	if (closed)
		cdc_debug("closed");
	else
		cdc_warn("kafka did not answer the group leave within -w "
			 "(%" PRId64 "s); the group will drop this member at "
			 "its session timeout",
		    st->o->k.timeout_s);
	return closed;
}

int
k2c_run(const struct k2c_opts *o, int *hung)
{
	struct state st;
	rd_kafka_conf_t *conf;
	rd_kafka_topic_partition_list_t *subs;
	char err[CDC_ERRLEN], producer[64];
	size_t i;
	int rc;

	*hung = 0;
	memset(&st, 0, sizeof(st));
	st.o = o;
	st.ack_fd = -1;
	st.stats_at = st.mark_at = cdc_mono_ms();
	k2c_metrics_start(o->k.metrics);
	cdc_buf_init(&st.pos);
	cdc_buf_init(&st.fpos);
	cur = &st;
	snprintf(producer, sizeof(producer), "kafka2ch %s", CDC_VERSION);
	/* The header first: a downstream stage may open the acknowledgement
	 * fifo only once the stream has begun. */
	st.w = cdc_writer_new(STDOUT_FILENO, producer, CDC_CODEC_NULL, err,
	    sizeof(err));
	if (st.w == NULL) {
		cdc_epipe_check(errno);
		cdc_error("%s", err);
		return EX_IOERR;
	}
	cdc_writer_set_unbuffered(st.w, o->unbuffered);
	if (o->k.ack_path != NULL) {
		st.ack_fd = open_ack(o->k.ack_path);
		if (st.ack_fd == -1) {
			cdc_writer_free(st.w);
			if (cdc_stop)
				return 0;
			cdc_error("cannot open '%s': %s", o->k.ack_path,
			    strerror(errno));
			return EX_IOERR;
		}
	} else {
		st.ack_fd = o->k.ack_fd;
	}
	if (st.ack_fd != -1) {
		fcntl(st.ack_fd, F_SETFL,
		    fcntl(st.ack_fd, F_GETFL) | O_NONBLOCK);
		st.ackr = cdc_ack_reader_new(st.ack_fd);
	}
	rc = 0;
	conf = k2c_conf(o, err, sizeof(err));
	if (conf == NULL) {
		cdc_error("%s", err);
		rc = EX_CONFIG;
		goto out;
	}
	st.q_min_msgs = conf_int(conf, "queued.min.messages");
	st.q_max_kb = conf_int(conf, "queued.max.messages.kbytes");
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
	st.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (st.rk == NULL) {
		rd_kafka_conf_destroy(conf);
		cdc_error("cannot create kafka consumer: %s", err);
		rc = EX_CONFIG;
		goto out;
	}
	rd_kafka_poll_set_consumer(st.rk);
	if (cdc_kafka_probe(st.rk, (int)o->k.timeout_s * 1000, NULL, err,
		sizeof(err)) == -1) {
		cdc_error("cannot reach kafka at '%s': %s", o->k.brokers, err);
		rc = EX_UNAVAILABLE;
		goto out;
	}
	subs = rd_kafka_topic_partition_list_new((int)o->ntopics + 1);
	for (i = 0; i < o->ntopics; i++)
		rd_kafka_topic_partition_list_add(subs, o->topics[i],
		    RD_KAFKA_PARTITION_UA);
	if (o->ntopics == 0)
		rd_kafka_topic_partition_list_add(subs, o->default_regex,
		    RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(st.rk, subs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		cdc_error("cannot subscribe");
		rd_kafka_topic_partition_list_destroy(subs);
		rc = EX_CONFIG;
		goto out;
	}
	rd_kafka_topic_partition_list_destroy(subs);
	st.subscribed_at = st.record_at = cdc_mono_ms();
	cdc_debug("subscribed");
	/* After subscribing: the group forms while the schemas are read. */
	st.schemas = k2c_schemas_new(o, err, sizeof(err));
	if (st.schemas == NULL) {
		cdc_error("%s", err);
		rc = EX_CONFIG;
		goto out;
	}
	if (o->k.registry != NULL) {
		st.wire = k2c_wire_new(o->k.registry, o->k.timeout_s, err,
		    sizeof(err));
		if (st.wire == NULL) {
			cdc_error("%s", err);
			rc = EX_CONFIG;
			goto out;
		}
	}
	loop(&st);
	cdc_debug("stopped consuming");
	rc = drain(&st);
	/* drain() committed what was acknowledged; the revocation that
	 * closing brings must not commit again (the coordinator may have
	 * let the member go already: "Unknown member"). */
	st.closing = 1;
out:
	/* A consumer that could not leave is not destroyed: destroying
	 * closes it again and waits for the group's commits and leave (45 s
	 * and more). */
	*hung = st.rk != NULL && !leave_group(&st);
	if (st.rk != NULL && !*hung)
		rd_kafka_destroy(st.rk);
	k2c_metrics_stop(NULL);
	k2c_schemas_free(st.schemas);
	k2c_wire_free(st.wire);
	cdc_ack_reader_free(st.ackr);
	if (st.ack_fd != -1 && st.ack_fd != o->k.ack_fd)
		close(st.ack_fd);
	cdc_writer_free(st.w);
	for (i = 0; i < st.nparts; i++)
		free(st.parts[i].topic);
	free(st.parts);
	cdc_buf_fini(&st.pos);
	cdc_buf_fini(&st.fpos);
	free(st.acked_pos);
	return rc;
}
