/* avro2kafka: a change stream (docs/stream.md) on stdin into Kafka, one
 * record per change, exactly once with --transactional-id. docs/kafka.md
 * describes the design; avro2kafka.1 the interface. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a2k.h"
#include "kafka.h"
#include "log.h"
#include "opt.h"
#include "registry.h"
#include "stream.h"
#include "sys.h"
#include "version.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: avro2kafka [options] < stream\n"
	    "       avro2kafka --resume-position -t ID [options]\n"
	    "Writes a change stream on stdin to Kafka, one record per change.\n"
	    "  -b, --brokers LIST          bootstrap brokers "
	    "(CDC_KAFKA_BROKERS)\n"
	    "  -X, --property KEY=VALUE    librdkafka property; -X list "
	    "lists them\n"
	    "  -t, --transactional-id ID   exactly-once with Kafka "
	    "transactions\n"
	    "  -R, --resume-position       print the last committed position "
	    "of ID\n"
	    "  -p, --topic-prefix PREFIX   topic prefix (CDC_TOPIC_PREFIX, cdc);\n"
	    "                              changes outside it are refused\n"
	    "  -S, --schema-topic TOPIC    schema topic (PREFIX.schemas)\n"
	    "  -U, --schema-registry URL   Confluent wire format, schemas in "
	    "this registry\n"
	    "                              (CDC_SCHEMA_REGISTRY_URL)\n"
	    "  -O, --offsets-topic TOPIC   position topic (PREFIX.offsets)\n"
	    "  -D, --ddl-topic TOPIC       DDL statement topic (PREFIX.ddl)\n"
	    "  -P, --partitions N          create missing change topics with "
	    "N partitions\n"
	    "  -r, --replication-factor N  for topics it creates "
	    "(min(3, brokers))\n"
	    "  -n, --no-tombstones         drop changes with a null value\n"
	    "  -C, --compression CODEC     lz4 (default), zstd, gzip, snappy, "
	    "none\n"
	    "  -l, --linger MS             batching delay (5; 100 with -t)\n"
	    "  -Q, --queue-kbytes N        producer queue bound (2048)\n"
	    "  -I, --txn-interval MS       under load, commit transactions "
	    "this often (1000;\n"
	    "                              an idle input commits at once)\n"
	    "  -M, --txn-max-changes N     or after this many changes "
	    "(100000)\n"
	    "  -w, --timeout SECONDS       retry budget for Kafka (60)\n"
	    "  -a, --ack-fd N              acknowledge durable commit marks "
	    "upstream on fd N\n"
	    "  -A, --ack PATH              the same on a fifo\n"
	    "  -G, --metrics FILE          Prometheus metrics to FILE every "
	    "5 s\n"
	    "                              (CDC_AVRO2KAFKA_METRICS)\n"
	    "  -q, --quiet  -v, --verbose  -T, --log-time\n"
	    "  -h, --help   -V, --version\n"
	    "Exit status: 0 done or stopped by a signal, 64 usage, 65 corrupt "
	    "stream or\n"
	    "a schema the registry refuses, 69 Kafka or the registry "
	    "unavailable, 74 read\n"
	    "error, 75 stopped with work in flight, 78 bad environment or "
	    "property.\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    CDC_KAFKA_LONGOPTS,
	    {"compression", required_argument, NULL, 'C'},
	    {"txn-interval", required_argument, NULL, 'I'},
	    {"linger", required_argument, NULL, 'l'},
	    {"txn-max-changes", required_argument, NULL, 'M'},
	    {"no-tombstones", no_argument, NULL, 'n'},
	    {"offsets-topic", required_argument, NULL, 'O'},
	    {"partitions", required_argument, NULL, 'P'},
	    {"queue-kbytes", required_argument, NULL, 'Q'},
	    {"resume-position", no_argument, NULL, 'R'},
	    {"replication-factor", required_argument, NULL, 'r'},
	    {"transactional-id", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct a2k_opts o;
	const char *offsets_flag = NULL;
	rd_kafka_conf_t *conf;
	char err[CDC_ERRLEN];
	int c, rc;

	cdc_init(argv[0]);
	cdc_signals_install();
	/* librdkafka allocates each message and 256 KiB batch buffers:
	 * system time 0.18 -> 0.10 s on 1.2 M records. */
	cdc_heap_keep();
	memset(&o, 0, sizeof(o));
	cdc_kafka_opts_init(&o.k, argc);
	o.compression = "lz4";
	o.txn_ms = 1000;
	o.txn_changes = 100000;
	o.linger_ms = -1; /* by -t, below */
	o.queue_kb = 2048;
	o.replication = -1;
	o.tombstones = 1;
	while ((c = getopt_long(argc, argv,
		    CDC_KAFKA_SHORTOPTS "C:I:l:M:nO:P:Q:Rr:t:", longopts,
		    NULL)) != -1) {
		rc = cdc_kafka_opt(&o.k, c, optarg);
		if (rc == -1)
			goto usage;
		if (rc == 1 || cdc_opt_common(c))
			continue;
		switch (c) {
		case 'C':
			o.compression = optarg;
			break;
		case 'h':
			cdc_kafka_opts_fini(&o.k);
			usage(stdout);
			return cdc_stdout_close(0);
		case 'I':
			if (cdc_opt_int("--txn-interval", optarg, 1, 3600000,
				&o.txn_ms) == -1)
				goto usage;
			break;
		case 'l':
			if (cdc_opt_int("--linger", optarg, 0, 60000, &o.linger_ms) ==
			    -1)
				goto usage;
			break;
		case 'M':
			if (cdc_opt_int("--txn-max-changes", optarg, 1, 100000000,
				&o.txn_changes) == -1)
				goto usage;
			break;
		case 'n':
			o.tombstones = 0;
			break;
		case 'O':
			offsets_flag = optarg;
			break;
		case 'P':
			if (cdc_opt_int("--partitions", optarg, 1, 100000,
				&o.partitions) == -1)
				goto usage;
			break;
		case 'Q':
			if (cdc_opt_int("--queue-kbytes", optarg, 1024, 2097151,
				&o.queue_kb) == -1)
				goto usage;
			break;
		case 'R':
			o.resume = 1;
			break;
		case 'r':
			if (cdc_opt_int("--replication-factor", optarg, 1, 100,
				&o.replication) == -1)
				goto usage;
			break;
		case 't':
			o.txn_id = optarg;
			break;
		case 'V':
			printf("avro2kafka %s (stream format %s, %s)\n",
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
	if (optind < argc) {
		cdc_error("unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (o.resume && (o.k.ack_path != NULL || o.k.ack_fd != -1)) {
		cdc_error("cannot use --resume-position with --ack");
		goto usage;
	}
	if (o.k.registry != NULL && o.k.schema_topic_flag != NULL) {
		cdc_error("cannot use --schema-registry with --schema-topic");
		goto usage;
	}
	rc = cdc_kafka_opts_finish(&o.k, "AVRO2KAFKA");
	if (rc == EX_USAGE)
		goto usage;
	if (rc != 0)
		goto out;
	if (o.txn_id == NULL)
		o.txn_id = cdc_getenv("CDC_AVRO2KAFKA_TRANSACTIONAL_ID");
	/* After the environment, which may name the transactional id. */
	if (o.resume && o.txn_id == NULL) {
		cdc_error("--resume-position needs --transactional-id or "
			  "CDC_AVRO2KAFKA_TRANSACTIONAL_ID");
		goto usage;
	}
	/* A transaction's commit sends every batch at once, whatever its
	 * linger: with -t a long linger costs no freshness and makes fewer,
	 * larger requests under load (docs/kafka.md, avro2kafka). */
	if (o.linger_ms < 0)
		o.linger_ms = o.txn_id != NULL ? 100 : 5;
	o.offsets_topic = cdc_kafka_topic(offsets_flag, o.k.prefix, "offsets");

	/* Check the properties once before touching the network. */
	conf = a2k_conf(&o, err, sizeof(err));
	if (conf == NULL) {
		cdc_error("%s", err);
		rc = EX_CONFIG;
		goto out;
	}
	rd_kafka_conf_destroy(conf);
	rc = o.resume ? a2k_resume_position(&o) : a2k_run(&o);
out:
	free(o.offsets_topic);
	cdc_kafka_opts_fini(&o.k);
	return cdc_stdout_close(rc);
usage:
	cdc_kafka_opts_fini(&o.k);
	fprintf(stderr, "try 'avro2kafka --help'\n");
	return EX_USAGE;
}
