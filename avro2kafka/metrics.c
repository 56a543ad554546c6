/* avro2kafka's metrics (--metrics FILE, docs/metrics.md): one table of
 * names over the figures the producer loop hands over when the file is
 * due. */
#include <stddef.h>

#include "a2k.h"
#include "metrics.h"

/* Written every this often (and at exit). */
#define EVERY_MS 5000

#define ROW(type, kind, field, name, help)                                    \
	{CDC_METRIC_##type, kind, offsetof(struct a2k_figures, field), name,  \
	    help}

static const struct cdc_metric_def defs[] = {
    ROW(COUNTER, 'u', changes, "cdc_avro2kafka_changes_total",
	"Change frames read from the stream, tombstones included."),
    ROW(COUNTER, 'u', tombstones, "cdc_avro2kafka_tombstones_total",
	"Tombstones (a delete's null value) among them."),
    ROW(COUNTER, 'u', records, "cdc_avro2kafka_records_total",
	"Records Kafka acknowledged (changes, tombstones, schemas)."),
    ROW(COUNTER, 'u', bytes, "cdc_avro2kafka_bytes_total",
	"Key and value bytes of the records Kafka acknowledged."),
    ROW(COUNTER, 'u', txns, "cdc_avro2kafka_transactions_total",
	"Kafka transactions committed (exactly-once mode)."),
    ROW(COUNTER, 'u', acks, "cdc_avro2kafka_acks_upstream_total",
	"Acknowledgements sent upstream (--ack)."),
    ROW(COUNTER, 'u', queue_full, "cdc_avro2kafka_queue_full_retries_total",
	"Produce calls retried because librdkafka's queue was full."),
    ROW(GAUGE, 'i', queue, "cdc_avro2kafka_queue_records",
	"Records in librdkafka's queue, not yet acknowledged by Kafka."),
    ROW(GAUGE, 'i', txn_changes, "cdc_avro2kafka_transaction_changes",
	"Changes in the open Kafka transaction (the batch being built)."),
    ROW(GAUGE, 'i', version, "cdc_avro2kafka_last_version",
	"Version (docs/stream.md) of the last commit mark read."),
    ROW(GAUGE, 'd', commit_ts, "cdc_avro2kafka_last_commit_timestamp_seconds",
	"Source commit time of the last commit mark read."),
};

static struct cdc_metrics *reg;
static struct a2k_figures fig;

void
a2k_metrics_start(const char *path)
{
	if (path == NULL)
		return;
	reg = cdc_metrics_new(path, "avro2kafka");
	cdc_metrics_table(reg, defs, sizeof(defs) / sizeof(defs[0]), &fig);
}

int
a2k_metrics_due(int64_t now)
{
	return cdc_metrics_due(reg, now, EVERY_MS);
}

void
a2k_metrics_write(const struct a2k_figures *f)
{
	if (reg == NULL)
		return;
	fig = *f;
	cdc_metrics_update(reg);
}

void
a2k_metrics_stop(const struct a2k_figures *f)
{
	a2k_metrics_write(f);
	cdc_metrics_free(reg);
	reg = NULL;
}
