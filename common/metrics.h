/* Metrics in Prometheus's text exposition format (version 0.0.4), written
 * atomically to a file for node_exporter's textfile collector. A tool
 * registers its metrics once, each pointing at a counter it already keeps;
 * the values are only read when the file is written, so the hot path pays
 * nothing but histogram observations. */
#ifndef CDC_METRICS_H
#define CDC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

enum cdc_metric_type {
	CDC_METRIC_COUNTER,
	CDC_METRIC_GAUGE,
	CDC_METRIC_HISTOGRAM
};

/* A histogram with fixed upper bounds (ascending, +Inf implied). */
struct cdc_histogram {
	const double *bounds; /* not owned; usually a static table */
	size_t nbounds;
	uint64_t *counts; /* nbounds + 1 (the last is +Inf), not cumulative */
	uint64_t count;
	double sum;
};

struct cdc_metrics;

/* A registry writing to path, whose samples all carry the labels
 * pipeline (CDC_PIPELINE, when set) and tool. Strings are copied. The
 * caller frees it with cdc_metrics_free(). */
struct cdc_metrics *cdc_metrics_new(const char *path, const char *tool);
void cdc_metrics_free(struct cdc_metrics *m);

/* Registers a metric whose value is read from *v at each write; v must
 * outlive m. name and help are not copied (string literals). */
void cdc_metrics_u64(struct cdc_metrics *m, enum cdc_metric_type type,
    const char *name, const char *help, const uint64_t *v);
void cdc_metrics_i64(struct cdc_metrics *m, enum cdc_metric_type type,
    const char *name, const char *help, const int64_t *v);
void cdc_metrics_double(struct cdc_metrics *m, enum cdc_metric_type type,
    const char *name, const char *help, const double *v);
/* One row of a tool's metric table: the value is a uint64_t ('u'), an
 * int64_t ('i') or a double ('d') at offset off in a struct. */
struct cdc_metric_def {
	enum cdc_metric_type type;
	char kind;
	size_t off;
	const char *name, *help;
};
/* Registers the n rows of defs, their values read from the struct at
 * base, which must outlive m. */
void cdc_metrics_table(struct cdc_metrics *m, const struct cdc_metric_def *defs,
    size_t n, const void *base);
/* Registers a histogram; m owns it and frees it. Returns it for
 * cdc_metrics_observe(). */
struct cdc_histogram *cdc_metrics_histogram(struct cdc_metrics *m,
    const char *name, const char *help, const double *bounds, size_t n);
void cdc_metrics_observe(struct cdc_histogram *h, double v);

/* Appends the exposition of every metric, in registration order, to out. */
void cdc_metrics_format(const struct cdc_metrics *m, struct cdc_buf *out);
/* Writes the exposition to path.tmp then renames it over path, so a reader
 * sees the old file or the new one, never a part. Returns 0, or -1 with
 * err set (the previous file stays). */
int cdc_metrics_write(struct cdc_metrics *m, char *err, size_t errlen);
/* Whether interval_ms has passed, at monotonic time now_ms, since m was
 * made or last written; 0 for a NULL m. */
int cdc_metrics_due(const struct cdc_metrics *m, int64_t now_ms,
    int64_t interval_ms);
/* cdc_metrics_write() for a tool's stats tick and its exit: a failure is
 * logged as a warning once per run, and the tool goes on, since metrics
 * never stop the data. m may be NULL. */
void cdc_metrics_update(struct cdc_metrics *m);

#endif
