/* The stream codec: round trips of every frame kind with every codec, every
 * corruption case of docs/stream.md section 7, and a slow writer on a pipe. */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avrobin.h"
#include "check.h"
#include "fingerprint.h"
#include "stream.h"

#define KEY_SCHEMA                                                            \
	"{\"type\":\"record\",\"name\":\"Key\",\"namespace\":\"t\","          \
	"\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"

static char err[512];

static struct cdc_slice
sl(const char *s)
{
	struct cdc_slice x = {(const uint8_t *)s, strlen(s)};

	return x;
}

/* A key datum {id: 5} single-object encoded, in a static buffer. */
static struct cdc_slice
key5(uint64_t fp)
{
	static struct cdc_buf b;

	b.len = 0;
	cdc_soe_put_header(&b, fp);
	cdc_buf_putc(&b, 0x0a); /* zig-zag 5 */
	return (struct cdc_slice){b.p, b.len};
}

/* Writes a stream with one frame of every kind into a temp file; returns an
 * fd open for reading at offset 0. */
static int
write_sample(enum cdc_codec codec, size_t block_size, uint64_t *fpout)
{
	char path[] = "/tmp/test_stream.XXXXXX";
	struct cdc_writer *w;
	struct cdc_frame f;
	uint64_t fp;
	int fd;

	fd = mkstemp(path);
	unlink(path);
	cdc_schema_fingerprint(KEY_SCHEMA, strlen(KEY_SCHEMA), &fp, NULL, 0);
	*fpout = fp;
	w = cdc_writer_new(fd, "test_stream 0", codec, err, sizeof(err));
	if (block_size > 0)
		cdc_writer_set_block_size(w, block_size);
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_SCHEMA_ANN;
	f.fingerprint = fp;
	f.schema = sl(KEY_SCHEMA);
	cdc_writer_put(w, &f, err, sizeof(err));
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_CHANGE;
	f.topic = sl("cdc.db.t");
	f.key = key5(fp);
	f.value = f.key;
	f.position = sl("binlog:mysql-bin.000001:4");
	f.version = -7;
	cdc_writer_put(w, &f, err, sizeof(err));
	f.value.p = NULL; /* a tombstone */
	f.version = INT64_MAX;
	cdc_writer_put(w, &f, err, sizeof(err));
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_DDL;
	f.position = sl("binlog:mysql-bin.000001:100");
	f.database = sl("db");
	f.statement = sl("DROP TABLE `t`");
	f.ts_ms = 1700000000000;
	cdc_writer_put(w, &f, err, sizeof(err));
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_COMMIT;
	f.seq = 1;
	f.position = sl("binlog:mysql-bin.000001:200");
	f.version = INT64_MAX;
	f.ts_ms = 1700000000001;
	cdc_writer_put(w, &f, err, sizeof(err));
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_HEARTBEAT;
	f.position = sl("");
	f.ts_ms = 0;
	cdc_writer_put(w, &f, err, sizeof(err));
	cdc_writer_flush(w, err, sizeof(err));
	cdc_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int
eq(struct cdc_slice s, const char *want)
{
	return s.p != NULL && s.len == strlen(want) &&
	    memcmp(s.p, want, s.len) == 0;
}

static int
roundtrip(enum cdc_codec codec, size_t block_size)
{
	struct cdc_reader *r;
	struct cdc_frame f;
	uint64_t fp, got;
	int fd, ok = 1;

	fd = write_sample(codec, block_size, &fp);
	r = cdc_reader_new(fd, "sample");
	ok &= cdc_reader_next(r, &f, err, sizeof(err)) == 1 &&
	    f.kind == CDC_FRAME_SCHEMA_ANN && f.fingerprint == fp &&
	    eq(f.schema, KEY_SCHEMA);
	ok &= cdc_reader_next(r, &f, err, sizeof(err)) == 1 &&
	    f.kind == CDC_FRAME_CHANGE && eq(f.topic, "cdc.db.t") &&
	    f.key.len == 11 && cdc_soe_fingerprint(f.key.p, 11, &got) == 0 &&
	    got == fp && f.key.p[10] == 0x0a && f.value.len == 11 &&
	    eq(f.position, "binlog:mysql-bin.000001:4") && f.version == -7;
	ok &= cdc_reader_next(r, &f, err, sizeof(err)) == 1 &&
	    f.kind == CDC_FRAME_CHANGE && f.value.p == NULL &&
	    f.version == INT64_MAX;
	ok &= cdc_reader_next(r, &f, err, sizeof(err)) == 1 &&
	    f.kind == CDC_FRAME_DDL && eq(f.database, "db") &&
	    eq(f.statement, "DROP TABLE `t`") && f.ts_ms == 1700000000000;
	ok &= cdc_reader_next(r, &f, err, sizeof(err)) == 1 &&
	    f.kind == CDC_FRAME_COMMIT && f.seq == 1 &&
	    eq(f.position, "binlog:mysql-bin.000001:200") &&
	    f.ts_ms == 1700000000001;
	ok &= cdc_reader_next(r, &f, err, sizeof(err)) == 1 &&
	    f.kind == CDC_FRAME_HEARTBEAT && f.position.len == 0 &&
	    f.ts_ms == 0;
	ok &= cdc_reader_next(r, &f, err, sizeof(err)) == 0;
	ok &= strcmp(cdc_reader_meta(r, "cdc.producer"), "test_stream 0") == 0;
	if (!ok)
		printf("# %s\n", err);
	cdc_reader_free(r);
	close(fd);
	return ok;
}

/* Reads the sample stream into memory. */
static size_t
sample_bytes(uint8_t *buf, size_t cap, uint64_t *fp)
{
	int fd = write_sample(CDC_CODEC_NULL, 0, fp);
	ssize_t n = read(fd, buf, cap);

	close(fd);
	return n > 0 ? (size_t)n : 0;
}

/* Feeds bytes to a reader; returns the first non-frame result and leaves
 * the message in err. *frames counts the frames handed out before it. */
static int
feed(const uint8_t *p, size_t n, int *frames)
{
	struct cdc_reader *r;
	struct cdc_frame f;
	int fds[2], rc;

	if (pipe(fds) == -1)
		return -9;
	if (write(fds[1], p, n) != (ssize_t)n)
		return -9;
	close(fds[1]);
	r = cdc_reader_new(fds[0], "stdin");
	*frames = 0;
	err[0] = '\0';
	while ((rc = cdc_reader_next(r, &f, err, sizeof(err))) == 1)
		(*frames)++;
	cdc_reader_free(r);
	close(fds[0]);
	return rc;
}

static int
fails_with(const uint8_t *p, size_t n, const char *what, int max_frames)
{
	int frames, rc = feed(p, n, &frames);

	if (rc != -1 || strstr(err, what) == NULL || frames > max_frames) {
		printf("# rc %d after %d frames: %s\n", rc, frames, err);
		return 0;
	}
	return 1;
}

/* Offset of the first data block: the header is the bytes before the
 * first occurrence of the sync marker. */
static size_t
header_len(const uint8_t *p, size_t n)
{
	size_t i;

	/* The sync marker is the last 16 bytes of the stream too. */
	for (i = 4; i + 16 <= n; i++)
		if (memcmp(p + i, p + n - 16, 16) == 0)
			return i + 16;
	return 0;
}

static void
on_alarm(int sig)
{
	(void)sig;
	printf("not ok test_stream: slow writer: reader waited for more than "
	       "the committed block\n");
	_exit(1);
}

/* The writer stops after a commit until the reader has seen it; a reader
 * that waited for more bytes would hang here and the alarm would fire. */
static int
slow_writer(void)
{
	int data[2], go[2], fp_ok = 0, seen = 0;
	struct cdc_reader *r;
	struct cdc_frame f;
	pid_t pid;
	char c;
	int status;

	if (pipe(data) == -1 || pipe(go) == -1)
		return 0;
	pid = fork();
	if (pid == 0) {
		struct cdc_writer *w;

		close(data[0]);
		close(go[1]);
		w = cdc_writer_new(data[1], "slow", CDC_CODEC_NULL, NULL, 0);
		memset(&f, 0, sizeof(f));
		f.kind = CDC_FRAME_COMMIT;
		f.seq = 1;
		f.position = sl("p1");
		cdc_writer_put(w, &f, NULL, 0);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		f.seq = 2;
		f.position = sl("p2");
		cdc_writer_put(w, &f, NULL, 0);
		cdc_writer_free(w);
		_exit(0);
	}
	close(data[1]);
	close(go[0]);
	signal(SIGALRM, on_alarm);
	alarm(10);
	r = cdc_reader_new(data[0], "pipe");
	if (cdc_reader_next(r, &f, err, sizeof(err)) == 1 &&
	    f.kind == CDC_FRAME_COMMIT && f.seq == 1)
		seen = 1;
	if (write(go[1], "g", 1) != 1)
		return 0;
	if (cdc_reader_next(r, &f, err, sizeof(err)) == 1 && f.seq == 2 &&
	    cdc_reader_next(r, &f, err, sizeof(err)) == 0)
		fp_ok = 1;
	alarm(0);
	cdc_reader_free(r);
	close(data[0]);
	close(go[1]);
	waitpid(pid, &status, 0);
	return seen && fp_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
main(void)
{
	uint8_t good[4096], bad[4096];
	size_t n, h;
	uint64_t fp;
	int frames;
	char want[64];
	struct cdc_writer *w;
	struct cdc_frame f;

	check_file = "test_stream";
	/* Waits until a pause can act again, never below one pause. */
	CHECK("pause wait just after a pause acted",
	    cdc_pause_wait(0) == CDC_PAUSE_GAP_MS);
	CHECK("pause wait ends when a pause can act",
	    cdc_pause_wait(15) == CDC_PAUSE_GAP_MS - 15);
	CHECK("pause wait is at least a pause",
	    cdc_pause_wait(CDC_PAUSE_GAP_MS - 5) == CDC_PAUSE_MS &&
		cdc_pause_wait(CDC_PAUSE_GAP_MS) == CDC_PAUSE_MS &&
		cdc_pause_wait(60000) == CDC_PAUSE_MS);
	CHECK("round trip, codec null", roundtrip(CDC_CODEC_NULL, 0));
	CHECK("round trip, codec deflate", roundtrip(CDC_CODEC_DEFLATE, 0));
	CHECK("round trip, codec zstandard", roundtrip(CDC_CODEC_ZSTD, 0));
	CHECK("round trip, one frame per block", roundtrip(CDC_CODEC_NULL,
	    1));
	CHECK("round trip, zstd one frame per block",
	    roundtrip(CDC_CODEC_ZSTD, 1));

	n = sample_bytes(good, sizeof(good), &fp);
	h = header_len(good, n);
	CHECK("sample stream", n > 100 && h > 0 && feed(good, n, &frames) == 0 &&
	    frames == 6);

	memcpy(bad, good, n);
	bad[0] = 'X';
	CHECK("bad magic", fails_with(bad, n, "at byte 0: bad magic", 0));
	CHECK("empty input", fails_with(good, 0, "empty input", 0));
	CHECK("truncated header", fails_with(good, h - 3, "truncated header",
	    0));
	CHECK("header only is an empty stream", feed(good, h, &frames) == 0 &&
	    frames == 0);

	/* The first block holds schema, change, tombstone, ddl, commit. */
	memcpy(bad, good, n);
	{
		/* Find the first block's sync: the second occurrence. */
		size_t i, s1 = 0;

		for (i = h; i + 16 <= n; i++)
			if (memcmp(good + i, good + h - 16, 16) == 0) {
				s1 = i;
				break;
			}
		bad[s1 + 3] ^= 0x55;
		snprintf(want, sizeof(want), "at byte %zu: bad sync marker",
		    s1);
		CHECK("bad sync marker names its offset",
		    fails_with(bad, n, want, 0));
		CHECK("short block", fails_with(good, s1 + 8,
		    "truncated block", 0));
		const uint8_t *q = good + h;
		int64_t v;

		cdc_avro_dec_long(&q, good + n, &v); /* count */
		cdc_avro_dec_long(&q, good + n, &v); /* size */
		memcpy(bad, good, n);
		bad[q - good] = 10; /* first frame's union index 5: unknown */
		CHECK("unknown frame kind, nothing of the block passed on",
		    fails_with(bad, n, "unknown frame kind", 0));
	}
	memcpy(bad, good, n);
	bad[h] = 0xff; /* block count varint never ends ... */
	bad[h + 1] = 0xff;
	bad[h + 2] = 0xff;
	bad[h + 3] = 0xff;
	bad[h + 4] = 0xff;
	bad[h + 5] = 0xff;
	bad[h + 6] = 0xff;
	bad[h + 7] = 0xff;
	bad[h + 8] = 0xff;
	bad[h + 9] = 0x7f; /* ... within 64 bits */
	snprintf(want, sizeof(want), "at byte %zu: bad varint", h);
	CHECK("bad varint names its offset", fails_with(bad, n, want, 0));
	memcpy(bad, good, n);
	bad[h] = 0x03; /* count -2 */
	CHECK("negative block count", fails_with(bad, n, "bad block object "
	    "count", 0));
	CHECK("trailing garbage after the last block",
	    fails_with(good, n - 5, "truncated block", 5));

	/* Unknown fingerprint: a change before its schema announcement. */
	{
		char path[] = "/tmp/test_stream.XXXXXX";
		int fd = mkstemp(path);
		ssize_t m;

		unlink(path);
		w = cdc_writer_new(fd, "t", CDC_CODEC_NULL, NULL, 0);
		memset(&f, 0, sizeof(f));
		f.kind = CDC_FRAME_CHANGE;
		f.topic = sl("x");
		f.key = key5(fp);
		f.position = sl("p");
		CHECK("writer refuses an unannounced fingerprint",
		    cdc_writer_put(w, &f, err, sizeof(err)) == -1 &&
			strstr(err, "before it was announced") != NULL);
		cdc_writer_free(w);
		close(fd);
		/* Forge one by dropping the announcement from the good
		 * stream: rewrite with a one-frame-per-block writer and cut
		 * out the first block. */
		fd = write_sample(CDC_CODEC_NULL, 1, &fp);
		m = read(fd, bad, sizeof(bad));
		close(fd);
		if (m > 0) {
			size_t hb = header_len(bad, (size_t)m), i, b2 = 0;

			for (i = hb; i + 16 <= (size_t)m; i++)
				if (memcmp(bad + i, bad + hb - 16, 16) == 0) {
					b2 = i + 16;
					break;
				}
			memmove(bad + hb, bad + b2, (size_t)m - b2);
			m -= (ssize_t)(b2 - hb);
			CHECK("unknown fingerprint",
			    fails_with(bad, (size_t)m, "unknown fingerprint",
				0));
			/* Break the C3 01 marker of the key instead. */
			fd = write_sample(CDC_CODEC_NULL, 1, &fp);
			m = read(fd, bad, sizeof(bad));
			close(fd);
			for (i = b2; i + 1 < (size_t)m; i++)
				if (bad[i] == 0xc3 && bad[i + 1] == 0x01) {
					bad[i + 1] = 0x02;
					break;
				}
			CHECK("missing single-object marker",
			    fails_with(bad, (size_t)m, "no C3 01 marker", 1));
		}
	}

	/* A header whose schema is some other schema. */
	{
		uint8_t hdr[] = "Obj\x01\x02\x16" "avro.schema" "\x0c"
				"\"long\"" "\x00" "0123456789abcdef";

		CHECK("foreign schema refused",
		    fails_with(hdr, sizeof(hdr) - 1, "not a change stream", 0));
	}
	CHECK("slow writer: each committed block arrives at once",
	    slow_writer());
	return check_done();
}
