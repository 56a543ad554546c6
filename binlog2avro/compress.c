/* MariaDB's compressed event bodies (QUERY_COMPRESSED and the
 * *_ROWS_COMPRESSED events): a header byte whose low bits count the length
 * bytes, the uncompressed length big-endian, then zlib data. */
#include <zlib.h>

#include "decoder.h"
#include "log.h"

int
b2a_maria_uncompress(const uint8_t *p, size_t n, struct cdc_buf *out,
    const char *what, char *err, size_t errlen)
{
	int lenbytes;
	uint64_t len;
	uLongf outlen;

	if (n < 1)
		return cdc_err(err, errlen, "empty compressed %s", what);
	lenbytes = p[0] & 0x07;
	if (lenbytes < 1 || lenbytes > 4 || n - 1 < (size_t)lenbytes)
		return cdc_err(err, errlen, "bad compressed %s header", what);
	len = b2a_be(p + 1, lenbytes);
	p += 1 + lenbytes;
	n -= 1 + (size_t)lenbytes;
	/* deflate expands at most 1032:1: a larger claim is corrupt, and
	 * must not become a multi-gigabyte allocation. */
	if (len > (uint64_t)n * 1032 + 64)
		return cdc_err(err, errlen, "compressed %s claims %llu bytes "
		    "from %zu: corrupt", what, (unsigned long long)len, n);
	outlen = (uLongf)len;
	out->len = 0;
	if (uncompress(cdc_buf_reserve(out, (size_t)len + 1), &outlen, p,
		(uLong)n) != Z_OK ||
	    outlen != len)
		return cdc_err(err, errlen, "corrupt compressed %s", what);
	out->len = (size_t)len;
	return 0;
}
