/* Kafka helpers shared by avro2kafka and kafka2ch: configuration, logging
 * and error callbacks, topic creation and kafka: positions. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "opt.h"
#include "sys.h"

struct cdc_kafka_health cdc_kafka_health;

/* librdkafka logs with syslog levels. Connection failures (facility FAIL)
 * also come through error_cb, so they are debug output here; its errors
 * and configuration warnings are warnings; its other warnings are retries
 * it handles itself ("coordinator load in progress"), debug output like
 * its chatter; its debug contexts (-X debug=..., -vv) are trace. */
static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	enum cdc_level l;

	(void)rk;
	if (level <= 3 || (level == 4 && strcmp(fac, "CONFWARN") == 0))
		l = strcmp(fac, "FAIL") == 0 ? CDC_LOG_DEBUG : CDC_LOG_WARN;
	else if (level <= 6)
		l = CDC_LOG_DEBUG;
	else
		l = CDC_LOG_TRACE;
	cdc_log(l, "librdkafka: %s: %s", fac, buf);
}

/* Transient errors are librdkafka's to retry; they are logged at debug
 * level except "all brokers down", which starts the retry budget clock. A
 * fatal error makes the handle unusable, so the tools stop. */
static void
error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	char buf[512];
	rd_kafka_resp_err_t err = (rd_kafka_resp_err_t)code;

	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		snprintf(cdc_kafka_health.fatal_msg,
		    sizeof(cdc_kafka_health.fatal_msg), "%s", buf);
		cdc_kafka_health.fatal = 1;
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
		if (cdc_kafka_health.down_since == 0) {
			cdc_kafka_health.down_since = cdc_mono_ms();
			cdc_warn("all kafka brokers are down: %s", reason);
		}
		return;
	}
	cdc_debug("kafka: %s: %s", rd_kafka_err2name(err), reason);
}

int
cdc_kafka_set(rd_kafka_conf_t *conf, const char *key, const char *val,
    char *err, size_t errlen)
{
	char detail[512];

	if (rd_kafka_conf_set(conf, key, val, detail, sizeof(detail)) !=
	    RD_KAFKA_CONF_OK)
		return cdc_err(err, errlen, "invalid kafka property '%s': %s",
		    key, detail);
	return 0;
}

int
cdc_kafka_set_kv(rd_kafka_conf_t *conf, const char *kv, char *err,
    size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char *key;
	int rc;

	if (eq == NULL || eq == kv)
		return cdc_err(err, errlen,
		    "invalid -X '%s': must be key=value", kv);
	key = cdc_xstrndup(kv, (size_t)(eq - kv));
	rc = cdc_kafka_set(conf, key, eq + 1, err, errlen);
	free(key);
	return rc;
}

int
cdc_kafka_set_all(rd_kafka_conf_t *conf, char *const *kv, size_t n, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cdc_kafka_set_kv(conf, kv[i], err, errlen) == -1)
			return -1;
	return 0;
}

void
cdc_kafka_conf_list(void)
{
	rd_kafka_conf_properties_show(stdout);
}

const char *
cdc_kafka_brokers(const char *flag)
{
	if (flag != NULL && flag[0] != '\0')
		return flag;
	return cdc_getenv("CDC_KAFKA_BROKERS");
}

rd_kafka_conf_t *
cdc_kafka_conf_new(const char *brokers, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf;

	conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	if (cdc_kafka_set(conf, "bootstrap.servers",
		brokers != NULL ? brokers : "127.0.0.1:9092", err,
		errlen) == -1 ||
	    cdc_kafka_set(conf, "client.id", cdc_progname, err, errlen) ==
		-1 ||
	    (cdc_verbosity >= CDC_LOG_TRACE &&
		cdc_kafka_set(conf, "debug", "broker,topic,msg,cgrp,eos", err,
		    errlen) == -1)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	return conf;
}

int
cdc_kafka_probe(rd_kafka_t *rk, int timeout_ms, int *nbrokers, char *err,
    size_t errlen)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e;

	e = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		return cdc_err(err, errlen, "%s", rd_kafka_err2str(e));
	if (nbrokers != NULL)
		*nbrokers = md->broker_cnt;
	rd_kafka_metadata_destroy(md);
	cdc_kafka_health.down_since = 0;
	return 0;
}

int
cdc_kafka_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
    char *err, size_t errlen)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e;
	int i, n = 0;

	/* A request for all topics: one naming the topic would make a
	 * producer's broker create it with the default partition count. */
	e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		return cdc_err(err, errlen, "%s", rd_kafka_err2str(e));
	for (i = 0; i < md->topic_cnt; i++)
		if (strcmp(md->topics[i].topic, topic) == 0 &&
		    md->topics[i].err == 0)
			n = md->topics[i].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return n;
}

int
cdc_kafka_await_topic(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int timeout_ms,
    char *err, size_t errlen)
{
	int64_t left, deadline = cdc_mono_ms() + timeout_ms, pause_ms = 10;
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e;
	int n;

	for (;;) {
		if (cdc_stop)
			return cdc_err(err, errlen, "stopped");
		left = deadline - cdc_mono_ms();
		/* A failed request (no broker up) is retried until the
		 * deadline, as librdkafka retries a record; a second at most
		 * per request, so that cdc_stop is seen. */
		e = rd_kafka_metadata(rk, 0, rkt, &md,
		    left > 1000 ? 1000 : left > 0 ? (int)left : 1);
		n = 0;
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
			e = md->topic_cnt == 1 ?
			    md->topics[0].err :
			    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
			n = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
			rd_kafka_metadata_destroy(md);
			if (e != 0 &&
			    e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
			    e != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
				return cdc_err(err, errlen, "%s",
				    rd_kafka_err2str(e));
		}
		/* Known: a missing leader librdkafka looks for itself, from every
		 * 250 ms (topic.metadata.refresh.fast.interval.ms). */
		if (e == 0 && n > 0)
			return 0;
		if (cdc_mono_ms() >= deadline)
			return cdc_err(err, errlen, "%s after %d ms",
			    e != 0 ? rd_kafka_err2str(e) : "no partitions",
			    timeout_ms);
		cdc_sleep_ms(pause_ms);
		if (pause_ms < 200)
			pause_ms *= 2;
	}
}

int
cdc_kafka_ensure_topic(rd_kafka_t *rk, const char *topic, int partitions,
    int rf, int compact, int timeout_ms, char *err, size_t errlen)
{
	char detail[512];
	rd_kafka_NewTopic_t *nt;
	rd_kafka_AdminOptions_t *ao;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_CreateTopics_result_t *res;
	const rd_kafka_topic_result_t **tr;
	size_t ntr;
	int n, nbrokers, rc = 0;

	n = cdc_kafka_partitions(rk, topic, timeout_ms, err, errlen);
	if (n != 0)
		return n > 0 ? 0 : -1;
	if (rf < 1) {
		if (cdc_kafka_probe(rk, timeout_ms, &nbrokers, err, errlen) ==
		    -1)
			return -1;
		rf = nbrokers < 3 ? nbrokers : 3;
		if (rf < 1)
			rf = 1;
	}
	nt = rd_kafka_NewTopic_new(topic, partitions, rf, detail,
	    sizeof(detail));
	if (nt == NULL)
		return cdc_err(err, errlen, "%s", detail);
	if (compact && rd_kafka_NewTopic_set_config(nt, "cleanup.policy",
			   "compact") != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_NewTopic_destroy(nt);
		return cdc_err(err, errlen, "cannot set cleanup.policy");
	}
	/* With 3 replicas or more, an acknowledged record (acks=all) is on
	 * at least two of them whatever the broker's default (Kafka's is 1):
	 * one broker may die without losing it, and writes go on. */
	if (rf >= 3) {
		snprintf(detail, sizeof(detail), "%d", rf - 1);
		if (rd_kafka_NewTopic_set_config(nt, "min.insync.replicas",
			detail) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			rd_kafka_NewTopic_destroy(nt);
			return cdc_err(err, errlen,
			    "cannot set min.insync.replicas");
		}
	}
	ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, NULL, 0);
	rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, NULL, 0);
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
	ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
	if (ev == NULL) {
		rc = cdc_err(err, errlen, "timed out");
	} else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rc = cdc_err(err, errlen, "%s", rd_kafka_event_error_string(ev));
	} else {
		res = rd_kafka_event_CreateTopics_result(ev);
		tr = rd_kafka_CreateTopics_result_topics(res, &ntr);
		if (ntr == 1 && rd_kafka_topic_result_error(tr[0]) !=
				    RD_KAFKA_RESP_ERR_NO_ERROR &&
		    rd_kafka_topic_result_error(tr[0]) !=
			RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			rc = cdc_err(err, errlen, "%s",
			    rd_kafka_topic_result_error_string(tr[0]));
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

void
cdc_kafka_position_format(struct cdc_buf *out,
    const rd_kafka_topic_partition_list_t *list)
{
	int i, first = 1;

	cdc_buf_puts(out, "kafka:");
	for (i = 0; i < list->cnt; i++) {
		if (list->elems[i].offset < 0)
			continue;
		cdc_buf_printf(out, "%s%s/%" PRId32 "@%" PRId64,
		    first ? "" : ",", list->elems[i].topic,
		    list->elems[i].partition, list->elems[i].offset);
		first = 0;
	}
}

rd_kafka_topic_partition_list_t *
cdc_kafka_position_parse(const char *s, size_t len, char *err, size_t errlen)
{
	rd_kafka_topic_partition_list_t *list;
	const char *p = s, *end = s + len, *item = s, *slash, *at;
	char *topic, num[24];
	int64_t part, off;

	if (len < 6 || memcmp(s, "kafka:", 6) != 0) {
		cdc_err(err, errlen, "not a kafka: position");
		return NULL;
	}
	list = rd_kafka_topic_partition_list_new(8);
	p += 6;
	while (p < end) {
		item = p;
		while (p < end && *p != ',')
			p++;
		/* TOPIC/PARTITION@OFFSET; topic names have no '/' or '@'. */
		at = memchr(item, '@', (size_t)(p - item));
		slash = at != NULL ? memchr(item, '/', (size_t)(at - item)) :
				     NULL;
		if (slash == NULL || slash == item || at - slash - 1 < 1 ||
		    at - slash - 1 >= (long)sizeof(num) ||
		    p - at - 1 < 1 || p - at - 1 >= (long)sizeof(num))
			goto bad;
		memcpy(num, slash + 1, (size_t)(at - slash - 1));
		num[at - slash - 1] = '\0';
		if (cdc_parse_int("partition", num, 0, INT32_MAX, &part, NULL,
			0) == -1)
			goto bad;
		memcpy(num, at + 1, (size_t)(p - at - 1));
		num[p - at - 1] = '\0';
		if (cdc_parse_int("offset", num, 0, INT64_MAX, &off, NULL, 0) ==
		    -1)
			goto bad;
		topic = cdc_xstrndup(item, (size_t)(slash - item));
		rd_kafka_topic_partition_list_add(list, topic, (int32_t)part)
		    ->offset = off;
		free(topic);
		if (p < end)
			p++; /* the comma */
	}
	return list;
bad:
	rd_kafka_topic_partition_list_destroy(list);
	cdc_err(err, errlen, "invalid kafka position near '%.*s'",
	    (int)(end - p < 40 ? end - p : 40), item);
	return NULL;
}

int
cdc_kafka_header(const rd_kafka_message_t *m, const char *name,
    const void **p, size_t *len)
{
	rd_kafka_headers_t *h;

	/* rd_kafka_message_headers() takes a non-const message because it
	 * parses the headers lazily; it does not change the message. */
	if (rd_kafka_message_headers((rd_kafka_message_t *)(uintptr_t)m,
		&h) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return -1;
	if (rd_kafka_header_get_last(h, name, p, len) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		return -1;
	return 0;
}

void
cdc_kafka_vp_format(struct cdc_buf *out, int64_t version, const void *pos,
    size_t len)
{
	char digits[24];
	uint64_t u;
	size_t n = 0;
	uint8_t *q;

	/* By hand: snprintf costs more than the rest of this per record. */
	u = version < 0 ? 0 - (uint64_t)version : (uint64_t)version;
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (version < 0)
		digits[n++] = '-';
	out->len = 0;
	q = cdc_buf_reserve(out, n + 1 + len);
	while (n > 0)
		*q++ = (uint8_t)digits[--n];
	*q++ = ' ';
	if (len > 0)
		memcpy(q, pos, len);
	out->len = (size_t)(q - out->p) + len;
}

int
cdc_kafka_parse_i64(const void *p, size_t len, int64_t *v)
{
	const uint8_t *s = p, *end = s + len;
	uint64_t u = 0, lim;
	int neg = 0;

	if (s < end && *s == '-') {
		neg = 1;
		s++;
	}
	if (s == end || end - s > 19)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (u > (lim - (uint64_t)(*s - '0')) / 10)
			return -1;
		u = u * 10 + (uint64_t)(*s - '0');
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

int
cdc_kafka_vp_parse(const void *p, size_t len, int64_t *version,
    const void **pos, size_t *poslen)
{
	const uint8_t *s = p, *sp;

	if (s == NULL)
		return -1;
	sp = memchr(s, ' ', len < 21 ? len : 21);
	if (sp == NULL ||
	    cdc_kafka_parse_i64(s, (size_t)(sp - s), version) == -1)
		return -1;
	*pos = sp + 1;
	*poslen = len - (size_t)(sp + 1 - s);
	return 0;
}

const char *
cdc_kafka_version(void)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "librdkafka %s", rd_kafka_version_str());
	return buf;
}

char *
cdc_kafka_topic(const char *flag, const char *prefix, const char *suffix)
{
	size_t n;
	char *s;

	if (flag != NULL)
		return cdc_xstrdup(flag);
	n = strlen(prefix) + strlen(suffix) + 2;
	s = cdc_xmalloc(n);
	snprintf(s, n, "%s.%s", prefix, suffix);
	return s;
}
