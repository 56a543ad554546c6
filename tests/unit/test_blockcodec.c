/* Block codecs: names, round trips (empty, repetitive, incompressible) and
 * corrupt input refused with a message. */
#include <stdlib.h>
#include <string.h>

#include "blockcodec.h"
#include "check.h"

static int
round_trip(enum cdc_codec c, const uint8_t *in, size_t n)
{
	struct cdc_buf z, out;
	char err[256];
	int ok;

	cdc_buf_init(&z);
	cdc_buf_init(&out);
	ok = cdc_codec_compress(c, in, n, &z, err, sizeof(err)) == 0 &&
	    cdc_codec_decompress(c, z.p, z.len, &out, err, sizeof(err)) == 0 &&
	    out.len == n && (n == 0 || memcmp(out.p, in, n) == 0);
	cdc_buf_fini(&z);
	cdc_buf_fini(&out);
	return ok;
}

/* The compressed form of in with its middle bytes flipped fails to
 * decompress, or at least does not give in back. */
static int
corrupt_refused(enum cdc_codec c, const uint8_t *in, size_t n)
{
	struct cdc_buf z, out;
	char err[256] = "";
	size_t i;
	int rc, refused;

	cdc_buf_init(&z);
	cdc_buf_init(&out);
	cdc_codec_compress(c, in, n, &z, err, sizeof(err));
	for (i = z.len / 4; i < z.len / 2; i++)
		z.p[i] ^= 0x5a;
	rc = cdc_codec_decompress(c, z.p, z.len, &out, err, sizeof(err));
	refused = (rc == -1 && err[0] != '\0') ||
	    (rc == 0 && (out.len != n || memcmp(out.p, in, n) != 0));
	cdc_buf_fini(&z);
	cdc_buf_fini(&out);
	return refused;
}

int
main(void)
{
	static const enum cdc_codec codecs[] = {CDC_CODEC_NULL,
	    CDC_CODEC_DEFLATE, CDC_CODEC_ZSTD};
	static const char *names[] = {"null", "deflate", "zstandard"};
	size_t n = 1 << 20, i;
	uint8_t *text = malloc(n), *noise = malloc(n);
	uint32_t x = 2463534242u;
	enum cdc_codec c;

	check_file = "test_blockcodec";
	for (i = 0; i < n; i++) {
		text[i] = (uint8_t)("a change of a row "[i % 18]);
		x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
		noise[i] = (uint8_t)x;
	}
	for (i = 0; i < 3; i++) {
		CHECK("a codec's name", strcmp(cdc_codec_name(codecs[i]),
		    names[i]) == 0);
		CHECK("parses back", cdc_codec_parse(names[i],
		    strlen(names[i]), &c) == 0 && c == codecs[i]);
		CHECK("an empty block round-trips", round_trip(codecs[i],
		    text, 0));
		CHECK("1 MiB of text round-trips", round_trip(codecs[i], text,
		    n));
		CHECK("1 MiB of noise round-trips", round_trip(codecs[i],
		    noise, n));
	}
	CHECK("an unknown codec", cdc_codec_parse("snappy", 6, &c) == -1);
	CHECK("a name's prefix is not a name",
	    cdc_codec_parse("deflat", 6, &c) == -1);
	CHECK("corrupt deflate refused", corrupt_refused(CDC_CODEC_DEFLATE,
	    text, 4096));
	CHECK("corrupt zstandard refused", corrupt_refused(CDC_CODEC_ZSTD,
	    text, 4096));
	free(text);
	free(noise);
	return check_done();
}
