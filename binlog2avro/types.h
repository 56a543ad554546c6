/* The MySQL column types (types.c): one row per type code of TABLE_MAP,
 * naming how its metadata and values are read from the binlog, how a
 * snapshot fetches it in the binary protocol, binds it as a key and puts
 * it back into its binlog storage, the form information_schema gives it,
 * and how it is classified into an Avro kind and a MySQL type text (which
 * say its Avro schema and whether column rules can mask it). Adding a type
 * is one row here, its reader (value.c) and store (store.c) when no
 * existing one fits, and their tests. */
#ifndef B2A_TYPES_H
#define B2A_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"

/* MariaDB's compressed columns: known in TABLE_MAP, not decoded. */
#define MT_BLOB_COMPRESSED    140
#define MT_VARCHAR_COMPRESSED 141

/* A value in parts, as a server's binary protocol gives it (snapread.c
 * fetches it for a column of a struct b2a_table), and as a type's store
 * function takes it:
 *   integers, YEAR, ENUM and SET (selected as their number): i (the
 *     64 bits; unsigned columns' values above INT64_MAX wrap);
 *   FLOAT: f; DOUBLE: d;
 *   DATE, TIME, DATETIME, TIMESTAMP (the session in UTC): the fields of a
 *     MYSQL_TIME, hour counting days for TIME, neg for negative TIME;
 *   DECIMAL (its digits as text), BIT (big-endian bytes), strings in the
 *     column's charset, BINARY at full width, GEOMETRY (SRID + WKB), JSON
 *     text: s[0..n). */
struct b2a_parts {
	int null;
	int64_t i;
	float f;
	double d;
	int neg;
	unsigned int year, month, day, hour, minute, second;
	unsigned long us;
	const uint8_t *s;
	size_t n;
};

/* How a column's TABLE_MAP metadata is written (tablemap.c). */
enum b2a_metaform {
	META_NONE,   /* no bytes */
	META_BYTE,   /* one byte */
	META_LE16,   /* two bytes, little-endian (VARCHAR's length) */
	META_BE16,   /* two bytes, big-endian (precision, scale; BIT) */
	META_STRING, /* two bytes: real type (CHAR, ENUM, SET), length */
};

/* How information_schema's COLUMNS gives a type's TABLE_MAP metadata
 * (snapschema.c). */
enum b2a_infoform {
	IS_NONE,      /* no metadata */
	IS_PRECISION, /* NUMERIC_PRECISION << 8 | NUMERIC_SCALE */
	IS_IEEE,      /* its bytes: 4 for FLOAT, 8 for DOUBLE */
	IS_BITS,      /* NUMERIC_PRECISION bits */
	IS_FSP,       /* DATETIME_PRECISION */
	IS_OCTETS,    /* CHARACTER_OCTET_LENGTH, and a charset */
	IS_BLOB,      /* the length bytes its name's place says, a charset */
	IS_SYMBOLS,   /* from the symbols, and a charset */
	IS_WKB,       /* 4 length bytes, binary */
	IS_LONG,      /* 4 length bytes */
};

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
#define TF_SYMBOLS 0x10 /* values number the column's symbols (ENUM, SET):
			 * never negative; a snapshot selects the number */
#define TF_TEXT    0x20 /* a snapshot's value is the text b2a_value() prints
			 * (MySQL's JSON: the server sends no binary form) */

/* Decodes the value of column c at p (not past end) into Avro binary
 * appended to out, union branch included; *used gets the bytes read. */
typedef int b2a_read_fn(const struct b2a_column *c, const uint8_t *p,
    const uint8_t *end, struct cdc_buf *out, size_t *used, char *err,
    size_t errlen);
/* Sets c's kind (and zero_date_null) and appends its MySQL type text to
 * text; -1 with err set on metadata the type cannot have. */
typedef int b2a_classify_fn(struct b2a_column *c, struct cdc_buf *text,
    char *err, size_t errlen);

/* Appends value v of column c in its binlog storage format, the bytes its
 * reader reads: how a snapshot encodes a value exactly as the binlog path
 * does. -1 with err set on a value the column cannot hold. */
typedef int b2a_store_fn(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *b, char *err, size_t errlen);

struct b2a_type {
	uint8_t meta;     /* enum b2a_metaform */
	uint8_t flags;    /* TF_* */
	uint8_t family;   /* information_schema's form when not this one */
	uint8_t fetch;    /* enum b2a_fetch */
	uint8_t key;      /* enum b2a_keyform */
	/* The protocol type a snapshot binds a key value of it as (the
	 * MYSQL_TYPE_* codes are the binlog's type codes). */
	uint8_t param;
	/* information_schema's DATA_TYPE names for it, comma-separated (for
	 * IS_BLOB in pairs by length bytes: "tinytext,tinyblob,text,..."),
	 * and how its metadata is given there. */
	const char *is_names;
	uint8_t is_form; /* enum b2a_infoform */
	b2a_classify_fn *classify; /* NULL: binlog2avro cannot decode it */
	b2a_read_fn *read;
	b2a_store_fn *store; /* NULL: a snapshot cannot read it */
};

/* Indexed by type code; rows not listed are all zero. */
extern const struct b2a_type b2a_types[256];

/* The type information_schema reports for type: its newest form. */
static inline uint8_t
b2a_type_family(uint8_t type)
{
	return b2a_types[type].family != 0 ? b2a_types[type].family : type;
}

/* The bytes of TABLE_MAP metadata of a type. */
static inline int
b2a_meta_len(uint8_t type)
{
	static const int len[] = {0, 1, 2, 2, 2};

	return len[b2a_types[type].meta];
}

/* The readers of value.c, one per storage format. */
b2a_read_fn b2a_read_int, b2a_read_decimal, b2a_read_float, b2a_read_bit,
    b2a_read_year, b2a_read_date, b2a_read_time, b2a_read_time2,
    b2a_read_datetime, b2a_read_timestamp, b2a_read_chars, b2a_read_blob,
    b2a_read_enum_set;

/* The stores of store.c, the inverse of the readers. */
b2a_store_fn b2a_store_int, b2a_store_decimal, b2a_store_float,
    b2a_store_bit, b2a_store_year, b2a_store_date, b2a_store_time2,
    b2a_store_datetime2, b2a_store_timestamp2, b2a_store_chars,
    b2a_store_blob, b2a_store_enum_set;

#endif
