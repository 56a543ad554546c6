/* libFuzzer target for binlog2avro's decoder: the input is a binlog file
 * (magic optional), split into events by their header sizes as main.c does,
 * decoded into a stream written to /dev/null, with column rules when the
 * input's size is odd. Build and run: make fuzz. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "binlog.h"
#include "log.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char p_drop[] = "*.col_2", p_hash[] = "*.col_[3-5]",
	    p_mask[] = "*[a-m]", p_salt[] = "salt";
static char *drop[] = {p_drop}, *hash[] = {p_hash}, *mask[] = {p_mask};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int devnull = -1;
	struct b2a_options o = {.prefix = "cdc", .stop_position = -1,
	    .start_position = 4, .start_time = -1, .stop_time = -1,
	    .hold_limit = 1 << 20};
	struct cdc_writer *w;
	struct b2a_decoder *d;
	char err[CDC_ERRLEN];
	size_t off = 0;
	uint32_t len;
	int io;

	if (devnull == -1) {
		devnull = open("/dev/null", O_WRONLY);
		cdc_verbosity = -1; /* no log lines while fuzzing */
	}
	if (size % 2 == 1) {
		o.drop_cols = drop;
		o.ndrop_cols = 1;
		o.hash_cols = hash;
		o.nhash_cols = 1;
		o.mask_cols = mask;
		o.nmask_cols = 1;
		o.salt = (const uint8_t *)p_salt;
		o.saltlen = 4;
		o.mask_text = "****";
	}
	if (size >= 4 && memcmp(data, "\xfe" "bin", 4) == 0)
		off = 4;
	w = cdc_writer_new(devnull, "fuzz", CDC_CODEC_NULL, NULL, 0);
	d = b2a_decoder_new(&o, w);
	b2a_decoder_file(d, "fuzz.000001");
	while (size - off >= 19) {
		len = (uint32_t)b2a_le(data + off + 9, 4);
		if (len < 19 || len > size - off)
			break;
		if (b2a_decoder_event(d, data + off, len, off, &io, err,
			sizeof(err)) == -1)
			break;
		off += len;
	}
	cdc_writer_discard(w);
	b2a_decoder_free(d);
	cdc_writer_free(w);
	return 0;
}
