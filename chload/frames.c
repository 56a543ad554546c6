/* chload: the frames of the stream, in order. Changes, schemas and commit
 * marks go to the loader (load.c); the source's DDL statements that
 * concern the tables (DROP, RENAME, TRUNCATE) are applied here, between
 * the loader, which first sends what it holds of the table and forgets it
 * after, and ddl.c, which runs the SQL. Other statements need no action:
 * columns follow the value schemas. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "loader.h"
#include "log.h"

#define MAXTOK 64

struct tok {
	char *s;   /* identifier or word (unquoted), or punctuation */
	int quoted;
};

/* Splits a MySQL statement into words, quoted identifiers and punctuation;
 * strings and comments are dropped. */
static size_t
tokenize(const char *p, const char *end, struct tok *tk, size_t max)
{
	struct cdc_buf b;
	size_t n = 0;

	while (p < end && n < max) {
		if (isspace((unsigned char)*p)) {
			p++;
		} else if (*p == '#' || (*p == '-' && p + 1 < end &&
					    p[1] == '-')) {
			while (p < end && *p != '\n')
				p++;
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			p += 2;
			while (p + 1 < end && !(p[0] == '*' && p[1] == '/'))
				p++;
			p += 2;
		} else if (*p == '`') {
			cdc_buf_init(&b);
			for (p++; p < end; p++) {
				if (*p == '`' && p + 1 < end && p[1] == '`')
					cdc_buf_putc(&b, *p++);
				else if (*p == '`')
					break;
				else
					cdc_buf_putc(&b, *p);
			}
			p++;
			cdc_buf_putc(&b, '\0');
			tk[n].s = (char *)b.p;
			tk[n++].quoted = 1;
		} else if (*p == '\'' || *p == '"') {
			char q = *p++;

			while (p < end && *p != q)
				p += *p == '\\' ? 2 : 1;
			p++;
		} else if (isalnum((unsigned char)*p) || *p == '_' ||
		    *p == '$' || (unsigned char)*p >= 0x80) {
			const char *s = p;

			while (p < end && (isalnum((unsigned char)*p) ||
					      *p == '_' || *p == '$' ||
					      (unsigned char)*p >= 0x80))
				p++;
			tk[n].s = cdc_xstrndup(s, (size_t)(p - s));
			tk[n++].quoted = 0;
		} else {
			tk[n].s = cdc_xstrndup(p++, 1);
			tk[n++].quoted = 0;
		}
	}
	return n;
}

static int
kw(const struct tok *t, const char *word)
{
	return !t->quoted && strcasecmp(t->s, word) == 0;
}

/* A table name at tk[*i]: name or db.name. */
static int
table_name(const struct tok *tk, size_t n, size_t *i, const char *defdb,
    const char **db, const char **name)
{
	if (*i >= n)
		return -1;
	if (*i + 2 < n && strcmp(tk[*i + 1].s, ".") == 0 &&
	    !tk[*i + 1].quoted) {
		*db = tk[*i].s;
		*name = tk[*i + 2].s;
		*i += 3;
		return 0;
	}
	*db = defdb;
	*name = tk[*i].s;
	*i += 1;
	return 0;
}

/* The loaded table of db.name, if any, is sent and forgotten around
 * a drop or a rename. */
static int
drop_table(struct loader *l, const char *db, const char *name,
    const char *pos)
{
	struct table *loaded = loader_table(l, db, name);
	int rc;

	if (loaded != NULL && (rc = loader_drain(l, loaded)) != 0)
		return rc;
	rc = ddl_drop_table(l, db, name, pos);
	if (loaded != NULL)
		loader_forget(l, loaded);
	return rc;
}

static int
rename_table(struct loader *l, const char *db, const char *name,
    const char *db2, const char *name2, const char *pos)
{
	struct table *loaded = loader_table(l, db, name);
	int rc;

	if (loaded != NULL && (rc = loader_drain(l, loaded)) != 0)
		return rc;
	rc = ddl_rename_table(l, db, name, db2, name2, pos,
	    loaded != NULL ? loaded->schema : NULL);
	if (loaded != NULL)
		loader_forget(l, loaded);
	return rc;
}

static int
statement(struct loader *l, const struct cdc_frame *f)
{
	struct tok tk[MAXTOK];
	const char *s = (const char *)f->statement.p, *db, *name, *db2, *name2;
	char *defdb = cdc_xstrndup((const char *)f->database.p, f->database.len);
	char *pos = cdc_xstrndup((const char *)f->position.p, f->position.len);
	size_t n, i = 0, j;
	int rc = 0, handled = 1;

	n = tokenize(s, s + f->statement.len, tk, MAXTOK);
	if (n >= 3 && kw(&tk[0], "DROP") &&
	    (kw(&tk[1], "TABLE") || kw(&tk[1], "TABLES"))) {
		i = 2;
		if (i + 1 < n && kw(&tk[i], "IF") && kw(&tk[i + 1], "EXISTS"))
			i += 2;
		while (rc == 0 && table_name(tk, n, &i, defdb, &db, &name) == 0) {
			rc = drop_table(l, db, name, pos);
			if (i >= n || strcmp(tk[i].s, ",") != 0)
				break;
			i++;
		}
	} else if (n >= 3 && kw(&tk[0], "DROP") &&
	    (kw(&tk[1], "DATABASE") || kw(&tk[1], "SCHEMA"))) {
		cdc_warn("source dropped database '%s' at '%s': not applied "
		    "to ClickHouse", tk[n - 1].s, pos);
	} else if (n >= 4 && kw(&tk[0], "RENAME") && kw(&tk[1], "TABLE")) {
		i = 2;
		while (rc == 0 && table_name(tk, n, &i, defdb, &db, &name) == 0) {
			if (i >= n || !kw(&tk[i], "TO"))
				break;
			i++;
			if (table_name(tk, n, &i, defdb, &db2, &name2) == -1)
				break;
			rc = rename_table(l, db, name, db2, name2, pos);
			if (i >= n || strcmp(tk[i].s, ",") != 0)
				break;
			i++;
		}
	} else if (n >= 4 && kw(&tk[0], "ALTER") && kw(&tk[1], "TABLE")) {
		i = 2;
		table_name(tk, n, &i, defdb, &db, &name);
		handled = 0;
		for (j = i; j + 1 < n; j++) {
			size_t k = j + 1;

			if (!kw(&tk[j], "RENAME") || kw(&tk[k], "COLUMN") ||
			    kw(&tk[k], "INDEX") || kw(&tk[k], "KEY"))
				continue;
			if (kw(&tk[k], "TO") || kw(&tk[k], "AS"))
				k++;
			if (table_name(tk, n, &k, defdb, &db2, &name2) == 0) {
				rc = rename_table(l, db, name, db2, name2, pos);
				handled = 1;
			}
			break;
		}
	} else if (n >= 2 && kw(&tk[0], "TRUNCATE")) {
		struct table *t;

		i = kw(&tk[1], "TABLE") ? 2 : 1;
		if (table_name(tk, n, &i, defdb, &db, &name) == 0) {
			t = loader_table(l, db, name);
			if (t != NULL) {
				rc = loader_drain(l, t);
				if (rc == 0)
					rc = ddl_truncate(l, t,
					    (uint64_t)l->maxver);
			} else {
				/* Not loaded in this run: the table may
				 * still be there from an earlier one. */
				rc = ddl_truncate_named(l, db, name,
				    (uint64_t)l->maxver);
			}
		}
	} else {
		handled = 0;
	}
	if (!handled)
		cdc_debug("ddl at '%s' needs no action: %.*s", pos,
		    (int)f->statement.len, s);
	for (j = 0; j < n; j++)
		free(tk[j].s);
	free(defdb);
	free(pos);
	return rc;
}

int
frame_apply(struct loader *l, struct cdc_reader *r, const struct cdc_frame *f)
{
	int rc;

	if (f->kind != CDC_FRAME_DDL)
		return loader_frame(l, r, f);
	rc = statement(l, f);
	return rc != 0 ? rc : l->rc;
}
