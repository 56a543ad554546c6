/* The consistent initial snapshot (--snapshot): every included table read
 * inside one consistent-snapshot transaction whose binlog position is
 * known exactly, emitted as op "r" changes with versions below every later
 * binlog change, then the binlog from that position (live.c). Tables are
 * read in primary-key order in chunks, each chunk a transaction of the
 * stream whose commit mark's snapshot: position resumes after it
 * (docs/binlog2avro.md, "Snapshot"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "avrobin.h"
#include "decoder.h"
#include "live.h"
#include "snapshot.h"
#include "sys.h"

/* MariaDB's compressed columns (tablemap.c refuses them). */
#define MT_BLOB_COMPRESSED    140
#define MT_VARCHAR_COMPRESSED 141

#define TIMEOUT 600 /* seconds, for the snapshot's queries */

enum fetch { F_INT, F_FLOAT, F_DOUBLE, F_TIME, F_BYTES };

/* One column of the result rows and its bound buffers. */
struct col {
	enum fetch f;
	long long i;
	float fl;
	double db;
	MYSQL_TIME t;
	uint8_t *buf;
	unsigned long cap, len;
	my_bool null, error;
	char *charset, *collation; /* text columns: for key comparisons */
	int cast_bytes;            /* MariaDB UUID, INET4, INET6: n bytes */
};

/* A key column's value as a statement parameter. */
struct keyval {
	struct b2a_snapval v;
	struct cdc_buf bytes;
	long long i;
	MYSQL_TIME t;
	unsigned long len;
};

/* A row read and encoded, waiting to be emitted. */
struct row {
	struct cdc_buf val, key;
	size_t *off;
};

struct table {
	char *db, *name;
	int rows; /* -1 unknown, 0 empty, 1 has rows */
};

struct snap {
	struct b2a_decoder *d;
	const struct b2a_live *l;
	MYSQL *m;
	int mariadb;
	struct b2a_snappos pos; /* the last commit mark's */
	int committed;          /* a snapshot commit mark was written */
	int64_t version;
	struct table *tables;
	size_t ntables;
	int code; /* exit code of a failure that is not the server's */
	char ev_pos[600];
};

/* The error class of a failed server call: retry with a new snapshot from
 * the last commit mark, or give up. */
static int
retryable(unsigned int e)
{
	return e == CR_SERVER_LOST || e == CR_SERVER_GONE_ERROR ||
	    e == ER_TABLE_DEF_CHANGED || e == ER_QUERY_INTERRUPTED ||
	    e == ER_CONNECTION_KILLED || e == CR_CONNECTION_ERROR ||
	    e == ER_SERVER_SHUTDOWN || e == ER_LOCK_WAIT_TIMEOUT ||
	    e == ER_LOCK_DEADLOCK;
}

/* Outcomes of the steps below. */
enum { OK = 0, FAIL = -1, RETRY = -2 };

static int
sql_fail(struct snap *s, const char *what, char *err, size_t errlen)
{
	unsigned int e = mysql_errno(s->m);

	cdc_err(err, errlen, "%s: %s (error %u)", what, mysql_error(s->m), e);
	return retryable(e) ? RETRY : FAIL;
}

static int
sql(struct snap *s, const char *q, char *err, size_t errlen)
{
	if (mysql_query(s->m, q) != 0)
		return sql_fail(s, q, err, errlen);
	mysql_free_result(mysql_store_result(s->m));
	return OK;
}

/* Runs q and stores its result in *res (the caller frees it). */
static int
sql_rows(struct snap *s, const char *q, MYSQL_RES **res, char *err,
    size_t errlen)
{
	*res = NULL;
	if (mysql_query(s->m, q) != 0)
		return sql_fail(s, q, err, errlen);
	*res = mysql_store_result(s->m);
	if (*res == NULL)
		return sql_fail(s, q, err, errlen);
	return OK;
}

static void
put_ident(struct cdc_buf *b, const char *s)
{
	cdc_buf_putc(b, '`');
	for (; *s != '\0'; s++) {
		if (*s == '`')
			cdc_buf_putc(b, '`');
		cdc_buf_putc(b, *s);
	}
	cdc_buf_putc(b, '`');
}

static void
put_literal(struct snap *s, struct cdc_buf *b, const char *v)
{
	size_t n = strlen(v);
	char *e = cdc_xmalloc(2 * n + 1);

	mysql_real_escape_string(s->m, e, v, (unsigned long)n);
	cdc_buf_putc(b, '\'');
	cdc_buf_puts(b, e);
	cdc_buf_putc(b, '\'');
	free(e);
}

static void
put_table(struct cdc_buf *b, const char *db, const char *name)
{
	put_ident(b, db);
	cdc_buf_putc(b, '.');
	put_ident(b, name);
}

static char *
buf_str(struct cdc_buf *b)
{
	cdc_buf_putc(b, '\0');
	b->len--;
	return (char *)b->p;
}

/* The current binlog position (SHOW MASTER STATUS, or MySQL 8.4's SHOW
 * BINARY LOG STATUS). */
static int
binlog_end(struct snap *s, struct b2a_snappos *p, char *err, size_t errlen)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;

	if (mysql_query(s->m, "SHOW MASTER STATUS") != 0 &&
	    mysql_query(s->m, "SHOW BINARY LOG STATUS") != 0)
		return sql_fail(s, "SHOW MASTER STATUS", err, errlen);
	res = mysql_store_result(s->m);
	r = res != NULL ? mysql_fetch_row(res) : NULL;
	if (r == NULL || r[0] == NULL || r[1] == NULL) {
		mysql_free_result(res);
		return cdc_err(err, errlen, "the server has binary logging off "
		    "(SHOW MASTER STATUS is empty): no snapshot position");
	}
	snprintf(p->file, sizeof(p->file), "%s", r[0]);
	p->pos = strtoull(r[1], NULL, 10);
	mysql_free_result(res);
	return OK;
}

/* Starts the consistent-snapshot transaction and learns its binlog
 * position: MariaDB tells it without a lock (binlog_snapshot_file and
 * _position); MySQL needs the global read lock for a moment. */
static int
open_snapshot(struct snap *s, struct b2a_snappos *at, char *err,
    size_t errlen)
{
	static const char start[] =
	    "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
	MYSQL_RES *res;
	MYSQL_ROW r;
	int rc, locked;

	memset(at, 0, sizeof(*at));
	if (s->mariadb) {
		if ((rc = sql(s, start, err, errlen)) != OK ||
		    (rc = sql_rows(s, "SHOW STATUS LIKE 'binlog_snapshot_%'",
			 &res, err, errlen)) != OK)
			return rc;
		while ((r = mysql_fetch_row(res)) != NULL) {
			if (r[0] == NULL || r[1] == NULL)
				continue;
			if (strcasecmp(r[0], "Binlog_snapshot_file") == 0)
				snprintf(at->file, sizeof(at->file), "%s", r[1]);
			else if (strcasecmp(r[0],
				     "Binlog_snapshot_position") == 0)
				at->pos = strtoull(r[1], NULL, 10);
		}
		mysql_free_result(res);
		if (at->file[0] == '\0')
			return cdc_err(err, errlen, "the server has binary "
			    "logging off (binlog_snapshot_file is empty): no "
			    "snapshot position");
		return OK;
	}
	locked = mysql_query(s->m, "FLUSH TABLES WITH READ LOCK") == 0;
	if (!locked) {
		/* Without the lock the position is read before the snapshot
		 * starts: what commits in between comes twice, which the
		 * versions make harmless. */
		cdc_warn("cannot take the global read lock for a moment (%s): "
			 "changes committed while the snapshot starts may "
			 "appear twice (harmless: same versions)",
		    mysql_error(s->m));
		if ((rc = binlog_end(s, at, err, errlen)) != OK)
			return rc;
	}
	if ((rc = sql(s, start, err, errlen)) != OK)
		return rc;
	if (locked) {
		rc = binlog_end(s, at, err, errlen);
		if (sql(s, "UNLOCK TABLES", err, errlen) != OK && rc == OK)
			rc = FAIL;
	}
	return rc;
}

/* Checks that the binlog file of the original snapshot is still on the
 * server: a resumed snapshot goes on with the binlog from there. */
static int
binlog_exists(struct snap *s, const char *file, char *err, size_t errlen)
{
	MYSQL_RES *res;
	MYSQL_ROW r;
	char oldest[512] = "";
	int rc, found = 0;

	if ((rc = sql_rows(s, "SHOW BINARY LOGS", &res, err, errlen)) != OK)
		return rc;
	while ((r = mysql_fetch_row(res)) != NULL) {
		if (r[0] == NULL)
			continue;
		if (oldest[0] == '\0')
			snprintf(oldest, sizeof(oldest), "%s", r[0]);
		found |= strcmp(r[0], file) == 0;
	}
	mysql_free_result(res);
	if (!found)
		return cdc_err(err, errlen, "the snapshot's binlog %s is not on "
		    "the server (purged?); the oldest binlog available is %s: "
		    "take a new snapshot", file, oldest[0] != '\0' ? oldest :
								     "unknown");
	return OK;
}

static int
table_cmp(const void *a, const void *b)
{
	const struct table *x = a, *y = b;
	int c = strcmp(x->db, y->db);

	return c != 0 ? c : strcmp(x->name, y->name);
}

static void
free_tables(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->ntables; i++) {
		free(s->tables[i].db);
		free(s->tables[i].name);
	}
	free(s->tables);
	s->tables = NULL;
	s->ntables = 0;
}

/* The included base tables, sorted by database and name (byte order, the
 * order positions rely on). */
static int
list_tables(struct snap *s, char *err, size_t errlen)
{
	MYSQL_RES *res;
	MYSQL_ROW r;
	int rc;

	free_tables(s);
	rc = sql_rows(s,
	    "SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE FROM "
	    "information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
	    "TABLE_SCHEMA NOT IN ('mysql', 'information_schema', "
	    "'performance_schema', 'sys')",
	    &res, err, errlen);
	if (rc != OK)
		return rc;
	while ((r = mysql_fetch_row(res)) != NULL) {
		struct table *t;

		if (r[0] == NULL || r[1] == NULL ||
		    !b2a_table_wanted(&s->d->o, r[0], r[1]))
			continue;
		s->tables = cdc_xrealloc(s->tables,
		    (s->ntables + 1) * sizeof(*s->tables));
		t = &s->tables[s->ntables++];
		t->db = cdc_xstrdup(r[0]);
		t->name = cdc_xstrdup(r[1]);
		t->rows = -1;
		if (r[2] != NULL && strcasecmp(r[2], "InnoDB") != 0)
			cdc_warn("snapshot: table '%s.%s' uses %s, which is "
				 "not transactional: it is read as it is when "
				 "read, not at the snapshot position (the "
				 "binlog that follows corrects it)",
			    r[0], r[1], r[2]);
	}
	mysql_free_result(res);
	if (s->ntables > 0)
		qsort(s->tables, s->ntables, sizeof(*s->tables), table_cmp);
	return OK;
}

/* Whether table i has a row in the snapshot (cached). */
static int
has_rows(struct snap *s, size_t i, int *yes, char *err, size_t errlen)
{
	struct table *t = &s->tables[i];
	struct cdc_buf q;
	MYSQL_RES *res;
	int rc;

	if (t->rows < 0) {
		cdc_buf_init(&q);
		cdc_buf_puts(&q, "SELECT 1 FROM ");
		put_table(&q, t->db, t->name);
		cdc_buf_puts(&q, " LIMIT 1");
		rc = sql_rows(s, buf_str(&q), &res, err, errlen);
		cdc_buf_fini(&q);
		if (rc == FAIL && (mysql_errno(s->m) == ER_NO_SUCH_TABLE ||
				      mysql_errno(s->m) == ER_BAD_DB_ERROR)) {
			t->rows = 0; /* dropped: the binlog says so */
		} else if (rc != OK) {
			return rc;
		} else {
			t->rows = mysql_fetch_row(res) != NULL;
			mysql_free_result(res);
		}
	}
	*yes = t->rows;
	return OK;
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

/* Sets type, meta and collation of column c of the table map type that
 * information_schema's DATA_TYPE dt stands for (tablemap.c's read_meta
 * conventions). */
static int
column_type(struct b2a_column *c, struct col *k, MYSQL_ROW r,
    unsigned long *len, char *err, size_t errlen)
{
	const char *dt = r[1], *ct = r[2];
	uint64_t octets = num(r[4]), prec = num(r[5]), scale = num(r[6]);
	uint64_t fsp = num(r[7]);
	int character = 1;
	static const struct {
		const char *name;
		uint8_t type;
	} fixed[] = {{"tinyint", MT_TINY}, {"smallint", MT_SHORT},
	    {"mediumint", MT_INT24}, {"int", MT_LONG}, {"integer", MT_LONG},
	    {"bigint", MT_LONGLONG}, {"year", MT_YEAR}, {"date", MT_DATE}};
	static const char *blobs[4][2] = {{"tinytext", "tinyblob"},
	    {"text", "blob"}, {"mediumtext", "mediumblob"},
	    {"longtext", "longblob"}};
	static const char *geoms[] = {"geometry", "point", "linestring",
	    "polygon", "multipoint", "multilinestring", "multipolygon",
	    "geometrycollection", "geomcollection"};
	size_t i;

	(void)len;
	c->meta = 0;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(dt, fixed[i].name) == 0) {
			c->type = fixed[i].type;
			c->is_unsigned = c->type != MT_YEAR &&
			    c->type != MT_DATE && strstr(ct, "unsigned") != NULL;
			return 0;
		}
	}
	for (i = 0; i < 4; i++) {
		if (strcmp(dt, blobs[i][0]) == 0 ||
		    strcmp(dt, blobs[i][1]) == 0) {
			c->type = strstr(ct, "COMPRESSED") != NULL ?
			    MT_BLOB_COMPRESSED :
			    MT_BLOB;
			c->meta = (uint16_t)(i + 1);
			goto charset;
		}
	}
	for (i = 0; i < sizeof(geoms) / sizeof(geoms[0]); i++) {
		if (strcmp(dt, geoms[i]) == 0) {
			c->type = MT_GEOMETRY;
			c->meta = 4;
			c->collation = 63;
			return 0;
		}
	}
	if (strcmp(dt, "decimal") == 0 || strcmp(dt, "numeric") == 0) {
		c->type = MT_NEWDECIMAL;
		c->meta = (uint16_t)(prec << 8 | scale);
		c->is_unsigned = strstr(ct, "unsigned") != NULL;
	} else if (strcmp(dt, "float") == 0 || strcmp(dt, "double") == 0 ||
	    strcmp(dt, "real") == 0 || strcmp(dt, "double precision") == 0) {
		c->type = dt[0] == 'f' ? MT_FLOAT : MT_DOUBLE;
		c->meta = c->type == MT_FLOAT ? 4 : 8;
		c->is_unsigned = strstr(ct, "unsigned") != NULL;
	} else if (strcmp(dt, "bit") == 0) {
		c->type = MT_BIT;
		c->meta = (uint16_t)((prec % 8) << 8 | prec / 8);
	} else if (strcmp(dt, "time") == 0) {
		c->type = MT_TIME2;
		c->meta = (uint16_t)fsp;
	} else if (strcmp(dt, "datetime") == 0) {
		c->type = MT_DATETIME2;
		c->meta = (uint16_t)fsp;
	} else if (strcmp(dt, "timestamp") == 0) {
		c->type = MT_TIMESTAMP2;
		c->meta = (uint16_t)fsp;
	} else if (strcmp(dt, "char") == 0 || strcmp(dt, "binary") == 0) {
		c->type = MT_STRING;
		c->meta = (uint16_t)octets;
		goto charset;
	} else if (strcmp(dt, "varchar") == 0 ||
	    strcmp(dt, "varbinary") == 0) {
		c->type = strstr(ct, "COMPRESSED") != NULL ?
		    MT_VARCHAR_COMPRESSED :
		    MT_VARCHAR;
		c->meta = (uint16_t)octets;
		goto charset;
	} else if (strcmp(dt, "enum") == 0 || strcmp(dt, "set") == 0) {
		c->type = dt[0] == 'e' ? MT_ENUM : MT_SET;
		goto charset; /* meta once the symbols are known */
	} else if (strcmp(dt, "json") == 0) {
		c->type = MT_JSON; /* MySQL's; MariaDB's is longtext */
		c->meta = 4;
	} else if (strcmp(dt, "vector") == 0) {
		c->type = MT_VECTOR;
		c->meta = 4;
	} else if (strcmp(dt, "uuid") == 0 || strcmp(dt, "inet6") == 0 ||
	    strcmp(dt, "inet4") == 0) {
		/* MariaDB's: BINARY(16) or BINARY(4) in the binlog. */
		c->type = MT_STRING;
		c->meta = dt[4] == '4' ? 4 : 16;
		c->collation = 63;
		k->cast_bytes = c->meta;
	} else {
		return cdc_err(err, errlen, "column '%s' has type %s, which a "
		    "snapshot cannot read", c->name, ct);
	}
	character = 0;
charset:
	if (character) {
		/* Binary strings have no collation in information_schema. */
		c->collation = r[9] != NULL ? (int)num(r[9]) : 63;
		if (r[8] != NULL && r[10] != NULL) {
			k->charset = cdc_xstrdup(r[8]);
			k->collation = cdc_xstrdup(r[10]);
		}
	}
	return 0;
}

/* Reads ENUM/SET symbols in the column's charset (the table map's bytes):
 * COLUMN_TYPE is utf8, so other charsets are converted back. */
static int
enum_symbols(struct snap *s, const char *db, const char *name,
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
		put_ident(&q, cs);
		cdc_buf_puts(&q, ") FROM information_schema.COLUMNS WHERE "
				 "TABLE_SCHEMA = ");
		put_literal(s, &q, db);
		cdc_buf_puts(&q, " AND TABLE_NAME = ");
		put_literal(s, &q, name);
		cdc_buf_puts(&q, " AND COLUMN_NAME = ");
		put_literal(s, &q, c->name);
		rc = sql_rows(s, buf_str(&q), &res, err, errlen);
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
primary_key(struct snap *s, struct b2a_table *t, char *err, size_t errlen)
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
	put_table(&q, t->db, t->name);
	rc = sql_rows(s, buf_str(&q), &res, err, errlen);
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

/* The table as its binlog table map describes it, from information_schema;
 * *tp NULL when the table is gone. cols gets one struct col per column. */
static int
load_table(struct snap *s, const char *db, const char *name,
    struct b2a_table **tp, struct col **colsp, char *err, size_t errlen)
{
	struct cdc_buf q;
	MYSQL_RES *res;
	MYSQL_ROW r;
	struct b2a_table *t;
	struct col *cols = NULL;
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
	put_literal(s, &q, db);
	cdc_buf_puts(&q, " AND c.TABLE_NAME = ");
	put_literal(s, &q, name);
	cdc_buf_puts(&q, " ORDER BY c.ORDINAL_POSITION");
	rc = sql_rows(s, buf_str(&q), &res, err, errlen);
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
		rc = column_type(c, &cols[i], r, len, err, errlen) == 0 ? OK :
									FAIL;
		if (rc == OK && (c->type == MT_ENUM || c->type == MT_SET))
			rc = enum_symbols(s, db, name, c, r[8], r[2], err,
			    errlen);
	}
	mysql_free_result(res);
	if (rc == OK && t->ncols > 0)
		rc = primary_key(s, t, err, errlen);
	if (rc == OK && t->ncols > 0 &&
	    b2a_table_finish(t, s->d->o.prefix, err, errlen) == -1)
		rc = FAIL;
	if (rc != OK || t->ncols == 0) {
		for (i = 0; i < t->ncols; i++) {
			free(cols[i].charset);
			free(cols[i].collation);
		}
		free(cols);
		b2a_table_free(t);
		return rc;
	}
	*tp = t;
	*colsp = cols;
	return OK;
}

static enum fetch
fetch_of(const struct b2a_column *c)
{
	switch (c->type) {
	case MT_TINY:
	case MT_SHORT:
	case MT_INT24:
	case MT_LONG:
	case MT_LONGLONG:
	case MT_YEAR:
	case MT_ENUM:
	case MT_SET:
		return F_INT;
	case MT_FLOAT:
		return F_FLOAT;
	case MT_DOUBLE:
		return F_DOUBLE;
	case MT_DATE:
	case MT_TIME2:
	case MT_DATETIME2:
	case MT_TIMESTAMP2:
		return F_TIME;
	default:
		return F_BYTES;
	}
}

static enum fetch
fetch_of_field(enum enum_field_types ft)
{
	switch (ft) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
		return F_INT;
	case MYSQL_TYPE_FLOAT:
		return F_FLOAT;
	case MYSQL_TYPE_DOUBLE:
		return F_DOUBLE;
	case MYSQL_TYPE_DATE:
	case MYSQL_TYPE_NEWDATE:
	case MYSQL_TYPE_TIME:
	case MYSQL_TYPE_DATETIME:
	case MYSQL_TYPE_TIMESTAMP:
		return F_TIME;
	default:
		return F_BYTES;
	}
}

/* The per-table reading state. */
struct reader {
	struct b2a_table *t;
	struct col *cols;
	MYSQL_STMT *first, *next;
	MYSQL_BIND *res, *par;
	struct keyval *kv;
	struct row rows[2];
	int chunked;
};

static void
reader_free(struct reader *rd)
{
	size_t i;

	if (rd->first != NULL)
		mysql_stmt_close(rd->first);
	if (rd->next != NULL)
		mysql_stmt_close(rd->next);
	if (rd->t != NULL) {
		for (i = 0; i < rd->t->ncols; i++) {
			free(rd->cols[i].buf);
			free(rd->cols[i].charset);
			free(rd->cols[i].collation);
		}
		for (i = 0; i < rd->t->npk && rd->kv != NULL; i++)
			cdc_buf_fini(&rd->kv[i].bytes);
	}
	for (i = 0; i < 2; i++) {
		cdc_buf_fini(&rd->rows[i].val);
		cdc_buf_fini(&rd->rows[i].key);
		free(rd->rows[i].off);
	}
	free(rd->cols);
	free(rd->res);
	free(rd->par);
	free(rd->kv);
	b2a_table_free(rd->t);
	memset(rd, 0, sizeof(*rd));
}

/* SELECT list, FROM, and for chunks WHERE (key) > (?) and ORDER BY key. */
static char *
select_sql(const struct reader *rd, int after, int64_t limit)
{
	const struct b2a_table *t = rd->t;
	struct cdc_buf q;
	size_t i, j, k;

	cdc_buf_init(&q);
	cdc_buf_puts(&q, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		const struct b2a_column *c = &t->cols[i];

		if (i > 0)
			cdc_buf_puts(&q, ", ");
		if (c->type == MT_ENUM || c->type == MT_SET) {
			/* The number the binlog stores. */
			cdc_buf_puts(&q, "CAST(");
			put_ident(&q, c->name);
			cdc_buf_puts(&q, " AS UNSIGNED)");
		} else if (rd->cols[i].cast_bytes > 0) {
			cdc_buf_puts(&q, "CAST(");
			put_ident(&q, c->name);
			cdc_buf_printf(&q, " AS BINARY(%d))",
			    rd->cols[i].cast_bytes);
		} else {
			put_ident(&q, c->name);
		}
	}
	cdc_buf_puts(&q, " FROM ");
	put_table(&q, t->db, t->name);
	if (!rd->chunked)
		return buf_str(&q);
	if (after) {
		/* (k1 > a1) OR (k1 = a1 AND k2 > a2) OR ...: ranges the
		 * optimizer reads from the key, where MariaDB does not for a
		 * row comparison. */
		cdc_buf_puts(&q, " WHERE ");
		for (i = 0; i < t->npk; i++) {
			cdc_buf_puts(&q, i > 0 ? " OR (" : "(");
			for (j = 0; j <= i; j++) {
				const struct b2a_column *c =
				    &t->cols[t->pk[j]];
				const struct col *k1 = &rd->cols[t->pk[j]];

				if (j > 0)
					cdc_buf_puts(&q, " AND ");
				put_ident(&q, c->name);
				cdc_buf_puts(&q, j < i ? " = " : " > ");
				if (c->kind == K_STRING &&
				    k1->collation != NULL) {
					cdc_buf_puts(&q, "CONVERT(? USING ");
					put_ident(&q, k1->charset);
					cdc_buf_puts(&q, ") COLLATE ");
					put_ident(&q, k1->collation);
				} else {
					cdc_buf_puts(&q, "?");
				}
			}
			cdc_buf_puts(&q, ")");
		}
	}
	cdc_buf_puts(&q, " ORDER BY ");
	for (k = 0; k < t->npk; k++) {
		if (k > 0)
			cdc_buf_puts(&q, ", ");
		put_ident(&q, t->cols[t->pk[k]].name);
	}
	cdc_buf_printf(&q, " LIMIT %" PRId64, limit);
	return buf_str(&q);
}

static int
stmt_fail(struct snap *s, MYSQL_STMT *st, const struct b2a_table *t,
    const char *what, char *err, size_t errlen)
{
	unsigned int e = mysql_stmt_errno(st);

	cdc_err(err, errlen, "snapshot of '%s.%s': %s: %s (error %u)", t->db,
	    t->name, what, mysql_stmt_error(st), e);
	(void)s;
	return retryable(e) ? RETRY : FAIL;
}


/* Prepares a chunk statement (after: the one with the key condition) and
 * binds its result columns, checking that the server sends each column as
 * the table's type expects. */
static int
prepare(struct snap *s, struct reader *rd, int after, int64_t limit,
    MYSQL_STMT **stp, char *err, size_t errlen)
{
	const struct b2a_table *t = rd->t;
	char *q = select_sql(rd, after, limit);
	MYSQL_STMT *st = mysql_stmt_init(s->m);
	MYSQL_RES *meta;
	MYSQL_FIELD *f;
	size_t i;
	int rc = OK;

	if (st == NULL) {
		free(q);
		return sql_fail(s, "mysql_stmt_init", err, errlen);
	}
	if (mysql_stmt_prepare(st, q, (unsigned long)strlen(q)) != 0) {
		rc = stmt_fail(s, st, t, q, err, errlen);
		free(q);
		mysql_stmt_close(st);
		return rc;
	}
	free(q);
	meta = mysql_stmt_result_metadata(st);
	if (meta == NULL || mysql_num_fields(meta) != t->ncols) {
		mysql_free_result(meta);
		mysql_stmt_close(st);
		return cdc_err(err, errlen, "snapshot of '%s.%s': the SELECT "
		    "does not return its %zu columns", t->db, t->name,
		    t->ncols);
	}
	f = mysql_fetch_fields(meta);
	for (i = 0; i < t->ncols; i++) {
		struct col *k = &rd->cols[i];
		MYSQL_BIND *b = &rd->res[i];

		if (fetch_of_field(f[i].type) != k->f) {
			rc = cdc_err(err, errlen, "snapshot of '%s.%s': column "
			    "'%s' comes as type %d, not as its type %s", t->db,
			    t->name, t->cols[i].name, (int)f[i].type,
			    t->cols[i].cdc_type);
			break;
		}
		memset(b, 0, sizeof(*b));
		b->length = &k->len;
		b->is_null = &k->null;
		b->error = &k->error;
		switch (k->f) {
		case F_INT:
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &k->i;
			b->is_unsigned = (f[i].flags & UNSIGNED_FLAG) != 0;
			break;
		case F_FLOAT:
			b->buffer_type = MYSQL_TYPE_FLOAT;
			b->buffer = &k->fl;
			break;
		case F_DOUBLE:
			b->buffer_type = MYSQL_TYPE_DOUBLE;
			b->buffer = &k->db;
			break;
		case F_TIME:
			b->buffer_type = f[i].type == MYSQL_TYPE_NEWDATE ?
			    MYSQL_TYPE_DATE :
			    f[i].type;
			b->buffer = &k->t;
			break;
		case F_BYTES:
			if (k->buf == NULL) {
				k->cap = 256;
				k->buf = cdc_xmalloc(k->cap);
			}
			b->buffer_type = MYSQL_TYPE_BLOB;
			b->buffer = k->buf;
			b->buffer_length = k->cap;
			break;
		}
	}
	mysql_free_result(meta);
	if (rc == OK && mysql_stmt_bind_result(st, rd->res) != 0)
		rc = stmt_fail(s, st, t, "binding the result", err, errlen);
	if (rc != OK) {
		mysql_stmt_close(st);
		return rc;
	}
	*stp = st;
	return OK;
}

/* Fetches the parts of long values the bound buffers could not hold. */
static int
fetch_long(struct snap *s, struct reader *rd, MYSQL_STMT *st, char *err,
    size_t errlen)
{
	size_t i;
	int rebind = 0;

	for (i = 0; i < rd->t->ncols; i++) {
		struct col *k = &rd->cols[i];
		MYSQL_BIND b;
		unsigned long len;
		my_bool null, error;

		if (k->f != F_BYTES || k->null || k->len <= k->cap)
			continue;
		k->cap = k->len + 1;
		k->buf = cdc_xrealloc(k->buf, k->cap);
		memset(&b, 0, sizeof(b));
		b.buffer_type = MYSQL_TYPE_BLOB;
		b.buffer = k->buf;
		b.buffer_length = k->cap;
		b.length = &len;
		b.is_null = &null;
		b.error = &error;
		if (mysql_stmt_fetch_column(st, &b, (unsigned int)i, 0) != 0)
			return stmt_fail(s, st, rd->t, "fetching a long value",
			    err, errlen);
		k->len = len;
		rd->res[i].buffer = k->buf;
		rd->res[i].buffer_length = k->cap;
		rebind = 1;
	}
	if (rebind && mysql_stmt_bind_result(st, rd->res) != 0)
		return stmt_fail(s, st, rd->t, "binding the result", err,
		    errlen);
	return OK;
}

static void
col_value(const struct col *k, struct b2a_snapval *v)
{
	memset(v, 0, sizeof(*v));
	v->null = k->null;
	switch (k->f) {
	case F_INT:
		v->i = k->i;
		break;
	case F_FLOAT:
		v->f = k->fl;
		break;
	case F_DOUBLE:
		v->d = k->db;
		break;
	case F_TIME:
		v->neg = k->t.neg;
		v->year = k->t.year;
		v->month = k->t.month;
		v->day = k->t.day;
		v->hour = k->t.hour;
		v->minute = k->t.minute;
		v->second = k->t.second;
		v->us = k->t.second_part;
		break;
	case F_BYTES:
		v->s = k->buf;
		v->n = k->len;
		break;
	}
}

/* Encodes the fetched row into w: its Value record and its key text. */
static int
encode_row(struct snap *s, struct reader *rd, struct row *w, char *err,
    size_t errlen)
{
	const struct b2a_table *t = rd->t;
	struct b2a_snapval v;
	char msg[CDC_ERRLEN];
	size_t i;

	w->val.len = 0;
	w->key.len = 0;
	for (i = 0; i < t->ncols; i++) {
		w->off[i] = w->val.len;
		col_value(&rd->cols[i], &v);
		if (b2a_snap_value(&t->cols[i], &v, &w->val, msg,
			sizeof(msg)) == -1) {
			s->code = EX_DATAERR;
			return cdc_err(err, errlen, "snapshot of '%s.%s': %s",
			    t->db, t->name, msg);
		}
	}
	w->off[t->ncols] = w->val.len;
	for (i = 0; rd->chunked && i < t->npk; i++) {
		if (i > 0)
			cdc_buf_putc(&w->key, ',');
		col_value(&rd->cols[t->pk[i]], &v);
		b2a_snap_key_text(&t->cols[t->pk[i]], &v, &w->key);
	}
	return OK;
}

/* Parses the key text after into the statement parameters. */
static int
key_params(struct reader *rd, const char *after)
{
	const struct b2a_table *t = rd->t;
	const char *p = after, *comma;
	size_t i, j, n = 0;

	for (i = 0; i < t->npk; i++) {
		const struct b2a_column *c = &t->cols[t->pk[i]];
		struct keyval *kv = &rd->kv[i];

		comma = strchr(p, ',');
		if ((comma == NULL) != (i + 1 == t->npk))
			return -1;
		if (comma == NULL)
			comma = p + strlen(p);
		if (b2a_snap_key_parse(c, p, (size_t)(comma - p), &kv->v,
			&kv->bytes) == -1)
			return -1;
		p = comma + 1;
		/* The parameter, bound below to each of its places. */
		kv->i = kv->v.i;
		kv->len = (unsigned long)kv->v.n;
		memset(&kv->t, 0, sizeof(kv->t));
		kv->t.neg = (my_bool)kv->v.neg;
		kv->t.year = kv->v.year;
		kv->t.month = kv->v.month;
		kv->t.day = kv->v.day;
		kv->t.hour = kv->v.hour;
		kv->t.minute = kv->v.minute;
		kv->t.second = kv->v.second;
		kv->t.second_part = kv->v.us;
		kv->t.time_type = c->type == MT_DATE ? MYSQL_TIMESTAMP_DATE :
		    c->type == MT_TIME2		     ? MYSQL_TIMESTAMP_TIME :
						       MYSQL_TIMESTAMP_DATETIME;
		if (c->type == MT_BIT) {
			uint64_t u = 0;

			for (j = 0; j < kv->v.n; j++)
				u = (u << 8) | kv->v.s[j];
			kv->i = (long long)u;
		}
	}
	for (i = 0; i < t->npk; i++) {
		for (j = 0; j <= i; j++) {
			const struct b2a_column *c = &t->cols[t->pk[j]];
			struct keyval *kv = &rd->kv[j];
			MYSQL_BIND *b = &rd->par[n++];

			memset(b, 0, sizeof(*b));
			switch (c->type == MT_BIT ? F_INT : fetch_of(c)) {
			case F_INT:
				b->buffer_type = MYSQL_TYPE_LONGLONG;
				b->buffer = &kv->i;
				b->is_unsigned = c->is_unsigned ||
				    c->type == MT_ENUM || c->type == MT_SET ||
				    c->type == MT_BIT;
				break;
			case F_FLOAT:
				b->buffer_type = MYSQL_TYPE_FLOAT;
				b->buffer = &kv->v.f;
				break;
			case F_DOUBLE:
				b->buffer_type = MYSQL_TYPE_DOUBLE;
				b->buffer = &kv->v.d;
				break;
			case F_TIME:
				b->buffer_type = c->type == MT_DATE ?
				    MYSQL_TYPE_DATE :
				    c->type == MT_TIME2	     ? MYSQL_TYPE_TIME :
				    c->type == MT_TIMESTAMP2 ? MYSQL_TYPE_TIMESTAMP :
							       MYSQL_TYPE_DATETIME;
				b->buffer = &kv->t;
				break;
			case F_BYTES:
				b->buffer_type = c->type == MT_NEWDECIMAL ?
				    MYSQL_TYPE_NEWDECIMAL :
				    MYSQL_TYPE_BLOB;
				b->buffer = kv->bytes.p != NULL ?
				    (void *)kv->bytes.p :
				    (void *)"";
				b->buffer_length = kv->len;
				b->length = &kv->len;
				break;
			}
		}
	}
	return 0;
}

/* Emits a row read into the open transaction (opened at the first). */
static int
emit_row(struct snap *s, struct reader *rd, const struct row *w, int last,
    char *err, size_t errlen)
{
	struct b2a_decoder *d = s->d;

	if (!d->in_trx) {
		b2a_trx_begin(d);
		rd->t->order = 0;
	}
	snprintf(d->ev_pos, sizeof(d->ev_pos), "%s", s->ev_pos);
	if (b2a_emit_read(d, rd->t, w->val.p, w->off, last, s->version, err,
		errlen) == -1) {
		s->code = d->io_error ? EX_IOERR : EX_DATAERR;
		return FAIL;
	}
	return OK;
}

/* Ends the open transaction (or an empty one) with a commit mark at
 * position; a snapshot position becomes the one to resume from. */
static int
commit_mark(struct snap *s, const char *position, char *err, size_t errlen)
{
	struct b2a_decoder *d = s->d;
	struct cdc_frame f;

	b2a_trx_begin(d);
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_COMMIT;
	f.seq = ++d->seq;
	f.position.p = (const uint8_t *)position;
	f.position.len = strlen(position);
	f.version = d->trx_version;
	f.ts_ms = d->when * 1000;
	if (cdc_writer_put(d->w, &f, err, errlen) == -1 ||
	    cdc_writer_release(d->w, err, errlen) == -1) {
		d->io_error = 1;
		s->code = EX_IOERR;
		return FAIL;
	}
	d->last_version = d->trx_version;
	d->commits++;
	d->in_trx = 0;
	d->explicit_trx = 0;
	return OK;
}

/* Drops the open transaction: its frames were held, never written. */
static void
discard(struct snap *s)
{
	if (s->d->in_trx)
		cdc_writer_discard(s->d->w);
	s->d->in_trx = 0;
}

/* Whether no table after ti has a row: the last row of ti is then the
 * snapshot's last. */
static int
nothing_after(struct snap *s, size_t ti, int *yes, char *err, size_t errlen)
{
	size_t j;
	int rows, rc;

	*yes = 1;
	for (j = ti + 1; j < s->ntables; j++) {
		if ((rc = has_rows(s, j, &rows, err, errlen)) != OK)
			return rc;
		if (rows) {
			*yes = 0;
			break;
		}
	}
	return OK;
}

static int
reader_open(struct snap *s, struct reader *rd, const struct table *tb,
    char *err, size_t errlen)
{
	struct b2a_table *t;
	size_t i, np;
	int rc;

	memset(rd, 0, sizeof(*rd));
	rc = load_table(s, tb->db, tb->name, &rd->t, &rd->cols, err, errlen);
	if (rc != OK || rd->t == NULL)
		return rc;
	t = rd->t;
	rd->chunked = t->npk > 0;
	for (i = 0; i < t->npk; i++)
		rd->chunked &= b2a_snap_key_ok(&t->cols[t->pk[i]]);
	for (i = 0; i < t->ncols; i++)
		rd->cols[i].f = fetch_of(&t->cols[i]);
	rd->res = cdc_xcalloc(t->ncols, sizeof(*rd->res));
	np = t->npk * (t->npk + 1) / 2;
	rd->par = cdc_xcalloc(np > 0 ? np : 1, sizeof(*rd->par));
	rd->kv = cdc_xcalloc(t->npk > 0 ? t->npk : 1, sizeof(*rd->kv));
	for (i = 0; i < t->npk; i++)
		cdc_buf_init(&rd->kv[i].bytes);
	for (i = 0; i < 2; i++) {
		cdc_buf_init(&rd->rows[i].val);
		cdc_buf_init(&rd->rows[i].key);
		rd->rows[i].off = cdc_xcalloc(t->ncols + 1, sizeof(size_t));
	}
	return OK;
}

/* Reads table ti from after its key text after (NULL: from its start),
 * chunk by chunk, each chunk a transaction with its commit mark. */
static int
read_table(struct snap *s, size_t ti, const char *after_pos, char *err,
    size_t errlen)
{
	const struct table *tb = &s->tables[ti];
	struct reader rd;
	struct b2a_snappos p;
	struct cdc_buf pos;
	char *after = NULL;
	int64_t limit = s->l->snapshot_chunk, n, total = 0;
	int rc, more, last, cur = 0, pending, r;
	MYSQL_STMT *st;

	rc = reader_open(s, &rd, tb, err, errlen);
	if (rc != OK)
		return rc;
	if (rd.t == NULL) {
		cdc_warn("snapshot: table '%s.%s' is gone; skipped", tb->db,
		    tb->name);
		s->tables[ti].rows = 0;
		return OK;
	}
	if (after_pos != NULL && rd.chunked &&
	    key_params(&rd, after_pos) == 0)
		after = cdc_xstrdup(after_pos);
	else if (after_pos != NULL)
		cdc_warn("snapshot: the position's key '%s' does not fit table "
			 "'%s.%s' (its key changed?): reading it from the "
			 "start",
		    after_pos, tb->db, tb->name);
	cdc_buf_init(&pos);
	for (;;) {
		st = after != NULL ? rd.next : rd.first;
		if (st == NULL) {
			rc = prepare(s, &rd, after != NULL, limit + 1, &st, err,
			    errlen);
			if (rc != OK)
				break;
			if (after != NULL)
				rd.next = st;
			else
				rd.first = st;
		}
		if (after != NULL && (key_params(&rd, after) == -1 ||
					 mysql_stmt_bind_param(st, rd.par) != 0)) {
			rc = cdc_err(err, errlen, "snapshot of '%s.%s': cannot "
			    "bind the key '%s'", tb->db, tb->name, after);
			break;
		}
		if (mysql_stmt_execute(st) != 0) {
			rc = stmt_fail(s, st, rd.t, "SELECT", err, errlen);
			break;
		}
		n = 0;
		more = 0;
		pending = -1;
		for (;;) {
			if (cdc_stop) {
				rc = OK;
				goto out;
			}
			r = mysql_stmt_fetch(st);
			if (r == MYSQL_NO_DATA)
				break;
			if (r != 0 && r != MYSQL_DATA_TRUNCATED) {
				rc = stmt_fail(s, st, rd.t, "fetching a row",
				    err, errlen);
				goto out;
			}
			if ((rc = fetch_long(s, &rd, st, err, errlen)) != OK)
				goto out;
			if (rd.chunked && n == limit) {
				more = 1; /* a row of the next chunk */
				break;
			}
			if ((rc = encode_row(s, &rd, &rd.rows[cur], err,
				 errlen)) != OK)
				goto out;
			/* A row is emitted once the next is known, so the
			 * very last can say "last". */
			if (pending >= 0 &&
			    (rc = emit_row(s, &rd, &rd.rows[pending], 0, err,
				 errlen)) != OK)
				goto out;
			pending = cur;
			cur ^= 1;
			n++;
		}
		mysql_stmt_free_result(st);
		total += n;
		if (pending < 0)
			break; /* nothing (more) in the table */
		last = 0;
		if (!more && (rc = nothing_after(s, ti, &last, err, errlen)) !=
			OK)
			goto out;
		if ((rc = emit_row(s, &rd, &rd.rows[pending], last, err,
			 errlen)) != OK)
			goto out;
		memset(&p, 0, sizeof(p));
		memcpy(p.file, s->pos.file, sizeof(p.file));
		p.pos = s->pos.pos;
		p.db = tb->db;
		p.table = tb->name;
		p.done = !more;
		p.after = (char *)buf_str(&rd.rows[pending].key);
		pos.len = 0;
		b2a_snappos_text(&p, &pos);
		if ((rc = commit_mark(s, buf_str(&pos), err, errlen)) != OK)
			goto out;
		b2a_snappos_fini(&s->pos);
		s->pos.db = cdc_xstrdup(tb->db);
		s->pos.table = cdc_xstrdup(tb->name);
		s->pos.done = !more;
		s->pos.after = cdc_xstrdup(p.after);
		s->committed = 1;
		if (!more)
			break;
		free(after);
		after = cdc_xstrdup(p.after);
		if (total % 1000000 < limit)
			cdc_info("snapshot table=%s.%s rows=%" PRId64, tb->db,
			    tb->name, total);
	}
out:
	if (rc == OK && !cdc_stop)
		cdc_info("snapshot table=%s.%s rows=%" PRId64 " done", tb->db,
		    tb->name, total);
	free(after);
	cdc_buf_fini(&pos);
	reader_free(&rd);
	return rc;
}

/* Sets what a snapshot connection needs: values exactly as stored
 * (binary results, UTC, no padding), long sorts, a long patience. */
static int
session(struct snap *s, char *err, size_t errlen)
{
	static const char *must[] = {
	    "SET SESSION character_set_results = binary",
	    "SET SESSION time_zone = '+00:00'",
	    "SET SESSION sql_mode = ''",
	    "SET SESSION max_sort_length = 8388608",
	    "SET SESSION net_write_timeout = 3600",
	    "SET SESSION net_read_timeout = 3600",
	    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
	};
	size_t i;
	int rc;

	if (mysql_set_character_set(s->m, "utf8mb4") != 0)
		return sql_fail(s, "SET NAMES utf8mb4", err, errlen);
	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if ((rc = sql(s, must[i], err, errlen)) != OK)
			return rc;
	/* No statement time limit, where the server has one. */
	if (mysql_query(s->m, s->mariadb ? "SET SESSION max_statement_time = 0" :
					   "SET SESSION max_execution_time = 0") ==
	    0)
		mysql_free_result(mysql_store_result(s->m));
	return OK;
}

/* The snapshot's version: below every change of the binlog after
 * file:pos (docs/binlog2avro.md, "Versions"). */
static int
snapshot_version(const char *file, uint64_t pos, int64_t *v, char *err,
    size_t errlen)
{
	const char *dot = strrchr(file, '.');
	uint64_t seq = dot != NULL ? strtoull(dot + 1, NULL, 10) : 0;

	if (seq >= (1u << 21) || pos >= (1ULL << 32))
		return cdc_err(err, errlen, "binlog file number %" PRIu64
		    " or position %" PRIu64 " beyond the version scheme", seq,
		    pos);
	*v = (int64_t)((((seq << 32) + pos) << 10)) - 1;
	return OK;
}

/* One attempt: a new consistent snapshot, read from s->pos on. */
static int
snapshot_once(struct snap *s, char *err, size_t errlen)
{
	struct b2a_decoder *d = s->d;
	struct b2a_snappos at;
	struct cdc_buf pos;
	MYSQL_RES *res;
	MYSQL_ROW r;
	size_t i;
	int rc, c;

	s->m = b2a_live_connect(s->l, TIMEOUT, err, errlen);
	if (s->m == NULL)
		return RETRY;
	s->mariadb = strstr(mysql_get_server_info(s->m), "MariaDB") != NULL;
	if ((rc = session(s, err, errlen)) != OK ||
	    (rc = open_snapshot(s, &at, err, errlen)) != OK)
		return rc;
	if (!s->committed) {
		b2a_snappos_fini(&s->pos);
		s->pos = at;
		cdc_info("snapshot at %s:%" PRIu64, at.file, at.pos);
	} else {
		if ((rc = binlog_exists(s, s->pos.file, err, errlen)) != OK)
			return rc == RETRY ? RETRY : FAIL;
		cdc_info("snapshot resumed after %s%s%s (snapshot of %s:%" PRIu64
			 ", now at %s:%" PRIu64 ")",
		    s->pos.db != NULL ? s->pos.db : "the start",
		    s->pos.db != NULL ? "." : "",
		    s->pos.table != NULL ? s->pos.table : "", s->pos.file,
		    s->pos.pos, at.file, at.pos);
	}
	if (snapshot_version(s->pos.file, s->pos.pos, &s->version, err,
		errlen) == -1)
		return FAIL;
	if ((rc = sql_rows(s, "SELECT @@server_id, UNIX_TIMESTAMP()", &res,
		 err, errlen)) != OK)
		return rc;
	r = mysql_fetch_row(res);
	/* The source of the changes: the snapshot's binlog position, the
	 * server, the time the snapshot was taken. */
	b2a_decoder_file(d, s->pos.file);
	d->pos = d->next_pos = s->pos.pos;
	d->server_id = (uint32_t)(r != NULL && r[0] != NULL ?
		strtoul(r[0], NULL, 10) :
		0);
	d->when = r != NULL && r[1] != NULL ? strtoll(r[1], NULL, 10) : 0;
	d->gtid[0] = '\0';
	d->thread_id = -1;
	mysql_free_result(res);
	snprintf(s->ev_pos, sizeof(s->ev_pos), "snapshot:%s:%" PRIu64,
	    s->pos.file, s->pos.pos);
	if ((rc = list_tables(s, err, errlen)) != OK)
		return rc;
	for (i = 0; i < s->ntables && !cdc_stop; i++) {
		const char *after = NULL;

		if (s->pos.db != NULL) {
			c = strcmp(s->tables[i].db, s->pos.db);
			if (c == 0)
				c = strcmp(s->tables[i].name, s->pos.table);
			if (c < 0 || (c == 0 && s->pos.done))
				continue; /* read before */
			if (c == 0)
				after = s->pos.after;
		}
		if ((rc = read_table(s, i, after, err, errlen)) != OK)
			return rc;
	}
	if (cdc_stop)
		return OK;
	/* Done: the binlog from the snapshot's position follows. */
	cdc_buf_init(&pos);
	cdc_buf_printf(&pos, "binlog:%s:%" PRIu64, s->pos.file, s->pos.pos);
	rc = commit_mark(s, buf_str(&pos), err, errlen);
	cdc_buf_fini(&pos);
	if (rc != OK)
		return rc;
	free(d->resume_file);
	d->resume_file = cdc_xstrdup(s->pos.file);
	d->resume_pos = s->pos.pos;
	if ((rc = sql(s, "COMMIT", err, errlen)) != OK)
		cdc_warn("snapshot: %s", err); /* read only: nothing lost */
	return OK;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (!cdc_stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
b2a_snapshot_run(struct b2a_decoder *d, const struct b2a_live *l)
{
	struct snap s;
	struct b2a_live live;
	char err[CDC_ERRLEN], start[600];
	int resume = l->start != NULL && strncmp(l->start, "snapshot:", 9) == 0;
	int attempts = 0, rc;
	int64_t backoff = 500;

	if (l->snapshot == B2A_SNAPSHOT_NEVER && resume) {
		cdc_error("cannot resume the snapshot position '%s' with "
			  "--snapshot=never",
		    l->start);
		return EX_USAGE;
	}
	if (l->snapshot == B2A_SNAPSHOT_NEVER ||
	    (l->snapshot == B2A_SNAPSHOT_INITIAL && l->start != NULL &&
		!resume))
		return b2a_live_run(d, l);
	if (l->snapshot == B2A_SNAPSHOT_ONLY && l->start != NULL && !resume) {
		cdc_error("--snapshot=only takes a snapshot: it cannot start "
			  "at '%s'",
		    l->start);
		return EX_USAGE;
	}
	memset(&s, 0, sizeof(s));
	s.d = d;
	s.l = l;
	if (resume) {
		if (b2a_snappos_parse(&s.pos, l->start, err, sizeof(err)) ==
		    -1) {
			cdc_error("%s", err);
			return EX_USAGE;
		}
		s.committed = 1;
	}
	for (;;) {
		s.code = 0;
		rc = snapshot_once(&s, err, sizeof(err));
		if (s.m != NULL)
			mysql_close(s.m);
		s.m = NULL;
		if (rc == OK || cdc_stop) {
			discard(&s);
			break;
		}
		discard(&s);
		if (rc == FAIL || s.code != 0) {
			if (s.code == EX_IOERR)
				cdc_epipe_check(errno);
			cdc_error("%s", err);
			rc = s.code != 0 ? s.code : 1;
			goto done;
		}
		if (++attempts > l->retries) {
			cdc_error("snapshot: %s; giving up after %d attempts",
			    err, attempts);
			rc = s.committed ? EX_TEMPFAIL : EX_UNAVAILABLE;
			goto done;
		}
		cdc_warn("snapshot: %s; a new snapshot resumes at the last "
			 "commit mark in %" PRId64 " ms",
		    err, backoff);
		sleep_ms(backoff);
		backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
	}
	rc = 0;
	if (!cdc_stop && l->snapshot != B2A_SNAPSHOT_ONLY) {
		/* The binlog from exactly the snapshot's position. */
		snprintf(start, sizeof(start), "%s:%" PRIu64, s.pos.file,
		    s.pos.pos);
		live = *l;
		live.start = start;
		rc = b2a_live_run(d, &live);
	}
done:
	free_tables(&s);
	b2a_snappos_fini(&s.pos);
	return rc;
}
