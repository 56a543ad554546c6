/* Acknowledgement lines: formatting, and a reader that keeps only the
 * newest (an acknowledgement covers every mark before it). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "log.h"
#include "mem.h"
#include "sys.h"

#define LINE_MAX_LEN 65536

int
cdc_ack_send(int fd, int64_t seq, const char *pos, size_t poslen, char *err,
    size_t errlen)
{
	struct cdc_buf b;
	int rc = 0;

	if (memchr(pos, '\n', poslen) != NULL)
		return cdc_err(err, errlen, "position contains a newline");
	cdc_buf_init(&b);
	cdc_buf_printf(&b, "ack %" PRId64 " ", seq);
	cdc_buf_append(&b, pos, poslen);
	cdc_buf_putc(&b, '\n');
	if (cdc_write_full(fd, b.p, b.len) == -1)
		rc = cdc_err(err, errlen, "cannot write acknowledgement: %s",
		    strerror(errno));
	cdc_buf_fini(&b);
	return rc;
}

struct cdc_ack_reader {
	int fd;
	struct cdc_buf in;
	int64_t last;
	char *pos;
};

struct cdc_ack_reader *
cdc_ack_reader_new(int fd)
{
	struct cdc_ack_reader *r = cdc_xcalloc(1, sizeof(*r));

	r->fd = fd;
	r->last = 0;
	cdc_buf_init(&r->in);
	return r;
}

void
cdc_ack_reader_free(struct cdc_ack_reader *r)
{
	if (r == NULL)
		return;
	cdc_buf_fini(&r->in);
	free(r->pos);
	free(r);
}

/* Parses "ack SEQ POSITION" (without the newline). */
static int
parse(struct cdc_ack_reader *r, const char *s, size_t n, int *newer,
    char *err, size_t errlen)
{
	char num[24], *end;
	const char *sp;
	long long seq;
	size_t k;

	if (n == 0)
		return 0;
	if (n < 6 || memcmp(s, "ack ", 4) != 0)
		return cdc_err(err, errlen, "malformed acknowledgement '%.*s'",
		    (int)(n > 80 ? 80 : n), s);
	sp = memchr(s + 4, ' ', n - 4);
	k = sp != NULL ? (size_t)(sp - (s + 4)) : n - 4;
	if (k == 0 || k >= sizeof(num))
		return cdc_err(err, errlen, "malformed acknowledgement '%.*s'",
		    (int)(n > 80 ? 80 : n), s);
	memcpy(num, s + 4, k);
	num[k] = '\0';
	errno = 0;
	seq = strtoll(num, &end, 10);
	if (*end != '\0' || errno != 0 || seq < 1)
		return cdc_err(err, errlen, "malformed acknowledgement '%.*s'",
		    (int)(n > 80 ? 80 : n), s);
	if (seq < r->last)
		return cdc_err(err, errlen,
		    "acknowledgement %lld after %" PRId64 ": out of order", seq,
		    r->last);
	if (seq == r->last)
		return 0;
	r->last = seq;
	free(r->pos);
	r->pos = sp != NULL ? cdc_xstrndup(sp + 1, (size_t)(s + n - sp - 1)) :
			      cdc_xstrdup("");
	*newer = 1;
	return 0;
}

int
cdc_ack_reader_poll(struct cdc_ack_reader *r, int64_t *seq, const char **pos,
    char *err, size_t errlen)
{
	ssize_t n;
	size_t start = 0, i;
	int newer = 0, eof = 0;

	n = read(r->fd, cdc_buf_reserve(&r->in, 4096), 4096);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return cdc_err(err, errlen,
			    "cannot read acknowledgements: %s",
			    strerror(errno));
		n = 0;
	} else if (n == 0) {
		eof = 1;
	}
	r->in.len += (size_t)n;
	for (i = 0; i < r->in.len; i++) {
		if (r->in.p[i] != '\n')
			continue;
		if (parse(r, (const char *)r->in.p + start, i - start, &newer,
			err, errlen) == -1)
			return -1;
		start = i + 1;
	}
	cdc_buf_consume(&r->in, start);
	if (r->in.len > LINE_MAX_LEN)
		return cdc_err(err, errlen, "acknowledgement line too long");
	if (newer) {
		*seq = r->last;
		*pos = r->pos;
		return 1;
	}
	if (eof) {
		if (r->in.len > 0)
			return cdc_err(err, errlen,
			    "acknowledgement channel ends inside a line");
		return CDC_ACK_EOF;
	}
	return 0;
}
