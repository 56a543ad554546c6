/* Collation ids to character sets, and conversion of text to UTF-8 with
 * iconv(3). utf8mb3/utf8mb4/ascii text is passed through as it is. */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "binlog.h"
#include "log.h"

struct collation {
	int id;
	const char *charset;
};

struct charset {
	const char *name;
	enum b2a_cs kind;
	const char *iconv;
};

#include "charset_table.h"

static const struct charset *
lookup(int collation)
{
	size_t lo = 0, hi = sizeof(collations) / sizeof(collations[0]), i;
	const char *name = NULL;

	while (lo < hi) { /* the table is sorted by id */
		size_t mid = (lo + hi) / 2;

		if (collations[mid].id == collation) {
			name = collations[mid].charset;
			break;
		}
		if (collations[mid].id < collation)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
		if (strcmp(charsets[i].name, name) == 0)
			return &charsets[i];
	return NULL;
}

enum b2a_cs
b2a_charset(int collation, const char **name, const char **iconv_name)
{
	const struct charset *cs = lookup(collation);

	if (cs == NULL)
		return CS_UNKNOWN;
	if (name != NULL)
		*name = cs->name;
	if (iconv_name != NULL)
		*iconv_name = cs->iconv;
	return cs->kind;
}

int
b2a_charset_maxlen(int collation)
{
	static const struct {
		const char *name;
		int maxlen;
	} wide[] = {{"utf8mb4", 4}, {"utf8mb3", 3}, {"ucs2", 2}, {"utf16", 4},
	    {"utf16le", 4}, {"utf32", 4}, {"gbk", 2}, {"gb2312", 2},
	    {"gb18030", 4}, {"big5", 2}, {"sjis", 2}, {"cp932", 2},
	    {"ujis", 3}, {"eucjpms", 3}, {"euckr", 2}};
	const struct charset *cs = lookup(collation);
	size_t i;

	for (i = 0; cs != NULL && i < sizeof(wide) / sizeof(wide[0]); i++)
		if (strcmp(cs->name, wide[i].name) == 0)
			return wide[i].maxlen;
	return 1;
}

/* One converter per charset, opened on first use. */
static struct {
	const char *iconv_name;
	iconv_t cd;
} converters[16];

static iconv_t
converter(const char *iconv_name)
{
	size_t i;

	for (i = 0; i < sizeof(converters) / sizeof(converters[0]); i++) {
		if (converters[i].iconv_name == iconv_name)
			return converters[i].cd;
		if (converters[i].iconv_name == NULL) {
			converters[i].cd = iconv_open("UTF-8", iconv_name);
			if (converters[i].cd == (iconv_t)-1)
				return (iconv_t)-1;
			converters[i].iconv_name = iconv_name;
			return converters[i].cd;
		}
	}
	return iconv_open("UTF-8", iconv_name); /* rare: many charsets */
}

/* MySQL's latin1 is Windows-1252, with the five bytes that 1252 leaves
 * undefined (0x81, 0x8d, 0x8f, 0x90, 0x9d) mapped to the C1 controls of the
 * same number; iconv refuses those, so latin1 is converted here. */
static const uint16_t cp1252_80[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static void
latin1_to_utf8(const uint8_t *s, size_t n, struct cdc_buf *out)
{
	uint8_t *d = cdc_buf_reserve(out, n * 3);
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t cp = s[i] >= 0x80 && s[i] < 0xa0 ?
		    cp1252_80[s[i] - 0x80] :
		    s[i];

		if (cp < 0x80) {
			*d++ = (uint8_t)cp;
		} else if (cp < 0x800) {
			*d++ = (uint8_t)(0xc0 | (cp >> 6));
			*d++ = (uint8_t)(0x80 | (cp & 0x3f));
		} else {
			*d++ = (uint8_t)(0xe0 | (cp >> 12));
			*d++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			*d++ = (uint8_t)(0x80 | (cp & 0x3f));
		}
	}
	out->len = (size_t)(d - out->p);
}

int
b2a_to_utf8(int collation, const uint8_t *s, size_t n, struct cdc_buf *out,
    char *err, size_t errlen)
{
	const char *name = "?", *iname = NULL;
	enum b2a_cs kind = b2a_charset(collation, &name, &iname);
	iconv_t cd;
	char *in, *o;
	size_t inleft, oleft, room;

	if (kind == CS_UTF8 || kind == CS_UNKNOWN || kind == CS_BINARY) {
		cdc_buf_append(out, s, n);
		return 0;
	}
	if (strcmp(name, "latin1") == 0) {
		latin1_to_utf8(s, n, out);
		return 0;
	}
	if (kind == CS_UNSUPPORTED)
		return cdc_err(err, errlen,
		    "character set %s (collation %d) cannot be converted",
		    name, collation);
	cd = converter(iname);
	if (cd == (iconv_t)-1)
		return cdc_err(err, errlen, "no converter from %s: %s", iname,
		    strerror(errno));
	iconv(cd, NULL, NULL, NULL, NULL);
	in = (char *)(uintptr_t)s;
	inleft = n;
	while (inleft > 0) {
		room = inleft * 4 + 16;
		o = (char *)cdc_buf_reserve(out, room);
		oleft = room;
		if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 &&
		    errno != E2BIG) {
			out->len += room - oleft;
			return cdc_err(err, errlen,
			    "invalid %s text at byte %zu", name,
			    (size_t)(in - (char *)(uintptr_t)s));
		}
		out->len += room - oleft;
	}
	return 0;
}
