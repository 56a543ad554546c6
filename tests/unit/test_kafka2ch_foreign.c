/* kafka2ch/foreign.c without a broker or registry: the cdc.* attributes a
 * Debezium envelope of another producer gets, and versions from offsets. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fingerprint.h"
#include "k2c.h"

#define VALUE                                                                 \
	"{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"dbz.shop.t\","\
	"\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"                      \
	"{\"name\":\"id\",\"type\":\"long\"},"                                \
	"{\"name\":\"b\",\"type\":[\"null\",\"string\"],\"default\":null}]}"

#define ENVELOPE(name)                                                        \
	"{\"type\":\"record\",\"name\":\"" name "\",\"fields\":["            \
	"{\"name\":\"before\",\"type\":[\"null\"," VALUE "]},"                \
	"{\"name\":\"after\",\"type\":[\"null\",\"dbz.shop.t.Value\"]},"      \
	"{\"name\":\"op\",\"type\":\"string\"}],"                             \
	"\"connect.name\":\"dbz.shop.t.Envelope\"}"

#define KEY                                                                   \
	"{\"type\":\"record\",\"name\":\"Key\",\"namespace\":\"dbz.shop.t\","  \
	"\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"

static int
has(const char *s, const char *what)
{
	return s != NULL && strstr(s, what) != NULL;
}

int
main(void)
{
	const char *env = ENVELOPE("dbz.shop.t.Envelope");
	char err[256], *out = NULL;
	uint64_t fp1, fp2;
	int rc;

	check_file = "test_kafka2ch_foreign";
	rc = k2c_foreign_schema(env, strlen(env), KEY, strlen(KEY), &out, err,
	    sizeof(err));
	CHECK("a foreign envelope is rewritten", rc == 1 && out != NULL);
	CHECK("db and table from its name",
	    has(out, "\"cdc.database\":\"shop\"") &&
		has(out, "\"cdc.table\":\"t\""));
	CHECK("cdc.name on the columns", has(out, "\"cdc.name\":\"b\""));
	CHECK("the key column has cdc.key 1", has(out, "\"cdc.key\":1"));
	CHECK("only the key column", !has(out, "\"cdc.key\":2"));
	CHECK("the fingerprint stays",
	    cdc_schema_fingerprint(env, strlen(env), &fp1, NULL, 0) == 0 &&
		cdc_schema_fingerprint(out, strlen(out), &fp2, NULL, 0) == 0 &&
		fp1 == fp2);
	free(out);

	rc = k2c_foreign_schema(env, strlen(env), NULL, 0, &out, err,
	    sizeof(err));
	CHECK("no key: no cdc.key", rc == 1 && !has(out, "cdc.key"));
	free(out);

	env = ENVELOPE("Envelope");
	rc = k2c_foreign_schema(env, strlen(env), KEY, strlen(KEY), &out, err,
	    sizeof(err));
	CHECK("a name without <prefix>.<db>.<table> is refused",
	    rc == -1 && out == NULL && has(err, "Envelope"));

	rc = k2c_foreign_schema(KEY, strlen(KEY), NULL, 0, &out, err,
	    sizeof(err));
	CHECK("a key schema needs nothing", rc == 0 && out == NULL);
	env = "{\"type\":\"record\",\"name\":\"Envelope\","
	      "\"cdc.database\":\"d\",\"cdc.table\":\"t\",\"fields\":["
	      "{\"name\":\"after\",\"type\":\"int\"}]}";
	rc = k2c_foreign_schema(env, strlen(env), NULL, 0, &out, err,
	    sizeof(err));
	CHECK("one of ours needs nothing", rc == 0 && out == NULL);

	CHECK("versions start above 0", k2c_foreign_version(0, 0) > 0);
	CHECK("versions grow along a partition",
	    k2c_foreign_version(3, 7) < k2c_foreign_version(3, 8));
	CHECK("partitions do not share versions",
	    k2c_foreign_version(0, 5) != k2c_foreign_version(1, 5) &&
		k2c_foreign_version(1, 4) != k2c_foreign_version(0, 5));
	return check_done();
}
