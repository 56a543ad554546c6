/* Internal to the snapshot (snapshot.c, snapschema.c) and the live
 * schema lookup (schemalookup.c): SQL helpers and the tables as
 * information_schema describes them. */
#ifndef B2A_SNAPSQL_H
#define B2A_SNAPSQL_H

#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "binlog.h"
#include "snapshot.h"
#include "types.h"

/* Outcomes of the snapshot's steps: SNAP_RETRY when a new snapshot from
 * the last commit mark may succeed (a lost connection, a table altered
 * since the snapshot began), SNAP_FAIL when not, SNAP_DATA for a value
 * that cannot be encoded; err says why. */
enum {
	SNAP_OK = 0,
	SNAP_FAIL = -1,
	SNAP_RETRY = -2,
	SNAP_DATA = -3,
	SNAP_CONFIG = -4, /* a column rule cannot apply to a table */
};

/* What reading a column needs beyond its struct b2a_column. */
struct b2a_snapcol {
	char *charset, *collation; /* text columns: compared in these */
	int cast_bytes; /* MariaDB's UUID, INET4, INET6: read as BINARY(n) */
	char *column_type; /* COLUMN_TYPE, for messages */
};

/* Whether server error e calls for a new snapshot (SNAP_RETRY). */
int b2a_sql_retryable(unsigned int e);
/* Describes the last error of m (what: the statement) and classifies it. */
int b2a_sql_fail(MYSQL *m, const char *what, char *err, size_t errlen);
/* Runs q, dropping any result. */
int b2a_sql(MYSQL *m, const char *q, char *err, size_t errlen);
/* Runs q and stores its result in *res (the caller frees it). */
int b2a_sql_rows(MYSQL *m, const char *q, MYSQL_RES **res, char *err,
    size_t errlen);
/* Appends `s` (a quoted identifier), 'v' (an escaped literal), `db`.`t`. */
void b2a_sql_ident(struct cdc_buf *b, const char *s);
void b2a_sql_literal(MYSQL *m, struct cdc_buf *b, const char *v);
void b2a_sql_table(struct cdc_buf *b, const char *db, const char *name);
/* b's bytes as a C string (a NUL after them, not counted). */
char *b2a_sql_str(struct cdc_buf *b);

/* Table db.name as its binlog table map would describe it: the columns'
 * type, meta, nullable, is_unsigned, collation, name and symbols, and the
 * key, not yet finished; *colsp gets a struct b2a_snapcol per column. Both
 * are NULL when the table is gone (or not visible to the user). m's
 * session has utf8mb4 names and binary results (ENUM/SET values in their
 * column's charset). The caller frees with b2a_table_free() and
 * b2a_snapcols_free(). */
int b2a_schema_read(MYSQL *m, const char *db, const char *name,
    struct b2a_table **tp, struct b2a_snapcol **colsp, char *err,
    size_t errlen);
/* The same, finished with b2a_table_finish(). */
int b2a_snap_table(MYSQL *m, const struct b2a_options *o, const char *db,
    const char *name, struct b2a_table **tp, struct b2a_snapcol **colsp,
    char *err, size_t errlen);
void b2a_snapcols_free(struct b2a_snapcol *c, size_t n);


/* One column of the result rows and its bound buffers. */
struct b2a_fcol {
	enum b2a_fetch f;
	long long i;
	float fl;
	double db;
	MYSQL_TIME t;
	uint8_t *buf;
	unsigned long cap, len;
	my_bool null, error;
};

/* A key column's value as a statement parameter. */
struct b2a_keyval {
	struct b2a_parts v;
	struct cdc_buf bytes;
	long long i;
	MYSQL_TIME t;
	unsigned long len;
};

/* A row read and encoded, waiting to be emitted. */
struct b2a_row {
	struct cdc_buf val, key;
	size_t *off;
};

/* The per-table reading state. */
struct b2a_reader {
	struct b2a_table *t;
	struct b2a_snapcol *sc;
	struct b2a_fcol *cols;
	MYSQL_STMT *first, *next;
	MYSQL_BIND *res, *par;
	struct b2a_keyval *kv;
	struct b2a_row rows[2];
	int chunked;
};

/* Loads table db.name (b2a_snap_table()) and sets up its buffers; rd->t is
 * NULL when the table is gone. Free with b2a_reader_free(). */
int b2a_reader_open(MYSQL *m, const struct b2a_options *o, const char *db,
    const char *name, struct b2a_reader *rd, char *err, size_t errlen);
void b2a_reader_free(struct b2a_reader *rd);
/* Prepares the SELECT of a chunk of limit rows (after: the one continuing
 * after the key bound by b2a_reader_keys()) and binds its result, checking
 * that the server sends each column as the table's type expects. */
int b2a_reader_prepare(MYSQL *m, struct b2a_reader *rd, int after,
    int64_t limit, MYSQL_STMT **stp, char *err, size_t errlen);
/* After mysql_stmt_fetch(): fetches the long values that did not fit. */
int b2a_reader_fetch_long(struct b2a_reader *rd, MYSQL_STMT *st, char *err,
    size_t errlen);
/* Encodes the fetched row into w: its Value record and its key text;
 * SNAP_DATA when a value does not fit its column. */
int b2a_reader_encode(struct b2a_reader *rd, struct b2a_row *w, char *err,
    size_t errlen);
/* Parses key text into the parameters of the continuing statement; 0, or
 * -1 when it does not fit the table's key. */
int b2a_reader_keys(struct b2a_reader *rd, const char *after);
/* Describes a statement's error like b2a_sql_fail(). */
int b2a_stmt_fail(MYSQL_STMT *st, const struct b2a_table *t, const char *what,
    char *err, size_t errlen);

#endif
