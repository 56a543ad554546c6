/* Avro schema fingerprints: Parsing Canonical Form and CRC-64-AVRO (Avro 1.11,
 * "Parsing Canonical Form for Schemas" and "Schema Fingerprints"), and the
 * single-object encoding header that carries them. */
#ifndef CDC_FINGERPRINT_H
#define CDC_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

#define CDC_SOE_HEADER 10 /* C3 01 and the 8-byte fingerprint */

/* CRC-64-AVRO of n bytes. */
uint64_t cdc_crc64_avro(const void *p, size_t n);

/* Appends the Parsing Canonical Form of the schema JSON text to out. Returns
 * 0, or -1 with the reason in err (invalid JSON, not a schema). */
int cdc_schema_canonical(const char *json, size_t len, struct cdc_buf *out,
    char *err, size_t errlen);

/* Fingerprint of a schema's Parsing Canonical Form; -1 if it is no schema. */
int cdc_schema_fingerprint(const char *json, size_t len, uint64_t *fp,
    char *err, size_t errlen);

/* Appends the single-object header (C3 01, fingerprint little-endian). */
void cdc_soe_put_header(struct cdc_buf *b, uint64_t fp);

/* Reads the fingerprint of single-object encoded bytes; -1 when the bytes are
 * too short or lack the C3 01 marker. */
int cdc_soe_fingerprint(const uint8_t *p, size_t n, uint64_t *fp);

#endif
