/* The decoder's state, shared by the decoder's files: event.c (events,
 * transactions, output), rows.c (row images to change frames), tables.c
 * (tables by id) and compress.c. The live and snapshot sources still read
 * and set the position and the open transaction here; everything else
 * above the decoder uses binlog.h. */
#ifndef B2A_DECODER_H
#define B2A_DECODER_H

#include "binlog.h"
#include "gtid.h"
#include "log.h"

struct b2a_decoder {
	struct b2a_options o;
	struct cdc_writer *w;

	/* The format description in force. */
	int have_fde;
	int checksum; /* events end with a CRC32 */
	uint8_t posthdr[256];
	int mariadb;
	char server_version[51];

	/* Where we are. */
	char *file;
	uint64_t file_seq;
	uint64_t pos;      /* offset of the event being decoded */
	uint64_t next_pos; /* offset after it */
	uint32_t server_id;
	int64_t when; /* event timestamp, seconds */

	/* Tables by id (table ids are unique within a server's run). */
	struct b2a_table **tables;
	size_t ntables;
	/* Names the columns of table maps without names (live mode: from
	 * information_schema); NULL offline. */
	b2a_names_fn *names;
	void *names_arg;
	uint64_t ddls; /* DDL statements decoded, which may change tables */

	/* The open transaction. */
	int in_trx;
	int explicit_trx; /* opened by BEGIN, XA START or a MariaDB GTID of a
			   * transaction: a DDL inside does not end it */
	char gtid[160];
	char *trx_file;
	uint64_t trx_pos;
	int64_t thread_id;
	char *query; /* ANNOTATE_ROWS / ROWS_QUERY text, or NULL */
	int64_t total_order;
	int64_t trx_version;
	char trx_id[600]; /* transaction.id, made at its first change */
	char ev_pos[600]; /* position text of the rows event */
	int64_t ev_now;   /* processing time of the rows event */

	/* Inside a TRANSACTION_PAYLOAD: rows count across its events. */
	int in_payload;
	uint64_t payload_pos, payload_len, payload_rows;

	struct b2a_gtid_set gtids;
	int64_t seq; /* commit marks written */
	char *resume_file; /* where the last commit mark resumes */
	uint64_t resume_pos;
	int64_t last_version;

	struct cdc_buf key, val, row, tmp;
	struct cdc_buf src_pre, src_post; /* source record around 'row' */
	uint64_t events, changes, commits, skipped;
	int io_error;
	int rule_error; /* a column rule cannot apply: exit 78 */
};

/* compress.c: MariaDB's compressed query and rows bodies (a header byte whose
 * low bits count the length bytes, the length big-endian, zlib data) into
 * out; -1 with err naming what on corrupt data. */
int b2a_maria_uncompress(const uint8_t *p, size_t n, struct cdc_buf *out,
    const char *what, char *err, size_t errlen);
/* rows.c: a rows event's body (after the common header). */
int b2a_rows_event(struct b2a_decoder *d, int type, const uint8_t *body,
    size_t n, char *err, size_t errlen);
/* rows.c: a snapshot read (op "r") of one row of t, in the open
 * transaction. val holds the row's Value record in Avro binary, column i's
 * encoding (as b2a_value() makes it, union branch included) at
 * val[off[i]..off[i + 1]); source.snapshot is "last" when last, else
 * "true"; source and the change's position come from d (file, pos, when,
 * server_id, ev_pos). Returns 0, or -1 (d->io_error on a write error). */
int b2a_emit_read(struct b2a_decoder *d, struct b2a_table *t,
    const uint8_t *val, const size_t *off, int last, int64_t version,
    char *err, size_t errlen);
/* tables.c: opens a transaction if none is open. */
void b2a_trx_begin(struct b2a_decoder *d);
/* tables.c: the table of a table id, or NULL. */
struct b2a_table *b2a_table_get(struct b2a_decoder *d, uint64_t id);
/* tables.c: adds t (the decoder takes it), replacing and freeing the
 * table of the same id. */
void b2a_table_put(struct b2a_decoder *d, struct b2a_table *t);

#endif
