/* Framing of binlog files (binlogfile.c): a file's bytes in, whole events
 * out, checked against the magic and the header's event size only. Knows
 * nothing of the decoder. */
#ifndef B2A_BINLOGFILE_H
#define B2A_BINLOGFILE_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

struct b2a_evfile {
	const char *path; /* for messages; the caller keeps it */
	int fd;
	struct cdc_buf buf;
	size_t have, start; /* buf.p[start..have) is unread */
	uint64_t off;       /* file offset of buf.p[start] */
	int eof;
};

/* Opens path; -1 with errno set. Close with b2a_evfile_close(). */
int b2a_evfile_open(struct b2a_evfile *f, const char *path);
void b2a_evfile_close(struct b2a_evfile *f);
/* The next whole event: *ev (valid until the next call), *len and its file
 * offset *off. Returns 1, 0 at the end of the file (or when a signal
 * stopped a read), both with *code 0, or -1 with err set and *code the
 * exit code: EX_DATAERR for a file that is not a binlog or ends inside an
 * event, EX_IOERR for a read error. */
int b2a_evfile_next(struct b2a_evfile *f, const uint8_t **ev, size_t *len,
    uint64_t *off, int *code, char *err, size_t errlen);

#endif
