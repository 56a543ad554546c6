/* The schema topic as kafka2ch reads it: records keyed by the fingerprint
 * in hex with the schema JSON as value, read from the beginning into a
 * cache and read further whenever a fingerprint is not in it. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "fpmap.h"
#include "k2c.h"
#include "kafka.h"
#include "log.h"
#include "sys.h"

struct k2c_schemas {
	rd_kafka_t *rk;
	const char *topic;
	int assigned;
	struct cdc_fpmap map;
	struct cdc_buf canon;
};

static void assign(struct k2c_schemas *s);

struct k2c_schemas *
k2c_schemas_new(const struct k2c_opts *o, char *err, size_t errlen)
{
	struct k2c_schemas *s;
	rd_kafka_conf_t *conf;
	char detail[CDC_ERRLEN];

	conf = cdc_kafka_conf_new(o->k.brokers, err, errlen);
	if (conf == NULL)
		return NULL;
	/* Its own group id, never joined: offsets are never committed. */
	if (cdc_kafka_set(conf, "group.id", "kafka2ch-schemas", err,
		errlen) == -1 ||
	    cdc_kafka_set(conf, "enable.auto.commit", "false", err, errlen) ==
		-1 ||
	    cdc_kafka_set(conf, "isolation.level", "read_committed", err,
		errlen) == -1 ||
	    cdc_kafka_set(conf, "auto.offset.reset", "earliest", err,
		errlen) == -1 ||
	    cdc_kafka_set_all(conf, o->k.props, o->k.nprops, err, errlen) == -1) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	s = cdc_xcalloc(1, sizeof(*s));
	s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, detail, sizeof(detail));
	if (s->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		free(s);
		cdc_err(err, errlen, "cannot create kafka consumer: %s",
		    detail);
		return NULL;
	}
	s->topic = o->k.schema_topic;
	cdc_fpmap_init(&s->map);
	cdc_buf_init(&s->canon);
	/* Start reading now, while the group forms: the first record needs
	 * its schemas, and a fetch that starts only then can take half a
	 * second to get going (librdkafka's offset query retries). */
	assign(s);
	return s;
}

void
k2c_schemas_free(struct k2c_schemas *s)
{
	if (s == NULL)
		return;
	rd_kafka_destroy(s->rk);
	cdc_fpmap_fini(&s->map);
	cdc_buf_fini(&s->canon);
	free(s);
}

/* Assigns every partition of the topic from the beginning, once it
 * exists: from offset 0, which needs no offset query (a query for
 * BEGINNING made just after the assignment waits half a second for the
 * partition's leader); an offset 0 that is gone falls back to the earliest
 * (auto.offset.reset). */
static void
assign(struct k2c_schemas *s)
{
	rd_kafka_topic_partition_list_t *parts;
	char err[CDC_ERRLEN];
	int n, i;

	n = cdc_kafka_partitions(s->rk, s->topic, 5000, err, sizeof(err));
	if (n <= 0) {
		if (n < 0)
			cdc_debug("schema topic '%s': %s", s->topic, err);
		return;
	}
	parts = rd_kafka_topic_partition_list_new(n);
	for (i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(parts, s->topic, i)->offset =
		    0;
	if (rd_kafka_assign(s->rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR)
		s->assigned = 1;
	rd_kafka_topic_partition_list_destroy(parts);
}

static void
take(struct k2c_schemas *s, const rd_kafka_message_t *m)
{
	char hex[17], *end;
	uint64_t fp, real;

	if (m->key == NULL || m->key_len != 16 || m->payload == NULL)
		return;
	memcpy(hex, m->key, 16);
	hex[16] = '\0';
	errno = 0;
	fp = strtoull(hex, &end, 16);
	if (*end != '\0' || errno != 0)
		return;
	/* A record whose schema does not have its key's fingerprint would
	 * announce the wrong schema downstream: leave it out. */
	if (cdc_schema_fingerprint(m->payload, m->len, &real, NULL, 0) == -1 ||
	    real != fp) {
		cdc_warn("schema topic '%s' partition %" PRId32
			 " offset %" PRId64 ": schema does not match its key",
		    s->topic, m->partition, m->offset);
		return;
	}
	cdc_fpmap_put(&s->map, fp, m->payload, m->len);
}

const char *
k2c_schemas_get(struct k2c_schemas *s, uint64_t fp, int wait_ms, size_t *len)
{
	rd_kafka_message_t *m;
	const char *v;
	int64_t deadline = cdc_mono_ms() + wait_ms;

	for (;;) {
		v = cdc_fpmap_get(&s->map, fp, len);
		if (v != NULL || cdc_stop || cdc_mono_ms() > deadline)
			return v;
		if (!s->assigned) {
			assign(s);
			if (!s->assigned) {
				rd_kafka_poll(s->rk, 100);
				continue;
			}
		}
		m = rd_kafka_consumer_poll(s->rk, 100);
		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			take(s, m);
		else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			cdc_debug("schema topic '%s': %s", s->topic,
			    rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
	}
}
