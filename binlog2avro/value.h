/* What the value readers (value.c) and their dispatcher b2a_value()
 * (types.c) share. Internal to the decoder. */
#ifndef B2A_VALUE_H
#define B2A_VALUE_H

#include "avrobin.h"
#include "binlog.h"
#include "log.h"

/* Returns from a reader when fewer than n bytes are left before end. */
#define NEED(n)                                                               \
	do {                                                                  \
		if ((size_t)(end - p) < (size_t)(n))                          \
			return cdc_err(err, errlen,                           \
			    "value of column '%s' runs past the event",       \
			    c->name);                                         \
	} while (0)

/* The union branch of a value: 0 null, 1 the value; nullable types are
 * ["null", T]. The varint of 0 or 1 is one byte, 0 or 2. */
static inline void
put_union(struct cdc_buf *out, const struct b2a_column *c, int branch)
{
	if (c->nullable || c->zero_date_null)
		cdc_buf_putc(out, branch * 2);
}

/* The bytes of an integer type's value. */
static inline int
int_size(uint8_t type)
{
	return type == MT_TINY ? 1 : type == MT_SHORT ? 2 :
	    type == MT_INT24 ? 3 : type == MT_LONG ? 4 : 8;
}

/* The integer of size bytes at p, sign-extended unless c is unsigned. */
static inline int64_t
int_value(const struct b2a_column *c, const uint8_t *p, int size)
{
	uint64_t u = b2a_le(p, size);

	if (!c->is_unsigned && size < 8)
		return (int64_t)(u << (64 - 8 * size)) >> (64 - 8 * size);
	return (int64_t)u;
}

#endif
