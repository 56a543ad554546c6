/* Block compression for the container's avro.codec values. */
#ifndef CDC_BLOCKCODEC_H
#define CDC_BLOCKCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "stream.h"

/* Largest decompressed block accepted: a guard against corrupt sizes. */
#define CDC_BLOCK_MAX ((size_t)256 << 20)

const char *cdc_codec_name(enum cdc_codec c);
/* Parses an avro.codec value; -1 when unknown. */
int cdc_codec_parse(const char *s, size_t n, enum cdc_codec *c);
/* Appends the compressed form of in to out. Returns 0 or -1. */
int cdc_codec_compress(enum cdc_codec c, const uint8_t *in, size_t n,
    struct cdc_buf *out, char *err, size_t errlen);
/* Replaces out's content with the decompressed form of in. */
int cdc_codec_decompress(enum cdc_codec c, const uint8_t *in, size_t n,
    struct cdc_buf *out, char *err, size_t errlen);

#endif
