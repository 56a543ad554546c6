/* stream2kcat: the change records of a stream as kcat -P input, for the
 * benchmark (bench/kafka) to move the same bytes with kcat: each change is
 * KEY, the key delimiter \xfa\xf9\xf8, VALUE, the message delimiter
 * \xfe\xfd\xfc\xfb. Fails when a key or value contains a delimiter.
 * usage: stream2kcat < stream > kcat-input */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "stream.h"
#include "sys.h"

static const char KD[] = "\xfa\xf9\xf8", MD[] = "\xfe\xfd\xfc\xfb";

static int
has(const struct cdc_slice *s, const char *d)
{
	size_t n = strlen(d), i;

	for (i = 0; s->p != NULL && i + n <= s->len; i++)
		if (memcmp(s->p + i, d, n) == 0)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct cdc_reader *r;
	struct cdc_frame f;
	struct cdc_buf out;
	char err[CDC_ERRLEN];
	int n;

	(void)argc;
	cdc_init(argv[0]);
	r = cdc_reader_new(STDIN_FILENO, "stdin");
	cdc_buf_init(&out);
	while ((n = cdc_reader_next(r, &f, err, sizeof(err))) != 0) {
		if (n == -1) {
			cdc_error("%s", err);
			return 65;
		}
		if (n != 1 || f.kind != CDC_FRAME_CHANGE)
			continue;
		if (has(&f.key, KD) || has(&f.key, MD) || has(&f.value, KD) ||
		    has(&f.value, MD)) {
			cdc_error("a record contains a delimiter");
			return 65;
		}
		cdc_buf_append(&out, f.key.p, f.key.len);
		cdc_buf_puts(&out, KD);
		cdc_buf_append(&out, f.value.p, f.value.len);
		cdc_buf_puts(&out, MD);
		if (out.len >= 1 << 20) {
			if (cdc_write_full(STDOUT_FILENO, out.p, out.len) ==
			    -1)
				return 74;
			out.len = 0;
		}
	}
	if (cdc_write_full(STDOUT_FILENO, out.p, out.len) == -1)
		return 74;
	cdc_buf_fini(&out);
	cdc_reader_free(r);
	return 0;
}
