/* GTID sets: sorted interval lists per source id, one entry per domain. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtid.h"

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
