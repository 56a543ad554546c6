/* Allocation wrappers and struct cdc_buf. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

static void
oom(size_t n)
{
	cdc_error("out of memory allocating %zu bytes", n);
	abort();
}

void *
cdc_xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		oom(n);
	return p;
}

void *
cdc_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (p == NULL)
		oom(n * size);
	return p;
}

void *
cdc_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	if (q == NULL)
		oom(n);
	return q;
}

char *
cdc_xstrdup(const char *s)
{
	return cdc_xstrndup(s, strlen(s));
}

char *
cdc_xstrndup(const char *s, size_t n)
{
	char *p = cdc_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
cdc_buf_init(struct cdc_buf *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void
cdc_buf_fini(struct cdc_buf *b)
{
	free(b->p);
	cdc_buf_init(b);
}

void
cdc_buf_grow(struct cdc_buf *b, size_t n)
{
	size_t cap;

	cap = b->cap < 256 ? 256 : b->cap;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			oom(n);
		cap *= 2;
	}
	b->p = cdc_xrealloc(b->p, cap);
	b->cap = cap;
}

void
cdc_buf_puts(struct cdc_buf *b, const char *s)
{
	cdc_buf_append(b, s, strlen(s));
}

void
cdc_buf_printf(struct cdc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	cdc_buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
cdc_buf_consume(struct cdc_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}
