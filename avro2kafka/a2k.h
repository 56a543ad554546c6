/* avro2kafka's modules: the options main.c parses, the producer loop of
 * produce.c and the position look-up of resume.c. */
#ifndef A2K_H
#define A2K_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "kafkaopt.h"
#include "stream.h"

struct a2k_opts {
	struct cdc_kafka_opts k; /* brokers, -X, prefix, registry, acks, -w, -G */
	char *offsets_topic; /* owned */
	const char *txn_id;   /* NULL: at-least-once */
	const char *compression;
	int64_t partitions; /* create missing change topics; 0: don't */
	int64_t replication;
	int64_t txn_ms;      /* cut a transaction after this long */
	int64_t txn_changes; /* or after this many changes */
	int64_t linger_ms;
	int64_t queue_kb;
	int tombstones;
	int resume; /* --resume-position */
};

/* Builds the producer configuration of o (idempotence, acks, compression,
 * partitioner, queue bounds, the transactional id, then every -X).
 * Returns a configuration the caller owns, or NULL with err set. */
rd_kafka_conf_t *a2k_conf(const struct a2k_opts *o, char *err,
    size_t errlen);

/* Reads the stream on stdin into Kafka. Returns an exit code. */
int a2k_run(const struct a2k_opts *o);

/* Prints the last position committed under o->txn_id (after fencing any
 * producer still open with that id). Returns an exit code. */
int a2k_resume_position(const struct a2k_opts *o);

/* metrics.c: the figures --metrics writes (docs/metrics.md). */
struct a2k_figures {
	uint64_t changes, tombstones, records, bytes, txns, acks, queue_full;
	int64_t queue, txn_changes, version;
	double commit_ts;
};
/* Starts the registry (path NULL: none; every call below is then a
 * no-op). */
void a2k_metrics_start(const char *path);
/* Whether the file is due at monotonic time now. */
int a2k_metrics_due(int64_t now);
void a2k_metrics_write(const struct a2k_figures *f);
/* Writes the last figures and frees the registry. */
void a2k_metrics_stop(const struct a2k_figures *f);

struct a2k_wire;

/* The Confluent wire format of wire.c, for a registry at url; budget_s
 * bounds the retries of each request. NULL with err set. */
struct a2k_wire *a2k_wire_new(const char *url, int64_t budget_s, char *err,
    size_t errlen);
void a2k_wire_free(struct a2k_wire *w);
/* Keeps an announced schema (copied) for registration on first use. */
void a2k_wire_schema(struct a2k_wire *w, uint64_t fp, const void *json,
    size_t len);
/* Frames the single-object encoded key (is_key) or value in of topic:
 * *out points into w until the next call for the same is_key; a null in
 * stays null. Registers the schema first when this topic has not used it.
 * Returns 0, or an enum cdc_registry_rc with err set. */
int a2k_wire_frame(struct a2k_wire *w, const struct cdc_slice *topic,
    int is_key, const struct cdc_slice *in, struct cdc_slice *out, char *err,
    size_t errlen);
/* Schemas registered so far (0 for NULL). */
uint64_t a2k_wire_registered(const struct a2k_wire *w);

#endif
