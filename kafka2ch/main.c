/* kafka2ch: the change topics of Kafka back into a change stream
 * (docs/stream.md) on stdout, committing consumed offsets only once the
 * downstream stage acknowledges them. docs/kafka.md describes the design;
 * kafka2ch.1 the interface. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k2c.h"
#include "kafka.h"
#include "log.h"
#include "mem.h"
#include "opt.h"
#include "registry.h"
#include "stream.h"
#include "sys.h"
#include "version.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: kafka2ch -g GROUP [options] [TOPIC|^REGEX ...] > stream\n"
	    "Writes the change topics of Kafka to stdout as a change stream.\n"
	    "  -b, --brokers LIST          bootstrap brokers "
	    "(CDC_KAFKA_BROKERS)\n"
	    "  -g, --group ID              consumer group "
	    "(CDC_KAFKA2CH_GROUP)\n"
	    "  -X, --property KEY=VALUE    librdkafka property; -X list "
	    "lists them\n"
	    "  -p, --topic-prefix PREFIX   topic prefix (CDC_TOPIC_PREFIX, cdc):\n"
	    "                              default topics\n"
	    "                              ^PREFIX.DB.TABLE and PREFIX.ddl\n"
	    "  -S, --schema-topic TOPIC    schema topic (PREFIX.schemas)\n"
	    "  -D, --ddl-topic TOPIC       DDL statement topic (PREFIX.ddl)\n"
	    "  -U, --schema-registry URL   also read the Confluent wire "
	    "format\n"
	    "                              (CDC_SCHEMA_REGISTRY_URL)\n"
	    "  -B, --from-beginning        a new group starts at the "
	    "beginning (default)\n"
	    "  -E, --from-end              a new group starts at the end\n"
	    "  -e, --exit-at-end           stop at the end offsets of the "
	    "start\n"
	    "  -a, --ack-fd N              read acknowledgements on fd N\n"
	    "  -A, --ack PATH              read acknowledgements from a "
	    "fifo\n"
	    "  -m, --mark-changes N        a commit mark after N changes "
	    "(10000)\n"
	    "  -i, --mark-interval MS      or after MS milliseconds (1000)\n"
	    "  -s, --schema-timeout SECS   wait for an unknown schema (30)\n"
	    "  -w, --timeout SECONDS       retry budget for Kafka and "
	    "acknowledgements (60)\n"
	    "  -u, --unbuffered            write every frame at once\n"
	    "  -G, --metrics FILE          Prometheus metrics to FILE every "
	    "5 s\n"
	    "                              (CDC_KAFKA2CH_METRICS)\n"
	    "  -q, --quiet  -v, --verbose  -T, --log-time\n"
	    "  -h, --help   -V, --version\n"
	    "Exit status: 0 done or stopped by a signal, 64 usage, 65 "
	    "undecodable record\n"
	    "or acknowledgement, 69 Kafka or the registry unavailable, 74 write "
	    "error, 75 "
	    "stopped with\n"
	    "changes not acknowledged, 78 bad environment or property, 141 "
	    "stdout closed.\n");
}

static void
regex_quote(struct cdc_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr(".[]()*+?{}|^$\\", *s) != NULL)
			cdc_buf_putc(b, '\\');
		cdc_buf_putc(b, *s);
	}
}

/* ^(PREFIX\.[^.]+\..+|DDLTOPIC)$, quoted: the change topics PREFIX.DB.TABLE
 * and the DDL topic, never the schema or offsets topics. */
static char *
default_regex(const char *prefix, const char *ddl)
{
	struct cdc_buf b;

	cdc_buf_init(&b);
	cdc_buf_puts(&b, "^(");
	regex_quote(&b, prefix);
	cdc_buf_puts(&b, "\\.[^.]+\\..+|");
	regex_quote(&b, ddl);
	cdc_buf_puts(&b, ")$");
	cdc_buf_putc(&b, '\0');
	return (char *)b.p;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"ack", required_argument, NULL, 'A'},
	    {"ack-fd", required_argument, NULL, 'a'},
	    {"from-beginning", no_argument, NULL, 'B'},
	    {"brokers", required_argument, NULL, 'b'},
	    {"ddl-topic", required_argument, NULL, 'D'},
	    {"from-end", no_argument, NULL, 'E'},
	    {"exit-at-end", no_argument, NULL, 'e'},
	    {"group", required_argument, NULL, 'g'},
	    {"metrics", required_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {"mark-interval", required_argument, NULL, 'i'},
	    {"mark-changes", required_argument, NULL, 'm'},
	    {"prefix", required_argument, NULL, 'p'},
	    {"topic-prefix", required_argument, NULL, 'p'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"schema-topic", required_argument, NULL, 'S'},
	    {"schema-timeout", required_argument, NULL, 's'},
	    {"log-time", no_argument, NULL, 'T'},
	    {"schema-registry", required_argument, NULL, 'U'},
	    {"unbuffered", no_argument, NULL, 'u'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"timeout", required_argument, NULL, 'w'},
	    {"property", required_argument, NULL, 'X'},
	    {NULL, 0, NULL, 0},
	};
	struct k2c_opts o;
	const char *schema_flag = NULL, *ddl_flag = NULL, *env;
	char err[CDC_ERRLEN];
	int c, rc, list = 0, from_b = 0, from_e = 0;
	int64_t v;

	cdc_init(argv[0]);
	cdc_signals_install();
	memset(&o, 0, sizeof(o));
	o.ack_fd = -1;
	o.mark_changes = 10000;
	o.mark_ms = 1000;
	o.timeout_s = -1;
	o.schema_timeout_s = 30;
	o.offset_reset = "earliest";
	o.props = cdc_xcalloc((size_t)argc, sizeof(*o.props));
	while ((c = getopt_long(argc, argv,
		    "A:a:Bb:D:Eeg:G:hi:m:p:qS:s:TU:uvVw:X:", longopts,
		    NULL)) != -1) {
		switch (c) {
		case 'A':
			o.ack_path = optarg;
			break;
		case 'a':
			if (cdc_opt_int("--ack-fd", optarg, 0, 1 << 20, &v) == -1)
				goto usage;
			o.ack_fd = (int)v;
			break;
		case 'B':
			from_b = 1;
			break;
		case 'b':
			o.brokers = optarg;
			break;
		case 'D':
			ddl_flag = optarg;
			break;
		case 'E':
			from_e = 1;
			break;
		case 'e':
			o.exit_at_end = 1;
			break;
		case 'g':
			o.group = optarg;
			break;
		case 'G':
			o.metrics = optarg;
			break;
		case 'h':
			free(o.props);
			usage(stdout);
			return cdc_stdout_close(0);
		case 'i':
			if (cdc_opt_int("--mark-interval", optarg, 1, 3600000,
				&o.mark_ms) == -1)
				goto usage;
			break;
		case 'm':
			if (cdc_opt_int("--mark-changes", optarg, 1, 100000000,
				&o.mark_changes) == -1)
				goto usage;
			break;
		case 'p':
			o.prefix = optarg;
			break;
		case 'S':
			schema_flag = optarg;
			break;
		case 's':
			if (cdc_opt_int("--schema-timeout", optarg, 0, 86400,
				&o.schema_timeout_s) == -1)
				goto usage;
			break;
		case 'U':
			o.registry = optarg;
			break;
		case 'u':
			o.unbuffered = 1;
			break;
		case 'V':
			printf("kafka2ch %s (stream format %s, %s)\n",
			    CDC_VERSION, CDC_STREAM_FORMAT,
			    cdc_kafka_version());
			free(o.props);
			return cdc_stdout_close(0);
		case 'w':
			if (cdc_opt_int("--timeout", optarg, 1, 86400, &o.timeout_s) ==
			    -1)
				goto usage;
			break;
		case 'X':
			if (strcmp(optarg, "list") == 0)
				list = 1;
			else
				o.props[o.nprops++] = optarg;
			break;
		default:
			if (cdc_opt_common(c))
				break;
			goto usage;
		}
	}
	if (list) {
		free(o.props);
		cdc_kafka_conf_list();
		return cdc_stdout_close(0);
	}
	o.topics = argv + optind;
	o.ntopics = (size_t)(argc - optind);
	if (from_b && from_e) {
		cdc_error("cannot use --from-beginning with --from-end");
		goto usage;
	}
	if (o.ack_path != NULL && o.ack_fd != -1) {
		cdc_error("cannot use --ack with --ack-fd");
		goto usage;
	}
	if (from_e)
		o.offset_reset = "latest";

	/* Environment. */
	o.brokers = cdc_kafka_brokers(o.brokers);
	o.registry = cdc_registry_url(o.registry);
	if (o.group == NULL)
		o.group = cdc_getenv("CDC_KAFKA2CH_GROUP");
	if (o.prefix == NULL)
		o.prefix = cdc_getenv_renamed("CDC_TOPIC_PREFIX",
		    "CDC_KAFKA2CH_PREFIX");
	if (o.metrics == NULL)
		o.metrics = cdc_getenv("CDC_KAFKA2CH_METRICS");
	if (o.prefix == NULL)
		o.prefix = "cdc";
	if (o.timeout_s == -1) {
		o.timeout_s = 60;
		env = cdc_getenv("CDC_KAFKA2CH_TIMEOUT");
		if (env != NULL &&
		    cdc_parse_int("CDC_KAFKA2CH_TIMEOUT", env, 1, 86400,
			&o.timeout_s, err, sizeof(err)) == -1) {
			cdc_error("%s", err);
			rc = EX_CONFIG;
			goto out;
		}
	}
	if (o.group == NULL) {
		cdc_error("no consumer group: use --group or "
			  "CDC_KAFKA2CH_GROUP");
		goto usage;
	}
	if (o.brokers == NULL) {
		cdc_error("no brokers: use --brokers or CDC_KAFKA_BROKERS");
		rc = EX_CONFIG;
		goto out;
	}
	if (isatty(STDOUT_FILENO)) {
		cdc_error("refusing to write a binary stream to a terminal");
		goto usage;
	}
	o.schema_topic = cdc_kafka_topic(schema_flag, o.prefix, "schemas");
	o.ddl_topic = cdc_kafka_topic(ddl_flag, o.prefix, "ddl");
	o.default_regex = default_regex(o.prefix, o.ddl_topic);
	{
		rd_kafka_conf_t *conf = k2c_conf(&o, err, sizeof(err));

		if (conf == NULL) {
			cdc_error("%s", err);
			rc = EX_CONFIG;
			goto out;
		}
		rd_kafka_conf_destroy(conf);
	}
	rc = k2c_run(&o);
out:
	free(o.schema_topic);
	free(o.ddl_topic);
	free(o.default_regex);
	free(o.props);
	return cdc_stdout_close(rc);
usage:
	free(o.props);
	fprintf(stderr, "try 'kafka2ch --help'\n");
	return EX_USAGE;
}
