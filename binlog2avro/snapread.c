/* Reading a table for the snapshot: chunk statements in the binary
 * protocol (values exactly as stored: raw IEEE floats, MYSQL_TIME, bytes in
 * the column's charset), rows streamed from the server (mysql_stmt_fetch()
 * without storing the result), each encoded as the binlog path encodes it
 * (b2a_snap_value()), and the key of the last row as chunk parameters. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "log.h"
#include "snapsql.h"

enum { OK = SNAP_OK, FAIL = SNAP_FAIL, RETRY = SNAP_RETRY };

/* The type table names a key's parameter type by its type code. */
#define SAME(x) ((int)MYSQL_TYPE_##x == (int)MT_##x)
_Static_assert(SAME(LONGLONG) && SAME(FLOAT) && SAME(DOUBLE) && SAME(DATE) &&
	SAME(TIME) && SAME(DATETIME) && SAME(TIMESTAMP) && SAME(NEWDECIMAL) &&
	SAME(BLOB),
    "MYSQL_TYPE_* codes are the binlog's type codes");
#undef SAME

/* How column c comes in the binary protocol: its type's row says. */
static enum b2a_fetch
fetch_of(const struct b2a_column *c)
{
	return (enum b2a_fetch)b2a_types[c->type].fetch;
}

static enum b2a_fetch
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

void
b2a_reader_free(struct b2a_reader *rd)
{
	size_t i;

	if (rd->first != NULL)
		mysql_stmt_close(rd->first);
	if (rd->next != NULL)
		mysql_stmt_close(rd->next);
	if (rd->t != NULL) {
		for (i = 0; i < rd->t->ncols; i++)
			free(rd->cols[i].buf);
		b2a_snapcols_free(rd->sc, rd->t->ncols);
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
select_sql(const struct b2a_reader *rd, int after, int64_t limit)
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
		if (b2a_types[c->type].flags & TF_SYMBOLS) {
			/* The number the binlog stores. */
			cdc_buf_puts(&q, "CAST(");
			b2a_sql_ident(&q, c->name);
			cdc_buf_puts(&q, " AS UNSIGNED)");
		} else if (rd->sc[i].cast_bytes > 0) {
			cdc_buf_puts(&q, "CAST(");
			b2a_sql_ident(&q, c->name);
			cdc_buf_printf(&q, " AS BINARY(%d))",
			    rd->sc[i].cast_bytes);
		} else {
			b2a_sql_ident(&q, c->name);
		}
	}
	cdc_buf_puts(&q, " FROM ");
	b2a_sql_table(&q, t->db, t->name);
	if (!rd->chunked)
		return b2a_sql_str(&q);
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
				const struct b2a_snapcol *k1 =
				    &rd->sc[t->pk[j]];

				if (j > 0)
					cdc_buf_puts(&q, " AND ");
				b2a_sql_ident(&q, c->name);
				cdc_buf_puts(&q, j < i ? " = " : " > ");
				if (c->kind == K_STRING &&
				    k1->collation != NULL) {
					cdc_buf_puts(&q, "CONVERT(? USING ");
					b2a_sql_ident(&q, k1->charset);
					cdc_buf_puts(&q, ") COLLATE ");
					b2a_sql_ident(&q, k1->collation);
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
		b2a_sql_ident(&q, t->cols[t->pk[k]].name);
	}
	cdc_buf_printf(&q, " LIMIT %" PRId64, limit);
	return b2a_sql_str(&q);
}

int
b2a_stmt_fail(MYSQL_STMT *st, const struct b2a_table *t, const char *what,
    char *err, size_t errlen)
{
	unsigned int e = mysql_stmt_errno(st);

	cdc_err(err, errlen, "snapshot of '%s.%s': %s: %s (error %u)", t->db,
	    t->name, what, mysql_stmt_error(st), e);
	return b2a_sql_retryable(e) ? RETRY : FAIL;
}


int
b2a_reader_prepare(MYSQL *m, struct b2a_reader *rd, int after, int64_t limit,
    MYSQL_STMT **stp, char *err, size_t errlen)
{
	const struct b2a_table *t = rd->t;
	char *q = select_sql(rd, after, limit);
	MYSQL_STMT *st = mysql_stmt_init(m);
	MYSQL_RES *meta;
	MYSQL_FIELD *f;
	size_t i;
	int rc = OK;

	if (st == NULL) {
		free(q);
		return b2a_sql_fail(m, "mysql_stmt_init", err, errlen);
	}
	if (mysql_stmt_prepare(st, q, (unsigned long)strlen(q)) != 0) {
		rc = b2a_stmt_fail(st, t, q, err, errlen);
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
		struct b2a_fcol *k = &rd->cols[i];
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
		rc = b2a_stmt_fail(st, t, "binding the result", err, errlen);
	if (rc != OK) {
		mysql_stmt_close(st);
		return rc;
	}
	*stp = st;
	return OK;
}

int
b2a_reader_fetch_long(struct b2a_reader *rd, MYSQL_STMT *st, char *err,
    size_t errlen)
{
	size_t i;
	int rebind = 0;

	for (i = 0; i < rd->t->ncols; i++) {
		struct b2a_fcol *k = &rd->cols[i];
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
			return b2a_stmt_fail(st, rd->t, "fetching a long value",
			    err, errlen);
		k->len = len;
		rd->res[i].buffer = k->buf;
		rd->res[i].buffer_length = k->cap;
		rebind = 1;
	}
	if (rebind && mysql_stmt_bind_result(st, rd->res) != 0)
		return b2a_stmt_fail(st, rd->t, "binding the result", err,
		    errlen);
	return OK;
}

static void
col_value(const struct b2a_fcol *k, struct b2a_parts *v)
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

int
b2a_reader_encode(struct b2a_reader *rd, struct b2a_row *w, char *err,
    size_t errlen)
{
	const struct b2a_table *t = rd->t;
	struct b2a_parts v;
	char msg[CDC_ERRLEN];
	size_t i;

	w->val.len = 0;
	w->key.len = 0;
	for (i = 0; i < t->ncols; i++) {
		w->off[i] = w->val.len;
		col_value(&rd->cols[i], &v);
		if (b2a_snap_value(&t->cols[i], &v, &w->val, msg,
			sizeof(msg)) == -1) {
			cdc_err(err, errlen, "snapshot of '%s.%s': %s", t->db,
			    t->name, msg);
			return SNAP_DATA;
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

int
b2a_reader_keys(struct b2a_reader *rd, const char *after)
{
	const struct b2a_table *t = rd->t;
	const char *p = after, *comma;
	size_t i, j, n = 0;

	for (i = 0; i < t->npk; i++) {
		const struct b2a_column *c = &t->cols[t->pk[i]];
		const struct b2a_type *ty = &b2a_types[c->type];
		struct b2a_keyval *kv = &rd->kv[i];

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
		kv->t.time_type = ty->param == MYSQL_TYPE_DATE ?
		    MYSQL_TIMESTAMP_DATE :
		    ty->param == MYSQL_TYPE_TIME ? MYSQL_TIMESTAMP_TIME :
						   MYSQL_TIMESTAMP_DATETIME;
		if (ty->key == KEY_BIT) {
			uint64_t u = 0;

			for (j = 0; j < kv->v.n; j++)
				u = (u << 8) | kv->v.s[j];
			kv->i = (long long)u;
		}
	}
	for (i = 0; i < t->npk; i++) {
		for (j = 0; j <= i; j++) {
			const struct b2a_column *c = &t->cols[t->pk[j]];
			const struct b2a_type *ty = &b2a_types[c->type];
			struct b2a_keyval *kv = &rd->kv[j];
			MYSQL_BIND *b = &rd->par[n++];

			memset(b, 0, sizeof(*b));
			b->buffer_type = (enum enum_field_types)ty->param;
			switch (ty->param) {
			case MYSQL_TYPE_LONGLONG:
				b->buffer = &kv->i;
				b->is_unsigned = c->is_unsigned ||
				    ty->flags & TF_SYMBOLS ||
				    ty->key == KEY_BIT;
				break;
			case MYSQL_TYPE_FLOAT:
				b->buffer = &kv->v.f;
				break;
			case MYSQL_TYPE_DOUBLE:
				b->buffer = &kv->v.d;
				break;
			case MYSQL_TYPE_DATE:
			case MYSQL_TYPE_TIME:
			case MYSQL_TYPE_DATETIME:
			case MYSQL_TYPE_TIMESTAMP:
				b->buffer = &kv->t;
				break;
			default: /* bytes: DECIMAL's digits, BLOB */
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

int
b2a_reader_open(MYSQL *m, const struct b2a_options *o, const char *db,
    const char *name, struct b2a_reader *rd, char *err, size_t errlen)
{
	struct b2a_table *t;
	size_t i, np;
	int rc;

	memset(rd, 0, sizeof(*rd));
	rc = b2a_snap_table(m, o, db, name, &rd->t, &rd->sc, err, errlen);
	if (rc != OK || rd->t == NULL)
		return rc;
	t = rd->t;
	rd->cols = cdc_xcalloc(t->ncols, sizeof(*rd->cols));
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
