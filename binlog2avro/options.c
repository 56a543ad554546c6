/* binlog2avro's command line: the option table, the parsing of each
 * option, the checks of their conflicts, then the environment. */
#include <getopt.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <zlib.h>
#include <zstd.h>

#include "blockcodec.h"
#include "civil.h"
#include "log.h"
#include "opt.h"
#include "options.h"
#include "sys.h"
#include "version.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: binlog2avro [options] BINLOG...     decode binlog files\n"
	    "       binlog2avro [options] [--host HOST] replicate from a live "
	    "server\n"
	    "Writes a change stream (docs/stream.md) on stdout.\n"
	    "Live replication (server from the flags or CDC_MYSQL_HOST, _PORT,\n"
	    "_USER, _SOCKET; password from CDC_MYSQL_PASSWORD, MYSQL_PWD or "
	    "--password-file):\n"
	    "  -H, --host HOST / -P, --port PORT / -U, --user USER / -S, "
	    "--socket PATH\n"
	    "  -W, --password-file FILE    read the password from FILE\n"
	    "  -i, --server-id ID          replica server id, unique among "
	    "replicas\n"
	    "                              (CDC_MYSQL_SERVER_ID)\n"
	    "  -B, --start POSITION        FILE:POS, binlog:FILE:POS[;gtid=..] "
	    "(a commit\n"
	    "                              mark's), a MariaDB GTID list, a "
	    "MySQL GTID\n"
	    "                              set, or end (default)\n"
	    "  -e, --stop-at-end           stop at the server's end as of "
	    "start-up\n"
	    "  -a, --snapshot MODE         initial (default without --start): "
	    "a consistent\n"
	    "                              snapshot first; never; only: the "
	    "snapshot alone\n"
	    "  -K, --snapshot-chunk ROWS   rows per snapshot chunk "
	    "(default 10000)\n"
	    "  -b, --heartbeat MS          heartbeat interval while idle "
	    "(default 1000)\n"
	    "  -r, --retries N             reconnect attempts (default 10)\n"
	    "  -N, --no-schema-lookup      table maps without column names: "
	    "name them by\n"
	    "                              position, not from "
	    "information_schema\n"
	    "  -L, --tls / -C, --tls-ca FILE / -Y, --tls-verify\n"
	    "Files and common options:\n"
	    "  -I, --include PATTERN       only tables whose db.table matches "
	    "(glob; repeat)\n"
	    "  -x, --exclude PATTERN       not the tables that match (repeat)\n"
	    "  --exclude-column PATTERN    leave out the columns whose "
	    "db.table.column\n"
	    "                              matches (glob; repeat; not key "
	    "columns)\n"
	    "  --hash-column PATTERN       replace values by the hex SHA-256 "
	    "of salt and\n"
	    "                              value (salt: CDC_MASK_SALT or "
	    "--mask-salt-file)\n"
	    "  --mask-column PATTERN       replace values by a fixed text "
	    "(--mask-text,\n"
	    "                              default ****)\n"
	    "  --include-query             the statement in source.query "
	    "(ANNOTATE_ROWS,\n"
	    "                              ROWS_QUERY), cut to "
	    "--query-max-bytes N (4096)\n"
	    "  -p, --topic-prefix PREFIX   topic prefix (default cdc; "
	    "CDC_TOPIC_PREFIX)\n"
	    "  -j, --start-position N      start at offset N of the first "
	    "file\n"
	    "  -k, --stop-position N       stop before offset N of the last "
	    "file\n"
	    "  -s, --start-datetime T      skip changes before T (UTC, "
	    "'YYYY-MM-DD HH:MM:SS')\n"
	    "  -t, --stop-datetime T       stop at the first event at or "
	    "after T (UTC)\n"
	    "  -Z, --codec CODEC           block codec: null (default), "
	    "deflate, zstandard\n"
	    "  -n, --no-tombstones         no tombstone (null value) after each "
	    "delete\n"
	    "  -u, --unbuffered            end a block after every frame\n"
	    "  -f, --force                 write binary output to a "
	    "terminal\n"
	    "  -G, --metrics FILE          Prometheus metrics to FILE every "
	    "5 s\n"
	    "                              (CDC_BINLOG2AVRO_METRICS)\n"
	    "  -q, --quiet / -v, --verbose / -T, --log-time\n"
	    "  -h, --help / -V, --version\n"
	    "Exit status: 0 done (or stopped by a signal), 1 server error, "
	    "64 usage, 65 corrupt\nbinlog, 66 no such file, 69 server "
	    "unreachable, 74 write error, 75 snapshot\nretries exhausted, "
	    "78 a column rule cannot apply to a table, 141 stdout "
	    "closed.\n");
}

/* Long options without a letter. */
enum {
	OPT_DROP_COL = 256,
	OPT_HASH_COL,
	OPT_MASK_COL,
	OPT_MASK_TEXT,
	OPT_SALT_FILE,
	OPT_INCLUDE_QUERY,
	OPT_QUERY_MAX,
};

static void
add_pattern(char ***v, int *n, char *pattern)
{
	*v = cdc_xrealloc(*v, (size_t)(*n + 1) * sizeof(char *));
	(*v)[(*n)++] = pattern;
}

/* The salt of --hash-column: a secret, so from a file or the environment,
 * never argv. Without one, hashes of short values are a dictionary away.
 * Returns 0, -1 without a salt, -2 when libcrypto has no SHA-256. */
static int
read_salt(struct opts *o)
{
	char err[CDC_ERRLEN];
	const char *env = cdc_getenv("CDC_MASK_SALT");

	if (o->b.mask_text == NULL)
		o->b.mask_text = "****";
	if (o->b.nhash_cols == 0)
		return 0;
	if (o->salt_file != NULL) {
		o->salt = cdc_read_secret(o->salt_file, err, sizeof(err));
		if (o->salt == NULL) {
			cdc_error("--mask-salt-file: %s", err);
			return -1;
		}
	} else if (env != NULL) {
		o->salt = cdc_xstrdup(env);
	}
	if (o->salt == NULL || o->salt[0] == '\0') {
		cdc_error("--hash-column needs a salt: set CDC_MASK_SALT or "
			  "give --mask-salt-file FILE");
		return -1;
	}
	o->b.salt = (const uint8_t *)o->salt;
	o->b.saltlen = strlen(o->salt);
	/* Before any row: a libcrypto without SHA-256 is a configuration
	 * error, not an abort in the middle of a stream. */
	if (b2a_hash_init(o->b.salt, o->b.saltlen, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		return -2;
	}
	return 0;
}

static int
parse_time(const char *name, const char *s, int64_t *out)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%d-%d-%d %d:%d:%d%n", &tm.tm_year, &tm.tm_mon,
		&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    s[n] != '\0') {
		cdc_error("invalid %s '%s': want 'YYYY-MM-DD HH:MM:SS'", name,
		    s);
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	/* timegm() is not POSIX; days from the civil date instead. */
	*out = cdc_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
		   tm.tm_mday) * 86400 +
	    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

static const struct option longopts[] = {
    {"codec", required_argument, NULL, 'Z'},
    {"force", no_argument, NULL, 'f'},
    {"metrics", required_argument, NULL, 'G'},
    {"heartbeat", required_argument, NULL, 'b'},
    {"exclude", required_argument, NULL, 'x'},
    {"help", no_argument, NULL, 'h'},
    {"host", required_argument, NULL, 'H'},
    {"include", required_argument, NULL, 'I'},
    {"log-time", no_argument, NULL, 'T'},
    {"no-schema-lookup", no_argument, NULL, 'N'},
    {"no-tombstones", no_argument, NULL, 'n'},
    {"password-file", required_argument, NULL, 'W'},
    {"port", required_argument, NULL, 'P'},
    {"quiet", no_argument, NULL, 'q'},
    {"retries", required_argument, NULL, 'r'},
    {"server-id", required_argument, NULL, 'i'},
    {"snapshot", required_argument, NULL, 'a'},
    {"snapshot-chunk", required_argument, NULL, 'K'},
    {"socket", required_argument, NULL, 'S'},
    {"start", required_argument, NULL, 'B'},
    {"start-datetime", required_argument, NULL, 's'},
    {"start-position", required_argument, NULL, 'j'},
    {"stop-at-end", no_argument, NULL, 'e'},
    {"stop-datetime", required_argument, NULL, 't'},
    {"stop-position", required_argument, NULL, 'k'},
    {"tls", no_argument, NULL, 'L'},
    {"tls-ca", required_argument, NULL, 'C'},
    {"tls-verify", no_argument, NULL, 'Y'},
    {"topic-prefix", required_argument, NULL, 'p'},
    {"prefix", required_argument, NULL, 'p'},
    {"unbuffered", no_argument, NULL, 'u'},
    {"user", required_argument, NULL, 'U'},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, 'V'},
    {"exclude-column", required_argument, NULL, OPT_DROP_COL},
    {"hash-column", required_argument, NULL, OPT_HASH_COL},
    {"mask-column", required_argument, NULL, OPT_MASK_COL},
    {"mask-text", required_argument, NULL, OPT_MASK_TEXT},
    {"mask-salt-file", required_argument, NULL, OPT_SALT_FILE},
    {"include-query", no_argument, NULL, OPT_INCLUDE_QUERY},
    {"query-max-bytes", required_argument, NULL, OPT_QUERY_MAX},
    {NULL, 0, NULL, 0},
};

static void
set_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->live.heartbeat_ms = 1000;
	o->live.retries = 10;
	o->live.snapshot_chunk = 10000;
	o->b.prefix = cdc_getenv("CDC_TOPIC_PREFIX");
	if (o->b.prefix == NULL)
		o->b.prefix = "cdc";
	o->b.start_position = 4;
	o->b.stop_position = -1;
	o->b.start_time = -1;
	o->b.stop_time = -1;
	o->b.hold_limit = 8 << 20;
	o->b.query_max = 4096;
}

/* The options that only set a text or a flag. */
#define TEXT(c, field) {c, offsetof(struct opts, field), 0}
#define FLAG(c, field) {c, offsetof(struct opts, field), 1}
static const struct {
	int c;
	size_t off; /* of a const char * (TEXT) or an int set to 1 (FLAG) */
	int flag;
} simple[] = {
    TEXT('B', live.start),
    TEXT('H', live.host),
    TEXT('S', live.socket),
    TEXT('U', live.user),
    TEXT('W', password_file),
    TEXT('G', metrics),
    TEXT('p', b.prefix),
    TEXT(OPT_MASK_TEXT, b.mask_text),
    TEXT(OPT_SALT_FILE, salt_file),
    FLAG('e', live.stop_at_end),
    FLAG('L', live.tls),
    FLAG('N', live.no_schema_lookup),
    FLAG('f', force),
    FLAG('n', b.no_tombstones),
    FLAG('u', unbuffered),
    FLAG(OPT_INCLUDE_QUERY, b.include_query),
};

/* Takes c when it is in simple[]: 0, or 1 when it is not there. */
static int
simple_option(struct opts *o, int c, char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (simple[i].c != c)
			continue;
		if (simple[i].flag)
			*(int *)((char *)o + simple[i].off) = 1;
		else
			*(const char **)((char *)o + simple[i].off) = arg;
		return 0;
	}
	return 1;
}

/* The options of live replication and the snapshot: 0 when c is one and
 * was taken, -1 after an error message, 1 when c is not one of them. */
static int
live_option(struct opts *o, int c, char *arg)
{
	int64_t n;

	switch (c) {
	case 'a':
		if (strcmp(arg, "initial") == 0)
			o->live.snapshot = B2A_SNAPSHOT_INITIAL;
		else if (strcmp(arg, "never") == 0)
			o->live.snapshot = B2A_SNAPSHOT_NEVER;
		else if (strcmp(arg, "only") == 0)
			o->live.snapshot = B2A_SNAPSHOT_ONLY;
		else {
			cdc_error("invalid --snapshot '%s': must be "
				  "initial, never or only", arg);
			return -1;
		}
		o->snapshot_given = 1;
		return 0;
	case 'K':
		if (cdc_opt_int("--snapshot-chunk", arg, 1, 100000000,
			&o->live.snapshot_chunk) == -1)
			return -1;
		o->snapshot_given = 1;
		return 0;
	case 'b':
		return cdc_opt_int("--heartbeat", arg, 1, 100000000,
		    &o->live.heartbeat_ms);
	case 'i':
		if (cdc_opt_int("--server-id", arg, 1, 4294967295LL, &n) == -1)
			return -1;
		o->live.server_id = (uint32_t)n;
		return 0;
	case 'P':
		if (cdc_opt_int("--port", arg, 1, 65535, &n) == -1)
			return -1;
		o->live.port = (int)n;
		return 0;
	case 'r':
		if (cdc_opt_int("--retries", arg, 0, 100000000, &n) == -1)
			return -1;
		o->live.retries = (int)n;
		return 0;
	case 'C':
		o->live.tls_ca = arg;
		o->live.tls = 1;
		return 0;
	case 'Y':
		o->live.tls_verify = 1;
		o->live.tls = 1;
		return 0;
	}
	return 1;
}

/* Which tables, columns and statement texts go into the stream; returns
 * as live_option() does. */
static int
filter_option(struct opts *o, int c, char *arg)
{
	int64_t n;

	switch (c) {
	case 'I':
		add_pattern(&o->b.include, &o->b.ninclude, arg);
		return 0;
	case 'X': /* -X is librdkafka's in the pipeline's Kafka tools */
		cdc_opt_deprecated("-X", "-x (--exclude)");
		/* FALLTHROUGH */
	case 'x':
		add_pattern(&o->b.exclude, &o->b.nexclude, arg);
		return 0;
	case OPT_DROP_COL:
		add_pattern(&o->b.drop_cols, &o->b.ndrop_cols, arg);
		return 0;
	case OPT_HASH_COL:
		add_pattern(&o->b.hash_cols, &o->b.nhash_cols, arg);
		return 0;
	case OPT_MASK_COL:
		add_pattern(&o->b.mask_cols, &o->b.nmask_cols, arg);
		return 0;
	case OPT_QUERY_MAX:
		if (cdc_opt_int("--query-max-bytes", arg, 64, 16 << 20,
			&n) == -1)
			return -1;
		o->b.query_max = (size_t)n;
		return 0;
	}
	return 1;
}

/* -h and -V: printed, main() exits 0 (no exit() below main()). */
#define OPT_DONE 2

/* Where the files start and stop, and the output; returns as
 * live_option() does, or OPT_DONE after -h and -V. */
static int
output_option(struct opts *o, int c, char *arg)
{
	switch (c) {
	case 'h':
		usage(stdout);
		return OPT_DONE;
	case 'j':
		return cdc_opt_int("--start-position", arg, 4, INT64_MAX,
		    &o->b.start_position);
	case 'k':
		return cdc_opt_int("--stop-position", arg, 4, INT64_MAX,
		    &o->b.stop_position);
	case 's':
		return parse_time("--start-datetime", arg, &o->b.start_time);
	case 't':
		return parse_time("--stop-datetime", arg, &o->b.stop_time);
	case 'V':
		printf("binlog2avro %s (stream format %s; MariaDB "
		       "Connector/C %s, avro-c, zlib %s, zstd %s)\n",
		    CDC_VERSION, CDC_STREAM_FORMAT, mysql_get_client_info(),
		    zlibVersion(), ZSTD_versionString());
		return OPT_DONE;
	case 'Z':
		if (cdc_codec_parse(arg, strlen(arg), &o->codec) == -1) {
			cdc_error("invalid --codec '%s': must be null, "
				  "deflate or zstandard", arg);
			return -1;
		}
		return 0;
	}
	return 1;
}

/* The conflicts between options, one line each. */
static int
check_conflicts(const struct opts *o)
{
	if (o->nfiles > 0 && (o->live.host != NULL || o->live.start != NULL ||
				 o->live.stop_at_end)) {
		cdc_error("cannot use --host, --start or --stop-at-end with "
			  "binlog files");
		return -1;
	}
	if (o->nfiles > 0 && o->live.no_schema_lookup) {
		cdc_error("cannot use --no-schema-lookup with binlog files: "
			  "they name columns by position already");
		return -1;
	}
	if (o->nfiles > 0 && o->snapshot_given) {
		cdc_error("cannot use --snapshot or --snapshot-chunk with binlog "
			  "files");
		return -1;
	}
	if (o->b.prefix[0] == '\0') {
		cdc_error("the topic prefix cannot be empty");
		return -1;
	}
	return 0;
}

int
b2a_opts_parse(struct opts *o, int argc, char *argv[])
{
	int c, rc;

	set_defaults(o);
	while ((c = getopt_long(argc, argv,
		    "a:b:B:C:efG:hH:i:I:j:k:K:LnNP:p:qr:s:S:t:TuU:vVW:x:X:YZ:",
		    longopts, NULL)) != -1) {
		rc = simple_option(o, c, optarg);
		if (rc == 1)
			rc = live_option(o, c, optarg);
		if (rc == 1)
			rc = filter_option(o, c, optarg);
		if (rc == 1)
			rc = output_option(o, c, optarg);
		if (rc == 1 && cdc_opt_common(c))
			rc = 0;
		if (rc == OPT_DONE)
			return 1;
		if (rc != 0)
			return -1; /* explained, or getopt's '?' */
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	return check_conflicts(o);
}

/* Live mode's settings from the environment and the password; returns an
 * exit code on failure, 0 on success. */
int
b2a_opts_finish(struct opts *o)
{
	struct b2a_live *l = &o->live;
	const char *v;
	char err[CDC_ERRLEN];
	int64_t n;

	if (o->metrics == NULL)
		o->metrics = cdc_getenv("CDC_BINLOG2AVRO_METRICS");
	switch (read_salt(o)) {
	case -1:
		return EX_USAGE;
	case -2:
		return EX_CONFIG;
	}
	if (o->nfiles > 0)
		return 0;
	if (l->host == NULL)
		l->host = cdc_getenv("CDC_MYSQL_HOST");
	if (l->socket == NULL)
		l->socket = cdc_getenv("CDC_MYSQL_SOCKET");
	if (l->user == NULL)
		l->user = cdc_getenv("CDC_MYSQL_USER");
	if (l->host == NULL && l->socket == NULL) {
		cdc_error("no binlog file and no server: give files, --host "
			  "or CDC_MYSQL_HOST");
		return EX_USAGE;
	}
	if (l->user == NULL)
		l->user = "root";
	if (l->port == 0 && (v = cdc_getenv("CDC_MYSQL_PORT")) != NULL) {
		if (cdc_opt_int("CDC_MYSQL_PORT", v, 1, 65535, &n) == -1)
			return EX_CONFIG;
		l->port = (int)n;
	}
	if (l->server_id == 0 &&
	    (v = cdc_getenv("CDC_MYSQL_SERVER_ID")) != NULL) {
		if (cdc_opt_int("CDC_MYSQL_SERVER_ID", v, 1, 4294967295LL,
			&n) == -1)
			return EX_CONFIG;
		l->server_id = (uint32_t)n;
	}
	if (l->server_id == 0) {
		/* Two replicas with one id disconnect each other: say so. */
		l->server_id = 1000000000u + (uint32_t)getpid() % 100000000u;
		if (l->snapshot != B2A_SNAPSHOT_ONLY) /* no replication */
			cdc_warn("no --server-id: using %u; give a fixed, "
				 "unique id in production", l->server_id);
	}
	if (o->password_file != NULL) {
		l->password = cdc_read_secret(o->password_file, err,
		    sizeof(err));
		if (l->password == NULL) {
			cdc_error("%s", err);
			return EX_CONFIG;
		}
	} else if ((v = cdc_getenv("CDC_MYSQL_PASSWORD")) != NULL ||
	    (v = cdc_getenv("MYSQL_PWD")) != NULL) {
		l->password = cdc_xstrdup(v);
	}
	return 0;
}

void
b2a_opts_free(struct opts *o)
{
	free(o->live.password);
	free(o->b.include);
	free(o->b.exclude);
	free(o->b.drop_cols);
	free(o->b.hash_cols);
	free(o->b.mask_cols);
	free(o->salt);
}

