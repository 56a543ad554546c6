/* Allocation that cannot fail, and a growable byte buffer. */
#ifndef CDC_MEM_H
#define CDC_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Out of memory is not recoverable: these print the size and abort(). */
void *cdc_xmalloc(size_t n);
void *cdc_xcalloc(size_t n, size_t size);
void *cdc_xrealloc(void *p, size_t n);
char *cdc_xstrdup(const char *s);
char *cdc_xstrndup(const char *s, size_t n);

/* A byte buffer; embed it and use _init/_fini. p is NULL until first use. */
struct cdc_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

void cdc_buf_init(struct cdc_buf *b);
void cdc_buf_fini(struct cdc_buf *b);
/* Grows b to hold n more bytes (the slow path of cdc_buf_reserve). */
void cdc_buf_grow(struct cdc_buf *b, size_t n);

/* Makes room for n more bytes and returns a pointer to them (not counted in
 * len until the caller adds them). Inline: it is on every hot path. */
static inline uint8_t *
cdc_buf_reserve(struct cdc_buf *b, size_t n)
{
	if (b->cap - b->len < n)
		cdc_buf_grow(b, n);
	return b->p + b->len;
}

static inline void
cdc_buf_append(struct cdc_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(cdc_buf_reserve(b, n), p, n);
	b->len += n;
}

static inline void
cdc_buf_putc(struct cdc_buf *b, int c)
{
	*cdc_buf_reserve(b, 1) = (uint8_t)c;
	b->len++;
}
void cdc_buf_puts(struct cdc_buf *b, const char *s);
void cdc_buf_printf(struct cdc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void cdc_buf_consume(struct cdc_buf *b, size_t n);

#endif
