/* Live replication's names for table maps without them (servers before
 * MySQL 8.0.1 / MariaDB 10.5, or binlog_row_metadata=MINIMAL or NO_LOG):
 * the column names, the key, signedness, charsets and ENUM/SET values come
 * from the server's information_schema, read as the snapshot reads it
 * (snapschema.c), on a connection of its own, since the replication
 * connection is busy streaming. The binlog's types and metadata still
 * decode the values.
 *
 * information_schema describes the table as it is now, not as it was when
 * the event was written. A column count or a column type that disagrees
 * with the table map is DDL racing the stream: refused, never guessed. A
 * rename that keeps the types cannot be seen, hence a warning per table. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "binlog.h"
#include "live.h"
#include "log.h"
#include "snapsql.h"
#include "types.h"
#include "sys.h"

#define TIMEOUT 30 /* seconds, for the lookup connection's queries */

enum { OK = SNAP_OK, FAIL = SNAP_FAIL, RETRY = SNAP_RETRY };

/* What information_schema said about one table. A table map that is the
 * same but for its table id (the server reopened the table) reuses it,
 * unless a DDL statement came in between. */
struct entry {
	char *db, *name;
	uint8_t *shape; /* the table map after its table id; NULL: not read */
	size_t shapelen;
	uint64_t ddls;          /* the decoder's DDL count when read */
	struct b2a_table *info; /* not finished; NULL with why */
	struct b2a_snapcol *sc;
	const char *why; /* why the columns stay named by position */
	int warned, warned_why;
};

struct b2a_lookup {
	const struct b2a_live *l;
	MYSQL *m; /* NULL until needed, and after a lost connection */
	struct entry *e;
	size_t n;
	int failures; /* failed connections in a row */
	int code;     /* b2a_lookup_code() */
};

struct b2a_lookup *
b2a_lookup_new(const struct b2a_live *l)
{
	struct b2a_lookup *k = cdc_xcalloc(1, sizeof(*k));

	k->l = l;
	return k;
}

static void
entry_clear(struct entry *e)
{
	if (e->info != NULL)
		b2a_snapcols_free(e->sc, e->info->ncols);
	b2a_table_free(e->info);
	free(e->shape);
	e->info = NULL;
	e->sc = NULL;
	e->shape = NULL;
	e->shapelen = 0;
	e->why = NULL;
}

void
b2a_lookup_free(struct b2a_lookup *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++) {
		entry_clear(&k->e[i]);
		free(k->e[i].db);
		free(k->e[i].name);
	}
	free(k->e);
	if (k->m != NULL)
		mysql_close(k->m);
	free(k);
}

int
b2a_lookup_code(const struct b2a_lookup *k)
{
	return k->code;
}

static struct entry *
entry_get(struct b2a_lookup *k, const char *db, const char *name)
{
	struct entry *e;
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->e[i].db, db) == 0 &&
		    strcmp(k->e[i].name, name) == 0)
			return &k->e[i];
	k->e = cdc_xrealloc(k->e, (k->n + 1) * sizeof(*k->e));
	e = &k->e[k->n++];
	memset(e, 0, sizeof(*e));
	e->db = cdc_xstrdup(db);
	e->name = cdc_xstrdup(name);
	return e;
}

/* Opens the connection unless it is open: the session the schema reading
 * needs (snapsql.h). */
static int
open_conn(struct b2a_lookup *k, char *err, size_t errlen)
{
	int rc;

	if (k->m != NULL)
		return OK;
	k->m = b2a_live_connect(k->l, TIMEOUT, err, errlen);
	if (k->m == NULL)
		return RETRY;
	if (mysql_set_character_set(k->m, "utf8mb4") != 0)
		rc = b2a_sql_fail(k->m, "SET NAMES utf8mb4", err, errlen);
	else
		rc = b2a_sql(k->m, "SET SESSION character_set_results = binary",
		    err, errlen);
	if (rc != OK) {
		mysql_close(k->m);
		k->m = NULL;
	}
	return rc;
}

/* Reads e's table, reconnecting once when the connection was lost: an
 * idle one may have met the server's wait_timeout. */
static int
read_entry(struct b2a_lookup *k, struct entry *e, char *err, size_t errlen)
{
	int rc = RETRY, tries;

	for (tries = 0; tries < 2 && rc == RETRY; tries++) {
		if (tries > 0 && k->m != NULL) {
			cdc_debug("information_schema connection: %s; "
				  "reconnecting", err);
			mysql_close(k->m);
			k->m = NULL;
		}
		rc = open_conn(k, err, errlen);
		if (rc == OK)
			rc = b2a_schema_read(k->m, e->db, e->name, &e->info,
			    &e->sc, err, errlen);
	}
	if (rc == RETRY && k->m != NULL) {
		mysql_close(k->m);
		k->m = NULL;
	}
	return rc;
}

/* Whether the table is one of MariaDB's system-versioned tables, whose
 * hidden row_start and row_end columns are in the table map but not in
 * information_schema. */
static int
versioned(struct b2a_lookup *k, const struct entry *e)
{
	struct cdc_buf q;
	MYSQL_RES *res;
	MYSQL_ROW r;
	char err[CDC_ERRLEN];
	int yes = 0;

	cdc_buf_init(&q);
	cdc_buf_puts(&q, "SELECT TABLE_TYPE FROM information_schema.TABLES "
			 "WHERE TABLE_SCHEMA = ");
	b2a_sql_literal(k->m, &q, e->db);
	cdc_buf_puts(&q, " AND TABLE_NAME = ");
	b2a_sql_literal(k->m, &q, e->name);
	if (b2a_sql_rows(k->m, b2a_sql_str(&q), &res, err, sizeof(err)) ==
	    OK) {
		r = mysql_fetch_row(res);
		yes = r != NULL && r[0] != NULL &&
		    strcmp(r[0], "SYSTEM VERSIONED") == 0;
		mysql_free_result(res);
	}
	cdc_buf_fini(&q);
	return yes;
}

/* Fills in t from e what its table map lacks, after checking that the
 * two describe the same columns, and finishes t again. */
static int
complete(const struct b2a_options *o, struct b2a_table *t,
    const struct entry *e, char *err, size_t errlen)
{
	const struct b2a_table *s = e->info;
	struct b2a_column *c;
	const struct b2a_column *x;
	size_t i, j;

	if (s->ncols != t->ncols)
		return cdc_err(err, errlen, "table '%s.%s' has %zu columns in "
		    "its table map but %zu in information_schema: the table "
		    "changed after this event (DDL racing the stream) and its "
		    "columns cannot be named", t->db, t->name, t->ncols,
		    s->ncols);
	for (i = 0; i < t->ncols; i++) {
		c = &t->cols[i];
		x = &s->cols[i];
		/* An ENUM or SET of another size has other values. */
		if (b2a_type_family(c->type) != b2a_type_family(x->type) ||
		    (b2a_types[c->type].flags & TF_SYMBOLS &&
			c->meta != x->meta))
			return cdc_err(err, errlen, "table '%s.%s': column %zu "
			    "is %s in the table map but '%s' %s in "
			    "information_schema: the table changed after this "
			    "event (DDL racing the stream) and its columns "
			    "cannot be named", t->db, t->name, i + 1,
			    c->cdc_type, x->name, e->sc[i].column_type);
	}
	for (i = 0; i < t->ncols; i++) {
		c = &t->cols[i];
		x = &s->cols[i];
		free(c->name);
		c->name = cdc_xstrdup(x->name);
		if (!t->signedness)
			c->is_unsigned = x->is_unsigned;
		if (c->collation < 0)
			c->collation = x->collation;
		if (c->nsymbols == 0 && x->nsymbols > 0) {
			free(c->symbols);
			c->symbols = cdc_xcalloc(x->nsymbols, sizeof(char *));
			for (j = 0; j < x->nsymbols; j++)
				c->symbols[j] = cdc_xstrdup(x->symbols[j]);
			c->nsymbols = x->nsymbols;
		}
	}
	if (t->npk == 0 && s->npk > 0) {
		t->pk = cdc_xcalloc(s->npk, sizeof(int));
		memcpy(t->pk, s->pk, s->npk * sizeof(int));
		t->npk = s->npk;
		for (j = 0; j < t->npk; j++)
			t->cols[t->pk[j]].key = (int)j + 1;
	}
	b2a_table_unfinish(t);
	/* Now with the real names: the column rules apply to them. */
	return b2a_table_finish(t, o, err, errlen);
}

int
b2a_lookup_table(void *arg, const struct b2a_options *o,
    const struct b2a_where *at, struct b2a_table *t, int *rule, char *err,
    size_t errlen)
{
	struct b2a_lookup *k = arg;
	const uint8_t *shape = t->raw + at->id_len;
	size_t shapelen = t->rawlen - at->id_len;
	struct entry *e;
	char msg[CDC_ERRLEN];
	int rc;

	k->code = 0;
	e = entry_get(k, t->db, t->name);
	if (e->shape == NULL || e->ddls != at->ddls ||
	    e->shapelen != shapelen || memcmp(e->shape, shape, shapelen) != 0) {
		entry_clear(e);
		rc = read_entry(k, e, msg, sizeof(msg));
		if (rc != OK) {
			if (rc == FAIL)
				k->code = 1;
			else if (++k->failures > k->l->retries)
				k->code = EX_UNAVAILABLE;
			else
				k->code = -1;
			return cdc_err(err, errlen, "table '%s.%s': cannot read "
			    "its columns from information_schema: %s", t->db,
			    t->name, msg);
		}
		k->failures = 0;
		cdc_debug("%s:%" PRIu64 ": table '%s.%s': columns read from "
			  "information_schema",
		    at->file, at->pos, t->db, t->name);
		if (e->info == NULL) {
			e->why = "is not in information_schema (dropped since, "
				 "or not visible to this user)";
		} else if (e->info->ncols != t->ncols && versioned(k, e)) {
			entry_clear(e);
			e->why = "is system-versioned: its hidden columns are "
				 "not in information_schema";
		}
		e->shape = cdc_xmalloc(shapelen > 0 ? shapelen : 1);
		memcpy(e->shape, shape, shapelen);
		e->shapelen = shapelen;
		e->ddls = at->ddls;
	}
	if (e->why != NULL) {
		if (!e->warned_why)
			cdc_warn("%s:%" PRIu64 ": table '%s.%s' %s",
			    at->file, at->pos, t->db, t->name, e->why);
		e->warned_why = 1;
		return 1;
	}
	switch (complete(o, t, e, err, errlen)) {
	case -2:
		*rule = 1;
		k->code = EX_CONFIG;
		return -1;
	case -1:
		k->code = EX_DATAERR;
		return -1;
	}
	if (!e->warned)
		cdc_warn("%s:%" PRIu64 ": table '%s.%s' has no column names in "
			 "the binlog (binlog_row_metadata=FULL is off): they "
			 "come from information_schema, which describes the "
			 "table as it is now; DDL racing the stream can "
			 "mislabel its columns",
		    at->file, at->pos, t->db, t->name);
	e->warned = 1;
	return 0;
}
