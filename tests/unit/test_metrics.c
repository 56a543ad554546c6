/* The metrics writer: the exposition's exact bytes, label escaping, and the
 * atomic replacement of the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "metrics.h"

static const char expect[] =
    "# HELP cdc_process_start_time_seconds Start time of the process since "
    "the epoch.\n"
    "# TYPE cdc_process_start_time_seconds gauge\n"
    "cdc_process_start_time_seconds{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\"} "
    "START\n"
    "# HELP cdc_metrics_write_timestamp_seconds When this file was last "
    "written, since the epoch.\n"
    "# TYPE cdc_metrics_write_timestamp_seconds gauge\n"
    "cdc_metrics_write_timestamp_seconds{pipeline=\"a\\\"b\\\\c\\nd\","
    "tool=\"t\"} 0\n"
    "# HELP x_changes_total Changes, with a \\\\ and a\\nnewline.\n"
    "# TYPE x_changes_total counter\n"
    "x_changes_total{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\"} "
    "18446744073709551615\n"
    "# HELP x_lag_seconds Lag.\n"
    "# TYPE x_lag_seconds gauge\n"
    "x_lag_seconds{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\"} -3\n"
    "# HELP x_ratio Ratio.\n"
    "# TYPE x_ratio gauge\n"
    "x_ratio{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\"} 0.25\n"
    "# HELP x_fresh_seconds Freshness.\n"
    "# TYPE x_fresh_seconds histogram\n"
    "x_fresh_seconds_bucket{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\","
    "le=\"0.1\"} 1\n"
    "x_fresh_seconds_bucket{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\","
    "le=\"1\"} 3\n"
    "x_fresh_seconds_bucket{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\","
    "le=\"+Inf\"} 4\n"
    "x_fresh_seconds_sum{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\"} 101.6\n"
    "x_fresh_seconds_count{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\"} 4\n";

static char *
slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

int
main(void)
{
	static const double bounds[] = {0.1, 1};
	struct cdc_metrics *m;
	struct cdc_histogram *h;
	struct cdc_buf b;
	uint64_t changes = UINT64_MAX;
	int64_t lag = -3;
	double ratio = 0.25;
	char dir[] = "/tmp/test_metricsXXXXXX", path[256], tmp[300], want[4096];
	char err[256], *got, *p;
	struct stat st1, st2;

	check_file = "test_metrics";
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/p-t.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	setenv("CDC_PIPELINE", "a\"b\\c\nd", 1);
	m = cdc_metrics_new(path, "t");
	cdc_metrics_u64(m, CDC_METRIC_COUNTER, "x_changes_total",
	    "Changes, with a \\ and a\nnewline.", &changes);
	cdc_metrics_i64(m, CDC_METRIC_GAUGE, "x_lag_seconds", "Lag.", &lag);
	cdc_metrics_double(m, CDC_METRIC_GAUGE, "x_ratio", "Ratio.", &ratio);
	h = cdc_metrics_histogram(m, "x_fresh_seconds", "Freshness.", bounds,
	    2);
	cdc_metrics_observe(h, 0.1);
	cdc_metrics_observe(h, 0.5);
	cdc_metrics_observe(h, 1);
	cdc_metrics_observe(h, 100);

	/* The start time varies: format it the same way the writer does. */
	cdc_buf_init(&b);
	cdc_metrics_format(m, &b);
	cdc_buf_putc(&b, '\0');
	p = strstr((char *)b.p, "tool=\"t\"} ");
	CHECK("start time sample present", p != NULL);
	if (p != NULL) {
		const char *s = strstr(expect, "START");
		int len = (int)strcspn(p + 10, "\n");

		snprintf(want, sizeof(want), "%.*s%.*s%s", (int)(s - expect),
		    expect, len, p + 10, s + 5);
	}
	CHECK("exposition bytes, escapes, cumulative buckets",
	    strcmp((char *)b.p, want) == 0);
	if (strcmp((char *)b.p, want) != 0)
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", (char *)b.p, want);
	cdc_buf_fini(&b);

	CHECK("write", cdc_metrics_write(m, err, sizeof(err)) == 0);
	got = slurp(path);
	CHECK("the file ends with a newline",
	    got != NULL && got[strlen(got) - 1] == '\n');
	CHECK("the file has the write time",
	    got != NULL && strstr(got, "write_timestamp_seconds{pipeline="
	    "\"a\\\"b\\\\c\\nd\",tool=\"t\"} 0\n") == NULL);
	CHECK("no temporary file left", access(tmp, F_OK) == -1);
	stat(path, &st1);
	changes = 7;
	CHECK("rewrite", cdc_metrics_write(m, err, sizeof(err)) == 0);
	stat(path, &st2);
	CHECK("replaced by rename: a new inode", st1.st_ino != st2.st_ino);
	got = slurp(path);
	CHECK("the new value", got != NULL && strstr(got,
	    "x_changes_total{pipeline=\"a\\\"b\\\\c\\nd\",tool=\"t\"} 7\n")
	    != NULL);
	/* A directory where the temporary file goes: the write fails and the
	 * previous file stays whole. */
	if (mkdir(tmp, 0755) == 0) {
		CHECK("a failed write says why",
		    cdc_metrics_write(m, err, sizeof(err)) == -1 &&
			strstr(err, ".prom.tmp") != NULL);
		CHECK("the previous file stays", slurp(path) != NULL &&
		    strstr(slurp(path), "} 7\n") != NULL);
		rmdir(tmp);
	}
	cdc_metrics_free(m);
	unsetenv("CDC_PIPELINE");
	m = cdc_metrics_new(path, "u");
	cdc_buf_init(&b);
	cdc_metrics_format(m, &b);
	cdc_buf_putc(&b, '\0');
	CHECK("no pipeline label without CDC_PIPELINE",
	    strstr((char *)b.p, "{tool=\"u\"} ") != NULL);
	cdc_buf_fini(&b);
	cdc_metrics_free(m);
	unlink(path);
	rmdir(dir);
	return check_done();
}
