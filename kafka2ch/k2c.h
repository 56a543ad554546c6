/* kafka2ch's modules: the options main.c parses, the consumer loop of
 * consume.c and the schema topic reader of schemas.c. */
#ifndef K2C_H
#define K2C_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

struct k2c_opts {
	const char *brokers;
	const char *group;
	const char *prefix;
	char *schema_topic; /* owned */
	char *ddl_topic;    /* owned */
	char **topics;      /* names, or regexes starting with '^' */
	size_t ntopics;
	char *default_regex; /* owned; used when ntopics == 0 */
	const char *ack_path;
	int ack_fd; /* -1: none */
	char **props;
	size_t nprops;
	const char *offset_reset; /* earliest or latest */
	int exit_at_end;
	int unbuffered;
	int64_t mark_changes;
	int64_t mark_ms;
	int64_t timeout_s;        /* retry budget */
	int64_t schema_timeout_s; /* wait for an unknown schema */
};

/* Applies the -X properties and the settings every kafka2ch consumer
 * needs. Returns a configuration the caller owns, or NULL with err. */
rd_kafka_conf_t *k2c_conf(const struct k2c_opts *o, char *err,
    size_t errlen);

/* Rebuilds the stream on stdout from Kafka. Returns an exit code. */
int k2c_run(const struct k2c_opts *o);

struct k2c_schemas;

/* A reader of the schema topic with its own consumer (no group). Returns
 * NULL with err set when the consumer cannot be made. */
struct k2c_schemas *k2c_schemas_new(const struct k2c_opts *o, char *err,
    size_t errlen);
void k2c_schemas_free(struct k2c_schemas *s);
/* The schema JSON of fp (owned by s), reading the topic further for up to
 * wait_ms when it is not known yet. NULL when it does not turn up. */
const char *k2c_schemas_get(struct k2c_schemas *s, uint64_t fp, int wait_ms,
    size_t *len);

#endif
