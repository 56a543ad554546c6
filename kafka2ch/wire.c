/* kafka2ch --schema-registry: Confluent-framed keys and values (0x00, a
 * 4-byte schema id, the datum) back into the single-object encoding of the
 * stream. A schema is fetched by id once (GET /schemas/ids/{id}) and kept
 * with its fingerprint, so the registry is asked once per schema, never
 * per record. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "fpmap.h"
#include "k2c.h"
#include "log.h"
#include "registry.h"

struct k2c_wire {
	struct cdc_registry *reg;
	/* id -> the fingerprint (8 bytes) followed by the schema JSON */
	struct cdc_fpmap byid;
	/* fingerprint -> the id (4 bytes) whose schema this stream announced
	 * last: two ids can share a fingerprint when only attributes differ,
	 * and the stream must then announce the other text again */
	struct cdc_fpmap announced;
	struct cdc_buf out[2]; /* key and value, single-object encoded */
	struct cdc_buf fetched;
	int32_t key_id; /* of the record's key; -1: none (k2c_wire_begin) */
};

struct k2c_wire *
k2c_wire_new(const char *url, int64_t budget_s, char *err, size_t errlen)
{
	struct k2c_wire *w = cdc_xcalloc(1, sizeof(*w));

	w->reg = cdc_registry_new(url, budget_s * 1000, err, errlen);
	if (w->reg == NULL) {
		free(w);
		return NULL;
	}
	cdc_fpmap_init(&w->byid);
	cdc_fpmap_init(&w->announced);
	cdc_buf_init(&w->out[0]);
	cdc_buf_init(&w->out[1]);
	cdc_buf_init(&w->fetched);
	w->key_id = -1;
	return w;
}

void
k2c_wire_free(struct k2c_wire *w)
{
	if (w == NULL)
		return;
	cdc_registry_free(w->reg);
	cdc_fpmap_fini(&w->byid);
	cdc_fpmap_fini(&w->announced);
	cdc_buf_fini(&w->out[0]);
	cdc_buf_fini(&w->out[1]);
	cdc_buf_fini(&w->fetched);
	free(w);
}

uint64_t
k2c_wire_requests(const struct k2c_wire *w)
{
	return w != NULL ? cdc_registry_requests(w->reg) : 0;
}

void
k2c_wire_begin(struct k2c_wire *w)
{
	if (w != NULL)
		w->key_id = -1;
}

/* Another producer's value schema with the attributes chload needs,
 * given the key schema of the record it came with (foreign.c). */
static int
foreign(struct k2c_wire *w, int32_t id, char *err, size_t errlen)
{
	const char *key = NULL;
	char detail[CDC_ERRLEN], *out;
	size_t keylen = 0;
	int rc;

	if (w->key_id != -1) {
		key = cdc_fpmap_get(&w->byid, (uint64_t)(uint32_t)w->key_id,
		    &keylen);
		if (key != NULL) {
			key += 8;
			keylen -= 8;
		}
	}
	rc = k2c_foreign_schema((const char *)w->fetched.p, w->fetched.len,
	    key, keylen, &out, detail, sizeof(detail));
	if (rc == -1) {
		cdc_err(err, errlen, "schema id %" PRId32 ": %s", id, detail);
		return -1;
	}
	if (rc == 1) {
		w->fetched.len = 0;
		cdc_buf_append(&w->fetched, out, strlen(out));
		free(out);
	}
	return 0;
}

/* The cached entry of id, fetched on first use. */
static const char *
lookup(struct k2c_wire *w, int32_t id, int is_key, size_t *len, int *rcp,
    char *err, size_t errlen)
{
	const char *e;
	char detail[CDC_ERRLEN];
	uint64_t fp;
	struct cdc_buf entry;
	int rc;

	e = cdc_fpmap_get(&w->byid, (uint64_t)(uint32_t)id, len);
	if (e != NULL)
		return e;
	rc = cdc_registry_schema(w->reg, id, &w->fetched, err, errlen);
	*rcp = rc;
	if (rc != CDC_REGISTRY_OK)
		return NULL;
	*rcp = CDC_REGISTRY_REFUSED; /* a schema that cannot be used */
	if (!is_key && foreign(w, id, err, errlen) == -1)
		return NULL;
	if (cdc_schema_fingerprint((const char *)w->fetched.p,
		w->fetched.len, &fp, detail, sizeof(detail)) == -1) {
		cdc_err(err, errlen, "schema id %" PRId32 " of the registry: %s",
		    id, detail);
		return NULL;
	}
	cdc_buf_init(&entry);
	cdc_buf_append(&entry, &fp, 8);
	cdc_buf_append(&entry, w->fetched.p, w->fetched.len);
	cdc_fpmap_put(&w->byid, (uint64_t)(uint32_t)id, (const char *)entry.p,
	    entry.len);
	cdc_buf_fini(&entry);
	cdc_debug("schema id %" PRId32 " is fingerprint %016" PRIx64, id, fp);
	return cdc_fpmap_get(&w->byid, (uint64_t)(uint32_t)id, len);
}

int
k2c_wire_decode(struct k2c_wire *w, int is_key, const uint8_t *p, size_t n,
    struct k2c_wired *out, char *err, size_t errlen)
{
	struct cdc_buf *b = &w->out[is_key ? 0 : 1];
	const char *e, *last;
	size_t len, llen;
	int32_t id;
	int rc;

	if (cdc_wire_id(p, n, &id) == -1) {
		cdc_err(err, errlen, "not in the Confluent wire format");
		return CDC_REGISTRY_REFUSED;
	}
	e = lookup(w, id, is_key, &len, &rc, err, errlen);
	if (e == NULL)
		return rc;
	if (is_key)
		w->key_id = id;
	memcpy(&out->fp, e, 8);
	out->schema = e + 8;
	out->schema_len = len - 8;
	last = cdc_fpmap_get(&w->announced, out->fp, &llen);
	out->fresh = last == NULL || memcmp(last, &id, 4) != 0;
	if (out->fresh)
		cdc_fpmap_put(&w->announced, out->fp, (const char *)&id, 4);
	b->len = 0;
	cdc_soe_put_header(b, out->fp);
	cdc_buf_append(b, p + CDC_WIRE_HEADER, n - CDC_WIRE_HEADER);
	out->soe.p = b->p;
	out->soe.len = b->len;
	return 0;
}
