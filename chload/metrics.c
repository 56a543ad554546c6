/* chload's metrics (--metrics FILE, docs/metrics.md): one table of names
 * over the loader's own counters and a few gauges summed over the tables
 * when the file is written. */
#include <stddef.h>
#include <stdlib.h>

#include "loader.h"
#include "metrics.h"
#include "sys.h"

/* End-to-end freshness: seconds from the source's commit to ClickHouse's
 * acknowledgement, from a tenth of a second to an hour. */
static const double fresh_bounds[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    60, 300, 900, 3600};

struct loader_metrics {
	struct cdc_metrics *reg;
	struct cdc_histogram *fresh;
	int64_t pending, buffered_rows, buffered_bytes, inflight, tables;
	int64_t acked_version;
	double acked_ts, freshness;
};

/* Rows on the loader (L) or on the figures above (M). */
#define L(type, kind, field, name, help)                                      \
	{CDC_METRIC_##type, kind, offsetof(struct loader, field), name, help}
#define M(type, kind, field, name, help)                                      \
	{CDC_METRIC_##type, kind, offsetof(struct loader_metrics, field),     \
	    name, help}

static const struct cdc_metric_def ldefs[] = {
    L(COUNTER, 'u', in, "cdc_chload_changes_total",
	"Changes read from the stream."),
    L(COUNTER, 'u', out, "cdc_chload_rows_total",
	"Rows ClickHouse accepted."),
    L(COUNTER, 'u', bytes_out, "cdc_chload_bytes_total",
	"RowBinary bytes ClickHouse accepted."),
    L(COUNTER, 'u', inserts, "cdc_chload_inserts_total",
	"INSERT requests ClickHouse accepted."),
    L(COUNTER, 'i', ncommits, "cdc_chload_transactions_total",
	"Commit marks read from the stream."),
    L(COUNTER, 'i', acked, "cdc_chload_transactions_acked_total",
	"Commit marks whose rows are all in ClickHouse."),
    L(COUNTER, 'u', retries, "cdc_chload_retries_total",
	"Requests retried after a transient failure."),
    L(COUNTER, 'u', dead_rows, "cdc_chload_dead_letters_total",
	"Rows ClickHouse refused, written to --dead-letter."),
    L(COUNTER, 'u', ddl, "cdc_chload_ddl_total", "DDL statements run."),
};

static const struct cdc_metric_def mdefs[] = {
    M(GAUGE, 'i', pending, "cdc_chload_pending_transactions",
	"Commit marks read but not yet acknowledged."),
    M(GAUGE, 'i', buffered_rows, "cdc_chload_buffered_rows",
	"Rows buffered or in flight, not yet in ClickHouse."),
    M(GAUGE, 'i', buffered_bytes, "cdc_chload_buffered_bytes",
	"Bytes buffered or in flight, not yet in ClickHouse."),
    M(GAUGE, 'i', inflight, "cdc_chload_inflight_inserts",
	"INSERT requests in flight."),
    M(GAUGE, 'i', tables, "cdc_chload_tables", "Tables loaded."),
    M(GAUGE, 'i', acked_version, "cdc_chload_last_acked_version",
	"Version (docs/stream.md) of the last acknowledged commit mark."),
    M(GAUGE, 'd', acked_ts, "cdc_chload_last_acked_commit_timestamp_seconds",
	"Source commit time of the last acknowledged commit mark."),
    M(GAUGE, 'd', freshness, "cdc_chload_last_freshness_seconds",
	"Source commit to acknowledgement, for the last acknowledged commit "
	"mark."),
};

void
loader_metrics_new(struct loader *l)
{
	struct loader_metrics *lm;

	if (l->o.metrics == NULL)
		return;
	lm = cdc_xcalloc(1, sizeof(*lm));
	lm->reg = cdc_metrics_new(l->o.metrics, "chload");
	cdc_metrics_table(lm->reg, ldefs, sizeof(ldefs) / sizeof(ldefs[0]), l);
	cdc_metrics_table(lm->reg, mdefs, sizeof(mdefs) / sizeof(mdefs[0]),
	    lm);
	lm->fresh = cdc_metrics_histogram(lm->reg,
	    "cdc_chload_freshness_seconds",
	    "Source commit to acknowledgement, per commit mark.", fresh_bounds,
	    sizeof(fresh_bounds) / sizeof(fresh_bounds[0]));
	l->metrics = lm;
}

void
loader_metrics_acked(struct loader *l, const struct commit_mark *cm)
{
	struct loader_metrics *lm = l->metrics;

	if (lm == NULL)
		return;
	lm->acked_version = cm->version;
	if (cm->ts_ms <= 0)
		return;
	lm->acked_ts = (double)cm->ts_ms / 1000;
	lm->freshness = (double)cdc_now_ms() / 1000 - lm->acked_ts;
	cdc_metrics_observe(lm->fresh, lm->freshness);
}

void
loader_metrics_write(struct loader *l)
{
	struct loader_metrics *lm = l->metrics;
	const struct table *t;
	size_t i;

	if (lm == NULL)
		return;
	lm->pending = l->ncommits - l->acked;
	lm->buffered_rows = lm->buffered_bytes = lm->inflight = 0;
	for (i = 0; i < l->ntables; i++) {
		t = l->tables[i];
		lm->buffered_rows += (int64_t)t->fill.nrows;
		lm->buffered_bytes += (int64_t)t->fill.data.len;
		if (t->inflight) {
			lm->inflight++;
			lm->buffered_rows += (int64_t)t->flight.nrows;
			lm->buffered_bytes += (int64_t)t->flight.data.len;
		}
	}
	lm->tables = (int64_t)l->ntables;
	cdc_metrics_update(lm->reg);
}

void
loader_metrics_free(struct loader *l)
{
	if (l->metrics == NULL)
		return;
	cdc_metrics_free(l->metrics->reg);
	free(l->metrics);
	l->metrics = NULL;
}
