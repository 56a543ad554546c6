/* chload's internal interfaces: the value-schema compiler (schema.c), the
 * row codec from Avro envelopes to RowBinary and back to text (row.c), the
 * ClickHouse HTTP client (ch.c) and the table loader (load.c). */
#ifndef CHLOAD_H
#define CHLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "mem.h"

/* A broken invariant is a bug: say where and abort. */
#define CHL_ASSERT(c)                                                         \
	do {                                                                  \
		if (!(c)) {                                                   \
			cdc_error("assertion failed: %s (%s:%d)", #c,         \
			    __FILE__, __LINE__);                              \
			abort();                                              \
		}                                                             \
	} while (0)

/* What a server can do; filled from SELECT version() (or --server-version). */
struct ch_caps {
	int major, minor;
	int datetime64;   /* DateTime64(p, tz): 20.1 */
	int date32;       /* Date32: 21.9 */
	int decimal256;   /* Decimal(p, s) with p up to 76: 22.1 */
	int lowcard;      /* LowCardinality(String) without a setting: 20.1 */
	int is_deleted;   /* ReplacingMergeTree(_version, _deleted): 23.2 */
	int dedup_token;  /* insert_deduplication_token: 22.2 */
	int async_insert; /* the async_insert setting: 21.11 (default 1 from
			   * 26.2) */
};

/* Sets caps from a version text such as "18.16.1" or "24.3.2.23". */
int ch_caps_from_version(struct ch_caps *caps, const char *version);

/* Appends an identifier quoted with backticks, escaped so that no byte can
 * end the quote (backslash escapes, as ClickHouse's lexer reads them). */
void ch_quote_ident(struct cdc_buf *b, const char *s, size_t n);
/* Appends a string literal in single quotes, escaped likewise. */
void ch_quote_string(struct cdc_buf *b, const char *s, size_t n);

/* ---- Schema ---------------------------------------------------------- */

/* Avro types as the decoder meets them. */
enum av_kind {
	AV_NULL,
	AV_BOOLEAN,
	AV_INT,
	AV_LONG,
	AV_FLOAT,
	AV_DOUBLE,
	AV_BYTES,
	AV_STRING,
	AV_FIXED,
	AV_ENUM,
	AV_ARRAY,
	AV_MAP,
	AV_UNION,
	AV_RECORD
};

/* A node of a compiled Avro schema; named types are shared. */
struct av_node {
	enum av_kind kind;
	size_t size;            /* fixed: its size */
	size_t n;               /* children */
	struct av_node **child; /* union branches, record fields, items */
};

/* How a column's Avro value becomes its ClickHouse value. */
enum conv {
	CV_INT,      /* int, long or boolean to an integer of width bytes */
	CV_FLOAT32,
	CV_FLOAT64,
	CV_DECIMAL,  /* big-endian bytes to a little-endian Decimal of width */
	CV_DEC_UINT, /* decimal(20,0) bytes to UInt64 (BIGINT UNSIGNED) */
	CV_DEC_TEXT, /* decimal bytes to String text (too wide for the server) */
	CV_BITS,     /* little-endian bytes to UInt64 (BIT(n)) */
	CV_DATE,     /* days to the column's date representation (rep) */
	CV_TS_MS,    /* ms since the epoch to its time representation (rep) */
	CV_TS_US,    /* µs since the epoch likewise */
	CV_TS_ISO,   /* ISO 8601 UTC text likewise */
	CV_STRING,   /* string or bytes to String */
	CV_FIXED,    /* bytes of exactly size to FixedString(size) */
	CV_ENUM,     /* symbol text to Enum8 or Enum16 */
	CV_ENUM_NUM, /* MySQL's ENUM number as text to Enum8 or Enum16 */
	CV_SET_NUM,  /* MySQL's SET bits as text to the members' String */
	CV_VECTOR,   /* array of float to Array(Float32) */
	CV_GEOMETRY  /* {wkb, srid} to Tuple(String, Nullable(Int32)) */
};

/* How a DATE, DATETIME or TIMESTAMP column is stored (docs/chload.md 2). */
enum trep {
	REP_NONE,
	REP_DATE,     /* Date: UInt16 days, 1970..2105 */
	REP_DATE32,   /* Date32: Int32 days, 1900..2299 */
	REP_DAYS,     /* Int32 days since 1970-01-01: any MySQL date */
	REP_DATETIME, /* DateTime: UInt32 seconds, 1970..2105 */
	REP_DT64,     /* DateTime64(scale): Int64, 1900..2299 */
	REP_DECIMAL   /* Decimal(18, scale) seconds: any MySQL time */
};

struct col {
	char *name;    /* the MySQL name (cdc.name) */
	char *mytype;  /* the MySQL type (cdc.type), or NULL */
	int numbered;  /* ENUM/SET without symbols: the value is MySQL's number */
	char *chtype;  /* ClickHouse type, Nullable() included */
	int keypos;    /* 1-based position in the primary key, or 0 */
	int nullable;  /* Nullable() in ClickHouse */
	int br_absent; /* union branch of cdc.stream.Absent, or -1 */
	int br_null;   /* union branch of null, or -1 */
	int br_value;  /* union branch of the value, or -1: not a union */
	int nbranch;
	struct av_node *av; /* the value's type (not the union) */
	enum conv cv;
	int width;      /* integer or decimal bytes */
	int is_signed;  /* integer conversions */
	int scale;      /* decimals; fractional digits of a time */
	enum trep rep;  /* dates and times */
	size_t size;    /* FixedString size; CV_ENUM_NUM: greatest value */
	char **sym;     /* Enum symbols, sym[0] = "" (value 0); SET members */
	size_t *symlen;
	size_t nsym;
};

enum env_role {
	ENV_SKIP,
	ENV_BEFORE,
	ENV_AFTER,
	ENV_SOURCE,
	ENV_OP
};

struct env_field {
	enum env_role role;
	struct av_node *av; /* the field's type */
	int br_null;        /* before/after: the null branch of the union */
};

/* A compiled value schema (Envelope) of one table. */
struct tschema {
	uint64_t fp;
	char *db, *table; /* cdc.database, cdc.table */
	struct col *cols;
	size_t ncols;
	size_t *key; /* column indexes in key order */
	size_t nkey;
	struct env_field *env;
	size_t nenv;
	int source_ts;   /* field index of ts_ms in Source, or -1 */
	int has_absent;  /* a partial-image schema */
	int positional;  /* columns named col_1, col_2, ... and no key */
	int ts64;        /* _ts is DateTime64(3) in the table, not DateTime */
	char *refused;   /* why its rows cannot be loaded, or NULL */
	struct av_node **nodes; /* every node, for freeing */
	size_t nnodes;
};

/* Compiles a value schema JSON for the server caps. Returns NULL with the
 * reason in err when it is not an Envelope this tool understands. Free with
 * tschema_free(). */
struct tschema *tschema_new(const char *json, size_t len, uint64_t fp,
    const struct ch_caps *caps, char *err, size_t errlen);
void tschema_free(struct tschema *s);
/* Whether two schemas give the same ClickHouse columns (names, types, key). */
int tschema_same_columns(const struct tschema *a, const struct tschema *b);
/* Makes c store its values as the table's type have (Nullable() included)
 * where that is another form of them: a date as Date, Date32 or Int32 days;
 * a time as DateTime, DateTime64 or Decimal(18, scale) of its scale; an
 * integer of another width or sign (a value out of its range is then refused
 * row by row); String for LowCardinality(String) and back. Returns -1, c
 * unchanged, when it is not. */
int col_adopt(struct col *c, const char *have);
/* Column index by MySQL name, or -1. */
int tschema_col(const struct tschema *s, const char *name);
/* The type a date or time column widens to when a value falls outside its
 * ClickHouse type's range (Date, Date32: Int32 days; DateTime, DateTime64:
 * Decimal(18, scale) seconds), Nullable() included; NULL when the column
 * has no wider type. Caller frees. */
char *col_wide_type(const struct col *cl);
/* Switches cl to its wide type (col_wide_type() must not be NULL). */
void col_widen(struct col *cl);
/* Makes cl Nullable (its type and its RowBinary) unless it is a key, an
 * array or a tuple, which cannot be; returns whether cl is Nullable. */
int col_make_nullable(struct col *cl);

/* A column of a table as ClickHouse has it, for tschema_map(). */
struct named_col {
	const char *name, *type; /* ClickHouse type text */
	int keypos;              /* in the sorting key, 1-based, or 0 */
	const struct col *src;   /* the same column in a schema by names, or
				  * NULL (SET members come from there) */
};

/* Maps a positional schema (s->positional: columns named col_1, col_2, ...,
 * from a binlog without column names) onto a table that has the n named
 * columns cols: column i takes the name, type and key position of cols[i]
 * when its values convert exactly (same type; ENUM and SET numbers through
 * the symbols). Returns 0, or -1 with the reason in err (s unchanged). */
int tschema_map(struct tschema *s, const struct named_col *cols, size_t n,
    char *err, size_t errlen);

/* ---- Rows ------------------------------------------------------------ */

enum cell_state {
	CELL_ABSENT,
	CELL_NULL,
	CELL_VALUE,
	CELL_RAW /* p[0..n) is the column's RowBinary, as ClickHouse sent it */
};

struct cell {
	enum cell_state st;
	int64_t i;
	double d;
	const uint8_t *p;
	size_t n;
};

/* One decoded change, pointing into the frame's bytes. */
struct change {
	char op; /* c u d r t */
	int has_before, has_after;
	int64_t source_ts_ms;
	struct cell *before, *after; /* ncols each, owned by the caller */
};

/* Decodes an envelope datum (without the single-object header). Returns 0,
 * or -1 with err set. */
int row_decode(const struct tschema *s, const uint8_t *p, size_t n,
    struct change *c, char *err, size_t errlen);

/* Appends one RowBinary row: the columns from cells, then _version,
 * _deleted and _ts. Returns 0; -1 (with err) when a value does not fit its
 * ClickHouse type; or ROW_WIDEN when a date or time falls outside the range
 * of its column's type but would fit col_wide_type(), with its column index
 * in *col (err says which value). On failure b is left as it was. */
#define ROW_WIDEN (-2)
int row_encode(const struct tschema *s, const struct cell *cells,
    uint64_t version, int deleted, int64_t ts_ms, struct cdc_buf *b,
    size_t *col, char *err, size_t errlen);

/* Appends one RowBinary row at p[0..n) as a JSON object, keys the column
 * names; *used is the row's length. Returns 0 or -1 on a short row. */
int row_to_json(const struct tschema *s, const uint8_t *p, size_t n,
    size_t *used, struct cdc_buf *out);

/* Appends an image as a JSON object (values as Avro gave them), for the
 * dead-letter file when a value cannot be encoded. */
void row_cells_json(const struct tschema *s, const struct cell *cells,
    struct cdc_buf *out);

/* Appends the condition "`k1` = literal AND ..." that selects the row
 * whose key columns the cells hold, literals typed as the columns are.
 * Returns 0, or -1 with err when a key value is missing or does not fit. */
int row_key_where(const struct tschema *s, const struct cell *cells,
    struct cdc_buf *out, char *err, size_t errlen);

/* The length of column cl's RowBinary value (Nullable flag included) at
 * p[0..n), or 0 when it is cut short. */
size_t row_value_len(const struct col *cl, const uint8_t *p, size_t n);

/* Whether the key columns of two images are equal. */
int row_key_equal(const struct tschema *s, const struct cell *a,
    const struct cell *b);

/* ---- ClickHouse HTTP client ----------------------------------------- */

struct ch;

struct ch_conf {
	const char *url;
	const char *user;     /* NULL: default */
	const char *password; /* NULL: none; never logged */
	long timeout_ms;      /* per request */
};

/* Result classes of a request. */
enum ch_result {
	CH_OK,
	CH_RETRY, /* connection error, 5xx overload, too many parts */
	CH_DATA,  /* the server rejected the data */
	CH_FAIL   /* anything else (bad SQL, no table, no permission) */
};

/* conf->url may list replicas of one shard, comma-separated. */
struct ch *ch_new(const struct ch_conf *conf);
/* Splits "A,B" into at most max copies in urls; returns how many. */
size_t ch_split_urls(const char *list, char **urls, size_t max);
/* The URL requests go to now. */
const char *ch_url(const struct ch *c);
void ch_free(struct ch *c);
/* Settings ("a=1&b=2", copied; NULL: none) sent in the URL of every later
 * request, so that the server's defaults cannot change what an answer
 * means. */
void ch_set_params(struct ch *c, const char *params);
/* Runs one statement synchronously; the response body goes to out (may be
 * NULL). Returns a class, with the server's text or curl's reason in err. */
enum ch_result ch_query(struct ch *c, const char *sql, const void *body,
    size_t bodylen, struct cdc_buf *out, char *err, size_t errlen);
/* The server's exception code in the err text of a refusal, or -1. */
int ch_error_code(const char *err);

/* An insert running in the background on the multi handle. */
struct ch_req;

/* A request slot, reused for many inserts (its connection stays open). */
struct ch_req *ch_req_new(struct ch *c, void *user);
/* Aborts a running transfer and frees; NULL is a no-op. */
void ch_req_free(struct ch_req *r);
void *ch_req_user(const struct ch_req *r);
/* Starts POSTing body (not copied: it must stay valid until the request is
 * done) with the statement sql in the URL and the extra URL parameters
 * params ("a=1&b=2" or NULL). */
void ch_req_start(struct ch_req *r, const char *sql, const char *params,
    const void *body, size_t len);
/* Whether the request finished, and then how; err is owned by r. */
int ch_req_busy(const struct ch_req *r);
enum ch_result ch_req_result(const struct ch_req *r, const char **err);

/* Drives the background requests: waits up to timeout_ms for network
 * activity or for fd (if not -1) to become readable, then runs transfers.
 * Returns the finished request, one per call until none is left (then
 * NULL). */
void ch_wait(struct ch *c, int fd, int timeout_ms);
struct ch_req *ch_next_done(struct ch *c);
/* Running background requests. */
int ch_running(const struct ch *c);
/* Whether finished requests wait for ch_next_done() (ch_wait does not
 * block then). */
int ch_done_waiting(const struct ch *c);
/* The curl version text for -V. */
const char *ch_curl_version(void);

#endif
