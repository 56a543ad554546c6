/* The options that the Kafka tools (avro2kafka, kafka2ch) share, with
 * their environment variables (docs/options.md): parsed here once, so that
 * the same letter means the same in both. */
#ifndef CDC_KAFKAOPT_H
#define CDC_KAFKAOPT_H

#include <stddef.h>
#include <stdint.h>

struct cdc_kafka_opts {
	const char *brokers;   /* -b, CDC_KAFKA_BROKERS */
	char **props;          /* -X key=value, in order (owned array) */
	size_t nprops;
	int list;              /* -X list */
	const char *prefix;    /* -p, CDC_TOPIC_PREFIX, "cdc" */
	const char *schema_topic_flag; /* -S */
	const char *ddl_topic_flag;    /* -D */
	const char *registry;  /* -U, CDC_SCHEMA_REGISTRY_URL */
	const char *ack_path;  /* -A */
	int ack_fd;            /* -a; -1: none */
	int64_t timeout_s;     /* -w, CDC_<TOOL>_TIMEOUT, 60 */
	const char *metrics;   /* -G, CDC_<TOOL>_METRICS */
	/* Owned, set by cdc_kafka_opts_finish(): -S or PREFIX.schemas, -D
	 * or PREFIX.ddl. */
	char *schema_topic;
	char *ddl_topic;
};

/* The shared options for getopt_long (<getopt.h>), and the common ones
 * of every tool (-q, -v, -T, -h, -V): a tool adds its own after them. */
#define CDC_KAFKA_SHORTOPTS "A:a:b:D:G:p:S:U:w:X:qvThV"
#define CDC_KAFKA_LONGOPTS                                                    \
	{"ack", required_argument, NULL, 'A'},                                \
	    {"ack-fd", required_argument, NULL, 'a'},                         \
	    {"brokers", required_argument, NULL, 'b'},                        \
	    {"ddl-topic", required_argument, NULL, 'D'},                      \
	    {"metrics", required_argument, NULL, 'G'},                        \
	    {"prefix", required_argument, NULL, 'p'},                         \
	    {"topic-prefix", required_argument, NULL, 'p'},                   \
	    {"schema-topic", required_argument, NULL, 'S'},                   \
	    {"schema-registry", required_argument, NULL, 'U'},                \
	    {"timeout", required_argument, NULL, 'w'},                        \
	    {"property", required_argument, NULL, 'X'},                       \
	    {"quiet", no_argument, NULL, 'q'},                                \
	    {"verbose", no_argument, NULL, 'v'},                              \
	    {"log-time", no_argument, NULL, 'T'},                             \
	    {"help", no_argument, NULL, 'h'},                                 \
	    {"version", no_argument, NULL, 'V'}

/* Defaults, with room for argc properties. */
void cdc_kafka_opts_init(struct cdc_kafka_opts *k, int argc);

/* Option c with argument arg: 1 when it is a shared one (taken), 0 when
 * it is the tool's, -1 for a bad value (said). */
int cdc_kafka_opt(struct cdc_kafka_opts *k, int c, const char *arg);

/* After the command line: refuses conflicting options, then fills what the
 * command line left from the environment; TOOL names the tool's own
 * variables (CDC_<TOOL>_TIMEOUT, CDC_<TOOL>_METRICS, and CDC_<TOOL>_PREFIX,
 * the deprecated name of CDC_TOPIC_PREFIX), then names the schema and DDL
 * topics. Returns 0, or EX_USAGE or
 * EX_CONFIG (said); a missing broker list is EX_CONFIG. */
int cdc_kafka_opts_finish(struct cdc_kafka_opts *k, const char *tool);

void cdc_kafka_opts_fini(struct cdc_kafka_opts *k);

#endif
