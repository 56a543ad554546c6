/* binlog2avro's decoder: binlog events in, change frames out. The decoder
 * works on whole events in memory and knows nothing of where they come from
 * (files here, a replication connection later). */
#ifndef B2A_BINLOG_H
#define B2A_BINLOG_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "stream.h"

/* Event types (MySQL's binlog_event.h, MariaDB's log_event.h). */
enum {
	EV_UNKNOWN = 0,
	EV_START_V3 = 1,
	EV_QUERY = 2,
	EV_STOP = 3,
	EV_ROTATE = 4,
	EV_INTVAR = 5,
	EV_RAND = 13,
	EV_USER_VAR = 14,
	EV_FORMAT_DESCRIPTION = 15,
	EV_XID = 16,
	EV_BEGIN_LOAD_QUERY = 17,
	EV_EXECUTE_LOAD_QUERY = 18,
	EV_TABLE_MAP = 19,
	EV_PRE_GA_WRITE_ROWS = 20,
	EV_PRE_GA_UPDATE_ROWS = 21,
	EV_PRE_GA_DELETE_ROWS = 22,
	EV_WRITE_ROWS_V1 = 23,
	EV_UPDATE_ROWS_V1 = 24,
	EV_DELETE_ROWS_V1 = 25,
	EV_INCIDENT = 26,
	EV_HEARTBEAT = 27,
	EV_IGNORABLE = 28,
	EV_ROWS_QUERY = 29,
	EV_WRITE_ROWS = 30,
	EV_UPDATE_ROWS = 31,
	EV_DELETE_ROWS = 32,
	EV_GTID = 33,
	EV_ANONYMOUS_GTID = 34,
	EV_PREVIOUS_GTIDS = 35,
	EV_TRANSACTION_CONTEXT = 36,
	EV_VIEW_CHANGE = 37,
	EV_XA_PREPARE = 38,
	EV_PARTIAL_UPDATE_ROWS = 39,
	EV_TRANSACTION_PAYLOAD = 40,
	EV_HEARTBEAT_V2 = 41,
	EV_GTID_TAGGED = 42,
	EV_MARIA_ANNOTATE_ROWS = 160,
	EV_MARIA_BINLOG_CHECKPOINT = 161,
	EV_MARIA_GTID = 162,
	EV_MARIA_GTID_LIST = 163,
	EV_MARIA_START_ENCRYPTION = 164,
	EV_MARIA_QUERY_COMPRESSED = 165,
	EV_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
	EV_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
	EV_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
	EV_MARIA_WRITE_ROWS_COMPRESSED = 169,
	EV_MARIA_UPDATE_ROWS_COMPRESSED = 170,
	EV_MARIA_DELETE_ROWS_COMPRESSED = 171,
};

/* Column types of TABLE_MAP (MySQL's field_types.h). */
enum {
	MT_DECIMAL = 0,
	MT_TINY = 1,
	MT_SHORT = 2,
	MT_LONG = 3,
	MT_FLOAT = 4,
	MT_DOUBLE = 5,
	MT_NULL = 6,
	MT_TIMESTAMP = 7,
	MT_LONGLONG = 8,
	MT_INT24 = 9,
	MT_DATE = 10,
	MT_TIME = 11,
	MT_DATETIME = 12,
	MT_YEAR = 13,
	MT_NEWDATE = 14,
	MT_VARCHAR = 15,
	MT_BIT = 16,
	MT_TIMESTAMP2 = 17,
	MT_DATETIME2 = 18,
	MT_TIME2 = 19,
	MT_TYPED_ARRAY = 20,
	MT_VECTOR = 242,
	MT_INVALID = 243,
	MT_BOOL = 244,
	MT_JSON = 245,
	MT_NEWDECIMAL = 246,
	MT_ENUM = 247,
	MT_SET = 248,
	MT_TINY_BLOB = 249,
	MT_MEDIUM_BLOB = 250,
	MT_LONG_BLOB = 251,
	MT_BLOB = 252,
	MT_VAR_STRING = 253,
	MT_STRING = 254,
	MT_GEOMETRY = 255,
};

/* The common header every event starts with (v4 binlogs, MySQL 5.0 on):
 * offsets of its fields, shared by the file reader, the live packet
 * reader and the decoder. */
#define EVENT_HEADER 19
enum {
	HDR_TIMESTAMP = 0,  /* 4 bytes: seconds since the epoch */
	HDR_TYPE = 4,       /* 1 byte: EV_* */
	HDR_SERVER_ID = 5,  /* 4 bytes */
	HDR_EVENT_SIZE = 9, /* 4 bytes: header, body and checksum */
	HDR_LOG_POS = 13,   /* 4 bytes: the offset after the event */
	HDR_FLAGS = 17,     /* 2 bytes: LOG_EVENT_*_F */
};
/* Header flags. */
#define HDR_F_BINLOG_IN_USE 0x01 /* cleared on close, without new CRC */
#define HDR_F_ARTIFICIAL    0x20 /* made up by the server, not in a file */
/* A binlog file starts with these 4 bytes. */
#define BINLOG_MAGIC     "\xfe" "bin"
#define BINLOG_MAGIC_LEN 4
#define CHECKSUM_LEN     4 /* CRC32 at the end of an event */

/* How a column's value is decoded and which Avro type it becomes. */
enum b2a_kind {
	K_INT,       /* int: 8-24 bit integers, 32-bit signed */
	K_LONG,      /* long: 32-bit unsigned, 64-bit signed */
	K_ULONG,     /* decimal(20,0) bytes: 64-bit unsigned */
	K_DECIMAL,   /* decimal(p,s) bytes */
	K_FLOAT,
	K_DOUBLE,
	K_BOOL,      /* BIT(1) */
	K_BITS,      /* BIT(n) bytes, little-endian */
	K_YEAR,
	K_DATE,      /* days, nullable for zero dates */
	K_TIME,      /* micros */
	K_DATETIME_MS,
	K_DATETIME_US,
	K_TIMESTAMP, /* ISO string */
	K_STRING,    /* text in a charset, to UTF-8 */
	K_BYTES,
	K_ENUM,
	K_SET,
	K_JSON,
	K_GEOMETRY,
	K_VECTOR,
};

/* What a column rule does to a column's values (mask.c). */
enum b2a_rule {
	R_KEEP,
	R_DROP, /* left out of the schema and the images */
	R_HASH, /* hex SHA-256 of salt and value, a string */
	R_MASK, /* a fixed text, a string */
};

struct b2a_column {
	uint8_t type;  /* binlog type; STRING resolved to ENUM/SET/STRING */
	uint16_t meta; /* type metadata, normalised per type */
	int nullable;
	int is_unsigned;
	int collation; /* -1: unknown */
	char *name;    /* MySQL name */
	char *avro;    /* sanitised Avro name */
	char **symbols; /* ENUM / SET values */
	size_t nsymbols;
	int key;       /* 1-based position in the primary key, 0 if none */
	enum b2a_kind kind;
	int zero_date_null; /* the Avro type is nullable for zero dates */
	int convert;        /* text needs iconv to become UTF-8 */
	char *cdc_type;     /* MySQL type text */
	enum b2a_rule rule; /* --exclude-column, --hash-column, --mask-column */
};

struct b2a_table {
	uint64_t id;
	char *db, *name;
	size_t ncols;
	struct b2a_column *cols;
	int *pk; /* column indexes in key order */
	size_t npk;
	int named; /* column names came from the table map */
	int signedness; /* so did is_unsigned (SIGNEDNESS metadata) */
	int skip;  /* filtered out: its rows are not emitted */
	char *topic;
	char *key_schema, *value_schema, *partial_schema;
	uint64_t key_fp, value_fp, partial_fp;
	int64_t order; /* data_collection_order in the transaction */
	uint8_t *raw; /* the table map event's body, to recognise repeats */
	size_t rawlen;
	/* Some column has a rule: the options with its salt and mask text,
	 * and no statement text in source.query (it may hold the values). */
	const struct b2a_options *rules;
};

struct b2a_options {
	const char *prefix; /* topic prefix */
	int64_t stop_position;
	int64_t start_position;
	int64_t start_time, stop_time; /* seconds, or -1 */
	size_t hold_limit;
	int no_tombstones; /* no null-valued change after each delete */
	/* --include-query: the statement (ANNOTATE_ROWS, ROWS_QUERY) in
	 * source.query, cut to query_max bytes so that a statement of many
	 * rows adds at most query_max to each of its changes. */
	int include_query;
	size_t query_max;
	/* --include / --exclude: fnmatch(3) patterns on "db.table". */
	char **include, **exclude;
	int ninclude, nexclude;
	/* Column rules: fnmatch(3) patterns on "db.table.column". */
	char **drop_cols, **hash_cols, **mask_cols;
	int ndrop_cols, nhash_cols, nmask_cols;
	const uint8_t *salt; /* for hash_cols */
	size_t saltlen;
	const char *mask_text; /* for mask_cols */
};

/* Whether db.table passes the include and exclude patterns. */
int b2a_table_wanted(const struct b2a_options *o, const char *db,
    const char *table);

struct b2a_decoder;

struct b2a_decoder *b2a_decoder_new(const struct b2a_options *o,
    struct cdc_writer *w);
void b2a_decoder_free(struct b2a_decoder *d);
/* Where the decoder is when it asks the layer above about a table. */
struct b2a_where {
	const char *file;
	uint64_t pos;
	uint64_t ddls;    /* DDL statements so far: a cache key */
	size_t id_len;    /* bytes of the table id that starts a table map */
};
/* Names the columns of table map t, which has none (binlog_row_metadata
 * is not FULL), for the decoder: the layer above fills t's columns (from
 * information_schema, schemalookup.c) and finishes t again with o's rules.
 * Returns 0 when done, 1 when it cannot say (the columns keep their
 * positional names), or -1 with err set, and *rule set when a column rule
 * cannot apply. */
typedef int b2a_names_fn(void *arg, const struct b2a_options *o,
    const struct b2a_where *at, struct b2a_table *t, int *rule, char *err,
    size_t errlen);
/* Sets the namer (NULL: none, the default) and its argument. */
void b2a_decoder_set_names(struct b2a_decoder *d, b2a_names_fn *fn,
    void *arg);
/* A new binlog file starts: name is the file's base name. */
void b2a_decoder_file(struct b2a_decoder *d, const char *name);
/* Decodes one whole event found at file offset pos. Returns 0, or -1 with a
 * message naming the event; the caller reports and exits 65. A write error
 * on the stream sets *io (exit 74). */
int b2a_decoder_event(struct b2a_decoder *d, const uint8_t *ev, size_t len,
    uint64_t pos, int *io, char *err, size_t errlen);
/* The exit code for the last b2a_decoder_event() failure that was not a
 * write error: EX_CONFIG when a column rule cannot apply, else
 * EX_DATAERR. */
int b2a_decoder_failure(const struct b2a_decoder *d);
/* Whether a transaction is open (its changes are held, not yet written). */
int b2a_decoder_in_transaction(const struct b2a_decoder *d);

/* metrics.c (--metrics FILE): starts the registry (path NULL: none), then
 * per event, per heartbeat (caught up), and at exit. */
void b2a_metrics_start(const char *path);
void b2a_metrics_event(const struct b2a_decoder *d);
void b2a_metrics_idle(const struct b2a_decoder *d);
void b2a_metrics_stop(const struct b2a_decoder *d);
/* The resume position after the last event (binlog:FILE:POS;gtid=SET). */
void b2a_decoder_position(struct b2a_decoder *d, struct cdc_buf *out);
/* Writes a commit mark at the current position when no transaction is
 * open, so downstream learns the position before any change (a live start
 * on a quiet server). Returns 0 or -1. */
int b2a_decoder_mark(struct b2a_decoder *d, char *err, size_t errlen);
/* Drops the open transaction (its frames were held, never written). */
void b2a_decoder_abort(struct b2a_decoder *d);
/* The file and position of the last commit mark; -1 if none yet. */
int b2a_decoder_resume(const struct b2a_decoder *d, char *file,
    size_t filelen, uint64_t *pos);
/* Counters for the summary line. */
void b2a_decoder_stats(const struct b2a_decoder *d, uint64_t *events,
    uint64_t *changes, uint64_t *commits, uint64_t *skipped_statements);

/* Tables (tablemap.c). */
/* NULL with err set on failure; *rule set when a column rule cannot apply
 * (a configuration error, not a corrupt binlog). */
struct b2a_table *b2a_table_parse(const uint8_t *p, size_t n,
    int id6, int mariadb, const struct b2a_options *o, int *rule, char *err,
    size_t errlen);
void b2a_table_free(struct b2a_table *t);
/* Undoes b2a_table_finish(), keeping what a table map fills in, so that
 * columns can be completed (schemalookup.c) and the table finished again. */
void b2a_table_unfinish(struct b2a_table *t);
/* Completes a table whose columns are filled in as a table map fills them
 * (type, meta, nullable, is_unsigned, collation, name, symbols; key and pk):
 * kinds, column rules, MySQL type texts, Avro names, topic, schemas and
 * fingerprints, the same for a table map and for a snapshot's
 * information_schema. Returns 0, -1 with err set, or -2 with err set when a
 * column rule cannot apply (the caller frees t). */
int b2a_table_finish(struct b2a_table *t, const struct b2a_options *o,
    char *err, size_t errlen);

/* Column rules (mask.c): sets each column's rule from o; -1 with err set
 * when a rule cannot apply (a key column dropped or masked, a type that
 * cannot be masked). */
int b2a_columns_rules(struct b2a_table *t, const struct b2a_options *o,
    char *err, size_t errlen);
/* Rewrites the value of column c, encoded at enc[off..len), by its rule:
 * R_DROP removes it, R_HASH and R_MASK replace a non-null value. */
/* mask.c: readies --hash-column's SHA-256 with the salt; -1 with err when
 * libcrypto cannot give SHA-256 (a provider configuration without it). */
int b2a_hash_init(const uint8_t *salt, size_t n, char *err, size_t errlen);
void b2a_column_rule_apply(const struct b2a_table *t,
    const struct b2a_column *c, struct cdc_buf *enc, size_t off);

/* Values (types.c, with the readers of value.c): decodes one column of a
 * row image at p (not past end) into Avro binary appended to out; *used
 * is set to the bytes consumed. */
int b2a_value(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen);

/* Character sets (charset.c). */
enum b2a_cs { CS_UTF8, CS_BINARY, CS_ICONV, CS_UNSUPPORTED, CS_UNKNOWN };
enum b2a_cs b2a_charset(int collation, const char **name, const char **iconv);
/* Bytes per character at most (1 when unknown): type lengths in the
 * table map are in bytes, MySQL's column types in characters. */
int b2a_charset_maxlen(int collation);
/* Appends s[0..n) in collation to out as UTF-8. */
int b2a_to_utf8(int collation, const uint8_t *s, size_t n,
    struct cdc_buf *out, char *err, size_t errlen);

/* The value of a hex digit, or -1. */
static inline int
b2a_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Little-endian helpers. */
static inline uint64_t
b2a_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	/* The integer sizes as cases of their own: with a constant count the
	 * compiler reads one word instead of looping over bytes. */
	switch (n) {
	case 2:
		return (uint64_t)p[0] | (uint64_t)p[1] << 8;
	case 4:
		return (uint64_t)p[0] | (uint64_t)p[1] << 8 |
		    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
	case 8:
		for (i = 7; i >= 0; i--)
			v = (v << 8) | p[i];
		return v;
	default:
		for (i = n - 1; i >= 0; i--)
			v = (v << 8) | p[i];
		return v;
	}
}

static inline uint64_t
b2a_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* MySQL's packed (length-encoded) integer; -1 when it runs past end. */
static inline int
b2a_packed(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *s = *p;
	int n;

	if (s >= end)
		return -1;
	if (*s < 251) {
		*v = *s;
		*p = s + 1;
		return 0;
	}
	n = *s == 252 ? 2 : *s == 253 ? 3 : *s == 254 ? 8 : -1;
	if (n < 0 || end - s - 1 < n)
		return -1;
	*v = b2a_le(s + 1, n);
	*p = s + 1 + n;
	return 0;
}

#endif
