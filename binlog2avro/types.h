/* The MySQL column types (types.c): one row per type code of TABLE_MAP,
 * naming how its metadata and values are read from the binlog, how a
 * snapshot fetches it in the binary protocol, the form information_schema
 * gives it, and how it is classified into an Avro kind and a MySQL type
 * text (which say its Avro schema and whether column rules can mask it).
 * Adding a type is one row here, its reader (value.c) and their tests. */
#ifndef B2A_TYPES_H
#define B2A_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"

/* MariaDB's compressed columns: known in TABLE_MAP, not decoded. */
#define MT_BLOB_COMPRESSED    140
#define MT_VARCHAR_COMPRESSED 141

/* How a snapshot fetches a column in the binary protocol (snapread.c). */
enum b2a_fetch { F_BYTES, F_INT, F_FLOAT, F_DOUBLE, F_TIME };

/* How a snapshot position writes a key value (snapvalue.c). */
enum b2a_keyform {
	KEY_HEX,      /* its bytes in hex */
	KEY_INT,      /* decimal */
	KEY_BIT,      /* decimal, of the big-endian bytes */
	KEY_DECIMAL,  /* its digits */
	KEY_FLOAT,    /* IEEE bits in hex */
	KEY_DOUBLE,
	KEY_DATE,     /* YYYY-MM-DD */
	KEY_TIME,     /* [-]H:MM:SS.ffffff */
	KEY_DATETIME, /* YYYY-MM-DDTHH:MM:SS.ffffff */
};

/* Row flags. */
#define TF_SIGNED  0x01 /* a bit in TABLE_MAP's SIGNEDNESS (numeric) */
#define TF_CHARSET 0x02 /* an entry in COLUMN_CHARSET (character) */
#define TF_FSP     0x04 /* meta is the fractional seconds, at most 6 */
#define TF_NO_KEY  0x08 /* snapshot: cannot bound a chunk as a key */

/* Decodes the value of column c at p (not past end) into Avro binary
 * appended to out, union branch included; *used gets the bytes read. */
typedef int b2a_read_fn(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen);
/* Sets c's kind (and zero_date_null) and appends its MySQL type text to
 * text; -1 with err set on metadata the type cannot have. */
typedef int b2a_classify_fn(struct b2a_column *c, struct cdc_buf *text,
    char *err, size_t errlen);

struct b2a_type {
	uint8_t meta_len; /* bytes of TABLE_MAP metadata: 0, 1 or 2 */
	uint8_t flags;    /* TF_* */
	uint8_t family;   /* information_schema's form when not this one */
	uint8_t fetch;    /* enum b2a_fetch */
	uint8_t key;      /* enum b2a_keyform */
	b2a_classify_fn *classify; /* NULL: binlog2avro cannot decode it */
	b2a_read_fn *read;
};

/* Indexed by type code; rows not listed are all zero. */
extern const struct b2a_type b2a_types[256];

/* The type information_schema reports for type: its newest form. */
static inline uint8_t
b2a_type_family(uint8_t type)
{
	return b2a_types[type].family != 0 ? b2a_types[type].family : type;
}

/* The readers of value.c, one per storage format. */
b2a_read_fn b2a_read_int, b2a_read_decimal, b2a_read_float, b2a_read_bit,
    b2a_read_year, b2a_read_date, b2a_read_time, b2a_read_time2,
    b2a_read_datetime, b2a_read_timestamp, b2a_read_chars, b2a_read_blob,
    b2a_read_enum_set;

#endif
