/* The acknowledgement channel of docs/stream.md section 6: text lines
 * "ack SEQ POSITION\n" from a downstream stage to an upstream one. */
#ifndef CDC_ACK_H
#define CDC_ACK_H

#include <stddef.h>
#include <stdint.h>

#define CDC_ACK_EOF (-2)

/* Sends one acknowledgement in a single write(2) (atomic on a pipe up to
 * PIPE_BUF bytes). Returns 0, or -1 with err set and errno from write(2). */
int cdc_ack_send(int fd, int64_t seq, const char *pos, size_t poslen,
    char *err, size_t errlen);

struct cdc_ack_reader;

struct cdc_ack_reader *cdc_ack_reader_new(int fd);
void cdc_ack_reader_free(struct cdc_ack_reader *r);
/* Reads what the fd has (one read(2); make the fd non-blocking or poll it
 * first) and parses complete lines. Returns 1 when an acknowledgement newer
 * than the last one returned arrived: *seq and *pos (owned by the reader,
 * valid until the next call) are the newest; 0 when nothing new;
 * CDC_ACK_EOF when the writer closed the channel; -1 on a malformed line or
 * a sequence number going backwards (err says which). */
int cdc_ack_reader_poll(struct cdc_ack_reader *r, int64_t *seq,
    const char **pos, char *err, size_t errlen);

#endif
