/* Table filters and column rules: --include and --exclude pick tables by
 * "db.table". --exclude-column leaves a column out, --hash-column
 * replaces its values by the hex SHA-256 of salt and value, --mask-column
 * by a fixed text. Patterns match "db.table.column". The schema says what
 * was done (docs/binlog2avro.md, "Column rules"). */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "avrobin.h"
#include "binlog.h"
#include "log.h"

int
b2a_table_wanted(const struct b2a_options *o, const char *db,
    const char *table)
{
	char name[512];
	int i, in = o->ninclude == 0;

	snprintf(name, sizeof(name), "%s.%s", db, table);
	for (i = 0; i < o->ninclude && !in; i++)
		in = fnmatch(o->include[i], name, 0) == 0;
	for (i = 0; i < o->nexclude && in; i++)
		in = fnmatch(o->exclude[i], name, 0) != 0;
	return in;
}

static void
fail(const char *what)
{
	cdc_error("%s", what);
	abort();
}

static int
match(char **pat, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (fnmatch(pat[i], name, 0) == 0)
			return 1;
	return 0;
}

/* Kinds whose Avro value is a string or bytes of the column's own text or
 * bytes: the ones a hash or a mask keeps meaning for. */
static int
maskable(enum b2a_kind k)
{
	return k == K_STRING || k == K_BYTES || k == K_JSON || k == K_ENUM ||
	    k == K_SET;
}

int
b2a_columns_rules(struct b2a_table *t, const struct b2a_options *o,
    char *err, size_t errlen)
{
	char name[768];
	size_t i;

	t->rules = NULL;
	if (o == NULL ||
	    o->ndrop_cols + o->nhash_cols + o->nmask_cols == 0 ||
	    !b2a_table_wanted(o, t->db, t->name))
		return 0;
	for (i = 0; i < t->ncols; i++) {
		struct b2a_column *c = &t->cols[i];
		const char *what;

		snprintf(name, sizeof(name), "%s.%s.%s", t->db, t->name,
		    c->name);
		if (match(o->drop_cols, o->ndrop_cols, name))
			c->rule = R_DROP;
		else if (match(o->hash_cols, o->nhash_cols, name))
			c->rule = R_HASH;
		else if (match(o->mask_cols, o->nmask_cols, name))
			c->rule = R_MASK;
		else
			c->rule = R_KEEP;
		if (c->rule == R_KEEP)
			continue;
		t->rules = o;
		what = c->rule == R_DROP ? "--exclude-column" :
		    c->rule == R_HASH	 ? "--hash-column" :
					   "--mask-column";
		/* A hash keeps keys distinct; leaving a key column out or
		 * masking it would merge rows downstream. */
		if (c->key > 0 && c->rule != R_HASH)
			return cdc_err(err, errlen,
			    "%s matches '%s', a primary key column: keys "
			    "identify rows downstream (hash it with "
			    "--hash-column instead)", what, name);
		if (c->rule != R_DROP && !maskable(c->kind))
			return cdc_err(err, errlen,
			    "%s matches '%s', a %s column: only character, "
			    "binary, JSON, ENUM and SET columns can be masked "
			    "(leave it out with --exclude-column)", what,
			    name, c->cdc_type);
	}
	return 0;
}

static EVP_MD_CTX *salted, *ctx; /* the salt's state; a value's */
static const uint8_t *salted_by;

int
b2a_hash_init(const uint8_t *salt, size_t n, char *err, size_t errlen)
{
	char why[256];

	if (salted == NULL) {
		salted = EVP_MD_CTX_new();
		ctx = EVP_MD_CTX_new();
		if (salted == NULL || ctx == NULL)
			fail("out of memory for SHA-256");
	}
	if (EVP_DigestInit_ex(salted, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(salted, salt, n) != 1) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		salted_by = NULL;
		return cdc_err(err, errlen,
		    "--hash-column: libcrypto has no SHA-256 (check "
		    "OPENSSL_CONF and its providers): %s", why);
	}
	salted_by = salt;
	return 0;
}

/* Hex SHA-256 of salt and s[0..n). */
static void
sha256_hex(const struct b2a_options *o, const uint8_t *s, size_t n,
    char hex[65])
{
	char err[CDC_ERRLEN];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len, i;

	/* main() has checked SHA-256 with this salt before any row. */
	if (salted_by != o->salt &&
	    b2a_hash_init(o->salt, o->saltlen, err, sizeof(err)) == -1)
		fail(err);
	if (EVP_MD_CTX_copy_ex(ctx, salted) != 1 ||
	    EVP_DigestUpdate(ctx, s, n) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32)
		fail("SHA-256 failed in libcrypto");
	for (i = 0; i < 32; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[64] = '\0';
}

void
b2a_column_rule_apply(const struct b2a_table *t, const struct b2a_column *c,
    struct cdc_buf *enc, size_t off)
{
	const struct b2a_options *o = t->rules;
	const uint8_t *p = enc->p + off, *end = enc->p + enc->len, *s;
	size_t n;
	char hex[65];
	const char *text;

	if (c->rule == R_KEEP)
		return;
	if (c->rule == R_DROP) {
		enc->len = off;
		return;
	}
	if (c->nullable) {
		if (*p == 0)
			return; /* NULL stays NULL */
		p++;
	}
	/* A string or bytes value: its length, then its bytes. */
	if (cdc_avro_dec_bytes(&p, end, &s, &n) != CDC_AVRO_OK)
		fail("a masked column's value is not a string"); /* a bug */
	if (c->rule == R_HASH) {
		sha256_hex(o, s, n, hex);
		text = hex;
	} else {
		text = o->mask_text;
	}
	enc->len = off + (c->nullable ? 1 : 0);
	cdc_avro_put_bytes(enc, text, strlen(text));
}
