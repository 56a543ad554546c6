/* streamsink: a stand-in for the last stage of a pipeline in the Kafka
 * tests. It copies the change stream on stdin to a file and acknowledges
 * each commit mark (docs/stream.md section 6) once the file has it.
 *
 * usage: streamsink [-a FD | -A FIFO] [-u SEQ] OUT
 *   -a FD    acknowledge on fd FD
 *   -A FIFO  acknowledge on a fifo, opened for writing at the start
 *   -u SEQ   acknowledge no mark after SEQ (and keep reading) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "log.h"
#include "opt.h"
#include "stream.h"
#include "sys.h"

int
main(int argc, char *argv[])
{
	struct cdc_reader *r;
	struct cdc_writer *w;
	struct cdc_frame f;
	char err[CDC_ERRLEN];
	const char *fifo = NULL;
	int64_t upto = INT64_MAX, v;
	int c, n, out, ackfd = -1;

	cdc_init(argv[0]);
	while ((c = getopt(argc, argv, "a:A:u:")) != -1) {
		switch (c) {
		case 'a':
			if (cdc_parse_int("-a", optarg, 0, 1 << 20, &v, err,
				sizeof(err)) == -1)
				goto usage;
			ackfd = (int)v;
			break;
		case 'A':
			fifo = optarg;
			break;
		case 'u':
			if (cdc_parse_int("-u", optarg, 0, INT64_MAX, &upto,
				err, sizeof(err)) == -1)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	out = open(argv[optind], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out == -1) {
		cdc_error("cannot open '%s': %s", argv[optind],
		    strerror(errno));
		return 74;
	}
	if (fifo != NULL) {
		ackfd = open(fifo, O_WRONLY);
		if (ackfd == -1) {
			cdc_error("cannot open '%s': %s", fifo,
			    strerror(errno));
			return 74;
		}
	}
	w = cdc_writer_new(out, "streamsink", CDC_CODEC_NULL, err,
	    sizeof(err));
	if (w == NULL) {
		cdc_error("%s", err);
		return 74;
	}
	r = cdc_reader_new(STDIN_FILENO, "stdin");
	while ((n = cdc_reader_next(r, &f, err, sizeof(err))) != 0) {
		if (n == CDC_READ_AGAIN)
			continue;
		if (n == -1) {
			cdc_error("%s", err);
			return 65;
		}
		if (cdc_writer_put(w, &f, err, sizeof(err)) == -1) {
			cdc_error("%s", err);
			return 74;
		}
		if (f.kind == CDC_FRAME_COMMIT && ackfd != -1 &&
		    f.seq <= upto &&
		    cdc_ack_send(ackfd, f.seq, (const char *)f.position.p,
			f.position.len, err, sizeof(err)) == -1) {
			cdc_error("%s", err);
			return 74;
		}
	}
	if (cdc_writer_flush(w, err, sizeof(err)) == -1) {
		cdc_error("%s", err);
		return 74;
	}
	cdc_writer_free(w);
	cdc_reader_free(r);
	return close(out) == 0 ? 0 : 74;
usage:
	fprintf(stderr, "usage: streamsink [-a FD | -A FIFO] [-u SEQ] OUT\n");
	return 64;
}
