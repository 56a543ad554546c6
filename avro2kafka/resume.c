/* avro2kafka --resume-position: the last position committed in the offsets
 * topic under a transactional id. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a2k.h"
#include "kafka.h"
#include "log.h"
#include "sys.h"

/* Takes the transactional id over: init_transactions() fences a producer
 * that still runs with it and aborts its open transaction, so that a
 * read_committed reader is not held up behind it. */
static int
fence(const struct a2k_opts *o, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_error_t *e;
	char detail[CDC_ERRLEN];
	int rc = 0;

	conf = a2k_conf(o, err, errlen);
	if (conf == NULL)
		return EX_CONFIG;
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, detail, sizeof(detail));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		cdc_err(err, errlen, "cannot create kafka producer: %s",
		    detail);
		return EX_CONFIG;
	}
	if (cdc_kafka_probe(rk, (int)o->k.timeout_s * 1000, NULL, detail,
		sizeof(detail)) == -1) {
		cdc_err(err, errlen, "cannot reach kafka at '%s': %s",
		    o->k.brokers, detail);
		rc = EX_UNAVAILABLE;
	} else {
		e = rd_kafka_init_transactions(rk, (int)o->k.timeout_s * 1000);
		if (e != NULL) {
			cdc_err(err, errlen,
			    "cannot take over transactional id '%s': %s",
			    o->txn_id, rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
			rc = EX_UNAVAILABLE;
		}
	}
	rd_kafka_destroy(rk);
	return rc;
}

/* Reads every partition of the offsets topic to its committed end and
 * keeps the last value under the id. *pos is caller-freed, NULL if none. */
static int
scan(const struct a2k_opts *o, char **pos, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_message_t *m;
	char detail[CDC_ERRLEN];
	size_t idlen = strlen(o->txn_id);
	int n, i, eofs = 0, rc = 0;
	int64_t deadline;

	*pos = NULL;
	conf = cdc_kafka_conf_new(o->k.brokers, err, errlen);
	if (conf == NULL)
		return EX_CONFIG;
	if (cdc_kafka_set(conf, "isolation.level", "read_committed", err,
		errlen) == -1 ||
	    cdc_kafka_set(conf, "enable.partition.eof", "true", err,
		errlen) == -1 ||
	    cdc_kafka_set(conf, "enable.auto.commit", "false", err, errlen) ==
		-1 ||
	    cdc_kafka_set(conf, "group.id", "avro2kafka-resume", err,
		errlen) == -1 ||
	    cdc_kafka_set_all(conf, o->k.props, o->k.nprops, err, errlen) == -1) {
		rd_kafka_conf_destroy(conf);
		return EX_CONFIG;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, detail, sizeof(detail));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		cdc_err(err, errlen, "cannot create kafka consumer: %s",
		    detail);
		return EX_CONFIG;
	}
	n = cdc_kafka_partitions(rk, o->offsets_topic,
	    (int)o->k.timeout_s * 1000, detail, sizeof(detail));
	if (n < 0) {
		cdc_err(err, errlen, "cannot read '%s': %s", o->offsets_topic,
		    detail);
		rd_kafka_destroy(rk);
		return EX_UNAVAILABLE;
	}
	parts = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
	for (i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(parts, o->offsets_topic, i)
		    ->offset = RD_KAFKA_OFFSET_BEGINNING;
	if (n > 0)
		rd_kafka_assign(rk, parts);
	deadline = cdc_mono_ms() + o->k.timeout_s * 1000;
	while (eofs < n) {
		if (cdc_stop || cdc_mono_ms() > deadline) {
			cdc_err(err, errlen, "cannot read '%s' to its end",
			    o->offsets_topic);
			rc = cdc_stop ? EX_TEMPFAIL : EX_UNAVAILABLE;
			break;
		}
		m = rd_kafka_consumer_poll(rk, 100);
		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eofs++;
		} else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			cdc_debug("reading '%s': %s", o->offsets_topic,
			    rd_kafka_message_errstr(m));
		} else if (m->key_len == idlen &&
		    memcmp(m->key, o->txn_id, idlen) == 0 &&
		    m->payload != NULL) {
			free(*pos);
			*pos = cdc_xstrndup(m->payload, m->len);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_topic_partition_list_destroy(parts);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return rc;
}

int
a2k_resume_position(const struct a2k_opts *o)
{
	char err[CDC_ERRLEN], *pos = NULL;
	int rc;

	rc = fence(o, err, sizeof(err));
	if (rc == 0)
		rc = scan(o, &pos, err, sizeof(err));
	if (rc != 0) {
		cdc_error("%s", err);
		free(pos);
		return rc;
	}
	if (pos == NULL) {
		cdc_info("no position committed under '%s'", o->txn_id);
		return 0;
	}
	printf("%s\n", pos);
	free(pos);
	return 0;
}
