/* MySQL GTID sets (binlog2avro/gtid.c): the text MySQL prints, parsed;
 * Gtid_set::encode's binary form against vectors worked out by hand from
 * its layout; the COM_BINLOG_DUMP_GTID arguments as the protocol
 * documentation lays them out; bad sets with the reason. The independent
 * check: every PREVIOUS_GTIDS event of the recorded MySQL binlogs is decoded
 * to text by the decoder, parsed (giving the same text) and encoded again,
 * and must give the server's bytes back exactly. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "binlog.h"
#include "check.h"
#include "gtid.h"
#include "stream.h"

/* Recorded binlogs, relative to the repository root (where tests/run runs
 * the unit tests). */
#define FIXTURES "tests/fixtures/binlog"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U1HEX "3e11fa4771ca11e19e33c80aa9429562"
#define U2 "00000000-0000-0000-0000-00000000000a"
#define U2HEX "0000000000000000000000000000000a"

static char err[512];

/* Hex digits, spaces ignored, to bytes in b. */
static void
unhex(const char *h, struct cdc_buf *b)
{
	int hi = -1, v;

	b->len = 0;
	for (; *h != '\0'; h++) {
		if (*h == ' ')
			continue;
		v = *h <= '9' ? *h - '0' : (*h | 0x20) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			cdc_buf_putc(b, hi << 4 | v);
			hi = -1;
		}
	}
}

static int
same(const struct cdc_buf *a, const struct cdc_buf *b)
{
	if (a->len == b->len && memcmp(a->p, b->p, a->len) == 0)
		return 1;
	printf("# got  ");
	for (size_t i = 0; i < a->len; i++)
		printf("%02x", a->p[i]);
	printf("\n# want ");
	for (size_t i = 0; i < b->len; i++)
		printf("%02x", b->p[i]);
	printf("\n");
	return 0;
}

/* text parses and encodes as the bytes of hex, and prints as canon. */
static int
encodes(const char *text, const char *hex, const char *canon)
{
	struct b2a_gtid_set g;
	struct cdc_buf got, want, t;
	int ok;

	b2a_gtid_init(&g);
	cdc_buf_init(&got);
	cdc_buf_init(&want);
	cdc_buf_init(&t);
	ok = b2a_gtid_parse_mysql(&g, text, err, sizeof(err)) == 0;
	if (!ok)
		printf("# %s\n", err);
	b2a_gtid_encode(&g, &got);
	unhex(hex, &want);
	ok = ok && same(&got, &want);
	b2a_gtid_text(&g, &t);
	cdc_buf_putc(&t, '\0');
	if (canon != NULL && strcmp((char *)t.p, canon) != 0) {
		printf("# text %s, want %s\n", (char *)t.p, canon);
		ok = 0;
	}
	b2a_gtid_clear(&g);
	cdc_buf_fini(&got);
	cdc_buf_fini(&want);
	cdc_buf_fini(&t);
	return ok;
}

/* text is refused with a message containing why. */
static int
refused(const char *text, const char *why)
{
	struct b2a_gtid_set g;
	int rc;

	b2a_gtid_init(&g);
	err[0] = '\0';
	rc = b2a_gtid_parse_mysql(&g, text, err, sizeof(err));
	b2a_gtid_clear(&g);
	if (rc == -1 && strstr(err, why) != NULL)
		return 1;
	printf("# rc %d, err '%s', want '%s'\n", rc, err, why);
	return 0;
}

static void
hand_vectors(void)
{
	CHECK("the empty set is a zero count",
	    encodes("", "0000000000000000", ""));
	CHECK("one GTID: count, uuid, one interval [23, 24)",
	    encodes(U1 ":23",
		"0100000000000000" U1HEX "0100000000000000"
		"1700000000000000 1800000000000000",
		U1 ":23"));
	CHECK("an interval's end is exclusive: 1-100 is [1, 101)",
	    encodes(U1 ":1-100",
		"0100000000000000" U1HEX "0100000000000000"
		"0100000000000000 6500000000000000",
		U1 ":1-100"));
	CHECK("intervals sorted and merged: 20:1-5:15:6-10 is 1-10:15:20",
	    encodes(U1 ":20:1-5:15:6-10",
		"0100000000000000" U1HEX "0300000000000000"
		"0100000000000000 0b00000000000000"
		"0f00000000000000 1000000000000000"
		"1400000000000000 1500000000000000",
		U1 ":1-10:15:20"));
	CHECK("one uuid twice is one sid; overlapping intervals merge",
	    encodes(U1 ":1-5," U1 ":3-8",
		"0100000000000000" U1HEX "0100000000000000"
		"0100000000000000 0900000000000000",
		U1 ":1-8"));
	CHECK("sids sorted by uuid bytes, whatever the text order",
	    encodes(U1 ":1," U2 ":7",
		"0200000000000000" U2HEX "0100000000000000"
		"0700000000000000 0800000000000000" U1HEX
		"0100000000000000 0100000000000000 0200000000000000",
		NULL));
	CHECK("upper-case uuids as MySQL accepts them, kept lowercase",
	    encodes("3E11FA47-71CA-11E1-9E33-C80AA9429562:5",
		"0100000000000000" U1HEX "0100000000000000"
		"0500000000000000 0600000000000000",
		U1 ":5"));
	CHECK("as MySQL prints @@gtid_executed: ',\\n' and blanks",
	    encodes("  " U1 ":1-3 ,\n" U2 " : 4 - 6 ,\n\t,",
		"0200000000000000" U2HEX "0100000000000000"
		"0400000000000000 0700000000000000" U1HEX
		"0100000000000000 0100000000000000 0400000000000000",
		NULL));
	CHECK("the largest number, 2^63-2 (GNO_END - 1)",
	    encodes(U1 ":9223372036854775806",
		"0100000000000000" U1HEX "0100000000000000"
		"feffffffffffff7f ffffffffffffff7f",
		NULL));
	/* Tagged (MySQL 8.3+): count 1 << 56 | n << 8 | 1; a tag byte
	 * (length << 1) after every uuid, 0 for the untagged one, which
	 * sorts first. */
	CHECK("tagged: uuid:1-3:Tag_A:5 is two sids, the tag lowercase",
	    encodes(U1 ":1-3:Tag_A:5",
		"0102000000000001" U1HEX "00 0100000000000000"
		"0100000000000000 0400000000000000" U1HEX
		"0a 7461675f61 0100000000000000"
		"0500000000000000 0600000000000000",
		U1 ":1-3," U1 ":tag_a:5"));
	CHECK("tagged: the decoder's uuid:tag:N form, tags in byte order",
	    encodes(U1 ":zz:1," U1 ":b:2," U2 ":3",
		"0103000000000001" U2HEX "00 0100000000000000"
		"0300000000000000 0400000000000000" U1HEX
		"02 62 0100000000000000 0200000000000000 0300000000000000"
		U1HEX "04 7a7a 0100000000000000"
		"0100000000000000 0200000000000000",
		NULL));
	CHECK("a tag without intervals adds nothing and stays untagged",
	    encodes(U1 ":5:t", "0100000000000000" U1HEX "0100000000000000"
			       "0500000000000000 0600000000000000",
		NULL));
}

static void
bad_sets(void)
{
	CHECK("refused: not a uuid", refused("mysql-bin.000001:4", "want a uuid"));
	CHECK("refused: a uuid without a dash",
	    refused("3e11fa4771ca11e19e33c80aa9429562:1", "want a uuid"));
	CHECK("refused: a second item that is not a uuid",
	    refused(U1 ":1,0-1-5", "want a uuid at '0-1-5'"));
	CHECK("refused: number 0", refused(U1 ":0", "numbers start at 1"));
	CHECK("refused: a leading zero (octal in MySQL)",
	    refused(U1 ":010", "no leading zeros"));
	CHECK("refused: 2^63-1", refused(U1 ":9223372036854775807", "above"));
	CHECK("refused: a reversed interval",
	    refused(U1 ":5-3", "interval 5-3 ends before it starts"));
	CHECK("refused: an interval without its end",
	    refused(U1 ":1-", "want a transaction number"));
	CHECK("refused: an empty item after ':'",
	    refused(U1 ":", "want a transaction number"));
	CHECK("refused: a tag of 33 characters",
	    refused(U1 ":abcdefghijklmnopqrstuvwxyz0123456:1",
		"longer than 32 characters"));
	CHECK("refused: a tag starting with a digit",
	    refused(U1 ":1-3:9abc:4", "want ':', ',' or the end at 'abc"));
	CHECK("refused: a FILE:POS resume suffix",
	    refused(U1 ":1-5;gtid=x", "want ':', ',' or the end at ';gtid"));
	CHECK("refused: two numbers without ':'",
	    refused(U1 ":1 2", "want ':', ',' or the end at '2'"));

	CHECK("is_mysql: a uuid set", b2a_gtid_is_mysql(" \n" U1 ":1-5"));
	CHECK("is_mysql: not FILE:POS", !b2a_gtid_is_mysql("mysql-bin.000001:4"));
	CHECK("is_mysql: not MariaDB's D-S-N", !b2a_gtid_is_mysql("0-1-5,1-2-9"));
	CHECK("is_mysql: not a resume position",
	    !b2a_gtid_is_mysql("binlog:mysql-bin.000001:4;gtid=" U1 ":1"));
	CHECK("is_mysql: not a short uuid", !b2a_gtid_is_mysql("3e11fa47-71ca"));
}

/* COM_BINLOG_DUMP_GTID after its command byte [1e]: flags 2, server-id 4,
 * binlog-filename-len 4, binlog-filename, binlog-pos 8, data-size 4, data
 * (dev.mysql.com, "COM_BINLOG_DUMP_GTID"; sql/rpl_source.cc). */
static void
dump_request(void)
{
	struct b2a_gtid_set g;
	struct cdc_buf got, want;

	b2a_gtid_init(&g);
	cdc_buf_init(&got);
	cdc_buf_init(&want);
	CHECK("dump request: set parses",
	    b2a_gtid_parse_mysql(&g, U1 ":1-5", err, sizeof(err)) == 0);
	b2a_gtid_dump_request(&g, 0x01020304, 0, &got);
	unhex("0400 04030201 00000000 0400000000000000 30000000"
	      "0100000000000000" U1HEX "0100000000000000"
	      "0100000000000000 0600000000000000",
	    &want);
	CHECK("dump request: BINLOG_THROUGH_GTID, server id, no file, "
	      "position 4, size 48, the set",
	    same(&got, &want));
	got.len = 0;
	b2a_gtid_dump_request(&g, 7, 1, &got);
	CHECK("dump request: --stop-at-end adds BINLOG_DUMP_NON_BLOCK",
	    got.len == want.len && got.p[0] == 0x05 && got.p[1] == 0 &&
		got.p[2] == 7);
	b2a_gtid_clear(&g);
	got.len = 0;
	b2a_gtid_dump_request(&g, 9, 0, &got);
	unhex("0400 09000000 00000000 0400000000000000 08000000"
	      "0000000000000000",
	    &want);
	CHECK("dump request: the empty set (from the first binlog)",
	    same(&got, &want));
	CHECK("COM_BINLOG_DUMP_GTID is 0x1e", B2A_COM_BINLOG_DUMP_GTID == 30);
	cdc_buf_fini(&got);
	cdc_buf_fini(&want);
}

/* ---- The recorded binlogs ---- */

static int nevents, nempty, ntagged, nsets;

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Decodes each PREVIOUS_GTIDS event of the binlog in p with the decoder,
 * re-encodes its text and compares with the event's body, which must be
 * the encoding followed by nothing or the event's CRC32. */
static void
one_file(const char *path, const uint8_t *p, size_t n, struct b2a_decoder *d)
{
	struct cdc_buf pos, enc;
	struct b2a_gtid_set g;
	size_t off = 4, len, rest;
	const char *set;
	char name[1200];
	int io, ok;

	cdc_buf_init(&pos);
	cdc_buf_init(&enc);
	b2a_decoder_file(d, "fixture.000001");
	while (off + 19 <= n) {
		len = le32(p + off + 9);
		if (len < 19 || len > n - off)
			break;
		if (p[off + 4] != EV_FORMAT_DESCRIPTION &&
		    p[off + 4] != EV_PREVIOUS_GTIDS) {
			off += len;
			continue;
		}
		if (b2a_decoder_event(d, p + off, len, off, &io, err,
			sizeof(err)) == -1) {
			printf("# %s at %zu: %s\n", path, off, err);
			break;
		}
		if (p[off + 4] == EV_PREVIOUS_GTIDS) {
			b2a_decoder_position(d, &pos);
			cdc_buf_putc(&pos, '\0');
			set = strstr((char *)pos.p, ";gtid=");
			set = set != NULL ? set + 6 : "";
			b2a_gtid_init(&g);
			ok = b2a_gtid_parse_mysql(&g, set, err, sizeof(err)) ==
			    0;
			/* The text comes back too, before the bytes. */
			enc.len = 0;
			b2a_gtid_text(&g, &enc);
			ok = ok && enc.len == strlen(set) &&
			    (enc.len == 0 || memcmp(enc.p, set, enc.len) == 0);
			enc.len = 0;
			b2a_gtid_encode(&g, &enc);
			b2a_gtid_clear(&g);
			/* What follows the encoding: nothing, or the CRC. */
			rest = len - 19 >= enc.len ? len - 19 - enc.len : 1;
			ok = ok && rest != 1 && rest != 2 && rest != 3 &&
			    memcmp(p + off + 19, enc.p, enc.len) == 0 &&
			    (rest == 0 ||
				(rest == 4 &&
				    crc32(0L, p + off, (uInt)(len - 4)) ==
					le32(p + off + len - 4)));
			nevents++;
			if (*set == '\0' && ok) {
				nempty++;
			} else {
				snprintf(name, sizeof(name),
				    "PREVIOUS_GTIDS of %s at %zu re-encoded "
				    "byte for byte (%.60s%s)",
				    path + strlen(FIXTURES) + 1, off, set,
				    strlen(set) > 60 ? "..." : "");
				CHECK(name, ok);
				nsets++;
				ntagged += p[off + 19 + 7] == 1;
			}
		}
		off += len;
	}
	cdc_buf_fini(&pos);
	cdc_buf_fini(&enc);
}

static void
walk(const char *dir, struct cdc_writer *w, struct b2a_options *o)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	struct stat st;
	char path[1024];

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		uint8_t *buf;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path, w, o);
			continue;
		}
		if (!S_ISREG(st.st_mode) || st.st_size < 4 ||
		    st.st_size > 64 << 20)
			continue;
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		buf = cdc_xmalloc((size_t)st.st_size);
		if (fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size &&
		    memcmp(buf, "\xfe" "bin", 4) == 0) {
			/* A decoder per file: each starts afresh. */
			struct b2a_decoder *d = b2a_decoder_new(o, w);

			one_file(path, buf, (size_t)st.st_size, d);
			b2a_decoder_free(d);
		}
		fclose(f);
		free(buf);
	}
	closedir(dp);
}

static void
fixtures(void)
{
	struct b2a_options o;
	struct cdc_writer *w;
	int fd;

	if (access(FIXTURES, R_OK) == -1) {
		printf("not ok %s: recorded PREVIOUS_GTIDS events: no %s\n",
		    check_file, FIXTURES);
		check_failed++;
		return;
	}
	memset(&o, 0, sizeof(o));
	o.prefix = "cdc";
	o.start_time = o.stop_time = -1;
	fd = open("/dev/null", O_WRONLY);
	w = cdc_writer_new(fd, "test", CDC_CODEC_NULL, err, sizeof(err));
	walk(FIXTURES, w, &o);
	cdc_writer_free(w);
	close(fd);
	printf("# %d PREVIOUS_GTIDS events: %d empty, %d sets (%d tagged)\n",
	    nevents, nempty, nsets, ntagged);
	CHECK("recorded empty PREVIOUS_GTIDS re-encode as 8 zero bytes",
	    nempty > 0);
	CHECK("recorded non-empty sets were found, a tagged one among them",
	    nsets >= 10 && ntagged >= 1);
}

int
main(void)
{
	check_file = "test_binlog2avro_gtid";
	hand_vectors();
	bad_sets();
	dump_request();
	fixtures();
	return check_done();
}
