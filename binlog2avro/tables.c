/* The decoder's tables by table id, and the start of a transaction:
 * what the events (event.c), the rows (rows.c) and the snapshot share. */
#include <stdlib.h>

#include "decoder.h"
#include "sys.h"

struct b2a_table *
b2a_table_get(struct b2a_decoder *d, uint64_t id)
{
	size_t i;

	for (i = 0; i < d->ntables; i++)
		if (d->tables[i]->id == id)
			return d->tables[i];
	return NULL;
}

void
b2a_table_put(struct b2a_decoder *d, struct b2a_table *t)
{
	size_t i;

	for (i = 0; i < d->ntables; i++) {
		if (d->tables[i]->id == t->id) {
			b2a_table_free(d->tables[i]);
			d->tables[i] = t;
			return;
		}
	}
	d->tables = cdc_xrealloc(d->tables,
	    (d->ntables + 1) * sizeof(*d->tables));
	d->tables[d->ntables++] = t;
}

void
b2a_trx_begin(struct b2a_decoder *d)
{
	size_t i;

	if (d->in_trx)
		return;
	d->in_trx = 1;
	free(d->trx_file);
	d->trx_file = cdc_xstrdup(d->file);
	d->trx_pos = d->pos;
	d->total_order = 0;
	d->trx_version = d->last_version;
	d->trx_id[0] = '\0';
	for (i = 0; i < d->ntables; i++)
		d->tables[i]->order = 0;
	cdc_writer_hold(d->w, d->o.hold_limit);
}
