/* The initial snapshot's values (snapvalue.c) and positions (snappos.c):
 * what snapshot.c reads from the server, independent of the client
 * library, so that unit tests can drive them. */
#ifndef B2A_SNAPSHOT_H
#define B2A_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"
#include "types.h"

/* Appends to out the Avro encoding of v in column c exactly as b2a_value()
 * encodes the same value from a binlog row image (union branch included):
 * v is put into the column's binlog storage format and decoded by
 * b2a_value(), except for MySQL's JSON, whose binary form the server does
 * not send (its text is the text b2a_value() prints). Returns 0, or -1 with
 * err set on a value the column cannot hold. */
int b2a_snap_value(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *out, char *err, size_t errlen);

/* Whether the primary key column c can be compared with a parameter so
 * that chunks can be read in key order. */
int b2a_snap_key_ok(const struct b2a_column *c);
/* Appends the text of key value v of column c to out, for a snapshot
 * position: characters [0-9a-fA-F.:T-] only (never ',' or ';'). */
void b2a_snap_key_text(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *out);
/* Parses text s[0..n) made by b2a_snap_key_text() for column c into v;
 * bytes holds v->s (the caller keeps it). Returns 0, or -1. */
int b2a_snap_key_parse(const struct b2a_column *c, const char *s, size_t n,
    struct b2a_parts *v, struct cdc_buf *bytes);

/* A snapshot position (docs/binlog2avro.md, "Snapshot"):
 *   snapshot:FILE:POS;table=DB.TABLE;after=K1,K2,...
 *   snapshot:FILE:POS;table=DB.TABLE;done
 * FILE:POS is the binlog position of the original snapshot; DB and TABLE
 * are percent-encoded; Kn are b2a_snap_key_text() of the last row emitted,
 * in key order. */
struct b2a_snappos {
	char file[512];
	uint64_t pos;
	char *db, *table; /* NULL: nothing read yet */
	int done;         /* the table is complete */
	char *after;      /* the key text, or NULL: from the table's start */
};

/* Parses a position; 0, or -1 with err set. Free with b2a_snappos_fini(). */
int b2a_snappos_parse(struct b2a_snappos *p, const char *s, char *err,
    size_t errlen);
/* Appends the text of p to out. */
void b2a_snappos_text(const struct b2a_snappos *p, struct cdc_buf *out);
void b2a_snappos_fini(struct b2a_snappos *p);

/* Columns the server sends as integers (snapvalue.c). */
int b2a_snap_is_int(const struct b2a_column *c);

#endif
