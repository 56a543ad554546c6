/* The snapshot's view of the server: SQL helpers, and each table as its
 * binlog table map would describe it, read from information_schema
 * (COLUMNS, COLLATIONS, SHOW INDEX) with tablemap.c's conventions for
 * types and metadata, then completed by b2a_table_finish() so that the
 * schemas are those of the binlog path, byte for byte. Live replication
 * reads the same to name the columns of table maps without names
 * (schemalookup.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "log.h"
#include "snapsql.h"

enum { OK = SNAP_OK, FAIL = SNAP_FAIL, RETRY = SNAP_RETRY };

int
b2a_sql_retryable(unsigned int e)
{
	return e == CR_SERVER_LOST || e == CR_SERVER_GONE_ERROR ||
	    e == ER_TABLE_DEF_CHANGED || e == ER_QUERY_INTERRUPTED ||
	    e == ER_CONNECTION_KILLED || e == CR_CONNECTION_ERROR ||
	    e == ER_SERVER_SHUTDOWN || e == ER_LOCK_WAIT_TIMEOUT ||
	    e == ER_LOCK_DEADLOCK;
}

int
b2a_sql_fail(MYSQL *m, const char *what, char *err, size_t errlen)
{
	unsigned int e = mysql_errno(m);

	cdc_err(err, errlen, "%s: %s (error %u)", what, mysql_error(m), e);
	return b2a_sql_retryable(e) ? RETRY : FAIL;
}

int
b2a_sql(MYSQL *m, const char *q, char *err, size_t errlen)
{
	if (mysql_query(m, q) != 0)
		return b2a_sql_fail(m, q, err, errlen);
	mysql_free_result(mysql_store_result(m));
	return OK;
}

int
b2a_sql_rows(MYSQL *m, const char *q, MYSQL_RES **res, char *err,
    size_t errlen)
{
	*res = NULL;
	if (mysql_query(m, q) != 0)
		return b2a_sql_fail(m, q, err, errlen);
	*res = mysql_store_result(m);
	if (*res == NULL)
		return b2a_sql_fail(m, q, err, errlen);
	return OK;
}

void
b2a_sql_ident(struct cdc_buf *b, const char *s)
{
	cdc_buf_putc(b, '`');
	for (; *s != '\0'; s++) {
		if (*s == '`')
			cdc_buf_putc(b, '`');
		cdc_buf_putc(b, *s);
	}
	cdc_buf_putc(b, '`');
}

void
b2a_sql_literal(MYSQL *m, struct cdc_buf *b, const char *v)
{
	size_t n = strlen(v);
	char *e = cdc_xmalloc(2 * n + 1);

	mysql_real_escape_string(m, e, v, (unsigned long)n);
	cdc_buf_putc(b, '\'');
	cdc_buf_puts(b, e);
	cdc_buf_putc(b, '\'');
	free(e);
}

void
b2a_sql_table(struct cdc_buf *b, const char *db, const char *name)
{
	b2a_sql_ident(b, db);
	cdc_buf_putc(b, '.');
	b2a_sql_ident(b, name);
}

char *
b2a_sql_str(struct cdc_buf *b)
{
	cdc_buf_putc(b, '\0');
	b->len--;
	return (char *)b->p;
}


/* Symbols of ENUM('a','b''c') or SET(...) as COLUMN_TYPE spells them. */
static int
parse_symbols(struct b2a_column *c, const char *s)
{
	const char *p = strchr(s, '(');
	struct cdc_buf v;

	if (p == NULL)
		return -1;
	p++;
	cdc_buf_init(&v);
	while (*p == '\'') {
		v.len = 0;
		for (p++;; p++) {
			if (*p == '\0') {
				cdc_buf_fini(&v);
				return -1;
			}
			if (*p == '\'' && p[1] == '\'') {
				cdc_buf_putc(&v, '\'');
				p++;
			} else if (*p == '\'') {
				p++;
				break;
			} else if (*p == '\\' && p[1] != '\0') {
				p++;
				cdc_buf_putc(&v, *p == '0' ? '\0' :
						  *p == 'n' ? '\n' :
						  *p == 'r' ? '\r' :
						  *p == 't' ? '\t' :
						  *p == 'Z' ? '\032' :
							      *p);
			} else {
				cdc_buf_putc(&v, *p);
			}
		}
		c->symbols = cdc_xrealloc(c->symbols,
		    (c->nsymbols + 1) * sizeof(char *));
		c->symbols[c->nsymbols++] = cdc_xstrndup(
		    v.p != NULL ? (const char *)v.p : "", v.len);
		if (*p == ',')
			p++;
	}
	cdc_buf_fini(&v);
	return *p == ')' ? 0 : -1;
}

static uint64_t
num(const char *s)
{
	return s != NULL ? strtoull(s, NULL, 10) : 0;
}

static int
is_text_charset(const char *cs)
{
	return cs == NULL || strcmp(cs, "utf8mb4") == 0 ||
	    strcmp(cs, "utf8mb3") == 0 || strcmp(cs, "utf8") == 0;
}

/* The type whose row names information_schema's DATA_TYPE dt, and the
 * place of dt among its names; 0 when none does. */
static uint8_t
type_named(const char *dt, size_t *place)
{
	size_t n = strlen(dt), k;
	const char *p;
	int code;

	for (code = 0; code < 256; code++) {
		p = b2a_types[code].is_names;
		for (k = 0; p != NULL && *p != '\0'; k++) {
			size_t len = strcspn(p, ",");

			if (len == n && strncmp(p, dt, n) == 0) {
				*place = k;
				return (uint8_t)code;
			}
			p += len + (p[len] == ',');
		}
	}
	return 0;
}

/* Sets type, meta and collation of column c of the table map type that
 * information_schema's DATA_TYPE dt stands for (tablemap.c's read_meta
 * conventions), as the type table's row says. */
static int
column_type(struct b2a_column *c, struct b2a_snapcol *k, MYSQL_ROW r,
    unsigned long *len, char *err, size_t errlen)
{
	const char *dt = r[1], *ct = r[2];
	uint64_t octets = num(r[4]), prec = num(r[5]), scale = num(r[6]);
	uint64_t fsp = num(r[7]);
	int compressed = strstr(ct, "COMPRESSED") != NULL;
	size_t place = 0;

	(void)len;
	c->meta = 0;
	if (strcmp(dt, "uuid") == 0 || strcmp(dt, "inet6") == 0 ||
	    strcmp(dt, "inet4") == 0) {
		/* MariaDB's: BINARY(16) or BINARY(4) in the binlog. */
		c->type = MT_STRING;
		c->meta = dt[4] == '4' ? 4 : 16;
		c->collation = 63;
		k->cast_bytes = c->meta;
		return 0;
	}
	c->type = type_named(dt, &place);
	if (c->type == 0)
		return cdc_err(err, errlen, "column '%s' has type %s, which "
		    "binlog2avro cannot read from information_schema",
		    c->name, ct);
	c->is_unsigned = (b2a_types[c->type].flags & TF_SIGNED) != 0 &&
	    strstr(ct, "unsigned") != NULL;
	switch (b2a_types[c->type].is_form) {
	case IS_PRECISION:
		c->meta = (uint16_t)(prec << 8 | scale);
		return 0;
	case IS_IEEE:
		c->meta = c->type == MT_FLOAT ? 4 : 8;
		return 0;
	case IS_BITS:
		c->meta = (uint16_t)((prec % 8) << 8 | prec / 8);
		return 0;
	case IS_FSP:
		c->meta = (uint16_t)fsp;
		return 0;
	case IS_WKB:
		c->meta = 4;
		c->collation = 63;
		return 0;
	case IS_LONG:
		c->meta = 4;
		return 0;
	case IS_OCTETS:
		c->meta = (uint16_t)octets;
		if (compressed && c->type == MT_VARCHAR)
			c->type = MT_VARCHAR_COMPRESSED;
		break;
	case IS_BLOB:
		c->meta = (uint16_t)(place / 2 + 1);
		if (compressed)
			c->type = MT_BLOB_COMPRESSED;
		break;
	case IS_SYMBOLS:
		break; /* meta once the symbols are known */
	default:
		return 0;
	}
	/* Binary strings have no collation in information_schema. */
	c->collation = r[9] != NULL ? (int)num(r[9]) : 63;
	if (r[8] != NULL && r[10] != NULL) {
		k->charset = cdc_xstrdup(r[8]);
		k->collation = cdc_xstrdup(r[10]);
	}
	return 0;
}

/* Reads ENUM/SET symbols in the column's charset (the table map's bytes):
 * COLUMN_TYPE is utf8, so other charsets are converted back. */
static int
enum_symbols(MYSQL *m, const char *db, const char *name,
    struct b2a_column *c, const char *cs, const char *ct, char *err,
    size_t errlen)
{
	struct cdc_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;
	int rc = OK;

	if (!is_text_charset(cs)) {
		cdc_buf_init(&q);
		cdc_buf_puts(&q, "SELECT CONVERT(COLUMN_TYPE USING ");
		b2a_sql_ident(&q, cs);
		cdc_buf_puts(&q, ") FROM information_schema.COLUMNS WHERE "
				 "TABLE_SCHEMA = ");
		b2a_sql_literal(m, &q, db);
		cdc_buf_puts(&q, " AND TABLE_NAME = ");
		b2a_sql_literal(m, &q, name);
		cdc_buf_puts(&q, " AND COLUMN_NAME = ");
		b2a_sql_literal(m, &q, c->name);
		rc = b2a_sql_rows(m, b2a_sql_str(&q), &res, err, errlen);
		cdc_buf_fini(&q);
		if (rc != OK)
			return rc;
		r = mysql_fetch_row(res);
		ct = r != NULL && r[0] != NULL ? r[0] : ct;
	}
	if (parse_symbols(c, ct) == -1)
		rc = cdc_err(err, errlen, "column '%s': cannot read the values "
		    "of %.200s", c->name, ct);
	else if (c->type == MT_ENUM)
		c->meta = c->nsymbols < 256 ? 1 : 2;
	else
		c->meta = (c->nsymbols + 7) / 8 > 4 ? 8 :
						       (c->nsymbols + 7) / 8;
	mysql_free_result(res);
	return rc;
}

/* The primary key as the server's table definition has it: PRIMARY, or
 * else the first unique index of NOT NULL whole columns, in SHOW INDEX
 * order (the key the binlog's table map names). */
static int
primary_key(MYSQL *m, struct b2a_table *t, char *err, size_t errlen)
{
	struct cdc_buf q;
	MYSQL_RES *res;
	MYSQL_ROW r;
	MYSQL_FIELD *f;
	unsigned int nf, i;
	int fi[6] = {-1, -1, -1, -1, -1, -1}, rc, ok = 0;
	static const char *names[6] = {"Non_unique", "Key_name", "Column_name",
	    "Sub_part", "Null", "Index_type"};
	char key[256] = "";
	size_t k;

	cdc_buf_init(&q);
	cdc_buf_puts(&q, "SHOW INDEX FROM ");
	b2a_sql_table(&q, t->db, t->name);
	rc = b2a_sql_rows(m, b2a_sql_str(&q), &res, err, errlen);
	cdc_buf_fini(&q);
	if (rc != OK)
		return rc;
	nf = mysql_num_fields(res);
	f = mysql_fetch_fields(res);
	for (i = 0; i < nf; i++)
		for (k = 0; k < 6; k++)
			if (strcasecmp(f[i].name, names[k]) == 0)
				fi[k] = (int)i;
	for (k = 0; k < 6; k++)
		if (fi[k] < 0) {
			mysql_free_result(res);
			return cdc_err(err, errlen, "SHOW INDEX has no %s",
			    names[k]);
		}
	while ((r = mysql_fetch_row(res)) != NULL) {
		const char *kn = r[fi[1]] != NULL ? r[fi[1]] : "";
		int usable;

		if (strcmp(kn, key) != 0) {
			if (ok)
				break; /* the key before is the one */
			snprintf(key, sizeof(key), "%s", kn);
			free(t->pk);
			t->pk = NULL;
			t->npk = 0;
			ok = 1;
		}
		if (!ok)
			continue;
		usable = strcmp(kn, "PRIMARY") == 0 ||
		    (r[fi[0]] != NULL && strcmp(r[fi[0]], "0") == 0 &&
			r[fi[3]] == NULL &&
			(r[fi[4]] == NULL || strcmp(r[fi[4]], "YES") != 0) &&
			(r[fi[5]] == NULL || strcmp(r[fi[5]], "HASH") != 0));
		for (k = 0; usable && k < t->ncols; k++)
			if (r[fi[2]] != NULL &&
			    strcmp(t->cols[k].name, r[fi[2]]) == 0)
				break;
		if (!usable || k == t->ncols) {
			ok = 0; /* not this key: skip its other columns */
			continue;
		}
		t->pk = cdc_xrealloc(t->pk, (t->npk + 1) * sizeof(int));
		t->pk[t->npk++] = (int)k;
	}
	mysql_free_result(res);
	if (!ok) {
		free(t->pk);
		t->pk = NULL;
		t->npk = 0;
	}
	for (k = 0; k < t->npk; k++)
		t->cols[t->pk[k]].key = (int)k + 1;
	return OK;
}

int
b2a_schema_read(MYSQL *m, const char *db, const char *name,
    struct b2a_table **tp, struct b2a_snapcol **colsp, char *err,
    size_t errlen)
{
	struct cdc_buf q;
	MYSQL_RES *res;
	MYSQL_ROW r;
	struct b2a_table *t;
	struct b2a_snapcol *cols = NULL;
	int rc;
	size_t i;

	*tp = NULL;
	*colsp = NULL;
	cdc_buf_init(&q);
	cdc_buf_puts(&q,
	    "SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE, "
	    "c.CHARACTER_OCTET_LENGTH, c.NUMERIC_PRECISION, c.NUMERIC_SCALE, "
	    "c.DATETIME_PRECISION, c.CHARACTER_SET_NAME, co.ID, "
	    "c.COLLATION_NAME FROM information_schema.COLUMNS c LEFT JOIN "
	    "information_schema.COLLATIONS co ON co.COLLATION_NAME = "
	    "c.COLLATION_NAME WHERE c.TABLE_SCHEMA = ");
	b2a_sql_literal(m, &q, db);
	cdc_buf_puts(&q, " AND c.TABLE_NAME = ");
	b2a_sql_literal(m, &q, name);
	cdc_buf_puts(&q, " ORDER BY c.ORDINAL_POSITION");
	rc = b2a_sql_rows(m, b2a_sql_str(&q), &res, err, errlen);
	cdc_buf_fini(&q);
	if (rc != OK)
		return rc;
	t = cdc_xcalloc(1, sizeof(*t));
	t->db = cdc_xstrdup(db);
	t->name = cdc_xstrdup(name);
	t->named = 1;
	t->ncols = (size_t)mysql_num_rows(res);
	t->cols = cdc_xcalloc(t->ncols > 0 ? t->ncols : 1, sizeof(*t->cols));
	cols = cdc_xcalloc(t->ncols > 0 ? t->ncols : 1, sizeof(*cols));
	for (i = 0; i < t->ncols && rc == OK; i++) {
		struct b2a_column *c = &t->cols[i];
		unsigned long *len;

		r = mysql_fetch_row(res);
		len = mysql_fetch_lengths(res);
		if (r == NULL || r[0] == NULL || r[1] == NULL || r[2] == NULL) {
			rc = cdc_err(err, errlen, "information_schema.COLUMNS "
			    "of '%s.%s' is incomplete", db, name);
			break;
		}
		c->name = cdc_xstrdup(r[0]);
		c->collation = -1;
		c->nullable = r[3] != NULL && strcmp(r[3], "YES") == 0;
		cols[i].column_type = cdc_xstrdup(r[2]);
		rc = column_type(c, &cols[i], r, len, err, errlen) == 0 ? OK :
									FAIL;
		if (rc == OK && b2a_types[c->type].flags & TF_SYMBOLS)
			rc = enum_symbols(m, db, name, c, r[8], r[2], err,
			    errlen);
	}
	mysql_free_result(res);
	if (rc == OK && t->ncols > 0)
		rc = primary_key(m, t, err, errlen);
	if (rc != OK || t->ncols == 0) {
		b2a_snapcols_free(cols, t->ncols);
		b2a_table_free(t);
		return rc;
	}
	*tp = t;
	*colsp = cols;
	return OK;
}

int
b2a_snap_table(MYSQL *m, const struct b2a_options *o, const char *db,
    const char *name, struct b2a_table **tp, struct b2a_snapcol **colsp,
    char *err, size_t errlen)
{
	int rc;

	rc = b2a_schema_read(m, db, name, tp, colsp, err, errlen);
	if (rc != OK || *tp == NULL)
		return rc;
	rc = b2a_table_finish(*tp, o, err, errlen);
	if (rc != 0) {
		b2a_snapcols_free(*colsp, (*tp)->ncols);
		b2a_table_free(*tp);
		*tp = NULL;
		*colsp = NULL;
		return rc == -2 ? SNAP_CONFIG : FAIL;
	}
	return OK;
}

void
b2a_snapcols_free(struct b2a_snapcol *c, size_t n)
{
	size_t i;

	for (i = 0; c != NULL && i < n; i++) {
		free(c[i].charset);
		free(c[i].collation);
		free(c[i].column_type);
	}
	free(c);
}
