/* Snapshot values to Avro: a value the server sent in the binary protocol
 * is put back into the column's binlog storage format by its type's store
 * (store.c) and decoded by b2a_value(), so a snapshot read encodes every
 * value byte for byte as the binlog path encodes the same value. Also the
 * text of key values in snapshot positions. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avrobin.h"
#include "log.h"
#include "snapshot.h"
#include "types.h"

int
b2a_snap_value(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *out, char *err, size_t errlen)
{
	b2a_store_fn *store = b2a_types[c->type].store;
	struct cdc_buf b;
	size_t used = 0;
	int rc;

	if (v->null) {
		if (!c->nullable)
			return cdc_err(err, errlen, "NULL in NOT NULL column "
			    "'%s'", c->name);
		cdc_avro_put_long(out, 0);
		return 0;
	}
	if (b2a_types[c->type].flags & TF_TEXT) {
		if (c->nullable)
			cdc_avro_put_long(out, 1);
		cdc_avro_put_bytes(out, v->s, v->n);
		return 0;
	}
	if (store == NULL)
		return cdc_err(err, errlen, "column '%s' has type %d, which a "
		    "snapshot cannot read", c->name, c->type);
	cdc_buf_init(&b);
	rc = store(c, v, &b, err, errlen);
	if (rc == 0)
		rc = b2a_value(c, b.p, b.p + b.len, out, &used, err, errlen);
	if (rc == 0 && used != b.len)
		rc = cdc_err(err, errlen, "column '%s': %zu of %zu bytes "
		    "decoded", c->name, used, b.len);
	cdc_buf_fini(&b);
	return rc;
}

int
b2a_snap_key_ok(const struct b2a_column *c)
{
	return !(b2a_types[c->type].flags & TF_NO_KEY);
}

int
b2a_snap_is_int(const struct b2a_column *c)
{
	return b2a_types[c->type].fetch == F_INT;
}

void
b2a_snap_key_text(const struct b2a_column *c, const struct b2a_parts *v,
    struct cdc_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	switch (b2a_types[c->type].key) {
	case KEY_INT:
		if (c->is_unsigned || b2a_types[c->type].flags & TF_SYMBOLS)
			cdc_buf_printf(out, "%" PRIu64, (uint64_t)v->i);
		else
			cdc_buf_printf(out, "%" PRId64, v->i);
		return;
	case KEY_BIT: {
		uint64_t u = 0;

		for (i = 0; i < v->n; i++)
			u = (u << 8) | v->s[i];
		cdc_buf_printf(out, "%" PRIu64, u);
		return;
	}
	case KEY_DECIMAL:
		cdc_buf_append(out, v->s, v->n);
		return;
	case KEY_FLOAT: {
		uint32_t u;

		memcpy(&u, &v->f, 4);
		cdc_buf_printf(out, "%08" PRIx32, u);
		return;
	}
	case KEY_DOUBLE: {
		uint64_t u;

		memcpy(&u, &v->d, 8);
		cdc_buf_printf(out, "%016" PRIx64, u);
		return;
	}
	case KEY_DATE:
		cdc_buf_printf(out, "%04u-%02u-%02u", v->year, v->month,
		    v->day);
		return;
	case KEY_TIME:
		cdc_buf_printf(out, "%s%u:%02u:%02u.%06lu", v->neg ? "-" : "",
		    v->hour, v->minute, v->second, v->us);
		return;
	case KEY_DATETIME:
		cdc_buf_printf(out, "%04u-%02u-%02uT%02u:%02u:%02u.%06lu",
		    v->year, v->month, v->day, v->hour, v->minute, v->second,
		    v->us);
		return;
	default: /* KEY_HEX */
		for (i = 0; i < v->n; i++) {
			cdc_buf_putc(out, hex[v->s[i] >> 4]);
			cdc_buf_putc(out, hex[v->s[i] & 15]);
		}
		return;
	}
}

int
b2a_snap_key_parse(const struct b2a_column *c, const char *s, size_t n,
    struct b2a_parts *v, struct cdc_buf *bytes)
{
	char t[128], *end;
	int k = 0, form = b2a_types[c->type].key;
	size_t i;

	memset(v, 0, sizeof(*v));
	bytes->len = 0;
	if (form == KEY_DECIMAL || form == KEY_HEX) {
		if (form == KEY_DECIMAL) {
			if (n == 0 || strspn(s, "0123456789.-") < n)
				return -1;
			cdc_buf_append(bytes, s, n);
		} else {
			if (n % 2 != 0)
				return -1;
			for (i = 0; i < n; i += 2) {
				int hi = b2a_hexval(s[i]);
				int lo = b2a_hexval(s[i + 1]);

				if (hi < 0 || lo < 0)
					return -1;
				cdc_buf_putc(bytes, hi << 4 | lo);
			}
		}
		v->s = bytes->p != NULL ? bytes->p : (const uint8_t *)"";
		v->n = bytes->len;
		return 0;
	}
	if (n == 0 || n >= sizeof(t))
		return -1;
	memcpy(t, s, n);
	t[n] = '\0';
	if (form == KEY_INT || form == KEY_BIT) {
		if (t[0] == '-' && (c->is_unsigned || form == KEY_BIT ||
		    b2a_types[c->type].flags & TF_SYMBOLS))
			return -1;
		if (t[0] == '-')
			v->i = (int64_t)strtoll(t, &end, 10);
		else
			v->i = (int64_t)strtoull(t, &end, 10);
		if (*end != '\0' || end == t)
			return -1;
		if (form == KEY_BIT) {
			/* Big-endian bytes, as the server sends BIT. */
			uint64_t u = (uint64_t)v->i;
			size_t nb = (c->meta & 0xff) + ((c->meta >> 8) ? 1 : 0);

			if (nb > 8)
				return -1;
			for (i = 0; i < nb; i++)
				cdc_buf_putc(bytes,
				    (int)((u >> (8 * (nb - 1 - i))) & 0xff));
			v->s = bytes->p != NULL ? bytes->p :
						  (const uint8_t *)"";
			v->n = bytes->len;
		}
		return 0;
	}
	switch (form) {
	case KEY_FLOAT: {
		uint32_t u;

		if (n != 8 || strspn(t, "0123456789abcdef") != 8)
			return -1;
		u = (uint32_t)strtoul(t, NULL, 16);
		memcpy(&v->f, &u, 4);
		return 0;
	}
	case KEY_DOUBLE: {
		uint64_t u;

		if (n != 16 || strspn(t, "0123456789abcdef") != 16)
			return -1;
		u = (uint64_t)strtoull(t, NULL, 16);
		memcpy(&v->d, &u, 8);
		return 0;
	}
	case KEY_DATE:
		if (sscanf(t, "%4u-%2u-%2u%n", &v->year, &v->month, &v->day,
			&k) != 3 || (size_t)k != n)
			return -1;
		return 0;
	case KEY_TIME:
		v->neg = t[0] == '-';
		if (sscanf(t + v->neg, "%u:%2u:%2u.%6lu%n", &v->hour,
			&v->minute, &v->second, &v->us, &k) != 4 ||
		    (size_t)k != n - (size_t)v->neg)
			return -1;
		return 0;
	default: /* KEY_DATETIME */
		if (sscanf(t, "%4u-%2u-%2uT%2u:%2u:%2u.%6lu%n", &v->year,
			&v->month, &v->day, &v->hour, &v->minute, &v->second,
			&v->us, &k) != 7 ||
		    (size_t)k != n)
			return -1;
		return 0;
	}
}
