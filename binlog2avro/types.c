/* The MySQL type table: one row per TABLE_MAP type code (types.h), the
 * classifiers that give a column its Avro kind and MySQL type text, and
 * b2a_value(), which reads a value with its row's reader (value.c). */
#include <stdio.h>

#include "avrobin.h"
#include "binlog.h"
#include "log.h"
#include "types.h"
#include "value.h"

static const char *
unsigned_text(const struct b2a_column *c)
{
	return c->is_unsigned ? " unsigned" : "";
}

/* TINYINT, SMALLINT, MEDIUMINT. */
static int
classify_small(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	c->kind = K_INT;
	cdc_buf_printf(t, "%s%s", c->type == MT_TINY ? "tinyint" :
		c->type == MT_SHORT ? "smallint" : "mediumint",
	    unsigned_text(c));
	return 0;
}

static int
classify_long(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	c->kind = c->is_unsigned ? K_LONG : K_INT;
	cdc_buf_printf(t, "int%s", unsigned_text(c));
	return 0;
}

static int
classify_longlong(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	c->kind = c->is_unsigned ? K_ULONG : K_LONG;
	cdc_buf_printf(t, "bigint%s", unsigned_text(c));
	return 0;
}

static int
classify_decimal(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	c->kind = K_DECIMAL;
	if ((c->meta >> 8) > 65 || (c->meta & 0xff) > 30 ||
	    (c->meta & 0xff) > (c->meta >> 8))
		return cdc_err(err, errlen, "bad decimal(%d,%d)", c->meta >> 8,
		    c->meta & 0xff);
	cdc_buf_printf(t, "decimal(%d,%d)%s", c->meta >> 8, c->meta & 0xff,
	    unsigned_text(c));
	return 0;
}

/* Types whose text is their name alone: FLOAT, DOUBLE, YEAR, JSON,
 * GEOMETRY, VECTOR. */
static int
classify_plain(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	static const struct {
		uint8_t type;
		enum b2a_kind kind;
		const char *text;
	} plain[] = {{MT_FLOAT, K_FLOAT, "float"},
	    {MT_DOUBLE, K_DOUBLE, "double"}, {MT_YEAR, K_YEAR, "year"},
	    {MT_JSON, K_JSON, "json"}, {MT_GEOMETRY, K_GEOMETRY, "geometry"},
	    {MT_VECTOR, K_VECTOR, "vector"}};
	size_t i;

	(void)err;
	(void)errlen;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (plain[i].type == c->type) {
			c->kind = plain[i].kind;
			cdc_buf_puts(t, plain[i].text);
			break;
		}
	}
	return 0;
}

static int
classify_bit(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	/* meta: bits beyond whole bytes << 8 | whole bytes */
	int bits = (c->meta & 0xff) * 8 + (c->meta >> 8);

	(void)err;
	(void)errlen;
	c->kind = bits == 1 ? K_BOOL : K_BITS;
	cdc_buf_printf(t, "bit(%d)", bits);
	return 0;
}

static int
classify_date(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	c->kind = K_DATE;
	c->zero_date_null = 1;
	cdc_buf_puts(t, "date");
	return 0;
}

/* The fractional seconds of TIME2, DATETIME2 and TIMESTAMP2, 0 for the
 * old forms. */
static int
fsp_of(const struct b2a_column *c)
{
	return b2a_types[c->type].flags & TF_FSP ? c->meta : 0;
}

static int
classify_time(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	int fsp = fsp_of(c);

	(void)err;
	(void)errlen;
	c->kind = K_TIME;
	cdc_buf_printf(t, fsp > 0 ? "time(%d)" : "time", fsp);
	return 0;
}

static int
classify_datetime(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	int fsp = fsp_of(c);

	(void)err;
	(void)errlen;
	c->kind = fsp <= 3 ? K_DATETIME_MS : K_DATETIME_US;
	c->zero_date_null = 1;
	cdc_buf_printf(t, fsp > 0 ? "datetime(%d)" : "datetime", fsp);
	return 0;
}

static int
classify_timestamp(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	int fsp = fsp_of(c);

	(void)err;
	(void)errlen;
	c->kind = K_TIMESTAMP;
	c->zero_date_null = 1;
	cdc_buf_printf(t, fsp > 0 ? "timestamp(%d)" : "timestamp", fsp);
	return 0;
}

/* VARCHAR, VARBINARY, CHAR and BINARY: their length in characters. */
static int
classify_chars(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	int binary = c->collation == 63, fixed = c->type == MT_STRING;

	(void)err;
	(void)errlen;
	c->kind = binary ? K_BYTES : K_STRING;
	cdc_buf_printf(t, "%s(%d)",
	    fixed ? (binary ? "binary" : "char") :
		    (binary ? "varbinary" : "varchar"),
	    c->meta / b2a_charset_maxlen(c->collation));
	return 0;
}

static int
classify_blob(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	static const char *blobs[] = {"tiny", "", "medium", "long"};

	(void)err;
	(void)errlen;
	/* Without charset metadata a BLOB stays bytes: exact. */
	c->kind = c->collation == 63 || c->collation < 0 ? K_BYTES : K_STRING;
	cdc_buf_printf(t, "%s%s",
	    c->meta >= 1 && c->meta <= 4 ? blobs[c->meta - 1] : "",
	    c->kind == K_BYTES ? "blob" : "text");
	return 0;
}

static int
classify_enum_set(struct b2a_column *c, struct cdc_buf *t, char *err,
    size_t errlen)
{
	size_t i;

	(void)err;
	(void)errlen;
	c->kind = c->type == MT_ENUM ? K_ENUM : K_SET;
	cdc_buf_puts(t, c->type == MT_ENUM ? "enum(" : "set(");
	for (i = 0; i < c->nsymbols; i++) {
		if (i > 0)
			cdc_buf_putc(t, ',');
		cdc_buf_printf(t, "'%s'", c->symbols[i]);
	}
	cdc_buf_putc(t, ')');
	return 0;
}

/* The columns of a row, by kind of type. param is the MYSQL_TYPE_* a key
 * is bound as (numerically the type code; MT_BLOB: its bytes). */
#define INT_T  TF_SIGNED, 0, F_INT, KEY_INT, MT_LONGLONG
#define CHAR_T TF_CHARSET, 0, F_BYTES, KEY_HEX, MT_BLOB
#define BLOB_T TF_CHARSET, MT_BLOB, F_BYTES, KEY_HEX, MT_BLOB
#define NOSNAP_T F_BYTES, KEY_HEX, MT_BLOB /* old forms, compressed columns */

const struct b2a_type b2a_types[256] = {
    /* code = {meta, flags, family, fetch, key, param, is_names, is_form,
     *         classify, read, store} */
    [MT_DECIMAL] = {META_NONE, TF_SIGNED, 0, NOSNAP_T, NULL, IS_NONE, NULL,
	NULL, NULL},
    [MT_TINY] = {META_NONE, INT_T, "tinyint", IS_NONE, classify_small,
	b2a_read_int, b2a_store_int},
    [MT_SHORT] = {META_NONE, INT_T, "smallint", IS_NONE, classify_small,
	b2a_read_int, b2a_store_int},
    [MT_INT24] = {META_NONE, INT_T, "mediumint", IS_NONE, classify_small,
	b2a_read_int, b2a_store_int},
    [MT_LONG] = {META_NONE, INT_T, "int,integer", IS_NONE, classify_long,
	b2a_read_int, b2a_store_int},
    [MT_LONGLONG] = {META_NONE, INT_T, "bigint", IS_NONE, classify_longlong,
	b2a_read_int, b2a_store_int},
    [MT_NEWDECIMAL] = {META_BE16, TF_SIGNED, 0, F_BYTES, KEY_DECIMAL,
	MT_NEWDECIMAL, "decimal,numeric", IS_PRECISION, classify_decimal,
	b2a_read_decimal, b2a_store_decimal},
    [MT_FLOAT] = {META_BYTE, TF_SIGNED, 0, F_FLOAT, KEY_FLOAT, MT_FLOAT,
	"float", IS_IEEE, classify_plain, b2a_read_float, b2a_store_float},
    [MT_DOUBLE] = {META_BYTE, TF_SIGNED, 0, F_DOUBLE, KEY_DOUBLE, MT_DOUBLE,
	"double,real,double precision", IS_IEEE, classify_plain,
	b2a_read_float, b2a_store_float},
    [MT_BIT] = {META_BE16, 0, 0, F_BYTES, KEY_BIT, MT_LONGLONG, "bit", IS_BITS,
	classify_bit, b2a_read_bit, b2a_store_bit},
    [MT_YEAR] = {META_NONE, 0, 0, F_INT, KEY_INT, MT_LONGLONG, "year", IS_NONE,
	classify_plain, b2a_read_year, b2a_store_year},
    [MT_DATE] = {META_NONE, 0, 0, F_TIME, KEY_DATE, MT_DATE, "date", IS_NONE,
	classify_date, b2a_read_date, b2a_store_date},
    [MT_NEWDATE] = {META_NONE, 0, MT_DATE, F_TIME, KEY_DATE, MT_DATE, NULL,
	IS_NONE, classify_date, b2a_read_date, b2a_store_date},
    [MT_TIME] = {META_NONE, 0, MT_TIME2, NOSNAP_T, NULL, IS_NONE,
	classify_time, b2a_read_time, NULL},
    [MT_TIME2] = {META_BYTE, TF_FSP, 0, F_TIME, KEY_TIME, MT_TIME, "time",
	IS_FSP, classify_time, b2a_read_time2, b2a_store_time2},
    [MT_DATETIME] = {META_NONE, 0, MT_DATETIME2, NOSNAP_T, NULL, IS_NONE,
	classify_datetime, b2a_read_datetime, NULL},
    [MT_DATETIME2] = {META_BYTE, TF_FSP, 0, F_TIME, KEY_DATETIME, MT_DATETIME,
	"datetime", IS_FSP, classify_datetime, b2a_read_datetime,
	b2a_store_datetime2},
    [MT_TIMESTAMP] = {META_NONE, 0, MT_TIMESTAMP2, NOSNAP_T, NULL, IS_NONE,
	classify_timestamp, b2a_read_timestamp, NULL},
    [MT_TIMESTAMP2] = {META_BYTE, TF_FSP, 0, F_TIME, KEY_DATETIME,
	MT_TIMESTAMP, "timestamp", IS_FSP, classify_timestamp,
	b2a_read_timestamp, b2a_store_timestamp2},
    [MT_VARCHAR] = {META_LE16, CHAR_T, "varchar,varbinary", IS_OCTETS,
	classify_chars, b2a_read_chars, b2a_store_chars},
    [MT_VAR_STRING] = {META_LE16, TF_CHARSET, MT_VARCHAR, F_BYTES, KEY_HEX,
	MT_BLOB, NULL, IS_NONE, classify_chars, b2a_read_chars,
	b2a_store_chars},
    [MT_STRING] = {META_STRING, CHAR_T, "char,binary", IS_OCTETS,
	classify_chars, b2a_read_chars, b2a_store_chars},
    [MT_BLOB] = {META_BYTE, CHAR_T,
	"tinytext,tinyblob,text,blob,mediumtext,mediumblob,"
	"longtext,longblob", IS_BLOB, classify_blob, b2a_read_blob,
	b2a_store_blob},
    [MT_TINY_BLOB] = {META_BYTE, BLOB_T, NULL, IS_NONE, classify_blob,
	b2a_read_blob, b2a_store_blob},
    [MT_MEDIUM_BLOB] = {META_BYTE, BLOB_T, NULL, IS_NONE, classify_blob,
	b2a_read_blob, b2a_store_blob},
    [MT_LONG_BLOB] = {META_BYTE, BLOB_T, NULL, IS_NONE, classify_blob,
	b2a_read_blob, b2a_store_blob},
    /* A BLOB underneath: it has a charset entry. */
    [MT_GEOMETRY] = {META_BYTE, TF_CHARSET | TF_NO_KEY, 0, F_BYTES, KEY_HEX,
	MT_BLOB, "geometry,point,linestring,polygon,multipoint,"
	"multilinestring,multipolygon,geometrycollection,"
	"geomcollection", IS_WKB, classify_plain, b2a_read_blob,
	b2a_store_blob},
    [MT_JSON] = {META_BYTE, TF_NO_KEY | TF_TEXT, 0, F_BYTES, KEY_HEX, MT_BLOB,
	"json", IS_LONG, classify_plain, b2a_read_blob, NULL},
    [MT_VECTOR] = {META_BYTE, TF_NO_KEY, 0, F_BYTES, KEY_HEX, MT_BLOB,
	"vector", IS_LONG, classify_plain, b2a_read_blob, b2a_store_blob},
    [MT_ENUM] = {META_BE16, TF_SYMBOLS, 0, F_INT, KEY_INT, MT_LONGLONG, "enum",
	IS_SYMBOLS, classify_enum_set, b2a_read_enum_set, b2a_store_enum_set},
    [MT_SET] = {META_BE16, TF_SYMBOLS, 0, F_INT, KEY_INT, MT_LONGLONG, "set",
	IS_SYMBOLS, classify_enum_set, b2a_read_enum_set, b2a_store_enum_set},
    [MT_BLOB_COMPRESSED] = {META_BYTE, 0, 0, NOSNAP_T, NULL, IS_NONE, NULL,
	NULL, NULL},
    [MT_VARCHAR_COMPRESSED] = {META_LE16, 0, 0, NOSNAP_T, NULL, IS_NONE, NULL,
	NULL, NULL},
};

/* Reads the value with its type's reader. Not inlined: its stack frame
 * and saved registers would then be paid by every value. */
static __attribute__((noinline)) int
value_other(const struct b2a_column *c, const uint8_t *p, const uint8_t *end,
    struct cdc_buf *out, size_t *used, char *err, size_t errlen)
{
	b2a_read_fn *read = b2a_types[c->type].read;

	if (read == NULL)
		return cdc_err(err, errlen, "column '%s' has type %d", c->name,
		    c->type);
	return read(c, p, end, out, used, err, errlen);
}

/* The commonest types (integers, doubles, text that needs no conversion)
 * decoded here, the rest through the table: one row image calls this once
 * per column. */
int
b2a_value(const struct b2a_column *c, const uint8_t *p, const uint8_t *end,
    struct cdc_buf *out, size_t *used, char *err, size_t errlen)
{
	size_t n;
	int size, lb;

	switch (c->type) {
	case MT_TINY:
	case MT_SHORT:
	case MT_INT24:
	case MT_LONG:
	case MT_LONGLONG:
		if (c->kind == K_ULONG)
			break;
		size = int_size(c->type);
		NEED(size);
		*used = (size_t)size;
		put_union(out, c, 1);
		cdc_avro_put_long(out, int_value(c, p, size));
		return 0;
	case MT_DOUBLE:
		NEED(8);
		put_union(out, c, 1);
		cdc_buf_append(out, p, 8); /* IEEE little-endian */
		*used = 8;
		return 0;
	case MT_VARCHAR:
	case MT_VAR_STRING:
		if (c->convert)
			break;
		lb = c->meta < 256 ? 1 : 2;
		NEED(lb);
		n = (size_t)b2a_le(p, lb);
		NEED((size_t)lb + n);
		*used = (size_t)lb + n;
		put_union(out, c, 1);
		cdc_avro_put_bytes(out, p + lb, n);
		return 0;
	default:
		break;
	}
	return value_other(c, p, end, out, used, err, errlen);
}
