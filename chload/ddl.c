/* The loader's DDL: ClickHouse names for MySQL tables, CREATE and ALTER from
 * value schemas, the current-state views, truncation, and the Ddl frames
 * (DROP, RENAME, TRUNCATE) of the source, applied or reported. Everything
 * here is synchronous and rare. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "sys.h"

#define TRUNC_TABLE "_chload_truncations"

static char *
buf_str(struct cdc_buf *b)
{
	cdc_buf_putc(b, '\0');
	return (char *)b->p;
}

static void
qident(struct cdc_buf *b, const char *s)
{
	ch_quote_ident(b, s, strlen(s));
}

static void
qstring(struct cdc_buf *b, const char *s)
{
	ch_quote_string(b, s, strlen(s));
}

/* " ON CLUSTER `name`" with --cluster: statements that replication does
 * not carry (CREATE, DROP, RENAME, views) run on every replica. ALTERs of
 * replicated tables need none: the replicas take them from ZooKeeper. */
static void
on_cluster(const struct loader *l, struct cdc_buf *b)
{
	if (l->o.cluster == NULL)
		return;
	cdc_buf_puts(b, " ON CLUSTER ");
	qident(b, l->o.cluster);
}

/* A name as a ZooKeeper path component: [A-Za-z0-9_] as they are, other
 * bytes as %XX (a '/' or '..' in a MySQL name must not make a path). */
static void
zk_part(struct cdc_buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (; *u != '\0'; u++) {
		if (isalnum(*u) || *u == '_')
			cdc_buf_putc(b, (char)*u);
		else
			cdc_buf_printf(b, "%%%02X", *u);
	}
}

/* ENGINE = kind(args): Replicated<kind> with --cluster, its ZooKeeper path
 * naming the table and the time it was made, so that a later table of the
 * same name (after a RENAME) gets a path of its own. */
static void
engine(const struct loader *l, struct cdc_buf *b, const char *kind,
    const char *chdb, const char *name, const char *args)
{
	struct cdc_buf path;

	if (l->o.cluster == NULL) {
		cdc_buf_printf(b, " ENGINE = %s(%s)", kind, args);
		return;
	}
	cdc_buf_init(&path);
	cdc_buf_puts(&path, "/clickhouse/tables/{shard}/cdc/");
	zk_part(&path, chdb);
	cdc_buf_putc(&path, '/');
	zk_part(&path, name);
	cdc_buf_printf(&path, "-%" PRIx64, (uint64_t)cdc_now_ms());
	cdc_buf_printf(b, " ENGINE = Replicated%s(", kind);
	qstring(b, buf_str(&path));
	cdc_buf_printf(b, ", '{replica}'%s%s)", args[0] != '\0' ? ", " : "",
	    args);
	cdc_buf_fini(&path);
}

/* The statement creating a database's record of source truncations
 * (table_name, version, at); sql is cleared first. */
static const char *
trunc_table_sql(const struct loader *l, struct cdc_buf *sql, const char *chdb)
{
	sql->len = 0;
	cdc_buf_puts(sql, "CREATE TABLE IF NOT EXISTS ");
	qident(sql, chdb);
	cdc_buf_puts(sql, "." TRUNC_TABLE);
	on_cluster(l, sql);
	cdc_buf_puts(sql, " (`table_name` String, `version` UInt64, `at` "
			  "DateTime)");
	engine(l, sql, "MergeTree", chdb, TRUNC_TABLE, "");
	cdc_buf_puts(sql, " ORDER BY (`table_name`, `version`)");
	return buf_str(sql);
}

void
ddl_names(struct loader *l, struct table *t)
{
	struct cdc_buf b;

	cdc_buf_init(&b);
	if (l->o.database != NULL) {
		t->chdb = cdc_xstrdup(l->o.database);
		cdc_buf_printf(&b, "%s.%s", t->db, t->name);
		t->chname = buf_str(&b);
	} else {
		cdc_buf_printf(&b, "%s%s", l->o.db_prefix ? l->o.db_prefix : "",
		    t->db);
		t->chdb = buf_str(&b);
		t->chname = cdc_xstrdup(t->name);
	}
	cdc_buf_init(&b);
	qident(&b, t->chdb);
	cdc_buf_putc(&b, '.');
	qident(&b, t->chname);
	t->qname = buf_str(&b);
}

/* Whether rows wait that a failure now would leave unacknowledged. */
static int
work_in_flight(const struct loader *l)
{
	size_t i;

	if (l->ncommits > l->acked)
		return 1;
	for (i = 0; i < l->ntables; i++)
		if (l->tables[i]->inflight || l->tables[i]->fill.nrows > 0)
			return 1;
	return 0;
}

/* Runs sql, retrying while the server is unreachable; out gets the answer.
 * Returns 0, 1 when the server refused it (its text in err), or an exit
 * code when it stayed unreachable. */
static int
run_err(struct loader *l, const char *sql, struct cdc_buf *out, char *err,
    size_t errlen)
{
	int64_t t0 = cdc_mono_ms(), wait = 100;
	enum ch_result res;

	for (;;) {
		res = ch_query(l->ch, sql, NULL, 0, out, err, errlen);
		if (res == CH_OK)
			return 0;
		if (l->o.cluster != NULL &&
		    strstr(err, "distributed_ddl_task_timeout") != NULL) {
			/* The live replicas ran it; the others run it from
			 * the queue in ZooKeeper when they come back. A retry
			 * would queue it twice. */
			cdc_warn("'%.200s': not every replica answered in "
			    "time; they run it when they are back", sql);
			return 0;
		}
		if (res != CH_RETRY)
			return 1;
		l->retries++;
		if (cdc_mono_ms() - t0 >= l->o.retry_ms || cdc_stop) {
			cdc_error("cannot run '%.200s': %s; gave up", sql, err);
			return work_in_flight(l) ? EX_TEMPFAIL : EX_UNAVAILABLE;
		}
		cdc_warn("cannot run '%.200s': %s; retrying", sql, err);
		cdc_sleep_ms(wait);
		wait = wait * 2 > 5000 ? 5000 : wait * 2;
	}
}

/* run_err() that says what the server refused, unless quiet. */
static int
run(struct loader *l, const char *sql, struct cdc_buf *out, int quiet)
{
	char err[CDC_ERRLEN];
	int rc = run_err(l, sql, out, err, sizeof(err));

	if (rc == 1 && !quiet)
		cdc_error("cannot run '%.200s': %s", sql, err);
	return rc;
}

/* Runs (or, in --dry-run, prints) a DDL statement: 0, 1 when the server
 * refused it (its text in err, nothing said), or an exit code. */
static int
ddl_try(struct loader *l, const char *sql, char *err, size_t errlen)
{
	struct cdc_buf b;
	int rc = 0;

	l->ddl++;
	cdc_debug("ddl: %s", sql);
	if (l->o.dry_run) {
		cdc_buf_init(&b);
		cdc_buf_printf(&b, "%s;\n", sql);
		if (cdc_write_full(STDOUT_FILENO, b.p, b.len) == -1) {
			cdc_epipe_check(errno);
			cdc_error("cannot write to stdout: %s", strerror(errno));
			rc = EX_IOERR;
		}
		cdc_buf_fini(&b);
		return rc;
	}
	return run_err(l, sql, NULL, err, errlen);
}

int
ddl_exec(struct loader *l, const char *sql)
{
	char err[CDC_ERRLEN];
	int rc = ddl_try(l, sql, err, sizeof(err));

	if (rc == 1)
		cdc_error("cannot run '%.200s': %s", sql, err);
	return rc;
}

int
ddl_fetch(struct loader *l, const char *sql, struct cdc_buf *out)
{
	cdc_debug("query: %s", sql);
	return run(l, sql, out, 0);
}

/* A query's TSV answer in out (nothing in --dry-run). */
static int
ddl_query(struct loader *l, const char *sql, struct cdc_buf *out)
{
	if (l->o.dry_run)
		return 0;
	return run(l, sql, out, 0);
}

/* Unescapes one TSV field in place; returns its end. */
static char *
tsv_field(char *p, char **next)
{
	char *w = p, *r = p;

	while (*r != '\0' && *r != '\t' && *r != '\n') {
		if (*r == '\\' && r[1] != '\0') {
			r++;
			switch (*r) {
			case 't': *w++ = '\t'; break;
			case 'n': *w++ = '\n'; break;
			case '0': *w++ = '\0'; break;
			case 'r': *w++ = '\r'; break;
			case 'b': *w++ = '\b'; break;
			case 'f': *w++ = '\f'; break;
			default: *w++ = *r; break;
			}
			r++;
		} else {
			*w++ = *r++;
		}
	}
	*next = *r != '\0' ? r + 1 : r;
	*w = '\0';
	return p;
}

/* Types compare without the spaces ClickHouse adds or drops. */
static int
same_type(const char *a, const char *b)
{
	int qa = 0, qb = 0;

	for (;;) {
		while (*a == ' ' && !qa)
			a++;
		while (*b == ' ' && !qb)
			b++;
		if (*a != *b)
			return 0;
		if (*a == '\0')
			return 1;
		if (*a == '\\' && a[1] != '\0' && b[1] == a[1]) {
			a += 2;
			b += 2;
			continue;
		}
		if (*a == '\'')
			qa = !qa, qb = !qb;
		a++;
		b++;
	}
}

struct srvcol {
	char *name, *type;
};

static int
is_meta(const char *name)
{
	return strcmp(name, "_version") == 0 || strcmp(name, "_deleted") == 0 ||
	    strcmp(name, "_ts") == 0;
}

/* Sets the key positions of cols[0..n) from a sorting key expression as
 * system.tables shows it ("id, `sel ect`"). */
static void
key_positions(const char *sk, struct named_col *cols, size_t n)
{
	struct cdc_buf name;
	const char *p = sk;
	int pos = 0;
	size_t i;

	cdc_buf_init(&name);
	while (*p != '\0') {
		name.len = 0;
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '`') {
			for (p++; *p != '\0' && *p != '`'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				cdc_buf_putc(&name, *p);
			}
			if (*p == '`')
				p++;
		} else {
			while (*p != '\0' && *p != ',' && *p != ' ')
				cdc_buf_putc(&name, *p++);
		}
		if (name.len == 0)
			break;
		pos++;
		for (i = 0; i < n; i++)
			if (strlen(cols[i].name) == name.len &&
			    memcmp(cols[i].name, name.p, name.len) == 0)
				cols[i].keypos = pos;
	}
	cdc_buf_fini(&name);
}

static int server_sorting_key(struct loader *l, struct table *t,
    struct cdc_buf *out);

/* A schema whose columns are named by position (a binlog without column
 * names) for a table that has named columns: it is mapped onto them when
 * every value converts exactly, else its rows are refused (dead-letter
 * file) rather than adding col_1, col_2, ... to the table. have[0..nhave)
 * are the table's columns; old, if not NULL, the schema by names rows used
 * so far. Returns 0 or an exit code. */
static int
map_positional(struct loader *l, struct table *t, struct tschema *s,
    const struct tschema *old, const struct srvcol *have, size_t nhave)
{
	struct named_col *nc = cdc_xcalloc(nhave + 1, sizeof(*nc));
	char err[CDC_ERRLEN], want[32];
	struct cdc_buf sk;
	size_t i, n = 0;
	int named = 0, rc = 0, k;

	cdc_buf_init(&sk);
	for (i = 0; i < nhave; i++) {
		if (is_meta(have[i].name))
			continue;
		nc[n].name = have[i].name;
		nc[n].type = have[i].type;
		snprintf(want, sizeof(want), "col_%zu", n + 1);
		named |= strcmp(have[i].name, want) != 0;
		if (old != NULL && !old->positional &&
		    (k = tschema_col(old, have[i].name)) >= 0) {
			nc[n].src = &old->cols[k];
			nc[n].keypos = old->cols[k].keypos;
		}
		n++;
	}
	if (!named)
		goto out; /* a new table, or one named by position too */
	if (!l->o.dry_run) {
		for (i = 0; i < n; i++)
			nc[i].keypos = 0;
		if ((rc = server_sorting_key(l, t, &sk)) != 0)
			goto out;
		key_positions((const char *)sk.p, nc, n);
	}
	if (tschema_map(s, nc, n, err, sizeof(err)) == 0) {
		cdc_info("'%s.%s': columns named by position in the binlog "
		    "are read as the columns of '%s'", t->db, t->name,
		    t->qname);
	} else {
		cdc_warn("cannot load rows of '%s.%s' into '%s': %s; they go "
		    "to the dead-letter file", t->db, t->name, t->qname, err);
		free(s->refused);
		s->refused = cdc_xstrdup(err);
	}
out:
	cdc_buf_fini(&sk);
	free(nc);
	return rc;
}

/* A date or time column that an earlier run widened (or began to widen:
 * DateTime goes through Int64) keeps its wide type. */
static void
adopt_wide(struct col *c, const char *have)
{
	char *wide = col_wide_type(c);

	if (wide != NULL && (same_type(have, wide) ||
				(c->rep == REP_DATETIME &&
				    same_type(have, c->nullable ?
					"Nullable(Int64)" : "Int64"))))
		col_widen(c);
	free(wide);
}

/* The table's columns on the server; *n is 0 when it has none. */
static int
server_columns(struct loader *l, struct table *t, struct cdc_buf *raw,
    struct srvcol **cols, size_t *n)
{
	struct cdc_buf sql;
	char *p, *next;
	int rc;

	*cols = NULL;
	*n = 0;
	cdc_buf_init(&sql);
	cdc_buf_puts(&sql, "SELECT name, type FROM system.columns WHERE "
			   "database = ");
	qstring(&sql, t->chdb);
	cdc_buf_puts(&sql, " AND table = ");
	qstring(&sql, t->chname);
	cdc_buf_puts(&sql, " FORMAT TabSeparated");
	rc = ddl_query(l, buf_str(&sql), raw);
	cdc_buf_fini(&sql);
	if (rc != 0 || raw->len == 0)
		return rc;
	cdc_buf_putc(raw, '\0');
	p = (char *)raw->p;
	while (*p != '\0') {
		*cols = cdc_xrealloc(*cols, (*n + 1) * sizeof(**cols));
		(*cols)[*n].name = tsv_field(p, &next);
		(*cols)[*n].type = tsv_field(next, &next);
		(*n)++;
		p = next;
	}
	return 0;
}

static const struct srvcol *
find_col(const struct srvcol *cols, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(cols[i].name, name) == 0)
			return &cols[i];
	return NULL;
}

/* A column of system.tables for chdb.name, as text with a NUL ("" when
 * the table does not exist). */
static int
system_tables_field(struct loader *l, const char *field, const char *chdb,
    const char *name, struct cdc_buf *out)
{
	struct cdc_buf sql;
	int rc;

	out->len = 0;
	cdc_buf_init(&sql);
	cdc_buf_printf(&sql, "SELECT %s FROM system.tables WHERE database = ",
	    field);
	qstring(&sql, chdb);
	cdc_buf_puts(&sql, " AND name = ");
	qstring(&sql, name);
	cdc_buf_puts(&sql, " FORMAT TabSeparatedRaw");
	rc = ddl_query(l, buf_str(&sql), out);
	cdc_buf_fini(&sql);
	while (out->len > 0 && out->p[out->len - 1] == '\n')
		out->len--;
	cdc_buf_putc(out, '\0');
	return rc;
}

/* The engine of chdb.name on the server ("" when there is none). */
static int
engine_of(struct loader *l, const char *chdb, const char *name,
    struct cdc_buf *out)
{
	if (l->o.dry_run) {
		out->len = 0;
		cdc_buf_putc(out, '\0');
		return 0;
	}
	return system_tables_field(l, "engine", chdb, name, out);
}

/* The sorting key of t on the server, as text with a NUL. */
static int
server_sorting_key(struct loader *l, struct table *t, struct cdc_buf *out)
{
	return system_tables_field(l, "sorting_key", t->chdb, t->chname, out);
}

static void
view_name(struct loader *l, const struct table *t, struct cdc_buf *b)
{
	struct cdc_buf n;

	cdc_buf_init(&n);
	cdc_buf_printf(&n, "%s%s", t->chname, l->o.view_suffix);
	qident(b, t->chdb);
	cdc_buf_putc(b, '.');
	qident(b, buf_str(&n));
	cdc_buf_fini(&n);
}

/* Drops t's view if it is one (never a table that happens to have the
 * name). */
static int
drop_view(struct loader *l, const struct table *t)
{
	struct cdc_buf name, eng, sql;
	int rc;

	cdc_buf_init(&name);
	cdc_buf_init(&eng);
	cdc_buf_init(&sql);
	cdc_buf_printf(&name, "%s%s", t->chname, l->o.view_suffix);
	rc = engine_of(l, t->chdb, buf_str(&name), &eng);
	if (rc == 0 && strcmp((char *)eng.p, "View") == 0) {
		cdc_buf_puts(&sql, "DROP TABLE ");
		view_name(l, t, &sql);
		on_cluster(l, &sql);
		rc = ddl_exec(l, buf_str(&sql));
	}
	cdc_buf_fini(&name);
	cdc_buf_fini(&eng);
	cdc_buf_fini(&sql);
	return rc;
}

static void
col_list(struct cdc_buf *b, const struct tschema *s)
{
	size_t i;

	for (i = 0; i < s->ncols; i++) {
		if (i > 0)
			cdc_buf_puts(b, ", ");
		qident(b, s->cols[i].name);
	}
}

/* Runs the DDL sql of a view. Another loader of the same table (a sink
 * of the same consumer group) may remake the view at the same moment:
 * when our DROP finds it gone (60, UNKNOWN_TABLE) or our CREATE finds it
 * made (57, TABLE_ALREADY_EXISTS), *raced is set and nothing is said. */
static int
view_exec(struct loader *l, const char *sql, int *raced)
{
	char err[CDC_ERRLEN];
	int rc = ddl_try(l, sql, err, sizeof(err)), code;

	if (rc != 1)
		return rc;
	code = ch_error_code(err);
	if (code == 57 || code == 60) {
		*raced = 1;
		return 0;
	}
	cdc_error("cannot run '%.200s': %s", sql, err);
	return rc;
}

/* CREATE VIEW of t's current state for columns s, in sql. */
static void
view_sql(struct loader *l, const struct table *t, const struct tschema *s,
    struct cdc_buf *sql)
{
	cdc_buf_puts(sql, "CREATE VIEW ");
	view_name(l, t, sql);
	on_cluster(l, sql);
	cdc_buf_puts(sql, " AS SELECT ");
	col_list(sql, s);
	if (s->nkey > 0) {
		cdc_buf_printf(sql, "%s`_version`, `_ts` FROM %s FINAL WHERE "
		    "`_deleted` = 0 AND ", s->ncols ? ", " : "", t->qname);
	} else {
		/* Keyless: images are +1 (after) and -1 (before) of a
		 * multiset; a row is there as many times as it sums to. */
		cdc_buf_puts(sql, " FROM (SELECT ");
		col_list(sql, s);
		cdc_buf_printf(sql, ", sum(if(`_deleted` = 1, -1, 1)) AS "
		    "`_chload_n` FROM %s FINAL WHERE ", t->qname);
	}
	cdc_buf_puts(sql, "`_version` > (SELECT max(`version`) FROM ");
	qident(sql, t->chdb);
	cdc_buf_puts(sql, "." TRUNC_TABLE " WHERE `table_name` = ");
	qstring(sql, t->chname);
	cdc_buf_puts(sql, ")");
	if (s->nkey == 0) {
		cdc_buf_puts(sql, " GROUP BY ");
		col_list(sql, s);
		cdc_buf_puts(sql, ") ARRAY JOIN range(toUInt64(greatest("
				  "`_chload_n`, 0))) AS `_chload_i`");
	}
}

/* (Re)creates the current-state view of t for columns s. When another
 * loader remakes it at the same time, starts again (a few times): the
 * view must end with our columns, which are the newest schema's. */
static int
sync_view(struct loader *l, const struct table *t, const struct tschema *s)
{
	struct cdc_buf name, eng, drop, create;
	const char *vname;
	int rc, raced, tries;

	cdc_buf_init(&name);
	cdc_buf_init(&eng);
	cdc_buf_init(&drop);
	cdc_buf_init(&create);
	cdc_buf_printf(&name, "%s%s", t->chname, l->o.view_suffix);
	vname = buf_str(&name);
	cdc_buf_puts(&drop, "DROP TABLE ");
	view_name(l, t, &drop);
	on_cluster(l, &drop);
	cdc_buf_putc(&drop, '\0');
	view_sql(l, t, s, &create);
	cdc_buf_putc(&create, '\0');
	for (tries = 0;; tries++) {
		raced = 0;
		eng.len = 0;
		rc = engine_of(l, t->chdb, vname, &eng);
		if (rc != 0)
			break;
		if (eng.p[0] != '\0' && strcmp((char *)eng.p, "View") != 0) {
			cdc_warn("not creating the view of '%s': '%s' exists "
				 "and is a %s",
			    t->qname, vname, (char *)eng.p);
			break;
		}
		if (eng.p[0] != '\0')
			rc = view_exec(l, (char *)drop.p, &raced);
		if (rc == 0 && !raced)
			rc = view_exec(l, (char *)create.p, &raced);
		if (rc != 0 || !raced)
			break;
		if (tries == 5) {
			cdc_error("cannot make the view of '%s': another "
				  "loader keeps remaking it", t->qname);
			rc = EX_TEMPFAIL;
			break;
		}
		cdc_debug("the view of '%s' changed under us; again",
		    t->qname);
		cdc_sleep_ms(50 * (tries + 1));
	}
	cdc_buf_fini(&name);
	cdc_buf_fini(&eng);
	cdc_buf_fini(&drop);
	cdc_buf_fini(&create);
	return rc;
}

static void
create_sql(struct loader *l, const struct table *t, const struct tschema *s,
    struct cdc_buf *b)
{
	size_t i;

	cdc_buf_printf(b, "CREATE TABLE IF NOT EXISTS %s", t->qname);
	on_cluster(l, b);
	cdc_buf_puts(b, " (");
	for (i = 0; i < s->ncols; i++) {
		qident(b, s->cols[i].name);
		cdc_buf_printf(b, " %s, ", s->cols[i].chtype);
	}
	cdc_buf_printf(b, "`_version` UInt64, `_deleted` UInt8, `_ts` %s)",
	    l->caps.datetime64 ? "DateTime64(3, 'UTC')" : "DateTime('UTC')");
	engine(l, b, "ReplacingMergeTree", t->chdb, t->chname,
	    s->nkey > 0 && l->caps.is_deleted ? "`_version`, `_deleted`" :
						"`_version`");
	if (s->nkey > 0) {
		cdc_buf_puts(b, " ORDER BY (");
		for (i = 0; i < s->nkey; i++) {
			if (i > 0)
				cdc_buf_puts(b, ", ");
			qident(b, s->cols[s->key[i]].name);
		}
		cdc_buf_puts(b, ")");
	} else {
		cdc_buf_puts(b, " ORDER BY (`_version`, `_deleted`)");
	}
	/* Replicated tables deduplicate by a window of their own. */
	if (l->caps.dedup_token && l->o.cluster == NULL)
		cdc_buf_puts(b, " SETTINGS non_replicated_deduplication_window "
				"= 1000");
}

int
ddl_sync_view(struct loader *l, struct table *t)
{
	return sync_view(l, t, t->schema);
}

/* Whether every row of t converts to column c's new type: a mutation that
 * fails on a row leaves the table's metadata changed and its parts
 * unreadable (current servers), and a value that turns into NULL would be
 * lost (18.16). Returns 0, or EX_DATAERR (said why) or an exit code. */
static int
check_convert(struct loader *l, struct table *t, const struct col *c,
    const char *have)
{
	struct cdc_buf sql, out;
	char err[CDC_ERRLEN] = "";
	int rc;

	if (l->o.dry_run)
		return 0;
	cdc_buf_init(&sql);
	cdc_buf_init(&out);
	/* The second sum makes every row convert: servers fold isNull() of
	 * a non-Nullable type to 0 without computing its argument. */
	cdc_buf_puts(&sql, "SELECT countIf(isNotNull(");
	qident(&sql, c->name);
	cdc_buf_puts(&sql, ") AND isNull(CAST(");
	qident(&sql, c->name);
	cdc_buf_printf(&sql, " AS %s))), sum(length(toString(CAST(", c->chtype);
	qident(&sql, c->name);
	cdc_buf_printf(&sql, " AS %s)))) FROM %s FORMAT TabSeparated",
	    c->chtype, t->qname);
	rc = run_err(l, buf_str(&sql), &out, err, sizeof(err));
	while (out.len > 0 && out.p[out.len - 1] == '\n')
		out.len--;
	cdc_buf_putc(&out, '\0');
	if (rc == 0 && strtoll((char *)out.p, NULL, 10) > 0)
		snprintf(err, sizeof(err), "%s rows would become NULL",
		    (char *)out.p);
	if (rc <= 1 && err[0] != '\0') {
		cdc_error("cannot change column '%s' of '%s' from %s to %s: "
		    "rows in ClickHouse cannot take the new type (%s); the table "
		    "is left as it is", c->name, t->qname, have, c->chtype, err);
		rc = EX_DATAERR;
	}
	cdc_buf_fini(&sql);
	cdc_buf_fini(&out);
	return rc;
}

/* ClickHouse cannot change the type of a sorting key column: the column
 * keeps the table's type when that is another form of its values (an older
 * server's Date, a narrower integer); chload refuses when it is not, rather
 * than send rows the table cannot parse. */
static int
keep_key_type(struct table *t, struct col *c, const char *have)
{
	char *want = cdc_xstrdup(c->chtype);
	int rc = 0;

	if (col_adopt(c, have) == 0) {
		cdc_warn("key column '%s' of '%s' is %s in ClickHouse and %s "
		    "in the source; kept, a value it cannot hold is refused",
		    c->name, t->qname, have, want);
	} else {
		cdc_error("key column '%s' of '%s' is %s in ClickHouse and %s "
		    "in the source: ClickHouse cannot change a key column and "
		    "%s cannot hold the source's values; recreate the table "
		    "(docs/chload.md 3)", c->name, t->qname, have, want, have);
		rc = EX_DATAERR;
	}
	free(want);
	return rc;
}

/* A column that is Nullable in ClickHouse stays so: older rows may hold
 * NULL, and current servers refuse to drop Nullable from a column. */
static void
adopt_nullable(struct col *c, const char *have)
{
	if (strncmp(have, "Nullable(", 9) == 0 ||
	    strncmp(have, "LowCardinality(Nullable(", 24) == 0)
		col_make_nullable(c);
}

int
ddl_sync_table(struct loader *l, struct table *t, struct tschema *s,
    const struct tschema *old)
{
	struct cdc_buf sql, raw, raw2;
	struct srvcol *have = NULL;
	const struct srvcol *hc;
	size_t nhave = 0, i;
	int rc;

	cdc_buf_init(&sql);
	cdc_buf_init(&raw);
	cdc_buf_init(&raw2);
	cdc_buf_puts(&sql, "CREATE DATABASE IF NOT EXISTS ");
	qident(&sql, t->chdb);
	on_cluster(l, &sql);
	if ((rc = ddl_exec(l, buf_str(&sql))) != 0)
		goto out;
	sql.len = 0;
	if ((rc = ddl_exec(l, trunc_table_sql(l, &sql, t->chdb))) != 0)
		goto out;
	if (old == NULL || l->o.dry_run) {
		sql.len = 0;
		create_sql(l, t, s, &sql);
		if (old == NULL && (rc = ddl_exec(l, buf_str(&sql))) != 0)
			goto out;
	}
	if (l->o.dry_run) {
		/* No server to ask: the columns are those of old (or all). */
		const struct tschema *base = old != NULL && !old->refused ?
		    old : s;

		have = cdc_xcalloc(base->ncols + 1, sizeof(*have));
		for (i = 0; i < base->ncols; i++) {
			have[i].name = base->cols[i].name;
			have[i].type = base->cols[i].chtype;
		}
		nhave = base->ncols;
	} else if ((rc = server_columns(l, t, &raw, &have, &nhave)) != 0) {
		goto out;
	}
	/* _ts as the table has it: an older server's table keeps DateTime. */
	if ((hc = find_col(have, nhave, "_ts")) != NULL)
		s->ts64 = strncmp(hc->type, "DateTime64", 10) == 0;
	if (s->positional && !s->refused) {
		if ((rc = map_positional(l, t, s, old, have, nhave)) != 0)
			goto out;
	}
	if (s->refused != NULL)
		goto out; /* nothing of it reaches the table */
	if (s->nkey > 0 && nhave > 0 && !l->o.dry_run) {
		/* A table made without a primary key (from a binlog without
		 * column metadata, say) keeps its rows a multiset: a key that
		 * appears later cannot become its sorting key. */
		if ((rc = server_sorting_key(l, t, &raw2)) != 0)
			goto out;
		if (strcmp((const char *)raw2.p, "_version, _deleted") == 0) {
			cdc_warn("'%s.%s' has a primary key now; '%s' was made "
			    "without one and keeps its rows as a multiset",
			    t->db, t->name, t->qname);
			for (i = 0; i < s->ncols; i++)
				s->cols[i].keypos = 0;
			s->nkey = 0;
		}
	}
	if (old != NULL && old->nkey != s->nkey && !old->refused)
		cdc_warn("the primary key of '%s.%s' changed; '%s' keeps its "
		    "sorting key", t->db, t->name, t->qname);
	for (i = 0; i < s->ncols; i++) {
		struct col *c = &s->cols[i];

		sql.len = 0;
		hc = find_col(have, nhave, c->name);
		if (hc != NULL && !same_type(hc->type, c->chtype))
			adopt_wide(c, hc->type);
		if (hc != NULL && !same_type(hc->type, c->chtype))
			adopt_nullable(c, hc->type);
		if (hc == NULL) {
			cdc_buf_printf(&sql, "ALTER TABLE %s ADD COLUMN ",
			    t->qname);
			qident(&sql, c->name);
			cdc_buf_printf(&sql, " %s", c->chtype);
			if (i > 0) {
				cdc_buf_puts(&sql, " AFTER ");
				qident(&sql, s->cols[i - 1].name);
			}
		} else if (!same_type(hc->type, c->chtype)) {
			if (c->keypos > 0) {
				if ((rc = keep_key_type(t, c, hc->type)) != 0)
					goto out;
				continue;
			}
			if ((rc = check_convert(l, t, c, hc->type)) != 0)
				goto out;
			cdc_buf_printf(&sql, "ALTER TABLE %s MODIFY COLUMN ",
			    t->qname);
			qident(&sql, c->name);
			cdc_buf_printf(&sql, " %s", c->chtype);
		} else {
			continue;
		}
		if ((rc = ddl_exec(l, buf_str(&sql))) != 0)
			goto out;
	}
	/* Columns the source dropped. Only against the schema rows used so
	 * far, never on first sight: replaying an older stream must not
	 * drop what a newer one added. */
	for (i = 0; old != NULL && !old->positional && i < old->ncols; i++) {
		if (tschema_col(s, old->cols[i].name) >= 0 ||
		    find_col(have, nhave, old->cols[i].name) == NULL)
			continue;
		if (old->cols[i].keypos > 0) {
			cdc_warn("key column '%s' of '%s' was dropped in the "
			    "source; kept", old->cols[i].name, t->qname);
			continue;
		}
		sql.len = 0;
		cdc_buf_printf(&sql, "ALTER TABLE %s DROP COLUMN ", t->qname);
		qident(&sql, old->cols[i].name);
		if ((rc = ddl_exec(l, buf_str(&sql))) != 0)
			goto out;
	}
	rc = sync_view(l, t, s);
out:
	free(have);
	cdc_buf_fini(&sql);
	cdc_buf_fini(&raw);
	cdc_buf_fini(&raw2);
	return rc;
}

int
ddl_truncate(struct loader *l, struct table *t, uint64_t version)
{
	struct cdc_buf sql;
	int rc;

	/* The version filter of the view does the emptying, so that
	 * replaying older changes cannot bring rows back; the mutation only
	 * frees the space. */
	cdc_buf_init(&sql);
	cdc_buf_puts(&sql, "INSERT INTO ");
	qident(&sql, t->chdb);
	cdc_buf_puts(&sql, "." TRUNC_TABLE " VALUES (");
	qstring(&sql, t->chname);
	cdc_buf_printf(&sql, ", %" PRIu64 ", now())", version);
	rc = ddl_exec(l, buf_str(&sql));
	if (rc == 0) {
		sql.len = 0;
		cdc_buf_printf(&sql, "ALTER TABLE %s DELETE WHERE `_version` "
		    "<= %" PRIu64, t->qname, version);
		rc = ddl_exec(l, buf_str(&sql));
	}
	cdc_info("truncated '%s' up to version %" PRIu64, t->qname, version);
	cdc_buf_fini(&sql);
	return rc;
}

/* ---- Statements of the source: DROP, RENAME, TRUNCATE ------------------ */

static struct table *
names_of(struct loader *l, const char *db, const char *name)
{
	struct table *t = cdc_xcalloc(1, sizeof(*t));

	t->db = cdc_xstrdup(db);
	t->name = cdc_xstrdup(name);
	ddl_names(l, t);
	return t;
}

static void
free_names(struct table *t)
{
	free(t->db);
	free(t->name);
	free(t->chdb);
	free(t->chname);
	free(t->qname);
	free(t);
}

int
ddl_drop_table(struct loader *l, const char *db, const char *name,
    const char *pos)
{
	struct table *t;
	struct cdc_buf sql;
	int rc = 0;

	t = names_of(l, db, name);
	if (!l->o.apply_drops) {
		cdc_warn("source dropped table '%s.%s' at '%s': not applied "
		    "to '%s' (--apply-drops applies it)", db, name, pos,
		    t->qname);
	} else {
		rc = drop_view(l, t);
		cdc_buf_init(&sql);
		cdc_buf_printf(&sql, "DROP TABLE IF EXISTS %s", t->qname);
		on_cluster(l, &sql);
		if (rc == 0)
			rc = ddl_exec(l, buf_str(&sql));
		cdc_buf_fini(&sql);
		cdc_info("dropped '%s' as the source did at '%s'", t->qname,
		    pos);
	}
	free_names(t);
	return rc;
}

/* Copies the rows of a into b, for the columns they share. */
static int
merge_into(struct loader *l, struct table *a, struct table *b)
{
	struct cdc_buf ra, rb, cols, sql;
	struct srvcol *ca = NULL, *cb = NULL;
	size_t na = 0, nb = 0, i;
	int rc;

	cdc_buf_init(&ra);
	cdc_buf_init(&rb);
	cdc_buf_init(&cols);
	cdc_buf_init(&sql);
	rc = server_columns(l, a, &ra, &ca, &na);
	if (rc == 0)
		rc = server_columns(l, b, &rb, &cb, &nb);
	for (i = 0; rc == 0 && i < na; i++) {
		if (find_col(cb, nb, ca[i].name) == NULL)
			continue;
		if (cols.len > 0)
			cdc_buf_puts(&cols, ", ");
		qident(&cols, ca[i].name);
	}
	if (rc == 0 && cols.len > 0) {
		cdc_buf_putc(&cols, '\0');
		cdc_buf_printf(&sql, "INSERT INTO %s (%s) SELECT %s FROM %s",
		    b->qname, (char *)cols.p, (char *)cols.p, a->qname);
		rc = ddl_exec(l, buf_str(&sql));
	}
	free(ca);
	free(cb);
	cdc_buf_fini(&ra);
	cdc_buf_fini(&rb);
	cdc_buf_fini(&cols);
	cdc_buf_fini(&sql);
	return rc;
}

int
ddl_rename_table(struct loader *l, const char *db, const char *name,
    const char *db2, const char *name2, const char *pos,
    const struct tschema *s)
{
	struct table *a, *b;
	struct cdc_buf sql, eng;
	int rc = 0;

	a = names_of(l, db, name);
	b = names_of(l, db2, name2);
	cdc_buf_init(&sql);
	cdc_buf_init(&eng);
	rc = engine_of(l, a->chdb, a->chname, &eng);
	if (rc != 0)
		goto out;
	if (!l->o.dry_run && eng.p[0] == '\0') {
		/* A replay: done before, or never loaded. */
		cdc_info("source renamed '%s.%s' to '%s.%s' at '%s': no '%s' "
		    "to rename", db, name, db2, name2, pos, a->qname);
		goto out;
	}
	if ((rc = drop_view(l, a)) != 0)
		goto out;
	cdc_buf_puts(&sql, "CREATE DATABASE IF NOT EXISTS ");
	qident(&sql, b->chdb);
	on_cluster(l, &sql);
	if ((rc = ddl_exec(l, buf_str(&sql))) != 0)
		goto out;
	if ((rc = engine_of(l, b->chdb, b->chname, &eng)) != 0)
		goto out;
	sql.len = 0;
	if (!l->o.dry_run && eng.p[0] != '\0') {
		/* A replay: the rename happened before and the replay made
		 * the old table again. Its rows join the new one (versions
		 * keep the newest) and it goes. */
		if ((rc = merge_into(l, a, b)) != 0)
			goto out;
		cdc_buf_printf(&sql, "DROP TABLE %s", a->qname);
	} else {
		cdc_buf_printf(&sql, "RENAME TABLE %s TO %s", a->qname,
		    b->qname);
	}
	on_cluster(l, &sql);
	if ((rc = ddl_exec(l, buf_str(&sql))) != 0)
		goto out;
	sql.len = 0;
	if ((rc = ddl_exec(l, trunc_table_sql(l, &sql, b->chdb))) != 0)
		goto out;
	sql.len = 0;
	cdc_buf_puts(&sql, "INSERT INTO ");
	qident(&sql, b->chdb);
	cdc_buf_puts(&sql, "." TRUNC_TABLE " SELECT ");
	qstring(&sql, b->chname);
	cdc_buf_puts(&sql, ", max(`version`), now() FROM ");
	qident(&sql, a->chdb);
	cdc_buf_puts(&sql, "." TRUNC_TABLE " WHERE `table_name` = ");
	qstring(&sql, a->chname);
	if ((rc = ddl_exec(l, buf_str(&sql))) != 0)
		goto out;
	if (s != NULL)
		rc = sync_view(l, b, s);
	cdc_info("renamed '%s' to '%s' as the source did at '%s'", a->qname,
	    b->qname, pos);
out:
	free_names(a);
	free_names(b);
	cdc_buf_fini(&sql);
	cdc_buf_fini(&eng);
	return rc;
}

int
ddl_truncate_named(struct loader *l, const char *db, const char *name,
    uint64_t version)
{
	struct table *t = names_of(l, db, name);
	struct cdc_buf eng;
	int rc;

	cdc_buf_init(&eng);
	rc = engine_of(l, t->chdb, t->chname, &eng);
	if (rc == 0 && (l->o.dry_run || eng.p[0] != '\0'))
		rc = ddl_truncate(l, t, version);
	cdc_buf_fini(&eng);
	free_names(t);
	return rc;
}
