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

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "avrobin.h"
#include "decoder.h"
#include "live.h"
#include "snapshot.h"
#include "snapsql.h"
#include "sys.h"

#define TIMEOUT 600 /* seconds, for the snapshot's queries */

enum { OK = SNAP_OK, FAIL = SNAP_FAIL, RETRY = SNAP_RETRY };

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
	int code;   /* exit code of a failure that is not the server's */
	int listed; /* the tables were listed once */
	char ev_pos[600];
};

/* The current binlog position (SHOW MASTER STATUS, or MySQL 8.4's SHOW
 * BINARY LOG STATUS). */
static int
binlog_end(struct snap *s, struct b2a_snappos *p, char *err, size_t errlen)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW r;

	if (mysql_query(s->m, "SHOW MASTER STATUS") != 0 &&
	    mysql_query(s->m, "SHOW BINARY LOG STATUS") != 0)
		return b2a_sql_fail(s->m, "SHOW MASTER STATUS", err, errlen);
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
		if ((rc = b2a_sql(s->m, start, err, errlen)) != OK ||
		    (rc = b2a_sql_rows(s->m,
			 "SHOW STATUS LIKE 'binlog_snapshot_%'", &res, err,
			 errlen)) != OK)
			return rc;
		while ((r = mysql_fetch_row(res)) != NULL) {
			if (r[0] == NULL || r[1] == NULL)
				continue;
			if (strcasecmp(r[0], "Binlog_snapshot_file") == 0)
				snprintf(at->file, sizeof(at->file), "%s",
				    r[1]);
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
	/* The global read lock waits for running statements and, waiting,
	 * holds up every writer: give up on it soon. */
	if (mysql_query(s->m, "SET SESSION lock_wait_timeout = 10") == 0)
		mysql_free_result(mysql_store_result(s->m));
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
	if ((rc = b2a_sql(s->m, start, err, errlen)) != OK)
		return rc;
	if (locked) {
		rc = binlog_end(s, at, err, errlen);
		if (b2a_sql(s->m, "UNLOCK TABLES", err, errlen) != OK &&
		    rc == OK)
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

	rc = b2a_sql_rows(s->m, "SHOW BINARY LOGS", &res, err, errlen);
	if (rc != OK)
		return rc;
	while ((r = mysql_fetch_row(res)) != NULL) {
		if (r[0] == NULL)
			continue;
		if (oldest[0] == '\0')
			snprintf(oldest, sizeof(oldest), "%s", r[0]);
		found |= strcmp(r[0], file) == 0;
	}
	mysql_free_result(res);
	if (found)
		return OK;
	s->code = EX_DATAERR;
	return cdc_err(err, errlen, "the snapshot's binlog %s is not on the "
	    "server (purged?); the oldest binlog available is %s: take a new "
	    "snapshot", file, oldest[0] != '\0' ? oldest : "unknown");
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
	rc = b2a_sql_rows(s->m,
	    "SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, TABLE_TYPE FROM "
	    "information_schema.TABLES WHERE TABLE_TYPE IN ('BASE TABLE', "
	    "'SYSTEM VERSIONED') AND TABLE_SCHEMA NOT IN ('mysql', "
	    "'information_schema', 'performance_schema', 'sys')",
	    &res, err, errlen);
	if (rc != OK)
		return rc;
	while ((r = mysql_fetch_row(res)) != NULL) {
		struct table *t;

		if (r[0] == NULL || r[1] == NULL || r[3] == NULL ||
		    !b2a_table_wanted(&s->d->o, r[0], r[1]))
			continue;
		if (strcmp(r[3], "BASE TABLE") != 0) {
			/* Its history and its hidden row_start/row_end
			 * columns are not in information_schema. */
			if (!s->listed)
				cdc_warn("snapshot: table '%s.%s' is system-"
					 "versioned, which a snapshot does not "
					 "read: only its changes from the binlog "
					 "follow", r[0], r[1]);
			continue;
		}
		s->tables = cdc_xrealloc(s->tables,
		    (s->ntables + 1) * sizeof(*s->tables));
		t = &s->tables[s->ntables++];
		t->db = cdc_xstrdup(r[0]);
		t->name = cdc_xstrdup(r[1]);
		t->rows = -1;
		if (r[2] != NULL && strcasecmp(r[2], "InnoDB") != 0 &&
		    !s->listed)
			cdc_warn("snapshot: table '%s.%s' uses %s, which is "
				 "not transactional: it is read as it is when "
				 "read, not at the snapshot position (the "
				 "binlog that follows corrects it)",
			    r[0], r[1], r[2]);
	}
	mysql_free_result(res);
	s->listed = 1; /* warned once, not at every new snapshot */
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
		b2a_sql_table(&q, t->db, t->name);
		cdc_buf_puts(&q, " LIMIT 1");
		rc = b2a_sql_rows(s->m, b2a_sql_str(&q), &res, err, errlen);
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

/* Emits a row read into the open transaction (opened at the first). */
static int
emit_row(struct snap *s, struct b2a_reader *rd, const struct b2a_row *w,
    int last, char *err, size_t errlen)
{
	struct b2a_decoder *d = s->d;

	if (!d->in_trx) {
		b2a_trx_begin(d);
		rd->t->order = 0;
	}
	snprintf(d->ev_pos, sizeof(d->ev_pos), "%s", s->ev_pos);
	/* Rows of a keyless table need versions of their own (a loader
	 * keeps such a table as a multiset of row images): count down from
	 * the snapshot's version, in the table's one transaction. */
	if (b2a_emit_read(d, rd->t, w->val.p, w->off, last,
		rd->t->npk > 0 ? s->version : s->version - rd->t->order, err,
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

/* Reads table ti from after its key text after (NULL: from its start),
 * chunk by chunk, each chunk a transaction with its commit mark. */
static int
read_table(struct snap *s, size_t ti, const char *after_pos, char *err,
    size_t errlen)
{
	const struct table *tb = &s->tables[ti];
	struct b2a_reader rd;
	struct b2a_snappos p;
	struct cdc_buf pos;
	char *after = NULL;
	int64_t limit = s->l->snapshot_chunk, n, total = 0;
	int rc, more, last, cur = 0, pending, r;
	MYSQL_STMT *st;

	rc = b2a_reader_open(s->m, &s->d->o, tb->db, tb->name, &rd, err,
	    errlen);
	if (rc != OK)
		return rc;
	if (rd.t == NULL) {
		cdc_warn("snapshot: table '%s.%s' is gone; skipped", tb->db,
		    tb->name);
		s->tables[ti].rows = 0;
		return OK;
	}
	if (after_pos != NULL && rd.chunked &&
	    b2a_reader_keys(&rd, after_pos) == 0)
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
			rc = b2a_reader_prepare(s->m, &rd, after != NULL,
			    limit + 1, &st, err, errlen);
			if (rc != OK)
				break;
			if (after != NULL)
				rd.next = st;
			else
				rd.first = st;
		}
		if (after != NULL &&
		    (b2a_reader_keys(&rd, after) == -1 ||
			mysql_stmt_bind_param(st, rd.par) != 0)) {
			rc = cdc_err(err, errlen, "snapshot of '%s.%s': cannot "
			    "bind the key '%s'", tb->db, tb->name, after);
			break;
		}
		if (mysql_stmt_execute(st) != 0) {
			rc = b2a_stmt_fail(st, rd.t, "SELECT", err, errlen);
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
				rc = b2a_stmt_fail(st, rd.t, "fetching a row",
				    err, errlen);
				goto out;
			}
			rc = b2a_reader_fetch_long(&rd, st, err, errlen);
			if (rc != OK)
				goto out;
			if (rd.chunked && n == limit) {
				more = 1; /* a row of the next chunk */
				break;
			}
			if ((rc = b2a_reader_encode(&rd, &rd.rows[cur], err,
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
		p.after = (char *)b2a_sql_str(&rd.rows[pending].key);
		pos.len = 0;
		b2a_snappos_text(&p, &pos);
		if ((rc = commit_mark(s, b2a_sql_str(&pos), err, errlen)) != OK)
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
	b2a_reader_free(&rd);
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
		return b2a_sql_fail(s->m, "SET NAMES utf8mb4", err, errlen);
	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if ((rc = b2a_sql(s->m, must[i], err, errlen)) != OK)
			return rc;
	/* No statement time limit, where the server has one. */
	if (mysql_query(s->m, s->mariadb ?
		    "SET SESSION max_statement_time = 0" :
		    "SET SESSION max_execution_time = 0") == 0)
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
		cdc_info("snapshot resumed after %s%s%s (snapshot of "
			 "%s:%" PRIu64 ", now at %s:%" PRIu64 ")",
		    s->pos.db != NULL ? s->pos.db : "the start",
		    s->pos.db != NULL ? "." : "",
		    s->pos.table != NULL ? s->pos.table : "", s->pos.file,
		    s->pos.pos, at.file, at.pos);
	}
	if (snapshot_version(s->pos.file, s->pos.pos, &s->version, err,
		errlen) == -1)
		return FAIL;
	rc = b2a_sql_rows(s->m, "SELECT @@server_id, UNIX_TIMESTAMP()", &res,
	    err, errlen);
	if (rc != OK)
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
	rc = commit_mark(s, b2a_sql_str(&pos), err, errlen);
	cdc_buf_fini(&pos);
	if (rc != OK)
		return rc;
	free(d->resume_file);
	d->resume_file = cdc_xstrdup(s->pos.file);
	d->resume_pos = s->pos.pos;
	if ((rc = b2a_sql(s->m, "COMMIT", err, errlen)) != OK)
		cdc_warn("snapshot: %s", err); /* read only: nothing lost */
	return OK;
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
		if (rc == SNAP_DATA)
			s.code = EX_DATAERR;
		if (rc == SNAP_CONFIG)
			s.code = EX_CONFIG;
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
		cdc_sleep_ms(backoff);
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
