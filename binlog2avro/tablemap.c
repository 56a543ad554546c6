/* TABLE_MAP events: the columns of a table, with the optional metadata of
 * binlog_row_metadata=FULL (names, signedness, charsets, ENUM/SET values,
 * primary key), and the Avro key and value schemas built from them
 * (docs/stream.md section 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avrojson.h"
#include "binlog.h"
#include "fingerprint.h"
#include "log.h"
#include "types.h"
#include "version.h"

/* Optional metadata field types (MySQL's Table_map_event). */
enum {
	OM_SIGNEDNESS = 1,
	OM_DEFAULT_CHARSET,
	OM_COLUMN_CHARSET,
	OM_COLUMN_NAME,
	OM_SET_STR_VALUE,
	OM_ENUM_STR_VALUE,
	OM_GEOMETRY_TYPE,
	OM_SIMPLE_PRIMARY_KEY,
	OM_PRIMARY_KEY_WITH_PREFIX,
	OM_ENUM_AND_SET_DEFAULT_CHARSET,
	OM_ENUM_AND_SET_COLUMN_CHARSET,
	OM_COLUMN_VISIBILITY,
	OM_VECTOR_DIMENSIONALITY,
};

/* MariaDB's compressed columns (COMPRESSED attribute). */

void
b2a_table_free(struct b2a_table *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].avro);
		free(t->cols[i].cdc_type);
		for (j = 0; j < t->cols[i].nsymbols; j++)
			free(t->cols[i].symbols[j]);
		free(t->cols[i].symbols);
	}
	free(t->cols);
	free(t->pk);
	free(t->db);
	free(t->name);
	free(t->topic);
	free(t->key_schema);
	free(t->value_schema);
	free(t->partial_schema);
	free(t->raw);
	free(t);
}

void
b2a_table_unfinish(struct b2a_table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].avro);
		free(t->cols[i].cdc_type);
		t->cols[i].avro = t->cols[i].cdc_type = NULL;
		t->cols[i].kind = K_INT;
		t->cols[i].zero_date_null = t->cols[i].convert = 0;
		t->cols[i].rule = R_KEEP;
	}
	t->rules = NULL;
	free(t->topic);
	free(t->key_schema);
	free(t->value_schema);
	free(t->partial_schema);
	t->topic = t->key_schema = t->value_schema = t->partial_schema = NULL;
	t->key_fp = t->value_fp = t->partial_fp = 0;
}

/* Columns with a bit in SIGNEDNESS. MariaDB counts YEAR too (its field
 * type derives from TINYINT); MySQL does not. */
static int is_mariadb;

static int
is_numeric(uint8_t type)
{
	if (type == MT_YEAR)
		return is_mariadb;
	return (b2a_types[type].flags & TF_SIGNED) != 0;
}

static int
is_character(uint8_t type)
{
	return (b2a_types[type].flags & TF_CHARSET) != 0;
}

static int
is_enum_set(uint8_t type)
{
	return (b2a_types[type].flags & TF_SYMBOLS) != 0;
}

/* Reads the type metadata of one column; STRING columns reveal their real
 * type (CHAR, ENUM or SET) here. */
static void
read_meta(struct b2a_column *c, const uint8_t *m)
{
	uint8_t b0, b1;

	switch (b2a_types[c->type].meta) {
	case META_BYTE:
		c->meta = m[0];
		break;
	case META_LE16:
		c->meta = (uint16_t)(m[0] | (m[1] << 8));
		break;
	case META_BE16:
		c->meta = (uint16_t)((m[0] << 8) | m[1]);
		break;
	case META_STRING:
		b0 = m[0];
		b1 = m[1];
		if ((b0 & 0x30) != 0x30) {
			/* Lengths above 255 borrow two bits. */
			c->meta = (uint16_t)(b1 | (((b0 & 0x30) ^ 0x30) << 4));
			b0 |= 0x30;
		} else {
			c->meta = b1;
		}
		if (b2a_types[b0].flags & TF_SYMBOLS) {
			c->type = b0;
			c->meta = b1; /* bytes of the stored value */
		}
		break;
	default:
		c->meta = 0;
	}
}

static char *
sanitise(const char *s)
{
	struct cdc_buf b;
	const char *p;

	cdc_buf_init(&b);
	if (s[0] >= '0' && s[0] <= '9')
		cdc_buf_putc(&b, '_');
	for (p = s; *p != '\0'; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_')
			cdc_buf_putc(&b, c);
		else
			cdc_buf_putc(&b, '_');
	}
	if (b.len == 0)
		cdc_buf_putc(&b, '_');
	cdc_buf_putc(&b, '\0');
	return (char *)b.p;
}

static char *
topic_name(const char *prefix, const char *db, const char *table)
{
	struct cdc_buf b;
	const char *parts[3] = {prefix, db, table}, *p;
	int i;

	cdc_buf_init(&b);
	for (i = 0; i < 3; i++) {
		if (i > 0)
			cdc_buf_putc(&b, '.');
		for (p = parts[i]; *p != '\0'; p++) {
			char c = *p;

			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			    c == '-')
				cdc_buf_putc(&b, c);
			else
				cdc_buf_putc(&b, '_');
		}
	}
	cdc_buf_putc(&b, '\0');
	return (char *)b.p;
}

/* Picks the decoding kind and the MySQL type text of a column, by its
 * row of the type table. */
static int
classify(struct b2a_column *c, char *err, size_t errlen)
{
	const struct b2a_type *ty = &b2a_types[c->type];
	struct cdc_buf t;

	/* Fractional seconds have at most 6 digits; more is a corrupt table
	 * map, and would overrun the decoders' digit buffers. */
	if ((ty->flags & TF_FSP) && c->meta > 6)
		return cdc_err(err, errlen, "column '%s': fractional seconds "
		    "precision %d (at most 6)", c->name, c->meta);
	if (ty->classify == NULL)
		return cdc_err(err, errlen,
		    "column '%s' has type %d, which binlog2avro cannot decode",
		    c->name, c->type);
	cdc_buf_init(&t);
	if (ty->classify(c, &t, err, errlen) == -1) {
		cdc_buf_fini(&t);
		return -1;
	}
	cdc_buf_putc(&t, '\0');
	c->cdc_type = (char *)t.p;
	return 0;
}

/* Reads a bitmap field of the optional metadata, MSB first. */
static int
bit_at(const uint8_t *p, size_t n, size_t i)
{
	return i / 8 < n && (p[i / 8] & (0x80 >> (i % 8))) != 0;
}

/* Reads "packed count, then count packed-length strings" into a column. */
static int
read_strings(struct b2a_column *c, const uint8_t **p, const uint8_t *end)
{
	uint64_t n, len, i;

	if (b2a_packed(p, end, &n) == -1 || n > (uint64_t)(end - *p))
		return -1;
	c->symbols = cdc_xcalloc((size_t)n, sizeof(char *));
	c->nsymbols = (size_t)n;
	for (i = 0; i < n; i++) {
		if (b2a_packed(p, end, &len) == -1 ||
		    len > (uint64_t)(end - *p))
			return -1;
		c->symbols[i] = cdc_xstrndup((const char *)*p, (size_t)len);
		*p += len;
	}
	return 0;
}

/* Applies DEFAULT_CHARSET-style metadata to the columns that pass want(). */
static int
read_charsets(struct b2a_table *t, const uint8_t *p, const uint8_t *end,
    int per_column, int (*want)(uint8_t))
{
	uint64_t def, idx, coll;
	size_t i, k = 0;

	if (per_column) {
		for (i = 0; i < t->ncols; i++) {
			if (!want(t->cols[i].type))
				continue;
			if (b2a_packed(&p, end, &coll) == -1)
				return -1;
			t->cols[i].collation = (int)coll;
		}
		return 0;
	}
	if (b2a_packed(&p, end, &def) == -1)
		return -1;
	for (i = 0; i < t->ncols; i++)
		if (want(t->cols[i].type))
			t->cols[i].collation = (int)def;
	while (p < end) {
		if (b2a_packed(&p, end, &idx) == -1 ||
		    b2a_packed(&p, end, &coll) == -1)
			return -1;
		for (i = 0, k = 0; i < t->ncols; i++) {
			if (!want(t->cols[i].type))
				continue;
			if (k++ == idx) {
				t->cols[i].collation = (int)coll;
				break;
			}
		}
	}
	return 0;
}

static int
is_enum_col(uint8_t type)
{
	return type == MT_ENUM;
}

static int
is_set_col(uint8_t type)
{
	return type == MT_SET;
}

static int
read_optional(struct b2a_table *t, const uint8_t *p, const uint8_t *end,
    char *err, size_t errlen)
{
	uint8_t type;
	uint64_t len, v, prefix;
	const uint8_t *q, *fend;
	size_t i, k;

	while (p < end) {
		type = *p++;
		if (b2a_packed(&p, end, &len) == -1 ||
		    len > (uint64_t)(end - p))
			return cdc_err(err, errlen,
			    "optional metadata %d runs past the event", type);
		q = p;
		fend = p + len;
		p = fend;
		switch (type) {
		case OM_SIGNEDNESS:
			for (i = 0, k = 0; i < t->ncols; i++)
				if (is_numeric(t->cols[i].type))
					t->cols[i].is_unsigned =
					    bit_at(q, (size_t)len, k++);
			t->signedness = 1;
			break;
		case OM_DEFAULT_CHARSET:
		case OM_COLUMN_CHARSET:
			if (read_charsets(t, q, fend,
				type == OM_COLUMN_CHARSET, is_character) == -1)
				goto bad;
			break;
		case OM_ENUM_AND_SET_DEFAULT_CHARSET:
		case OM_ENUM_AND_SET_COLUMN_CHARSET:
			if (read_charsets(t, q, fend,
				type == OM_ENUM_AND_SET_COLUMN_CHARSET,
				is_enum_set) == -1)
				goto bad;
			break;
		case OM_COLUMN_NAME:
			for (i = 0; i < t->ncols; i++) {
				if (b2a_packed(&q, fend, &v) == -1 ||
				    v > (uint64_t)(fend - q))
					goto bad;
				free(t->cols[i].name);
				t->cols[i].name = cdc_xstrndup(
				    (const char *)q, (size_t)v);
				q += v;
			}
			t->named = 1;
			break;
		case OM_SET_STR_VALUE:
		case OM_ENUM_STR_VALUE:
			for (i = 0; i < t->ncols; i++) {
				if (!(type == OM_SET_STR_VALUE ?
					is_set_col : is_enum_col)(
					t->cols[i].type))
					continue;
				if (read_strings(&t->cols[i], &q, fend) == -1)
					goto bad;
			}
			break;
		case OM_SIMPLE_PRIMARY_KEY:
		case OM_PRIMARY_KEY_WITH_PREFIX:
			while (q < fend) {
				if (b2a_packed(&q, fend, &v) == -1 ||
				    v >= t->ncols)
					goto bad;
				if (type == OM_PRIMARY_KEY_WITH_PREFIX &&
				    b2a_packed(&q, fend, &prefix) == -1)
					goto bad;
				t->pk = cdc_xrealloc(t->pk,
				    (t->npk + 1) * sizeof(int));
				t->pk[t->npk++] = (int)v;
				t->cols[v].key = (int)t->npk;
			}
			break;
		default:
			/* GEOMETRY_TYPE, COLUMN_VISIBILITY,
			 * VECTOR_DIMENSIONALITY and newer fields change
			 * nothing in how values decode. */
			break;
		}
	}
	return 0;
bad:
	return cdc_err(err, errlen, "malformed optional metadata %d", type);
}

/* Appends the Avro type of a column (without nullability). */
static void
put_type(struct cdc_buf *b, const struct b2a_column *c, int *geometry_seen)
{
	size_t i;

	switch (c->kind) {
	case K_INT:
		cdc_buf_puts(b, "\"int\"");
		break;
	case K_LONG:
		cdc_buf_puts(b, "\"long\"");
		break;
	case K_ULONG:
	case K_DECIMAL: {
		int p = c->kind == K_ULONG ? 20 : c->meta >> 8;
		int s = c->kind == K_ULONG ? 0 : c->meta & 0xff;

		cdc_buf_printf(b,
		    "{\"type\":\"bytes\",\"logicalType\":\"decimal\","
		    "\"precision\":%d,\"scale\":%d,\"connect.version\":1,"
		    "\"connect.parameters\":{\"scale\":\"%d\","
		    "\"connect.decimal.precision\":\"%d\"},\"connect.name\":"
		    "\"org.apache.kafka.connect.data.Decimal\"}",
		    p, s, s, p);
		break;
	}
	case K_FLOAT:
		cdc_buf_puts(b, "\"float\"");
		break;
	case K_DOUBLE:
		cdc_buf_puts(b, "\"double\"");
		break;
	case K_BOOL:
		cdc_buf_puts(b, "\"boolean\"");
		break;
	case K_BITS:
		cdc_buf_printf(b,
		    "{\"type\":\"bytes\",\"connect.version\":1,"
		    "\"connect.parameters\":{\"length\":\"%d\"},"
		    "\"connect.name\":\"io.debezium.data.Bits\"}",
		    (c->meta & 0xff) * 8 + (c->meta >> 8));
		break;
	case K_YEAR:
		cdc_buf_puts(b, "{\"type\":\"int\",\"connect.version\":1,"
				"\"connect.name\":\"io.debezium.time.Year\"}");
		break;
	case K_DATE:
		cdc_buf_puts(b, "{\"type\":\"int\",\"logicalType\":\"date\","
				"\"connect.version\":1,\"connect.name\":"
				"\"io.debezium.time.Date\"}");
		break;
	case K_TIME:
		cdc_buf_puts(b, "{\"type\":\"long\",\"connect.version\":1,"
				"\"connect.name\":"
				"\"io.debezium.time.MicroTime\"}");
		break;
	case K_DATETIME_MS:
		cdc_buf_puts(b, "{\"type\":\"long\",\"logicalType\":"
				"\"timestamp-millis\",\"connect.version\":1,"
				"\"connect.name\":"
				"\"io.debezium.time.Timestamp\"}");
		break;
	case K_DATETIME_US:
		cdc_buf_puts(b, "{\"type\":\"long\",\"logicalType\":"
				"\"timestamp-micros\",\"connect.version\":1,"
				"\"connect.name\":"
				"\"io.debezium.time.MicroTimestamp\"}");
		break;
	case K_TIMESTAMP:
		cdc_buf_puts(b, "{\"type\":\"string\",\"connect.version\":1,"
				"\"connect.name\":"
				"\"io.debezium.time.ZonedTimestamp\"}");
		break;
	case K_STRING:
		cdc_buf_puts(b, "\"string\"");
		break;
	case K_BYTES:
		cdc_buf_puts(b, "\"bytes\"");
		break;
	case K_ENUM:
	case K_SET:
		cdc_buf_puts(b, "{\"type\":\"string\",\"connect.version\":1,"
				"\"connect.parameters\":{\"allowed\":");
		{
			struct cdc_buf a;

			cdc_buf_init(&a);
			for (i = 0; i < c->nsymbols; i++) {
				if (i > 0)
					cdc_buf_putc(&a, ',');
				cdc_buf_puts(&a, c->symbols[i]);
			}
			cdc_json_str(b, a.p, a.len, 0);
			cdc_buf_fini(&a);
		}
		cdc_buf_printf(b, "},\"connect.name\":\"io.debezium.data.%s\"}",
		    c->kind == K_ENUM ? "Enum" : "EnumSet");
		break;
	case K_JSON:
		cdc_buf_puts(b, "{\"type\":\"string\",\"connect.version\":1,"
				"\"connect.name\":\"io.debezium.data.Json\"}");
		break;
	case K_GEOMETRY:
		if (*geometry_seen) {
			cdc_buf_puts(b,
			    "\"io.debezium.data.geometry.Geometry\"");
			break;
		}
		*geometry_seen = 1;
		cdc_buf_puts(b,
		    "{\"type\":\"record\",\"name\":\"Geometry\",\"namespace\":"
		    "\"io.debezium.data.geometry\",\"fields\":["
		    "{\"name\":\"wkb\",\"type\":\"bytes\"},"
		    "{\"name\":\"srid\",\"type\":[\"null\",\"int\"],"
		    "\"default\":null}],\"connect.version\":1,\"connect.name\":"
		    "\"io.debezium.data.geometry.Geometry\"}");
		break;
	case K_VECTOR:
		cdc_buf_puts(b, "{\"type\":\"array\",\"items\":\"float\","
				"\"connect.version\":1,\"connect.name\":"
				"\"io.debezium.data.FloatVector\"}");
		break;
	}
}

static int
avro_nullable(const struct b2a_column *c)
{
	return c->nullable || c->zero_date_null;
}

/* One field of a Value or Key record. partial: the Absent branch first. */
static void
put_field(struct cdc_buf *b, const struct b2a_column *c, int partial,
    int *geometry_seen, int *absent_seen)
{
	cdc_buf_puts(b, "{\"name\":");
	cdc_json_str(b, (const uint8_t *)c->avro, strlen(c->avro), 0);
	cdc_buf_puts(b, ",\"type\":");
	if (partial || avro_nullable(c))
		cdc_buf_putc(b, '[');
	if (partial) {
		if (*absent_seen) {
			cdc_buf_puts(b, "\"cdc.stream.Absent\",");
		} else {
			cdc_buf_puts(b, "{\"type\":\"enum\",\"name\":\"Absent\","
					"\"namespace\":\"cdc.stream\",\"symbols\":"
					"[\"ABSENT\"]},");
			*absent_seen = 1;
		}
	}
	if (avro_nullable(c))
		cdc_buf_puts(b, "\"null\",");
	if (c->rule == R_HASH || c->rule == R_MASK)
		cdc_buf_puts(b, "\"string\"");
	else
		put_type(b, c, geometry_seen);
	if (partial || avro_nullable(c))
		cdc_buf_putc(b, ']');
	if (avro_nullable(c) && !partial)
		cdc_buf_puts(b, ",\"default\":null");
	cdc_buf_puts(b, ",\"cdc.name\":");
	cdc_json_str(b, (const uint8_t *)c->name, strlen(c->name), 0);
	cdc_buf_puts(b, ",\"cdc.type\":");
	cdc_json_str(b, (const uint8_t *)c->cdc_type, strlen(c->cdc_type), 0);
	if (c->key > 0)
		cdc_buf_printf(b, ",\"cdc.key\":%d", c->key);
	if (c->rule == R_HASH || c->rule == R_MASK)
		cdc_buf_printf(b, ",\"cdc.masked\":\"%s\"",
		    c->rule == R_HASH ? "sha256" : "fixed");
	cdc_buf_putc(b, '}');
}

static void
put_ns(struct cdc_buf *b, const char *prefix, const struct b2a_table *t)
{
	char *p = sanitise(prefix), *d = sanitise(t->db), *n = sanitise(t->name);

	cdc_buf_printf(b, "\"%s.%s.%s\"", p, d, n);
	free(p);
	free(d);
	free(n);
}

static char *
value_schema(const struct b2a_table *t, const char *prefix, int partial)
{
	struct cdc_buf b;
	int geometry_seen = 0, absent_seen = 0, first = 1;
	size_t i;

	cdc_buf_init(&b);
	cdc_buf_puts(&b, "{\"type\":\"record\",\"name\":\"Envelope\","
			 "\"namespace\":");
	put_ns(&b, prefix, t);
	cdc_buf_puts(&b, ",\"cdc.database\":");
	cdc_json_str(&b, (const uint8_t *)t->db, strlen(t->db), 0);
	cdc_buf_puts(&b, ",\"cdc.table\":");
	cdc_json_str(&b, (const uint8_t *)t->name, strlen(t->name), 0);
	if (partial)
		cdc_buf_puts(&b, ",\"cdc.partial\":true");
	cdc_buf_puts(&b, ",\"connect.name\":");
	cdc_buf_printf(&b, "\"%s.Envelope\"", t->topic);
	cdc_buf_puts(&b, ",\"fields\":[{\"name\":\"before\",\"type\":[\"null\","
			 "{\"type\":\"record\",\"name\":\"Value\",\"fields\":[");
	for (i = 0; i < t->ncols; i++) {
		if (t->cols[i].rule == R_DROP)
			continue;
		if (!first)
			cdc_buf_putc(&b, ',');
		first = 0;
		put_field(&b, &t->cols[i], partial, &geometry_seen,
		    &absent_seen);
	}
	cdc_buf_puts(&b, "]}],\"default\":null},"
			 "{\"name\":\"after\",\"type\":[\"null\",\"Value\"],"
			 "\"default\":null},"
			 "{\"name\":\"source\",\"type\":{\"type\":\"record\","
			 "\"name\":\"Source\",\"namespace\":"
			 "\"io.debezium.connector.mysql\",\"fields\":["
			 "{\"name\":\"version\",\"type\":\"string\"},"
			 "{\"name\":\"connector\",\"type\":\"string\"},"
			 "{\"name\":\"name\",\"type\":\"string\"},"
			 "{\"name\":\"ts_ms\",\"type\":\"long\"},"
			 "{\"name\":\"snapshot\",\"type\":[{\"type\":\"string\","
			 "\"connect.version\":1,\"connect.parameters\":"
			 "{\"allowed\":\"true,last,false,incremental\"},"
			 "\"connect.default\":\"false\",\"connect.name\":"
			 "\"io.debezium.data.Enum\"},\"null\"],"
			 "\"default\":\"false\"},"
			 "{\"name\":\"db\",\"type\":\"string\"},"
			 "{\"name\":\"sequence\",\"type\":[\"null\",\"string\"],"
			 "\"default\":null},"
			 "{\"name\":\"table\",\"type\":[\"null\",\"string\"],"
			 "\"default\":null},"
			 "{\"name\":\"server_id\",\"type\":\"long\"},"
			 "{\"name\":\"gtid\",\"type\":[\"null\",\"string\"],"
			 "\"default\":null},"
			 "{\"name\":\"file\",\"type\":\"string\"},"
			 "{\"name\":\"pos\",\"type\":\"long\"},"
			 "{\"name\":\"row\",\"type\":\"int\"},"
			 "{\"name\":\"thread\",\"type\":[\"null\",\"long\"],"
			 "\"default\":null},"
			 "{\"name\":\"query\",\"type\":[\"null\",\"string\"],"
			 "\"default\":null}],"
			 "\"connect.name\":"
			 "\"io.debezium.connector.mysql.Source\"}},"
			 "{\"name\":\"op\",\"type\":\"string\"},"
			 "{\"name\":\"ts_ms\",\"type\":[\"null\",\"long\"],"
			 "\"default\":null},"
			 "{\"name\":\"transaction\",\"type\":[\"null\","
			 "{\"type\":\"record\",\"name\":\"block\",\"namespace\":"
			 "\"event\",\"fields\":["
			 "{\"name\":\"id\",\"type\":\"string\"},"
			 "{\"name\":\"total_order\",\"type\":\"long\"},"
			 "{\"name\":\"data_collection_order\",\"type\":\"long\"}],"
			 "\"connect.version\":1,\"connect.name\":"
			 "\"event.block\"}],\"default\":null}]}");
	cdc_buf_putc(&b, '\0');
	return (char *)b.p;
}

static char *
key_schema(const struct b2a_table *t, const char *prefix)
{
	struct cdc_buf b;
	int geometry_seen = 0, absent_seen = 0;
	size_t i;

	cdc_buf_init(&b);
	cdc_buf_puts(&b, "{\"type\":\"record\",\"name\":\"Key\","
			 "\"namespace\":");
	put_ns(&b, prefix, t);
	cdc_buf_printf(&b, ",\"connect.name\":\"%s.Key\",\"fields\":[",
	    t->topic);
	for (i = 0; i < t->npk; i++) {
		if (i > 0)
			cdc_buf_putc(&b, ',');
		put_field(&b, &t->cols[t->pk[i]], 0, &geometry_seen,
		    &absent_seen);
	}
	cdc_buf_puts(&b, "]}");
	cdc_buf_putc(&b, '\0');
	return (char *)b.p;
}

/* Gives every column a distinct Avro name. */
static void
name_columns(struct b2a_table *t)
{
	size_t i, j;
	int n;

	for (i = 0; i < t->ncols; i++) {
		char *base = sanitise(t->cols[i].name), *name;

		name = cdc_xstrdup(base);
		for (n = 2;; n++) {
			for (j = 0; j < i; j++)
				if (strcmp(t->cols[j].avro, name) == 0)
					break;
			if (j == i)
				break;
			free(name);
			name = cdc_xmalloc(strlen(base) + 16);
			snprintf(name, strlen(base) + 16, "%s_%d", base, n);
		}
		free(base);
		t->cols[i].avro = name;
	}
}

int
b2a_table_finish(struct b2a_table *t, const struct b2a_options *o,
    char *err, size_t errlen)
{
	const char *prefix = o->prefix;
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		if (t->cols[i].type == MT_BLOB_COMPRESSED ||
		    t->cols[i].type == MT_VARCHAR_COMPRESSED)
			return cdc_err(err, errlen, "table '%s.%s': column '%s' "
			    "uses MariaDB column compression, which "
			    "binlog2avro does not decode", t->db, t->name,
			    t->cols[i].name);
		if (classify(&t->cols[i], err, errlen) == -1)
			return -1;
		t->cols[i].convert = t->cols[i].collation >= 0 &&
		    b2a_charset(t->cols[i].collation, NULL, NULL) == CS_ICONV;
	}
	if (b2a_columns_rules(t, o, err, errlen) == -1)
		return -2;
	name_columns(t);
	t->topic = topic_name(prefix, t->db, t->name);
	t->value_schema = value_schema(t, prefix, 0);
	t->partial_schema = value_schema(t, prefix, 1);
	if (cdc_schema_fingerprint(t->value_schema, strlen(t->value_schema),
		&t->value_fp, err, errlen) == -1 ||
	    cdc_schema_fingerprint(t->partial_schema,
		strlen(t->partial_schema), &t->partial_fp, err, errlen) == -1)
		return -1;
	if (t->npk > 0) {
		t->key_schema = key_schema(t, prefix);
		if (cdc_schema_fingerprint(t->key_schema,
			strlen(t->key_schema), &t->key_fp, err, errlen) == -1)
			return -1;
	}
	return 0;
}

struct b2a_table *
b2a_table_parse(const uint8_t *p, size_t n, int id6, int mariadb,
    const struct b2a_options *o, int *rule, char *err, size_t errlen)
{
	const uint8_t *end = p + n, *types, *meta, *nulls;
	struct b2a_table *t;
	uint64_t ncols, metalen;
	size_t i, len;
	char name[32];

	t = cdc_xcalloc(1, sizeof(*t));
	t->raw = cdc_xmalloc(n);
	memcpy(t->raw, p, n);
	t->rawlen = n;
	if (n < (size_t)(id6 ? 8 : 6))
		goto short_;
	t->id = b2a_le(p, id6 ? 6 : 4);
	p += id6 ? 8 : 6;
	if (p >= end || (size_t)(end - p) < (size_t)p[0] + 2)
		goto short_;
	len = p[0];
	t->db = cdc_xstrndup((const char *)p + 1, len);
	p += len + 2;
	if (p >= end || (size_t)(end - p) < (size_t)p[0] + 2)
		goto short_;
	len = p[0];
	t->name = cdc_xstrndup((const char *)p + 1, len);
	p += len + 2;
	if (b2a_packed(&p, end, &ncols) == -1 || ncols > 4096 ||
	    ncols > (uint64_t)(end - p))
		goto short_;
	t->ncols = (size_t)ncols;
	t->cols = cdc_xcalloc(t->ncols, sizeof(*t->cols));
	types = p;
	p += t->ncols;
	if (b2a_packed(&p, end, &metalen) == -1 ||
	    metalen > (uint64_t)(end - p))
		goto short_;
	meta = p;
	p += metalen;
	if ((size_t)(end - p) < (t->ncols + 7) / 8)
		goto short_;
	nulls = p;
	p += (t->ncols + 7) / 8;
	for (i = 0; i < t->ncols; i++) {
		struct b2a_column *c = &t->cols[i];
		int ms = b2a_meta_len(types[i]);

		c->type = types[i];
		c->collation = -1;
		c->nullable = (nulls[i / 8] >> (i % 8)) & 1;
		if (meta + ms > p - (t->ncols + 7) / 8) {
			cdc_err(err, errlen, "table map of '%s.%s': column "
			    "metadata runs short", t->db, t->name);
			goto fail;
		}
		read_meta(c, meta);
		meta += ms;
		snprintf(name, sizeof(name), "col_%zu", i + 1);
		c->name = cdc_xstrdup(name);
	}
	is_mariadb = mariadb;
	*rule = 0;
	if (read_optional(t, p, end, err, errlen) == -1)
		goto fail;
	switch (b2a_table_finish(t, o, err, errlen)) {
	case -2:
		*rule = 1;
		/* FALLTHROUGH */
	case -1:
		goto fail;
	}
	return t;
short_:
	cdc_err(err, errlen, "truncated table map event");
fail:
	b2a_table_free(t);
	return NULL;
}
