/* The stream writer: header, frames into blocks, blocks out with write(2). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif

#include "avrobin.h"
#include "blockcodec.h"
#include "fingerprint.h"
#include "log.h"
#include "stream.h"
#include "sys.h"

#define DEFAULT_BLOCK_SIZE (64 * 1024)
/* Room kept in front of a block for its count and size varints. */
#define GAP (2 * CDC_VARINT_MAX)

struct cdc_writer {
	int fd;
	enum cdc_codec codec;
	uint8_t sync[16];
	struct cdc_buf block; /* frames of the current block */
	long count;           /* frames in it */
	struct cdc_buf out;   /* the block as written */
	size_t block_size;
	int unbuffered;
	struct cdc_fpmap announced; /* values unused: a set */
	/* The last two fingerprints found announced: every change checks its
	 * key's and value's, and they are nearly always the last ones. */
	uint64_t recent[2];
	int nrecent;
	int holding;
	size_t hold_limit;
	/* Held blocks in memory, each the buffer it was built in (handed
	 * over, not copied); the first nheld are in use, the rest kept for
	 * reuse. Past hold_limit bytes, the rest go to a temporary file. */
	struct held *held;
	size_t nheld, capheld, held_bytes;
	FILE *spill;
};

struct held {
	struct cdc_buf b;
	size_t start; /* the block is b.p[start..b.len) */
};

/* A sync marker only has to be unlikely to occur in data; /dev/urandom,
 * or the clock and pid when it cannot be read. */
static void
make_sync(uint8_t sync[16])
{
	struct timespec ts;
	uint64_t a, b;
	int fd;

	fd = open("/dev/urandom", O_RDONLY);
	if (fd != -1) {
		ssize_t n = read(fd, sync, 16);

		close(fd);
		if (n == 16)
			return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	a = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	b = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ a;
	cdc_put_le64(sync, a);
	cdc_put_le64(sync + 8, b);
}

static void
put_meta(struct cdc_buf *b, const char *key, const char *val)
{
	cdc_avro_put_bytes(b, key, strlen(key));
	cdc_avro_put_bytes(b, val, strlen(val));
}

/* Takes *b as the next held block, b->p[start..b->len), and gives *b an
 * empty buffer in exchange: a block is built once and never copied. */
static void
hold_buf(struct cdc_writer *w, struct cdc_buf *b, size_t start)
{
	struct held *h;
	struct cdc_buf spare;

	if (w->nheld == w->capheld) {
		w->capheld = w->capheld == 0 ? 16 : w->capheld * 2;
		w->held = cdc_xrealloc(w->held, w->capheld * sizeof(*w->held));
		memset(w->held + w->nheld, 0,
		    (w->capheld - w->nheld) * sizeof(*w->held));
	}
	h = &w->held[w->nheld++];
	spare = h->b;
	h->b = *b;
	h->start = start;
	w->held_bytes += b->len - start;
	*b = spare;
	b->len = 0;
}

/* Whether n more bytes go to the spill file; creates it when they are the
 * first. */
static int
spilling(struct cdc_writer *w, size_t n, char *err, size_t errlen)
{
	if (w->spill == NULL && w->held_bytes + n > w->hold_limit) {
		w->spill = tmpfile();
		if (w->spill == NULL)
			return cdc_err(err, errlen,
			    "cannot create a spill file for a large "
			    "transaction: %s", strerror(errno));
	}
	return w->spill != NULL;
}

static int
write_out(struct cdc_writer *w, const uint8_t *p, size_t n, char *err,
    size_t errlen)
{
	if (w->holding) {
		struct cdc_buf copy;
		int rc = spilling(w, n, err, errlen);

		if (rc == -1)
			return -1;
		if (rc == 0) {
			cdc_buf_init(&copy);
			cdc_buf_append(&copy, p, n);
			hold_buf(w, &copy, 0);
			cdc_buf_fini(&copy);
			return 0;
		}
		if (fwrite(p, 1, n, w->spill) != n)
			return cdc_err(err, errlen,
			    "cannot write the spill file: %s",
			    strerror(errno));
		return 0;
	}
	if (cdc_write_full(w->fd, p, n) == -1)
		return cdc_err(err, errlen, "cannot write stream: %s",
		    strerror(errno));
	return 0;
}

struct cdc_writer *
cdc_writer_new(int fd, const char *producer, enum cdc_codec codec, char *err,
    size_t errlen)
{
	struct cdc_writer *w;
	struct cdc_buf h;

	w = cdc_xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->codec = codec;
	w->block_size = DEFAULT_BLOCK_SIZE;
	cdc_buf_init(&w->block);
	cdc_buf_reserve(&w->block, GAP);
	w->block.len = GAP;
	cdc_buf_init(&w->out);
	cdc_fpmap_init(&w->announced);
	make_sync(w->sync);

	cdc_buf_init(&h);
	cdc_buf_append(&h, "Obj\x01", 4);
	cdc_avro_put_long(&h, 4);
	put_meta(&h, "avro.schema", CDC_FRAME_SCHEMA);
	put_meta(&h, "avro.codec", cdc_codec_name(codec));
	put_meta(&h, "cdc.format", CDC_STREAM_FORMAT);
	put_meta(&h, "cdc.producer", producer);
	cdc_avro_put_long(&h, 0);
	cdc_buf_append(&h, w->sync, 16);
	if (write_out(w, h.p, h.len, err, errlen) == -1) {
		int saved = errno;

		cdc_buf_fini(&h);
		cdc_writer_free(w);
		errno = saved;
		return NULL;
	}
	cdc_buf_fini(&h);
	return w;
}

void
cdc_writer_set_block_size(struct cdc_writer *w, size_t n)
{
	w->block_size = n == 0 ? 1 : n;
}

void
cdc_writer_set_unbuffered(struct cdc_writer *w, int on)
{
	w->unbuffered = on;
}

int
cdc_writer_announced(const struct cdc_writer *w, uint64_t fp)
{
	int i;

	for (i = 0; i < w->nrecent; i++)
		if (fp == w->recent[i])
			return 1;
	return cdc_fpmap_get(&w->announced, fp, NULL) != NULL;
}

/* Remembers fp, which is announced, as the most recent. */
static void
remember(struct cdc_writer *w, uint64_t fp)
{
	if (w->nrecent > 0 && fp == w->recent[0])
		return;
	w->recent[1] = w->recent[0];
	w->recent[0] = fp;
	if (w->nrecent < 2)
		w->nrecent++;
}

static int
check_soe(struct cdc_writer *w, const char *what,
    const struct cdc_slice *s, char *err, size_t errlen)
{
	uint64_t fp;

	if (s->p == NULL)
		return 0;
	if (cdc_soe_fingerprint(s->p, s->len, &fp) == -1)
		return cdc_err(err, errlen,
		    "change %s is not single-object encoded", what);
	if (!cdc_writer_announced(w, fp))
		return cdc_err(err, errlen,
		    "change %s uses schema %016llx before it was announced",
		    what, (unsigned long long)fp);
	remember(w, fp);
	return 0;
}

static void
put_str(struct cdc_buf *b, const struct cdc_slice *s)
{
	cdc_avro_put_bytes(b, s->p, s->len);
}

static void
put_opt(struct cdc_buf *b, const struct cdc_slice *s)
{
	if (s->p == NULL) {
		cdc_avro_put_long(b, 0);
	} else {
		cdc_avro_put_long(b, 1);
		cdc_avro_put_bytes(b, s->p, s->len);
	}
}

int
cdc_writer_put(struct cdc_writer *w, const struct cdc_frame *f, char *err,
    size_t errlen)
{
	struct cdc_buf *b = &w->block;
	int end_block = w->unbuffered;

	switch (f->kind) {
	case CDC_FRAME_CHANGE:
		if (check_soe(w, "key", &f->key, err, errlen) == -1 ||
		    check_soe(w, "value", &f->value, err, errlen) == -1)
			return -1;
		cdc_avro_put_long(b, CDC_FRAME_CHANGE);
		put_str(b, &f->topic);
		put_opt(b, &f->key);
		put_opt(b, &f->value);
		put_str(b, &f->position);
		cdc_avro_put_long(b, f->version);
		break;
	case CDC_FRAME_SCHEMA_ANN:
		cdc_avro_put_long(b, CDC_FRAME_SCHEMA_ANN);
		cdc_put_le64(cdc_buf_reserve(b, 8), f->fingerprint);
		b->len += 8;
		put_str(b, &f->schema);
		cdc_fpmap_put(&w->announced, f->fingerprint, "", 0);
		break;
	case CDC_FRAME_COMMIT:
		cdc_avro_put_long(b, CDC_FRAME_COMMIT);
		cdc_avro_put_long(b, f->seq);
		put_str(b, &f->position);
		cdc_avro_put_long(b, f->version);
		cdc_avro_put_long(b, f->ts_ms);
		end_block = 1;
		break;
	case CDC_FRAME_DDL:
		cdc_avro_put_long(b, CDC_FRAME_DDL);
		put_str(b, &f->position);
		put_str(b, &f->database);
		put_str(b, &f->statement);
		cdc_avro_put_long(b, f->ts_ms);
		break;
	case CDC_FRAME_HEARTBEAT:
		cdc_avro_put_long(b, CDC_FRAME_HEARTBEAT);
		put_str(b, &f->position);
		cdc_avro_put_long(b, f->ts_ms);
		end_block = 1;
		break;
	default:
		return cdc_err(err, errlen, "unknown frame kind %d",
		    (int)f->kind);
	}
	w->count++;
	if (end_block || b->len - GAP >= w->block_size)
		return cdc_writer_flush(w, err, errlen);
	return 0;
}

int
cdc_writer_flush(struct cdc_writer *w, char *err, size_t errlen)
{
	struct cdc_buf *o;
	uint8_t hdr[GAP];
	size_t hn, datalen = w->block.len - GAP;
	int rc;

	if (w->count == 0)
		return 0;
	hn = cdc_avro_enc_long(hdr, w->count);
	if (w->codec == CDC_CODEC_NULL) {
		/* The block is its own data: the varints go into the gap in
		 * front of it, and it is written without a copy. */
		o = &w->block;
	} else {
		o = &w->out;
		o->len = 0;
		cdc_buf_reserve(o, GAP + datalen + 16);
		o->len = GAP;
		if (cdc_codec_compress(w->codec, w->block.p + GAP, datalen, o,
			err, errlen) == -1)
			return -1;
		datalen = o->len - GAP;
	}
	hn += cdc_avro_enc_long(hdr + hn, (int64_t)datalen);
	memcpy(o->p + GAP - hn, hdr, hn);
	cdc_buf_append(o, w->sync, 16);
	w->count = 0;
	if (w->holding) {
		int sp = spilling(w, datalen + hn + 16, err, errlen);

		if (sp == -1)
			return -1;
		if (sp == 0) {
			hold_buf(w, o, GAP - hn);
			/* A whole block at once: a new buffer grown by doubling
			 * would copy its block several times over. */
			cdc_buf_reserve(&w->block, GAP + 2 * w->block_size);
			w->block.len = GAP;
			return 0;
		}
	}
	rc = write_out(w, o->p + GAP - hn, datalen + hn + 16, err, errlen);
	w->block.len = GAP;
	return rc;
}

void
cdc_writer_hold(struct cdc_writer *w, size_t limit)
{
	w->holding = 1;
	w->hold_limit = limit;
}

/* Copies the spill file to the stream: in the kernel with sendfile(2) where
 * it can (no copy through this process; to a pipe, pages are moved), else
 * through a buffer. */
static int
release_spill(struct cdc_writer *w, char *err, size_t errlen)
{
	uint8_t chunk[65536];
	size_t n;
	int rc = 0;

	if (fflush(w->spill) == EOF)
		return cdc_err(err, errlen, "cannot write the spill file: %s",
		    strerror(errno));
#ifdef __linux__
	{
		off_t off = 0, size = lseek(fileno(w->spill), 0, SEEK_END);
		ssize_t k = 0;

		while (off < size) {
			k = sendfile(w->fd, fileno(w->spill), &off,
			    (size_t)(size - off));
			if (k == -1 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
		}
		if (off == size)
			return 0;
		if (k == -1 && errno != EINVAL && errno != ENOSYS)
			return cdc_err(err, errlen,
			    "cannot write stream: %s", strerror(errno));
		/* Not for this pair of files: the rest through a buffer. */
		if (fseeko(w->spill, off, SEEK_SET) == -1)
			return cdc_err(err, errlen,
			    "cannot read the spill file: %s", strerror(errno));
	}
#else
	rewind(w->spill);
#endif
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), w->spill)) > 0)
		rc = write_out(w, chunk, n, err, errlen);
	if (rc == 0 && ferror(w->spill))
		rc = cdc_err(err, errlen, "cannot read the spill file: %s",
		    strerror(errno));
	return rc;
}

int
cdc_writer_release(struct cdc_writer *w, char *err, size_t errlen)
{
	size_t i;
	int rc = 0;

	w->holding = 0;
	/* Memory first: the spill file only ever holds what came after. */
	for (i = 0; i < w->nheld && rc == 0; i++)
		rc = write_out(w, w->held[i].b.p + w->held[i].start,
		    w->held[i].b.len - w->held[i].start, err, errlen);
	w->nheld = 0;
	w->held_bytes = 0;
	if (w->spill != NULL) {
		if (rc == 0)
			rc = release_spill(w, err, errlen);
		fclose(w->spill);
		w->spill = NULL;
	}
	return rc;
}

void
cdc_writer_discard(struct cdc_writer *w)
{
	w->holding = 0;
	w->nheld = 0;
	w->held_bytes = 0;
	if (w->spill != NULL)
		fclose(w->spill);
	w->spill = NULL;
	w->block.len = GAP;
	w->count = 0;
}

void
cdc_writer_free(struct cdc_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	if (w->spill != NULL)
		fclose(w->spill);
	for (i = 0; i < w->capheld; i++)
		cdc_buf_fini(&w->held[i].b);
	free(w->held);
	cdc_buf_fini(&w->block);
	cdc_buf_fini(&w->out);
	cdc_fpmap_fini(&w->announced);
	free(w);
}
