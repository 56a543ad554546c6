/* Schema-driven Avro binary -> JSON. Named types are collected in a first
 * pass over the schema so references resolve wherever they appear. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "avrobin.h"
#include "avrojson.h"
#include "decimal.h"
#include "log.h"

#define MAX_DEPTH 64

struct cdc_avrojson {
	json_t *root;
	json_t *names; /* fullname -> definition (borrowed from root) */
};

struct cur {
	const uint8_t *p, *end;
	const char *why;
};

static char *
fullname(const char *name, const char *ns)
{
	struct cdc_buf b;

	cdc_buf_init(&b);
	if (strchr(name, '.') == NULL && ns != NULL && ns[0] != '\0')
		cdc_buf_printf(&b, "%s.", ns);
	cdc_buf_puts(&b, name);
	cdc_buf_putc(&b, '\0');
	return (char *)b.p;
}

/* Namespace that the definition s gives its children. */
static char *
child_ns(json_t *s, const char *ns)
{
	const char *n = json_string_value(json_object_get(s, "name"));
	const char *dot;
	json_t *nsj = json_object_get(s, "namespace");

	if (n != NULL && (dot = strrchr(n, '.')) != NULL)
		return cdc_xstrndup(n, (size_t)(dot - n));
	if (json_is_string(nsj))
		return cdc_xstrdup(json_string_value(nsj));
	return cdc_xstrdup(ns);
}

static void
collect(struct cdc_avrojson *aj, json_t *s, const char *ns, int depth)
{
	json_t *t, *v;
	size_t i;
	char *full, *cns;

	if (depth > MAX_DEPTH)
		return;
	if (json_is_array(s)) {
		json_array_foreach(s, i, v) collect(aj, v, ns, depth + 1);
		return;
	}
	if (!json_is_object(s))
		return;
	t = json_object_get(s, "type");
	if (!json_is_string(t)) {
		collect(aj, t, ns, depth + 1);
		return;
	}
	if (json_is_string(json_object_get(s, "name"))) {
		const char *nm = json_string_value(json_object_get(s, "name"));
		const char *dot = strrchr(nm, '.');

		cns = child_ns(s, ns);
		full = fullname(dot != NULL ? dot + 1 : nm, cns);
		/* Store the namespace for resolving names inside. */
		json_object_set_new(s, "\x01ns", json_string(cns));
		json_object_set(aj->names, full, s);
		free(full);
		json_array_foreach(json_object_get(s, "fields"), i, v)
		    collect(aj, json_object_get(v, "type"), cns, depth + 1);
		free(cns);
	}
	collect(aj, json_object_get(s, "items"), ns, depth + 1);
	collect(aj, json_object_get(s, "values"), ns, depth + 1);
}

struct cdc_avrojson *
cdc_avrojson_new(const char *schema, size_t len, char *err, size_t errlen)
{
	struct cdc_avrojson *aj;
	json_error_t jerr;

	aj = cdc_xcalloc(1, sizeof(*aj));
	aj->root = json_loadb(schema, len, JSON_DECODE_ANY, &jerr);
	if (aj->root == NULL) {
		cdc_err(err, errlen, "invalid schema JSON: %s", jerr.text);
		free(aj);
		return NULL;
	}
	aj->names = json_object();
	collect(aj, aj->root, "", 0);
	return aj;
}

void
cdc_avrojson_free(struct cdc_avrojson *aj)
{
	if (aj == NULL)
		return;
	json_decref(aj->names);
	json_decref(aj->root);
	free(aj);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	size_t k, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		k = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		k = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		k = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (k > n)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range, surrogate */
	return k;
}

void
cdc_json_str(struct cdc_buf *out, const uint8_t *s, size_t n, int binary)
{
	size_t i, k;

	cdc_buf_putc(out, '"');
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\') {
			cdc_buf_putc(out, '\\');
			cdc_buf_putc(out, c);
		} else if (c < 0x20 || c == 0x7f || (binary && c >= 0x80)) {
			cdc_buf_printf(out, "\\u%04x", c);
		} else if (c < 0x80) {
			cdc_buf_putc(out, c);
		} else if ((k = utf8_len(s + i, n - i)) > 0) {
			cdc_buf_append(out, s + i, k);
			i += k - 1;
		} else {
			/* Not UTF-8: the byte as a code point, so the text
			 * stays valid JSON and nothing is lost. */
			cdc_buf_printf(out, "\\u%04x", c);
		}
	}
	cdc_buf_putc(out, '"');
}

static int
need(struct cur *c, size_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->why = "datum ends early";
		return -1;
	}
	return 0;
}

static int
get_long(struct cur *c, int64_t *v)
{
	if (cdc_avro_dec_long(&c->p, c->end, v) != CDC_AVRO_OK) {
		c->why = "bad varint in datum";
		return -1;
	}
	return 0;
}

static void
put_double(struct cdc_buf *out, double d)
{
	if (isnan(d) || isinf(d))
		cdc_buf_printf(out, "\"%s\"", isnan(d) ? "NaN" :
			d > 0 ? "Infinity" : "-Infinity");
	else
		cdc_buf_printf(out, "%.17g", d);
}

static int decode(const struct cdc_avrojson *aj, json_t *s, const char *ns,
    struct cur *c, struct cdc_buf *out, int depth);

static int
decode_bytes(json_t *s, struct cur *c, struct cdc_buf *out, size_t fixed)
{
	const uint8_t *b;
	size_t n;
	const char *lt = json_string_value(json_object_get(s, "logicalType"));

	if (fixed != (size_t)-1) {
		if (need(c, fixed) == -1)
			return -1;
		b = c->p;
		n = fixed;
		c->p += fixed;
	} else if (cdc_avro_dec_bytes(&c->p, c->end, &b, &n) != CDC_AVRO_OK) {
		c->why = "bad bytes in datum";
		return -1;
	}
	if (lt != NULL && strcmp(lt, "decimal") == 0) {
		cdc_buf_putc(out, '"');
		cdc_decimal_text(b, n,
		    (int)json_integer_value(json_object_get(s, "scale")), out);
		cdc_buf_putc(out, '"');
	} else {
		cdc_json_str(out, b, n, 1);
	}
	return 0;
}

static int
decode_named(const struct cdc_avrojson *aj, json_t *s, struct cur *c,
    struct cdc_buf *out, int depth)
{
	const char *type = json_string_value(json_object_get(s, "type"));
	const char *ns = json_string_value(json_object_get(s, "\x01ns"));
	json_t *f, *list;
	int64_t v;
	size_t i;

	if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
		cdc_buf_putc(out, '{');
		json_array_foreach(json_object_get(s, "fields"), i, f)
		{
			const char *name = json_string_value(
			    json_object_get(f, "name"));

			if (i > 0)
				cdc_buf_putc(out, ',');
			cdc_json_str(out, (const uint8_t *)name, strlen(name),
			    0);
			cdc_buf_putc(out, ':');
			if (decode(aj, json_object_get(f, "type"), ns, c, out,
				depth + 1) == -1)
				return -1;
		}
		cdc_buf_putc(out, '}');
		return 0;
	}
	if (strcmp(type, "enum") == 0) {
		list = json_object_get(s, "symbols");
		if (get_long(c, &v) == -1)
			return -1;
		if (v < 0 || (size_t)v >= json_array_size(list)) {
			c->why = "enum index out of range";
			return -1;
		}
		f = json_array_get(list, (size_t)v);
		cdc_json_str(out, (const uint8_t *)json_string_value(f),
		    strlen(json_string_value(f)), 0);
		return 0;
	}
	return decode_bytes(s, c, out,
	    (size_t)json_integer_value(json_object_get(s, "size")));
}

static int
decode_prim(const char *t, json_t *s, struct cur *c, struct cdc_buf *out)
{
	int64_t v;
	uint32_t u32;
	uint64_t u64;
	float fl;
	double d;

	if (strcmp(t, "null") == 0) {
		cdc_buf_puts(out, "null");
	} else if (strcmp(t, "boolean") == 0) {
		if (need(c, 1) == -1)
			return -1;
		cdc_buf_puts(out, *c->p++ ? "true" : "false");
	} else if (strcmp(t, "int") == 0 || strcmp(t, "long") == 0) {
		if (get_long(c, &v) == -1)
			return -1;
		cdc_buf_printf(out, "%" PRId64, v);
	} else if (strcmp(t, "float") == 0) {
		if (need(c, 4) == -1)
			return -1;
		u32 = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 |
		    (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
		memcpy(&fl, &u32, 4);
		c->p += 4;
		if (isnan(fl) || isinf(fl))
			put_double(out, fl);
		else
			cdc_buf_printf(out, "%.9g", (double)fl);
	} else if (strcmp(t, "double") == 0) {
		if (need(c, 8) == -1)
			return -1;
		u64 = cdc_le64(c->p);
		memcpy(&d, &u64, 8);
		c->p += 8;
		put_double(out, d);
	} else if (strcmp(t, "bytes") == 0) {
		return decode_bytes(s, c, out, (size_t)-1);
	} else if (strcmp(t, "string") == 0) {
		const uint8_t *b;
		size_t n;

		if (cdc_avro_dec_bytes(&c->p, c->end, &b, &n) != CDC_AVRO_OK) {
			c->why = "bad string in datum";
			return -1;
		}
		cdc_json_str(out, b, n, 0);
	} else {
		return 1; /* not a primitive */
	}
	return 0;
}

static int
decode(const struct cdc_avrojson *aj, json_t *s, const char *ns,
    struct cur *c, struct cdc_buf *out, int depth)
{
	json_t *t, *def;
	const char *name;
	char *full;
	int64_t v;
	int rc;

	if (depth > MAX_DEPTH) {
		c->why = "schema nested too deeply";
		return -1;
	}
	if (json_is_array(s)) {
		if (get_long(c, &v) == -1)
			return -1;
		if (v < 0 || (size_t)v >= json_array_size(s)) {
			c->why = "union index out of range";
			return -1;
		}
		return decode(aj, json_array_get(s, (size_t)v), ns, c, out,
		    depth + 1);
	}
	if (json_is_string(s)) {
		name = json_string_value(s);
		rc = decode_prim(name, NULL, c, out);
		if (rc <= 0)
			return rc;
		full = fullname(name, ns);
		def = json_object_get(aj->names, full);
		if (def == NULL)
			def = json_object_get(aj->names, name);
		free(full);
		if (def == NULL) {
			c->why = "reference to an unknown named type";
			return -1;
		}
		return decode_named(aj, def, c, out, depth + 1);
	}
	t = json_object_get(s, "type");
	if (json_is_array(t) || json_is_object(t))
		return decode(aj, t, ns, c, out, depth + 1);
	name = json_string_value(t);
	if (name == NULL) {
		c->why = "schema without a type";
		return -1;
	}
	rc = decode_prim(name, s, c, out);
	if (rc <= 0)
		return rc;
	if (strcmp(name, "array") == 0 || strcmp(name, "map") == 0) {
		int map = name[0] == 'm';
		int first = 1;
		json_t *item = json_object_get(s, map ? "values" : "items");

		cdc_buf_putc(out, map ? '{' : '[');
		for (;;) {
			int64_t count, i, size;

			if (get_long(c, &count) == -1)
				return -1;
			if (count == 0)
				break;
			if (count < 0) {
				count = -count;
				if (get_long(c, &size) == -1)
					return -1;
			}
			for (i = 0; i < count; i++) {
				if (!first)
					cdc_buf_putc(out, ',');
				first = 0;
				if (map) {
					if (decode_prim("string", NULL, c,
						out) == -1)
						return -1;
					cdc_buf_putc(out, ':');
				}
				if (decode(aj, item, ns, c, out, depth + 1) ==
				    -1)
					return -1;
			}
		}
		cdc_buf_putc(out, map ? '}' : ']');
		return 0;
	}
	if (json_object_get(s, "\x01ns") != NULL)
		return decode_named(aj, s, c, out, depth + 1);
	/* {"type": "SomeName"} */
	return decode(aj, t, ns, c, out, depth + 1);
}

int
cdc_avrojson_datum(const struct cdc_avrojson *aj, const uint8_t *p, size_t n,
    struct cdc_buf *out, char *err, size_t errlen)
{
	struct cur c = {p, p + n, NULL};

	if (decode(aj, aj->root, "", &c, out, 0) == -1)
		return cdc_err(err, errlen, "%s at datum byte %zu", c.why,
		    (size_t)(c.p - p));
	if (c.p != c.end)
		return cdc_err(err, errlen, "%zu bytes left after the datum",
		    (size_t)(c.end - c.p));
	return 0;
}
