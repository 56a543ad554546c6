/* binlog2avro: decode MySQL/MariaDB row-based binlog files into the change
 * stream of docs/stream.md on stdout. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "binlog.h"
#include "files.h"
#include "live.h"
#include "log.h"
#include "options.h"
#include "stream.h"
#include "sys.h"
#include "version.h"

static int
run(const struct opts *o)
{
	struct cdc_writer *w;
	struct b2a_decoder *d;
	char err[CDC_ERRLEN];
	uint64_t events, changes, commits, skipped;
	int i, rc = 0, stopped = 0;

	/* A missing file fails before the stream header is written. */
	for (i = 0; i < o->nfiles; i++) {
		if (access(o->files[i], R_OK) == -1) {
			cdc_error("cannot open '%s': %s", o->files[i],
			    strerror(errno));
			return EX_NOINPUT;
		}
	}
	w = cdc_writer_new(STDOUT_FILENO, "binlog2avro " CDC_VERSION, o->codec,
	    err, sizeof(err));
	if (w == NULL) {
		cdc_epipe_check(errno);
		cdc_error("%s", err);
		return EX_IOERR;
	}
	cdc_writer_set_unbuffered(w, o->unbuffered);
	d = b2a_decoder_new(&o->b, w);
	b2a_metrics_start(o->metrics);
	if (o->nfiles == 0)
		rc = b2a_snapshot_run(d, &o->live);
	for (i = 0; i < o->nfiles && rc == 0 && !stopped; i++)
		rc = b2a_file_decode(d, o->files[i], i == 0,
		    i == o->nfiles - 1, &o->b, &stopped);
	if (b2a_decoder_in_transaction(d)) {
		/* The stream ends at the last commit mark. */
		if (rc == 0 && !cdc_stop)
			cdc_warn("the binlog ends inside a transaction; its "
				 "changes are not emitted");
		cdc_writer_discard(w);
	}
	if (rc == 0 && cdc_writer_flush(w, err, sizeof(err)) == -1) {
		cdc_epipe_check(errno);
		cdc_error("%s", err);
		rc = EX_IOERR;
	}
	b2a_metrics_stop(d);
	b2a_decoder_stats(d, &events, &changes, &commits, &skipped);
	cdc_info("events=%" PRIu64 " changes=%" PRIu64 " commits=%" PRIu64
		 " skipped_statements=%" PRIu64,
	    events, changes, commits, skipped);
	b2a_decoder_free(d);
	cdc_writer_free(w);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	int rc;

	cdc_init(argv[0]);
	cdc_signals_install();
	rc = b2a_opts_parse(&o, argc, argv);
	if (rc != 0) {
		if (rc == -1)
			fprintf(stderr, "try 'binlog2avro --help'\n");
		b2a_opts_free(&o);
		return rc == 1 ? cdc_stdout_close(0) : EX_USAGE;
	}
	rc = b2a_opts_finish(&o);
	if (rc != 0) {
		if (rc == EX_USAGE)
			fprintf(stderr, "try 'binlog2avro --help'\n");
		b2a_opts_free(&o);
		return rc;
	}
	if (!o.force && isatty(STDOUT_FILENO)) {
		cdc_error("refusing to write a binary stream to a terminal; "
			  "pipe it (e.g. into streamcat) or use --force");
		b2a_opts_free(&o);
		return EX_USAGE;
	}
	rc = run(&o);
	b2a_opts_free(&o);
	return cdc_stdout_close(rc);
}
