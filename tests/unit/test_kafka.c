/* common/kafka.c without a broker: -X parsing and kafka: positions. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kafka.h"
#include "log.h"

/* The cdc.vp header: version, a space, position. */
static void
vp_cases(void)
{
	struct cdc_buf b;
	const char *pos = "binlog:mysql-bin.000001:4;gtid=0-1-2";
	const void *p;
	size_t n;
	int64_t v;

	cdc_buf_init(&b);
	cdc_kafka_vp_format(&b, 42, pos, strlen(pos));
	CHECK("vp format",
	    b.len == 3 + strlen(pos) && memcmp(b.p, "42 binlog:", 10) == 0);
	CHECK("vp parse",
	    cdc_kafka_vp_parse(b.p, b.len, &v, &p, &n) == 0 && v == 42 &&
		n == strlen(pos) && memcmp(p, pos, n) == 0);
	cdc_kafka_vp_format(&b, INT64_MIN, "x", 1);
	CHECK("vp INT64_MIN",
	    cdc_kafka_vp_parse(b.p, b.len, &v, &p, &n) == 0 &&
		v == INT64_MIN && n == 1);
	cdc_kafka_vp_format(&b, INT64_MAX, "", 0);
	CHECK("vp INT64_MAX, empty position",
	    b.len == 20 && cdc_kafka_vp_parse(b.p, b.len, &v, &p, &n) == 0 &&
		v == INT64_MAX && n == 0);
	cdc_kafka_vp_format(&b, 0, "p", 1);
	CHECK("vp zero", b.len == 3 && memcmp(b.p, "0 p", 3) == 0);
	CHECK("vp no space", cdc_kafka_vp_parse("12", 2, &v, &p, &n) == -1);
	CHECK("vp not a number",
	    cdc_kafka_vp_parse("1x2 p", 5, &v, &p, &n) == -1);
	CHECK("vp empty number",
	    cdc_kafka_vp_parse(" p", 2, &v, &p, &n) == -1);
	CHECK("vp overflow", cdc_kafka_vp_parse("9223372036854775808 p", 21,
				 &v, &p, &n) == -1);
	CHECK("vp null", cdc_kafka_vp_parse(NULL, 0, &v, &p, &n) == -1);
	CHECK("i64 negative",
	    cdc_kafka_parse_i64("-17", 3, &v) == 0 && v == -17);
	CHECK("i64 lone minus", cdc_kafka_parse_i64("-", 1, &v) == -1);
	cdc_buf_fini(&b);
}

int
main(void)
{
	rd_kafka_conf_t *conf;
	rd_kafka_topic_partition_list_t *l;
	struct cdc_buf b;
	char err[CDC_ERRLEN], val[64];
	size_t n = sizeof(val);
	const char *pos = "kafka:cdc.db.t1/0@17,cdc.db.t1/2@0,cdc.ddl/0@5";

	check_file = "test_kafka";
	cdc_verbosity = CDC_LOG_ERROR;
	conf = cdc_kafka_conf_new("127.0.0.1:1", err, sizeof(err));
	CHECK("conf", conf != NULL);
	CHECK("-X key=value",
	    cdc_kafka_set_kv(conf, "linger.ms=7", err, sizeof(err)) == 0);
	CHECK("-X value applied",
	    rd_kafka_conf_get(conf, "linger.ms", val, &n) == RD_KAFKA_CONF_OK &&
		strcmp(val, "7") == 0);
	CHECK("-X without =",
	    cdc_kafka_set_kv(conf, "linger.ms", err, sizeof(err)) == -1 &&
		strstr(err, "must be key=value") != NULL);
	CHECK("-X unknown",
	    cdc_kafka_set_kv(conf, "no.such=1", err, sizeof(err)) == -1 &&
		strstr(err, "no.such") != NULL);
	rd_kafka_conf_destroy(conf);

	l = cdc_kafka_position_parse(pos, strlen(pos), err, sizeof(err));
	CHECK("position parses", l != NULL && l->cnt == 3);
	CHECK("position entries", l != NULL &&
	    strcmp(l->elems[0].topic, "cdc.db.t1") == 0 &&
	    l->elems[0].partition == 0 && l->elems[0].offset == 17 &&
	    l->elems[1].partition == 2 && l->elems[1].offset == 0 &&
	    strcmp(l->elems[2].topic, "cdc.ddl") == 0 &&
	    l->elems[2].offset == 5);
	cdc_buf_init(&b);
	if (l != NULL)
		cdc_kafka_position_format(&b, l);
	CHECK("position round trip",
	    b.len == strlen(pos) && memcmp(b.p, pos, b.len) == 0);
	cdc_buf_fini(&b);
	rd_kafka_topic_partition_list_destroy(l);
	l = cdc_kafka_position_parse("kafka:", 6, err, sizeof(err));
	CHECK("empty position", l != NULL && l->cnt == 0);
	rd_kafka_topic_partition_list_destroy(l);
	CHECK("not kafka",
	    cdc_kafka_position_parse("binlog:x:4", 10, err, sizeof(err)) ==
		NULL);
	CHECK("no offset",
	    cdc_kafka_position_parse("kafka:t/0@", 10, err, sizeof(err)) ==
		NULL);
	CHECK("bad partition",
	    cdc_kafka_position_parse("kafka:t/x@1", 11, err, sizeof(err)) ==
		NULL);
	CHECK("no partition",
	    cdc_kafka_position_parse("kafka:t@1", 9, err, sizeof(err)) ==
		NULL);
	vp_cases();
	return check_done();
}
