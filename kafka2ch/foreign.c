/* Topics that another producer wrote (Debezium through Kafka Connect's
 * Avro converter, or any Confluent serializer of Debezium-shaped
 * envelopes): their records carry no cdc.vp header and their value schemas
 * no cdc.* attributes, which chload needs. Here the schema gets those
 * attributes from what Debezium's names already say, and a record gets a
 * version and a position from its Kafka coordinates (docs/kafka.md,
 * "Topics of other producers"). The Parsing Canonical Form, and so the
 * fingerprint, does not change: attributes are not part of it. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k2c.h"
#include "log.h"

/* Partitions a version can tell apart: versions are (offset + 1) * this +
 * partition, so that records of different partitions (a keyless table's
 * round-robin) never share one. */
#define FOREIGN_PARTITIONS 1024

/* Whether field f of record r is named name. */
static int
named(json_t *f, const char *name)
{
	const char *n = json_string_value(json_object_get(f, "name"));

	return n != NULL && strcmp(n, name) == 0;
}

/* The record type of an envelope image field (before/after): the first
 * branch of its union that is an object, or the object itself. */
static json_t *
image_record(json_t *f)
{
	json_t *t = json_object_get(f, "type"), *b;
	size_t i;

	if (json_is_object(t))
		return t;
	json_array_foreach(t, i, b)
	{
		if (json_is_object(b))
			return b;
	}
	return NULL;
}

/* The position (1-based) of name among the key schema's fields; 0 when it
 * is not a key column. */
static int
key_position(json_t *key, const char *name)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(key, "fields"), i, f)
	{
		if (named(f, name))
			return (int)i + 1;
	}
	return 0;
}

/* Splits Debezium's namespace <prefix>.<db>.<table> (or the record's full
 * name <prefix>.<db>.<table>.Envelope) into db and table. */
static int
db_table(json_t *root, char *db, size_t dblen, char *table, size_t tlen)
{
	const char *ns = json_string_value(json_object_get(root, "namespace"));
	const char *name = json_string_value(json_object_get(root, "name"));
	char full[256];
	char *dot, *prev;

	if (name == NULL)
		return -1;
	if (strchr(name, '.') != NULL || ns == NULL)
		snprintf(full, sizeof(full), "%s", name);
	else
		snprintf(full, sizeof(full), "%s.%s", ns, name);
	/* Drop the record's own name (Envelope). */
	dot = strrchr(full, '.');
	if (dot == NULL)
		return -1;
	*dot = '\0';
	dot = strrchr(full, '.');
	if (dot == NULL)
		return -1;
	snprintf(table, tlen, "%s", dot + 1);
	*dot = '\0';
	prev = strrchr(full, '.');
	snprintf(db, dblen, "%s", prev != NULL ? prev + 1 : full);
	return db[0] != '\0' && table[0] != '\0' ? 0 : -1;
}

int
k2c_foreign_schema(const char *json, size_t len, const char *key,
    size_t keylen, char **out, char *err, size_t errlen)
{
	json_t *root, *kroot = NULL, *f, *rec, *cf;
	json_error_t je;
	char db[256], table[256]; /* as long as the name they come from */
	int nimages = 0, pos, rc = 0;
	size_t i, j;

	*out = NULL;

	root = json_loadb(json, len, 0, &je);
	if (root == NULL || !json_is_object(root) ||
	    json_object_get(root, "cdc.database") != NULL)
		goto out; /* not a record, or one of ours */
	json_array_foreach(json_object_get(root, "fields"), i, f)
	{
		if (named(f, "before") || named(f, "after"))
			nimages++;
	}
	if (nimages == 0)
		goto out; /* a key, or not an envelope */
	if (db_table(root, db, sizeof(db), table, sizeof(table)) == -1) {
		cdc_err(err, errlen, "envelope '%s' is not named "
		    "<prefix>.<db>.<table>.Envelope",
		    json_string_value(json_object_get(root, "name")));
		rc = -1;
		goto out;
	}
	if (key != NULL)
		kroot = json_loadb(key, keylen, 0, &je);
	json_object_set_new(root, "cdc.database", json_string(db));
	json_object_set_new(root, "cdc.table", json_string(table));
	/* The Value record is defined once, in the first image field; the
	 * other refers to it by name. */
	json_array_foreach(json_object_get(root, "fields"), i, f)
	{
		if (!named(f, "before") && !named(f, "after"))
			continue;
		rec = image_record(f);
		if (rec == NULL)
			continue;
		json_array_foreach(json_object_get(rec, "fields"), j, cf)
		{
			const char *n = json_string_value(
			    json_object_get(cf, "name"));

			if (n == NULL)
				continue;
			json_object_set_new(cf, "cdc.name", json_string(n));
			pos = kroot != NULL ? key_position(kroot, n) : 0;
			if (pos > 0)
				json_object_set_new(cf, "cdc.key",
				    json_integer(pos));
		}
	}
	*out = json_dumps(root, JSON_COMPACT);
	if (*out == NULL) {
		cdc_err(err, errlen, "cannot print the schema of '%s.%s'", db,
		    table);
		rc = -1;
		goto out;
	}
	rc = 1;
	cdc_debug("foreign envelope of '%s.%s' takes cdc.* attributes", db,
	    table);
out:
	json_decref(root);
	json_decref(kroot);
	return rc;
}

int64_t
k2c_foreign_version(int32_t partition, int64_t offset)
{
	/* From 1: chload's views keep versions above the last truncation,
	 * 0 when there was none. */
	return (offset + 1) * FOREIGN_PARTITIONS + partition % FOREIGN_PARTITIONS;
}
