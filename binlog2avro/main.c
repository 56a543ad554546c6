/* binlog2avro: decode MySQL/MariaDB row-based binlog files into the change
 * stream of docs/stream.md on stdout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <zlib.h>
#include <zstd.h>

#include "binlog.h"
#include "live.h"
#include "blockcodec.h"
#include "civil.h"
#include "log.h"
#include "opt.h"
#include "stream.h"
#include "sys.h"
#include "version.h"

#define READ_CHUNK   (1 << 20)
#define MAX_EVENT    ((uint64_t)1 << 30) /* max_allowed_packet's ceiling */
#define BINLOG_MAGIC "\xfe" "bin"

struct opts {
	struct b2a_options b;
	struct b2a_live live;
	const char *password_file;
	const char *salt_file;
	char *salt;
	const char *metrics; /* --metrics FILE */
	enum cdc_codec codec;
	int unbuffered;
	int force;
	int snapshot_given;
	char **files;
	int nfiles;
};

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
	    "  -X, --exclude PATTERN       not the tables that match (repeat)\n"
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
	    "  -q, --quiet / -v, --verbose / --log-time\n"
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

static int
opts_parse(struct opts *o, int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"codec", required_argument, NULL, 'Z'},
	    {"force", no_argument, NULL, 'f'},
	    {"heartbeat", required_argument, NULL, 'b'},
	    {"metrics", required_argument, NULL, 'G'},
	    {"exclude", required_argument, NULL, 'X'},
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
	int64_t n;
	int c;

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
	while ((c = getopt_long(argc, argv,
		    "a:b:B:C:efG:hH:i:I:j:k:K:LnNP:p:qr:s:S:t:TuU:vVW:X:YZ:",
		    longopts,
		    NULL)) != -1) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "initial") == 0)
				o->live.snapshot = B2A_SNAPSHOT_INITIAL;
			else if (strcmp(optarg, "never") == 0)
				o->live.snapshot = B2A_SNAPSHOT_NEVER;
			else if (strcmp(optarg, "only") == 0)
				o->live.snapshot = B2A_SNAPSHOT_ONLY;
			else {
				cdc_error("invalid --snapshot '%s': must be "
					  "initial, never or only", optarg);
				return -1;
			}
			o->snapshot_given = 1;
			break;
		case 'K':
			if (cdc_opt_int("--snapshot-chunk", optarg, 1,
				100000000, &o->live.snapshot_chunk) == -1)
				return -1;
			o->snapshot_given = 1;
			break;
		case 'b':
		case 'i':
		case 'P':
		case 'r':
			if (cdc_opt_int(c == 'b' ? "--heartbeat" :
				    c == 'i'   ? "--server-id" :
				    c == 'P'   ? "--port" :
						 "--retries",
				optarg, c == 'r' ? 0 : 1,
				c == 'P' ? 65535 :
				c == 'i' ? 4294967295LL :
					   100000000,
				&n) == -1)
				return -1;
			if (c == 'b')
				o->live.heartbeat_ms = n;
			else if (c == 'i')
				o->live.server_id = (uint32_t)n;
			else if (c == 'P')
				o->live.port = (int)n;
			else
				o->live.retries = (int)n;
			break;
		case 'B':
			o->live.start = optarg;
			break;
		case 'C':
			o->live.tls_ca = optarg;
			o->live.tls = 1;
			break;
		case 'e':
			o->live.stop_at_end = 1;
			break;
		case 'H':
			o->live.host = optarg;
			break;
		case 'I':
		case 'X':
			if (c == 'I') {
				o->b.include = cdc_xrealloc(o->b.include,
				    (size_t)(o->b.ninclude + 1) * sizeof(char *));
				o->b.include[o->b.ninclude++] = optarg;
			} else {
				o->b.exclude = cdc_xrealloc(o->b.exclude,
				    (size_t)(o->b.nexclude + 1) * sizeof(char *));
				o->b.exclude[o->b.nexclude++] = optarg;
			}
			break;
		case OPT_DROP_COL:
			add_pattern(&o->b.drop_cols, &o->b.ndrop_cols, optarg);
			break;
		case OPT_HASH_COL:
			add_pattern(&o->b.hash_cols, &o->b.nhash_cols, optarg);
			break;
		case OPT_MASK_COL:
			add_pattern(&o->b.mask_cols, &o->b.nmask_cols, optarg);
			break;
		case OPT_MASK_TEXT:
			o->b.mask_text = optarg;
			break;
		case OPT_INCLUDE_QUERY:
			o->b.include_query = 1;
			break;
		case OPT_QUERY_MAX:
			if (cdc_opt_int("--query-max-bytes", optarg, 64,
				16 << 20, &n) == -1)
				return -1;
			o->b.query_max = (size_t)n;
			break;
		case OPT_SALT_FILE:
			o->salt_file = optarg;
			break;
		case 'L':
			o->live.tls = 1;
			break;
		case 'n':
			o->b.no_tombstones = 1;
			break;
		case 'N':
			o->live.no_schema_lookup = 1;
			break;
		case 'S':
			o->live.socket = optarg;
			break;
		case 'U':
			o->live.user = optarg;
			break;
		case 'W':
			o->password_file = optarg;
			break;
		case 'Y':
			o->live.tls_verify = 1;
			o->live.tls = 1;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'G':
			o->metrics = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(cdc_stdout_close(0));
		case 'j':
		case 'k':
			if (cdc_opt_int(c == 'j' ? "--start-position" :
						     "--stop-position",
				optarg, 4, INT64_MAX,
				c == 'j' ? &o->b.start_position :
					   &o->b.stop_position) == -1)
				return -1;
			break;
		case 'p':
			o->b.prefix = optarg;
			break;
		case 'q':
			cdc_verbosity = CDC_LOG_ERROR;
			break;
		case 's':
		case 't':
			if (parse_time(c == 's' ? "--start-datetime" :
						  "--stop-datetime",
				optarg,
				c == 's' ? &o->b.start_time :
					   &o->b.stop_time) == -1)
				return -1;
			break;
		case 'T':
			cdc_log_time = 1;
			break;
		case 'u':
			o->unbuffered = 1;
			break;
		case 'v':
			cdc_verbosity++;
			break;
		case 'V':
			printf("binlog2avro %s (stream format %s; MariaDB "
			       "Connector/C %s, avro-c, zlib %s, zstd %s)\n",
			    CDC_VERSION, CDC_STREAM_FORMAT,
			    mysql_get_client_info(), zlibVersion(),
			    ZSTD_versionString());
			exit(cdc_stdout_close(0));
		case 'Z':
			if (cdc_codec_parse(optarg, strlen(optarg), &o->codec) ==
			    -1) {
				cdc_error("invalid --codec '%s': must be null, "
					  "deflate or zstandard", optarg);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
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

/* Live mode's settings from the environment and the password; returns an
 * exit code on failure, 0 on success. */
static int
opts_finish(struct opts *o)
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

/* Reads one file event by event; returns an exit code (0 to go on). */
static int
read_file(struct b2a_decoder *d, const char *path, int first, int last,
    const struct opts *o, int *stopped)
{
	struct cdc_buf buf;
	uint64_t off = 0, want;
	size_t have = 0, start = 0;
	ssize_t n;
	int fd, io, rc = 0, eof = 0;
	char err[CDC_ERRLEN];
	const char *base = strrchr(path, '/');

	fd = open(path, O_RDONLY);
	if (fd == -1) {
		cdc_error("cannot open '%s': %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	b2a_decoder_file(d, base != NULL ? base + 1 : path);
	cdc_buf_init(&buf);
	for (;;) {
		/* Need a header, then the whole event. */
		want = EVENT_HEADER;
		if (have - start >= EVENT_HEADER) {
			want = b2a_le(buf.p + start + 9, 4);
			if (off == 0)
				want = 4;
		} else if (off == 0) {
			want = 4;
		}
		if (want > MAX_EVENT) {
			cdc_error("%s at %" PRIu64 ": event size %" PRIu64
			    " is not believable (corrupt header)", path, off,
			    want);
			rc = EX_DATAERR;
			break;
		}
		if (have - start < want) {
			if (eof) {
				if (off == 0) {
					cdc_error("%s: not a binlog file "
					    "(%s)", path, have == 0 ? "empty" :
					    "shorter than the magic");
					rc = EX_DATAERR;
				} else if (have - start > 0) {
					cdc_error("%s at %" PRIu64 ": truncated "
					    "event (the file ends %zu bytes "
					    "into it)", path, off,
					    have - start);
					rc = EX_DATAERR;
				}
				break;
			}
			if (start > 0) {
				cdc_buf_consume(&buf, start);
				have -= start;
				start = 0;
			}
			buf.len = have;
			n = read(fd, cdc_buf_reserve(&buf, READ_CHUNK),
			    READ_CHUNK);
			if (n == -1 && errno == EINTR && !cdc_stop)
				continue;
			if (n == -1) {
				if (cdc_stop)
					break;
				cdc_error("cannot read '%s': %s", path,
				    strerror(errno));
				rc = EX_IOERR;
				break;
			}
			if (n == 0)
				eof = 1;
			have += (size_t)n;
			buf.len = have;
			continue;
		}
		if (off == 0) {
			if (memcmp(buf.p, BINLOG_MAGIC, 4) != 0) {
				cdc_error("%s: not a binlog file (bad magic)",
				    path);
				rc = EX_DATAERR;
				break;
			}
			start += 4;
			off = 4;
			continue;
		}
		if (want < EVENT_HEADER) {
			cdc_error("%s at %" PRIu64 ": event size %" PRIu64
			    " is smaller than a header", path, off, want);
			rc = EX_DATAERR;
			break;
		}
		if (cdc_stop) {
			*stopped = 1;
			break;
		}
		if (last && o->b.stop_position >= 0 &&
		    off >= (uint64_t)o->b.stop_position) {
			*stopped = 1;
			break;
		}
		if (o->b.stop_time >= 0 &&
		    (int64_t)b2a_le(buf.p + start, 4) >= o->b.stop_time &&
		    buf.p[start + 4] != EV_FORMAT_DESCRIPTION) {
			*stopped = 1;
			break;
		}
		/* Before the start position only what sets up decoding is
		 * read: the format description. */
		if (!(first && off < (uint64_t)o->b.start_position &&
			buf.p[start + 4] != EV_FORMAT_DESCRIPTION) &&
		    !(o->b.start_time >= 0 &&
			(int64_t)b2a_le(buf.p + start, 4) < o->b.start_time &&
			buf.p[start + 4] != EV_FORMAT_DESCRIPTION &&
			buf.p[start + 4] != EV_TABLE_MAP)) {
			if (b2a_decoder_event(d, buf.p + start, (size_t)want,
				off, &io, err, sizeof(err)) == -1) {
				if (io) {
					cdc_epipe_check(errno);
					cdc_error("%s", err);
					rc = EX_IOERR;
				} else {
					cdc_error("%s", err);
					rc = b2a_decoder_failure(d);
				}
				break;
			}
		}
		start += (size_t)want;
		off += want;
		b2a_metrics_event(d);
	}
	close(fd);
	cdc_buf_fini(&buf);
	return rc;
}

static int
run(const struct opts *o)
{
	struct cdc_writer *w;
	struct b2a_decoder *d;
	char err[CDC_ERRLEN];
	uint64_t events, changes, commits, skipped;
	int i, rc = 0, stopped = 0;

	/* A missing file fails before the stream header is written. */
	for (i = 0; i < o->nfiles; i++) {
		if (access(o->files[i], R_OK) == -1) {
			cdc_error("cannot open '%s': %s", o->files[i],
			    strerror(errno));
			return EX_NOINPUT;
		}
	}
	w = cdc_writer_new(STDOUT_FILENO, "binlog2avro " CDC_VERSION, o->codec,
	    err, sizeof(err));
	if (w == NULL) {
		cdc_epipe_check(errno);
		cdc_error("%s", err);
		return EX_IOERR;
	}
	cdc_writer_set_unbuffered(w, o->unbuffered);
	d = b2a_decoder_new(&o->b, w);
	b2a_metrics_start(o->metrics);
	if (o->nfiles == 0)
		rc = b2a_snapshot_run(d, &o->live);
	for (i = 0; i < o->nfiles && rc == 0 && !stopped; i++)
		rc = read_file(d, o->files[i], i == 0, i == o->nfiles - 1, o,
		    &stopped);
	if (b2a_decoder_in_transaction(d)) {
		/* The stream ends at the last commit mark. */
		if (rc == 0 && !cdc_stop)
			cdc_warn("the binlog ends inside a transaction; its "
				 "changes are not emitted");
		cdc_writer_discard(w);
	}
	if (rc == 0 && cdc_writer_flush(w, err, sizeof(err)) == -1) {
		cdc_epipe_check(errno);
		cdc_error("%s", err);
		rc = EX_IOERR;
	}
	b2a_metrics_stop(d);
	b2a_decoder_stats(d, &events, &changes, &commits, &skipped);
	cdc_info("events=%" PRIu64 " changes=%" PRIu64 " commits=%" PRIu64
		 " skipped_statements=%" PRIu64,
	    events, changes, commits, skipped);
	b2a_decoder_free(d);
	cdc_writer_free(w);
	return rc;
}

static void
opts_free(struct opts *o)
{
	free(o->live.password);
	free(o->b.include);
	free(o->b.exclude);
	free(o->b.drop_cols);
	free(o->b.hash_cols);
	free(o->b.mask_cols);
	free(o->salt);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	int rc;

	cdc_init(argv[0]);
	cdc_signals_install();
	if (opts_parse(&o, argc, argv) == -1) {
		fprintf(stderr, "try 'binlog2avro --help'\n");
		opts_free(&o);
		return EX_USAGE;
	}
	rc = opts_finish(&o);
	if (rc != 0) {
		if (rc == EX_USAGE)
			fprintf(stderr, "try 'binlog2avro --help'\n");
		opts_free(&o);
		return rc;
	}
	if (!o.force && isatty(STDOUT_FILENO)) {
		cdc_error("refusing to write a binary stream to a terminal; "
			  "pipe it (e.g. into streamcat) or use --force");
		opts_free(&o);
		return EX_USAGE;
	}
	rc = run(&o);
	opts_free(&o);
	return cdc_stdout_close(rc);
}
