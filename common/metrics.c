/* The metrics registry and its writer (metrics.h). The format follows
 * Prometheus's text exposition format 0.0.4: HELP and TYPE lines, one
 * sample per line, the label values escaped, a newline after the last. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "opt.h"
#include "sys.h"

enum kind { K_U64, K_I64, K_DOUBLE, K_HIST };

struct metric {
	const char *name, *help;
	enum cdc_metric_type type;
	enum kind kind;
	const void *v;
	struct cdc_histogram *h; /* K_HIST, owned */
};

struct cdc_metrics {
	char *path, *tmp;
	char *labels; /* pipeline="x",tool="y", escaped */
	struct metric *m;
	size_t n, cap;
	double start_s, write_s; /* the two metrics every file has */
	int64_t written_ms;      /* monotonic time of the last write */
	int warned;
};

static void
escape(struct cdc_buf *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			cdc_buf_puts(b, "\\\\");
		else if (*s == '\n')
			cdc_buf_puts(b, "\\n");
		else if (*s == '"' && quote)
			cdc_buf_puts(b, "\\\"");
		else
			cdc_buf_putc(b, *s);
	}
}

static struct metric *
add(struct cdc_metrics *m, enum cdc_metric_type type, const char *name,
    const char *help, enum kind kind, const void *v)
{
	struct metric *e;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->m = cdc_xrealloc(m->m, m->cap * sizeof(*m->m));
	}
	e = &m->m[m->n++];
	memset(e, 0, sizeof(*e));
	e->name = name;
	e->help = help;
	e->type = type;
	e->kind = kind;
	e->v = v;
	return e;
}

struct cdc_metrics *
cdc_metrics_new(const char *path, const char *tool)
{
	struct cdc_metrics *m = cdc_xcalloc(1, sizeof(*m));
	const char *pipeline = cdc_getenv("CDC_PIPELINE");
	struct cdc_buf b;

	m->path = cdc_xstrdup(path);
	cdc_buf_init(&b);
	cdc_buf_printf(&b, "%s.tmp", path);
	cdc_buf_putc(&b, '\0');
	m->tmp = (char *)b.p;
	cdc_buf_init(&b);
	if (pipeline != NULL) {
		cdc_buf_puts(&b, "pipeline=\"");
		escape(&b, pipeline, 1);
		cdc_buf_puts(&b, "\",");
	}
	cdc_buf_puts(&b, "tool=\"");
	escape(&b, tool, 1);
	cdc_buf_puts(&b, "\"");
	cdc_buf_putc(&b, '\0');
	m->labels = (char *)b.p;
	m->start_s = (double)cdc_now_ms() / 1000;
	m->written_ms = cdc_mono_ms();
	cdc_metrics_double(m, CDC_METRIC_GAUGE,
	    "cdc_process_start_time_seconds",
	    "Start time of the process since the epoch.", &m->start_s);
	cdc_metrics_double(m, CDC_METRIC_GAUGE,
	    "cdc_metrics_write_timestamp_seconds",
	    "When this file was last written, since the epoch.", &m->write_s);
	return m;
}

void
cdc_metrics_free(struct cdc_metrics *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		if (m->m[i].h != NULL) {
			free(m->m[i].h->counts);
			free(m->m[i].h);
		}
	}
	free(m->m);
	free(m->labels);
	free(m->tmp);
	free(m->path);
	free(m);
}

void
cdc_metrics_u64(struct cdc_metrics *m, enum cdc_metric_type type,
    const char *name, const char *help, const uint64_t *v)
{
	add(m, type, name, help, K_U64, v);
}

void
cdc_metrics_i64(struct cdc_metrics *m, enum cdc_metric_type type,
    const char *name, const char *help, const int64_t *v)
{
	add(m, type, name, help, K_I64, v);
}

void
cdc_metrics_double(struct cdc_metrics *m, enum cdc_metric_type type,
    const char *name, const char *help, const double *v)
{
	add(m, type, name, help, K_DOUBLE, v);
}

void
cdc_metrics_table(struct cdc_metrics *m, const struct cdc_metric_def *defs,
    size_t n, const void *base)
{
	const char *b = base;
	size_t i;

	for (i = 0; i < n; i++)
		add(m, defs[i].type, defs[i].name, defs[i].help,
		    defs[i].kind == 'u' ? K_U64 : defs[i].kind == 'i' ? K_I64 :
					      K_DOUBLE, b + defs[i].off);
}

struct cdc_histogram *
cdc_metrics_histogram(struct cdc_metrics *m, const char *name,
    const char *help, const double *bounds, size_t n)
{
	struct cdc_histogram *h = cdc_xcalloc(1, sizeof(*h));

	h->bounds = bounds;
	h->nbounds = n;
	h->counts = cdc_xcalloc(n + 1, sizeof(*h->counts));
	add(m, CDC_METRIC_HISTOGRAM, name, help, K_HIST, NULL)->h = h;
	return h;
}

void
cdc_metrics_observe(struct cdc_histogram *h, double v)
{
	size_t i;

	/* A few buckets: a linear scan beats a binary search. */
	for (i = 0; i < h->nbounds && v > h->bounds[i]; i++)
		;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

/* A float as Go's strconv parses it: +Inf, -Inf, NaN, else the shortest
 * of %.15g that is exact for the integers a double holds. */
static void
put_double(struct cdc_buf *b, double v)
{
	if (isnan(v))
		cdc_buf_puts(b, "NaN");
	else if (isinf(v))
		cdc_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else
		cdc_buf_printf(b, "%.15g", v);
}

static void
put_value(struct cdc_buf *b, const struct metric *e)
{
	switch (e->kind) {
	case K_U64:
		cdc_buf_printf(b, "%" PRIu64, *(const uint64_t *)e->v);
		break;
	case K_I64:
		cdc_buf_printf(b, "%" PRId64, *(const int64_t *)e->v);
		break;
	case K_DOUBLE:
		put_double(b, *(const double *)e->v);
		break;
	case K_HIST:
		break;
	}
}

static void
put_histogram(struct cdc_buf *b, const struct cdc_metrics *m,
    const struct metric *e)
{
	const struct cdc_histogram *h = e->h;
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i <= h->nbounds; i++) {
		cum += h->counts[i];
		cdc_buf_printf(b, "%s_bucket{%s,le=\"", e->name, m->labels);
		if (i < h->nbounds)
			put_double(b, h->bounds[i]);
		else
			cdc_buf_puts(b, "+Inf");
		cdc_buf_printf(b, "\"} %" PRIu64 "\n", cum);
	}
	cdc_buf_printf(b, "%s_sum{%s} ", e->name, m->labels);
	put_double(b, h->sum);
	cdc_buf_printf(b, "\n%s_count{%s} %" PRIu64 "\n", e->name, m->labels,
	    h->count);
}

void
cdc_metrics_format(const struct cdc_metrics *m, struct cdc_buf *out)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	const struct metric *e;
	size_t i;

	for (i = 0; i < m->n; i++) {
		e = &m->m[i];
		cdc_buf_printf(out, "# HELP %s ", e->name);
		escape(out, e->help, 0);
		cdc_buf_printf(out, "\n# TYPE %s %s\n", e->name,
		    types[e->type]);
		if (e->kind == K_HIST) {
			put_histogram(out, m, e);
			continue;
		}
		cdc_buf_printf(out, "%s{%s} ", e->name, m->labels);
		put_value(out, e);
		cdc_buf_putc(out, '\n');
	}
}

int
cdc_metrics_write(struct cdc_metrics *m, char *err, size_t errlen)
{
	struct cdc_buf b;
	int fd, e, w;

	m->write_s = (double)cdc_now_ms() / 1000;
	m->written_ms = cdc_mono_ms();
	cdc_buf_init(&b);
	cdc_metrics_format(m, &b);
	fd = open(m->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		e = errno;
		cdc_buf_fini(&b);
		return cdc_err(err, errlen, "cannot open '%s': %s", m->tmp,
		    strerror(e));
	}
	/* No fsync: a file lost to a crash is rewritten at the next tick. */
	w = cdc_write_full(fd, b.p, b.len);
	e = errno;
	if (close(fd) == -1 && w == 0) {
		w = -1;
		e = errno;
	}
	cdc_buf_fini(&b);
	if (w == -1) {
		unlink(m->tmp);
		return cdc_err(err, errlen, "cannot write '%s': %s", m->tmp,
		    strerror(e));
	}
	cdc_buf_fini(&b);
	if (rename(m->tmp, m->path) == -1) {
		e = errno;
		unlink(m->tmp);
		return cdc_err(err, errlen, "cannot rename '%s' to '%s': %s",
		    m->tmp, m->path, strerror(e));
	}
	return 0;
}

int
cdc_metrics_due(const struct cdc_metrics *m, int64_t now_ms,
    int64_t interval_ms)
{
	return m != NULL && now_ms - m->written_ms >= interval_ms;
}

void
cdc_metrics_update(struct cdc_metrics *m)
{
	char err[CDC_ERRLEN];

	if (m == NULL)
		return;
	if (cdc_metrics_write(m, err, sizeof(err)) == -1 && !m->warned) {
		cdc_warn("metrics: %s", err);
		m->warned = 1;
	}
}
