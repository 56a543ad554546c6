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

#define INT_T  TF_SIGNED, 0, F_INT, KEY_INT
#define CHAR_T TF_CHARSET, 0, F_BYTES, KEY_HEX
#define BLOB_T TF_CHARSET, MT_BLOB, F_BYTES, KEY_HEX

const struct b2a_type b2a_types[256] = {
    /* code      meta flags, family, fetch, key    classify  read */
    [MT_DECIMAL] = {0, TF_SIGNED, 0, F_BYTES, KEY_HEX, NULL, NULL},
    [MT_TINY] = {0, INT_T, classify_small, b2a_read_int},
    [MT_SHORT] = {0, INT_T, classify_small, b2a_read_int},
    [MT_INT24] = {0, INT_T, classify_small, b2a_read_int},
    [MT_LONG] = {0, INT_T, classify_long, b2a_read_int},
    [MT_LONGLONG] = {0, INT_T, classify_longlong, b2a_read_int},
    [MT_NEWDECIMAL] = {2, TF_SIGNED, 0, F_BYTES, KEY_DECIMAL,
	classify_decimal, b2a_read_decimal},
    [MT_FLOAT] = {1, TF_SIGNED, 0, F_FLOAT, KEY_FLOAT, classify_plain,
	b2a_read_float},
    [MT_DOUBLE] = {1, TF_SIGNED, 0, F_DOUBLE, KEY_DOUBLE, classify_plain,
	b2a_read_float},
    [MT_BIT] = {2, 0, 0, F_BYTES, KEY_BIT, classify_bit, b2a_read_bit},
    [MT_YEAR] = {0, 0, 0, F_INT, KEY_INT, classify_plain, b2a_read_year},
    [MT_DATE] = {0, 0, 0, F_TIME, KEY_DATE, classify_date, b2a_read_date},
    [MT_NEWDATE] = {0, 0, MT_DATE, F_BYTES, KEY_DATE, classify_date,
	b2a_read_date},
    [MT_TIME] = {0, 0, MT_TIME2, F_BYTES, KEY_HEX, classify_time,
	b2a_read_time},
    [MT_TIME2] = {1, TF_FSP, 0, F_TIME, KEY_TIME, classify_time,
	b2a_read_time2},
    [MT_DATETIME] = {0, 0, MT_DATETIME2, F_BYTES, KEY_HEX,
	classify_datetime, b2a_read_datetime},
    [MT_DATETIME2] = {1, TF_FSP, 0, F_TIME, KEY_DATETIME, classify_datetime,
	b2a_read_datetime},
    [MT_TIMESTAMP] = {0, 0, MT_TIMESTAMP2, F_BYTES, KEY_HEX,
	classify_timestamp, b2a_read_timestamp},
    [MT_TIMESTAMP2] = {1, TF_FSP, 0, F_TIME, KEY_DATETIME,
	classify_timestamp, b2a_read_timestamp},
    [MT_VARCHAR] = {2, CHAR_T, classify_chars, b2a_read_chars},
    [MT_VAR_STRING] = {2, TF_CHARSET, MT_VARCHAR, F_BYTES, KEY_HEX,
	classify_chars, b2a_read_chars},
    [MT_STRING] = {2, CHAR_T, classify_chars, b2a_read_chars},
    [MT_BLOB] = {1, CHAR_T, classify_blob, b2a_read_blob},
    [MT_TINY_BLOB] = {1, BLOB_T, classify_blob, b2a_read_blob},
    [MT_MEDIUM_BLOB] = {1, BLOB_T, classify_blob, b2a_read_blob},
    [MT_LONG_BLOB] = {1, BLOB_T, classify_blob, b2a_read_blob},
    /* A BLOB underneath: it has a charset entry. */
    [MT_GEOMETRY] = {1, TF_CHARSET | TF_NO_KEY, 0, F_BYTES, KEY_HEX,
	classify_plain, b2a_read_blob},
    [MT_JSON] = {1, TF_NO_KEY, 0, F_BYTES, KEY_HEX, classify_plain,
	b2a_read_blob},
    [MT_VECTOR] = {1, TF_NO_KEY, 0, F_BYTES, KEY_HEX, classify_plain,
	b2a_read_blob},
    [MT_ENUM] = {2, 0, 0, F_INT, KEY_INT, classify_enum_set,
	b2a_read_enum_set},
    [MT_SET] = {2, 0, 0, F_INT, KEY_INT, classify_enum_set,
	b2a_read_enum_set},
    [MT_BLOB_COMPRESSED] = {1, 0, 0, F_BYTES, KEY_HEX, NULL, NULL},
    [MT_VARCHAR_COMPRESSED] = {2, 0, 0, F_BYTES, KEY_HEX, NULL, NULL},
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
