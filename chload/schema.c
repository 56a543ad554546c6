/* Compiles a table's value schema (the Envelope of docs/stream.md section 4)
 * once per fingerprint into what the row codec needs: a tree of Avro nodes
 * to walk and skip, and per column its MySQL name, its ClickHouse type
 * (section 4.3 mapped as docs/chload.md says) and how to convert a value.
 * jansson is used here only, never per row. */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chload.h"
#include "log.h"

struct named {
	char *name;
	struct av_node *node;
	json_t *json;
};

struct compiler {
	struct tschema *s;
	struct named *named;
	size_t nnamed;
	int depth;
	char *err;
	size_t errlen;
};

static struct av_node *
new_node(struct compiler *c, enum av_kind kind)
{
	struct av_node *n = cdc_xcalloc(1, sizeof(*n));
	struct tschema *s = c->s;

	n->kind = kind;
	s->nodes = cdc_xrealloc(s->nodes, (s->nnodes + 1) * sizeof(*s->nodes));
	s->nodes[s->nnodes++] = n;
	return n;
}

static void
add_child(struct av_node *n, struct av_node *ch)
{
	n->child = cdc_xrealloc(n->child, (n->n + 1) * sizeof(*n->child));
	n->child[n->n++] = ch;
}

static char *
full_name(const char *name, const char *ns)
{
	struct cdc_buf b;

	if (strchr(name, '.') != NULL || ns == NULL || *ns == '\0')
		return cdc_xstrdup(name);
	cdc_buf_init(&b);
	cdc_buf_printf(&b, "%s.%s", ns, name);
	cdc_buf_putc(&b, '\0');
	return (char *)b.p;
}

static struct named *
lookup(struct compiler *c, const char *name, const char *ns)
{
	char *full = full_name(name, ns);
	size_t i;

	for (i = 0; i < c->nnamed; i++) {
		if (strcmp(c->named[i].name, full) == 0 ||
		    strcmp(c->named[i].name, name) == 0) {
			free(full);
			return &c->named[i];
		}
	}
	free(full);
	return NULL;
}

static void
define(struct compiler *c, const char *full, struct av_node *n, json_t *j)
{
	c->named = cdc_xrealloc(c->named, (c->nnamed + 1) * sizeof(*c->named));
	c->named[c->nnamed].name = cdc_xstrdup(full);
	c->named[c->nnamed].node = n;
	c->named[c->nnamed].json = j;
	c->nnamed++;
}

static int
primitive(const char *t, enum av_kind *k)
{
	static const struct {
		const char *name;
		enum av_kind kind;
	} p[] = {
	    {"null", AV_NULL}, {"boolean", AV_BOOLEAN}, {"int", AV_INT},
	    {"long", AV_LONG}, {"float", AV_FLOAT}, {"double", AV_DOUBLE},
	    {"bytes", AV_BYTES}, {"string", AV_STRING},
	};
	size_t i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		if (strcmp(t, p[i].name) == 0) {
			*k = p[i].kind;
			return 1;
		}
	}
	return 0;
}

/* Resolves a named reference to its JSON definition (or returns t). */
static json_t *
resolve(struct compiler *c, json_t *t, const char *ns)
{
	struct named *nd;
	enum av_kind k;

	if (json_is_string(t) && !primitive(json_string_value(t), &k)) {
		nd = lookup(c, json_string_value(t), ns);
		if (nd != NULL)
			return nd->json;
	}
	return t;
}

static struct av_node *build(struct compiler *c, json_t *t, const char *ns);

static struct av_node *
build_object(struct compiler *c, json_t *t, const char *ns)
{
	const char *type = json_string_value(json_object_get(t, "type"));
	const char *name = json_string_value(json_object_get(t, "name"));
	const char *tns = json_string_value(json_object_get(t, "namespace"));
	struct av_node *n;
	enum av_kind k;
	json_t *fields, *f;
	char *full;
	size_t i;

	if (type == NULL)
		return build(c, json_object_get(t, "type"), ns);
	if (primitive(type, &k))
		return new_node(c, k);
	if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
		n = new_node(c, type[0] == 'a' ? AV_ARRAY : AV_MAP);
		f = json_object_get(t, type[0] == 'a' ? "items" : "values");
		add_child(n, build(c, f, ns));
		return n->child[0] != NULL ? n : NULL;
	}
	if (name == NULL) {
		cdc_err(c->err, c->errlen, "a %s type without a name", type);
		return NULL;
	}
	full = full_name(name, tns != NULL ? tns : ns);
	if (strcmp(type, "fixed") == 0) {
		n = new_node(c, AV_FIXED);
		n->size = (size_t)json_integer_value(json_object_get(t, "size"));
	} else if (strcmp(type, "enum") == 0) {
		n = new_node(c, AV_ENUM);
	} else if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
		n = new_node(c, AV_RECORD);
	} else {
		cdc_err(c->err, c->errlen, "unknown Avro type '%s'", type);
		free(full);
		return NULL;
	}
	define(c, full, n, t);
	if (n->kind == AV_RECORD) {
		/* The record's namespace is that of its full name. */
		char *dot = strrchr(full, '.');
		char *rns = dot != NULL ? cdc_xstrndup(full, (size_t)(dot - full))
					: NULL;

		fields = json_object_get(t, "fields");
		json_array_foreach(fields, i, f)
		{
			struct av_node *ch = build(c, json_object_get(f, "type"),
			    rns);

			if (ch == NULL) {
				free(rns);
				free(full);
				return NULL;
			}
			add_child(n, ch);
		}
		free(rns);
	}
	free(full);
	return n;
}

static struct av_node *
build(struct compiler *c, json_t *t, const char *ns)
{
	struct av_node *n = NULL;
	struct named *nd;
	enum av_kind k;
	json_t *b;
	size_t i;

	if (++c->depth > 64) {
		cdc_err(c->err, c->errlen, "schema nested too deeply");
		goto out;
	}
	if (json_is_string(t)) {
		if (primitive(json_string_value(t), &k)) {
			n = new_node(c, k);
		} else {
			nd = lookup(c, json_string_value(t), ns);
			if (nd != NULL)
				n = nd->node;
			else
				cdc_err(c->err, c->errlen, "unknown type name '%s'",
				    json_string_value(t));
		}
	} else if (json_is_array(t)) {
		n = new_node(c, AV_UNION);
		json_array_foreach(t, i, b)
		{
			struct av_node *ch = build(c, b, ns);

			if (ch == NULL) {
				n = NULL;
				break;
			}
			add_child(n, ch);
		}
	} else if (json_is_object(t)) {
		n = build_object(c, t, ns);
	} else {
		cdc_err(c->err, c->errlen, "not an Avro schema");
	}
out:
	c->depth--;
	return n;
}

/* ---- Type mapping ----------------------------------------------------- */

static const char *
str_attr(json_t *t, const char *key)
{
	return json_is_object(t) ? json_string_value(json_object_get(t, key))
				 : NULL;
}

static int
starts(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The number in parentheses of a MySQL type ("datetime(6)"), or def. */
static int
type_arg(const char *ct, int def)
{
	const char *p = ct != NULL ? strchr(ct, '(') : NULL;

	if (p == NULL || !isdigit((unsigned char)p[1]))
		return def;
	return (int)strtol(p + 1, NULL, 10);
}

static void
add_sym(struct col *cl, const char *s, size_t n)
{
	cl->sym = cdc_xrealloc(cl->sym, (cl->nsym + 1) * sizeof(*cl->sym));
	cl->symlen = cdc_xrealloc(cl->symlen,
	    (cl->nsym + 1) * sizeof(*cl->symlen));
	cl->sym[cl->nsym] = cdc_xstrndup(s, n);
	cl->symlen[cl->nsym] = n;
	cl->nsym++;
}

/* The symbols of enum('a','b''c') as MySQL writes the column type. */
static int
enum_from_type(struct col *cl, const char *ct)
{
	const char *p = strchr(ct, '(');
	struct cdc_buf b;

	if (p == NULL)
		return -1;
	p++;
	cdc_buf_init(&b);
	for (;;) {
		if (*p != '\'')
			goto bad;
		p++;
		b.len = 0;
		for (;;) {
			if (*p == '\0')
				goto bad;
			if (*p == '\'' && p[1] == '\'') {
				cdc_buf_putc(&b, '\'');
				p += 2;
			} else if (*p == '\'') {
				p++;
				break;
			} else {
				cdc_buf_putc(&b, *p++);
			}
		}
		add_sym(cl, b.len > 0 ? (const char *)b.p : "", b.len);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ')')
			break;
		goto bad;
	}
	cdc_buf_fini(&b);
	return 0;
bad:
	cdc_buf_fini(&b);
	return -1;
}

static void
enum_from_allowed(struct col *cl, const char *allowed)
{
	const char *p = allowed, *q;

	for (;;) {
		q = strchr(p, ',');
		add_sym(cl, p, q != NULL ? (size_t)(q - p) : strlen(p));
		if (q == NULL)
			break;
		p = q + 1;
	}
}

static void
free_syms(struct col *cl)
{
	size_t i;

	for (i = 0; i < cl->nsym; i++)
		free(cl->sym[i]);
	free(cl->sym);
	free(cl->symlen);
	cl->sym = NULL;
	cl->symlen = NULL;
	cl->nsym = 0;
}

static char *
xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = cdc_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* DATETIME(prec) and TIMESTAMP(prec): DateTime64(prec) where the server
 * has it; before 20.1, DateTime for whole seconds and, since DateTime has
 * no fraction, Decimal(18, prec) seconds since the epoch for the others. */
static char *
datetime_type(const struct ch_caps *caps, struct col *cl, int prec)
{
	if (prec < 0 || prec > 6)
		prec = 6;
	cl->scale = prec;
	if (caps->datetime64) {
		cl->rep = REP_DT64;
		return xprintf("DateTime64(%d, 'UTC')", prec);
	}
	if (prec > 0) {
		cl->rep = REP_DECIMAL;
		return xprintf("Decimal(18, %d)", prec);
	}
	cl->rep = REP_DATETIME;
	return cdc_xstrdup("DateTime('UTC')");
}

char *
col_wide_type(const struct col *cl)
{
	char base[32];

	switch (cl->rep) {
	case REP_DATE:
	case REP_DATE32:
		snprintf(base, sizeof(base), "Int32");
		break;
	case REP_DATETIME:
	case REP_DT64:
		snprintf(base, sizeof(base), "Decimal(18, %d)", cl->scale);
		break;
	default:
		return NULL;
	}
	return cl->nullable ? xprintf("Nullable(%s)", base) : cdc_xstrdup(base);
}

void
col_widen(struct col *cl)
{
	char *t = col_wide_type(cl);

	CHL_ASSERT(t != NULL);
	free(cl->chtype);
	cl->chtype = t;
	cl->rep = cl->cv == CV_DATE ? REP_DAYS : REP_DECIMAL;
}

static char *
int_type(struct col *cl, int width, int is_signed)
{
	cl->cv = CV_INT;
	cl->width = width;
	cl->is_signed = is_signed;
	return xprintf("%sInt%d", is_signed ? "" : "U", width * 8);
}

/* The ClickHouse type of a column's value type t (not the union), field
 * attributes in f; sets the conversion in cl. NULL when unsupported. */
static char *
map_type(struct compiler *c, const struct ch_caps *caps, json_t *f,
    json_t *t, struct col *cl)
{
	const char *ct = json_string_value(json_object_get(f, "cdc.type"));
	const char *cn = str_attr(t, "connect.name");
	const char *lt = str_attr(t, "logicalType");
	const char *prim;
	int unsig = ct != NULL && strstr(ct, "unsigned") != NULL;
	int p, sc;

	prim = json_is_string(t) ? json_string_value(t) : str_attr(t, "type");
	if (prim == NULL)
		goto unsupported;
	if (cn == NULL)
		cn = "";
	if (lt == NULL)
		lt = "";
	if (strcmp(cn, "io.debezium.time.Date") == 0 || strcmp(lt, "date") == 0) {
		cl->cv = CV_DATE;
		cl->rep = caps->date32 ? REP_DATE32 : REP_DATE;
		return cdc_xstrdup(caps->date32 ? "Date32" : "Date");
	}
	if (strcmp(cn, "io.debezium.time.Timestamp") == 0 ||
	    strcmp(lt, "timestamp-millis") == 0) {
		cl->cv = CV_TS_MS;
		return datetime_type(caps, cl, type_arg(ct, ct != NULL ? 0 : 3));
	}
	if (strcmp(cn, "io.debezium.time.MicroTimestamp") == 0 ||
	    strcmp(lt, "timestamp-micros") == 0) {
		cl->cv = CV_TS_US;
		return datetime_type(caps, cl, type_arg(ct, ct != NULL ? 0 : 6));
	}
	if (strcmp(cn, "io.debezium.time.ZonedTimestamp") == 0) {
		cl->cv = CV_TS_ISO;
		return datetime_type(caps, cl, type_arg(ct, ct != NULL ? 0 : 6));
	}
	if (strcmp(cn, "io.debezium.time.MicroTime") == 0 ||
	    strcmp(lt, "time-micros") == 0 ||
	    strcmp(cn, "io.debezium.time.Time") == 0 ||
	    strcmp(lt, "time-millis") == 0)
		return int_type(cl, strcmp(prim, "long") == 0 ? 8 : 4, 1);
	if (strcmp(cn, "io.debezium.time.Year") == 0)
		return int_type(cl, 2, 0);
	if (strcmp(cn, "io.debezium.data.Bits") == 0) {
		cl->cv = CV_BITS;
		return cdc_xstrdup("UInt64");
	}
	if (strcmp(cn, "io.debezium.data.Enum") == 0) {
		json_t *params = json_object_get(t, "connect.parameters");
		const char *allowed = str_attr(params, "allowed");
		struct cdc_buf b;
		size_t i;

		add_sym(cl, "", 0);
		if ((ct == NULL || enum_from_type(cl, ct) == -1)) {
			free_syms(cl);
			add_sym(cl, "", 0);
			if (allowed != NULL && *allowed != '\0')
				enum_from_allowed(cl, allowed);
		}
		if (cl->nsym < 2 || cl->nsym > 32768) {
			/* No symbols (a binlog without column metadata):
			 * the value is MySQL's number, as text. */
			cl->numbered = cl->nsym < 2;
			free_syms(cl);
			cl->cv = CV_STRING;
			return cdc_xstrdup("String");
		}
		cl->cv = CV_ENUM;
		cl->width = cl->nsym <= 128 ? 1 : 2;
		cdc_buf_init(&b);
		cdc_buf_printf(&b, "Enum%d(", cl->width * 8);
		for (i = 0; i < cl->nsym; i++) {
			if (i > 0)
				cdc_buf_puts(&b, ", ");
			ch_quote_string(&b, cl->sym[i], cl->symlen[i]);
			cdc_buf_printf(&b, " = %zu", i);
		}
		cdc_buf_puts(&b, ")");
		cdc_buf_putc(&b, '\0');
		return (char *)b.p;
	}
	if (strcmp(cn, "io.debezium.data.EnumSet") == 0) {
		json_t *params = json_object_get(t, "connect.parameters");
		const char *allowed = str_attr(params, "allowed");

		cl->numbered = (ct == NULL || strcmp(ct, "set()") == 0) &&
		    (allowed == NULL || *allowed == '\0');
		cl->cv = CV_STRING;
		return cdc_xstrdup(caps->lowcard ? "LowCardinality(String)" :
						   "String");
	}
	if (strcmp(cn, "io.debezium.data.geometry.Geometry") == 0 ||
	    strcmp(cn, "io.debezium.data.geometry.Point") == 0) {
		cl->cv = CV_GEOMETRY;
		return cdc_xstrdup("Tuple(String, Nullable(Int32))");
	}
	if (strcmp(prim, "array") == 0) {
		json_t *items = resolve(c, json_object_get(t, "items"), NULL);

		if (json_is_string(items) &&
		    strcmp(json_string_value(items), "float") == 0) {
			cl->cv = CV_VECTOR;
			return cdc_xstrdup("Array(Float32)");
		}
		goto unsupported;
	}
	if (strcmp(lt, "decimal") == 0 ||
	    strcmp(cn, "org.apache.kafka.connect.data.Decimal") == 0) {
		p = (int)json_integer_value(json_object_get(t, "precision"));
		sc = (int)json_integer_value(json_object_get(t, "scale"));
		cl->scale = sc;
		if (starts(ct, "bigint") && unsig) {
			cl->cv = CV_DEC_UINT;
			return cdc_xstrdup("UInt64");
		}
		if (p < 1 || sc < 0 || sc > p)
			goto unsupported;
		cl->cv = CV_DECIMAL;
		cl->width = p <= 9 ? 4 : p <= 18 ? 8 : p <= 38 ? 16 : 32;
		if (p > 76 || (p > 38 && !caps->decimal256)) {
			cl->cv = CV_DEC_TEXT;
			return cdc_xstrdup("String");
		}
		return xprintf("Decimal(%d, %d)", p, sc);
	}
	if (strcmp(prim, "boolean") == 0)
		return int_type(cl, 1, 0);
	if (strcmp(prim, "int") == 0) {
		if (starts(ct, "tinyint"))
			return int_type(cl, 1, !unsig);
		if (starts(ct, "smallint"))
			return int_type(cl, 2, !unsig);
		if (starts(ct, "year"))
			return int_type(cl, 2, 0);
		if ((starts(ct, "mediumint") || starts(ct, "int")) && unsig)
			return int_type(cl, 4, 0);
		return int_type(cl, 4, 1);
	}
	if (strcmp(prim, "long") == 0) {
		if ((starts(ct, "int") || starts(ct, "mediumint")) && unsig)
			return int_type(cl, 4, 0);
		return int_type(cl, 8, 1);
	}
	if (strcmp(prim, "float") == 0) {
		cl->cv = CV_FLOAT32;
		return cdc_xstrdup("Float32");
	}
	if (strcmp(prim, "double") == 0) {
		cl->cv = CV_FLOAT64;
		return cdc_xstrdup("Float64");
	}
	if (strcmp(prim, "string") == 0) {
		cl->cv = CV_STRING;
		return cdc_xstrdup("String");
	}
	if (strcmp(prim, "bytes") == 0) {
		if (starts(ct, "binary(") && type_arg(ct, 0) > 0) {
			cl->cv = CV_FIXED;
			cl->size = (size_t)type_arg(ct, 0);
			return xprintf("FixedString(%zu)", cl->size);
		}
		cl->cv = CV_STRING;
		return cdc_xstrdup("String");
	}
	if (strcmp(prim, "fixed") == 0) {
		cl->cv = CV_FIXED;
		cl->size = (size_t)json_integer_value(json_object_get(t, "size"));
		return xprintf("FixedString(%zu)", cl->size);
	}
unsupported:
	cdc_err(c->err, c->errlen, "column '%s': unsupported Avro type '%s'",
	    cl->name, prim != NULL ? prim : "?");
	return NULL;
}

static int
is_absent(json_t *t)
{
	const char *type = str_attr(t, "type");
	const char *name = str_attr(t, "name");
	const char *ns = str_attr(t, "namespace");

	if (json_is_string(t))
		return strcmp(json_string_value(t), "cdc.stream.Absent") == 0;
	if (type == NULL || strcmp(type, "enum") != 0 || name == NULL)
		return 0;
	return strcmp(name, "cdc.stream.Absent") == 0 ||
	    (strcmp(name, "Absent") == 0 && ns != NULL &&
		strcmp(ns, "cdc.stream") == 0);
}

/* Fills column cl from the Value field f whose compiled type is node. */
static int
compile_col(struct compiler *c, const struct ch_caps *caps, json_t *f,
    struct av_node *node, const char *ns, struct col *cl)
{
	const char *name = json_string_value(json_object_get(f, "cdc.name"));
	json_t *t = json_object_get(f, "type"), *b, *vt = NULL;
	char *base;
	size_t i;

	if (name == NULL)
		name = json_string_value(json_object_get(f, "name"));
	cl->name = cdc_xstrdup(name != NULL ? name : "");
	if (json_string_value(json_object_get(f, "cdc.type")) != NULL)
		cl->mytype = cdc_xstrdup(
		    json_string_value(json_object_get(f, "cdc.type")));
	cl->keypos = (int)json_integer_value(json_object_get(f, "cdc.key"));
	cl->br_absent = cl->br_null = cl->br_value = -1;
	if (json_is_array(t)) {
		cl->nbranch = (int)json_array_size(t);
		json_array_foreach(t, i, b)
		{
			json_t *r = resolve(c, b, ns);

			if (is_absent(r))
				cl->br_absent = (int)i;
			else if (json_is_string(r) &&
			    strcmp(json_string_value(r), "null") == 0)
				cl->br_null = (int)i;
			else if (cl->br_value == -1) {
				cl->br_value = (int)i;
				vt = r;
			} else {
				return cdc_err(c->err, c->errlen,
				    "column '%s': a union of two value types",
				    cl->name);
			}
		}
		if (vt == NULL)
			return cdc_err(c->err, c->errlen,
			    "column '%s': a union without a value type",
			    cl->name);
		cl->av = node->child[cl->br_value];
	} else {
		vt = resolve(c, t, ns);
		cl->av = node;
	}
	base = map_type(c, caps, f, vt, cl);
	if (base == NULL)
		return -1;
	cl->chtype = base;
	if (cl->br_null >= 0)
		col_make_nullable(cl);
	return 0;
}

int
col_make_nullable(struct col *cl)
{
	char *base = cl->chtype;

	if (cl->nullable || cl->keypos > 0 || cl->cv == CV_VECTOR ||
	    cl->cv == CV_GEOMETRY)
		return cl->nullable;
	cl->nullable = 1;
	if (starts(base, "LowCardinality(")) {
		/* LowCardinality cannot be inside Nullable; RowBinary is the
		 * same for both. */
		cl->chtype = xprintf("LowCardinality(Nullable(%.*s))",
		    (int)(strlen(base) - 16), base + 15);
	} else {
		cl->chtype = xprintf("Nullable(%s)", base);
	}
	free(base);
	return 1;
}

/* s->key and s->nkey from the columns' key positions. */
static void
set_key(struct tschema *s)
{
	size_t i, j;

	s->nkey = 0;
	for (j = 1; j <= s->ncols; j++)
		for (i = 0; i < s->ncols; i++)
			if (s->cols[i].keypos == (int)j)
				s->key[s->nkey++] = i;
}

static int
compile_value(struct compiler *c, const struct ch_caps *caps, json_t *rec,
    struct av_node *node)
{
	struct tschema *s = c->s;
	json_t *fields = json_object_get(rec, "fields"), *f;
	const char *ns = str_attr(rec, "namespace");
	size_t i, j;

	s->ncols = json_array_size(fields);
	s->cols = cdc_xcalloc(s->ncols ? s->ncols : 1, sizeof(*s->cols));
	json_array_foreach(fields, i, f)
	{
		if (compile_col(c, caps, f, node->child[i], ns, &s->cols[i]) ==
		    -1)
			return -1;
		if (s->cols[i].br_absent >= 0)
			s->has_absent = 1;
		for (j = 0; j < i; j++)
			if (strcmp(s->cols[j].name, s->cols[i].name) == 0)
				return cdc_err(c->err, c->errlen,
				    "two columns named '%s'", s->cols[i].name);
		if (s->cols[i].name[0] == '_' &&
		    (strcmp(s->cols[i].name, "_version") == 0 ||
			strcmp(s->cols[i].name, "_deleted") == 0 ||
			strcmp(s->cols[i].name, "_ts") == 0))
			return cdc_err(c->err, c->errlen,
			    "column '%s' clashes with a metadata column",
			    s->cols[i].name);
	}
	/* Key columns in key order. */
	s->key = cdc_xcalloc(s->ncols ? s->ncols : 1, sizeof(*s->key));
	set_key(s);
	/* binlog2avro names the columns by position when the binlog has no
	 * names (binlog_row_metadata=MINIMAL); it knows no key then. */
	s->positional = s->ncols > 0 && s->nkey == 0;
	for (i = 0; i < s->ncols && s->positional; i++) {
		char want[32];

		snprintf(want, sizeof(want), "col_%zu", i + 1);
		s->positional = strcmp(s->cols[i].name, want) == 0;
	}
	return 0;
}

/* The envelope's before/after union: [null, Value]. */
static int
image_field(struct compiler *c, const struct ch_caps *caps, json_t *f,
    struct env_field *ef, const char *ns, int *have_value)
{
	json_t *t = json_object_get(f, "type"), *b, *rec = NULL;
	size_t i;

	if (!json_is_array(t) || ef->av->kind != AV_UNION)
		return cdc_err(c->err, c->errlen,
		    "envelope field '%s' is not a union",
		    json_string_value(json_object_get(f, "name")));
	ef->br_null = -1;
	json_array_foreach(t, i, b)
	{
		json_t *r = resolve(c, b, ns);

		if (json_is_string(r) && strcmp(json_string_value(r), "null") == 0)
			ef->br_null = (int)i;
		else
			rec = r;
	}
	if (rec == NULL || ef->av->n != 2 || ef->br_null == -1)
		return cdc_err(c->err, c->errlen,
		    "envelope images must be [\"null\", Value]");
	if (!*have_value) {
		*have_value = 1;
		return compile_value(c, caps, rec,
		    ef->av->child[ef->br_null == 0 ? 1 : 0]);
	}
	return 0;
}

struct tschema *
tschema_new(const char *json, size_t len, uint64_t fp,
    const struct ch_caps *caps, char *err, size_t errlen)
{
	struct compiler c;
	struct tschema *s;
	struct av_node *top;
	json_error_t je;
	json_t *root, *fields, *f;
	const char *ns, *db, *table, *name;
	int have_value = 0, ok = -1;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.err = err;
	c.errlen = errlen;
	s = cdc_xcalloc(1, sizeof(*s));
	s->fp = fp;
	s->source_ts = -1;
	s->ts64 = caps->datetime64;
	c.s = s;
	root = json_loadb(json, len, 0, &je);
	if (root == NULL) {
		cdc_err(err, errlen, "bad schema JSON: %s", je.text);
		goto out;
	}
	top = build(&c, root, NULL);
	if (top == NULL)
		goto out;
	if (top->kind != AV_RECORD) {
		cdc_err(err, errlen, "value schema is not a record");
		goto out;
	}
	ns = str_attr(root, "namespace");
	db = str_attr(root, "cdc.database");
	table = str_attr(root, "cdc.table");
	if (db == NULL || table == NULL) {
		cdc_err(err, errlen, "value schema '%s' has no cdc.database "
		    "and cdc.table attributes", ns != NULL ? ns : "?");
		goto out;
	}
	s->db = cdc_xstrdup(db);
	s->table = cdc_xstrdup(table);
	fields = json_object_get(root, "fields");
	s->nenv = json_array_size(fields);
	s->env = cdc_xcalloc(s->nenv ? s->nenv : 1, sizeof(*s->env));
	json_array_foreach(fields, i, f)
	{
		struct env_field *ef = &s->env[i];

		name = json_string_value(json_object_get(f, "name"));
		ef->av = top->child[i];
		ef->role = ENV_SKIP;
		if (name == NULL)
			continue;
		if (strcmp(name, "before") == 0 || strcmp(name, "after") == 0) {
			ef->role = name[0] == 'b' ? ENV_BEFORE : ENV_AFTER;
			if (image_field(&c, caps, f, ef, ns, &have_value) == -1)
				goto out;
		} else if (strcmp(name, "op") == 0) {
			if (ef->av->kind != AV_STRING) {
				cdc_err(err, errlen, "envelope op is not a string");
				goto out;
			}
			ef->role = ENV_OP;
		} else if (strcmp(name, "source") == 0 &&
		    ef->av->kind == AV_RECORD) {
			json_t *src = resolve(&c, json_object_get(f, "type"), ns);
			json_t *sf;
			size_t j;

			ef->role = ENV_SOURCE;
			json_array_foreach(json_object_get(src, "fields"), j, sf)
			{
				const char *sn = json_string_value(
				    json_object_get(sf, "name"));

				if (sn != NULL && strcmp(sn, "ts_ms") == 0 &&
				    ef->av->child[j]->kind == AV_LONG)
					s->source_ts = (int)j;
			}
		}
	}
	if (!have_value) {
		cdc_err(err, errlen, "envelope has no before/after images");
		goto out;
	}
	ok = 0;
out:
	for (i = 0; i < c.nnamed; i++)
		free(c.named[i].name);
	free(c.named);
	json_decref(root);
	if (ok == -1) {
		tschema_free(s);
		return NULL;
	}
	return s;
}

void
tschema_free(struct tschema *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncols; i++) {
		free(s->cols[i].name);
		free(s->cols[i].mytype);
		free(s->cols[i].chtype);
		free_syms(&s->cols[i]);
	}
	free(s->refused);
	for (i = 0; i < s->nnodes; i++) {
		free(s->nodes[i]->child);
		free(s->nodes[i]);
	}
	free(s->nodes);
	free(s->cols);
	free(s->key);
	free(s->env);
	free(s->db);
	free(s->table);
	free(s);
}

int
tschema_same_columns(const struct tschema *a, const struct tschema *b)
{
	size_t i;

	if (a->ncols != b->ncols || a->nkey != b->nkey)
		return 0;
	for (i = 0; i < a->ncols; i++)
		if (strcmp(a->cols[i].name, b->cols[i].name) != 0 ||
		    strcmp(a->cols[i].chtype, b->cols[i].chtype) != 0 ||
		    a->cols[i].keypos != b->cols[i].keypos)
			return 0;
	return 1;
}

int
tschema_col(const struct tschema *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->ncols; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- Columns named by position ---------------------------------------- */

/* The type inside Nullable(...) as t[0..*n), and whether it was there.
 * LowCardinality(Nullable(T)) (a nullable SET on current servers) is
 * nullable too, and keeps its whole text. */
static const char *
strip_nullable(const char *t, size_t *n, int *nullable)
{
	size_t len = strlen(t);

	*nullable = len > 10 && strncmp(t, "Nullable(", 9) == 0 &&
	    t[len - 1] == ')';
	*n = *nullable ? len - 10 : len;
	if (!*nullable && starts(t, "LowCardinality(Nullable("))
		*nullable = 1;
	return *nullable && *t == 'N' ? t + 9 : t;
}

/* Whether type t, without Nullable(), is b[0..n). */
static int
same_base(const char *t, const char *b, size_t n)
{
	size_t tn;
	int tnull;

	t = strip_nullable(t, &tn, &tnull);
	return tn == n && memcmp(t, b, n) == 0;
}

/* The representation of date or time column c in a table whose type,
 * without Nullable(), is b[0..n); REP_NONE when it is none of them. */
static enum trep
rep_of(const struct col *c, const char *b, size_t n)
{
	char t[48];

	if (c->cv == CV_DATE) {
		if (same_base("Date", b, n))
			return REP_DATE;
		if (same_base("Date32", b, n))
			return REP_DATE32;
		return same_base("Int32", b, n) ? REP_DAYS : REP_NONE;
	}
	if (c->rep == REP_NONE)
		return REP_NONE;
	if (c->scale == 0 && same_base("DateTime('UTC')", b, n))
		return REP_DATETIME;
	snprintf(t, sizeof(t), "DateTime64(%d, 'UTC')", c->scale);
	if (same_base(t, b, n))
		return REP_DT64;
	snprintf(t, sizeof(t), "Decimal(18, %d)", c->scale);
	return same_base(t, b, n) ? REP_DECIMAL : REP_NONE;
}

/* The width of integer type b[0..n) ("Int32", "UInt8"), or 0. */
static int
int_width(const char *b, size_t n, int *is_signed)
{
	static const char *const names[] = {"Int8", "Int16", "Int32", "Int64",
		"UInt8", "UInt16", "UInt32", "UInt64"};
	size_t i;

	for (i = 0; i < 8; i++)
		if (same_base(names[i], b, n)) {
			*is_signed = i < 4;
			return 1 << (i % 4);
		}
	return 0;
}

int
col_adopt(struct col *c, const char *have)
{
	size_t n, cn;
	int nullable, cnull, sign = 0, width;
	const char *b = strip_nullable(have, &n, &nullable);
	const char *cb = strip_nullable(c->chtype, &cn, &cnull);
	enum trep rep;

	if (nullable != c->nullable)
		return -1;
	if (c->rep != REP_NONE) {
		if ((rep = rep_of(c, b, n)) == REP_NONE)
			return -1;
		c->rep = rep;
	} else if (c->cv == CV_INT) {
		if ((width = int_width(b, n, &sign)) == 0)
			return -1;
		c->width = width;
		c->is_signed = sign;
	} else if (c->cv == CV_STRING) {
		/* The same RowBinary. */
		if (!same_base("String", b, n) &&
		    !same_base("LowCardinality(String)", b, n) &&
		    !same_base("LowCardinality(Nullable(String))", b, n))
			return -1;
	} else if (!(cn == n && memcmp(cb, b, n) == 0)) {
		return -1;
	}
	free(c->chtype);
	c->chtype = cdc_xstrdup(have);
	return 0;
}

/* The greatest value of an Enum8(...) or Enum16(...) type text t[0..n),
 * with its width in bytes; -1 when t is not one. */
static int64_t
enum_max(const char *t, size_t n, int *width)
{
	const char *p = t, *end = t + n;
	int64_t max = -1, v;
	int neg;

	if (n > 6 && strncmp(t, "Enum8(", 6) == 0) {
		*width = 1;
		p += 6;
	} else if (n > 7 && strncmp(t, "Enum16(", 7) == 0) {
		*width = 2;
		p += 7;
	} else {
		return -1;
	}
	while (p < end && *p == '\'') {
		for (p++; p < end && *p != '\''; p++)
			if (*p == '\\')
				p++;
		p++;
		while (p < end && (*p == ' ' || *p == '='))
			p++;
		neg = p < end && *p == '-';
		p += neg;
		if (p == end || !isdigit((unsigned char)*p))
			return -1;
		for (v = 0; p < end && isdigit((unsigned char)*p); p++)
			v = v * 10 + (*p - '0');
		if (!neg && v > max)
			max = v;
		while (p < end && (*p == ',' || *p == ' '))
			p++;
	}
	return p + 1 == end && *p == ')' ? max : -1;
}

int
tschema_map(struct tschema *s, const struct named_col *cols, size_t n,
    char *err, size_t errlen)
{
	const char *tb;
	size_t i, tn;
	int tnull, width;
	struct col *c;

	if (!s->positional)
		return cdc_err(err, errlen, "columns are not named by position");
	if (n != s->ncols)
		return cdc_err(err, errlen, "the binlog has no column names "
		    "(binlog_row_metadata=MINIMAL) and %zu columns where the "
		    "table has %zu", s->ncols, n);
	/* Every column first: s changes only when all of them convert. */
	for (i = 0; i < n; i++) {
		c = &s->cols[i];
		tb = strip_nullable(cols[i].type, &tn, &tnull);
		if (c->numbered && starts(c->mytype, "enum")) {
			if (enum_max(tb, tn, &width) < 0)
				goto differ;
		} else if (c->numbered) {
			if (cols[i].src == NULL ||
			    !starts(cols[i].src->mytype, "set(") ||
			    !((tn == 6 && strncmp(tb, "String", 6) == 0) ||
				(tn == 22 && strncmp(tb,
				    "LowCardinality(String)", 22) == 0) ||
				(tn == 32 && strncmp(tb,
				    "LowCardinality(Nullable(String))", 32) == 0)))
				return cdc_err(err, errlen, "the binlog has no "
				    "column names (binlog_row_metadata=MINIMAL) "
				    "and SET column %zu ('%s') has no members "
				    "to name its values", i + 1, cols[i].name);
		} else if (!same_base(c->chtype, tb, tn)) {
			/* The table may hold a widened date or time, or one
			 * an older server's path made. */
			char *wide = col_wide_type(c);
			int same = (wide != NULL && same_base(wide, tb, tn)) ||
			    rep_of(c, tb, tn) != REP_NONE;

			free(wide);
			if (!same)
				goto differ;
		}
		if (c->nullable && !tnull && cols[i].keypos == 0)
			goto differ;
		continue;
differ:
		return cdc_err(err, errlen, "the binlog has no column names "
		    "(binlog_row_metadata=MINIMAL) and its column %zu is %s "
		    "%s where the table has '%s' %s", i + 1,
		    c->mytype != NULL ? c->mytype : "?", c->chtype,
		    cols[i].name, cols[i].type);
	}
	for (i = 0; i < n; i++) {
		c = &s->cols[i];
		tb = strip_nullable(cols[i].type, &tn, &tnull);
		if (c->rep != REP_NONE && !same_base(c->chtype, tb, tn))
			c->rep = rep_of(c, tb, tn);
		free(c->name);
		c->name = cdc_xstrdup(cols[i].name);
		free(c->chtype);
		c->chtype = cdc_xstrdup(cols[i].type);
		c->nullable = tnull;
		c->keypos = cols[i].keypos;
		if (c->numbered && starts(c->mytype, "enum")) {
			c->cv = CV_ENUM_NUM;
			c->size = (size_t)enum_max(tb, tn, &width);
			c->width = width;
		} else if (c->numbered) {
			free_syms(c);
			if (enum_from_type(c, cols[i].src->mytype) == -1)
				free_syms(c);
			c->cv = CV_SET_NUM;
		}
	}
	set_key(s);
	s->positional = 0;
	return 0;
}
