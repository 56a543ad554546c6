/* The loader's data path: changes into per-table RowBinary buffers, buffers
 * into background INSERTs (flushed by rows, bytes and age, one in flight per
 * table, retried with backoff), rejected rows into the dead-letter file by
 * bisection, and commit marks acknowledged once everything before them is
 * in ClickHouse. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ack.h"
#include "avrobin.h"
#include "avrojson.h"
#include "fingerprint.h"
#include "loader.h"
#include "log.h"
#include "sys.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

static void
batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	cdc_buf_init(&b->data);
}

static void
batch_fini(struct batch *b)
{
	cdc_buf_fini(&b->data);
	free(b->rowoff);
}

static void
batch_clear(struct batch *b)
{
	b->data.len = 0;
	b->nrows = 0;
}

struct loader *
loader_new(const struct load_opts *o)
{
	struct loader *l = cdc_xcalloc(1, sizeof(*l));

	l->o = *o;
	cdc_buf_init(&l->scratch);
	cdc_buf_init(&l->fetched);
	l->last_stats = cdc_mono_ms();
	loader_metrics_new(l);
	return l;
}

static void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	ch_req_free(t->req);
	batch_fini(&t->fill);
	batch_fini(&t->flight);
	cdc_buf_fini(&t->kc_where);
	cdc_buf_fini(&t->held);
	free(t->db);
	free(t->name);
	free(t->chdb);
	free(t->chname);
	free(t->qname);
	free(t->insert_sql);
	free(t);
}

void
loader_free(struct loader *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->ntables; i++)
		table_free(l->tables[i]);
	free(l->tables);
	for (i = 0; i < l->nschemas; i++)
		tschema_free(l->schemas[i]);
	free(l->schemas);
	for (i = 0; i < l->nmarks; i++)
		free(l->marks[i].pos);
	free(l->marks);
	free(l->before);
	free(l->after);
	cdc_buf_fini(&l->scratch);
	cdc_buf_fini(&l->fetched);
	ch_free(l->ch);
	loader_metrics_free(l);
	if (l->dead != NULL)
		fclose(l->dead);
	free(l);
}

int
loader_start(struct loader *l)
{
	struct ch_conf conf = {l->o.url, l->o.user, l->o.password,
	    (long)l->o.timeout_ms};
	struct cdc_buf out;
	char err[CDC_ERRLEN];
	int64_t t0 = cdc_mono_ms(), wait = BACKOFF_MIN_MS;
	enum ch_result res;
	const char *ver = l->o.server_version;

	if (l->o.dead_letter != NULL) {
		l->dead = fopen(l->o.dead_letter, "a");
		if (l->dead == NULL) {
			cdc_error("cannot open dead-letter file '%s': %s",
			    l->o.dead_letter, strerror(errno));
			return EX_CANTCREAT;
		}
	}
	if (!l->o.dry_run)
		l->ch = ch_new(&conf);
	cdc_buf_init(&out);
	while (ver == NULL) {
		if (l->o.dry_run) {
			ver = "18.16";
			break;
		}
		out.len = 0;
		/* A fixed format: a default_format of the server or the URL
		 * must not change the answer. */
		res = ch_query(l->ch, "SELECT version() FORMAT TabSeparatedRaw",
		    NULL, 0, &out, err, sizeof(err));
		if (res == CH_OK) {
			while (out.len > 0 && out.p[out.len - 1] == '\n')
				out.len--;
			cdc_buf_putc(&out, '\0');
			ver = (const char *)out.p;
			break;
		}
		if (res != CH_RETRY) {
			cdc_error("cannot query '%s': %s", ch_url(l->ch), err);
			cdc_buf_fini(&out);
			return res == CH_FAIL ? EX_CONFIG : EX_UNAVAILABLE;
		}
		if (cdc_mono_ms() - t0 >= l->o.retry_ms || cdc_stop) {
			cdc_error("cannot reach ClickHouse at '%s': %s",
			    ch_url(l->ch), err);
			cdc_buf_fini(&out);
			return cdc_stop ? 0 : EX_UNAVAILABLE;
		}
		cdc_warn("cannot reach ClickHouse at '%s': %s; retrying",
		    ch_url(l->ch), err);
		cdc_sleep_ms(wait);
		wait = wait * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait * 2;
	}
	if (ch_caps_from_version(&l->caps, ver) == -1) {
		cdc_error("cannot understand ClickHouse version '%s'", ver);
		cdc_buf_fini(&out);
		return EX_CONFIG;
	}
	/* From 26.2 inserts are asynchronous by default: an answer would
	 * not mean that the rows are in the table, and deduplication tokens
	 * would not apply. */
	if (l->ch != NULL && l->caps.async_insert)
		ch_set_params(l->ch, l->o.cluster != NULL ?
		    "async_insert=0&distributed_ddl_task_timeout=20" :
		    "async_insert=0");
	else if (l->ch != NULL && l->o.cluster != NULL)
		/* A replica that is down must not hold DDL for the default
		 * 180 s: run_err() lets it catch up later. */
		ch_set_params(l->ch, "distributed_ddl_task_timeout=20");
	cdc_info("clickhouse %d.%d: %s, %s, %s", l->caps.major, l->caps.minor,
	    l->caps.datetime64 ? "DateTime64" : "DateTime, fractions as Decimal",
	    l->caps.is_deleted ? "ReplacingMergeTree(_version, _deleted)" :
				 "ReplacingMergeTree(_version)",
	    l->caps.dedup_token ? "insert_deduplication_token" :
				  "no insert deduplication token");
	cdc_buf_fini(&out);
	return 0;
}

/* ---- Tables and schemas ----------------------------------------------- */

struct table *
loader_table(struct loader *l, const char *db, const char *name)
{
	size_t i;

	for (i = 0; i < l->ntables; i++)
		if (strcmp(l->tables[i]->db, db) == 0 &&
		    strcmp(l->tables[i]->name, name) == 0)
			return l->tables[i];
	return NULL;
}

void
loader_forget(struct loader *l, struct table *t)
{
	size_t i;

	for (i = 0; i < l->ntables; i++) {
		if (l->tables[i] == t) {
			l->tables[i] = l->tables[--l->ntables];
			table_free(t);
			return;
		}
	}
}

static struct tschema *
schema_for(struct loader *l, struct cdc_reader *r, uint64_t fp, char *err,
    size_t errlen)
{
	struct tschema *s;
	const char *json;
	size_t i, len;

	for (i = l->nschemas; i > 0; i--)
		if (l->schemas[i - 1]->fp == fp)
			return l->schemas[i - 1];
	json = cdc_reader_schema(r, fp, &len);
	if (json == NULL) {
		cdc_err(err, errlen, "no schema announced for %016" PRIx64, fp);
		return NULL;
	}
	s = tschema_new(json, len, fp, &l->caps, err, errlen);
	if (s == NULL)
		return NULL;
	l->schemas = cdc_xrealloc(l->schemas,
	    (l->nschemas + 1) * sizeof(*l->schemas));
	l->schemas[l->nschemas++] = s;
	if (s->ncols > l->ncells) {
		l->ncells = s->ncols;
		l->before = cdc_xrealloc(l->before, l->ncells * sizeof(*l->before));
		l->after = cdc_xrealloc(l->after, l->ncells * sizeof(*l->after));
	}
	return s;
}

/* A re-announced fingerprint: compile it again, since attributes (not part
 * of the fingerprint) may differ. Older compilations stay for tables that
 * use them until they move on. */
static void
forget_schema(struct loader *l, uint64_t fp)
{
	size_t i, j;

	for (i = 0; i < l->nschemas; i++) {
		if (l->schemas[i]->fp != fp)
			continue;
		for (j = 0; j < l->ntables; j++)
			if (l->tables[j]->schema == l->schemas[i])
				break;
		if (j == l->ntables) {
			tschema_free(l->schemas[i]);
			l->schemas[i] = l->schemas[--l->nschemas];
			i--;
		} else {
			l->schemas[i]->fp = ~fp; /* unreachable by lookups */
		}
	}
}

static void
set_insert_sql(struct table *t)
{
	struct cdc_buf b;
	size_t i;

	cdc_buf_init(&b);
	cdc_buf_printf(&b, "INSERT INTO %s (", t->qname);
	for (i = 0; i < t->schema->ncols; i++) {
		ch_quote_ident(&b, t->schema->cols[i].name,
		    strlen(t->schema->cols[i].name));
		cdc_buf_puts(&b, ", ");
	}
	cdc_buf_puts(&b, "`_version`, `_deleted`, `_ts`) FORMAT RowBinary");
	cdc_buf_putc(&b, '\0');
	free(t->insert_sql);
	t->insert_sql = (char *)b.p;
}

static void release_held(struct loader *l, struct table *t);

/* The table of schema s, created or evolved as needed. */
static struct table *
table_for(struct loader *l, struct tschema *s)
{
	struct table *t = loader_table(l, s->db, s->table);
	int rc;

	if (t == NULL) {
		t = cdc_xcalloc(1, sizeof(*t));
		t->db = cdc_xstrdup(s->db);
		t->name = cdc_xstrdup(s->table);
		batch_init(&t->fill);
		batch_init(&t->flight);
		cdc_buf_init(&t->kc_where);
		cdc_buf_init(&t->held);
		ddl_names(l, t);
		if ((rc = ddl_sync_table(l, t, s, NULL)) != 0) {
			l->rc = rc;
			table_free(t);
			return NULL;
		}
		t->schema = s;
		set_insert_sql(t);
		if (l->ch != NULL)
			t->req = ch_req_new(l->ch, t);
		l->tables = cdc_xrealloc(l->tables,
		    (l->ntables + 1) * sizeof(*l->tables));
		l->tables[l->ntables++] = t;
		return t;
	}
	if (t->schema == s)
		return t;
	if (tschema_same_columns(t->schema, s)) {
		t->schema = s;
		return t;
	}
	/* New columns: what is buffered goes out with the old ones first. */
	release_held(l, t);
	if ((rc = loader_drain(l, t)) != 0 ||
	    (rc = ddl_sync_table(l, t, s, t->schema)) != 0) {
		l->rc = rc;
		return NULL;
	}
	t->schema = s;
	set_insert_sql(t);
	return t;
}

/* ---- Rows ------------------------------------------------------------- */

static void
batch_row(struct loader *l, struct batch *b)
{
	if (b->nrows == 0) {
		b->first_commit = l->ncommits + 1;
		b->t0 = cdc_mono_ms();
	}
	if (b->nrows == b->caprows) {
		b->caprows = b->caprows ? b->caprows * 2 : 1024;
		b->rowoff = cdc_xrealloc(b->rowoff,
		    b->caprows * sizeof(*b->rowoff));
	}
	b->rowoff[b->nrows++] = (uint32_t)b->data.len;
}

static int dead_letter(struct loader *l, struct table *t, const char *why,
    const uint8_t *json, size_t jsonlen, uint64_t version);
static int dead_letter_rb(struct loader *l, struct table *t, const char *why,
    const uint8_t *row, size_t len, uint64_t version);

/* Widens column i of t (a date or time that a value outside its type's
 * range needs, as err says): the rows buffered so far go out first, then
 * ALTER TABLE ... MODIFY COLUMN. DateTime goes through Int64, since 18.16
 * cannot cast DateTime to Decimal. Returns 0 or an exit code. */
static int
widen(struct loader *l, struct table *t, size_t i, const char *err)
{
	struct col *cl = &t->schema->cols[i];
	char *wide = col_wide_type(cl);
	struct cdc_buf sql;
	int rc;

	CHL_ASSERT(wide != NULL);
	cdc_warn("%s: widening '%s' of '%s' from %s to %s", err, cl->name,
	    t->qname, cl->chtype, wide);
	rc = loader_drain(l, t);
	cdc_buf_init(&sql);
	if (rc == 0 && cl->rep == REP_DATETIME) {
		cdc_buf_printf(&sql, "ALTER TABLE %s MODIFY COLUMN ", t->qname);
		ch_quote_ident(&sql, cl->name, strlen(cl->name));
		cdc_buf_puts(&sql, cl->nullable ? " Nullable(Int64)" : " Int64");
		cdc_buf_putc(&sql, '\0');
		rc = ddl_exec(l, (const char *)sql.p);
		sql.len = 0;
	}
	if (rc == 0) {
		cdc_buf_printf(&sql, "ALTER TABLE %s MODIFY COLUMN ", t->qname);
		ch_quote_ident(&sql, cl->name, strlen(cl->name));
		cdc_buf_printf(&sql, " %s", wide);
		cdc_buf_putc(&sql, '\0');
		rc = ddl_exec(l, (const char *)sql.p);
	}
	if (rc == 0) {
		col_widen(cl);
		/* The view's columns keep the types they had when it was
		 * made: remake it, or it would read the wide column as the
		 * narrow type. */
		rc = ddl_sync_view(l, t);
	}
	cdc_buf_fini(&sql);
	free(wide);
	return rc;
}

/* A keyless table keeps one image per (_version, _deleted) (section 3 of
 * docs/chload.md): two different images of one table at the same version
 * would silently become one. A replay brings the same image again, which is
 * fine; a different one is a stream that breaks the rule, refused. */
static int
keyless_check(struct loader *l, struct table *t, struct batch *b,
    uint64_t version, int deleted)
{
	size_t start = b->rowoff[b->nrows - 1];
	uint64_t h = cdc_crc64_avro(b->data.p + start, b->data.len - start);
	int d = deleted != 0;

	if (t->kl_set[d] && t->kl_version[d] == version && t->kl_hash[d] != h) {
		cdc_error("keyless table '%s.%s': two different %s images at "
		    "version %" PRIu64 " (a table without a primary key needs a "
		    "version per change, or one of them is lost)", t->db,
		    t->name, d ? "before" : "after", version);
		return EX_DATAERR;
	}
	t->kl_set[d] = 1;
	t->kl_version[d] = version;
	t->kl_hash[d] = h;
	(void)l;
	return 0;
}

/* Appends one image as a row; a date or time out of its column's range
 * widens the column (unless it is a key column); a value ClickHouse cannot
 * take goes to the dead-letter file. */
static int
put_row(struct loader *l, struct table *t, const struct cell *cells,
    uint64_t version, int deleted, int64_t ts_ms)
{
	struct batch *b;
	char err[CDC_ERRLEN];
	struct cdc_buf row;
	size_t col;
	int rc;

	for (;;) {
		b = &t->fill;
		batch_row(l, b);
		rc = row_encode(t->schema, cells, version, deleted, ts_ms,
		    &b->data, &col, err, sizeof(err));
		if (rc == 0 && t->schema->nkey == 0)
			return keyless_check(l, t, b, version, deleted);
		if (rc == 0)
			return 0;
		b->nrows--;
		if (rc != ROW_WIDEN)
			break;
		if (t->schema->cols[col].keypos > 0) {
			size_t n = strlen(err);

			snprintf(err + n, sizeof(err) - n, "; a key column "
			    "cannot change its type");
			break;
		}
		if ((rc = widen(l, t, col, err)) != 0)
			return rc;
	}
	cdc_buf_init(&row);
	row_cells_json(t->schema, cells, &row);
	rc = dead_letter(l, t, err, row.p, row.len, version);
	cdc_buf_fini(&row);
	return rc;
}

static int
has_absent(const struct tschema *s, const struct cell *img)
{
	size_t i;

	for (i = 0; i < s->ncols; i++)
		if (img[i].st == CELL_ABSENT)
			return 1;
	return 0;
}

/* Completes a partial image (binlog_row_image=MINIMAL or NOBLOB): the
 * columns img lacks did not change, so they are those of the row as
 * ClickHouse has it just before version v (rows sent so far go out first):
 * the row whose key the cells old hold, or that the condition oldwhere
 * selects. Merges keep the newest version of a key, so the row before v
 * is there while nothing at v or later is written for its key (a key
 * change's delete waits, held, until its create is read). A replay finds
 * the row this change wrote, at version v under the key of img, and takes
 * that; or a later version of that key, which makes this image moot:
 * *superseded is set and img is left as it was. The values stay in
 * l->fetched until the next call. Returns 0; -1 when the row is not there
 * to complete it (why says so); or an exit code. */
static int
complete(struct loader *l, struct table *t, const struct cell *old,
    const char *oldwhere, uint64_t v, struct cell *img, int *superseded,
    char *why, size_t whylen)
{
	struct cell *keep = NULL;
	const struct tschema *s = t->schema;
	struct cdc_buf sql;
	size_t i, off = 0, len;
	int rc;

	if (l->o.dry_run)
		return cdc_err(why, whylen, "a partial row image is completed "
		    "from the row in ClickHouse (not in --dry-run)");
	cdc_buf_init(&sql);
	cdc_buf_puts(&sql, "SELECT ");
	for (i = 0; i < s->ncols; i++) {
		if (img[i].st != CELL_ABSENT)
			continue;
		ch_quote_ident(&sql, s->cols[i].name, strlen(s->cols[i].name));
		cdc_buf_puts(&sql, ", ");
	}
	cdc_buf_printf(&sql, "`_deleted`, `_version` FROM %s WHERE ((",
	    t->qname);
	if (row_key_where(s, img, &sql, why, whylen) == -1)
		goto bad;
	cdc_buf_printf(&sql, ") AND `_version` >= %" PRIu64 " OR (", v);
	if (oldwhere != NULL)
		cdc_buf_puts(&sql, oldwhere);
	else if (row_key_where(s, old, &sql, why, whylen) == -1)
		goto bad;
	cdc_buf_printf(&sql, ") AND `_version` < %" PRIu64 ") AND `_version` "
	    "> (SELECT max(`version`) FROM ", v);
	ch_quote_ident(&sql, t->chdb, strlen(t->chdb));
	cdc_buf_puts(&sql, ".`_chload_truncations` WHERE `table_name` = ");
	ch_quote_string(&sql, t->chname, strlen(t->chname));
	cdc_buf_puts(&sql, ") ORDER BY `_version` DESC LIMIT 1 FORMAT "
			   "RowBinary");
	cdc_buf_putc(&sql, '\0');
	rc = loader_drain(l, t);
	l->fetched.len = 0;
	if (rc == 0)
		rc = ddl_fetch(l, (const char *)sql.p, &l->fetched);
	cdc_buf_fini(&sql);
	*superseded = 0;
	if (rc != 0)
		return rc;
	if (l->fetched.len == 0)
		return cdc_err(why, whylen, "a partial row image (columns "
		    "absent) of a row that is not in ClickHouse");
	keep = cdc_xcalloc(s->ncols, sizeof(*keep));
	memcpy(keep, img, s->ncols * sizeof(*keep));
	for (i = 0; i < s->ncols; i++) {
		if (img[i].st != CELL_ABSENT)
			continue;
		len = row_value_len(&s->cols[i], l->fetched.p + off,
		    l->fetched.len - off);
		if (len == 0)
			break;
		img[i].st = CELL_RAW;
		img[i].p = l->fetched.p + off;
		img[i].n = len;
		off += len;
	}
	if (i < s->ncols || off + 9 != l->fetched.len) {
		memcpy(img, keep, s->ncols * sizeof(*keep));
		free(keep);
		return cdc_err(why, whylen, "cannot read back the row that "
		    "completes a partial row image");
	}
	if (cdc_le64(l->fetched.p + off + 1) > v) {
		memcpy(img, keep, s->ncols * sizeof(*keep));
		free(keep);
		*superseded = 1;
		return 0;
	}
	free(keep);
	if (l->fetched.p[off] != 0)
		return cdc_err(why, whylen, "a partial row image (columns "
		    "absent) of a row that is deleted in ClickHouse");
	l->completed++;
	return 0;
bad:
	cdc_buf_fini(&sql);
	return -1;
}

/* Puts the delete held back for a key change into t's buffer. */
static void
release_held(struct loader *l, struct table *t)
{
	if (!t->has_held)
		return;
	batch_row(l, &t->fill);
	cdc_buf_append(&t->fill.data, t->held.p, t->held.len);
	t->has_held = 0;
}

void
loader_release_held(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->ntables; i++)
		release_held(l, l->tables[i]);
}

static int
on_change(struct loader *l, struct cdc_reader *r, const struct cdc_frame *f)
{
	struct tschema *s;
	struct table *t;
	struct change c;
	uint64_t fp, v;
	char err[CDC_ERRLEN];
	int rc = 0, superseded = 0;

	if (f->value.p == NULL)
		return 0; /* a tombstone: the delete before it did the work */
	if (cdc_soe_fingerprint(f->value.p, f->value.len, &fp) == -1) {
		cdc_error("change for '%.*s': value is not single-object "
		    "encoded", (int)f->topic.len, (const char *)f->topic.p);
		return EX_DATAERR;
	}
	s = schema_for(l, r, fp, err, sizeof(err));
	if (s == NULL) {
		cdc_error("change for '%.*s': %s", (int)f->topic.len,
		    (const char *)f->topic.p, err);
		return EX_DATAERR;
	}
	c.before = l->before;
	c.after = l->after;
	if (row_decode(s, f->value.p + CDC_SOE_HEADER,
		f->value.len - CDC_SOE_HEADER, &c, err, sizeof(err)) == -1) {
		cdc_error("change for '%.*s' at '%.*s': %s", (int)f->topic.len,
		    (const char *)f->topic.p, (int)f->position.len,
		    (const char *)f->position.p, err);
		return EX_DATAERR;
	}
	if (f->version < 0) {
		cdc_error("change for '%.*s': negative version %" PRId64,
		    (int)f->topic.len, (const char *)f->topic.p, f->version);
		return EX_DATAERR;
	}
	v = (uint64_t)f->version;
	if (f->version > l->maxver)
		l->maxver = f->version;
	t = table_for(l, s);
	if (t == NULL)
		return l->rc != 0 ? l->rc : 1;
	l->in++;
	if (c.source_ts_ms > l->src_ts_ms)
		l->src_ts_ms = c.source_ts_ms;
	if (t->has_held && (c.op != 'c' || v != t->kc_version))
		release_held(l, t);
	if (s->refused != NULL) {
		struct cdc_buf row;

		cdc_buf_init(&row);
		if (c.has_after || c.has_before)
			row_cells_json(s, c.has_after ? c.after : c.before, &row);
		rc = dead_letter(l, t, s->refused, row.len ? row.p : NULL,
		    row.len, v);
		cdc_buf_fini(&row);
		return rc;
	}
	switch (c.op) {
	case 't':
		rc = loader_drain(l, t);
		return rc != 0 ? rc : ddl_truncate(l, t, v);
	case 'd':
		if (!c.has_before) {
			return dead_letter(l, t, "delete without a before image",
			    NULL, 0, v);
		}
		if (s->has_absent && s->nkey > 0) {
			/* Maybe the first half of a key change: the row goes
			 * out after the create that may need the deleted row
			 * (or before anything else of the table). */
			t->kc_where.len = 0;
			t->kc_set = row_key_where(s, c.before, &t->kc_where,
			    err, sizeof(err)) == 0;
			cdc_buf_putc(&t->kc_where, '\0');
			t->kc_version = v;
			for (size_t i = 0; i < s->ncols; i++)
				if (c.before[i].st == CELL_ABSENT)
					c.before[i].st = CELL_NULL;
			t->held.len = 0;
			if (t->kc_set && row_encode(s, c.before, v, 1,
					     c.source_ts_ms, &t->held,
					     NULL, err, sizeof(err)) == 0) {
				t->has_held = 1;
				return 0;
			}
			t->kc_set = 0;
		}
		/* Columns absent from a partial image do not matter once the
		 * row is deleted: the key decides. */
		for (size_t i = 0; i < s->ncols; i++)
			if (c.before[i].st == CELL_ABSENT)
				c.before[i].st = CELL_NULL;
		return put_row(l, t, c.before, v, 1, c.source_ts_ms);
	case 'u':
		/* A key column absent from a partial after image did not
		 * change (binlog_row_image=MINIMAL logs changed columns). */
		if (c.has_before && c.has_after && s->nkey > 0)
			for (size_t k = 0; k < s->nkey; k++)
				if (c.after[s->key[k]].st == CELL_ABSENT)
					c.after[s->key[k]] = c.before[s->key[k]];
		if (c.has_before && c.has_after && s->has_absent) {
			/* Absent from the after image: unchanged. */
			for (size_t k = 0; k < s->ncols; k++)
				if (c.after[k].st == CELL_ABSENT)
					c.after[k] = c.before[k];
			if (has_absent(s, c.after)) {
				rc = complete(l, t, c.before, NULL, v, c.after,
				    &superseded, err, sizeof(err));
				if (rc == -1)
					goto partial;
				if (rc != 0)
					return rc;
			}
		}
		if (c.has_before && s->nkey > 0 &&
		    !row_key_equal(s, c.before, c.after)) {
			for (size_t i = 0; i < s->ncols; i++)
				if (c.before[i].st == CELL_ABSENT)
					c.before[i].st = CELL_NULL;
			rc = put_row(l, t, c.before, v, 1, c.source_ts_ms);
			if (rc != 0)
				return rc;
		} else if (c.has_before && s->nkey == 0) {
			/* Keyless: the old image leaves the multiset. */
			rc = put_row(l, t, c.before, v, 1, c.source_ts_ms);
			if (rc != 0)
				return rc;
		}
		/* FALLTHROUGH */
	default:
		if (!c.has_after)
			return dead_letter(l, t, "insert or update without an "
			    "after image", NULL, 0, v);
		if (c.op != 'u' && has_absent(s, c.after) && t->has_held &&
		    t->kc_version == v) {
			/* The create of a key change: the delete of the old
			 * key at the same version, held, just before it. */
			rc = complete(l, t, NULL, (const char *)t->kc_where.p,
			    v, c.after, &superseded, err, sizeof(err));
			release_held(l, t);
			if (rc == -1)
				goto partial;
			if (rc != 0)
				return rc;
		}
		if (superseded)
			return 0; /* a replay: a later version has this key */
		return put_row(l, t, c.after, v, 0, c.source_ts_ms);
	}
partial:
	{
		struct cdc_buf row;

		cdc_buf_init(&row);
		row_cells_json(s, c.after, &row);
		rc = dead_letter(l, t, err, row.p, row.len, v);
		cdc_buf_fini(&row);
		return rc;
	}
}

/* ---- Dead letters ------------------------------------------------------- */

/* Writes a rejected row (as JSON text, or NULL) to the dead-letter file. */
static int
dead_letter(struct loader *l, struct table *t, const char *why,
    const uint8_t *json, size_t jsonlen, uint64_t version)
{
	struct cdc_buf *b = &l->scratch;

	l->dead_rows++;
	if (l->dead == NULL) {
		cdc_error("row of '%s.%s' at version %" PRIu64 " rejected: %s "
		    "(no --dead-letter file)", t->db, t->name, version, why);
		return EX_DATAERR;
	}
	b->len = 0;
	cdc_buf_puts(b, "{\"database\":");
	cdc_json_str(b, (const uint8_t *)t->db, strlen(t->db), 0);
	cdc_buf_puts(b, ",\"table\":");
	cdc_json_str(b, (const uint8_t *)t->name, strlen(t->name), 0);
	cdc_buf_printf(b, ",\"version\":%" PRIu64 ",\"error\":", version);
	cdc_json_str(b, (const uint8_t *)why, strlen(why), 0);
	if (json != NULL) {
		cdc_buf_puts(b, ",\"row\":");
		cdc_buf_append(b, json, jsonlen);
	}
	cdc_buf_puts(b, "}\n");
	if (fwrite(b->p, 1, b->len, l->dead) != b->len ||
	    fflush(l->dead) != 0) {
		cdc_error("cannot write dead-letter file '%s': %s",
		    l->o.dead_letter, strerror(errno));
		return EX_IOERR;
	}
	cdc_warn("row of '%s.%s' at version %" PRIu64 " rejected: %s", t->db,
	    t->name, version, why);
	return 0;
}

/* The same for a RowBinary row. */
static int
dead_letter_rb(struct loader *l, struct table *t, const char *why,
    const uint8_t *row, size_t len, uint64_t version)
{
	struct cdc_buf json;
	size_t used;
	int rc;

	cdc_buf_init(&json);
	row_to_json(t->schema, row, len, &used, &json);
	rc = dead_letter(l, t, why, json.p, json.len, version);
	cdc_buf_fini(&json);
	return rc;
}

static uint64_t
row_version(const struct table *t, const uint8_t *row, size_t len)
{
	struct cdc_buf tmp;
	size_t used;
	uint64_t v = 0;
	const char *p;

	/* The row's _version sits right after its columns. */
	cdc_buf_init(&tmp);
	row_to_json(t->schema, row, len, &used, &tmp);
	cdc_buf_putc(&tmp, '\0');
	p = strstr((const char *)tmp.p, "\"_version\":");
	if (p != NULL)
		v = strtoull(p + 11, NULL, 10);
	cdc_buf_fini(&tmp);
	return v;
}

/* Inserts rows [lo, hi) of b synchronously, halving on rejection until
 * single rows remain, which go to the dead-letter file. */
static int
bisect(struct loader *l, struct table *t, struct batch *b, size_t lo,
    size_t hi)
{
	size_t start = b->rowoff[lo];
	size_t end = hi < b->nrows ? b->rowoff[hi] : b->data.len;
	int64_t t0 = cdc_mono_ms(), wait = BACKOFF_MIN_MS;
	char err[CDC_ERRLEN];
	enum ch_result res;
	int rc;

	for (;;) {
		res = ch_query(l->ch, t->insert_sql, b->data.p + start,
		    end - start, NULL, err, sizeof(err));
		if (res != CH_RETRY)
			break;
		l->retries++;
		if (cdc_mono_ms() - t0 > l->o.retry_ms || cdc_stop) {
			cdc_error("cannot insert into '%s': %s", t->qname, err);
			return EX_TEMPFAIL;
		}
		cdc_sleep_ms(wait);
		wait = wait * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait * 2;
	}
	if (res == CH_OK) {
		l->out += hi - lo;
		l->inserts++;
		return 0;
	}
	if (res == CH_FAIL) {
		cdc_error("cannot insert into '%s': %s", t->qname, err);
		return 1;
	}
	if (hi - lo == 1)
		return dead_letter_rb(l, t, err, b->data.p + start, end - start,
		    row_version(t, b->data.p + start, end - start));
	rc = bisect(l, t, b, lo, lo + (hi - lo) / 2);
	if (rc == 0)
		rc = bisect(l, t, b, lo + (hi - lo) / 2, hi);
	return rc;
}

/* ---- Flushing --------------------------------------------------------- */

static void
dry_print(struct loader *l, struct table *t, struct batch *b)
{
	struct cdc_buf *o = &l->scratch;
	size_t i, used, start, end;

	o->len = 0;
	cdc_buf_printf(o, "%s;\n", t->insert_sql);
	for (i = 0; i < b->nrows; i++) {
		start = b->rowoff[i];
		end = i + 1 < b->nrows ? b->rowoff[i + 1] : b->data.len;
		row_to_json(t->schema, b->data.p + start,
		    end - start, &used, o);
		cdc_buf_putc(o, '\n');
	}
	if (cdc_write_full(STDOUT_FILENO, o->p, o->len) == -1) {
		cdc_epipe_check(errno);
		cdc_error("cannot write to stdout: %s", strerror(errno));
		l->rc = EX_IOERR;
	}
}

static void
start_insert(struct loader *l, struct table *t)
{
	char params[96];

	params[0] = '\0';
	if (l->caps.dedup_token && t->flight.nrows > 0) {
		/* The same rows retried are recognised as the same insert. */
		snprintf(params, sizeof(params),
		    "insert_deduplication_token=%016" PRIx64 "-%zu",
		    cdc_crc64_avro(t->flight.data.p, t->flight.data.len),
		    t->flight.nrows);
	}
	ch_req_start(t->req, t->insert_sql, params[0] ? params : NULL,
	    t->flight.data.p, t->flight.data.len);
	t->retry_at = 0;
}

static int
batch_full(const struct loader *l, const struct batch *b)
{
	return (int64_t)b->nrows >= l->o.batch_rows ||
	    (int64_t)b->data.len >= l->o.batch_bytes;
}

/* Sends t's buffer when it is due (or force), if nothing is in flight. */
static void
maybe_flush(struct loader *l, struct table *t, int64_t now, int force)
{
	struct batch tmp;

	if (t->inflight || t->fill.nrows == 0 || l->rc != 0)
		return;
	/* An idle input sends what it has: a batch that is not filling
	 * need not wait for its linger (which bounds the wait under load). */
	if (!force && !l->idle && !batch_full(l, &t->fill) &&
	    now - t->fill.t0 < l->o.linger_ms)
		return;
	if (l->o.dry_run) {
		dry_print(l, t, &t->fill);
		l->out += t->fill.nrows;
		l->inserts++;
		batch_clear(&t->fill);
		return;
	}
	if (ch_running(l->ch) >= l->o.max_inflight)
		return;
	tmp = t->flight;
	t->flight = t->fill;
	t->fill = tmp;
	batch_clear(&t->fill);
	t->inflight = 1;
	t->attempts = 0;
	t->retry_since = now;
	start_insert(l, t);
}

static int64_t
backoff(int attempts)
{
	int64_t ms = BACKOFF_MIN_MS;

	while (--attempts > 0 && ms < BACKOFF_MAX_MS)
		ms *= 2;
	return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}

static void
on_done(struct loader *l, struct table *t)
{
	const char *err;
	enum ch_result res = ch_req_result(t->req, &err);
	int64_t now = cdc_mono_ms();
	int rc;

	switch (res) {
	case CH_OK:
		l->out += t->flight.nrows;
		l->inserts++;
		l->bytes_out += t->flight.data.len;
		break;
	case CH_RETRY:
		l->retries++;
		t->attempts++;
		if (now - t->retry_since >= l->o.retry_ms) {
			cdc_error("cannot insert into '%s': %s; gave up after "
			    "%d attempts", t->qname, err, t->attempts);
			l->rc = EX_TEMPFAIL;
			return;
		}
		cdc_warn("cannot insert into '%s': %s; retrying", t->qname,
		    err);
		t->retry_at = now + backoff(t->attempts);
		return;
	case CH_FAIL:
		/* The table may have been dropped or changed behind our back:
		 * make it again once, then give up. */
		if (!t->refreshed) {
			cdc_warn("cannot insert into '%s': %s; checking the "
			    "table", t->qname, err);
			t->refreshed = 1;
			rc = ddl_sync_table(l, t, t->schema, NULL);
			if (rc != 0) {
				l->rc = rc;
				return;
			}
			t->retry_at = now;
			return;
		}
		cdc_error("cannot insert into '%s': %s", t->qname, err);
		l->rc = 1;
		return;
	case CH_DATA:
		cdc_warn("insert into '%s' rejected: %s; finding the rows",
		    t->qname, err);
		rc = bisect(l, t, &t->flight, 0, t->flight.nrows);
		if (rc != 0) {
			l->rc = rc;
			return;
		}
		break;
	}
	t->refreshed = 0;
	t->inflight = 0;
	batch_clear(&t->flight);
	maybe_flush(l, t, now, 0);
}

/* ---- Acknowledgements ------------------------------------------------- */

static int
send_acks(struct loader *l)
{
	int64_t safe = l->ncommits;
	char err[CDC_ERRLEN];
	size_t i, k;
	struct table *t;

	for (i = 0; i < l->ntables; i++) {
		t = l->tables[i];
		if (t->fill.nrows > 0 && t->fill.first_commit - 1 < safe)
			safe = t->fill.first_commit - 1;
		if (t->inflight && t->flight.first_commit - 1 < safe)
			safe = t->flight.first_commit - 1;
	}
	if (safe <= l->acked)
		return 0;
	for (k = 0; k < l->nmarks && l->marks[k].ordinal <= safe; k++)
		;
	if (k == 0)
		return 0;
	if (l->o.ack_fd >= 0 &&
	    cdc_ack_send(l->o.ack_fd, l->marks[k - 1].seq, l->marks[k - 1].pos,
		strlen(l->marks[k - 1].pos), err, sizeof(err)) == -1) {
		cdc_error("cannot write acknowledgement: %s", err);
		return EX_IOERR;
	}
	l->acked = l->marks[k - 1].ordinal;
	for (i = 0; i < k; i++)
		loader_metrics_acked(l, &l->marks[i]);
	for (i = 0; i < k; i++)
		free(l->marks[i].pos);
	memmove(l->marks, l->marks + k, (l->nmarks - k) * sizeof(*l->marks));
	l->nmarks -= k;
	return 0;
}

static void
on_commit(struct loader *l, const struct cdc_frame *f)
{
	struct commit_mark *m;

	if (l->nmarks == l->capmarks) {
		l->capmarks = l->capmarks ? l->capmarks * 2 : 64;
		l->marks = cdc_xrealloc(l->marks,
		    l->capmarks * sizeof(*l->marks));
	}
	/* A transaction ends: a delete held for a key change goes out (it
	 * belongs to the commit before this mark). */
	loader_release_held(l);
	m = &l->marks[l->nmarks++];
	m->ordinal = ++l->ncommits;
	m->seq = f->seq;
	m->version = f->version;
	/* The source's commit time of the newest change before the mark:
	 * through Kafka, the mark's own time is kafka2ch's record time. */
	m->ts_ms = l->src_ts_ms > 0 ? l->src_ts_ms : f->ts_ms;
	m->pos = cdc_xstrndup((const char *)f->position.p, f->position.len);
	if (f->version > l->maxver)
		l->maxver = f->version;
}

/* ---- The loop's entry points ------------------------------------------ */

int
loader_frame(struct loader *l, struct cdc_reader *r, const struct cdc_frame *f)
{
	int rc = 0;

	switch (f->kind) {
	case CDC_FRAME_CHANGE:
		rc = on_change(l, r, f);
		break;
	case CDC_FRAME_SCHEMA_ANN:
		forget_schema(l, f->fingerprint);
		break;
	case CDC_FRAME_COMMIT:
		on_commit(l, f);
		rc = send_acks(l);
		break;
	default:
		break;
	}
	if (rc == 0 && l->rc != 0)
		rc = l->rc;
	if (rc == 0 && f->kind == CDC_FRAME_CHANGE) {
		struct table *t;
		size_t i;

		/* Only a full buffer needs attention right away. */
		for (i = 0; i < l->ntables; i++) {
			t = l->tables[i];
			if (batch_full(l, &t->fill))
				maybe_flush(l, t, cdc_mono_ms(), 0);
		}
		rc = l->rc;
	}
	return rc;
}

int
loader_backpressure(const struct loader *l)
{
	size_t i;
	int64_t total = 0;

	for (i = 0; i < l->ntables; i++) {
		if (batch_full(l, &l->tables[i]->fill))
			return 1;
		total += (int64_t)l->tables[i]->fill.data.len;
	}
	/* Many tables: cap the sum of what they buffer. */
	return total >= 4 * l->o.batch_bytes;
}

void
loader_set_idle(struct loader *l, int idle)
{
	l->idle = idle;
}

/* Waits up to timeout_ms for fd (-1: none) or, with a server, for the
 * network, running the transfers it can. */
static void
net_wait(struct loader *l, int fd, int timeout_ms)
{
	struct pollfd pfd;

	if (l->ch != NULL) {
		ch_wait(l->ch, fd, timeout_ms);
	} else if (timeout_ms > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		poll(&pfd, fd >= 0 ? 1 : 0, timeout_ms);
	}
}

int
loader_wait_input(struct loader *l, int fd, int ms)
{
	struct pollfd pfd;
	int64_t left, end = cdc_mono_ms() + ms;

	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 0) > 0)
			return 1;
		left = end - cdc_mono_ms();
		if (left <= 0)
			return 0;
		net_wait(l, fd, (int)left);
		/* A finished insert is handled now; the pause starts over. */
		if (l->ch != NULL && ch_done_waiting(l->ch))
			return 1;
	}
}

int
loader_next_due(const struct loader *l, int max)
{
	int64_t now = cdc_mono_ms(), due = now + max, d;
	const struct table *t;
	size_t i;

	for (i = 0; i < l->ntables; i++) {
		t = l->tables[i];
		if (t->inflight && t->retry_at != 0 && t->retry_at < due)
			due = t->retry_at;
		if (!t->inflight && t->fill.nrows > 0) {
			d = l->idle ? now : t->fill.t0 + l->o.linger_ms;
			if (d < due)
				due = d;
		}
	}
	return due <= now ? 0 : (int)(due - now);
}

int
loader_service(struct loader *l, int fd, int timeout_ms)
{
	struct ch_req *req;
	struct table *t, *big = NULL;
	int64_t now, total = 0;
	size_t i;

	net_wait(l, fd, timeout_ms);
	while (l->ch != NULL && (req = ch_next_done(l->ch)) != NULL &&
	    l->rc == 0)
		on_done(l, ch_req_user(req));
	if (l->rc != 0)
		return l->rc;
	now = cdc_mono_ms();
	for (i = 0; i < l->ntables; i++) {
		t = l->tables[i];
		if (t->inflight && t->retry_at != 0 && t->retry_at <= now &&
		    !ch_req_busy(t->req)) {
			t->retry_since = t->attempts == 0 ? now : t->retry_since;
			start_insert(l, t);
		}
		maybe_flush(l, t, now, 0);
		total += (int64_t)t->fill.data.len;
		if (!t->inflight && (big == NULL ||
			t->fill.data.len > big->fill.data.len))
			big = t;
	}
	if (big != NULL && total >= 4 * l->o.batch_bytes)
		maybe_flush(l, big, now, 1);
	if (l->rc != 0)
		return l->rc;
	loader_stats(l, 0);
	return send_acks(l);
}

int
loader_drain(struct loader *l, struct table *t)
{
	int rc;

	maybe_flush(l, t, cdc_mono_ms(), 1);
	while (l->rc == 0 && (t->inflight || t->fill.nrows > 0)) {
		rc = loader_service(l, -1, loader_next_due(l, 100));
		if (rc != 0)
			return rc;
		maybe_flush(l, t, cdc_mono_ms(), 1);
		if (cdc_stop > 1)
			return EX_TEMPFAIL;
	}
	return l->rc;
}

int
loader_finish(struct loader *l)
{
	size_t i;
	int rc, pending;

	loader_release_held(l);
	for (;;) {
		pending = 0;
		for (i = 0; i < l->ntables; i++) {
			maybe_flush(l, l->tables[i], cdc_mono_ms(), 1);
			if (l->tables[i]->inflight || l->tables[i]->fill.nrows)
				pending = 1;
		}
		if (l->rc != 0)
			return l->rc;
		if (!pending)
			break;
		rc = loader_service(l, -1, loader_next_due(l, 100));
		if (rc != 0)
			return rc;
	}
	rc = send_acks(l);
	loader_stats(l, 1);
	return rc;
}

void
loader_stats(struct loader *l, int force)
{
	int64_t now = cdc_mono_ms();
	/* Metrics are written at the stats interval, every 10 s without. */
	int64_t every = l->o.stats_ms > 0 ? l->o.stats_ms : 10000;

	if (!force && (now - l->last_stats < every ||
	    (l->o.stats_ms <= 0 && l->metrics == NULL)))
		return;
	l->last_stats = now;
	loader_metrics_write(l);
	if (!force && l->o.stats_ms <= 0)
		return;
	cdc_info("in=%" PRIu64 " out=%" PRIu64 " inserts=%" PRIu64
	    " retries=%" PRIu64 " dead=%" PRIu64 " ddl=%" PRIu64
	    " completed=%" PRIu64 " tables=%zu acked=%" PRId64, l->in,
	    l->out, l->inserts, l->retries, l->dead_rows, l->ddl,
	    l->completed, l->ntables, l->acked);
}
