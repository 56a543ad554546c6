/* A client of a Confluent-compatible schema registry (docs/kafka.md,
 * "Schema registry"): the settings every tool reads from the environment,
 * registering a schema under a subject, fetching a schema by id, and the
 * Confluent wire format (0x00, a 4-byte big-endian id, the Avro datum). */
#ifndef CDC_REGISTRY_H
#define CDC_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

#define CDC_WIRE_MAGIC  0x00
#define CDC_WIRE_HEADER 5 /* the magic byte and the 4-byte id */

/* How a request ended. UNAVAILABLE is what retries could not fix (no
 * connection, 5xx) within the budget; the others are answers. */
enum cdc_registry_rc {
	CDC_REGISTRY_OK = 0,
	CDC_REGISTRY_UNAVAILABLE = -1,
	CDC_REGISTRY_REFUSED = -2,  /* 409 incompatible, 422 invalid schema */
	CDC_REGISTRY_DENIED = -3,   /* 401, 403: the credentials */
	CDC_REGISTRY_NOT_FOUND = -4 /* 404: no such id or subject */
};

struct cdc_registry;

/* Makes a client for the registry at url (no trailing slash needed) with
 * the credentials and TLS files of the environment:
 *   CDC_SCHEMA_REGISTRY_USER, CDC_SCHEMA_REGISTRY_PASSWORD or
 *   CDC_SCHEMA_REGISTRY_PASSWORD_FILE (basic auth),
 *   CDC_SCHEMA_REGISTRY_CA_FILE, CDC_SCHEMA_REGISTRY_CERT_FILE,
 *   CDC_SCHEMA_REGISTRY_KEY_FILE (libcurl's CAINFO, SSLCERT, SSLKEY).
 * A url with credentials in it is refused: they belong in the environment,
 * not on a command line. budget_ms bounds the retries of each request.
 * Returns NULL with err set; the caller frees with cdc_registry_free(). */
struct cdc_registry *cdc_registry_new(const char *url, int64_t budget_ms,
    char *err, size_t errlen);
void cdc_registry_free(struct cdc_registry *r);

/* The registry URL of a --schema-registry flag, else of
 * CDC_SCHEMA_REGISTRY_URL; NULL when neither is set. */
const char *cdc_registry_url(const char *flag);

/* POST /subjects/{subject}/versions {"schema": ...}: registers the len
 * bytes of schema JSON (or finds it registered) and sets *id. Retries
 * connection failures and 5xx answers with capped exponential backoff for
 * the budget, and stops early when cdc_stop is set. err gets the subject
 * and the registry's message. */
enum cdc_registry_rc cdc_registry_register(struct cdc_registry *r,
    const char *subject, const char *schema, size_t len, int32_t *id,
    char *err, size_t errlen);

/* GET /schemas/ids/{id}: replaces out's contents with the schema JSON (not
 * NUL-terminated), retrying as cdc_registry_register() does. */
enum cdc_registry_rc cdc_registry_schema(struct cdc_registry *r, int32_t id,
    struct cdc_buf *out, char *err, size_t errlen);

/* Requests made and retried so far, for the tools' info lines. */
uint64_t cdc_registry_requests(const struct cdc_registry *r);

/* The schema id of Confluent-framed bytes; -1 when they are too short or do
 * not start with the magic byte. */
int cdc_wire_id(const uint8_t *p, size_t n, int32_t *id);

/* Writes the 5-byte header of id to p. */
void cdc_wire_put_header(uint8_t *p, int32_t id);

#endif
