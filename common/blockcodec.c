/* deflate (raw RFC 1951, as Avro specifies) and zstandard block codecs. */
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "blockcodec.h"
#include "log.h"

static const char *names[] = {"null", "deflate", "zstandard"};

const char *
cdc_codec_name(enum cdc_codec c)
{
	return names[c];
}

int
cdc_codec_parse(const char *s, size_t n, enum cdc_codec *c)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0) {
			*c = (enum cdc_codec)i;
			return 0;
		}
	}
	return -1;
}

static int
deflate_block(const uint8_t *in, size_t n, struct cdc_buf *out, char *err,
    size_t errlen)
{
	z_stream z;
	uLong bound;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
		Z_DEFAULT_STRATEGY) != Z_OK)
		return cdc_err(err, errlen, "deflate: cannot initialise");
	bound = deflateBound(&z, (uLong)n);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = cdc_buf_reserve(out, bound);
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	out->len += bound - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END)
		return cdc_err(err, errlen, "deflate: error %d", rc);
	return 0;
}

static int
inflate_block(const uint8_t *in, size_t n, struct cdc_buf *out, char *err,
    size_t errlen)
{
	z_stream z;
	size_t room;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return cdc_err(err, errlen, "deflate: cannot initialise");
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		room = n * 2 + 4096;
		if (out->len + room > CDC_BLOCK_MAX) {
			inflateEnd(&z);
			return cdc_err(err, errlen,
			    "deflate block expands beyond %zu bytes",
			    CDC_BLOCK_MAX);
		}
		z.next_out = cdc_buf_reserve(out, room);
		z.avail_out = (uInt)room;
		rc = inflate(&z, Z_NO_FLUSH);
		out->len += room - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	/* Bytes after the end of the deflate stream are ignored, as zlib-based
	 * readers do: python3-avro leaves 3 bytes of the zlib trailer there. */
	if (rc != Z_STREAM_END)
		return cdc_err(err, errlen, "bad deflate data (zlib error %d)",
		    rc);
	return 0;
}

static int
zstd_block(const uint8_t *in, size_t n, struct cdc_buf *out, char *err,
    size_t errlen)
{
	size_t bound = ZSTD_compressBound(n), r;

	r = ZSTD_compress(cdc_buf_reserve(out, bound), bound, in, n, 3);
	if (ZSTD_isError(r))
		return cdc_err(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
	out->len += r;
	return 0;
}

static int
unzstd_block(const uint8_t *in, size_t n, struct cdc_buf *out, char *err,
    size_t errlen)
{
	ZSTD_DStream *z;
	ZSTD_inBuffer ib = {in, n, 0};
	ZSTD_outBuffer ob;
	size_t r = 1, room;

	z = ZSTD_createDStream();
	if (z == NULL)
		return cdc_err(err, errlen, "zstd: cannot initialise");
	while (ib.pos < ib.size || r != 0) {
		room = ZSTD_DStreamOutSize();
		if (out->len + room > CDC_BLOCK_MAX) {
			ZSTD_freeDStream(z);
			return cdc_err(err, errlen,
			    "zstd block expands beyond %zu bytes",
			    CDC_BLOCK_MAX);
		}
		ob.dst = cdc_buf_reserve(out, room);
		ob.size = room;
		ob.pos = 0;
		r = ZSTD_decompressStream(z, &ob, &ib);
		out->len += ob.pos;
		if (ZSTD_isError(r)) {
			ZSTD_freeDStream(z);
			return cdc_err(err, errlen, "bad zstd data: %s",
			    ZSTD_getErrorName(r));
		}
		if (ib.pos == ib.size && r != 0 && ob.pos == 0) {
			ZSTD_freeDStream(z);
			return cdc_err(err, errlen, "truncated zstd data");
		}
	}
	ZSTD_freeDStream(z);
	return 0;
}

int
cdc_codec_compress(enum cdc_codec c, const uint8_t *in, size_t n,
    struct cdc_buf *out, char *err, size_t errlen)
{
	switch (c) {
	case CDC_CODEC_NULL:
		cdc_buf_append(out, in, n);
		return 0;
	case CDC_CODEC_DEFLATE:
		return deflate_block(in, n, out, err, errlen);
	case CDC_CODEC_ZSTD:
		return zstd_block(in, n, out, err, errlen);
	}
	return cdc_err(err, errlen, "unknown codec %d", (int)c);
}

int
cdc_codec_decompress(enum cdc_codec c, const uint8_t *in, size_t n,
    struct cdc_buf *out, char *err, size_t errlen)
{
	out->len = 0;
	switch (c) {
	case CDC_CODEC_NULL:
		cdc_buf_append(out, in, n);
		return 0;
	case CDC_CODEC_DEFLATE:
		return inflate_block(in, n, out, err, errlen);
	case CDC_CODEC_ZSTD:
		return unzstd_block(in, n, out, err, errlen);
	}
	return cdc_err(err, errlen, "unknown codec %d", (int)c);
}
