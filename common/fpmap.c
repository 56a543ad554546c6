/* Open addressing with linear probing; fingerprints are already well mixed. */
#include <stdlib.h>
#include <string.h>

#include "fpmap.h"
#include "mem.h"

void
cdc_fpmap_init(struct cdc_fpmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
cdc_fpmap_fini(struct cdc_fpmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slots[i].val);
	free(m->slots);
	cdc_fpmap_init(m);
}

static struct cdc_fpmap_slot *
find(const struct cdc_fpmap *m, uint64_t fp)
{
	size_t i = (size_t)fp & (m->cap - 1);

	while (m->slots[i].val != NULL && m->slots[i].fp != fp)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static void
grow(struct cdc_fpmap *m)
{
	struct cdc_fpmap old = *m;
	struct cdc_fpmap_slot *s;
	size_t i;

	m->cap = old.cap == 0 ? 16 : old.cap * 2;
	m->slots = cdc_xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < old.cap; i++) {
		if (old.slots[i].val == NULL)
			continue;
		s = find(m, old.slots[i].fp);
		*s = old.slots[i];
	}
	free(old.slots);
}

void
cdc_fpmap_put(struct cdc_fpmap *m, uint64_t fp, const char *val, size_t len)
{
	struct cdc_fpmap_slot *s;

	if ((m->used + 1) * 2 > m->cap)
		grow(m);
	s = find(m, fp);
	if (s->val == NULL)
		m->used++;
	free(s->val);
	s->fp = fp;
	s->val = cdc_xstrndup(val, len);
	s->len = len;
}

const char *
cdc_fpmap_get(const struct cdc_fpmap *m, uint64_t fp, size_t *len)
{
	struct cdc_fpmap_slot *s;

	if (m->cap == 0)
		return NULL;
	s = find(m, fp);
	if (s->val == NULL)
		return NULL;
	if (len != NULL)
		*len = s->len;
	return s->val;
}
