/* avro2kafka --schema-registry: single-object encoded keys and values of
 * the stream become the Confluent wire format. Each schema is registered
 * under the subject of Debezium's default TopicNameStrategy, TOPIC-key or
 * TOPIC-value, the first time a change of that topic uses it; the ids are
 * cached, so the registry is asked once per schema and subject, never per
 * record. Nothing is framed with an id the registry has not answered. */
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a2k.h"
#include "fingerprint.h"
#include "fpmap.h"
#include "log.h"
#include "opt.h"
#include "registry.h"
#include "sys.h"

struct a2k_wire {
	struct cdc_registry *reg;
	struct cdc_fpmap schemas; /* fingerprint -> announced schema JSON */
	/* (topic, fingerprint, key or value) -> id. The map's key mixes the
	 * three; the value repeats them (id, fingerprint, kind, topic), so a
	 * mixed key that collides is a miss, never a wrong id. */
	struct cdc_fpmap ids;
	struct cdc_buf out[2]; /* framed key and value */
	struct cdc_buf entry, held;
	int stop_after_register; /* a test's crash point, see below */
	uint64_t registered;
};

struct a2k_wire *
a2k_wire_new(const char *url, int64_t budget_s, char *err, size_t errlen)
{
	struct a2k_wire *w = cdc_xcalloc(1, sizeof(*w));

	w->reg = cdc_registry_new(url, budget_s * 1000, err, errlen);
	if (w->reg == NULL) {
		free(w);
		return NULL;
	}
	cdc_fpmap_init(&w->schemas);
	cdc_fpmap_init(&w->ids);
	cdc_buf_init(&w->out[0]);
	cdc_buf_init(&w->out[1]);
	cdc_buf_init(&w->entry);
	cdc_buf_init(&w->held);
	/* tests/integration/t2005 kills avro2kafka -9 after a schema is
	 * registered and before any record uses it: with this set, the
	 * process stops itself (SIGSTOP) right there. */
	w->stop_after_register =
	    cdc_getenv("CDC_AVRO2KAFKA_TEST_STOP_AFTER_REGISTER") != NULL;
	return w;
}

void
a2k_wire_free(struct a2k_wire *w)
{
	if (w == NULL)
		return;
	cdc_registry_free(w->reg);
	cdc_fpmap_fini(&w->schemas);
	cdc_fpmap_fini(&w->ids);
	cdc_buf_fini(&w->out[0]);
	cdc_buf_fini(&w->out[1]);
	cdc_buf_fini(&w->entry);
	cdc_buf_fini(&w->held);
	free(w);
}

void
a2k_wire_schema(struct a2k_wire *w, uint64_t fp, const void *json,
    size_t len)
{
	cdc_fpmap_put(&w->schemas, fp, json, len);
}

uint64_t
a2k_wire_registered(const struct a2k_wire *w)
{
	return w ? w->registered : 0;
}

/* The cache entry of (topic, fp, kind) in w->entry, and its map key. */
static uint64_t
entry_make(struct a2k_wire *w, const struct cdc_slice *topic, uint64_t fp,
    int is_key, int32_t id)
{
	uint8_t head[13];

	memcpy(head, &id, 4);
	memcpy(head + 4, &fp, 8);
	head[12] = (uint8_t)is_key;
	w->entry.len = 0;
	cdc_buf_append(&w->entry, head, sizeof(head));
	cdc_buf_append(&w->entry, topic->p, topic->len);
	return fp ^ cdc_crc64_avro(topic->p, topic->len) ^
	    (is_key ? 0x9e3779b97f4a7c15ULL : 0);
}

/* Whether the registry's schema under id is the one registered: equal as
 * JSON (key order and spacing aside). Confluent's registry returns an
 * equal schema; Hortonworks' returns the first schema it saw with the same
 * Avro fingerprint even when attributes (connect.parameters, cdc.type,
 * logicalType's precision) differ, and a reader would then be given the
 * wrong attributes. */
static int
same_schema(struct a2k_wire *w, int32_t id, const char *json, size_t len,
    const char *subject, char *err, size_t errlen)
{
	json_t *a, *b;
	int same;
	enum cdc_registry_rc rc;

	rc = cdc_registry_schema(w->reg, id, &w->held, err, errlen);
	if (rc != CDC_REGISTRY_OK)
		return rc;
	a = json_loadb(json, len, 0, NULL);
	b = json_loadb((const char *)w->held.p, w->held.len, 0, NULL);
	same = a != NULL && b != NULL && json_equal(a, b);
	json_decref(a);
	json_decref(b);
	if (!same) {
		cdc_err(err, errlen, "schema registry holds a different schema "
		    "under id %" PRId32 " for subject '%s' (its attributes "
		    "differ)", id, subject);
		return CDC_REGISTRY_REFUSED;
	}
	return CDC_REGISTRY_OK;
}

/* Registers the schema of fp under topic's subject; sets *id. */
static int
enroll(struct a2k_wire *w, const struct cdc_slice *topic, uint64_t fp,
    int is_key, int32_t *id, char *err, size_t errlen)
{
	const char *json;
	char subject[1024];
	size_t len;
	int rc;

	json = cdc_fpmap_get(&w->schemas, fp, &len);
	if (json == NULL) {
		cdc_err(err, errlen, "schema %016" PRIx64 " used before it "
		    "was announced", fp);
		return CDC_REGISTRY_REFUSED;
	}
	snprintf(subject, sizeof(subject), "%.*s-%s", (int)topic->len,
	    (const char *)topic->p, is_key ? "key" : "value");
	rc = cdc_registry_register(w->reg, subject, json, len, id, err,
	    errlen);
	if (rc == CDC_REGISTRY_OK)
		rc = same_schema(w, *id, json, len, subject, err, errlen);
	if (rc != CDC_REGISTRY_OK)
		return rc;
	w->registered++;
	cdc_debug("registered schema %016" PRIx64 " under '%s' as id %" PRId32,
	    fp, subject, *id);
	if (w->stop_after_register)
		raise(SIGSTOP);
	return CDC_REGISTRY_OK;
}

int
a2k_wire_frame(struct a2k_wire *w, const struct cdc_slice *topic,
    int is_key, const struct cdc_slice *in, struct cdc_slice *out, char *err,
    size_t errlen)
{
	struct cdc_buf *b = &w->out[is_key ? 0 : 1];
	const char *hit;
	uint64_t fp, k;
	size_t len;
	int32_t id;
	int rc;

	if (in->p == NULL) {
		*out = *in;
		return 0;
	}
	if (cdc_soe_fingerprint(in->p, in->len, &fp) == -1) {
		cdc_err(err, errlen, "a %s in '%.*s' is not single-object "
		    "encoded", is_key ? "key" : "value", (int)topic->len,
		    (const char *)topic->p);
		return CDC_REGISTRY_REFUSED;
	}
	k = entry_make(w, topic, fp, is_key, 0);
	hit = cdc_fpmap_get(&w->ids, k, &len);
	if (hit != NULL && len == w->entry.len &&
	    memcmp(hit + 4, w->entry.p + 4, len - 4) == 0) {
		memcpy(&id, hit, 4);
	} else {
		rc = enroll(w, topic, fp, is_key, &id, err, errlen);
		if (rc != CDC_REGISTRY_OK)
			return rc;
		entry_make(w, topic, fp, is_key, id);
		cdc_fpmap_put(&w->ids, k, (const char *)w->entry.p,
		    w->entry.len);
	}
	b->len = 0;
	cdc_wire_put_header(cdc_buf_reserve(b, CDC_WIRE_HEADER), id);
	b->len = CDC_WIRE_HEADER;
	cdc_buf_append(b, in->p + CDC_SOE_HEADER, in->len - CDC_SOE_HEADER);
	out->p = b->p;
	out->len = b->len;
	return 0;
}
