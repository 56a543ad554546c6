/* Option helpers: integer bounds and messages, the environment (empty is
 * unset, renamed variables), secrets from files, deprecation warnings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "opt.h"

/* What f() wrote to stderr, in buf. */
static void
stderr_of(void (*f)(void), char *buf, size_t len)
{
	FILE *t = tmpfile();
	int saved = dup(2);
	size_t n;

	fflush(stderr);
	dup2(fileno(t), 2);
	f();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(t);
	n = fread(buf, 1, len - 1, t);
	buf[n] = '\0';
	fclose(t);
}

static const char *got;

static void
renamed(void)
{
	got = cdc_getenv_renamed("CDC_T_NEW", "CDC_T_OLD");
}

static void
deprecated(void)
{
	cdc_opt_deprecated("-L", "-T (--log-time)");
}

int
main(void)
{
	char err[256], out[512], path[] = "/tmp/test_opt.XXXXXX";
	int64_t v = 0;
	char *s;
	FILE *f;
	int fd;

	check_file = "test_opt";
	CHECK("an integer in range", cdc_parse_int("--n", "42", 1, 100, &v,
	    err, sizeof(err)) == 0 && v == 42);
	CHECK("both bounds are in range",
	    cdc_parse_int("--n", "1", 1, 100, &v, err, sizeof(err)) == 0 &&
	    cdc_parse_int("--n", "100", 1, 100, &v, err, sizeof(err)) == 0);
	CHECK("past the top: the flag, the value and the range",
	    cdc_parse_int("--n", "101", 1, 100, &v, err, sizeof(err)) == -1 &&
	    strcmp(err, "invalid --n '101': must be 1..100") == 0);
	CHECK("below the bottom", cdc_parse_int("--n", "0", 1, 100, &v, err,
	    sizeof(err)) == -1);
	CHECK("trailing text", cdc_parse_int("--n", "12x", 1, 100, &v, err,
	    sizeof(err)) == -1);
	CHECK("empty", cdc_parse_int("--n", "", 1, 100, &v, err,
	    sizeof(err)) == -1);
	CHECK("past int64", cdc_parse_int("--n", "99999999999999999999", 0,
	    INT64_MAX, &v, err, sizeof(err)) == -1);
	CHECK("negative where allowed", cdc_parse_int("--n", "-5", -10, 10, &v,
	    err, sizeof(err)) == 0 && v == -5);

	setenv("CDC_T_EMPTY", "", 1);
	CHECK("an empty variable is unset", cdc_getenv("CDC_T_EMPTY") == NULL);
	setenv("CDC_T_OLD", "old", 1);
	stderr_of(renamed, out, sizeof(out));
	CHECK("a renamed variable: the old name still works",
	    got != NULL && strcmp(got, "old") == 0);
	CHECK("with a warning naming both",
	    strstr(out, "CDC_T_OLD is deprecated: use CDC_T_NEW") != NULL);
	setenv("CDC_T_NEW", "new", 1);
	stderr_of(renamed, out, sizeof(out));
	CHECK("the new name wins, without a warning",
	    strcmp(got, "new") == 0 && out[0] == '\0');
	stderr_of(deprecated, out, sizeof(out));
	CHECK("a deprecated spelling warns",
	    strstr(out, "-L is deprecated: use -T (--log-time)") != NULL);

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("s3cret\r\nsecond line\n", f);
	fclose(f);
	s = cdc_read_secret(path, err, sizeof(err));
	CHECK("a secret is the first line, without its line end",
	    s != NULL && strcmp(s, "s3cret") == 0);
	free(s);
	f = fopen(path, "w");
	fclose(f);
	s = cdc_read_secret(path, err, sizeof(err));
	CHECK("an empty file is an empty secret", s != NULL && s[0] == '\0');
	free(s);
	unlink(path);
	CHECK("a missing file names the path",
	    cdc_read_secret(path, err, sizeof(err)) == NULL &&
	    strstr(err, path) != NULL);
	/* The options every tool has, in the order a command line gives them. */
	cdc_verbosity = CDC_LOG_INFO;
	cdc_log_time = 0;
	CHECK("-v is one of the common options, and means debug",
	    cdc_opt_common('v') == 1 && cdc_verbosity == CDC_LOG_DEBUG);
	CHECK("a second -v: the libraries' debug too",
	    cdc_opt_common('v') == 1 && cdc_verbosity == CDC_LOG_TRACE);
	CHECK("-q: errors only", cdc_opt_common('q') == 1 &&
	    cdc_verbosity == CDC_LOG_ERROR);
	CHECK("-v after -q: debug", cdc_opt_common('v') == 1 &&
	    cdc_verbosity == CDC_LOG_DEBUG);
	CHECK("-T: timestamps", cdc_opt_common('T') == 1 && cdc_log_time == 1);
	CHECK("any other letter is the tool's", cdc_opt_common('X') == 0 &&
	    cdc_opt_common('p') == 0 && cdc_opt_common('?') == 0);
	cdc_verbosity = CDC_LOG_INFO;
	return check_done();
}
