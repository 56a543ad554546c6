/* binlog2avro's metrics (--metrics FILE, docs/metrics.md). One registry
 * per process: the decoder's counters are copied into it when the file is
 * due, so the decoder itself knows nothing of metrics. */
#include <stddef.h>

#include "decoder.h"
#include "metrics.h"
#include "stream.h"
#include "sys.h"

/* Written every this often (and at exit). */
#define EVERY_MS 5000

struct figures {
	uint64_t events, changes, commits, skipped, out_bytes, position;
	uint64_t file_seq;
	int64_t marks, version;
	double event_ts, behind;
};

#define ROW(type, kind, field, name, help)                                    \
	{CDC_METRIC_##type, kind, offsetof(struct figures, field), name, help}

static const struct cdc_metric_def defs[] = {
    ROW(COUNTER, 'u', events, "cdc_binlog2avro_events_total",
	"Binlog events read."),
    ROW(COUNTER, 'u', changes, "cdc_binlog2avro_changes_total",
	"Row changes written (tombstones not counted)."),
    ROW(COUNTER, 'u', commits, "cdc_binlog2avro_transactions_total",
	"Transactions written: the source's and the snapshot's chunks."),
    ROW(COUNTER, 'i', marks, "cdc_binlog2avro_commit_marks_total",
	"Commit marks written (transactions and snapshot chunks)."),
    ROW(COUNTER, 'u', skipped, "cdc_binlog2avro_skipped_statements_total",
	"Statements skipped (not row-based, or excluded)."),
    ROW(COUNTER, 'u', out_bytes, "cdc_binlog2avro_output_bytes_total",
	"Stream bytes written to stdout."),
    ROW(GAUGE, 'u', file_seq, "cdc_binlog2avro_binlog_file_number",
	"Sequence number of the binlog file being read (mysql-bin.N)."),
    ROW(GAUGE, 'u', position, "cdc_binlog2avro_binlog_position_bytes",
	"Offset in that file after the last event read."),
    ROW(GAUGE, 'i', version, "cdc_binlog2avro_last_version",
	"Version (docs/stream.md) of the last commit mark."),
    ROW(GAUGE, 'd', event_ts, "cdc_binlog2avro_last_event_timestamp_seconds",
	"Timestamp of the last binlog event read, since the epoch."),
    ROW(GAUGE, 'd', behind, "cdc_binlog2avro_lag_seconds",
	"Now minus the last event's timestamp; 0 once the server sent a "
	"heartbeat (nothing more to read)."),
};

static struct cdc_metrics *reg;
static struct figures fig;
static unsigned calls;
static int caught_up; /* the last thing read was a heartbeat */

void
b2a_metrics_start(const char *path)
{
	if (path == NULL)
		return;
	reg = cdc_metrics_new(path, "binlog2avro");
	cdc_metrics_table(reg, defs, sizeof(defs) / sizeof(defs[0]), &fig);
}

/* Copies the decoder's figures and writes the file. */
static void
write_now(const struct b2a_decoder *d)
{
	fig.events = d->events;
	fig.changes = d->changes;
	fig.commits = d->commits;
	fig.skipped = d->skipped;
	fig.marks = d->seq;
	fig.version = d->last_version;
	fig.out_bytes = cdc_writer_offset(d->w);
	fig.file_seq = d->file_seq;
	fig.position = d->next_pos;
	fig.event_ts = (double)d->when;
	fig.behind = caught_up || d->when <= 0 ? 0 :
	    (double)cdc_now_ms() / 1000 - (double)d->when;
	cdc_metrics_update(reg);
}

void
b2a_metrics_event(const struct b2a_decoder *d)
{
	if (reg == NULL)
		return;
	caught_up = 0;
	/* The clock costs as much as a small event: every 256th call. */
	if ((++calls & 255) != 0 ||
	    !cdc_metrics_due(reg, cdc_mono_ms(), EVERY_MS))
		return;
	write_now(d);
}

void
b2a_metrics_idle(const struct b2a_decoder *d)
{
	if (reg == NULL)
		return;
	caught_up = 1;
	if (cdc_metrics_due(reg, cdc_mono_ms(), EVERY_MS))
		write_now(d);
}

void
b2a_metrics_stop(const struct b2a_decoder *d)
{
	if (reg == NULL)
		return;
	if (d != NULL)
		write_now(d);
	cdc_metrics_free(reg);
	reg = NULL;
}
