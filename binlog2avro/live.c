/* Live replication: binlog2avro connects as a replica (COM_BINLOG_DUMP,
 * sent by MariaDB Connector/C's mariadb_rpl_open, or for a MySQL GTID set
 * COM_BINLOG_DUMP_GTID), reads the events the server streams and feeds them
 * to the same decoder as the file reader.
 * On a lost connection it reconnects with backoff and resumes at the last
 * commit mark, so nothing is doubled or missed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h> /* before mariadb_rpl.h, which needs its types */
#include <errmsg.h>
#include <mariadb_rpl.h>
#include <mysqld_error.h>

#include "decoder.h"
#include "live.h"
#include "sys.h"


/* Joins the lines of a server message: MySQL prints GTID sets with ",\n". */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static int
query(MYSQL *m, const char *sql, char *err, size_t errlen)
{
	if (mysql_query(m, sql) != 0)
		return cdc_err(err, errlen, "%s: %s", sql, mysql_error(m));
	mysql_free_result(mysql_store_result(m));
	return 0;
}

/* The first row of a query as strings; the caller frees with
 * mysql_free_result(*res). NULL when there is no row. */
static MYSQL_ROW
first_row(MYSQL *m, const char *sql, MYSQL_RES **res, char *err,
    size_t errlen)
{
	MYSQL_ROW row;

	*res = NULL;
	if (mysql_query(m, sql) != 0) {
		cdc_err(err, errlen, "%s: %s", sql, mysql_error(m));
		return NULL;
	}
	*res = mysql_store_result(m);
	if (*res == NULL) {
		cdc_err(err, errlen, "%s: no result", sql);
		return NULL;
	}
	row = mysql_fetch_row(*res);
	if (row == NULL)
		cdc_err(err, errlen, "%s: no row", sql);
	return row;
}

static MYSQL *
connect_server(const struct b2a_live *l, char *err, size_t errlen)
{
	return b2a_live_connect(l, 10, err, errlen);
}

/* Fills file/pos with the server's current end of binlog. */
static int
server_end(MYSQL *m, char *file, size_t filelen, uint64_t *pos, char *err,
    size_t errlen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	/* MySQL 8.2 renamed the statement and 8.4 removed the old name;
	 * MariaDB (version 10 and up) keeps it. */
	const char *q = strstr(mysql_get_server_info(m), "MariaDB") == NULL &&
		mysql_get_server_version(m) >= 80200 ?
	    "SHOW BINARY LOG STATUS" :
	    "SHOW MASTER STATUS";

	row = first_row(m, q, &res, err, errlen);
	if (row == NULL || row[0] == NULL || row[1] == NULL) {
		mysql_free_result(res);
		if (row != NULL)
			cdc_err(err, errlen, "the server has binary logging "
			    "off (SHOW MASTER STATUS is empty)");
		return -1;
	}
	snprintf(file, filelen, "%s", row[0]);
	*pos = strtoull(row[1], NULL, 10);
	mysql_free_result(res);
	return 0;
}

/* Checks what a replica needs: row binlogs with full images. */
static void
check_server(MYSQL *m, int *mariadb, int *crc)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char err[CDC_ERRLEN];

	*mariadb = strstr(mysql_get_server_info(m), "MariaDB") != NULL;
	row = first_row(m, "SELECT @@global.binlog_format, "
			   "@@global.binlog_row_image, "
			   "@@global.binlog_checksum",
	    &res, err, sizeof(err));
	/* The rotate event that starts a dump comes before any format
	 * description: whether it ends with a CRC32 is known from here. */
	*crc = row != NULL && row[2] != NULL && strcmp(row[2], "NONE") != 0;
	if (row != NULL && row[0] != NULL && strcmp(row[0], "ROW") != 0)
		cdc_warn("binlog_format is %s, not ROW: statement-based "
			 "changes cannot be streamed", row[0]);
	if (row != NULL && row[1] != NULL && strcmp(row[1], "FULL") != 0)
		cdc_warn("binlog_row_image is %s, not FULL: partial row images "
			 "mark columns ABSENT", row[1]);
	mysql_free_result(res);
}

/* Names the oldest binlog still on the server, for a purged position. */
static void
oldest_binlog(MYSQL *m, char *out, size_t outlen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char err[CDC_ERRLEN];

	snprintf(out, outlen, "unknown");
	row = first_row(m, "SHOW BINARY LOGS", &res, err, sizeof(err));
	if (row != NULL && row[0] != NULL)
		snprintf(out, outlen, "%s", row[0]);
	mysql_free_result(res);
}

/* Sends COM_BINLOG_DUMP_GTID (MySQL) for the set g. Connector/C has no
 * call for it, but its own COM_BINLOG_DUMP goes out through the handle's
 * db_command method, which public mysql.h declares: the same path, with
 * the reply read as a binlog stream (skip_check). */
static int
dump_gtid(MYSQL *m, const struct b2a_live *l, const struct b2a_gtid_set *g,
    char *err, size_t errlen)
{
	struct cdc_buf b;
	int rc;

	cdc_buf_init(&b);
	b2a_gtid_dump_request(g, l->server_id, l->stop_at_end, &b);
	rc = m->methods->db_command(m,
	    (enum enum_server_command)B2A_COM_BINLOG_DUMP_GTID,
	    (const char *)b.p, b.len, 1, NULL);
	cdc_buf_fini(&b);
	if (rc != 0)
		return cdc_err(err, errlen, "COM_BINLOG_DUMP_GTID refused: %s",
		    mysql_error(m));
	return 0;
}

/* Sends COM_BINLOG_DUMP from file:pos (or, for MariaDB with a GTID
 * start, from the GTID state), or COM_BINLOG_DUMP_GTID for a MySQL GTID
 * set (mysql not NULL). */
static int
start_dump(MYSQL *m, const struct b2a_live *l, int mariadb, const char *file,
    uint64_t pos, const char *gtid, const struct b2a_gtid_set *mysql,
    char *err, size_t errlen)
{
	MARIADB_RPL *rpl;
	char sql[1024];
	/* Annotated rows too, so a live stream equals the file's. */
	unsigned int flags = (l->stop_at_end ?
		MARIADB_RPL_BINLOG_DUMP_NON_BLOCK : 0) |
	    (mariadb ? MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS : 0);
	uint32_t sid = l->server_id;
	unsigned long start = (unsigned long)pos;

	/* MySQL replicas since 8.0.26 set the source_ names, older servers
	 * and MariaDB read the master_ ones: both. */
	if (query(m, "SET @master_binlog_checksum = @@global.binlog_checksum, "
		     "@source_binlog_checksum = @@global.binlog_checksum",
		err, errlen) == -1)
		return -1;
	snprintf(sql, sizeof(sql), "SET @master_heartbeat_period = %" PRId64
	    ", @source_heartbeat_period = %" PRId64,
	    l->heartbeat_ms * 1000000, l->heartbeat_ms * 1000000);
	if (query(m, sql, err, errlen) == -1)
		return -1;
	if (mysql != NULL)
		return dump_gtid(m, l, mysql, err, errlen);
	if (mariadb) {
		/* Capability 4: GTID events, annotated rows and the rest of
		 * what a MariaDB 10 replica understands. */
		if (query(m, "SET @mariadb_slave_capability = 4", err,
			errlen) == -1)
			return -1;
		if (gtid != NULL && gtid[0] != '\0') {
			char esc[512];

			mysql_real_escape_string(m, esc, gtid,
			    (unsigned long)strlen(gtid));
			snprintf(sql, sizeof(sql),
			    "SET @slave_connect_state = '%s'", esc);
			if (query(m, sql, err, errlen) == -1 ||
			    query(m, "SET @slave_gtid_strict_mode = 1", err,
				errlen) == -1)
				return -1;
			file = "";
			start = 4;
		}
	}
	rpl = mariadb_rpl_init(m);
	if (rpl == NULL)
		return cdc_err(err, errlen, "cannot start replication: %s",
		    mysql_error(m));
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, sid);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, start);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file,
	    (size_t)strlen(file));
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, flags);
	if (mariadb_rpl_open(rpl) != 0) {
		cdc_err(err, errlen, "COM_BINLOG_DUMP from %s:%" PRIu64
		    " refused: %s", file, pos, mysql_error(m));
		mariadb_rpl_close(rpl);
		return -1;
	}
	/* The handle only sent the command; events are read here. The
	 * connection stays in the MYSQL handle. */
	rpl->mysql = NULL;
	mariadb_rpl_close(rpl);
	return 0;
}

enum { READ_EVENT, READ_END, READ_LOST, READ_FATAL };

/* Reads the next event packet. */
static int
read_event(MYSQL *m, const uint8_t **ev, size_t *len, char *err,
    size_t errlen)
{
	unsigned long n = mysql_net_read_packet(m);
	const uint8_t *p = m->net.read_pos;
	unsigned int e;

	/* packet_error is (unsigned int)-1, not ~0UL: a server error (ERR
	 * packet) is that value. */
	if (n == (unsigned long)packet_error || n == (unsigned long)~0UL ||
	    n == 0) {
		e = mysql_errno(m);
		cdc_err(err, errlen, "%s (error %u)", mysql_error(m), e);
		one_line(err);
		if (cdc_stop)
			return READ_END;
		/* 1236: the server cannot send from this position (purged,
		 * or a corrupt binlog): reconnecting will not help. */
		return e == ER_MASTER_FATAL_ERROR_READING_BINLOG ? READ_FATAL :
								   READ_LOST;
	}
	if (p[0] == 0xfe && n < 9)
		return READ_END; /* EOF: the end, in non-blocking mode */
	if (p[0] != 0x00) {
		cdc_err(err, errlen, "unexpected packet 0x%02x in the binlog "
		    "stream", p[0]);
		return READ_LOST;
	}
	*ev = p + 1;
	*len = n - 1;
	return READ_EVENT;
}

/* Emits a heartbeat frame at the current position, between transactions. */
static int
heartbeat(struct b2a_decoder *d, char *err, size_t errlen)
{
	struct cdc_frame f;
	struct cdc_buf pos;
	int rc;

	if (d->in_trx)
		return 0;
	cdc_buf_init(&pos);
	b2a_decoder_position(d, &pos);
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_HEARTBEAT;
	f.position.p = pos.p;
	f.position.len = pos.len;
	f.ts_ms = cdc_now_ms();
	rc = cdc_writer_put(d->w, &f, err, errlen);
	cdc_buf_fini(&pos);
	if (rc == -1)
		d->io_error = 1;
	return rc;
}

/* Streams from one connection until it ends, k naming the columns of
 * table maps without names (or NULL). Returns an exit code, or -1
 * when the connection was lost and a reconnect may help. Started from the
 * MySQL GTID set start (or NULL), the executed set of commit marks is the
 * file's PREVIOUS_GTIDS plus start: the server skips start's transactions,
 * they are done all the same. */
static int
stream(struct b2a_decoder *d, MYSQL *m, const struct b2a_live *l,
    struct b2a_lookup *k, int crc, const char *end_file, uint64_t end_pos,
    const struct b2a_gtid_set *start, char *err, size_t errlen)
{
	const uint8_t *ev;
	size_t len;
	uint64_t log_pos, pos, next;
	int rc, io, marked = 0;
	char name[512];

	for (;;) {
		if (cdc_stop)
			return 0;
		rc = read_event(m, &ev, &len, err, errlen);
		if (rc == READ_END)
			return 0;
		if (rc == READ_FATAL)
			return EX_DATAERR;
		if (rc == READ_LOST)
			return -1;
		if (len < EVENT_HEADER) {
			cdc_err(err, errlen, "short event packet");
			return -1;
		}
		log_pos = b2a_le(ev + HDR_LOG_POS, 4);
		if (ev[HDR_TYPE] == EV_ROTATE && len >= EVENT_HEADER + 8) {
			/* The next file (or, artificial, the one we start
			 * in): its name and the position within it. */
			size_t nlen = len - EVENT_HEADER - 8 -
			    (crc ? CHECKSUM_LEN : 0);

			if (nlen >= sizeof(name))
				nlen = sizeof(name) - 1;
			memcpy(name, ev + EVENT_HEADER + 8, nlen);
			name[nlen] = '\0';
			if (strcmp(name, d->file) != 0)
				b2a_decoder_file(d, name);
			d->next_pos = b2a_le(ev + EVENT_HEADER, 8);
			continue;
		}
		if (ev[HDR_TYPE] == EV_HEARTBEAT || ev[HDR_TYPE] == EV_HEARTBEAT_V2) {
			if (heartbeat(d, err, errlen) == -1) {
				cdc_epipe_check(errno);
				return EX_IOERR;
			}
			b2a_metrics_idle(d);
			continue;
		}
		/* Events carry their end position; the artificial format
		 * description of a dump start has 0. */
		pos = log_pos >= len ? log_pos - len : d->next_pos;
		if (ev[HDR_TYPE] == EV_FORMAT_DESCRIPTION && log_pos == 0)
			pos = 4;
		next = d->next_pos;
		if (b2a_decoder_event(d, ev, len, pos, &io, err, errlen) ==
		    -1) {
			if (io) {
				cdc_epipe_check(errno); /* silent 141 */
				return EX_IOERR;
			}
			/* A schema lookup's server error, or its lost
			 * connection (-1: reconnect), is not the binlog's. */
			rc = k != NULL ? b2a_lookup_code(k) : 0;
			return rc != 0 ? rc : b2a_decoder_failure(d);
		}
		b2a_metrics_event(d);
		if (start != NULL && ev[HDR_TYPE] == EV_PREVIOUS_GTIDS)
			b2a_gtid_add_set(&d->gtids, start);
		/* An artificial event (the format description a dump
		 * starts with) is not in the binlog at this position. */
		d->next_pos = log_pos != 0 &&
			!(b2a_le(ev + HDR_FLAGS, 2) & HDR_F_ARTIFICIAL) ?
		    log_pos :
		    next;
		/* The position is known once the format description has
		 * come: tell downstream at once, before any change. */
		if (ev[HDR_TYPE] == EV_FORMAT_DESCRIPTION && !marked) {
			marked = 1;
			if (b2a_decoder_mark(d, err, errlen) == -1) {
				cdc_epipe_check(errno);
				return EX_IOERR;
			}
		}
		if (l->stop_at_end && !d->in_trx && end_file[0] != '\0' &&
		    (strcmp(d->file, end_file) > 0 ||
			(strcmp(d->file, end_file) == 0 &&
			    d->next_pos >= end_pos)))
			return 0;
	}
}

/* Parses a start position: "binlog:FILE:POS[;gtid=SET]", "FILE:POS", a
 * MySQL GTID set "uuid:1-5,..." (into mysql, *is_mysql set), a MariaDB
 * GTID list "D-S-N,...", or "end". A GTID start leaves its text in gtid:
 * MariaDB's list as given, a MySQL set as one line (cut short if need
 * be: it only goes into messages). */
static int
parse_start(const char *s, char *file, size_t filelen, uint64_t *pos,
    char *gtid, size_t gtidlen, struct b2a_gtid_set *mysql, int *is_mysql,
    char *err, size_t errlen)
{
	const char *colon, *semi;
	char *end, e[CDC_ERRLEN];
	struct cdc_buf t;

	file[0] = gtid[0] = '\0';
	*is_mysql = 0;
	*pos = 4;
	if (s == NULL || strcmp(s, "end") == 0)
		return 0;
	if (b2a_gtid_is_mysql(s)) {
		/* Before FILE:POS: "uuid:5" would pass for one. */
		if (b2a_gtid_parse_mysql(mysql, s, e, sizeof(e)) == -1) {
			one_line(e);
			return cdc_err(err, errlen, "invalid MySQL GTID set in "
			    "--start: %s", e);
		}
		if (mysql->nsids == 0)
			return cdc_err(err, errlen, "the MySQL GTID set in --start "
			    "names no transaction (for the oldest binlog, give "
			    "its FILE:4)");
		cdc_buf_init(&t);
		b2a_gtid_text(mysql, &t);
		snprintf(gtid, gtidlen, "%.*s", (int)t.len, (char *)t.p);
		if (t.len >= gtidlen)
			memcpy(gtid + gtidlen - 4, "...", 4);
		cdc_buf_fini(&t);
		*is_mysql = 1;
		return 0;
	}
	if (strncmp(s, "binlog:", 7) == 0)
		s += 7;
	semi = strchr(s, ';');
	if (semi != NULL && strncmp(semi, ";gtid=", 6) == 0)
		snprintf(gtid, gtidlen, "%s", semi + 6);
	/* The last ':' before the ';': a MySQL set after it has its own. */
	colon = NULL;
	for (const char *c = s; *c != '\0' && c != semi; c++)
		if (*c == ':')
			colon = c;
	if (colon != NULL && colon != s) {
		/* FILE:POS; the GTID part is kept for information. */
		snprintf(file, filelen, "%.*s", (int)(colon - s), s);
		*pos = strtoull(colon + 1, &end, 10);
		if (end == colon + 1 || (*end != '\0' && *end != ';'))
			return cdc_err(err, errlen, "invalid start position "
			    "'%s': want FILE:POS", s);
		gtid[0] = '\0'; /* the file position is exact */
		return 0;
	}
	if (strspn(s, "0123456789-,") == strlen(s) && strchr(s, '-') != NULL) {
		if (strlen(s) >= gtidlen)
			return cdc_err(err, errlen, "MariaDB GTID list in "
			    "--start longer than %zu characters", gtidlen - 1);
		snprintf(gtid, gtidlen, "%s", s);
		return 0;
	}
	return cdc_err(err, errlen, "invalid start position '%s': want "
	    "FILE:POS, binlog:FILE:POS, a MySQL GTID set, a MariaDB GTID list "
	    "or 'end'", s);
}

/* A server of one flavour given the other's GTID form: refused before
 * any dump, in one line. Returns 0 when they match. */
static int
gtid_flavour(MYSQL *m, int mariadb, int is_mysql)
{
	if (mariadb && is_mysql)
		cdc_error("cannot start at a MySQL GTID set (uuid:N-M) on "
			  "MariaDB (%s): MariaDB takes its own GTID form, "
			  "domain-server-sequence as in @@gtid_binlog_pos, or "
			  "FILE:POS",
		    mysql_get_server_info(m));
	else if (!mariadb && !is_mysql)
		cdc_error("cannot start at a MariaDB GTID list "
			  "(domain-server-sequence) on MySQL (%s): give a MySQL "
			  "GTID set (uuid:N-M, as in @@gtid_executed) or "
			  "FILE:POS",
		    mysql_get_server_info(m));
	else
		return 0;
	return -1;
}

static int replicate(struct b2a_decoder *d, const struct b2a_live *l,
    struct b2a_lookup *k, struct b2a_gtid_set *mysql);

int
b2a_live_run(struct b2a_decoder *d, const struct b2a_live *l)
{
	struct b2a_gtid_set mysql;
	struct b2a_lookup *k = NULL;
	int rc;

	b2a_gtid_init(&mysql);
	/* Table maps without column names get them from the server. */
	if (!l->no_schema_lookup) {
		k = b2a_lookup_new(l);
		b2a_decoder_set_names(d, b2a_lookup_table, k);
	}
	rc = replicate(d, l, k, &mysql);
	b2a_decoder_set_names(d, NULL, NULL);
	b2a_lookup_free(k);
	b2a_gtid_clear(&mysql);
	return rc;
}

/* b2a_live_run(), with schema lookup k (or NULL), mysql holding the parsed
 * MySQL GTID start if any. */
static int
replicate(struct b2a_decoder *d, const struct b2a_live *l,
    struct b2a_lookup *k, struct b2a_gtid_set *mysql)
{
	char err[CDC_ERRLEN], file[512], gtid[512], end_file[512] = "";
	uint64_t pos, end_pos = 0;
	int64_t backoff = 500;
	int attempts = 0, rc, mariadb = 0, crc = 1, is_mysql;
	uint64_t events;
	const struct b2a_gtid_set *by_set;
	MYSQL *m;

	if (parse_start(l->start, file, sizeof(file), &pos, gtid, sizeof(gtid),
		mysql, &is_mysql, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		return EX_USAGE;
	}
	for (;;) {
		m = connect_server(l, err, sizeof(err));
		if (m == NULL) {
			if (++attempts > l->retries || cdc_stop) {
				cdc_error("%s; giving up after %d attempts",
				    err, attempts);
				return EX_UNAVAILABLE;
			}
			cdc_warn("%s; retrying in %" PRId64 " ms", err,
			    backoff);
			cdc_sleep_ms(backoff);
			backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
			continue;
		}
		check_server(m, &mariadb, &crc);
		if (gtid[0] != '\0' && gtid_flavour(m, mariadb, is_mysql) == -1) {
			mysql_close(m);
			return EX_USAGE;
		}
		if (l->stop_at_end && end_file[0] == '\0' &&
		    server_end(m, end_file, sizeof(end_file), &end_pos, err,
			sizeof(err)) == -1) {
			cdc_error("%s", err);
			mysql_close(m);
			return EX_UNAVAILABLE;
		}
		if (file[0] == '\0' && gtid[0] == '\0' &&
		    server_end(m, file, sizeof(file), &pos, err,
			sizeof(err)) == -1) {
			cdc_error("%s", err);
			mysql_close(m);
			return EX_UNAVAILABLE;
		}
		by_set = is_mysql && gtid[0] != '\0' ? mysql : NULL;
		if (start_dump(m, l, mariadb, file, pos, gtid, by_set, err,
			sizeof(err)) == -1) {
			cdc_error("%s", err);
			mysql_close(m);
			return EX_UNAVAILABLE;
		}
		cdc_info("replicating from %s:%" PRIu64 "%s%s as server id %u",
		    gtid[0] != '\0' ? "gtid" : file, pos,
		    gtid[0] != '\0' ? " " : "", gtid, l->server_id);
		if (file[0] != '\0')
			b2a_decoder_file(d, file);
		if (by_set != NULL)
			b2a_gtid_add_set(&d->gtids, by_set);
		events = d->events;
		rc = stream(d, m, l, k, crc, end_file, end_pos, by_set, err,
		    sizeof(err));
		if (d->events > events + 2) { /* more than rotate and FDE */
			attempts = 0;
			backoff = 500;
		}
		if (rc == EX_DATAERR && strstr(err, "(error 1236)") != NULL &&
		    gtid[0] != '\0') {
			/* Purged transactions, GTID mode off, a GTID the
			 * server never had: its message says which. */
			cdc_error("the server cannot start at GTID %s: %s", gtid,
			    err);
			mysql_close(m);
			return EX_DATAERR;
		}
		if (rc == EX_DATAERR && strstr(err, "(error 1236)") != NULL) {
			char oldest[256];

			/* The server no longer has the position asked. */
			char qerr[CDC_ERRLEN];
			MYSQL *q = connect_server(l, qerr, sizeof(qerr));

			oldest[0] = '\0';
			if (q != NULL) {
				oldest_binlog(q, oldest, sizeof(oldest));
				mysql_close(q);
			}
			cdc_error("binlog position %s:%" PRIu64 " is not on the "
			    "server (purged?): %s; the oldest binlog "
			    "available is %s", file, pos, err,
			    oldest[0] != '\0' ? oldest : "unknown");
			mysql_close(m);
			return EX_DATAERR;
		}
		mysql_close(m);
		if (rc >= 0) {
			if (rc != 0)
				cdc_error("%s", err);
			return rc;
		}
		/* Lost: resume at the last commit mark, dropping the
		 * transaction in flight (it comes again). */
		b2a_decoder_abort(d);
		if (b2a_decoder_resume(d, file, sizeof(file), &pos) == 0)
			gtid[0] = '\0';
		if (++attempts > l->retries) {
			cdc_error("connection lost: %s; giving up after %d "
			    "attempts", err, attempts);
			return EX_UNAVAILABLE;
		}
		cdc_warn("connection lost: %s; resuming at %s:%" PRIu64
		    " in %" PRId64 " ms", err, file, pos, backoff);
		cdc_sleep_ms(backoff);
		backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
	}
}

