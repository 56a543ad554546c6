/* chload: loads a change stream (docs/stream.md) from stdin into ClickHouse
 * over HTTP, creating and evolving the tables, and acknowledges commit marks
 * once their rows are in ClickHouse. See chload.1 and docs/chload.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "opt.h"
#include "stream.h"
#include "sys.h"
#include "version.h"

struct opts {
	struct load_opts lo;
	const char *ack_path, *password_file;
	char *password;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: chload [options] < stream\n"
	    "Loads a change stream into ClickHouse.\n"
	    "  -u, --url URL            ClickHouse HTTP URL (CDC_CLICKHOUSE_URL)\n"
	    "  -U, --user NAME          user (CDC_CLICKHOUSE_USER)\n"
	    "  -W, --password-file F    password from F's first line\n"
	    "                           (else CDC_CLICKHOUSE_PASSWORD)\n"
	    "  -d, --database NAME      all tables into NAME as 'db.table'\n"
	    "  -p, --db-prefix P        database P<db> for MySQL database db\n"
	    "  -w, --view-suffix S      current-state view name suffix "
	    "(_current)\n"
	    "  -D, --dead-letter FILE   append rejected rows to FILE\n"
	    "                           (CDC_CHLOAD_DEAD_LETTER)\n"
	    "  -G, --metrics FILE       Prometheus metrics to FILE at each "
	    "stats tick\n"
	    "                           (CDC_CHLOAD_METRICS)\n"
	    "  -x, --apply-drops        apply DROP TABLE of the source\n"
	    "  -A, --ack PATH           write acknowledgements to PATH\n"
	    "  -a, --ack-fd N           write acknowledgements to fd N\n"
	    "  -b, --batch-rows N       rows per INSERT at most (100000)\n"
	    "  -B, --batch-bytes N      bytes per INSERT at most (8388608)\n"
	    "  -l, --linger-ms N        longest wait before a flush (200)\n"
	    "  -j, --max-inflight N     concurrent INSERTs (4)\n"
	    "  -r, --retry-time SEC     retry an unreachable server (60)\n"
	    "  -t, --timeout SEC        per request (300)\n"
	    "  -S, --server-version V   assume ClickHouse version V\n"
	    "  -C, --cluster NAME       replicated tables, DDL ON CLUSTER NAME\n"
	    "                           (CDC_CLICKHOUSE_CLUSTER); --url may\n"
	    "                           then list replicas: URL,URL\n"
	    "  -n, --dry-run            print DDL and rows, touch nothing\n"
	    "  -s, --stats SEC          info line every SEC seconds (10; 0 off)\n"
	    "  -T, --log-time           timestamps on stderr\n"
	    "  -q, --quiet              errors only\n"
	    "  -v, --verbose            debug messages (twice: libraries)\n"
	    "  -h, --help               this help\n"
	    "  -V, --version            versions\n"
	    "Exit status: 0 done, 1 failure, 64 usage, 65 bad input, 69\n"
	    "ClickHouse unreachable, 74 I/O error, 75 stopped with work in\n"
	    "flight, 78 bad configuration.\n"
	    "Deprecated (docs/options.md): -L (-T), -P (-W), -a PATH (-A),\n"
	    "-A N (-a).\n");
}

static int
num(const char *name, const char *s, int64_t min, int64_t max, int64_t *out)
{
	if (cdc_opt_int(name, s, min, max, out) == -1) {
		fprintf(stderr, "try 'chload --help'\n");
		return -1;
	}
	return 0;
}

enum { OPT_ACK = 256, OPT_ACK_FD };

/* -A PATH and -a N, as in the Kafka tools; before, chload had them the
 * other way round, so a short spelling whose argument fits only the old
 * meaning keeps it, with a warning. */
static int
ack_option(struct opts *o, int c, const char *arg)
{
	int digits = arg[0] != '\0' && strspn(arg, "0123456789") == strlen(arg);
	int64_t v;

	if (c == 'a' && !digits) {
		cdc_opt_deprecated("-a PATH", "-A PATH (--ack)");
		c = OPT_ACK;
	} else if (c == 'A' && digits && access(arg, F_OK) != 0) {
		cdc_opt_deprecated("-A N", "-a N (--ack-fd)");
		c = OPT_ACK_FD;
	}
	if (c == 'A' || c == OPT_ACK) {
		o->ack_path = arg;
		return 0;
	}
	if (num("--ack-fd", arg, 0, 65535, &v) == -1)
		return -1;
	o->lo.ack_fd = (int)v;
	return 0;
}

/* Returns 0, 1 when --help or --version printed what they print (exit 0),
 * or -1 after saying what is wrong. */
static int
opts_parse(struct opts *o, int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"ack", required_argument, NULL, OPT_ACK},
	    {"ack-fd", required_argument, NULL, OPT_ACK_FD},
	    {"batch-rows", required_argument, NULL, 'b'},
	    {"batch-bytes", required_argument, NULL, 'B'},
	    {"cluster", required_argument, NULL, 'C'},
	    {"database", required_argument, NULL, 'd'},
	    {"dead-letter", required_argument, NULL, 'D'},
	    {"metrics", required_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {"max-inflight", required_argument, NULL, 'j'},
	    {"linger-ms", required_argument, NULL, 'l'},
	    {"log-time", no_argument, NULL, 'T'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"db-prefix", required_argument, NULL, 'p'},
	    {"password-file", required_argument, NULL, 'W'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"retry-time", required_argument, NULL, 'r'},
	    {"stats", required_argument, NULL, 's'},
	    {"server-version", required_argument, NULL, 'S'},
	    {"timeout", required_argument, NULL, 't'},
	    {"url", required_argument, NULL, 'u'},
	    {"user", required_argument, NULL, 'U'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"view-suffix", required_argument, NULL, 'w'},
	    {"apply-drops", no_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	struct load_opts *lo = &o->lo;
	int64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	lo->ack_fd = -1;
	lo->batch_rows = 100000;
	lo->batch_bytes = 8 << 20;
	lo->linger_ms = 200;
	lo->max_inflight = 4;
	lo->retry_ms = 60000;
	lo->timeout_ms = 300000;
	lo->stats_ms = 10000;
	lo->view_suffix = "_current";
	while ((c = getopt_long(argc, argv,
		    "a:A:b:B:C:d:D:G:hj:l:Lnp:P:qr:s:S:t:Tu:U:vVw:W:x", longopts,
		    NULL)) != -1) {
		switch (c) {
		case 'a':
		case 'A':
		case OPT_ACK:
		case OPT_ACK_FD:
			if (ack_option(o, c, optarg) == -1)
				return -1;
			break;
		case 'b':
			if (num("--batch-rows", optarg, 1, 1000000,
				&lo->batch_rows) == -1)
				return -1;
			break;
		case 'B':
			if (num("--batch-bytes", optarg, 1024, 1 << 30,
				&lo->batch_bytes) == -1)
				return -1;
			break;
		case 'C':
			lo->cluster = optarg;
			break;
		case 'd':
			lo->database = optarg;
			break;
		case 'D':
			lo->dead_letter = optarg;
			break;
		case 'G':
			lo->metrics = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'j':
			if (num("--max-inflight", optarg, 1, 64,
				&lo->max_inflight) == -1)
				return -1;
			break;
		case 'l':
			if (num("--linger-ms", optarg, 0, 3600000,
				&lo->linger_ms) == -1)
				return -1;
			break;
		case 'L':
			cdc_opt_deprecated("-L", "-T (--log-time)");
			cdc_opt_common('T');
			break;
		case 'n':
			lo->dry_run = 1;
			break;
		case 'p':
			lo->db_prefix = optarg;
			break;
		case 'P':
			cdc_opt_deprecated("-P", "-W (--password-file)");
			/* FALLTHROUGH */
		case 'W':
			o->password_file = optarg;
			break;
		case 'r':
			if (num("--retry-time", optarg, 0, 86400, &v) == -1)
				return -1;
			lo->retry_ms = v * 1000;
			break;
		case 's':
			if (num("--stats", optarg, 0, 86400, &v) == -1)
				return -1;
			lo->stats_ms = v * 1000;
			break;
		case 'S':
			lo->server_version = optarg;
			break;
		case 't':
			if (num("--timeout", optarg, 1, 86400, &v) == -1)
				return -1;
			lo->timeout_ms = v * 1000;
			break;
		case 'u':
			lo->url = optarg;
			break;
		case 'U':
			lo->user = optarg;
			break;
		case 'V':
			printf("chload %s (stream format %s, %s, jansson %s)\n",
			    CDC_VERSION, CDC_STREAM_FORMAT, ch_curl_version(),
			    JANSSON_VERSION);
			return 1;
		case 'w':
			lo->view_suffix = optarg;
			break;
		case 'x':
			lo->apply_drops = 1;
			break;
		default:
			if (cdc_opt_common(c))
				break;
			fprintf(stderr, "try 'chload --help'\n");
			return -1;
		}
	}
	if (optind < argc) {
		cdc_error("unexpected argument '%s'", argv[optind]);
		fprintf(stderr, "try 'chload --help'\n");
		return -1;
	}
	if (o->ack_path != NULL && lo->ack_fd >= 0) {
		cdc_error("cannot use --ack with --ack-fd");
		fprintf(stderr, "try 'chload --help'\n");
		return -1;
	}
	if (lo->view_suffix[0] == '\0') {
		cdc_error("invalid --view-suffix '': must not be empty");
		fprintf(stderr, "try 'chload --help'\n");
		return -1;
	}
	return 0;
}

/* Each URL of --url (a list only with --cluster: replicas of one shard). */
static int
check_urls(const struct load_opts *lo, char *err, size_t errlen)
{
	char *urls[16];
	size_t n = ch_split_urls(lo->url, urls, 16), i;
	int rc = 0;

	if (strchr(lo->url, ',') != NULL && lo->cluster == NULL)
		rc = cdc_err(err, errlen, "invalid ClickHouse URL '%s': a list "
		    "of replicas needs --cluster", lo->url);
	for (i = 0; i < n; i++) {
		if (rc == 0 && strncmp(urls[i], "http://", 7) != 0 &&
		    strncmp(urls[i], "https://", 8) != 0)
			rc = cdc_err(err, errlen, "invalid ClickHouse URL '%s': "
			    "must start with http:// or https://", urls[i]);
		free(urls[i]);
	}
	return rc;
}

static int
opts_finish(struct opts *o, char *err, size_t errlen)
{
	struct load_opts *lo = &o->lo;
	struct ch_caps caps;

	if (lo->url == NULL)
		lo->url = cdc_getenv("CDC_CLICKHOUSE_URL");
	if (lo->user == NULL)
		lo->user = cdc_getenv("CDC_CLICKHOUSE_USER");
	if (lo->cluster == NULL)
		lo->cluster = cdc_getenv("CDC_CLICKHOUSE_CLUSTER");
	if (lo->dead_letter == NULL)
		lo->dead_letter = cdc_getenv("CDC_CHLOAD_DEAD_LETTER");
	if (lo->metrics == NULL)
		lo->metrics = cdc_getenv("CDC_CHLOAD_METRICS");
	if (o->password_file != NULL) {
		o->password = cdc_read_secret(o->password_file, err, errlen);
		if (o->password == NULL)
			return -1;
	} else if (cdc_getenv("CDC_CLICKHOUSE_PASSWORD") != NULL) {
		o->password = cdc_xstrdup(cdc_getenv("CDC_CLICKHOUSE_PASSWORD"));
	}
	lo->password = o->password;
	if (lo->url == NULL && !lo->dry_run)
		return cdc_err(err, errlen, "no ClickHouse URL: use --url or "
		    "CDC_CLICKHOUSE_URL");
	if (lo->url != NULL && check_urls(lo, err, errlen) == -1)
		return -1;
	if (lo->server_version != NULL &&
	    ch_caps_from_version(&caps, lo->server_version) == -1)
		return cdc_err(err, errlen, "invalid --server-version '%s': "
		    "must look like 18.16 or 24.3", lo->server_version);
	if (o->ack_path != NULL) {
		lo->ack_fd = open(o->ack_path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0666);
		if (lo->ack_fd == -1)
			return cdc_err(err, errlen, "cannot open '%s': %s",
			    o->ack_path, strerror(errno));
	} else if (lo->ack_fd >= 0 && fcntl(lo->ack_fd, F_GETFD) == -1) {
		return cdc_err(err, errlen, "invalid --ack-fd %d: %s",
		    lo->ack_fd, strerror(errno));
	}
	return 0;
}

/* Reads frames as they come and feeds the loader, waiting on stdin and the
 * network together so that age-based flushes happen while input is quiet. */
static int
run(const struct load_opts *o)
{
	struct cdc_reader *r;
	struct cdc_frame f;
	struct loader *l;
	char err[CDC_ERRLEN];
	int rc, n, eof = 0, budget, fd, flags;

	l = loader_new(o);
	rc = loader_start(l);
	if (rc != 0 || cdc_stop) {
		loader_free(l);
		return rc;
	}
	flags = fcntl(STDIN_FILENO, F_GETFL);
	if (flags != -1)
		fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
	r = cdc_reader_new(STDIN_FILENO, "stdin");
	while (!cdc_stop && !eof) {
		/* A bounded burst, so uploads in flight keep moving. */
		loader_set_idle(l, 0);
		for (budget = 4096; budget > 0 && !loader_backpressure(l);
		     budget--) {
			n = cdc_reader_next(r, &f, err, sizeof(err));
			if (n == CDC_READ_AGAIN)
				break;
			if (n == 0) {
				eof = 1;
				break;
			}
			if (n == -1) {
				cdc_error("%s", err);
				rc = strstr(err, "cannot read") != NULL ?
				    EX_IOERR : EX_DATAERR;
				goto out;
			}
			rc = frame_apply(l, r, &f);
			if (rc != 0)
				goto out;
		}
		if (eof || cdc_stop)
			break;
		fd = -1;
		/* A pause in the input sends what is buffered at once (the
		 * linger bounds the wait under load); a pause is CDC_PAUSE_MS
		 * without input, so that a catch-up, which reads faster than
		 * it is fed, still fills its batches. */
		if (budget > 0 && !cdc_reader_pending(r) &&
		    !loader_backpressure(l))
			loader_set_idle(l, loader_wait_input(l, STDIN_FILENO,
					       CDC_PAUSE_MS) == 0);
		n = loader_next_due(l, 100);
		if (!loader_backpressure(l)) {
			if (cdc_reader_pending(r) || budget == 0)
				n = 0;
			else
				fd = STDIN_FILENO;
		}
		rc = loader_service(l, fd, n);
		if (rc != 0)
			goto out;
	}
	/* End of input, or a signal: what was read goes out first. */
	rc = loader_finish(l);
	if (rc == 0 && cdc_stop)
		cdc_info("stopped by signal; everything read is loaded");
out:
	if (rc != 0 && rc != EX_DATAERR && rc != EX_IOERR && rc != EX_USAGE)
		loader_stats(l, 1);
	cdc_reader_free(r);
	loader_free(l);
	if (flags != -1)
		fcntl(STDIN_FILENO, F_SETFL, flags);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	char err[CDC_ERRLEN];
	int rc;

	cdc_init(argv[0]);
	cdc_signals_install();
	rc = opts_parse(&o, argc, argv);
	if (rc != 0)
		return rc == 1 ? cdc_stdout_close(0) : EX_USAGE;
	if (opts_finish(&o, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		free(o.password);
		return EX_CONFIG;
	}
	if (!o.lo.dry_run && isatty(STDIN_FILENO)) {
		cdc_error("stdin is a terminal; feed chload a stream");
		free(o.password);
		return EX_USAGE;
	}
	rc = run(&o.lo);
	if (o.password != NULL)
		memset(o.password, 0, strlen(o.password));
	free(o.password);
	return cdc_stdout_close(rc);
}
