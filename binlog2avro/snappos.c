/* Snapshot positions, the resume positions of the commit marks an initial
 * snapshot writes (snapshot.h; docs/binlog2avro.md, "Snapshot"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "snapshot.h"

static int
plain(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '-';
}

static void
put_enc(struct cdc_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (plain(*p)) {
			cdc_buf_putc(b, *p);
		} else {
			cdc_buf_putc(b, '%');
			cdc_buf_putc(b, hex[*p >> 4]);
			cdc_buf_putc(b, hex[*p & 15]);
		}
	}
}

/* Decodes s[0..n); NULL when malformed or when it holds a NUL. */
static char *
dec(const char *s, size_t n)
{
	char *out = cdc_xmalloc(n + 1);
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n)
				goto bad;
			hi = b2a_hexval(s[i + 1]);
			lo = b2a_hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			out[k++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plain((unsigned char)s[i])) {
			out[k++] = s[i];
		} else {
			goto bad;
		}
	}
	out[k] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

void
b2a_snappos_fini(struct b2a_snappos *p)
{
	free(p->db);
	free(p->table);
	free(p->after);
	p->db = p->table = p->after = NULL;
}

int
b2a_snappos_parse(struct b2a_snappos *p, const char *s, char *err,
    size_t errlen)
{
	const char *orig = s, *semi, *colon, *dot, *t, *end;

	memset(p, 0, sizeof(*p));
	if (strncmp(s, "snapshot:", 9) != 0)
		goto bad;
	s += 9;
	semi = strchr(s, ';');
	end = semi != NULL ? semi : s + strlen(s);
	colon = NULL;
	for (t = s; t < end; t++)
		if (*t == ':')
			colon = t;
	if (colon == NULL || colon == s ||
	    (size_t)(colon - s) >= sizeof(p->file) || colon + 1 == end ||
	    strspn(colon + 1, "0123456789") != (size_t)(end - colon - 1))
		goto bad;
	memcpy(p->file, s, (size_t)(colon - s));
	p->file[colon - s] = '\0';
	p->pos = strtoull(colon + 1, NULL, 10);
	if (semi == NULL)
		return 0;
	s = semi + 1;
	if (strncmp(s, "table=", 6) != 0)
		goto bad;
	s += 6;
	semi = strchr(s, ';');
	dot = strchr(s, '.');
	if (semi == NULL || dot == NULL || dot > semi)
		goto bad;
	p->db = dec(s, (size_t)(dot - s));
	p->table = dec(dot + 1, (size_t)(semi - dot - 1));
	if (p->db == NULL || p->table == NULL || p->db[0] == '\0' ||
	    p->table[0] == '\0')
		goto bad;
	s = semi + 1;
	if (strcmp(s, "done") == 0) {
		p->done = 1;
		return 0;
	}
	if (strncmp(s, "after=", 6) != 0 || strchr(s + 6, ';') != NULL)
		goto bad;
	p->after = cdc_xstrdup(s + 6);
	return 0;
bad:
	b2a_snappos_fini(p);
	return cdc_err(err, errlen, "invalid snapshot position '%s': want "
	    "snapshot:FILE:POS;table=DB.TABLE;after=KEY or ...;done", orig);
}

void
b2a_snappos_text(const struct b2a_snappos *p, struct cdc_buf *out)
{
	cdc_buf_printf(out, "snapshot:%s:%" PRIu64, p->file, p->pos);
	if (p->db == NULL)
		return;
	cdc_buf_puts(out, ";table=");
	put_enc(out, p->db);
	cdc_buf_putc(out, '.');
	put_enc(out, p->table);
	if (p->done)
		cdc_buf_puts(out, ";done");
	else
		cdc_buf_printf(out, ";after=%s", p->after != NULL ? p->after :
								    "");
}
