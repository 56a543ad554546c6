/* Parsing Canonical Form, CRC-64-AVRO and single-object headers. The canonical
 * form is built with jansson (avro-c 1.11 has no canonical form of its own). */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "avrobin.h"
#include "fingerprint.h"
#include "log.h"

#define CRC64_EMPTY 0xc15d213aa4d7a795ULL

static uint64_t crc_table[256];
static int crc_ready;

static void
crc_init(void)
{
	uint64_t fp;
	int i, j;

	for (i = 0; i < 256; i++) {
		fp = (uint64_t)i;
		for (j = 0; j < 8; j++)
			fp = (fp >> 1) ^ (CRC64_EMPTY & -(fp & 1));
		crc_table[i] = fp;
	}
	crc_ready = 1;
}

uint64_t
cdc_crc64_avro(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t fp = CRC64_EMPTY;
	size_t i;

	if (!crc_ready)
		crc_init();
	for (i = 0; i < n; i++)
		fp = (fp >> 8) ^ crc_table[(fp ^ s[i]) & 0xff];
	return fp;
}

static const char *primitives[] = {"null", "boolean", "int", "long", "float",
    "double", "bytes", "string", NULL};

static int
is_primitive(const char *s)
{
	int i;

	for (i = 0; primitives[i] != NULL; i++)
		if (strcmp(s, primitives[i]) == 0)
			return 1;
	return 0;
}

/* [STRINGS]: UTF-8 as is; only what JSON requires is escaped. */
static void
put_str(struct cdc_buf *b, const char *s)
{
	cdc_buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			cdc_buf_putc(b, '\\');
			cdc_buf_putc(b, c);
		} else if (c < 0x20) {
			cdc_buf_printf(b, "\\u%04x", c);
		} else {
			cdc_buf_putc(b, c);
		}
	}
	cdc_buf_putc(b, '"');
}

/* Writes the fullname of a named reference or definition. */
static void
put_fullname(struct cdc_buf *b, const char *name, const char *ns)
{
	struct cdc_buf t;

	cdc_buf_init(&t);
	if (strchr(name, '.') == NULL && ns != NULL && ns[0] != '\0') {
		cdc_buf_puts(&t, ns);
		cdc_buf_putc(&t, '.');
	}
	cdc_buf_puts(&t, name);
	cdc_buf_putc(&t, '\0');
	put_str(b, (char *)t.p);
	cdc_buf_fini(&t);
}

static int canon(json_t *s, const char *ns, struct cdc_buf *b, char *err,
    size_t errlen);

/* A record, enum or fixed definition: "name" first, then "type" (ORDER). */
static int
canon_named(json_t *s, const char *type, const char *ns, struct cdc_buf *b,
    char *err, size_t errlen)
{
	json_t *name, *nsj, *list, *item, *f, *ft;
	const char *dot, *n;
	char *myns;
	size_t i;
	int rc = 0;

	name = json_object_get(s, "name");
	if (!json_is_string(name))
		return cdc_err(err, errlen, "%s without a name", type);
	n = json_string_value(name);
	dot = strrchr(n, '.');
	nsj = json_object_get(s, "namespace");
	if (dot != NULL)
		myns = cdc_xstrndup(n, (size_t)(dot - n));
	else if (json_is_string(nsj))
		myns = cdc_xstrdup(json_string_value(nsj));
	else
		myns = cdc_xstrdup(ns != NULL ? ns : "");
	cdc_buf_puts(b, "{\"name\":");
	put_fullname(b, dot != NULL ? dot + 1 : n, myns);
	cdc_buf_puts(b, ",\"type\":");
	put_str(b, type);
	if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
		list = json_object_get(s, "fields");
		if (!json_is_array(list)) {
			rc = cdc_err(err, errlen, "record '%s' without fields",
			    n);
			goto out;
		}
		cdc_buf_puts(b, ",\"fields\":[");
		json_array_foreach(list, i, f)
		{
			name = json_object_get(f, "name");
			ft = json_object_get(f, "type");
			if (!json_is_string(name) || ft == NULL) {
				rc = cdc_err(err, errlen,
				    "record '%s': field %zu needs a name and a "
				    "type", n, i);
				goto out;
			}
			if (i > 0)
				cdc_buf_putc(b, ',');
			cdc_buf_puts(b, "{\"name\":");
			put_str(b, json_string_value(name));
			cdc_buf_puts(b, ",\"type\":");
			if (canon(ft, myns, b, err, errlen) == -1) {
				rc = -1;
				goto out;
			}
			cdc_buf_putc(b, '}');
		}
		cdc_buf_putc(b, ']');
	} else if (strcmp(type, "enum") == 0) {
		list = json_object_get(s, "symbols");
		if (!json_is_array(list)) {
			rc = cdc_err(err, errlen, "enum '%s' without symbols",
			    n);
			goto out;
		}
		cdc_buf_puts(b, ",\"symbols\":[");
		json_array_foreach(list, i, item)
		{
			if (!json_is_string(item)) {
				rc = cdc_err(err, errlen,
				    "enum '%s': symbol %zu is not a string", n,
				    i);
				goto out;
			}
			if (i > 0)
				cdc_buf_putc(b, ',');
			put_str(b, json_string_value(item));
		}
		cdc_buf_putc(b, ']');
	} else {
		item = json_object_get(s, "size");
		if (!json_is_integer(item) || json_integer_value(item) < 0) {
			rc = cdc_err(err, errlen, "fixed '%s' without a size",
			    n);
			goto out;
		}
		cdc_buf_printf(b, ",\"size\":%" JSON_INTEGER_FORMAT,
		    json_integer_value(item));
	}
	cdc_buf_putc(b, '}');
out:
	free(myns);
	return rc;
}

static int
canon(json_t *s, const char *ns, struct cdc_buf *b, char *err, size_t errlen)
{
	json_t *t, *item;
	const char *type;
	size_t i;

	if (json_is_string(s)) {
		type = json_string_value(s);
		if (is_primitive(type))
			put_str(b, type);
		else
			put_fullname(b, type, ns);
		return 0;
	}
	if (json_is_array(s)) {
		cdc_buf_putc(b, '[');
		json_array_foreach(s, i, item)
		{
			if (i > 0)
				cdc_buf_putc(b, ',');
			if (canon(item, ns, b, err, errlen) == -1)
				return -1;
		}
		cdc_buf_putc(b, ']');
		return 0;
	}
	if (!json_is_object(s))
		return cdc_err(err, errlen, "not a schema: %s",
		    json_is_null(s) ? "null" : "a number or boolean");
	t = json_object_get(s, "type");
	if (t == NULL)
		return cdc_err(err, errlen, "schema object without a type");
	if (!json_is_string(t))
		return canon(t, ns, b, err, errlen);
	type = json_string_value(t);
	if (is_primitive(type)) {
		put_str(b, type); /* [PRIMITIVES] */
		return 0;
	}
	if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 ||
	    strcmp(type, "enum") == 0 || strcmp(type, "fixed") == 0)
		return canon_named(s, type, ns, b, err, errlen);
	if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
		int arr = type[0] == 'a';

		item = json_object_get(s, arr ? "items" : "values");
		if (item == NULL)
			return cdc_err(err, errlen, "%s without %s", type,
			    arr ? "items" : "values");
		cdc_buf_puts(b, arr ? "{\"type\":\"array\",\"items\":" :
				      "{\"type\":\"map\",\"values\":");
		if (canon(item, ns, b, err, errlen) == -1)
			return -1;
		cdc_buf_putc(b, '}');
		return 0;
	}
	put_fullname(b, type, ns); /* {"type": "SomeNamedType"} */
	return 0;
}

int
cdc_schema_canonical(const char *json, size_t len, struct cdc_buf *out,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (root == NULL)
		return cdc_err(err, errlen, "invalid schema JSON: %s at %d",
		    jerr.text, jerr.position);
	rc = canon(root, "", out, err, errlen);
	json_decref(root);
	return rc;
}

int
cdc_schema_fingerprint(const char *json, size_t len, uint64_t *fp, char *err,
    size_t errlen)
{
	struct cdc_buf b;

	cdc_buf_init(&b);
	if (cdc_schema_canonical(json, len, &b, err, errlen) == -1) {
		cdc_buf_fini(&b);
		return -1;
	}
	*fp = cdc_crc64_avro(b.p, b.len);
	cdc_buf_fini(&b);
	return 0;
}

void
cdc_soe_put_header(struct cdc_buf *b, uint64_t fp)
{
	uint8_t *d = cdc_buf_reserve(b, CDC_SOE_HEADER);

	d[0] = 0xc3;
	d[1] = 0x01;
	cdc_put_le64(d + 2, fp);
	b->len += CDC_SOE_HEADER;
}

int
cdc_soe_fingerprint(const uint8_t *p, size_t n, uint64_t *fp)
{
	if (n < CDC_SOE_HEADER || p[0] != 0xc3 || p[1] != 0x01)
		return -1;
	*fp = cdc_le64(p + 2);
	return 0;
}
