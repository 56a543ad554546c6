/* The files source: reads binlog files (binlogfile.c) and feeds their
 * events to the decoder between the start and stop positions and times. */
#include <errno.h>
#include <string.h>

#include "binlog.h"
#include "binlogfile.h"
#include "files.h"
#include "log.h"
#include "sys.h"

/* Whether the event at offset off ends the run. */
static int
stop_here(const struct b2a_options *o, const uint8_t *ev, uint64_t off,
    int last)
{
	if (cdc_stop)
		return 1;
	if (last && o->stop_position >= 0 &&
	    off >= (uint64_t)o->stop_position)
		return 1;
	return o->stop_time >= 0 &&
	    (int64_t)b2a_le(ev + HDR_TIMESTAMP, 4) >= o->stop_time &&
	    ev[HDR_TYPE] != EV_FORMAT_DESCRIPTION;
}

/* Whether the event is before the start: then only what sets up decoding
 * is read, the format description (and before a start time the table maps,
 * which rows after it need). */
static int
before_start(const struct b2a_options *o, const uint8_t *ev, uint64_t off,
    int first)
{
	int type = ev[HDR_TYPE];

	if (first && off < (uint64_t)o->start_position &&
	    type != EV_FORMAT_DESCRIPTION)
		return 1;
	return o->start_time >= 0 &&
	    (int64_t)b2a_le(ev + HDR_TIMESTAMP, 4) < o->start_time &&
	    type != EV_FORMAT_DESCRIPTION && type != EV_TABLE_MAP;
}

int
b2a_file_decode(struct b2a_decoder *d, const char *path, int first,
    int last, const struct b2a_options *o, int *stopped)
{
	struct b2a_evfile f;
	const uint8_t *ev;
	size_t len;
	uint64_t off;
	int io, rc, code;
	char err[CDC_ERRLEN];
	const char *base = strrchr(path, '/');

	if (b2a_evfile_open(&f, path) == -1) {
		cdc_error("cannot open '%s': %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	b2a_decoder_file(d, base != NULL ? base + 1 : path);
	for (;;) {
		rc = b2a_evfile_next(&f, &ev, &len, &off, &code, err,
		    sizeof(err));
		if (rc == 0)
			break;
		if (rc == -1) {
			cdc_error("%s", err);
			break;
		}
		if (stop_here(o, ev, off, last)) {
			*stopped = 1;
			break;
		}
		if (before_start(o, ev, off, first))
			continue;
		if (b2a_decoder_event(d, ev, len, off, &io, err,
			sizeof(err)) == -1) {
			if (io)
				cdc_epipe_check(errno); /* silent 141 */
			cdc_error("%s", err);
			code = io ? EX_IOERR : b2a_decoder_failure(d);
			break;
		}
		b2a_metrics_event(d);
	}
	b2a_evfile_close(&f);
	return code;
}
