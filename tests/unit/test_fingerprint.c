/* Parsing Canonical Form and CRC-64-AVRO against the test vectors of the Avro
 * project (share/test/data/schema-tests.txt; fingerprints as Java longs). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "fingerprint.h"

static const struct {
	const char *schema;
	int64_t fp;
} vectors[] = {
	{"\"null\"", 7195948357588979594LL},
	{"\"boolean\"", -6970731678124411036LL},
	{"\"int\"", 8247732601305521295LL},
	{"\"long\"", -3434872931120570953LL},
	{"\"float\"", 5583340709985441680LL},
	{"\"double\"", -8181574048448539266LL},
	{"\"bytes\"", 5746618253357095269LL},
	{"\"string\"", -8142146995180207161LL},
	{"[]", -1241056759729112623LL},
	{"[\"int\"]", -5232228896498058493LL},
	{"[\"int\",\"boolean\"]", 5392556393470105090LL},
	{"{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}",
	    5916914534497305771LL},
	{"{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}",
	    -4616218487480524110LL},
	{"{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}",
	    -4824392279771201922LL},
	{"{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\","
	 "\"type\":\"boolean\"}]}",
	    7843277075252814651LL},
	{"{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\","
	 "\"type\":\"boolean\"},{\"name\":\"f2\",\"type\":\"int\"}]}",
	    -4860222112080293046LL},
	{"{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}",
	    -6342190197741309591LL},
	{"{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\","
	 "\"A2\"]}",
	    -4448647247586288245LL},
	{"{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}",
	    1756455273707447556LL},
	{"{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}",
	    -3064184465700546786LL},
	{"{\"type\":\"array\",\"items\":\"null\"}", -589620603366471059LL},
	{"{\"type\":\"map\",\"values\":\"string\"}", -8732877298790414990LL},
	{"{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":"
	 "\"value\",\"type\":[\"null\",\"int\",\"long\",\"PigValue\"]}]}",
	    -1759257747318642341LL},
};

static int
canon_is(const char *in, const char *want)
{
	struct cdc_buf b;
	int ok;

	cdc_buf_init(&b);
	ok = cdc_schema_canonical(in, strlen(in), &b, NULL, 0) == 0 &&
	    b.len == strlen(want) && memcmp(b.p, want, b.len) == 0;
	if (!ok)
		printf("# canonical form: %.*s\n", (int)b.len, (char *)b.p);
	cdc_buf_fini(&b);
	return ok;
}

int
main(void)
{
	struct cdc_buf b;
	uint64_t fp, got;
	char name[64], err[256];
	size_t i;

	check_file = "test_fingerprint";
	CHECK("crc64 of nothing", cdc_crc64_avro("", 0) ==
	    0xc15d213aa4d7a795ULL);
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		snprintf(name, sizeof(name), "avro test vector %zu", i + 1);
		CHECK(name, cdc_schema_fingerprint(vectors[i].schema,
				strlen(vectors[i].schema), &fp, NULL, 0) == 0 &&
			fp == (uint64_t)vectors[i].fp);
	}

	/* The transformations of the specification, one by one. */
	CHECK("PRIMITIVES", canon_is("{\"type\": \"int\"}", "\"int\""));
	CHECK("STRIP and ORDER",
	    canon_is("{\"fields\": [{\"type\": {\"type\": \"long\", "
		     "\"logicalType\": \"timestamp-micros\"}, \"doc\": \"d\", "
		     "\"name\": \"a\", \"default\": 1, \"cdc.name\": \"a b\"}],"
		     " \"type\": \"record\", \"name\": \"R\", \"aliases\": "
		     "[\"Q\"]}",
		"{\"name\":\"R\",\"type\":\"record\",\"fields\":[{\"name\":"
		"\"a\",\"type\":\"long\"}]}"));
	CHECK("FULLNAMES inherit the namespace",
	    canon_is("{\"type\":\"record\",\"name\":\"R\",\"namespace\":"
		     "\"a.b\",\"fields\":[{\"name\":\"e\",\"type\":{\"type\":"
		     "\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]}},{\"name\":"
		     "\"f\",\"type\":\"E\"},{\"name\":\"g\",\"type\":{\"type\":"
		     "\"fixed\",\"name\":\"c.F\",\"size\":2}}]}",
		"{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":[{\"name\":"
		"\"e\",\"type\":{\"name\":\"a.b.E\",\"type\":\"enum\","
		"\"symbols\":[\"X\"]}},{\"name\":\"f\",\"type\":\"a.b.E\"},"
		"{\"name\":\"g\",\"type\":{\"name\":\"c.F\",\"type\":\"fixed\","
		"\"size\":2}}]}"));
	CHECK("STRINGS unescaped", canon_is("{\"type\":\"enum\",\"name\":"
					    "\"\\u0045\",\"symbols\":[]}",
				       "{\"name\":\"E\",\"type\":\"enum\","
				       "\"symbols\":[]}"));
	CHECK("not a schema is an error",
	    cdc_schema_fingerprint("{\"type\":\"record\"}", 17, &fp, err,
		sizeof(err)) == -1 &&
		strstr(err, "name") != NULL);
	CHECK("invalid JSON is an error",
	    cdc_schema_fingerprint("{", 1, &fp, err, sizeof(err)) == -1);

	cdc_buf_init(&b);
	cdc_soe_put_header(&b, 0x0102030405060708ULL);
	CHECK("single-object header",
	    b.len == 10 &&
		memcmp(b.p, "\xc3\x01\x08\x07\x06\x05\x04\x03\x02\x01", 10) ==
		    0);
	CHECK("single-object fingerprint read back",
	    cdc_soe_fingerprint(b.p, b.len, &got) == 0 &&
		got == 0x0102030405060708ULL);
	b.p[1] = 0x02;
	CHECK("single-object marker checked",
	    cdc_soe_fingerprint(b.p, b.len, &got) == -1);
	CHECK("single-object too short",
	    cdc_soe_fingerprint(b.p, 9, &got) == -1);
	cdc_buf_fini(&b);
	return check_done();
}
