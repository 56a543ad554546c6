/* kafka2ch's modules: the options main.c parses, the consumer loop of
 * consume.c and the schema topic reader of schemas.c. */
#ifndef K2C_H
#define K2C_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "kafkaopt.h"
#include "stream.h"

struct k2c_opts {
	struct cdc_kafka_opts k; /* brokers, -X, prefix, registry, acks, -w, -G */
	const char *group;
	char **topics;      /* names, or regexes starting with '^' */
	size_t ntopics;
	char *default_regex; /* owned; used when ntopics == 0 */
	const char *offset_reset; /* earliest or latest */
	int exit_at_end;
	int unbuffered;
	int64_t mark_changes;
	int64_t mark_ms;
	int64_t schema_timeout_s; /* wait for an unknown schema */
};

/* Applies the -X properties and the settings every kafka2ch consumer
 * needs. Returns a configuration the caller owns, or NULL with err. */
rd_kafka_conf_t *k2c_conf(const struct k2c_opts *o, char *err,
    size_t errlen);

/* Rebuilds the stream on stdout from Kafka. Returns an exit code; *hung
 * is set when the consumer could not leave its group and its threads
 * still run (the process must then end with _exit). */
int k2c_run(const struct k2c_opts *o, int *hung);

/* metrics.c: the figures --metrics writes (docs/metrics.md). */
struct k2c_figures {
	uint64_t changes, tombstones, bytes, commits, commit_failures;
	int64_t marks, acked, partitions, unacked, queue, lag, committed_lag;
	int64_t version;
	double record_ts;
};
/* Starts the registry (path NULL: none; every call below is then a
 * no-op). */
void k2c_metrics_start(const char *path);
/* Whether the file is due at monotonic time now. */
int k2c_metrics_due(int64_t now);
void k2c_metrics_write(const struct k2c_figures *f);
/* Writes the last figures (unless f is NULL) and frees the registry. */
void k2c_metrics_stop(const struct k2c_figures *f);

struct k2c_schemas;

/* A reader of the schema topic with its own consumer (no group). Returns
 * NULL with err set when the consumer cannot be made. */
struct k2c_schemas *k2c_schemas_new(const struct k2c_opts *o, char *err,
    size_t errlen);
void k2c_schemas_free(struct k2c_schemas *s);
/* The schema JSON of fp (owned by s), reading the topic further for up to
 * wait_ms when it is not known yet. NULL when it does not turn up. */
const char *k2c_schemas_get(struct k2c_schemas *s, uint64_t fp, int wait_ms,
    size_t *len);

struct k2c_wire;

/* A Confluent-framed key or value, decoded by k2c_wire_decode(). */
struct k2c_wired {
	struct cdc_slice soe; /* single-object encoded; points into the wire */
	uint64_t fp;
	const char *schema; /* its JSON, owned by the wire */
	size_t schema_len;
	int fresh; /* the stream has not announced this id's text yet */
};

/* The Confluent side of wire.c, for a registry at url; budget_s bounds
 * the retries of each request. NULL with err set. */
struct k2c_wire *k2c_wire_new(const char *url, int64_t budget_s, char *err,
    size_t errlen);
void k2c_wire_free(struct k2c_wire *w);
/* Decodes the n framed bytes at p (a key when is_key): out->soe stays
 * valid until the next call with the same is_key. Fetches the schema on
 * first use of its id. Returns 0, or an enum cdc_registry_rc with err. */
int k2c_wire_decode(struct k2c_wire *w, int is_key, const uint8_t *p,
    size_t n, struct k2c_wired *out, char *err, size_t errlen);
/* Starts a record: its key, if framed, is decoded next (a foreign value
 * schema takes its key columns from it). No-op for NULL. */
void k2c_wire_begin(struct k2c_wire *w);
/* Registry requests so far (0 for NULL). */
uint64_t k2c_wire_requests(const struct k2c_wire *w);

/* foreign.c: a value schema of another producer's Debezium envelope (no
 * cdc.database attribute) with the cdc.database, cdc.table, cdc.name and
 * cdc.key attributes chload reads, taken from its name
 * <prefix>.<db>.<table>.Envelope and from the key schema (NULL: no key).
 * Returns 1 with *out set (the caller frees it with free()), 0 when the
 * schema needs nothing (a key, one of ours), or -1 with err. */
int k2c_foreign_schema(const char *json, size_t len, const char *key,
    size_t keylen, char **out, char *err, size_t errlen);
/* The version of a record without a cdc.vp header: its offset, made unique
 * across partitions; it orders the changes of a key, which a keyed
 * producer keeps in one partition. */
int64_t k2c_foreign_version(int32_t partition, int64_t offset);

#endif
