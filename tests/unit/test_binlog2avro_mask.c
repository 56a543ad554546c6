/* Column rules (binlog2avro/mask.c) on bytes alone: which columns a rule
 * takes, what the schema says, the rewritten encodings (SHA-256 checked
 * against FIPS 180-2's "abc" vector: salt "a", value "bc"), and the
 * refusals. */
#include <stdlib.h>
#include <string.h>

#include "avrobin.h"
#include "binlog.h"
#include "check.h"

static char err[512];
/* Patterns as argv gives them: writable strings. */
static char p_age[] = "db.t.age", p_email[] = "db.t.email", p_bin[] = "*.bin",
	    p_bin2[] = "db.t.bin", p_id[] = "db.t.id", p_all[] = "*";

/* db.t (id INT key, email VARCHAR utf8mb4 NULL, bin VARBINARY NULL,
 * age INT NULL), finished under o. */
static struct b2a_table *
table(const struct b2a_options *o, int *rc)
{
	static const char *names[] = {"id", "email", "bin", "age"};
	struct b2a_table *t = cdc_xcalloc(1, sizeof(*t));
	size_t i;

	t->db = cdc_xstrdup("db");
	t->name = cdc_xstrdup("t");
	t->named = 1;
	t->ncols = 4;
	t->cols = cdc_xcalloc(4, sizeof(*t->cols));
	for (i = 0; i < 4; i++) {
		struct b2a_column *c = &t->cols[i];

		c->name = cdc_xstrdup(names[i]);
		c->type = i == 1 || i == 2 ? MT_VARCHAR : MT_LONG;
		c->meta = i == 1 || i == 2 ? 400 : 0;
		c->collation = i == 1 ? 45 : i == 2 ? 63 : -1;
		c->nullable = i > 0;
	}
	t->cols[0].key = 1;
	t->npk = 1;
	t->pk = cdc_xcalloc(1, sizeof(int));
	*rc = b2a_table_finish(t, o, err, sizeof(err));
	return t;
}

static void
test_schema(void)
{
	char *drop[] = {p_age}, *hash[] = {p_email, p_bin};
	struct b2a_options o = {.prefix = "cdc", .drop_cols = drop,
	    .ndrop_cols = 1, .hash_cols = hash, .nhash_cols = 2,
	    .salt = (const uint8_t *)"a", .saltlen = 1, .mask_text = "****"};
	struct b2a_table *t;
	int rc;

	t = table(&o, &rc);
	CHECK("a table with rules finishes", rc == 0);
	CHECK("the rules land on their columns",
	    t->cols[0].rule == R_KEEP && t->cols[1].rule == R_HASH &&
		t->cols[2].rule == R_HASH && t->cols[3].rule == R_DROP);
	CHECK("the table knows it has rules", t->rules == &o);
	CHECK("an excluded column is in no schema",
	    strstr(t->value_schema, "\"age\"") == NULL &&
		strstr(t->partial_schema, "\"age\"") == NULL);
	CHECK("a hashed column is a nullable string saying so",
	    strstr(t->value_schema,
		"{\"name\":\"email\",\"type\":[\"null\",\"string\"],"
		"\"default\":null,\"cdc.name\":\"email\",\"cdc.type\":"
		"\"varchar(100)\",\"cdc.masked\":\"sha256\"}") != NULL);
	CHECK("a hashed binary column is a string too",
	    strstr(t->value_schema,
		"\"cdc.type\":\"varbinary(400)\",\"cdc.masked\":\"sha256\"") !=
		NULL);
	b2a_table_free(t);

	o.drop_cols = NULL;
	o.ndrop_cols = 0;
	o.hash_cols = NULL;
	o.nhash_cols = 0;
	t = table(&o, &rc);
	CHECK("no rules, no rules", rc == 0 && t->rules == NULL &&
		t->cols[3].rule == R_KEEP);
	b2a_table_free(t);
}

static void
test_apply(void)
{
	char *hash[] = {p_email}, *mask[] = {p_bin2}, *drop[] = {p_age};
	struct b2a_options o = {.prefix = "cdc", .hash_cols = hash,
	    .nhash_cols = 1, .mask_cols = mask, .nmask_cols = 1,
	    .drop_cols = drop, .ndrop_cols = 1, .salt = (const uint8_t *)"a",
	    .saltlen = 1, .mask_text = "XX"};
	static const char abc[] =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	struct cdc_buf b, want;
	struct b2a_table *t;
	int rc;

	cdc_buf_init(&b);
	cdc_buf_init(&want);
	t = table(&o, &rc);
	CHECK("a table with three rules finishes", rc == 0);

	/* A prefix that must survive, then email = "bc". */
	cdc_buf_puts(&b, "pre");
	cdc_avro_put_long(&b, 1);
	cdc_avro_put_bytes(&b, "bc", 2);
	b2a_column_rule_apply(t, &t->cols[1], &b, 3);
	cdc_buf_puts(&want, "pre");
	cdc_avro_put_long(&want, 1);
	cdc_avro_put_bytes(&want, abc, 64);
	CHECK("hash: SHA-256(salt || value) in hex, union branch kept",
	    b.len == want.len && memcmp(b.p, want.p, b.len) == 0);

	b.len = 0;
	cdc_avro_put_long(&b, 0);
	b2a_column_rule_apply(t, &t->cols[1], &b, 0);
	CHECK("hash: NULL stays NULL", b.len == 1 && b.p[0] == 0);

	b.len = 0;
	cdc_avro_put_long(&b, 1);
	cdc_avro_put_bytes(&b, "", 0);
	b2a_column_rule_apply(t, &t->cols[1], &b, 0);
	CHECK("hash: the empty string hashes the salt alone",
	    b.len == 3 + 64 &&
		memcmp(b.p + 3,
		    "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785a"
		    "fee48bb",
		    64) == 0);

	b.len = 0;
	cdc_avro_put_long(&b, 1);
	cdc_avro_put_bytes(&b, "\x00\xff\x01", 3);
	b2a_column_rule_apply(t, &t->cols[2], &b, 0);
	want.len = 0;
	cdc_avro_put_long(&want, 1);
	cdc_avro_put_bytes(&want, "XX", 2);
	CHECK("mask: the fixed text",
	    b.len == want.len && memcmp(b.p, want.p, b.len) == 0);

	b.len = 0;
	cdc_buf_puts(&b, "ab");
	cdc_avro_put_long(&b, 1);
	cdc_avro_put_long(&b, 84);
	b2a_column_rule_apply(t, &t->cols[3], &b, 2);
	CHECK("exclude: the encoding goes", b.len == 2);

	b.len = 0;
	cdc_avro_put_long(&b, 42);
	b2a_column_rule_apply(t, &t->cols[0], &b, 0);
	CHECK("no rule: untouched", b.len == 1 && b.p[0] == 84);
	b2a_table_free(t);
	cdc_buf_fini(&b);
	cdc_buf_fini(&want);
}

static void
test_refusals(void)
{
	char *id[] = {p_id}, *age[] = {p_age}, *all[] = {p_all};
	struct b2a_options o = {.prefix = "cdc", .salt = (const uint8_t *)"s",
	    .saltlen = 1, .mask_text = "****"};
	struct b2a_table *t;
	int rc;

	o.drop_cols = id;
	o.ndrop_cols = 1;
	t = table(&o, &rc);
	CHECK("excluding a key column is refused as a rule error", rc == -2);
	CHECK("the refusal names the rule and the column",
	    strstr(err, "--exclude-column matches 'db.t.id', a primary key "
			"column") != NULL);
	b2a_table_free(t);

	o.ndrop_cols = 0;
	o.mask_cols = id;
	o.nmask_cols = 1;
	t = table(&o, &rc);
	CHECK("masking a key column with a fixed text is refused", rc == -2);
	b2a_table_free(t);

	o.nmask_cols = 0;
	o.hash_cols = id;
	o.nhash_cols = 1;
	t = table(&o, &rc);
	CHECK("hashing an INT column is refused", rc == -2 &&
		strstr(err, "'db.t.id', a int column") != NULL);
	b2a_table_free(t);

	o.hash_cols = age;
	t = table(&o, &rc);
	CHECK("hashing a non-key INT column is refused too", rc == -2);
	b2a_table_free(t);

	o.nhash_cols = 0;
	o.include = all;
	o.exclude = all;
	o.nexclude = 1;
	o.drop_cols = id;
	o.ndrop_cols = 1;
	t = table(&o, &rc);
	CHECK("a table filtered out is not judged by the rules", rc == 0);
	b2a_table_free(t);
}

int
main(void)
{
	check_file = "test_binlog2avro_mask";
	test_schema();
	test_apply();
	test_refusals();
	return check_done();
}
