/* MySQL's binary JSON format (the value of a JSON column in a MySQL 5.7+/8.x
 * row-based binlog) to JSON text as MySQL prints it, and MySQL 8's partial
 * JSON updates (PARTIAL_UPDATE_ROWS_EVENT with
 * binlog_row_value_options=PARTIAL_JSON) applied to a parsed document.
 *
 * A JSON column in a row image is a 4-byte little-endian length followed by
 * that many bytes. In a full image those bytes are a binary JSON document
 * (b2a_json_parse(), b2a_json_to_text()). In the after image of a
 * PARTIAL_UPDATE_ROWS_EVENT, a column whose bit is set in the row's partial
 * bitmap holds instead a diff vector (b2a_json_apply_diffs()) to apply to the
 * same column of the before image. */
#ifndef B2A_MYSQLJSON_H
#define B2A_MYSQLJSON_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* A parsed document (a small DOM that owns copies of its strings). */
struct b2a_json;

/* Parses MySQL binary JSON p[0..n). An empty value (n == 0) is JSON null, as
 * MySQL treats it. Returns a document the caller frees with b2a_json_free(),
 * or NULL with err set on malformed input (the message gives the byte offset
 * in p). Never reads outside p[0..n). */
struct b2a_json *b2a_json_parse(const uint8_t *p, size_t n, char *err,
    size_t errlen);

/* Frees a document; NULL is a no-op. */
void b2a_json_free(struct b2a_json *j);

/* Appends the document's text as MySQL prints it (CAST(j AS CHAR)):
 * {"a": 1, "b": [true, null]}, keys in MySQL's order, strings escaped as
 * MySQL does, doubles as my_gcvt() prints them, DECIMAL opaque values as
 * numbers, DATE/TIME/DATETIME/TIMESTAMP opaque values as quoted strings and
 * other opaque values as "base64:typeNN:...". */
void b2a_json_text(const struct b2a_json *j, struct cdc_buf *out);

/* Applies a partial-update diff vector d[0..n) to doc. d is the bytes of the
 * column in the after image of PARTIAL_UPDATE_ROWS after its 4-byte length
 * (Json_diff_vector::write_binary(): the length it writes counts exactly
 * these bytes). Each diff is an operation byte (0 REPLACE, 1 INSERT,
 * 2 REMOVE), a length-encoded integer and that many bytes of path text
 * ("$.a[1]"), and unless the operation is REMOVE a length-encoded integer
 * and that many bytes of binary JSON. n == 0 is an empty vector (no change).
 * The whole vector is decoded before anything is applied, so malformed input
 * leaves doc unchanged; but if the path of a later diff does not resolve,
 * the earlier ones have been applied: discard doc then. Returns 0, or -1 with
 * err set. */
int b2a_json_apply_diffs(struct b2a_json *doc, const uint8_t *d, size_t n,
    char *err, size_t errlen);

/* Appends the text of binary JSON p[0..n) to out without building a DOM
 * (the same text as b2a_json_parse() + b2a_json_text()). Returns 0, or -1
 * with err set and out as it was on malformed input. */
int b2a_json_to_text(const uint8_t *p, size_t n, struct cdc_buf *out,
    char *err, size_t errlen);

/* Appends d as MySQL prints a JSON double (my_gcvt() with the field width
 * of MY_GCVT_MAX_FIELD_WIDTH, plus ".0" when that has neither '.' nor 'e'):
 * 1.5, 3.0, 1e300, 0.0001, 1.2345e-7, -0.0. Like MySQL, prints infinities
 * and NaN (which JSON cannot hold) as 0.0. */
void b2a_json_double_text(double d, struct cdc_buf *out);

#endif
