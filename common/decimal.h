/* Exact decimals as Avro stores them: big-endian two's complement unscaled
 * integers (the "decimal" logical type). */
#ifndef CDC_DECIMAL_H
#define CDC_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* Appends the decimal text of the n-byte unscaled value with the given scale,
 * e.g. bytes 0x3039 scale 2 -> "123.45", exactly, for any n. */
void cdc_decimal_text(const uint8_t *p, size_t n, int scale,
    struct cdc_buf *out);

#endif
