/* A map from 64-bit schema fingerprints to owned strings (schema JSON). */
#ifndef CDC_FPMAP_H
#define CDC_FPMAP_H

#include <stddef.h>
#include <stdint.h>

struct cdc_fpmap_slot {
	uint64_t fp;
	char *val; /* NULL: empty slot */
	size_t len;
};

struct cdc_fpmap {
	struct cdc_fpmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t used;
};

void cdc_fpmap_init(struct cdc_fpmap *m);
/* Frees every value. */
void cdc_fpmap_fini(struct cdc_fpmap *m);
/* Stores a copy of val[0..len) under fp, replacing an older value. */
void cdc_fpmap_put(struct cdc_fpmap *m, uint64_t fp, const char *val,
    size_t len);
/* Returns the stored value (owned by the map) or NULL. */
const char *cdc_fpmap_get(const struct cdc_fpmap *m, uint64_t fp, size_t *len);

#endif
