/* Framing of binlog files: reads a file in large chunks and hands out one
 * whole event at a time, after the 4-byte magic. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "binlog.h"
#include "binlogfile.h"
#include "log.h"
#include "sys.h"

#define READ_CHUNK (1 << 20)
#define MAX_EVENT  ((uint64_t)1 << 30) /* max_allowed_packet's ceiling */

int
b2a_evfile_open(struct b2a_evfile *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->fd = open(path, O_RDONLY);
	if (f->fd == -1)
		return -1;
	cdc_buf_init(&f->buf);
	return 0;
}

void
b2a_evfile_close(struct b2a_evfile *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	cdc_buf_fini(&f->buf);
}

/* Reads the next chunk after what is unread. Returns 1, 0 when a signal
 * stopped the read, or -1 with err set. */
static int
fill(struct b2a_evfile *f, char *err, size_t errlen)
{
	ssize_t n;

	if (f->start > 0) {
		cdc_buf_consume(&f->buf, f->start);
		f->have -= f->start;
		f->start = 0;
	}
	for (;;) {
		f->buf.len = f->have;
		n = read(f->fd, cdc_buf_reserve(&f->buf, READ_CHUNK),
		    READ_CHUNK);
		if (n == -1 && errno == EINTR && !cdc_stop)
			continue;
		if (n == -1) {
			if (cdc_stop)
				return 0;
			return cdc_err(err, errlen, "cannot read '%s': %s",
			    f->path, strerror(errno));
		}
		if (n == 0)
			f->eof = 1;
		f->have += (size_t)n;
		f->buf.len = f->have;
		return 1;
	}
}

/* How many bytes the next read needs: the magic, a header, or the event
 * the header announces. */
static uint64_t
wanted(const struct b2a_evfile *f)
{
	if (f->off == 0)
		return BINLOG_MAGIC_LEN;
	if (f->have - f->start >= EVENT_HEADER)
		return b2a_le(f->buf.p + f->start + HDR_EVENT_SIZE, 4);
	return EVENT_HEADER;
}

int
b2a_evfile_next(struct b2a_evfile *f, const uint8_t **ev, size_t *len,
    uint64_t *off, int *code, char *err, size_t errlen)
{
	uint64_t want;
	int rc;

	*code = EX_DATAERR;
	for (;;) {
		want = wanted(f);
		if (want > MAX_EVENT)
			return cdc_err(err, errlen, "%s at %" PRIu64 ": event "
			    "size %" PRIu64 " is not believable (corrupt "
			    "header)", f->path, f->off, want);
		if (f->have - f->start < want) {
			if (f->eof && f->off == 0)
				return cdc_err(err, errlen, "%s: not a binlog "
				    "file (%s)", f->path, f->have == 0 ?
				    "empty" : "shorter than the magic");
			if (f->eof && f->have - f->start > 0)
				return cdc_err(err, errlen, "%s at %" PRIu64
				    ": truncated event (the file ends %zu "
				    "bytes into it)", f->path, f->off,
				    f->have - f->start);
			if (f->eof) {
				*code = 0;
				return 0;
			}
			rc = fill(f, err, errlen);
			if (rc == -1)
				*code = EX_IOERR;
			else if (rc == 0)
				*code = 0;
			if (rc != 1)
				return rc;
			continue;
		}
		if (f->off == 0) {
			if (memcmp(f->buf.p, BINLOG_MAGIC,
				BINLOG_MAGIC_LEN) != 0)
				return cdc_err(err, errlen, "%s: not a binlog "
				    "file (bad magic)", f->path);
			f->start += BINLOG_MAGIC_LEN;
			f->off = BINLOG_MAGIC_LEN;
			continue;
		}
		if (want < EVENT_HEADER)
			return cdc_err(err, errlen, "%s at %" PRIu64 ": event "
			    "size %" PRIu64 " is smaller than a header",
			    f->path, f->off, want);
		*ev = f->buf.p + f->start;
		*len = (size_t)want;
		*off = f->off;
		*code = 0;
		f->start += (size_t)want;
		f->off += want;
		return 1;
	}
}
