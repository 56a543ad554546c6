/* GTID sets: sorted interval lists per source id, one entry per domain;
 * MySQL's text form parsed, and its binary form (Gtid_set::encode in
 * sql/rpl_gtid_set.cc) for COM_BINLOG_DUMP_GTID. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog.h"
#include "gtid.h"
#include "log.h"

void
b2a_gtid_init(struct b2a_gtid_set *g)
{
	memset(g, 0, sizeof(*g));
}

void
b2a_gtid_clear(struct b2a_gtid_set *g)
{
	size_t i;

	for (i = 0; i < g->nsids; i++)
		free(g->sids[i].iv);
	free(g->sids);
	free(g->domains);
	b2a_gtid_init(g);
}

static struct b2a_gtid_sid *
sid(struct b2a_gtid_set *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nsids; i++)
		if (strcmp(g->sids[i].name, name) == 0)
			return &g->sids[i];
	g->sids = cdc_xrealloc(g->sids, (g->nsids + 1) * sizeof(*g->sids));
	memset(&g->sids[g->nsids], 0, sizeof(g->sids[0]));
	snprintf(g->sids[g->nsids].name, sizeof(g->sids[0].name), "%s", name);
	return &g->sids[g->nsids++];
}

void
b2a_gtid_add_interval(struct b2a_gtid_set *g, const char *name,
    uint64_t start, uint64_t end)
{
	struct b2a_gtid_sid *s = sid(g, name);
	size_t i, j;

	/* Insert in order, then merge neighbours that touch. */
	for (i = 0; i < s->niv && s->iv[i].start < start; i++)
		;
	s->iv = cdc_xrealloc(s->iv, (s->niv + 1) * sizeof(*s->iv));
	memmove(&s->iv[i + 1], &s->iv[i], (s->niv - i) * sizeof(*s->iv));
	s->iv[i].start = start;
	s->iv[i].end = end;
	s->niv++;
	for (i = 0, j = 0; i < s->niv; i++) {
		if (j > 0 && s->iv[i].start <= s->iv[j - 1].end + 1) {
			if (s->iv[i].end > s->iv[j - 1].end)
				s->iv[j - 1].end = s->iv[i].end;
		} else {
			s->iv[j++] = s->iv[i];
		}
	}
	s->niv = j;
}

void
b2a_gtid_add(struct b2a_gtid_set *g, const char *name, uint64_t gno)
{
	b2a_gtid_add_interval(g, name, gno, gno);
}

void
b2a_gtid_maria(struct b2a_gtid_set *g, uint32_t domain, uint32_t server,
    uint64_t seq)
{
	size_t i;

	for (i = 0; i < g->ndomains && g->domains[i].domain < domain; i++)
		;
	if (i == g->ndomains || g->domains[i].domain != domain) {
		g->domains = cdc_xrealloc(g->domains,
		    (g->ndomains + 1) * sizeof(*g->domains));
		memmove(&g->domains[i + 1], &g->domains[i],
		    (g->ndomains - i) * sizeof(*g->domains));
		g->ndomains++;
	}
	g->domains[i].domain = domain;
	g->domains[i].server = server;
	g->domains[i].seq = seq;
}

void
b2a_gtid_text(const struct b2a_gtid_set *g, struct cdc_buf *out)
{
	size_t i, j;

	for (i = 0; i < g->ndomains; i++)
		cdc_buf_printf(out, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64,
		    i > 0 ? "," : "", g->domains[i].domain,
		    g->domains[i].server, g->domains[i].seq);
	for (i = 0; i < g->nsids; i++) {
		cdc_buf_printf(out, "%s%s", i > 0 || g->ndomains > 0 ? "," : "",
		    g->sids[i].name);
		for (j = 0; j < g->sids[i].niv; j++) {
			const struct b2a_gtid_interval *v = &g->sids[i].iv[j];

			if (v->start == v->end)
				cdc_buf_printf(out, ":%" PRIu64, v->start);
			else
				cdc_buf_printf(out, ":%" PRIu64 "-%" PRIu64,
				    v->start, v->end);
		}
	}
}

void
b2a_uuid_text(const uint8_t *u, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int i, n = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		out[n++] = hex[u[i] >> 4];
		out[n++] = hex[u[i] & 15];
	}
	out[n] = '\0';
}

/* ---- MySQL GTID set text and binary encoding ---- */

/* MySQL's largest GTID number is GNO_END - 1, GNO_END being INT64_MAX. */
#define GNO_MAX 9223372036854775806ULL
#define TAG_MAX 32 /* mysql::gtid::tag_max_length */

static const char *
blanks(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* Reads the 36 characters of a uuid at s (hex digits of either case, dashes
 * at 8, 13, 18 and 23) into lowercase text; 0, or -1 if there is none. */
static int
uuid_read(const char *s, char out[37])
{
	int i;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			out[i] = '-';
		} else if (isxdigit((unsigned char)s[i])) {
			out[i] = (char)tolower((unsigned char)s[i]);
		} else {
			return -1; /* also the end of the string */
		}
	}
	out[36] = '\0';
	return 0;
}

int
b2a_gtid_is_mysql(const char *text)
{
	char uuid[37];

	return uuid_read(blanks(text), uuid) == 0;
}

/* Reads a GTID number at *sp. Only decimal: MySQL reads with strtoll()
 * base 0, so "010" would be 8 there; leading zeros are refused rather than
 * read differently. */
static int
gno_read(const char **sp, uint64_t *v, char *err, size_t errlen)
{
	const char *s = *sp;
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return cdc_err(err, errlen,
		    "want a transaction number at '%.20s'", s);
	if (*s == '0')
		return cdc_err(err, errlen,
		    "invalid transaction number at '%.20s': %s", s,
		    isdigit((unsigned char)s[1]) ? "no leading zeros" :
						   "numbers start at 1");
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (GNO_MAX - (uint64_t)(*s - '0')) / 10)
			return cdc_err(err, errlen,
			    "transaction number at '%.20s' is above %" PRIu64,
			    *sp, (uint64_t)GNO_MAX);
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	*sp = s;
	return 0;
}

int
b2a_gtid_parse_mysql(struct b2a_gtid_set *g, const char *text, char *err,
    size_t errlen)
{
	const char *s = text;
	char uuid[37], name[sizeof(g->sids[0].name)];
	uint64_t a, b;
	size_t n;

	for (;;) {
		/* Empty items between commas are allowed, as in MySQL. */
		s = blanks(s);
		while (*s == ',')
			s = blanks(s + 1);
		if (*s == '\0')
			return 0;
		if (uuid_read(s, uuid) == -1)
			return cdc_err(err, errlen, "want a uuid at '%.40s'", s);
		snprintf(name, sizeof(name), "%s", uuid);
		s = blanks(s + 36);
		while (*s == ':') {
			s = blanks(s + 1);
			if (isalpha((unsigned char)*s) || *s == '_') {
				/* A tag (MySQL 8.3+): the intervals after it
				 * are uuid:tag's, until the next tag. */
				n = 0;
				while (isalnum((unsigned char)s[n]) ||
				    s[n] == '_')
					n++;
				if (n > TAG_MAX)
					return cdc_err(err, errlen,
					    "tag '%.*s' is longer than %d "
					    "characters",
					    (int)n, s, TAG_MAX);
				snprintf(name, sizeof(name), "%s:%.*s", uuid,
				    (int)n, s);
				for (char *c = name + 37; *c != '\0'; c++)
					*c = (char)tolower((unsigned char)*c);
				s = blanks(s + n);
				continue;
			}
			if (gno_read(&s, &a, err, errlen) == -1)
				return -1;
			s = blanks(s);
			b = a;
			if (*s == '-') {
				s = blanks(s + 1);
				if (gno_read(&s, &b, err, errlen) == -1)
					return -1;
				if (b < a)
					return cdc_err(err, errlen,
					    "interval %" PRIu64 "-%" PRIu64
					    " ends before it starts",
					    a, b);
				s = blanks(s);
			}
			b2a_gtid_add_interval(g, name, a, b);
		}
		if (*s != ',' && *s != '\0')
			return cdc_err(err, errlen,
			    "want ':', ',' or the end at '%.20s'", s);
	}
}

void
b2a_gtid_add_set(struct b2a_gtid_set *g, const struct b2a_gtid_set *from)
{
	size_t i, j;

	for (i = 0; i < from->nsids; i++)
		for (j = 0; j < from->sids[i].niv; j++)
			b2a_gtid_add_interval(g, from->sids[i].name,
			    from->sids[i].iv[j].start, from->sids[i].iv[j].end);
}

static void
put_le(struct cdc_buf *b, uint64_t v, int n)
{
	uint8_t *p = cdc_buf_reserve(b, (size_t)n);
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	b->len += (size_t)n;
}

/* MySQL orders sids by uuid bytes, then tag (Tsid::operator<): for
 * lowercase "uuid[:tag]" names that is their byte order. */
static int
by_name(const void *x, const void *y)
{
	const struct b2a_gtid_sid *const *a = x, *const *b = y;

	return strcmp((*a)->name, (*b)->name);
}

void
b2a_gtid_encode(const struct b2a_gtid_set *g, struct cdc_buf *out)
{
	const struct b2a_gtid_sid **v;
	const char *tag;
	size_t i, j, n = 0, tl;
	int tagged = 0;

	v = cdc_xcalloc(g->nsids + 1, sizeof(*v));
	for (i = 0; i < g->nsids; i++) {
		if (g->sids[i].niv == 0)
			continue;
		v[n++] = &g->sids[i];
		tagged |= g->sids[i].name[36] == ':';
	}
	qsort(v, n, sizeof(*v), by_name);
	/* The tagged format (Gtid_format 1) marks the count's first and
	 * last byte; servers before 8.3 only know the plain one, which is
	 * why it is used whenever no sid has a tag. */
	put_le(out, tagged ? (uint64_t)1 << 56 | (uint64_t)n << 8 | 1 : n, 8);
	for (i = 0; i < n; i++) {
		uint8_t *u = cdc_buf_reserve(out, 16);
		const char *h = v[i]->name;

		for (j = 0; j < 16; j++, h += 2) {
			if (*h == '-')
				h++;
			u[j] = (uint8_t)(b2a_hexval(h[0]) << 4 | b2a_hexval(h[1]));
		}
		out->len += 16;
		if (tagged) {
			/* The tag's length as a serialization-library
			 * varint: below 128, one byte, length << 1. */
			tag = v[i]->name[36] == ':' ? v[i]->name + 37 : "";
			tl = strlen(tag);
			cdc_buf_putc(out, (int)(tl << 1));
			cdc_buf_append(out, tag, tl);
		}
		put_le(out, v[i]->niv, 8);
		for (j = 0; j < v[i]->niv; j++) {
			put_le(out, v[i]->iv[j].start, 8);
			put_le(out, v[i]->iv[j].end + 1, 8); /* exclusive */
		}
	}
	free(v);
}

void
b2a_gtid_dump_request(const struct b2a_gtid_set *g, uint32_t server_id,
    int nonblock, struct cdc_buf *out)
{
	size_t at;

	put_le(out, B2A_BINLOG_THROUGH_GTID |
		(nonblock ? B2A_BINLOG_DUMP_NON_BLOCK : 0),
	    2);
	put_le(out, server_id, 4);
	put_le(out, 0, 4); /* no file name: the server finds the file */
	put_le(out, 4, 8); /* position, after the magic */
	at = out->len;
	put_le(out, 0, 4);
	b2a_gtid_encode(g, out);
	for (size_t i = 0, size = out->len - at - 4; i < 4; i++)
		out->p[at + i] = (uint8_t)(size >> (8 * i));
}
