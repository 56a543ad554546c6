/* The change stream of docs/stream.md: an Avro object container file whose
 * items are frames. Writer and reader work on raw file descriptors. */
#ifndef CDC_STREAM_H
#define CDC_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "fpmap.h"
#include "mem.h"

#define CDC_STREAM_FORMAT "1"

/* The frame schema; the union order is the frame kind. */
#define CDC_FRAME_SCHEMA                                                      \
	"[{\"type\":\"record\",\"name\":\"Change\",\"namespace\":"            \
	"\"cdc.stream\",\"fields\":["                                         \
	"{\"name\":\"topic\",\"type\":\"string\"},"                           \
	"{\"name\":\"key\",\"type\":[\"null\",\"bytes\"]},"                   \
	"{\"name\":\"value\",\"type\":[\"null\",\"bytes\"]},"                 \
	"{\"name\":\"position\",\"type\":\"string\"},"                        \
	"{\"name\":\"version\",\"type\":\"long\"}]},"                         \
	"{\"type\":\"record\",\"name\":\"Schema\",\"namespace\":"             \
	"\"cdc.stream\",\"fields\":["                                         \
	"{\"name\":\"fingerprint\",\"type\":{\"type\":\"fixed\",\"name\":"    \
	"\"Fingerprint\",\"size\":8}},"                                       \
	"{\"name\":\"schema\",\"type\":\"string\"}]},"                        \
	"{\"type\":\"record\",\"name\":\"Commit\",\"namespace\":"             \
	"\"cdc.stream\",\"fields\":["                                         \
	"{\"name\":\"seq\",\"type\":\"long\"},"                               \
	"{\"name\":\"position\",\"type\":\"string\"},"                        \
	"{\"name\":\"version\",\"type\":\"long\"},"                           \
	"{\"name\":\"ts_ms\",\"type\":\"long\"}]},"                           \
	"{\"type\":\"record\",\"name\":\"Ddl\",\"namespace\":"                \
	"\"cdc.stream\",\"fields\":["                                         \
	"{\"name\":\"position\",\"type\":\"string\"},"                        \
	"{\"name\":\"database\",\"type\":\"string\"},"                        \
	"{\"name\":\"statement\",\"type\":\"string\"},"                       \
	"{\"name\":\"ts_ms\",\"type\":\"long\"}]},"                           \
	"{\"type\":\"record\",\"name\":\"Heartbeat\",\"namespace\":"          \
	"\"cdc.stream\",\"fields\":["                                         \
	"{\"name\":\"position\",\"type\":\"string\"},"                        \
	"{\"name\":\"now_ms\",\"type\":\"long\"}]}]"

enum cdc_frame_kind {
	CDC_FRAME_CHANGE,
	CDC_FRAME_SCHEMA_ANN,
	CDC_FRAME_COMMIT,
	CDC_FRAME_DDL,
	CDC_FRAME_HEARTBEAT,
	CDC_FRAME_NKINDS
};

enum cdc_codec {
	CDC_CODEC_NULL,
	CDC_CODEC_DEFLATE,
	CDC_CODEC_ZSTD
};

/* A run of bytes; p == NULL is Avro null (for key and value). */
struct cdc_slice {
	const uint8_t *p;
	size_t len;
};

/* One frame. Which fields count depends on kind (docs/stream.md, section 2):
 * change: topic key value position version; schema: fingerprint schema;
 * commit: seq position version ts_ms; ddl: position database statement ts_ms;
 * heartbeat: position ts_ms (now_ms in the schema). */
struct cdc_frame {
	enum cdc_frame_kind kind;
	struct cdc_slice topic, key, value, position, schema, database,
	    statement;
	uint64_t fingerprint;
	int64_t version, seq, ts_ms;
};

/* Writer. */

struct cdc_writer;

/* Creates a writer on fd and writes the stream header at once. producer is
 * "tool version". Returns NULL with the reason in err. */
struct cdc_writer *cdc_writer_new(int fd, const char *producer,
    enum cdc_codec codec, char *err, size_t errlen);
/* Ends blocks when their data reaches n bytes (default 64 KiB). */
void cdc_writer_set_block_size(struct cdc_writer *w, size_t n);
/* Ends a block after every frame (-u). */
void cdc_writer_set_unbuffered(struct cdc_writer *w, int on);
/* Appends a frame; a commit or heartbeat ends the block and writes it out.
 * A change whose key or value uses a fingerprint not announced in this
 * stream is refused. Returns 0, or -1 with err set; after a failed write(2)
 * errno is left as write(2) set it. */
int cdc_writer_put(struct cdc_writer *w, const struct cdc_frame *f, char *err,
    size_t errlen);
/* Whether a schema was announced on this stream. */
int cdc_writer_announced(const struct cdc_writer *w, uint64_t fp);
/* Writes out the current block, if any. Same errors as cdc_writer_put. */
int cdc_writer_flush(struct cdc_writer *w, char *err, size_t errlen);
/* Holding: while on, finished blocks are kept (in memory, spilling to a
 * temporary file past limit bytes) instead of written, so a producer can
 * emit a transaction only once it is complete. cdc_writer_release() writes
 * what is held, in order; cdc_writer_discard() drops it. */
void cdc_writer_hold(struct cdc_writer *w, size_t limit);
int cdc_writer_release(struct cdc_writer *w, char *err, size_t errlen);
void cdc_writer_discard(struct cdc_writer *w);
/* Bytes written to fd so far. */
uint64_t cdc_writer_offset(const struct cdc_writer *w);
/* Frees the writer without flushing; NULL is a no-op. */
void cdc_writer_free(struct cdc_writer *w);

/* A pause in a stage's input: CDC_PAUSE_MS without input. A stage that
 * holds data back to batch it (avro2kafka's transaction, kafka2ch's
 * commit mark, chload's insert) lets it go at a pause rather than wait
 * for its interval or linger, so that a trickle is seen downstream at
 * once. The Kafka tools do so at most every CDC_PAUSE_GAP_MS: a catch-up
 * reads faster than it is fed and finds its input empty between blocks,
 * and each transaction or mark costs the broker a request
 * (docs/stream.md, "Pauses"). */
#define CDC_PAUSE_MS     10
#define CDC_PAUSE_GAP_MS 50

/* How long a Kafka tool with data held back waits for input, the last
 * pause having acted age ms ago: until a pause can act again, at least
 * CDC_PAUSE_MS. Input that does not come in that time is a pause that
 * acts (age is then at least CDC_PAUSE_GAP_MS). */
static inline int
cdc_pause_wait(int64_t age)
{
	return age < CDC_PAUSE_GAP_MS - CDC_PAUSE_MS ?
	    (int)(CDC_PAUSE_GAP_MS - age) :
	    CDC_PAUSE_MS;
}

/* Reader. */

#define CDC_READ_AGAIN (-2) /* no whole block yet: fd would block or EINTR */

struct cdc_reader;

/* Creates a reader on fd; name is used in messages ("stdin"). */
struct cdc_reader *cdc_reader_new(int fd, const char *name);
/* Returns 1 with the next frame in *f, 0 at the end of the stream, -1 on
 * corrupt input or a read error (err names the byte offset), or
 * CDC_READ_AGAIN when fd is non-blocking and the next block is incomplete,
 * or read(2) was interrupted by a signal. The frame's bytes belong to the
 * reader and stay valid until the next call. Nothing of a block is returned
 * before the whole block has arrived and decoded. */
int cdc_reader_next(struct cdc_reader *r, struct cdc_frame *f, char *err,
    size_t errlen);
/* The announced schema JSON of a fingerprint, or NULL. Owned by the reader. */
const char *cdc_reader_schema(const struct cdc_reader *r, uint64_t fp,
    size_t *len);
/* Header metadata value (e.g. "cdc.producer"), or NULL. Owned by the reader;
 * available once the first call of cdc_reader_next has read the header. */
const char *cdc_reader_meta(const struct cdc_reader *r, const char *key);
/* Stream byte offset just after the last block handed out. */
uint64_t cdc_reader_offset(const struct cdc_reader *r);
/* Whether frames of the current block remain to be returned, so a caller
 * polling the fd must call cdc_reader_next before waiting. */
int cdc_reader_pending(const struct cdc_reader *r);
void cdc_reader_free(struct cdc_reader *r);

const char *cdc_frame_kind_name(enum cdc_frame_kind k);

#endif
