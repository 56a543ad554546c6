/* The stream reader: read(2) into a buffer, check the header, then hand out
 * frames one whole block at a time. A block is decoded and validated in full
 * before its first frame is returned, so a bad block passes nothing on. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avrobin.h"
#include "blockcodec.h"
#include "fingerprint.h"
#include "log.h"
#include "stream.h"

#define READ_CHUNK  (64 * 1024)
#define META_MAX    (16 << 20) /* a header larger than this is corrupt */
#define BLOCK_COUNT_MAX (64L << 20)

struct cdc_reader {
	int fd;
	char *name;
	struct cdc_buf in; /* bytes read; in.p[0] is stream offset base */
	size_t pos;        /* parse position in in */
	uint64_t base;
	int eof;
	int have_header;
	uint8_t sync[16];
	enum cdc_codec codec;
	struct cdc_fpmap meta;    /* header metadata, keyed by CRC of key */
	struct cdc_fpmap schemas; /* fingerprint -> schema JSON */
	struct cdc_buf plain;     /* decompressed block */
	struct cdc_frame *frames;
	size_t nframes, capframes, next;
	uint64_t done; /* offset after the last block handed out */
};

static uint64_t frame_schema_fp;

struct cdc_reader *
cdc_reader_new(int fd, const char *name)
{
	struct cdc_reader *r;

	r = cdc_xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->name = cdc_xstrdup(name);
	cdc_buf_init(&r->in);
	cdc_buf_init(&r->plain);
	cdc_fpmap_init(&r->meta);
	cdc_fpmap_init(&r->schemas);
	return r;
}

void
cdc_reader_free(struct cdc_reader *r)
{
	if (r == NULL)
		return;
	free(r->name);
	cdc_buf_fini(&r->in);
	cdc_buf_fini(&r->plain);
	cdc_fpmap_fini(&r->meta);
	cdc_fpmap_fini(&r->schemas);
	free(r->frames);
	free(r);
}

const char *
cdc_reader_schema(const struct cdc_reader *r, uint64_t fp, size_t *len)
{
	return cdc_fpmap_get(&r->schemas, fp, len);
}

const char *
cdc_reader_meta(const struct cdc_reader *r, const char *key)
{
	return cdc_fpmap_get(&r->meta, cdc_crc64_avro(key, strlen(key)), NULL);
}

uint64_t
cdc_reader_offset(const struct cdc_reader *r)
{
	return r->done;
}

int
cdc_reader_pending(const struct cdc_reader *r)
{
	return r->next < r->nframes;
}

const char *
cdc_frame_kind_name(enum cdc_frame_kind k)
{
	static const char *names[] = {"change", "schema", "commit", "ddl",
	    "heartbeat"};

	return (unsigned)k < CDC_FRAME_NKINDS ? names[k] : "?";
}

#define NEED_MORE 1

/* Message for a structural error at stream offset off. */
static int
corrupt(struct cdc_reader *r, uint64_t off, char *err, size_t errlen,
    const char *what)
{
	return cdc_err(err, errlen, "corrupt stream on %s at byte %" PRIu64
	    ": %s", r->name, off, what);
}

/* Decodes a varint for the container structure: NEED_MORE when the input
 * ends inside it (and more may come), -1 when it is malformed. */
static int
get_long(struct cdc_reader *r, const uint8_t **p, int64_t *v, char *err,
    size_t errlen)
{
	const uint8_t *end = r->in.p + r->in.len;
	uint64_t off = r->base + (uint64_t)(*p - r->in.p);
	int rc = cdc_avro_dec_long(p, end, v);

	if (rc == CDC_AVRO_SHORT)
		return NEED_MORE;
	if (rc == CDC_AVRO_BAD)
		return corrupt(r, off, err, errlen, "bad varint");
	return 0;
}

static int
parse_header(struct cdc_reader *r, char *err, size_t errlen)
{
	const uint8_t *p = r->in.p, *end = r->in.p + r->in.len, *k, *v;
	struct cdc_buf canon;
	const char *schema, *codec, *format;
	size_t kn, vn, sn;
	int64_t count, i, skip;
	uint64_t fp;
	int rc;
	char msg[CDC_ERRLEN];

	if (r->in.len < 4)
		return NEED_MORE;
	if (memcmp(p, "Obj\x01", 4) != 0)
		return corrupt(r, 0, err, errlen,
		    "bad magic (not an Avro object container file)");
	p += 4;
	for (;;) {
		if ((rc = get_long(r, &p, &count, err, errlen)) != 0)
			return rc;
		if (count == 0)
			break;
		if (count < 0) {
			count = -count;
			if ((rc = get_long(r, &p, &skip, err, errlen)) != 0)
				return rc;
		}
		for (i = 0; i < count; i++) {
			rc = cdc_avro_dec_bytes(&p, end, &k, &kn);
			if (rc == CDC_AVRO_OK)
				rc = cdc_avro_dec_bytes(&p, end, &v, &vn);
			if (rc == CDC_AVRO_BAD)
				return corrupt(r, (uint64_t)(p - r->in.p), err,
				    errlen, "bad header metadata");
			if (rc == CDC_AVRO_SHORT) {
				if (r->in.len > META_MAX)
					return corrupt(r, 4, err, errlen,
					    "header metadata too large");
				return NEED_MORE;
			}
			cdc_fpmap_put(&r->meta, cdc_crc64_avro(k, kn),
			    (const char *)v, vn);
		}
	}
	if ((size_t)(end - p) < 16)
		return NEED_MORE;
	memcpy(r->sync, p, 16);
	p += 16;

	schema = cdc_fpmap_get(&r->meta, cdc_crc64_avro("avro.schema", 11),
	    &sn);
	if (schema == NULL)
		return corrupt(r, 4, err, errlen, "header has no avro.schema");
	if (frame_schema_fp == 0 &&
	    cdc_schema_fingerprint(CDC_FRAME_SCHEMA, strlen(CDC_FRAME_SCHEMA),
		&frame_schema_fp, NULL, 0) == -1)
		return cdc_err(err, errlen, "internal: bad frame schema");
	cdc_buf_init(&canon);
	rc = cdc_schema_canonical(schema, sn, &canon, msg, sizeof(msg));
	fp = rc == 0 ? cdc_crc64_avro(canon.p, canon.len) : 0;
	cdc_buf_fini(&canon);
	if (rc == -1 || fp != frame_schema_fp)
		return corrupt(r, 4, err, errlen,
		    "not a change stream: the header's schema is not the frame "
		    "schema of docs/stream.md");
	format = cdc_reader_meta(r, "cdc.format");
	if (format == NULL)
		return corrupt(r, 4, err, errlen,
		    "not a change stream: no cdc.format in the header");
	if (strcmp(format, CDC_STREAM_FORMAT) != 0)
		return cdc_err(err, errlen,
		    "unsupported stream format '%s' on %s (this tool reads "
		    "format %s)", format, r->name, CDC_STREAM_FORMAT);
	codec = cdc_reader_meta(r, "avro.codec");
	r->codec = CDC_CODEC_NULL;
	if (codec != NULL &&
	    cdc_codec_parse(codec, strlen(codec), &r->codec) == -1)
		return corrupt(r, 4, err, errlen, "unknown avro.codec");
	r->pos = (size_t)(p - r->in.p);
	r->have_header = 1;
	return 0;
}

/* Frame decoding: a short or bad item inside a block is corruption. */
struct fcur {
	const uint8_t *p, *start, *end;
};

static int
f_long(struct fcur *c, int64_t *v)
{
	return cdc_avro_dec_long(&c->p, c->end, v) == CDC_AVRO_OK ? 0 : -1;
}

static int
f_str(struct fcur *c, struct cdc_slice *s)
{
	return cdc_avro_dec_bytes(&c->p, c->end, &s->p, &s->len) ==
		CDC_AVRO_OK ?
	    0 :
	    -1;
}

static int
f_opt(struct fcur *c, struct cdc_slice *s)
{
	int64_t b;

	if (f_long(c, &b) == -1 || (b != 0 && b != 1))
		return -1;
	if (b == 0) {
		s->p = NULL;
		s->len = 0;
		return 0;
	}
	if (f_str(c, s) == -1)
		return -1;
	if (s->p == NULL)
		s->p = c->p; /* a zero-length value is not null */
	return 0;
}

/* Checks that single-object bytes carry an announced fingerprint. */
static const char *
check_soe(const struct cdc_reader *r, const struct cdc_slice *s)
{
	uint64_t fp;

	if (s->p == NULL)
		return NULL;
	if (cdc_soe_fingerprint(s->p, s->len, &fp) == -1)
		return "not single-object encoded (no C3 01 marker)";
	if (cdc_fpmap_get(&r->schemas, fp, NULL) == NULL)
		return "unknown fingerprint (schema not announced before)";
	return NULL;
}

static int
decode_frame(struct cdc_reader *r, struct fcur *c, struct cdc_frame *f,
    const char **why)
{
	int64_t kind;

	memset(f, 0, sizeof(*f));
	if (f_long(c, &kind) == -1)
		return -1;
	if (kind < 0 || kind >= CDC_FRAME_NKINDS) {
		*why = "unknown frame kind";
		return -1;
	}
	f->kind = (enum cdc_frame_kind)kind;
	switch (f->kind) {
	case CDC_FRAME_CHANGE:
		if (f_str(c, &f->topic) == -1 || f_opt(c, &f->key) == -1 ||
		    f_opt(c, &f->value) == -1 ||
		    f_str(c, &f->position) == -1 ||
		    f_long(c, &f->version) == -1)
			return -1;
		if ((*why = check_soe(r, &f->key)) != NULL ||
		    (*why = check_soe(r, &f->value)) != NULL)
			return -1;
		break;
	case CDC_FRAME_SCHEMA_ANN:
		if (c->end - c->p < 8)
			return -1;
		f->fingerprint = cdc_le64(c->p);
		c->p += 8;
		if (f_str(c, &f->schema) == -1)
			return -1;
		cdc_fpmap_put(&r->schemas, f->fingerprint,
		    (const char *)f->schema.p, f->schema.len);
		break;
	case CDC_FRAME_COMMIT:
		if (f_long(c, &f->seq) == -1 || f_str(c, &f->position) == -1 ||
		    f_long(c, &f->version) == -1 || f_long(c, &f->ts_ms) == -1)
			return -1;
		break;
	case CDC_FRAME_DDL:
		if (f_str(c, &f->position) == -1 ||
		    f_str(c, &f->database) == -1 ||
		    f_str(c, &f->statement) == -1 ||
		    f_long(c, &f->ts_ms) == -1)
			return -1;
		break;
	case CDC_FRAME_HEARTBEAT:
		if (f_str(c, &f->position) == -1 || f_long(c, &f->ts_ms) == -1)
			return -1;
		break;
	default:
		return -1;
	}
	return 0;
}

/* Parses the block at r->pos if it is complete. */
static int
parse_block(struct cdc_reader *r, char *err, size_t errlen)
{
	const uint8_t *p = r->in.p + r->pos, *data;
	uint64_t off = r->base + r->pos, doff;
	int64_t count, size, i;
	struct fcur c;
	const char *why;
	char msg[CDC_ERRLEN], detail[CDC_ERRLEN + 64];
	int rc;

	if ((rc = get_long(r, &p, &count, err, errlen)) != 0)
		return rc;
	if ((rc = get_long(r, &p, &size, err, errlen)) != 0)
		return rc;
	if (count < 0 || count > BLOCK_COUNT_MAX)
		return corrupt(r, off, err, errlen, "bad block object count");
	if (size < 0 || (uint64_t)size > CDC_BLOCK_MAX)
		return corrupt(r, off, err, errlen, "bad block size");
	if ((uint64_t)(r->in.p + r->in.len - p) < (uint64_t)size + 16)
		return NEED_MORE;
	data = p;
	doff = r->base + (uint64_t)(p - r->in.p);
	if (memcmp(p + size, r->sync, 16) != 0)
		return corrupt(r, doff + (uint64_t)size, err, errlen,
		    "bad sync marker");
	if (r->codec == CDC_CODEC_NULL) {
		c.start = data;
		c.end = data + size;
	} else {
		if (cdc_codec_decompress(r->codec, data, (size_t)size,
			&r->plain, msg, sizeof(msg)) == -1)
			return corrupt(r, doff, err, errlen, msg);
		c.start = r->plain.p;
		c.end = r->plain.p + r->plain.len;
	}
	c.p = c.start;
	if ((size_t)count > r->capframes) {
		r->capframes = (size_t)count;
		free(r->frames);
		r->frames = cdc_xcalloc(r->capframes, sizeof(*r->frames));
	}
	for (i = 0; i < count; i++) {
		why = "frame does not decode";
		if (decode_frame(r, &c, &r->frames[i], &why) == -1) {
			snprintf(detail, sizeof(detail),
			    "block at byte %" PRIu64 ", frame %" PRId64
			    " at block data byte %zu: %s", off, i,
			    (size_t)(c.p - c.start), why);
			return corrupt(r,
			    r->codec == CDC_CODEC_NULL ?
				doff + (uint64_t)(c.p - c.start) :
				doff,
			    err, errlen, detail);
		}
	}
	if (c.p != c.end)
		return corrupt(r, doff + (uint64_t)(c.p - c.start), err,
		    errlen, "block has bytes after its last frame");
	r->nframes = (size_t)count;
	r->next = 0;
	r->pos = (size_t)(data - r->in.p) + (size_t)size + 16;
	r->done = r->base + r->pos;
	return 0;
}

/* Drops consumed input so the buffer does not grow with the stream. */
static void
compact(struct cdc_reader *r)
{
	if (r->pos == 0)
		return;
	cdc_buf_consume(&r->in, r->pos);
	r->base += r->pos;
	r->pos = 0;
}

static int
fill(struct cdc_reader *r, char *err, size_t errlen)
{
	ssize_t n;

	n = read(r->fd, cdc_buf_reserve(&r->in, READ_CHUNK), READ_CHUNK);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return CDC_READ_AGAIN;
		return cdc_err(err, errlen, "cannot read %s: %s", r->name,
		    strerror(errno));
	}
	if (n == 0)
		r->eof = 1;
	r->in.len += (size_t)n;
	return 0;
}

int
cdc_reader_next(struct cdc_reader *r, struct cdc_frame *f, char *err,
    size_t errlen)
{
	int rc;

	if (r->next < r->nframes) {
		*f = r->frames[r->next++];
		return 1;
	}
	r->nframes = r->next = 0;
	compact(r);
	for (;;) {
		if (!r->have_header)
			rc = parse_header(r, err, errlen);
		else if (r->pos == r->in.len && r->eof)
			return 0;
		else if (r->pos == r->in.len)
			rc = NEED_MORE;
		else
			rc = parse_block(r, err, errlen);
		if (rc == -1)
			return -1;
		if (rc == 0 && r->nframes > 0) {
			*f = r->frames[r->next++];
			return 1;
		}
		if (rc == 0)
			continue; /* the header, or an empty block */
		if (r->eof) {
			if (!r->have_header && r->in.len == 0)
				return corrupt(r, 0, err, errlen,
				    "empty input (no stream header)");
			return corrupt(r, r->base + r->in.len, err, errlen,
			    r->have_header ? "truncated block" :
					     "truncated header");
		}
		rc = fill(r, err, errlen);
		if (rc != 0)
			return rc;
	}
}
