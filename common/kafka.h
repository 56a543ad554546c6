/* What avro2kafka and kafka2ch share about Kafka: configuration with kcat's
 * -X key=value, brokers from the environment, librdkafka's callbacks routed
 * to the logger, broker health for the retry budget, topic creation, and
 * the kafka:TOPIC/PARTITION@OFFSET,... positions of docs/stream.md. */
#ifndef CDC_KAFKA_H
#define CDC_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* Record headers. A change record carries one header, cdc.vp: its version
 * in decimal, one space, then its position ("42 binlog:mysql-bin.000001:4"),
 * because every header costs librdkafka an allocation and a free per record
 * on both sides. A DDL record carries cdc.position and cdc.ts_ms (decimal).
 * Change records written before cdc.vp carried cdc.position and cdc.version
 * (decimal); kafka2ch still reads those. */
#define CDC_HDR_VP       "cdc.vp"
#define CDC_HDR_POSITION "cdc.position"
#define CDC_HDR_VERSION  "cdc.version"
#define CDC_HDR_TS_MS    "cdc.ts_ms"

/* What the callbacks of cdc_kafka_conf_new saw; read it on the thread that
 * calls rd_kafka_poll() or rd_kafka_consumer_poll(). */
struct cdc_kafka_health {
	int fatal;            /* a fatal error: the handle is unusable */
	char fatal_msg[512];  /* its text */
	int64_t down_since;   /* cdc_mono_ms() when all brokers went down, 0 */
};
extern struct cdc_kafka_health cdc_kafka_health;

/* Creates a configuration with bootstrap.servers set to brokers (NULL:
 * CDC_KAFKA_BROKERS, else 127.0.0.1:9092), the log and error callbacks
 * installed and client.id set to the program name. The caller frees it with
 * rd_kafka_conf_destroy() or hands it to rd_kafka_new(). Returns NULL with
 * err set when a property is refused. */
rd_kafka_conf_t *cdc_kafka_conf_new(const char *brokers, char *err,
    size_t errlen);

/* Sets one property; returns 0, or -1 with librdkafka's reason in err. */
int cdc_kafka_set(rd_kafka_conf_t *conf, const char *key, const char *val,
    char *err, size_t errlen);

/* Applies "key=value" (the argument of -X) to conf. Returns 0, or -1 with
 * err set when there is no '=' or librdkafka refuses it. */
int cdc_kafka_set_kv(rd_kafka_conf_t *conf, const char *kv, char *err,
    size_t errlen);

/* Applies each of n "key=value" strings; stops at the first failure. */
int cdc_kafka_set_all(rd_kafka_conf_t *conf, char *const *kv, size_t n,
    char *err, size_t errlen);

/* Prints librdkafka's property table to stdout (-X list). */
void cdc_kafka_conf_list(void);

/* The brokers of --brokers or CDC_KAFKA_BROKERS, or NULL when neither. */
const char *cdc_kafka_brokers(const char *flag);

/* Whether the broker is reachable: a metadata request within timeout_ms.
 * Returns 0, or -1 with librdkafka's reason in err. *nbrokers (may be NULL)
 * gets the number of brokers in the cluster. */
int cdc_kafka_probe(rd_kafka_t *rk, int timeout_ms, int *nbrokers, char *err,
    size_t errlen);

/* Number of partitions of topic, 0 when it does not exist, -1 with err set
 * when the metadata request fails. */
int cdc_kafka_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
    char *err, size_t errlen);

/* Waits until the broker knows rkt's topic, asking from every 10 ms up to
 * every 200 ms (a broker with auto.create.topics.enable creates it on the
 * first request). librdkafka itself asks again only at its 1 s topic scan
 * once told a new topic is unknown, so records would pile up for up to a
 * second; the answers here also update rkt. Returns 0, or -1 with err on
 * cdc_stop, after timeout_ms, or on an error other than the topic's
 * absence (authorization, an invalid name). */
int cdc_kafka_await_topic(rd_kafka_t *rk, rd_kafka_topic_t *rkt,
    int timeout_ms, char *err, size_t errlen);

/* Creates topic unless it exists: partitions (>= 1), replication factor rf
 * (-1: min(3, brokers in the cluster)), log-compacted when compact is set.
 * Returns 0 (also when another client created it first), or -1 with err. */
int cdc_kafka_ensure_topic(rd_kafka_t *rk, const char *topic, int partitions,
    int rf, int compact, int timeout_ms, char *err, size_t errlen);

/* Appends the position "kafka:T/P@O,..." of the n offsets in list (entries
 * with a negative offset are left out) to out. */
void cdc_kafka_position_format(struct cdc_buf *out,
    const rd_kafka_topic_partition_list_t *list);

/* Parses a kafka: position of len bytes into a new list the caller frees
 * with rd_kafka_topic_partition_list_destroy(). Returns NULL with err set
 * when the text is not such a position. */
rd_kafka_topic_partition_list_t *cdc_kafka_position_parse(const char *s,
    size_t len, char *err, size_t errlen);

/* Finds a header's value; returns 0 with *p and *len set (*p may be NULL
 * for a null header), -1 when the message has no such header. */
int cdc_kafka_header(const rd_kafka_message_t *m, const char *name,
    const void **p, size_t *len);

/* Replaces the contents of out with the cdc.vp header value of a change:
 * version in decimal, a space, the len bytes of pos. */
void cdc_kafka_vp_format(struct cdc_buf *out, int64_t version, const void *pos,
    size_t len);

/* Parses a cdc.vp header value of len bytes: *version gets the number, *pos
 * and *poslen the position (which points into p). Returns 0, or -1 when the
 * value does not start with a decimal number and a space. */
int cdc_kafka_vp_parse(const void *p, size_t len, int64_t *version,
    const void **pos, size_t *poslen);

/* Parses len bytes of a decimal int64 (optional '-'); returns 0 or -1. */
int cdc_kafka_parse_i64(const void *p, size_t len, int64_t *v);

/* "librdkafka 2.0.2" for -V. */
const char *cdc_kafka_version(void);
/* A tool topic: flag when given, else PREFIX.SUFFIX (the caller frees). */
char *cdc_kafka_topic(const char *flag, const char *prefix,
    const char *suffix);

#endif
