/* Rows events (WRITE/UPDATE/DELETE v1 and v2, MySQL's PARTIAL_UPDATE_ROWS,
 * MariaDB's compressed rows) to change frames: one change per row, keyed by
 * the primary key, valued by the Debezium envelope of docs/stream.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avrobin.h"
#include "decoder.h"
#include "fingerprint.h"
#include "mysqljson.h"
#include "sys.h"
#include "version.h"

/* One decoded image: each column's Avro encoding (as in the full schema,
 * union index included) at enc[off[i]] for len[i] bytes; len 0: absent. */
struct image {
	struct cdc_buf enc;
	size_t *off, *len;
	const uint8_t **raw; /* the binlog bytes of each value */
	size_t *rawlen;
	size_t cap;
};

static struct image img[2];

/* The columns of an event's images: its bitmap, worked out once per event
 * rather than per row. */
struct colset {
	const uint8_t *map;
	size_t count; /* columns present */
	int full;     /* all the table's */
};

static void
image_reset(struct image *m, size_t ncols, int full)
{
	if (m->cap < ncols) {
		m->off = cdc_xrealloc(m->off, ncols * sizeof(*m->off));
		m->len = cdc_xrealloc(m->len, ncols * sizeof(*m->len));
		m->raw = cdc_xrealloc(m->raw, ncols * sizeof(*m->raw));
		m->rawlen = cdc_xrealloc(m->rawlen, ncols * sizeof(size_t));
		m->cap = ncols;
	}
	m->enc.len = 0;
	if (full)
		return; /* decode_image sets every column's */
	memset(m->len, 0, ncols * sizeof(*m->len));
	memset(m->rawlen, 0, ncols * sizeof(*m->rawlen));
}

static int
bit(const uint8_t *map, size_t i)
{
	return (map[i / 8] >> (i % 8)) & 1;
}

static void
colset_init(struct colset *cs, const uint8_t *map, size_t n)
{
	size_t i;

	cs->map = map;
	cs->count = 0;
	for (i = 0; i < n; i++)
		cs->count += bit(map, i);
	cs->full = cs->count == n;
}

/* Decodes one row image at *p. For PARTIAL_UPDATE_ROWS after images,
 * partial_json and before give the JSON diffs and the image they apply to. */
static int
decode_image(struct b2a_table *t, const struct colset *cs, const uint8_t **pp,
    const uint8_t *end, struct image *m, int partial_json,
    const struct image *before, char *err, size_t errlen)
{
	const uint8_t *p = *pp, *nulls, *pbits = NULL, *present = cs->map;
	size_t i, k = 0, count = cs->count, used, njson = 0, ji = 0;
	uint64_t opts;
	char msg[CDC_ERRLEN];

	image_reset(m, t->ncols, cs->full);
	if (partial_json) {
		if (b2a_packed(&p, end, &opts) == -1)
			goto short_;
		if (opts & 1) { /* PARTIAL_JSON_UPDATES */
			for (i = 0; i < t->ncols; i++)
				if (bit(present, i) &&
				    t->cols[i].type == MT_JSON)
					njson++;
			if ((size_t)(end - p) < (njson + 7) / 8)
				goto short_;
			pbits = p;
			p += (njson + 7) / 8;
		}
	}
	if ((size_t)(end - p) < (count + 7) / 8)
		goto short_;
	nulls = p;
	p += (count + 7) / 8;
	for (i = 0; i < t->ncols; i++) {
		struct b2a_column *c = &t->cols[i];

		if (!cs->full && !bit(present, i))
			continue;
		m->off[i] = m->enc.len;
		m->raw[i] = p;
		m->rawlen[i] = 0;
		if (bit(nulls, k++)) {
			if (!c->nullable)
				return cdc_err(err, errlen,
				    "table '%s.%s': NULL in NOT NULL column "
				    "'%s'", t->db, t->name, c->name);
			cdc_buf_putc(&m->enc, 0); /* the null branch */
		} else if (pbits != NULL && c->type == MT_JSON &&
		    bit(pbits, ji++)) {
			/* A partial JSON update: diffs against before. */
			struct b2a_json *doc;
			struct cdc_buf txt;
			uint64_t dlen;

			if ((size_t)(end - p) < c->meta)
				goto short_;
			dlen = b2a_le(p, c->meta);
			if (dlen > (uint64_t)(end - p - c->meta))
				goto short_;
			/* rawlen, not len: a column left out by a rule has
			 * no encoding but still its binlog bytes. */
			if (before == NULL || before->rawlen[i] < c->meta)
				return cdc_err(err, errlen,
				    "partial JSON update of '%s.%s'.'%s' with a "
				    "minimal before image (or a NULL before "
				    "value): the new value is not in the binlog "
				    "(set binlog_row_image=FULL or "
				    "binlog_row_value_options='')",
				    t->db, t->name, c->name);
			doc = b2a_json_parse(before->raw[i] + c->meta,
			    before->rawlen[i] - c->meta, msg, sizeof(msg));
			if (doc == NULL ||
			    b2a_json_apply_diffs(doc, p + c->meta,
				(size_t)dlen, msg, sizeof(msg)) == -1) {
				b2a_json_free(doc);
				return cdc_err(err, errlen,
				    "column '%s': partial JSON update: %s",
				    c->name, msg);
			}
			cdc_buf_init(&txt);
			b2a_json_text(doc, &txt);
			b2a_json_free(doc);
			if (c->nullable)
				cdc_avro_put_long(&m->enc, 1);
			cdc_avro_put_bytes(&m->enc, txt.p, txt.len);
			cdc_buf_fini(&txt);
			used = c->meta + (size_t)dlen;
			p += used;
		} else {
			if (b2a_value(c, p, end, &m->enc, &used, err,
				errlen) == -1)
				return -1;
			if (c->type == MT_JSON)
				ji += pbits != NULL;
			m->rawlen[i] = used;
			p += used;
		}
		if (c->rule != R_KEEP)
			b2a_column_rule_apply(t, c, &m->enc, m->off[i]);
		m->len[i] = m->enc.len - m->off[i];
	}
	*pp = p;
	return 0;
short_:
	return cdc_err(err, errlen, "row image of '%s.%s' runs past the event",
	    t->db, t->name);
}

/* Appends the Value record of an image; in the partial schema every union
 * index moves up by one for the Absent branch in front. */
static void
put_record(struct cdc_buf *out, const struct b2a_table *t,
    const struct image *m, int partial)
{
	size_t i;

	if (!partial) {
		/* Every column is there, encoded in order: one copy. */
		cdc_buf_append(out, m->enc.p, m->enc.len);
		return;
	}
	for (i = 0; i < t->ncols; i++) {
		const struct b2a_column *c = &t->cols[i];
		const uint8_t *e;
		size_t n = m->len[i];

		if (c->rule == R_DROP)
			continue;
		if (n == 0) {
			cdc_avro_put_long(out, 0); /* the Absent branch, */
			cdc_avro_put_long(out, 0); /* its only symbol */
			continue;
		}
		e = m->enc.p + m->off[i]; /* off is set for present columns */
		if (c->nullable || c->zero_date_null) {
			cdc_buf_putc(out, e[0] + 2); /* index 0/1 -> 1/2 */
			cdc_buf_append(out, e + 1, n - 1);
		} else {
			cdc_avro_put_long(out, 1);
			cdc_buf_append(out, e, n);
		}
	}
}

/* Appends the key (the key columns' encodings in key order); 0 when a key
 * column is missing from the image. */
static int
put_key(struct cdc_buf *out, const struct b2a_table *t, const struct image *m)
{
	size_t i;

	for (i = 0; i < t->npk; i++)
		if (m->len[t->pk[i]] == 0)
			return 0;
	cdc_soe_put_header(out, t->key_fp);
	for (i = 0; i < t->npk; i++)
		cdc_buf_append(out, m->enc.p + m->off[t->pk[i]],
		    m->len[t->pk[i]]);
	return 1;
}

/* Appends the key of after, taking from before the key columns after
 * lacks; 0 when neither has one. */
static int
put_key_over(struct cdc_buf *out, const struct b2a_table *t,
    const struct image *after, const struct image *before)
{
	size_t i;
	int c;

	for (i = 0; i < t->npk; i++) {
		c = t->pk[i];
		if (after->len[c] == 0 && before->len[c] == 0)
			return 0;
	}
	cdc_soe_put_header(out, t->key_fp);
	for (i = 0; i < t->npk; i++) {
		const struct image *m = after->len[t->pk[i]] != 0 ? after :
								    before;

		c = t->pk[i];
		cdc_buf_append(out, m->enc.p + m->off[c], m->len[c]);
	}
	return 1;
}

/* Copies into after the key columns it lacks and before has. */
static void
fill_key(const struct b2a_table *t, struct image *after,
    const struct image *before)
{
	size_t i;
	int c;

	for (i = 0; i < t->npk; i++) {
		c = t->pk[i];
		if (after->len[c] != 0 || before->len[c] == 0)
			continue;
		after->off[c] = after->enc.len;
		cdc_buf_append(&after->enc, before->enc.p + before->off[c],
		    before->len[c]);
		after->len[c] = before->len[c];
	}
}

static void
put_str(struct cdc_buf *b, const char *s)
{
	cdc_avro_put_bytes(b, s, strlen(s));
}

static void
put_opt_str(struct cdc_buf *b, const char *s)
{
	if (s == NULL) {
		cdc_avro_put_long(b, 0);
	} else {
		cdc_avro_put_long(b, 1);
		put_str(b, s);
	}
}

static int
announce(struct b2a_decoder *d, uint64_t fp, const char *schema, char *err,
    size_t errlen)
{
	struct cdc_frame f;

	if (cdc_writer_announced(d->w, fp))
		return 0;
	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_SCHEMA_ANN;
	f.fingerprint = fp;
	f.schema.p = (const uint8_t *)schema;
	f.schema.len = strlen(schema);
	if (cdc_writer_put(d->w, &f, err, errlen) == -1) {
		d->io_error = 1;
		return -1;
	}
	return 0;
}

/* The parts of the source record that are the same for every row of the
 * event, encoded once per event. */
static void
source_parts(struct b2a_decoder *d, const struct b2a_table *t,
    const char *snapshot)
{
	struct cdc_buf *v = &d->src_pre;

	v->len = 0;
	put_str(v, CDC_VERSION);
	put_str(v, "mysql");
	put_str(v, d->o.prefix);
	cdc_avro_put_long(v, d->when * 1000);
	cdc_avro_put_long(v, 0);
	put_str(v, snapshot);
	put_str(v, t->db);
	cdc_avro_put_long(v, 0); /* sequence */
	put_opt_str(v, t->name);
	cdc_avro_put_long(v, d->server_id);
	put_opt_str(v, d->gtid[0] != '\0' ? d->gtid : NULL);
	put_str(v, d->file);
	cdc_avro_put_long(v, (int64_t)(d->in_payload ? d->payload_pos :
							   d->pos));
	v = &d->src_post;
	v->len = 0;
	if (d->thread_id >= 0) {
		cdc_avro_put_long(v, 1);
		cdc_avro_put_long(v, d->thread_id);
	} else {
		cdc_avro_put_long(v, 0);
	}
	/* The statement may hold the values a column rule hides. */
	put_opt_str(v, t->rules == NULL ? d->query : NULL);
}

/* Writes one change. */
static int
emit(struct b2a_decoder *d, struct b2a_table *t, const char *op,
    const struct image *before, const struct image *after, int partial,
    const struct image *keyimg, uint64_t row, int64_t version, char *err,
    size_t errlen)
{
	struct cdc_buf *v = &d->val, *k = &d->key;
	struct cdc_frame f;
	uint64_t vfp = partial ? t->partial_fp : t->value_fp;
	int has_key;

	if (announce(d, vfp, partial ? t->partial_schema : t->value_schema,
		err, errlen) == -1 ||
	    (t->npk > 0 &&
		announce(d, t->key_fp, t->key_schema, err, errlen) == -1))
		return -1;
	k->len = 0;
	has_key = t->npk > 0 && put_key(k, t, keyimg);
	v->len = 0;
	cdc_soe_put_header(v, vfp);
	cdc_avro_put_long(v, before != NULL);
	if (before != NULL)
		put_record(v, t, before, partial);
	cdc_avro_put_long(v, after != NULL);
	if (after != NULL)
		put_record(v, t, after, partial);
	/* source: fixed for the event but for the row index */
	cdc_buf_append(v, d->src_pre.p, d->src_pre.len);
	cdc_avro_put_long(v, (int64_t)row);
	cdc_buf_append(v, d->src_post.p, d->src_post.len);
	put_str(v, op);
	cdc_avro_put_long(v, 1);
	cdc_avro_put_long(v, d->ev_now);
	/* transaction */
	cdc_avro_put_long(v, 1);
	if (d->trx_id[0] == '\0') {
		if (d->gtid[0] != '\0')
			snprintf(d->trx_id, sizeof(d->trx_id), "%s", d->gtid);
		else
			snprintf(d->trx_id, sizeof(d->trx_id), "%s:%llu",
			    d->trx_file, (unsigned long long)d->trx_pos);
	}
	put_str(v, d->trx_id);
	cdc_avro_put_long(v, ++d->total_order);
	cdc_avro_put_long(v, ++t->order);

	memset(&f, 0, sizeof(f));
	f.kind = CDC_FRAME_CHANGE;
	f.topic.p = (const uint8_t *)t->topic;
	f.topic.len = strlen(t->topic);
	if (has_key) {
		f.key.p = k->p;
		f.key.len = k->len;
	}
	f.value.p = v->p;
	f.value.len = v->len;
	f.position.p = (const uint8_t *)d->ev_pos;
	f.position.len = strlen(d->ev_pos);
	f.version = version;
	if (cdc_writer_put(d->w, &f, err, errlen) == -1) {
		d->io_error = 1;
		return -1;
	}
	d->changes++;
	d->trx_version = version;
	if (has_key && op[0] == 'd' && !d->o.no_tombstones) {
		/* A tombstone after each delete lets a log-compacted Kafka
		 * topic forget the key (avro2kafka -n drops them). */
		f.value.p = NULL;
		f.value.len = 0;
		if (cdc_writer_put(d->w, &f, err, errlen) == -1) {
			d->io_error = 1;
			return -1;
		}
	}
	return 0;
}

int
b2a_emit_read(struct b2a_decoder *d, struct b2a_table *t, const uint8_t *val,
    const size_t *off, int last, int64_t version, char *err, size_t errlen)
{
	struct image *m = &img[0];
	size_t i;

	image_reset(m, t->ncols, 0);
	if (t->rules == NULL) {
		cdc_buf_append(&m->enc, val, off[t->ncols]);
		for (i = 0; i < t->ncols; i++) {
			m->off[i] = off[i];
			m->len[i] = off[i + 1] - off[i];
		}
	} else {
		for (i = 0; i < t->ncols; i++) {
			m->off[i] = m->enc.len;
			cdc_buf_append(&m->enc, val + off[i],
			    off[i + 1] - off[i]);
			b2a_column_rule_apply(t, &t->cols[i], &m->enc,
			    m->off[i]);
			m->len[i] = m->enc.len - m->off[i];
		}
	}
	source_parts(d, t, last ? "last" : "true");
	d->ev_now = cdc_now_ms();
	return emit(d, t, "r", NULL, m, 0, m, 0, version, err, errlen);
}

/* The version of row r of the current event: the binlog file's number,
 * the event's position and the row, so versions grow along the binlog
 * (docs/binlog2avro.md, "Versions"). */
static int
row_version(struct b2a_decoder *d, uint64_t r, int64_t *version, char *err,
    size_t errlen)
{
	uint64_t pos = d->in_payload ? d->payload_pos : d->pos;
	uint64_t room = d->in_payload ? d->payload_len : d->next_pos - d->pos;

	if (d->in_payload)
		r = d->payload_rows++;
	if (d->file_seq >= (1u << 21) || pos >= (1ULL << 32))
		return cdc_err(err, errlen,
		    "binlog file number %llu or position %llu beyond the "
		    "version scheme", (unsigned long long)d->file_seq,
		    (unsigned long long)pos);
	if (r >= room * 1024)
		return cdc_err(err, errlen,
		    "more rows in the event at %llu than the version scheme "
		    "has room for", (unsigned long long)pos);
	*version = (int64_t)((((d->file_seq << 32) + pos) << 10) + r);
	return 0;
}

int
b2a_rows_event(struct b2a_decoder *d, int type, const uint8_t *body,
    size_t n, char *err, size_t errlen)
{
	const uint8_t *p = body, *end = body + n;
	struct colset cs1, cs2;
	int v2 = type == EV_WRITE_ROWS || type == EV_UPDATE_ROWS ||
	    type == EV_DELETE_ROWS || type == EV_PARTIAL_UPDATE_ROWS ||
	    type == EV_MARIA_WRITE_ROWS_COMPRESSED ||
	    type == EV_MARIA_UPDATE_ROWS_COMPRESSED ||
	    type == EV_MARIA_DELETE_ROWS_COMPRESSED;
	int update = type == EV_UPDATE_ROWS_V1 || type == EV_UPDATE_ROWS ||
	    type == EV_PARTIAL_UPDATE_ROWS ||
	    type == EV_MARIA_UPDATE_ROWS_COMPRESSED_V1 ||
	    type == EV_MARIA_UPDATE_ROWS_COMPRESSED;
	int del = type == EV_DELETE_ROWS_V1 || type == EV_DELETE_ROWS ||
	    type == EV_MARIA_DELETE_ROWS_COMPRESSED_V1 ||
	    type == EV_MARIA_DELETE_ROWS_COMPRESSED;
	int compressed = type >= EV_MARIA_WRITE_ROWS_COMPRESSED_V1 &&
	    type <= EV_MARIA_DELETE_ROWS_COMPRESSED;
	int idlen = d->posthdr[type] == 6 ? 4 : 6, partial;
	struct b2a_table *t;
	uint64_t id, ncols, extra, r;
	size_t bm;
	int64_t version = 0;
	char msg[CDC_ERRLEN];

	if (n < (size_t)idlen + 2)
		goto short_;
	id = b2a_le(p, idlen);
	p += idlen + 2;
	if (v2) {
		if (end - p < 2)
			goto short_;
		extra = b2a_le(p, 2);
		if (extra < 2 || extra > (uint64_t)(end - p))
			goto short_;
		p += extra;
	}
	t = b2a_table_get(d, id);
	if (t == NULL)
		return cdc_err(err, errlen,
		    "rows event for table id %llu without its table map",
		    (unsigned long long)id);
	if (t->skip)
		return 0; /* --include / --exclude */
	if (b2a_packed(&p, end, &ncols) == -1)
		goto short_;
	if (ncols != t->ncols)
		return cdc_err(err, errlen,
		    "rows event for '%s.%s' has %llu columns, its table map "
		    "%zu", t->db, t->name, (unsigned long long)ncols,
		    t->ncols);
	bm = (t->ncols + 7) / 8;
	if ((size_t)(end - p) < bm * (update ? 2 : 1))
		goto short_;
	colset_init(&cs1, p, t->ncols);
	p += bm;
	if (update) {
		colset_init(&cs2, p, t->ncols);
		p += bm;
	}
	if (compressed) {
		if (b2a_maria_uncompress(p, (size_t)(end - p), &d->tmp,
			"rows event", err, errlen) == -1)
			return -1;
		p = d->tmp.p;
		end = d->tmp.p + d->tmp.len;
	}
	snprintf(d->ev_pos, sizeof(d->ev_pos), "binlog:%s:%llu", d->file,
	    (unsigned long long)(d->in_payload ? d->payload_pos : d->pos));
	d->ev_now = cdc_now_ms();
	source_parts(d, t, "false");
	partial = !cs1.full || (update && !cs2.full);
	b2a_trx_begin(d);
	for (r = 0; p < end; r++) {
		struct image *before = NULL, *after = NULL;

		if (decode_image(t, &cs1, &p, end, &img[0], 0, NULL, msg,
			sizeof(msg)) == -1)
			goto bad;
		if (update) {
			if (decode_image(t, &cs2, &p, end, &img[1],
				type == EV_PARTIAL_UPDATE_ROWS, &img[0], msg,
				sizeof(msg)) == -1)
				goto bad;
			before = &img[0];
			after = &img[1];
		} else if (del) {
			before = &img[0];
		} else {
			after = &img[0];
		}
		if (row_version(d, r, &version, err, errlen) == -1)
			return -1;
		if (update && t->npk > 0) {
			struct cdc_buf *k1 = &d->row;
			size_t k1len;
			int changed;

			/* A new primary key: Debezium's delete of the old key
			 * and create of the new. */
			k1->len = 0;
			put_key(k1, t, before);
			k1len = k1->len;
			/* With a minimal image the after image lacks the key
			 * columns that did not change: they are the before's. */
			if (k1len > 0 && put_key_over(k1, t, after, before)) {
				changed = k1->len - k1len != k1len ||
				    memcmp(k1->p, k1->p + k1len, k1len) != 0;
				if (changed) {
					fill_key(t, after, before);
					if (emit(d, t, "d", before, NULL,
						partial, before, r, version,
						err, errlen) == -1 ||
					    emit(d, t, "c", NULL, after,
						partial, after, r, version,
						err, errlen) == -1)
						return -1;
					continue;
				}
			}
		}
		if (emit(d, t, update ? "u" : del ? "d" : "c", before, after,
			partial, after != NULL && !update ? after : before, r,
			version, err, errlen) == -1)
			return -1;
	}
	return 0;
short_:
	return cdc_err(err, errlen, "truncated rows event");
bad:
	return cdc_err(err, errlen, "%s", msg);
}
