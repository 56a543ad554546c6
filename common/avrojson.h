/* Avro binary datum to JSON text, driven by the writer's schema: the
 * debugging view of keys and values (streamcat). Not for hot paths. */
#ifndef CDC_AVROJSON_H
#define CDC_AVROJSON_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

struct cdc_avrojson;

/* Parses a schema JSON text; NULL with a message in err when it is not one. */
struct cdc_avrojson *cdc_avrojson_new(const char *schema, size_t len,
    char *err, size_t errlen);
void cdc_avrojson_free(struct cdc_avrojson *aj);

/* Decodes one datum from p[0..n) and appends its JSON to out; the datum must
 * use up exactly n bytes. Unions print as their bare value, bytes and fixed
 * as strings of code points U+0000..U+00FF (Avro's JSON encoding), and
 * decimals as strings of their exact digits ("-12.50"). Returns 0 or -1. */
int cdc_avrojson_datum(const struct cdc_avrojson *aj, const uint8_t *p,
    size_t n, struct cdc_buf *out, char *err, size_t errlen);

/* Appends s[0..n) as a JSON string; bytes that are not UTF-8 are escaped as
 * code points (binary = 1) or replaced by U+FFFD. */
void cdc_json_str(struct cdc_buf *out, const uint8_t *s, size_t n,
    int binary);

#endif
