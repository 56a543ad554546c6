/* Number parsing, environment lookups and secret files. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "opt.h"

int
cdc_parse_int(const char *name, const char *s, int64_t min, int64_t max,
    int64_t *out, char *err, size_t errlen)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return cdc_err(err, errlen,
		    "invalid %s '%s': must be %" PRId64 "..%" PRId64, name, s,
		    min, max);
	*out = v;
	return 0;
}

int
cdc_opt_int(const char *name, const char *s, int64_t min, int64_t max,
    int64_t *out)
{
	char err[CDC_ERRLEN];

	if (cdc_parse_int(name, s, min, max, out, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		return -1;
	}
	return 0;
}

const char *
cdc_getenv(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *
cdc_getenv_renamed(const char *name, const char *old)
{
	const char *v = cdc_getenv(name);

	if (v == NULL && (v = cdc_getenv(old)) != NULL)
		cdc_warn("%s is deprecated: use %s", old, name);
	return v;
}

void
cdc_opt_deprecated(const char *old, const char *now)
{
	cdc_warn("%s is deprecated: use %s", old, now);
}

char *
cdc_read_secret(const char *path, char *err, size_t errlen)
{
	char line[4096];
	FILE *f;
	size_t n;

	f = fopen(path, "r");
	if (f == NULL) {
		cdc_err(err, errlen, "cannot open '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	return cdc_xstrndup(line, n);
}

int
cdc_opt_common(int c)
{
	switch (c) {
	case 'q':
		cdc_verbosity = CDC_LOG_ERROR;
		return 1;
	case 'v':
		cdc_verbosity = cdc_verbosity < CDC_LOG_DEBUG ? CDC_LOG_DEBUG :
							       CDC_LOG_TRACE;
		return 1;
	case 'T':
		cdc_log_time = 1;
		return 1;
	default:
		return 0;
	}
}
