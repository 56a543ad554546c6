#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "kafka.h"
#include "kafkaopt.h"
#include "log.h"
#include "mem.h"
#include "opt.h"
#include "registry.h"

void
cdc_kafka_opts_init(struct cdc_kafka_opts *k, int argc)
{
	memset(k, 0, sizeof(*k));
	k->ack_fd = -1;
	k->timeout_s = -1;
	k->props = cdc_xcalloc((size_t)argc + 1, sizeof(*k->props));
}

int
cdc_kafka_opt(struct cdc_kafka_opts *k, int c, const char *arg)
{
	int64_t v;

	switch (c) {
	case 'A':
		k->ack_path = arg;
		return 1;
	case 'a':
		if (cdc_opt_int("--ack-fd", arg, 0, 1 << 20, &v) == -1)
			return -1;
		k->ack_fd = (int)v;
		return 1;
	case 'b':
		k->brokers = arg;
		return 1;
	case 'D':
		k->ddl_topic_flag = arg;
		return 1;
	case 'G':
		k->metrics = arg;
		return 1;
	case 'p':
		k->prefix = arg;
		return 1;
	case 'S':
		k->schema_topic_flag = arg;
		return 1;
	case 'U':
		k->registry = arg;
		return 1;
	case 'w':
		return cdc_opt_int("--timeout", arg, 1, 86400, &k->timeout_s) ==
			-1 ?
		    -1 :
		    1;
	case 'X':
		if (strcmp(arg, "list") == 0)
			k->list = 1;
		else
			k->props[k->nprops++] = (char *)arg;
		return 1;
	default:
		return 0;
	}
}

int
cdc_kafka_opts_finish(struct cdc_kafka_opts *k, const char *tool)
{
	char name[64], old[64], err[CDC_ERRLEN];
	const char *env;

	if (k->ack_path != NULL && k->ack_fd != -1) {
		cdc_error("cannot use --ack with --ack-fd");
		return EX_USAGE;
	}
	k->brokers = cdc_kafka_brokers(k->brokers);
	k->registry = cdc_registry_url(k->registry);
	if (k->prefix == NULL) {
		snprintf(old, sizeof(old), "CDC_%s_PREFIX", tool);
		k->prefix = cdc_getenv_renamed("CDC_TOPIC_PREFIX", old);
	}
	if (k->prefix == NULL)
		k->prefix = "cdc";
	if (k->metrics == NULL) {
		snprintf(name, sizeof(name), "CDC_%s_METRICS", tool);
		k->metrics = cdc_getenv(name);
	}
	if (k->timeout_s == -1) {
		k->timeout_s = 60;
		snprintf(name, sizeof(name), "CDC_%s_TIMEOUT", tool);
		env = cdc_getenv(name);
		if (env != NULL && cdc_parse_int(name, env, 1, 86400,
				       &k->timeout_s, err, sizeof(err)) == -1) {
			cdc_error("%s", err);
			return EX_CONFIG;
		}
	}
	if (k->brokers == NULL) {
		cdc_error("no brokers: use --brokers or CDC_KAFKA_BROKERS");
		return EX_CONFIG;
	}
	k->schema_topic = cdc_kafka_topic(k->schema_topic_flag, k->prefix,
	    "schemas");
	k->ddl_topic = cdc_kafka_topic(k->ddl_topic_flag, k->prefix, "ddl");
	return 0;
}

void
cdc_kafka_opts_fini(struct cdc_kafka_opts *k)
{
	free(k->props);
	free(k->schema_topic);
	free(k->ddl_topic);
	k->props = NULL;
	k->schema_topic = k->ddl_topic = NULL;
}
