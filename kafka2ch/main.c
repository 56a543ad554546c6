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
	    CDC_KAFKA_LONGOPTS,
	    {"from-beginning", no_argument, NULL, 'B'},
	    {"from-end", no_argument, NULL, 'E'},
	    {"exit-at-end", no_argument, NULL, 'e'},
	    {"group", required_argument, NULL, 'g'},
	    {"mark-interval", required_argument, NULL, 'i'},
	    {"mark-changes", required_argument, NULL, 'm'},
	    {"schema-timeout", required_argument, NULL, 's'},
	    {"unbuffered", no_argument, NULL, 'u'},
	    {NULL, 0, NULL, 0},
	};
	struct k2c_opts o;
	rd_kafka_conf_t *conf;
	char err[CDC_ERRLEN];
	int c, rc, from_b = 0, from_e = 0, hung = 0;

	cdc_init(argv[0]);
	cdc_signals_install();
	memset(&o, 0, sizeof(o));
	cdc_kafka_opts_init(&o.k, argc);
	o.mark_changes = 10000;
	o.mark_ms = 1000;
	o.schema_timeout_s = 30;
	o.offset_reset = "earliest";
	while ((c = getopt_long(argc, argv,
		    CDC_KAFKA_SHORTOPTS "BEeg:i:m:s:u", longopts,
		    NULL)) != -1) {
		rc = cdc_kafka_opt(&o.k, c, optarg);
		if (rc == -1)
			goto usage;
		if (rc == 1 || cdc_opt_common(c))
			continue;
		switch (c) {
		case 'B':
			from_b = 1;
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
		case 'h':
			cdc_kafka_opts_fini(&o.k);
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
		case 's':
			if (cdc_opt_int("--schema-timeout", optarg, 0, 86400,
				&o.schema_timeout_s) == -1)
				goto usage;
			break;
		case 'u':
			o.unbuffered = 1;
			break;
		case 'V':
			printf("kafka2ch %s (stream format %s, %s)\n",
			    CDC_VERSION, CDC_STREAM_FORMAT,
			    cdc_kafka_version());
			cdc_kafka_opts_fini(&o.k);
			return cdc_stdout_close(0);
		default:
			goto usage;
		}
	}
	if (o.k.list) {
		cdc_kafka_opts_fini(&o.k);
		cdc_kafka_conf_list();
		return cdc_stdout_close(0);
	}
	o.topics = argv + optind;
	o.ntopics = (size_t)(argc - optind);
	if (from_b && from_e) {
		cdc_error("cannot use --from-beginning with --from-end");
		goto usage;
	}
	if (from_e)
		o.offset_reset = "latest";
	if (o.group == NULL)
		o.group = cdc_getenv("CDC_KAFKA2CH_GROUP");
	if (o.group == NULL) {
		cdc_error("no consumer group: use --group or "
			  "CDC_KAFKA2CH_GROUP");
		goto usage;
	}
	rc = cdc_kafka_opts_finish(&o.k, "KAFKA2CH");
	if (rc == EX_USAGE)
		goto usage;
	if (rc != 0)
		goto out;
	if (isatty(STDOUT_FILENO)) {
		cdc_error("refusing to write a binary stream to a terminal");
		goto usage;
	}
	o.default_regex = default_regex(o.k.prefix, o.k.ddl_topic);
	conf = k2c_conf(&o, err, sizeof(err));
	if (conf == NULL) {
		cdc_error("%s", err);
		rc = EX_CONFIG;
		goto out;
	}
	rd_kafka_conf_destroy(conf);
	rc = k2c_run(&o, &hung);
	/* Not exit(): librdkafka's threads still run, and atexit handlers
	 * (OpenSSL's) would pull their state away. On a stop, stdout is
	 * /dev/null since the drain, and the output was flushed there. */
	if (hung)
		_exit(rc);
out:
	free(o.default_regex);
	cdc_kafka_opts_fini(&o.k);
	return cdc_stdout_close(rc);
usage:
	cdc_kafka_opts_fini(&o.k);
	fprintf(stderr, "try 'kafka2ch --help'\n");
	return EX_USAGE;
}
