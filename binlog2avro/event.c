/* Binlog events: the common header, checksums, the format description,
 * transactions (GTID, BEGIN, XID, COMMIT, DDL) and their commit marks.
 * Rows events go to rows.c. Event layouts follow MySQL's
 * libbinlogevents and MariaDB's "Replication protocol" knowledge base. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#include "avrobin.h"
#include "decoder.h"
#include "sys.h"

static void position(struct b2a_decoder *d, struct cdc_buf *b);
static void trx_end_state(struct b2a_decoder *d);
static int commit(struct b2a_decoder *d, char *err, size_t errlen);

struct b2a_decoder *
b2a_decoder_new(const struct b2a_options *o, struct cdc_writer *w)
{
	struct b2a_decoder *d = cdc_xcalloc(1, sizeof(*d));

	d->o = *o;
	d->w = w;
	d->thread_id = -1;
	d->file = cdc_xstrdup("");
	d->trx_file = cdc_xstrdup("");
	b2a_gtid_init(&d->gtids);
	cdc_buf_init(&d->key);
	cdc_buf_init(&d->val);
	cdc_buf_init(&d->row);
	cdc_buf_init(&d->tmp);
	cdc_buf_init(&d->src_pre);
	cdc_buf_init(&d->src_post);
	return d;
}

void
b2a_decoder_free(struct b2a_decoder *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->ntables; i++)
		b2a_table_free(d->tables[i]);
	free(d->tables);
	free(d->file);
	free(d->trx_file);
	free(d->resume_file);
	free(d->query);
	b2a_gtid_clear(&d->gtids);
	cdc_buf_fini(&d->key);
	cdc_buf_fini(&d->val);
	cdc_buf_fini(&d->row);
	cdc_buf_fini(&d->tmp);
	cdc_buf_fini(&d->src_pre);
	cdc_buf_fini(&d->src_post);
	free(d);
}

void
b2a_decoder_stats(const struct b2a_decoder *d, uint64_t *events,
    uint64_t *changes, uint64_t *commits, uint64_t *skipped)
{
	*events = d->events;
	*changes = d->changes;
	*commits = d->commits;
	*skipped = d->skipped;
}

int
b2a_decoder_failure(const struct b2a_decoder *d)
{
	return d->rule_error ? EX_CONFIG : EX_DATAERR;
}

int
b2a_decoder_in_transaction(const struct b2a_decoder *d)
{
	return d->in_trx;
}

void
b2a_decoder_position(struct b2a_decoder *d, struct cdc_buf *out)
{
	position(d, out);
}

void
b2a_decoder_abort(struct b2a_decoder *d)
{
	if (d->in_trx)
		cdc_writer_discard(d->w);
	trx_end_state(d);
}

int
b2a_decoder_mark(struct b2a_decoder *d, char *err, size_t errlen)
{
	if (d->in_trx)
		return 0;
	return commit(d, err, errlen);
}

int
b2a_decoder_resume(const struct b2a_decoder *d, char *file, size_t filelen,
    uint64_t *pos)
{
	if (d->resume_file == NULL)
		return -1;
	snprintf(file, filelen, "%s", d->resume_file);
	*pos = d->resume_pos;
	return 0;
}

void
b2a_decoder_set_names(struct b2a_decoder *d, b2a_names_fn *fn, void *arg)
{
	d->names = fn;
	d->names_arg = arg;
}

void
b2a_decoder_file(struct b2a_decoder *d, const char *name)
{
	const char *dot = strrchr(name, '.');

	free(d->file);
	d->file = cdc_xstrdup(name);
	d->file_seq = dot != NULL ? strtoull(dot + 1, NULL, 10) : 0;
	d->have_fde = 0;
}

/* source.query of the rows that follow: nothing unless --include-query;
 * over query_max bytes, the start of the statement (cut between UTF-8
 * characters) and a mark saying how long it was (docs/stream.md). */
static void
set_query(struct b2a_decoder *d, const uint8_t *s, size_t n)
{
	char mark[64];
	size_t cut;
	int m;

	free(d->query);
	d->query = NULL;
	if (!d->o.include_query)
		return;
	if (n <= d->o.query_max) {
		d->query = cdc_xstrndup((const char *)s, n);
		return;
	}
	cut = d->o.query_max;
	while (cut > 0 && (s[cut] & 0xC0) == 0x80)
		cut--;
	m = snprintf(mark, sizeof(mark), "... (truncated: %zu bytes)", n);
	d->query = cdc_xmalloc(cut + (size_t)m + 1);
	memcpy(d->query, s, cut);
	memcpy(d->query + cut, mark, (size_t)m + 1);
}

static int
put_frame(struct b2a_decoder *d, const struct cdc_frame *f, char *err,
    size_t errlen)
{
	if (cdc_writer_put(d->w, f, err, errlen) == -1) {
		d->io_error = 1;
		return -1;
	}
	return 0;
}

/* The resume position after the current event. */
static void
position(struct b2a_decoder *d, struct cdc_buf *b)
{
	b->len = 0;
	cdc_buf_printf(b, "binlog:%s:%" PRIu64, d->file, d->next_pos);
	if (d->gtids.nsids > 0 || d->gtids.ndomains > 0) {
		cdc_buf_puts(b, ";gtid=");
		b2a_gtid_text(&d->gtids, b);
	}
}

static void
trx_end_state(struct b2a_decoder *d)
{
	d->in_trx = 0;
	d->explicit_trx = 0;
	d->gtid[0] = '\0';
	d->thread_id = -1;
	free(d->query);
	d->query = NULL;
}

/* Ends the transaction: its commit mark, then everything held goes out. */
static int
commit(struct b2a_decoder *d, char *err, size_t errlen)
{
	struct cdc_frame f;

	b2a_trx_begin(d); /* a DDL or an empty group still gets a mark */
	position(d, &d->row);
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_COMMIT;
	f.seq = ++d->seq;
	f.position.p = d->row.p;
	f.position.len = d->row.len;
	f.version = d->trx_version;
	f.ts_ms = d->when * 1000;
	if (put_frame(d, &f, err, errlen) == -1 ||
	    cdc_writer_release(d->w, err, errlen) == -1) {
		d->io_error = 1;
		return -1;
	}
	d->last_version = d->trx_version;
	d->commits++;
	free(d->resume_file);
	d->resume_file = cdc_xstrdup(d->file);
	d->resume_pos = d->next_pos;
	trx_end_state(d);
	return 0;
}

/* Adds the open transaction's GTID to the executed set. */
static void
gtid_done(struct b2a_decoder *d)
{
	char name[160], *colon;
	uint64_t a, b, c;

	if (d->gtid[0] == '\0')
		return;
	if (d->mariadb && sscanf(d->gtid, "%" SCNu64 "-%" SCNu64 "-%" SCNu64,
			      &a, &b, &c) == 3) {
		b2a_gtid_maria(&d->gtids, (uint32_t)a, (uint32_t)b, c);
		return;
	}
	snprintf(name, sizeof(name), "%s", d->gtid);
	colon = strrchr(name, ':');
	if (colon == NULL)
		return;
	*colon = '\0';
	b2a_gtid_add(&d->gtids, name, strtoull(colon + 1, NULL, 10));
}

static int
word_is(const uint8_t *q, size_t n, const char *w)
{
	size_t k = strlen(w);

	while (n > 0 && isspace(*q)) {
		q++;
		n--;
	}
	return n >= k && strncasecmp((const char *)q, w, k) == 0 &&
	    (n == k || !isalnum(q[k]));
}

static int
query_event(struct b2a_decoder *d, int type, const uint8_t *p, size_t n,
    char *err, size_t errlen)
{
	size_t ph = d->posthdr[type], dblen, svlen;
	const uint8_t *db, *q;
	size_t qn;
	struct cdc_frame f;
	struct cdc_buf qb;
	int rc = 0;

	if (ph < 11 || n < ph)
		return cdc_err(err, errlen, "truncated query event");
	dblen = p[8];
	svlen = ph >= 13 ? b2a_le(p + 11, 2) : 0;
	if (n < ph + svlen + dblen + 1)
		return cdc_err(err, errlen, "truncated query event");
	db = p + ph + svlen;
	q = db + dblen + 1;
	qn = n - (size_t)(q - p);
	cdc_buf_init(&qb);
	if (type == EV_MARIA_QUERY_COMPRESSED) {
		if (b2a_maria_uncompress(q, qn, &qb, "query", err, errlen) ==
		    -1) {
			cdc_buf_fini(&qb);
			return -1;
		}
		q = qb.p;
		qn = qb.len;
	}
	if (word_is(q, qn, "BEGIN") || word_is(q, qn, "XA START")) {
		b2a_trx_begin(d);
		d->explicit_trx = 1;
		d->thread_id = (int64_t)b2a_le(p, 4);
	} else if (word_is(q, qn, "COMMIT") || word_is(q, qn, "ROLLBACK") ||
	    word_is(q, qn, "XA COMMIT")) {
		/* A ROLLBACK in the binlog ends a group whose rows changed
		 * non-transactional tables: they did happen. */
		if (word_is(q, qn, "ROLLBACK") && d->in_trx &&
		    d->total_order > 0)
			cdc_warn("%s:%" PRIu64 ": transaction ends with "
			    "ROLLBACK; its %" PRId64 " changes to "
			    "non-transactional tables are kept",
			    d->file, d->pos, d->total_order);
		gtid_done(d);
		rc = commit(d, err, errlen);
	} else if (word_is(q, qn, "SAVEPOINT") ||
	    word_is(q, qn, "XA END") || word_is(q, qn, "XA PREPARE")) {
		/* nothing to do: part of a transaction */
	} else if (word_is(q, qn, "XA ROLLBACK")) {
		cdc_warn("%s:%" PRIu64 ": XA ROLLBACK of a transaction whose "
		    "changes were emitted at XA PREPARE", d->file, d->pos);
		gtid_done(d);
		rc = commit(d, err, errlen);
	} else if (word_is(q, qn, "INSERT") || word_is(q, qn, "UPDATE") ||
	    word_is(q, qn, "DELETE") || word_is(q, qn, "REPLACE") ||
	    word_is(q, qn, "LOAD")) {
		d->skipped++;
		cdc_warn("%s:%" PRIu64 ": statement-based change skipped (the "
		    "stream carries rows only; set binlog_format=ROW): %.*s",
		    d->file, d->pos, (int)(qn > 80 ? 80 : qn),
		    (const char *)q);
		if (!d->in_trx) {
			gtid_done(d);
			rc = commit(d, err, errlen);
		}
	} else {
		/* DDL, or another statement logged as such: a Ddl frame, and
		 * a transaction of its own unless a BEGIN opened one. */
		int own = !d->explicit_trx;

		d->ddls++;
		b2a_trx_begin(d);
		memset(&f, 0, sizeof(f));
		f.kind = CDC_FRAME_DDL;
		position(d, &d->row);
		f.position.p = d->row.p;
		f.position.len = d->row.len;
		f.database.p = db;
		f.database.len = dblen;
		f.statement.p = q;
		f.statement.len = qn;
		f.ts_ms = d->when * 1000;
		rc = put_frame(d, &f, err, errlen);
		if (rc == 0 && own) {
			gtid_done(d);
			rc = commit(d, err, errlen);
		}
	}
	cdc_buf_fini(&qb);
	return rc;
}

static int
format_description(struct b2a_decoder *d, const uint8_t *ev, size_t len,
    char *err, size_t errlen)
{
	const uint8_t *p = ev + EVENT_HEADER;
	size_t n = len - EVENT_HEADER, hl, ntypes, i;
	int major = 0, minor = 0, patch = 0, aware;

	if (n < 2 + 50 + 4 + 1)
		return cdc_err(err, errlen, "truncated format description");
	if (b2a_le(p, 2) != 4)
		return cdc_err(err, errlen,
		    "binlog version %d is not supported (only 4)",
		    (int)b2a_le(p, 2));
	memcpy(d->server_version, p + 2, 50);
	d->server_version[50] = '\0';
	d->mariadb = strstr(d->server_version, "MariaDB") != NULL;
	sscanf(d->server_version, "%d.%d.%d", &major, &minor, &patch);
	hl = p[56];
	if (hl != EVENT_HEADER)
		return cdc_err(err, errlen, "event header length %zu", hl);
	/* Servers from MySQL 5.6.1 and MariaDB 5.3 end the format
	 * description with the checksum algorithm and its own checksum. */
	aware = d->mariadb ? (major > 5 || (major == 5 && minor >= 3)) :
			     (major > 5 || (major == 5 && minor > 6) ||
				 (major == 5 && minor == 6 && patch >= 1));
	if (n < 57 + (aware ? 5u : 0u))
		return cdc_err(err, errlen, "truncated format description");
	ntypes = n - 57 - (aware ? 5 : 0);
	memset(d->posthdr, 0, sizeof(d->posthdr));
	for (i = 0; i < ntypes && i < 255; i++)
		d->posthdr[i + 1] = p[57 + i];
	d->checksum = aware && p[n - 5] == 1;
	if (aware && p[n - 5] != 0 && p[n - 5] != 1 && p[n - 5] != 0xff)
		return cdc_err(err, errlen, "unknown checksum algorithm %d",
		    p[n - 5]);
	d->have_fde = 1;
	return 0;
}

/* An unsigned integer of MySQL's serialization library (MySQL 8.3+): the
 * number of trailing one bits of the first byte says how many bytes follow
 * (8: all eight bytes after it). -1 when it runs past end. */
static int
varlen(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *s = *p;
	int k = 0;

	if (s >= end)
		return -1;
	while (k < 8 && (s[0] >> k) & 1)
		k++;
	if (k == 8) {
		if (end - s < 9)
			return -1;
		*v = b2a_le(s + 1, 8);
		*p = s + 9;
		return 0;
	}
	if (end - s < k + 1)
		return -1;
	*v = b2a_le(s, k + 1) >> (k + 1);
	*p = s + k + 1;
	return 0;
}

/* GTID_TAGGED_LOG_EVENT: a version byte, the payload size, the last
 * non-ignorable field id, then (field id, value) pairs in id order:
 * 0 flags, 1 the uuid as 16 integers, 2 the number (zig-zag), 3 the tag. */
static int
tagged_gtid(struct b2a_decoder *d, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	uint64_t v, id, size, gno = 0;
	uint8_t uuid[16];
	char text[37], tag[65] = "";
	int i;

	if (n < 1)
		return -1;
	p++; /* format version */
	if (varlen(&p, end, &size) == -1 || varlen(&p, end, &v) == -1)
		return -1;
	while (p < end) {
		if (varlen(&p, end, &id) == -1)
			return -1;
		if (id == 1) {
			for (i = 0; i < 16; i++) {
				if (varlen(&p, end, &v) == -1)
					return -1;
				uuid[i] = (uint8_t)v;
			}
		} else if (id == 3) {
			if (varlen(&p, end, &v) == -1 || v >= sizeof(tag) ||
			    v > (uint64_t)(end - p))
				return -1;
			memcpy(tag, p, (size_t)v);
			tag[v] = '\0';
			p += v;
		} else {
			if (varlen(&p, end, &v) == -1)
				return -1;
			if (id == 2)
				gno = (v >> 1) ^ (uint64_t)-(int64_t)(v & 1);
		}
		if (id >= 3)
			break; /* the rest is commit timestamps and sizes */
	}
	b2a_uuid_text(uuid, text);
	if (tag[0] != '\0')
		snprintf(d->gtid, sizeof(d->gtid), "%s:%s:%" PRIu64, text, tag,
		    gno);
	else
		snprintf(d->gtid, sizeof(d->gtid), "%s:%" PRIu64, text, gno);
	return 0;
}

static int
previous_gtids(struct b2a_decoder *d, const uint8_t *p, size_t n)
{
	uint64_t nsids, i, j, niv, a, b;
	char uuid[37 + 66];
	int tagged;

	b2a_gtid_clear(&d->gtids);
	if (n < 8)
		return -1;
	nsids = b2a_le(p, 8);
	tagged = (nsids >> 56) == 1; /* MySQL 8.3+: each uuid has a tag */
	if (tagged)
		nsids = (nsids >> 8) & 0xffffffffffffULL;
	else if ((nsids >> 56) != 0)
		return -1;
	p += 8;
	n -= 8;
	for (i = 0; i < nsids; i++) {
		if (n < 16)
			return -1;
		b2a_uuid_text(p, uuid);
		p += 16;
		n -= 16;
		if (tagged) {
			const uint8_t *q = p;
			uint64_t tl;

			if (varlen(&q, p + n, &tl) == -1 ||
			    tl > (uint64_t)(p + n - q) || tl > 64)
				return -1;
			if (tl > 0)
				snprintf(uuid + 36, sizeof(uuid) - 36, ":%.*s",
				    (int)tl, (const char *)q);
			n -= (size_t)(q + tl - p);
			p = q + tl;
		}
		if (n < 8)
			return -1;
		niv = b2a_le(p, 8);
		p += 8;
		n -= 8;
		if (niv > n / 16)
			return -1;
		for (j = 0; j < niv; j++) {
			a = b2a_le(p, 8);
			b = b2a_le(p + 8, 8); /* exclusive */
			if (b > a)
				b2a_gtid_add_interval(&d->gtids, uuid, a, b - 1);
			p += 16;
			n -= 16;
		}
	}
	return 0;
}

static int
maria_gtid_list(struct b2a_decoder *d, const uint8_t *p, size_t n)
{
	uint32_t count, i;

	b2a_gtid_clear(&d->gtids);
	if (n < 4)
		return -1;
	count = (uint32_t)b2a_le(p, 4) & 0x0fffffff;
	if ((size_t)count > (n - 4) / 16)
		return -1;
	for (i = 0; i < count; i++) {
		const uint8_t *e = p + 4 + 16 * i;

		b2a_gtid_maria(&d->gtids, (uint32_t)b2a_le(e, 4),
		    (uint32_t)b2a_le(e + 4, 4), b2a_le(e + 8, 8));
	}
	return 0;
}

/* Whether the "no column names" warning was given for this table. */
static int
warned_unnamed(struct b2a_decoder *d, const struct b2a_table *t)
{
	size_t i;

	for (i = 0; i < d->ntables; i++)
		if (strcmp(d->tables[i]->db, t->db) == 0 &&
		    strcmp(d->tables[i]->name, t->name) == 0)
			return 1;
	return 0;
}

static int decode_body(struct b2a_decoder *d, int type, const uint8_t *ev,
    size_t len, const uint8_t *p, size_t n, char *err, size_t errlen);

/* TRANSACTION_PAYLOAD (MySQL 8.0.20+): fields, then a zstd-compressed run of
 * events without checksums. */
static int
payload(struct b2a_decoder *d, const uint8_t *p, size_t n, char *err,
    size_t errlen)
{
	const uint8_t *end = p + n, *q;
	uint64_t type, flen, v, comp = 0, usize = 0;
	struct cdc_buf buf;
	size_t off, r;
	int rc = 0, saved_checksum;

	for (;;) {
		if (b2a_packed(&p, end, &type) == -1)
			goto bad;
		if (type == 0) /* end of the header fields */
			break;
		if (b2a_packed(&p, end, &flen) == -1 ||
		    flen > (uint64_t)(end - p))
			goto bad;
		q = p;
		if (b2a_packed(&q, p + flen, &v) == -1)
			goto bad;
		if (type == 2)
			comp = v;
		else if (type == 3)
			usize = v;
		p += flen;
	}
	cdc_buf_init(&buf);
	if (comp == 0) {
		if (usize > (256u << 20))
			goto bad;
		r = ZSTD_decompress(cdc_buf_reserve(&buf, (size_t)usize + 1),
		    (size_t)usize + 1, p, (size_t)(end - p));
		if (ZSTD_isError(r)) {
			cdc_buf_fini(&buf);
			return cdc_err(err, errlen,
			    "corrupt transaction payload: %s",
			    ZSTD_getErrorName(r));
		}
		buf.len = r;
	} else if (comp == 255) {
		cdc_buf_append(&buf, p, (size_t)(end - p));
	} else {
		return cdc_err(err, errlen,
		    "transaction payload compression %llu unknown",
		    (unsigned long long)comp);
	}
	d->in_payload = 1;
	d->payload_pos = d->pos;
	d->payload_len = d->next_pos - d->pos;
	d->payload_rows = 0;
	saved_checksum = d->checksum;
	d->checksum = 0;
	for (off = 0; off < buf.len && rc == 0;) {
		uint32_t size;

		if (buf.len - off < EVENT_HEADER) {
			rc = cdc_err(err, errlen,
			    "truncated event in transaction payload");
			break;
		}
		size = (uint32_t)b2a_le(buf.p + off + HDR_EVENT_SIZE, 4);
		if (size < EVENT_HEADER || size > buf.len - off) {
			rc = cdc_err(err, errlen,
			    "bad event size in transaction payload");
			break;
		}
		d->when = (int64_t)b2a_le(buf.p + off + HDR_TIMESTAMP, 4);
		rc = decode_body(d, buf.p[off + HDR_TYPE], buf.p + off, size,
		    buf.p + off + EVENT_HEADER, size - EVENT_HEADER, err,
		    errlen);
		off += size;
	}
	d->checksum = saved_checksum;
	d->in_payload = 0;
	cdc_buf_fini(&buf);
	return rc;
bad:
	return cdc_err(err, errlen, "malformed transaction payload header");
}

/* Asks the layer above to name the columns of table map t. */
static int
name_columns(struct b2a_decoder *d, struct b2a_table *t, char *err,
    size_t errlen)
{
	struct b2a_where at;
	int rule = 0, rc;

	at.file = d->file;
	at.pos = d->pos;
	at.ddls = d->ddls;
	at.id_len = d->posthdr[EV_TABLE_MAP] != 6 ? 6 : 4;
	rc = d->names(d->names_arg, &d->o, &at, t, &rule, err, errlen);
	if (rule)
		d->rule_error = 1;
	return rc;
}

/* A table map: a new or changed table, or a repeat (MariaDB and MySQL
 * repeat the table map before every statement), which changes nothing. */
static int
table_map(struct b2a_decoder *d, const uint8_t *p, size_t n, char *err,
    size_t errlen)
{
	struct b2a_table *t;
	int rule, rc;

	for (size_t i = 0; i < d->ntables; i++)
		if (d->tables[i]->rawlen == n &&
		    memcmp(d->tables[i]->raw, p, n) == 0)
			return 0;
	t = b2a_table_parse(p, n, d->posthdr[EV_TABLE_MAP] != 6, d->mariadb,
	    &d->o, &rule, err, errlen);
	if (t == NULL) {
		d->rule_error = rule;
		return -1;
	}
	t->skip = !b2a_table_wanted(&d->o, t->db, t->name);
	rc = 1;
	if (!t->named && !t->skip && d->names != NULL)
		rc = name_columns(d, t, err, errlen);
	if (rc == -1) {
		b2a_table_free(t);
		return -1;
	}
	if (rc == 1 && !t->named && !t->skip && !warned_unnamed(d, t))
		cdc_warn("%s:%" PRIu64 ": table '%s.%s' has no column names in "
			 "the binlog (binlog_row_metadata=FULL is off): "
			 "columns named by position",
		    d->file, d->pos, t->db, t->name);
	b2a_table_put(d, t);
	return 0;
}

/* The GTID events that open a transaction: MySQL's (a 1-byte flag, the
 * 16-byte uuid, the 8-byte number), anonymous and tagged ones, and
 * MariaDB's (sequence number, domain, flags). */
static int
gtid_event(struct b2a_decoder *d, int type, const uint8_t *p, size_t n,
    char *err, size_t errlen)
{
	char uuid[37];

	switch (type) {
	case EV_GTID:
		if (n < 25)
			return cdc_err(err, errlen, "truncated GTID event");
		b2a_trx_begin(d);
		b2a_uuid_text(p + 1, uuid);
		snprintf(d->gtid, sizeof(d->gtid), "%s:%" PRIu64, uuid,
		    b2a_le(p + 17, 8));
		return 0;
	case EV_GTID_TAGGED:
		b2a_trx_begin(d);
		if (tagged_gtid(d, p, n) == -1)
			return cdc_err(err, errlen, "malformed tagged GTID event");
		return 0;
	case EV_MARIA_GTID:
		if (n < 13)
			return cdc_err(err, errlen, "truncated GTID event");
		b2a_trx_begin(d);
		snprintf(d->gtid, sizeof(d->gtid),
		    "%" PRIu32 "-%" PRIu32 "-%" PRIu64,
		    (uint32_t)b2a_le(p + 8, 4), d->server_id, b2a_le(p, 8));
		/* FL_STANDALONE: one statement, no BEGIN/COMMIT. */
		d->explicit_trx = (p[12] & 1) == 0;
		return 0;
	default: /* EV_ANONYMOUS_GTID */
		b2a_trx_begin(d);
		return 0;
	}
}

static int
decode_body(struct b2a_decoder *d, int type, const uint8_t *ev, size_t len,
    const uint8_t *p, size_t n, char *err, size_t errlen)
{
	(void)ev;
	(void)len;
	switch (type) {
	case EV_QUERY:
	case EV_MARIA_QUERY_COMPRESSED:
		return query_event(d, type, p, n, err, errlen);
	case EV_XID:
	case EV_XA_PREPARE:
		gtid_done(d);
		return commit(d, err, errlen);
	case EV_TABLE_MAP:
		return table_map(d, p, n, err, errlen);
	case EV_WRITE_ROWS_V1:
	case EV_UPDATE_ROWS_V1:
	case EV_DELETE_ROWS_V1:
	case EV_WRITE_ROWS:
	case EV_UPDATE_ROWS:
	case EV_DELETE_ROWS:
	case EV_PARTIAL_UPDATE_ROWS:
	case EV_MARIA_WRITE_ROWS_COMPRESSED_V1:
	case EV_MARIA_UPDATE_ROWS_COMPRESSED_V1:
	case EV_MARIA_DELETE_ROWS_COMPRESSED_V1:
	case EV_MARIA_WRITE_ROWS_COMPRESSED:
	case EV_MARIA_UPDATE_ROWS_COMPRESSED:
	case EV_MARIA_DELETE_ROWS_COMPRESSED:
		return b2a_rows_event(d, type, p, n, err, errlen);
	case EV_GTID:
	case EV_ANONYMOUS_GTID:
	case EV_GTID_TAGGED:
	case EV_MARIA_GTID:
		return gtid_event(d, type, p, n, err, errlen);
	case EV_PREVIOUS_GTIDS:
		if (previous_gtids(d, p, n) == -1)
			return cdc_err(err, errlen,
			    "malformed previous GTIDs event");
		return 0;
	case EV_MARIA_GTID_LIST:
		if (maria_gtid_list(d, p, n) == -1)
			return cdc_err(err, errlen, "malformed GTID list event");
		return 0;
	case EV_ROWS_QUERY:
		if (n >= 1)
			set_query(d, p + 1, n - 1);
		return 0;
	case EV_MARIA_ANNOTATE_ROWS:
		set_query(d, p, n);
		return 0;
	case EV_TRANSACTION_PAYLOAD:
		return payload(d, p, n, err, errlen);
	case EV_INCIDENT:
		return cdc_err(err, errlen,
		    "incident event: the server reports that changes may be "
		    "missing from the binlog here");
	case EV_MARIA_START_ENCRYPTION:
		return cdc_err(err, errlen,
		    "the binlog is encrypted from here on; binlog2avro reads "
		    "unencrypted binlogs (or a live server) only");
	case EV_INTVAR:
	case EV_RAND:
	case EV_USER_VAR:
	case EV_BEGIN_LOAD_QUERY:
	case 9:  /* APPEND_BLOCK */
	case 11: /* DELETE_FILE */
		return 0; /* context of statement-based events */
	case EV_EXECUTE_LOAD_QUERY:
	case EV_PRE_GA_WRITE_ROWS:
	case EV_PRE_GA_UPDATE_ROWS:
	case EV_PRE_GA_DELETE_ROWS:
		d->skipped++;
		cdc_warn("%s:%" PRIu64 ": event type %d (statement-based or "
		    "pre-GA rows) skipped: the stream cannot carry it",
		    d->file, d->pos, type);
		return 0;
	case EV_ROTATE:
	case EV_STOP:
	case EV_HEARTBEAT:
	case EV_HEARTBEAT_V2:
	case EV_MARIA_BINLOG_CHECKPOINT:
	case EV_TRANSACTION_CONTEXT:
	case EV_VIEW_CHANGE:
	case EV_IGNORABLE:
	case EV_FORMAT_DESCRIPTION:
		return 0;
	default:
		cdc_debug("%s:%" PRIu64 ": unknown event type %d skipped",
		    d->file, d->pos, type);
		return 0;
	}
}

int
b2a_decoder_event(struct b2a_decoder *d, const uint8_t *ev, size_t len,
    uint64_t pos, int *io, char *err, size_t errlen)
{
	char msg[CDC_ERRLEN];
	int type, rc;
	size_t n;

	*io = 0;
	if (len < EVENT_HEADER)
		return cdc_err(err, errlen, "%s at %" PRIu64 ": truncated "
		    "event header", d->file, pos);
	type = ev[HDR_TYPE];
	d->pos = pos;
	d->next_pos = pos + len;
	d->when = (int64_t)b2a_le(ev + HDR_TIMESTAMP, 4);
	d->server_id = (uint32_t)b2a_le(ev + HDR_SERVER_ID, 4);
	d->events++;
	if (type == EV_FORMAT_DESCRIPTION) {
		if (format_description(d, ev, len, msg, sizeof(msg)) == -1)
			goto fail;
	} else if (!d->have_fde) {
		if (type != EV_START_V3) {
			snprintf(msg, sizeof(msg), "event type %d before the "
			    "format description", type);
			goto fail;
		}
		return 0; /* MySQL 3.23/4.x binlogs are out of scope */
	}
	n = len - EVENT_HEADER;
	if (d->checksum) {
		uint32_t want, got;

		if (n < CHECKSUM_LEN) {
			snprintf(msg, sizeof(msg), "event too short for its "
			    "checksum");
			goto fail;
		}
		n -= CHECKSUM_LEN;
		want = (uint32_t)b2a_le(ev + len - CHECKSUM_LEN, 4);
		if (type == EV_FORMAT_DESCRIPTION &&
		    (ev[HDR_FLAGS] & HDR_F_BINLOG_IN_USE)) {
			/* The server clears the "binlog in use" flag of the
			 * format description when it closes the file, without
			 * updating the checksum, which covers the flag clear. */
			uint8_t hdr[EVENT_HEADER];

			memcpy(hdr, ev, EVENT_HEADER);
			hdr[HDR_FLAGS] &= (uint8_t)~HDR_F_BINLOG_IN_USE;
			got = (uint32_t)crc32(0L, hdr, EVENT_HEADER);
			got = (uint32_t)crc32(got, ev + EVENT_HEADER,
			    (uInt)(len - CHECKSUM_LEN - EVENT_HEADER));
		} else {
			got = (uint32_t)crc32(0L, ev, (uInt)(len - CHECKSUM_LEN));
		}
		if (want != got) {
			snprintf(msg, sizeof(msg), "CRC32 mismatch in event "
			    "type %d (stored %08x, computed %08x)", type,
			    want, got);
			goto fail;
		}
	}
	rc = decode_body(d, type, ev, len, ev + EVENT_HEADER, n, msg,
	    sizeof(msg));
	if (rc == -1)
		goto fail;
	return 0;
fail:
	*io = d->io_error;
	return cdc_err(err, errlen, "%s at %" PRIu64 ": %s", d->file, pos,
	    msg);
}
