/* streamcat: print a change stream (docs/stream.md) as JSON lines, one per
 * frame, with keys and values decoded by their announced schemas. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avrojson.h"
#include "fingerprint.h"
#include "log.h"
#include "stream.h"
#include "sys.h"
#include "version.h"

struct decoder {
	uint64_t fp;
	struct cdc_avrojson *aj;
};

static struct decoder *decoders;
static size_t ndecoders;
static int raw;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: streamcat [-hqrV] [FILE]\n"
	    "Prints a change stream (stdin or FILE) as JSON lines.\n"
	    "  -r, --raw      print keys and values as Avro JSON byte strings\n"
	    "  -q, --quiet    errors only on stderr\n"
	    "  -h, --help     this help\n"
	    "  -V, --version  versions\n"
	    "Exit status: 0 done, 64 usage, 65 corrupt stream, 66 no input\n"
	    "file, 74 read or write error, 141 stdout closed early.\n");
}

static void
forget(uint64_t fp)
{
	size_t i;

	for (i = 0; i < ndecoders; i++) {
		if (decoders[i].fp == fp) {
			cdc_avrojson_free(decoders[i].aj);
			decoders[i] = decoders[--ndecoders];
			return;
		}
	}
}

static struct cdc_avrojson *
decoder_for(struct cdc_reader *r, uint64_t fp, char *err, size_t errlen)
{
	const char *schema;
	size_t i, len;

	for (i = 0; i < ndecoders; i++)
		if (decoders[i].fp == fp)
			return decoders[i].aj;
	schema = cdc_reader_schema(r, fp, &len);
	if (schema == NULL) {
		cdc_err(err, errlen, "no schema for %016" PRIx64, fp);
		return NULL;
	}
	decoders = cdc_xrealloc(decoders, (ndecoders + 1) * sizeof(*decoders));
	decoders[ndecoders].fp = fp;
	decoders[ndecoders].aj = cdc_avrojson_new(schema, len, err, errlen);
	if (decoders[ndecoders].aj == NULL)
		return NULL;
	return decoders[ndecoders++].aj;
}

static int
put_soe(struct cdc_reader *r, struct cdc_buf *out, const char *name,
    const struct cdc_slice *s, char *err, size_t errlen)
{
	struct cdc_avrojson *aj;
	uint64_t fp;

	cdc_buf_printf(out, ",\"%s\":", name);
	if (s->p == NULL) {
		cdc_buf_puts(out, "null");
		return 0;
	}
	if (raw || cdc_soe_fingerprint(s->p, s->len, &fp) == -1) {
		cdc_json_str(out, s->p, s->len, 1);
		return 0;
	}
	aj = decoder_for(r, fp, err, errlen);
	if (aj == NULL ||
	    cdc_avrojson_datum(aj, s->p + CDC_SOE_HEADER,
		s->len - CDC_SOE_HEADER, out, err, errlen) == -1)
		return -1;
	cdc_buf_printf(out, ",\"%s_schema\":\"%016" PRIx64 "\"", name, fp);
	return 0;
}

static void
put_text(struct cdc_buf *out, const char *name, const struct cdc_slice *s)
{
	cdc_buf_printf(out, ",\"%s\":", name);
	cdc_json_str(out, s->p, s->len, 0);
}

static int
format(struct cdc_reader *r, const struct cdc_frame *f, struct cdc_buf *out,
    char *err, size_t errlen)
{
	json_t *j;
	char *compact;

	cdc_buf_printf(out, "{\"kind\":\"%s\"", cdc_frame_kind_name(f->kind));
	switch (f->kind) {
	case CDC_FRAME_CHANGE:
		put_text(out, "topic", &f->topic);
		if (put_soe(r, out, "key", &f->key, err, errlen) == -1 ||
		    put_soe(r, out, "value", &f->value, err, errlen) == -1)
			return -1;
		put_text(out, "position", &f->position);
		cdc_buf_printf(out, ",\"version\":%" PRId64, f->version);
		break;
	case CDC_FRAME_SCHEMA_ANN:
		forget(f->fingerprint);
		cdc_buf_printf(out, ",\"fingerprint\":\"%016" PRIx64
		    "\",\"schema\":", f->fingerprint);
		j = json_loadb((const char *)f->schema.p, f->schema.len,
		    JSON_DECODE_ANY, NULL);
		compact = j != NULL ? json_dumps(j, JSON_COMPACT |
		    JSON_ENCODE_ANY) : NULL;
		if (compact != NULL)
			cdc_buf_puts(out, compact);
		else
			cdc_json_str(out, f->schema.p, f->schema.len, 0);
		free(compact);
		json_decref(j);
		break;
	case CDC_FRAME_COMMIT:
		cdc_buf_printf(out, ",\"seq\":%" PRId64, f->seq);
		put_text(out, "position", &f->position);
		cdc_buf_printf(out, ",\"version\":%" PRId64 ",\"ts_ms\":%" PRId64,
		    f->version, f->ts_ms);
		break;
	case CDC_FRAME_DDL:
		put_text(out, "position", &f->position);
		put_text(out, "database", &f->database);
		put_text(out, "statement", &f->statement);
		cdc_buf_printf(out, ",\"ts_ms\":%" PRId64, f->ts_ms);
		break;
	case CDC_FRAME_HEARTBEAT:
		put_text(out, "position", &f->position);
		cdc_buf_printf(out, ",\"now_ms\":%" PRId64, f->ts_ms);
		break;
	default:
		break;
	}
	cdc_buf_puts(out, "}\n");
	return 0;
}

static int
run(int fd, const char *name)
{
	struct cdc_reader *r;
	struct cdc_frame f;
	struct cdc_buf out;
	char err[CDC_ERRLEN];
	int rc = 0, n;

	r = cdc_reader_new(fd, name);
	cdc_buf_init(&out);
	while (!cdc_stop) {
		n = cdc_reader_next(r, &f, err, sizeof(err));
		if (n == CDC_READ_AGAIN)
			continue;
		if (n == 0)
			break;
		if (n == -1) {
			cdc_error("%s", err);
			rc = strstr(err, "cannot read") != NULL ? EX_IOERR :
								  EX_DATAERR;
			break;
		}
		out.len = 0;
		if (format(r, &f, &out, err, sizeof(err)) == -1) {
			cdc_error("cannot decode %s frame at byte %" PRIu64
			    ": %s", cdc_frame_kind_name(f.kind),
			    cdc_reader_offset(r), err);
			rc = EX_DATAERR;
			break;
		}
		/* One write per frame keeps a pipe reader current; stdout is
		 * a debugging view, not a hot path. */
		if (cdc_write_full(STDOUT_FILENO, out.p, out.len) == -1) {
			cdc_epipe_check(errno);
			cdc_error("cannot write to stdout: %s",
			    strerror(errno));
			rc = EX_IOERR;
			break;
		}
	}
	cdc_buf_fini(&out);
	cdc_reader_free(r);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"raw", no_argument, NULL, 'r'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c, fd = STDIN_FILENO, rc;
	size_t i;
	const char *name = "stdin";

	cdc_init(argv[0]);
	cdc_signals_install();
	while ((c = getopt_long(argc, argv, "hqrV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return cdc_stdout_close(0);
		case 'q':
			cdc_verbosity = CDC_LOG_ERROR;
			break;
		case 'r':
			raw = 1;
			break;
		case 'V':
			printf("streamcat %s (stream format %s, jansson %s)\n",
			    CDC_VERSION, CDC_STREAM_FORMAT, JANSSON_VERSION);
			return cdc_stdout_close(0);
		default:
			fprintf(stderr, "try 'streamcat --help'\n");
			return EX_USAGE;
		}
	}
	if (argc - optind > 1) {
		cdc_error("too many arguments");
		fprintf(stderr, "try 'streamcat --help'\n");
		return EX_USAGE;
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		name = argv[optind];
		fd = open(name, O_RDONLY);
		if (fd == -1) {
			cdc_error("cannot open '%s': %s", name,
			    strerror(errno));
			return EX_NOINPUT;
		}
	}
	rc = run(fd, name);
	for (i = 0; i < ndecoders; i++)
		cdc_avrojson_free(decoders[i].aj);
	free(decoders);
	return cdc_stdout_close(rc);
}
