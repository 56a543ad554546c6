/* The executed GTID set at a binlog position: MySQL's uuid[:tag]:intervals
 * and MariaDB's domain-server-seq lists, in the text forms the servers use. */
#ifndef B2A_GTID_H
#define B2A_GTID_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

struct b2a_gtid_interval {
	uint64_t start, end; /* inclusive */
};

struct b2a_gtid_sid {
	char name[64 + 40]; /* uuid, or uuid:tag */
	struct b2a_gtid_interval *iv;
	size_t niv;
};

struct b2a_gtid_domain {
	uint32_t domain, server;
	uint64_t seq;
};

struct b2a_gtid_set {
	struct b2a_gtid_sid *sids;
	size_t nsids;
	struct b2a_gtid_domain *domains;
	size_t ndomains;
};

void b2a_gtid_init(struct b2a_gtid_set *g);
void b2a_gtid_clear(struct b2a_gtid_set *g);
/* Adds MySQL GTID name:gno (name is the uuid, or uuid:tag). */
void b2a_gtid_add(struct b2a_gtid_set *g, const char *name, uint64_t gno);
/* Adds an interval [start, end] for name. */
void b2a_gtid_add_interval(struct b2a_gtid_set *g, const char *name,
    uint64_t start, uint64_t end);
/* Records MariaDB GTID domain-server-seq (the newest of its domain). */
void b2a_gtid_maria(struct b2a_gtid_set *g, uint32_t domain, uint32_t server,
    uint64_t seq);
/* Appends the set as text ("" when empty). */
void b2a_gtid_text(const struct b2a_gtid_set *g, struct cdc_buf *out);
/* Formats a 16-byte uuid. */
void b2a_uuid_text(const uint8_t *u, char out[37]);

#endif
