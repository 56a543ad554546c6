/* kafka2ch's metrics (--metrics FILE, docs/metrics.md): one table of names
 * over the figures the consumer loop hands over when the file is due. */
#include <stddef.h>

#include "k2c.h"
#include "metrics.h"

/* Written every this often (and at exit). */
#define EVERY_MS 5000

#define ROW(type, kind, field, name, help)                                    \
	{CDC_METRIC_##type, kind, offsetof(struct k2c_figures, field), name,  \
	    help}

static const struct cdc_metric_def defs[] = {
    ROW(COUNTER, 'u', changes, "cdc_kafka2ch_changes_total",
	"Records consumed and written to stdout (changes, tombstones, "
	"DDL)."),
    ROW(COUNTER, 'u', tombstones, "cdc_kafka2ch_tombstones_total",
	"Tombstones (a delete's null value) among them."),
    ROW(COUNTER, 'u', bytes, "cdc_kafka2ch_bytes_total",
	"Value bytes of the records consumed."),
    ROW(COUNTER, 'i', marks, "cdc_kafka2ch_commit_marks_total",
	"Commit marks written downstream (one per batch of records)."),
    ROW(COUNTER, 'i', acked, "cdc_kafka2ch_commit_marks_acked_total",
	"Commit marks the loader acknowledged (the last one's number)."),
    ROW(COUNTER, 'u', commits, "cdc_kafka2ch_offset_commits_total",
	"Offset commits sent to the consumer group."),
    ROW(COUNTER, 'u', commit_failures,
	"cdc_kafka2ch_offset_commit_failures_total",
	"Offset commits that failed (retried with the next "
	"acknowledgement)."),
    ROW(GAUGE, 'i', partitions, "cdc_kafka2ch_assigned_partitions",
	"Partitions assigned to this consumer."),
    ROW(GAUGE, 'i', unacked, "cdc_kafka2ch_unacked_changes",
	"Changes written downstream but not yet acknowledged."),
    ROW(GAUGE, 'i', queue, "cdc_kafka2ch_queue_records",
	"Records prefetched by librdkafka, not yet read."),
    ROW(GAUGE, 'i', lag, "cdc_kafka2ch_consumer_lag_records",
	"Records behind the end offsets of the assigned partitions, as "
	"consumed."),
    ROW(GAUGE, 'i', committed_lag, "cdc_kafka2ch_committed_lag_records",
	"Records behind the end offsets, as committed to the group (i.e. "
	"acknowledged by the loader)."),
    ROW(GAUGE, 'i', version, "cdc_kafka2ch_last_version",
	"Greatest version (docs/stream.md) consumed."),
    ROW(GAUGE, 'd', record_ts, "cdc_kafka2ch_last_record_timestamp_seconds",
	"Greatest Kafka record timestamp consumed."),
};

static struct cdc_metrics *reg;
static struct k2c_figures fig;

void
k2c_metrics_start(const char *path)
{
	if (path == NULL)
		return;
	reg = cdc_metrics_new(path, "kafka2ch");
	cdc_metrics_table(reg, defs, sizeof(defs) / sizeof(defs[0]), &fig);
}

int
k2c_metrics_due(int64_t now)
{
	return cdc_metrics_due(reg, now, EVERY_MS);
}

void
k2c_metrics_write(const struct k2c_figures *f)
{
	if (reg == NULL)
		return;
	fig = *f;
	cdc_metrics_update(reg);
}

void
k2c_metrics_stop(const struct k2c_figures *f)
{
	if (f != NULL)
		k2c_metrics_write(f);
	cdc_metrics_free(reg);
	reg = NULL;
}
